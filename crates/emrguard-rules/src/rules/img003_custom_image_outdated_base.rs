use crate::infra::data::{date_of, fmt_date, BaseRegistries, ReleaseData};
use crate::infra::jobs::{describe_workload, latest_jobs, live_endpoints, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::index::Workload;
use emrguard_model::release::{ImageRef, ReleaseLabel};
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, Finding, PathStep, Ref};
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// ## What it checks
    /// Custom images named by current workloads (the latest run of each job, job templates,
    /// live managed endpoints) in `spark.kubernetes.container.image`,
    /// `spark.kubernetes.driver.container.image` or `spark.kubernetes.executor.container.image`
    /// (in `sparkSubmitParameters` `--conf` flags or `applicationConfiguration` properties),
    /// whose ECR image (`aws ecr describe-images`) was pushed before the newest known base-image
    /// build of the workload's EMR release, or of a later release of the same line when no
    /// newer build of that release is known (`data/emr-eks-releases.toml`). Images that are EMR
    /// base images themselves are not custom and are skipped; images without push dates in the
    /// snapshot cannot be judged.
    ///
    /// ## Why it matters
    /// A custom image freezes the base it was built on. "To get the latest image, you must
    /// rebuild the custom images whenever there is a new base image version": an image pushed
    /// before the newest base build lacks its security fixes, whatever the job's release label
    /// says.
    ///
    /// ## Example
    /// Jobs on `emr-7.12.0-latest` with
    /// `"spark.kubernetes.container.image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/spark-custom/team-a-ml:2026.03.20"`,
    /// an image pushed on 2026-03-20, while the base build `emr-7.13.0-20260410` is newer.
    ///
    /// ## Remediation
    /// Rebuild the image `FROM <EMR registry>/spark/emr-<newest>:latest` (see
    /// `docker-custom-images-tag` for the registry of your region), push it under a new
    /// immutable tag, and point the jobs at it. Automate the rebuild on every new base build.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Get the latest security updates for custom images"
    /// - EMR on EKS Development Guide, "How to customize Docker images"
    pub struct CustomImageOutdatedBase;
    id = "IMG003", name = "custom-image-built-on-outdated-base", practice = ImageUpdates, severity = Medium,
    title = "Custom image was pushed before the newest base image build",
}

/// Custom images of current workloads (the latest run of each job, job templates, live
/// endpoints): image → the workloads naming it, with the property.
pub(crate) fn current_images(
    index: &EstateIndex<'_>,
) -> BTreeMap<String, Vec<(Workload, &'static str)>> {
    let latest: BTreeSet<usize> = latest_jobs(index).iter().map(|g| g.latest_index).collect();
    let live: BTreeSet<usize> = live_endpoints(index).iter().map(|(i, _, _)| *i).collect();
    let mut out: BTreeMap<String, Vec<(Workload, &'static str)>> = BTreeMap::new();
    for (w, imgs) in index.workloads_with_images() {
        let current = match w {
            Workload::JobRun(i) => latest.contains(&i),
            Workload::Endpoint(i) => live.contains(&i),
            Workload::JobTemplate(_) => true,
        };
        if !current {
            continue;
        }
        for (prop, img) in imgs {
            let Some(r) = ImageRef::parse(img) else {
                continue;
            };
            if BaseRegistries::get().is_emr_base(&r) {
                continue;
            }
            out.entry(img.clone()).or_default().push((w, *prop));
        }
    }
    out
}

pub(crate) fn release_of(index: &EstateIndex<'_>, w: Workload) -> Option<String> {
    let s = index.snap;
    match w {
        Workload::JobRun(i) => s.job_runs.get(i)?.release_label.clone(),
        Workload::JobTemplate(i) => s
            .job_templates
            .get(i)?
            .job_template_data
            .as_ref()?
            .release_label
            .clone(),
        Workload::Endpoint(i) => s.endpoints.get(i)?.release_label.clone(),
    }
}

pub(crate) fn namespace_of(index: &EstateIndex<'_>, w: Workload) -> Option<String> {
    let s = index.snap;
    let vc = match w {
        Workload::JobRun(i) => &s.job_runs.get(i)?.virtual_cluster_id,
        Workload::Endpoint(i) => &s.endpoints.get(i)?.virtual_cluster_id,
        Workload::JobTemplate(_) => return None,
    };
    index.namespace_of_vc(vc).map(str::to_owned)
}

pub(crate) fn workload_loc(
    index: &EstateIndex<'_>,
    w: Workload,
) -> Option<emrguard_model::SourceLoc> {
    let s = index.snap;
    match w {
        Workload::JobRun(i) => s.job_runs.get(i).map(|x| x.loc.clone()),
        Workload::JobTemplate(i) => s.job_templates.get(i).map(|x| x.loc.clone()),
        Workload::Endpoint(i) => s.endpoints.get(i).map(|x| x.loc.clone()),
    }
}

/// The single namespace all workloads share, if they do.
pub(crate) fn common_namespace(
    index: &EstateIndex<'_>,
    ws: &[(Workload, &'static str)],
) -> Option<String> {
    let set: BTreeSet<Option<String>> = ws.iter().map(|(w, _)| namespace_of(index, *w)).collect();
    match set.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(ns)] => Some(ns.clone()),
        _ => None,
    }
}

impl Rule for CustomImageOutdatedBase {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let data = ReleaseData::get();
        let mut out = Vec::new();
        for (img, users) in current_images(cx.index) {
            let Some(r) = ImageRef::parse(&img) else {
                continue;
            };
            let Some((account, _region)) = r.ecr_account_region() else {
                continue;
            };
            let details = cx.index.ecr_images(account, &r.repository);
            let Some(detail) = details.iter().find(|d| match (&r.digest, &r.tag) {
                (Some(dg), _) => d.image_digest == *dg,
                (None, Some(t)) => d.image_tags.iter().any(|x| x == t),
                (None, None) => d.image_tags.iter().any(|x| x == "latest"),
            }) else {
                continue;
            };
            let Some(pushed) = detail.image_pushed_at.as_ref().and_then(date_of) else {
                continue;
            };
            // The base each workload's release should be rebuilt on; judge by the most recent
            // release among the workloads (the most lenient reference).
            let labels: BTreeSet<String> = users
                .iter()
                .filter_map(|(w, _)| release_of(cx.index, *w))
                .collect();
            let parsed: Vec<ReleaseLabel> = labels
                .iter()
                .filter_map(|l| ReleaseLabel::parse(l))
                .collect();
            let Some(base) = parsed.iter().max_by_key(|l| (l.family.clone(), l.version)) else {
                continue;
            };
            let Some((ref_rel, ref_date)) = data.newest_build_from(&base.family, base.version)
            else {
                continue;
            };
            if pushed >= ref_date {
                continue;
            }
            let which = if ref_rel.version == base.version {
                format!("the newest build of {}", base.release())
            } else {
                format!(
                    "newer than any build known for {} ({} is a later release of the same line)",
                    base.release(),
                    ref_rel.name()
                )
            };
            let who: Vec<String> = users
                .iter()
                .map(|(w, p)| format!("{} (`{p}`)", describe_workload(cx.index, *w)))
                .collect();
            let ns = common_namespace(cx.index, &users);
            let resource = Ref::new(Kind::ContainerImage, img.clone());
            let mut b = self
                .finding(resource.clone())
                .namespace(ns.as_deref())
                .message(format!(
                    "Custom image `{img}`, used by {} on release {}, was pushed on {}, before the base image build {}-{ref_date} (built {}; {which}). The image does not contain the fixes of that build.",
                    words(who),
                    words(labels.iter().cloned().collect()),
                    fmt_date(pushed),
                    ref_rel.name(),
                    fmt_date(ref_date)
                ))
                .remediation(format!(
                    "Rebuild the image `FROM {}/spark/{}:latest` (the EMR registry of your region), push it under a new immutable tag, and update `spark.kubernetes.container.image` (and the release label to `{}-latest`) in the jobs, job templates and endpoints that use it. Release list as of {}.",
                    r.ecr_account_region()
                        .and_then(|(_, region)| BaseRegistries::get().account_for(region).map(|a| format!("{a}.dkr.ecr.{region}.amazonaws.com")))
                        .unwrap_or_else(|| "<EMR registry>".to_owned()),
                    ref_rel.name(),
                    ref_rel.name(),
                    data.as_of
                ));
            for (w, p) in &users {
                b = b.step(
                    PathStep::new(Kind::Workload, describe_workload(cx.index, *w))
                        .detail(format!("{p} = {img}")),
                );
                if let Some(l) = workload_loc(cx.index, *w) {
                    b = b.location(&l);
                }
            }
            b = b
                .step(PathStep::from_ref(&resource).detail(format!(
                    "imagePushedAt = {} (digest {})",
                    fmt_date(pushed),
                    detail.image_digest
                )))
                .step(
                    PathStep::new(
                        Kind::BaseImageBuild,
                        format!("{}-{ref_date}", ref_rel.name()),
                    )
                    .detail(format!("built {}", fmt_date(ref_date))),
                )
                .location(&detail.loc);
            out.push(b.build());
        }
        out
    }
}

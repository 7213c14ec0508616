use crate::infra::data::{staleness, ReleaseData};
use crate::infra::jobs::{
    describe_job, endpoint_ref, job_run_step, latest_jobs, live_endpoints, template_ref, vc_ref,
    vc_step, words,
};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::release::ReleaseLabel;
use emrguard_model::{Finding, Kind, PathStep, Ref, Severity, SourceLoc};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// The release labels that job runs, job templates and live managed endpoints use, against
    /// the EMR on EKS release list compiled into emrguard (`data/emr-eks-releases.toml`, with
    /// its date): a release older than the newest release of its family (`emr-7.12.0-latest`
    /// while `emr-7.13.0` exists). Job runs are judged by the latest run of each job (same
    /// virtual cluster and name), grouped per virtual cluster and release label. Labels are
    /// parsed in every documented form (`-latest`, `-YYYYMMDD`, `-java8`/`-java11`,
    /// `-spark-rapids`, `-flink`, `notebook-spark/`, `livy/`, `emr-spark-8.0.0`); variants are
    /// compared by their release. Medium when the major version is behind (emr-6.x while
    /// emr-7.x exists), low otherwise.
    ///
    /// ## Why it matters
    /// The release label chooses the base image every job pod runs (or that a custom image
    /// was built on). Older releases carry older Spark, Hadoop, Java and OS packages; AWS
    /// ships security fixes as new builds, first for the current releases. "To get the latest
    /// image, you must rebuild the custom images whenever there is a new base image version."
    ///
    /// ## Example
    /// ```json
    /// {"jobRun": {"name": "team-a-feature-build", "releaseLabel": "emr-7.12.0-latest"}}
    /// ```
    ///
    /// ## Remediation
    /// Move the jobs (and the job template, endpoint) to the newest release with the `-latest`
    /// suffix, e.g. `--release-label emr-7.13.0-latest`, after testing; rebuild custom images
    /// `FROM .../spark/emr-7.13.0:latest`. To refresh the release list emrguard knows, see
    /// `crates/emrguard-rules/data/README.md`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Amazon EMR on EKS releases" (release labels, `-latest`)
    /// - EMR on EKS security best practices, "Get the latest security updates for custom images"
    pub struct ReleaseBehindNewest;
    id = "IMG001", name = "release-behind-newest", practice = ImageUpdates, severity = Low,
    title = "Workloads run an EMR release older than the newest of its line",
}

/// One place a release label is used: a virtual cluster's jobs, a job template or an
/// endpoint.
pub(crate) struct ReleaseUse {
    pub label: String,
    pub parsed: ReleaseLabel,
    pub resource: Ref,
    pub namespace: Option<String>,
    pub virtual_cluster: Option<String>,
    /// "jobs `a` (run x) and `b` (run y) of virtual cluster `vc`", "job template `t`" ...
    pub what: String,
    pub steps: Vec<PathStep>,
    pub locations: Vec<SourceLoc>,
    /// How to change it.
    pub change: String,
}

impl ReleaseUse {
    /// Add this use's evidence steps and locations and build the finding.
    pub(crate) fn finish(self, mut b: emrguard_model::FindingBuilder) -> Finding {
        for st in self.steps {
            b = b.step(st);
        }
        for l in &self.locations {
            b = b.location(l);
        }
        b.build()
    }
}

pub(crate) fn release_uses(cx: &Context<'_, '_>) -> Vec<ReleaseUse> {
    let mut out = Vec::new();
    // Latest run of each job, grouped by (virtual cluster, release label).
    let mut by_vc: BTreeMap<(String, String), Vec<crate::infra::jobs::JobGroup<'_>>> =
        BTreeMap::new();
    for g in latest_jobs(cx.index) {
        let Some(label) = g.latest.release_label.clone() else {
            continue;
        };
        by_vc.entry((g.vc.id.clone(), label)).or_default().push(g);
    }
    for ((_, label), groups) in by_vc {
        let Some(parsed) = ReleaseLabel::parse(&label) else {
            continue;
        };
        let Some(first) = groups.first() else {
            continue;
        };
        let vc = first.vc;
        let jobs: Vec<String> = groups.iter().map(describe_job).collect();
        let mut locations = Vec::new();
        let mut runs = Vec::new();
        for g in &groups {
            runs.push(job_run_step(g.latest).detail(format!("releaseLabel = {label}")));
            locations.push(g.latest.loc.clone());
        }
        let n = runs.len();
        // The job runs on the release are alternatives: one fork.
        let steps = vec![
            vc_step(vc),
            PathStep::fork(Kind::JobRun, format!("{n} job runs"), runs),
        ];
        out.push(ReleaseUse {
            label: label.clone(),
            parsed,
            resource: vc_ref(vc),
            namespace: vc.namespace().map(str::to_owned),
            virtual_cluster: Some(vc.id.clone()),
            what: format!(
                "{} of virtual cluster `{}` (namespace `{}`)",
                words(jobs),
                vc.name,
                vc.namespace().unwrap_or("?")
            ),
            steps,
            locations,
            change: format!(
                "submit the jobs with `aws emr-containers start-job-run --virtual-cluster-id {} --release-label NEW_LABEL ...`",
                vc.id
            ),
        });
    }
    for t in &cx.index.snap.job_templates {
        let Some(label) = t
            .job_template_data
            .as_ref()
            .and_then(|d| d.release_label.clone())
        else {
            continue;
        };
        let Some(parsed) = ReleaseLabel::parse(&label) else {
            continue; // parametric (`${ReleaseLabel}`) or unknown
        };
        let r = template_ref(t);
        out.push(ReleaseUse {
            label: label.clone(),
            parsed,
            resource: r.clone(),
            namespace: None,
            virtual_cluster: None,
            what: format!("job template `{}`", r.name),
            steps: vec![PathStep::from_ref(&r).detail(format!("jobTemplateData.releaseLabel = {label}"))],
            locations: vec![t.loc.clone()],
            change: format!(
                "create a new job template from this one's data with the new `releaseLabel` (`aws emr-containers create-job-template --name {}-new --job-template-data file://{}.json`) and point submitters at it",
                r.name, r.name
            ),
        });
    }
    for (_, e, vc) in live_endpoints(cx.index) {
        let Some(label) = e.release_label.clone() else {
            continue;
        };
        let Some(parsed) = ReleaseLabel::parse(&label) else {
            continue;
        };
        let r = endpoint_ref(e);
        out.push(ReleaseUse {
            label: label.clone(),
            parsed,
            resource: r.clone(),
            namespace: vc.namespace().map(str::to_owned),
            virtual_cluster: Some(vc.id.clone()),
            what: format!(
                "managed endpoint `{}` of virtual cluster `{}` (namespace `{}`)",
                r.name,
                vc.name,
                vc.namespace().unwrap_or("?")
            ),
            steps: vec![vc_step(vc), PathStep::from_ref(&r).detail(format!("releaseLabel = {label}"))],
            locations: vec![e.loc.clone()],
            change: format!(
                "recreate the endpoint with the new release (`aws emr-containers create-managed-endpoint --virtual-cluster-id {} --release-label NEW_LABEL ...`, then delete the old one)",
                vc.id
            ),
        });
    }
    out
}

impl Rule for ReleaseBehindNewest {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let data = ReleaseData::get();
        let mut out = Vec::new();
        for u in release_uses(cx) {
            let Some(s) = staleness(&u.parsed) else {
                continue;
            };
            let Some(newer) = s.newer_release.as_deref() else {
                continue;
            };
            let newest_label = format!("{newer}-latest");
            let sev = if s.major_behind {
                Severity::Medium
            } else {
                Severity::Low
            };
            let b = self
                .finding(u.resource.clone())
                .severity(sev)
                .namespace(u.namespace.as_deref())
                .virtual_cluster(u.virtual_cluster.as_deref())
                .discriminator(u.label.clone())
                .message(format!(
                    "Release `{}` ({}) is used by {}, but `{newer}` is the newest release of that line (release list as of {}){}.",
                    u.label,
                    u.parsed.release(),
                    u.what,
                    data.as_of,
                    if s.major_behind { "; the major version is behind" } else { "" }
                ))
                .remediation(format!(
                    "Test and move to `{newest_label}`: {}; rebuild custom images `FROM <EMR registry>/spark/{newer}:latest`.",
                    u.change
                ));
            out.push(u.finish(b));
        }
        out
    }
}

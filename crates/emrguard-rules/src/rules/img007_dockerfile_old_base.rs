use crate::infra::data::{fmt_date, staleness, BaseRegistries, ReleaseData};
use crate::infra::docker::{at, content_key, dockerfile_ref, file_name, final_base, step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::release::ImageRef;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Dockerfiles whose final `FROM` is an EMR on EKS base image of an old release (older than
    /// the newest release of its line in `data/emr-eks-releases.toml`) or pinned to an old build
    /// (`:20230624` when a newer build of that release is known, or on a release that is no
    /// longer the newest). Medium when the major version is behind or the tag pins an old
    /// build; low for a `:latest` tag one or more minor releases behind.
    ///
    /// ## Why it matters
    /// The image inherits every unpatched package of its base. AWS ships fixes as new base
    /// builds; "you must rebuild the custom images whenever there is a new base image version".
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-6.9.0:20230624
    /// ```
    ///
    /// ## Remediation
    /// Build `FROM .../spark/emr-<newest>:latest` and rebuild on every new base build (a
    /// scheduled CI job); move the jobs to the same release label.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Get the latest security updates for custom images"
    /// - EMR on EKS Development Guide, "Amazon EMR on EKS releases"
    pub struct DockerfileOldBase;
    id = "IMG007", name = "dockerfile-old-emr-base", practice = ImageUpdates, severity = Medium,
    title = "Dockerfile is built on an old EMR base image",
}

impl Rule for DockerfileOldBase {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let data = ReleaseData::get();
        let reg = BaseRegistries::get();
        let mut out = Vec::new();
        for d in &cx.index.snap.dockerfiles {
            let Some((image, from)) = final_base(d) else {
                continue;
            };
            let Some(r) = ImageRef::parse(&image) else {
                continue;
            };
            if !reg.is_emr_base(&r)
                && !super::img006_dockerfile_base_not_emr::trusted(
                    &image,
                    &cx.config.images.trusted_registries,
                )
            {
                continue; // IMG006 reports it
            }
            let Some(label) = r.emr_release() else {
                continue;
            };
            let Some(s) = staleness(&label) else { continue };
            if !s.is_stale() {
                continue;
            }
            let mut why = Vec::new();
            if let Some(newer) = &s.newer_release {
                why.push(format!(
                    "{} is older than `{newer}`, the newest release of its line",
                    label.release()
                ));
            }
            if let Some(p) = &s.old_pin {
                match p.newer_build_same_release {
                    Some(b) => why.push(format!(
                        "the tag pins the build of {}, and {}-{b} (built {}) is newer",
                        fmt_date(p.pinned),
                        label.release(),
                        fmt_date(b)
                    )),
                    None => why.push(format!(
                        "the tag pins the build of {}, which no later fix will reach",
                        fmt_date(p.pinned)
                    )),
                }
            }
            let sev = if s.major_behind || s.old_pin.is_some() {
                Severity::Medium
            } else {
                Severity::Low
            };
            let newest = s.newer_release.clone().unwrap_or_else(|| label.release());
            let repo_prefix = r
                .repository
                .rsplit_once('/')
                .map(|(p, _)| p)
                .unwrap_or("spark");
            out.push(
                self.finding(dockerfile_ref(d))
                    .severity(sev)
                    .discriminator(content_key(d))
                    .message(format!(
                        "Dockerfile `{}` builds FROM `{image}` (line {}): {} (release list as of {}).",
                        file_name(d),
                        from.line,
                        why.join("; "),
                        data.as_of
                    ))
                    .remediation(format!(
                        "Change line {} to `FROM {}/{repo_prefix}/{newest}:latest`, rebuild and push under a new tag, move the jobs to `{newest}-latest`, and rebuild on every new base build.",
                        from.line,
                        r.registry.as_deref().unwrap_or("<EMR registry>")
                    ))
                    .step(step(d, from))
                    .location(&at(d, from))
                    .build(),
            );
        }
        out
    }
}

use super::img001_release_behind_newest::release_uses;
use crate::infra::data::{fmt_date, staleness, ReleaseData};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Release labels pinned to a build date (`emr-6.9.0-20230624`) used by job runs (latest run
    /// of each job), job templates and live managed endpoints, when a newer build of the same
    /// release is known, or when the release itself is no longer the newest of its line (a
    /// pinned build of an old release never receives another fix). The known builds come from
    /// `data/emr-eks-releases.toml`.
    ///
    /// ## Why it matters
    /// A dated label freezes the base image: security fixes that AWS publishes as new builds
    /// never reach the job. "When you use the `-latest` suffix, you ensure that your Amazon EMR
    /// version always includes the latest security updates."
    ///
    /// ## Example
    /// ```json
    /// {"jobRun": {"name": "team-b-nightly-etl", "releaseLabel": "emr-6.9.0-20230624"}}
    /// ```
    ///
    /// ## Remediation
    /// Use the `-latest` label of a current release (`emr-7.13.0-latest`), or pin to its newest
    /// build and update the pin with every new build. Rebuild custom images on the same base.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Amazon EMR on EKS releases" (`emr-x.x.x-latest` / `emr-x.x.x-yyyymmdd`)
    pub struct ReleasePinnedOldBuild;
    id = "IMG002", name = "release-pinned-to-old-build", practice = ImageUpdates, severity = Medium,
    title = "Workloads pin an old build of their EMR release",
}

impl Rule for ReleasePinnedOldBuild {
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
            let Some(pin) = &s.old_pin else {
                continue;
            };
            let why = match (pin.newer_build_same_release, s.newer_release.as_deref()) {
                (Some(b), _) => format!(
                    "a newer build of {} exists ({}-{b}, built {})",
                    u.parsed.release(),
                    u.parsed.release(),
                    fmt_date(b)
                ),
                (None, Some(newer)) => format!(
                    "{} is no longer the newest release of its line (`{newer}` is), so this pinned build will not receive fixes",
                    u.parsed.release()
                ),
                (None, None) => "a newer build exists".to_owned(),
            };
            let target = match (pin.newer_build_same_release, s.newer_release.as_deref()) {
                (_, Some(newer)) => format!("{newer}-latest"),
                (Some(_), None) => format!("{}-latest", u.parsed.release()),
                (None, None) => "a -latest label".to_owned(),
            };
            let b = self
                .finding(u.resource.clone())
                .namespace(u.namespace.as_deref())
                .virtual_cluster(u.virtual_cluster.as_deref())
                .discriminator(u.label.clone())
                .message(format!(
                    "Release label `{}` used by {} is pinned to the base-image build of {}: {why} (release list as of {}).",
                    u.label,
                    u.what,
                    fmt_date(pin.pinned),
                    data.as_of
                ))
                .remediation(format!(
                    "Use `{target}` instead of the dated label: {}; rebuild custom images on the same base.",
                    u.change
                ));
            out.push(u.finish(b));
        }
        out
    }
}

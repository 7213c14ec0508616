use crate::infra::data::BaseRegistries;
use crate::infra::docker::{at, content_key, dockerfile_ref, file_name, final_base, step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::release::ImageRef;
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Dockerfiles in the snapshot whose final image is not built on an Amazon EMR on EKS base
    /// image: the final stage's `FROM` (followed through stage aliases and `ARG` defaults) is
    /// not in the EMR registry account of its region
    /// (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/spark/emr-<release>:<tag>`, the account
    /// table in `data/emr-base-image-registries.toml`) nor on the ECR Public Gallery under
    /// `public.ecr.aws/emr-on-eks/`. Registries listed in `emrguard.toml`
    /// `[images] trusted_registries` (host or host/prefix, e.g. an internal mirror of the EMR
    /// images) are accepted.
    ///
    /// ## Why it matters
    /// EMR on EKS custom images must start from the EMR base image of the release the job
    /// uses: it carries EMR's Spark build, its entrypoint and the `hadoop` user, and AWS
    /// patches it. An image from another base (or a look-alike account) is unpatched by AWS,
    /// unverified, and may not even be what it claims.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM apache/spark:3.5.1
    /// ```
    ///
    /// ## Remediation
    /// Build `FROM <EMR account>.dkr.ecr.<region>.amazonaws.com/spark/emr-<release>:latest`, with
    /// the account of your region from the EMR on EKS "base image URI" page, and the release of
    /// your jobs. If you mirror the EMR images, list the mirror in `[images] trusted_registries`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Details for selecting a base image URI" (registry accounts by region)
    /// - EMR on EKS Development Guide, "How to customize Docker images"
    pub struct DockerfileBaseNotEmr;
    id = "IMG006", name = "dockerfile-base-not-emr", practice = ImageUpdates, severity = Medium,
    title = "Dockerfile is not built on an EMR on EKS base image",
}

/// Whether an image is from a registry the user trusts (`host` or `host/prefix`).
pub(crate) fn trusted(image: &str, trusted: &[String]) -> bool {
    trusted.iter().any(|t| {
        let t = t.trim_end_matches('/');
        image == t || image.starts_with(&format!("{t}/")) || image.starts_with(&format!("{t}:"))
    })
}

impl Rule for DockerfileBaseNotEmr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let reg = BaseRegistries::get();
        let mut out = Vec::new();
        for d in &cx.index.snap.dockerfiles {
            let Some((image, from)) = final_base(d) else {
                continue;
            };
            if image.contains('$') {
                continue; // an ARG without a default: the base is chosen at build time
            }
            if trusted(&image, &cx.config.images.trusted_registries) {
                continue;
            }
            let parsed = ImageRef::parse(&image);
            if parsed.as_ref().is_some_and(|r| reg.is_emr_base(r)) {
                continue;
            }
            let why = match parsed.as_ref() {
                Some(r) if r.emr_release().is_some() => match r.ecr_account_region() {
                    Some((acct, region)) => format!(
                        "it names an EMR release, but account {acct} is not the EMR base-image account of {region} ({})",
                        reg.account_for(region).unwrap_or("unknown region")
                    ),
                    None => "it names an EMR release, but not from the EMR registries".to_owned(),
                },
                _ if image.eq_ignore_ascii_case("scratch") => "it starts from an empty image".to_owned(),
                _ => "it is not an EMR on EKS base image".to_owned(),
            };
            out.push(
                self.finding(dockerfile_ref(d))
                    .discriminator(content_key(d))
                    .message(format!(
                        "Dockerfile `{}` builds its final image FROM `{image}` (line {}): {why}. EMR on EKS custom images must start from the EMR base image of the jobs' release.",
                        file_name(d),
                        from.line
                    ))
                    .remediation("Build FROM the EMR base image of your region and release, e.g. `FROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest` (us-west-2; other regions have other accounts); if you mirror EMR images, list the mirror in emrguard.toml `[images] trusted_registries`.")
                    .step(step(d, from))
                    .location(&at(d, from))
                    .build(),
            );
        }
        out
    }
}

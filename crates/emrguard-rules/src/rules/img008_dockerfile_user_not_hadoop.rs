use crate::infra::data::BaseRegistries;
use crate::infra::docker::{
    at, content_key, dockerfile_ref, file_name, final_base, final_user, stages, step,
};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::release::ImageRef;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Dockerfiles of EMR custom images (built on an EMR base image, or on a trusted registry)
    /// whose final image does not run as `hadoop:hadoop`: the last `USER` of the final stage (or
    /// of the stage it builds on) is `root`/`0` (high), another user (medium), or `hadoop`
    /// without the group (low; the EMR image validation expects exactly `hadoop:hadoop`). A
    /// Dockerfile that never sets `USER` keeps the base image's `hadoop:hadoop` and passes.
    ///
    /// ## Why it matters
    /// "When you customize a base image, you must change the Docker user to `hadoop:hadoop` so
    /// that the jobs do not run with the root user." The customisation steps need `USER root`;
    /// forgetting to switch back leaves every driver and executor of the job running as root,
    /// so a Spark code injection owns the container and anything mounted into it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest
    /// USER root
    /// RUN yum install -y jq
    /// ```
    ///
    /// ## Remediation
    /// End the Dockerfile with `USER hadoop:hadoop`, and check with
    /// `emr-on-eks-custom-image validate-image -i IMAGE -r RELEASE` or
    /// `docker inspect --format '{{.Config.User}}' IMAGE`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Custom image considerations" (USER hadoop:hadoop)
    /// - EMR on EKS Development Guide, "How to customize Docker images" (Dockerfile template)
    pub struct DockerfileUserNotHadoop;
    id = "IMG008", name = "dockerfile-final-user-not-hadoop", practice = ImageUpdates, severity = High,
    title = "Custom image does not switch back to USER hadoop:hadoop",
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user).trim();
    name == "root" || name == "0"
}

impl Rule for DockerfileUserNotHadoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let reg = BaseRegistries::get();
        let mut out = Vec::new();
        for d in &cx.index.snap.dockerfiles {
            let Some((image, _)) = final_base(d) else {
                continue;
            };
            let emr = ImageRef::parse(&image).is_some_and(|r| reg.is_emr_base(&r))
                || super::img006_dockerfile_base_not_emr::trusted(
                    &image,
                    &cx.config.images.trusted_registries,
                );
            if !emr {
                continue; // the base's user is unknown; IMG006 reports the base
            }
            let Some(u) = final_user(d) else {
                continue;
            };
            let user = u.args.split_whitespace().next().unwrap_or("");
            if user == "hadoop:hadoop" {
                continue;
            }
            let (sev, what) = if is_root(user) {
                (
                    Severity::High,
                    "root (every driver and executor of its jobs runs as root)".to_owned(),
                )
            } else if user == "hadoop" {
                (Severity::Low, "`hadoop` without the group (the EMR image validation expects exactly `hadoop:hadoop`)".to_owned())
            } else {
                (
                    Severity::Medium,
                    format!("`{user}`, not the `hadoop:hadoop` user EMR on EKS expects"),
                )
            };
            let last = stages(d).last().map(|s| s.from.line).unwrap_or(0);
            let note = if u.line < last {
                " (set in an earlier stage the final image builds on)"
            } else {
                ""
            };
            out.push(
                self.finding(dockerfile_ref(d))
                    .severity(sev)
                    .discriminator(content_key(d))
                    .message(format!(
                        "Dockerfile `{}` leaves its final image running as {what}: its last `USER` is `{}` at line {}{note}, and no `USER hadoop:hadoop` follows.",
                        file_name(d),
                        u.args,
                        u.line
                    ))
                    .remediation("Add `USER hadoop:hadoop` as the last instruction (after the steps that need root), rebuild, and verify with `docker inspect --format '{{.Config.User}}' IMAGE` or `emr-on-eks-custom-image validate-image`.")
                    .step(step(d, u))
                    .location(&at(d, u))
                    .build(),
            );
        }
        out
    }
}

use super::img003_custom_image_outdated_base::common_namespace;
use super::img004_ecr_repository_not_scanned::repositories_in_use;
use crate::infra::jobs::{describe_workload, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::index::Workload;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// ECR repositories of the custom images that current workloads use whose
    /// `imageTagMutability` is `MUTABLE` (or `MUTABLE_WITH_EXCLUSION`).
    ///
    /// ## Why it matters
    /// With mutable tags, the image a job runs is whatever was pushed last under its tag: a
    /// rebuild (or anyone with `ecr:PutImage`) silently replaces what `team-b-etl:latest` means,
    /// and a scan result or an approval no longer describes what runs.
    ///
    /// ## Example
    /// ```json
    /// {"repositoryName": "spark-custom/team-b-etl", "imageTagMutability": "MUTABLE"}
    /// ```
    ///
    /// ## Remediation
    /// `aws ecr put-image-tag-mutability --repository-name REPO --image-tag-mutability IMMUTABLE`,
    /// and give every build a new tag (or reference images by digest).
    ///
    /// ## References
    /// - Amazon ECR User Guide, "Preventing image tags from being overwritten"
    pub struct EcrRepositoryMutableTags;
    id = "IMG005", name = "ecr-repository-mutable-tags", practice = ImageUpdates, severity = Low,
    title = "ECR repository of a custom image allows tags to be overwritten",
}

impl Rule for EcrRepositoryMutableTags {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((registry, name), (repo, images)) in repositories_in_use(cx.index) {
            let Some(repo) = repo else { continue };
            let Some(m) = repo.image_tag_mutability.as_deref() else {
                continue;
            };
            if !m.eq_ignore_ascii_case("MUTABLE")
                && !m.eq_ignore_ascii_case("MUTABLE_WITH_EXCLUSION")
            {
                continue;
            }
            let users: Vec<(Workload, &'static str)> = images.values().flatten().copied().collect();
            let who: Vec<String> = users
                .iter()
                .map(|(w, _)| describe_workload(cx.index, *w))
                .collect();
            let resource = Ref::aws(
                Kind::EcrRepository,
                name.clone(),
                Some(repo.repository_arn.as_str()).filter(|a| !a.is_empty()),
            );
            out.push(
                self.finding(resource.clone())
                    .namespace(common_namespace(cx.index, &users).as_deref())
                    .message(format!(
                        "ECR repository `{name}` (registry {registry}) has imageTagMutability `{m}`: the tags of {} (used by {}) can be overwritten by a later push.",
                        words(images.keys().map(|i| format!("`{i}`")).collect()),
                        words(who)
                    ))
                    .remediation(format!(
                        "`aws ecr put-image-tag-mutability --repository-name {name} --image-tag-mutability IMMUTABLE`; tag every build uniquely (or reference images by digest)."
                    ))
                    .step(PathStep::from_ref(&resource).detail(format!("imageTagMutability = {m}")))
                    .location(&repo.loc)
                    .build(),
            );
        }
        out
    }
}

use super::img003_custom_image_outdated_base::{common_namespace, current_images};
use crate::infra::jobs::{describe_workload, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ecr::{RegistryScanning, Repository};
use emrguard_model::index::Workload;
use emrguard_model::release::ImageRef;
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, Finding, Located, PathStep, Ref};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// ECR repositories (`aws ecr describe-repositories`) of the custom images that current
    /// workloads use, whose pushes are not scanned. The registry scanning configuration
    /// (`aws ecr get-registry-scanning-configuration`) is honoured: with `ENHANCED` scanning a
    /// repository is covered when a `SCAN_ON_PUSH` or `CONTINUOUS_SCAN` rule's filter matches its
    /// name (the repository's own `scanOnPush` no longer applies); with `BASIC` scanning it is
    /// covered by a matching `SCAN_ON_PUSH` rule or by its own
    /// `imageScanningConfiguration.scanOnPush`. Without a registry configuration in the snapshot
    /// the repository setting decides. Images never scanned (`imageScanStatus` absent) are named.
    ///
    /// ## Why it matters
    /// Custom images add packages on top of the EMR base; you are responsible for patching what
    /// you add. Without scanning, nobody learns that the image carries a known-exploitable
    /// library until it is exploited.
    ///
    /// ## Example
    /// ```json
    /// {"repositoryName": "spark-custom/team-b-etl", "imageScanningConfiguration": {"scanOnPush": false}}
    /// ```
    /// with a registry rule that covers only `spark-custom/team-a-*`.
    ///
    /// ## Remediation
    /// Turn on enhanced scanning for the registry with a rule that covers the repository:
    /// `aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules '[{"scanFrequency":"CONTINUOUS_SCAN","repositoryFilters":[{"filter":"spark-custom/*","filterType":"WILDCARD"}]}]'`
    /// (or, with basic scanning, a `SCAN_ON_PUSH` rule for it).
    ///
    /// ## References
    /// - Amazon ECR User Guide, "Scan images for software vulnerabilities" (basic and enhanced scanning, registry filters)
    /// - EMR on EKS Development Guide, "Custom image considerations" (you patch what you add)
    pub struct EcrRepositoryNotScanned;
    id = "IMG004", name = "ecr-repository-not-scanned", practice = ImageUpdates, severity = Medium,
    title = "ECR repository of a custom image is not scanned",
}

/// ECR repositories of current custom images: (registry, name) → (repository if in the
/// snapshot, image → its workloads).
pub(crate) type RepoUse<'s> = (
    Option<&'s Located<Repository>>,
    BTreeMap<String, Vec<(Workload, &'static str)>>,
);

pub(crate) fn repositories_in_use<'s>(
    index: &EstateIndex<'s>,
) -> BTreeMap<(String, String), RepoUse<'s>> {
    let mut out: BTreeMap<(String, String), RepoUse<'s>> = BTreeMap::new();
    for (img, users) in current_images(index) {
        let Some(r) = ImageRef::parse(&img) else {
            continue;
        };
        let Some((account, _)) = r.ecr_account_region() else {
            continue;
        };
        let e = out
            .entry((account.to_owned(), r.repository.clone()))
            .or_insert_with(|| {
                (
                    index.ecr_repository(account, &r.repository),
                    BTreeMap::new(),
                )
            });
        e.1.entry(img.clone()).or_default().extend(users);
    }
    out
}

/// ECR `WILDCARD` filter matching (`*` any run of characters).
pub(crate) fn wildcard(filter: &str, name: &str) -> bool {
    emrguard_iam::wildcard_match(filter, name)
}

/// How the registry configuration covers a repository: `Some(rule text)` when a rule matches.
fn registry_rule(cfg: &RegistryScanning, repo: &str) -> Option<String> {
    cfg.scanning_configuration
        .rules
        .iter()
        .filter(|r| r.scan_frequency == "SCAN_ON_PUSH" || r.scan_frequency == "CONTINUOUS_SCAN")
        .find_map(|r| {
            r.repository_filters
                .iter()
                .find(|f| wildcard(&f.filter, repo))
                .map(|f| format!("{} rule `{}`", r.scan_frequency, f.filter))
        })
}

impl Rule for EcrRepositoryNotScanned {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((registry, name), (repo, images)) in repositories_in_use(cx.index) {
            let Some(repo) = repo else {
                continue; // not in the snapshot: nothing to judge
            };
            let cfg = cx
                .index
                .snap
                .ecr_registry_scanning
                .iter()
                .find(|c| c.registry_id.as_deref().is_none_or(|r| r == registry));
            let repo_flag = repo
                .image_scanning_configuration
                .as_ref()
                .is_some_and(|s| s.scan_on_push);
            let (covered, why_not) = match cfg {
                Some(c) => {
                    let enhanced = c
                        .scanning_configuration
                        .scan_type
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case("ENHANCED"));
                    let rule = registry_rule(c, &name);
                    let filters: Vec<String> = c
                        .scanning_configuration
                        .rules
                        .iter()
                        .flat_map(|r| r.repository_filters.iter().map(|f| format!("`{}` ({})", f.filter, r.scan_frequency)))
                        .collect();
                    let filters = if filters.is_empty() { "no rules".to_owned() } else { words(filters) };
                    if enhanced {
                        (
                            rule.is_some(),
                            format!("the registry uses ENHANCED scanning and none of its rules ({filters}) matches the repository (its own scanOnPush setting does not apply under enhanced scanning)"),
                        )
                    } else {
                        (
                            rule.is_some() || repo_flag,
                            format!("`imageScanningConfiguration.scanOnPush` is false and none of the registry's BASIC scanning rules ({filters}) matches the repository"),
                        )
                    }
                }
                None => (
                    repo_flag,
                    "`imageScanningConfiguration.scanOnPush` is false (and the snapshot has no registry scanning configuration)".to_owned(),
                ),
            };
            if covered {
                continue;
            }
            let details = cx.index.ecr_images(&registry, &name);
            let unscanned: Vec<String> = details
                .iter()
                .filter(|d| d.image_scan_status.is_none())
                .filter(|d| {
                    images.keys().any(|img| {
                        ImageRef::parse(img).is_some_and(|r| {
                            r.digest.as_deref() == Some(d.image_digest.as_str())
                                || r.tag.as_ref().is_some_and(|t| d.image_tags.contains(t))
                        })
                    })
                })
                .map(|d| {
                    format!(
                        "`{}`",
                        d.image_tags
                            .first()
                            .cloned()
                            .unwrap_or_else(|| d.image_digest.clone())
                    )
                })
                .collect();
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
            let mut b = self
                .finding(resource.clone())
                .namespace(common_namespace(cx.index, &users).as_deref())
                .message(format!(
                    "ECR repository `{name}` (registry {registry}) holds custom image{} {} used by {}, but its pushes are not scanned: {why_not}.{}",
                    if images.len() > 1 { "s" } else { "" },
                    words(images.keys().map(|i| format!("`{i}`")).collect()),
                    words(who),
                    if unscanned.is_empty() {
                        String::new()
                    } else {
                        format!(" Image {} has never been scanned.", words(unscanned))
                    }
                ))
                .remediation(format!(
                    "Cover the repository with a registry scanning rule, e.g. `aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules '[{{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{{\"filter\":\"{name}\",\"filterType\":\"WILDCARD\"}}]}}]'` (keep the existing rules in the list), then scan the images in use (`aws ecr start-image-scan --repository-name {name} --image-id imageTag=TAG` with basic scanning)."
                ))
                .step(PathStep::from_ref(&resource).detail(format!("scanOnPush = {repo_flag}")))
                .location(&repo.loc);
            if let Some(c) = cfg {
                b = b
                    .step(
                        PathStep::new(Kind::RegistryScanningConfiguration, registry.clone())
                            .detail(format!(
                                "scanType = {}",
                                c.scanning_configuration
                                    .scan_type
                                    .as_deref()
                                    .unwrap_or("BASIC")
                            )),
                    )
                    .location(&c.loc);
            }
            out.push(b.build());
        }
        out
    }
}

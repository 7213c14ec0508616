use crate::infra::creds::{irsa_usable, same_role};
use crate::infra::data::ReleaseData;
use crate::infra::jobs::{describe_job, latest_jobs, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_config::CredentialProvider;
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::release::ReleaseLabel;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// EKS Pod Identity associations (`aws eks list-pod-identity-associations` /
    /// `describe-pod-identity-association`) in EMR namespaces, against the jobs that run there.
    /// EMR on EKS supports Pod Identity from `emr-7.3.0` for StartJobRun (the minimum is in
    /// `data/emr-eks-releases.toml`): associations are accepted for jobs on that release or
    /// later, and reported when the latest run of a job in the namespace uses the association's
    /// role on an older release, which cannot use them. The message says whether the role's
    /// IRSA trust still serves those jobs. When `emrguard.toml` `[credentials]
    /// allowed_providers` excludes `pod-identity`, every association in an EMR namespace is
    /// reported.
    ///
    /// ## Why it matters
    /// An association that the job's release ignores is a false sense of configuration: the
    /// team believes its jobs use Pod Identity, while they silently use IRSA, or, with no IRSA
    /// trust, no pod credentials at all, so the AWS SDK falls back to the node's instance
    /// profile when IMDS is reachable.
    ///
    /// ## Example
    /// Associations for `emr-containers-sa-spark-{client,driver,executor}-111122223333-<b36>` in
    /// `spark-team-b`, while the team's jobs run `emr-6.9.0-20230624`.
    ///
    /// ## Remediation
    /// Move the jobs to `emr-7.3.0` or later (`emr-7.13.0-latest`), or keep IRSA and delete the
    /// associations (`aws eks delete-pod-identity-association --cluster-name C --association-id ID`,
    /// or `aws emr-containers delete-role-associations`).
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with EKS Pod Identity" (supported from emr-7.3.0, StartJobRun)
    /// - AWS CLI, `aws emr-containers create-role-associations` / `delete-role-associations`
    pub struct PodIdentityUnsupportedRelease;
    id = "POD004", name = "pod-identity-on-unsupported-release", practice = PodCredentials, severity = Medium,
    title = "Pod Identity associations serve jobs on releases that cannot use them",
}

impl Rule for PodIdentityUnsupportedRelease {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let data = ReleaseData::get();
        let min = data
            .pod_identity_min
            .as_ref()
            .map(|(f, (a, b, c))| format!("{f}-{a}.{b}.{c}"))
            .unwrap_or_else(|| "emr-7.3.0".to_owned());
        let allowed = cx
            .config
            .credentials
            .allowed_providers
            .contains(&CredentialProvider::PodIdentity);
        let mut out = Vec::new();
        // Associations in EMR namespaces, by (namespace, role).
        let mut by_ns_role: BTreeMap<
            (String, String),
            Vec<&emrguard_model::Located<emrguard_model::aws::eks::PodIdentityAssociation>>,
        > = BTreeMap::new();
        for a in &index.snap.pod_identity_associations {
            if !index.is_emr_namespace(&a.namespace) {
                continue;
            }
            by_ns_role
                .entry((a.namespace.clone(), a.role_arn.clone().unwrap_or_default()))
                .or_default()
                .push(a);
        }
        let jobs = latest_jobs(index);
        let values = crate::values::EstateValues::of(index);
        let cluster = values.cluster();
        for ((ns, role_arn), assocs) in by_ns_role {
            let ids: Vec<String> = assocs
                .iter()
                .map(|a| {
                    format!(
                        "{} ({})",
                        a.association_id.as_deref().unwrap_or("?"),
                        a.service_account
                    )
                })
                .collect();
            let role_name = if role_arn.is_empty() {
                "?".to_owned()
            } else {
                arn_resource_name(&role_arn).to_owned()
            };
            let resource = Ref::k8s(Kind::Namespace, None, ns.clone());
            let mut steps = vec![PathStep::from_ref(&resource)];
            for a in &assocs {
                steps.push(
                    PathStep::new(
                        Kind::PodIdentityAssociation,
                        a.association_id.clone().unwrap_or_default(),
                    )
                    .namespace(Some(&ns))
                    .detail(format!(
                        "{} -> {}",
                        a.service_account,
                        a.role_arn.as_deref().unwrap_or("?")
                    )),
                );
            }
            if !allowed {
                let mut b = self
                    .finding(resource.clone())
                    .severity(Severity::High)
                    .namespace(Some(&ns))
                    .discriminator(format!("not-allowed:{role_arn}"))
                    .message(format!(
                        "EMR namespace `{ns}` has Pod Identity associations {} for role `{role_name}`, but emrguard.toml `[credentials] allowed_providers` does not allow `pod-identity`.",
                        words(ids.clone())
                    ))
                    .remediation(format!(
                        "Delete the associations ({}) and give the role an IRSA trust (`aws emr-containers update-role-trust-policy --cluster-name {cluster} --namespace {ns} --role-name {role_name}`), or allow `pod-identity` in emrguard.toml.",
                        words(assocs.iter().map(|a| format!("`aws eks delete-pod-identity-association --cluster-name {cluster} --association-id {}`", a.association_id.as_deref().unwrap_or("ID"))).collect())
                    ));
                for s in steps.clone() {
                    b = b.step(s);
                }
                for a in &assocs {
                    b = b.location(&a.loc);
                }
                out.push(b.build());
                continue;
            }
            // Jobs of this namespace that run the association's role on an older release.
            let mut old = Vec::new();
            let mut labels = Vec::new();
            let mut job_locs = Vec::new();
            for g in jobs.iter().filter(|g| g.namespace() == Some(ns.as_str())) {
                let Some(exec) = g.latest.execution_role_arn.as_deref() else {
                    continue;
                };
                let role_matches = if role_arn.is_empty() {
                    true
                } else {
                    exec == role_arn || index.role(exec).is_some_and(|r| same_role(&role_arn, r))
                };
                if !role_matches {
                    continue;
                }
                let Some(label) = g.latest.release_label.as_deref() else {
                    continue;
                };
                let Some(parsed) = ReleaseLabel::parse(label) else {
                    continue;
                };
                if data.supports_pod_identity(&parsed) {
                    continue;
                }
                old.push(format!("{} on `{label}`", describe_job(g)));
                labels.push(label.to_owned());
                job_locs.push(g.latest.loc.clone());
                steps.push(
                    crate::infra::jobs::job_run_step(g.latest)
                        .namespace(Some(&ns))
                        .detail(format!("releaseLabel = {label}")),
                );
            }
            if old.is_empty() {
                continue;
            }
            let fallback = index.role(&role_arn).and_then(|r| {
                let vc = index.virtual_clusters_on(&ns).into_iter().next()?;
                let c = index.cluster(vc.eks_cluster()?)?;
                irsa_usable(cx, c, &ns, r, "driver")
            });
            let fallback = match fallback {
                Some(true) => " The role's IRSA trust still admits the jobs' service accounts, so they run on IRSA, not on these associations.",
                Some(false) => " The role's trust admits none of the jobs' service accounts through IRSA either: the jobs get no pod credentials and fall back to the node's instance profile where IMDS is reachable (see POD005).",
                None => "",
            };
            let mut b = self
                .finding(resource.clone())
                .namespace(Some(&ns))
                .discriminator(role_arn.clone())
                .message(format!(
                    "EMR namespace `{ns}` has Pod Identity associations {} for role `{role_name}`, but the role's jobs there run releases older than {min}, which cannot use EKS Pod Identity: {}.{fallback}",
                    words(ids),
                    words(old)
                ))
                .remediation(format!(
                    "Move the jobs from {} to `emr-7.13.0-latest` (Pod Identity needs {min} or later), or keep IRSA (`aws emr-containers update-role-trust-policy --cluster-name {cluster} --namespace {ns} --role-name {role_name}`) and delete the unused associations (`aws emr-containers delete-role-associations --cluster-name {cluster} --namespace {ns} --role-name {role_name}`).",
                    words(labels.iter().map(|l| format!("`{l}`")).collect())
                ));
            for s in steps {
                b = b.step(s);
            }
            for a in &assocs {
                b = b.location(&a.loc);
            }
            for l in &job_locs {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

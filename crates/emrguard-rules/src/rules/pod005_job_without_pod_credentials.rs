use crate::infra::creds::{
    emr_service_account, irsa_usable, pod_identity_for, provider_host, trusts_pod_identity,
    web_identity_grants,
};
use crate::infra::data::ReleaseData;
use crate::infra::jobs::{describe_job, job_run_step, latest_jobs, live_endpoints, vc_step, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_config::CredentialProvider;
use emrguard_model::aws::emr::VirtualCluster;
use emrguard_model::aws::iam::Role;
use emrguard_model::release::ReleaseLabel;
use emrguard_model::Kind;
use emrguard_model::{Finding, Located, PathStep, Ref, SourceLoc};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// Current workloads (the latest run of each job, live managed endpoints) whose execution
    /// role their pods cannot assume, so that the AWS SDK in the driver and executors falls
    /// back down its credential chain to the node's instance profile:
    ///
    /// - IRSA: the role's trust, evaluated by the IAM engine, does not let the cluster's OIDC
    ///   provider assume it for EMR's service account of the job's namespace
    ///   (`system:serviceaccount:<ns>:emr-containers-sa-spark-driver-<account>-<base36(role)>` for
    ///   job runs, `…-spark-jeg-…` for interactive endpoints; audience `sts.amazonaws.com`);
    /// - Pod Identity: no association of EMR's service accounts with the role in the namespace,
    ///   a release older than emr-7.3.0, or a trust without `pods.eks.amazonaws.com`.
    ///
    /// The message lists what the trust does admit (other namespaces, other clusters). Needs
    /// the EKS cluster (`describe-cluster`, for its OIDC issuer) and the role
    /// (`get-account-authorization-details`) in the snapshot; providers excluded by
    /// `[credentials] allowed_providers` are not counted.
    ///
    /// ## Why it matters
    /// A job whose pods cannot obtain their execution role either fails or, where pods reach
    /// IMDS, silently runs with the node role: every tenant's jobs share one identity, the
    /// execution-role controls (trust, `ExecutionRoleArn` conditions) stop meaning anything,
    /// and CloudTrail shows the node role instead of the job's role.
    ///
    /// ## Example
    /// A job in `spark-team-a` on `emr-7.13.0-latest` with role `etl-exec`, whose trust names only
    /// `system:serviceaccount:spark-team-b:emr-containers-sa-*-*-111122223333-…`, and no Pod
    /// Identity association in `spark-team-a`.
    ///
    /// ## Remediation
    /// `aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NS --role-name ROLE`
    /// (IRSA), or on emr-7.3.0 and later
    /// `aws emr-containers create-role-associations --cluster-name CLUSTER --namespace NS --role-name ROLE`
    /// plus the Pod Identity trust statement (`pods.eks.amazonaws.com`, `sts:AssumeRole`, `sts:TagSession`).
    /// Block IMDS from pods so that a broken setup fails instead of using the node role.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles" and "Setting up the trust policy"
    /// - EMR on EKS Development Guide, "Using job execution roles with EKS Pod Identity"
    /// - EMR on EKS security best practices, "Use IAM roles for service accounts"
    pub struct JobWithoutPodCredentials;
    id = "POD005", name = "job-without-pod-credentials", practice = PodCredentials, severity = High,
    title = "Job pods cannot assume their execution role and fall back to the node role",
}

struct Use<'s> {
    vc: &'s Located<VirtualCluster>,
    /// EMR's service account component: `driver` (job runs) or `jeg` (endpoints).
    component: &'static str,
    role_arn: String,
    release: Option<String>,
    what: String,
    step: PathStep,
    loc: SourceLoc,
}

fn verdict(cx: &Context<'_, '_>, u: &Use<'_>, role: &Role) -> Option<Vec<String>> {
    let ns = u.vc.namespace()?;
    let cluster = cx.index.cluster(u.vc.eks_cluster()?)?;
    let providers = &cx.config.credentials.allowed_providers;
    let mut why = Vec::new();
    if providers.contains(&CredentialProvider::Irsa) {
        if irsa_usable(cx, cluster, ns, role, u.component)? {
            return None;
        }
        let account = cluster.account().unwrap_or("?");
        let sa = emr_service_account(u.component, account, &role.role_name);
        let grants = web_identity_grants(cx, role);
        let own = cluster
            .oidc_issuer_host()
            .unwrap_or("")
            .to_ascii_lowercase();
        let admitted: Vec<String> = grants
            .iter()
            .flat_map(|g| {
                let host = provider_host(&g.provider).to_ascii_lowercase();
                let via = if host == own {
                    String::new()
                } else {
                    format!(" through the OIDC provider `{host}` of another cluster")
                };
                g.subjects
                    .clone()
                    .unwrap_or_else(|| vec!["any service account".to_owned()])
                    .into_iter()
                    .map(move |s| format!("`{s}`{via}"))
            })
            .collect();
        why.push(format!(
            "its trust does not admit `system:serviceaccount:{ns}:{sa}` from the OIDC provider of cluster `{}`{}",
            cluster.name,
            if admitted.is_empty() {
                String::new()
            } else {
                format!(" (it admits {})", words(admitted))
            }
        ));
    }
    if providers.contains(&CredentialProvider::PodIdentity) {
        let assocs = pod_identity_for(cx, ns, role);
        let release_ok = u
            .release
            .as_deref()
            .and_then(ReleaseLabel::parse)
            .map(|l| ReleaseData::get().supports_pod_identity(&l))
            .unwrap_or(false);
        let trust_ok = trusts_pod_identity(cx, role);
        if !assocs.is_empty() && release_ok && trust_ok {
            return None;
        }
        if assocs.is_empty() {
            why.push(format!(
                "no Pod Identity association in `{ns}` names the role"
            ));
        } else if !release_ok {
            why.push(format!(
                "its Pod Identity associations are unusable on release `{}` (emr-7.3.0 or later needed)",
                u.release.as_deref().unwrap_or("?")
            ));
        } else {
            why.push("its Pod Identity associations are unusable because the trust does not admit `pods.eks.amazonaws.com`".to_owned());
        }
    }
    Some(why)
}

impl Rule for JobWithoutPodCredentials {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let mut uses = Vec::new();
        for g in latest_jobs(index) {
            let Some(r) = g.latest.execution_role_arn.clone() else {
                continue;
            };
            uses.push(Use {
                vc: g.vc,
                component: "driver",
                role_arn: r,
                release: g.latest.release_label.clone(),
                what: describe_job(&g),
                step: job_run_step(g.latest),
                loc: g.latest.loc.clone(),
            });
        }
        for (_, ep, vc) in live_endpoints(index) {
            let Some(r) = ep.execution_role_arn.clone() else {
                continue;
            };
            uses.push(Use {
                vc,
                component: "jeg",
                role_arn: r,
                release: ep.release_label.clone(),
                what: format!("managed endpoint `{}`", ep.name),
                step: PathStep::from_ref(&crate::infra::jobs::endpoint_ref(ep)),
                loc: ep.loc.clone(),
            });
        }
        // One finding per (virtual cluster, role).
        type Failing<'s> = Vec<(Use<'s>, Vec<String>)>;
        let mut groups: BTreeMap<(String, String), Failing<'_>> = BTreeMap::new();
        for u in uses {
            let Some(role) = index.role(&u.role_arn) else {
                continue;
            };
            let Some(why) = verdict(cx, &u, role) else {
                continue;
            };
            groups
                .entry((u.vc.id.clone(), role.arn.clone()))
                .or_default()
                .push((u, why));
        }
        let mut out = Vec::new();
        for ((_, role_arn), items) in groups {
            let Some((first, why)) = items.first() else {
                continue;
            };
            let Some(role) = index.role(&role_arn) else {
                continue;
            };
            let ns = first.vc.namespace().unwrap_or("?");
            let cluster = first.vc.eks_cluster().unwrap_or("CLUSTER");
            let role_ref = Ref::aws(
                Kind::IamRole,
                role.role_name.clone(),
                Some(role.arn.as_str()),
            );
            let what: Vec<String> = items.iter().map(|(u, _)| u.what.clone()).collect();
            let mut b = self
                .finding(crate::infra::jobs::vc_ref(first.vc))
                .namespace(Some(ns))
                .virtual_cluster(Some(first.vc.id.as_str()))
                .subject(emrguard_model::Subject {
                    kind: "IamRole".to_owned(),
                    name: role.role_name.clone(),
                    namespace: None,
                    arn: Some(role.arn.clone()),
                    iam_principals: Vec::new(),
                })
                .message(format!(
                    "{} in namespace `{ns}` (virtual cluster `{}`) run{} with execution role `{}`, but {} pods cannot assume it: {}. The AWS SDK then falls back to the node's instance profile where pods reach IMDS, or the job fails.",
                    crate::infra::jobs::capitalise(&words(what.clone())),
                    first.vc.name,
                    if what.len() == 1 { "s" } else { "" },
                    role.role_name,
                    if what.len() == 1 { "its" } else { "their" },
                    why.join("; ")
                ))
                .remediation(format!(
                    "`aws emr-containers update-role-trust-policy --cluster-name {cluster} --namespace {ns} --role-name {}` (IRSA), or on emr-7.3.0 and later `aws emr-containers create-role-associations --cluster-name {cluster} --namespace {ns} --role-name {}` with the Pod Identity trust statement; and block IMDS from pods so that a broken setup fails instead of using the node role.",
                    role.role_name, role.role_name
                ))
                .step(vc_step(first.vc));
            for (u, _) in &items {
                b = b.step(u.step.clone()).location(&u.loc);
            }
            b = b
                .step(
                    PathStep::from_ref(&role_ref)
                        .detail("trust admits none of the job's service accounts"),
                )
                .location(&role.loc);
            out.push(b.build());
        }
        out
    }
}

use crate::infra::creds::irsa_usable;
use crate::infra::fargate::whole_namespace_profile;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// EKS Pod Identity associations in an EMR namespace whose pods all run on AWS Fargate: a
    /// live Fargate profile (`aws eks describe-fargate-profile`) has a selector without labels
    /// whose namespace (wildcards `*` and `?` allowed) matches it. EKS Pod Identity is not
    /// available to Fargate pods, so the association gives the job's pods nothing. One finding
    /// per namespace and role, naming the associations; the message says whether the role's
    /// IRSA trust still serves the jobs.
    ///
    /// ## Why it matters
    /// The team believes its jobs run with the association's role; on Fargate they get no
    /// credentials from it. With an IRSA trust the jobs quietly run on IRSA (and the association
    /// misleads audits); without one they get no pod credentials at all and fail, and the usual
    /// quick fix (static keys in a secret, a broader shared role) is worse than either.
    ///
    /// ## Example
    /// ```json
    /// {"fargateProfile": {"fargateProfileName": "spark", "status": "ACTIVE",
    ///   "selectors": [{"namespace": "spark-*"}]}}
    /// {"association": {"namespace": "spark-team-a", "serviceAccount": "emr-containers-sa-spark-driver-...",
    ///   "roleArn": "arn:aws:iam::111122223333:role/team-a-exec"}}
    /// ```
    ///
    /// ## Remediation
    /// Use IRSA for jobs on Fargate (`aws emr-containers update-role-trust-policy --cluster-name C
    /// --namespace NS --role-name ROLE`) and delete the associations
    /// (`aws eks delete-pod-identity-association --cluster-name C --association-id ID`), or run
    /// the namespace's pods on EC2 nodes (narrow the Fargate profile's selector).
    ///
    /// ## References
    /// - EKS user guide, "Learn how EKS Pod Identity grants pods access to AWS services" (restrictions: Fargate pods are not supported)
    /// - EKS user guide, "Define which Pods use AWS Fargate when launched" (selectors, wildcards)
    /// - EMR on EKS Development Guide, "Using job execution roles with EKS Pod Identity"
    pub struct PodIdentityOnFargate;
    id = "POD007", name = "pod-identity-on-fargate", practice = PodCredentials, severity = Medium,
    title = "Pod Identity associations for pods that run on Fargate, where Pod Identity is not available",
}

impl Rule for PodIdentityOnFargate {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        if index.snap.fargate_profiles.is_empty() {
            return Vec::new();
        }
        // (namespace, role) → associations.
        let mut groups: BTreeMap<(&str, &str), Vec<_>> = BTreeMap::new();
        for a in &index.snap.pod_identity_associations {
            if index.virtual_clusters_on(&a.namespace).is_empty() {
                continue;
            }
            let role = a.role_arn.as_deref().unwrap_or("");
            groups
                .entry((a.namespace.as_str(), role))
                .or_default()
                .push(a);
        }
        let mut out = Vec::new();
        for ((ns, role_arn), assocs) in groups {
            let Some((profile, selector)) = whole_namespace_profile(index, ns) else {
                continue;
            };
            let irsa = index.role(role_arn).and_then(|r| {
                let vc = index.virtual_clusters_on(ns).into_iter().next()?;
                let c = index.cluster(vc.eks_cluster()?)?;
                irsa_usable(cx, c, ns, r, "driver")
            });
            let (sev, tail) = match irsa {
                Some(true) => (Severity::Low, " The role's IRSA trust admits the jobs' service accounts, so the jobs run on IRSA and the associations only mislead."),
                Some(false) => (Severity::Medium, " The role's trust admits none of the jobs' service accounts through IRSA either: the jobs get no pod credentials."),
                None => (Severity::Medium, ""),
            };
            let role_name = arn_resource_name(role_arn);
            let sas: Vec<&str> = assocs.iter().map(|a| a.service_account.as_str()).collect();
            let cluster = crate::values::EstateValues::of(index);
            let cluster = if profile.cluster_name.is_empty() {
                cluster.cluster().to_owned()
            } else {
                profile.cluster_name.clone()
            };
            let ids: Vec<String> = assocs
                .iter()
                .map(|a| a.association_id.clone().unwrap_or_else(|| a.key()))
                .collect();
            let vcs = index.virtual_clusters_on(ns);
            let resource = Ref::aws(Kind::IamRole, role_name, Some(role_arn));
            let mut b = self
                .finding(resource)
                .severity(sev)
                .namespace(Some(ns))
                .virtual_cluster(vcs.first().map(|v| v.id.as_str()))
                .message(format!(
                    "Pod Identity associations of role `{role_name}` in EMR namespace `{ns}` ({}) serve pods that run on Fargate (profile `{}` selects namespace `{selector}`), where EKS Pod Identity is not available.{tail}",
                    crate::util::join_words(&sas),
                    profile.fargate_profile_name
                ))
                .remediation({
                    let delete = ids
                        .iter()
                        .map(|id| format!("`aws eks delete-pod-identity-association --cluster-name {cluster} --association-id {id}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if irsa == Some(true) {
                        format!("The jobs already run on IRSA: delete the associations ({delete}).")
                    } else {
                        format!(
                            "Use IRSA for jobs on Fargate (`aws emr-containers update-role-trust-policy --cluster-name {cluster} --namespace {ns} --role-name {role_name}`), then delete the associations ({delete}), or narrow Fargate profile `{}` so the namespace's pods run on EC2 nodes.",
                            profile.fargate_profile_name
                        )
                    }
                })
                .step(
                    PathStep::new(Kind::FargateProfile, profile.fargate_profile_name.clone())
                        .arn(profile.fargate_profile_arn.as_deref())
                        .detail(format!("selector namespace {selector}, no labels")),
                )
                .fork(
                    Kind::PodIdentityAssociation,
                    format!("{} associations", assocs.len()),
                    assocs
                        .iter()
                        .map(|a| {
                            PathStep::new(Kind::PodIdentityAssociation, a.key())
                                .detail(format!("{ns}/{}", a.service_account))
                        })
                        .collect(),
                )
                .step(
                    PathStep::new(Kind::IamRole, role_name.to_owned())
                        .arn(Some(role_arn))
                        .detail("no credentials through Pod Identity on Fargate"),
                )
                .location(&profile.loc);
            for a in &assocs {
                b = b.location(&a.loc);
            }
            out.push(b.build());
        }
        out
    }
}

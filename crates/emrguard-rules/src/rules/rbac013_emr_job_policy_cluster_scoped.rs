use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};
use emrguard_rbac::AccessScope;

declare_rule! {
    /// ## What it checks
    /// EKS access-policy associations of `AmazonEMRJobPolicy` with **cluster** scope (for any
    /// principal). EMR associates it per virtual cluster with `accessScope.type = namespace` and
    /// the virtual cluster's namespace.
    ///
    /// ## Why it matters
    /// The policy gives EMR (or whoever holds it) what it needs to run jobs: creating pods,
    /// configmaps, roles and role bindings. At cluster scope it applies to every namespace,
    /// including `kube-system` and other tenants', so a compromised or misused EMR principal
    /// reaches far beyond its virtual clusters. The policy's rules are not published, which makes
    /// a wide scope the only thing that can be checked.
    ///
    /// ## Example
    /// ```json
    /// {"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEMRJobPolicy",
    ///  "accessScope": {"type": "cluster", "namespaces": []}}
    /// ```
    ///
    /// ## Remediation
    /// `aws eks associate-access-policy --cluster-name CLUSTER --principal-arn ARN --policy-arn
    /// arn:aws:eks::aws:cluster-access-policy/AmazonEMRJobPolicy --access-scope
    /// type=namespace,namespaces=NS` for each EMR namespace, then
    /// `aws eks disassociate-access-policy` the cluster-scoped association.
    ///
    /// ## References
    /// - EMR on EKS developer guide, "Enable cluster access using EKS access entries"
    /// - EKS user guide, "Associate access policies with access entries"
    pub struct EmrJobPolicyClusterScoped;
    id = "RBAC013", name = "emr-job-policy-cluster-scoped", practice = Rbac, severity = Medium,
    title = "AmazonEMRJobPolicy is associated with cluster scope",
}

impl Rule for EmrJobPolicyClusterScoped {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let view = cx.rbac();
        let mut out = Vec::new();
        for p in view.identities.access_policy_bindings() {
            if p.policy_name != "AmazonEMRJobPolicy" || p.scope != AccessScope::Cluster {
                continue;
            }
            let subject = emrguard_rbac::identity::iam_subject(&p.principal_arn);
            let mut b = self
                .finding(Ref::aws(Kind::AccessEntry,
                    subject.name.clone(),
                    Some(&p.principal_arn),
                ))
                .subject(subject)
                .message(format!(
                    "Access entry of `{}` has `AmazonEMRJobPolicy` associated with cluster scope: EMR's job permissions apply in every namespace, not only the virtual clusters' namespaces.",
                    p.principal_arn
                ))
                .remediation("Associate AmazonEMRJobPolicy with namespace scope, one association per EMR namespace, and disassociate the cluster-scoped one.")
                .step(
                    PathStep::new(Kind::AccessEntry, p.principal_arn.clone())
                        .arn(Some(&p.principal_arn))
                        .detail(format!("{} (accessScope type cluster)", p.policy_arn)),
                );
            if let Some(l) = &p.loc {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

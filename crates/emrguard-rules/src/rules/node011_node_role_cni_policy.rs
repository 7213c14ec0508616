use super::node010_node_role_extra_policies::{node_role_step, node_roles};
use crate::iam_evidence::role_ref;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// Node roles with `AmazonEKS_CNI_Policy` (or `AmazonEKS_CNI_IPv6_Policy`) attached while
    /// the VPC CNI's `kube-system/aws-node` service account has no role of its own: no IRSA
    /// annotation (`eks.amazonaws.com/role-arn`), no `serviceAccountRoleArn` on the `vpc-cni`
    /// add-on, and no EKS Pod Identity association. Reported only when the snapshot has the
    /// `aws-node` service account or the `vpc-cni` add-on to tell.
    ///
    /// ## Why it matters
    /// `AmazonEKS_CNI_Policy` lets its holder create, attach and delete network interfaces and
    /// assign IP addresses across the VPC. On the node role it is available to every pod that
    /// reaches instance credentials, not only to `aws-node`. The EKS user guide: "If the
    /// AmazonEKS_CNI_Policy policy is attached to the role, we recommend removing it and
    /// attaching it to an IAM role that is mapped to the aws-node Kubernetes service account
    /// instead."
    ///
    /// ## Example
    /// Node role with `AmazonEKS_CNI_Policy`; `aws-node` ServiceAccount without annotations;
    /// `aws eks describe-addon --addon-name vpc-cni` without `serviceAccountRoleArn`.
    ///
    /// ## Remediation
    /// Create an IRSA (or Pod Identity) role for `kube-system/aws-node` with
    /// `AmazonEKS_CNI_Policy`, set it on the add-on
    /// (`aws eks update-addon --cluster-name CLUSTER --addon-name vpc-cni --service-account-role-arn ROLE_ARN`),
    /// then detach the policy from the node role.
    ///
    /// ## References
    /// - EKS User Guide, "Amazon EKS node IAM role" and "Configure Amazon VPC CNI plugin to use IRSA"
    /// - EKS best practices guide, "Update the aws-node daemonset to use IRSA"
    pub struct NodeRoleCniPolicy;
    id = "NODE011", name = "node-role-cni-policy-without-aws-node-role", practice = NodeCredentials, severity = Medium,
    title = "Node role carries AmazonEKS_CNI_Policy instead of the aws-node service account",
}

impl Rule for NodeRoleCniPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let sa = index.service_account("kube-system", "aws-node");
        let irsa = index.irsa_role("kube-system", "aws-node");
        let pod_identity = index.pod_identity("kube-system", "aws-node");
        let mut out = Vec::new();
        for (_, (role, sources)) in node_roles(cx) {
            let cni: Vec<&str> = role
                .attached_managed_policies
                .iter()
                .map(|a| a.policy_arn.as_str())
                .filter(|a| {
                    matches!(
                        arn_resource_name(a),
                        "AmazonEKS_CNI_Policy" | "AmazonEKS_CNI_IPv6_Policy"
                    )
                })
                .collect();
            let Some(policy) = cni.first() else {
                continue;
            };
            let clusters: Vec<&str> = index
                .snap
                .nodegroups
                .iter()
                .filter(|ng| {
                    ng.node_role
                        .as_deref()
                        .and_then(|r| index.role(r))
                        .is_some_and(|r| r.arn == role.arn)
                })
                .map(|ng| ng.cluster_name.as_str())
                .collect();
            let addons: Vec<_> = index
                .snap
                .addons
                .iter()
                .filter(|a| a.addon_name == "vpc-cni")
                .filter(|a| {
                    clusters.is_empty()
                        || a.cluster_name
                            .as_deref()
                            .is_none_or(|c| clusters.contains(&c))
                })
                .collect();
            if sa.is_none() && addons.is_empty() {
                continue; // nothing to tell
            }
            let addon_role = addons
                .iter()
                .find_map(|a| a.service_account_role_arn.as_deref());
            let addon_pia = addons
                .iter()
                .any(|a| !a.pod_identity_associations.is_empty());
            if irsa.is_some() || addon_role.is_some() || addon_pia || !pod_identity.is_empty() {
                continue;
            }
            let values = crate::values::EstateValues::of(cx.index);
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Node role `{}` has `{}` while `kube-system/aws-node` has no role of its own (no IRSA annotation, no vpc-cni add-on `serviceAccountRoleArn`, no Pod Identity association): every pod that reaches the node's credentials can manage the VPC's network interfaces.",
                    role.role_name,
                    arn_resource_name(policy)
                ))
                .remediation(format!(
                    "Create a role for `kube-system/aws-node` with `AmazonEKS_CNI_Policy` (trusting the cluster's OIDC provider for `system:serviceaccount:kube-system:aws-node`), set it with `aws eks update-addon --cluster-name {} --addon-name vpc-cni --service-account-role-arn {}`, then detach the policy from `{}` (`aws iam detach-role-policy --role-name {} --policy-arn {}`).",
                    values.cluster(),
                    values.role_arn(&format!("{}-aws-node", values.cluster())),
                    role.role_name,
                    role.role_name,
                    policy
                ))
                .step(node_role_step(role, &sources))
                .step(PathStep::new(Kind::ManagedPolicy, arn_resource_name(policy)).arn(Some(policy)).detail("attached to the node role"));
            if let Some(sa) = sa {
                b = b
                    .step(
                        PathStep::new(Kind::ServiceAccount, "aws-node")
                            .namespace(Some("kube-system"))
                            .detail("no eks.amazonaws.com/role-arn annotation"),
                    )
                    .location(&sa.loc);
            }
            for a in &addons {
                b = b
                    .step(
                        PathStep::new(Kind::EksAddon, a.addon_name.clone())
                            .arn(a.addon_arn.as_deref())
                            .detail("no serviceAccountRoleArn, no Pod Identity association"),
                    )
                    .location(&a.loc);
            }
            b = b.location(&role.loc);
            out.push(b.build());
        }
        out
    }
}

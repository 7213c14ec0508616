use crate::iam_evidence::{describe_statement, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{
    analyze, excess_over, PolicyOrigin, PolicySource, PrincipalPolicies, PrivilegeTier,
};
use emrguard_model::aws::iam::{arn_resource_name, Role};
use emrguard_model::Kind;
use emrguard_model::{Finding, Located, PathStep, Severity, SourceLoc};
use std::collections::BTreeMap;
use std::sync::Arc;

declare_rule! {
    /// ## What it checks
    /// IAM roles of EKS nodes (the `nodeRole` of node groups, and principals of `EC2_LINUX` /
    /// `EC2_WINDOWS` access entries) that hold policies beyond the node minimum of the EKS user
    /// guide: `AmazonEKSWorkerNodePolicy` (or `AmazonEKSWorkerNodeMinimalPolicy`),
    /// `AmazonEC2ContainerRegistryPullOnly` or `AmazonEC2ContainerRegistryReadOnly`, and
    /// optionally `AmazonEKS_CNI_Policy` / an `AmazonEKS_CNI_IPv6_Policy` (reported by NODE011
    /// when `aws-node` has no role of its own). Policies listed in
    /// `[nodes] extra_allowed_policies` are accepted. Each other policy (attached or inline)
    /// is reported with the actions it grants that the minimum does not (the IAM engine
    /// compares them); a policy granting nothing more is not reported. Severity follows what
    /// the extra policy alone grants: critical for administrator or privilege escalation, high
    /// for write, medium for read.
    ///
    /// ## Why it matters
    /// Pods that reach the instance metadata service get the node role's credentials, and EMR
    /// runs arbitrary user code in pods. Whatever the node role may do, every job may do.
    ///
    /// ## Example
    /// ```json
    /// {"RoleName": "analytics-prod-eks-node-role", "AttachedManagedPolicies": [
    ///   {"PolicyName": "AmazonEKSWorkerNodePolicy"}, {"PolicyName": "AmazonS3FullAccess"}]}
    /// ```
    ///
    /// ## Remediation
    /// Detach the extra policies and give the permissions to the workloads that need them
    /// through IRSA or EKS Pod Identity. If a policy is intended (e.g. SSM access to nodes),
    /// list it under `[nodes] extra_allowed_policies`.
    ///
    /// ## References
    /// - EKS User Guide, "Amazon EKS node IAM role"
    /// - EMR on EKS security best practices, "Restrict access to nodegroup IAM role or instance
    ///   profile credentials"
    pub struct NodeRoleExtraPolicies;
    id = "NODE010", name = "node-role-extra-policies", practice = NodeCredentials, severity = High,
    title = "Node role holds policies beyond the EKS node minimum",
}

/// AWS managed policy names of the node minimum (any partition).
pub(crate) const MINIMUM: [&str; 6] = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKSWorkerNodeMinimalPolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEKS_CNI_Policy",
    "AmazonEKS_CNI_IPv6_Policy",
];

/// `true` for an AWS managed policy of the minimum, or the customer-created IPv6 CNI policy.
pub(crate) fn is_minimum(arn: &str) -> bool {
    let name = arn_resource_name(arn);
    let aws_managed = arn.contains(":iam::aws:policy/");
    MINIMUM.contains(&name) && (aws_managed || name == "AmazonEKS_CNI_IPv6_Policy")
}

/// Role ARN → (role, what says it is a node role: description and location).
pub(crate) type NodeRoles<'s> = BTreeMap<String, (&'s Located<Role>, Vec<(String, SourceLoc)>)>;

/// Node roles: role ARN → what says it is one (description, location).
pub(crate) fn node_roles<'s>(cx: &Context<'_, 's>) -> NodeRoles<'s> {
    let mut out: NodeRoles<'s> = BTreeMap::new();
    let snap = cx.index.snap;
    for ng in &snap.nodegroups {
        let Some(r) = ng.node_role.as_deref().and_then(|a| cx.index.role(a)) else {
            continue;
        };
        out.entry(r.arn.clone())
            .or_insert_with(|| (r, Vec::new()))
            .1
            .push((
                format!(
                    "node group `{}` of cluster `{}`",
                    ng.nodegroup_name, ng.cluster_name
                ),
                ng.loc.clone(),
            ));
    }
    for e in &snap.access_entries {
        let t = e.entry_type.as_deref().unwrap_or("");
        if !t.starts_with("EC2") {
            continue;
        }
        let Some(r) = cx.index.role(&e.principal_arn) else {
            continue;
        };
        out.entry(r.arn.clone())
            .or_insert_with(|| (r, Vec::new()))
            .1
            .push((
                format!("{t} access entry of cluster `{}`", e.cluster_name),
                e.loc.clone(),
            ));
    }
    out
}

pub(crate) fn node_role_step(role: &Role, sources: &[(String, SourceLoc)]) -> PathStep {
    let how: Vec<&str> = sources.iter().take(3).map(|(d, _)| d.as_str()).collect();
    PathStep::new(Kind::IamRole, role.role_name.clone())
        .arn(Some(&role.arn))
        .detail(format!("node role of {}", how.join(", ")))
}

/// `s3:* (all 150 actions), sts:AssumeRole`: whole services as `svc:*`, otherwise up to five
/// actions per service.
fn summarize(names: &[String]) -> String {
    let cat = emrguard_iam::Catalogue::global();
    let mut by_service: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in names {
        let svc = n.split(':').next().unwrap_or("");
        by_service.entry(svc).or_default().push(n);
    }
    let mut parts = Vec::new();
    for (svc, acts) in by_service {
        let total = cat.service_actions(svc).map(|r| r.len()).unwrap_or(0);
        if total > 1 && acts.len() == total {
            parts.push(format!("{svc}:* (all {total} actions)"));
        } else if acts.len() > 5 {
            let head: Vec<&str> = acts.iter().take(5).copied().collect();
            parts.push(format!(
                "{} and {} more {svc} actions",
                head.join(", "),
                acts.len() - 5
            ));
        } else {
            parts.push(acts.join(", "));
        }
    }
    parts.join("; ")
}

impl Rule for NodeRoleExtraPolicies {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let roles = node_roles(cx);
        if roles.is_empty() {
            return Vec::new();
        }
        let store = &cx.iam().store;
        let allowed_extra = &cx.config.nodes.extra_allowed_policies;
        let baseline_arns: Vec<String> = store
            .managed_iter()
            .map(|(a, _, _)| a.to_owned())
            .filter(|a| is_minimum(a))
            .collect();
        let refs: Vec<&str> = baseline_arns.iter().map(String::as_str).collect();
        let baseline =
            PrincipalPolicies::from_store("arn:aws:iam::aws:role/eks-node-minimum", store, &refs);
        let mut out = Vec::new();
        for (_, (role, sources)) in roles {
            let Some(p) = cx.iam().role(&role.arn) else {
                continue;
            };
            for a in &p.policies.identity {
                let o = &a.origin;
                let (label, key) = match o.source {
                    PolicySource::Managed => {
                        let arn = o.arn.clone().unwrap_or_default();
                        if is_minimum(&arn)
                            || allowed_extra.iter().any(|x| {
                                x == &arn || (!x.contains(':') && x == arn_resource_name(&arn))
                            })
                        {
                            continue;
                        }
                        (format!("managed policy `{}`", o.name), arn)
                    }
                    PolicySource::Inline => {
                        if allowed_extra.iter().any(|x| x == &o.name) {
                            continue;
                        }
                        (
                            format!("inline policy `{}`", o.name),
                            format!("inline:{}", o.name),
                        )
                    }
                    _ => continue,
                };
                let single = PrincipalPolicies::synthetic(
                    &role.arn,
                    vec![(PolicyOrigin::clone(o), Arc::clone(&a.policy))],
                );
                let excess = excess_over(&single, &baseline);
                let names = excess.action_names();
                let unscoped = excess.unscoped_names();
                if names.is_empty() && unscoped.is_empty() {
                    continue;
                }
                let tier = analyze(&single).tier;
                let severity = match tier {
                    PrivilegeTier::Administrator | PrivilegeTier::PrivilegeEscalation => {
                        Severity::Critical
                    }
                    PrivilegeTier::Write => Severity::High,
                    _ => Severity::Medium,
                };
                let grants = if names.is_empty() {
                    format!("on all resources: {}", summarize(&unscoped))
                } else {
                    summarize(&names)
                };
                let mut b = self
                    .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                    .severity(severity)
                    .message(format!(
                        "Node role `{}` has {label}, beyond the EKS node minimum; it grants {grants}. Every pod that reaches the node's instance credentials gets it.",
                        role.role_name
                    ))
                    .remediation(format!(
                        "Remove {label} from `{}` and grant what the workloads need through IRSA or EKS Pod Identity (or list it under `[nodes] extra_allowed_policies` if intended).",
                        role.role_name
                    ))
                    .discriminator(key)
                    .step(node_role_step(role, &sources));
                let probe: Vec<String> = names
                    .iter()
                    .chain(unscoped.iter())
                    .take(20)
                    .cloned()
                    .collect();
                for st in a.policy.statements().iter().take(4) {
                    let sref = crate::exec_roles::statement_ref(a, st);
                    b = b.step(crate::iam_evidence::policy_step(
                        &sref,
                        format!(
                            "{}: {}",
                            crate::iam_evidence::statement_label(&sref),
                            describe_statement(st, &probe)
                        ),
                    ));
                }
                if let Some(l) = policy_location(cx.index, o) {
                    b = b.location(&l);
                }
                b = b.location(&role.loc);
                for (_, l) in sources.iter().take(3) {
                    b = b.location(l);
                }
                out.push(b.build());
            }
            for arn in &p.policies.unresolved {
                if is_minimum(arn) || allowed_extra.iter().any(|x| x == arn) {
                    continue;
                }
                let b = self
                    .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                    .severity(Severity::Medium)
                    .message(format!(
                        "Node role `{}` has managed policy `{}` attached, beyond the EKS node minimum (its document is not in the snapshot).",
                        role.role_name,
                        arn_resource_name(arn)
                    ))
                    .remediation(format!(
                        "Detach `{arn}` from `{}`, or list it under `[nodes] extra_allowed_policies` if intended.",
                        role.role_name
                    ))
                    .discriminator(arn.clone())
                    .step(node_role_step(role, &sources))
                    .step(PathStep::new(Kind::ManagedPolicy, arn_resource_name(arn)).arn(Some(arn)).detail("attached; document not in the snapshot"))
                    .location(&role.loc);
                out.push(b.build());
            }
        }
        out
    }
}

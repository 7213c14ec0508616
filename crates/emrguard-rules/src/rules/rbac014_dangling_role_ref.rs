use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind, PathStep, Ref};
use emrguard_rbac::IssueKind;

declare_rule! {
    /// ## What it checks
    /// RoleBindings in EMR namespaces and ClusterRoleBindings whose `roleRef` names a Role or
    /// ClusterRole that is not in the snapshot.
    ///
    /// ## Why it matters
    /// The binding grants nothing today, but it grants everything the moment someone creates a
    /// role of that name, and creating a role is a smaller, less reviewed change than binding one.
    /// A dangling binding in an EMR namespace is a pre-approved grant waiting for its content.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: legacy-debug, namespace: spark-team-a}
    /// roleRef: {kind: Role, name: debug-tools}   # no Role spark-team-a/debug-tools
    /// subjects: [{kind: Group, name: data-scientists}]
    /// ```
    ///
    /// ## Remediation
    /// Delete the binding, or create the role it references with the intended (read-only) rules.
    /// If the snapshot is partial, collect every Role and ClusterRole (`kubectl get
    /// roles,clusterroles -A -o json`).
    ///
    /// ## References
    /// - Kubernetes documentation, "Using RBAC Authorization" (roleRef is immutable; a binding to a missing role is allowed)
    pub struct DanglingRoleRef;
    id = "RBAC014", name = "dangling-role-ref", practice = Rbac, severity = Low,
    title = "Binding references a role that does not exist",
}

impl Rule for DanglingRoleRef {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let view = cx.rbac();
        let mut out = Vec::new();
        for issue in view.graph.issues() {
            if issue.kind != IssueKind::DanglingRoleRef {
                continue;
            }
            // `RoleBinding ns/name` or `ClusterRoleBinding name`.
            let Some((kind, rest)) = issue.object.split_once(' ') else {
                continue;
            };
            let (kind, ns, name) = match (kind, rest.split_once('/')) {
                ("RoleBinding", Some((ns, name))) => (Kind::RoleBinding, Some(ns), name),
                ("ClusterRoleBinding", _) => (Kind::ClusterRoleBinding, None, rest),
                _ => continue,
            };
            if ns.is_some_and(|n| !cx.index.is_emr_namespace(n)) {
                continue;
            }
            let mut b = self
                .finding(Ref::k8s(kind, ns, name))
                .namespace(ns)
                .message(format!("{} {}.", issue.object, issue.message))
                .remediation("Delete the binding, or create the referenced role with the intended rules; make sure the snapshot holds every Role and ClusterRole.")
                .step(PathStep::new(kind, name).namespace(ns).detail(issue.message.clone()));
            if let Some(l) = &issue.loc {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

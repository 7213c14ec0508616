use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `escalate-rbac` capability in an EMR namespace (a namespace with a live virtual cluster), through a RoleBinding there, a ClusterRoleBinding or an EKS access policy: create/update/patch on `roles` or `rolebindings` in the namespace, `bind`/`escalate` on roles, `bind` on clusterroles, or (cluster-wide) writing clusterroles/clusterrolebindings or `escalate` on clusterroles.
    ///
    /// A job submitter is every identity except EMR itself (user `emr-containers`, the
    /// `emr-containers-sa-*` service accounts), system components (`system:*`, `eks:*`,
    /// kube-system service accounts, `system:masters`) and declared administrators;
    /// `system:authenticated`, `system:unauthenticated` and `system:serviceaccounts*` are checked.
    /// ClusterRole aggregation is resolved offline; name-restricted rules (`resourceNames`) do not
    /// count. Each finding names the subject, the IAM principals behind it (aws-auth, access
    /// entries) and the path IAM principal → mapping → binding → role → rule. Severity is raised
    /// to critical when pods of the namespace can obtain an execution role of a higher privilege
    /// tier than the subject's own IAM principals hold.
    ///
    /// ## Why it matters
    /// Whoever writes RBAC can grant itself any of the other capabilities (create pods, exec, read
    /// secrets). EMR's own `emr-containers` role holds this by design, to create the per-job roles; bound
    /// to a person it makes them EMR.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: team-admin, namespace: spark-team-a}
    /// roleRef: {kind: ClusterRole, name: admin}
    /// subjects: [{kind: Group, name: team-a-leads}]
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can create rolebindings.rbac.authorization.k8s.io -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanEscalateRbac;
    id = "RBAC006", name = "submitter-can-escalate-rbac", practice = Rbac, severity = High,
    title = "Job submitter can write RBAC in an EMR namespace",
}

impl Rule for SubmitterCanEscalateRbac {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::EscalateRbac)
    }
}

use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `impersonate` capability in an EMR namespace (a namespace with a live virtual cluster), through a RoleBinding there, a ClusterRoleBinding or an EKS access policy: `impersonate` on `serviceaccounts` in the namespace, or (cluster-wide) on `users`, `groups`, `uids` or `userextras`.
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
    /// Impersonating EMR's service accounts, the user `emr-containers` or `system:masters` members gives
    /// their permissions, including everything the other capabilities protect. The built-in `edit` role
    /// includes impersonating service accounts.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: impersonator}
    /// rules: [{apiGroups: [""], resources: [users, groups, serviceaccounts], verbs: [impersonate]}]
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can impersonate serviceaccounts -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanImpersonate;
    id = "RBAC007", name = "submitter-can-impersonate", practice = Rbac, severity = High,
    title = "Job submitter can impersonate other identities",
}

impl Rule for SubmitterCanImpersonate {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::Impersonate)
    }
}

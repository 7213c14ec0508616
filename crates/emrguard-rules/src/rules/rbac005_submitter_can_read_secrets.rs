use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `read-secrets` capability in an EMR namespace (a namespace with a live virtual cluster), through a RoleBinding there, a ClusterRoleBinding or an EKS access policy: get, list or watch on `secrets`.
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
    /// EMR stores the presigned upload material of each job (`emr-containers-s3-<vc>-<job>`) in a secret,
    /// and workloads keep database passwords and API keys there; legacy service-account token secrets
    /// authenticate as the service account. Reading them crosses tenants and bypasses the execution-role
    /// controls.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: authenticated-secret-reader}
    /// roleRef: {kind: ClusterRole, name: secret-reader}   # get/list secrets
    /// subjects: [{kind: Group, name: "system:authenticated"}]
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can get secrets -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanReadSecrets;
    id = "RBAC005", name = "submitter-can-read-secrets", practice = Rbac, severity = High,
    title = "Job submitter can read secrets in an EMR namespace",
}

impl Rule for SubmitterCanReadSecrets {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::ReadSecrets)
    }
}

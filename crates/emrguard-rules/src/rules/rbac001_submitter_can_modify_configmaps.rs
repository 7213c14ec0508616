use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `modify-configmaps` capability in an EMR namespace (a namespace with a live virtual cluster), through a RoleBinding there, a ClusterRoleBinding or an EKS access policy: create, update, patch, delete or deletecollection on `configmaps`.
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
    /// EMR keeps each job's pod templates (`podtemplate-<jobId>`) and `spark-defaults` in configmaps of the
    /// namespace. Whoever can rewrite them between submission and pod creation decides the image, command
    /// and service account of EMR's driver and executor pods, and so runs code with the job's execution
    /// role. The EMR on EKS security best practices list "modify configmaps" first among what job
    /// submitters must not do.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: data-scientists-edit, namespace: spark-team-a}
    /// roleRef: {kind: ClusterRole, name: edit}
    /// subjects: [{kind: Group, name: data-scientists}]   # aws-auth maps IAM role data-science-team here
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can create configmaps -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanModifyConfigmaps;
    id = "RBAC001", name = "submitter-can-modify-configmaps", practice = Rbac, severity = High,
    title = "Job submitter can modify configmaps in an EMR namespace",
}

impl Rule for SubmitterCanModifyConfigmaps {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::ModifyConfigmaps)
    }
}

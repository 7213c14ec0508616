use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `deploy-mutating-webhooks` capability cluster-wide (ClusterRoleBindings and cluster-scoped EKS access policies): create, update or patch `mutatingwebhookconfigurations` (cluster-scoped, so only through ClusterRoleBindings or cluster-scoped access policies); reported once per subject at cluster scope, naming the EMR namespaces.
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
    /// A mutating webhook sees and rewrites every pod it selects before it is stored: it can change the
    /// service account, image or command of EMR's pods in any EMR namespace, so its author runs code with
    /// any execution role of the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-deployers-webhook-manager}
    /// roleRef: {kind: ClusterRole, name: webhook-manager}   # create/update/patch mutatingwebhookconfigurations
    /// subjects: [{kind: Group, name: ci-deployers}]
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can create mutatingwebhookconfigurations.admissionregistration.k8s.io -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanDeployMutatingWebhooks;
    id = "RBAC004", name = "submitter-can-deploy-mutating-webhooks", practice = Rbac, severity = High,
    title = "Job submitter can deploy mutating admission webhooks",
}

impl Rule for SubmitterCanDeployMutatingWebhooks {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::DeployMutatingWebhooks)
    }
}

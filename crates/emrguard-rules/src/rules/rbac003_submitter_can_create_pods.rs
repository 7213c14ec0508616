use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding};

declare_rule! {
    /// ## What it checks
    /// Job submitters that hold the `create-pods` capability in an EMR namespace (a namespace with a live virtual cluster), through a RoleBinding there, a ClusterRoleBinding or an EKS access policy: `create` on `pods`, or create/update/patch on a pod controller (`deployments`, `replicasets`, `statefulsets`, `daemonsets`, `jobs`, `cronjobs`, `replicationcontrollers`).
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
    /// A pod may name any service account of its namespace, including EMR's
    /// `emr-containers-sa-spark-driver-…`, whose IRSA trust (or Pod Identity association) hands out the
    /// execution role. Creating a pod therefore means obtaining every execution role used in the
    /// namespace, bypassing the `emr-containers:ExecutionRoleArn` condition on the submitter.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: etl-operator-emr, namespace: spark-team-a}
    /// roleRef: {kind: Role, name: emr-containers}     # EMR's own role, bound to a person
    /// subjects: [{kind: User, name: etl-operator}]
    /// ```
    ///
    /// ## Remediation
    /// Let job submitters reach EMR only through the EMR API (`StartJobRun` with the execution roles
    /// they may pass). Remove the subject from the binding, or bind a role without this capability
    /// (`view`, or a narrow custom role); check with
    /// `emrguard who-can create pods -n NAMESPACE SNAPSHOT`. Declare real administrators under
    /// `[administrators]` in `emrguard.toml`: they are then listed in the report instead.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC": job submitters must not modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets in EMR namespaces
    /// - Kubernetes documentation, "Role Based Access Control Good Practices" (privilege escalation risks)
    pub struct SubmitterCanCreatePods;
    id = "RBAC003", name = "submitter-can-create-pods", practice = Rbac, severity = High,
    title = "Job submitter can create pods in an EMR namespace",
}

impl Rule for SubmitterCanCreatePods {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        crate::rbac_support::capability_findings(self, cx, Capability::CreatePods)
    }
}

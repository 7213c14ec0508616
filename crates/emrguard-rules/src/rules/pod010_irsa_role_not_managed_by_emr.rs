use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::k8s::{annotation, is_emr_service_account, IRSA_ANNOTATION};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep};
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it checks
    /// ServiceAccounts in EMR namespaces (namespaces with a live virtual cluster) annotated with
    /// `eks.amazonaws.com/role-arn` pointing at an IAM role that EMR does not manage. A role is
    /// EMR's when it is an execution role: named by a job run, job template or managed endpoint,
    /// associated through EKS Pod Identity with one of EMR's service accounts, or trusting EMR's
    /// service accounts (`emr-containers-sa-*`) in its trust policy.
    ///
    /// ## Why it matters
    /// Pods in an EMR namespace must get AWS credentials only as EMR hands them out: the execution
    /// role of the job, through EMR's own service accounts. An extra IRSA service account puts a
    /// role of a different purpose (often broader, like an orchestrator's) within reach of every
    /// job submitter who can create pods or influence pod templates there, outside the
    /// `emr-containers:ExecutionRoleArn` controls.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ServiceAccount
    /// metadata:
    ///   name: airflow-worker
    ///   namespace: spark-team-a
    ///   annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/airflow-prod-worker"}
    /// ```
    ///
    /// ## Remediation
    /// Move the workload and its service account to a namespace of its own (not registered with
    /// EMR), and narrow the role's trust policy to that namespace; in the EMR namespace, leave only
    /// EMR's service accounts with execution roles.
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Use IAM roles for service accounts" and "namespace isolation"
    /// - EMR on EKS developer guide, "Using job execution roles with Amazon EMR on EKS"
    pub struct IrsaRoleNotManagedByEmr;
    id = "POD010", name = "irsa-role-not-managed-by-emr", practice = PodCredentials, severity = High,
    title = "Service account in an EMR namespace uses an IAM role EMR does not manage",
}

impl Rule for IrsaRoleNotManagedByEmr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let snap = cx.index.snap;
        // Execution roles, by role name (ARNs are written with or without paths).
        let mut emr_roles: BTreeSet<String> = cx
            .index
            .named_execution_roles()
            .keys()
            .map(|a| arn_resource_name(a).to_owned())
            .collect();
        for a in &snap.pod_identity_associations {
            if is_emr_service_account(&a.service_account) {
                if let Some(r) = a.role_arn.as_deref() {
                    emr_roles.insert(arn_resource_name(r).to_owned());
                }
            }
        }
        for r in &snap.roles {
            if r.assume_role_policy_document
                .as_ref()
                .is_some_and(|d| d.text().contains("emr-containers-sa-"))
            {
                emr_roles.insert(r.role_name.clone());
            }
        }
        let mut out = Vec::new();
        for sa in &snap.k8s.service_accounts {
            let Some(ns) = sa.metadata.namespace.as_deref() else {
                continue;
            };
            if !cx.index.is_emr_namespace(ns) {
                continue;
            }
            let Some(role) = annotation(&sa.metadata, IRSA_ANNOTATION) else {
                continue;
            };
            let role_name = arn_resource_name(role);
            if emr_roles.contains(role_name) {
                continue;
            }
            let name = sa.metadata.name.as_deref().unwrap_or("");
            let known = cx.index.role(role);
            let mut b = self
                .finding(k8s_ref(Kind::ServiceAccount, &sa.metadata))
                .namespace(Some(ns))
                .message(format!(
                    "ServiceAccount `{ns}/{name}` in an EMR namespace is annotated with IAM role `{role}`, which is not an EMR execution role (no job run, job template, managed endpoint or EMR service account uses it): any pod of the namespace may run as this account and obtain the role.",
                ))
                .remediation("Move the workload and its service account to a namespace that is not registered with EMR and narrow the role's trust policy to it; keep only EMR's service accounts with execution roles in EMR namespaces.")
                .step(k8s_step(Kind::ServiceAccount, &sa.metadata).detail(format!("{IRSA_ANNOTATION}: {role}")))
                .step(PathStep::new(Kind::IamRole, role_name).arn(Some(role)).detail(if known.is_some() { "not an execution role" } else { "not in the snapshot" }))
                .location(&sa.loc);
            if let Some(r) = known {
                b = b.location(&r.loc);
            }
            out.push(b.build());
        }
        out
    }
}

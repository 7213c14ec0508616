use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::k8s::{annotation, KUBE2IAM_ANNOTATION};
use emrguard_model::Kind;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// The kube2iam/kiam annotations: `iam.amazonaws.com/role` on pods and on the pod templates
    /// of workloads, and `iam.amazonaws.com/permitted` / `iam.amazonaws.com/allowed-roles` on
    /// namespaces. High in EMR namespaces (namespaces with a virtual cluster), medium elsewhere.
    ///
    /// ## Why it matters
    /// The annotation asks an IMDS proxy for role credentials. Pods in EMR namespaces must get
    /// credentials only from IRSA or EKS Pod Identity; an annotation there either does nothing
    /// (and hides a broken migration) or hands a role to whoever can create pods, outside the
    /// execution-role controls of EMR.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Pod
    /// metadata:
    ///   namespace: spark-team-a
    ///   annotations: {iam.amazonaws.com/role: arn:aws:iam::111122223333:role/etl}
    /// ```
    ///
    /// ## Remediation
    /// Remove the annotation and give the workload a service account annotated with
    /// `eks.amazonaws.com/role-arn` (IRSA) or an EKS Pod Identity association.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Use IAM roles for service accounts"
    pub struct Kube2iamAnnotation;
    id = "POD002", name = "kube2iam-annotation", practice = PodCredentials, severity = High,
    title = "Pod credentials requested through a kube2iam/kiam annotation",
}

const NAMESPACE_ANNOTATIONS: [&str; 2] = [
    "iam.amazonaws.com/permitted",
    "iam.amazonaws.com/allowed-roles",
];

impl Rule for Kube2iamAnnotation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in crate::util::root_workloads(&cx.index.snap.k8s) {
            let Some(role) = crate::util::kube2iam_role(w.metadata, w.pod_metadata) else {
                continue;
            };
            let ns = w.metadata.namespace.as_deref();
            let emr = ns.is_some_and(|n| cx.index.is_emr_namespace(n));
            let sev = if emr {
                Severity::High
            } else {
                Severity::Medium
            };
            let where_ = if emr { "EMR namespace" } else { "namespace" };
            out.push(
                self.finding(k8s_ref(Kind::of_k8s(w.kind), w.metadata))
                    .severity(sev)
                    .namespace(ns.filter(|_| emr))
                    .message(format!(
                        "{} `{}` in {where_} `{}` requests role `{role}` through the `{KUBE2IAM_ANNOTATION}` annotation (kube2iam/kiam) instead of IRSA or EKS Pod Identity.",
                        w.kind,
                        w.metadata.name.as_deref().unwrap_or(""),
                        ns.unwrap_or("")
                    ))
                    .remediation("Remove the annotation; give the workload a service account with an `eks.amazonaws.com/role-arn` annotation (IRSA) or an EKS Pod Identity association.")
                    .step(k8s_step(Kind::of_k8s(w.kind), w.metadata).detail(format!("{KUBE2IAM_ANNOTATION}: {role}")))
                    .location(w.loc)
                    .build(),
            );
        }
        for n in &cx.index.snap.k8s.namespaces {
            let name = n.metadata.name.as_deref().unwrap_or("");
            for key in NAMESPACE_ANNOTATIONS {
                let Some(v) = annotation(&n.metadata, key) else {
                    continue;
                };
                let emr = cx.index.is_emr_namespace(name);
                out.push(
                    self.finding(k8s_ref(Kind::Namespace, &n.metadata))
                        .severity(if emr { Severity::High } else { Severity::Medium })
                        .namespace(Some(name).filter(|_| emr))
                        .discriminator(key)
                        .message(format!("Namespace `{name}` carries the kube2iam/kiam annotation `{key}: {v}`: pods in it are expected to get credentials through an IMDS proxy."))
                        .remediation("Remove the annotation once the namespace's workloads use IRSA or EKS Pod Identity.")
                        .step(k8s_step(Kind::Namespace, &n.metadata).detail(format!("{key}: {v}")))
                        .location(&n.loc)
                        .build(),
                );
            }
        }
        out
    }
}

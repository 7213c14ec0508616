use crate::util::{k8s_ref, k8s_step, root_workloads};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::k8s::{is_emr_service_account, ObjectMeta, Workload};
use emrguard_model::Finding;
use emrguard_model::Kind;

declare_rule! {
    /// ## What it checks
    /// Workloads in EMR namespaces (pods, and the controllers that create pods, each reported
    /// once at its top-level owner) that EMR did not create. EMR's own objects are recognised
    /// by their `emr-containers.amazonaws.com/*` labels (job runners, drivers, executors,
    /// endpoint pods carry `emr-containers.amazonaws.com/virtual-cluster-id` and `job.id`) or by
    /// running as one of EMR's service accounts (`emr-containers-sa-*`,
    /// `emr-container-sa-spark-livy`).
    ///
    /// ## Why it matters
    /// An EMR namespace holds what EMR's jobs trust: pod templates in ConfigMaps, the secrets of
    /// the log sidecar, the service accounts bound to execution roles. Another workload there
    /// (a proxy, a debug pod, an operator) shares all of it, often runs with broader RBAC, and
    /// turns the namespace's isolation into a question of that workload's security.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: adhoc-notebook-proxy, namespace: spark-shared}
    /// ```
    ///
    /// ## Remediation
    /// Move the workload to a namespace of its own (`kubectl -n NS delete deployment NAME`,
    /// then deploy it elsewhere), and keep EMR namespaces for EMR's pods; enforce it with
    /// `emrguard serve` or an admission policy that admits only EMR's service accounts in EMR
    /// namespaces.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Isolate untrusted tenants"
    pub struct NonEmrWorkloadInEmrNamespace;
    id = "TEN003", name = "non-emr-workload-in-emr-namespace", practice = TenantIsolation, severity = Medium,
    title = "EMR namespace also runs workloads that EMR did not create",
}

fn emr_labelled(m: Option<&ObjectMeta>) -> bool {
    m.and_then(|m| m.labels.as_ref()).is_some_and(|l| {
        l.keys()
            .any(|k| k.starts_with("emr-containers.amazonaws.com/"))
    })
}

/// Whether EMR created a workload.
pub(crate) fn is_emr_workload(w: &Workload<'_>) -> bool {
    emr_labelled(Some(w.metadata))
        || emr_labelled(w.pod_metadata)
        || w.spec
            .and_then(|s| {
                s.service_account_name
                    .as_deref()
                    .or(s.service_account.as_deref())
            })
            .is_some_and(is_emr_service_account)
}

impl Rule for NonEmrWorkloadInEmrNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in root_workloads(&cx.index.snap.k8s) {
            let Some(ns) = w.metadata.namespace.as_deref() else {
                continue;
            };
            if !cx.index.is_emr_namespace(ns) || is_emr_workload(&w) {
                continue;
            }
            let name = w.metadata.name.as_deref().unwrap_or("");
            let sa = w
                .spec
                .and_then(|s| {
                    s.service_account_name
                        .as_deref()
                        .or(s.service_account.as_deref())
                })
                .unwrap_or("default");
            let images: Vec<&str> = w
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .filter_map(|c| c.image.as_deref())
                .collect();
            let vcs: Vec<String> = cx
                .index
                .virtual_clusters_on(ns)
                .iter()
                .map(|v| format!("`{}`", v.name))
                .collect();
            out.push(
                self.finding(k8s_ref(Kind::of_k8s(w.kind), w.metadata))
                    .namespace(Some(ns))
                    .message(format!(
                        "{} `{name}` runs in EMR namespace `{ns}` (virtual cluster {}) but was not created by EMR (no `emr-containers.amazonaws.com/*` labels; service account `{sa}`; image {}): it shares the namespace's pod templates, Secrets and service accounts with the EMR jobs.",
                        w.kind,
                        crate::util::join_words(&vcs),
                        if images.is_empty() { "?".to_owned() } else { images.join(", ") }
                    ))
                    .remediation(format!(
                        "Move {} `{name}` to a namespace of its own (`kubectl -n {ns} delete {} {name}` and deploy it there), and admit only EMR's service accounts in EMR namespaces (emrguard serve, or a ValidatingAdmissionPolicy).",
                        w.kind,
                        w.kind.to_ascii_lowercase()
                    ))
                    .step(k8s_step(Kind::of_k8s(w.kind), w.metadata).detail(format!("serviceAccountName = {sa}")))
                    .location(w.loc)
                    .build(),
            );
        }
        out
    }
}

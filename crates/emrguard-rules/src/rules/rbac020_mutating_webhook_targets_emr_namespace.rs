use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;
use emrguard_model::Kind;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// MutatingWebhookConfigurations with a webhook that intercepts pods (or configmaps, where EMR
    /// keeps its pod templates) and whose `namespaceSelector` matches an EMR namespace (a namespace
    /// with a live virtual cluster, judged by the Namespace's labels) and whose `objectSelector`
    /// matches EMR's pods (labels `emr-containers.amazonaws.com/*`, `spark-role`). One finding per
    /// webhook, naming the EMR namespaces. Webhooks served from `kube-system` or from the control
    /// plane's loopback address (EKS's own `pod-identity-webhook`) are system components and are
    /// left out.
    ///
    /// ## Why it matters
    /// A mutating webhook can rewrite every pod it selects before it is stored: change the service
    /// account of EMR's driver to one with another execution role, swap the image, add a sidecar
    /// that exfiltrates the projected token. Whoever controls the webhook's service (here, often a
    /// tenant namespace) controls EMR's pods.
    ///
    /// ## Example
    /// ```yaml
    /// kind: MutatingWebhookConfiguration
    /// metadata: {name: analytics-sidecar-injector}
    /// webhooks:
    /// - name: inject.analytics.example.com
    ///   clientConfig: {service: {namespace: spark-shared, name: sidecar-injector}}
    ///   namespaceSelector: {matchLabels: {sidecar-injection: enabled}}
    ///   rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
    /// ```
    ///
    /// ## Remediation
    /// Exclude EMR namespaces from the webhook (`namespaceSelector` with a `NotIn`/`DoesNotExist`
    /// expression on a label only EMR namespaces carry, and remove opt-in labels from them), or
    /// run the webhook from a system namespace that tenants cannot write to. Restrict who can write
    /// `mutatingwebhookconfigurations` (see RBAC004).
    ///
    /// ## References
    /// - EMR on EKS best practices, security, "Kubernetes RBAC" (deploy mutating webhooks)
    /// - Kubernetes documentation, "Dynamic Admission Control" (matching requests: namespaceSelector, objectSelector)
    pub struct MutatingWebhookTargetsEmrNamespace;
    id = "RBAC020", name = "mutating-webhook-targets-emr-namespace", practice = Rbac, severity = Medium,
    title = "Mutating webhook can rewrite pods in EMR namespaces",
}

/// `matchLabels` and `matchExpressions` as the API server evaluates them; an absent selector
/// selects everything, an invalid one nothing.
pub(crate) fn selector_matches(
    sel: Option<&LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> bool {
    let Some(sel) = sel else { return true };
    for (k, v) in sel.match_labels.iter().flatten() {
        if labels.get(k) != Some(v) {
            return false;
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or(&[]);
        let got = labels.get(&e.key);
        let ok = match e.operator.as_str() {
            "In" => got.is_some_and(|g| values.contains(g)),
            "NotIn" => got.is_none_or(|g| !values.contains(g)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn intercepts_pods(w: &k8s_openapi::api::admissionregistration::v1::MutatingWebhook) -> bool {
    w.rules.iter().flatten().any(|r| {
        let groups = r.api_groups.as_deref().unwrap_or(&[]);
        let resources = r.resources.as_deref().unwrap_or(&[]);
        let ops = r.operations.as_deref().unwrap_or(&[]);
        let core = groups.iter().any(|g| g.is_empty() || g == "*");
        let res = resources
            .iter()
            .any(|x| matches!(x.as_str(), "pods" | "configmaps" | "*" | "*/*"));
        let op = ops
            .iter()
            .any(|o| matches!(o.as_str(), "CREATE" | "UPDATE" | "*"));
        core && res && op
    })
}

fn is_system(w: &k8s_openapi::api::admissionregistration::v1::MutatingWebhook) -> bool {
    let c = &w.client_config;
    if let Some(s) = &c.service {
        return s.namespace == "kube-system";
    }
    c.url
        .as_deref()
        .and_then(emrguard_model::index::url_host)
        .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]" || h == "::1")
}

impl Rule for MutatingWebhookTargetsEmrNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let snap = cx.index.snap;
        // Labels of each EMR namespace (the API server always sets kubernetes.io/metadata.name).
        let mut ns_labels: Vec<(&str, BTreeMap<String, String>)> = Vec::new();
        for ns in cx.index.emr_namespaces() {
            let mut labels = snap
                .k8s
                .namespaces
                .iter()
                .find(|n| n.metadata.name.as_deref() == Some(ns))
                .and_then(|n| n.metadata.labels.clone())
                .unwrap_or_default();
            labels
                .entry("kubernetes.io/metadata.name".to_owned())
                .or_insert_with(|| ns.to_owned());
            ns_labels.push((ns, labels));
        }
        if ns_labels.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for cfg in &snap.k8s.mutating_webhooks {
            let mut hit: Vec<(String, Vec<&str>)> = Vec::new();
            for w in cfg.webhooks.iter().flatten() {
                if is_system(w) || !intercepts_pods(w) {
                    continue;
                }
                let mut matched = Vec::new();
                for (ns, labels) in &ns_labels {
                    if !selector_matches(w.namespace_selector.as_ref(), labels) {
                        continue;
                    }
                    // EMR's pods: the labels EMR sets, from the snapshot's pods or as EMR writes them.
                    let vcs = cx.index.virtual_clusters_on(ns);
                    let mut candidates: Vec<BTreeMap<String, String>> = snap
                        .k8s
                        .pods
                        .iter()
                        .filter(|p| p.metadata.namespace.as_deref() == Some(*ns))
                        .filter_map(|p| p.metadata.labels.clone())
                        .filter(|l| {
                            l.keys()
                                .any(|k| k.starts_with("emr-containers.amazonaws.com/"))
                        })
                        .collect();
                    for role in ["driver", "executor"] {
                        let mut l = BTreeMap::new();
                        if let Some(vc) = vcs.first() {
                            l.insert(
                                "emr-containers.amazonaws.com/virtual-cluster-id".to_owned(),
                                vc.id.clone(),
                            );
                        }
                        l.insert(
                            "emr-containers.amazonaws.com/job.id".to_owned(),
                            "0000000000000000000".to_owned(),
                        );
                        l.insert("spark-role".to_owned(), role.to_owned());
                        candidates.push(l);
                    }
                    if candidates
                        .iter()
                        .any(|l| selector_matches(w.object_selector.as_ref(), l))
                    {
                        matched.push(*ns);
                    }
                }
                if !matched.is_empty() {
                    hit.push((w.name.clone(), matched));
                }
            }
            if hit.is_empty() {
                continue;
            }
            let name = cfg.metadata.name.as_deref().unwrap_or("");
            let mut all: Vec<&str> = hit.iter().flat_map(|(_, n)| n.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            let webhooks: Vec<String> = hit.iter().map(|(w, _)| format!("`{w}`")).collect();
            let served = cfg
                .webhooks
                .iter()
                .flatten()
                .find(|w| hit.iter().any(|(n, _)| *n == w.name))
                .map(|w| match (&w.client_config.service, &w.client_config.url) {
                    (Some(s), _) => format!("service {}/{}", s.namespace, s.name),
                    (None, Some(u)) => format!("URL {u}"),
                    _ => "an unknown endpoint".to_owned(),
                })
                .unwrap_or_default();
            let mut b = self
                .finding(k8s_ref(Kind::MutatingWebhookConfiguration, &cfg.metadata))
                .namespaces(all.iter().map(|n| (*n).to_owned()).collect())
                .message(format!(
                    "MutatingWebhookConfiguration `{name}` (webhook {}, served by {served}) intercepts pods {}: it can rewrite EMR's driver and executor pods, including their service account.",
                    crate::util::join_words(&webhooks),
                    crate::util::scope_phrase(
                        &all.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
                        false
                    )
                ))
                .remediation("Exclude EMR namespaces through the webhook's namespaceSelector (and remove opt-in labels from them), or serve the webhook from a system namespace tenants cannot write to.");
            for (w, nss) in &hit {
                b = b.step(
                    k8s_step(Kind::MutatingWebhookConfiguration, &cfg.metadata)
                        .detail(format!("webhook {w} selects namespaces {}", nss.join(", "))),
                );
            }
            out.push(b.location(&cfg.loc).build());
        }
        out
    }
}

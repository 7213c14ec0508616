use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;
use emrguard_model::Kind;

declare_rule! {
    /// ## What it checks
    /// Pods and workloads with `hostNetwork: true` in EMR namespaces (namespaces with a virtual
    /// cluster).
    ///
    /// ## Why it matters
    /// A host-network pod shares the node's network namespace: the documented iptables rule that
    /// blocks the instance metadata service matches only traffic from pod interfaces (`eni+`),
    /// so the pod reaches IMDS and the node role's credentials directly. It can also see every
    /// connection on the node, including other tenants' Spark traffic.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Pod
    /// metadata: {name: debug, namespace: spark-team-a}
    /// spec: {hostNetwork: true, containers: [{name: c, image: busybox}]}
    /// ```
    ///
    /// ## Remediation
    /// Remove `hostNetwork: true`; run node-level agents in a system namespace instead. Enforce
    /// with `emrguard serve` or the generated ValidatingAdmissionPolicy, or Pod Security
    /// Admission `baseline` on EMR namespaces.
    ///
    /// ## References
    /// - EKS user guide (2021), "Restrict access to the instance profile assigned to the worker node"
    /// - Kubernetes Pod Security Standards, baseline: host namespaces
    pub struct HostNetworkInEmrNamespace;
    id = "POD003", name = "host-network-in-emr-namespace", practice = PodCredentials, severity = High,
    title = "Host-network pod in an EMR namespace can reach node credentials",
}

impl Rule for HostNetworkInEmrNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in crate::util::root_workloads(&cx.index.snap.k8s) {
            let Some(ns) = w.metadata.namespace.as_deref() else {
                continue;
            };
            if !cx.index.is_emr_namespace(ns) || !crate::util::uses_host_network(w.spec) {
                continue;
            }
            let name = w.metadata.name.as_deref().unwrap_or("");
            out.push(
                self.finding(k8s_ref(Kind::of_k8s(w.kind), w.metadata))
                    .namespace(Some(ns))
                    .message(format!(
                        "{} `{name}` in EMR namespace `{ns}` uses the host network: it bypasses the iptables block of the instance metadata service and can obtain the node role's credentials.",
                        w.kind
                    ))
                    .remediation("Remove `hostNetwork: true` from the pod spec; keep node agents out of EMR namespaces, and enforce it at admission (emrguard serve, or Pod Security Admission baseline).")
                    .step(k8s_step(Kind::of_k8s(w.kind), w.metadata).detail("spec.hostNetwork: true"))
                    .location(w.loc)
                    .build(),
            );
        }
        out
    }
}

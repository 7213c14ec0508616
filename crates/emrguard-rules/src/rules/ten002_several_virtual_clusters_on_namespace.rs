use crate::infra::jobs::{vc_ref, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// Namespaces on which more than one live virtual cluster (state other than `TERMINATED`)
    /// is registered. Terminated virtual clusters share nothing and are ignored.
    ///
    /// ## Why it matters
    /// A virtual cluster is the unit of access control in EMR on EKS: submitters are granted
    /// `StartJobRun` on a virtual cluster, and the security best practices isolate tenants by
    /// virtual cluster. Two virtual clusters on one namespace only look separate: their jobs
    /// share the namespace's ConfigMaps, Secrets, service accounts and RBAC, so a submitter of
    /// one reaches the jobs and execution roles of the other.
    ///
    /// ## Example
    /// ```json
    /// {"virtualClusters": [
    ///   {"name": "analytics-shared", "state": "RUNNING", "containerProvider": {"id": "analytics-prod", "type": "EKS", "info": {"eksInfo": {"namespace": "spark-shared"}}}},
    ///   {"name": "analytics-shared-adhoc", "state": "RUNNING", "containerProvider": {"id": "analytics-prod", "type": "EKS", "info": {"eksInfo": {"namespace": "spark-shared"}}}}]}
    /// ```
    ///
    /// ## Remediation
    /// Give each virtual cluster its own namespace: create the namespace and its EMR access
    /// (`eksctl create iamidentitymapping --service-name emr-containers --namespace NEW_NS` or
    /// an access entry), create a new virtual cluster there, move the jobs, then
    /// `aws emr-containers delete-virtual-cluster --id OLD`.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Isolate untrusted tenants"
    /// - EMR on EKS Development Guide, "Register the Amazon EKS cluster with Amazon EMR"
    pub struct SeveralVirtualClustersOnNamespace;
    id = "TEN002", name = "several-virtual-clusters-on-one-namespace", practice = TenantIsolation, severity = Medium,
    title = "Several virtual clusters share one namespace",
}

impl Rule for SeveralVirtualClustersOnNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for ns in cx.index.emr_namespaces() {
            let vcs = cx.index.virtual_clusters_on(ns);
            // The same namespace name on different EKS clusters is not shared.
            let mut by_cluster: std::collections::BTreeMap<&str, Vec<_>> =
                std::collections::BTreeMap::new();
            for v in vcs {
                by_cluster
                    .entry(v.eks_cluster().unwrap_or(""))
                    .or_default()
                    .push(v);
            }
            for (cluster, vcs) in by_cluster {
                if vcs.len() < 2 {
                    continue;
                }
                let names: Vec<String> = vcs
                    .iter()
                    .map(|v| {
                        format!(
                            "`{}` ({}, {})",
                            v.name,
                            v.id,
                            v.state.as_deref().unwrap_or("?")
                        )
                    })
                    .collect();
                let resource = Ref::k8s(Kind::Namespace, None, ns);
                let mut b = self
                    .finding(resource.clone())
                    .namespace(Some(ns))
                    .discriminator(cluster.to_owned())
                    .message(format!(
                        "Namespace `{ns}` of EKS cluster `{cluster}` has {} live virtual clusters: {}. Their jobs share the namespace's ConfigMaps, Secrets, service accounts and RBAC, so access granted per virtual cluster does not separate them.",
                        vcs.len(),
                        words(names)
                    ))
                    .remediation(format!(
                        "Keep one virtual cluster per namespace: create a namespace for each other virtual cluster (with EMR access: `eksctl create iamidentitymapping --cluster {cluster} --service-name emr-containers --namespace NEW_NS`), create the virtual cluster there, move its jobs and submitters' permissions, and `aws emr-containers delete-virtual-cluster --id {}`.",
                        vcs.last().map(|v| v.id.as_str()).unwrap_or("OLD_ID")
                    ))
                    .step(PathStep::from_ref(&resource));
                b = b.fork(
                    Kind::VirtualCluster,
                    format!("{} virtual clusters", vcs.len()),
                    vcs.iter()
                        .map(|v| {
                            PathStep::from_ref(&vc_ref(v))
                                .detail(format!("state {}", v.state.as_deref().unwrap_or("?")))
                        })
                        .collect(),
                );
                for v in &vcs {
                    b = b.location(&v.loc);
                }
                out.push(b.build());
            }
        }
        out
    }
}

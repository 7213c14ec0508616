//! Kubernetes objects. Typed with `k8s-openapi` where the rules read their fields; Secrets keep
//! metadata only (emrguard never holds secret data); any other kind is kept as metadata.

pub use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
pub use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
pub use k8s_openapi::api::batch::v1::{CronJob, Job};
pub use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, Pod, PodSpec, PodStatus, PodTemplateSpec, ReplicationController,
    ServiceAccount,
};
pub use k8s_openapi::api::networking::v1::NetworkPolicy;
pub use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::source::Located;
use serde::{Deserialize, Serialize};

/// A Secret without its data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecretMeta {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, rename = "type")]
    pub secret_type: Option<String>,
}

/// Any other Kubernetes object (CRDs, Services, ...): recognised, kept as metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtherObject {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
}

/// Karpenter's `EC2NodeClass` (`karpenter.k8s.aws/v1`, `v1beta1`): the launch settings of the
/// nodes its NodePools create. Only what the node-credential rules read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ec2NodeClass {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Ec2NodeClassSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ec2NodeClassSpec {
    #[serde(default)]
    pub metadata_options: Option<KarpenterMetadataOptions>,
    /// The node role (exclusive with `instance_profile`).
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub instance_profile: Option<String>,
    #[serde(default)]
    pub ami_family: Option<String>,
    /// Plain text (not base64), in the AMI family's format.
    #[serde(default)]
    pub user_data: Option<String>,
    /// `user_data` decoded by the loader (iptables rules it installs).
    #[serde(skip)]
    pub user_data_decoded: Option<crate::node::UserData>,
}

/// `EC2NodeClass.spec.metadataOptions` (camelCase, unlike EC2's `MetadataOptions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KarpenterMetadataOptions {
    #[serde(default)]
    pub http_endpoint: Option<String>,
    #[serde(default, rename = "httpProtocolIPv6")]
    pub http_protocol_ipv6: Option<String>,
    #[serde(default)]
    pub http_put_response_hop_limit: Option<i64>,
    #[serde(default)]
    pub http_tokens: Option<String>,
}

/// Karpenter's `NodePool` (`karpenter.sh/v1`, `v1beta1`): only the node class it launches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodePoolSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolSpec {
    #[serde(default)]
    pub template: NodePoolTemplate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolTemplate {
    #[serde(default)]
    pub spec: NodePoolTemplateSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolTemplateSpec {
    #[serde(default)]
    pub node_class_ref: Option<NodeClassRef>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeClassRef {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: String,
}

/// The annotation kube2iam and kiam read.
pub const KUBE2IAM_ANNOTATION: &str = "iam.amazonaws.com/role";
/// The IRSA annotation on service accounts.
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// Every Kubernetes object of the snapshot, by kind.
#[derive(Debug, Default, Clone)]
pub struct K8sObjects {
    pub namespaces: Vec<Located<Namespace>>,
    pub pods: Vec<Located<Pod>>,
    pub service_accounts: Vec<Located<ServiceAccount>>,
    pub config_maps: Vec<Located<ConfigMap>>,
    pub secrets: Vec<Located<SecretMeta>>,
    pub roles: Vec<Located<Role>>,
    pub cluster_roles: Vec<Located<ClusterRole>>,
    pub role_bindings: Vec<Located<RoleBinding>>,
    pub cluster_role_bindings: Vec<Located<ClusterRoleBinding>>,
    pub deployments: Vec<Located<Deployment>>,
    pub daemon_sets: Vec<Located<DaemonSet>>,
    pub stateful_sets: Vec<Located<StatefulSet>>,
    pub replica_sets: Vec<Located<ReplicaSet>>,
    pub jobs: Vec<Located<Job>>,
    pub cron_jobs: Vec<Located<CronJob>>,
    pub replication_controllers: Vec<Located<ReplicationController>>,
    pub mutating_webhooks: Vec<Located<MutatingWebhookConfiguration>>,
    pub validating_webhooks: Vec<Located<ValidatingWebhookConfiguration>>,
    pub network_policies: Vec<Located<NetworkPolicy>>,
    /// Karpenter `EC2NodeClass` objects (what Karpenter's nodes are launched with).
    pub ec2_node_classes: Vec<Located<Ec2NodeClass>>,
    /// Karpenter `NodePool` objects (which node class each pool launches).
    pub node_pools: Vec<Located<NodePool>>,
    pub other: Vec<Located<OtherObject>>,
}

/// A workload that runs pods: the object's kind, metadata and pod template.
pub struct Workload<'a> {
    pub kind: &'static str,
    pub metadata: &'a ObjectMeta,
    pub pod_metadata: Option<&'a ObjectMeta>,
    pub spec: Option<&'a PodSpec>,
    pub loc: &'a crate::source::SourceLoc,
}

impl K8sObjects {
    /// Pods and every pod-creating controller, with their pod specs.
    pub fn workloads(&self) -> Vec<Workload<'_>> {
        fn tpl(t: Option<&PodTemplateSpec>) -> (Option<&ObjectMeta>, Option<&PodSpec>) {
            match t {
                Some(t) => (t.metadata.as_ref(), t.spec.as_ref()),
                None => (None, None),
            }
        }
        let mut out = Vec::new();
        for p in &self.pods {
            out.push(Workload {
                kind: "Pod",
                metadata: &p.metadata,
                pod_metadata: Some(&p.metadata),
                spec: p.spec.as_ref(),
                loc: &p.loc,
            });
        }
        macro_rules! ctl {
            ($field:ident, $kind:literal, |$o:ident| $tpl:expr) => {
                for $o in &self.$field {
                    let (m, s) = tpl($tpl);
                    out.push(Workload {
                        kind: $kind,
                        metadata: &$o.metadata,
                        pod_metadata: m,
                        spec: s,
                        loc: &$o.loc,
                    });
                }
            };
        }
        ctl!(deployments, "Deployment", |o| Some(&o.spec.template));
        ctl!(daemon_sets, "DaemonSet", |o| Some(&o.spec.template));
        ctl!(stateful_sets, "StatefulSet", |o| Some(&o.spec.template));
        ctl!(replica_sets, "ReplicaSet", |o| o.spec.template.as_ref());
        ctl!(jobs, "Job", |o| o.spec.as_ref().map(|s| &s.template));
        ctl!(cron_jobs, "CronJob", |o| o
            .spec
            .job_template
            .spec
            .as_ref()
            .map(|j| &j.template));
        for o in &self.replication_controllers {
            let (m, s) = tpl(o.spec.as_ref().and_then(|s| s.template.as_ref()));
            out.push(Workload {
                kind: "ReplicationController",
                metadata: &o.metadata,
                pod_metadata: m,
                spec: s,
                loc: &o.loc,
            });
        }
        out
    }

    pub fn object_count(&self) -> usize {
        self.namespaces.len()
            + self.pods.len()
            + self.service_accounts.len()
            + self.config_maps.len()
            + self.secrets.len()
            + self.roles.len()
            + self.cluster_roles.len()
            + self.role_bindings.len()
            + self.cluster_role_bindings.len()
            + self.deployments.len()
            + self.daemon_sets.len()
            + self.stateful_sets.len()
            + self.replica_sets.len()
            + self.jobs.len()
            + self.cron_jobs.len()
            + self.replication_controllers.len()
            + self.mutating_webhooks.len()
            + self.validating_webhooks.len()
            + self.network_policies.len()
            + self.ec2_node_classes.len()
            + self.node_pools.len()
            + self.other.len()
    }
}

/// `namespace/name` of an object's metadata.
pub fn meta_key(m: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or("")
    )
}

pub fn annotation<'a>(m: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    m.annotations.as_ref()?.get(key).map(String::as_str)
}

pub fn label<'a>(m: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    m.labels.as_ref()?.get(key).map(String::as_str)
}

/// Service accounts EMR creates and manages (spec: never job submitters).
pub fn is_emr_service_account(name: &str) -> bool {
    name.starts_with("emr-containers-sa-") || name == "emr-container-sa-spark-livy"
}

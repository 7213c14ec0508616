//! What the webhook knows of the cluster: the EMR namespaces (and their labels) and the RBAC
//! objects, from a snapshot folder (`--snapshot DIR`) or the live cluster (`emrguard-watch`),
//! and the configuration.

use crate::config::AdmissionConfig;
use emrguard_model::k8s::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use emrguard_model::{EstateIndex, Located, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

/// The name label every namespace carries (Kubernetes 1.21+).
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Stands for "an EMR namespace emrguard has not heard of" (labelled after the snapshot): not a
/// valid namespace name, so no selector names it.
pub const ANY_EMR_NAMESPACE: &str = "<any EMR namespace>";

#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    /// Namespaces known to be EMR's: live virtual clusters, the configured list, and snapshot
    /// Namespaces carrying the EMR label.
    pub emr_namespaces: BTreeSet<String>,
    /// Labels of the snapshot's Namespaces.
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    pub roles: Vec<Located<Role>>,
    pub cluster_roles: Vec<Located<ClusterRole>>,
    pub role_bindings: Vec<Located<RoleBinding>>,
    pub cluster_role_bindings: Vec<Located<ClusterRoleBinding>>,
}

impl ClusterState {
    pub fn from_snapshot(snap: &Snapshot, config: &AdmissionConfig) -> ClusterState {
        let index = EstateIndex::build(snap);
        let label = config.settings.namespace_label.as_str();
        let mut emr_namespaces: BTreeSet<String> =
            index.emr_namespaces().map(str::to_owned).collect();
        emr_namespaces.extend(config.settings.emr_namespaces.iter().cloned());
        let mut namespace_labels = BTreeMap::new();
        for n in &snap.k8s.namespaces {
            let Some(name) = n.metadata.name.clone() else {
                continue;
            };
            let labels = n.metadata.labels.clone().unwrap_or_default();
            if labels.get(label).map(String::as_str) == Some("true") {
                emr_namespaces.insert(name.clone());
            }
            namespace_labels.insert(name, labels);
        }
        ClusterState {
            emr_namespaces,
            namespace_labels,
            roles: snap.k8s.roles.clone(),
            cluster_roles: snap.k8s.cluster_roles.clone(),
            role_bindings: snap.k8s.role_bindings.clone(),
            cluster_role_bindings: snap.k8s.cluster_role_bindings.clone(),
        }
    }

    /// Only the configured namespaces (no snapshot).
    pub fn from_config(config: &AdmissionConfig) -> ClusterState {
        ClusterState::from_snapshot(&Snapshot::default(), config)
    }

    pub fn is_emr_namespace(&self, ns: &str) -> bool {
        self.emr_namespaces.contains(ns)
    }

    /// The label sets a namespaceSelector is matched against to decide whether it reaches EMR
    /// namespaces: every known EMR namespace with its snapshot labels, the EMR label and the
    /// name label, plus [`ANY_EMR_NAMESPACE`] with the EMR label only (namespaces labelled
    /// after the snapshot). The generated ValidatingAdmissionPolicy uses the same sets.
    pub fn emr_label_sets(&self, emr_label: &str) -> Vec<BTreeMap<String, String>> {
        let mut out = Vec::new();
        for ns in &self.emr_namespaces {
            let mut l = self.namespace_labels.get(ns).cloned().unwrap_or_default();
            l.insert(NAME_LABEL.to_owned(), ns.clone());
            l.insert(emr_label.to_owned(), "true".to_owned());
            out.push(l);
        }
        let mut any = BTreeMap::new();
        any.insert(NAME_LABEL.to_owned(), ANY_EMR_NAMESPACE.to_owned());
        any.insert(emr_label.to_owned(), "true".to_owned());
        out.push(any);
        out
    }
}

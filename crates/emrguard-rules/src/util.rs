//! Small helpers shared by rules.

use emrguard_model::k8s::{annotation, ObjectMeta, PodSpec, KUBE2IAM_ANNOTATION};
use emrguard_model::k8s::{K8sObjects, Workload};
use emrguard_model::{Kind, PathStep, Ref};
use std::collections::HashSet;

/// A Ref for a Kubernetes object from its kind and metadata.
pub fn k8s_ref(kind: Kind, m: &ObjectMeta) -> Ref {
    Ref::k8s(
        kind,
        m.namespace.as_deref(),
        m.name.clone().unwrap_or_default(),
    )
}

/// A path step for a Kubernetes object.
pub fn k8s_step(kind: Kind, m: &ObjectMeta) -> PathStep {
    PathStep::new(kind, m.name.clone().unwrap_or_default()).namespace(m.namespace.as_deref())
}

/// The role a pod asks kube2iam/kiam for: the `iam.amazonaws.com/role` annotation of the pod
/// (or of a workload's pod template), else of the object itself. POD002 and the admission
/// webhook (`emrguard serve`) decide with this one predicate.
pub fn kube2iam_role<'a>(
    metadata: &'a ObjectMeta,
    pod_metadata: Option<&'a ObjectMeta>,
) -> Option<&'a str> {
    pod_metadata
        .and_then(|m| annotation(m, KUBE2IAM_ANNOTATION))
        .or_else(|| annotation(metadata, KUBE2IAM_ANNOTATION))
}

/// The pod spec runs in the node's network namespace (`hostNetwork: true`). POD003 and the
/// admission webhook decide with this one predicate.
pub fn uses_host_network(spec: Option<&PodSpec>) -> bool {
    spec.and_then(|s| s.host_network).unwrap_or(false)
}

/// Namespaces named in a message: the first few, then how many more.
pub const NAMESPACES_IN_MESSAGE: usize = 3;

/// `in EMR namespace `a``, `in EMR namespaces `a`, `b` and `c``, `in all 400 EMR namespaces
/// (cluster-wide)`, `in 12 EMR namespaces (`a`, `b`, `c` and 9 more)`.
pub fn scope_phrase(namespaces: &[String], cluster_wide: bool) -> String {
    let q: Vec<String> = namespaces.iter().map(|n| format!("`{n}`")).collect();
    match (q.as_slice(), cluster_wide) {
        ([], _) => "in no EMR namespace".to_owned(),
        ([one], true) => format!("cluster-wide, so in EMR namespace {one}"),
        ([_, _], true) => "in both EMR namespaces (cluster-wide)".to_owned(),
        (_, true) => format!("in all {} EMR namespaces (cluster-wide)", q.len()),
        ([one], false) => format!("in EMR namespace {one}"),
        (many, false) if many.len() <= NAMESPACES_IN_MESSAGE + 1 => {
            format!("in EMR namespaces {}", join_words(many))
        }
        (many, false) => format!(
            "in {} EMR namespaces ({}, {} and {} more)",
            many.len(),
            many.iter()
                .take(NAMESPACES_IN_MESSAGE - 1)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            many.get(NAMESPACES_IN_MESSAGE - 1)
                .cloned()
                .unwrap_or_default(),
            many.len() - NAMESPACES_IN_MESSAGE
        ),
    }
}

/// `a, b and c`.
pub fn join_words<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let head: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", head.join(", "), last.as_ref())
        }
    }
}

/// Workloads that are not controlled by another workload of the snapshot: a pod of a
/// ReplicaSet of a Deployment is reported once, on the Deployment. Owned objects whose owner is
/// missing from the snapshot are kept, so nothing is lost.
pub fn root_workloads(k: &K8sObjects) -> Vec<Workload<'_>> {
    let all = k.workloads();
    let present: HashSet<(String, String, String)> = all
        .iter()
        .map(|w| {
            (
                w.kind.to_owned(),
                w.metadata.namespace.clone().unwrap_or_default(),
                w.metadata.name.clone().unwrap_or_default(),
            )
        })
        .collect();
    all.into_iter()
        .filter(|w| {
            let owners = w.metadata.owner_references.as_deref().unwrap_or(&[]);
            !owners.iter().any(|o| {
                o.controller.unwrap_or(false)
                    && present.contains(&(
                        o.kind.clone(),
                        w.metadata.namespace.clone().unwrap_or_default(),
                        o.name.clone(),
                    ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(join_words::<&str>(&[]), "");
        assert_eq!(join_words(&["a"]), "a");
        assert_eq!(join_words(&["a", "b", "c"]), "a, b and c");
    }
}

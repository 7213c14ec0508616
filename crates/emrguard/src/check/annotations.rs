//! Suppressions from the `emrguard.io/ignore` annotation of Kubernetes objects. Each one covers
//! findings about the annotated object: their resource, their subject, or a step of their
//! evidence path (`emrguard_config::suppress::about_object`).

use emrguard_config::suppress::{self, Active};
use emrguard_model::k8s::{annotation, K8sObjects, ObjectMeta};
use emrguard_model::{Ref, SourceLoc};

/// Every object of the snapshot with its kind, metadata and location.
fn objects(k: &K8sObjects) -> Vec<(&str, &ObjectMeta, &SourceLoc)> {
    let mut v: Vec<(&str, &ObjectMeta, &SourceLoc)> = Vec::new();
    macro_rules! each {
        ($($field:ident => $kind:literal),* $(,)?) => {
            $( for o in &k.$field { v.push(($kind, &o.metadata, &o.loc)); } )*
        };
    }
    each!(
        namespaces => "Namespace",
        pods => "Pod",
        service_accounts => "ServiceAccount",
        config_maps => "ConfigMap",
        secrets => "Secret",
        roles => "Role",
        cluster_roles => "ClusterRole",
        role_bindings => "RoleBinding",
        cluster_role_bindings => "ClusterRoleBinding",
        deployments => "Deployment",
        daemon_sets => "DaemonSet",
        stateful_sets => "StatefulSet",
        replica_sets => "ReplicaSet",
        jobs => "Job",
        cron_jobs => "CronJob",
        replication_controllers => "ReplicationController",
        mutating_webhooks => "MutatingWebhookConfiguration",
        validating_webhooks => "ValidatingWebhookConfiguration",
        network_policies => "NetworkPolicy",
        ec2_node_classes => "EC2NodeClass",
        node_pools => "NodePool",
    );
    for o in &k.other {
        v.push((o.kind.as_str(), &o.metadata, &o.loc));
    }
    v
}

/// The suppressions the snapshot's annotations declare, and warnings for entries that are not
/// valid (no reason, unknown rule, bad date): those suppress nothing.
pub fn collect(k: &K8sObjects) -> (Vec<Active>, Vec<String>) {
    let mut sups = Vec::new();
    let mut warnings = Vec::new();
    for (kind, meta, loc) in objects(k) {
        let Some(value) = annotation(meta, suppress::ANNOTATION) else {
            continue;
        };
        // The object's own kind, to compare with findings' kinds (not a finding itself).
        let object = Ref {
            kind: kind.to_owned(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
            arn: None,
        };
        let place = || {
            let name = match &object.namespace {
                Some(ns) => format!("{ns}/{}", object.name),
                None => object.name.clone(),
            };
            let line = loc.line.map(|l| format!(":{l}")).unwrap_or_default();
            format!(
                "annotation {} on {kind} {name} ({}{line})",
                suppress::ANNOTATION,
                loc.file
            )
        };
        for entry in suppress::parse_annotation(value) {
            match entry {
                Err(e) => warnings.push(format!("{}: {e}; ignored", place())),
                Ok(e) => {
                    for rule in &e.rules {
                        match emrguard_rules::Selector::parse(rule) {
                            Ok(_) => sups.push(Active::from_annotation(
                                object.clone(),
                                &loc.file,
                                loc.line,
                                rule,
                                &e,
                            )),
                            Err(msg) => warnings.push(format!("{}: {msg}; ignored", place())),
                        }
                    }
                }
            }
        }
    }
    (sups, warnings)
}

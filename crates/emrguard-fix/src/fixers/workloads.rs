//! What runs in EMR namespaces besides EMR (TEN003 non-EMR workloads, POD003 host-network
//! pods, POD010 non-EMR IRSA roles on service accounts, RBAC020 mutating webhooks that select
//! EMR namespaces).
//!
//! An EMR namespace should hold EMR's objects only: a careful engineer moves the rest out
//! rather than hardening it in place, because whatever runs there shares the namespace's
//! ConfigMaps, Secrets, service accounts and pod templates with the jobs.
//!
//! - A bare pod (no controller) is deleted: it is a one-off (debugging, a sync job) that a
//!   person re-creates elsewhere if still needed. A controller (Deployment, StatefulSet, ...)
//!   moves to a namespace `<namespace>-apps`, with its ReplicaSets and pods, so the same
//!   workload runs outside EMR's namespace.
//! - `eks.amazonaws.com/role-arn` naming a non-EMR role is removed from the service account
//!   (the workload that needs the role moves with its service account).
//! - A mutating webhook gets `kubernetes.io/metadata.name NotIn [EMR namespaces]` in its
//!   `namespaceSelector` (ANDed with what it had), so it never rewrites EMR's pods.

use super::Fixer;
use crate::{sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use serde_json::{json, Value};

pub const FIXER: Fixer = Fixer {
    rules: &["TEN003", "POD003", "POD010", "RBAC020"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out: Vec<Fix> = Vec::new();
    let k = &fcx.cx.index.snap.k8s;
    for f in findings {
        let r = &f.resource;
        let ns = r.namespace.clone().unwrap_or_default();
        match (f.rule.as_str(), r.kind.as_str()) {
            ("TEN003" | "POD003", "Pod") => {
                let Some(p) = k.pods.iter().find(|p| {
                    p.metadata.name.as_deref() == Some(r.name.as_str())
                        && p.metadata.namespace.as_deref() == r.namespace.as_deref()
                }) else {
                    continue;
                };
                if p.metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|o| !o.is_empty())
                {
                    continue; // a controller's pod: its controller is the fix
                }
                let title = format!("Pod `{ns}/{}` deleted from the EMR namespace", r.name);
                if let Some(x) = out.iter_mut().find(|x| x.title == title) {
                    x.findings.push(f.id.clone());
                    continue;
                }
                out.push(Fix {
                    findings: vec![f.id.clone()],
                    title,
                    details: vec!["A bare pod (no controller) in an EMR namespace: deleted.".into()],
                    decisions: vec!["If the pod is still needed, run it in a namespace of its own, without `hostNetwork`.".into()],
                    artifacts: Vec::new(),
                    commands: vec![format!("kubectl delete pod {} -n {}", sh(&r.name), sh(&ns))],
                    edits: vec![Edit::at(&p.loc, "", Op::Remove)],
                });
            }
            ("TEN003", kind) => {
                if let Some(fix) = move_controller(fcx, f, kind, &ns) {
                    out.push(fix);
                }
            }
            ("POD010", "ServiceAccount") => {
                let Some(sa) = k.service_accounts.iter().find(|s| {
                    s.metadata.name.as_deref() == Some(r.name.as_str())
                        && s.metadata.namespace.as_deref() == r.namespace.as_deref()
                }) else {
                    continue;
                };
                let ann = "eks.amazonaws.com/role-arn";
                out.push(Fix {
                    findings: vec![f.id.clone()],
                    title: format!("ServiceAccount `{ns}/{}`: `{ann}` removed", r.name),
                    details: vec!["A non-EMR role no longer hangs off a service account in an EMR namespace.".into()],
                    decisions: vec!["Run the workload that needs the role (and its service account) in a namespace EMR does not use, and narrow the role's trust to it.".into()],
                    artifacts: Vec::new(),
                    commands: vec![format!("kubectl annotate serviceaccount {} -n {} {ann}-", sh(&r.name), sh(&ns))],
                    edits: vec![Edit::at(&sa.loc, &format!("/metadata/annotations/{}", crate::patch::token(ann)), Op::Remove)],
                });
            }
            ("RBAC020", _) => {
                if let Some(fix) = webhook_fix(fcx, f) {
                    out.push(fix);
                }
            }
            _ => {}
        }
    }
    out
}

fn move_controller(fcx: &FixContext<'_, '_, '_>, f: &Finding, kind: &str, ns: &str) -> Option<Fix> {
    let k = &fcx.cx.index.snap.k8s;
    let name = f.resource.name.as_str();
    let (loc, value) = match kind {
        "Deployment" => k
            .deployments
            .iter()
            .find(|d| {
                d.metadata.name.as_deref() == Some(name)
                    && d.metadata.namespace.as_deref() == Some(ns)
            })
            .map(|d| (&d.loc, serde_json::to_value(&d.value).ok()))?,
        "StatefulSet" => k
            .stateful_sets
            .iter()
            .find(|d| {
                d.metadata.name.as_deref() == Some(name)
                    && d.metadata.namespace.as_deref() == Some(ns)
            })
            .map(|d| (&d.loc, serde_json::to_value(&d.value).ok()))?,
        "DaemonSet" => k
            .daemon_sets
            .iter()
            .find(|d| {
                d.metadata.name.as_deref() == Some(name)
                    && d.metadata.namespace.as_deref() == Some(ns)
            })
            .map(|d| (&d.loc, serde_json::to_value(&d.value).ok()))?,
        _ => return None,
    };
    let mut value = value?;
    let target = format!("{ns}-apps");
    let mut edits = vec![Edit::at(loc, "/metadata/namespace", Op::Set(json!(target)))];
    // Its ReplicaSets and their pods move too (they would otherwise be left behind as roots).
    let mut owners = vec![(kind.to_owned(), name.to_owned())];
    for rs in k
        .replica_sets
        .iter()
        .filter(|x| x.metadata.namespace.as_deref() == Some(ns))
    {
        if rs
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o.iter().any(|o| o.kind == kind && o.name == name))
        {
            edits.push(Edit::at(
                &rs.loc,
                "/metadata/namespace",
                Op::Set(json!(target)),
            ));
            owners.push((
                "ReplicaSet".into(),
                rs.metadata.name.clone().unwrap_or_default(),
            ));
        }
    }
    for p in k
        .pods
        .iter()
        .filter(|x| x.metadata.namespace.as_deref() == Some(ns))
    {
        if p.metadata.owner_references.as_ref().is_some_and(|o| {
            o.iter()
                .any(|o| owners.iter().any(|(k, n)| &o.kind == k && &o.name == n))
        }) {
            edits.push(Edit::at(
                &p.loc,
                "/metadata/namespace",
                Op::Set(json!(target)),
            ));
        }
    }
    // The manifest for `kubectl apply`: the object in its new namespace, without server state.
    if let Some(m) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("namespace".into(), json!(target));
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "ownerReferences",
        ] {
            m.remove(key);
        }
    }
    if let Some(o) = value.as_object_mut() {
        o.remove("status");
    }
    let path = format!(
        "artifacts/k8s/{}-{}-{}.yaml",
        kind.to_ascii_lowercase(),
        crate::file_name(&target),
        crate::file_name(name)
    );
    Some(Fix {
        findings: vec![f.id.clone()],
        title: format!("{kind} `{ns}/{name}` moved to namespace `{target}`"),
        details: vec![format!("The workload runs in `{target}`, outside EMR's namespace, with the same spec.")],
        decisions: vec![format!("Create the service account, ConfigMaps and Secrets the workload uses in `{target}`; if it fronts an EMR endpoint, point it at the endpoint's service across namespaces.")],
        artifacts: vec![Artifact { path: path.clone(), contents: serde_yaml_ng::to_string(&value).unwrap_or_default() }],
        commands: vec![
            format!("kubectl create namespace {}", sh(&target)),
            format!("kubectl apply -f {path}"),
            format!("kubectl delete {} {} -n {}", kind.to_ascii_lowercase(), sh(name), sh(ns)),
        ],
        edits,
    })
}

fn webhook_fix(fcx: &FixContext<'_, '_, '_>, f: &Finding) -> Option<Fix> {
    let k = &fcx.cx.index.snap.k8s;
    let w = k
        .mutating_webhooks
        .iter()
        .find(|w| w.metadata.name.as_deref() == Some(f.resource.name.as_str()))?;
    let emr: Vec<String> = fcx.cx.index.emr_namespaces().map(str::to_owned).collect();
    let expr = json!({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": emr});
    let mut edits = Vec::new();
    let mut patch = Vec::new();
    for (i, hook) in w.webhooks.iter().flatten().enumerate() {
        let has = hook
            .namespace_selector
            .as_ref()
            .and_then(|s| s.match_expressions.as_ref())
            .is_some();
        edits.push(Edit::at(
            &w.loc,
            &format!("/webhooks/{i}/namespaceSelector/matchExpressions"),
            Op::Push(expr.clone()),
        ));
        if has {
            patch.push(json!({"op": "add", "path": format!("/webhooks/{i}/namespaceSelector/matchExpressions/-"), "value": expr}));
        } else if hook.namespace_selector.is_some() {
            patch.push(json!({"op": "add", "path": format!("/webhooks/{i}/namespaceSelector/matchExpressions"), "value": [expr]}));
        } else {
            patch.push(json!({"op": "add", "path": format!("/webhooks/{i}/namespaceSelector"), "value": {"matchExpressions": [expr]}}));
        }
    }
    let name = &f.resource.name;
    let path = format!(
        "artifacts/k8s/mutatingwebhookconfiguration-{}.patch.json",
        crate::file_name(name)
    );
    Some(Fix {
        findings: vec![f.id.clone()],
        title: format!("MutatingWebhookConfiguration `{name}`: EMR namespaces excluded"),
        details: vec![format!("Each webhook's `namespaceSelector` also requires `kubernetes.io/metadata.name NotIn [{}]`.", emr.join(", "))],
        decisions: vec!["If EMR's pods really need the sidecar, build it into the image or a pod template instead.".into()],
        artifacts: vec![Artifact { path: path.clone(), contents: crate::json(&json!(patch)) }],
        commands: vec![format!("kubectl patch mutatingwebhookconfiguration {} --type=json --patch-file {path}", sh(name))],
        edits,
    })
}

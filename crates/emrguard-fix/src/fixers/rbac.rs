//! Kubernetes RBAC of EMR namespaces (RBAC001–RBAC008 submitter capabilities, RBAC010 EMR's
//! roles beyond the published variants, RBAC011 EMR's role bound to others).
//!
//! For a submitter capability, keyed on (subject, capability) and covering every EMR namespace
//! (the RBAC graph says which bindings confer it there):
//!
//! - the subject is removed from each binding that confers the capability (the binding is
//!   deleted when it has no subject left). Submitters reach EMR through the EMR API, so
//!   nothing they need is lost; a binding of the built-in `edit` / `admin` ClusterRole becomes a
//!   binding of `view` instead, so the people keep read access;
//! - an EKS access-policy association (`AmazonEKSEditPolicy`, `AmazonEKSAdminPolicy`, ...) is
//!   replaced by `AmazonEKSViewPolicy` with the same access scope;
//! - a grant through `system:masters` or EMR's own objects is never touched (a person decides).
//!
//! EMR's own `emr-containers` Role is re-applied as eksctl publishes it (the variant EMR's
//! `eksctl create iamidentitymapping --service-name emr-containers` writes); for EMR's
//! client/driver Roles only the rules beyond the published bound are removed.

use super::Fixer;
use crate::{sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::{Finding, Located, Subject};
use emrguard_rbac::{BindingKind, Grant};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &[
        "RBAC001", "RBAC002", "RBAC003", "RBAC004", "RBAC005", "RBAC006", "RBAC007", "RBAC008",
        "RBAC010", "RBAC011",
    ],
    run,
};

fn same_subject(s: &Subject, kind: &str, name: &str, ns: Option<&str>) -> bool {
    s.kind.eq_ignore_ascii_case(kind)
        && s.name == name
        && (kind != "ServiceAccount" || s.namespace.as_deref() == ns)
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out = Vec::new();
    let caps: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.rule.as_str() < "RBAC009")
        .collect();
    out.extend(submitter_fixes(fcx, &caps));
    let emr: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.rule == "RBAC010")
        .collect();
    out.extend(emr_role_fixes(fcx, &emr));
    let bound: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.rule == "RBAC011")
        .collect();
    out.extend(emr_binding_fixes(fcx, &bound));
    // One change per binding: RBAC00x and RBAC011 may both take a subject out of one binding.
    let mut merged: Vec<Fix> = Vec::new();
    for f in out {
        match merged.iter_mut().find(|m| m.title == f.title) {
            Some(m) => m.findings.extend(f.findings),
            None => merged.push(f),
        }
    }
    super::rbac_usage::attach(fcx, findings, &mut merged);
    merged
}

/// Binding key: (kind, namespace, name).
type BindingKey = (String, String, String);
/// Per binding: the subjects to remove and the findings that closes.
type BindingChanges = BTreeMap<BindingKey, (BTreeSet<(String, String, String)>, BTreeSet<String>)>;

fn submitter_fixes(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let rbac = fcx.cx.rbac();
    let index = fcx.cx.index;
    let namespaces: Vec<&str> = index.emr_namespaces().collect();
    // Per binding: subjects to remove, and the findings this closes.
    let mut changes: BindingChanges = BTreeMap::new();
    let mut access: BTreeMap<(String, String), (Grant, BTreeSet<String>)> = BTreeMap::new();
    let mut untouched: BTreeSet<String> = BTreeSet::new();
    for f in findings {
        let (Some(subject), Some(cap)) = (&f.subject, f.capability) else {
            continue;
        };
        let mut grants: Vec<Grant> = Vec::new();
        for ns in &namespaces {
            for sc in rbac.graph.capabilities(ns) {
                if sc.subject.kind == subject.kind
                    && sc.subject.name == subject.name
                    && sc.subject.namespace == subject.namespace
                {
                    if let Some(ev) = sc.capabilities.get(&cap) {
                        grants.extend(ev.grants.iter().cloned());
                    }
                }
            }
        }
        if grants.is_empty() {
            untouched.insert(f.id.clone());
            continue;
        }
        let mut ok = true;
        for g in &grants {
            match g.binding.kind {
                BindingKind::RoleBinding | BindingKind::ClusterRoleBinding => {
                    let Some(direct) = binding_subject(fcx, g, subject) else {
                        ok = false;
                        continue;
                    };
                    let key = (
                        g.binding.kind.as_str().to_owned(),
                        g.binding.namespace.clone().unwrap_or_default(),
                        g.binding.name.clone(),
                    );
                    let e = changes.entry(key).or_default();
                    e.0.insert(direct);
                    e.1.insert(f.id.clone());
                }
                BindingKind::AccessPolicyAssociation => {
                    let principal = subject.arn.clone().unwrap_or_else(|| subject.name.clone());
                    let e = access
                        .entry((principal, g.binding.name.clone()))
                        .or_insert_with(|| (g.clone(), BTreeSet::new()));
                    e.1.insert(f.id.clone());
                }
                BindingKind::SuperuserGroup => ok = false,
            }
        }
        if !ok {
            untouched.insert(f.id.clone());
        }
    }
    let mut out = Vec::new();
    for ((kind, ns, name), (subjects, ids)) in changes {
        if let Some(fix) = binding_fix(fcx, &kind, &ns, &name, &subjects, &ids) {
            out.push(fix);
        }
    }
    for ((principal, policy), (g, ids)) in access {
        out.extend(access_fix(fcx, &principal, &policy, &g, &ids));
    }
    // A finding is closed only when every grant behind it is changed.
    for f in &mut out {
        f.findings.retain(|id| !untouched.contains(id));
    }
    out
}

/// The binding's own subject through which `subject` holds the grant: the subject itself, or
/// the group it is (for `system:authenticated`-style findings the group is the subject).
fn binding_subject(
    fcx: &FixContext<'_, '_, '_>,
    g: &Grant,
    subject: &Subject,
) -> Option<(String, String, String)> {
    let subjects = binding_subjects(
        fcx,
        g.binding.kind,
        g.binding.namespace.as_deref(),
        &g.binding.name,
    )?;
    subjects
        .iter()
        .find(|(k, n, ns)| same_subject(subject, k, n, Some(ns.as_str()).filter(|s| !s.is_empty())))
        .cloned()
}

fn binding_subjects(
    fcx: &FixContext<'_, '_, '_>,
    kind: BindingKind,
    ns: Option<&str>,
    name: &str,
) -> Option<Vec<(String, String, String)>> {
    let k = &fcx.cx.index.snap.k8s;
    let subs = match kind {
        BindingKind::RoleBinding => k
            .role_bindings
            .iter()
            .find(|b| {
                b.metadata.name.as_deref() == Some(name) && b.metadata.namespace.as_deref() == ns
            })?
            .subjects
            .clone(),
        BindingKind::ClusterRoleBinding => k
            .cluster_role_bindings
            .iter()
            .find(|b| b.metadata.name.as_deref() == Some(name))?
            .subjects
            .clone(),
        _ => return None,
    };
    Some(
        subs.unwrap_or_default()
            .into_iter()
            .map(|s| (s.kind, s.name, s.namespace.unwrap_or_default()))
            .collect(),
    )
}

fn manifest_path(kind: &str, ns: &str, name: &str) -> String {
    if ns.is_empty() {
        format!(
            "artifacts/k8s/{}-{}.yaml",
            kind.to_ascii_lowercase(),
            crate::file_name(name)
        )
    } else {
        format!(
            "artifacts/k8s/{}-{}-{}.yaml",
            kind.to_ascii_lowercase(),
            crate::file_name(ns),
            crate::file_name(name)
        )
    }
}

/// Remove `subjects` from the binding `kind ns/name`.
fn binding_fix(
    fcx: &FixContext<'_, '_, '_>,
    kind: &str,
    ns: &str,
    name: &str,
    subjects: &BTreeSet<(String, String, String)>,
    ids: &BTreeSet<String>,
) -> Option<Fix> {
    let k = &fcx.cx.index.snap.k8s;
    let (value, loc): (Value, &emrguard_model::SourceLoc) = if kind == "RoleBinding" {
        let b: &Located<_> = k.role_bindings.iter().find(|b| {
            b.metadata.name.as_deref() == Some(name) && b.metadata.namespace.as_deref() == Some(ns)
        })?;
        (serde_json::to_value(&b.value).ok()?, &b.loc)
    } else {
        let b = k
            .cluster_role_bindings
            .iter()
            .find(|b| b.metadata.name.as_deref() == Some(name))?;
        (serde_json::to_value(&b.value).ok()?, &b.loc)
    };
    let all = value
        .get("subjects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_removed = |s: &Value| {
        let g = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        subjects.contains(&(g("kind"), g("name"), g("namespace")))
    };
    let keep: Vec<Value> = all.iter().filter(|s| !is_removed(s)).cloned().collect();
    let removed: Vec<String> = subjects
        .iter()
        .map(|(k, n, _)| format!("{k} `{n}`"))
        .collect();
    let role_ref = value.get("roleRef").cloned().unwrap_or(Value::Null);
    let ref_kind = role_ref.get("kind").and_then(Value::as_str).unwrap_or("");
    let ref_name = role_ref.get("name").and_then(Value::as_str).unwrap_or("");
    let ns_flag = if ns.is_empty() {
        String::new()
    } else {
        format!(" -n {}", sh(ns))
    };
    let lower = kind.to_ascii_lowercase();
    let mut edits = Vec::new();
    let mut commands = Vec::new();
    let mut artifacts = Vec::new();
    let mut details = Vec::new();
    let downgrade = ref_kind == "ClusterRole" && matches!(ref_name, "edit" | "admin");
    if downgrade {
        // Same subjects, read-only: a new binding of `view` (roleRef cannot change in place).
        let new_name = format!("{name}-view");
        let mut m = clean_meta(&value, &new_name);
        crate::put(
            &mut m,
            "/roleRef",
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}),
        );
        crate::put(&mut m, "/subjects", json!(all));
        let path = manifest_path(kind, ns, &new_name);
        artifacts.push(Artifact {
            path: path.clone(),
            contents: serde_yaml_ng::to_string(&m).unwrap_or_default(),
        });
        commands.push(format!("kubectl apply -f {path}"));
        commands.push(format!("kubectl delete {lower} {}{ns_flag}", sh(name)));
        edits.push(Edit::at(loc, "/roleRef/name", Op::Set(json!("view"))));
        edits.push(Edit::at(loc, "/metadata/name", Op::Set(json!(new_name))));
        details.push(format!(
            "{kind} `{}` bound ClusterRole `{ref_name}`; it is replaced by `{new_name}`, binding `view` to the same subjects ({}).",
            qual(ns, name),
            removed.join(", ")
        ));
    } else if keep.is_empty() {
        commands.push(format!("kubectl delete {lower} {}{ns_flag}", sh(name)));
        edits.push(Edit::at(loc, "", Op::Remove));
        details.push(format!(
            "{kind} `{}` ({ref_kind} `{ref_name}`) is deleted: its only subjects ({}) must not hold what it grants.",
            qual(ns, name),
            removed.join(", ")
        ));
    } else {
        let mut m = clean_meta(&value, name);
        crate::put(&mut m, "/roleRef", role_ref.clone());
        crate::put(&mut m, "/subjects", json!(keep));
        let path = manifest_path(kind, ns, name);
        artifacts.push(Artifact {
            path: path.clone(),
            contents: serde_yaml_ng::to_string(&m).unwrap_or_default(),
        });
        commands.push(format!("kubectl apply -f {path}"));
        edits.push(Edit::at(loc, "/subjects", Op::Set(json!(keep))));
        details.push(format!(
            "{} removed from {kind} `{}` ({ref_kind} `{ref_name}`); its other subjects keep it.",
            removed.join(", "),
            qual(ns, name)
        ));
    }
    Some(Fix {
        findings: ids.iter().cloned().collect(),
        title: format!("{kind} `{}`: {} out", qual(ns, name), removed.join(", ")),
        details,
        decisions: vec![format!(
            "If one of {} is an administrator, declare it under [administrators] in emrguard.toml instead.",
            removed.join(", ")
        )],
        artifacts,
        commands,
        edits,
    })
}

fn qual(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

/// apiVersion/kind/metadata (name, namespace, labels) of an object, for an `apply` manifest.
fn clean_meta(v: &Value, name: &str) -> Value {
    let mut meta = json!({"name": name});
    if let Some(ns) = v.pointer("/metadata/namespace") {
        crate::put(&mut meta, "/namespace", ns.clone());
    }
    if let Some(l) = v.pointer("/metadata/labels") {
        crate::put(&mut meta, "/labels", l.clone());
    }
    json!({
        "apiVersion": v.get("apiVersion").cloned().unwrap_or(json!("rbac.authorization.k8s.io/v1")),
        "kind": v.get("kind").cloned().unwrap_or(Value::Null),
        "metadata": meta
    })
}

const VIEW_POLICY: &str = "AmazonEKSViewPolicy";

/// Replace an access-policy association with `AmazonEKSViewPolicy`, same scope.
fn access_fix(
    fcx: &FixContext<'_, '_, '_>,
    principal: &str,
    policy: &str,
    _g: &Grant,
    ids: &BTreeSet<String>,
) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let Some(list) = snap
        .associated_access_policies
        .iter()
        .find(|a| a.principal_arn == principal)
    else {
        return Vec::new();
    };
    let raw = serde_json::to_value(&list.value).unwrap_or(Value::Null);
    let Some(items) = raw
        .get("associatedAccessPolicies")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let Some((i, item)) = items.iter().enumerate().find(|(_, p)| {
        p.get("policyArn")
            .and_then(Value::as_str)
            .is_some_and(|a| a == policy || a.ends_with(&format!("/{policy}")))
    }) else {
        return Vec::new();
    };
    let policy_arn = item
        .get("policyArn")
        .and_then(Value::as_str)
        .unwrap_or(policy)
        .to_owned();
    let view_arn = format!(
        "arn:{}:eks::aws:cluster-access-policy/{VIEW_POLICY}",
        fcx.values.partition()
    );
    let scope = item
        .get("accessScope")
        .cloned()
        .unwrap_or(json!({"type": "cluster"}));
    let scope_arg = match scope.get("type").and_then(Value::as_str) {
        Some("namespace") => format!(
            "type=namespace,namespaces={}",
            scope
                .get("namespaces")
                .and_then(Value::as_array)
                .map(|a| a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","))
                .unwrap_or_default()
        ),
        _ => "type=cluster".to_owned(),
    };
    let c = fcx.values.cluster();
    let already_view = items
        .iter()
        .any(|p| p.get("policyArn").and_then(Value::as_str) == Some(view_arn.as_str()));
    let mut commands = Vec::new();
    if !already_view {
        commands.push(format!(
            "aws eks associate-access-policy --cluster-name {} --principal-arn {} --policy-arn {view_arn} --access-scope {}",
            sh(c), sh(principal), sh(&scope_arg)
        ));
    }
    commands.push(format!(
        "aws eks disassociate-access-policy --cluster-name {} --principal-arn {} --policy-arn {}",
        sh(c),
        sh(principal),
        sh(&policy_arn)
    ));
    let sub = format!("/associatedAccessPolicies/{i}");
    let edits = if already_view {
        vec![Edit::at(&list.loc, &sub, Op::Remove)]
    } else {
        vec![Edit::at(
            &list.loc,
            &format!("{sub}/policyArn"),
            Op::Set(json!(view_arn)),
        )]
    };
    vec![Fix {
        findings: ids.iter().cloned().collect(),
        title: format!("Access entry `{principal}`: `{}` replaced by `{VIEW_POLICY}`", policy_arn.rsplit('/').next().unwrap_or(&policy_arn)),
        details: vec![format!("The association keeps its scope ({scope_arg}); the principal keeps read access and submits jobs through the EMR API.")],
        decisions: Vec::new(),
        artifacts: Vec::new(),
        commands,
        edits,
    }]
}

/// RBAC010: EMR's roles back to the published bound.
fn emr_role_fixes(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let k = &fcx.cx.index.snap.k8s;
    let mut out = Vec::new();
    for f in findings {
        let r = &f.resource;
        if r.kind != "Role" {
            continue; // the ClusterRole variant: a person decides (Lake Formation setups)
        }
        let Some(role) = k.roles.iter().find(|x| {
            x.metadata.name.as_deref() == Some(r.name.as_str())
                && x.metadata.namespace == r.namespace
        }) else {
            continue;
        };
        let Some(emr) = emrguard_rbac::emr::classify_role("Role", &r.name) else {
            continue;
        };
        let rules = role.rules.clone().unwrap_or_default();
        let new_rules: Vec<Value> = if r.name == "emr-containers" {
            let Some(v) = emrguard_rbac::emr::variants()
                .iter()
                .find(|v| v.name == "eksctl-main" && v.applies_to == "emr-containers")
            else {
                continue;
            };
            v.rules
                .iter()
                .filter_map(|x| serde_json::to_value(x).ok())
                .collect()
        } else {
            let excess: BTreeSet<usize> = emrguard_rbac::emr::rules_beyond_published(emr, &rules)
                .iter()
                .map(|x| x.index)
                .collect();
            rules
                .iter()
                .enumerate()
                .filter(|(i, _)| !excess.contains(i))
                .filter_map(|(_, x)| serde_json::to_value(x).ok())
                .collect()
        };
        let ns = r.namespace.clone().unwrap_or_default();
        let raw = serde_json::to_value(&role.value).unwrap_or(Value::Null);
        let mut m = clean_meta(&raw, &r.name);
        crate::put(&mut m, "/rules", json!(new_rules));
        let path = manifest_path("Role", &ns, &r.name);
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("EMR's Role `{ns}/{}` as published", r.name),
            details: vec![if r.name == "emr-containers" {
                "Rules replaced by eksctl's published `emr-containers` Role (the one `eksctl create iamidentitymapping --service-name emr-containers` writes).".to_owned()
            } else {
                "Rules beyond the published bound removed; EMR's own rules kept.".to_owned()
            }],
            decisions: vec!["If another workload relied on the extra rules, give it a Role of its own.".into()],
            artifacts: vec![Artifact { path: path.clone(), contents: serde_yaml_ng::to_string(&m).unwrap_or_default() }],
            commands: vec![format!("kubectl apply -f {path}")],
            edits: vec![Edit::at(&role.loc, "/rules", Op::Set(json!(new_rules)))],
        });
    }
    out
}

/// RBAC011: EMR's Role bound to a non-EMR subject: the subject leaves the binding.
fn emr_binding_fixes(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut by_binding: BindingChanges = BTreeMap::new();
    for f in findings {
        // The binding is the step of kind RoleBinding/ClusterRoleBinding; the subject the finding's.
        let Some(step) = f
            .path
            .iter()
            .find(|s| s.kind == "RoleBinding" || s.kind == "ClusterRoleBinding")
        else {
            continue;
        };
        let Some(subject) = &f.subject else { continue };
        let kind = if step.kind == "RoleBinding" {
            BindingKind::RoleBinding
        } else {
            BindingKind::ClusterRoleBinding
        };
        let Some(subs) = binding_subjects(fcx, kind, step.namespace.as_deref(), &step.name) else {
            continue;
        };
        let Some(direct) = subs.iter().find(|(k, n, ns)| {
            same_subject(subject, k, n, Some(ns.as_str()).filter(|s| !s.is_empty()))
        }) else {
            continue;
        };
        let e = by_binding
            .entry((
                step.kind.clone(),
                step.namespace.clone().unwrap_or_default(),
                step.name.clone(),
            ))
            .or_default();
        e.0.insert(direct.clone());
        e.1.insert(f.id.clone());
    }
    by_binding
        .into_iter()
        .filter_map(|((kind, ns, name), (subs, ids))| {
            binding_fix(fcx, &kind, &ns, &name, &subs, &ids)
        })
        .collect()
}

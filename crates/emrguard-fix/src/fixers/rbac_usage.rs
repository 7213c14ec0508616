//! RBAC narrowed from usage (issue 13): when the snapshot holds EKS audit events, a subject
//! the RBAC fixer takes out of a binding is offered, per EMR namespace it made requests in, a
//! Role of what the audit log shows it doing there (audit2rbac's approach), written as a
//! manifest for a person to review (a DECIDE note; `apply.sh` leaves it commented out: the
//! window may not show everything the subject needs).
//!
//! Unlike audit2rbac:
//! - `resourceNames` never on `create` (the API server authorizes a create before the object
//!   has a name, so a named create rule never matches); on other verbs only when every use of
//!   that verb on that resource named an object;
//! - subresources are kept as such (`pods/log`, not `pods`);
//! - only the namespace's own requests, into a Role of that namespace (never a ClusterRole);
//! - a verb on a resource that would confer a submitter capability (as the RBAC engine judges
//!   it, names ignored) is left out and listed, even though it was used.

use crate::{Artifact, Fix, FixContext};
use emrguard_model::aws::usage::K8sAuditEvent;
use emrguard_model::k8s::{Role, RoleBinding};
use emrguard_model::{Capability, Finding, Located, SourceLoc, Subject};
use emrguard_rbac::{RbacGraph, RbacObjects};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// (apiGroup, resource, subresource).
type Target = (String, String, String);

/// What a subject did in a namespace: target → verb → the names used (None: some use named
/// no object).
#[derive(Debug, Default)]
struct Usage {
    uses: BTreeMap<Target, BTreeMap<String, Option<BTreeSet<String>>>>,
    requests: u64,
    first: String,
    last: String,
}

/// Add the usage Roles to `fixes`: for each subject of `findings`, to the first fix that
/// closes one of its findings.
pub fn attach(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding], fixes: &mut [Fix]) {
    let events = &fcx.cx.index.snap.k8s_audit;
    if events.is_empty() {
        return;
    }
    let namespaces: Vec<&str> = fcx.cx.index.emr_namespaces().collect();
    let mut done: BTreeSet<&Subject> = BTreeSet::new();
    for f in findings {
        let Some(s) = &f.subject else { continue };
        if !done.insert(s) {
            continue;
        }
        let ids: BTreeSet<&str> = findings
            .iter()
            .filter(|g| g.subject.as_ref() == Some(s))
            .map(|g| g.id.as_str())
            .collect();
        let Some(fix) = fixes
            .iter_mut()
            .find(|x| x.findings.iter().any(|id| ids.contains(id.as_str())))
        else {
            continue;
        };
        for ns in &namespaces {
            let u = usage(events, s, ns);
            if u.requests > 0 {
                add_role(fix, s, ns, &u);
            }
        }
    }
}

/// Whether the event was made by the subject (never for a subject the audit log cannot name,
/// or a built-in `system:` group: everyone's usage is no one's need).
fn made_by(e: &K8sAuditEvent, s: &Subject) -> bool {
    match (s.kind.as_str(), s.namespace.as_deref()) {
        ("User", _) => e.user.username == s.name,
        ("Group", _) if !s.name.starts_with("system:") => e.user.groups.contains(&s.name),
        ("ServiceAccount", Some(ns)) => {
            e.user.username.strip_prefix("system:serviceaccount:")
                == Some(&format!("{ns}:{}", s.name))
        }
        _ => false,
    }
}

fn usage(events: &[Located<K8sAuditEvent>], s: &Subject, ns: &str) -> Usage {
    let mut u = Usage::default();
    for e in events {
        // One stage per request; an impersonated request is authorized as someone else.
        if matches!(
            e.stage.as_deref(),
            Some("RequestReceived" | "ResponseStarted")
        ) || e.impersonated_user.is_some()
            || e.verb.is_empty()
            || !made_by(e, s)
        {
            continue;
        }
        let Some(o) = &e.object_ref else { continue };
        let (Some(res), Some(true)) = (
            o.resource.as_deref().filter(|r| !r.is_empty()),
            o.namespace.as_deref().map(|n| n == ns),
        ) else {
            continue;
        };
        // Refused (401/403) is not a use; any other outcome passed authorization.
        let code = e.response_status.as_ref().and_then(|r| r.code);
        if matches!(code, Some(401 | 403)) {
            continue;
        }
        let target = (
            o.api_group.clone().unwrap_or_default(),
            res.to_owned(),
            o.subresource.clone().unwrap_or_default(),
        );
        let names = u
            .uses
            .entry(target)
            .or_default()
            .entry(e.verb.clone())
            .or_insert_with(|| Some(BTreeSet::new()));
        match (o.name.as_deref().filter(|n| !n.is_empty()), names.as_mut()) {
            (Some(n), Some(set)) => {
                set.insert(n.to_owned());
            }
            (None, _) => *names = None,
            (Some(_), None) => {}
        }
        u.requests += 1;
        let t = e
            .stage_timestamp
            .as_deref()
            .or(e.request_received_timestamp.as_deref())
            .unwrap_or("");
        if u.first.is_empty() || t < u.first.as_str() {
            u.first = t.to_owned();
        }
        if t > u.last.as_str() {
            u.last = t.to_owned();
        }
    }
    u
}

fn resource_of((_, res, sub): &Target) -> String {
    if sub.is_empty() {
        res.clone()
    } else {
        format!("{res}/{sub}")
    }
}

/// The submitter capabilities each (target, verb) would confer in `ns`, by the RBAC engine:
/// one probe Role per pair, bound to a probe user of its own.
fn capabilities(ns: &str, pairs: &[(&Target, &str)]) -> Vec<BTreeSet<Capability>> {
    let loc = SourceLoc::new("emrguard-usage-probe", "", None);
    let mut roles = Vec::new();
    let mut bindings = Vec::new();
    for (i, (t, verb)) in pairs.iter().enumerate() {
        let name = format!("probe-{i}");
        let role = json!({
            "metadata": {"name": name, "namespace": ns},
            "rules": [{"apiGroups": [t.0], "resources": [resource_of(t)], "verbs": [verb]}]
        });
        let binding = json!({
            "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}]
        });
        if let (Ok(r), Ok(b)) = (
            serde_json::from_value::<Role>(role),
            serde_json::from_value::<RoleBinding>(binding),
        ) {
            roles.push(Located::new(r, loc.clone()));
            bindings.push(Located::new(b, loc.clone()));
        }
    }
    let g = RbacGraph::new(RbacObjects {
        roles: &roles,
        role_bindings: &bindings,
        ..Default::default()
    });
    let mut held: BTreeMap<String, BTreeSet<Capability>> = BTreeMap::new();
    for sc in g.capabilities(ns) {
        let caps = sc
            .capabilities
            .iter()
            .filter(|(_, ev)| ev.held())
            .map(|(c, _)| *c);
        held.entry(sc.subject.name.clone())
            .or_default()
            .extend(caps);
    }
    (0..pairs.len())
        .map(|i| held.get(&format!("probe-{i}")).cloned().unwrap_or_default())
        .collect()
}

/// The Role's rules (sorted), and what was used but left out (`verb resource (capability)`).
fn rules(ns: &str, u: &Usage) -> (Vec<Value>, Vec<String>) {
    let pairs: Vec<(&Target, &str)> = u
        .uses
        .iter()
        .flat_map(|(t, verbs)| verbs.keys().map(move |v| (t, v.as_str())))
        .collect();
    let caps = capabilities(ns, &pairs);
    let mut left_out = Vec::new();
    // target → names restriction → verbs.
    let mut grouped: BTreeMap<&Target, BTreeMap<Option<&BTreeSet<String>>, BTreeSet<&str>>> =
        BTreeMap::new();
    for ((t, verb), c) in pairs.iter().zip(&caps) {
        if !c.is_empty() {
            let names: Vec<&str> = c.iter().map(|c| c.slug()).collect();
            left_out.push(format!("{verb} {} ({})", resource_of(t), names.join(", ")));
            continue;
        }
        let names = if *verb == "create" {
            None
        } else {
            u.uses
                .get(*t)
                .and_then(|v| v.get(*verb))
                .and_then(|n| n.as_ref())
                .filter(|n| !n.is_empty())
        };
        grouped
            .entry(t)
            .or_default()
            .entry(names)
            .or_default()
            .insert(verb);
    }
    let mut out = Vec::new();
    for (t, by_names) in grouped {
        for (names, verbs) in by_names {
            let mut r = json!({
                "apiGroups": [t.0],
                "resources": [resource_of(t)],
                "verbs": verbs.iter().collect::<Vec<_>>(),
            });
            if let Some(n) = names {
                crate::put(&mut r, "/resourceNames", json!(n));
            }
            out.push(r);
        }
    }
    (out, left_out)
}

fn add_role(fix: &mut Fix, s: &Subject, ns: &str, u: &Usage) {
    let (rules, left_out) = rules(ns, u);
    let who = format!("{} `{}`", s.kind, s.name);
    let name = format!(
        "emrguard-usage-{}",
        crate::file_name(&s.name).to_ascii_lowercase()
    );
    let path = format!(
        "artifacts/k8s/usage-role-{}-{name}.yaml",
        crate::file_name(ns)
    );
    let left = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            "; used but left out (a submitter must not hold them): {}",
            left_out.join(", ")
        )
    };
    if rules.is_empty() {
        fix.details.push(format!(
            "The audit log shows {who} in `{ns}` using only what it must not hold ({} requests, {} … {}){left}.",
            u.requests, u.first, u.last
        ));
        return;
    }
    let mut subject = json!({"kind": s.kind, "name": s.name});
    match (s.kind.as_str(), &s.namespace) {
        ("ServiceAccount", Some(sns)) => crate::put(&mut subject, "/namespace", json!(sns)),
        _ => crate::put(
            &mut subject,
            "/apiGroup",
            json!("rbac.authorization.k8s.io"),
        ),
    }
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": ns},
        "rules": rules,
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [subject],
    });
    let contents = format!(
        "# What {} did in {ns} per the EKS audit log ({} requests, {} … {}).\n{}---\n{}",
        one_line(&who),
        u.requests,
        u.first,
        u.last,
        serde_yaml_ng::to_string(&role).unwrap_or_default(),
        serde_yaml_ng::to_string(&binding).unwrap_or_default()
    );
    fix.artifacts.push(Artifact {
        path: path.clone(),
        contents,
    });
    fix.details.push(format!(
        "`{path}`: a Role for {who} in `{ns}` with only the verbs and resources it used there ({} requests, {} … {}){left}.",
        u.requests, u.first, u.last
    ));
    fix.decisions.push(format!(
        "{who} keeps, in `{ns}`, what the audit log shows it using if `{path}` is applied: check the window ({} … {}) covers its work, then `kubectl apply -f {path}`{left}.",
        u.first, u.last
    ));
    fix.commands.push(format!(
        "# kubectl apply -f {path}   # after the DECIDE above"
    ));
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

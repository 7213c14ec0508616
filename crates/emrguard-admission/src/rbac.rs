//! `rbac-grants`: a Role, ClusterRole, RoleBinding or ClusterRoleBinding being written is
//! evaluated with the RBAC engine (`emrguard_rbac::RbacGraph`, the one `check`'s RBAC001–008
//! use) on the cluster state with the object in place. The request is refused when the object
//! gives a job submitter (`emrguard_rbac::is_exempt` is `None`) a capability in an EMR namespace
//! that it did not give before the write: on UPDATE the old object is evaluated too, so
//! narrowing a bad binding is never blocked.
//!
//! Bindings are judged on a graph of the binding alone and its role, with the rules the role has
//! after aggregation in the cluster state (the base graph, built once); Role and ClusterRole
//! writes rebuild the graph of the whole state with the role in place.
//!
//! Grants are attributed to the object through the engine's evidence: a binding's grants name
//! it; a role's grants name it as the role or, for ClusterRoles, as the role a rule was
//! aggregated from (`aggregationRule`), so a new `aggregate-to-edit` ClusterRole is caught
//! through every binding of `edit`.

use crate::decide::{Engine, Scope, Violation};
use crate::review::{Operation, RawObject, Request};
use crate::rules::AdmissionRule;
use crate::state::ANY_EMR_NAMESPACE;
use emrguard_model::k8s::{ClusterRole, ClusterRoleBinding, ObjectMeta, Role, RoleBinding};
use emrguard_model::{Capability, Located, SourceLoc, Subject};
use emrguard_rbac::{is_exempt, BindingKind, Grant, RbacGraph, RbacObjects, RoleKind};
use std::collections::{BTreeMap, BTreeSet};

enum Obj {
    Role(Role),
    ClusterRole(ClusterRole),
    RoleBinding(RoleBinding),
    ClusterRoleBinding(ClusterRoleBinding),
}

impl Obj {
    fn parse(resource: &str, raw: &RawObject) -> Result<Obj, String> {
        let e = |e: serde_json::Error| e.to_string();
        Ok(match resource {
            "roles" => Obj::Role(raw.parse().map_err(e)?),
            "clusterroles" => Obj::ClusterRole(raw.parse().map_err(e)?),
            "rolebindings" => Obj::RoleBinding(raw.parse().map_err(e)?),
            _ => Obj::ClusterRoleBinding(raw.parse().map_err(e)?),
        })
    }

    fn meta(&self) -> &ObjectMeta {
        match self {
            Obj::Role(o) => &o.metadata,
            Obj::ClusterRole(o) => &o.metadata,
            Obj::RoleBinding(o) => &o.metadata,
            Obj::ClusterRoleBinding(o) => &o.metadata,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Obj::Role(_) => "Role",
            Obj::ClusterRole(_) => "ClusterRole",
            Obj::RoleBinding(_) => "RoleBinding",
            Obj::ClusterRoleBinding(_) => "ClusterRoleBinding",
        }
    }
}

/// Which object grants are attributed to.
struct Target {
    kind: &'static str,
    namespace: Option<String>,
    name: String,
}

impl Target {
    fn matches(&self, g: &Grant) -> bool {
        let ns = self.namespace.as_deref();
        match self.kind {
            "RoleBinding" => {
                g.binding.kind == BindingKind::RoleBinding
                    && g.binding.name == self.name
                    && g.binding.namespace.as_deref() == ns
            }
            "ClusterRoleBinding" => {
                g.binding.kind == BindingKind::ClusterRoleBinding && g.binding.name == self.name
            }
            "Role" => {
                g.role.kind == RoleKind::Role
                    && g.role.name == self.name
                    && g.role.namespace.as_deref() == ns
            }
            _ => {
                (g.role.kind == RoleKind::ClusterRole && g.role.name == self.name)
                    || g.aggregated_from
                        .as_ref()
                        .is_some_and(|r| r.kind == RoleKind::ClusterRole && r.name == self.name)
            }
        }
    }
}

type Key = (String, Subject, Capability);
/// Per subject: the namespaces, capabilities and roles of its new grants.
type NewGrants = (BTreeSet<String>, BTreeSet<Capability>, BTreeSet<String>);

fn same_key(m: &ObjectMeta, ns: Option<&str>, name: &str) -> bool {
    m.name.as_deref() == Some(name) && m.namespace.as_deref().filter(|s| !s.is_empty()) == ns
}

fn loc() -> SourceLoc {
    SourceLoc::new("admission-request", "", None)
}

/// The graph of the cluster state with `obj` (if any) in place of the object named by `target`.
fn graph_with(engine: &Engine, target: &Target, obj: Option<Obj>) -> RbacGraph {
    let st = &engine.state;
    let ns = target.namespace.as_deref();
    let name = target.name.as_str();
    fn replaced<T: Clone>(
        base: &[Located<T>],
        keep: impl Fn(&T) -> bool,
        new: Option<T>,
    ) -> Vec<Located<T>> {
        let mut v: Vec<Located<T>> = base.iter().filter(|o| keep(&o.value)).cloned().collect();
        if let Some(n) = new {
            v.push(Located::new(n, loc()));
        }
        v
    }
    let (mut roles, mut cluster_roles, mut role_bindings, mut cluster_role_bindings) =
        (None, None, None, None);
    match (target.kind, obj) {
        ("Role", o) => {
            let new = match o {
                Some(Obj::Role(r)) => Some(r),
                _ => None,
            };
            roles = Some(replaced(
                &st.roles,
                |r| !same_key(&r.metadata, ns, name),
                new,
            ));
        }
        ("ClusterRole", o) => {
            let new = match o {
                Some(Obj::ClusterRole(r)) => Some(r),
                _ => None,
            };
            cluster_roles = Some(replaced(
                &st.cluster_roles,
                |r| !same_key(&r.metadata, None, name),
                new,
            ));
        }
        ("RoleBinding", o) => {
            let new = match o {
                Some(Obj::RoleBinding(r)) => Some(r),
                _ => None,
            };
            role_bindings = Some(replaced(
                &st.role_bindings,
                |r| !same_key(&r.metadata, ns, name),
                new,
            ));
        }
        (_, o) => {
            let new = match o {
                Some(Obj::ClusterRoleBinding(r)) => Some(r),
                _ => None,
            };
            cluster_role_bindings = Some(replaced(
                &st.cluster_role_bindings,
                |r| !same_key(&r.metadata, None, name),
                new,
            ));
        }
    }
    RbacGraph::new(RbacObjects {
        roles: roles.as_deref().unwrap_or(&st.roles),
        cluster_roles: cluster_roles.as_deref().unwrap_or(&st.cluster_roles),
        role_bindings: role_bindings.as_deref().unwrap_or(&st.role_bindings),
        cluster_role_bindings: cluster_role_bindings
            .as_deref()
            .unwrap_or(&st.cluster_role_bindings),
        access_policies: &[],
    })
}

/// Submitter capabilities attributable to `target`, per (namespace, subject, capability), with
/// the grant that carries them.
fn attributable(
    engine: &Engine,
    graph: &RbacGraph,
    namespaces: &[String],
    target: &Target,
) -> BTreeMap<Key, Grant> {
    let mut out = BTreeMap::new();
    for ns in namespaces {
        for sc in graph.capabilities(ns) {
            if is_exempt(&sc.subject, &engine.config.exemptions).is_some() {
                continue;
            }
            for (cap, ev) in &sc.capabilities {
                if let Some(g) = ev.grants.iter().find(|g| target.matches(g)) {
                    out.insert((ns.clone(), sc.subject.clone(), *cap), g.clone());
                }
            }
        }
    }
    out
}

/// `ClusterRole edit (aggregated from ClusterRole system:aggregate-to-edit)`.
fn via_of(g: &Grant) -> String {
    match &g.aggregated_from {
        Some(from) => format!(
            "{} {} (aggregated from {} {})",
            g.role.kind.as_str(),
            g.role.name,
            from.kind.as_str(),
            from.name
        ),
        None => format!("{} {}", g.role.kind.as_str(), g.role.name),
    }
}

/// The RBAC graph of the cluster state, built once per engine (bindings are judged against it
/// without rebuilding it).
pub struct BaseGraph(pub RbacGraph);

impl std::fmt::Debug for BaseGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BaseGraph")
    }
}

impl BaseGraph {
    pub fn new(st: &crate::state::ClusterState) -> BaseGraph {
        BaseGraph(RbacGraph::new(RbacObjects {
            roles: &st.roles,
            cluster_roles: &st.cluster_roles,
            role_bindings: &st.role_bindings,
            cluster_role_bindings: &st.cluster_role_bindings,
            access_policies: &[],
        }))
    }
}

/// A binding's grants, evaluated on a graph of just the binding and its role with the rules the
/// role has after aggregation in the cluster state (`None`: the role is unknown). Returns the
/// grants and, per rule index, the role the rule was aggregated from.
fn binding_grants(
    engine: &Engine,
    obj: Obj,
    namespaces: &[String],
    target: &Target,
) -> Option<BTreeMap<Key, String>> {
    let (rr, ns) = match &obj {
        Obj::RoleBinding(b) => (b.role_ref.clone(), target.namespace.clone()),
        Obj::ClusterRoleBinding(b) => (b.role_ref.clone(), None),
        _ => return None,
    };
    let rk = if rr.kind == "Role" {
        RoleKind::Role
    } else {
        RoleKind::ClusterRole
    };
    let effective = engine.base.0.effective_rules(rk, ns.as_deref(), &rr.name)?;
    let rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule> =
        effective.iter().map(|e| e.rule.clone()).collect();
    let meta = ObjectMeta {
        name: Some(rr.name.clone()),
        namespace: if rk == RoleKind::Role {
            ns.clone()
        } else {
            None
        },
        ..Default::default()
    };
    let (mut roles, mut cluster_roles, mut rbs, mut crbs) = (vec![], vec![], vec![], vec![]);
    if rk == RoleKind::Role {
        roles.push(Located::new(
            Role {
                metadata: meta,
                rules: Some(rules),
            },
            loc(),
        ));
    } else {
        cluster_roles.push(Located::new(
            ClusterRole {
                metadata: meta,
                rules: Some(rules),
                aggregation_rule: None,
            },
            loc(),
        ));
    }
    match obj {
        Obj::RoleBinding(b) => rbs.push(Located::new(b, loc())),
        Obj::ClusterRoleBinding(b) => crbs.push(Located::new(b, loc())),
        _ => {}
    }
    let g = RbacGraph::new(RbacObjects {
        roles: &roles,
        cluster_roles: &cluster_roles,
        role_bindings: &rbs,
        cluster_role_bindings: &crbs,
        access_policies: &[],
    });
    let grants = attributable(engine, &g, namespaces, target);
    Some(
        grants
            .into_iter()
            .map(|(k, gr)| {
                let from = effective
                    .get(gr.rule_index)
                    .map(|e| e.source.clone())
                    .filter(|src| src.name != rr.name || src.kind != rk);
                let via = match from {
                    Some(src) => format!(
                        "{} {} (aggregated from {} {})",
                        gr.role.kind.as_str(),
                        gr.role.name,
                        src.kind.as_str(),
                        src.name
                    ),
                    None => via_of(&gr),
                };
                (k, via)
            })
            .collect(),
    )
}

fn subject_text(s: &Subject) -> String {
    match &s.namespace {
        Some(ns) => format!("{} {ns}/{}", s.kind, s.name),
        None => format!("{} {}", s.kind, s.name),
    }
}

pub(crate) fn evaluate(
    engine: &Engine,
    req: &Request,
    scope: Scope,
    out: &mut Vec<Violation>,
) -> Result<(), String> {
    let resource = req.resource.resource.as_str();
    let raw = req
        .object
        .as_ref()
        .ok_or_else(|| format!("{} request without an object", req.kind.kind))?;
    let new = Obj::parse(resource, raw)?;
    let old = match (&req.operation, req.old_object.as_ref()) {
        (Operation::Update, Some(o)) => Some(Obj::parse(resource, o)?),
        _ => None,
    };
    let kind = new.kind();
    let name = new
        .meta()
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| req.name.clone());
    let namespace = match kind {
        "Role" | "RoleBinding" => Some(
            new.meta()
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| req.namespace.clone())
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let namespaces: Vec<String> = match &namespace {
        Some(ns) => {
            if scope == Scope::EmrNamespaces || engine.state.is_emr_namespace(ns) {
                vec![ns.clone()]
            } else {
                return Ok(());
            }
        }
        None if kind == "ClusterRoleBinding" => vec![ANY_EMR_NAMESPACE.to_owned()],
        None => engine
            .state
            .emr_namespaces
            .iter()
            .cloned()
            .chain([ANY_EMR_NAMESPACE.to_owned()])
            .collect(),
    };
    let target = Target {
        kind,
        namespace: namespace.clone(),
        name: name.clone(),
    };
    let display = match &namespace {
        Some(ns) => format!("{kind} `{ns}/{name}`"),
        None => format!("{kind} `{name}`"),
    };

    let is_binding = matches!(new, Obj::RoleBinding(_) | Obj::ClusterRoleBinding(_));
    let (granted, before): (BTreeMap<Key, String>, BTreeMap<Key, String>) = if is_binding {
        let (rr, subjects) = match &new {
            Obj::RoleBinding(b) => (b.role_ref.clone(), b.subjects.clone()),
            Obj::ClusterRoleBinding(b) => (b.role_ref.clone(), b.subjects.clone()),
            _ => return Ok(()),
        };
        let Some(granted) = binding_grants(engine, new, &namespaces, &target) else {
            // A binding to a role emrguard does not know cannot be evaluated.
            let submitters: Vec<String> = subjects
                .iter()
                .flatten()
                .map(|s| Subject {
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    namespace: s.namespace.clone().or_else(|| {
                        (s.kind == "ServiceAccount")
                            .then(|| namespace.clone())
                            .flatten()
                    }),
                    arn: None,
                    iam_principals: vec![],
                })
                .filter(|s| is_exempt(s, &engine.config.exemptions).is_none())
                .map(|s| subject_text(&s))
                .collect();
            if !submitters.is_empty() {
                out.push(Violation {
                    rule: AdmissionRule::RbacGrants,
                    weak: engine.config.settings.unknown_roles == crate::config::UnknownRoles::Warn,
                    message: format!(
                        "{display} binds {} to {} `{}`, which emrguard's cluster state (the --snapshot) does not contain, so what it grants in EMR namespaces cannot be checked; refresh the snapshot and retry",
                        submitters.join(", "),
                        rr.kind,
                        rr.name
                    ),
                });
            }
            return Ok(());
        };
        if granted.is_empty() {
            return Ok(());
        }
        let before = old
            .and_then(|o| binding_grants(engine, o, &namespaces, &target))
            .unwrap_or_default();
        (granted, before)
    } else {
        // A role changes what every binding of it (and, for ClusterRoles, of every role that
        // aggregates it) grants: evaluate the whole state with the role in place.
        let after = graph_with(engine, &target, Some(new));
        let granted: BTreeMap<Key, String> = attributable(engine, &after, &namespaces, &target)
            .into_iter()
            .map(|(k, g)| (k, via_of(&g)))
            .collect();
        if granted.is_empty() {
            return Ok(());
        }
        let before = match old {
            Some(o) => {
                let g = graph_with(engine, &target, Some(o));
                attributable(engine, &g, &namespaces, &target)
                    .into_iter()
                    .map(|(k, g)| (k, via_of(&g)))
                    .collect()
            }
            None => BTreeMap::new(),
        };
        (granted, before)
    };
    // subject → (namespaces, capabilities, via)
    let mut by_subject: BTreeMap<Subject, NewGrants> = BTreeMap::new();
    for (key, via) in granted {
        if before.contains_key(&key) {
            continue;
        }
        let (ns, subject, cap) = key;
        let e = by_subject.entry(subject).or_default();
        e.0.insert(ns);
        e.1.insert(cap);
        e.2.insert(via);
    }
    for (subject, (nss, caps, via)) in by_subject {
        let caps: Vec<&str> = caps.iter().map(|c| c.slug()).collect();
        let where_ = if nss.contains(ANY_EMR_NAMESPACE) {
            "every EMR namespace".to_owned()
        } else {
            let list: Vec<String> = nss.iter().map(|n| format!("`{n}`")).collect();
            format!("EMR namespace {}", list.join(", "))
        };
        out.push(Violation {
            rule: AdmissionRule::RbacGrants,
            weak: false,
            message: format!(
                "{display} would give {} (a job submitter) the capabilit{} {} in {where_} through {}; job submitters must not hold them there (check rules RBAC001-RBAC008)",
                subject_text(&subject),
                if caps.len() == 1 { "y" } else { "ies" },
                caps.join(", "),
                via.into_iter().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok(())
}

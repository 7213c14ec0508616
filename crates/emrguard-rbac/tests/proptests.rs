//! Property tests against naive reference implementations:
//! - rule matching (through `RbacGraph::can`) against a direct port of the API server's
//!   `RuleAllows` helpers, with RoleBinding/ClusterRoleBinding scoping;
//! - ClusterRole aggregation against a naive fixpoint of the controller.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use emrguard_model::{Located, SourceLoc};
use emrguard_rbac::{Identity, RbacGraph, RbacObjects, Request, RoleKind};
use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

// ---------- reference matcher (evaluation_helpers.go, verbatim logic) ----------

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}
fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .flatten()
        .any(|g| g == "*" || g == group)
}
fn resource_matches(rule: &PolicyRule, combined: &str, sub: &str) -> bool {
    for r in rule.resources.iter().flatten() {
        if r == "*" || r == combined {
            return true;
        }
        if sub.is_empty() {
            continue;
        }
        if r.len() == sub.len() + 2 && r.starts_with("*/") && r.ends_with(sub) {
            return true;
        }
    }
    false
}
fn name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = rule.resource_names.as_deref().unwrap_or_default();
    names.is_empty() || names.iter().any(|n| n == name)
}
fn rule_allows(
    rule: &PolicyRule,
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
) -> bool {
    let combined = if sub.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}/{sub}")
    };
    verb_matches(rule, verb)
        && group_matches(rule, group)
        && resource_matches(rule, &combined, sub)
        && name_matches(rule, name)
}

// ---------- generators ----------

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_owned)
}

const VERBS: &[&str] = &[
    "get",
    "list",
    "create",
    "update",
    "impersonate",
    "*",
    "describe",
    "frob",
];
const GROUPS: &[&str] = &["", "apps", "batch", "*", "rbac.authorization.k8s.io"];
const RESOURCES: &[&str] = &[
    "pods",
    "pods/exec",
    "pods/*",
    "*",
    "*/exec",
    "*/scale",
    "secrets",
    "deployments",
    "deployments/scale",
    "*/",
];
const NAMES: &[&str] = &["a", "b", ""];

fn rule_strategy() -> impl Strategy<Value = PolicyRule> {
    (
        proptest::collection::vec(pick(VERBS), 0..4),
        proptest::collection::vec(pick(GROUPS), 0..3),
        proptest::collection::vec(pick(RESOURCES), 0..4),
        proptest::option::of(proptest::collection::vec(pick(NAMES), 0..3)),
    )
        .prop_map(|(verbs, groups, resources, names)| PolicyRule {
            verbs,
            api_groups: Some(groups),
            resources: Some(resources),
            resource_names: names,
            non_resource_urls: None,
        })
}

#[derive(Debug, Clone)]
struct Req {
    verb: String,
    group: String,
    resource: String,
    sub: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

fn req_strategy() -> impl Strategy<Value = Req> {
    (
        pick(&[
            "get",
            "list",
            "create",
            "update",
            "impersonate",
            "describe",
            "watch",
            "*",
        ]),
        pick(&["", "apps", "batch", "rbac.authorization.k8s.io", "other"]),
        pick(&["pods", "secrets", "deployments", "users"]),
        proptest::option::of(pick(&["exec", "scale", "*", "", "log"])),
        proptest::option::of(pick(&["a", "b", "c", ""])),
        proptest::option::of(pick(&["n", "m"])),
    )
        .prop_map(|(verb, group, resource, sub, name, namespace)| Req {
            verb,
            group,
            resource,
            sub,
            name,
            namespace,
        })
}

fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(Into::into),
        ..Default::default()
    }
}

fn loc(s: &str) -> SourceLoc {
    SourceLoc::new(s, "", None)
}

fn user_subject() -> Subject {
    Subject {
        kind: "User".into(),
        name: "u".into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        namespace: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A Role bound by a RoleBinding in `n`: allowed iff the request is in `n` and some rule allows it.
    #[test]
    fn role_binding_matches_reference(rules in proptest::collection::vec(rule_strategy(), 0..4), req in req_strategy()) {
        let roles = vec![Located::new(Role { metadata: meta("r", Some("n")), rules: Some(rules.clone()) }, loc("r"))];
        let rbs = vec![Located::new(RoleBinding {
            metadata: meta("rb", Some("n")),
            role_ref: RoleRef { api_group: None, kind: "Role".into(), name: "r".into() },
            subjects: Some(vec![user_subject()]),
        }, loc("rb"))];
        let g = RbacGraph::new(RbacObjects { roles: &roles, role_bindings: &rbs, ..Default::default() });
        let mut r = Request::new(&req.verb, &req.group, &req.resource);
        r.subresource = req.sub.as_deref();
        r.name = req.name.as_deref();
        r.namespace = req.namespace.as_deref();
        let got = g.can(&Identity::user("u"), &r);
        let sub = req.sub.as_deref().unwrap_or("");
        let want = req.namespace.as_deref() == Some("n")
            && rules.iter().any(|rule| rule_allows(rule, &req.verb, &req.group, &req.resource, sub, req.name.as_deref().unwrap_or("")));
        prop_assert_eq!(got.is_some(), want);
        if let Some(grant) = got {
            let rule = &rules[grant.rule_index];
            prop_assert!(rule_allows(rule, &req.verb, &req.group, &req.resource, sub, req.name.as_deref().unwrap_or("")));
        }
    }

    /// A ClusterRole bound cluster-wide: allowed in every namespace and for cluster-scoped requests.
    #[test]
    fn cluster_role_binding_matches_reference(rules in proptest::collection::vec(rule_strategy(), 0..4), req in req_strategy()) {
        let crs = vec![Located::new(ClusterRole { metadata: meta("cr", None), rules: Some(rules.clone()), aggregation_rule: None }, loc("cr"))];
        let crbs = vec![Located::new(ClusterRoleBinding {
            metadata: meta("crb", None),
            role_ref: RoleRef { api_group: None, kind: "ClusterRole".into(), name: "cr".into() },
            subjects: Some(vec![Subject { kind: "Group".into(), name: "g".into(), api_group: None, namespace: None }]),
        }, loc("crb"))];
        let g = RbacGraph::new(RbacObjects { cluster_roles: &crs, cluster_role_bindings: &crbs, ..Default::default() });
        let mut r = Request::new(&req.verb, &req.group, &req.resource);
        r.subresource = req.sub.as_deref();
        r.name = req.name.as_deref();
        r.namespace = req.namespace.as_deref();
        let got = g.can(&Identity::user("u").with_groups(["g"]), &r).is_some();
        let want = rules.iter().any(|rule| rule_allows(rule, &req.verb, &req.group, &req.resource, req.sub.as_deref().unwrap_or(""), req.name.as_deref().unwrap_or("")));
        prop_assert_eq!(got, want);
        // who-can agrees with can.
        let who = g.subjects_with(&r);
        prop_assert_eq!(who.iter().any(|(s, _)| s.kind == "Group" && s.name == "g"), want);
    }
}

// ---------- aggregation ----------

const KEYS: &[&str] = &["a", "b", "c"];
const VALUES: &[&str] = &["1", "2"];

#[derive(Debug, Clone)]
enum Sel {
    Labels(Vec<(String, String)>),
    Expr(String, &'static str, Vec<String>),
}

fn sel_strategy() -> impl Strategy<Value = Sel> {
    prop_oneof![
        proptest::collection::vec((pick(KEYS), pick(VALUES)), 0..2).prop_map(Sel::Labels),
        (
            pick(KEYS),
            proptest::sample::select(&["In", "NotIn", "Exists", "DoesNotExist"][..]),
            proptest::collection::vec(pick(VALUES), 1..3)
        )
            .prop_map(|(k, op, vs)| {
                let vs = if op == "Exists" || op == "DoesNotExist" {
                    vec![]
                } else {
                    vs
                };
                Sel::Expr(k, op, vs)
            }),
    ]
}

#[derive(Debug, Clone)]
struct Cr {
    labels: BTreeMap<String, String>,
    selectors: Option<Vec<Sel>>,
}

fn cr_strategy() -> impl Strategy<Value = Cr> {
    (
        proptest::collection::btree_map(pick(KEYS), pick(VALUES), 0..3),
        proptest::option::of(proptest::collection::vec(sel_strategy(), 0..3)),
    )
        .prop_map(|(labels, selectors)| Cr { labels, selectors })
}

fn naive_selects(sel: &Sel, labels: &BTreeMap<String, String>) -> bool {
    match sel {
        Sel::Labels(kv) => kv.iter().all(|(k, v)| labels.get(k) == Some(v)),
        Sel::Expr(k, op, vs) => {
            let v = labels.get(k);
            match *op {
                "In" => v.is_some_and(|v| vs.contains(v)),
                "NotIn" => v.is_none_or(|v| !vs.contains(v)),
                "Exists" => v.is_some(),
                _ => v.is_none(),
            }
        }
    }
}

fn to_selector(sel: &Sel) -> LabelSelector {
    match sel {
        Sel::Labels(kv) => LabelSelector {
            match_labels: Some(kv.iter().cloned().collect()),
            match_expressions: None,
        },
        Sel::Expr(k, op, vs) => LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: k.clone(),
                operator: op.to_string(),
                values: if vs.is_empty() {
                    None
                } else {
                    Some(vs.clone())
                },
            }]),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Effective rules (as a set of (source role, rule index)) equal the least fixpoint of
    /// eff(R) = own(R) ∪ ⋃ { eff(S) : S ≠ R selected by R }.
    #[test]
    fn aggregation_matches_naive_fixpoint(crs in proptest::collection::vec(cr_strategy(), 1..7)) {
        let names: Vec<String> = (0..crs.len()).map(|i| format!("cr{i}")).collect();
        // Each role has one own rule, verb v<i>, so sources are identifiable.
        let objects: Vec<Located<ClusterRole>> = crs.iter().enumerate().map(|(i, c)| {
            let mut m = meta(&names[i], None);
            m.labels = Some(c.labels.clone());
            Located::new(ClusterRole {
                metadata: m,
                rules: Some(vec![PolicyRule { verbs: vec![format!("v{i}")], api_groups: Some(vec![String::new()]), resources: Some(vec!["pods".into()]), ..Default::default() }]),
                aggregation_rule: c.selectors.as_ref().map(|s| AggregationRule { cluster_role_selectors: Some(s.iter().map(to_selector).collect()) }),
            }, loc(&names[i]))
        }).collect();
        let g = RbacGraph::new(RbacObjects { cluster_roles: &objects, ..Default::default() });

        let mut eff: Vec<BTreeSet<usize>> = (0..crs.len()).map(|i| BTreeSet::from([i])).collect();
        loop {
            let mut changed = false;
            for (i, c) in crs.iter().enumerate() {
                let Some(sels) = &c.selectors else { continue };
                for (j, other) in crs.iter().enumerate() {
                    if i == j || !sels.iter().any(|s| naive_selects(s, &other.labels)) {
                        continue;
                    }
                    let add: Vec<usize> = eff[j].iter().copied().filter(|x| !eff[i].contains(x)).collect();
                    if !add.is_empty() {
                        changed = true;
                        eff[i].extend(add);
                    }
                }
            }
            if !changed { break; }
        }
        for (i, name) in names.iter().enumerate() {
            let got: BTreeSet<usize> = g.effective_rules(RoleKind::ClusterRole, None, name).unwrap()
                .iter()
                .map(|r| r.source.name.trim_start_matches("cr").parse::<usize>().unwrap())
                .collect();
            prop_assert_eq!(&got, &eff[i], "role {}", name);
        }
    }
}

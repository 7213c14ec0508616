//! The Kubernetes bootstrap roles (`admin`, `edit`, `view` aggregate their rules), with the
//! aggregated roles' rules blanked as in offline manifests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

mod common;

use common::{role_binding, Objects};
use emrguard_model::Capability::{self, *};
use emrguard_rbac::{BindingKind, Identity, RbacGraph, Request, RoleKind};
use std::collections::BTreeSet;

fn bootstrap() -> Objects {
    let mut o = Objects::from_fixture("bootstrap/cluster-roles.yaml");
    for cr in &mut o.cluster_roles {
        if cr.value.aggregation_rule.is_some() {
            cr.value.rules = None;
        }
    }
    assert!(o
        .cluster_roles
        .iter()
        .any(|c| c.metadata.name.as_deref() == Some("edit")));
    o
}

fn with_bindings() -> RbacGraph {
    let mut o = bootstrap();
    o.add(
        "b.yaml",
        &role_binding("emr", "e", "ClusterRole", "edit", "User", "editor"),
    );
    o.add(
        "b.yaml",
        &role_binding("emr", "v", "ClusterRole", "view", "User", "viewer"),
    );
    o.add(
        "b.yaml",
        &role_binding("emr", "a", "ClusterRole", "admin", "User", "adminuser"),
    );
    o.graph()
}

fn caps_of(g: &RbacGraph, ns: &str, kind: &str, name: &str) -> BTreeSet<Capability> {
    g.capabilities(ns)
        .into_iter()
        .filter(|s| s.subject.kind == kind && s.subject.name == name)
        .flat_map(|s| {
            s.capabilities
                .into_iter()
                .filter(|(_, e)| e.held())
                .map(|(c, _)| c)
        })
        .collect()
}

#[test]
fn edit_view_admin_capabilities() {
    let g = with_bindings();
    let edit: BTreeSet<_> = [
        ModifyConfigmaps,
        ExecPods,
        CreatePods,
        ReadSecrets,
        Impersonate,
        MintTokens,
    ]
    .into();
    assert_eq!(caps_of(&g, "emr", "User", "editor"), edit);
    assert_eq!(caps_of(&g, "emr", "User", "viewer"), BTreeSet::new());
    let mut admin = edit.clone();
    admin.insert(EscalateRbac);
    assert_eq!(caps_of(&g, "emr", "User", "adminuser"), admin);
    // RoleBindings do not reach other namespaces.
    assert_eq!(caps_of(&g, "other", "User", "editor"), BTreeSet::new());
    // Nor cluster-scoped capabilities.
    assert!(!caps_of(&g, "emr", "User", "adminuser").contains(&DeployMutatingWebhooks));
}

#[test]
fn grants_name_the_aggregated_source() {
    let g = with_bindings();
    let editor = g
        .capabilities("emr")
        .into_iter()
        .find(|s| s.subject.name == "editor")
        .unwrap();
    let ev = &editor.capabilities[&ExecPods];
    let grant = ev
        .grants
        .iter()
        .find(|gr| gr.rule.contains("verbs=[create"))
        .unwrap();
    assert_eq!(grant.binding.kind, BindingKind::RoleBinding);
    assert_eq!(grant.binding.namespace.as_deref(), Some("emr"));
    assert_eq!(grant.role.name, "edit");
    assert_eq!(
        grant.aggregated_from.as_ref().unwrap().name,
        "system:aggregate-to-edit"
    );
    let path = grant.path();
    assert_eq!(path.len(), 3);
    assert_eq!(path[2].name, "system:aggregate-to-edit");
    assert!(path[2]
        .detail
        .as_deref()
        .unwrap()
        .starts_with(&format!("rule {}:", grant.rule_index)));
    assert_eq!(grant.locations().len(), 3);
    // The GET-on-exec grant says why it counts.
    assert!(ev
        .grants
        .iter()
        .any(|gr| gr.detail.unwrap().contains("WebSocket")));
    // admin reaches view's rules through edit (two levels).
    let admin_rules = g
        .effective_rules(RoleKind::ClusterRole, None, "admin")
        .unwrap();
    assert!(admin_rules
        .iter()
        .any(|r| r.source.name == "system:aggregate-to-view"));
    assert!(admin_rules
        .iter()
        .any(|r| r.source.name == "system:aggregate-to-admin"));
    let view_rules = g
        .effective_rules(RoleKind::ClusterRole, None, "view")
        .unwrap();
    assert!(view_rules
        .iter()
        .all(|r| r.source.name == "system:aggregate-to-view"));
}

#[test]
fn can_follows_scope_and_implicit_groups() {
    let g = with_bindings();
    let exec = Request::new("create", "", "pods").subresource("exec");
    assert!(g
        .can(&Identity::user("editor"), &exec.namespace("emr"))
        .is_some());
    assert!(g
        .can(&Identity::user("editor"), &exec.namespace("other"))
        .is_none());
    assert!(g
        .can(&Identity::user("viewer"), &exec.namespace("emr"))
        .is_none());
    assert!(g
        .can(
            &Identity::user("viewer"),
            &Request::new("list", "", "pods").namespace("emr")
        )
        .is_some());
    // Cluster-scoped (namespace None) requests need cluster-wide grants.
    assert!(g
        .can(
            &Identity::user("adminuser"),
            &Request::new("list", "", "pods")
        )
        .is_none());
    // system:masters is authorized for everything, bound or not.
    let root = g
        .can(
            &Identity::user("x").with_groups(["system:masters"]),
            &Request::new(
                "create",
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
            ),
        )
        .unwrap();
    assert_eq!(root.binding.kind, BindingKind::SuperuserGroup);
}

#[test]
fn live_snapshot_with_populated_rules_gives_the_same_answer() {
    // A live cluster's aggregated roles carry the controller's union already; unioning again
    // must not change anything.
    let offline = with_bindings();
    let mut o = bootstrap();
    let sources: Vec<_> = o.cluster_roles.clone();
    for cr in &mut o.cluster_roles {
        if cr.metadata.name.as_deref() == Some("edit") {
            let mut rules = Vec::new();
            for s in &sources {
                if s.metadata.labels.as_ref().is_some_and(|l| {
                    l.get("rbac.authorization.k8s.io/aggregate-to-edit")
                        .is_some_and(|v| v == "true")
                }) {
                    rules.extend(s.rules.clone().unwrap_or_default());
                }
            }
            cr.value.rules = Some(rules);
        }
    }
    o.add(
        "b.yaml",
        &role_binding("emr", "e", "ClusterRole", "edit", "User", "editor"),
    );
    let live = o.graph();
    assert_eq!(
        caps_of(&live, "emr", "User", "editor"),
        caps_of(&offline, "emr", "User", "editor")
    );
}

#[test]
fn bootstrap_cluster_role_bindings_give_everyone_nothing_dangerous() {
    let mut o = bootstrap();
    o.add_yaml(
        "crb.yaml",
        &common::fixture("bootstrap/cluster-role-bindings.yaml"),
    );
    let g = o.graph();
    for everyone in [
        "system:authenticated",
        "system:unauthenticated",
        "system:serviceaccounts",
    ] {
        assert_eq!(
            caps_of(&g, "emr", "Group", everyone),
            BTreeSet::new(),
            "{everyone}"
        );
    }
    assert_eq!(caps_of(&g, "emr", "Group", "system:masters").len(), 8);
    let basic = g
        .can(
            &Identity::user("anyone"),
            &Request::new("create", "authorization.k8s.io", "selfsubjectaccessreviews"),
        )
        .unwrap();
    assert_eq!(basic.binding.kind, BindingKind::ClusterRoleBinding);
    // The golden file is consistent: no dangling roleRefs.
    assert!(
        g.issues()
            .iter()
            .all(|i| i.kind != emrguard_rbac::IssueKind::DanglingRoleRef),
        "{:?}",
        g.issues()
    );
    // kube-controller-manager can create pods everywhere (system component: exempt, but evaluated).
    let kcm = g.subjects_with(&Request::new("get", "", "secrets").namespace("emr"));
    assert!(kcm
        .iter()
        .any(|(s, _)| s.name == "system:kube-controller-manager"));
}

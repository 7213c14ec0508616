//! Scale: the benchmark cluster is 2,000 namespaces, 20,000 Roles, 100,000 bindings, 5,000 users
//! and 500 groups. The full-size run is `#[ignore]`d (run it with
//! `cargo test --release -p emrguard-rbac --test scale -- --ignored --nocapture`); a tenth of it
//! runs with the normal tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use emrguard_model::{Located, SourceLoc};
use emrguard_rbac::{Identity, RbacGraph, RbacObjects, Request};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::time::{Duration, Instant};

struct Cluster {
    roles: Vec<Located<Role>>,
    cluster_roles: Vec<Located<ClusterRole>>,
    role_bindings: Vec<Located<RoleBinding>>,
    cluster_role_bindings: Vec<Located<ClusterRoleBinding>>,
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    PolicyRule {
        verbs: s(verbs),
        api_groups: Some(s(groups)),
        resources: Some(s(resources)),
        ..Default::default()
    }
}

fn meta(name: String, ns: Option<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: ns,
        ..Default::default()
    }
}

/// `ns` namespaces with 10 Roles each, `ns * 49` RoleBindings and `ns` ClusterRoleBindings
/// (100,000 bindings at 2,000 namespaces), subjects drawn from `ns * 2.5` users and `ns / 4`
/// groups (5,000 and 500).
fn cluster(ns: usize) -> Cluster {
    let users = ns * 5 / 2;
    let groups = (ns / 4).max(1);
    let loc = |s: String| SourceLoc::new("bench.json", s, None);
    let templates = [
        vec![rule(
            &["get", "list", "watch"],
            &[""],
            &["pods", "pods/log", "services", "configmaps"],
        )],
        vec![
            rule(
                &["create", "update", "patch", "delete"],
                &[""],
                &["configmaps"],
            ),
            rule(&["get"], &[""], &["secrets"]),
        ],
        vec![
            rule(&["create"], &[""], &["pods/exec"]),
            rule(&["get", "list"], &["apps"], &["deployments"]),
        ],
        vec![rule(&["*"], &["batch"], &["jobs", "cronjobs"])],
        {
            let mut r = rule(&["get"], &[""], &["secrets"]);
            r.resource_names = Some(vec!["one".into()]);
            vec![r]
        },
    ];
    let mut roles = Vec::with_capacity(ns * 10);
    let mut role_bindings = Vec::with_capacity(ns * 49);
    for n in 0..ns {
        let nsn = format!("ns-{n}");
        for r in 0..10 {
            let rules = templates[(n + r) % templates.len()].clone();
            roles.push(Located::new(
                Role {
                    metadata: meta(format!("role-{r}"), Some(nsn.clone())),
                    rules: Some(rules),
                },
                loc(format!("/roles/{n}/{r}")),
            ));
        }
        for b in 0..49 {
            let (kind, name) = if b % 7 == 0 {
                (
                    "ClusterRole",
                    ["edit", "view", "admin", "custom-0"][b % 4].to_string(),
                )
            } else {
                ("Role", format!("role-{}", b % 10))
            };
            let idx = n * 49 + b;
            let subjects = vec![
                Subject {
                    kind: "User".into(),
                    name: format!("user-{}", idx % users),
                    api_group: None,
                    namespace: None,
                },
                Subject {
                    kind: "Group".into(),
                    name: format!("group-{}", idx % groups),
                    api_group: None,
                    namespace: None,
                },
                Subject {
                    kind: "ServiceAccount".into(),
                    name: format!("sa-{}", b % 5),
                    api_group: None,
                    namespace: Some(nsn.clone()),
                },
            ];
            role_bindings.push(Located::new(
                RoleBinding {
                    metadata: meta(format!("rb-{b}"), Some(nsn.clone())),
                    role_ref: RoleRef {
                        api_group: Some("rbac.authorization.k8s.io".into()),
                        kind: kind.into(),
                        name,
                    },
                    subjects: Some(subjects),
                },
                loc(format!("/rb/{idx}")),
            ));
        }
    }
    let mut cluster_roles = vec![
        Located::new(
            ClusterRole {
                metadata: meta("edit".into(), None),
                rules: Some(vec![
                    rule(
                        &["create", "update", "patch", "delete"],
                        &["", "apps", "batch"],
                        &[
                            "pods",
                            "pods/exec",
                            "configmaps",
                            "secrets",
                            "deployments",
                            "jobs",
                        ],
                    ),
                    rule(&["get", "list", "watch"], &[""], &["secrets"]),
                ]),
                aggregation_rule: None,
            },
            loc("/cr/edit".into()),
        ),
        Located::new(
            ClusterRole {
                metadata: meta("view".into(), None),
                rules: Some(vec![rule(
                    &["get", "list", "watch"],
                    &["", "apps"],
                    &["pods", "deployments"],
                )]),
                aggregation_rule: None,
            },
            loc("/cr/view".into()),
        ),
        Located::new(
            ClusterRole {
                metadata: meta("admin".into(), None),
                rules: Some(vec![rule(
                    &["*"],
                    &["rbac.authorization.k8s.io"],
                    &["roles", "rolebindings"],
                )]),
                aggregation_rule: None,
            },
            loc("/cr/admin".into()),
        ),
    ];
    for c in 0..200 {
        cluster_roles.push(Located::new(
            ClusterRole {
                metadata: meta(format!("custom-{c}"), None),
                rules: Some(templates[c % templates.len()].clone()),
                aggregation_rule: None,
            },
            loc(format!("/cr/{c}")),
        ));
    }
    let cluster_role_bindings = (0..ns)
        .map(|c| {
            Located::new(
                ClusterRoleBinding {
                    metadata: meta(format!("crb-{c}"), None),
                    role_ref: RoleRef {
                        api_group: None,
                        kind: "ClusterRole".into(),
                        name: format!("custom-{}", c % 200),
                    },
                    subjects: Some(vec![Subject {
                        kind: "User".into(),
                        name: format!("user-{}", (c * 7) % users),
                        api_group: None,
                        namespace: None,
                    }]),
                },
                loc(format!("/crb/{c}")),
            )
        })
        .collect();
    Cluster {
        roles,
        cluster_roles,
        role_bindings,
        cluster_role_bindings,
    }
}

struct Timings {
    build: Duration,
    caps_emr_namespaces: Duration,
    caps_all_namespaces: Duration,
    queries: Duration,
}

fn run(ns: usize) -> Timings {
    let c = cluster(ns);
    let t = Instant::now();
    let g = RbacGraph::new(RbacObjects {
        roles: &c.roles,
        cluster_roles: &c.cluster_roles,
        role_bindings: &c.role_bindings,
        cluster_role_bindings: &c.cluster_role_bindings,
        access_policies: &[],
    });
    let build = t.elapsed();
    assert!(
        g.issues().is_empty(),
        "{:?}",
        &g.issues()[..g.issues().len().min(3)]
    );

    // The tool asks for its EMR namespaces: say 20.
    let t = Instant::now();
    for n in (0..ns).step_by((ns / 20).max(1)) {
        assert!(!g.capabilities(&format!("ns-{n}")).is_empty());
    }
    let caps_emr_namespaces = t.elapsed();

    // Worst case: every namespace is an EMR namespace. Each answer lists every cluster-wide
    // subject again, so this is bound by the size of the output.
    let t = Instant::now();
    let mut subjects = 0;
    for n in 0..ns {
        subjects += g.capabilities(&format!("ns-{n}")).len();
    }
    let caps_all_namespaces = t.elapsed();
    assert!(subjects > ns);

    let t = Instant::now();
    for n in (0..ns).step_by(10) {
        let nsn = format!("ns-{n}");
        let exec = Request::new("create", "", "pods")
            .subresource("exec")
            .namespace(&nsn);
        assert!(!g.subjects_with(&exec).is_empty());
        let _ = g.can(
            &Identity::user(&format!("user-{n}")).with_groups([format!("group-{}", n % 7)]),
            &exec,
        );
    }
    let queries = t.elapsed();
    Timings {
        build,
        caps_emr_namespaces,
        caps_all_namespaces,
        queries,
    }
}

#[test]
fn scale_smoke() {
    let t = run(200);
    eprintln!(
        "200 ns: build {:?}, capabilities x20 {:?}, x200 {:?}, queries {:?}",
        t.build, t.caps_emr_namespaces, t.caps_all_namespaces, t.queries
    );
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn scale_benchmark() {
    let t = run(2000);
    eprintln!(
        "2000 ns / 20k roles / 100k bindings: build {:?}, capabilities for 20 namespaces {:?}, for all 2000 {:?}, 200 who-can + can {:?}",
        t.build, t.caps_emr_namespaces, t.caps_all_namespaces, t.queries
    );
    if !cfg!(debug_assertions) {
        // Generous bounds (the machine is shared); the target is the whole tool under 2 s.
        assert!(
            t.build + t.caps_emr_namespaces < Duration::from_millis(1500),
            "{:?}",
            t.build + t.caps_emr_namespaces
        );
    }
}

//! RBAC narrowed from usage: the RBAC001 trigger estate (Group `data-scientists` may write
//! configmaps in `spark-team-a`; its JSON files are copies of
//! `crates/emrguard-rules/tests/fixtures/RBAC001/trigger`) plus `eks-audit.log`, audit events
//! written for this test: what the group's members did, with requests the usage Role must
//! leave out (capabilities, refusals, other namespaces, cluster scope, other stages, users).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_config::Config;
use emrguard_model::k8s::{Role, RoleBinding};
use emrguard_model::{EstateIndex, Located, SourceLoc};
use emrguard_rbac::{RbacGraph, RbacObjects};
use serde_json::{json, Value};
use std::path::Path;

const PATH: &str = "artifacts/k8s/usage-role-spark-team-a-emrguard-usage-data-scientists.yaml";

fn plan_for(dir: &Path) -> emrguard_fix::Plan {
    let config = Config::default();
    let loaded = emrguard_load::load_paths(&[dir.to_path_buf()]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context::new(&index, &config);
    let findings = emrguard_rules::run(emrguard_rules::registry(), &cx);
    emrguard_fix::plan(&cx, &findings)
}

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rbac-usage")
}

#[test]
fn a_narrow_role_from_the_audit_log() {
    let plan = plan_for(&fixture());
    let fix = plan
        .fixes
        .iter()
        .find(|f| f.artifacts.iter().any(|a| a.path == PATH))
        .expect("a fix with the usage Role");
    assert!(
        fix.title.contains("data-scientists-cm-editor"),
        "{}",
        fix.title
    );
    let text = &fix
        .artifacts
        .iter()
        .find(|a| a.path == PATH)
        .unwrap()
        .contents;
    let docs: Vec<Value> = text
        .split("\n---\n")
        .map(|d| serde_yaml_ng::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2, "{text}");
    assert_eq!(
        docs[0]["rules"],
        json!([
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["spark-defaults"]},
            // create: never named
            {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["create"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["job-1-driver"]},
            // the subresource is kept
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"], "resourceNames": ["job-1-driver"]},
        ]),
        "{text}"
    );
    assert_eq!(docs[0]["metadata"]["namespace"], "spark-team-a");
    assert_eq!(
        docs[1]["subjects"],
        json!([{"kind": "Group", "name": "data-scientists", "apiGroup": "rbac.authorization.k8s.io"}])
    );
    // Used but forbidden: listed, not granted.
    let decide = fix.decisions.join("\n");
    for left in [
        "create configmaps (modify-configmaps)",
        "update configmaps (modify-configmaps)",
        "create pods/exec (exec-pods)",
        "get secrets (read-secrets)",
        "create jobs (create-pods)",
    ] {
        assert!(decide.contains(left), "{left}: {decide}");
    }
    // 13 of the 18 events: not the refused one, the other stage, namespace, scope and user.
    let details = fix.details.join("\n");
    assert!(details.contains("(13 requests, "), "{details}");
    // Not applied by apply.sh: a person decides.
    assert!(fix
        .commands
        .iter()
        .any(|c| c.starts_with("# kubectl apply -f") && c.contains(PATH)));

    // The Role, bound as written, confers no submitter capability (RBAC engine).
    let loc = SourceLoc::new("t", "", None);
    let role: Role = serde_json::from_value(docs[0].clone()).unwrap();
    let rb: RoleBinding = serde_json::from_value(docs[1].clone()).unwrap();
    let roles = [Located::new(role, loc.clone())];
    let rbs = [Located::new(rb, loc)];
    let g = RbacGraph::new(RbacObjects {
        roles: &roles,
        role_bindings: &rbs,
        ..Default::default()
    });
    for sc in g.capabilities("spark-team-a") {
        if sc.subject.name == "data-scientists" {
            assert!(sc.capabilities.values().all(|e| !e.held()), "{sc:?}");
        }
    }
}

#[test]
fn no_audit_log_no_usage_role() {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixture()).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let plan = plan_for(dir.path());
    assert!(!plan.fixes.is_empty());
    assert!(plan
        .fixes
        .iter()
        .all(|f| f.artifacts.iter().all(|a| !a.path.contains("usage-role"))));
}

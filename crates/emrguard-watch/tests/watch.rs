//! `emrguard serve --watch` against a fake API server on loopback: lists, then watch events,
//! and the engine's decisions follow the cluster.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_admission::review;
use emrguard_admission::{AdmissionConfig, ClusterState, Engine, EngineHandle, Scope};
use emrguard_model::Snapshot;
use emrguard_watch::fake::{cluster_role, namespace, FakeApi, RBAC};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A RoleBinding CREATE by an administrator-looking user (not exempt), binding `role` to the
/// group `data-scientists` in `ns`.
fn binding_review(ns: &str, role: &str) -> Vec<u8> {
    let object = json!({
        "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": format!("bind-{role}"), "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "data-scientists"}]
    });
    let g = "rbac.authorization.k8s.io";
    json!({
        "kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "7d0c7c8e-0000-4000-8000-00000000000a",
            "kind": {"group": g, "version": "v1", "kind": "RoleBinding"},
            "resource": {"group": g, "version": "v1", "resource": "rolebindings"},
            "requestKind": {"group": g, "version": "v1", "kind": "RoleBinding"},
            "requestResource": {"group": g, "version": "v1", "resource": "rolebindings"},
            "name": format!("bind-{role}"), "namespace": ns, "operation": "CREATE",
            "userInfo": {"username": "bob", "groups": ["platform-team", "system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    })
    .to_string()
    .into_bytes()
}

fn decide(handle: &EngineHandle, body: &[u8]) -> (bool, String) {
    let req = review::parse(body).unwrap();
    let d = handle.current().decide(&req, Scope::Known);
    (d.allowed(), d.response.result.message.clone())
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_follows_the_watched_cluster() {
    let api = FakeApi::new();
    api.add("/api/v1/namespaces", namespace("spark-a", true, "10"));
    api.add("/api/v1/namespaces", namespace("web", false, "11"));
    api.add(
        &format!("{RBAC}/clusterroles"),
        cluster_role("pod-exec", &["pods/exec"], &["create"], "12"),
    );
    let url = api.clone().serve().await;

    let config = AdmissionConfig::new(Default::default(), &Default::default()).unwrap();
    let handle = Arc::new(EngineHandle::new(
        Engine::new(config.clone(), ClusterState::from_config(&config)),
        false,
    ));
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).expect("client");
    let task = tokio::spawn(emrguard_watch::run(
        client,
        Snapshot::default(),
        config,
        handle.clone(),
        Duration::from_millis(50),
    ));

    // Not ready until every kind has been listed; then the listed state is in use.
    until("the first state", || handle.is_ready()).await;
    let st = handle.current().state.clone();
    assert!(
        st.emr_namespaces.contains("spark-a"),
        "{:?}",
        st.emr_namespaces
    );
    assert!(!st.emr_namespaces.contains("web"));
    assert_eq!(st.cluster_roles.len(), 1);
    assert_eq!(
        &*st.cluster_roles[0].loc.file,
        "<live cluster>/apis/rbac.authorization.k8s.io/v1/clusterroles/pod-exec"
    );

    // A grant of exec in the EMR namespace: denied, by the listed ClusterRole's rules.
    let (allowed, msg) = decide(&handle, &binding_review("spark-a", "pod-exec"));
    assert!(!allowed, "{msg}");
    assert!(msg.contains("exec-pods"), "{msg}");
    // A role the cluster does not have (yet): refused as unknown (the default).
    let (allowed, msg) = decide(&handle, &binding_review("spark-a", "pod-reader"));
    assert!(!allowed, "{msg}");
    assert!(msg.contains("pod-reader"), "{msg}");

    // The role appears in the cluster: the same binding is now judged on its rules (read-only).
    let before = handle.updates();
    api.event(
        &format!("{RBAC}/clusterroles"),
        "ADDED",
        cluster_role("pod-reader", &["pods"], &["get", "list"], "13"),
    )
    .await;
    until("the ClusterRole event", || handle.updates() > before).await;
    let (allowed, msg) = decide(&handle, &binding_review("spark-a", "pod-reader"));
    assert!(allowed, "{msg}");

    // A namespace labelled for EMR after start becomes one; the grant there is denied.
    let before = handle.updates();
    api.event(
        "/api/v1/namespaces",
        "ADDED",
        namespace("spark-b", true, "14"),
    )
    .await;
    until("the Namespace event", || handle.updates() > before).await;
    assert!(handle.current().state.emr_namespaces.contains("spark-b"));
    let (allowed, _) = decide(&handle, &binding_review("spark-b", "pod-exec"));
    assert!(!allowed);

    // The role is deleted: bindings to it are unknown again.
    let before = handle.updates();
    api.event(
        &format!("{RBAC}/clusterroles"),
        "DELETED",
        cluster_role("pod-reader", &["pods"], &["get", "list"], "15"),
    )
    .await;
    until("the DELETED event", || handle.updates() > before).await;
    let (allowed, _) = decide(&handle, &binding_review("spark-a", "pod-reader"));
    assert!(!allowed);

    // Metrics report the state the engine uses.
    let m = handle.render_metrics();
    assert!(
        m.contains("emrguard_admission_state_objects{kind=\"clusterroles\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("emrguard_admission_state_objects{kind=\"emr_namespaces\"} 2"),
        "{m}"
    );
    assert!(api.watches.lock().unwrap().len() >= 5);
    task.abort();
}

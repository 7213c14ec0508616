//! AdmissionReview bodies shaped as the API server sends them, and the engine on the hardened
//! example estate.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_admission::{AdmissionConfig, ClusterState, Engine};
use serde_json::{json, Value};
use std::path::PathBuf;

pub const EMR_NS: &str = "spark-team-a";
pub const OTHER_NS: &str = "web";
pub const DRIVER_SA: &str = "emr-containers-sa-spark-driver-111122223333-ued72w79csftn2hgi3ug4mb";

pub fn estate() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/hardened-estate")
}

pub fn config() -> AdmissionConfig {
    AdmissionConfig::load(&estate().join("emrguard.toml")).unwrap()
}

pub fn engine() -> Engine {
    engine_with(config())
}

pub fn engine_with(cfg: AdmissionConfig) -> Engine {
    let loaded = emrguard_load::load_paths(&[estate()]);
    let state = ClusterState::from_snapshot(&loaded.snapshot, &cfg);
    Engine::new(cfg, state)
}

pub struct User {
    pub name: &'static str,
    pub groups: Vec<&'static str>,
    pub extra: Value,
}

pub fn submitter() -> User {
    User {
        name: "alice",
        groups: vec!["data-scientists", "system:authenticated"],
        extra: json!({"arn": ["arn:aws:sts::111122223333:assumed-role/spark-submitter-team-a/alice"], "canonicalArn": ["arn:aws:iam::111122223333:role/spark-submitter-team-a"], "sessionName": ["alice"]}),
    }
}

pub fn emr() -> User {
    User {
        name: "emr-containers",
        groups: vec!["system:authenticated"],
        extra: json!({}),
    }
}

pub fn admin() -> User {
    User {
        name: "bob",
        groups: vec!["platform-admins", "system:authenticated"],
        extra: json!({}),
    }
}

pub fn emr_sa() -> User {
    User {
        name: "system:serviceaccount:spark-team-a:emr-containers-sa-spark-client-111122223333-ued72w79csftn2hgi3ug4mb",
        groups: vec!["system:serviceaccounts", "system:serviceaccounts:spark-team-a", "system:authenticated"],
        extra: json!({}),
    }
}

pub fn job_controller() -> User {
    User {
        name: "system:serviceaccount:kube-system:job-controller",
        groups: vec![
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
        extra: json!({}),
    }
}

fn user_info(u: &User) -> Value {
    json!({"username": u.name, "uid": format!("uid-{}", u.name), "groups": u.groups, "extra": u.extra})
}

/// The envelope the API server POSTs.
pub fn envelope(request: Value) -> Value {
    json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request})
}

#[allow(clippy::too_many_arguments)]
pub fn request(
    uid: &str,
    gvk: (&str, &str, &str),
    resource: &str,
    sub: Option<&str>,
    ns: Option<&str>,
    name: &str,
    op: &str,
    u: &User,
    object: Value,
    old: Value,
    options: Value,
) -> Value {
    let (g, v, k) = gvk;
    let mut r = json!({
        "uid": uid,
        "kind": {"group": g, "version": v, "kind": k},
        "resource": {"group": g, "version": v, "resource": resource},
        "requestKind": {"group": g, "version": v, "kind": k},
        "requestResource": {"group": g, "version": v, "resource": resource},
        "name": name,
        "operation": op,
        "userInfo": user_info(u),
        "object": object,
        "oldObject": old,
        "dryRun": false,
        "options": options,
    });
    if let Some(s) = sub {
        r["subResource"] = json!(s);
        r["requestSubResource"] = json!(s);
    }
    if let Some(n) = ns {
        r["namespace"] = json!(n);
    }
    r
}

/// `kubectl exec -it POD -- sh` as the API server reviews it: CONNECT on pods/exec with a
/// PodExecOptions object.
pub fn exec(u: &User, ns: &str, pod: &str) -> Value {
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000001",
        ("", "v1", "PodExecOptions"),
        "pods",
        Some("exec"),
        Some(ns),
        pod,
        "CONNECT",
        u,
        json!({"kind": "PodExecOptions", "apiVersion": "v1", "stdin": true, "stdout": true, "tty": true, "container": "spark-kubernetes-driver", "command": ["sh"]}),
        Value::Null,
        Value::Null,
    ))
}

pub fn pod(ns: &str, name: &str, sa: &str) -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": null, "labels": {"app": "debug"}},
        "spec": {
            "serviceAccountName": sa, "serviceAccount": sa,
            "containers": [{"name": "c", "image": "busybox:1.36", "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
            "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "enableServiceLinks": true,
            "securityContext": {}
        },
        "status": {}
    })
}

pub fn pod_create(u: &User, ns: &str, object: Value) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000002",
        ("", "v1", "Pod"),
        "pods",
        None,
        Some(ns),
        &name,
        "CREATE",
        u,
        object,
        Value::Null,
        json!({"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}),
    ))
}

pub fn rolebinding(ns: &str, name: &str, role_kind: &str, role: &str, subjects: Value) -> Value {
    json!({
        "kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": subjects
    })
}

pub fn rbac_write(
    u: &User,
    op: &str,
    kind: &str,
    resource: &str,
    ns: Option<&str>,
    object: Value,
    old: Value,
) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000003",
        ("rbac.authorization.k8s.io", "v1", kind),
        resource,
        None,
        ns,
        &name,
        op,
        u,
        object,
        old,
        json!({"kind": if op == "CREATE" {"CreateOptions"} else {"UpdateOptions"}, "apiVersion": "meta.k8s.io/v1"}),
    ))
}

pub fn configmap(ns: &str, name: &str, label: Option<&str>, data: &str) -> Value {
    let mut o = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns}, "data": {"driver": data}});
    if let Some(l) = label {
        o["metadata"]["labels"] = json!({"emr-containers.amazonaws.com/job.configuration": l, "emr-containers.amazonaws.com/job.id": "0000000337okspsc913"});
    }
    o
}

pub fn configmap_write(u: &User, op: &str, ns: &str, object: Value, old: Value) -> Value {
    let name = if object.is_null() {
        old["metadata"]["name"].clone()
    } else {
        object["metadata"]["name"].clone()
    };
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000004",
        ("", "v1", "ConfigMap"),
        "configmaps",
        None,
        Some(ns),
        name.as_str().unwrap_or(""),
        op,
        u,
        object,
        old,
        Value::Null,
    ))
}

pub fn mwc(name: &str, selector: Value) -> Value {
    let mut w = json!({
        "name": "inject.example.com",
        "clientConfig": {"service": {"namespace": "tools", "name": "injector", "path": "/mutate"}},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"]
    });
    if !selector.is_null() {
        w["namespaceSelector"] = selector;
    }
    json!({"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1", "metadata": {"name": name}, "webhooks": [w]})
}

pub fn mwc_create(u: &User, object: Value) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000005",
        (
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
        ),
        "mutatingwebhookconfigurations",
        None,
        None,
        &name,
        "CREATE",
        u,
        object,
        Value::Null,
        Value::Null,
    ))
}

pub fn namespace(name: &str, labels: Value) -> Value {
    json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "labels": labels}, "spec": {"finalizers": ["kubernetes"]}})
}

pub fn namespace_update(u: &User, object: Value, old: Value) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000006",
        ("", "v1", "Namespace"),
        "namespaces",
        None,
        None,
        &name,
        "UPDATE",
        u,
        object,
        old,
        Value::Null,
    ))
}

pub fn deployment(ns: &str, name: &str, host_network: bool, annotations: Value) -> Value {
    json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}, "annotations": annotations},
            "spec": {"hostNetwork": host_network, "containers": [{"name": "c", "image": "nginx:1.27"}]}}}
    })
}

pub fn workload_write(u: &User, ns: &str, object: Value) -> Value {
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    envelope(request(
        "0a1b2c3d-0000-4000-8000-000000000007",
        ("apps", "v1", "Deployment"),
        "deployments",
        None,
        Some(ns),
        &name,
        "CREATE",
        u,
        object,
        Value::Null,
        Value::Null,
    ))
}

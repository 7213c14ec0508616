//! A fake Kubernetes API server for tests (feature `fake-api`): lists and watch streams of the
//! five kinds the watch reads, over plain HTTP on loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

pub const RBAC: &str = "/apis/rbac.authorization.k8s.io/v1";

/// A fake API server: per collection path, the objects a list returns and a channel of watch
/// events (one JSON line each) streamed to every watcher.
#[derive(Clone)]
pub struct FakeApi {
    lists: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    events: Arc<HashMap<String, broadcast::Sender<Bytes>>>,
    pub watches: Arc<Mutex<Vec<String>>>,
}

pub fn collections() -> [(String, &'static str, &'static str); 5] {
    [
        ("/api/v1/namespaces".into(), "v1", "Namespace"),
        (
            format!("{RBAC}/roles"),
            "rbac.authorization.k8s.io/v1",
            "Role",
        ),
        (
            format!("{RBAC}/clusterroles"),
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
        ),
        (
            format!("{RBAC}/rolebindings"),
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
        ),
        (
            format!("{RBAC}/clusterrolebindings"),
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
        ),
    ]
}

impl FakeApi {
    #[allow(clippy::new_without_default)]
    pub fn new() -> FakeApi {
        let mut events = HashMap::new();
        let mut lists = HashMap::new();
        for (path, _, _) in collections() {
            events.insert(path.clone(), broadcast::channel(64).0);
            lists.insert(path, Vec::new());
        }
        FakeApi {
            lists: Arc::new(Mutex::new(lists)),
            events: Arc::new(events),
            watches: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn add(&self, path: &str, obj: Value) {
        self.lists.lock().unwrap().get_mut(path).unwrap().push(obj);
    }

    /// Send a watch event on `path` (`ADDED`, `MODIFIED`, `DELETED`); waits (up to 5 s) for a
    /// watcher to be connected to receive it.
    pub async fn event(&self, path: &str, kind: &str, obj: Value) {
        let tx = &self.events[path];
        for _ in 0..200 {
            if tx.receiver_count() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let line = format!("{}\n", json!({"type": kind, "object": obj}));
        tx.send(Bytes::from(line)).unwrap();
    }

    /// Serve on an ephemeral loopback port; returns the base URL.
    pub async fn serve(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let api = self.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| api.clone().handle(req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    async fn handle(
        self,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>, Infallible> {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let Some((_, api_version, kind)) = collections().into_iter().find(|(p, _, _)| *p == path)
        else {
            let body = Full::new(Bytes::from_static(b"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}"));
            let mut r = Response::new(body.boxed());
            *r.status_mut() = hyper::StatusCode::NOT_FOUND;
            return Ok(r);
        };
        if query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1")
        {
            self.watches.lock().unwrap().push(path.clone());
            let rx = self.events[&path].subscribe();
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                match rx.recv().await {
                    Ok(b) => Some((Ok::<_, Infallible>(Frame::data(b)), rx)),
                    Err(_) => None,
                }
            });
            let mut r = Response::new(StreamBody::new(stream).boxed());
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            return Ok(r);
        }
        let items = self.lists.lock().unwrap()[&path].clone();
        let body = json!({
            "apiVersion": api_version,
            "kind": format!("{kind}List"),
            "metadata": {"resourceVersion": "100"},
            "items": items,
        });
        let mut r = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok(r)
    }
}

pub fn meta(name: &str, ns: Option<&str>, rv: &str) -> Value {
    let mut m = json!({"name": name, "resourceVersion": rv, "uid": format!("uid-{name}")});
    if let Some(n) = ns {
        m["namespace"] = json!(n);
    }
    m
}

/// A Namespace, labelled `emrguard.io/emr=true` when `emr`.
pub fn namespace(name: &str, emr: bool, rv: &str) -> Value {
    let mut m = meta(name, None, rv);
    m["labels"] = json!({"kubernetes.io/metadata.name": name});
    if emr {
        m["labels"]["emrguard.io/emr"] = json!("true");
    }
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": m})
}

/// A ClusterRole with one rule on core-group `resources`.
pub fn cluster_role(name: &str, resources: &[&str], verbs: &[&str], rv: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": meta(name, None, rv),
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
    })
}

/// A kubeconfig that points at `url` without credentials.
pub fn kubeconfig(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\n"
    )
}

//! Real HTTPS requests to `emrguard serve` on 127.0.0.1, with AdmissionReview bodies shaped as
//! the API server sends them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::Bytes;
use common::*;
use emrguard_admission::server::{start, start_with, RunningServer, ServeOptions};
use emrguard_admission::{ClusterState, Engine, EngineHandle};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

struct Tls {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn make_cert() -> Tls {
    let c =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    Tls {
        cert_pem: c.cert.pem(),
        key_pem: c.signing_key.serialize_pem(),
        der: c.cert.der().clone(),
    }
}

fn write_cert(dir: &Path, t: &Tls) {
    std::fs::write(dir.join("tls.crt"), &t.cert_pem).unwrap();
    std::fs::write(dir.join("tls.key"), &t.key_pem).unwrap();
}

async fn server(dir: &Path, t: &Tls) -> RunningServer {
    write_cert(dir, t);
    let mut opts = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.join("tls.crt"),
        dir.join("tls.key"),
    );
    opts.reload_interval = Duration::from_millis(100);
    start(opts, engine()).await.unwrap()
}

/// One connection (HTTP/1.1 keep-alive) trusting `root`.
struct Client {
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(
        addr: std::net::SocketAddr,
        root: &CertificateDer<'static>,
    ) -> Result<Client, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(root.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Client { send })
    }

    async fn request(&mut self, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        self.try_request(method, path, body).await.unwrap()
    }

    /// Like `request`, but a transport error is returned: a server that refuses an oversized
    /// body may close the connection while the client is still writing it.
    async fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), hyper::Error> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        self.send.ready().await?;
        let resp = self.send.send_request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes().to_vec();
        Ok((status, body))
    }

    async fn review(&mut self, review: &Value) -> Value {
        let (status, body) = self
            .request("POST", "/validate", serde_json::to_vec(review).unwrap())
            .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(v["kind"], "AdmissionReview");
        assert_eq!(v["response"]["uid"], review["request"]["uid"], "uid copied");
        v["response"].clone()
    }
}

fn denied_with(resp: &Value, rule: &str) {
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(resp["status"]["code"], 403, "{resp}");
    let msg = resp["status"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("[{rule}]")), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_cert();
    let srv = server(dir.path(), &tls).await;
    let mut c = Client::connect(srv.addr, &tls.der).await.unwrap();

    // Exec by a submitter: denied, naming the rule, the user and the pod.
    let r = c
        .review(&exec(
            &submitter(),
            EMR_NS,
            "spark-000000030s8cnaq04ql-driver",
        ))
        .await;
    denied_with(&r, "exec-pods");
    let msg = r["status"]["message"].as_str().unwrap();
    assert!(
        msg.contains("alice") && msg.contains("spark-000000030s8cnaq04ql-driver"),
        "{msg}"
    );
    // ... by emr-containers and by a declared administrator: allowed.
    assert_eq!(
        c.review(&exec(&emr(), EMR_NS, "spark-x-driver")).await["allowed"],
        true
    );
    assert_eq!(
        c.review(&exec(&admin(), EMR_NS, "spark-x-driver")).await["allowed"],
        true
    );
    // ... outside EMR namespaces: not emrguard's business.
    assert_eq!(
        c.review(&exec(&submitter(), OTHER_NS, "web-1")).await["allowed"],
        true
    );

    // Pod CREATE by a submitter in an EMR namespace: denied; with EMR's service account, the
    // emr-service-account rule fires too.
    let r = c
        .review(&pod_create(
            &submitter(),
            EMR_NS,
            pod(EMR_NS, "debug", "default"),
        ))
        .await;
    denied_with(&r, "create-pods");
    let r = c
        .review(&pod_create(
            &submitter(),
            EMR_NS,
            pod(EMR_NS, "steal", DRIVER_SA),
        ))
        .await;
    denied_with(&r, "create-pods");
    denied_with(&r, "emr-service-account");
    // ... by emr-containers and by EMR's client service account (spark-submit creating the
    // driver): allowed.
    assert_eq!(
        c.review(&pod_create(
            &emr(),
            EMR_NS,
            pod(EMR_NS, "job-runner", DRIVER_SA)
        ))
        .await["allowed"],
        true
    );
    assert_eq!(
        c.review(&pod_create(
            &emr_sa(),
            EMR_NS,
            pod(EMR_NS, "spark-driver", DRIVER_SA)
        ))
        .await["allowed"],
        true
    );
    // ... by the job controller for a Job (controller owner reference): allowed; without one:
    // denied.
    let mut owned = pod(EMR_NS, "0000000337okspsc913-abcde", DRIVER_SA);
    owned["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "0000000337okspsc913", "uid": "5b1f", "controller": true, "blockOwnerDeletion": true}]);
    assert_eq!(
        c.review(&pod_create(&job_controller(), EMR_NS, owned))
            .await["allowed"],
        true
    );
    denied_with(
        &c.review(&pod_create(
            &job_controller(),
            EMR_NS,
            pod(EMR_NS, "orphan", "default"),
        ))
        .await,
        "create-pods",
    );
    // hostNetwork and kube2iam in EMR namespaces, whoever asks.
    let mut hn = pod(EMR_NS, "hn", DRIVER_SA);
    hn["spec"]["hostNetwork"] = json!(true);
    denied_with(
        &c.review(&pod_create(&emr(), EMR_NS, hn)).await,
        "host-network",
    );
    let mut k2 = pod(EMR_NS, "k2", DRIVER_SA);
    k2["metadata"]["annotations"] =
        json!({"iam.amazonaws.com/role": "arn:aws:iam::111122223333:role/etl"});
    denied_with(
        &c.review(&pod_create(&emr(), EMR_NS, k2)).await,
        "kube2iam-annotation",
    );
    // Pods elsewhere are not EMR's.
    assert_eq!(
        c.review(&pod_create(
            &submitter(),
            OTHER_NS,
            pod(OTHER_NS, "web", "default")
        ))
        .await["allowed"],
        true
    );

    // RoleBinding granting `edit` to a submitter group in an EMR namespace: denied with the
    // capabilities; `view` is fine; EMR's own binding is fine.
    let rb = rolebinding(
        EMR_NS,
        "data-scientists-edit",
        "ClusterRole",
        "edit",
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "data-scientists"}]),
    );
    let r = c
        .review(&rbac_write(
            &admin(),
            "CREATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            rb,
            Value::Null,
        ))
        .await;
    denied_with(&r, "rbac-grants");
    let msg = r["status"]["message"].as_str().unwrap();
    for cap in [
        "create-pods",
        "exec-pods",
        "modify-configmaps",
        "read-secrets",
    ] {
        assert!(msg.contains(cap), "{cap} missing: {msg}");
    }
    assert!(
        msg.contains("Group data-scientists") && msg.contains("ClusterRole edit"),
        "{msg}"
    );
    let view = rolebinding(
        EMR_NS,
        "data-scientists-view2",
        "ClusterRole",
        "view",
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "data-scientists"}]),
    );
    assert_eq!(
        c.review(&rbac_write(
            &admin(),
            "CREATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            view,
            Value::Null
        ))
        .await["allowed"],
        true
    );
    let emr_rb = rolebinding(
        EMR_NS,
        "emr-containers-rb-spark-driver-111122223333-new",
        "Role",
        "emr-containers-role-spark-driver",
        json!([{"kind": "ServiceAccount", "name": DRIVER_SA, "namespace": EMR_NS}]),
    );
    assert_eq!(
        c.review(&rbac_write(
            &emr(),
            "CREATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            emr_rb,
            Value::Null
        ))
        .await["allowed"],
        true
    );

    // EMR's pod template edited by a submitter: denied; by EMR: allowed.
    let old = configmap(
        EMR_NS,
        "podtemplate-0000000337okspsc913",
        Some("pod-template"),
        "spec: {}",
    );
    let new = configmap(
        EMR_NS,
        "podtemplate-0000000337okspsc913",
        Some("pod-template"),
        "spec: {hostNetwork: true}",
    );
    denied_with(
        &c.review(&configmap_write(
            &submitter(),
            "UPDATE",
            EMR_NS,
            new.clone(),
            old.clone(),
        ))
        .await,
        "emr-configmaps",
    );
    assert_eq!(
        c.review(&configmap_write(&emr(), "UPDATE", EMR_NS, new, old.clone()))
            .await["allowed"],
        true
    );
    denied_with(
        &c.review(&configmap_write(
            &submitter(),
            "DELETE",
            EMR_NS,
            Value::Null,
            old,
        ))
        .await,
        "emr-configmaps",
    );

    // A mutating webhook without a namespaceSelector reaches EMR namespaces.
    denied_with(
        &c.review(&mwc_create(&submitter(), mwc("injector", Value::Null)))
            .await,
        "mutating-webhooks",
    );
    let away = mwc(
        "injector",
        json!({"matchExpressions": [{"key": "emrguard.io/emr", "operator": "DoesNotExist"}]}),
    );
    assert_eq!(
        c.review(&mwc_create(&submitter(), away)).await["allowed"],
        true
    );

    // Malformed JSON: 400, and the server keeps serving on the same connection.
    let (status, body) = c
        .request(
            "POST",
            "/validate",
            b"{\"kind\":\"AdmissionReview\",\"apiVersion\":".to_vec(),
        )
        .await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, _) = c.request("POST", "/validate", b"[1,2,3]".to_vec()).await;
    assert_eq!(status, 400);
    let (status, _) = c.request("POST", "/validate", serde_json::to_vec(&json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1beta1", "request": {}})).unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(c.review(&exec(&emr(), EMR_NS, "p")).await["allowed"], true);

    // A 10 MB body: 413 without reading it all; the server keeps serving (new connection).
    let mut big = exec(&submitter(), EMR_NS, "p");
    big["request"]["object"]["padding"] = json!("x".repeat(10 * 1024 * 1024));
    let mut c2 = Client::connect(srv.addr, &tls.der).await.unwrap();
    // The server answers 413 from the headers and closes; depending on timing the client sees
    // the 413 or a broken pipe while still writing. Either way the server refused it (the 413
    // is counted in the metrics below) and keeps serving.
    match c2
        .try_request("POST", "/validate", serde_json::to_vec(&big).unwrap())
        .await
    {
        Ok((status, _)) => assert_eq!(status, 413),
        Err(e) => assert!(
            e.is_closed()
                || e.is_incomplete_message()
                || format!("{e:?}").contains("BrokenPipe")
                || format!("{e:?}").contains("ConnectionReset"),
            "{e:?}"
        ),
    }
    let mut c3 = Client::connect(srv.addr, &tls.der).await.unwrap();
    denied_with(
        &c3.review(&exec(&submitter(), EMR_NS, "p")).await,
        "exec-pods",
    );

    // Health, readiness, metrics.
    assert_eq!(c3.request("GET", "/healthz", vec![]).await.0, 200);
    assert_eq!(c3.request("GET", "/readyz", vec![]).await.0, 200);
    assert_eq!(c3.request("GET", "/nope", vec![]).await.0, 404);
    assert_eq!(c3.request("GET", "/validate", vec![]).await.0, 405);
    let (status, body) = c3.request("GET", "/metrics", vec![]).await;
    assert_eq!(status, 200);
    let m = String::from_utf8(body).unwrap();
    assert!(
        m.contains("emrguard_admission_decisions_total{rule=\"exec-pods\",verdict=\"deny\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("emrguard_admission_requests_total{endpoint=\"validate\",code=\"400\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("emrguard_admission_requests_total{endpoint=\"validate\",code=\"413\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("emrguard_admission_review_duration_seconds_bucket{le=\"+Inf\"}"),
        "{m}"
    );

    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emr_namespace_path_trusts_the_selector() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_cert();
    let srv = server(dir.path(), &tls).await;
    let mut c = Client::connect(srv.addr, &tls.der).await.unwrap();
    // A namespace emrguard's state does not know, sent through the EMR-namespace webhook.
    let review = exec(&submitter(), "spark-team-new", "p");
    assert_eq!(c.review(&review).await["allowed"], true);
    let (status, body) = c
        .request(
            "POST",
            "/validate/emr-namespace",
            serde_json::to_vec(&review).unwrap(),
        )
        .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    denied_with(&v["response"], "exec-pods");
    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_reload() {
    let dir = tempfile::tempdir().unwrap();
    let first = make_cert();
    let srv = server(dir.path(), &first).await;
    Client::connect(srv.addr, &first.der).await.unwrap();
    let second = make_cert();
    // A half-written pair (cert without key) is refused and the old certificate stays.
    std::fs::write(dir.path().join("tls.crt"), "garbage").unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    Client::connect(srv.addr, &first.der).await.unwrap();
    write_cert(dir.path(), &second);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if Client::connect(srv.addr, &second.der).await.is_ok() {
            ok = true;
            break;
        }
    }
    assert!(ok, "the new certificate is served");
    assert!(
        Client::connect(srv.addr, &first.der).await.is_err(),
        "the old one is gone"
    );
    let m = srv.metrics.render();
    assert!(m.contains("emrguard_admission_tls_reloads_total 1"), "{m}");
    srv.shutdown(Duration::from_secs(5)).await;
}

/// `serve --watch` before its first list: not ready (503); ready once a state is swapped in,
/// and the swapped state decides the next review on the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_state_swap() {
    let dir = tempfile::tempdir().unwrap();
    let tls = make_cert();
    write_cert(dir.path(), &tls);
    let cfg = config();
    let handle = Arc::new(EngineHandle::new(
        Engine::new(cfg.clone(), ClusterState::from_config(&cfg)),
        false,
    ));
    let opts = ServeOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("tls.crt"),
        dir.path().join("tls.key"),
    );
    let srv = start_with(opts, handle.clone()).await.unwrap();
    let mut c = Client::connect(srv.addr, &tls.der).await.unwrap();
    let (code, body) = c.request("GET", "/readyz", vec![]).await;
    assert_eq!(code, 503, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("first cluster state"));

    // A binding of `edit` to a submitter group in what the cluster says is an EMR namespace:
    // the configuration-only state does not know that yet (no virtual cluster, no label seen),
    // which is why the pod stays unready, out of the Service, until the first list.
    let edit = rbac_write(
        &submitter(),
        "CREATE",
        "RoleBinding",
        "rolebindings",
        Some(EMR_NS),
        rolebinding(
            EMR_NS,
            "editors",
            "ClusterRole",
            "edit",
            json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "data-scientists"}]),
        ),
        Value::Null,
    );
    let r = c.review(&edit).await;
    assert_eq!(r["allowed"], json!(true), "{r}");

    // The watch delivers the cluster (here: the hardened estate's state): ready, and the same
    // connection's next review is judged on it.
    handle.replace(engine());
    assert_eq!(c.request("GET", "/readyz", vec![]).await.0, 200);
    let r = c.review(&edit).await;
    assert_eq!(r["allowed"], json!(false), "{r}");
    denied_with(&r, "rbac-grants");
    let (_, m) = c.request("GET", "/metrics", vec![]).await;
    let m = String::from_utf8_lossy(&m);
    assert!(
        m.contains("emrguard_admission_state_updates_total 1"),
        "{m}"
    );
    srv.shutdown(Duration::from_secs(2)).await;
}

//! The HTTPS webhook server (`emrguard serve`).
//!
//! - TLS by rustls (ring provider), HTTP/1.1 with keep-alive. The certificate and key are
//!   re-read when either file's modification time or size changes (polled; cert-manager and
//!   kubelet secret-volume updates are both caught); a pair that does not load is logged and
//!   the previous certificate stays.
//! - `POST /validate`, `POST /validate/emr-namespace` (see the crate docs), `GET /healthz`
//!   (the process serves), `GET /readyz` (state loaded — with `--watch`, the first full list
//!   of the watched kinds —, a certificate in place, not shutting down), `GET /metrics` (Prometheus text).
//! - Bodies over `max_body_bytes` are answered 413 without being read (by `Content-Length`, or
//!   as soon as the stream passes the bound); a body that is not an `admission.k8s.io/v1`
//!   `AdmissionReview` gets 400. Nothing a client sends can panic the server (clippy denies
//!   unwrap/expect/indexing/panic in this crate).
//! - Evaluation is time-bounded: Role and ClusterRole writes (whose cost grows with the cluster
//!   state: the RBAC graph is rebuilt with the role in place) run on the blocking pool, at most
//!   two at a time, under `evaluation_timeout_ms`; one that runs out of time is refused (fail
//!   closed) with a message saying so. Every other review, bindings included (judged on a graph
//!   of the binding and its already-aggregated role), is microseconds of work bounded by the body
//!   size, and runs inline.
//! - Each review is logged as one structured event (target `emrguard::decision`): uid, user,
//!   operation, resource, namespace, name, rule(s), verdict, latency and the message.

use crate::decide::{Decision, Engine, Scope};
use crate::handle::EngineHandle;
use crate::metrics::Metrics;
use crate::review::{self, Request as Review};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// Concurrent connections; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time to read a request's headers and body.
    pub read_timeout: Duration,
}

impl ServeOptions {
    pub fn new(addr: SocketAddr, tls_cert: PathBuf, tls_key: PathBuf) -> Self {
        ServeOptions {
            addr,
            tls_cert,
            tls_key,
            reload_interval: Duration::from_secs(10),
            max_connections: 4096,
            read_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("TLS certificate `{path}`: {message}")]
    Tls { path: String, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn tls_err(path: &Path, message: impl ToString) -> ServeError {
    ServeError::Tls {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Read a PEM certificate chain and private key into a rustls key.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, ServeError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| tls_err(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err(cert, e))?;
    if chain.is_empty() {
        return Err(tls_err(cert, "no CERTIFICATE in the file"));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| tls_err(key, e))?;
    let signing =
        rustls::crypto::ring::sign::any_supported_type(&der).map_err(|e| tls_err(key, e))?;
    Ok(CertifiedKey::new(chain, signing))
}

/// The current certificate, swapped in place on reload.
#[derive(Debug)]
struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|k| Arc::clone(&k))
    }
}

fn stamp(p: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

struct Shared {
    engine: Arc<EngineHandle>,
    metrics: Arc<Metrics>,
    heavy: Semaphore,
    max_body: usize,
    eval_timeout: Duration,
    read_timeout: Duration,
    shutting_down: AtomicBool,
}

/// A running server: its address, metrics, and a way to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stop accepting, let open connections finish their current request, and wait (at most
    /// `grace`).
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.task).await;
    }

    /// Wait until the server stops (after `shutdown`, or never).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Bind, load the certificate and start serving on the current tokio runtime, with a fixed
/// engine (a snapshot's state).
pub async fn start(opts: ServeOptions, engine: Engine) -> Result<RunningServer, ServeError> {
    start_with(opts, Arc::new(EngineHandle::new(engine, true))).await
}

/// [`start`] with an engine that may be swapped while serving (`serve --watch`).
pub async fn start_with(
    opts: ServeOptions,
    engine: Arc<EngineHandle>,
) -> Result<RunningServer, ServeError> {
    let key = load_certified_key(&opts.tls_cert, &opts.tls_key)?;
    let store = Arc::new(CertStore {
        current: RwLock::new(Arc::new(key)),
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&opts.tls_cert, e))?
        .with_no_client_auth()
        .with_cert_resolver(store.clone());
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind(opts.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: opts.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: opts.addr,
        source,
    })?;
    let metrics = Arc::new(Metrics::default());
    // Limits come from the configuration, which a state update does not change.
    let first = engine.current();
    let settings = &first.config.settings;
    let shared = Arc::new(Shared {
        max_body: settings.max_body_bytes,
        eval_timeout: Duration::from_millis(settings.evaluation_timeout_ms.max(1)),
        read_timeout: opts.read_timeout,
        engine,
        metrics: metrics.clone(),
        heavy: Semaphore::new(2),
        shutting_down: AtomicBool::new(false),
    });
    let (stop, stop_rx) = watch::channel(false);

    // Certificate reload.
    {
        let (cert, keyp) = (opts.tls_cert.clone(), opts.tls_key.clone());
        let mut last = (stamp(&cert), stamp(&keyp));
        let store = store.clone();
        let metrics = metrics.clone();
        let mut stop_rx = stop_rx.clone();
        let every = opts.reload_interval;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop_rx.changed() => return,
                }
                let now = (stamp(&cert), stamp(&keyp));
                if now == last {
                    continue;
                }
                match load_certified_key(&cert, &keyp) {
                    Ok(k) => {
                        if let Ok(mut cur) = store.current.write() {
                            *cur = Arc::new(k);
                        }
                        last = now;
                        metrics.tls_reloads.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(target: "emrguard::serve", cert = %cert.display(), "TLS certificate reloaded");
                    }
                    Err(e) => {
                        // Keep trying: the pair may be half-written.
                        metrics.tls_reload_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(target: "emrguard::serve", error = %e, "TLS certificate changed but cannot be loaded; keeping the previous one");
                    }
                }
            }
        });
    }

    let limit = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let task = tokio::spawn(accept_loop(listener, acceptor, shared, limit, stop_rx));
    Ok(RunningServer {
        addr,
        metrics,
        stop,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(target: "emrguard::serve", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let mut stop = stop.clone();
        conns.spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(shared.read_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(target: "emrguard::serve", %peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            shared.metrics.connections.fetch_add(1, Ordering::Relaxed);
            let svc_shared = shared.clone();
            let svc = service_fn(move |req| handle(req, svc_shared.clone()));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(shared.read_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(target: "emrguard::serve", %peer, error = %e, "connection ended with an error");
                    }
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow.
        while conns.try_join_next().is_some() {}
    }
    shared.shutting_down.store(true, Ordering::Relaxed);
    while conns.join_next().await.is_some() {}
}

fn text(code: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(
    req: Request<Incoming>,
    sh: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    let (endpoint, scope) = match path {
        "/validate" => ("validate", Some(Scope::Known)),
        "/validate/emr-namespace" => ("validate_emr_namespace", Some(Scope::EmrNamespaces)),
        "/healthz" => ("healthz", None),
        "/readyz" => ("readyz", None),
        "/metrics" => ("metrics", None),
        _ => ("other", None),
    };
    let resp = match (req.method(), endpoint, scope) {
        (&Method::POST, _, Some(scope)) => review(req, scope, &sh).await,
        (_, _, Some(_)) => text(StatusCode::METHOD_NOT_ALLOWED, "POST an AdmissionReview\n"),
        (&Method::GET, "healthz", _) => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "readyz", _) => {
            if sh.shutting_down.load(Ordering::Relaxed) {
                text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
            } else if !sh.engine.is_ready() {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "waiting for the first cluster state from the watch\n",
                )
            } else {
                text(StatusCode::OK, "ready\n")
            }
        }
        (&Method::GET, "metrics", _) => {
            let mut body = sh.metrics.render();
            body.push_str(&sh.engine.render_metrics());
            let mut r = text(StatusCode::OK, body);
            r.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        (_, "other", _) => text(StatusCode::NOT_FOUND, "not found\n"),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
    };
    sh.metrics.request(endpoint, resp.status().as_u16());
    Ok(resp)
}

async fn review(req: Request<Incoming>, scope: Scope, sh: &Shared) -> Response<Full<Bytes>> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > sh.max_body as u64) {
        tracing::warn!(target: "emrguard::serve", bytes = declared, limit = sh.max_body, "request body too large");
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body over {} bytes\n", sh.max_body),
        );
    }
    let body = Limited::new(req.into_body(), sh.max_body);
    let bytes = match tokio::time::timeout(sh.read_timeout, body.collect()).await {
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time\n",
            )
        }
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                tracing::warn!(target: "emrguard::serve", limit = sh.max_body, "request body too large");
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body over {} bytes\n", sh.max_body),
                );
            }
            return text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}\n"),
            );
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    let started = Instant::now();
    let parsed = match review::parse(&bytes) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(target: "emrguard::serve", error = %e, "malformed AdmissionReview");
            sh.metrics.decision(None, "error");
            return text(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    let info = Info::of(&parsed);
    let (decision, timed_out) = decide(parsed, scope, sh).await;
    let elapsed = started.elapsed();
    sh.metrics.latency(elapsed);
    let body = review::response_body(&decision.response);
    log_decision(&info, &decision, timed_out, elapsed);
    record(&sh.metrics, &decision, timed_out);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// What the decision log says about a review.
struct Info {
    uid: String,
    user: String,
    groups: String,
    operation: &'static str,
    resource: String,
    namespace: String,
    name: String,
    dry_run: bool,
}

impl Info {
    fn of(req: &Review) -> Info {
        let res = &req.resource;
        let resource = match req.sub_resource.as_deref() {
            Some(s) if !s.is_empty() => {
                format!("{}/{}/{}/{}", res.group, res.version, res.resource, s)
            }
            _ => format!("{}/{}/{}", res.group, res.version, res.resource),
        };
        Info {
            uid: req.uid.clone(),
            user: req.user_info.username.clone().unwrap_or_default(),
            groups: req.user_info.groups.as_deref().unwrap_or(&[]).join(","),
            operation: match req.operation {
                review::Operation::Create => "CREATE",
                review::Operation::Update => "UPDATE",
                review::Operation::Delete => "DELETE",
                review::Operation::Connect => "CONNECT",
            },
            resource,
            namespace: req.namespace.clone().unwrap_or_default(),
            name: req.name.clone(),
            dry_run: req.dry_run,
        }
    }
}

/// A refusal for a review that could not be decided (time bound, failed evaluation).
fn undecided(uid: &str, message: String, error: &str) -> Decision {
    let mut response = kube_core::admission::AdmissionResponse::invalid(message);
    response.uid = uid.to_owned();
    response.result.code = 500;
    Decision {
        response,
        matched: vec![],
        error: Some(error.to_owned()),
    }
}

/// Decide, under the time bound for heavy reviews; `true` when it ran out of time.
async fn decide(req: Review, scope: Scope, sh: &Shared) -> (Decision, bool) {
    if !Engine::is_heavy(&req) {
        return (sh.engine.current().decide(&req, scope), false);
    }
    let uid = req.uid.clone();
    let deadline = tokio::time::Instant::now() + sh.eval_timeout;
    let timeout = || {
        undecided(
            &uid,
            format!(
                "emrguard: evaluation did not finish within {} ms; refused (fail closed)",
                sh.eval_timeout.as_millis()
            ),
            "evaluation timed out",
        )
    };
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, sh.heavy.acquire()).await else {
        return (timeout(), true);
    };
    let engine = sh.engine.current();
    let job = tokio::task::spawn_blocking(move || engine.decide(&req, scope));
    let r = tokio::time::timeout_at(deadline, job).await;
    drop(permit);
    match r {
        Ok(Ok(d)) => (d, false),
        Ok(Err(e)) => {
            tracing::error!(target: "emrguard::serve", error = %e, "evaluation failed");
            (
                undecided(
                    &uid,
                    "emrguard: evaluation failed".into(),
                    "evaluation failed",
                ),
                false,
            )
        }
        Err(_) => (timeout(), true),
    }
}

fn record(m: &Metrics, d: &Decision, timed_out: bool) {
    if timed_out {
        m.decision(None, "timeout");
        return;
    }
    if d.error.is_some() {
        m.decision(None, "error");
        return;
    }
    if d.matched.is_empty() {
        m.decision(None, "allow");
        return;
    }
    for (v, mode) in &d.matched {
        let verdict = match mode {
            crate::config::Mode::Enforce => "deny",
            crate::config::Mode::Warn => "warn",
            crate::config::Mode::Audit => "audit",
            crate::config::Mode::Off => "allow",
        };
        m.decision(Some(v.rule), verdict);
    }
}

fn log_decision(info: &Info, d: &Decision, timed_out: bool, elapsed: Duration) {
    let rules: Vec<&str> = d.matched.iter().map(|(v, _)| v.rule.slug()).collect();
    let rule = if rules.is_empty() {
        "-".to_owned()
    } else {
        rules.join(",")
    };
    let verdict = if timed_out { "timeout" } else { d.verdict() };
    let message: String = if !d.response.allowed {
        d.response.result.message.clone()
    } else {
        d.matched
            .iter()
            .map(|(v, m)| format!("[{} {}] {}", v.rule, m.as_str(), v.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    tracing::info!(
        target: "emrguard::decision",
        uid = %info.uid,
        user = %info.user,
        groups = %info.groups,
        operation = info.operation,
        resource = %info.resource,
        namespace = %info.namespace,
        name = %info.name,
        rule = %rule,
        verdict,
        allowed = d.response.allowed,
        dry_run = info.dry_run,
        latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        message = %message,
        "admission decision"
    );
}

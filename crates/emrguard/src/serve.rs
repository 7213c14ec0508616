//! `emrguard serve`: the validating admission webhook (see `emrguard_admission::server`).

use emrguard_admission::server::{start_with, ServeOptions};
use emrguard_admission::{AdmissionConfig, ClusterState, Engine, EngineHandle};
use emrguard_model::Snapshot;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// PEM certificate chain served to the API server (re-read when the file changes).
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// PEM private key of the certificate.
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// Configuration file: `[administrators]` and `[admission]`. Default: ./emrguard.toml,
    /// else /etc/emrguard/config/emrguard.toml (the generated Deployment's optional ConfigMap),
    /// else built-in defaults. A file given here must exist.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Snapshot folder with the cluster state RBAC writes are judged against (namespaces,
    /// roles, bindings, virtual clusters). With `--watch`, only its AWS side (virtual clusters)
    /// is used, and it may be empty or missing.
    #[arg(long, value_name = "DIR")]
    snapshot: Option<PathBuf>,
    /// Watch the cluster's Namespaces, Roles, ClusterRoles, RoleBindings and
    /// ClusterRoleBindings (in-cluster service account, or KUBECONFIG) and judge RBAC writes
    /// against the live state; `/readyz` answers 503 until the first full list.
    #[arg(long)]
    watch: bool,
    /// With `--watch`: delay between the first change of a burst and the rebuild of the state
    /// (the whole burst becomes one rebuild).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    watch_debounce_ms: u64,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// Seconds between checks of the certificate files for changes.
    #[arg(long, default_value_t = 10)]
    reload_interval: u64,
    /// Decision log format on standard output.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
    /// Worker threads (default: one per CPU).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

/// Where the configuration is looked for without `--config`: the working directory, then the
/// mount point of the generated Deployment's (optional) ConfigMap.
pub const DEFAULT_CONFIG_PATHS: [&str; 2] = ["emrguard.toml", "/etc/emrguard/config/emrguard.toml"];

/// `[admission]` and `[administrators]` from `--config` (which must exist), else the first of
/// [`DEFAULT_CONFIG_PATHS`] that exists, else defaults.
pub fn admission_config(explicit: Option<&Path>) -> Result<AdmissionConfig, String> {
    match explicit {
        Some(p) => AdmissionConfig::load(p),
        None => match DEFAULT_CONFIG_PATHS
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
        {
            Some(p) => AdmissionConfig::load(p),
            None => AdmissionConfig::new(Default::default(), &Default::default()),
        },
    }
}

/// The snapshot of `--snapshot` (empty without one). With `--watch` the folder may be empty or
/// missing (an optional ConfigMap mount): the cluster side comes from the watch.
pub fn load_snapshot(snapshot: Option<&Path>, watch: bool) -> Result<Snapshot, String> {
    let Some(dir) = snapshot else {
        return Ok(Snapshot::default());
    };
    let loaded = emrguard_load::load_paths(&[dir.to_path_buf()]);
    for e in &loaded.errors {
        eprintln!("warning: {e}");
    }
    if !loaded.anything_read() && !watch {
        return Err(format!("nothing could be read from {}", dir.display()));
    }
    Ok(loaded.snapshot)
}

/// The cluster state from `--snapshot` (or the configuration alone).
pub fn cluster_state(
    snapshot: Option<&Path>,
    cfg: &AdmissionConfig,
) -> Result<ClusterState, String> {
    Ok(ClusterState::from_snapshot(
        &load_snapshot(snapshot, false)?,
        cfg,
    ))
}

fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(65_536)
        .finish(std::io::stdout());
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMRGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rustls=error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(true);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}

pub fn run(args: ServeArgs) -> ExitCode {
    let cfg = match admission_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let base = match load_snapshot(args.snapshot.as_deref(), args.watch) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let state = ClusterState::from_snapshot(&base, &cfg);
    let _guard = init_logging(args.log_format);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let namespaces: Vec<String> = state.emr_namespaces.iter().cloned().collect();
    // With --watch the snapshot's state (often just the configuration) answers until the first
    // full list replaces it: it does not know the cluster's EMR namespaces yet, so /readyz
    // keeps the pod out of the Service until then.
    let handle = Arc::new(EngineHandle::new(
        Engine::new(cfg.clone(), state),
        !args.watch,
    ));
    let mut opts = ServeOptions::new(args.listen, args.tls_cert, args.tls_key);
    opts.reload_interval = Duration::from_secs(args.reload_interval.max(1));
    let watch = args.watch;
    let debounce = Duration::from_millis(args.watch_debounce_ms);
    rt.block_on(async move {
        let client = if watch {
            match emrguard_watch::connect().await {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("error: --watch: cannot reach the Kubernetes API (in-cluster service account or KUBECONFIG): {e}");
                    return ExitCode::from(2);
                }
            }
        } else {
            None
        };
        let server = match start_with(opts, handle.clone()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        if let Some(client) = client {
            tokio::spawn(async move {
                if let Err(e) = emrguard_watch::run(client, base, cfg, handle, debounce).await {
                    tracing::error!(target: "emrguard::watch", error = %e, "the watch stopped; RBAC writes are judged on the last state");
                }
            });
        }
        tracing::info!(target: "emrguard::serve", addr = %server.addr, emr_namespaces = %namespaces.join(","), watch, "serving AdmissionReviews on /validate and /validate/emr-namespace");
        let stop = server.stopper();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!(target: "emrguard::serve", "shutting down");
            let _ = stop.send(true);
        });
        server.wait().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

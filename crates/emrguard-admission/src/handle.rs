//! The engine the server decides with, swappable while it serves: `emrguard serve --watch`
//! replaces it whenever the watched cluster state changes. A review holds the `Arc` it started
//! with, so a swap never changes a decision half-way.

use crate::decide::Engine;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Debug)]
pub struct EngineHandle {
    current: RwLock<Arc<Engine>>,
    ready: AtomicBool,
    updates: AtomicU64,
    updated_unix: AtomicU64,
    watch_events: AtomicU64,
    watch_errors: AtomicU64,
    watch_event_unix: AtomicU64,
}

impl EngineHandle {
    /// `ready`: whether the state is complete (a snapshot) or still to come (a watch that has
    /// not finished its first list): `/readyz` answers 503 until it is.
    pub fn new(engine: Engine, ready: bool) -> EngineHandle {
        EngineHandle {
            current: RwLock::new(Arc::new(engine)),
            ready: AtomicBool::new(ready),
            updates: AtomicU64::new(0),
            updated_unix: AtomicU64::new(if ready { unix_now() } else { 0 }),
            watch_events: AtomicU64::new(0),
            watch_errors: AtomicU64::new(0),
            watch_event_unix: AtomicU64::new(0),
        }
    }

    pub fn current(&self) -> Arc<Engine> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            // A writer cannot panic while holding the lock (it only assigns), but never fail a
            // review over it.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Swap in an engine built from a newer state; the handle is ready from then on.
    pub fn replace(&self, engine: Engine) {
        let engine = Arc::new(engine);
        match self.current.write() {
            Ok(mut g) => *g = engine,
            Err(poisoned) => *poisoned.into_inner() = engine,
        }
        self.updates.fetch_add(1, Ordering::Relaxed);
        self.updated_unix.store(unix_now(), Ordering::Relaxed);
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// One watch event applied to the reflectors.
    pub fn watch_event(&self) {
        self.watch_events.fetch_add(1, Ordering::Relaxed);
        self.watch_event_unix.store(unix_now(), Ordering::Relaxed);
    }

    /// One watch error (retried with backoff) or failed rebuild.
    pub fn watch_error(&self) {
        self.watch_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// State updates since start.
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }

    /// Prometheus text for the state: updates, age, EMR namespaces and RBAC objects known.
    pub fn render_metrics(&self) -> String {
        let e = self.current();
        let st = &e.state;
        let mut o = String::new();
        let _ = writeln!(o, "# HELP emrguard_admission_state_updates_total Cluster state updates applied (watch mode).");
        let _ = writeln!(o, "# TYPE emrguard_admission_state_updates_total counter");
        let _ = writeln!(
            o,
            "emrguard_admission_state_updates_total {}",
            self.updates()
        );
        let _ = writeln!(o, "# HELP emrguard_admission_state_last_update_timestamp_seconds When the cluster state in use was built.");
        let _ = writeln!(
            o,
            "# TYPE emrguard_admission_state_last_update_timestamp_seconds gauge"
        );
        let _ = writeln!(
            o,
            "emrguard_admission_state_last_update_timestamp_seconds {}",
            self.updated_unix.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP emrguard_admission_state_objects Objects in the cluster state by kind."
        );
        let _ = writeln!(o, "# TYPE emrguard_admission_state_objects gauge");
        for (kind, n) in [
            ("emr_namespaces", st.emr_namespaces.len()),
            ("namespaces", st.namespace_labels.len()),
            ("roles", st.roles.len()),
            ("clusterroles", st.cluster_roles.len()),
            ("rolebindings", st.role_bindings.len()),
            ("clusterrolebindings", st.cluster_role_bindings.len()),
        ] {
            let _ = writeln!(o, "emrguard_admission_state_objects{{kind=\"{kind}\"}} {n}");
        }
        o
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

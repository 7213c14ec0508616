//! The live cluster state of `emrguard serve --watch`.
//!
//! kube-rs reflectors keep Namespaces, Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
//! in memory (list, then watch, re-listing with backoff after errors or expired resource
//! versions). After the first complete list of all five kinds, and then after every burst of
//! changes (a quiet period of `debounce`), the state is rebuilt into a new admission
//! [`Engine`] and swapped into the server's [`EngineHandle`]; reviews in flight finish on the
//! engine they started with.
//!
//! The AWS side (virtual clusters, which make a namespace EMR's) is not in the cluster: it comes
//! from `--snapshot` when given, besides the configured list and the namespace label.
//!
//! Reads need `get`, `list`, `watch` on those five kinds, which `emrguard generate webhook`
//! grants to the webhook's service account (and nothing else).

use emrguard_admission::{AdmissionConfig, ClusterState, Engine, EngineHandle};
use emrguard_model::{Located, Snapshot, SourceLoc};
use futures::stream::{BoxStream, SelectAll};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("the {kind} reflector stopped before its first list completed")]
    NeverReady { kind: &'static str },
}

/// The five reflector stores.
#[derive(Clone)]
pub struct Stores {
    pub namespaces: Store<Namespace>,
    pub roles: Store<Role>,
    pub cluster_roles: Store<ClusterRole>,
    pub role_bindings: Store<RoleBinding>,
    pub cluster_role_bindings: Store<ClusterRoleBinding>,
}

/// Live objects have no file: their location names the API path instead, prefixed with this
/// (the JSON pointer is the whole object).
pub const LIVE: &str = "<live cluster>";

fn located<K: Resource<DynamicType = ()> + Clone>(obj: &Arc<K>) -> Located<K> {
    let url = K::url_path(&(), obj.namespace().as_deref());
    let file = format!("{LIVE}{url}/{}", obj.name_any());
    Located::new(K::clone(obj), SourceLoc::new(file, "", None))
}

fn all<K: Resource<DynamicType = ()> + Clone>(store: &Store<K>) -> Vec<Located<K>> {
    store.state().iter().map(located).collect()
}

impl Stores {
    /// The admission state: `base`'s AWS side (virtual clusters) with the stores' objects in
    /// place of its Kubernetes ones.
    pub fn state(&self, base: &Snapshot, config: &AdmissionConfig) -> ClusterState {
        let mut snap = Snapshot {
            virtual_clusters: base.virtual_clusters.clone(),
            clusters: base.clusters.clone(),
            ..Snapshot::default()
        };
        let k = &mut snap.k8s;
        k.namespaces = all(&self.namespaces);
        k.roles = all(&self.roles);
        k.cluster_roles = all(&self.cluster_roles);
        k.role_bindings = all(&self.role_bindings);
        k.cluster_role_bindings = all(&self.cluster_role_bindings);
        ClusterState::from_snapshot(&snap, config)
    }

    async fn wait_until_ready(&self) -> Result<(), WatchError> {
        fn never(kind: &'static str) -> impl FnOnce(reflector::store::WriterDropped) -> WatchError {
            move |_| WatchError::NeverReady { kind }
        }
        self.namespaces
            .wait_until_ready()
            .await
            .map_err(never("Namespace"))?;
        self.roles.wait_until_ready().await.map_err(never("Role"))?;
        self.cluster_roles
            .wait_until_ready()
            .await
            .map_err(never("ClusterRole"))?;
        self.role_bindings
            .wait_until_ready()
            .await
            .map_err(never("RoleBinding"))?;
        self.cluster_role_bindings
            .wait_until_ready()
            .await
            .map_err(never("ClusterRoleBinding"))
    }
}

/// One reflector: its store, and a stream that yields once per applied event (`Err` for a
/// watch error the reflector retries after backoff).
fn reflect<K>(client: &Client) -> (Store<K>, BoxStream<'static, Result<&'static str, String>>)
where
    K: Resource<DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let kind = <K as k8s_openapi::Resource>::KIND;
    // managedFields are most of an RBAC object's bytes and nothing reads them.
    let objects = watcher(Api::<K>::all(client.clone()), watcher::Config::default())
        .modify(|o| o.managed_fields_mut().clear());
    let stream = reflector::reflector(writer, objects)
        .default_backoff()
        .map(move |ev| ev.map(|_| kind).map_err(|e| format!("{kind}: {e}")))
        .boxed();
    (reader, stream)
}

/// Start the five reflectors on `client`. Returns the stores and the merged event stream, which
/// must be polled (by [`run`]) for the stores to fill.
pub fn reflectors(
    client: &Client,
) -> (
    Stores,
    SelectAll<BoxStream<'static, Result<&'static str, String>>>,
) {
    let (namespaces, s1) = reflect::<Namespace>(client);
    let (roles, s2) = reflect::<Role>(client);
    let (cluster_roles, s3) = reflect::<ClusterRole>(client);
    let (role_bindings, s4) = reflect::<RoleBinding>(client);
    let (cluster_role_bindings, s5) = reflect::<ClusterRoleBinding>(client);
    let stores = Stores {
        namespaces,
        roles,
        cluster_roles,
        role_bindings,
        cluster_role_bindings,
    };
    (stores, futures::stream::select_all([s1, s2, s3, s4, s5]))
}

/// Aborts the task when dropped: the event pump lives exactly as long as [`run`].
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Watch the cluster and keep `handle`'s engine current until the returned future is dropped.
/// `base`: the snapshot's AWS side (may be empty). Watch errors are retried with backoff
/// (logged, and counted in `emrguard_admission_watch_errors_total`) while the last state keeps
/// serving. Returns only if a reflector's store is dropped before its first list.
pub async fn run(
    client: Client,
    base: Snapshot,
    config: AdmissionConfig,
    handle: Arc<EngineHandle>,
    debounce: Duration,
) -> Result<(), WatchError> {
    let (stores, mut events) = reflectors(&client);
    let changed = Arc::new(Notify::new());
    let _pump = {
        let changed = changed.clone();
        let handle = handle.clone();
        AbortOnDrop(tokio::spawn(async move {
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(_) => {
                        handle.watch_event();
                        changed.notify_one();
                    }
                    Err(e) => {
                        handle.watch_error();
                        tracing::warn!(target: "emrguard::watch", error = %e, "watch error; retrying with backoff");
                    }
                }
            }
        }))
    };
    stores.wait_until_ready().await?;
    let base = Arc::new(base);
    loop {
        let t = std::time::Instant::now();
        // Cloning every object and building the RBAC graph takes a while on a large cluster:
        // off the runtime's workers, which decide reviews.
        let (stores2, base2, config2) = (stores.clone(), base.clone(), config.clone());
        let built = tokio::task::spawn_blocking(move || {
            let state = stores2.state(&base2, &config2);
            let summary = format!(
                "{} EMR namespaces, {} roles, {} cluster roles, {} role bindings, {} cluster role bindings",
                state.emr_namespaces.len(),
                state.roles.len(),
                state.cluster_roles.len(),
                state.role_bindings.len(),
                state.cluster_role_bindings.len()
            );
            (Engine::new(config2, state), summary)
        })
        .await;
        match built {
            Ok((engine, summary)) => {
                handle.replace(engine);
                tracing::info!(target: "emrguard::watch", state = %summary, build_ms = t.elapsed().as_millis() as u64, "cluster state updated");
            }
            Err(e) => {
                handle.watch_error();
                tracing::error!(target: "emrguard::watch", error = %e, "building the cluster state failed; keeping the previous one");
            }
        }
        changed.notified().await;
        // A fixed delay after the first change: a burst (a Helm release, a namespace
        // bootstrap) becomes one rebuild.
        tokio::time::sleep(debounce).await;
    }
}

/// A client for the cluster emrguard runs in (its service account token), or the one
/// `KUBECONFIG` / `~/.kube/config` names.
pub async fn connect() -> Result<Client, String> {
    Client::try_default().await.map_err(|e| e.to_string())
}

#[cfg(feature = "fake-api")]
pub mod fake;

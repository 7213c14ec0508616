//! emrguard's admission control: the same rules `check` audits, enforced at the API server.
//!
//! - [`decide`]: one `AdmissionReview` request → the [`rules::AdmissionRule`]s it breaks → the
//!   response after each rule's [`config::Mode`] (`enforce`, `warn`, `audit`, `off`).
//! - [`rbac`]: RBAC objects evaluated with the RBAC engine against the cluster state.
//! - [`server`]: the HTTPS webhook (`emrguard serve`): `/validate`, `/validate/emr-namespace`,
//!   `/healthz`, `/readyz`, `/metrics`; TLS reload, bounded bodies, time-bounded evaluation.
//! - [`generate`]: the manifests to run it (`emrguard generate webhook`) and the
//!   ValidatingAdmissionPolicies for the request-only subset (`emrguard generate
//!   admission-policy`).
//!
//! # How EMR namespaces are known
//!
//! A namespace is an EMR namespace for the webhook when any of these says so: a live virtual
//! cluster on it in the `--snapshot`; the `[admission] emr_namespaces` list; the label
//! `emrguard.io/emr=true` (configurable) on the snapshot's Namespace object; or the request came
//! through `/validate/emr-namespace`, the path the generated ValidatingWebhookConfiguration
//! uses for namespaced resources behind `namespaceSelector: emrguard.io/emr=true`, so the API
//! server has already checked the label. Cluster-scoped objects (MutatingWebhookConfigurations,
//! ClusterRoles, ClusterRoleBindings, Namespaces) come through `/validate`.
//!
//! # Cluster state
//!
//! RBAC writes are judged against the cluster's RBAC objects: watched live with `serve --watch`
//! (crate `emrguard-watch`: Namespaces, Roles, ClusterRoles, RoleBindings, ClusterRoleBindings;
//! the engine is rebuilt and swapped through an [`EngineHandle`] after each burst of changes),
//! or read once from `--snapshot DIR` (tests, dry runs, clusters without the watch). A binding
//! to a role the state lacks cannot be evaluated and is refused (`unknown_roles = "deny"`, the
//! default) or allowed with a warning.
//!
//! # What admission cannot see
//!
//! Reads (`get`, `list`, `watch`) never reach admission webhooks, so secret reads cannot be
//! stopped here: `check` reports who can read secrets in EMR namespaces (RBAC005).

pub mod config;
pub mod decide;
pub mod generate;
pub mod handle;
pub mod metrics;
pub mod rbac;
pub mod review;
pub mod rules;
pub mod server;
pub mod state;

pub use config::{AdmissionConfig, AdmissionSettings, Mode};
pub use decide::{Decision, Engine, Scope, Violation};
pub use handle::EngineHandle;
pub use rules::AdmissionRule;
pub use state::ClusterState;

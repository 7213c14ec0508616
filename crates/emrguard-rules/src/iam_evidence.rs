//! Evidence for IAM findings: references to principals, path steps naming the policy, the
//! statement (index and Sid) and the patterns that matched, and source locations of policies.

use emrguard_iam::{
    action_matches, Effect, Evidence, Matched, PolicyOrigin, PolicySource, PrincipalPolicies,
    Statement, StatementRef,
};
use emrguard_model::aws::iam::{arn_resource_name, Role};
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, PathStep, Ref, SourceLoc, Subject};

/// `IamRole` / `IamUser` / `IamGroup` from an ARN.
pub fn principal_kind(arn: &str) -> Kind {
    match Kind::of_iam_arn(arn) {
        // Execution roles, node roles and submitters in IAM documents are roles unless their
        // ARN says otherwise.
        Kind::IamPrincipal => Kind::IamRole,
        k => k,
    }
}

pub fn role_ref(role: &Role) -> Ref {
    Ref::aws(Kind::IamRole, role.role_name.clone(), Some(&role.arn))
}

/// A Ref for an IAM principal by ARN.
pub fn principal_ref(arn: &str) -> Ref {
    Ref::aws(principal_kind(arn), arn_resource_name(arn), Some(arn))
}

pub fn principal_subject(arn: &str) -> Subject {
    Subject {
        kind: principal_kind(arn).into(),
        name: arn_resource_name(arn).to_owned(),
        namespace: None,
        arn: Some(arn.to_owned()),
        iam_principals: Vec::new(),
    }
}

pub fn principal_step(arn: &str) -> PathStep {
    PathStep::from_ref(&principal_ref(arn))
}

/// `InlinePolicy`, `ManagedPolicy`, `PermissionsBoundary`, `ServiceControlPolicy`, `TrustPolicy`.
pub fn policy_kind(o: &PolicyOrigin) -> Kind {
    match o.source {
        PolicySource::Inline => Kind::InlinePolicy,
        PolicySource::Managed => Kind::ManagedPolicy,
        PolicySource::PermissionsBoundary => Kind::PermissionsBoundary,
        PolicySource::ServiceControl => Kind::ServiceControlPolicy,
        PolicySource::Trust => Kind::TrustPolicy,
    }
}

/// `statement 0 (Sid "x")`.
pub fn statement_label(s: &StatementRef) -> String {
    match &s.sid {
        Some(sid) => format!("statement {} (Sid \"{sid}\")", s.index),
        None => format!("statement {}", s.index),
    }
}

/// A path step for a policy statement, with a detail.
pub fn policy_step(s: &StatementRef, detail: impl Into<String>) -> PathStep {
    let o = &s.policy;
    let mut name = o.name.clone();
    if let Some(v) = &o.version {
        name = format!("{name} ({v})");
    }
    let mut step = PathStep::new(policy_kind(o), name).arn(o.arn.as_deref());
    let mut d = detail.into();
    if let Some(g) = &s.via_group {
        d = format!("{d} (via group {g})");
    }
    if o.source == PolicySource::Inline || o.source == PolicySource::Trust {
        if let Some(owner) = &o.owner {
            d = format!("{d}; owner {owner}");
        }
    }
    step = step.detail(d);
    step
}

fn quote_list(items: &[&str]) -> String {
    let v: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    v.join(", ")
}

/// What a statement says, narrowed to the action patterns that cover `actions` (all patterns
/// when none does, or for `NotAction`): `Allow Action "s3:*" on Resource "*"`.
pub fn describe_statement(st: &Statement, actions: &[String]) -> String {
    let effect = match st.effect() {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    let (neg, patterns) = st.action_patterns();
    let shown: Vec<&str> = if neg {
        patterns.clone()
    } else {
        let hit: Vec<&str> = patterns
            .iter()
            .copied()
            .filter(|p| actions.iter().any(|a| action_matches(p, a)))
            .collect();
        if hit.is_empty() {
            patterns.clone()
        } else {
            hit
        }
    };
    let mut s = effect.to_owned();
    if let Some((pneg, principals)) = st.principals() {
        let v: Vec<String> = principals
            .iter()
            .map(|(k, v)| {
                if *k == "*" {
                    "\"*\"".to_owned()
                } else {
                    format!("{k} \"{v}\"")
                }
            })
            .collect();
        s.push_str(&format!(
            " {} [{}]",
            if pneg { "NotPrincipal" } else { "Principal" },
            v.join(", ")
        ));
    }
    s.push_str(&format!(
        " {} [{}]",
        if neg { "NotAction" } else { "Action" },
        quote_list(&shown)
    ));
    if let Some((rneg, res)) = st.resource_patterns() {
        s.push_str(&format!(
            " on {} [{}]",
            if rneg { "NotResource" } else { "Resource" },
            quote_list(&res)
        ));
    }
    if st.has_conditions() {
        let conds: Vec<String> = st
            .conditions()
            .into_iter()
            .map(|(op, k, v)| format!("{op} {k} {}", quote_list(&v)))
            .collect();
        s.push_str(&format!(" when {}", conds.join(" and ")));
    }
    s
}

/// The compiled statement a reference points at, among a principal's policies.
pub fn find_statement<'p>(p: &'p PrincipalPolicies, s: &StatementRef) -> Option<&'p Statement> {
    p.all_policies()
        .find(|a| a.origin == s.policy && a.via_group == s.via_group)
        .and_then(|a| {
            a.policy
                .statements()
                .iter()
                .find(|st| st.index() == s.index)
        })
}

/// A path step for a granting statement of a principal: the policy, the statement and the
/// patterns covering `actions`.
pub fn grant_step(p: &PrincipalPolicies, s: &StatementRef, actions: &[String]) -> PathStep {
    let what = find_statement(p, s)
        .map(|st| describe_statement(st, actions))
        .unwrap_or_default();
    policy_step(s, format!("{}: {what}", statement_label(s)))
}

/// A path step for decision evidence: which statement decided, and which of its patterns
/// matched the action and resource asked about.
pub fn evidence_step(ev: &Evidence, action: &str, resource: Option<&str>) -> PathStep {
    let mut d = format!(
        "{}: {} Action {} matches {action}",
        statement_label(&ev.statement),
        match ev.statement.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        },
        matched(&ev.action, "Action")
    );
    if let Some(r) = resource {
        if ev.resource != Matched::NoElement {
            d.push_str(&format!(
                ", Resource {} matches {r}",
                matched(&ev.resource, "Resource")
            ));
        }
    }
    if let Some(p) = &ev.principal {
        d.push_str(&format!(", Principal {}", matched(p, "Principal")));
    }
    policy_step(&ev.statement, d)
}

fn matched(m: &Matched, element: &str) -> String {
    match m {
        Matched::Pattern(p) => format!("\"{p}\""),
        other => other.describe(element),
    }
}

/// Where a policy is in the snapshot: the inline policy of its owner, the default version of a
/// managed policy, or the owner's trust policy.
pub fn policy_location(index: &EstateIndex<'_>, o: &PolicyOrigin) -> Option<SourceLoc> {
    match o.source {
        PolicySource::Inline => {
            let owner = o.owner.as_deref()?;
            match principal_kind(owner) {
                Kind::IamRole => {
                    let r = index.role(owner)?;
                    let i = r
                        .role_policy_list
                        .iter()
                        .position(|p| p.policy_name == o.name)?;
                    Some(r.loc.child("RolePolicyList").child(i))
                }
                Kind::IamUser => {
                    let u = index.user(owner)?;
                    let i = u
                        .user_policy_list
                        .iter()
                        .position(|p| p.policy_name == o.name)?;
                    Some(u.loc.child("UserPolicyList").child(i))
                }
                _ => {
                    let g = index.group(arn_resource_name(owner))?;
                    let i = g
                        .group_policy_list
                        .iter()
                        .position(|p| p.policy_name == o.name)?;
                    Some(g.loc.child("GroupPolicyList").child(i))
                }
            }
        }
        PolicySource::Managed
        | PolicySource::PermissionsBoundary
        | PolicySource::ServiceControl => {
            let p = index.managed_policy(o.arn.as_deref()?)?;
            let i = p.policy_version_list.iter().position(|v| {
                v.is_default_version
                    || Some(v.version_id.as_str()) == p.default_version_id.as_deref()
            });
            Some(match i {
                Some(i) => p.loc.child("PolicyVersionList").child(i),
                None => p.loc.clone(),
            })
        }
        PolicySource::Trust => {
            let r = index.role(o.owner.as_deref()?)?;
            Some(r.loc.child("AssumeRolePolicyDocument"))
        }
    }
}

/// The snapshot location of a principal (role or user).
pub fn principal_location(index: &EstateIndex<'_>, arn: &str) -> Option<SourceLoc> {
    match principal_kind(arn) {
        Kind::IamUser => index.user(arn).map(|u| u.loc.clone()),
        Kind::IamGroup => index.group(arn_resource_name(arn)).map(|g| g.loc.clone()),
        _ => index.role(arn).map(|r| r.loc.clone()),
    }
}

/// Region and account to build probe ARNs with: the region of the first EKS cluster or virtual
/// cluster of the snapshot (`us-east-1` when none), the account of `arn`.
pub fn region_of_snapshot(index: &EstateIndex<'_>) -> String {
    let snap = index.snap;
    snap.clusters
        .iter()
        .filter_map(|c| c.region())
        .chain(
            snap.virtual_clusters
                .iter()
                .filter_map(|v| v.arn.split(':').nth(3)),
        )
        .find(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_owned()
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

//! Principals (roles and users with their groups) as sets of compiled policies, and the
//! [`PolicyStore`] that compiles each managed policy once and shares it.

use crate::context::Context;
use crate::policy::{CompiledPolicy, PolicyKind};
use emrguard_model::aws::iam::{Group, ManagedPolicy, Role, User};
use serde::Serialize;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Where a policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySource {
    /// Embedded in a role, user or group.
    Inline,
    /// A customer or AWS managed policy.
    Managed,
    /// The permissions boundary.
    PermissionsBoundary,
    /// A service control policy.
    ServiceControl,
    /// A role's trust policy.
    Trust,
}

/// Identity of a policy, for evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PolicyOrigin {
    pub source: PolicySource,
    /// Policy name (for inline policies, the name within its owner).
    pub name: String,
    /// Managed policy ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Managed policy version (`v3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// ARN of the role, user or group an inline (or trust) policy belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl PolicyOrigin {
    /// `AmazonS3ReadOnlyAccess (arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, v2)` or
    /// `inline policy p of arn:...:role/r`.
    pub fn describe(&self) -> String {
        match self.source {
            PolicySource::Inline => format!(
                "inline policy {} of {}",
                self.name,
                self.owner.as_deref().unwrap_or("?")
            ),
            PolicySource::Trust => {
                format!("trust policy of {}", self.owner.as_deref().unwrap_or("?"))
            }
            _ => {
                let mut s = format!("{} ({}", self.name, self.arn.as_deref().unwrap_or("?"));
                if let Some(v) = &self.version {
                    s.push_str(", ");
                    s.push_str(v);
                }
                s.push(')');
                s
            }
        }
    }
}

/// A compiled policy with its origin, as attached to a principal.
#[derive(Debug, Clone)]
pub struct AttachedPolicy {
    pub origin: Arc<PolicyOrigin>,
    /// The group it reaches a user through.
    pub via_group: Option<Arc<str>>,
    pub policy: Arc<CompiledPolicy>,
}

/// Whether the principal is a role or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    Role,
    User,
}

/// Everything that decides what a principal may do.
#[derive(Debug, Clone)]
pub struct PrincipalPolicies {
    pub kind: PrincipalKind,
    pub arn: String,
    pub name: String,
    /// Identity policies: inline and attached managed (a user's include its groups').
    pub identity: Vec<AttachedPolicy>,
    /// The permissions boundary, when set and found.
    pub boundary: Option<AttachedPolicy>,
    /// A boundary ARN that is set but not in the snapshot: decisions that it could change
    /// become `Conditional`; risk classes ignore it (and say so).
    pub boundary_unresolved: Option<String>,
    /// SCPs by level (organization root, OUs..., account): each level must allow.
    pub scps: Vec<Vec<AttachedPolicy>>,
    /// Attached managed policy ARNs not in the snapshot.
    pub unresolved: Vec<String>,
    /// Groups named in the user's `GroupList` that are not in the snapshot.
    pub unresolved_groups: Vec<String>,
    /// Tags (principal tags for `aws:PrincipalTag/...`).
    pub tags: Vec<(String, String)>,
}

impl PrincipalPolicies {
    /// A principal made of the given identity policies (for baselines and tests).
    pub fn synthetic(
        arn: &str,
        policies: Vec<(PolicyOrigin, Arc<CompiledPolicy>)>,
    ) -> PrincipalPolicies {
        PrincipalPolicies {
            kind: PrincipalKind::Role,
            arn: arn.to_owned(),
            name: emrguard_model::aws::iam::arn_resource_name(arn).to_owned(),
            identity: policies
                .into_iter()
                .map(|(o, policy)| AttachedPolicy {
                    origin: Arc::new(o),
                    via_group: None,
                    policy,
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

    /// A principal holding some managed policies of a store (unknown ARNs are listed in
    /// `unresolved`).
    pub fn from_store(arn: &str, store: &PolicyStore, managed_arns: &[&str]) -> PrincipalPolicies {
        let mut p = PrincipalPolicies::synthetic(arn, Vec::new());
        for a in managed_arns {
            store.attach_managed(a, None, &mut p);
        }
        p
    }

    /// Every policy: identity, boundary, SCPs.
    pub fn all_policies(&self) -> impl Iterator<Item = &AttachedPolicy> {
        self.identity
            .iter()
            .chain(self.boundary.iter())
            .chain(self.scps.iter().flatten())
    }

    /// A context with what the principal itself determines: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username` (users),
    /// `aws:PrincipalTag/*`. Other keys stay unknown.
    pub fn context(&self) -> Context {
        let mut c = Context::new();
        c.set("aws:PrincipalArn", vec![self.arn.clone()]);
        if let Some(acct) = emrguard_model::aws::iam::arn_account(&self.arn) {
            c.set("aws:PrincipalAccount", vec![acct.to_owned()]);
        }
        match self.kind {
            PrincipalKind::User => {
                c.set("aws:PrincipalType", vec!["User".to_owned()]);
                c.set("aws:username", vec![self.name.clone()]);
            }
            PrincipalKind::Role => {
                c.set("aws:PrincipalType", vec!["AssumedRole".to_owned()]);
                c.set_absent("aws:username");
            }
        }
        for (k, v) in &self.tags {
            c.set(&format!("aws:PrincipalTag/{k}"), vec![v.clone()]);
        }
        c
    }
}

/// Compiled documents by content hash: (text, policy).
type DocCache = HashMap<u64, Vec<(Arc<str>, Arc<CompiledPolicy>)>>;

fn doc_hash(text: &str, kind: PolicyKind) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    kind.hash(&mut h);
    h.finish()
}

/// Managed policies compiled once, shared (`Arc`) by every principal, plus a cache of inline
/// documents by content (identical inline policies on many roles compile once).
///
/// `PolicyStore` is `Sync`: build principals from many threads at once.
#[derive(Debug, Default)]
pub struct PolicyStore {
    managed: HashMap<String, (Arc<PolicyOrigin>, Arc<CompiledPolicy>)>,
    /// hash -> (text, policy); the text is kept to rule out hash collisions.
    docs: Mutex<DocCache>,
}

impl PolicyStore {
    pub fn new() -> Self {
        PolicyStore::default()
    }

    /// A store holding every given managed policy (default versions), compiled.
    pub fn from_managed<'a>(policies: impl IntoIterator<Item = &'a ManagedPolicy>) -> Self {
        let mut s = PolicyStore::new();
        for p in policies {
            s.add_managed(p);
        }
        s
    }

    /// Compile and add a managed policy's default version (replaces one with the same ARN).
    pub fn add_managed(&mut self, p: &ManagedPolicy) {
        let (version, text) = default_version(p);
        let compiled = self.compile(&text, PolicyKind::Identity);
        let origin = Arc::new(PolicyOrigin {
            source: PolicySource::Managed,
            name: p.policy_name.clone(),
            arn: Some(p.arn.clone()),
            version,
            owner: None,
        });
        self.managed.insert(p.arn.clone(), (origin, compiled));
    }

    /// Add an already compiled managed policy.
    pub fn add_compiled(
        &mut self,
        arn: &str,
        name: &str,
        version: Option<&str>,
        policy: Arc<CompiledPolicy>,
    ) {
        let origin = Arc::new(PolicyOrigin {
            source: PolicySource::Managed,
            name: name.to_owned(),
            arn: Some(arn.to_owned()),
            version: version.map(str::to_owned),
            owner: None,
        });
        self.managed.insert(arn.to_owned(), (origin, policy));
    }

    /// The compiled default version of a managed policy.
    pub fn managed(&self, arn: &str) -> Option<(&Arc<PolicyOrigin>, &Arc<CompiledPolicy>)> {
        self.managed.get(arn).map(|(o, p)| (o, p))
    }

    /// Number of managed policies.
    pub fn managed_len(&self) -> usize {
        self.managed.len()
    }

    /// Managed policies (ARN, origin, compiled), in no particular order.
    pub fn managed_iter(
        &self,
    ) -> impl Iterator<Item = (&str, &Arc<PolicyOrigin>, &Arc<CompiledPolicy>)> {
        self.managed.iter().map(|(a, (o, p))| (a.as_str(), o, p))
    }

    /// Compile a document, reusing an earlier compilation of the same text.
    pub fn compile(&self, text: &str, kind: PolicyKind) -> Arc<CompiledPolicy> {
        let h = doc_hash(text, kind);
        if let Ok(map) = self.docs.lock() {
            if let Some(list) = map.get(&h) {
                if let Some((_, p)) = list.iter().find(|(t, p)| &**t == text && p.kind() == kind) {
                    return p.clone();
                }
            }
        }
        let compiled = Arc::new(CompiledPolicy::parse(text, kind));
        if let Ok(mut map) = self.docs.lock() {
            map.entry(h)
                .or_default()
                .push((text.into(), compiled.clone()));
        }
        compiled
    }

    /// An inline policy of `owner` (a role, user or group ARN), through group `via` for a
    /// user's group policies.
    fn attach_inline(
        &self,
        p: &emrguard_model::aws::iam::InlinePolicy,
        owner: &str,
        via: Option<&Arc<str>>,
        out: &mut PrincipalPolicies,
    ) {
        out.identity.push(AttachedPolicy {
            origin: Arc::new(PolicyOrigin {
                source: PolicySource::Inline,
                name: p.policy_name.clone(),
                arn: None,
                version: None,
                owner: Some(owner.to_owned()),
            }),
            via_group: via.cloned(),
            policy: self.compile(p.policy_document.text(), PolicyKind::Identity),
        });
    }

    fn attach_managed(&self, arn: &str, via: Option<&Arc<str>>, out: &mut PrincipalPolicies) {
        match self.managed.get(arn) {
            Some((origin, policy)) => out.identity.push(AttachedPolicy {
                origin: origin.clone(),
                via_group: via.cloned(),
                policy: policy.clone(),
            }),
            None => {
                if !out.unresolved.iter().any(|u| u == arn) {
                    out.unresolved.push(arn.to_owned());
                }
            }
        }
    }

    fn boundary(&self, arn: Option<&str>, out: &mut PrincipalPolicies) {
        let Some(arn) = arn.filter(|a| !a.is_empty()) else {
            return;
        };
        match self.managed.get(arn) {
            Some((origin, policy)) => {
                let mut o = (**origin).clone();
                o.source = PolicySource::PermissionsBoundary;
                out.boundary = Some(AttachedPolicy {
                    origin: Arc::new(o),
                    via_group: None,
                    policy: policy.clone(),
                });
            }
            None => out.boundary_unresolved = Some(arn.to_owned()),
        }
    }

    /// A role's policies: inline, attached managed, permissions boundary.
    pub fn principal_from_role(&self, role: &Role) -> PrincipalPolicies {
        let mut out = PrincipalPolicies {
            kind: PrincipalKind::Role,
            arn: role.arn.clone(),
            name: role.role_name.clone(),
            identity: Vec::with_capacity(
                role.role_policy_list.len() + role.attached_managed_policies.len(),
            ),
            boundary: None,
            boundary_unresolved: None,
            scps: Vec::new(),
            unresolved: Vec::new(),
            unresolved_groups: Vec::new(),
            tags: role
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
        };
        for p in &role.role_policy_list {
            self.attach_inline(p, &role.arn, None, &mut out);
        }
        for a in &role.attached_managed_policies {
            self.attach_managed(&a.policy_arn, None, &mut out);
        }
        self.boundary(
            role.permissions_boundary
                .as_ref()
                .map(|b| b.permissions_boundary_arn.as_str()),
            &mut out,
        );
        out
    }

    /// A user's policies, including those of its groups (looked up by name).
    pub fn principal_from_user<'g>(
        &self,
        user: &User,
        groups: &impl Fn(&str) -> Option<&'g Group>,
    ) -> PrincipalPolicies {
        let mut out = PrincipalPolicies {
            kind: PrincipalKind::User,
            arn: user.arn.clone(),
            name: user.user_name.clone(),
            identity: Vec::new(),
            boundary: None,
            boundary_unresolved: None,
            scps: Vec::new(),
            unresolved: Vec::new(),
            unresolved_groups: Vec::new(),
            tags: user
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
        };
        for p in &user.user_policy_list {
            self.attach_inline(p, &user.arn, None, &mut out);
        }
        for a in &user.attached_managed_policies {
            self.attach_managed(&a.policy_arn, None, &mut out);
        }
        for gname in &user.group_list {
            let Some(g) = groups(gname) else {
                out.unresolved_groups.push(gname.clone());
                continue;
            };
            let via: Arc<str> = g.group_name.as_str().into();
            for p in &g.group_policy_list {
                self.attach_inline(p, &g.arn, Some(&via), &mut out);
            }
            for a in &g.attached_managed_policies {
                self.attach_managed(&a.policy_arn, Some(&via), &mut out);
            }
        }
        self.boundary(
            user.permissions_boundary
                .as_ref()
                .map(|b| b.permissions_boundary_arn.as_str()),
            &mut out,
        );
        out
    }
}

/// The default version's id and document text (empty text when the policy has none).
pub fn default_version(p: &ManagedPolicy) -> (Option<String>, String) {
    let v = p
        .policy_version_list
        .iter()
        .find(|v| v.is_default_version)
        .or_else(|| {
            let id = p.default_version_id.as_deref()?;
            p.policy_version_list.iter().find(|v| v.version_id == id)
        });
    match v {
        Some(v) => (
            Some(v.version_id.clone()).filter(|s| !s.is_empty()),
            v.document
                .as_ref()
                .map(|d| d.text().to_owned())
                .unwrap_or_default(),
        ),
        None => (p.default_version_id.clone(), String::new()),
    }
}

/// A role's policies, looking managed policies up with `policies` (compiled here, not shared:
/// for many principals use a [`PolicyStore`]).
pub fn principal_from_role<'p>(
    role: &Role,
    policies: &impl Fn(&str) -> Option<&'p ManagedPolicy>,
) -> PrincipalPolicies {
    let mut store = PolicyStore::new();
    for a in &role.attached_managed_policies {
        if let Some(p) = policies(&a.policy_arn) {
            store.add_managed(p);
        }
    }
    if let Some(b) = &role.permissions_boundary {
        if let Some(p) = policies(&b.permissions_boundary_arn) {
            store.add_managed(p);
        }
    }
    store.principal_from_role(role)
}

/// A user's policies with its groups' (see [`principal_from_role`]).
pub fn principal_from_user<'p, 'g>(
    user: &User,
    groups: &impl Fn(&str) -> Option<&'g Group>,
    policies: &impl Fn(&str) -> Option<&'p ManagedPolicy>,
) -> PrincipalPolicies {
    let mut store = PolicyStore::new();
    let mut arns: Vec<&str> = user
        .attached_managed_policies
        .iter()
        .map(|a| a.policy_arn.as_str())
        .collect();
    for g in &user.group_list {
        if let Some(g) = groups(g) {
            arns.extend(
                g.attached_managed_policies
                    .iter()
                    .map(|a| a.policy_arn.as_str()),
            );
        }
    }
    if let Some(b) = &user.permissions_boundary {
        arns.push(&b.permissions_boundary_arn);
    }
    for a in arns {
        if let Some(p) = policies(a) {
            store.add_managed(p);
        }
    }
    store.principal_from_user(user, groups)
}

/// Attach service control policies (by level: root, OUs, account) to a principal.
pub fn with_scps(
    mut p: PrincipalPolicies,
    levels: Vec<Vec<(PolicyOrigin, Arc<CompiledPolicy>)>>,
) -> PrincipalPolicies {
    p.scps = levels
        .into_iter()
        .map(|level| {
            level
                .into_iter()
                .map(|(mut o, policy)| {
                    o.source = PolicySource::ServiceControl;
                    AttachedPolicy {
                        origin: Arc::new(o),
                        via_group: None,
                        policy,
                    }
                })
                .collect()
        })
        .collect();
    p
}

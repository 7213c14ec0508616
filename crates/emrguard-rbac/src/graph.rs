//! The RBAC graph: roles with their aggregated rules, bindings indexed by namespace and by
//! subject, and the queries ([`RbacGraph::can`], [`RbacGraph::subjects_with`],
//! [`RbacGraph::capabilities`]).

use crate::capability::{CapHit, CompiledProbes, Scope};
use crate::identity::{namespace_pattern_matches, AccessPolicyBinding, AccessScope, PolicyCatalog};
use crate::rule::{rule_text, CompiledRule, Vocab};
use crate::selector::Selector;
use emrguard_model::{Capability, Kind, Located, PathStep, SourceLoc, Subject};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject as K8sSubject,
};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock};

/// The group the API server authorizes for everything before RBAC is consulted.
pub const SUPERUSER_GROUP: &str = "system:masters";

/// Everything the graph is built from. Slices borrow the snapshot; the graph copies what it keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct RbacObjects<'a> {
    pub roles: &'a [Located<Role>],
    pub cluster_roles: &'a [Located<ClusterRole>],
    pub role_bindings: &'a [Located<RoleBinding>],
    pub cluster_role_bindings: &'a [Located<ClusterRoleBinding>],
    /// EKS access-policy associations ([`crate::IdentityMap::access_policy_bindings`]); they
    /// authorize alongside RBAC, so the graph treats each as a binding of the IAM principal to
    /// the policy's rules.
    pub access_policies: &'a [AccessPolicyBinding],
}

/// What kind of object grants: a Kubernetes binding, an EKS access-policy association, or the
/// API server's built-in `system:masters` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
    AccessPolicyAssociation,
    /// `system:masters`: authorized for everything by the API server, with or without bindings.
    SuperuserGroup,
}

impl BindingKind {
    pub fn kind(self) -> Kind {
        match self {
            BindingKind::RoleBinding => Kind::RoleBinding,
            BindingKind::ClusterRoleBinding => Kind::ClusterRoleBinding,
            BindingKind::AccessPolicyAssociation => Kind::AccessPolicyAssociation,
            BindingKind::SuperuserGroup => Kind::SuperuserGroup,
        }
    }
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }
}

/// What kind of object holds the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleKind {
    Role,
    ClusterRole,
    /// An EKS access policy (rules from the crate's data file).
    AccessPolicy,
    /// Rules built into the API server (`system:masters`).
    Builtin,
}

impl RoleKind {
    pub fn kind(self) -> Kind {
        match self {
            RoleKind::Role => Kind::Role,
            RoleKind::ClusterRole => Kind::ClusterRole,
            RoleKind::AccessPolicy => Kind::AccessPolicy,
            RoleKind::Builtin => Kind::BuiltinRole,
        }
    }
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }
}

/// A binding as evidence. `namespace` is `None` for cluster-wide grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BindingInfo {
    pub kind: BindingKind,
    pub name: String,
    pub namespace: Option<String>,
    pub loc: Option<SourceLoc>,
}

/// A role as evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleInfo {
    pub kind: RoleKind,
    pub name: String,
    pub namespace: Option<String>,
    pub loc: Option<SourceLoc>,
}

/// Why a subject may do something: binding → role → rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub binding: Arc<BindingInfo>,
    /// The role the binding references.
    pub role: Arc<RoleInfo>,
    /// The ClusterRole the rule physically lives in when it reached `role` through
    /// `aggregationRule` (e.g. `system:aggregate-to-edit` for a rule of `admin`).
    pub aggregated_from: Option<Arc<RoleInfo>>,
    /// Index of the rule in its own role's `rules` (the `aggregated_from` role if set).
    pub rule_index: usize,
    pub rule: Arc<str>,
    /// Non-empty: the rule only covers these object names.
    pub resource_names: Vec<String>,
    /// Which request of the capability the rule allows (from [`RbacGraph::capabilities`]).
    pub detail: Option<&'static str>,
    /// How strong that request is for the capability: 0 is its primary request (`create
    /// pods/exec`), higher are weaker forms (`get pods/exec`). Evidence lists the strongest first.
    pub rank: u8,
}

impl Grant {
    /// The rule is restricted to named objects (`resourceNames`).
    pub fn restricted(&self) -> bool {
        !self.resource_names.is_empty()
    }

    /// Evidence chain: binding, role, [aggregated-from role], with the rule in the last step's
    /// detail.
    pub fn path(&self) -> Vec<PathStep> {
        let mut out = vec![
            PathStep::new(self.binding.kind.kind(), self.binding.name.clone())
                .namespace(self.binding.namespace.as_deref()),
        ];
        let rule = match self.detail {
            Some(why) => format!("rule {}: {} (allows {why})", self.rule_index, self.rule),
            None => format!("rule {}: {}", self.rule_index, self.rule),
        };
        let role = PathStep::new(self.role.kind.kind(), self.role.name.clone())
            .namespace(self.role.namespace.as_deref());
        match &self.aggregated_from {
            Some(from) => {
                out.push(role.detail("aggregates the next role (aggregationRule)"));
                out.push(
                    PathStep::new(from.kind.kind(), from.name.clone())
                        .namespace(from.namespace.as_deref())
                        .detail(rule),
                );
            }
            None => out.push(role.detail(rule)),
        }
        out
    }

    /// Source locations of the binding and role(s), for a finding's `locations`.
    pub fn locations(&self) -> Vec<&SourceLoc> {
        [
            self.binding.loc.as_ref(),
            self.role.loc.as_ref(),
            self.aggregated_from.as_ref().and_then(|r| r.loc.as_ref()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// An authorization question: may someone `verb` `group`/`resource`, optionally `/subresource` (named
/// `name`) in `namespace` (`None` = a cluster-scoped or all-namespaces request, which only
/// cluster-wide grants allow)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn new(verb: &'a str, group: &'a str, resource: &'a str) -> Self {
        Request {
            verb,
            group,
            resource,
            subresource: None,
            namespace: None,
            name: None,
        }
    }
    pub fn subresource(mut self, sub: &'a str) -> Self {
        self.subresource = Some(sub);
        self
    }
    pub fn namespace(mut self, ns: &'a str) -> Self {
        self.namespace = Some(ns);
        self
    }
    pub fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }
}

/// Who asks, as the API server sees it: a user name, its groups, and (for EKS access policies)
/// the IAM principal it authenticated as. Constructors add the implicit groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub iam_principal: Option<String>,
}

impl Identity {
    /// A user; adds `system:authenticated` (`system:unauthenticated` for `system:anonymous`).
    /// `system:serviceaccount:<ns>:<name>` becomes [`Identity::service_account`].
    pub fn user(name: &str) -> Identity {
        if let Some((ns, sa)) = split_sa_username(name) {
            return Identity::service_account(ns, sa);
        }
        let implicit = if name == "system:anonymous" {
            "system:unauthenticated"
        } else {
            "system:authenticated"
        };
        Identity {
            user: Some(name.to_owned()),
            groups: vec![implicit.to_owned()],
            iam_principal: None,
        }
    }

    /// A service account; adds `system:serviceaccounts`, `system:serviceaccounts:<ns>` and
    /// `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Identity {
        Identity {
            user: Some(format!("system:serviceaccount:{namespace}:{name}")),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ],
            iam_principal: None,
        }
    }

    /// Membership of one group only: what binding the group confers, without the implicit
    /// groups every member also has.
    pub fn group(name: &str) -> Identity {
        Identity {
            user: None,
            groups: vec![name.to_owned()],
            iam_principal: None,
        }
    }

    /// An IAM principal authenticated to EKS (access policies apply; add the user and groups it
    /// maps to with [`Identity::with_groups`] / the `user` field).
    pub fn iam(arn: &str) -> Identity {
        Identity {
            user: None,
            groups: vec!["system:authenticated".to_owned()],
            iam_principal: Some(arn.to_owned()),
        }
    }

    pub fn with_groups<I, S>(mut self, groups: I) -> Identity
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for g in groups {
            let g = g.into();
            if !self.groups.contains(&g) {
                self.groups.push(g);
            }
        }
        self
    }

    /// From a finding subject: `User`, `Group`, `ServiceAccount`, or an IAM principal (any
    /// subject with an `arn`).
    pub fn from_subject(s: &Subject) -> Identity {
        match s.kind.as_str() {
            "User" => Identity::user(&s.name),
            "Group" => Identity::group(&s.name),
            "ServiceAccount" => {
                Identity::service_account(s.namespace.as_deref().unwrap_or(""), &s.name)
            }
            _ => match &s.arn {
                Some(arn) => Identity::iam(arn),
                None => Identity::default(),
            },
        }
    }
}

/// `system:serviceaccount:<ns>:<name>` → (ns, name), as `serviceaccount.SplitUsername`.
pub(crate) fn split_sa_username(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("system:serviceaccount:")?;
    let (ns, sa) = rest.split_once(':')?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains(':')).then_some((ns, sa))
}

/// What is wrong with an RBAC object. The graph never fails; it reports and carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueKind {
    /// A binding references a role that is not in the snapshot: it grants nothing (now), but it
    /// will the moment someone creates the role.
    DanglingRoleRef,
    /// A roleRef the API server would reject (a ClusterRoleBinding to a Role, an unknown kind).
    InvalidRoleRef,
    /// A subject that can never match (unknown kind, service account without namespace).
    InvalidSubject,
    /// An aggregation selector the controller would reject: it selects nothing.
    InvalidSelector,
    /// An object without a name, or a namespaced object without a namespace.
    MissingField,
    /// The same object twice in the snapshot: the first (by source location) is used.
    Duplicate,
    /// A rule resource like `pods/*`: the API server does not treat it as a wildcard, so it
    /// grants nothing, whatever its author meant.
    IneffectiveWildcard,
    /// An EKS access policy whose rules emrguard does not know: it grants nothing in the model.
    UnknownAccessPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RbacIssue {
    pub kind: IssueKind,
    /// `RoleBinding team-a/edit-binding`, ...
    pub object: String,
    pub loc: Option<SourceLoc>,
    pub message: String,
}

/// What one subject may do in a namespace, per capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectCapabilities {
    pub subject: Subject,
    pub capabilities: BTreeMap<Capability, Evidence>,
}

/// The grants behind one capability of one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Grants that confer the capability.
    pub grants: Vec<Grant>,
    /// Name-restricted grants (`resourceNames`): listed, but they do not confer it.
    pub restricted: Vec<Grant>,
}

impl Evidence {
    /// The subject holds the capability (some unrestricted grant confers it).
    pub fn held(&self) -> bool {
        !self.grants.is_empty()
    }
}

/// One rule of a role after aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRule {
    /// The role the rule is written in (differs from the asked role when aggregated).
    pub source: Arc<RoleInfo>,
    pub index: usize,
    pub rule: PolicyRule,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum SubjectKey {
    User(Arc<str>),
    Group(Arc<str>),
    ServiceAccount(Arc<str>, Arc<str>),
    Iam(Arc<str>),
}

impl SubjectKey {
    fn user(name: &str) -> SubjectKey {
        match split_sa_username(name) {
            Some((ns, sa)) => SubjectKey::ServiceAccount(ns.into(), sa.into()),
            None => SubjectKey::User(name.into()),
        }
    }

    fn to_subject(&self) -> Subject {
        let mk = |kind: &str, name: &str, ns: Option<&str>, arn: Option<&str>| Subject {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: ns.map(str::to_owned),
            arn: arn.map(str::to_owned),
            iam_principals: arn.map(|a| vec![a.to_owned()]).unwrap_or_default(),
        };
        match self {
            SubjectKey::User(n) => mk("User", n, None, None),
            SubjectKey::Group(n) => mk("Group", n, None, None),
            SubjectKey::ServiceAccount(ns, n) => mk("ServiceAccount", n, Some(ns), None),
            SubjectKey::Iam(arn) => {
                let (kind, name) = iam_kind_and_name(arn);
                mk(kind.as_str(), name, None, Some(arn))
            }
        }
    }
}

/// The kind (`IamRole`, `IamUser`, ...) and the last path segment of an IAM ARN.
pub(crate) fn iam_kind_and_name(arn: &str) -> (Kind, &str) {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let name = resource.rsplit('/').next().unwrap_or(resource);
    (Kind::of_iam_arn(arn), name)
}

struct RuleRec {
    role: u32,
    index: usize,
    policy: PolicyRule,
    compiled: CompiledRule,
    caps: Vec<CapHit>,
    text: OnceLock<Arc<str>>,
}

struct RoleRec {
    info: Arc<RoleInfo>,
    labels: Option<BTreeMap<String, String>>,
    own: Vec<u32>,
    effective: Vec<u32>,
    cap_rules: Vec<u32>,
}

#[derive(Clone, PartialEq, Eq)]
enum BScope {
    Namespace(Arc<str>),
    /// An access-policy association scoped to a wildcard namespace name (`emr-*`).
    Pattern(Arc<str>),
    Cluster,
}

struct BindingRec {
    info: Arc<BindingInfo>,
    scope: BScope,
    role: u32,
    subjects: Vec<u32>,
}

/// The evaluator. Build once per snapshot with [`RbacGraph::new`]; queries are read-only.
pub struct RbacGraph {
    vocab: Vocab,
    roles: Vec<RoleRec>,
    rules: Vec<RuleRec>,
    bindings: Vec<BindingRec>,
    subjects: Vec<SubjectKey>,
    subject_ids: HashMap<SubjectKey, u32>,
    by_subject: Vec<Vec<u32>>,
    by_namespace: HashMap<Arc<str>, Vec<u32>>,
    /// Bindings whose namespace is a wildcard pattern (access-policy scopes).
    pattern_bindings: Vec<u32>,
    cluster_bindings: Vec<u32>,
    /// kind → namespace (empty for cluster-wide kinds) → name → role id.
    role_index: HashMap<RoleKind, HashMap<String, HashMap<String, u32>>>,
    issues: Vec<RbacIssue>,
    cluster_caps: OnceLock<CapAcc>,
}

/// Capability evidence being gathered, by subject id.
type CapAcc = BTreeMap<u32, BTreeMap<Capability, Evidence>>;

/// Sort and de-duplicate the grant lists of the touched entries (the others already are).
fn sort_evidence(acc: &mut CapAcc, touched: &[(u32, Capability)]) {
    let mut touched = touched.to_vec();
    touched.sort_unstable();
    touched.dedup();
    for (sid, cap) in touched {
        if let Some(ev) = acc.get_mut(&sid).and_then(|c| c.get_mut(&cap)) {
            // Strongest request first, then the usual order: `grants[0]` is what to cite.
            ev.grants.sort_by(|a, b| (a.rank, a).cmp(&(b.rank, b)));
            ev.grants.dedup();
            ev.restricted.sort();
            ev.restricted.dedup();
        }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

struct PendingBinding {
    kind: BindingKind,
    name: String,
    namespace: Option<String>,
    loc: Option<SourceLoc>,
    role: u32,
    subjects: Vec<SubjectKey>,
}

impl RbacGraph {
    /// Build the graph. Never fails: broken objects become [`RbacGraph::issues`].
    pub fn new(objects: RbacObjects<'_>) -> RbacGraph {
        let mut g = RbacGraph {
            vocab: Vocab::default(),
            roles: Vec::new(),
            rules: Vec::new(),
            bindings: Vec::new(),
            subjects: Vec::new(),
            subject_ids: HashMap::new(),
            by_subject: Vec::new(),
            by_namespace: HashMap::new(),
            pattern_bindings: Vec::new(),
            cluster_bindings: Vec::new(),
            role_index: HashMap::new(),
            issues: Vec::new(),
            cluster_caps: OnceLock::new(),
        };
        g.add_roles(&objects);
        g.aggregate(objects.cluster_roles);
        let pending = g.collect_bindings(&objects);
        g.finish_rules();
        g.index_bindings(pending);
        g.issues.sort();
        g
    }

    fn issue(&mut self, kind: IssueKind, object: String, loc: Option<&SourceLoc>, message: String) {
        self.issues.push(RbacIssue {
            kind,
            object,
            loc: loc.cloned(),
            message,
        });
    }

    fn add_role(
        &mut self,
        info: RoleInfo,
        labels: Option<BTreeMap<String, String>>,
        rules: &[PolicyRule],
    ) -> u32 {
        let id = to_u32(self.roles.len());
        let mut own = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            for r in rule.resources.iter().flatten() {
                if r.len() > 2 && r.ends_with("/*") && !r.starts_with("*/") {
                    let object = format!(
                        "{} {}",
                        info.kind.as_str(),
                        qualified(info.namespace.as_deref(), &info.name)
                    );
                    self.issue(
                        IssueKind::IneffectiveWildcard,
                        object,
                        info.loc.as_ref(),
                        format!("rule {index}: resource `{r}` is not a wildcard in Kubernetes RBAC and grants nothing; list the subresources"),
                    );
                }
            }
            let rid = to_u32(self.rules.len());
            let compiled = self.vocab.compile(rule);
            self.rules.push(RuleRec {
                role: id,
                index,
                policy: rule.clone(),
                compiled,
                caps: Vec::new(),
                text: OnceLock::new(),
            });
            own.push(rid);
        }
        self.role_index
            .entry(info.kind)
            .or_default()
            .entry(info.namespace.clone().unwrap_or_default())
            .or_default()
            .insert(info.name.clone(), id);
        self.roles.push(RoleRec {
            info: Arc::new(info),
            labels,
            effective: own.clone(),
            own,
            cap_rules: Vec::new(),
        });
        id
    }

    fn add_roles(&mut self, objects: &RbacObjects<'_>) {
        // Sort by identity (then location) so ids, and so output, do not depend on file order.
        let mut roles: Vec<(String, String, &Located<Role>)> = Vec::new();
        for r in objects.roles {
            let Some(name) = r.metadata.name.clone() else {
                self.issue(
                    IssueKind::MissingField,
                    "Role".into(),
                    Some(&r.loc),
                    "Role without metadata.name: ignored".into(),
                );
                continue;
            };
            let ns = match &r.metadata.namespace {
                Some(ns) => ns.clone(),
                None => {
                    self.issue(
                        IssueKind::MissingField,
                        format!("Role {name}"),
                        Some(&r.loc),
                        "Role without metadata.namespace: it only matches RoleBindings that have no namespace either".into(),
                    );
                    String::new()
                }
            };
            roles.push((ns, name, r));
        }
        roles.sort_by(|a, b| (&a.0, &a.1, &a.2.loc).cmp(&(&b.0, &b.1, &b.2.loc)));
        let mut prev: Option<(String, String)> = None;
        for (ns, name, r) in roles {
            if prev.as_ref() == Some(&(ns.clone(), name.clone())) {
                self.issue(
                    IssueKind::Duplicate,
                    format!("Role {ns}/{name}"),
                    Some(&r.loc),
                    "duplicate Role: the first copy is used".into(),
                );
                continue;
            }
            prev = Some((ns.clone(), name.clone()));
            let info = RoleInfo {
                kind: RoleKind::Role,
                name,
                namespace: Some(ns),
                loc: Some(r.loc.clone()),
            };
            self.add_role(info, None, r.rules.as_deref().unwrap_or_default());
        }

        let mut crs: Vec<(String, &Located<ClusterRole>)> = Vec::new();
        for r in objects.cluster_roles {
            match r.metadata.name.clone() {
                Some(name) => crs.push((name, r)),
                None => self.issue(
                    IssueKind::MissingField,
                    "ClusterRole".into(),
                    Some(&r.loc),
                    "ClusterRole without metadata.name: ignored".into(),
                ),
            }
        }
        crs.sort_by(|a, b| (&a.0, &a.1.loc).cmp(&(&b.0, &b.1.loc)));
        let mut prev: Option<String> = None;
        for (name, r) in crs {
            if prev.as_ref() == Some(&name) {
                self.issue(
                    IssueKind::Duplicate,
                    format!("ClusterRole {name}"),
                    Some(&r.loc),
                    "duplicate ClusterRole: the first copy is used".into(),
                );
                continue;
            }
            prev = Some(name.clone());
            let info = RoleInfo {
                kind: RoleKind::ClusterRole,
                name,
                namespace: None,
                loc: Some(r.loc.clone()),
            };
            self.add_role(
                info,
                r.metadata.labels.clone(),
                r.rules.as_deref().unwrap_or_default(),
            );
        }

        // The API server authorizes system:masters before RBAC.
        let all = PolicyRule {
            verbs: vec!["*".into()],
            api_groups: Some(vec!["*".into()]),
            resources: Some(vec!["*".into()]),
            ..Default::default()
        };
        self.add_role(
            RoleInfo {
                kind: RoleKind::Builtin,
                name: SUPERUSER_GROUP.into(),
                namespace: None,
                loc: None,
            },
            None,
            &[all],
        );
    }

    /// Resolve `aggregationRule`s. The controller sets an aggregated ClusterRole's rules to the
    /// union of the rules of every ClusterRole its selectors match, and re-runs when those
    /// change, so chains (`admin` ← `edit` ← `view`) resolve transitively. Offline manifests carry
    /// `rules: null` on aggregated roles, and a live snapshot carries the controller's last
    /// result; emrguard unions the role's own rules with the rules of every role reachable
    /// through selectors, which is the controller's fixpoint and safe for both. Cycles end
    /// because each role is visited once.
    fn aggregate(&mut self, cluster_roles: &[Located<ClusterRole>]) {
        let mut selectors: Vec<(u32, Vec<Selector>)> = Vec::new();
        for cr in cluster_roles {
            let Some(rule) = &cr.aggregation_rule else {
                continue;
            };
            let Some(name) = cr.metadata.name.as_deref() else {
                continue;
            };
            let Some(id) = self.lookup_role(RoleKind::ClusterRole, "", name) else {
                continue;
            };
            if self
                .roles
                .get(id as usize)
                .and_then(|r| r.info.loc.as_ref())
                != Some(&cr.loc)
            {
                continue; // a duplicate copy that was dropped
            }
            let mut sels = Vec::new();
            for (i, s) in rule.cluster_role_selectors.iter().flatten().enumerate() {
                match Selector::compile(s) {
                    Ok(sel) => sels.push(sel),
                    Err(e) => self.issue(
                        IssueKind::InvalidSelector,
                        format!("ClusterRole {name}"),
                        Some(&cr.loc),
                        format!(
                            "aggregationRule.clusterRoleSelectors[{i}]: {e}; it selects nothing"
                        ),
                    ),
                }
            }
            selectors.push((id, sels));
        }
        if selectors.is_empty() {
            return;
        }
        let cluster_role_ids: Vec<u32> = self
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.info.kind == RoleKind::ClusterRole)
            .map(|(i, _)| to_u32(i))
            .collect();
        let mut edges: HashMap<u32, Vec<u32>> = HashMap::new();
        for (id, sels) in &selectors {
            let selected: Vec<u32> = cluster_role_ids
                .iter()
                .copied()
                .filter(|other| other != id)
                .filter(|other| {
                    let labels = self
                        .roles
                        .get(*other as usize)
                        .and_then(|r| r.labels.as_ref());
                    sels.iter().any(|s| s.matches(labels))
                })
                .collect();
            edges.insert(*id, selected);
        }
        for (id, _) in &selectors {
            let mut seen: HashSet<u32> = HashSet::from([*id]);
            let mut queue: VecDeque<u32> = VecDeque::from([*id]);
            let mut effective: Vec<u32> = self
                .roles
                .get(*id as usize)
                .map(|r| r.own.clone())
                .unwrap_or_default();
            while let Some(cur) = queue.pop_front() {
                for next in edges.get(&cur).into_iter().flatten() {
                    if seen.insert(*next) {
                        queue.push_back(*next);
                        if let Some(r) = self.roles.get(*next as usize) {
                            effective.extend(r.own.iter().copied());
                        }
                    }
                }
            }
            if let Some(r) = self.roles.get_mut(*id as usize) {
                r.effective = effective;
            }
        }
    }

    fn lookup_role(&self, kind: RoleKind, ns: &str, name: &str) -> Option<u32> {
        self.role_index.get(&kind)?.get(ns)?.get(name).copied()
    }

    fn subject_key(
        &mut self,
        s: &K8sSubject,
        binding_ns: Option<&str>,
        object: &str,
        loc: &SourceLoc,
    ) -> Option<SubjectKey> {
        match s.kind.as_str() {
            "User" => Some(SubjectKey::user(&s.name)),
            "Group" => Some(SubjectKey::Group(s.name.as_str().into())),
            "ServiceAccount" => {
                // As the authorizer's appliesToUser: default to the binding's namespace.
                match s
                    .namespace
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .or(binding_ns)
                {
                    Some(ns) => Some(SubjectKey::ServiceAccount(
                        ns.into(),
                        s.name.as_str().into(),
                    )),
                    None => {
                        self.issue(
                            IssueKind::InvalidSubject,
                            object.to_owned(),
                            Some(loc),
                            format!(
                                "ServiceAccount subject `{}` without namespace matches no one",
                                s.name
                            ),
                        );
                        None
                    }
                }
            }
            other => {
                self.issue(
                    IssueKind::InvalidSubject,
                    object.to_owned(),
                    Some(loc),
                    format!("subject kind `{other}` (name `{}`) matches no one", s.name),
                );
                None
            }
        }
    }

    fn resolve_ref(
        &mut self,
        rr: &RoleRef,
        ns: Option<&str>,
        object: &str,
        loc: &SourceLoc,
    ) -> Option<u32> {
        let (kind, key_ns) = match (rr.kind.as_str(), ns) {
            ("Role", Some(ns)) => (RoleKind::Role, ns),
            ("ClusterRole", _) => (RoleKind::ClusterRole, ""),
            ("Role", None) => {
                self.issue(
                    IssueKind::InvalidRoleRef,
                    object.to_owned(),
                    Some(loc),
                    format!("a ClusterRoleBinding cannot reference Role `{}`", rr.name),
                );
                return None;
            }
            (other, _) => {
                self.issue(
                    IssueKind::InvalidRoleRef,
                    object.to_owned(),
                    Some(loc),
                    format!("roleRef kind `{other}` is not Role or ClusterRole"),
                );
                return None;
            }
        };
        let found = self.lookup_role(kind, key_ns, &rr.name);
        if found.is_none() {
            self.issue(
                IssueKind::DanglingRoleRef,
                object.to_owned(),
                Some(loc),
                format!("references {} `{}`, which is not in the snapshot: grants nothing now, everything that role will hold once created", rr.kind, rr.name),
            );
        }
        found
    }

    fn collect_bindings(&mut self, objects: &RbacObjects<'_>) -> Vec<PendingBinding> {
        let mut out = Vec::new();
        for b in objects.role_bindings {
            let Some(name) = b.metadata.name.clone() else {
                self.issue(
                    IssueKind::MissingField,
                    "RoleBinding".into(),
                    Some(&b.loc),
                    "RoleBinding without metadata.name: ignored".into(),
                );
                continue;
            };
            let ns = b.metadata.namespace.clone().unwrap_or_else(|| {
                self.issue(
                    IssueKind::MissingField,
                    format!("RoleBinding {name}"),
                    Some(&b.loc),
                    "RoleBinding without metadata.namespace: it applies to no known namespace"
                        .into(),
                );
                String::new()
            });
            let object = format!("RoleBinding {ns}/{name}");
            let Some(role) = self.resolve_ref(&b.role_ref, Some(&ns), &object, &b.loc) else {
                continue;
            };
            let subjects = b
                .subjects
                .iter()
                .flatten()
                .filter_map(|s| self.subject_key(s, Some(&ns), &object, &b.loc))
                .collect();
            out.push(PendingBinding {
                kind: BindingKind::RoleBinding,
                name,
                namespace: Some(ns),
                loc: Some(b.loc.clone()),
                role,
                subjects,
            });
        }
        for b in objects.cluster_role_bindings {
            let Some(name) = b.metadata.name.clone() else {
                self.issue(
                    IssueKind::MissingField,
                    "ClusterRoleBinding".into(),
                    Some(&b.loc),
                    "ClusterRoleBinding without metadata.name: ignored".into(),
                );
                continue;
            };
            let object = format!("ClusterRoleBinding {name}");
            let Some(role) = self.resolve_ref(&b.role_ref, None, &object, &b.loc) else {
                continue;
            };
            let subjects = b
                .subjects
                .iter()
                .flatten()
                .filter_map(|s| self.subject_key(s, None, &object, &b.loc))
                .collect();
            out.push(PendingBinding {
                kind: BindingKind::ClusterRoleBinding,
                name,
                namespace: None,
                loc: Some(b.loc.clone()),
                role,
                subjects,
            });
        }
        if let Some(role) = self.lookup_role(RoleKind::Builtin, "", SUPERUSER_GROUP) {
            out.push(PendingBinding {
                kind: BindingKind::SuperuserGroup,
                name: SUPERUSER_GROUP.into(),
                namespace: None,
                loc: None,
                role,
                subjects: vec![SubjectKey::Group(SUPERUSER_GROUP.into())],
            });
        }
        self.collect_access_policies(objects.access_policies, &mut out);
        out
    }

    fn collect_access_policies(
        &mut self,
        assoc: &[AccessPolicyBinding],
        out: &mut Vec<PendingBinding>,
    ) {
        let catalog = PolicyCatalog::builtin();
        for a in assoc {
            let role = match self.lookup_role(RoleKind::AccessPolicy, "", &a.policy_name) {
                Some(id) => id,
                None => match catalog.rules(&a.policy_name) {
                    Some(rules) => self.add_role(
                        RoleInfo {
                            kind: RoleKind::AccessPolicy,
                            name: a.policy_name.clone(),
                            namespace: None,
                            loc: None,
                        },
                        None,
                        rules,
                    ),
                    None => {
                        self.issue(
                            IssueKind::UnknownAccessPolicy,
                            format!("AccessPolicyAssociation {} {}", a.principal_arn, a.policy_name),
                            a.loc.as_ref(),
                            format!("access policy `{}` is not in emrguard's catalog: treated as granting nothing", a.policy_arn),
                        );
                        continue;
                    }
                },
            };
            let subject = SubjectKey::Iam(a.principal_arn.as_str().into());
            let namespaces: Vec<Option<String>> = match &a.scope {
                AccessScope::Cluster => vec![None],
                AccessScope::Namespaces(ns) => ns.iter().cloned().map(Some).collect(),
            };
            for namespace in namespaces {
                out.push(PendingBinding {
                    kind: BindingKind::AccessPolicyAssociation,
                    name: a.policy_name.clone(),
                    namespace,
                    loc: a.loc.clone(),
                    role,
                    subjects: vec![subject.clone()],
                });
            }
        }
    }

    fn finish_rules(&mut self) {
        let probes = CompiledProbes::new(&self.vocab);
        for rule in &mut self.rules {
            rule.caps = probes.rule_capabilities(&rule.compiled, &rule.policy, &self.vocab);
        }
        let rules = &self.rules;
        for role in &mut self.roles {
            role.cap_rules = role
                .effective
                .iter()
                .copied()
                .filter(|r| rules.get(*r as usize).is_some_and(|r| !r.caps.is_empty()))
                .collect();
        }
    }

    fn intern_subject(&mut self, key: SubjectKey) -> u32 {
        if let Some(&id) = self.subject_ids.get(&key) {
            return id;
        }
        let id = to_u32(self.subjects.len());
        self.subjects.push(key.clone());
        self.subject_ids.insert(key, id);
        self.by_subject.push(Vec::new());
        id
    }

    fn index_bindings(&mut self, mut pending: Vec<PendingBinding>) {
        pending.sort_by(|a, b| {
            (a.kind, &a.namespace, &a.name, &a.loc, &a.subjects).cmp(&(
                b.kind,
                &b.namespace,
                &b.name,
                &b.loc,
                &b.subjects,
            ))
        });
        let mut prev: Option<(BindingKind, Option<String>, String)> = None;
        for p in pending {
            let key = (p.kind, p.namespace.clone(), p.name.clone());
            // Access-policy associations of different principals share kind/name/namespace.
            if p.kind != BindingKind::AccessPolicyAssociation && prev.as_ref() == Some(&key) {
                self.issue(
                    IssueKind::Duplicate,
                    format!(
                        "{} {}",
                        p.kind.as_str(),
                        qualified(p.namespace.as_deref(), &p.name)
                    ),
                    p.loc.as_ref(),
                    "duplicate binding: the first copy is used".into(),
                );
                continue;
            }
            prev = Some(key);
            let id = to_u32(self.bindings.len());
            let mut subjects: Vec<u32> = p
                .subjects
                .into_iter()
                .map(|s| self.intern_subject(s))
                .collect();
            subjects.sort_unstable();
            subjects.dedup();
            for s in &subjects {
                if let Some(list) = self.by_subject.get_mut(*s as usize) {
                    list.push(id);
                }
            }
            let scope = match (&p.kind, &p.namespace) {
                (BindingKind::AccessPolicyAssociation, Some(ns)) if ns.contains('*') => {
                    self.pattern_bindings.push(id);
                    BScope::Pattern(ns.as_str().into())
                }
                (BindingKind::RoleBinding | BindingKind::AccessPolicyAssociation, Some(ns)) => {
                    let ns: Arc<str> = ns.as_str().into();
                    self.by_namespace.entry(ns.clone()).or_default().push(id);
                    BScope::Namespace(ns)
                }
                _ => {
                    self.cluster_bindings.push(id);
                    BScope::Cluster
                }
            };
            self.bindings.push(BindingRec {
                info: Arc::new(BindingInfo {
                    kind: p.kind,
                    name: p.name,
                    namespace: p.namespace,
                    loc: p.loc,
                }),
                scope,
                role: p.role,
                subjects,
            });
        }
    }

    fn rule_text(&self, rule: &RuleRec) -> Arc<str> {
        rule.text
            .get_or_init(|| rule_text(&rule.policy).into())
            .clone()
    }

    fn grant(
        &self,
        b: &BindingRec,
        rule_id: u32,
        detail: Option<&'static str>,
        rank: u8,
    ) -> Option<Grant> {
        let role = self.roles.get(b.role as usize)?;
        let rule = self.rules.get(rule_id as usize)?;
        let aggregated_from = if rule.role != b.role {
            self.roles.get(rule.role as usize).map(|r| r.info.clone())
        } else {
            None
        };
        Some(Grant {
            binding: b.info.clone(),
            role: role.info.clone(),
            aggregated_from,
            rule_index: rule.index,
            rule: self.rule_text(rule),
            resource_names: rule.compiled.names().to_vec(),
            detail,
            rank,
        })
    }

    /// The first rule of the binding's role that allows the request.
    fn binding_allows(
        &self,
        b: &BindingRec,
        req: &crate::rule::CompiledRequest<'_>,
    ) -> Option<u32> {
        let role = self.roles.get(b.role as usize)?;
        role.effective.iter().copied().find(|r| {
            self.rules
                .get(*r as usize)
                .is_some_and(|r| r.compiled.matches(req))
        })
    }

    fn applies(b: &BindingRec, namespace: Option<&str>) -> bool {
        match &b.scope {
            BScope::Cluster => true,
            BScope::Namespace(ns) => namespace == Some(&**ns),
            BScope::Pattern(p) => namespace.is_some_and(|ns| namespace_pattern_matches(p, ns)),
        }
    }

    /// Wildcard-scoped bindings that cover `namespace`.
    fn pattern_bindings_for<'g>(
        &'g self,
        namespace: Option<&'g str>,
    ) -> impl Iterator<Item = &'g BindingRec> + 'g {
        self.pattern_bindings
            .iter()
            .filter_map(|b| self.bindings.get(*b as usize))
            .filter(move |b| Self::applies(b, namespace) && namespace.is_some())
    }

    /// May `who` make `req`? Exactly the API server's RBAC decision (plus `system:masters` and
    /// EKS access policies): `Some` carries the first grant that allows it, in a stable order.
    pub fn can(&self, who: &Identity, req: &Request<'_>) -> Option<Grant> {
        let creq = self
            .vocab
            .request(req.verb, req.group, req.resource, req.subresource, req.name);
        let mut keys: Vec<SubjectKey> = who
            .groups
            .iter()
            .map(|g| SubjectKey::Group(g.as_str().into()))
            .collect();
        if let Some(u) = &who.user {
            keys.push(SubjectKey::user(u));
        }
        if let Some(arn) = &who.iam_principal {
            keys.push(SubjectKey::Iam(arn.as_str().into()));
        }
        let mut candidates: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.subject_ids.get(k))
            .filter_map(|id| self.by_subject.get(*id as usize))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find_map(|bid| {
            let b = self.bindings.get(bid as usize)?;
            if !Self::applies(b, req.namespace) {
                return None;
            }
            let rule = self.binding_allows(b, &creq)?;
            self.grant(b, rule, None, 0)
        })
    }

    /// Bindings whose grants reach `namespace` (`None`: cluster-wide ones only).
    fn bindings_for<'g>(
        &'g self,
        namespace: Option<&'g str>,
    ) -> impl Iterator<Item = &'g BindingRec> + 'g {
        let ns = namespace
            .and_then(|n| self.by_namespace.get(n))
            .into_iter()
            .flatten();
        ns.chain(self.cluster_bindings.iter())
            .filter_map(|b| self.bindings.get(*b as usize))
            .chain(self.pattern_bindings_for(namespace))
    }

    /// Who may make `req` (who-can): every bound subject with the grant that allows it, one
    /// entry per (subject, binding), sorted. Subjects are as bound (a Group is reported as the
    /// group; expand members with [`crate::IdentityMap`]).
    pub fn subjects_with(&self, req: &Request<'_>) -> Vec<(Subject, Grant)> {
        let creq = self
            .vocab
            .request(req.verb, req.group, req.resource, req.subresource, req.name);
        let mut out = Vec::new();
        for b in self.bindings_for(req.namespace) {
            let Some(rule) = self.binding_allows(b, &creq) else {
                continue;
            };
            let Some(grant) = self.grant(b, rule, None, 0) else {
                continue;
            };
            for s in &b.subjects {
                if let Some(key) = self.subjects.get(*s as usize) {
                    out.push((key.to_subject(), grant.clone()));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every subject's capabilities in `namespace`, with the grants behind each. Only RoleBindings
    /// (and namespace-scoped access-policy associations) of that namespace and cluster-wide
    /// bindings are visited; cluster-scoped capabilities (mutating webhooks, impersonating users)
    /// count only through cluster-wide bindings. Name-restricted grants are listed in
    /// [`Evidence::restricted`] and do not make a capability held. Subjects with no capability
    /// and no restricted grant are left out. Subjects are as bound (expand Groups with
    /// [`crate::IdentityMap`]); Group `system:masters` is always there, through the API server's
    /// built-in rule ([`BindingKind::SuperuserGroup`]).
    ///
    /// Cost: the namespace's bindings plus a copy of the cluster-wide part (computed once), so
    /// about 2 ms per namespace on the 100,000-binding benchmark cluster.
    pub fn capabilities(&self, namespace: &str) -> Vec<SubjectCapabilities> {
        // Cluster-wide grants are the same for every namespace: computed (and sorted) once.
        let mut acc = self.cluster_acc().clone();
        let touched = self.accumulate(self.namespace_bindings(namespace), &mut acc);
        sort_evidence(&mut acc, &touched);
        self.to_capabilities(acc)
    }

    /// What cluster-wide bindings (ClusterRoleBindings, cluster-scoped access policies,
    /// `system:masters`) give each subject: the part of [`RbacGraph::capabilities`] that is the
    /// same in every namespace, including the cluster-scoped capabilities.
    pub fn cluster_capabilities(&self) -> Vec<SubjectCapabilities> {
        self.to_capabilities(self.cluster_acc().clone())
    }

    /// What the bindings of `namespace` alone (its RoleBindings, and access policies scoped to
    /// it by name or wildcard) give each subject there. With [`RbacGraph::cluster_capabilities`]
    /// this is [`RbacGraph::capabilities`], without repeating the cluster-wide part for every
    /// namespace.
    pub fn namespace_capabilities(&self, namespace: &str) -> Vec<SubjectCapabilities> {
        let mut acc = CapAcc::new();
        let touched = self.accumulate(self.namespace_bindings(namespace), &mut acc);
        sort_evidence(&mut acc, &touched);
        self.to_capabilities(acc)
    }

    fn cluster_acc(&self) -> &CapAcc {
        self.cluster_caps.get_or_init(|| {
            let mut acc = CapAcc::new();
            let bindings = self
                .cluster_bindings
                .iter()
                .filter_map(|b| self.bindings.get(*b as usize));
            let touched = self.accumulate(bindings, &mut acc);
            sort_evidence(&mut acc, &touched);
            acc
        })
    }

    fn namespace_bindings<'g>(
        &'g self,
        namespace: &'g str,
    ) -> impl Iterator<Item = &'g BindingRec> {
        self.by_namespace
            .get(namespace)
            .into_iter()
            .flatten()
            .filter_map(|b| self.bindings.get(*b as usize))
            .chain(self.pattern_bindings_for(Some(namespace)))
    }

    fn to_capabilities(&self, acc: CapAcc) -> Vec<SubjectCapabilities> {
        let mut out: Vec<SubjectCapabilities> = acc
            .into_iter()
            .filter_map(|(sid, capabilities)| {
                let subject = self.subjects.get(sid as usize)?.to_subject();
                Some(SubjectCapabilities {
                    subject,
                    capabilities,
                })
            })
            .collect();
        out.sort_by(|a, b| a.subject.cmp(&b.subject));
        out
    }

    /// Add the capability grants of `bindings`; returns the (subject, capability) entries touched.
    fn accumulate<'b>(
        &self,
        bindings: impl Iterator<Item = &'b BindingRec>,
        acc: &mut CapAcc,
    ) -> Vec<(u32, Capability)> {
        let mut touched = Vec::new();
        for b in bindings {
            if b.subjects.is_empty() {
                continue;
            }
            let cluster_wide = b.scope == BScope::Cluster;
            let Some(role) = self.roles.get(b.role as usize) else {
                continue;
            };
            for rid in &role.cap_rules {
                let Some(rule) = self.rules.get(*rid as usize) else {
                    continue;
                };
                for hit in &rule.caps {
                    if hit.scope == Scope::Cluster && !cluster_wide {
                        continue;
                    }
                    let Some(grant) = self.grant(b, *rid, Some(hit.why), hit.rank) else {
                        continue;
                    };
                    for s in &b.subjects {
                        touched.push((*s, hit.cap));
                        let ev = acc.entry(*s).or_default().entry(hit.cap).or_default();
                        if hit.restricted {
                            ev.restricted.push(grant.clone());
                        } else {
                            ev.grants.push(grant.clone());
                        }
                    }
                }
            }
        }
        touched
    }

    /// A role's rules after aggregation (own rules first), or `None` if there is no such role.
    /// `namespace` is only used for `RoleKind::Role`.
    pub fn effective_rules(
        &self,
        kind: RoleKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Vec<EffectiveRule>> {
        let ns = if kind == RoleKind::Role {
            namespace.unwrap_or("")
        } else {
            ""
        };
        let role = self.roles.get(self.lookup_role(kind, ns, name)? as usize)?;
        Some(
            role.effective
                .iter()
                .filter_map(|r| self.rules.get(*r as usize))
                .filter_map(|r| {
                    Some(EffectiveRule {
                        source: self.roles.get(r.role as usize)?.info.clone(),
                        index: r.index,
                        rule: r.policy.clone(),
                    })
                })
                .collect(),
        )
    }

    /// Problems found while building (dangling roleRefs, invalid selectors, ...), sorted.
    pub fn issues(&self) -> &[RbacIssue] {
        &self.issues
    }
}

fn qualified(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::AggregationRule;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        LabelSelector, LabelSelectorRequirement, ObjectMeta,
    };

    fn loc(s: &str) -> SourceLoc {
        SourceLoc::new(s, "", None)
    }
    fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: ns.map(Into::into),
            ..Default::default()
        }
    }
    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PolicyRule {
            verbs: s(verbs),
            api_groups: Some(s(groups)),
            resources: Some(s(resources)),
            resource_names: (!names.is_empty()).then(|| s(names)),
            non_resource_urls: None,
        }
    }
    fn subj(kind: &str, name: &str, ns: Option<&str>) -> K8sSubject {
        K8sSubject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            api_group: None,
        }
    }
    fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Located<Role> {
        Located::new(
            Role {
                metadata: meta(name, Some(ns)),
                rules: Some(rules),
            },
            loc(&format!("role-{ns}-{name}")),
        )
    }
    fn cr(name: &str, rules: Vec<PolicyRule>) -> Located<ClusterRole> {
        Located::new(
            ClusterRole {
                metadata: meta(name, None),
                rules: Some(rules),
                aggregation_rule: None,
            },
            loc(&format!("cr-{name}")),
        )
    }
    fn rb(
        ns: &str,
        name: &str,
        kind: &str,
        role: &str,
        subjects: Vec<K8sSubject>,
    ) -> Located<RoleBinding> {
        Located::new(
            RoleBinding {
                metadata: meta(name, Some(ns)),
                role_ref: RoleRef {
                    api_group: None,
                    kind: kind.into(),
                    name: role.into(),
                },
                subjects: Some(subjects),
            },
            loc(&format!("rb-{ns}-{name}")),
        )
    }
    fn crb(
        name: &str,
        kind: &str,
        role: &str,
        subjects: Vec<K8sSubject>,
    ) -> Located<ClusterRoleBinding> {
        Located::new(
            ClusterRoleBinding {
                metadata: meta(name, None),
                role_ref: RoleRef {
                    api_group: None,
                    kind: kind.into(),
                    name: role.into(),
                },
                subjects: Some(subjects),
            },
            loc(&format!("crb-{name}")),
        )
    }
    fn held(g: &RbacGraph, ns: &str, kind: &str, name: &str) -> Vec<Capability> {
        g.capabilities(ns)
            .into_iter()
            .filter(|s| s.subject.kind == kind && s.subject.name == name)
            .flat_map(|s| {
                s.capabilities
                    .into_iter()
                    .filter(|(_, e)| e.held())
                    .map(|(c, _)| c)
            })
            .collect()
    }

    #[test]
    fn dangling_and_invalid_refs_are_issues() {
        let rbs = vec![
            rb(
                "emr",
                "b1",
                "Role",
                "missing",
                vec![subj("User", "u", None)],
            ),
            rb("emr", "b2", "Secret", "x", vec![]),
        ];
        let crbs = vec![
            crb("c1", "Role", "r", vec![subj("User", "u", None)]),
            crb("c2", "ClusterRole", "gone", vec![subj("User", "u", None)]),
        ];
        let g = RbacGraph::new(RbacObjects {
            role_bindings: &rbs,
            cluster_role_bindings: &crbs,
            ..Default::default()
        });
        let kinds: Vec<IssueKind> = g.issues().iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == IssueKind::DanglingRoleRef)
                .count(),
            2
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == IssueKind::InvalidRoleRef)
                .count(),
            2
        );
        assert!(g.issues().iter().any(|i| i.object == "RoleBinding emr/b1"
            && i.loc.as_ref().is_some_and(|l| &*l.file == "rb-emr-b1")));
        assert!(g
            .can(
                &Identity::user("u"),
                &Request::new("get", "", "pods").namespace("emr")
            )
            .is_none());
        assert!(held(&g, "emr", "User", "u").is_empty());
    }

    #[test]
    fn service_account_subjects_and_implicit_groups() {
        let roles = vec![role(
            "emr",
            "r",
            vec![rule(&["create"], &[""], &["pods"], &[])],
        )];
        let rbs = vec![
            rb(
                "emr",
                "sa-no-ns",
                "Role",
                "r",
                vec![subj("ServiceAccount", "a", None)],
            ),
            rb(
                "emr",
                "sa-as-user",
                "Role",
                "r",
                vec![subj("User", "system:serviceaccount:emr:b", None)],
            ),
            rb(
                "emr",
                "all-sas-here",
                "Role",
                "r",
                vec![subj("Group", "system:serviceaccounts:emr", None)],
            ),
            rb(
                "emr",
                "everyone",
                "Role",
                "r",
                vec![subj("Group", "system:authenticated", None)],
            ),
        ];
        let crs = vec![cr("x", vec![])];
        let crbs = vec![crb(
            "bad-sa",
            "ClusterRole",
            "x",
            vec![subj("ServiceAccount", "c", None)],
        )];
        let g = RbacGraph::new(RbacObjects {
            roles: &roles,
            cluster_roles: &crs,
            role_bindings: &rbs,
            cluster_role_bindings: &crbs,
            ..Default::default()
        });
        let req = Request::new("create", "", "pods").namespace("emr");
        let by = |id: &Identity| g.can(id, &req).map(|gr| gr.binding.name.clone());
        assert_eq!(
            by(&Identity::service_account("emr", "a")).as_deref(),
            Some("all-sas-here")
        );
        assert_eq!(
            by(&Identity::user("system:serviceaccount:emr:a")),
            by(&Identity::service_account("emr", "a"))
        );
        assert_eq!(
            by(&Identity::service_account("other", "z")).as_deref(),
            Some("everyone")
        );
        assert_eq!(by(&Identity::user("bob")).as_deref(), Some("everyone"));
        assert_eq!(by(&Identity::group("devs")), None);
        assert_eq!(by(&Identity::user("system:anonymous")), None);
        // The User form is reported as the service account.
        let caps = g.capabilities("emr");
        assert!(caps.iter().any(|s| s.subject.kind == "ServiceAccount"
            && s.subject.name == "b"
            && s.subject.namespace.as_deref() == Some("emr")));
        assert!(caps
            .iter()
            .any(|s| s.subject.kind == "ServiceAccount" && s.subject.name == "a"));
        // Without a namespace, a ClusterRoleBinding's service account matches no one.
        assert!(g
            .issues()
            .iter()
            .any(|i| i.kind == IssueKind::InvalidSubject));
    }

    #[test]
    fn restricted_grants_are_listed_but_do_not_confer() {
        let roles = vec![role(
            "emr",
            "r",
            vec![rule(&["get"], &[""], &["secrets"], &["my-secret"])],
        )];
        let rbs = vec![rb("emr", "b", "Role", "r", vec![subj("User", "u", None)])];
        let g = RbacGraph::new(RbacObjects {
            roles: &roles,
            role_bindings: &rbs,
            ..Default::default()
        });
        let caps = g.capabilities("emr");
        let u = caps.iter().find(|s| s.subject.name == "u").unwrap();
        let ev = &u.capabilities[&Capability::ReadSecrets];
        assert!(!ev.held());
        assert_eq!(ev.restricted.len(), 1);
        assert!(ev.restricted[0].restricted());
        assert_eq!(ev.restricted[0].resource_names, vec!["my-secret"]);
        let get = Request::new("get", "", "secrets").namespace("emr");
        assert!(g
            .can(&Identity::user("u"), &get.name("my-secret"))
            .is_some());
        assert!(g.can(&Identity::user("u"), &get.name("other")).is_none());
        assert!(g.can(&Identity::user("u"), &get).is_none());
    }

    #[test]
    fn cluster_scoped_capabilities_need_cluster_wide_grants() {
        let webhooks = rule(
            &["create"],
            &["admissionregistration.k8s.io"],
            &["mutatingwebhookconfigurations"],
            &[],
        );
        let bind = rule(
            &["bind"],
            &["rbac.authorization.k8s.io"],
            &["clusterroles"],
            &[],
        );
        let crs = vec![cr("hooks", vec![webhooks]), cr("binder", vec![bind])];
        let rbs = vec![
            rb(
                "emr",
                "b",
                "ClusterRole",
                "hooks",
                vec![subj("User", "ns-user", None)],
            ),
            rb(
                "emr",
                "c",
                "ClusterRole",
                "binder",
                vec![subj("User", "binder", None)],
            ),
        ];
        let crbs = vec![crb(
            "c",
            "ClusterRole",
            "hooks",
            vec![subj("User", "cluster-user", None)],
        )];
        let g = RbacGraph::new(RbacObjects {
            cluster_roles: &crs,
            role_bindings: &rbs,
            cluster_role_bindings: &crbs,
            ..Default::default()
        });
        assert!(held(&g, "emr", "User", "ns-user").is_empty());
        assert_eq!(
            held(&g, "emr", "User", "cluster-user"),
            vec![Capability::DeployMutatingWebhooks]
        );
        assert_eq!(
            held(&g, "any", "User", "cluster-user"),
            vec![Capability::DeployMutatingWebhooks]
        );
        // `bind` is checked in the RoleBinding's namespace, so a RoleBinding can grant it.
        assert_eq!(
            held(&g, "emr", "User", "binder"),
            vec![Capability::EscalateRbac]
        );
    }

    #[test]
    fn aggregation_cycles_and_invalid_selectors() {
        let sel = |k: &str| LabelSelector {
            match_labels: Some([(k.to_string(), "true".to_string())].into()),
            match_expressions: None,
        };
        let mut a = cr("a", vec![rule(&["get"], &[""], &["pods"], &[])]);
        a.value.metadata.labels = Some([("to-b".to_string(), "true".to_string())].into());
        a.value.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![sel("to-a")]),
        });
        let mut b = cr("b", vec![rule(&["get"], &[""], &["secrets"], &[])]);
        b.value.metadata.labels = Some([("to-a".to_string(), "true".to_string())].into());
        b.value.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![sel("to-b")]),
        });
        let mut c = cr("c", vec![]);
        c.value.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: None,
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "x".into(),
                    operator: "In".into(),
                    values: None,
                }]),
            }]),
        });
        let crs = vec![a, b, c];
        let g = RbacGraph::new(RbacObjects {
            cluster_roles: &crs,
            ..Default::default()
        });
        for name in ["a", "b"] {
            let srcs: Vec<String> = g
                .effective_rules(RoleKind::ClusterRole, None, name)
                .unwrap()
                .iter()
                .map(|r| r.source.name.clone())
                .collect();
            assert_eq!(srcs.len(), 2, "{name}: {srcs:?}");
            assert_eq!(srcs[0], name, "own rules first");
        }
        assert!(g
            .effective_rules(RoleKind::ClusterRole, None, "c")
            .unwrap()
            .is_empty());
        assert!(g
            .issues()
            .iter()
            .any(|i| i.kind == IssueKind::InvalidSelector && i.object == "ClusterRole c"));
        assert!(g
            .effective_rules(RoleKind::ClusterRole, None, "nope")
            .is_none());
    }

    #[test]
    fn output_does_not_depend_on_input_order_and_duplicates_are_reported() {
        let roles = vec![
            role("emr", "r1", vec![rule(&["*"], &["*"], &["*"], &[])]),
            role(
                "emr",
                "r2",
                vec![rule(&["create"], &[""], &["configmaps"], &[])],
            ),
        ];
        let rbs = vec![
            rb(
                "emr",
                "b1",
                "Role",
                "r1",
                vec![subj("User", "u", None), subj("Group", "g", None)],
            ),
            rb("emr", "b2", "Role", "r2", vec![subj("User", "u", None)]),
        ];
        let g1 = RbacGraph::new(RbacObjects {
            roles: &roles,
            role_bindings: &rbs,
            ..Default::default()
        });
        let mut roles2 = roles.clone();
        roles2.reverse();
        let mut rbs2 = rbs.clone();
        rbs2.reverse();
        rbs2.push(rbs[0].clone());
        let g2 = RbacGraph::new(RbacObjects {
            roles: &roles2,
            role_bindings: &rbs2,
            ..Default::default()
        });
        assert_eq!(g1.capabilities("emr"), g2.capabilities("emr"));
        assert_eq!(
            g1.subjects_with(&Request::new("create", "", "configmaps").namespace("emr")),
            g2.subjects_with(&Request::new("create", "", "configmaps").namespace("emr"))
        );
        assert!(g2.issues().iter().any(|i| i.kind == IssueKind::Duplicate));
        let u = g1
            .capabilities("emr")
            .into_iter()
            .find(|s| s.subject.name == "u")
            .unwrap();
        assert_eq!(
            u.capabilities[&Capability::ModifyConfigmaps].grants.len(),
            2
        );
    }

    #[test]
    fn access_policies_are_bindings_of_the_principal() {
        let arn = "arn:aws:iam::111122223333:role/dev";
        let ap = vec![
            AccessPolicyBinding {
                principal_arn: arn.into(),
                username: "x".into(),
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy".into(),
                policy_name: "AmazonEKSEditPolicy".into(),
                scope: AccessScope::Namespaces(vec!["emr".into()]),
                known: true,
                uncertain: false,
                loc: Some(loc("ae.json")),
            },
            AccessPolicyBinding {
                principal_arn: arn.into(),
                username: "x".into(),
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy".into(),
                policy_name: "AmazonEKSAutoNodePolicy".into(),
                scope: AccessScope::Cluster,
                known: false,
                uncertain: false,
                loc: None,
            },
        ];
        let g = RbacGraph::new(RbacObjects {
            access_policies: &ap,
            ..Default::default()
        });
        let caps = g.capabilities("emr");
        let s = caps
            .iter()
            .find(|s| s.subject.arn.as_deref() == Some(arn))
            .unwrap();
        assert_eq!(s.subject.kind, "IamRole");
        assert_eq!(s.subject.name, "dev");
        assert!(s.capabilities[&Capability::ExecPods].held());
        let gr = &s.capabilities[&Capability::ExecPods].grants[0];
        assert_eq!(gr.binding.kind, BindingKind::AccessPolicyAssociation);
        assert_eq!(gr.role.kind, RoleKind::AccessPolicy);
        assert!(g
            .capabilities("other")
            .iter()
            .all(|s| s.subject.arn.as_deref() != Some(arn)));
        assert!(g
            .can(
                &Identity::iam(arn),
                &Request::new("create", "", "pods").namespace("emr")
            )
            .is_some());
        assert!(g
            .issues()
            .iter()
            .any(|i| i.kind == IssueKind::UnknownAccessPolicy));
    }

    #[test]
    fn wildcard_access_scopes_cover_matching_namespaces() {
        let arn = "arn:aws:iam::111122223333:role/emr-admins";
        let ap = vec![AccessPolicyBinding {
            principal_arn: arn.into(),
            username: "x".into(),
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy".into(),
            policy_name: "AmazonEKSAdminPolicy".into(),
            scope: AccessScope::Namespaces(vec!["emr-*".into()]),
            known: true,
            uncertain: false,
            loc: Some(loc("ae.json")),
        }];
        let g = RbacGraph::new(RbacObjects {
            access_policies: &ap,
            ..Default::default()
        });
        let holds = |ns: &str, cap: Capability| {
            g.capabilities(ns).iter().any(|s| {
                s.subject.arn.as_deref() == Some(arn)
                    && s.capabilities.get(&cap).is_some_and(Evidence::held)
            })
        };
        for cap in [
            Capability::ModifyConfigmaps,
            Capability::CreatePods,
            Capability::ReadSecrets,
        ] {
            assert!(holds("emr-a", cap), "{cap} in emr-a");
            assert!(holds("emr-", cap), "{cap} in emr-");
            assert!(!holds("emr", cap), "{cap} in emr");
            assert!(!holds("team-emr-a", cap), "{cap} in team-emr-a");
        }
        // The same matching in `can` (admission) and `subjects_with` (who-can).
        let req = |ns| Request::new("update", "", "configmaps").namespace(ns);
        assert!(g.can(&Identity::iam(arn), &req("emr-prod")).is_some());
        assert!(g.can(&Identity::iam(arn), &req("prod")).is_none());
        assert!(g
            .can(
                &Identity::iam(arn),
                &Request::new("update", "", "configmaps")
            )
            .is_none());
        let who = |ns| {
            g.subjects_with(&req(ns))
                .into_iter()
                .filter(|(s, _)| s.arn.as_deref() == Some(arn))
                .count()
        };
        assert_eq!(who("emr-prod"), 1);
        assert_eq!(who("web"), 0);
        // Namespace-only and cluster-only parts add up to the whole.
        let mine = |v: Vec<SubjectCapabilities>| {
            v.into_iter()
                .filter(|s| s.subject.arn.as_deref() == Some(arn))
                .collect::<Vec<_>>()
        };
        assert!(mine(g.cluster_capabilities()).is_empty());
        assert_eq!(
            mine(g.namespace_capabilities("emr-b")),
            mine(g.capabilities("emr-b"))
        );
        let caps = mine(g.capabilities("emr-b"));
        let gr = &caps[0].capabilities[&Capability::ReadSecrets].grants[0];
        assert_eq!(gr.binding.namespace.as_deref(), Some("emr-*"));
    }

    #[test]
    fn strongest_grant_comes_first() {
        // `get pods/exec` in rule 0, `create pods/exec` in rule 1: cite rule 1.
        let rules = vec![
            PolicyRule {
                verbs: vec!["get".into()],
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["pods/exec".into()]),
                ..Default::default()
            },
            PolicyRule {
                verbs: vec!["create".into()],
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["pods/exec".into()]),
                ..Default::default()
            },
        ];
        let roles = vec![role("emr", "debug", rules)];
        let rbs = vec![rb(
            "emr",
            "debug",
            "Role",
            "debug",
            vec![K8sSubject {
                kind: "User".into(),
                name: "bob".into(),
                ..Default::default()
            }],
        )];
        let g = RbacGraph::new(RbacObjects {
            roles: &roles,
            role_bindings: &rbs,
            ..Default::default()
        });
        let caps = g.namespace_capabilities("emr");
        let ev = &caps[0].capabilities[&Capability::ExecPods];
        assert_eq!(ev.grants.len(), 2);
        assert_eq!(ev.grants[0].rule_index, 1);
        assert_eq!(ev.grants[0].rank, 0);
        assert_eq!(ev.grants[1].rule_index, 0);
        assert!(ev.grants[0].path()[1]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("create on pods/exec")));
    }

    #[test]
    fn graph_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RbacGraph>();
        assert_send_sync::<Grant>();
    }

    #[test]
    fn iam_kinds() {
        assert_eq!(
            iam_kind_and_name("arn:aws:iam::1:role/a/b/c"),
            (Kind::IamRole, "c")
        );
        assert_eq!(
            iam_kind_and_name("arn:aws:iam::1:user/bob"),
            (Kind::IamUser, "bob")
        );
        assert_eq!(
            iam_kind_and_name("arn:aws:iam::1:*"),
            (Kind::IamPrincipal, "*")
        );
    }
}

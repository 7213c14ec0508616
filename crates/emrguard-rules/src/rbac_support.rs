//! What the `rbac` rules share: every job submitter's capabilities across the EMR namespaces
//! (computed once per run), the IAM principals and mapping steps behind each Kubernetes subject,
//! and the execution roles reachable in each namespace (for severity).
//!
//! The unit of a finding is the cause a user fixes: one (subject, capability), listing every
//! EMR namespace where it holds and the grants behind it. A ClusterRoleBinding is evaluated once
//! ([`emrguard_rbac::RbacGraph::cluster_capabilities`]) and reaches all EMR namespaces; each
//! namespace adds only its own RoleBindings and namespace-scoped access policies
//! ([`emrguard_rbac::RbacGraph::namespace_capabilities`]), so the cost grows with the bindings,
//! not with bindings × namespaces.

use crate::analysis::RbacView;
use crate::Context;
use emrguard_iam::{
    decide_trust, Context as IamContext, PrivilegeTier, TrustPolicy, TrustPrincipal,
};
use emrguard_model::{Capability, GrantRef, Kind, PathStep, Ref, SourceLoc, Subject};
use emrguard_rbac::identity::{arn_account, username_matches, Mapping, MappingSource};
use emrguard_rbac::{is_exempt, Grant, IdentityMap};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One capability of one submitter: the cluster-wide grants (every EMR namespace) and the
/// grants of each EMR namespace.
#[derive(Debug, Default)]
pub struct Holding {
    pub cluster: Vec<Grant>,
    pub by_namespace: BTreeMap<String, Vec<Grant>>,
}

impl Holding {
    /// The EMR namespaces where the capability holds.
    pub fn namespaces(&self, emr: &[String]) -> Vec<String> {
        if self.cluster.is_empty() {
            self.by_namespace.keys().cloned().collect()
        } else {
            emr.to_vec()
        }
    }

    /// Every distinct grant, strongest first (see [`Grant::rank`]), with the namespaces it
    /// gives the capability in (`None`: cluster-wide).
    pub fn grants(&self) -> Vec<(&Grant, Option<Vec<&str>>)> {
        let mut by_grant: BTreeMap<(u8, &Grant), Option<Vec<&str>>> = BTreeMap::new();
        for g in &self.cluster {
            by_grant.insert((g.rank, g), None);
        }
        for (ns, list) in &self.by_namespace {
            for g in list {
                if let Some(nss) = by_grant
                    .entry((g.rank, g))
                    .or_insert_with(|| Some(Vec::new()))
                {
                    nss.push(ns.as_str());
                }
            }
        }
        // Among equally strong grants, cluster-wide ones first: they reach the most.
        let mut out: Vec<(&Grant, Option<Vec<&str>>)> =
            by_grant.into_iter().map(|((_, g), n)| (g, n)).collect();
        out.sort_by(|a, b| (a.0.rank, a.1.is_some(), a.0).cmp(&(b.0.rank, b.1.is_some(), b.0)));
        out
    }
}

/// One job submitter and the capabilities it holds somewhere in the EMR namespaces.
pub struct SubmitterCaps {
    /// With `iam_principals` filled in.
    pub subject: Subject,
    /// Index into [`Submitters::resolved`].
    resolved: usize,
    pub capabilities: BTreeMap<Capability, Holding>,
}

/// How a Kubernetes subject is reached from IAM.
pub struct Resolved {
    pub iam_principals: Vec<String>,
    /// IAM principal → aws-auth entry / access entry: one step, a fork when there are several.
    pub steps: Vec<PathStep>,
    pub locations: Vec<SourceLoc>,
    /// The least privileged IAM principal behind the subject (`None` tier when it has none, or
    /// they are not in the snapshot): what the subject holds in AWS without Kubernetes.
    pub own_tier: PrivilegeTier,
}

/// An execution role usable from a namespace, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReachableRole {
    pub arn: String,
    pub tier: Option<PrivilegeTier>,
    pub how: String,
}

/// Every job submitter's capabilities over the EMR namespaces.
pub struct Submitters {
    /// The EMR namespaces, sorted.
    pub emr_namespaces: Vec<String>,
    /// The EKS cluster's name, for commands in remediations.
    pub cluster_name: String,
    /// Submitters holding at least one capability, sorted by subject.
    pub subjects: Vec<SubmitterCaps>,
    resolved: Vec<Resolved>,
    reach: BTreeMap<String, Vec<ReachableRole>>,
}

impl Submitters {
    /// The submitters, computed on first use and shared by every rule of the run.
    pub fn of<'c>(cx: &'c Context<'_, '_>) -> &'c Submitters {
        let view = cx.rbac();
        view.submitters.get_or_init(|| Submitters::build(cx, view))
    }

    fn build(cx: &Context<'_, '_>, view: &RbacView) -> Submitters {
        let mut emr_namespaces: Vec<String> =
            cx.index.emr_namespaces().map(str::to_owned).collect();
        emr_namespaces.sort();
        emr_namespaces.dedup();
        let mut merged: BTreeMap<Subject, BTreeMap<Capability, Holding>> = BTreeMap::new();
        if !emr_namespaces.is_empty() {
            for sc in view.graph.cluster_capabilities() {
                for (cap, ev) in sc.capabilities {
                    if ev.held() {
                        merged
                            .entry(sc.subject.clone())
                            .or_default()
                            .entry(cap)
                            .or_default()
                            .cluster = ev.grants;
                    }
                }
            }
            let per_ns: Vec<(&String, Vec<emrguard_rbac::SubjectCapabilities>)> = emr_namespaces
                .par_iter()
                .map(|ns| (ns, view.graph.namespace_capabilities(ns)))
                .collect();
            for (ns, list) in per_ns {
                for sc in list {
                    for (cap, ev) in sc.capabilities {
                        if ev.held() {
                            merged
                                .entry(sc.subject.clone())
                                .or_default()
                                .entry(cap)
                                .or_default()
                                .by_namespace
                                .insert(ns.clone(), ev.grants);
                        }
                    }
                }
            }
        }
        let merged: Vec<(Subject, BTreeMap<Capability, Holding>)> = merged.into_iter().collect();
        let principals = PrincipalIndex::new(&view.identities);
        let judged: Vec<Option<(Subject, Resolved)>> = merged
            .par_iter()
            .map(|(s, _)| {
                let mut subject = s.clone();
                let maps = principals.mappings_for(&view.identities, &subject);
                let mut iam: Vec<String> = maps.iter().map(|m| m.principal.clone()).collect();
                if let Some(arn) = &subject.arn {
                    iam.push(arn.clone());
                }
                iam.sort();
                iam.dedup();
                subject.iam_principals = iam.clone();
                if is_exempt(&subject, &view.exemptions).is_some() {
                    return None;
                }
                let (steps, locations) = mapping_steps(&subject, &maps);
                Some((
                    subject,
                    Resolved {
                        iam_principals: iam,
                        steps,
                        locations,
                        own_tier: PrivilegeTier::None,
                    },
                ))
            })
            .collect();
        let mut resolved = Vec::new();
        let mut subjects = Vec::new();
        for ((_, capabilities), j) in merged.into_iter().zip(judged) {
            if let Some((subject, r)) = j {
                subjects.push(SubmitterCaps {
                    subject,
                    resolved: resolved.len(),
                    capabilities,
                });
                resolved.push(r);
            }
        }
        // Severity inputs only for the namespaces some submitter reaches.
        let mut reach = BTreeMap::new();
        if !subjects.is_empty() {
            let iam = cx.iam();
            let tier = |arn: &str| iam.tier(arn);
            for r in &mut resolved {
                r.own_tier = r
                    .iam_principals
                    .iter()
                    .map(|p| tier(p).unwrap_or(PrivilegeTier::None))
                    .min()
                    .unwrap_or(PrivilegeTier::None);
            }
            let mut needed: BTreeSet<&str> = BTreeSet::new();
            for s in &subjects {
                for h in s.capabilities.values() {
                    if !h.cluster.is_empty() {
                        needed.extend(emr_namespaces.iter().map(String::as_str));
                        break;
                    }
                    needed.extend(h.by_namespace.keys().map(String::as_str));
                }
                if needed.len() == emr_namespaces.len() {
                    break;
                }
            }
            let trusts = web_identity_trusts(cx);
            for ns in needed {
                reach.insert(ns.to_owned(), reachable_roles(cx, &trusts, ns, &tier));
            }
        }
        let cluster_name = cx
            .index
            .snap
            .clusters
            .first()
            .map(|c| c.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "CLUSTER".to_owned());
        Submitters {
            emr_namespaces,
            cluster_name,
            subjects,
            resolved,
            reach,
        }
    }

    pub fn resolved(&self, s: &SubmitterCaps) -> Option<&Resolved> {
        self.resolved.get(s.resolved)
    }

    /// Execution roles usable in `ns`.
    pub fn reach(&self, ns: &str) -> &[ReachableRole] {
        self.reach.get(ns).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Fast lookups over an [`IdentityMap`]'s mappings, same semantics as
/// [`IdentityMap::mappings_for`] (which scans every mapping per call).
struct PrincipalIndex<'m> {
    exact_user: HashMap<&'m str, Vec<&'m Mapping>>,
    /// Templated usernames with their literal prefix (before the first `{{`): a name without
    /// that prefix cannot match, which spares most of the template matching.
    templated: Vec<(&'m str, &'m Mapping)>,
    accounts: Vec<&'m Mapping>,
    by_group: HashMap<&'m str, Vec<&'m Mapping>>,
    all: Vec<&'m Mapping>,
}

impl<'m> PrincipalIndex<'m> {
    fn new(map: &'m IdentityMap) -> Self {
        let mut ix = PrincipalIndex {
            exact_user: HashMap::new(),
            templated: Vec::new(),
            accounts: Vec::new(),
            by_group: HashMap::new(),
            all: Vec::new(),
        };
        for m in map.mappings() {
            ix.all.push(m);
            match m.source {
                MappingSource::AwsAuthMapAccounts(_) => ix.accounts.push(m),
                _ if m.username.contains("{{") => {
                    let prefix = m.username.split("{{").next().unwrap_or("");
                    ix.templated.push((prefix, m));
                }
                _ => ix
                    .exact_user
                    .entry(m.username.as_str())
                    .or_default()
                    .push(m),
            }
            for g in &m.groups {
                ix.by_group.entry(g.as_str()).or_default().push(m);
            }
        }
        ix
    }

    fn mappings_for(&self, map: &'m IdentityMap, s: &Subject) -> Vec<&'m Mapping> {
        let mut out: Vec<&Mapping> = match s.kind.as_str() {
            "User" => {
                let mut v: Vec<&Mapping> = self
                    .exact_user
                    .get(s.name.as_str())
                    .cloned()
                    .unwrap_or_default();
                v.extend(
                    self.templated
                        .iter()
                        .filter(|(prefix, m)| {
                            s.name.starts_with(prefix)
                                && username_matches(&m.username, &s.name, arn_account(&m.principal))
                        })
                        .map(|(_, m)| *m),
                );
                v.extend(self.accounts.iter().copied().filter(|m| {
                    arn_account(&s.name).is_some()
                        && arn_account(&s.name) == arn_account(&m.principal)
                }));
                v
            }
            "Group" if s.name == "system:authenticated" => self.all.clone(),
            "Group" => self
                .by_group
                .get(s.name.as_str())
                .cloned()
                .unwrap_or_default(),
            "ServiceAccount" => Vec::new(),
            _ => map.mappings_for(s),
        };
        out.sort_by(|a, b| (&a.principal, &a.source).cmp(&(&b.principal, &b.source)));
        out.dedup_by(|a, b| a.principal == b.principal && a.source == b.source);
        out
    }
}

/// Groups that stand for every identity of a kind.
pub fn is_everyone(s: &Subject) -> bool {
    s.kind == "Group"
        && (matches!(
            s.name.as_str(),
            "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts"
        ) || s.name.starts_with("system:serviceaccounts:"))
        || (s.kind == "User" && s.name == "system:anonymous")
}

/// Alternatives shown in a fork of mapping entries; `subject.iam_principals` has them all.
const MAX_MAPPING_STEPS: usize = 10;

fn mapping_steps(s: &Subject, maps: &[&Mapping]) -> (Vec<PathStep>, Vec<SourceLoc>) {
    let mut locs: Vec<SourceLoc> = maps.iter().filter_map(|m| m.loc.clone()).collect();
    locs.sort();
    locs.dedup();
    if is_everyone(s) {
        let detail = match s.name.as_str() {
            "system:authenticated" => format!(
                "every authenticated identity: all {} IAM principals mapped by aws-auth and access entries, and every service account",
                maps.len()
            ),
            "system:unauthenticated" | "system:anonymous" => {
                "every anonymous request to the API server".to_owned()
            }
            _ => "every service account (any pod can use its token)".to_owned(),
        };
        let step = PathStep::new(subject_kind(s), s.name.clone()).detail(detail);
        // The mapping locations would be every entry: only aws-auth itself is worth pointing at.
        locs.truncate(1);
        return (vec![step], locs);
    }
    if maps.is_empty() {
        return (Vec::new(), locs);
    }
    let alternatives: Vec<PathStep> = maps
        .iter()
        .take(MAX_MAPPING_STEPS)
        .map(|m| {
            let step = m.path_step();
            if step.arn.is_none() {
                step.arn(Some(&m.principal))
            } else {
                step
            }
        })
        .collect();
    let mut fork = PathStep::fork(
        Kind::IamPrincipal,
        format!("{} IAM principals", maps.len()),
        alternatives,
    );
    if maps.len() > MAX_MAPPING_STEPS {
        fork = fork.detail(format!(
            "mapped to this subject by aws-auth or access entries; {} more not shown (see subject.iam_principals)",
            maps.len() - MAX_MAPPING_STEPS
        ));
    } else if !fork.one_of.is_empty() {
        fork = fork.detail("mapped to this subject by aws-auth or access entries");
    }
    (vec![fork], locs)
}

/// The subject's kind in the one vocabulary (subjects come from the RBAC engine, which spells
/// them with [`Kind`] already; anything else is an IAM principal).
fn subject_kind(s: &Subject) -> Kind {
    s.kind.parse().unwrap_or(Kind::IamPrincipal)
}

/// Roles with a trust policy that admits web identities, compiled once.
fn web_identity_trusts(cx: &Context<'_, '_>) -> Vec<(String, TrustPolicy)> {
    cx.index
        .snap
        .roles
        .iter()
        .filter(|r| {
            r.assume_role_policy_document
                .as_ref()
                .is_some_and(|d| d.text().contains("AssumeRoleWithWebIdentity"))
        })
        .filter_map(|r| Some((r.arn.clone(), TrustPolicy::from_role(r)?)))
        .collect()
}

/// The execution roles a namespace's pods can obtain: roles of the job runs and managed
/// endpoints of its virtual clusters, Pod Identity associations and IRSA annotations in it, and
/// roles whose trust policy admits one of its service accounts through the cluster's OIDC
/// provider.
fn reachable_roles(
    cx: &Context<'_, '_>,
    trusts: &[(String, TrustPolicy)],
    ns: &str,
    tier: &dyn Fn(&str) -> Option<PrivilegeTier>,
) -> Vec<ReachableRole> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |arn: &str, how: String| {
        out.entry(arn.to_owned()).or_insert(how);
    };
    for vc in cx.index.virtual_clusters_on(ns) {
        for j in cx.index.job_runs_of(&vc.id) {
            if let Some(r) = j.execution_role_arn.as_deref() {
                add(r, format!("job runs of virtual cluster {}", vc.name));
            }
        }
        for e in cx.index.endpoints_of(&vc.id) {
            if let Some(r) = e.execution_role_arn.as_deref() {
                add(r, format!("managed endpoint {}", e.name));
            }
        }
    }
    for a in &cx.index.snap.pod_identity_associations {
        if a.namespace == ns {
            if let Some(r) = a.role_arn.as_deref() {
                add(
                    r,
                    format!(
                        "Pod Identity association of service account {}",
                        a.service_account
                    ),
                );
            }
        }
    }
    let sas: Vec<&str> = cx
        .index
        .snap
        .k8s
        .service_accounts
        .iter()
        .filter(|sa| sa.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|sa| sa.metadata.name.as_deref())
        .collect();
    for sa in &sas {
        if let Some(r) = cx.index.irsa_role(ns, sa) {
            add(r, format!("IRSA annotation of service account {sa}"));
        }
    }
    let cluster = cx.index.snap.clusters.first();
    if let (Some(issuer), Some(account)) = (
        cluster.and_then(|c| c.oidc_issuer_host()),
        cluster.and_then(|c| c.account()),
    ) {
        let who =
            TrustPrincipal::Federated(format!("arn:aws:iam::{account}:oidc-provider/{issuer}"));
        for (arn, trust) in trusts {
            let hit = sas.iter().find(|sa| {
                let ctx = IamContext::new()
                    .with(
                        &format!("{issuer}:sub"),
                        format!("system:serviceaccount:{ns}:{sa}"),
                    )
                    .with(&format!("{issuer}:aud"), "sts.amazonaws.com");
                decide_trust(trust, &who, "sts:AssumeRoleWithWebIdentity", &ctx).is_allowed()
            });
            if let Some(sa) = hit {
                add(
                    arn,
                    format!("IRSA trust policy admits service account {ns}/{sa}"),
                );
            }
        }
    }
    out.into_iter()
        .map(|(arn, how)| ReachableRole {
            tier: tier(&arn),
            arn,
            how,
        })
        .collect()
}

/// `RoleBinding spark-team-a/x → ClusterRole edit ← system:aggregate-to-edit`.
pub fn describe_grant(g: &Grant) -> String {
    let q = |ns: &Option<String>, name: &str| match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    };
    let mut s = format!(
        "{} {} → {} {}",
        g.binding.kind.as_str(),
        q(&g.binding.namespace, &g.binding.name),
        g.role.kind.as_str(),
        q(&g.role.namespace, &g.role.name)
    );
    if let Some(from) = &g.aggregated_from {
        s.push_str(&format!(
            " (aggregating {} {})",
            from.kind.as_str(),
            from.name
        ));
    }
    s
}

/// `binding → role` only, to list several grants without repeating a binding.
fn describe_binding(g: &Grant) -> String {
    let q = |ns: &Option<String>, name: &str| match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    };
    format!(
        "{} {} → {} {}",
        g.binding.kind.as_str(),
        q(&g.binding.namespace, &g.binding.name),
        g.role.kind.as_str(),
        q(&g.role.namespace, &g.role.name)
    )
}

/// `role data-science-team, user alice` for a finding message.
pub fn describe_principals(p: &[String]) -> String {
    const MAX: usize = 4;
    let mut names: Vec<String> = p
        .iter()
        .take(MAX)
        .map(|arn| {
            let res = arn.splitn(6, ':').nth(5).unwrap_or(arn);
            let kind = res.split('/').next().unwrap_or("");
            let name = res.rsplit('/').next().unwrap_or(res);
            match kind {
                "role" | "assumed-role" => format!("role {name}"),
                "user" => format!("user {name}"),
                _ => arn.clone(),
            }
        })
        .collect();
    if p.len() > MAX {
        names.push(format!("{} more", p.len() - MAX));
    }
    names.join(", ")
}

fn capability_phrase(c: Capability) -> &'static str {
    match c {
        Capability::ModifyConfigmaps => {
            "can create, change or delete configmaps, where EMR keeps the pod templates of its jobs"
        }
        Capability::ExecPods => {
            "can exec into or attach to pods, and so read the service-account token mounted in EMR's driver and executor pods"
        }
        Capability::CreatePods => {
            "can create pods (directly or through a workload controller) that run as any service account of the namespace"
        }
        Capability::DeployMutatingWebhooks => {
            "can deploy mutating admission webhooks, which can rewrite EMR pods (their service account, image, command)"
        }
        Capability::ReadSecrets => "can read secrets",
        Capability::EscalateRbac => {
            "can write roles or role bindings (or bind/escalate), and so grant itself any capability EMR's isolation relies on"
        }
        Capability::Impersonate => {
            "can impersonate other identities, including EMR's service accounts"
        }
        Capability::MintTokens => {
            "can mint tokens for service accounts, including EMR's, whose IRSA role then accepts them"
        }
    }
}

/// The findings of one capability rule: one per (submitter, capability), listing every EMR
/// namespace where it holds and the grants behind it.
pub fn capability_findings(
    rule: &dyn crate::Rule,
    cx: &Context<'_, '_>,
    cap: Capability,
) -> Vec<emrguard_model::Finding> {
    let subs = Submitters::of(cx);
    let tops = TopRoles::new(subs);
    let audit = Audit {
        events: &cx.index.snap.k8s_audit,
        window: emrguard_usage::k8s::audit_window(&cx.index.snap.k8s_audit),
    };
    subs.subjects
        .par_iter()
        .filter_map(|s| {
            let h = s.capabilities.get(&cap)?;
            one_finding(rule, subs, &tops, &audit, s, h, cap)
        })
        .collect()
}

/// EKS audit-log events of the snapshot, to say whether a capability was used.
struct Audit<'a> {
    events: &'a [emrguard_model::Located<emrguard_model::aws::usage::K8sAuditEvent>],
    window: Option<emrguard_usage::k8s::AuditWindow>,
}

impl Audit<'_> {
    /// `used 3 times in the audit window, last on ...` / `never used in the audit window ...`;
    /// `None` without audit events, or for a subject the audit log cannot name.
    fn phrase(&self, s: &Subject, cap: Capability, namespaces: &[String]) -> Option<String> {
        self.window.as_ref()?;
        let who = match (s.kind.as_str(), &s.namespace) {
            ("User", _) => format!("User {}", s.name),
            ("Group", _) => format!("Group {}", s.name),
            ("ServiceAccount", Some(ns)) => format!("User system:serviceaccount:{ns}:{}", s.name),
            _ => return None,
        };
        let nss: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        let u = emrguard_usage::k8s::usage_of(self.events, &who, cap, &nss);
        emrguard_usage::k8s::usage_phrase(u.as_ref(), self.window.as_ref())
    }
}

/// The most privileged execution role reachable in each EMR namespace, and over all of them.
struct TopRoles<'a> {
    by_ns: HashMap<&'a str, (PrivilegeTier, &'a ReachableRole)>,
    all: Option<(PrivilegeTier, &'a ReachableRole)>,
}

impl<'a> TopRoles<'a> {
    fn new(subs: &'a Submitters) -> Self {
        let mut by_ns = HashMap::new();
        let mut all: Option<(PrivilegeTier, &ReachableRole)> = None;
        for (ns, roles) in &subs.reach {
            let top = roles
                .iter()
                .filter_map(|r| r.tier.map(|t| (t, r)))
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)));
            if let Some(t) = top {
                by_ns.insert(ns.as_str(), t);
                if all.is_none_or(|a| t.0 > a.0) {
                    all = Some(t);
                }
            }
        }
        TopRoles { by_ns, all }
    }

    /// Over `namespaces`; the first namespace wins among equal tiers.
    fn over(
        &self,
        h: &Holding,
        namespaces: &[String],
    ) -> Option<(PrivilegeTier, &'a ReachableRole)> {
        if !h.cluster.is_empty() {
            return self.all;
        }
        let mut best: Option<(PrivilegeTier, &ReachableRole)> = None;
        for ns in namespaces {
            if let Some(t) = self.by_ns.get(ns.as_str()) {
                if best.is_none_or(|b| t.0 > b.0) {
                    best = Some(*t);
                }
            }
        }
        best
    }
}

/// Grants named in a message; `grants` in the JSON has them all.
const GRANTS_IN_MESSAGE: usize = 3;

/// Namespaces drawn as a fork in the path; `namespaces` in the JSON has them all.
const NAMESPACES_IN_PATH: usize = 10;

fn one_finding(
    rule: &dyn crate::Rule,
    subs: &Submitters,
    tops: &TopRoles<'_>,
    audit: &Audit<'_>,
    s: &SubmitterCaps,
    h: &Holding,
    cap: Capability,
) -> Option<emrguard_model::Finding> {
    let r = subs.resolved(s)?;
    let grants = h.grants();
    let (first, _) = grants.first()?;
    let namespaces = h.namespaces(&subs.emr_namespaces);
    let cluster_wide = !h.cluster.is_empty();
    let subject = &s.subject;
    let who = match &subject.namespace {
        Some(n) => format!("{} `{n}/{}`", subject.kind, subject.name),
        None => format!("{} `{}`", subject.kind, subject.name),
    };
    let behind = if is_everyone(subject) {
        " (everyone of that kind)".to_owned()
    } else if r.iam_principals.is_empty() {
        String::new()
    } else {
        format!(" (IAM: {})", describe_principals(&r.iam_principals))
    };
    let mut via: Vec<String> = Vec::new();
    let mut more = 0usize;
    for (g, nss) in &grants {
        let mut d = if g.aggregated_from.is_some() && grants.len() == 1 {
            describe_grant(g)
        } else {
            describe_binding(g)
        };
        if let Some(nss) = nss {
            if g.binding.kind == emrguard_rbac::BindingKind::AccessPolicyAssociation {
                d.push_str(&format!(" scoped to {}", describe_namespaces(nss)));
            }
        }
        if via.contains(&d) {
            continue;
        }
        if via.len() < GRANTS_IN_MESSAGE {
            via.push(d);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        via.push(format!("{more} more grants"));
    }
    let mut message = format!(
        "{who}{behind}, {}, {}, through {}",
        crate::util::scope_phrase(&namespaces, cluster_wide),
        capability_phrase(cap),
        crate::util::join_words(&via)
    );
    if let Some(why) = first.detail {
        message.push_str(&format!(" ({why})"));
    }
    message.push('.');
    let mut severity = rule.meta().severity;
    if let Some((t, role)) = tops.over(h, &namespaces) {
        if t > r.own_tier {
            severity = severity.raised();
            message.push_str(&format!(
                " Pods there can obtain execution role `{}` ({}; privilege tier {t:?}), more than the subject holds in IAM ({:?}).",
                role.arn, role.how, r.own_tier
            ));
        }
    }
    if let Some(p) = audit.phrase(subject, cap, &namespaces) {
        message.push_str(&format!(" EKS audit log: {p}."));
    }
    let mut steps = r.steps.clone();
    if steps.is_empty() || !is_everyone(subject) {
        // The subject itself, between its IAM principals and the binding.
        steps.push(
            PathStep::new(subject_kind(subject), subject.name.clone())
                .namespace(subject.namespace.as_deref())
                .arn(subject.arn.as_deref()),
        );
    }
    steps.extend(first.path());
    steps.push(namespaces_step(&namespaces, cluster_wide));
    let grant_refs: Vec<GrantRef> = grants
        .iter()
        .map(|(g, nss)| grant_ref(g, nss.as_deref()))
        .collect();
    let mut b = rule
        .finding(subject.to_ref())
        .severity(severity)
        .subject(subject.clone())
        .namespaces(namespaces)
        .capability(cap)
        .message(message)
        .remediation(remediation(
            cap,
            first,
            subject,
            subs.cluster_name.as_str(),
            grants.len(),
        ))
        .path(steps)
        .grants(grant_refs);
    for (g, _) in &grants {
        for l in g.locations() {
            b = b.location(l);
        }
    }
    for l in &r.locations {
        b = b.location(l);
    }
    Some(b.build())
}

fn describe_namespaces(nss: &[&str]) -> String {
    let owned: Vec<String> = nss.iter().map(|n| (*n).to_owned()).collect();
    crate::util::scope_phrase(&owned, false)
        .trim_start_matches("in ")
        .to_owned()
}

/// The last step: where the grant applies, a fork of the namespaces.
fn namespaces_step(namespaces: &[String], cluster_wide: bool) -> PathStep {
    let name = if cluster_wide {
        format!("all {} EMR namespaces", namespaces.len())
    } else if namespaces.len() == 1 {
        namespaces.first().cloned().unwrap_or_default()
    } else {
        format!("{} EMR namespaces", namespaces.len())
    };
    if namespaces.len() > NAMESPACES_IN_PATH {
        return PathStep::new(Kind::Namespace, name).detail(format!(
            "{}, ... (all {} in `namespaces`)",
            namespaces
                .iter()
                .take(crate::util::NAMESPACES_IN_MESSAGE)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            namespaces.len()
        ));
    }
    let alternatives = namespaces
        .iter()
        .map(|n| PathStep::new(Kind::Namespace, n.clone()))
        .collect();
    let step = PathStep::fork(Kind::Namespace, name, alternatives);
    if cluster_wide {
        step.detail("the grant is cluster-wide")
    } else {
        step
    }
}

fn grant_ref(g: &Grant, namespaces: Option<&[&str]>) -> GrantRef {
    let role = |r: &emrguard_rbac::RoleInfo| {
        Ref::k8s(r.kind.kind(), r.namespace.as_deref(), r.name.clone())
    };
    GrantRef {
        binding: Ref::k8s(
            g.binding.kind.kind(),
            g.binding.namespace.as_deref(),
            g.binding.name.clone(),
        ),
        role: role(&g.role),
        aggregated_from: g.aggregated_from.as_deref().map(role),
        rule_index: g.rule_index,
        rule: g.rule.to_string(),
        allows: g.detail.map(str::to_owned),
        cluster_wide: namespaces.is_none(),
        namespaces: namespaces
            .unwrap_or_default()
            .iter()
            .map(|n| (*n).to_owned())
            .collect(),
    }
}

fn remediation(
    cap: Capability,
    g: &Grant,
    subject: &Subject,
    cluster: &str,
    grants: usize,
) -> String {
    let what = match cap {
        Capability::ModifyConfigmaps => "create/update/patch/delete on configmaps",
        Capability::ExecPods => "create and get on pods/exec and pods/attach",
        Capability::CreatePods => {
            "create on pods and create/update/patch on deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs and replicationcontrollers"
        }
        Capability::DeployMutatingWebhooks => "create/update/patch on mutatingwebhookconfigurations",
        Capability::ReadSecrets => "get/list/watch on secrets",
        Capability::EscalateRbac => {
            "create/update/patch on roles, rolebindings, clusterroles and clusterrolebindings, and the bind and escalate verbs"
        }
        Capability::Impersonate => "the impersonate verb",
        Capability::MintTokens => "create on serviceaccounts/token",
    };
    let holder = g.aggregated_from.as_ref().unwrap_or(&g.role);
    let change = match g.binding.kind {
        emrguard_rbac::BindingKind::RoleBinding => format!(
            "Remove the subject from RoleBinding `{ns}/{name}` (`kubectl edit rolebinding {name} -n {ns}`), or remove {what} from {} `{}`",
            holder.kind.as_str(),
            holder.name,
            ns = g.binding.namespace.as_deref().unwrap_or("default"),
            name = g.binding.name,
        ),
        emrguard_rbac::BindingKind::ClusterRoleBinding => format!(
            "Remove the subject from ClusterRoleBinding `{name}` (`kubectl edit clusterrolebinding {name}`; it applies in every namespace, so bind what the subject needs with a RoleBinding in its own namespaces instead), or remove {what} from {} `{}`",
            holder.kind.as_str(),
            holder.name,
            name = g.binding.name,
        ),
        emrguard_rbac::BindingKind::AccessPolicyAssociation => format!(
            "Disassociate the access policy (`aws eks disassociate-access-policy --cluster-name {cluster} --principal-arn {} --policy-arn arn:aws:eks::aws:cluster-access-policy/{}`), or re-associate it scoped to namespaces without EMR (a wildcard scope such as `emr-*` reaches every namespace it matches, including new ones)",
            subject.arn.as_deref().unwrap_or(&subject.name),
            g.binding.name,
        ),
        emrguard_rbac::BindingKind::SuperuserGroup => {
            "Remove the subject from group `system:masters`".to_owned()
        }
    };
    let others = if grants > 1 {
        format!(
            " The other {} grants listed with the finding give it too: change each.",
            grants - 1
        )
    } else {
        String::new()
    };
    format!(
        "Job submitters should reach EMR only through the EMR API (StartJobRun with an execution role they may pass). {change} (for a built-in role such as `edit`, bind `view` or a narrow custom role instead).{others} If the subject really is an administrator, declare it under [administrators] in emrguard.toml.",
    )
}

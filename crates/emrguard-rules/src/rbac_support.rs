//! What the `rbac` rules share: the job submitters of every EMR namespace with their
//! capabilities (computed once per run, in parallel), the IAM principals and mapping steps behind
//! each Kubernetes subject, and the execution roles reachable in each namespace (for severity).
//!
//! The cost is dominated by [`emrguard_rbac::RbacGraph::capabilities`], called once per EMR
//! namespace; subjects are resolved once each, whatever the number of namespaces they appear in.

use crate::analysis::RbacView;
use crate::Context;
use emrguard_iam::{
    decide_trust, Context as IamContext, PrivilegeTier, TrustPolicy, TrustPrincipal,
};
use emrguard_model::{Capability, PathStep, SourceLoc, Subject};
use emrguard_rbac::identity::{arn_account, username_matches, Mapping, MappingSource};
use emrguard_rbac::{is_exempt, Evidence, Grant, IdentityMap};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One job submitter in one EMR namespace (or at cluster scope): the capabilities it holds.
pub struct SubmitterCaps {
    /// With `iam_principals` filled in.
    pub subject: Subject,
    /// Index into [`Submitters::resolved`].
    resolved: usize,
    pub capabilities: BTreeMap<Capability, Evidence>,
}

/// How a Kubernetes subject is reached from IAM.
pub struct Resolved {
    pub iam_principals: Vec<String>,
    /// IAM principal → aws-auth entry / access entry steps.
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

/// Every job submitter's capabilities in every EMR namespace.
pub struct Submitters {
    /// EMR namespace → submitters (sorted by subject).
    pub namespaces: Vec<(String, Vec<SubmitterCaps>)>,
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
        let namespaces: Vec<&str> = cx.index.emr_namespaces().collect();
        let caps: Vec<(String, Vec<emrguard_rbac::SubjectCapabilities>)> = namespaces
            .par_iter()
            .map(|ns| ((*ns).to_owned(), view.graph.capabilities(ns)))
            .collect();
        // Resolve each distinct subject once.
        let mut distinct: BTreeSet<Subject> = BTreeSet::new();
        for (_, list) in &caps {
            for sc in list {
                if sc.capabilities.values().any(Evidence::held) && !distinct.contains(&sc.subject) {
                    distinct.insert(sc.subject.clone());
                }
            }
        }
        let distinct: Vec<Subject> = distinct.into_iter().collect();
        let principals = PrincipalIndex::new(&view.identities);
        let judged: Vec<Option<(Subject, Resolved)>> = distinct
            .par_iter()
            .map(|s| {
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
        let mut by_subject: HashMap<Subject, usize> = HashMap::new();
        let mut resolved = Vec::new();
        let mut subjects = Vec::new();
        for (s, j) in distinct.into_iter().zip(judged) {
            if let Some((subject, r)) = j {
                by_subject.insert(s, resolved.len());
                resolved.push(r);
                subjects.push(subject);
            }
        }
        let namespaces: Vec<(String, Vec<SubmitterCaps>)> = caps
            .into_iter()
            .map(|(ns, list)| {
                let subs = list
                    .into_iter()
                    .filter_map(|sc| {
                        let i = *by_subject.get(&sc.subject)?;
                        let capabilities: BTreeMap<Capability, Evidence> = sc
                            .capabilities
                            .into_iter()
                            .filter(|(_, ev)| ev.held())
                            .collect();
                        (!capabilities.is_empty()).then(|| SubmitterCaps {
                            subject: subjects
                                .get(i)
                                .cloned()
                                .unwrap_or_else(|| sc.subject.clone()),
                            resolved: i,
                            capabilities,
                        })
                    })
                    .collect::<Vec<_>>();
                (ns, subs)
            })
            .collect();
        // Severity inputs only where some submitter holds something.
        let mut reach = BTreeMap::new();
        if namespaces.iter().any(|(_, s)| !s.is_empty()) {
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
            let trusts = web_identity_trusts(cx);
            for (ns, subs) in &namespaces {
                if !subs.is_empty() {
                    reach.insert(ns.clone(), reachable_roles(cx, &trusts, ns, &tier));
                }
            }
        }
        Submitters {
            namespaces,
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
    templated: Vec<&'m Mapping>,
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
                _ if m.username.contains("{{") => ix.templated.push(m),
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
        let mut out: Vec<&Mapping> =
            match s.kind.as_str() {
                "User" => {
                    let mut v: Vec<&Mapping> = self
                        .exact_user
                        .get(s.name.as_str())
                        .cloned()
                        .unwrap_or_default();
                    v.extend(self.templated.iter().copied().filter(|m| {
                        username_matches(&m.username, &s.name, arn_account(&m.principal))
                    }));
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

const MAX_MAPPING_STEPS: usize = 5;

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
        let step = PathStep::new(s.kind.clone(), s.name.clone()).detail(detail);
        // The mapping locations would be every entry: only aws-auth itself is worth pointing at.
        locs.truncate(1);
        return (vec![step], locs);
    }
    let mut steps: Vec<PathStep> = Vec::new();
    for m in maps.iter().take(MAX_MAPPING_STEPS) {
        let mut step = m.path_step();
        if step.arn.is_none() {
            step = step.arn(Some(&m.principal));
        }
        steps.push(step);
    }
    if maps.len() > MAX_MAPPING_STEPS {
        steps.push(
            PathStep::new("IAM", format!("{} more", maps.len() - MAX_MAPPING_STEPS))
                .detail("further IAM principals mapped to this subject (see iam_principals)"),
        );
    }
    (steps, locs)
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

/// The findings of one capability rule: one per (submitter, EMR namespace, capability); for the
/// cluster-scoped `deploy-mutating-webhooks`, one per submitter at cluster scope.
pub fn capability_findings(
    rule: &dyn crate::Rule,
    cx: &Context<'_, '_>,
    cap: Capability,
) -> Vec<emrguard_model::Finding> {
    let subs = Submitters::of(cx);
    let mut out = Vec::new();
    if cap == Capability::DeployMutatingWebhooks {
        // Cluster-wide grants only: the same in every namespace; report each subject once.
        let mut seen: BTreeMap<&Subject, (&SubmitterCaps, &Evidence)> = BTreeMap::new();
        for (_, list) in &subs.namespaces {
            for s in list {
                if let Some(ev) = s.capabilities.get(&cap) {
                    seen.entry(&s.subject).or_insert((s, ev));
                }
            }
        }
        let emr: Vec<&str> = subs.namespaces.iter().map(|(n, _)| n.as_str()).collect();
        let mut reach: Vec<&ReachableRole> = emr.iter().flat_map(|n| subs.reach(n)).collect();
        reach.sort();
        reach.dedup();
        for (_, (s, ev)) in seen {
            let scope = format!(
                "cluster-wide (EMR namespaces {})",
                crate::util::join_words(&emr)
            );
            if let Some(f) = one_finding(rule, subs, s, ev, cap, None, &scope, &reach) {
                out.push(f);
            }
        }
        return out;
    }
    for (ns, list) in &subs.namespaces {
        let reach: Vec<&ReachableRole> = subs.reach(ns).iter().collect();
        for s in list {
            if let Some(ev) = s.capabilities.get(&cap) {
                let scope = format!("in EMR namespace `{ns}`");
                if let Some(f) = one_finding(rule, subs, s, ev, cap, Some(ns), &scope, &reach) {
                    out.push(f);
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn one_finding(
    rule: &dyn crate::Rule,
    subs: &Submitters,
    s: &SubmitterCaps,
    ev: &Evidence,
    cap: Capability,
    ns: Option<&str>,
    scope: &str,
    reach: &[&ReachableRole],
) -> Option<emrguard_model::Finding> {
    let r = subs.resolved(s)?;
    let first = ev.grants.first()?;
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
    let mut via_dedup: Vec<String> = Vec::new();
    for g in &ev.grants {
        let d = if g.aggregated_from.is_some() && ev.grants.len() == 1 {
            describe_grant(g)
        } else {
            describe_binding(g)
        };
        if !via_dedup.contains(&d) {
            via_dedup.push(d);
        }
    }
    let mut message = format!(
        "{who}{behind} {} {scope}, through {}",
        capability_phrase(cap),
        crate::util::join_words(&via_dedup)
    );
    if let Some(why) = first.detail {
        message.push_str(&format!(" ({why})"));
    }
    message.push('.');
    let top = reach
        .iter()
        .filter_map(|x| x.tier.map(|t| (t, *x)))
        .max_by(|a, b| a.0.cmp(&b.0));
    let mut severity = rule.meta().severity;
    if let Some((t, role)) = top {
        if t > r.own_tier {
            severity = severity.raised();
            message.push_str(&format!(
                " Pods there can obtain execution role `{}` ({}; privilege tier {t:?}), more than the subject holds in IAM ({:?}).",
                role.arn, role.how, r.own_tier
            ));
        }
    }
    let mut steps = r.steps.clone();
    if steps.is_empty() || !is_everyone(subject) {
        // The subject itself, between its IAM principals and the binding.
        steps.push(
            PathStep::new(subject.kind.clone(), subject.name.clone())
                .namespace(subject.namespace.as_deref())
                .arn(subject.arn.as_deref()),
        );
    }
    steps.extend(first.path());
    let resource = emrguard_model::Ref {
        kind: subject.kind.clone(),
        name: subject.name.clone(),
        namespace: subject.namespace.clone(),
        arn: subject.arn.clone(),
    };
    let mut b = rule
        .finding(resource)
        .severity(severity)
        .subject(subject.clone())
        .namespace(ns)
        .capability(cap)
        .message(message)
        .remediation(remediation(cap, first))
        .path(steps);
    for g in &ev.grants {
        for l in g.locations() {
            b = b.location(l);
        }
    }
    for l in &r.locations {
        b = b.location(l);
    }
    Some(b.build())
}

fn remediation(cap: Capability, g: &Grant) -> String {
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
    format!(
        "Job submitters should reach EMR only through the EMR API (StartJobRun with an execution role they may pass). Remove the subject from {} {}, or remove {what} from {} {} (for a built-in role such as `edit`, bind `view` or a narrow custom role instead). If the subject really is an administrator, declare it under [administrators] in emrguard.toml.",
        g.binding.kind.as_str(),
        g.binding.name,
        holder.kind.as_str(),
        holder.name,
    )
}

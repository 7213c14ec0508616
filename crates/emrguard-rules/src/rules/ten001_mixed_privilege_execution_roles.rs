use crate::exec_roles::FoundBy;
use crate::infra::creds::{provider_host, web_identity_grants};
use crate::infra::jobs::{live_endpoints, vc_ref, words};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide, PrivilegeTier};
use emrguard_model::aws::emr::VirtualCluster;
use emrguard_model::k8s::{annotation, is_emr_service_account, IRSA_ANNOTATION};
use emrguard_model::Kind;
use emrguard_model::{Finding, Located, PathStep, Ref, SourceLoc};
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// ## What it checks
    /// For every EMR namespace (with its live virtual clusters), the execution roles usable
    /// there, and their privilege tier from the IAM engine (administrator > privilege
    /// escalation > write > read). A role is usable in a namespace when:
    ///
    /// - a job run (any run of the history) or a live managed endpoint of one of its virtual
    ///   clusters used it;
    /// - one of EMR's service accounts there carries it as IRSA annotation, or a Pod Identity
    ///   association there names it;
    /// - its trust names the namespace literally for EMR's service accounts
    ///   (`system:serviceaccount:<ns>:emr-containers-sa-…`); trusts with a wildcard namespace
    ///   are reported by the least-privilege rules instead;
    /// - a submitter whose policy names it in an `emr-containers:ExecutionRoleArn` condition may
    ///   start jobs with it on one of the virtual clusters.
    ///
    /// It then finds the job submitters of those virtual clusters (every IAM user and role that
    /// may call `emr-containers:StartJobRun` on them) and what each is entitled to: the IAM
    /// engine evaluates `StartJobRun` with each role as `emr-containers:ExecutionRoleArn`
    /// (directly, and through each job template whose execution role is that role or a
    /// parameter). A namespace is reported when its roles span more than one tier and some
    /// submitter is not entitled to the highest-tier role; the message names the roles, their
    /// tiers and those submitters.
    ///
    /// ## Why it matters
    /// Jobs of one namespace share it: the ConfigMaps that hold pod templates and Spark
    /// defaults, the Secrets, the service accounts EMR creates per role, the Spark driver
    /// endpoints. A tenant allowed only a read-only role who shares a namespace with an
    /// administrator role is one pod template, exec or token away from administrator access.
    /// The EMR security best practices: "isolate execution roles of similar privilege into
    /// separate virtual clusters" when tenants are untrusted.
    ///
    /// ## Example
    /// Namespace `spark-shared` runs `emr-shared-admin-exec` (AdministratorAccess) and
    /// `emr-shared-readonly-exec` (read-only); submitter `spark-submitter-shared` may pass only
    /// the read-only role.
    ///
    /// ## Remediation
    /// Give each privilege tier (or each tenant) its own virtual cluster on its own namespace:
    /// `kubectl create namespace spark-admin`, `eksctl create iamidentitymapping --cluster C
    /// --namespace spark-admin --service-name emr-containers`, `aws emr-containers
    /// create-virtual-cluster --name admin --container-provider '{"id":"C","type":"EKS","info":{"eksInfo":{"namespace":"spark-admin"}}}'`;
    /// move the privileged role's trust there (`aws emr-containers update-role-trust-policy
    /// --namespace spark-admin ...`) and remove it from the shared namespace; restrict the
    /// submitters' `StartJobRun` to their own virtual cluster with an
    /// `emr-containers:ExecutionRoleArn` condition.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Isolate untrusted tenants" (execution roles of similar privilege per virtual cluster)
    /// - EMR on EKS Development Guide, "Controlling access to the execution role" (`emr-containers:ExecutionRoleArn`)
    pub struct MixedPrivilegeExecutionRoles;
    id = "TEN001", name = "namespace-mixes-execution-role-privilege", practice = TenantIsolation, severity = High,
    title = "EMR namespace mixes execution roles of different privilege for submitters not entitled to all",
}

pub(crate) fn tier_name(t: PrivilegeTier) -> &'static str {
    match t {
        PrivilegeTier::Administrator => "administrator",
        PrivilegeTier::PrivilegeEscalation => "privilege escalation",
        PrivilegeTier::Write => "write",
        PrivilegeTier::Read => "read",
        PrivilegeTier::None => "none",
    }
}

/// The roles a principal's own policies name in `emr-containers:ExecutionRoleArn` conditions
/// (exact ARNs, or patterns matched against the snapshot's roles; a pattern whose role name is
/// only wildcards names nothing).
fn own_conditioned_roles(
    index: &emrguard_model::EstateIndex<'_>,
    p: &emrguard_iam::PrincipalPolicies,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for a in p.all_policies() {
        for st in a.policy.statements() {
            for (_, key, values) in st.conditions() {
                if !key.eq_ignore_ascii_case("emr-containers:ExecutionRoleArn") {
                    continue;
                }
                for v in values {
                    if v.contains("${") {
                        continue;
                    }
                    if v.contains(['*', '?']) {
                        let name = v.rsplit_once(":role/").map(|(_, n)| n).unwrap_or("");
                        if name.chars().all(|c| matches!(c, '*' | '?' | '/')) {
                            continue;
                        }
                        for r in &index.snap.roles {
                            if emrguard_iam::arn_like(v, &r.arn) {
                                out.insert(r.arn.clone());
                            }
                        }
                    } else if let Some(r) = index.role(v) {
                        out.insert(r.arn.clone());
                    } else if v.contains(":role/") {
                        out.insert(v.to_owned());
                    }
                }
            }
        }
    }
    out
}

/// A role ARN no policy names: a submitter allowed to pass it may pass any role.
const NO_SUCH_ROLE: &str = "arn:aws:iam::000000000000:role/emrguard-no-such-role";

/// Why a role is usable in a namespace.
#[derive(Default)]
struct Usage {
    how: BTreeSet<String>,
    locs: Vec<SourceLoc>,
}

impl Rule for MixedPrivilegeExecutionRoles {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let snap = index.snap;
        let iam = cx.iam();
        let exec_roles = cx.execution_roles();
        let mut out = Vec::new();
        // Principals with an Allow statement that may name StartJobRun (not service-linked),
        // from the analysis shared with the submitter rules; administrators included: a role
        // only they may start jobs with is still usable in the namespace.
        let starters = crate::submitters::callers(cx, &[crate::submitters::START_JOB_RUN]);
        for ns in index.emr_namespaces() {
            let vcs: Vec<&Located<VirtualCluster>> = index.virtual_clusters_on(ns);
            let vc_ids: BTreeSet<&str> = vcs.iter().map(|v| v.id.as_str()).collect();
            let issuers: BTreeSet<String> = vcs
                .iter()
                .filter_map(|v| {
                    index
                        .cluster(v.eks_cluster()?)?
                        .oidc_issuer_host()
                        .map(str::to_ascii_lowercase)
                })
                .collect();
            // Role ARN (as in the snapshot) → how it is usable here.
            let mut usable: BTreeMap<String, Usage> = BTreeMap::new();
            let mut add = |arn: &str, how: String, loc: Option<&SourceLoc>| {
                if arn.is_empty() || arn.contains("${") || crate::exec_roles::is_service_linked(arn)
                {
                    return;
                }
                let key = index
                    .role(arn)
                    .map(|r| r.arn.clone())
                    .unwrap_or_else(|| arn.to_owned());
                let u = usable.entry(key).or_default();
                u.how.insert(how);
                if let Some(l) = loc {
                    if !u.locs.contains(l) {
                        u.locs.push(l.clone());
                    }
                }
            };
            for j in &snap.job_runs {
                if !vc_ids.contains(j.virtual_cluster_id.as_str()) {
                    continue;
                }
                if let Some(r) = j.execution_role_arn.as_deref() {
                    add(
                        r,
                        format!("job run `{}`", j.name.as_deref().unwrap_or(&j.id)),
                        Some(&j.loc),
                    );
                }
            }
            for (_, e, vc) in live_endpoints(index) {
                if vc.namespace() == Some(ns) {
                    if let Some(r) = e.execution_role_arn.as_deref() {
                        add(r, format!("managed endpoint `{}`", e.name), Some(&e.loc));
                    }
                }
            }
            for sa in &snap.k8s.service_accounts {
                let name = sa.metadata.name.as_deref().unwrap_or("");
                if sa.metadata.namespace.as_deref() != Some(ns) || !is_emr_service_account(name) {
                    continue;
                }
                if let Some(r) = annotation(&sa.metadata, IRSA_ANNOTATION) {
                    add(
                        r,
                        "EMR service accounts annotated with it".to_owned(),
                        Some(&sa.loc),
                    );
                }
            }
            for a in &snap.pod_identity_associations {
                if a.namespace == ns {
                    if let Some(r) = a.role_arn.as_deref() {
                        add(r, "a Pod Identity association".to_owned(), Some(&a.loc));
                    }
                }
            }
            for e in exec_roles.iter() {
                let Some(role) = e.role else { continue };
                for f in &e.found {
                    if let FoundBy::Trust {
                        namespace: Some(n),
                        statement,
                        ..
                    } = f
                    {
                        if n != ns {
                            continue;
                        }
                        // The statement must name this cluster's OIDC provider (when known).
                        let this_cluster = web_identity_grants(cx, role).iter().any(|g| {
                            g.statement == *statement
                                && (issuers.is_empty()
                                    || issuers
                                        .contains(&provider_host(&g.provider).to_ascii_lowercase()))
                        });
                        if this_cluster {
                            add(
                                &role.arn,
                                format!("its trust (statement {statement}) names this namespace"),
                                Some(&role.loc),
                            );
                        }
                    }
                }
            }
            // Submitters of the virtual clusters and their entitlements.
            let mut submitters: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let templates: Vec<(&str, &str)> = snap
                .job_templates
                .iter()
                .filter_map(|t| {
                    Some((
                        t.arn.as_str(),
                        t.job_template_data
                            .as_ref()?
                            .execution_role_arn
                            .as_deref()?,
                    ))
                })
                .collect();
            for (parn, p) in &starters {
                let parn: &str = parn;
                for vc in &vcs {
                    if vc.arn.is_empty() {
                        continue;
                    }
                    let base = p.policies.context();
                    if !decide(&p.policies, "emr-containers:StartJobRun", &vc.arn, &base)
                        .may_be_allowed()
                    {
                        continue;
                    }
                    let entitled = |r: &str| -> bool {
                        let direct = base
                            .clone()
                            .with("emr-containers:ExecutionRoleArn", r)
                            .with_absent("emr-containers:JobTemplateArn");
                        if decide(&p.policies, "emr-containers:StartJobRun", &vc.arn, &direct)
                            .may_be_allowed()
                        {
                            return true;
                        }
                        templates.iter().any(|(t_arn, t_role)| {
                            let matches = t_role.contains("${")
                                || *t_role == r
                                || index.role(t_role).is_some_and(|x| x.arn == r);
                            matches && {
                                let via = base
                                    .clone()
                                    .with("emr-containers:ExecutionRoleArn", r)
                                    .with("emr-containers:JobTemplateArn", *t_arn);
                                decide(&p.policies, "emr-containers:StartJobRun", &vc.arn, &via)
                                    .may_be_allowed()
                            }
                        })
                    };
                    // A submitter allowed a role that does not exist is allowed any role.
                    let any_role = entitled(NO_SUCH_ROLE);
                    // Candidates: the roles usable here, and the roles the submitter's own
                    // `ExecutionRoleArn` conditions name.
                    let conditioned = own_conditioned_roles(index, &p.policies);
                    let mut candidates: Vec<String> = usable.keys().cloned().collect();
                    candidates.extend(conditioned.iter().cloned());
                    let mut granted = Vec::new();
                    for r in candidates {
                        if entitled(&r) {
                            granted.push(r);
                        }
                    }
                    for r in granted {
                        if !any_role && conditioned.contains(&r) && !usable.contains_key(&r) {
                            // The submitter's own condition names the role for this virtual
                            // cluster: the role is usable here.
                            usable.entry(r.clone()).or_default().how.insert(format!(
                                "submitter `{}` may start jobs with it on virtual cluster `{}`",
                                emrguard_model::aws::iam::arn_resource_name(parn),
                                vc.name
                            ));
                        }
                        submitters.entry(parn.to_owned()).or_default().insert(r);
                    }
                    submitters.entry(parn.to_owned()).or_default();
                }
            }
            // Tiers.
            let mut tiers: BTreeMap<String, PrivilegeTier> = BTreeMap::new();
            for arn in usable.keys() {
                if let Some(t) = iam.tier(arn) {
                    if t != PrivilegeTier::None {
                        tiers.insert(arn.clone(), t);
                    }
                }
            }
            let distinct: BTreeSet<PrivilegeTier> = tiers.values().copied().collect();
            if distinct.len() < 2 {
                continue;
            }
            let Some(top) = distinct.iter().next_back().copied() else {
                continue;
            };
            let top_roles: Vec<&String> = tiers
                .iter()
                .filter(|(_, t)| **t == top)
                .map(|(a, _)| a)
                .collect();
            let excluded: Vec<(&String, &BTreeSet<String>)> = submitters
                .iter()
                .filter(|(p, _)| !exec_roles.contains(p))
                .filter(|(_, ent)| top_roles.iter().any(|r| !ent.contains(*r)))
                .collect();
            if excluded.is_empty() {
                continue;
            }
            let name = |arn: &str| emrguard_model::aws::iam::arn_resource_name(arn).to_owned();
            let mut roles_desc: Vec<(PrivilegeTier, String)> = tiers
                .iter()
                .map(|(arn, t)| {
                    let how = usable
                        .get(arn)
                        .map(|u| words(u.how.iter().cloned().collect()))
                        .unwrap_or_default();
                    (*t, format!("`{}` ({}; {how})", name(arn), tier_name(*t)))
                })
                .collect();
            roles_desc.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let who: Vec<String> = excluded
                .iter()
                .map(|(p, ent)| {
                    let may: Vec<String> = ent
                        .iter()
                        .filter(|r| tiers.contains_key(*r))
                        .map(|r| format!("`{}`", name(r)))
                        .collect();
                    if may.is_empty() {
                        format!("`{}` (none of these roles)", name(p))
                    } else {
                        format!("`{}` (only {})", name(p), words(may))
                    }
                })
                .collect();
            let vc_names: Vec<String> = vcs.iter().map(|v| format!("`{}`", v.name)).collect();
            let resource = Ref::k8s(Kind::Namespace, None, ns);
            let values = crate::values::EstateValues::of(cx.index);
            let cluster = values.cluster();
            let mut b = self
                .finding(resource.clone())
                .namespace(Some(ns))
                .virtual_cluster(vcs.first().map(|v| v.id.as_str()))
                .message(format!(
                    "EMR namespace `{ns}` (virtual cluster{} {}) runs execution roles of different privilege: {}. Submitter{} {} may start jobs there but {} not entitled to the {} role{} {}: their jobs share the namespace's pod templates, ConfigMaps, Secrets and service accounts with jobs that hold {} access.",
                    if vcs.len() > 1 { "s" } else { "" },
                    words(vc_names),
                    roles_desc.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>().join(", "),
                    if who.len() > 1 { "s" } else { "" },
                    words(who),
                    if excluded.len() > 1 { "are" } else { "is" },
                    tier_name(top),
                    if top_roles.len() > 1 { "s" } else { "" },
                    words(top_roles.iter().map(|r| format!("`{}`", name(r))).collect()),
                    tier_name(top)
                ))
                .remediation(format!(
                    "Run the {} role{} {} in a virtual cluster on a namespace of its own (create the namespace NEW_NS, `eksctl create iamidentitymapping --cluster {cluster} --namespace NEW_NS --service-name emr-containers`, `aws emr-containers create-virtual-cluster --name NAME --container-provider '{{\"id\":\"{cluster}\",\"type\":\"EKS\",\"info\":{{\"eksInfo\":{{\"namespace\":\"NEW_NS\"}}}}}}'`), move its trust there ({}) and out of `{ns}`, and restrict each submitter's StartJobRun to its own virtual cluster with an `emr-containers:ExecutionRoleArn` condition.",
                    tier_name(top),
                    if top_roles.len() > 1 { "s" } else { "" },
                    words(top_roles.iter().map(|r| format!("`{}`", name(r))).collect()),
                    words(top_roles.iter().map(|r| format!("`aws emr-containers update-role-trust-policy --cluster-name {cluster} --namespace NEW_NS --role-name {}`", name(r))).collect())
                ))
                .step(PathStep::from_ref(&resource));
            b = b.fork(
                Kind::VirtualCluster,
                format!("{} virtual clusters", vcs.len()),
                vcs.iter().map(|v| PathStep::from_ref(&vc_ref(v))).collect(),
            );
            for v in &vcs {
                b = b.location(&v.loc);
            }
            b = b.fork(
                Kind::IamRole,
                format!("{} execution roles", tiers.len()),
                tiers
                    .iter()
                    .map(|(arn, t)| {
                        PathStep::new(Kind::IamRole, name(arn))
                            .arn(Some(arn))
                            .detail(format!("tier {}", tier_name(*t)))
                    })
                    .collect(),
            );
            for arn in tiers.keys() {
                if let Some(u) = usable.get(arn) {
                    for l in &u.locs {
                        b = b.location(l);
                    }
                }
            }
            out.push(b.build());
        }
        out
    }
}

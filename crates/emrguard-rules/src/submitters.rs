//! Job submitters as the IAM engine sees them, shared by the `IAM03x` rules: which principals
//! may call `emr-containers:StartJobRun` / `CreateManagedEndpoint` at all, the virtual clusters
//! of the snapshot, the request contexts to ask about, and which execution roles a job in a
//! virtual cluster could actually run with (those whose trust admits their EMR service
//! accounts in the virtual cluster's namespace, or with a Pod Identity association there).

use crate::analysis::PrincipalIam;
use crate::exec_roles::is_service_linked;
use crate::Context;
use emrguard_iam::{Context as IamContext, PrivilegeTier, RiskClass};
use emrguard_model::aws::emr::VirtualCluster;
use emrguard_model::aws::iam::{arn_account, arn_resource_name};
use emrguard_model::Located;
use std::collections::HashMap;

pub const START_JOB_RUN: &str = "emr-containers:StartJobRun";
pub const CREATE_ENDPOINT: &str = "emr-containers:CreateManagedEndpoint";
pub const EXECUTION_ROLE_KEY: &str = "emr-containers:ExecutionRoleArn";
pub const TEMPLATE_KEY: &str = "emr-containers:JobTemplateArn";
/// A role name no policy names: allowed to pass it means allowed to pass any role.
pub const PROBE_ROLE: &str = "emrguard-probe-unlisted-role";

/// `arn:aws:iam::ACCOUNT:role/emrguard-probe-unlisted-role`.
pub fn probe_role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{PROBE_ROLE}")
}

/// Principals that are administrators (unconditionally) hold every permission anyway; declared
/// administrators and service-linked roles are not submitters.
pub fn is_exempt(cx: &Context<'_, '_>, arn: &str, p: &PrincipalIam) -> bool {
    if is_service_linked(arn) {
        return true;
    }
    if p.report()
        .get(RiskClass::Administrator)
        .is_some_and(|r| !r.is_conditional())
    {
        return true;
    }
    let name = arn_resource_name(arn);
    cx.config.administrators.iam_arns.iter().any(|a| {
        a == arn || (arn_resource_name(a) == name && a.contains(":role/") == arn.contains(":role/"))
    })
}

/// Every action a submitter rule asks about.
pub const SUBMITTER_ACTIONS: [&str; 4] = [
    START_JOB_RUN,
    CREATE_ENDPOINT,
    "eks:CreatePodIdentityAssociation",
    "eks:UpdatePodIdentityAssociation",
];

/// Principals (roles and users, in ARN order) that are not exempt and whose identity policies
/// have an `Allow` statement naming one of `actions` (from [`SUBMITTER_ACTIONS`]), or a
/// `NotAction`. Computed for every principal once per run; the rules then ask the engine.
pub fn candidates<'v>(
    cx: &'v Context<'_, '_>,
    actions: &[&str],
) -> Vec<(&'v str, &'v PrincipalIam)> {
    holders(cx, actions, false)
}

/// [`candidates`] with the exempt principals (administrators, declared or not) too, but never
/// service-linked roles: who may call the actions at all. TEN001 needs them: a role only an
/// administrator may start jobs with is still usable in the namespace.
pub fn callers<'v>(cx: &'v Context<'_, '_>, actions: &[&str]) -> Vec<(&'v str, &'v PrincipalIam)> {
    holders(cx, actions, true)
}

fn holders<'v>(
    cx: &'v Context<'_, '_>,
    actions: &[&str],
    with_exempt: bool,
) -> Vec<(&'v str, &'v PrincipalIam)> {
    let map = cx.execution_roles().submitter_actions.get_or_init(|| {
        use rayon::prelude::*;
        let principals = cx.iam().principals();
        // Policies are shared (managed ones by every principal they are attached to): look at
        // each compiled document once.
        let mut distinct: HashMap<usize, &emrguard_iam::CompiledPolicy> = HashMap::new();
        for (_, p) in &principals {
            for a in &p.policies.identity {
                distinct.insert(std::sync::Arc::as_ptr(&a.policy) as usize, &a.policy);
            }
        }
        let distinct: Vec<(usize, &emrguard_iam::CompiledPolicy)> = distinct.into_iter().collect();
        let memo: HashMap<usize, u8> = distinct
            .par_iter()
            .map(|(k, policy)| (*k, policy_bits(policy)))
            .collect();
        principals
            .par_iter()
            .filter_map(|(arn, p)| {
                let bits = p.policies.identity.iter().fold(0u8, |b, a| {
                    let key = std::sync::Arc::as_ptr(&a.policy) as usize;
                    b | memo.get(&key).copied().unwrap_or(0)
                });
                if bits == 0 || is_service_linked(arn) {
                    return None;
                }
                let held: Vec<&'static str> = SUBMITTER_ACTIONS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, a)| *a)
                    .collect();
                Some(((*arn).to_owned(), (held, is_exempt(cx, arn, p))))
            })
            .collect()
    });
    let mut out: Vec<(&str, &PrincipalIam)> = map
        .iter()
        .filter(|(_, (held, exempt))| {
            (with_exempt || !exempt) && held.iter().any(|h| actions.contains(h))
        })
        .filter_map(|(arn, _)| cx.iam().principal(arn).map(|p| (arn.as_str(), p)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Bit `i` set when some `Allow` statement of the policy names `SUBMITTER_ACTIONS[i]` (or uses
/// `NotAction`): a cheap, conservative filter; the rules then ask the engine
/// ([`emrguard_iam::decide`]) about concrete requests.
fn policy_bits(policy: &emrguard_iam::CompiledPolicy) -> u8 {
    let mut bits = 0u8;
    for st in policy.statements() {
        if st.effect() != emrguard_iam::Effect::Allow {
            continue;
        }
        let (neg, patterns) = st.action_patterns();
        for (i, action) in SUBMITTER_ACTIONS.iter().enumerate() {
            let hit = neg
                || patterns.iter().any(|pat| {
                    if pat.contains(['*', '?']) {
                        emrguard_iam::action_matches(pat, action)
                    } else {
                        pat.eq_ignore_ascii_case(action)
                    }
                });
            if hit {
                bits |= 1 << i;
            }
        }
    }
    bits
}

/// A live virtual cluster with its ARN (built from id, region and account when the output
/// lacks it).
pub struct Vc<'s> {
    pub vc: &'s Located<VirtualCluster>,
    pub arn: String,
}

pub fn virtual_clusters<'s>(cx: &Context<'_, 's>) -> Vec<Vc<'s>> {
    let region = crate::iam_evidence::region_of_snapshot(cx.index);
    cx.index
        .snap
        .virtual_clusters
        .iter()
        .filter(|v| v.is_live())
        .map(|v| {
            let arn = if v.arn.is_empty() {
                let account = v
                    .eks_cluster()
                    .and_then(|c| cx.index.cluster(c))
                    .and_then(|c| c.account())
                    .unwrap_or("000000000000");
                format!(
                    "arn:aws:emr-containers:{region}:{account}:/virtualclusters/{}",
                    v.id
                )
            } else {
                v.arn.clone()
            };
            Vc { vc: v, arn }
        })
        .collect()
}

/// The request context of a `StartJobRun`/`CreateManagedEndpoint` by `p` naming
/// `execution_role` (or leaving it unknown) and `template` (absent when `None`).
pub fn request_context(
    p: &PrincipalIam,
    execution_role: Option<&str>,
    template: Option<&str>,
) -> IamContext {
    let mut c = p.policies.context();
    if let Some(r) = execution_role {
        c.set(EXECUTION_ROLE_KEY, vec![r.to_owned()]);
    }
    match template {
        Some(t) => c.set(TEMPLATE_KEY, vec![t.to_owned()]),
        None => c.set_absent(TEMPLATE_KEY),
    }
    c
}

/// The account of a principal (for probe ARNs).
pub fn account_of(arn: &str) -> &str {
    arn_account(arn).unwrap_or("000000000000")
}

/// Execution roles a job in `vc` could run with: their trust admits their own EMR service
/// accounts in the virtual cluster's namespace on its cluster (IRSA), or a Pod Identity
/// association of an EMR service account there names them. With their privilege tier.
pub fn usable_roles(
    cx: &Context<'_, '_>,
    vc: &VirtualCluster,
) -> Vec<(String, String, Option<PrivilegeTier>)> {
    let Some(ns) = vc.namespace() else {
        return Vec::new();
    };
    let issuer = vc
        .eks_cluster()
        .and_then(|c| cx.index.cluster(c))
        .and_then(|c| c.oidc_issuer_host());
    let mut out = Vec::new();
    for (er, role) in cx.execution_roles().with_roles() {
        let irsa = match issuer {
            Some(h) => crate::trust::admits_emr_jobs(cx, role, h, ns).is_some(),
            None => er.namespaces(cx.index).contains(ns),
        };
        let pod_identity = cx.index.snap.pod_identity_associations.iter().any(|a| {
            a.namespace == ns
                && a.role_arn
                    .as_deref()
                    .is_some_and(|r| cx.index.role(r).is_some_and(|x| x.arn == role.arn))
        });
        if irsa || pod_identity {
            out.push((
                role.arn.clone(),
                role.role_name.clone(),
                cx.iam().tier(&role.arn),
            ));
        }
    }
    out
}

/// `` `a` (administrator), `b` `` for messages, most privileged first.
pub fn describe_roles(roles: &[(String, String, Option<PrivilegeTier>)]) -> Vec<String> {
    let mut v: Vec<&(String, String, Option<PrivilegeTier>)> = roles.iter().collect();
    v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    v.into_iter()
        .map(|(_, name, tier)| match tier {
            Some(PrivilegeTier::Administrator) => format!("`{name}` (administrator)"),
            Some(PrivilegeTier::PrivilegeEscalation) => {
                format!("`{name}` (can escalate privileges)")
            }
            _ => format!("`{name}`"),
        })
        .collect()
}

/// True when one of the roles is an administrator or can escalate.
pub fn any_privileged(roles: &[(String, String, Option<PrivilegeTier>)]) -> bool {
    roles.iter().any(|(_, _, t)| {
        matches!(
            t,
            Some(PrivilegeTier::Administrator | PrivilegeTier::PrivilegeEscalation)
        )
    })
}

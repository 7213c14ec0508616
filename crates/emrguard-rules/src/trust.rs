//! Trust-policy analysis of execution roles, shared by the `IAM02x` rules: which IRSA
//! statements the role's trust has, and which service accounts they admit, asked of the IAM
//! engine ([`decide_trust`]) with probe subjects in a closed context (a key the probe does not
//! set is absent, as in a real `AssumeRoleWithWebIdentity` call).
//!
//! Probes, for a role `R` of account `A`, for each OIDC provider its trust names:
//!
//! - *other namespaces*: `system:serviceaccount:<ns>:emr-containers-sa-spark-driver-A-b36(R)`
//!   for every EMR namespace of the snapshot the role is not meant for, for `emrguard-probe`
//!   and for `<intended>-emrguard-probe` (catches `spark-*`); plus a non-EMR service account
//!   name in `emrguard-probe`;
//! - *wider than EMR's pattern* (in each intended namespace): a non-EMR service account name,
//!   the EMR service accounts of a role named `emrguard-probe-role`, and those of every other
//!   execution role of the snapshot.
//!
//! The EMR pattern `emr-containers-sa-*-*-A-b36(R)` admits none of these probes, so a provider
//! whose statements all have exactly that form (with literal namespace, account and suffix) is
//! not probed: that keeps the analysis linear in the number of roles. Other-role probes are
//! made only for statements whose `:sub` values do not pin one role.

use crate::base36;
use crate::exec_roles::{split_subject, ExecutionRole, ExecutionRoles};
use crate::iam_evidence::{describe_statement, policy_step, statement_label};
use crate::Context;
use emrguard_iam::{
    decide_trust, Context as IamContext, Decision, Evidence, PolicyKind, Statement, StatementRef,
    TrustPolicy, TrustPrincipal,
};
use emrguard_model::aws::iam::{arn_account, Role};
use emrguard_model::PathStep;
use std::collections::{BTreeMap, BTreeSet};

/// The audience STS expects from EKS projected tokens.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// The action IRSA uses.
pub const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
/// A namespace no real estate has.
pub const PROBE_NAMESPACE: &str = "emrguard-probe";
/// A service account name that is not EMR's.
pub const PROBE_SA: &str = "emrguard-probe-sa";
/// A role name no real estate has.
pub const PROBE_ROLE: &str = "emrguard-probe-role";

/// The namespaces an execution role's jobs run in (the virtual clusters of its job runs and
/// endpoints), else those its trust and Pod Identity associations name
/// ([`ExecutionRole::namespaces`]). Fix texts and `emrguard fix` name these.
pub fn job_namespaces(cx: &Context<'_, '_>, role_arn: &str) -> (BTreeSet<String>, bool) {
    let index = cx.index;
    let Some(er) = cx.execution_roles().get(role_arn) else {
        return (BTreeSet::new(), false);
    };
    let from_jobs: BTreeSet<String> = er
        .virtual_clusters(index)
        .into_iter()
        .filter_map(|vc| index.namespace_of_vc(vc))
        .map(str::to_owned)
        .collect();
    if !from_jobs.is_empty() {
        return (from_jobs, true);
    }
    (er.namespaces(index), false)
}

/// `aws emr-containers update-role-trust-policy` for each of the role's job namespaces, with
/// the estate's cluster (as one sentence part, commands in backticks joined by "and").
pub fn update_trust_commands(cx: &Context<'_, '_>, role: &Role) -> String {
    let v = crate::values::EstateValues::of(cx.index);
    let (ns, _) = job_namespaces(cx, &role.arn);
    let ns: Vec<String> = if ns.is_empty() {
        vec!["NAMESPACE".to_owned()]
    } else {
        ns.into_iter().collect()
    };
    let cmds: Vec<String> = ns
        .iter()
        .map(|n| {
            format!(
                "`aws emr-containers update-role-trust-policy --cluster-name {} --namespace {n} --role-name {}`",
                v.cluster(),
                role.role_name
            )
        })
        .collect();
    crate::util::join_words(&cmds)
}

/// The compiled trust policy of a role (compiled once per document text by the store).
pub fn trust_policy(cx: &Context<'_, '_>, role: &Role) -> Option<TrustPolicy> {
    let doc = role.assume_role_policy_document.as_ref()?;
    let policy = cx.iam().store.compile(doc.text(), PolicyKind::Trust);
    Some(TrustPolicy::new(&role.arn, policy))
}

/// `system:serviceaccount:<ns>:emr-containers-sa-spark-driver-<account>-<b36(role)>`.
pub fn emr_subject(ns: &str, account: &str, role_name: &str) -> String {
    format!(
        "system:serviceaccount:{ns}:emr-containers-sa-spark-driver-{account}-{}",
        base36::encode(role_name)
    )
}

/// A web-identity (OIDC) statement of a trust policy.
#[derive(Debug, Clone)]
pub struct IrsaStatement<'p> {
    pub st: &'p Statement,
    /// The `Federated` provider ARN.
    pub provider: String,
    /// `oidc.eks.<region>.amazonaws.com/id/<ID>` (the provider ARN after `oidc-provider/`).
    pub issuer: String,
    /// `(operator, key, values)` of conditions on `<anything>:sub`.
    pub subs: Vec<(String, String, Vec<String>)>,
    /// Some condition on `<anything>:aud`.
    pub has_aud: bool,
}

impl IrsaStatement<'_> {
    /// Every `:sub` value.
    pub fn sub_values(&self) -> impl Iterator<Item = &str> {
        self.subs
            .iter()
            .flat_map(|(_, _, v)| v.iter().map(String::as_str))
    }

    /// Exactly the statement `aws emr-containers update-role-trust-policy` writes (domain.md
    /// §1.1): one `StringLike` condition on `<issuer>:sub` whose values are all
    /// `system:serviceaccount:<ns>:emr-containers-sa-*-*-<account>-<base36>`, nothing else.
    pub fn is_cli_form(&self) -> bool {
        let conds = self.st.conditions();
        !conds.is_empty()
            && conds.iter().all(|(op, key, values)| {
                *op == "StringLike"
                    && key.eq_ignore_ascii_case(&format!("{}:sub", self.issuer))
                    && !values.is_empty()
                    && values.iter().all(|v| cli_suffix(v).is_some())
            })
    }
}

/// For a CLI-form subject `system:serviceaccount:<ns>:emr-containers-sa-*-*-<account>-<b36>`:
/// (`ns`, `account`, `b36`).
pub fn cli_suffix(subject: &str) -> Option<(&str, &str, &str)> {
    let (ns, sa) = split_subject(subject)?;
    let rest = sa.strip_prefix("emr-containers-sa-*-*-")?;
    let (account, b36) = rest.split_once('-')?;
    if ns.is_empty() || ns.contains(['*', '?']) || !base36::is_base36(b36) {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((ns, account, b36))
}

/// An EMR per-role service-account subject with a literal suffix (CLI form, or one exact SA
/// name such as `emr-containers-sa-spark-driver-<account>-<b36>`): (`ns`, `account`, `b36`).
pub fn emr_subject_suffix(subject: &str) -> Option<(&str, &str, &str)> {
    let (ns, sa) = split_subject(subject)?;
    if !sa.starts_with("emr-containers-sa-") {
        return None;
    }
    let (head, b36) = sa.rsplit_once('-')?;
    let (_, account) = head.rsplit_once('-')?;
    if !base36::is_base36(b36)
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((ns, account, b36))
}

/// The web-identity statements of a trust policy: `Allow`, a `Federated` OIDC provider
/// principal, an action covering `sts:AssumeRoleWithWebIdentity`.
pub fn irsa_statements(tp: &TrustPolicy) -> Vec<IrsaStatement<'_>> {
    let mut out = Vec::new();
    for st in tp.policy.statements() {
        if st.effect() != emrguard_iam::Effect::Allow {
            continue;
        }
        let (neg, actions) = st.action_patterns();
        let covers = if neg {
            !actions
                .iter()
                .any(|a| emrguard_iam::action_matches(a, WEB_IDENTITY))
        } else {
            actions
                .iter()
                .any(|a| emrguard_iam::action_matches(a, WEB_IDENTITY))
        };
        if !covers {
            continue;
        }
        let Some((false, principals)) = st.principals() else {
            continue;
        };
        let conds = st.conditions();
        let subs: Vec<(String, String, Vec<String>)> = conds
            .iter()
            .filter(|(_, k, _)| k.to_ascii_lowercase().ends_with(":sub"))
            .map(|(o, k, v)| {
                (
                    (*o).to_owned(),
                    (*k).to_owned(),
                    v.iter().map(|s| (*s).to_owned()).collect(),
                )
            })
            .collect();
        let has_aud = conds
            .iter()
            .any(|(_, k, _)| k.to_ascii_lowercase().ends_with(":aud"));
        for (kind, value) in principals {
            if kind != "Federated" {
                continue;
            }
            let Some((_, issuer)) = value.split_once(":oidc-provider/") else {
                continue;
            };
            out.push(IrsaStatement {
                st,
                provider: value.to_owned(),
                issuer: issuer.to_owned(),
                subs: subs.clone(),
                has_aud,
            });
        }
    }
    out
}

/// Ask whether the trust admits `subject` through `provider` (closed context, `:aud` set to
/// `sts.amazonaws.com`). Returns the allowing evidence, if allowed.
pub fn admits(
    tp: &TrustPolicy,
    provider: &str,
    issuer: &str,
    subject: &str,
) -> Option<Vec<Evidence>> {
    let ctx = IamContext::closed()
        .with(&format!("{issuer}:sub"), subject)
        .with(&format!("{issuer}:aud"), STS_AUDIENCE);
    match decide_trust(
        tp,
        &TrustPrincipal::Federated(provider.to_owned()),
        WEB_IDENTITY,
        &ctx,
    ) {
        Decision::Allowed(ev) => Some(ev),
        _ => None,
    }
}

/// What one web-identity statement admits beyond what it should.
#[derive(Debug, Clone, Default)]
pub struct StatementVerdict {
    pub index: usize,
    pub provider: String,
    pub issuer: String,
    pub has_sub: bool,
    pub has_aud: bool,
    pub cli_form: bool,
    /// The statement's allowing evidence for the first probe it admitted.
    pub evidence: Option<Evidence>,
    /// Namespaces (real EMR namespaces, or `any namespace`) it admits that the role is not for.
    pub other_namespaces: BTreeSet<String>,
    /// Namespaces in which it admits any service account.
    pub any_service_account_in: BTreeSet<String>,
    /// Roles (real execution roles, or `other roles`) whose EMR service accounts it admits.
    pub other_roles: BTreeSet<String>,
    /// CLI-form or exact EMR subjects whose suffix is not this role's: (value, account,
    /// b36, decoded role name).
    pub suffix_mismatches: Vec<(String, String, String, Option<String>)>,
}

impl StatementVerdict {
    /// The statement admits service accounts of other namespaces or any service account
    /// anywhere (IAM020's concern).
    pub fn crosses_namespaces(&self) -> bool {
        self.has_sub && !self.other_namespaces.is_empty()
    }
    /// IAM022's concern: wider than EMR's pattern within the intended namespaces.
    pub fn wider_than_emr(&self) -> bool {
        self.has_sub
            && !self.crosses_namespaces()
            && (!self.any_service_account_in.is_empty() || !self.other_roles.is_empty())
    }
}

/// The evidence tail shared by the trust rules: the finding is about statement `v` of the
/// role's trust policy, reached as execution role `step`; adds the statement and its location.
pub fn finish_statement_finding(
    b: emrguard_model::FindingBuilder,
    index: &emrguard_model::EstateIndex<'_>,
    a: &TrustAnalysis,
    v: &StatementVerdict,
    step: PathStep,
    role_loc: &emrguard_model::SourceLoc,
) -> emrguard_model::Finding {
    let mut b = b
        .discriminator(format!("{}/{}", v.index, v.provider))
        .step(step);
    if let Some(s) = statement_step(&a.trust, v.index) {
        b = b.step(s);
    }
    if let Some(l) = crate::iam_evidence::policy_location(index, &a.trust.origin) {
        b = b.location(&l);
    }
    b.location(role_loc).build()
}

/// All verdicts for an execution role's trust.
#[derive(Debug, Clone)]
pub struct TrustAnalysis {
    pub trust: TrustPolicy,
    pub intended_namespaces: BTreeSet<String>,
    pub statements: Vec<StatementVerdict>,
}

fn record(v: &mut StatementVerdict, ev: &[Evidence]) {
    if v.evidence.is_none() {
        v.evidence = ev.iter().find(|e| e.statement.index == v.index).cloned();
    }
}

/// Analyse the web-identity statements of an execution role's trust policy.
pub fn analyze(
    cx: &Context<'_, '_>,
    er: &ExecutionRole<'_>,
    role: &Role,
    all: &ExecutionRoles<'_>,
) -> Option<TrustAnalysis> {
    let tp = trust_policy(cx, role)?;
    let account = arn_account(&role.arn).unwrap_or("000000000000").to_owned();
    let intended = er.namespaces(cx.index);
    let own_b36 = base36::encode(&role.role_name);
    let stmts = irsa_statements(&tp);
    let mut verdicts: BTreeMap<(usize, String), StatementVerdict> = BTreeMap::new();
    for s in &stmts {
        let key = (s.st.index(), s.provider.clone());
        let v = verdicts.entry(key).or_insert_with(|| StatementVerdict {
            index: s.st.index(),
            provider: s.provider.clone(),
            issuer: s.issuer.clone(),
            has_sub: !s.subs.is_empty(),
            has_aud: s.has_aud,
            cli_form: s.is_cli_form(),
            ..Default::default()
        });
        for value in s.sub_values() {
            if let Some((_, acct, b36)) = emr_subject_suffix(value).or_else(|| cli_suffix(value)) {
                if b36 != own_b36 || acct != account {
                    v.suffix_mismatches.push((
                        value.to_owned(),
                        acct.to_owned(),
                        b36.to_owned(),
                        base36::decode(b36),
                    ));
                }
            }
        }
    }
    let emr_namespaces: BTreeSet<String> = cx.index.emr_namespaces().map(str::to_owned).collect();
    let providers: BTreeSet<(String, String)> = stmts
        .iter()
        .map(|s| (s.provider.clone(), s.issuer.clone()))
        .collect();
    for (provider, issuer) in &providers {
        // The statement aws-cli writes admits exactly this role's EMR service accounts in one
        // literal namespace (a wrong suffix is a suffix mismatch, found above): nothing to probe
        // unless some statement for this provider has another form.
        if stmts
            .iter()
            .all(|s| s.provider != *provider || s.is_cli_form())
        {
            continue;
        }
        let mut hit = |subject: &str, f: &mut dyn FnMut(&mut StatementVerdict)| {
            if let Some(ev) = admits(&tp, provider, issuer, subject) {
                for e in &ev {
                    if let Some(v) = verdicts.get_mut(&(e.statement.index, provider.clone())) {
                        record(v, &ev);
                        f(v);
                    }
                }
            }
        };
        // Other namespaces.
        for ns in emr_namespaces.iter().filter(|ns| !intended.contains(*ns)) {
            let label = ns.clone();
            hit(&emr_subject(ns, &account, &role.role_name), &mut |v| {
                v.other_namespaces.insert(label.clone());
            });
        }
        let mut synthetic: Vec<String> = vec![
            emr_subject(PROBE_NAMESPACE, &account, &role.role_name),
            format!("system:serviceaccount:{PROBE_NAMESPACE}:{PROBE_SA}"),
        ];
        synthetic.extend(intended.iter().map(|ns| {
            emr_subject(
                &format!("{ns}-{PROBE_NAMESPACE}"),
                &account,
                &role.role_name,
            )
        }));
        for subject in &synthetic {
            hit(subject, &mut |v| {
                v.other_namespaces.insert("any namespace".to_owned());
            });
        }
        // Wider than EMR's pattern, within each intended namespace.
        for ns in &intended {
            let label = ns.clone();
            hit(
                &format!("system:serviceaccount:{ns}:{PROBE_SA}"),
                &mut |v| {
                    v.any_service_account_in.insert(label.clone());
                },
            );
            hit(&emr_subject(ns, &account, PROBE_ROLE), &mut |v| {
                v.other_roles.insert("other roles".to_owned());
            });
            // Real other roles, only where some pattern could admit them (exact subjects and
            // the CLI pattern cannot; that keeps this linear in the number of roles).
            let wide = stmts
                .iter()
                .any(|s| s.provider == *provider && s.sub_values().any(|v| !pins_one_role(v)));
            if !wide {
                continue;
            }
            for other in all
                .iter()
                .map(|e| e.name())
                .filter(|n| *n != role.role_name)
            {
                let name = other.to_owned();
                hit(&emr_subject(ns, &account, other), &mut |v| {
                    // A statement that names that role's suffix exactly is a suffix mismatch
                    // (IAM023), not a wide pattern.
                    let exact = v
                        .suffix_mismatches
                        .iter()
                        .any(|m| Some(&name) == m.3.as_ref());
                    if !exact {
                        v.other_roles.insert(name.clone());
                    }
                });
            }
        }
    }
    Some(TrustAnalysis {
        trust: tp,
        intended_namespaces: intended,
        statements: verdicts.into_values().collect(),
    })
}

/// A path step for statement `index` of a trust policy: principal, action and conditions.
pub fn statement_step(tp: &TrustPolicy, index: usize) -> Option<PathStep> {
    let st = tp.policy.statements().iter().find(|s| s.index() == index)?;
    let sref = StatementRef {
        policy: tp.origin.clone(),
        via_group: None,
        index,
        sid: st.sid().map(Into::into),
        effect: st.effect(),
        pointer: st.pointer().into(),
    };
    Some(policy_step(
        &sref,
        format!(
            "{}: {}",
            statement_label(&sref),
            describe_statement(st, &[WEB_IDENTITY.to_owned()])
        ),
    ))
}

/// The trust analysis of an execution role, computed for every execution role of the snapshot
/// on first use (in parallel) and shared by the rules.
pub fn cached<'c>(cx: &'c Context<'_, '_>, role_arn: &str) -> Option<&'c TrustAnalysis> {
    let all = cx.execution_roles();
    let map = all.trust.get_or_init(|| {
        use rayon::prelude::*;
        let roles: Vec<_> = all.with_roles().collect();
        roles
            .par_iter()
            .filter_map(|(er, role)| analyze(cx, er, role, all).map(|a| (role.arn.clone(), a)))
            .collect()
    });
    map.get(role_arn)
}

/// A `:sub` value that can only admit one role's EMR service accounts: an exact subject, or the
/// CLI pattern with a literal account and suffix. Other values need the other-role probes.
fn pins_one_role(value: &str) -> bool {
    match split_subject(value) {
        Some((_, sa)) => !sa.contains(['*', '?']) || cli_suffix(value).is_some(),
        None => false,
    }
}

/// Does `role`'s trust admit its own EMR service accounts of namespace `ns` on the cluster
/// whose OIDC issuer is `issuer` (Pod Identity is not considered)?
pub fn admits_emr_jobs(
    cx: &Context<'_, '_>,
    role: &Role,
    issuer: &str,
    ns: &str,
) -> Option<Vec<Evidence>> {
    let tp = trust_policy(cx, role)?;
    let account = arn_account(&role.arn)?;
    let provider = format!(
        "arn:{}:iam::{account}:oidc-provider/{issuer}",
        crate::iam_evidence::partition_of(&role.arn)
    );
    admits(
        &tp,
        &provider,
        issuer,
        &emr_subject(ns, account, &role.role_name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_suffixes() {
        assert_eq!(
            cli_suffix("system:serviceaccount:ns:emr-containers-sa-*-*-111122223333-abc123"),
            Some(("ns", "111122223333", "abc123"))
        );
        assert_eq!(
            cli_suffix("system:serviceaccount:ns:emr-containers-sa-*-*-111122223333-*"),
            None
        );
        assert_eq!(
            cli_suffix("system:serviceaccount:*:emr-containers-sa-*-*-111122223333-abc"),
            None
        );
        assert_eq!(
            emr_subject_suffix(
                "system:serviceaccount:ns:emr-containers-sa-spark-driver-111122223333-abc"
            ),
            Some(("ns", "111122223333", "abc"))
        );
        assert_eq!(
            emr_subject_suffix("system:serviceaccount:ns:emr-containers-sa-*-*-111122223333-abc"),
            Some(("ns", "111122223333", "abc"))
        );
    }

    #[test]
    fn pinned_values() {
        assert!(pins_one_role(
            "system:serviceaccount:ns:emr-containers-sa-*-*-111122223333-abc"
        ));
        assert!(pins_one_role(
            "system:serviceaccount:ns:emr-containers-sa-spark-driver-111122223333-abc"
        ));
        assert!(!pins_one_role("system:serviceaccount:ns:emr-containers*"));
        assert!(!pins_one_role(
            "system:serviceaccount:ns:emr-containers-sa-*-*-111122223333-ab*"
        ));
        assert!(!pins_one_role("system:serviceaccount:*:*"));
        assert!(!pins_one_role("*"));
    }

    #[test]
    fn emr_subjects() {
        assert_eq!(
            emr_subject("spark-team-a", "111122223333", "emr-team-a-exec"),
            "system:serviceaccount:spark-team-a:emr-containers-sa-spark-driver-111122223333-ued72w79csftn2hgi3ug4mb"
        );
    }
}

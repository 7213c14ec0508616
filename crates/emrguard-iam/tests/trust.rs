//! Trust policies: the IRSA statement `aws emr-containers update-role-trust-policy` writes
//! (spec domain.md §1.1), Pod Identity, and the malformed documentation variant (§1.4).

// Integration-test helpers outside `#[test]` functions: failing loudly is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_iam::{
    decide_trust, CompiledPolicy, ConditionRef, Context, Decision, ImplicitDenyReason, IssueKind,
    Matched, PolicyKind, TrustPolicy, TrustPrincipal,
};
use std::sync::Arc;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const ROLE: &str = "JobExecutionRoleIRSAv2";
/// base36 of the role name (domain.md §1.3 test vector).
const B36: &str = "c7ohmynrs14q04uudoef8n97xdufwajzua";

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")
}

fn provider() -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}")
}

/// The statement exactly as aws-cli's TRUST_POLICY_STATEMENT_FORMAT renders it (no Sid, no :aud).
fn cli_trust_policy(namespace: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{ "Effect": "Allow", "Principal": {{ "Federated": "arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}" }}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {{ "StringLike": {{ "{ISSUER}:sub": "system:serviceaccount:{namespace}:emr-containers-sa-*-*-{ACCOUNT}-{B36}" }} }} }}]}}"#
    )
}

fn trust(doc: &str) -> TrustPolicy {
    let p = CompiledPolicy::parse(doc, PolicyKind::Trust);
    TrustPolicy::new(&role_arn(), Arc::new(p))
}

fn sub_ctx(sa: &str) -> Context {
    Context::new().with(&format!("{ISSUER}:sub"), sa)
}

#[test]
fn cli_form_parses_cleanly() {
    let p = CompiledPolicy::parse(&cli_trust_policy("ns"), PolicyKind::Trust);
    assert!(p.issues().is_empty(), "{:?}", p.issues());
    let st = &p.statements()[0];
    assert_eq!(st.sid(), None);
    assert_eq!(
        st.principals(),
        Some((false, vec![("Federated", provider().as_str())]))
    );
}

#[test]
fn irsa_subject_of_the_namespace_is_allowed() {
    let t = trust(&cli_trust_policy("ns"));
    let who = TrustPrincipal::Federated(provider());
    for component in [
        "spark-driver",
        "spark-executor",
        "spark-client",
        "spark-jeg-kernel",
        "flink-jobmanager",
    ] {
        let sa = format!("system:serviceaccount:ns:emr-containers-sa-{component}-{ACCOUNT}-{B36}");
        match decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &sub_ctx(&sa)) {
            Decision::Allowed(ev) => {
                assert_eq!(ev.len(), 1);
                assert_eq!(ev[0].statement.index, 0);
                assert_eq!(
                    ev[0].action,
                    Matched::Pattern("sts:AssumeRoleWithWebIdentity".into())
                );
                assert_eq!(ev[0].principal, Some(Matched::Pattern(provider().into())));
                assert_eq!(
                    ev[0].statement.policy.owner.as_deref(),
                    Some(role_arn().as_str())
                );
            }
            d => panic!("{component}: {d:?}"),
        }
    }
}

#[test]
fn other_namespace_or_role_is_implicitly_denied() {
    let t = trust(&cli_trust_policy("ns"));
    let who = TrustPrincipal::Federated(provider());
    let other_ns =
        format!("system:serviceaccount:other:emr-containers-sa-spark-driver-{ACCOUNT}-{B36}");
    assert_eq!(
        decide_trust(
            &t,
            &who,
            "sts:AssumeRoleWithWebIdentity",
            &sub_ctx(&other_ns)
        ),
        Decision::ImplicitDeny(ImplicitDenyReason::NoAllow)
    );
    // Another role's service account (different base36 suffix).
    let other_role = format!("system:serviceaccount:ns:emr-containers-sa-spark-driver-{ACCOUNT}-j3uv6jk0kk3sogu231qj91fmo3mvwfl561");
    assert!(decide_trust(
        &t,
        &who,
        "sts:AssumeRoleWithWebIdentity",
        &sub_ctx(&other_role)
    )
    .is_denied());
    // The fixed operator and Livy service accounts are not covered (domain.md §1.5).
    for fixed in [
        "emr-containers-sa-spark-operator",
        "emr-container-sa-spark-livy",
    ] {
        let sa = format!("system:serviceaccount:ns:{fixed}");
        assert!(
            decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &sub_ctx(&sa)).is_denied(),
            "{fixed}"
        );
    }
    // Another identity provider, or another action.
    let sa = format!("system:serviceaccount:ns:emr-containers-sa-spark-driver-{ACCOUNT}-{B36}");
    let other_idp = TrustPrincipal::Federated(format!(
        "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER"
    ));
    assert!(decide_trust(
        &t,
        &other_idp,
        "sts:AssumeRoleWithWebIdentity",
        &sub_ctx(&sa)
    )
    .is_denied());
    assert!(decide_trust(&t, &who, "sts:AssumeRole", &sub_ctx(&sa)).is_denied());
}

#[test]
fn without_context_the_sub_condition_is_listed() {
    let t = trust(&cli_trust_policy("ns"));
    let who = TrustPrincipal::Federated(provider());
    match decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &Context::new()) {
        Decision::Conditional(conds) => {
            assert_eq!(conds.len(), 1);
            match &conds[0] {
                ConditionRef::Condition {
                    operator,
                    key,
                    values,
                    missing_keys,
                    at,
                } => {
                    assert_eq!(operator, "StringLike");
                    assert_eq!(key, &format!("{ISSUER}:sub"));
                    assert_eq!(
                        values,
                        &vec![format!(
                            "system:serviceaccount:ns:emr-containers-sa-*-*-{ACCOUNT}-{B36}"
                        )]
                    );
                    assert_eq!(missing_keys, &vec![format!("{ISSUER}:sub")]);
                    assert_eq!(&*at.statement.pointer, "/Statement/0");
                }
                other => panic!("{other:?}"),
            }
        }
        d => panic!("{d:?}"),
    }
    // A closed context (the key is absent from the request): the condition fails.
    assert!(decide_trust(
        &t,
        &who,
        "sts:AssumeRoleWithWebIdentity",
        &Context::closed()
    )
    .is_denied());
}

#[test]
fn pod_identity_and_loose_best_practices_example() {
    // Pod Identity statement (domain.md §1.4) next to the IRSA one.
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity","Effect":"Allow","Principal":{{"Service":"pods.eks.amazonaws.com"}},"Action":["sts:AssumeRole","sts:TagSession"]}},
            {{"Effect":"Allow","Principal":{{"Federated":"{p}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringLike":{{"{ISSUER}:sub":"system:serviceaccount:emr:emr-containers*"}}}}}}]}}"#,
        p = provider()
    );
    let t = trust(&doc);
    let pods = TrustPrincipal::Service("pods.eks.amazonaws.com".into());
    assert!(decide_trust(&t, &pods, "sts:AssumeRole", &Context::new()).is_allowed());
    assert!(decide_trust(&t, &pods, "sts:TagSession", &Context::new()).is_allowed());
    assert!(decide_trust(
        &t,
        &TrustPrincipal::Service("ec2.amazonaws.com".into()),
        "sts:AssumeRole",
        &Context::new()
    )
    .is_denied());
    // The looser `emr-containers*` subject admits any role's service accounts in `emr`.
    let who = TrustPrincipal::Federated(provider());
    let any_role = "system:serviceaccount:emr:emr-containers-sa-spark-driver-999999999999-zzz";
    assert!(decide_trust(
        &t,
        &who,
        "sts:AssumeRoleWithWebIdentity",
        &sub_ctx(any_role)
    )
    .is_allowed());
}

#[test]
fn documentation_form_without_principal_is_flagged_and_ineffective() {
    // docs iam-execution-role.html: no Principal, Resource "*", aws:userid condition.
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"AllowSTSAssumerolewithwebidentity","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*","Condition":{{"StringLike":{{"aws:userid":"system:serviceaccount:ns:emr-containers-sa-*-*-{ACCOUNT}-{B36}"}}}}}}]}}"#
    );
    let p = CompiledPolicy::parse(&doc, PolicyKind::Trust);
    let kinds: Vec<_> = p
        .issues()
        .iter()
        .map(|i| (i.kind, i.pointer.as_str()))
        .collect();
    assert!(
        kinds.contains(&(IssueKind::MissingPrincipal, "/Statement/0")),
        "{kinds:?}"
    );
    let t = TrustPolicy::new(&role_arn(), Arc::new(p));
    let sa = format!("system:serviceaccount:ns:emr-containers-sa-spark-driver-{ACCOUNT}-{B36}");
    let ctx = Context::new().with("aws:userid", sa);
    assert!(decide_trust(
        &t,
        &TrustPrincipal::Federated(provider()),
        "sts:AssumeRoleWithWebIdentity",
        &ctx
    )
    .is_denied());
}

#[test]
fn aud_condition_and_deny_statements() {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"Federated":"{p}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:aud":"sts.amazonaws.com","{ISSUER}:sub":"system:serviceaccount:ns:app"}}}}}},
            {{"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{{"StringNotEquals":{{"aws:PrincipalOrgID":"o-abc"}}}}}}]}}"#,
        p = provider()
    );
    let t = trust(&doc);
    let who = TrustPrincipal::Federated(provider());
    let full = Context::new()
        .with(&format!("{ISSUER}:aud"), "sts.amazonaws.com")
        .with(&format!("{ISSUER}:sub"), "system:serviceaccount:ns:app")
        .with("aws:PrincipalOrgID", "o-abc");
    assert!(decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &full).is_allowed());
    let outside = full.clone().with("aws:PrincipalOrgID", "o-zzz");
    assert!(matches!(
        decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &outside),
        Decision::Denied(_)
    ));
    // aud unknown and org unknown: both listed (an allow condition and a deny condition).
    let partial = Context::new().with(&format!("{ISSUER}:sub"), "system:serviceaccount:ns:app");
    match decide_trust(&t, &who, "sts:AssumeRoleWithWebIdentity", &partial) {
        Decision::Conditional(c) => {
            let keys: Vec<String> = c
                .iter()
                .filter_map(|x| match x {
                    ConditionRef::Condition { key, .. } => Some(key.clone()),
                    _ => None,
                })
                .collect();
            assert!(keys.contains(&format!("{ISSUER}:aud")), "{keys:?}");
            assert!(keys.contains(&"aws:PrincipalOrgID".to_owned()), "{keys:?}");
        }
        d => panic!("{d:?}"),
    }
}

#[test]
fn aws_principals_accounts_and_not_principal() {
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},
        {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:role/ci"},"Action":"sts:AssumeRole"}]}"#;
    let t = trust(doc);
    let ci = TrustPrincipal::Aws("arn:aws:iam::444455556666:role/ci".into());
    let dev = TrustPrincipal::Aws("arn:aws:iam::444455556666:user/dev".into());
    let session = TrustPrincipal::Aws("arn:aws:sts::444455556666:assumed-role/ci/build-1".into());
    let ctx = Context::new();
    assert!(decide_trust(&t, &ci, "sts:AssumeRole", &ctx).is_allowed());
    assert!(decide_trust(&t, &session, "sts:AssumeRole", &ctx).is_allowed());
    assert!(matches!(
        decide_trust(&t, &dev, "sts:AssumeRole", &ctx),
        Decision::Denied(_)
    ));
    let stranger = TrustPrincipal::Aws("arn:aws:iam::999999999999:role/ci".into());
    assert!(decide_trust(&t, &stranger, "sts:AssumeRole", &ctx).is_denied());
}

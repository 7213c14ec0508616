//! Cloudsplaining's example accounts: every privilege-escalation method and data-exfiltration
//! action Cloudsplaining reports for a principal, emrguard reports too, except the differences
//! listed (and explained) below. The test fails when a difference appears or goes away.

// Integration-test helpers outside `#[test]` functions: failing loudly is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{authz, read_fixture, AuthzDetails};
use emrguard_iam::{analyze, PolicyStore, RiskClass, RiskReport};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn reports(a: &AuthzDetails) -> BTreeMap<String, RiskReport> {
    let store = PolicyStore::from_managed(&a.policies);
    let groups: HashMap<&str, &emrguard_model::aws::iam::Group> = a
        .group_detail_list
        .iter()
        .map(|g| (g.group_name.as_str(), g))
        .collect();
    let mut out = BTreeMap::new();
    for r in &a.role_detail_list {
        out.insert(r.arn.clone(), analyze(&store.principal_from_role(r)));
    }
    for u in &a.user_detail_list {
        let p = store.principal_from_user(u, &|g: &str| groups.get(g).copied());
        out.insert(u.arn.clone(), analyze(&p));
    }
    out
}

fn ours(r: &RiskReport) -> (BTreeSet<String>, BTreeSet<String>) {
    let pe = r
        .get(RiskClass::PrivilegeEscalation)
        .map(|x| x.escalations.iter().map(|e| e.method.to_owned()).collect())
        .unwrap_or_default();
    let de = r
        .get(RiskClass::DataExfiltration)
        .map(|x| {
            x.action_names()
                .into_iter()
                .chain(x.conditional_action_names())
                .collect()
        })
        .unwrap_or_default();
    (pe, de)
}

/// (principal ARN suffix, method or action or `*` for all, why emrguard does not report it).
type Explained = &'static [(&'static str, &'static str, &'static str)];

fn explains(e: &(&str, &str, &str), arn: &str, item: &str) -> bool {
    arn.ends_with(e.0) && (e.1 == "*" || e.1 == item)
}

/// Check every expected item; return the missing ones that are not explained, and the
/// explanations that no longer apply.
fn compare(fixture_authz: &str, fixture_expected: &str, explained: Explained) {
    let a = authz(fixture_authz);
    let got = reports(&a);
    let expected: serde_json::Value =
        serde_json::from_str(&read_fixture(fixture_expected)).unwrap();
    let mut missing: BTreeSet<(String, String)> = BTreeSet::new();
    let mut checked = 0usize;
    for (arn, exp) in expected["principals"].as_object().unwrap() {
        let r = got
            .get(arn)
            .unwrap_or_else(|| panic!("principal {arn} not analysed"));
        let (pe, de) = ours(r);
        for m in exp["privilege_escalation"].as_array().unwrap() {
            checked += 1;
            let m = m.as_str().unwrap();
            if !pe.contains(m) {
                missing.insert((arn.clone(), m.to_owned()));
            }
        }
        for d in exp["data_exfiltration"].as_array().unwrap() {
            checked += 1;
            let d = d.as_str().unwrap();
            if !de.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                missing.insert((arn.clone(), d.to_owned()));
            }
        }
    }
    let unexplained: Vec<_> = missing
        .iter()
        .filter(|(arn, item)| !explained.iter().any(|e| explains(e, arn, item)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "Cloudsplaining findings emrguard misses: {unexplained:#?}"
    );
    let stale: Vec<_> = explained
        .iter()
        .filter(|e| !missing.iter().any(|(arn, item)| explains(e, arn, item)))
        .collect();
    assert!(
        stale.is_empty(),
        "explained differences that no longer occur: {stale:#?}"
    );
    eprintln!(
        "{fixture_expected}: {checked} expected findings checked, {} explained differences",
        missing.len()
    );
}

/// Cloudsplaining's own expected results (iam-results-example.json of its repository).
#[test]
fn cloudsplaining_expected_results_are_reported() {
    compare(
        "cloudsplaining-results-example-authz.json.gz",
        "cloudsplaining-expected-authz-details.json",
        EXPLAINED_AUTHZ_DETAILS,
    );
}

const EXPLAINED_AUTHZ_DETAILS: Explained = &[];

/// The larger example account (iam-vulnerable style users and roles: privesc1..21, fn*, fp*),
/// with the results of cloudsplaining 0.9.1.
#[test]
fn cloudsplaining_0_9_results_are_reported() {
    compare(
        "cloudsplaining-example.json.gz",
        "cloudsplaining-expected-example.json",
        EXPLAINED_EXAMPLE,
    );
}

const EXPLAINED_EXAMPLE: Explained = &[
    (
        "role/fp2-allow-and-deny-multiple-policies-role",
        "*",
        "Cloudsplaining judges each policy alone, so `fp2-allow-all` (Allow * on *) is flagged; the \
         same principal also holds `deny-all` (Deny * on *), which emrguard applies across policies: \
         the principal can do nothing (Cloudsplaining's own test account calls this a false positive)",
    ),
    (
        "user/fp2-allow-and-deny-multiple-policies-user",
        "*",
        "as for the role: Deny * on * in `deny-all` removes everything `fp2-allow-all` grants",
    ),
];

/// Cases of the example account where per-principal evaluation differs from Cloudsplaining's
/// per-policy view (its `fn*` = false negatives, `fp*` = false positives).
#[test]
fn cloudsplaining_false_negatives_and_positives() {
    let got = reports(&authz("cloudsplaining-example.json.gz"));
    let r = |suffix: &str| {
        got.iter()
            .find(|(arn, _)| arn.ends_with(suffix))
            .map(|(_, r)| r)
            .unwrap()
    };
    let methods = |suffix: &str| -> Vec<(String, bool)> {
        r(suffix)
            .get(RiskClass::PrivilegeEscalation)
            .map(|x| {
                x.escalations
                    .iter()
                    .map(|e| (e.method.to_owned(), e.conditional))
                    .collect()
            })
            .unwrap_or_default()
    };
    // fn1: iam:PassRole and ec2:RunInstances in two policies of one principal.
    assert!(methods("role/fn1-privesc3-partial-role")
        .contains(&("CreateEC2WithExistingIP".into(), false)));
    // fn2: CreatePolicyVersion on `policy/fn2-*` is resource-scoped: not unscoped, not reported.
    assert!(methods("role/fn2-exploitableResourceConstraint-role").is_empty());
    // fn3 / fp5: CreatePolicyVersion under a condition: reported, marked conditional.
    assert!(methods("role/fn3-exploitableConditionConstraint-role")
        .contains(&("CreateNewPolicyVersion".into(), true)));
    assert!(methods("role/fp5-nonExploitableConditionConstraint-role")
        .contains(&("CreateNewPolicyVersion".into(), true)));
    // fn4: NotAction leaves iam:Put*, PassRole, AddUserToGroup...
    assert!(
        methods("role/fn4-exploitableNotAction-role").contains(&("PutRolePolicy".into(), false))
    );
    // fp1: Allow iam:* and Deny iam:* in one policy; fp2: across policies; fp3: Deny only.
    for fp in [
        "role/fp1-allow-and-deny-role",
        "role/fp2-allow-and-deny-multiple-policies-role",
        "role/fp3-deny-iam-role",
    ] {
        assert!(methods(fp).is_empty(), "{fp}: {:?}", methods(fp));
    }
    assert_eq!(
        r("role/fp2-allow-and-deny-multiple-policies-role").tier,
        emrguard_iam::PrivilegeTier::None
    );
    // fp4: CreatePolicyVersion on AWS-managed policies (`arn:aws:iam::aws:policy/fp4-*`): scoped.
    assert!(methods("role/fp4-nonExploitableResourceConstraint-role").is_empty());
    // Evidence: the statements that grant the escalation.
    let pe = r("role/fn1-privesc3-partial-role")
        .get(RiskClass::PrivilegeEscalation)
        .unwrap();
    let e = pe
        .escalations
        .iter()
        .find(|e| e.method == "CreateEC2WithExistingIP")
        .unwrap();
    let mut names: Vec<&str> = e
        .statements
        .iter()
        .map(|s| s.policy.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["fn1-passrole-star", "fn1-privesc3-partial"]);
}

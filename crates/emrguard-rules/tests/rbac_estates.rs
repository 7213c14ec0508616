//! The `rbac` and pod-credentials (Kubernetes side) rules on the bundled example estates: every
//! planted violation of `examples/insecure-estate/VIOLATIONS.md` (RB1–RB7, PC5) is found with the
//! subject, capability and IAM principals it names, no trap is flagged, and the hardened estate
//! raises nothing, all without declared administrators.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_config::Config;
use emrguard_model::{Capability, EstateIndex, Finding, Practice};
use emrguard_rules::{registry, run, Context};
use std::path::PathBuf;

fn findings(estate: &str) -> Vec<Finding> {
    let dir = PathBuf::from(format!("../../examples/{estate}"));
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
    let index = EstateIndex::build(&loaded.snapshot);
    let config = Config::default();
    let cx = Context::new(&index, &config);
    let rules: Vec<_> = registry()
        .iter()
        .copied()
        .filter(|r| r.meta().practice == Practice::Rbac || r.meta().id == "POD010")
        .collect();
    run(&rules, &cx)
}

fn has(
    f: &[Finding],
    rule: &str,
    subject: &str,
    ns: Option<&str>,
    cap: Option<Capability>,
) -> bool {
    f.iter().any(|x| {
        x.rule == rule
            && x.subject.as_ref().is_some_and(|s| s.name == subject)
            && (ns.is_none()
                || x.namespace.as_deref() == ns
                || ns.is_some_and(|n| x.namespaces.iter().any(|m| m == n)))
            && (cap.is_none() || x.capability == cap)
    })
}

#[test]
fn insecure_estate_planted_rbac_violations_are_found() {
    let f = findings("insecure-estate");
    use Capability::*;
    let a = Some("spark-team-a");
    let b = Some("spark-team-b");
    let shared = Some("spark-shared");
    // RB1: edit → data-scientists in spark-team-a.
    for (rule, cap) in [
        ("RBAC001", ModifyConfigmaps),
        ("RBAC002", ExecPods),
        ("RBAC003", CreatePods),
        ("RBAC005", ReadSecrets),
        ("RBAC007", Impersonate),
        ("RBAC008", MintTokens),
    ] {
        assert!(has(&f, rule, "data-scientists", a, Some(cap)), "RB1 {rule}");
    }
    assert!(
        !has(&f, "RBAC006", "data-scientists", a, None),
        "edit does not escalate"
    );
    let ds = f
        .iter()
        .find(|x| x.rule == "RBAC003" && x.subject.as_ref().unwrap().name == "data-scientists")
        .unwrap();
    let principals = &ds.subject.as_ref().unwrap().iam_principals;
    assert!(principals
        .iter()
        .any(|p| p.ends_with(":role/data-science-team")));
    assert!(principals.iter().any(|p| p.ends_with(":user/alice")));
    // The two mappings are alternatives, one step: a fork.
    let first = ds.path.first().unwrap();
    assert_eq!(first.one_of.len(), 2, "{first:?}");
    assert!(first.one_of.iter().all(|s| s.name == "aws-auth"));
    // RB2: system:authenticated reads secrets in every EMR namespace: one finding for the cause.
    let rb2: Vec<_> = f
        .iter()
        .filter(|x| {
            x.rule == "RBAC005" && x.subject.as_ref().unwrap().name == "system:authenticated"
        })
        .collect();
    assert_eq!(rb2.len(), 1, "RB2: one finding, not one per namespace");
    assert_eq!(
        rb2[0].namespaces,
        vec!["spark-shared", "spark-team-a", "spark-team-b"]
    );
    assert!(rb2[0].namespace.is_none());
    assert!(
        rb2[0].message.contains("in all 3 EMR namespaces"),
        "{}",
        rb2[0].message
    );
    assert!(rb2[0].grants.iter().all(|g| g.cluster_wide));
    // Per (subject, capability): never two findings of one rule for one subject.
    let mut seen = std::collections::BTreeSet::new();
    for x in f.iter().filter(|x| x.capability.is_some()) {
        let key = (x.rule.clone(), x.subject.as_ref().unwrap().key());
        assert!(seen.insert(key.clone()), "{key:?} twice");
    }
    // The strongest grant is cited: `create pods/exec` (rule 2 of `edit`), not `get` (rule 0).
    let exec = f
        .iter()
        .find(|x| x.rule == "RBAC002" && x.subject.as_ref().unwrap().name == "data-scientists")
        .unwrap();
    let role_step = exec.path.iter().find(|s| s.kind == "ClusterRole").unwrap();
    assert!(
        role_step.detail.as_deref().unwrap().starts_with("rule 2:"),
        "{role_step:?}"
    );
    assert_eq!(exec.grants[0].rule_index, 2);
    assert!(
        exec.grants.iter().any(|g| g.rule_index == 0),
        "all grants listed"
    );
    // RB8: platform-admin is cluster-admin through system:masters, and not declared.
    let rb8: Vec<_> = f.iter().filter(|x| x.rule == "RBAC015").collect();
    assert_eq!(rb8.len(), 1, "{rb8:#?}");
    assert_eq!(rb8[0].resource.name, "platform-admin");
    assert_eq!(rb8[0].resource.kind, "IamRole");
    assert_eq!(rb8[0].namespaces.len(), 3);
    // RB3: bob execs in spark-team-b.
    assert!(has(&f, "RBAC002", "bob", b, Some(ExecPods)), "RB3");
    // RB4: AmazonEKSEditPolicy for spark-submitter-team-b, namespace-scoped.
    for rule in ["RBAC001", "RBAC002", "RBAC003", "RBAC005"] {
        assert!(
            has(&f, rule, "spark-submitter-team-b", b, None),
            "RB4 {rule}"
        );
        assert!(
            !has(&f, rule, "spark-submitter-team-b", a, None),
            "RB4 scope {rule}"
        );
    }
    // RB5: webhook-manager → ci-deployers; the webhook it deployed mutates spark-shared.
    assert!(
        has(
            &f,
            "RBAC004",
            "ci-deployers",
            None,
            Some(DeployMutatingWebhooks)
        ),
        "RB5"
    );
    assert!(f
        .iter()
        .any(|x| x.rule == "RBAC020" && x.resource.name == "analytics-sidecar-injector"));
    // RB6: EMR's role bound to etl-operator.
    for (rule, cap) in [
        ("RBAC001", ModifyConfigmaps),
        ("RBAC003", CreatePods),
        ("RBAC005", ReadSecrets),
        ("RBAC006", EscalateRbac),
    ] {
        assert!(has(&f, rule, "etl-operator", a, Some(cap)), "RB6 {rule}");
    }
    assert!(has(&f, "RBAC011", "etl-operator", a, None), "RB6 binding");
    // RB7: aggregated analytics-support-debug → support-engineers in spark-shared.
    assert!(
        has(&f, "RBAC002", "support-engineers", shared, Some(ExecPods)),
        "RB7"
    );
    // PC5.
    assert!(f
        .iter()
        .any(|x| x.rule == "POD010" && x.resource.name == "airflow-worker"));

    // Traps: EMR, system components, administrators (system:masters), read-only grants.
    for x in &f {
        let s = match &x.subject {
            Some(s) => s,
            None => continue,
        };
        assert!(
            !(s.name == "emr-containers"
                || s.name.starts_with("emr-containers-sa-")
                || s.name.starts_with("system:masters")
                || s.name.starts_with("system:node")
                || s.name.starts_with("eks:")
                || s.namespace.as_deref() == Some("kube-system")
                || (s.name == "platform-admin" && x.rule != "RBAC015")
                || s.name == "spark-submitter-team-a"
                || s.name.contains("AWSServiceRoleForAmazonEMRContainers")),
            "trap flagged: {x:#?}"
        );
    }
    assert!(!f.iter().any(|x| x.rule == "RBAC020"
        && matches!(
            x.resource.name.as_str(),
            "pod-identity-webhook" | "aws-load-balancer-webhook"
        )));
    assert!(!f
        .iter()
        .any(|x| matches!(x.rule.as_str(), "RBAC010" | "RBAC012" | "RBAC013")));
}

#[test]
fn declared_administrators_mapped_to_system_masters_are_silent() {
    let dir = PathBuf::from("../../examples/insecure-estate");
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
    let index = EstateIndex::build(&loaded.snapshot);
    let mut config = Config::default();
    config.administrators.iam_arns = vec!["arn:aws:iam::111122223333:role/platform-admin".into()];
    let cx = Context::new(&index, &config);
    let rule = emrguard_rules::find("RBAC015").unwrap();
    assert!(run(&[rule], &cx).is_empty());
}

#[test]
fn hardened_estate_is_clean_without_declared_administrators() {
    let f = findings("hardened-estate");
    assert!(f.is_empty(), "{f:#?}");
}

//! Real AWS managed policies (fixture `aws-managed-policies.jsonl.gz`, and the whole MAMIP
//! corpus when it is present).

// Integration-test helpers outside `#[test]` functions: failing loudly is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{managed_policies, principal_of};
use emrguard_iam::{
    analyze, excess_over, grants, risk, AccessLevel, Catalogue, CompiledPolicy, PolicyKind,
    PrivilegeTier, RiskClass,
};
use std::path::PathBuf;

#[test]
fn fixture_policies_parse_without_errors() {
    for (name, (_, _, doc)) in managed_policies() {
        let p = CompiledPolicy::parse(&doc, PolicyKind::Identity);
        let errors: Vec<_> = p.issues().iter().filter(|i| i.is_error()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert!(!p.statements().is_empty(), "{name}");
    }
}

#[test]
fn administrator_access_is_administrator() {
    let p = principal_of(&["AdministratorAccess"]);
    let r = analyze(&p);
    assert_eq!(r.tier, PrivilegeTier::Administrator);
    let admin = r
        .get(RiskClass::Administrator)
        .expect("administrator class");
    assert!(!admin.is_conditional());
    assert_eq!(admin.statements.len(), 1);
    assert_eq!(admin.statements[0].index, 0);
    assert!(r.get(RiskClass::PrivilegeEscalation).is_some());
    assert_eq!(
        r.get(RiskClass::ServiceWildcard).unwrap().services,
        vec!["*"]
    );
}

#[test]
fn iam_full_access_escalates_but_is_not_administrator() {
    // IAMFullAccess is iam:* (+ organizations reads) but no sts:AssumeRole.
    let r = analyze(&principal_of(&["IAMFullAccess"]));
    assert_eq!(r.tier, PrivilegeTier::PrivilegeEscalation);
    let pe = r.get(RiskClass::PrivilegeEscalation).unwrap();
    let methods: Vec<_> = pe.escalations.iter().map(|e| e.method).collect();
    for m in [
        "CreateAccessKey",
        "AttachRolePolicy",
        "PutRolePolicy",
        "CreateNewPolicyVersion",
        "UpdateRolePolicyToAssumeIt",
    ] {
        assert!(methods.contains(&m), "{m} missing from {methods:?}");
    }
}

/// ReadOnlyAccess grants no Write, except these actions: they only read, but the Service
/// Authorization Reference files them under Write or Permissions management (iam-dataset's
/// metadata for ReadOnlyAccess lists the same access levels).
const READ_ONLY_ACCESS_WRITE_LEVEL: &[&str] = &[
    "athena:GetSessionEndpoint",
    "backup:ListIndexedRecoveryPointsForSearch",
    "billing:GetResourcePolicy",
    "cognito-idp:GetTokensFromRefreshToken",
    "iot:GetConnection",
    "iot:ListSubscriptions",
    "ssm-sap:GetResourcePermission",
    "verifiedpermissions:IsAuthorized",
    "s3express:CreateSession",
];

#[test]
fn read_only_access_grants_no_write() {
    let p = principal_of(&["ReadOnlyAccess"]);
    let g = grants(&p);
    let cat = Catalogue::global();
    let mut modify: Vec<String> = g
        .any_resource
        .iter()
        .filter_map(|id| cat.action(id))
        .filter(|a| a.access_level().is_modify())
        .map(|a| a.full_name())
        .collect();
    modify.sort();
    let unexpected: Vec<&String> = modify
        .iter()
        .filter(|a| {
            !READ_ONLY_ACCESS_WRITE_LEVEL
                .iter()
                .any(|x| x.eq_ignore_ascii_case(a))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "ReadOnlyAccess grants write-level {unexpected:?}"
    );
    // ...and it reads a lot.
    let reads = g
        .any_resource
        .iter()
        .filter(|&id| {
            cat.action(id)
                .is_some_and(|a| a.access_level() == AccessLevel::Read)
        })
        .count();
    assert!(reads > 1000, "{reads}");
    let r = analyze(&p);
    assert!(r.get(RiskClass::Administrator).is_none());
    assert!(
        r.get(RiskClass::PrivilegeEscalation).is_none(),
        "{:?}",
        r.get(RiskClass::PrivilegeEscalation)
    );
    assert!(
        r.get(RiskClass::InfrastructureModification).is_none() || {
            // only the read-named Write-level actions above
            let names = r
                .get(RiskClass::InfrastructureModification)
                .unwrap()
                .action_names();
            names.iter().all(|a| {
                READ_ONLY_ACCESS_WRITE_LEVEL
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(a))
            })
        }
    );
    // s3:GetObject on * is data exfiltration
    assert!(r
        .get(RiskClass::DataExfiltration)
        .unwrap()
        .action_names()
        .contains(&"s3:GetObject".to_owned()));
}

fn node_minimum(registry: &str) -> emrguard_iam::PrincipalPolicies {
    principal_of(&[
        "AmazonEKSWorkerNodePolicy",
        registry,
        "AmazonEKS_CNI_Policy",
    ])
}

#[test]
fn worker_node_policy_is_within_the_node_minimum() {
    for registry in [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEC2ContainerRegistryReadOnly",
    ] {
        let min = node_minimum(registry);
        for within in [
            vec!["AmazonEKSWorkerNodePolicy"],
            vec!["AmazonEKSWorkerNodeMinimalPolicy"],
            vec!["AmazonEKSWorkerNodePolicy", registry],
            vec![
                "AmazonEKSWorkerNodePolicy",
                registry,
                "AmazonEKS_CNI_Policy",
            ],
        ] {
            let e = excess_over(&principal_of(&within), &min);
            assert!(
                e.is_empty(),
                "{within:?} vs {registry}: {:?} {:?}",
                e.action_names(),
                e.unscoped_names()
            );
        }
        // Extra policies are reported.
        let e = excess_over(
            &principal_of(&["AmazonEKSWorkerNodePolicy", "AmazonS3ReadOnlyAccess"]),
            &min,
        );
        assert!(e.action_names().contains(&"s3:GetObject".to_owned()));
        let e = excess_over(
            &principal_of(&["AmazonEKSWorkerNodePolicy", "AmazonSSMManagedInstanceCore"]),
            &min,
        );
        assert!(!e.is_empty());
    }
    let r = analyze(&node_minimum("AmazonEC2ContainerRegistryPullOnly"));
    assert!(r.tier <= PrivilegeTier::Write, "{:?}", r.tier);
    assert!(r.get(RiskClass::PrivilegeEscalation).is_none());
    // The Pod Identity agent's action returns credentials.
    assert!(r
        .get(RiskClass::CredentialsExposure)
        .unwrap()
        .action_names()
        .contains(&"eks-auth:AssumeRoleForPodIdentity".to_owned()));
}

#[test]
fn s3_full_access_is_a_service_wildcard_with_bucket_access() {
    let p = principal_of(&["AmazonS3FullAccess"]);
    let r = analyze(&p);
    assert!(r
        .get(RiskClass::ServiceWildcard)
        .unwrap()
        .services
        .contains(&"s3"));
    let b = risk::data_access_to_all_buckets(&p);
    assert!(b.read && b.write && !b.conditional);
    let ro = risk::data_access_to_all_buckets(&principal_of(&["AmazonS3ReadOnlyAccess"]));
    assert!(ro.read && !ro.write);
    let none = risk::data_access_to_all_buckets(&principal_of(&["AmazonEKSWorkerNodePolicy"]));
    assert!(!none.any());
}

fn corpus_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(d) = std::env::var("EMRGUARD_CORPORA") {
        candidates.push(PathBuf::from(d));
    }
    let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    candidates.push(ws.join("../shared/corpora"));
    candidates.push(PathBuf::from("/work/shared/corpora"));
    candidates
        .into_iter()
        .map(|c| c.join("aws-managed-policies/mamip/policies"))
        .find(|c| c.is_dir())
}

/// Every AWS managed policy of the MAMIP snapshot parses without error. Reads the project
/// corpus (GPL-3.0 as a collection, so not copied into the crate) when it is present.
#[test]
fn managed_policies_all_parse() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED managed_policies_all_parse: the MAMIP corpus is not present");
        return;
    };
    let mut n = 0;
    let mut empty = Vec::new();
    let mut errors = Vec::new();
    let mut soft = 0usize;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if text.trim().is_empty() {
            // Two files of the snapshot are empty (fetch failures upstream).
            empty.push(name);
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let doc = &v["PolicyVersion"]["Document"];
        let doc = match doc {
            serde_json::Value::String(s) => serde_json::from_str(s).unwrap(),
            other => other.clone(),
        };
        let p = CompiledPolicy::from_value(&doc, PolicyKind::Identity);
        n += 1;
        for i in p.issues() {
            if i.is_error() {
                errors.push(format!(
                    "{name}{}: {} {}",
                    i.pointer,
                    i.kind.slug(),
                    i.message
                ));
            } else {
                soft += 1;
            }
        }
    }
    eprintln!("{n} managed policies parsed, {soft} warnings/soft issues, empty files: {empty:?}");
    assert!(n >= 1500, "{n}");
    assert!(empty.len() <= 2, "{empty:?}");
    assert!(errors.is_empty(), "{errors:#?}");
}

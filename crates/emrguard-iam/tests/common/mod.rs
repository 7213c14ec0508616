//! Shared test helpers: fixtures and the authorization-details file shape.
#![allow(dead_code)]
// Test helpers (not `#[test]` functions): failing loudly is what a test wants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_iam::{CompiledPolicy, PolicyKind, PolicyOrigin, PolicySource, PrincipalPolicies};
use emrguard_model::aws::iam::{Group, ManagedPolicy, Role, User};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read_fixture(name: &str) -> String {
    let bytes = std::fs::read(fixture_path(name)).unwrap();
    if name.ends_with(".gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthzDetails {
    #[serde(default)]
    pub role_detail_list: Vec<Role>,
    #[serde(default)]
    pub user_detail_list: Vec<User>,
    #[serde(default)]
    pub group_detail_list: Vec<Group>,
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
}

pub fn authz(name: &str) -> AuthzDetails {
    serde_json::from_str(&read_fixture(name)).unwrap()
}

/// name -> (arn, version, document text) from `aws-managed-policies.jsonl.gz`.
pub fn managed_policies() -> BTreeMap<String, (String, String, String)> {
    let mut out = BTreeMap::new();
    for line in read_fixture("aws-managed-policies.jsonl.gz").lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        out.insert(
            v["name"].as_str().unwrap().to_owned(),
            (
                v["arn"].as_str().unwrap().to_owned(),
                v["version"].as_str().unwrap().to_owned(),
                v["document"].to_string(),
            ),
        );
    }
    out
}

/// A principal holding the named managed policies (from the fixture).
pub fn principal_of(names: &[&str]) -> PrincipalPolicies {
    let all = managed_policies();
    let policies = names
        .iter()
        .map(|n| {
            let (arn, version, doc) = all
                .get(*n)
                .unwrap_or_else(|| panic!("no fixture policy {n}"));
            (
                PolicyOrigin {
                    source: PolicySource::Managed,
                    name: (*n).to_owned(),
                    arn: Some(arn.clone()),
                    version: Some(version.clone()),
                    owner: None,
                },
                Arc::new(CompiledPolicy::parse(doc, PolicyKind::Identity)),
            )
        })
        .collect();
    PrincipalPolicies::synthetic("arn:aws:iam::111122223333:role/test", policies)
}

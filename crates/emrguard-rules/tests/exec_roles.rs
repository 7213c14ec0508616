//! Execution-role identification (issue 3, item 5) on the bundled example estates: every
//! source (workloads, submitters' `emr-containers:ExecutionRoleArn` conditions, trust policies
//! naming EMR service accounts, Pod Identity associations) and nothing else.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_config::Config;
use emrguard_model::EstateIndex;
use emrguard_rules::exec_roles::FoundBy;
use emrguard_rules::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn kinds(estate: &str) -> BTreeMap<String, BTreeSet<&'static str>> {
    let dir = PathBuf::from(format!("../../examples/{estate}"));
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
    let index = EstateIndex::build(&loaded.snapshot);
    let config = Config::default();
    let cx = Context::new(&index, &config);
    cx.execution_roles()
        .iter()
        .map(|e| {
            let k = e
                .found
                .iter()
                .map(|f| match f {
                    FoundBy::Workload(_) => "workload",
                    FoundBy::SubmitterCondition { .. } => "submitter",
                    FoundBy::Trust { .. } => "trust",
                    FoundBy::PodIdentity(_) => "pod-identity",
                })
                .collect();
            (e.name().to_owned(), k)
        })
        .collect()
}

#[test]
fn insecure_estate_execution_roles_and_their_sources() {
    let k = kinds("insecure-estate");
    let names: Vec<&str> = k.keys().map(String::as_str).collect();
    // Not the EMR service-linked role, not the cluster, node, IRSA or submitter roles.
    assert_eq!(
        names,
        [
            "emr-shared-admin-exec",
            "emr-shared-readonly-exec",
            "emr-team-a-exec",
            "emr-team-b-exec"
        ]
    );
    let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
    // `*:*` names no EMR service account; used by a job run and an endpoint.
    assert_eq!(k["emr-shared-admin-exec"], set(&["workload"]));
    assert_eq!(
        k["emr-shared-readonly-exec"],
        set(&["workload", "submitter", "trust"])
    );
    assert_eq!(k["emr-team-a-exec"], set(&["workload", "trust"]));
    // No :sub (only :aud); Pod Identity associations of its EMR service accounts.
    assert_eq!(
        k["emr-team-b-exec"],
        set(&["workload", "submitter", "pod-identity"])
    );
}

#[test]
fn hardened_estate_execution_roles() {
    let k = kinds("hardened-estate");
    let names: Vec<&str> = k.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "emr-shared-readonly-exec",
            "emr-team-a-exec",
            "emr-team-b-exec"
        ]
    );
    assert!(k
        .values()
        .all(|s| s.contains("trust") && s.contains("workload")));
}

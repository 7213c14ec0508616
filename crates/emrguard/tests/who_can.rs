//! `emrguard who-can` on the bundled insecure estate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn who_can(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("emrguard")
        .unwrap()
        .current_dir(repo())
        .arg("who-can")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn text_lists_subjects_with_iam_principals_and_path() {
    let (code, out) = who_can(&[
        "create",
        "pods/exec",
        "-n",
        "spark-team-b",
        "examples/insecure-estate",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("User bob  (job submitter)"), "{out}");
    assert!(out.contains("arn:aws:iam::111122223333:user/bob"), "{out}");
    assert!(
        out.contains("RoleBinding spark-team-b/bob-debug-exec"),
        "{out}"
    );
    assert!(
        out.contains("IamRole spark-submitter-team-b  (job submitter)"),
        "{out}"
    );
    assert!(out.contains("AmazonEKSEditPolicy"), "{out}");
    assert!(
        out.contains("Group system:masters  (not a job submitter"),
        "{out}"
    );
    // ... but the IAM role mapped into it, not declared, is.
    assert!(
        out.contains("IamRole platform-admin  (job submitter)"),
        "{out}"
    );
    // Read-only and other namespaces' grants are not listed.
    assert!(!out.contains("spark-submitter-team-a"), "{out}");
}

#[test]
fn json_and_aggregated_roles() {
    let (code, out) = who_can(&[
        "create",
        "pods/exec",
        "-n",
        "spark-shared",
        "--format",
        "json",
        "examples/insecure-estate",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let subjects = v["subjects"].as_array().unwrap();
    let support = subjects
        .iter()
        .find(|s| s["subject"]["name"] == "support-engineers")
        .expect("support-engineers through the aggregated analytics-support role");
    assert_eq!(support["job_submitter"], true);
    let path: Vec<&str> = support["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(path.contains(&"analytics-support"), "{path:?}");
    assert_eq!(
        support["subject"]["iam_principals"][0],
        "arn:aws:iam::111122223333:role/support-engineer"
    );
}

#[test]
fn cluster_scoped_resources_and_groups() {
    let (code, out) = who_can(&[
        "create",
        "mutatingwebhookconfigurations",
        "examples/insecure-estate",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("Group ci-deployers  (job submitter)"), "{out}");
    assert!(out.contains("github-actions-deployer"), "{out}");
    let (_, out) = who_can(&[
        "get",
        "secrets",
        "-n",
        "spark-team-a",
        "examples/insecure-estate",
    ]);
    assert!(
        out.contains("Group system:authenticated  (job submitter)"),
        "{out}"
    );
    let (code, out) = who_can(&[
        "escalate",
        "widgets.example.com",
        "examples/insecure-estate",
    ]);
    assert_eq!(code, 0);
    // Only system:masters may: the undeclared IAM role mapped into it is the one job submitter.
    assert!(
        out.contains("IamRole platform-admin  (job submitter)"),
        "{out}"
    );
    assert!(
        !out.replace("IamRole platform-admin  (job submitter)", "")
            .contains("job submitter)"),
        "{out}"
    );
}

#[test]
fn unreadable_snapshot_is_a_usage_error() {
    let (code, _) = who_can(&["get", "pods", "/nonexistent/snapshot"]);
    assert_eq!(code, 2);
}

//! `emrguard fix` end to end: fix each example estate, re-check the patched snapshot, and hold
//! the properties (no claimed finding remains, no new finding id, no EMR-breaking rule;
//! the insecure estate's fixed share not below the 87% reached, above the 80%);
//! `apply.sh` parses (`bash -n`), and every `aws` command of `apply.sh` and of `check`'s fix texts passes the AWS CLI's argument
//! model (botocore's service models, via `scripts/check-aws-commands.py`).
//!
//! botocore comes from `.ci/run` (a venv under `.ci/botocore`); without it the command check
//! says it was skipped, except under `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn emrguard() -> Command {
    let mut c = Command::cargo_bin("emrguard").unwrap();
    c.current_dir(repo());
    c
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn check_json(dir: &Path) -> Value {
    let out = emrguard()
        .args(["check", "--format", "json", "--fail-on", "critical"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Claimed finding ids: the `Closes:` lines of README.md.
fn claimed(readme: &str) -> BTreeSet<String> {
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("Closes: "))
        .flat_map(|l| l.split(", "))
        .map(|s| s.trim_matches('`').to_owned())
        .collect()
}

/// `aws ...` commands: lines of a script, or backtick spans of prose.
fn aws_commands_of_script(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| l.starts_with("aws "))
        .map(str::to_owned)
        .collect()
}

fn aws_commands_of_text(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("aws "))
        .map(str::to_owned)
        .collect()
}

/// Run the botocore checker on `cmds`; None when botocore is not installed.
fn botocore_check(cmds: &[String]) -> Option<String> {
    let py = repo().join(".ci/botocore/bin/python");
    if !py.is_file() {
        let msg = "botocore is not installed (.ci/run creates .ci/botocore); the aws command check is skipped";
        if in_ci() {
            panic!("{msg}; CI=true requires it");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    let mut child = std::process::Command::new(py)
        .arg(repo().join("scripts/check-aws-commands.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cmds).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "aws commands that the AWS CLI would reject:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(text)
}

/// Fix `estate`, re-check, and hold the properties; the output dir and fixed share.
fn fix_and_recheck(estate: &str) -> (tempfile::TempDir, usize, usize) {
    let src = repo().join("examples").join(estate);
    let before = check_json(&src);
    let tmp = tempfile::tempdir().unwrap();
    let out = emrguard()
        .args(["fix", "--quiet", "--output-dir"])
        .arg(tmp.path())
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fix failed (a new finding on the patched snapshot?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let readme = std::fs::read_to_string(tmp.path().join("README.md")).unwrap();
    let script = std::fs::read_to_string(tmp.path().join("apply.sh")).unwrap();
    let after = check_json(&tmp.path().join("snapshot"));
    let (b, a) = (ids(&before), ids(&after));
    let claims = claimed(&readme);
    let still: Vec<&String> = claims.intersection(&a).collect();
    assert!(
        still.is_empty(),
        "claimed fixed but still reported: {still:?}"
    );
    let new: Vec<&String> = a.difference(&b).collect();
    assert!(
        new.is_empty(),
        "new findings on the patched snapshot: {new:?}"
    );
    for f in after["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        assert!(
            !["RBAC012", "POD005", "IAM011"].contains(&rule)
                || b.contains(f["id"].as_str().unwrap()),
            "the fix broke EMR: {f}"
        );
    }
    assert!(
        claims.is_subset(&b),
        "claims a finding `check` did not report"
    );
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(tmp.path().join("apply.sh"))
        .status()
        .unwrap();
    assert!(status.success(), "apply.sh does not parse:\n{script}");
    botocore_check(&aws_commands_of_script(&script));
    (tmp, claims.len(), b.len())
}

#[test]
fn fixing_the_insecure_estate_closes_most_findings_and_breaks_nothing() {
    let (tmp, fixed, total) = fix_and_recheck("insecure-estate");
    // The issue asks for 80%; 68 of 78 (87%) are fixed. The rest: CloudTrail history (POD006),
    // namespace splits (TEN001/TEN002), endpoint placement (NET004/NET005) and job runs on old
    // releases (IMG001-IMG003 on runs); docs/fix.md. This floor keeps what is reached from
    // regressing; raise it with each fixer.
    assert!(
        fixed * 100 >= total * 87,
        "only {fixed} of {total} findings fixed mechanically (87% reached so far, 80% is the goal)"
    );
    // Artifacts are real: a trust policy with the exact base36 suffix and `aud`.
    let trust: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("artifacts/iam/emr-team-a-exec.trust.json"))
            .unwrap(),
    )
    .unwrap();
    let text = trust.to_string();
    assert!(text.contains("system:serviceaccount:spark-team-a:emr-containers-sa-*-*-111122223333-ued72w79csftn2hgi3ug4mb"), "{text}");
    assert!(text.contains("sts.amazonaws.com"), "{text}");
    assert!(!text.contains("spark-shared"), "{text}");
}

#[test]
fn fixing_the_hardened_estate_breaks_nothing() {
    fix_and_recheck("hardened-estate");
}

#[test]
fn every_aws_command_of_the_fix_texts_parses() {
    let mut cmds = Vec::new();
    for estate in ["insecure-estate", "hardened-estate"] {
        let report = check_json(&repo().join("examples").join(estate));
        for f in report["findings"].as_array().unwrap() {
            cmds.extend(aws_commands_of_text(
                f["remediation"].as_str().unwrap_or(""),
            ));
        }
    }
    assert!(cmds.len() >= 10, "{cmds:?}");
    // Known values are filled in: no placeholder where the snapshot has the value.
    for c in &cmds {
        for p in ["CLUSTER", "--namespace NAMESPACE", "REGION", "ACCOUNT"] {
            assert!(!c.contains(p), "placeholder {p} in `{c}`");
        }
    }
    botocore_check(&cmds);
}

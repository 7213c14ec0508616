//! End-to-end tests: run the binary on the bundled example estates and on edge cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use emrguard_model::Practice;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn estate(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

fn emrguard() -> Command {
    let mut c = Command::cargo_bin("emrguard").unwrap();
    c.current_dir(repo());
    c
}

/// Run `check --format json` on paths; returns (exit code, report).
fn check_json(paths: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut cmd = emrguard();
    cmd.arg("check")
        .args(paths)
        .args(["--format", "json"])
        .args(extra);
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        code,
        serde_json::from_slice(&out.stdout).expect("JSON report"),
    )
}

fn schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/findings.schema.json")).unwrap(),
    )
    .unwrap()
}

fn assert_valid(report: &Value) {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "report does not validate: {errors:#?}");
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// What `schema/findings.schema.json` adds to the contract's schema (JSON pointers), each
/// optional and additive, so a report still validates against the contract. Listed in the
/// README ("JSON output") for the contract to follow.
const SCHEMA_ADDITIONS: &[&str] = &[
    "/$defs/finding/properties/namespaces",
    "/$defs/finding/properties/grants",
    "/$defs/finding/properties/path/items/properties/one_of",
    "/$defs/step",
    "/$defs/grant",
    "/properties/coverage",
    "/$defs/coverage",
];

fn remove_pointer(v: &mut Value, pointer: &str) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(&key))
        .is_some()
}

#[test]
fn schema_copy_is_the_contract_plus_listed_additions() {
    let contract = repo().join("../shared/spec/findings.schema.json");
    if contract.exists() {
        let a: Value = serde_json::from_str(&std::fs::read_to_string(contract).unwrap()).unwrap();
        let mut ours = schema();
        for p in SCHEMA_ADDITIONS {
            if a.pointer(p).is_none() {
                assert!(remove_pointer(&mut ours, p), "{p} is not in schema/");
            }
        }
        assert_eq!(
            a, ours,
            "schema/findings.schema.json drifted from shared/spec beyond SCHEMA_ADDITIONS"
        );
    }
}

#[test]
fn reports_still_validate_against_the_contract_schema() {
    let contract = repo().join("../shared/spec/findings.schema.json");
    if contract.exists() {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(contract).unwrap()).unwrap();
        let (_, report) = check_json(&[&estate("insecure-estate")], &[]);
        let v = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = v.iter_errors(&report).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn insecure_estate_validates_and_lights_up_every_practice_with_rules() {
    let (code, report) = check_json(&[&estate("insecure-estate")], &[]);
    assert_eq!(code, 1);
    assert_valid(&report);
    let seen: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["practice"].as_str().unwrap().to_owned())
        .collect();
    let with_rules: BTreeSet<Practice> = emrguard_rules::registry()
        .iter()
        .map(|r| r.meta().practice)
        .collect();
    for p in with_rules {
        assert!(
            seen.contains(p.slug()),
            "no finding for practice {p} in the insecure estate"
        );
    }
    assert!(report.get("errors").is_none(), "{:?}", report["errors"]);
}

#[test]
fn every_snapshot_file_of_the_examples_is_recognised() {
    for name in ["insecure-estate", "hardened-estate"] {
        let (_, report) = check_json(&[&estate(name)], &[]);
        for input in report["inputs"].as_array().unwrap() {
            let file = input["file"].as_str().unwrap();
            let doc = file.ends_with(".md") || file.ends_with(".toml");
            if !doc {
                assert_ne!(
                    input["recognised_as"], "unknown",
                    "{file} was not recognised: {input}"
                );
                assert!(input.get("warning").is_none(), "{file}: {input}");
            }
        }
    }
}

#[test]
fn hardened_estate_has_no_findings() {
    let (code, report) = check_json(&[&estate("hardened-estate")], &[]);
    assert_valid(&report);
    assert_eq!(report["summary"]["total"], 0, "{:#}", report["findings"]);
    assert_eq!(code, 0);
}

#[test]
fn output_is_deterministic_and_independent_of_file_order() {
    let src = estate("insecure-estate");
    let (_, a) = check_json(&[&src], &[]);
    let (_, b) = check_json(&[&src], &[]);
    assert_eq!(a, b, "two runs differ");

    // Same files, names prefixed so that they sort in reverse order.
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = walk(&src);
    files.sort();
    let n = files.len();
    for (i, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy();
        std::fs::copy(f, tmp.path().join(format!("{:04}-{name}", n - i))).unwrap();
    }
    let (_, c) = check_json(&[tmp.path()], &[]);
    let mut ia = ids(&a);
    let mut ic = ids(&c);
    assert_eq!(ia.len(), ic.len());
    ia.sort();
    ic.sort();
    assert_eq!(ia, ic, "finding ids depend on file order");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_truncated_file_is_named_and_the_rest_is_still_checked() {
    let src = estate("insecure-estate");
    let (_, full) = check_json(&[&src], &[]);
    let tmp = tempfile::tempdir().unwrap();
    for f in walk(&src) {
        let rel = f.strip_prefix(&src).unwrap();
        let dst = tmp.path().join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dst).unwrap();
    }
    // Truncate the cluster description: NET rules lose their input, everything else stays.
    let victim = tmp.path().join("aws-eks-describe-cluster.json");
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, &text[..text.len() / 2]).unwrap();
    // A malformed input fails the run closed (2) unless --allow-partial; findings are still
    // reported either way.
    let strict = emrguard()
        .arg("check")
        .arg(tmp.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    let out = emrguard()
        .arg("check")
        .arg(tmp.path())
        .args(["--format", "json", "--allow-partial"])
        .output()
        .unwrap();
    assert_eq!(strict.stdout, out.stdout, "the same report either way");
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "exit {code}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("aws-eks-describe-cluster.json"),
        "stderr: {stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("aws-eks-describe-cluster.json"));
    let remaining = report["summary"]["total"].as_u64().unwrap();
    assert!(remaining > 0 && remaining <= full["summary"]["total"].as_u64().unwrap());
    let pod_rules = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["practice"] == "pod-credentials")
        .count();
    assert!(
        pod_rules > 0,
        "findings from the other files are still reported"
    );
}

#[test]
fn exit_codes() {
    let fixtures = repo().join("crates/emrguard-rules/tests/fixtures");
    // Nothing readable: 2.
    emrguard()
        .args(["check", "/nonexistent/emrguard"])
        .assert()
        .code(2);
    // Usage error: 2.
    emrguard().args(["check"]).assert().code(2);
    emrguard()
        .args(["check", "--fail-on", "severe", "."])
        .assert()
        .code(2);
    // A fixture holds only what its rule reads: the whole catalogue cannot be evaluated on it
    // (2), its own practice's rules can.
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET001/clean"))
        .assert()
        .code(2);
    // Clean: 0; high finding: 1; below threshold: 0.
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET001/clean"))
        .args(["--select", "NET001,NET002,NET003"])
        .assert()
        .code(0);
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET001/trigger"))
        .args(["--select", "NET001"])
        .assert()
        .code(1);
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET001/trigger"))
        .args(["--select", "NET001", "--fail-on", "critical"])
        .assert()
        .code(0);
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET002/trigger"))
        .args(["--allow-partial"])
        .assert()
        .code(0);
    emrguard()
        .arg("check")
        .arg(fixtures.join("NET002/trigger"))
        .args(["--allow-partial", "--fail-on", "low"])
        .assert()
        .code(1);
}

#[test]
fn output_file_and_text_format() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    emrguard()
        .arg("check")
        .arg(estate("insecure-estate"))
        .args(["--format", "json", "--output"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout("");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_valid(&report);
    let text = emrguard()
        .arg("check")
        .arg(estate("insecure-estate"))
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
    assert!(text.contains("why:") && text.contains("fix:"));
    assert!(text.lines().last().unwrap().contains("findings"));
}

#[test]
fn rules_and_explain() {
    let out = emrguard().arg("rules").output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    for r in emrguard_rules::registry() {
        assert!(list.contains(r.meta().id));
    }
    let out = emrguard().args(["explain", "pod001"]).output().unwrap();
    let doc = String::from_utf8(out.stdout).unwrap();
    for h in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## Remediation",
        "## References",
    ] {
        assert!(doc.contains(h), "{h}");
    }
    emrguard().args(["explain", "XYZ999"]).assert().code(2);
}

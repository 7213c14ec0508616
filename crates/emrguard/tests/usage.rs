//! `emrguard usage` on the usage engine's known estate (crates/emrguard-usage/tests/data).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use std::path::PathBuf;

fn usage_data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../emrguard-usage/tests/data")
        .join(p)
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("emrguard")
        .unwrap()
        .arg("usage")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn json_report_and_policy() {
    let dir = usage_data("estate");
    let (out, err, code) = run(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let role = &v["usage"]["roles"][0];
    assert_eq!(role["role_name"], "emr-job-role");
    assert_eq!(role["denied"][0]["action"], "kms:Decrypt");
    assert_eq!(role["drift"][0]["action"], "glue:GetDatabase");
    let pol = &v["policies"][0];
    assert_eq!(pol["fits"], true);
    let text = pol["document"].to_string();
    assert!(text.contains("arn:aws:s3:::datalake/raw/events/dt=*/*"));
    assert!(!text.contains("s3:DeleteObject"));
    assert!(!text.contains("kms:Decrypt"));
}

#[test]
fn text_and_markdown_with_filters() {
    let dir = usage_data("estate");
    let d = dir.to_str().unwrap();
    let (out, err, code) = run(&[
        d,
        "--role",
        "emr-job-role",
        "--since",
        "2024-03-01",
        "--until",
        "2024-03-01",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Role emr-job-role"));
    assert!(out.contains("granted but unused in the window"));
    assert!(out.contains("s3:DeleteObject"));
    assert!(out.contains("unobservable"));
    // The second day (the upgrade) is outside the window: no drift.
    assert!(!out.contains("drift:"));
    let (md, _, code) = run(&[d, "--format", "markdown", "--include-denied"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("# emrguard usage"));
    assert!(md.contains("```json"));
    assert!(md.contains("kms:Decrypt"));
}

#[test]
fn gzip_trail_streams_and_bad_input_is_reported() {
    let gz = usage_data("cloudtrail-estate.json.gz");
    let bad = usage_data("corpora/SerializerTestFileBadJsonFormat.json");
    let (out, err, code) = run(&[gz.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("emr-job-role"));
    assert!(
        err.contains("SerializerTestFileBadJsonFormat.json"),
        "{err}"
    );
    let (_, err, code) = run(&["/nonexistent/usage"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

//! `generate webhook`: no `Fail` webhook without a CA source, the image flag, a Deployment that
//! does not depend on its optional ConfigMap, and the repository's Dockerfile agreeing with it.
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

fn generate(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("emrguard")
        .unwrap()
        .current_dir(repo())
        .args(["generate", "webhook", "--emr-namespace", "spark-team-a"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn docs(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap()
}

#[test]
fn a_fail_webhook_needs_a_ca_source() {
    let (code, out, err) = generate(&[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "", "nothing printed");
    assert!(
        err.contains("--cert-manager") && err.contains("--ca-bundle"),
        "{err}"
    );

    // Ignore: printed, nothing enforced while down.
    let (code, out, err) = generate(&["--failure-policy", "Ignore"]);
    assert_eq!(code, 0, "{err}");
    let d = docs(&out);
    let vwc = find(&d, "ValidatingWebhookConfiguration");
    assert!(vwc["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|w| w["failurePolicy"] == "Ignore"));

    // cert-manager: Fail, with the CA injected.
    let (code, out, err) = generate(&["--cert-manager"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cert-manager.io/inject-ca-from"));

    // A CA bundle file: Fail, caBundle set; a file that is not PEM is refused.
    let tmp = tempfile::tempdir().unwrap();
    let ca = tmp.path().join("ca.pem");
    let cert =
        rcgen::generate_simple_self_signed(vec!["emrguard.emrguard-system.svc".into()]).unwrap();
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let (code, out, err) = generate(&["--ca-bundle", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let d = docs(&out);
    let vwc = find(&d, "ValidatingWebhookConfiguration");
    for w in vwc["webhooks"].as_array().unwrap() {
        assert_eq!(w["failurePolicy"], "Fail");
        assert!(w["clientConfig"]["caBundle"].as_str().unwrap().len() > 100);
    }
    std::fs::write(&ca, "not a certificate").unwrap();
    let (code, _, err) = generate(&["--ca-bundle", ca.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_deployment_uses_the_image_flag_and_survives_a_missing_configmap() {
    let (code, out, err) = generate(&[
        "--cert-manager",
        "--image",
        "registry.example.com/emrguard@sha256:0123",
    ]);
    assert_eq!(code, 0, "{err}");
    let d = docs(&out);
    let dep = find(&d, "Deployment");
    let spec = &dep["spec"]["template"]["spec"];
    let c = &spec["containers"][0];
    assert_eq!(c["image"], "registry.example.com/emrguard@sha256:0123");
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    // No explicit --config: a missing optional ConfigMap means defaults, not a crash loop.
    assert!(!args.contains(&"--config"), "{args:?}");
    let config_volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "config")
        .unwrap();
    assert_eq!(config_volume["configMap"]["optional"], true);
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "config")
        .unwrap();
    // serve looks there without --config.
    assert_eq!(
        format!("{}/emrguard.toml", mount["mountPath"].as_str().unwrap()),
        "/etc/emrguard/config/emrguard.toml"
    );
}

/// The Dockerfile builds a static binary onto distroless/static (or scratch) and runs it as the
/// user the generated Deployment expects.
#[test]
fn the_dockerfile_matches_the_deployment() {
    let df = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = df
        .lines()
        .filter(|l| l.trim_start().starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "a build stage and a runtime stage");
    let last = froms.last().unwrap();
    assert!(
        last.contains("distroless/static") || last.contains("scratch"),
        "{last}"
    );
    assert!(
        df.contains("--locked") && df.contains("musl"),
        "static, locked build"
    );
    assert!(df.contains("ENTRYPOINT [\"/emrguard\"]"));
    let user = df
        .lines()
        .rfind(|l| l.trim_start().starts_with("USER "))
        .unwrap()
        .trim_start()
        .trim_start_matches("USER ")
        .trim()
        .to_owned();
    let (code, out, _) = generate(&["--cert-manager"]);
    assert_eq!(code, 0);
    let d = docs(&out);
    let sc = &find(&d, "Deployment")["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(
        user,
        format!("{}:{}", sc["runAsUser"], sc["runAsGroup"]),
        "Dockerfile USER vs Deployment runAsUser:runAsGroup"
    );
    assert!(repo().join(".dockerignore").is_file());
}

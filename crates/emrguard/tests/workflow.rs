//! The workflow around findings: the config file (strict, with suggestions; the example file
//! loads), suppressions (config and annotations, expiry, unused ones), baselines, rule
//! selection, and what goes to standard error (`--quiet`, `--verbose`, progress).
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
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn estate(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

fn emrguard() -> Command {
    let mut c = Command::cargo_bin("emrguard").unwrap();
    c.current_dir(repo());
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stderr))
    }
}

fn run(args: &[&str], paths: &[&Path]) -> Run {
    let out = emrguard()
        .arg("check")
        .args(paths)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn insecure_json(extra: &[&str]) -> Run {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    run(&args, &[&estate("insecure-estate")])
}

/// The report still validates against the contract's schema.
fn assert_valid(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/findings.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Config

#[test]
fn the_example_config_loads_and_is_documented() {
    let example = repo().join("emrguard.example.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    // Every table and top-level key of the config is in the example, with a comment above it.
    for key in [
        "select",
        "ignore",
        "annotation_suppressions",
        "[administrators]",
        "kubernetes_users",
        "kubernetes_groups",
        "kubernetes_service_accounts",
        "iam_arns",
        "[endpoints]",
        "allowed_cidrs",
        "min_ipv4_prefix_length",
        "[images]",
        "trusted_registries",
        "[nodes]",
        "extra_allowed_policies",
        "[credentials]",
        "allowed_providers",
        "[severity]",
        "[[suppress]]",
    ] {
        let lines: Vec<&str> = text.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("the example does not set {key}"));
        assert!(
            i > 0 && lines[i - 1].starts_with('#'),
            "{key} has no comment above it"
        );
    }
    let c = emrguard_config::Config::parse("emrguard.example.toml", &text).unwrap();
    assert!(!c.suppressions.is_empty() && !c.severity.is_empty());
    // The binary loads it (rule references checked) on both estates.
    let clean = run(
        &["--config", "emrguard.example.toml", "--format", "json"],
        &[&estate("hardened-estate")],
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let insecure = run(
        &["--config", "emrguard.example.toml", "--format", "json"],
        &[&estate("insecure-estate")],
    );
    assert_eq!(insecure.code, 1, "{}", insecure.stderr);
    assert_eq!(
        insecure.json()["administrators"][0],
        "Group platform-admins",
        "declared administrators are listed"
    );
}

#[test]
fn config_errors_name_the_line_and_suggest_the_closest_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "# admins\n[administrators]\nkubernetes_group = [\"x\"]\n",
            ":3:1: unknown key `kubernetes_group` in [administrators]; did you mean `kubernetes_groups`?",
        ),
        ("selct = []\n", ":1:1: unknown key `selct` at the top level; did you mean `select`?"),
        (
            "[endpoints]\nallowed_cidr = []\n",
            ":2:1: unknown key `allowed_cidr` in [endpoints]; did you mean `allowed_cidrs`?",
        ),
        ("[severity]\nNET0001 = \"low\"\n", ":2:1: [severity]: `NET0001` is not a rule id"),
        ("[severity]\nNET001 = \"hihg\"\n", "did you mean `high`?"),
        (
            "[severity]\nendpoint-access = \"low\"\n",
            ":2:1: [severity]: `endpoint-access` is not a rule id",
        ),
        ("select = [\"pod-credential\"]\n", "did you mean `pod-credentials`?"),
        ("ignore = [\"NET999\"]\n", ":1:1: ignore: no rule `NET999`"),
        (
            "[[suppress]]\nrule = \"NET001\"\n",
            "missing field `reason`",
        ),
        (
            "\n[[suppress]]\nrule = \"NET001\"\nreason = \"\"\n",
            ":2:1: the suppression of `NET001` has an empty `reason`",
        ),
        (
            "[[suppress]]\nrule = \"NET001\"\nreason = \"r\"\nexpires = \"31/12/2030\"\n",
            "is not a date; write it as YYYY-MM-DD",
        ),
        (
            "[[suppress]]\nrule = \"NETT\"\nreason = \"r\"\n",
            ":1:1: [[suppress]] rule: `NETT` is not a rule id, id prefix",
        ),
        ("[nodes\n", "cfg.toml:1:"),
    ];
    for (text, want) in cases {
        let cfg = write(tmp.path(), "cfg.toml", text);
        let r = run(
            &["--config", cfg.to_str().unwrap()],
            &[&estate("hardened-estate")],
        );
        assert_eq!(r.code, 2, "{text}");
        assert!(
            r.stderr.contains("cfg.toml") && r.stderr.contains(want),
            "config {text:?}: expected {want:?} in:\n{}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Suppressions

/// A finding of the insecure estate and a suppression that covers it (and everything else of
/// its rule on the same resource).
fn a_finding() -> Value {
    let r = insecure_json(&[]);
    findings(&r.json())
        .iter()
        .find(|f| f["rule"] == "NET001")
        .cloned()
        .unwrap()
}

#[test]
fn config_suppressions_mark_findings_and_stay_in_json_and_sarif() {
    let before = insecure_json(&[]).json();
    let f = a_finding();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "cfg.toml",
        &format!(
            "[[suppress]]\nrule = \"endpoint-access\"\nresource = \"EksCluster/analytics-*\"\nreason = \"VPN rollout pending\"\nexpires = 2999-12-31\n\n[[suppress]]\nrule = \"{}\"\nreason = \"second match\"\n",
            f["rule"].as_str().unwrap()
        ),
    );
    let cfg = cfg.to_str().unwrap();
    let after = insecure_json(&["--config", cfg]);
    assert_eq!(after.code, 1);
    let report = after.json();
    assert_valid(&report);
    let suppressed: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["suppressed"] == true)
        .collect();
    assert!(suppressed.iter().any(|s| s["id"] == f["id"]));
    assert!(suppressed
        .iter()
        .all(|s| s["practice"] == "endpoint-access" && s["resource"]["kind"] == "EksCluster"));
    // Still reported, not counted.
    assert_eq!(findings(&report).len(), findings(&before).len());
    assert_eq!(
        report["summary"]["total"].as_u64().unwrap() as usize,
        findings(&before).len() - suppressed.len()
    );
    let sup = &report["suppressions"][0];
    assert_eq!(sup["kind"], "config");
    assert_eq!(sup["reason"], "VPN rollout pending");
    assert_eq!(sup["expires"], "2999-12-31");
    assert!(sup["source"].as_str().unwrap().ends_with("cfg.toml:1"));
    assert_eq!(sup["findings"].as_array().unwrap().len(), suppressed.len());
    // The second entry matched too (so it is not "unused"), but the first one suppressed.
    assert!(
        !after.stderr.contains("matched no finding"),
        "{}",
        after.stderr
    );

    // SARIF: suppressed results carry the justification.
    let sarif: Value = serde_json::from_str(
        &run(
            &["--config", cfg, "--format", "sarif"],
            &[&estate("insecure-estate")],
        )
        .stdout,
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let with: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(with.len(), suppressed.len());
    assert_eq!(with[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        with[0]["suppressions"][0]["justification"],
        "VPN rollout pending"
    );

    // Text: marked, with the reason.
    let text = run(&["--config", cfg], &[&estate("insecure-estate")]).stdout;
    assert!(text.contains("(suppressed)") && text.contains("suppressed: VPN rollout pending"));

    // Suppressing every counted finding of a selection makes the run pass.
    let only = run(
        &["--config", cfg, "--select", "NET001", "--format", "json"],
        &[&estate("insecure-estate")],
    );
    assert_eq!(only.code, 0, "{}", only.stderr);
}

#[test]
fn an_expired_suppression_fails_the_run_and_names_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "cfg.toml",
        "# accepted for the migration\n[[suppress]]\nrule = \"NET001\"\nreason = \"until the migration\"\nexpires = 2020-01-31\n",
    );
    let r = insecure_json(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cfg.toml:2")
            && r.stderr.contains("rule NET001")
            && r.stderr.contains("expired on 2020-01-31"),
        "{}",
        r.stderr
    );
    // The report is still written, the expired suppression suppressed nothing, and it is listed.
    let report = r.json();
    assert!(findings(&report)
        .iter()
        .all(|f| f.get("suppressed").is_none()));
    assert_eq!(report["suppressions"][0]["expired"], true);
    // Expired even when the findings it named are gone.
    let clean = run(
        &["--config", cfg.to_str().unwrap()],
        &[&estate("hardened-estate")],
    );
    assert_eq!(clean.code, 2);
    // Today's expiry still holds: a date far ahead does not fail.
    let ok = write(
        tmp.path(),
        "ok.toml",
        "[[suppress]]\nrule = \"NET001\"\nreason = \"r\"\nexpires = \"2999-01-01\"\n",
    );
    let r = insecure_json(&["--config", ok.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn unused_suppressions_are_warnings_and_quiet_silences_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "cfg.toml",
        "[[suppress]]\nrule = \"NET001\"\nresource = \"EksCluster/no-such-cluster\"\nreason = \"r\"\n\n[[suppress]]\nrule = \"POD\"\nnamespace = \"nowhere\"\nreason = \"r\"\n",
    );
    let cfg = cfg.to_str().unwrap();
    let r = insecure_json(&["--config", cfg]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("warning: ")
            && r.stderr.contains("cfg.toml:1: the suppression (rule NET001, resource EksCluster/no-such-cluster) matched no finding")
            && r.stderr.contains("cfg.toml:6"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["warnings"].as_array().unwrap().len(), 2);
    // Not when the rule did not run.
    let r = insecure_json(&["--config", cfg, "--select", "rbac"]);
    assert!(!r.stderr.contains("matched no finding"), "{}", r.stderr);
    // --quiet: nothing on standard error, same exit code.
    let q = insecure_json(&["--config", cfg, "--quiet"]);
    assert_eq!(q.code, 1);
    assert_eq!(q.stderr, "");
}

/// Annotate `object` (kind, namespace, name) in a copy of the insecure estate.
fn annotate(dir: &Path, kind: &str, ns: Option<&str>, name: &str, value: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) else {
            continue;
        };
        for item in items {
            let m = &item["metadata"];
            if item["kind"] == kind && m["name"] == name && m["namespace"].as_str() == ns {
                item["metadata"]["annotations"]["emrguard.io/ignore"] = Value::from(value);
                std::fs::write(&p, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
                return;
            }
        }
    }
    panic!("no {kind} {ns:?}/{name} in {}", dir.display());
}

#[test]
fn an_annotation_suppresses_findings_about_its_object() {
    let report = insecure_json(&[]).json();
    // An RBAC finding granted through a RoleBinding: annotate the binding.
    let (rule, step) = findings(&report)
        .iter()
        .find_map(|f| {
            let step = f["path"]
                .as_array()?
                .iter()
                .find(|s| s["kind"] == "RoleBinding")?;
            Some((f["rule"].as_str()?.to_owned(), step.clone()))
        })
        .expect("an RBAC finding through a RoleBinding");
    let (ns, name) = (step["namespace"].as_str(), step["name"].as_str().unwrap());
    let through = |f: &Value| {
        f["rule"] == rule.as_str()
            && f["path"].as_array().is_some_and(|p| {
                p.iter().any(|s| {
                    s["kind"] == "RoleBinding" && s["name"] == name && s["namespace"].as_str() == ns
                })
            })
    };
    let want: Vec<&Value> = findings(&report).iter().filter(|f| through(f)).collect();
    assert!(!want.is_empty());

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("estate");
    copy_dir(&estate("insecure-estate"), &dir);
    annotate(
        &dir,
        "RoleBinding",
        ns,
        name,
        &format!("{rule}: the deployer needs it (SEC-142)\nNET999: typo in a rule\nno reason here"),
    );
    let r = run(&["--format", "json"], &[&dir]);
    let after = r.json();
    assert_valid(&after);
    let suppressed: Vec<&Value> = findings(&after)
        .iter()
        .filter(|f| f["suppressed"] == true)
        .collect();
    assert_eq!(
        suppressed.iter().map(|f| &f["id"]).collect::<Vec<_>>(),
        want.iter().map(|f| &f["id"]).collect::<Vec<_>>()
    );
    let sup = &after["suppressions"][0];
    assert_eq!(sup["kind"], "annotation");
    assert_eq!(sup["reason"], "the deployer needs it (SEC-142)");
    assert!(sup["source"]
        .as_str()
        .unwrap()
        .contains("emrguard.io/ignore on RoleBinding"));
    // The bad entries are warnings naming the object.
    assert!(
        r.stderr.contains("no rule `NET999`") && r.stderr.contains("has no reason"),
        "{}",
        r.stderr
    );
    assert!(r
        .stderr
        .contains(&format!("on RoleBinding {}/{name}", ns.unwrap_or(""))));
    // SARIF marks them as suppressed in source.
    let sarif: Value = serde_json::from_str(&run(&["--format", "sarif"], &[&dir]).stdout).unwrap();
    let kinds: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("suppressions"))
        .map(|s| &s[0]["kind"])
        .collect();
    assert_eq!(kinds.len(), want.len());
    assert!(kinds.iter().all(|k| *k == "inSource"));

    // The config can turn annotations off.
    let cfg = write(tmp.path(), "cfg.toml", "annotation_suppressions = false\n");
    let off = run(
        &["--format", "json", "--config", cfg.to_str().unwrap()],
        &[&dir],
    )
    .json();
    assert!(findings(&off).iter().all(|f| f.get("suppressed").is_none()));
}

// ---------------------------------------------------------------------------------------------
// Baseline

#[test]
fn a_baseline_of_the_current_output_makes_the_next_run_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("baseline.json");
    let base_s = base.to_str().unwrap();
    // Writing a baseline: the report as usual, the baseline file, exit 0.
    let w = run(&["--write-baseline", base_s], &[&estate("insecure-estate")]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(w.stdout.contains("why:"), "the report is still printed");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    let n = findings(&written).len();
    assert!(n > 0);

    // The next run against it exits 0; the text counts the unchanged findings (JSON marks
    // each).
    let r = run(&["--baseline", base_s], &[&estate("insecure-estate")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains(&format!("{n} unchanged findings from the baseline")));
    assert!(r.stdout.contains(&format!("{n} in the baseline")));
    let j = insecure_json(&["--baseline", base_s]);
    assert_eq!(j.code, 0);
    assert_eq!(
        j.json()["baseline"]["unchanged"].as_array().unwrap().len(),
        n
    );

    // A finding missing from the baseline is new: it counts again, and SARIF says so.
    let mut edited = written.clone();
    let arr = edited["findings"].as_array_mut().unwrap();
    let pos = arr.iter().position(|f| f["severity"] == "high").unwrap();
    let new = arr.remove(pos);
    std::fs::write(&base, edited.to_string()).unwrap();
    let r = insecure_json(&["--baseline", base_s]);
    assert_eq!(r.code, 1);
    let sarif: Value = serde_json::from_str(
        &run(
            &["--baseline", base_s, "--format", "sarif"],
            &[&estate("insecure-estate")],
        )
        .stdout,
    )
    .unwrap();
    let states: Vec<(&Value, &Value)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                &r["partialFingerprints"]["emrguardFindingId/v1"],
                &r["baselineState"],
            )
        })
        .collect();
    for (id, state) in states {
        let want = if *id == new["id"] { "new" } else { "unchanged" };
        assert_eq!(state, want, "{id}");
    }
    // A file that is not a report is a usage error.
    let bad = write(tmp.path(), "bad.json", "{\"nothing\": 1}");
    let r = insecure_json(&["--baseline", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no `findings` array"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// Selection

fn rules_of(r: &Run) -> Vec<String> {
    findings(&r.json())
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn select_and_ignore_by_id_prefix_and_practice_the_most_specific_winning() {
    let all = rules_of(&insecure_json(&[]));
    assert!(all.iter().any(|r| r == "NET001") && all.iter().any(|r| r == "NET003"));

    let net = rules_of(&insecure_json(&["--select", "NET"]));
    assert!(!net.is_empty() && net.iter().all(|r| r.starts_with("NET")));

    let v = rules_of(&insecure_json(&[
        "--select",
        "endpoint-access",
        "--ignore",
        "NET001",
    ]));
    assert!(v.iter().any(|r| r == "NET003") && !v.iter().any(|r| r == "NET001"));

    let v = rules_of(&insecure_json(&[
        "--select",
        "NET001",
        "--ignore",
        "endpoint-access",
    ]));
    assert!(!v.is_empty() && v.iter().all(|r| r == "NET001"));

    let v = rules_of(&insecure_json(&["--select", "net001,pod-credentials"]));
    assert!(v.iter().all(|r| r == "NET001" || r.starts_with("POD")));
    assert!(v.iter().any(|r| r.starts_with("POD")));

    let v = rules_of(&insecure_json(&["--ignore", "rbac"]));
    assert!(!v.iter().any(|r| r.starts_with("RBAC")));
    assert!(v.len() < all.len());

    // The config's select and ignore; --select replaces select, --ignore adds.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "cfg.toml",
        "select = [\"pod-credentials\"]\nignore = [\"POD002\"]\n",
    );
    let cfg = cfg.to_str().unwrap();
    let v = rules_of(&insecure_json(&["--config", cfg]));
    assert!(!v.is_empty() && v.iter().all(|r| r.starts_with("POD") && r != "POD002"));
    let v = rules_of(&insecure_json(&["--config", cfg, "--select", "NET,POD"]));
    assert!(v.iter().any(|r| r.starts_with("NET")) && !v.iter().any(|r| r == "POD002"));

    let r = insecure_json(&["--select", "pod-credential"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `pod-credentials`?"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Standard error

#[test]
fn verbose_prints_phase_timings_and_quiet_prints_nothing() {
    let r = insecure_json(&["--verbose"]);
    for phase in ["load", "index", "rules", "render"] {
        assert!(
            r.stderr.contains(&format!("timing: {phase}")),
            "no {phase} timing in {}",
            r.stderr
        );
    }
    let r = insecure_json(&[]);
    assert!(!r.stderr.contains("timing:"));
    assert!(
        r.stderr.contains("findings"),
        "summary on stderr: {}",
        r.stderr
    );
    let q = insecure_json(&["--quiet"]);
    assert_eq!(q.stderr, "");
    assert_eq!(q.stdout, r.stdout);
    // Not a terminal: no progress bar, even for a large snapshot.
    let tmp = tempfile::tempdir().unwrap();
    big_snapshot(tmp.path());
    let r = run(&["--format", "json"], &[tmp.path()]);
    assert!(!r.stderr.contains("files ("), "{}", r.stderr);
    assert!(!r.stderr.contains('\r'));
}

/// 300 small namespace files: a "large" snapshot by file count.
fn big_snapshot(dir: &Path) {
    for i in 0..300 {
        write(
            dir,
            &format!("ns-{i:03}.json"),
            &format!("{{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {{\"name\": \"ns-{i}\"}}}}"),
        );
    }
}

/// On a terminal (a pseudo-terminal from `script`), a large snapshot shows a progress bar on
/// standard error. Skipped where `script` (util-linux) is missing.
#[test]
fn a_large_snapshot_on_a_terminal_shows_progress() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    big_snapshot(tmp.path());
    let bin = assert_cmd::cargo::cargo_bin("emrguard");
    let cmd = format!(
        "{} check {} --format json --output {}",
        bin.display(),
        tmp.path().display(),
        tmp.path().join("out.json").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("/300 files"),
        "no progress bar on the terminal:\n{screen}"
    );
    let q = std::process::Command::new("script")
        .args(["-qefc", &format!("{cmd} --quiet"), "/dev/null"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&q.stdout).contains("files"));
}

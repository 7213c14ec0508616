//! Fail-closed coverage (broken and partial snapshots: exit code and coverage lines) and the
//! triage options of `check` (text order, --min-severity, --compact, --baseline, several
//! --output, --fail-on none, a closed pipe).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use serde_json::Value;
use std::io::Read;
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

/// A copy of an example estate to break.
fn copy_estate(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&estate(name), tmp.path());
    tmp
}

fn copy_dir(src: &Path, dst: &Path) {
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            copy_dir(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
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
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr))
}

fn practice<'a>(report: &'a Value, slug: &str) -> &'a Value {
    report["coverage"]["practices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["practice"] == slug)
        .unwrap()
}

fn assert_valid(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/findings.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The JUnit `<testcase>` elements of a rule's suite: (has failure, has skipped).
fn junit_rule(xml: &str, rule: &str) -> Vec<(bool, bool)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter(|n| {
            n.attribute("classname")
                .is_some_and(|c| c.ends_with(&format!(".{rule}")))
        })
        .map(|n| {
            (
                n.children().any(|c| c.has_tag_name("failure")),
                n.children().any(|c| c.has_tag_name("skipped")),
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------ coverage

#[test]
fn example_estates_are_fully_covered() {
    let hardened = run(&["--format", "json"], &[&estate("hardened-estate")]);
    assert_eq!(hardened.code, 0, "{}", hardened.stderr);
    let report = json(&hardened);
    assert_valid(&report);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["coverage"]["complete"], true);
    let insecure = run(&["--format", "json"], &[&estate("insecure-estate")]);
    assert_eq!(insecure.code, 1, "{}", insecure.stderr);
    let report = json(&insecure);
    assert_valid(&report);
    for p in report["coverage"]["practices"].as_array().unwrap() {
        assert_eq!(p["status"], "evaluated", "{p}");
    }
}

#[test]
fn a_truncated_iam_file_fails_closed() {
    let tmp = copy_estate("insecure-estate");
    let iam = tmp
        .path()
        .join("aws-iam-get-account-authorization-details.json");
    let text = std::fs::read_to_string(&iam).unwrap();
    std::fs::write(&iam, &text[..4000]).unwrap();

    let text_run = run(&[], &[tmp.path()]);
    assert_eq!(text_run.code, 2, "{}", text_run.stderr);
    assert!(
        text_run
            .stdout
            .contains("least-privilege: not evaluated (iam authorization details malformed)"),
        "{}",
        text_run.stdout
    );
    assert!(text_run.stderr.contains("--allow-partial"));
    // Findings are still reported.
    assert!(text_run.stdout.contains("RBAC002"));

    let j = run(&["--format", "json"], &[tmp.path()]);
    assert_eq!(j.code, 2);
    let report = json(&j);
    assert_valid(&report);
    assert_eq!(report["coverage"]["complete"], false);
    let lp = practice(&report, "least-privilege");
    assert_eq!(lp["status"], "not-evaluated");
    let iam_need = lp["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "iam authorization details")
        .unwrap();
    assert_eq!(iam_need["state"], "malformed");
    assert_eq!(iam_need["required"], true);

    let junit = run(&["--format", "junit"], &[tmp.path()]);
    assert_eq!(junit.code, 2);
    let iam001 = junit_rule(&junit.stdout, "IAM001");
    assert_eq!(iam001, vec![(false, true)], "IAM001 is skipped, not passed");

    // --allow-partial: the exit code comes from the findings alone; same report.
    let partial = run(&["--format", "json", "--allow-partial"], &[tmp.path()]);
    assert_eq!(partial.code, 1);
    assert_eq!(partial.stdout, j.stdout);
}

#[test]
fn missing_iam_and_rbac_inputs_fail_closed_and_junit_skips_their_rules() {
    let tmp = copy_estate("insecure-estate");
    std::fs::remove_file(
        tmp.path()
            .join("aws-iam-get-account-authorization-details.json"),
    )
    .unwrap();
    std::fs::remove_file(tmp.path().join("kubectl-get-rbac.json")).unwrap();

    let t = run(&["--color", "never"], &[tmp.path()]);
    assert_eq!(t.code, 2, "{}", t.stderr);
    assert!(
        t.stdout
            .contains("least-privilege: not evaluated (no iam authorization details)"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains("rbac: partly not evaluated") && t.stdout.contains("no kubernetes roles"),
        "{}",
        t.stdout
    );

    let junit = run(&["--format", "junit"], &[tmp.path()]);
    assert_eq!(junit.code, 2);
    for rule in ["IAM001", "RBAC006"] {
        let cases = junit_rule(&junit.stdout, rule);
        assert_eq!(cases, vec![(false, true)], "{rule}: {cases:?}");
    }
    // No rule that could not be evaluated passes: its cases fail (findings from the inputs
    // that were there, e.g. EKS access policies for RBAC002) or are skipped.
    let report = json(&run(&["--format", "json"], &[tmp.path()]));
    for p in report["coverage"]["practices"].as_array().unwrap() {
        for rule in p["not_evaluated"].as_array().into_iter().flatten() {
            let rule = rule.as_str().unwrap();
            let cases = junit_rule(&junit.stdout, rule);
            assert!(
                !cases.is_empty() && cases.iter().all(|(f, s)| *f || *s),
                "{rule}: {cases:?}"
            );
        }
    }
    let doc = roxmltree::Document::parse(&junit.stdout).unwrap();
    let cov = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("coverage"))
        .unwrap();
    assert_ne!(cov.attribute("errors"), Some("0"));

    // SARIF: the invocation did not succeed and says why.
    let sarif = run(&["--format", "sarif"], &[tmp.path()]);
    let doc: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert!(inv["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["level"] == "error"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("least-privilege: not evaluated")));
    assert!(doc["runs"][0]["properties"]["coverage"]["practices"].is_array());

    // Markdown and HTML state it too.
    let md = run(&["--format", "markdown"], &[tmp.path()]);
    assert!(md
        .stdout
        .contains("least-privilege: not evaluated (no iam authorization details)"));
    let html = run(&["--format", "html"], &[tmp.path()]);
    assert!(html
        .stdout
        .contains("least-privilege: not evaluated (no iam authorization details)"));

    // Narrowed to practices whose inputs are all there: no failure for the others.
    let net = run(
        &["--select", "endpoint-access,image-updates"],
        &[tmp.path()],
    );
    assert_eq!(net.code, 1, "{}", net.stderr);
    assert!(net.stdout.contains("endpoint-access: evaluated"));
    assert!(!net.stdout.contains("least-privilege:"));
    let no_iam = run(
        &[
            "--ignore",
            "least-privilege,rbac,pod-credentials,tenant-isolation,NODE010,NODE011",
            "--format",
            "json",
        ],
        &[tmp.path()],
    );
    assert_eq!(no_iam.code, 1, "{}", no_iam.stderr);
    let report = json(&no_iam);
    assert_eq!(report["coverage"]["complete"], true);
    assert_eq!(practice(&report, "rbac")["status"], "not-selected");
}

#[test]
fn an_empty_list_is_an_answer_but_no_file_is_not() {
    // No managed endpoints listed at all: the endpoint rules cannot tell.
    let tmp = copy_estate("hardened-estate");
    for e in std::fs::read_dir(tmp.path()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("managed-endpoint") {
            std::fs::remove_file(&p).unwrap();
        }
    }
    let r = run(
        &["--format", "json", "--select", "endpoint-access"],
        &[tmp.path()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let report = json(&r);
    let p = practice(&report, "endpoint-access");
    assert_eq!(p["status"], "not-evaluated");
    assert!(p["summary"]
        .as_str()
        .unwrap()
        .contains("no emr managed endpoints"));
    // An empty list is enough.
    std::fs::write(
        tmp.path()
            .join("aws-emr-containers-list-managed-endpoints-x.json"),
        r#"{"endpoints": []}"#,
    )
    .unwrap();
    let r = run(
        &["--format", "json", "--select", "endpoint-access"],
        &[tmp.path()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        practice(&json(&r), "endpoint-access")["status"],
        "evaluated"
    );
}

#[test]
fn collector_log_failures_are_coverage_warnings() {
    let tmp = copy_estate("hardened-estate");
    std::fs::write(
        tmp.path().join("collect.log"),
        "# emrguard collect.sh log v1\n# cluster=analytics-prod region=us-west-2\n\
         06:00:01Z ok   aws eks describe-cluster --name analytics-prod\n\
         06:00:02Z FAIL aws ecr describe-images --repository-name x: AccessDeniedException\n",
    )
    .unwrap();
    let r = run(&["--format", "json"], &[tmp.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = json(&r);
    assert_valid(&report);
    let c = &report["coverage"]["collector"];
    assert_eq!(c["succeeded"], 1);
    assert_eq!(
        c["failures"][0],
        "aws ecr describe-images --repository-name x: AccessDeniedException"
    );
    assert!(report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["recognised_as"] == "collector log"));
    let t = run(&[], &[tmp.path()]);
    assert!(
        t.stdout
            .contains("collector: failed: aws ecr describe-images --repository-name x"),
        "{}",
        t.stdout
    );
    // The ECR images input notes the failure.
    let img = practice(&report, "image-updates");
    assert!(img["summary"]
        .as_str()
        .unwrap()
        .contains("the collector failed: aws ecr describe-images"));
}

// ------------------------------------------------------------------------------ triage

const SEVS: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];

/// Severity labels of the finding lines of a text report, in order.
fn severities(text: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|l| {
            let w = l.split_whitespace().next()?;
            let second = l.split_whitespace().nth(1)?;
            let is_rule = second.len() > 3 && second.chars().any(|c| c.is_ascii_digit());
            SEVS.iter().position(|s| *s == w).filter(|_| is_rule)
        })
        .collect()
}

#[test]
fn text_opens_with_coverage_table_and_causes_then_findings_by_severity() {
    let r = run(&["--color", "never"], &[&estate("insecure-estate")]);
    assert_eq!(r.code, 1);
    let t = &r.stdout;
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("no `{s}` in:\n{t}"));
    assert!(at("Coverage") < at("Findings by practice and severity"));
    assert!(at("Findings by practice and severity") < at("Top causes"));
    assert!(at("Top causes") < at("\nFindings\n"));
    // The table's total row matches the summary.
    let report = json(&run(&["--format", "json"], &[&estate("insecure-estate")]));
    let total = report["summary"]["total"].as_u64().unwrap();
    let row = t
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .unwrap();
    assert!(row.trim_end().ends_with(&total.to_string()), "{row}");
    // Findings most severe first: the first 29 are the criticals.
    let sev = severities(t);
    assert_eq!(sev.len() as u64, total);
    assert!(sev.windows(2).all(|w| w[0] <= w[1]), "{sev:?}");
    assert_eq!(sev[0], 0);
}

#[test]
fn min_severity_and_compact() {
    let full = run(&["--color", "never"], &[&estate("insecure-estate")]);
    let high = run(
        &["--color", "never", "--min-severity", "high"],
        &[&estate("insecure-estate")],
    );
    assert_eq!(high.code, full.code, "shown is not what fails");
    let sev = severities(&high.stdout);
    assert!(!sev.is_empty() && sev.iter().all(|s| *s <= 1), "{sev:?}");
    assert!(high
        .stdout
        .contains("below high not shown (--min-severity)"));
    // The table still counts everything.
    let table = |t: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with("total"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(table(&high.stdout), table(&full.stdout));

    let compact = run(
        &["--color", "never", "--compact"],
        &[&estate("insecure-estate")],
    );
    let total = severities(&full.stdout).len();
    let lines: Vec<&str> = compact
        .stdout
        .lines()
        .filter(|l| SEVS.iter().any(|s| l.starts_with(s)))
        .collect();
    assert_eq!(lines.len(), total);
    assert!(!compact.stdout.contains("why:"));
    assert!(compact.stdout.lines().count() < full.stdout.lines().count() / 3);
}

#[test]
fn baseline_new_unchanged_and_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let full = copy_estate("insecure-estate");
    // A smaller estate: without the Dockerfiles (their findings are "new" against it).
    let small = copy_estate("insecure-estate");
    for e in std::fs::read_dir(small.path()).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("Dockerfile")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    let base_small = tmp.path().join("small.json");
    let base_full = tmp.path().join("full.json");
    let r = run(
        &[
            "--allow-partial",
            "--write-baseline",
            base_small.to_str().unwrap(),
        ],
        &[small.path()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    run(
        &["--write-baseline", base_full.to_str().unwrap()],
        &[full.path()],
    );

    // New findings first, unchanged counted, none fixed.
    let r = run(
        &[
            "--color",
            "never",
            "--baseline",
            base_small.to_str().unwrap(),
        ],
        &[full.path()],
    );
    assert_eq!(r.code, 1, "the new Dockerfile findings fail");
    let t = &r.stdout;
    assert!(t.contains("New findings"));
    assert!(t.contains("unchanged finding"), "{t}");
    assert!(t.contains("fixed since the baseline: none"));
    let new = severities(t).len();
    assert!(new > 0 && new < 20, "{new}");
    assert!(t.contains("IMG00"));

    // Against the full baseline, the smaller estate fixed the Dockerfile findings.
    let j = run(
        &[
            "--format",
            "json",
            "--allow-partial",
            "--baseline",
            base_full.to_str().unwrap(),
        ],
        &[small.path()],
    );
    assert_eq!(j.code, 0, "{}", j.stderr);
    let report = json(&j);
    assert_valid(&report);
    let fixed = report["baseline"]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), new);
    assert!(fixed
        .iter()
        .all(|f| f["rule"].as_str().unwrap().starts_with("IMG")));
    let t = run(
        &[
            "--color",
            "never",
            "--allow-partial",
            "--baseline",
            base_full.to_str().unwrap(),
        ],
        &[small.path()],
    );
    assert!(t
        .stdout
        .contains(&format!("fixed since the baseline ({new}):")));
    assert!(!t.stdout.contains("New findings"));
    for f in ["markdown", "html", "sarif"] {
        let r = run(
            &[
                "--format",
                f,
                "--allow-partial",
                "--baseline",
                base_full.to_str().unwrap(),
            ],
            &[small.path()],
        );
        let id = fixed[0]["id"].as_str().unwrap();
        assert!(r.stdout.contains(id), "{f} lists the fixed finding {id}");
    }
}

#[test]
fn several_outputs_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let sarif = tmp.path().join("r.sarif");
    let junit = tmp.path().join("r.xml");
    let js = tmp.path().join("r.json");
    let r = run(
        &[
            "--output",
            &format!("sarif={}", sarif.display()),
            "--output",
            &format!("junit={}", junit.display()),
            "-o",
            &format!("json={}", js.display()),
            "--color",
            "never",
        ],
        &[&estate("insecure-estate")],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("Findings by practice and severity"),
        "text still on stdout"
    );
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    roxmltree::Document::parse(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&js).unwrap()).unwrap();
    assert_valid(&j);
    // Only files: nothing on stdout; a plain path takes --format.
    let plain = tmp.path().join("plain.md");
    let r = run(
        &["--format", "markdown", "-o", plain.to_str().unwrap()],
        &[&estate("insecure-estate")],
    );
    assert_eq!(r.stdout, "");
    assert!(std::fs::read_to_string(&plain)
        .unwrap()
        .starts_with("# emrguard report"));
    assert!(r.stderr.contains("markdown report written to"));
}

#[test]
fn fail_on_none() {
    let r = run(&["--fail-on", "none"], &[&estate("insecure-estate")]);
    assert_eq!(r.code, 0);
    // Coverage still fails closed.
    let tmp = copy_estate("insecure-estate");
    std::fs::remove_file(
        tmp.path()
            .join("aws-iam-get-account-authorization-details.json"),
    )
    .unwrap();
    assert_eq!(run(&["--fail-on", "none"], &[tmp.path()]).code, 2);
}

/// `| head`: the reader closes the pipe early; emrguard stops quietly and keeps the run's
/// exit code (1 here: findings at or above high).
#[test]
fn a_closed_pipe_ends_quietly() {
    for format in ["text", "json", "html"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("emrguard"))
            .current_dir(repo())
            .args(["check", "examples/insecure-estate", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0u8; 256];
        stdout.read_exact(&mut buf).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{format}: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("broken pipe") && !stderr.contains("error"),
            "{format}: {stderr}"
        );
    }
}

//! The report formats on the insecure example estate: SARIF (schema, then Microsoft's SARIF
//! multitool), JUnit (parsed as XML), Markdown, HTML (headless Chromium: no console errors,
//! working filters, a screenshot) and ASFF.
//!
//! The outside tools come from `.ci/run` (npm packages under `.ci/node`, Debian's `chromium`).
//! When one is missing the test says it was skipped, except under `CI=true`, where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn insecure() -> PathBuf {
    repo().join("examples/insecure-estate")
}

fn emrguard() -> Command {
    let mut c = Command::cargo_bin("emrguard").unwrap();
    c.current_dir(repo());
    c
}

const TS: &str = "2026-01-31T12:00:00Z";

/// Run `check` on the insecure estate in `format`; returns stdout (exit 1 expected: it has
/// high findings).
fn render(format: &str, extra: &[&str]) -> String {
    let out = emrguard()
        .arg("check")
        .arg(insecure())
        .args(["--format", format, "--timestamp", TS])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_report() -> Value {
    serde_json::from_str(&render("json", &[])).unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A tool the test needs is missing: fail in CI, skip (loudly) elsewhere.
fn missing(what: &str) {
    let msg = format!("{what} is not installed (run .ci/run, or see it for the install steps)");
    if in_ci() {
        panic!("{msg}; CI=true requires it");
    }
    eprintln!("SKIPPED: {msg}");
}

fn artifacts() -> PathBuf {
    // target/tmp → target/test-artifacts
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn node_modules() -> PathBuf {
    repo().join(".ci/node/node_modules")
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(cmd))
            .find(|p| p.is_file())
    })
}

// ---------------------------------------------------------------------------------------------
// SARIF

fn sarif_schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[test]
fn sarif_has_rules_results_locations_and_fingerprints() {
    let report = json_report();
    let text = render("sarif", &[]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let errors = sarif_schema_errors(&doc);
    assert!(errors.is_empty(), "SARIF schema: {errors:#?}");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for r in rules {
        for k in ["id", "name", "shortDescription", "fullDescription", "help"] {
            assert!(r.get(k).is_some(), "rule without {k}: {r}");
        }
        assert!(r["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Remediation"));
        assert!(["error", "warning", "note"]
            .contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    for (res, f) in results.iter().zip(findings) {
        assert_eq!(res["ruleId"], f["rule"]);
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], f["rule"]);
        assert_eq!(res["partialFingerprints"]["emrguardFindingId/v1"], f["id"]);
        let loc = &res["locations"][0];
        let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.starts_with("examples/insecure-estate/"),
            "artifact URIs are relative to the repository: {uri}"
        );
        assert!(repo().join(uri).is_file(), "{uri}");
        if let Some(line) = f["locations"][0]["line"].as_u64() {
            assert_eq!(loc["physicalLocation"]["region"]["startLine"], line);
        }
        let logical = &loc["logicalLocations"][0];
        let want = f["resource"]["arn"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let r = &f["resource"];
                match r["namespace"].as_str() {
                    Some(ns) => format!(
                        "{}/{ns}/{}",
                        r["kind"].as_str().unwrap(),
                        r["name"].as_str().unwrap()
                    ),
                    None => format!(
                        "{}/{}",
                        r["kind"].as_str().unwrap(),
                        r["name"].as_str().unwrap()
                    ),
                }
            });
        assert_eq!(logical["fullyQualifiedName"], want.as_str());
        let level = res["level"].as_str().unwrap();
        let want_level = match f["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(level, want_level);
        assert!(res.get("suppressions").is_none());
    }
    // Byte-identical across runs.
    assert_eq!(text, render("sarif", &[]));
}

/// Microsoft's SARIF multitool (`validate`, with its SARIF and GitHub rule sets) finds no
/// error in the insecure estate's SARIF.
#[test]
fn sarif_passes_the_sarif_multitool() {
    let tool = std::env::var_os("SARIF_MULTITOOL")
        .map(PathBuf::from)
        .or_else(|| {
            let p = node_modules().join("@microsoft/sarif-multitool-linux/Sarif.Multitool");
            p.is_file().then_some(p)
        })
        .or_else(|| which("sarif-multitool"));
    let Some(tool) = tool else {
        missing("the SARIF multitool (npm @microsoft/sarif-multitool)");
        return;
    };
    let dir = artifacts();
    let input = dir.join("insecure-estate.sarif");
    std::fs::write(&input, render("sarif", &[])).unwrap();
    let log = dir.join("insecure-estate.validation.sarif");
    let _ = std::fs::remove_file(&log);
    let out = std::process::Command::new(&tool)
        .args(["validate", "--rule-kind", "Sarif;Gh", "--output"])
        .arg(&log)
        .arg(&input)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && log.is_file(),
        "the multitool failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let results = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let problems: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {}: {}",
                r["level"].as_str().unwrap_or("warning"),
                r["ruleId"].as_str().unwrap_or("?"),
                r["message"]["text"].as_str().unwrap_or("")
            )
        })
        .collect();
    let errors: Vec<&String> = problems.iter().filter(|p| p.starts_with("error")).collect();
    assert!(errors.is_empty(), "SARIF multitool errors: {errors:#?}");
    // Also hold the line on warnings: the output was clean when this test was written.
    assert!(
        problems.is_empty(),
        "SARIF multitool findings: {problems:#?}"
    );
    // And the multitool does catch a broken file (so a silent no-op cannot pass).
    let mut broken: Value =
        serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    let bad = dir.join("broken.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    let bad_log = dir.join("broken.validation.sarif");
    let _ = std::fs::remove_file(&bad_log);
    std::process::Command::new(&tool)
        .args(["validate", "--output"])
        .arg(&bad_log)
        .arg(&bad)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&bad_log).unwrap()).unwrap();
    assert!(
        v["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["level"] == "error")),
        "the multitool did not report a startLine of 0"
    );
}

// ---------------------------------------------------------------------------------------------
// JUnit

#[test]
fn junit_is_well_formed_and_fails_exactly_the_cases_at_or_above_fail_on() {
    let report = json_report();
    for fail_on in ["high", "critical", "medium"] {
        let xml = render("junit", &["--fail-on", fail_on]);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suites: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        let mut total = 0;
        let mut failures = 0;
        let mut failing_cases: BTreeSet<(String, String)> = BTreeSet::new();
        for s in &suites {
            let cases: Vec<_> = s
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            assert_eq!(s.attribute("tests").unwrap(), cases.len().to_string());
            let f = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .count();
            assert_eq!(s.attribute("failures").unwrap(), f.to_string());
            total += cases.len();
            failures += f;
            for c in cases {
                assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
                if c.children().any(|n| n.has_tag_name("failure")) {
                    let rule = c
                        .attribute("classname")
                        .unwrap()
                        .rsplit('.')
                        .next()
                        .unwrap();
                    failing_cases
                        .insert((rule.to_owned(), c.attribute("name").unwrap().to_owned()));
                }
            }
        }
        assert_eq!(root.attribute("tests").unwrap(), total.to_string());
        assert_eq!(root.attribute("failures").unwrap(), failures.to_string());
        // One suite per rule that ran, and the coverage suite (every practice evaluated on
        // this estate: no errors).
        let rules = emrguard_rules::registry().len();
        assert_eq!(suites.len(), rules + 1, "{fail_on}");
        let cov = suites
            .iter()
            .find(|s| s.attribute("name") == Some("coverage"))
            .expect("a coverage suite");
        assert_eq!(cov.attribute("tests"), Some("7"));
        assert_eq!(cov.attribute("errors"), Some("0"));
        // Failing cases are the (rule, resource) pairs with a finding at or above fail_on.
        let rank = |s: &str| {
            ["critical", "high", "medium", "low", "info"]
                .iter()
                .position(|x| *x == s)
                .unwrap()
        };
        let want: BTreeSet<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| rank(f["severity"].as_str().unwrap()) <= rank(fail_on))
            .map(|f| {
                let r = &f["resource"];
                let mut label = match r["namespace"].as_str() {
                    Some(ns) => format!(
                        "{} {ns}/{}",
                        r["kind"].as_str().unwrap(),
                        r["name"].as_str().unwrap()
                    ),
                    None => format!(
                        "{} {}",
                        r["kind"].as_str().unwrap(),
                        r["name"].as_str().unwrap()
                    ),
                };
                if let Some(arn) = r["arn"].as_str() {
                    label.push_str(&format!(" ({arn})"));
                }
                (f["rule"].as_str().unwrap().to_owned(), label)
            })
            .collect();
        assert_eq!(failing_cases, want, "--fail-on {fail_on}");
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown

#[test]
fn markdown_has_the_summary_table_and_every_finding_with_why_and_fix() {
    let report = json_report();
    let md = render("markdown", &[]);
    assert!(md.starts_with("# emrguard report\n"));
    assert!(md.contains("| practice | critical | high | medium | low | info | total |"));
    for p in emrguard_model::Practice::ALL {
        assert!(md.contains(&format!("| `{}` |", p.slug())), "{p}");
    }
    let total = report["summary"]["total"].as_u64().unwrap();
    assert!(md.contains(&format!("| **{total}** |")), "total row");
    for f in report["findings"].as_array().unwrap() {
        assert!(md.contains(&format!("`{}`", f["id"].as_str().unwrap())));
    }
    let n = report["findings"].as_array().unwrap().len();
    assert_eq!(md.matches("**Fix:**").count(), n);
    assert!(md.matches("**Why it matters:**").count() >= n);
    let path_findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("path").is_some())
        .count();
    assert_eq!(md.matches("- **Evidence:**").count(), path_findings);
}

// ---------------------------------------------------------------------------------------------
// HTML

#[test]
fn html_is_self_contained_and_works_in_headless_chromium() {
    let report = json_report();
    let html = render("html", &[]);
    let dir = artifacts();
    let file = dir.join("insecure-estate.html");
    std::fs::write(&file, &html).unwrap();

    // Static checks: one file, nothing to fetch.
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    for needle in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
        "url(http",
        "<link",
    ] {
        assert!(
            !html.contains(needle),
            "HTML references something outside: {needle}"
        );
    }
    for f in report["findings"].as_array().unwrap() {
        assert!(html.contains(&format!("id=\"{}\"", f["id"].as_str().unwrap())));
    }

    let Some(node) = which("node") else {
        missing("node (Node.js)");
        return;
    };
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| which("chromium"));
    let Some(chromium) = chromium else {
        missing("Debian's chromium");
        return;
    };
    if !node_modules()
        .join("playwright-core/package.json")
        .is_file()
    {
        missing("playwright-core (npm, under .ci/node)");
        return;
    }
    let shot = dir.join("insecure-estate-html.png");
    let out = std::process::Command::new(node)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/html_report.cjs"))
        .arg(node_modules())
        .arg(&file)
        .arg(&shot)
        .env("CHROMIUM", chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Chromium check failed:\n{stdout}\n{stderr}"
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["problems"], Value::Array(vec![]));
    assert_eq!(
        summary["findings"].as_u64().unwrap() as usize,
        report["findings"].as_array().unwrap().len()
    );
    assert!(
        summary["namespaces"].as_u64().unwrap() > 0,
        "namespace filter untested"
    );
    assert_eq!(
        summary["narrow_width"].as_u64(),
        Some(420),
        "the 420 px check did not run"
    );
    assert!(
        summary["url"]
            .as_str()
            .is_some_and(|u| u.contains("practice=")),
        "filter state not checked in the URL: {summary}"
    );
    assert!(shot.is_file(), "no screenshot");
    assert!(
        dir.join("insecure-estate-html-420.png").is_file(),
        "no 420 px screenshot"
    );
    eprintln!("screenshot: {}", shot.display());
}

// ---------------------------------------------------------------------------------------------
// ASFF

#[test]
fn asff_is_a_batch_import_findings_request() {
    let report = json_report();
    let text = render("asff", &[]);
    assert_eq!(text, render("asff", &[]), "same timestamp, same output");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let obj = doc.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["Findings"]);
    let fs = doc["Findings"].as_array().unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(fs.len(), findings.len());
    let mut ids = BTreeSet::new();
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for (a, f) in fs.iter().zip(findings) {
        for k in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(a.get(k).is_some(), "ASFF finding without {k}");
        }
        assert_eq!(a["SchemaVersion"], "2018-10-08");
        assert_eq!(a["AwsAccountId"], "111122223333");
        assert_eq!(
            a["ProductArn"],
            "arn:aws:securityhub:us-west-2:111122223333:product/111122223333/default"
        );
        assert_eq!(a["CreatedAt"], TS);
        assert_eq!(a["UpdatedAt"], TS);
        assert!(
            ids.insert(a["Id"].as_str().unwrap().to_owned()),
            "duplicate Id"
        );
        assert!(a["Id"]
            .as_str()
            .unwrap()
            .ends_with(f["id"].as_str().unwrap()));
        assert_eq!(
            a["GeneratorId"],
            format!("emrguard/{}", f["rule"].as_str().unwrap())
        );
        let label = a["Severity"]["Label"].as_str().unwrap();
        assert!(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&label));
        assert_eq!(
            label.to_lowercase().replace("informational", "info"),
            f["severity"].as_str().unwrap()
        );
        *labels.entry(label.to_owned()).or_default() += 1;
        assert!(a["Title"].as_str().unwrap().len() <= 256);
        assert!(a["Description"].as_str().unwrap().len() <= 1024);
        assert!(
            a["Remediation"]["Recommendation"]["Text"]
                .as_str()
                .unwrap()
                .len()
                <= 512
        );
        let t = a["Types"][0].as_str().unwrap();
        assert_eq!(t.split('/').count(), 3, "{t}");
        let r = &a["Resources"][0];
        assert!(r["Type"].is_string() && r["Id"].is_string());
        assert_eq!(r["Region"], "us-west-2");
        if let Some(arn) = f["resource"]["arn"].as_str() {
            assert_eq!(r["Id"], arn);
        }
        assert_eq!(a["Workflow"]["Status"], "NEW");
        assert_eq!(a["RecordState"], "ACTIVE");
        for (_, v) in a["ProductFields"].as_object().unwrap() {
            assert!(v.is_string());
        }
    }
    assert!(labels.contains_key("HIGH"));
    assert!(fs
        .iter()
        .any(|a| a["Resources"][0]["Type"] == "AwsEksCluster"));
}

#[test]
fn every_format_renders_the_clean_estate() {
    for format in ["text", "json", "sarif", "junit", "markdown", "html", "asff"] {
        let out = emrguard()
            .arg("check")
            .arg(repo().join("examples/hardened-estate"))
            .args(["--format", format, "--timestamp", TS])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(!out.stdout.is_empty(), "{format}");
    }
}

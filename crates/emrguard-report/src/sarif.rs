//! SARIF 2.1.0, as GitHub code scanning ingests it: one run, the rules that ran under
//! `tool.driver.rules` (with their documentation as help), one result per finding with its
//! file and line, the Kubernetes object or ARN as a logical location, the finding id as a
//! partial fingerprint, suppressions, and the baseline state when a baseline was given.

use crate::common::{artifact_uri, namespace_of, qualified_name, step_label, subject_label, what};
use crate::{Emitter, Format, RenderOptions, Report, SuppressionKind};
use emrguard_model::{Finding, Severity};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub(crate) struct Sarif;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF `level` for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `eks-api-endpoint-open-to-world` → `EksApiEndpointOpenToWorld` (SARIF rule names are
/// identifiers).
fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn sentence(s: &str) -> String {
    let t = s.trim();
    if t.ends_with(['.', '!', '?']) {
        t.to_owned()
    } else {
        format!("{t}.")
    }
}

fn result(f: &Finding, rule_index: Option<usize>, report: &Report, opts: &RenderOptions) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("level".into(), json!(level(f.severity)));
    r.insert("kind".into(), json!("fail"));
    r.insert("message".into(), json!({ "text": sentence(&f.message) }));

    let logical = json!({
        "name": f.resource.name,
        "fullyQualifiedName": qualified_name(&f.resource),
        "kind": "resource",
    });
    let physical = |l: &emrguard_model::Location| {
        let mut p = Map::new();
        p.insert(
            "artifactLocation".into(),
            json!({ "uri": artifact_uri(&l.file, opts.base_dir.as_deref()) }),
        );
        if let Some(line) = l.line.filter(|n| *n >= 1) {
            p.insert("region".into(), json!({ "startLine": line }));
        }
        Value::Object(p)
    };
    let mut first = Map::new();
    if let Some(l) = f.locations.first() {
        first.insert("physicalLocation".into(), physical(l));
    }
    first.insert("logicalLocations".into(), json!([logical]));
    r.insert("locations".into(), json!([Value::Object(first)]));
    let related: Vec<Value> = f
        .locations
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, l)| {
            let mut m = Map::new();
            m.insert("id".into(), json!(i + 1));
            m.insert("physicalLocation".into(), physical(l));
            if let Some(p) = &l.pointer {
                m.insert(
                    "message".into(),
                    json!({ "text": format!("Evidence at {p}.") }),
                );
            }
            Value::Object(m)
        })
        .collect();
    if !related.is_empty() {
        r.insert("relatedLocations".into(), json!(related));
    }
    r.insert(
        "partialFingerprints".into(),
        json!({ "emrguardFindingId/v1": f.id }),
    );
    if let Some(sup) = report.suppression_of(f) {
        let kind = match sup.kind {
            SuppressionKind::Config => "external",
            SuppressionKind::Annotation => "inSource",
        };
        r.insert(
            "suppressions".into(),
            json!([{
                "kind": kind,
                "status": "accepted",
                "justification": sup.reason,
                "properties": { "source": sup.source },
            }]),
        );
    }
    if report.baseline.is_some() {
        let state = if report.in_baseline(f) {
            "unchanged"
        } else {
            "new"
        };
        r.insert("baselineState".into(), json!(state));
    }
    let mut props = Map::new();
    props.insert("id".into(), json!(f.id));
    props.insert("practice".into(), json!(f.practice.slug()));
    props.insert("severity".into(), json!(f.severity.as_str()));
    props.insert("title".into(), json!(f.title));
    props.insert("remediation".into(), json!(f.remediation));
    if let Some(ns) = namespace_of(f) {
        props.insert("namespace".into(), json!(ns));
    }
    if !f.namespaces.is_empty() {
        props.insert("namespaces".into(), json!(f.namespaces));
    }
    if let Some(vc) = &f.virtual_cluster {
        props.insert("virtualCluster".into(), json!(vc));
    }
    if let Some(s) = &f.subject {
        props.insert("subject".into(), json!(subject_label(s)));
    }
    if let Some(c) = f.capability {
        props.insert("capability".into(), json!(c.slug()));
    }
    if !f.path.is_empty() {
        let steps: Vec<String> = f.path.iter().map(step_label).collect();
        props.insert("evidence".into(), json!(steps));
    }
    if !f.grants.is_empty() {
        props.insert("grants".into(), json!(f.grants));
    }
    props.insert("tags".into(), json!(["security", f.practice.slug()]));
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

impl Emitter for Sarif {
    fn format(&self) -> Format {
        Format::Sarif
    }

    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        let mut rules_run = report.rules_run();
        // Rules of findings that are not among the rules that ran (cannot happen through the
        // CLI, but a report is plain data).
        for f in &report.findings {
            if !rules_run.iter().any(|r| r.meta.id == f.rule) {
                if let Some(r) = emrguard_rules::find(&f.rule) {
                    rules_run.push(crate::RuleRun {
                        meta: r.meta(),
                        severity: r.meta().severity,
                    });
                }
            }
        }
        rules_run.sort_by_key(|r| r.meta.id);
        let index: BTreeMap<&str, usize> = rules_run
            .iter()
            .enumerate()
            .map(|(i, r)| (r.meta.id, i))
            .collect();
        let rules: Vec<Value> = rules_run
            .iter()
            .map(|r| {
                let m = r.meta;
                let doc = m.documentation();
                json!({
                    "id": m.id,
                    "name": pascal(m.name),
                    "shortDescription": { "text": sentence(m.title) },
                    "fullDescription": { "text": sentence(&what(m)) },
                    "help": {
                        "text": doc,
                        "markdown": format!("# {} {}\n\n{}", m.id, m.title, doc),
                    },
                    "defaultConfiguration": { "level": level(r.severity) },
                    "properties": {
                        "tags": ["security", m.practice.slug()],
                        "precision": "high",
                        "problem.severity": level(r.severity),
                        "security-severity": security_severity(r.severity),
                        "practice": m.practice.slug(),
                        "severity": r.severity.as_str(),
                    },
                })
            })
            .collect();
        let results: Vec<Value> = report
            .findings
            .iter()
            .map(|f| result(f, index.get(f.rule.as_str()).copied(), report, opts))
            .collect();
        // Coverage and unreadable inputs: tool execution notifications of the invocation, the
        // whole coverage in the run's properties.
        let mut notes: Vec<Value> = Vec::new();
        for e in &report.errors {
            let loc = e
                .location
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            notes.push(json!({
                "level": "error",
                "message": { "text": format!("{}{loc}: {}", e.file, e.message) },
                "descriptor": { "id": "input-unreadable" },
            }));
        }
        let mut props = serde_json::Map::new();
        if let Some(cov) = &report.coverage {
            for p in &cov.practices {
                let level = match p.status {
                    crate::CoverageStatus::NotEvaluated => "error",
                    crate::CoverageStatus::Partial => "warning",
                    crate::CoverageStatus::Evaluated => "note",
                    crate::CoverageStatus::NotSelected => continue,
                };
                notes.push(json!({
                    "level": level,
                    "message": { "text": p.summary },
                    "descriptor": { "id": "coverage" },
                }));
            }
            if let Some(c) = &cov.collector {
                for f in &c.failures {
                    notes.push(json!({
                        "level": "warning",
                        "message": { "text": format!("collector: failed: {f} ({})", c.file) },
                        "descriptor": { "id": "collector-failure" },
                    }));
                }
            }
            props.insert(
                "coverage".into(),
                serde_json::to_value(cov).map_err(io::Error::other)?,
            );
        }
        if let Some(b) = &report.baseline {
            props.insert(
                "baseline".into(),
                json!({ "file": b.file, "unchanged": b.unchanged.len(), "fixed": b.fixed }),
            );
        }
        let complete = report.coverage.as_ref().is_none_or(|c| c.complete);
        let mut run = json!({
            "tool": {
                "driver": {
                    "name": "emrguard",
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": complete && report.errors.is_empty(),
                "toolExecutionNotifications": notes,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        });
        if !props.is_empty() {
            if let Some(o) = run.as_object_mut() {
                o.insert("properties".into(), Value::Object(props));
            }
        }
        let doc = json!({
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [run]
        });
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sentences() {
        assert_eq!(
            pascal("eks-api-endpoint-open-to-world"),
            "EksApiEndpointOpenToWorld"
        );
        assert_eq!(sentence("a"), "a.");
        assert_eq!(sentence("a. "), "a.");
    }
}

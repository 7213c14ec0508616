//! The report (`emrguard check` output) and its formats. Every format renders the same
//! [`Report`]; none of them decides anything.

mod text;

use emrguard_model::{Finding, Practice, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA: &str = "emrguard/findings/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Input {
    pub file: String,
    pub recognised_as: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A file or a part of one that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_severity: BTreeMap<String, usize>,
    pub by_practice: BTreeMap<String, usize>,
}

/// The whole result of a check, as `findings.schema.json` describes it (plus `errors` and
/// `administrators`, which the schema allows).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub inputs: Vec<Input>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<InputError>,
    /// Declared administrators: exempt from `rbac`, listed so nobody is hidden.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub administrators: Vec<String>,
    /// Account and region of the snapshot, where known (used by `asff`).
    #[serde(skip)]
    pub account: Option<String>,
    #[serde(skip)]
    pub region: Option<String>,
}

impl Report {
    pub fn new(inputs: Vec<Input>, findings: Vec<Finding>, errors: Vec<InputError>) -> Report {
        let summary = summarize(&findings);
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "emrguard",
                version: env!("CARGO_PKG_VERSION"),
            },
            inputs,
            summary,
            findings,
            errors,
            administrators: Vec::new(),
            account: None,
            region: None,
        }
    }

    /// Findings that count for the exit code: not suppressed, at or above `threshold`.
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| !f.suppressed && f.severity.at_least(threshold))
            .count()
    }
}

pub fn summarize(findings: &[Finding]) -> Summary {
    let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_practice: BTreeMap<String, usize> = BTreeMap::new();
    let counted: Vec<&Finding> = findings.iter().filter(|f| !f.suppressed).collect();
    for f in &counted {
        *by_severity
            .entry(f.severity.as_str().to_owned())
            .or_default() += 1;
        *by_practice.entry(f.practice.slug().to_owned()).or_default() += 1;
    }
    Summary {
        total: counted.len(),
        by_severity,
        by_practice,
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Options that change how a format renders (not what it says).
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    pub color: bool,
}

pub fn render(
    report: &Report,
    format: Format,
    opts: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, opts, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
            writeln!(out)
        }
    }
}

/// Practices in the order the contract lists them.
pub fn practices() -> [Practice; 7] {
    Practice::ALL
}

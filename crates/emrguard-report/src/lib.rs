//! The report (`emrguard check` output) and its formats. Every format renders the same
//! [`Report`] through one [`Emitter`] interface; none of them decides anything.

mod asff;
mod common;
pub mod coverage;
pub mod docs;
mod html;
mod junit;
mod markdown;
mod sarif;
mod text;
mod xml;

pub use coverage::{
    CollectorLog, Coverage, CoverageStatus, InputNeed, InputState, PracticeCoverage, RuleCoverage,
};
use emrguard_model::{Finding, Practice, Severity};
use emrguard_rules::RuleMeta;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::PathBuf;

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
    /// Every suppression in force or expired, with the findings it suppressed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<SuppressionRecord>,
    /// Things worth a look that are not findings (suppressions that matched nothing ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The baseline the findings were compared with (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// What could be evaluated: per practice, the inputs it needs and whether they were read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Findings left out by `--min-severity` (counted in the summary, not listed).
    #[serde(skip)]
    pub hidden: Vec<Finding>,
    #[serde(skip)]
    pub min_severity: Option<Severity>,
    /// The rules that ran, with their effective default severity (SARIF, JUnit). Empty means
    /// the whole catalogue at its default severities.
    #[serde(skip)]
    pub rules: Vec<RuleRun>,
    /// The EKS cluster of the snapshot, where known (used by `asff` ids).
    #[serde(skip)]
    pub cluster: Option<String>,
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
            suppressions: Vec::new(),
            warnings: Vec::new(),
            baseline: None,
            coverage: None,
            hidden: Vec::new(),
            min_severity: None,
            rules: Vec::new(),
            cluster: None,
            account: None,
            region: None,
        }
    }

    /// True when the finding's id is in the baseline: known before, not counted for the exit
    /// code.
    pub fn in_baseline(&self, f: &Finding) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|b| b.known.contains(&f.id))
    }

    /// Findings that count for the exit code: not suppressed, not in the baseline, at or above
    /// `threshold` (none with `--fail-on none`).
    pub fn failing(&self, threshold: Option<Severity>) -> usize {
        let Some(t) = threshold else { return 0 };
        self.findings
            .iter()
            .filter(|f| !f.suppressed && !self.in_baseline(f) && f.severity.at_least(t))
            .count()
    }

    /// Keep only the findings at or above `min` (`--min-severity`); the summary still counts
    /// every finding and [`Report::hidden`] says how many are not shown.
    pub fn keep_at_least(&mut self, min: Severity) {
        let (shown, hidden): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| f.severity.at_least(min));
        self.findings = shown;
        self.hidden = hidden;
        self.min_severity = Some(min);
    }

    /// Every finding, shown or left out by `--min-severity`.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().chain(&self.hidden)
    }

    /// Whether a finding counts, was known in the baseline, or is suppressed.
    pub fn status(&self, f: &Finding) -> Status {
        if f.suppressed {
            Status::Suppressed
        } else if self.in_baseline(f) {
            Status::Baseline
        } else {
            Status::Open
        }
    }

    /// The suppression that suppressed `f`, if any.
    pub fn suppression_of(&self, f: &Finding) -> Option<&SuppressionRecord> {
        if !f.suppressed {
            return None;
        }
        self.suppressions
            .iter()
            .find(|s| s.findings.contains(&f.id))
    }

    /// The rules that ran (the catalogue when [`Report::rules`] is empty).
    pub fn rules_run(&self) -> Vec<RuleRun> {
        if self.rules.is_empty() {
            emrguard_rules::registry()
                .iter()
                .map(|r| RuleRun {
                    meta: r.meta(),
                    severity: r.meta().severity,
                })
                .collect()
        } else {
            self.rules.clone()
        }
    }
}

/// A finding's standing in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Counts for the exit code (when at or above `--fail-on`).
    Open,
    /// Known in the baseline: reported, not counted.
    Baseline,
    /// Accepted by a suppression: reported, not counted, not in the summary.
    Suppressed,
}

/// A rule that ran, with its effective default severity (after `[severity]` overrides).
#[derive(Debug, Clone, Copy)]
pub struct RuleRun {
    pub meta: &'static RuleMeta,
    pub severity: Severity,
}

/// Where a suppression came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `[[suppress]]` entry of the config file (SARIF `external`).
    Config,
    /// An `emrguard.io/ignore` annotation on the object (SARIF `inSource`).
    Annotation,
}

/// A suppression and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionRecord {
    /// `emrguard.toml:12`, or `annotation emrguard.io/ignore on RoleBinding ns/name (file:line)`.
    pub source: String,
    pub kind: SuppressionKind,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// True when the expiry day has passed: it suppressed nothing and failed the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
    /// Ids of the findings it suppressed.
    pub findings: Vec<String>,
}

/// The baseline a run was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Baseline {
    /// The baseline file, as given.
    pub file: String,
    /// Ids of this run's findings that were already in the baseline.
    pub unchanged: Vec<String>,
    /// Findings of the baseline that this run no longer reports (fixed, or out of scope).
    pub fixed: Vec<KnownFinding>,
    /// Every finding id of the baseline.
    #[serde(skip)]
    pub known: BTreeSet<String>,
}

/// A finding of the baseline, as much of it as the report needs to list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownFinding {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub rule: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// `Kind namespace/name` of its resource.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
}

impl Baseline {
    /// Compare `findings` with the baseline's: which are unchanged, which were fixed.
    pub fn compare(file: String, known: Vec<KnownFinding>, findings: &[Finding]) -> Baseline {
        let ids: BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        let known_ids: BTreeSet<String> = known.iter().map(|k| k.id.clone()).collect();
        let unchanged = findings
            .iter()
            .filter(|f| known_ids.contains(&f.id))
            .map(|f| f.id.clone())
            .collect();
        let mut fixed: Vec<KnownFinding> = known
            .into_iter()
            .filter(|k| !ids.contains(k.id.as_str()))
            .collect();
        fixed.sort_by(|a, b| {
            let rank = |s: &str| s.parse::<Severity>().map_or(u8::MAX, |s| s as u8);
            rank(&a.severity)
                .cmp(&rank(&b.severity))
                .then_with(|| a.rule.cmp(&b.rule))
                .then_with(|| a.id.cmp(&b.id))
        });
        fixed.dedup_by(|a, b| a.id == b.id);
        Baseline {
            file,
            unchanged,
            fixed,
            known: known_ids,
        }
    }

    /// Read the findings of an earlier JSON report (`findings[]`: `id`, and `rule`,
    /// `severity`, `title`, `resource` where present).
    pub fn parse_findings(file: &str, json: &str) -> Result<Vec<KnownFinding>, String> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("{file}: not a JSON report: {e}"))?;
        let findings = v
            .get("findings")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| format!("{file}: not an emrguard JSON report (no `findings` array)"))?;
        let text = |f: &serde_json::Value, k: &str| {
            f.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let id = f
                    .get("id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{file}: /findings/{i} has no `id`"))?;
                let resource = f
                    .get("resource")
                    .map(|r| {
                        common::ref_short(
                            r.get("kind").and_then(|x| x.as_str()).unwrap_or(""),
                            r.get("namespace").and_then(|x| x.as_str()),
                            r.get("name").and_then(|x| x.as_str()).unwrap_or(""),
                        )
                    })
                    .unwrap_or_default();
                Ok(KnownFinding {
                    id,
                    rule: text(f, "rule"),
                    severity: text(f, "severity"),
                    title: text(f, "title"),
                    resource: resource.trim().to_owned(),
                })
            })
            .collect()
    }

    /// Read the finding ids of an earlier JSON report (`findings[].id`).
    pub fn parse(file: &str, json: &str) -> Result<BTreeSet<String>, String> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("{file}: not a JSON report: {e}"))?;
        let findings = v
            .get("findings")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| format!("{file}: not an emrguard JSON report (no `findings` array)"))?;
        findings
            .iter()
            .enumerate()
            .map(|(i, f)| {
                f.get("id")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{file}: /findings/{i} has no `id`"))
            })
            .collect()
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
    Sarif,
    Junit,
    Markdown,
    Html,
    Asff,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::Asff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Asff => "asff",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown format `{s}`"))
    }
}

/// Options that change how a format renders (not what it says).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// ANSI colours (text).
    pub color: bool,
    /// The `--fail-on` threshold: JUnit failures, emphasis in HTML and Markdown (`None`:
    /// `--fail-on none`, nothing fails).
    pub fail_on: Option<Severity>,
    /// One line per finding (text, markdown).
    pub compact: bool,
    /// RFC 3339 time of the run (ASFF `CreatedAt`/`UpdatedAt`). Fixed by the caller so that
    /// output is reproducible.
    pub timestamp: String,
    /// Directory that SARIF artifact URIs are made relative to (the repository root or the
    /// current directory).
    pub base_dir: Option<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            fail_on: Some(Severity::High),
            compact: false,
            timestamp: "1970-01-01T00:00:00Z".to_owned(),
            base_dir: None,
        }
    }
}

impl RenderOptions {
    /// True when a finding of severity `s` fails the run.
    pub fn fails(&self, s: Severity) -> bool {
        self.fail_on.is_some_and(|t| s.at_least(t))
    }

    /// `high`, or `none`.
    pub fn fail_on_name(&self) -> &'static str {
        self.fail_on.map_or("none", Severity::as_str)
    }
}

/// One output format.
pub trait Emitter: Sync {
    fn format(&self) -> Format;
    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()>;
}

struct Json;

impl Emitter for Json {
    fn format(&self) -> Format {
        Format::Json
    }
    fn render(&self, report: &Report, _: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
        writeln!(out)
    }
}

/// The emitter of a format.
pub fn emitter(format: Format) -> &'static dyn Emitter {
    match format {
        Format::Text => &text::Text,
        Format::Json => &Json,
        Format::Sarif => &sarif::Sarif,
        Format::Junit => &junit::Junit,
        Format::Markdown => &markdown::Markdown,
        Format::Html => &html::Html,
        Format::Asff => &asff::Asff,
    }
}

pub fn render(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    emitter(format).render(report, opts, out)
}

/// Practices in the order the contract lists them.
pub fn practices() -> [Practice; 7] {
    Practice::ALL
}

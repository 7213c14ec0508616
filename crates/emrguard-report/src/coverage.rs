//! What the run could evaluate: per practice, the input kinds its rules need and whether the
//! snapshot had them (JSON `coverage`). The binary computes it (`emrguard check`); every format
//! states it, so a report never looks clean because its input was missing or broken.

use serde::Serialize;
use std::collections::BTreeMap;

/// Coverage of the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// True when every selected rule had its required inputs and no input was malformed.
    pub complete: bool,
    /// One entry per practice, in the contract's order (unselected ones too).
    pub practices: Vec<PracticeCoverage>,
    /// The collector's log (`collect.sh` writes `collect.log` into the snapshot), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorLog>,
    /// Per rule id: why it did not run, when it did not (JUnit `<skipped/>`).
    #[serde(skip)]
    pub rules: BTreeMap<String, RuleCoverage>,
}

/// How far a practice was evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    /// Every selected rule had what it needs.
    Evaluated,
    /// Every selected rule ran, but an optional input was missing (some rules skipped, or
    /// fewer places looked at), or an input it reads was malformed in part.
    Partial,
    /// At least one selected rule could not run: a required input is missing or unreadable.
    NotEvaluated,
    /// No rule of the practice was selected.
    NotSelected,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Evaluated => "evaluated",
            CoverageStatus::Partial => "partial",
            CoverageStatus::NotEvaluated => "not evaluated",
            CoverageStatus::NotSelected => "not selected",
        }
    }
}

/// Whether the snapshot had an input kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputState {
    /// Read (possibly an empty list).
    Present,
    /// Read, but a file or part of one of this kind could not be read.
    Malformed,
    /// No file of this kind in the snapshot.
    Missing,
    /// Not needed for this snapshot (e.g. security groups when there are no managed endpoints).
    NotNeeded,
}

/// One input kind a practice reads.
#[derive(Debug, Clone, Serialize)]
pub struct InputNeed {
    /// The input kind, as `inputs[].recognised_as` names it (`iam authorization details`).
    pub kind: String,
    /// Required: without it the rules that read it are not evaluated (exit 2). Optional:
    /// without it they run on less, or are skipped without failing the run.
    pub required: bool,
    pub state: InputState,
    /// Objects of this kind read.
    pub objects: usize,
    /// Rules of the practice that read it.
    pub rules: Vec<String>,
    /// Why it is (or is not) needed, when that depends on the snapshot; collector failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One practice's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct PracticeCoverage {
    pub practice: String,
    pub status: CoverageStatus,
    /// The selected rules of the practice.
    pub rules: Vec<String>,
    /// Rules that could not run for a missing or unreadable required input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated: Vec<String>,
    /// Rules that had nothing to read (an optional input is absent): skipped, not failing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    pub inputs: Vec<InputNeed>,
    /// The coverage line for people, e.g. `least-privilege: not evaluated (no iam
    /// authorization details)`.
    pub summary: String,
}

/// A rule that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleCoverage {
    /// A required input is missing or unreadable: counts against the run (exit 2).
    NotEvaluated(String),
    /// Only optional inputs, all absent: nothing to check.
    Skipped(String),
}

impl RuleCoverage {
    pub fn reason(&self) -> &str {
        match self {
            RuleCoverage::NotEvaluated(r) | RuleCoverage::Skipped(r) => r,
        }
    }
}

/// The collector's log in the snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct CollectorLog {
    pub file: String,
    /// Commands that succeeded.
    pub succeeded: usize,
    /// Commands that failed (each as the log names it, with its error when logged).
    pub failures: Vec<String>,
}

impl Coverage {
    /// The coverage lines for people, one per selected practice, then collector failures.
    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .practices
            .iter()
            .filter(|p| p.status != CoverageStatus::NotSelected)
            .map(|p| p.summary.clone())
            .collect();
        if let Some(c) = &self.collector {
            for f in &c.failures {
                v.push(format!("collector: failed: {f} ({})", c.file));
            }
        }
        v
    }

    /// Lines that are warnings (anything but a fully evaluated practice).
    pub fn warnings(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .practices
            .iter()
            .filter(|p| {
                !matches!(
                    p.status,
                    CoverageStatus::Evaluated | CoverageStatus::NotSelected
                )
            })
            .map(|p| p.summary.clone())
            .collect();
        if let Some(c) = &self.collector {
            for f in &c.failures {
                v.push(format!("collector: failed: {f} ({})", c.file));
            }
        }
        v
    }

    /// The practice entry for `slug`.
    pub fn practice(&self, slug: &str) -> Option<&PracticeCoverage> {
        self.practices.iter().find(|p| p.practice == slug)
    }

    /// Why `rule` did not run, if it did not.
    pub fn rule(&self, id: &str) -> Option<&RuleCoverage> {
        self.rules.get(id)
    }

    /// Selected rules that could not be evaluated.
    pub fn not_evaluated(&self) -> usize {
        self.rules
            .values()
            .filter(|r| matches!(r, RuleCoverage::NotEvaluated(_)))
            .count()
    }
}

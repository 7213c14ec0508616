//! Text for people: findings grouped by practice, most severe first, each with its why and fix.

use crate::common::{namespaces_label, resource_label, step_label, subject_label, why};
use crate::{practices, Emitter, Format, RenderOptions, Report, Status};
use emrguard_model::{Finding, Severity};
use std::io::{self, Write};

pub(crate) struct Text;

impl Emitter for Text {
    fn format(&self) -> Format {
        Format::Text
    }
    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        render(report, opts, out)
    }
}

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let label = format!("{:<8}", s.as_str().to_uppercase());
        let code = match s {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &label)
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let st = Style { on: opts.color };
    for p in practices() {
        let mut fs: Vec<&Finding> = report.findings.iter().filter(|f| f.practice == p).collect();
        if fs.is_empty() {
            continue;
        }
        fs.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        writeln!(
            out,
            "{} {}",
            st.bold(p.slug()),
            st.dim(&format!("— {}", p.summary()))
        )?;
        for f in fs {
            let suppressed = match report.status(f) {
                Status::Suppressed => st.dim(" (suppressed)"),
                Status::Baseline => st.dim(" (baseline)"),
                Status::Open => String::new(),
            };
            writeln!(
                out,
                "  {} {} {}{suppressed}",
                st.sev(f.severity),
                st.bold(&f.rule),
                f.title
            )?;
            writeln!(out, "           {}", resource_label(&f.resource))?;
            if let Some(s) = &f.subject {
                writeln!(out, "           subject: {}", subject_label(s))?;
            }
            if let Some(ns) = namespaces_label(f) {
                writeln!(out, "           namespaces: {ns}")?;
            }
            writeln!(out, "           {}", f.message)?;
            if let Some(w) = why(&f.rule) {
                writeln!(out, "           {} {w}", st.bold("why:"))?;
            }
            writeln!(out, "           {} {}", st.bold("fix:"), f.remediation)?;
            if let Some(sup) = report.suppression_of(f) {
                writeln!(
                    out,
                    "           {} {} ({})",
                    st.dim("suppressed:"),
                    sup.reason,
                    sup.source
                )?;
            }
            if !f.path.is_empty() {
                let steps: Vec<String> = f.path.iter().map(step_label).collect();
                writeln!(out, "           {} {}", st.dim("path:"), steps.join(" → "))?;
            }
            // A cause reaching hundreds of namespaces has hundreds of locations: JSON has them.
            const LOCATIONS_SHOWN: usize = 5;
            if f.locations.len() > LOCATIONS_SHOWN {
                writeln!(
                    out,
                    "           {}",
                    st.dim(&format!(
                        "at {} locations, the first {LOCATIONS_SHOWN}:",
                        f.locations.len()
                    ))
                )?;
            }
            for l in f.locations.iter().take(LOCATIONS_SHOWN) {
                let mut loc = l.file.clone();
                if let Some(line) = l.line {
                    loc.push_str(&format!(":{line}"));
                }
                if let Some(p) = &l.pointer {
                    loc.push_str(&format!(" {p}"));
                }
                writeln!(out, "           {}", st.dim(&format!("at {loc}")))?;
            }
            writeln!(out, "           {}", st.dim(&format!("id {}", f.id)))?;
        }
        writeln!(out)?;
    }
    for e in &report.errors {
        let loc = e
            .location
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}{loc}: {}",
            st.paint("1;31", "error:"),
            e.file,
            e.message
        )?;
    }
    let skipped = report
        .inputs
        .iter()
        .filter(|i| i.recognised_as == "unknown")
        .count();
    let s = &report.summary;
    let mut parts = Vec::new();
    for sev in Severity::ALL {
        if let Some(n) = s.by_severity.get(sev.as_str()) {
            parts.push(format!("{n} {sev}"));
        }
    }
    let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
    let mut line = if s.total == 0 {
        "no findings".to_owned()
    } else {
        format!(
            "{} finding{} ({})",
            s.total,
            if s.total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    line.push_str(&format!(
        " in {} file{}",
        report.inputs.len(),
        if report.inputs.len() == 1 { "" } else { "s" }
    ));
    if skipped > 0 {
        line.push_str(&format!(", {skipped} skipped"));
    }
    if !report.errors.is_empty() {
        line.push_str(&format!(
            ", {} unreadable part{}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        ));
    }
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed"));
    }
    let known = report
        .findings
        .iter()
        .filter(|f| report.status(f) == Status::Baseline)
        .count();
    if known > 0 {
        line.push_str(&format!(", {known} in the baseline"));
    }
    if !report.administrators.is_empty() {
        line.push_str(&format!(
            "; declared administrators: {}",
            report.administrators.join(", ")
        ));
    }
    writeln!(out, "{}", st.bold(&line))
}

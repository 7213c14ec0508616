//! Text for people, in triage order: coverage (what could be evaluated), the practice ×
//! severity table, the top causes (the objects behind most findings), then the findings most
//! severe first (with `--baseline`: new ones first, unchanged ones counted, fixed ones listed),
//! each with its why and fix (or one line each with `--compact`).

use crate::common::{namespaces_label, resource_label, step_label, subject_label, top_causes, why};
use crate::{practices, CoverageStatus, Emitter, Format, RenderOptions, Report, Status};
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
    coverage(report, &st, out)?;
    table(report, &st, out)?;
    let mut shown: Vec<&Finding> = report.findings.iter().collect();
    shown.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let open: Vec<&Finding> = shown
        .iter()
        .copied()
        .filter(|f| report.status(f) == Status::Open)
        .collect();
    causes(&open, &st, out)?;

    // Findings: with a baseline, the new ones (and suppressed ones) in full, the unchanged
    // ones counted.
    let (listed, unchanged): (Vec<&Finding>, Vec<&Finding>) = shown
        .iter()
        .partition(|f| report.status(f) != Status::Baseline);
    if !listed.is_empty() {
        let heading = if report.baseline.is_some() {
            "New findings"
        } else {
            "Findings"
        };
        writeln!(out, "{}", st.bold(heading))?;
        for f in &listed {
            if opts.compact {
                finding_line(f, report, &st, out)?;
            } else {
                finding(f, report, &st, out)?;
            }
        }
        writeln!(out)?;
    }
    if let Some(b) = &report.baseline {
        writeln!(
            out,
            "{} {} unchanged finding{} from the baseline {} (not listed)",
            st.bold("Baseline:"),
            unchanged.len(),
            if unchanged.len() == 1 { "" } else { "s" },
            b.file
        )?;
        if b.fixed.is_empty() {
            writeln!(out, "  fixed since the baseline: none")?;
        } else {
            writeln!(out, "  fixed since the baseline ({}):", b.fixed.len())?;
            for k in &b.fixed {
                writeln!(
                    out,
                    "  {} {} {}{}",
                    k.severity.to_uppercase(),
                    k.rule,
                    k.title,
                    if k.resource.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", k.resource)
                    }
                )?;
            }
        }
        writeln!(out)?;
    }
    if !report.hidden.is_empty() {
        let n = report.hidden.len();
        writeln!(
            out,
            "{}",
            st.dim(&format!(
                "{n} finding{} below {} not shown (--min-severity)",
                if n == 1 { "" } else { "s" },
                report.min_severity.map_or("", |s| s.as_str())
            ))
        )?;
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
    summary(report, &st, out)
}

/// The coverage lines: what each selected practice could evaluate.
fn coverage(report: &Report, st: &Style, out: &mut dyn Write) -> io::Result<()> {
    let Some(c) = &report.coverage else {
        return Ok(());
    };
    writeln!(out, "{}", st.bold("Coverage"))?;
    for p in &c.practices {
        let mark = match p.status {
            CoverageStatus::Evaluated => st.dim("  ok  "),
            CoverageStatus::Partial => st.paint("33", "  part"),
            CoverageStatus::NotEvaluated => st.paint("1;31", "  FAIL"),
            CoverageStatus::NotSelected => continue,
        };
        writeln!(out, "{mark} {}", p.summary)?;
    }
    if let Some(l) = &c.collector {
        for f in &l.failures {
            writeln!(
                out,
                "{} collector: failed: {f} ({})",
                st.paint("33", "  warn"),
                l.file
            )?;
        }
    }
    writeln!(out)
}

/// Practice × severity counts of the findings that are not suppressed.
fn table(report: &Report, st: &Style, out: &mut dyn Write) -> io::Result<()> {
    if report.summary.total == 0 {
        return Ok(());
    }
    writeln!(out, "{}", st.bold("Findings by practice and severity"))?;
    let mut head = format!("  {:<18}", "practice");
    for s in Severity::ALL {
        head.push_str(&format!("{:>9}", s.as_str()));
    }
    head.push_str(&format!("{:>7}", "total"));
    writeln!(out, "{}", st.dim(&head))?;
    let counted: Vec<&Finding> = report.all_findings().filter(|f| !f.suppressed).collect();
    let mut col_totals = [0usize; 5];
    for p in practices() {
        let fs: Vec<&&Finding> = counted.iter().filter(|f| f.practice == p).collect();
        if fs.is_empty() {
            continue;
        }
        let mut line = format!("  {:<18}", p.slug());
        for (i, s) in Severity::ALL.into_iter().enumerate() {
            let n = fs.iter().filter(|f| f.severity == s).count();
            if let Some(t) = col_totals.get_mut(i) {
                *t += n;
            }
            let cell = if n == 0 {
                format!("{:>9}", "·")
            } else {
                format!("{n:>9}")
            };
            line.push_str(&cell);
        }
        line.push_str(&format!("{:>7}", fs.len()));
        writeln!(out, "{line}")?;
    }
    let mut line = format!("  {:<18}", "total");
    for n in col_totals {
        line.push_str(&format!("{n:>9}"));
    }
    line.push_str(&format!("{:>7}", counted.len()));
    writeln!(out, "{}", st.bold(&line))?;
    writeln!(out)
}

/// The objects behind most open findings.
fn causes(open: &[&Finding], st: &Style, out: &mut dyn Write) -> io::Result<()> {
    let causes = top_causes(open, 5);
    if causes.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        st.bold("Top causes (fix these objects first: each is behind several findings)")
    )?;
    for c in &causes {
        writeln!(
            out,
            "  {:>3} findings ({})  {}",
            c.findings.len(),
            c.severities(),
            st.bold(&c.label)
        )?;
        writeln!(
            out,
            "      {}",
            st.dim(&format!("rules: {}", c.rules().join(", ")))
        )?;
    }
    writeln!(out)
}

fn status_note(f: &Finding, report: &Report, st: &Style) -> String {
    match report.status(f) {
        Status::Suppressed => st.dim(" (suppressed)"),
        Status::Baseline => st.dim(" (baseline)"),
        Status::Open => String::new(),
    }
}

/// One finding on one line (`--compact`).
fn finding_line(f: &Finding, report: &Report, st: &Style, out: &mut dyn Write) -> io::Result<()> {
    let ns = namespaces_label(f)
        .map(|n| format!(" [{n}]"))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {} {} — {}{ns}: {}{}",
        st.sev(f.severity),
        st.bold(&f.rule),
        f.practice.slug(),
        resource_label(&f.resource),
        f.message,
        status_note(f, report, st)
    )
}

/// One finding in full: what, where, why, fix, evidence. Everything a finding shows is here.
fn finding(f: &Finding, report: &Report, st: &Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  {} {} {}{} {}",
        st.sev(f.severity),
        st.bold(&f.rule),
        f.title,
        status_note(f, report, st),
        st.dim(&format!("[{}]", f.practice.slug()))
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
    writeln!(out, "           {}", st.dim(&format!("id {}", f.id)))
}

/// The last line: counts, files, errors, suppressions, baseline, coverage.
fn summary(report: &Report, st: &Style, out: &mut dyn Write) -> io::Result<()> {
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
    let suppressed = report.all_findings().filter(|f| f.suppressed).count();
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
    if let Some(b) = &report.baseline {
        line.push_str(&format!(
            ", {} in the baseline, {} fixed",
            b.unchanged.len(),
            b.fixed.len()
        ));
    }
    if let Some(c) = &report.coverage {
        let bad = c
            .practices
            .iter()
            .filter(|p| p.status == CoverageStatus::NotEvaluated)
            .count();
        if bad > 0 {
            line.push_str(&format!(
                "; INCOMPLETE: {bad} practice{} not fully evaluated",
                if bad == 1 { "" } else { "s" }
            ));
        }
    }
    if !report.administrators.is_empty() {
        line.push_str(&format!(
            "; declared administrators: {}",
            report.administrators.join(", ")
        ));
    }
    writeln!(out, "{}", st.bold(&line))
}

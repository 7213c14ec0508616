//! Markdown for a pull request or a wiki page: a summary table by practice and severity, then
//! each finding with what it is about, why it matters and how to fix it. Suppressed findings
//! are listed last, folded. Coverage (what could be evaluated) comes first; with a baseline,
//! new findings are listed, unchanged ones counted and fixed ones listed.

use crate::common::{
    namespace_of, namespaces_label, resource_label, step_label, subject_label, top_causes, why,
};
use crate::{practices, CoverageStatus, Emitter, Format, RenderOptions, Report, Status};
use emrguard_model::{Finding, Severity};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub(crate) struct Markdown;

/// Free text: keep code spans, neutralise raw HTML outside them.
pub(crate) fn text(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("`{part}`")
            } else {
                part.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join("")
}

/// Inline code that survives backticks inside.
pub(crate) fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn cell(s: &str) -> String {
    text(s).replace('|', "\\|").replace('\n', " ")
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// One finding as a table row (`--compact`).
fn write_finding_row(out: &mut dyn Write, f: &Finding, report: &Report) -> io::Result<()> {
    let tag = match report.status(f) {
        Status::Open => "",
        Status::Baseline => " *(baseline)*",
        Status::Suppressed => " *(suppressed)*",
    };
    writeln!(
        out,
        "| {} | {} | `{}` | {} | {}{tag} |",
        f.severity,
        f.rule,
        f.practice.slug(),
        cell(&resource_label(&f.resource)),
        cell(&f.message)
    )
}

fn write_finding(out: &mut dyn Write, f: &Finding, report: &Report) -> io::Result<()> {
    let tag = match report.status(f) {
        Status::Open => "",
        Status::Baseline => " *(baseline)*",
        Status::Suppressed => " *(suppressed)*",
    };
    writeln!(
        out,
        "#### {} {} — {}{tag}\n",
        code(&f.severity.as_str().to_uppercase()),
        f.rule,
        text(&f.title)
    )?;
    writeln!(out, "{}\n", text(&f.message))?;
    writeln!(
        out,
        "- **Resource:** {}",
        code(&resource_label(&f.resource))
    )?;
    if let Some(s) = &f.subject {
        writeln!(out, "- **Subject:** {}", code(&subject_label(s)))?;
    }
    if let Some(ns) = namespace_of(f) {
        writeln!(out, "- **Namespace:** {}", code(ns))?;
    }
    if let Some(ns) = namespaces_label(f) {
        writeln!(out, "- **Namespaces:** {}", code(&ns))?;
    }
    if let Some(c) = f.capability {
        writeln!(out, "- **Capability:** {}", code(c.slug()))?;
    }
    if !f.path.is_empty() {
        let steps: Vec<String> = f.path.iter().map(|s| code(&step_label(s))).collect();
        writeln!(out, "- **Evidence:** {}", steps.join(" → "))?;
    }
    for l in &f.locations {
        let line = l.line.map(|n| format!(":{n}")).unwrap_or_default();
        let ptr = l
            .pointer
            .as_deref()
            .map(|p| format!(" {}", code(p)))
            .unwrap_or_default();
        writeln!(out, "- **At:** {}{ptr}", code(&format!("{}{line}", l.file)))?;
    }
    if let Some(s) = report.suppression_of(f) {
        writeln!(
            out,
            "- **Suppressed:** {} ({})",
            text(&s.reason),
            code(&s.source)
        )?;
    }
    writeln!(out, "- **Id:** {}\n", code(&f.id))?;
    if let Some(w) = why(&f.rule) {
        writeln!(out, "**Why it matters:** {}\n", text(&w))?;
    }
    writeln!(out, "**Fix:** {}\n", text(&f.remediation))
}

impl Emitter for Markdown {
    fn format(&self) -> Format {
        Format::Markdown
    }

    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# emrguard report\n")?;
        let s = &report.summary;
        let mut line = if s.total == 0 {
            "**No findings**".to_owned()
        } else {
            let parts: Vec<String> = Severity::ALL
                .iter()
                .filter_map(|sev| {
                    s.by_severity
                        .get(sev.as_str())
                        .map(|n| format!("{n} {sev}"))
                })
                .collect();
            format!("**{}** ({})", plural(s.total, "finding"), parts.join(", "))
        };
        line.push_str(&format!(" in {}", plural(report.inputs.len(), "file")));
        if let Some(a) = &report.account {
            line.push_str(&format!(" · account {}", code(a)));
        }
        if let Some(r) = &report.region {
            line.push_str(&format!(" · region {}", code(r)));
        }
        if let Some(c) = &report.cluster {
            line.push_str(&format!(" · cluster {}", code(c)));
        }
        writeln!(out, "{line}.\n")?;
        let failing = report.failing(opts.fail_on);
        let suppressed = report.findings.iter().filter(|f| f.suppressed).count();
        let known = report
            .findings
            .iter()
            .filter(|f| report.status(f) == Status::Baseline)
            .count();
        let mut notes = vec![format!(
            "{} at or above `{}` fail the check",
            plural(failing, "finding"),
            opts.fail_on_name()
        )];
        if suppressed > 0 {
            notes.push(format!("{suppressed} suppressed"));
        }
        if known > 0 {
            notes.push(format!("{known} already in the baseline"));
        }
        writeln!(out, "{}.\n", notes.join("; "))?;

        if let Some(c) = &report.coverage {
            writeln!(out, "## Coverage\n")?;
            if !c.complete {
                writeln!(
                    out,
                    "> **Incomplete:** not every selected practice could be evaluated, or an input was unreadable; the check fails (exit 2) unless `--allow-partial`.\n"
                )?;
            }
            for p in &c.practices {
                let mark = match p.status {
                    CoverageStatus::Evaluated => "✅",
                    CoverageStatus::Partial => "⚠️",
                    CoverageStatus::NotEvaluated => "❌",
                    CoverageStatus::NotSelected => continue,
                };
                writeln!(out, "- {mark} {}", text(&p.summary))?;
            }
            if let Some(l) = &c.collector {
                for f in &l.failures {
                    writeln!(
                        out,
                        "- ⚠️ collector: failed: {} ({})",
                        code(f),
                        code(&l.file)
                    )?;
                }
            }
            writeln!(out)?;
        }

        // Summary table: practice × severity, counted findings only.
        let mut counts: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for f in report.all_findings().filter(|f| !f.suppressed) {
            let p = practices()
                .iter()
                .position(|p| *p == f.practice)
                .unwrap_or(0);
            let v = Severity::ALL
                .iter()
                .position(|v| *v == f.severity)
                .unwrap_or(0);
            *counts.entry((p, v)).or_default() += 1;
        }
        writeln!(
            out,
            "| practice | critical | high | medium | low | info | total |"
        )?;
        writeln!(out, "|---|--:|--:|--:|--:|--:|--:|")?;
        let mut col_totals = [0usize; 5];
        for (pi, p) in practices().iter().enumerate() {
            let mut row = format!("| `{}` ", p.slug());
            let mut total = 0;
            for (vi, tot) in col_totals.iter_mut().enumerate() {
                let n = counts.get(&(pi, vi)).copied().unwrap_or(0);
                total += n;
                *tot += n;
                row.push_str(&format!(
                    "| {} ",
                    if n == 0 {
                        "·".to_owned()
                    } else {
                        n.to_string()
                    }
                ));
            }
            row.push_str(&format!("| {total} |"));
            writeln!(out, "{row}")?;
        }
        let all: usize = col_totals.iter().sum();
        let cols: Vec<String> = col_totals.iter().map(|n| format!("**{n}**")).collect();
        writeln!(out, "| **total** | {} | **{all}** |\n", cols.join(" | "))?;

        let mut counted: Vec<&Finding> = report.findings.iter().filter(|f| !f.suppressed).collect();
        counted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let open: Vec<&Finding> = counted
            .iter()
            .copied()
            .filter(|f| report.status(f) == Status::Open)
            .collect();
        let causes = top_causes(&open, 5);
        if !causes.is_empty() {
            writeln!(out, "## Top causes\n")?;
            writeln!(out, "| findings | severities | object | rules |")?;
            writeln!(out, "|--:|---|---|---|")?;
            for c in &causes {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    c.findings.len(),
                    c.severities(),
                    code(&c.label),
                    c.rules().join(", ")
                )?;
            }
            writeln!(out)?;
        }
        let (listed, unchanged): (Vec<&Finding>, Vec<&Finding>) = counted
            .iter()
            .partition(|f| report.status(f) != Status::Baseline);
        if !listed.is_empty() {
            let heading = if report.baseline.is_some() {
                "New findings"
            } else {
                "Findings"
            };
            writeln!(out, "## {heading}\n")?;
            if opts.compact {
                writeln!(out, "| severity | rule | practice | resource | message |")?;
                writeln!(out, "|---|---|---|---|---|")?;
                for f in &listed {
                    write_finding_row(out, f, report)?;
                }
                writeln!(out)?;
            } else {
                for f in &listed {
                    write_finding(out, f, report)?;
                }
            }
        }
        if let Some(b) = &report.baseline {
            writeln!(out, "## Baseline\n")?;
            writeln!(
                out,
                "{} unchanged since {} (not listed); {} fixed.\n",
                plural(unchanged.len(), "finding"),
                code(&b.file),
                b.fixed.len()
            )?;
            if !b.fixed.is_empty() {
                writeln!(out, "| fixed | rule | severity | title | resource |")?;
                writeln!(out, "|---|---|---|---|---|")?;
                for k in &b.fixed {
                    writeln!(
                        out,
                        "| {} | {} | {} | {} | {} |",
                        code(&k.id),
                        k.rule,
                        k.severity,
                        cell(&k.title),
                        cell(&k.resource)
                    )?;
                }
                writeln!(out)?;
            }
        }
        if !report.hidden.is_empty() {
            writeln!(
                out,
                "{} below `{}` not shown (`--min-severity`).\n",
                plural(report.hidden.len(), "finding"),
                report.min_severity.map_or("", |s| s.as_str())
            )?;
        }

        let sup: Vec<&Finding> = report.findings.iter().filter(|f| f.suppressed).collect();
        if !sup.is_empty() {
            writeln!(out, "## Suppressed findings\n")?;
            writeln!(
                out,
                "<details><summary>{} suppressed</summary>\n",
                plural(sup.len(), "finding")
            )?;
            writeln!(out, "| rule | severity | resource | reason | source |")?;
            writeln!(out, "|---|---|---|---|---|")?;
            for f in sup {
                let (reason, source) = report
                    .suppression_of(f)
                    .map(|s| (s.reason.clone(), s.source.clone()))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    f.rule,
                    f.severity,
                    cell(&resource_label(&f.resource)),
                    cell(&reason),
                    cell(&source)
                )?;
            }
            writeln!(out, "\n</details>\n")?;
        }
        if !report.errors.is_empty() {
            writeln!(out, "## Unreadable inputs\n")?;
            for e in &report.errors {
                let loc = e
                    .location
                    .as_deref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                writeln!(out, "- {}{loc}: {}", code(&e.file), text(&e.message))?;
            }
            writeln!(out)?;
        }
        if !report.warnings.is_empty() {
            writeln!(out, "## Warnings\n")?;
            for w in &report.warnings {
                writeln!(out, "- {}", text(w))?;
            }
            writeln!(out)?;
        }
        if !report.administrators.is_empty() {
            let admins: Vec<String> = report.administrators.iter().map(|a| code(a)).collect();
            writeln!(
                out,
                "Declared administrators (exempt from `rbac`): {}.\n",
                admins.join(", ")
            )?;
        }
        writeln!(out, "<sub>emrguard {}</sub>", report.tool.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("a <b> `<c>` & d"), "a &lt;b&gt; `<c>` &amp; d");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(cell("a|b"), "a\\|b");
    }
}

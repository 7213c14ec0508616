//! JUnit XML for CI test reports: one test suite per rule that ran, one test case per rule and
//! resource. A case fails when one of its findings is at or above `--fail-on` and neither
//! suppressed nor in the baseline; a case whose findings are all suppressed or known is
//! skipped; a rule without findings is one passing case, unless coverage says it could not run
//! (a required input missing: `<skipped/>` naming the input, never a pass). Unreadable inputs
//! are errors of an extra `inputs` suite; practices that could not be evaluated are errors of a
//! `coverage` suite.

use crate::common::{namespace_of, namespaces_label, resource_label, step_label, subject_label};
use crate::xml::{attr, escape};
use crate::{CoverageStatus, Emitter, Format, RenderOptions, Report, RuleCoverage, Status};
use emrguard_model::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

pub(crate) struct Junit;

struct Case<'a> {
    name: String,
    findings: Vec<&'a Finding>,
}

fn finding_text(f: &Finding, report: &Report) -> String {
    let mut t = String::new();
    let status = match report.status(f) {
        Status::Open => "",
        Status::Baseline => " (baseline)",
        Status::Suppressed => " (suppressed)",
    };
    let _ = writeln!(
        t,
        "{} {} {}{status}",
        f.severity.as_str().to_uppercase(),
        f.rule,
        f.title
    );
    let _ = writeln!(t, "resource: {}", resource_label(&f.resource));
    if let Some(s) = &f.subject {
        let _ = writeln!(t, "subject: {}", subject_label(s));
    }
    if let Some(ns) = namespace_of(f) {
        let _ = writeln!(t, "namespace: {ns}");
    }
    if let Some(ns) = namespaces_label(f) {
        let _ = writeln!(t, "namespaces: {ns}");
    }
    let _ = writeln!(t, "{}", f.message);
    let _ = writeln!(t, "fix: {}", f.remediation);
    if !f.path.is_empty() {
        let steps: Vec<String> = f.path.iter().map(step_label).collect();
        let _ = writeln!(t, "path: {}", steps.join(" -> "));
    }
    for l in &f.locations {
        let line = l.line.map(|n| format!(":{n}")).unwrap_or_default();
        let _ = writeln!(t, "at {}{line}", l.file);
    }
    if let Some(s) = report.suppression_of(f) {
        let _ = writeln!(t, "suppressed: {} ({})", s.reason, s.source);
    }
    let _ = writeln!(t, "id {}", f.id);
    t
}

impl Emitter for Junit {
    fn format(&self) -> Format {
        Format::Junit
    }

    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        let mut rules = report.rules_run();
        rules.sort_by_key(|r| r.meta.id);
        let mut by_rule: BTreeMap<&str, BTreeMap<String, Case<'_>>> = BTreeMap::new();
        for f in &report.findings {
            let case = by_rule
                .entry(f.rule.as_str())
                .or_default()
                .entry(f.resource.key())
                .or_insert_with(|| Case {
                    name: resource_label(&f.resource),
                    findings: Vec::new(),
                });
            case.findings.push(f);
        }
        let mut ids: Vec<(&str, String, &str)> = rules
            .iter()
            .map(|r| (r.meta.id, r.meta.practice.slug().to_owned(), r.meta.title))
            .collect();
        for f in &report.findings {
            if !ids.iter().any(|(id, _, _)| *id == f.rule) {
                ids.push((
                    f.rule.as_str(),
                    f.practice.slug().to_owned(),
                    f.title.as_str(),
                ));
            }
        }
        ids.sort();

        let mut body = String::new();
        let (mut t_tests, mut t_fail, mut t_skip, mut t_err) = (0usize, 0usize, 0usize, 0usize);
        for (id, practice, title) in &ids {
            let classname = format!("emrguard.{practice}.{id}");
            let mut cases = String::new();
            let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
            match by_rule.get(id) {
                None => {
                    tests += 1;
                    match report.coverage.as_ref().and_then(|c| c.rule(id)) {
                        Some(rc) => {
                            skipped += 1;
                            let (name, why) = match rc {
                                RuleCoverage::NotEvaluated(r) => (
                                    format!("{id}: not evaluated"),
                                    format!("not evaluated: {r}"),
                                ),
                                RuleCoverage::Skipped(r) => {
                                    (format!("{id}: nothing to check"), format!("skipped: {r}"))
                                }
                            };
                            let _ = writeln!(
                                cases,
                                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">\n      <skipped message=\"{}\"/>\n    </testcase>",
                                attr(&name),
                                attr(&classname),
                                attr(&why)
                            );
                        }
                        None => {
                            let _ = writeln!(
                                cases,
                                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"/>",
                                attr(&format!("{id}: no findings")),
                                attr(&classname)
                            );
                        }
                    }
                }
                Some(map) => {
                    for case in map.values() {
                        tests += 1;
                        let failing: Vec<&&Finding> = case
                            .findings
                            .iter()
                            .filter(|f| report.status(f) == Status::Open && opts.fails(f.severity))
                            .collect();
                        let all_accepted = case
                            .findings
                            .iter()
                            .all(|f| report.status(f) != Status::Open);
                        let text: String = case
                            .findings
                            .iter()
                            .map(|f| finding_text(f, report))
                            .collect::<Vec<_>>()
                            .join("\n");
                        let _ = writeln!(
                            cases,
                            "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">",
                            attr(&case.name),
                            attr(&classname)
                        );
                        if let Some(first) = failing.first() {
                            failures += 1;
                            let worst = failing
                                .iter()
                                .map(|f| f.severity)
                                .min()
                                .unwrap_or(first.severity);
                            let _ = writeln!(
                                cases,
                                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                                attr(&first.message),
                                worst.as_str(),
                                escape(&text)
                            );
                        } else if all_accepted {
                            skipped += 1;
                            let all =
                                |st: Status| case.findings.iter().all(|f| report.status(f) == st);
                            let why = if all(Status::Suppressed) {
                                "suppressed"
                            } else if all(Status::Baseline) {
                                "in the baseline"
                            } else {
                                "suppressed or in the baseline"
                            };
                            let _ = writeln!(cases, "      <skipped message=\"{}\"/>", attr(why));
                            let _ =
                                writeln!(cases, "      <system-out>{}</system-out>", escape(&text));
                        } else {
                            let _ =
                                writeln!(cases, "      <system-out>{}</system-out>", escape(&text));
                        }
                        let _ = writeln!(cases, "    </testcase>");
                    }
                }
            }
            t_tests += tests;
            t_fail += failures;
            t_skip += skipped;
            let _ = writeln!(
                body,
                "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"0\">",
                attr(&format!("{id} {title}"))
            );
            let _ = writeln!(
                body,
                "    <properties>\n      <property name=\"practice\" value=\"{}\"/>\n    </properties>",
                attr(practice)
            );
            body.push_str(&cases);
            let _ = writeln!(body, "  </testsuite>");
        }
        if !report.errors.is_empty() {
            let n = report.errors.len();
            t_tests += n;
            t_err += n;
            let _ = writeln!(
                body,
                "  <testsuite name=\"inputs\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">"
            );
            for e in &report.errors {
                let loc = e
                    .location
                    .as_deref()
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    body,
                    "    <testcase name=\"{}\" classname=\"emrguard.inputs\" time=\"0\">\n      <error message=\"{}\" type=\"unreadable\"/>\n    </testcase>",
                    attr(&format!("{}{loc}", e.file)),
                    attr(&e.message)
                );
            }
            let _ = writeln!(body, "  </testsuite>");
        }
        if let Some(cov) = &report.coverage {
            let selected: Vec<_> = cov
                .practices
                .iter()
                .filter(|p| p.status != CoverageStatus::NotSelected)
                .collect();
            let collector_failures: Vec<String> = cov
                .collector
                .iter()
                .flat_map(|c| c.failures.iter().map(move |f| format!("{f} ({})", c.file)))
                .collect();
            let n = selected.len() + usize::from(!collector_failures.is_empty());
            let errs = selected
                .iter()
                .filter(|p| p.status == CoverageStatus::NotEvaluated)
                .count();
            t_tests += n;
            t_err += errs;
            let _ = writeln!(
                body,
                "  <testsuite name=\"coverage\" tests=\"{n}\" failures=\"0\" errors=\"{errs}\" skipped=\"0\" time=\"0\">"
            );
            for p in selected {
                let _ = write!(
                    body,
                    "    <testcase name=\"{}\" classname=\"emrguard.coverage\" time=\"0\">",
                    attr(&p.practice)
                );
                if p.status == CoverageStatus::NotEvaluated {
                    let _ = write!(
                        body,
                        "\n      <error message=\"{}\" type=\"not-evaluated\"/>\n    ",
                        attr(&p.summary)
                    );
                } else {
                    let _ = write!(
                        body,
                        "\n      <system-out>{}</system-out>\n    ",
                        escape(&p.summary)
                    );
                }
                let _ = writeln!(body, "</testcase>");
            }
            if !collector_failures.is_empty() {
                let _ = writeln!(
                    body,
                    "    <testcase name=\"collector\" classname=\"emrguard.coverage\" time=\"0\">\n      <system-out>{}</system-out>\n    </testcase>",
                    escape(&format!("collector: failed:\n{}", collector_failures.join("\n")))
                );
            }
            let _ = writeln!(body, "  </testsuite>");
        }
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            out,
            "<testsuites name=\"emrguard\" tests=\"{t_tests}\" failures=\"{t_fail}\" errors=\"{t_err}\" skipped=\"{t_skip}\" time=\"0\">"
        )?;
        out.write_all(body.as_bytes())?;
        writeln!(out, "</testsuites>")
    }
}

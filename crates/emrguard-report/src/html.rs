//! One self-contained HTML page: inline CSS and JavaScript, no fetches (a Content Security
//! Policy forbids them). Coverage first, a summary by practice and severity (each cell a button
//! that filters), the top causes, filters by practice, severity ("and above"), namespace and
//! text, kept in the URL's fragment (`#practice=rbac&severity=high`) so that a filtered view
//! can be shared and survives a reload, and for every finding its evidence chain drawn as
//! boxes joined by arrows (inline SVG), ending at the rule it breaks. Fits a 420 px wide
//! screen: the table's headers shorten, nothing is cut.

use crate::common::{
    namespace_of, namespaces_label, resource_label, subject_label, top_causes, why,
};
use crate::xml::{attr, escape};
use crate::{practices, CoverageStatus, Emitter, Format, RenderOptions, Report, Status};
use emrguard_model::{Finding, PathStep, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

pub(crate) struct Html;

const CSS: &str = r#"
:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;--crit:#8b1a9b;--high:#c9252d;--med:#b35900;--low:#0969da;--info:#59636e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;--crit:#d2a8ff;--high:#ff7b72;--med:#f0883e;--low:#79c0ff;--info:#9198a1}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;padding:24px;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}h3{font-size:15px;margin:0;display:inline}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--card);border:1px solid var(--line);border-radius:4px;padding:0 3px}
.meta{color:var(--muted);margin:0}
table.summary{border-collapse:collapse;margin-top:8px}
table.summary th,table.summary td{border:1px solid var(--line);padding:4px 10px;text-align:right}
table.summary th:first-child{text-align:left}
table.summary td.n button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;width:100%;text-align:right;text-decoration:underline dotted}
table.summary td.n:hover,table.summary td.n:focus-within{outline:2px solid var(--low)}
table.summary .short{display:none}
table.summary td.zero{color:var(--muted)}
#filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;position:sticky;top:0;background:var(--bg);padding:10px 0;border-bottom:1px solid var(--line);z-index:1}
#filters select,#filters input[type=search]{font:inherit;padding:3px 6px;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:6px}
#shown{color:var(--muted);margin-left:auto}
article.finding{border:1px solid var(--line);border-left:6px solid var(--sev);border-radius:8px;padding:12px 16px;margin:12px 0;background:var(--bg)}
.sev-critical{--sev:var(--crit)}.sev-high{--sev:var(--high)}.sev-medium{--sev:var(--med)}.sev-low{--sev:var(--low)}.sev-info{--sev:var(--info)}
.badge{display:inline-block;min-width:70px;text-align:center;font-weight:600;font-size:11px;letter-spacing:.04em;color:#fff;background:var(--sev);border-radius:10px;padding:1px 8px;margin-right:6px}
.tag{font-size:11px;border:1px solid var(--line);border-radius:10px;padding:0 6px;margin-left:6px;color:var(--muted)}
.rule{font-weight:600;margin-right:6px}
.chain{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:10px 0}
.node{display:flex;flex-direction:column;border:1px solid var(--line);background:var(--card);border-radius:6px;padding:4px 8px;max-width:320px}
.node .kind{font-size:10px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.node .name{font-weight:600;overflow-wrap:anywhere}
.node .detail{font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.node.last{border-color:var(--sev);border-width:2px}
.arrow{flex:none;color:var(--muted)}
.fork{display:flex;flex-direction:column;gap:4px;border-left:3px solid var(--muted);padding-left:6px;max-width:100%}
.fork>.label{font-size:10px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
footer{color:var(--muted);margin-top:24px;font-size:12px}
ul.notes li{margin:2px 0}
article.finding,section,li{overflow-wrap:anywhere}
.node{max-width:min(320px,100%)}
ul.coverage{list-style:none;padding:0;margin:0}ul.coverage li{margin:2px 0;padding-left:8px;border-left:4px solid var(--line)}
ul.coverage li.not-evaluated{border-color:var(--high);font-weight:600}ul.coverage li.partial{border-color:var(--med)}ul.coverage li.evaluated{border-color:var(--line);color:var(--muted)}
.incomplete{border:2px solid var(--high);border-radius:6px;padding:6px 10px}
@media (max-width:600px){
body{padding:8px}
table.summary th,table.summary td{padding:2px 4px;font-size:12px}
table.summary .long{display:none}table.summary .short{display:inline}
#filters{gap:6px}#filters label{flex:1 1 45%}#filters select,#filters input[type=search]{width:100%}
#shown{margin-left:0}
article.finding{padding:8px 10px}
dl{grid-template-columns:1fr}dt{margin-top:4px}
}
"#;

const JS: &str = r##"
(function () {
  "use strict";
  var byId = function (id) { return document.getElementById(id); };
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
  // Filter state <-> URL fragment (`#practice=rbac&severity=high&namespace=..&q=..&suppressed=1`).
  var KEYS = { practice: "f-practice", severity: "f-severity", namespace: "f-namespace", q: "f-text" };
  function toHash() {
    var parts = [];
    Object.keys(KEYS).forEach(function (k) {
      var v = byId(KEYS[k]).value;
      if (v) { parts.push(k + "=" + encodeURIComponent(v)); }
    });
    if (byId("f-suppressed").checked) { parts.push("suppressed=1"); }
    var h = parts.length ? "#" + parts.join("&") : " ";
    try { history.replaceState(null, "", h === " " ? location.pathname + location.search : h); } catch (e) { /* file: origins may refuse */ }
  }
  function fromHash() {
    var h = location.hash.replace(/^#/, "");
    if (h.indexOf("=") < 0) { return; }  // a link to a finding, not a filter
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="), k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
      if (KEYS[k]) {
        var el = byId(KEYS[k]);
        if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === v; })) { return; }
        el.value = v;
      } else if (k === "suppressed") { byId("f-suppressed").checked = v === "1"; }
    });
  }
  function apply(keepUrl) {
    var p = byId("f-practice").value, s = byId("f-severity").value, n = byId("f-namespace").value;
    var sup = byId("f-suppressed").checked, q = byId("f-text").value.trim().toLowerCase();
    var shown = 0;
    cards.forEach(function (c) {
      var sevOk = !s || (s.charAt(0) === "=" ? c.dataset.severity === s.slice(1) : RANK[c.dataset.severity] <= RANK[s]);
      var ok = (!p || c.dataset.practice === p) && sevOk &&
        (!n || (" " + c.dataset.namespaces + " ").indexOf(" " + n + " ") >= 0) && (sup || c.dataset.status !== "suppressed") &&
        (!q || c.textContent.toLowerCase().indexOf(q) >= 0);
      c.hidden = !ok;
      if (ok) { shown += 1; }
    });
    byId("shown").textContent = shown + " of " + cards.length + " findings shown";
    byId("empty").hidden = shown !== 0;
    if (!keepUrl) { toHash(); }
  }
  ["f-practice", "f-severity", "f-namespace", "f-suppressed", "f-text"].forEach(function (id) {
    var el = byId(id);
    el.addEventListener("input", function () { apply(); });
    el.addEventListener("change", function () { apply(); });
  });
  // Summary cells: a button each (reachable by Tab, activated by Enter or Space).
  Array.prototype.forEach.call(document.querySelectorAll("td.n"), function (td) {
    td.addEventListener("click", function () {
      byId("f-practice").value = td.dataset.practice || "";
      byId("f-severity").value = td.dataset.severity ? "=" + td.dataset.severity : "";
      apply();
      byId("filters").scrollIntoView();
    });
  });
  window.addEventListener("hashchange", function () { fromHash(); apply(true); });
  fromHash();
  apply(true);
}());
"##;

const ARROW: &str = r#"<svg class="arrow" width="28" height="14" viewBox="0 0 28 14" aria-hidden="true"><path d="M1 7H25M19 2l6 5-6 5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>"#;

/// Text with `code spans` as `<code>`, everything escaped.
fn rich(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

fn node(kind: &str, name: &str, extra: Option<&str>, detail: Option<&str>, last: bool) -> String {
    let mut s = format!(
        "<div class=\"node{}\" role=\"listitem\"><span class=\"kind\">{}</span><span class=\"name\">{}</span>",
        if last { " last" } else { "" },
        escape(kind),
        escape(name)
    );
    if let Some(e) = extra {
        let _ = write!(s, "<span class=\"detail\">{}</span>", escape(e));
    }
    if let Some(d) = detail {
        let _ = write!(s, "<span class=\"detail\">{}</span>", rich(d));
    }
    s.push_str("</div>");
    s
}

/// Alternatives drawn in a fork; the JSON report has them all.
const FORK_SHOWN: usize = 8;

/// A step, or for a fork its alternatives stacked in one branching box.
fn step_node(s: &PathStep) -> String {
    if !s.one_of.is_empty() {
        let mut alts: Vec<String> = s.one_of.iter().take(FORK_SHOWN).map(step_node).collect();
        if s.one_of.len() > FORK_SHOWN {
            alts.push(node(
                &s.kind,
                &format!("{} more", s.one_of.len() - FORK_SHOWN),
                None,
                None,
                false,
            ));
        }
        let label = match &s.detail {
            Some(d) => format!("one of {} · {}", s.name, d),
            None => format!("one of {}", s.name),
        };
        return format!(
            "<div class=\"fork\" role=\"listitem\" aria-label=\"{}\"><span class=\"label\">{}</span><div role=\"list\">{}</div></div>",
            attr(&label),
            escape(&label),
            alts.join("")
        );
    }
    let name = match &s.namespace {
        Some(ns) => format!("{ns}/{}", s.name),
        None => s.name.clone(),
    };
    node(
        &s.kind,
        &name,
        s.arn.as_deref().filter(|a| *a != s.name),
        s.detail.as_deref(),
        false,
    )
}

/// The evidence chain: the path's steps (or the resource when there is none), then the rule.
fn chain(f: &Finding) -> String {
    let mut nodes: Vec<String> = if f.path.is_empty() {
        let r = &f.resource;
        let name = match &r.namespace {
            Some(ns) => format!("{ns}/{}", r.name),
            None => r.name.clone(),
        };
        vec![node(&r.kind, &name, r.arn.as_deref(), None, false)]
    } else {
        f.path.iter().map(step_node).collect()
    };
    let what = match f.capability {
        Some(c) => format!("{} · {}", f.rule, c.slug()),
        None => f.rule.clone(),
    };
    nodes.push(node("rule", &what, Some(&f.title), None, true));
    format!(
        "<div class=\"chain\" role=\"list\" aria-label=\"evidence chain\">{}</div>",
        nodes.join(ARROW)
    )
}

fn card(f: &Finding, report: &Report) -> String {
    let status = report.status(f);
    let (status_name, tag) = match status {
        Status::Open => ("open", String::new()),
        Status::Baseline => ("baseline", "<span class=\"tag\">baseline</span>".to_owned()),
        Status::Suppressed => (
            "suppressed",
            "<span class=\"tag\">suppressed</span>".to_owned(),
        ),
    };
    let ns = namespace_of(f).unwrap_or("");
    // Every namespace the finding holds in, for the namespace filter (names have no spaces).
    let all_ns = if f.namespaces.is_empty() {
        ns.to_owned()
    } else {
        f.namespaces.join(" ")
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<article class=\"finding sev-{sev}\" id=\"{id}\" data-practice=\"{p}\" data-severity=\"{sev}\" data-namespace=\"{ns}\" data-namespaces=\"{all_ns}\" data-status=\"{status_name}\">",
        sev = f.severity.as_str(),
        id = attr(&f.id),
        p = f.practice.slug(),
        ns = attr(ns),
        all_ns = attr(&all_ns),
    );
    let _ = writeln!(
        s,
        "<header><span class=\"badge\">{}</span><span class=\"rule\">{}</span><h3>{}</h3>{tag}</header>",
        f.severity.as_str().to_uppercase(),
        escape(&f.rule),
        escape(&f.title)
    );
    let _ = writeln!(s, "<p>{}</p>", rich(&f.message));
    let _ = writeln!(s, "{}", chain(f));
    s.push_str("<dl>");
    let mut row = |k: &str, v: String| {
        let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
    };
    row(
        "resource",
        format!("<code>{}</code>", escape(&resource_label(&f.resource))),
    );
    if let Some(sub) = &f.subject {
        row(
            "subject",
            format!("<code>{}</code>", escape(&subject_label(sub))),
        );
    }
    if !ns.is_empty() {
        row("namespace", format!("<code>{}</code>", escape(ns)));
    }
    if let Some(label) = namespaces_label(f) {
        // All of them, folded behind the compact form.
        let all: Vec<String> = f
            .namespaces
            .iter()
            .map(|n| format!("<code>{}</code>", escape(n)))
            .collect();
        row(
            "namespaces",
            format!(
                "<details><summary>{}</summary>{}</details>",
                escape(&label),
                all.join(" ")
            ),
        );
    }
    if let Some(vc) = &f.virtual_cluster {
        row("virtual cluster", format!("<code>{}</code>", escape(vc)));
    }
    if let Some(w) = why(&f.rule) {
        row("why", rich(&w));
    }
    row("fix", rich(&f.remediation));
    if let Some(sup) = report.suppression_of(f) {
        row(
            "suppressed",
            format!(
                "{} <span class=\"tag\">{}</span>",
                escape(&sup.reason),
                escape(&sup.source)
            ),
        );
    }
    for l in &f.locations {
        let line = l.line.map(|n| format!(":{n}")).unwrap_or_default();
        let ptr = l
            .pointer
            .as_deref()
            .map(|p| format!(" <code>{}</code>", escape(p)))
            .unwrap_or_default();
        row("at", format!("<code>{}{line}</code>{ptr}", escape(&l.file)));
    }
    row("id", format!("<code>{}</code>", escape(&f.id)));
    s.push_str("</dl>\n</article>\n");
    s
}

impl Emitter for Html {
    fn format(&self) -> Format {
        Format::Html
    }

    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        let mut h = String::with_capacity(64 * 1024 + report.findings.len() * 2048);
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.push_str(
            "<meta name=\"generator\" content=\"emrguard\">\n<title>emrguard report</title>\n",
        );
        let _ = writeln!(h, "<style>{CSS}</style>\n</head>\n<body>");

        // Header line.
        let s = &report.summary;
        let mut meta = if s.total == 0 {
            "No findings".to_owned()
        } else {
            let parts: Vec<String> = Severity::ALL
                .iter()
                .filter_map(|v| s.by_severity.get(v.as_str()).map(|n| format!("{n} {v}")))
                .collect();
            format!(
                "{} finding{} ({})",
                s.total,
                if s.total == 1 { "" } else { "s" },
                parts.join(", ")
            )
        };
        let _ = write!(meta, " in {} files", report.inputs.len());
        for (k, v) in [
            ("account", &report.account),
            ("region", &report.region),
            ("cluster", &report.cluster),
        ] {
            if let Some(v) = v {
                let _ = write!(meta, " · {k} {v}");
            }
        }
        let failing = report.failing(opts.fail_on);
        let _ = write!(
            meta,
            " · {failing} at or above {} fail the check",
            opts.fail_on_name()
        );
        let _ = writeln!(
            h,
            "<header><h1>emrguard report</h1><p class=\"meta\" id=\"meta\">{}</p></header>",
            escape(&meta)
        );

        // Coverage: what could be evaluated.
        if let Some(c) = &report.coverage {
            h.push_str("<section id=\"coverage\"><h2>Coverage</h2>\n");
            if !c.complete {
                h.push_str("<p class=\"incomplete\"><strong>Incomplete:</strong> not every selected practice could be evaluated, or an input was unreadable; the check fails (exit 2) unless <code>--allow-partial</code>.</p>\n");
            }
            h.push_str("<ul class=\"coverage\">");
            for p in &c.practices {
                let class = match p.status {
                    CoverageStatus::Evaluated => "evaluated",
                    CoverageStatus::Partial => "partial",
                    CoverageStatus::NotEvaluated => "not-evaluated",
                    CoverageStatus::NotSelected => continue,
                };
                let _ = write!(
                    h,
                    "<li class=\"{class}\" data-practice=\"{}\">{}</li>",
                    attr(&p.practice),
                    escape(&p.summary)
                );
            }
            if let Some(l) = &c.collector {
                for f in &l.failures {
                    let _ = write!(
                        h,
                        "<li class=\"partial\">collector: failed: <code>{}</code> ({})</li>",
                        escape(f),
                        escape(&l.file)
                    );
                }
            }
            h.push_str("</ul></section>\n");
        }

        // Summary by practice and severity (suppressed findings excluded; every finding,
        // also those below --min-severity).
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for f in report.all_findings().filter(|f| !f.suppressed) {
            *counts
                .entry((f.practice.slug(), f.severity.as_str()))
                .or_default() += 1;
        }
        h.push_str("<section id=\"summary\"><h2>Summary</h2>\n<table class=\"summary\"><thead><tr><th>practice</th>");
        for v in Severity::ALL {
            let short = match v {
                Severity::Critical => "crit",
                Severity::High => "high",
                Severity::Medium => "med",
                Severity::Low => "low",
                Severity::Info => "info",
            };
            let _ = write!(
                h,
                "<th><span class=\"long\">{v}</span><abbr class=\"short\" title=\"{v}\">{short}</abbr></th>"
            );
        }
        h.push_str("<th>total</th></tr></thead><tbody>\n");
        for p in practices() {
            let _ = write!(
                h,
                "<tr><th title=\"{}\">{}</th>",
                attr(p.summary()),
                p.slug()
            );
            let mut total = 0;
            for v in Severity::ALL {
                let n = counts.get(&(p.slug(), v.as_str())).copied().unwrap_or(0);
                total += n;
                if n == 0 {
                    h.push_str("<td class=\"zero\">0</td>");
                } else {
                    let _ = write!(
                        h,
                        "<td class=\"n sev-{v}\" data-practice=\"{p}\" data-severity=\"{v}\"><button type=\"button\" aria-label=\"show the {n} {v} findings of {p}\">{n}</button></td>",
                        p = p.slug()
                    );
                }
            }
            if total == 0 {
                h.push_str("<td class=\"zero\">0</td></tr>\n");
            } else {
                let _ = writeln!(
                    h,
                    "<td class=\"n\" data-practice=\"{p}\" data-severity=\"\"><button type=\"button\" aria-label=\"show the {total} findings of {p}\">{total}</button></td></tr>",
                    p = p.slug()
                );
            }
        }
        h.push_str("</tbody></table></section>\n");

        // Top causes: the objects behind most open findings.
        let open: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| report.status(f) == Status::Open)
            .collect();
        let causes = top_causes(&open, 5);
        if !causes.is_empty() {
            h.push_str("<section id=\"causes\"><h2>Top causes</h2><ul class=\"notes\">");
            for c in &causes {
                let _ = write!(
                    h,
                    "<li><strong>{}</strong> findings ({}) — <code>{}</code> <span class=\"tag\">{}</span></li>",
                    c.findings.len(),
                    escape(&c.severities()),
                    escape(&c.label),
                    escape(&c.rules().join(", "))
                );
            }
            h.push_str("</ul></section>\n");
        }

        // Filters.
        let namespaces: BTreeSet<&str> = report
            .findings
            .iter()
            .flat_map(|f| {
                namespace_of(f)
                    .into_iter()
                    .chain(f.namespaces.iter().map(String::as_str))
            })
            .collect();
        h.push_str("<section id=\"filters\" aria-label=\"filters\">\n<label>practice <select id=\"f-practice\"><option value=\"\">all</option>");
        for p in practices() {
            let _ = write!(h, "<option value=\"{0}\">{0}</option>", p.slug());
        }
        h.push_str("</select></label>\n<label>severity <select id=\"f-severity\"><option value=\"\">all</option><optgroup label=\"at least\">");
        for v in Severity::ALL {
            let label = if v == Severity::Critical {
                "critical".to_owned()
            } else {
                format!("{v} and above")
            };
            let _ = write!(h, "<option value=\"{v}\">{label}</option>");
        }
        h.push_str("</optgroup><optgroup label=\"exactly\">");
        for v in Severity::ALL {
            let _ = write!(h, "<option value=\"={v}\">only {v}</option>");
        }
        h.push_str("</optgroup>");
        h.push_str("</select></label>\n<label>namespace <select id=\"f-namespace\"><option value=\"\">all</option>");
        for ns in &namespaces {
            let _ = write!(h, "<option value=\"{}\">{}</option>", attr(ns), escape(ns));
        }
        h.push_str("</select></label>\n<label><input type=\"checkbox\" id=\"f-suppressed\"> show suppressed</label>\n");
        h.push_str("<label>search <input type=\"search\" id=\"f-text\" placeholder=\"rule, name, text\"></label>\n");
        let visible = report.findings.iter().filter(|f| !f.suppressed).count();
        let _ = writeln!(
            h,
            "<span id=\"shown\">{visible} of {} findings shown</span>\n</section>",
            report.findings.len()
        );

        // Findings.
        h.push_str("<main id=\"findings\">\n");
        // With a baseline, new findings first; then by severity.
        let mut fs: Vec<&Finding> = report.findings.iter().collect();
        fs.sort_by(|a, b| {
            (report.status(a) == Status::Baseline)
                .cmp(&(report.status(b) == Status::Baseline))
                .then_with(|| a.sort_key().cmp(&b.sort_key()))
        });
        for f in fs {
            h.push_str(&card(f, report));
        }
        h.push_str("<p id=\"empty\" hidden>No finding matches the filters.</p>\n</main>\n");

        // Notes.
        let mut notes: Vec<String> = Vec::new();
        for e in &report.errors {
            let loc = e
                .location
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            notes.push(format!(
                "unreadable: <code>{}</code>{} — {}",
                escape(&e.file),
                escape(&loc),
                escape(&e.message)
            ));
        }
        for w in &report.warnings {
            notes.push(format!("warning: {}", rich(w)));
        }
        if let Some(b) = &report.baseline {
            notes.push(format!(
                "baseline <code>{}</code>: {} unchanged, {} new, {} fixed",
                escape(&b.file),
                b.unchanged.len(),
                report
                    .findings
                    .iter()
                    .filter(|f| report.status(f) == Status::Open)
                    .count(),
                b.fixed.len()
            ));
            for k in &b.fixed {
                notes.push(format!(
                    "fixed: {} {} {} — <code>{}</code> <span class=\"tag\">{}</span>",
                    escape(&k.severity.to_uppercase()),
                    escape(&k.rule),
                    escape(&k.title),
                    escape(&k.resource),
                    escape(&k.id)
                ));
            }
        }
        if !report.hidden.is_empty() {
            notes.push(format!(
                "{} findings below {} not shown (--min-severity)",
                report.hidden.len(),
                report.min_severity.map_or("", |s| s.as_str())
            ));
        }
        if !report.administrators.is_empty() {
            notes.push(format!(
                "declared administrators (exempt from rbac): {}",
                escape(&report.administrators.join(", "))
            ));
        }
        if !notes.is_empty() {
            h.push_str("<section id=\"notes\"><h2>Notes</h2><ul class=\"notes\">");
            for n in notes {
                let _ = write!(h, "<li>{n}</li>");
            }
            h.push_str("</ul></section>\n");
        }
        let _ = writeln!(
            h,
            "<footer>emrguard {}</footer>",
            escape(report.tool.version)
        );
        let _ = writeln!(h, "<script>{JS}</script>\n</body>\n</html>");
        out.write_all(h.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_text_escapes_and_codes() {
        assert_eq!(rich("a `<b>` <i>"), "a <code>&lt;b&gt;</code> &lt;i&gt;");
    }
}

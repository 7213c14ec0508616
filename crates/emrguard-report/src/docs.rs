//! The rule catalogue as Markdown: `docs/rules/README.md` (the index, by practice) and one page
//! per rule (`docs/rules/<ID>.md`), generated from each rule's doc comment. The files are
//! checked in; a test fails when they differ from what this module generates.

use emrguard_rules::{registry, RuleMeta};
use std::fmt::Write as _;

/// The command that regenerates `docs/rules/`.
pub const REGENERATE: &str = "cargo run -- rules --format markdown --output-dir docs/rules";

fn banner() -> String {
    format!("<!-- Generated from the rules' doc comments by `{REGENERATE}`. Do not edit. -->\n")
}

fn metas() -> Vec<&'static RuleMeta> {
    let mut v: Vec<&'static RuleMeta> = registry().iter().map(|r| r.meta()).collect();
    v.sort_by_key(|m| m.id);
    v
}

fn facts(m: &RuleMeta, practice_link: &str) -> String {
    format!(
        "| id | name | practice | default severity |\n|---|---|---|---|\n| `{}` | `{}` | [`{}`]({practice_link}#{}) | {} |\n",
        m.id,
        m.name,
        m.practice.slug(),
        m.practice.slug(),
        m.severity
    )
}

/// `docs/rules/<ID>.md`.
pub fn rule_page(m: &RuleMeta) -> String {
    format!(
        "{}\n# {} — {}\n\n{}\n{}",
        banner(),
        m.id,
        m.title,
        facts(m, "README.md"),
        m.documentation()
    )
}

fn practice_tables(out: &mut String, link: &dyn Fn(&RuleMeta) -> String) {
    let all = metas();
    for p in crate::practices() {
        let _ = writeln!(out, "## {}\n\n{}.\n", p.slug(), capitalise(p.summary()));
        let rules: Vec<&&RuleMeta> = all.iter().filter(|m| m.practice == p).collect();
        if rules.is_empty() {
            out.push_str("No rules yet.\n\n");
            continue;
        }
        out.push_str("| rule | default severity | title |\n|---|---|---|\n");
        for m in rules {
            let _ = writeln!(
                out,
                "| [{}]({}) | {} | {} |",
                m.id,
                link(m),
                m.severity,
                m.title
            );
        }
        out.push('\n');
    }
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) => c.to_uppercase().collect::<String>() + cs.as_str(),
        None => String::new(),
    }
}

/// `docs/rules/README.md`: every rule by practice, linked to its page.
pub fn index() -> String {
    let mut out = banner();
    let _ = write!(
        out,
        "\n# Rules\n\nemrguard's {} rules, by practice. Each page is the rule's documentation, also printed by `emrguard explain RULE`. Rule ids are never reused.\n\n",
        registry().len()
    );
    practice_tables(&mut out, &|m| format!("{}.md", m.id));
    out.trim_end().to_owned() + "\n"
}

/// Every generated file: `(file name, content)`, the index first.
pub fn files() -> Vec<(String, String)> {
    let mut v = vec![("README.md".to_owned(), index())];
    v.extend(
        metas()
            .into_iter()
            .map(|m| (format!("{}.md", m.id), rule_page(m))),
    );
    v
}

/// Markdown headings one level deeper (`## x` → `### x`), outside fenced code.
fn demote(doc: &str) -> String {
    let mut fenced = false;
    let mut out = String::with_capacity(doc.len() + 64);
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The whole catalogue as one document (`emrguard rules --format markdown`).
pub fn catalogue() -> String {
    let mut out = String::from("# emrguard rules\n\n");
    practice_tables(&mut out, &|m| format!("#{}", m.id.to_ascii_lowercase()));
    for m in metas() {
        let _ = write!(
            out,
            "---\n\n## {}\n\n**{}**\n\n{}\n{}\n",
            m.id,
            m.title,
            facts(m, ""),
            demote(&m.documentation())
        );
    }
    out.trim_end().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_have_every_section() {
        for (name, text) in files() {
            assert!(text.starts_with("<!-- Generated"), "{name}");
            if name != "README.md" {
                assert!(text.contains("## Remediation"), "{name}");
            }
        }
        let c = catalogue();
        assert!(c.contains("### Remediation"));
        assert!(!c.contains("\n## Remediation"));
    }

    #[test]
    fn demotes_outside_code() {
        assert_eq!(demote("## a\n```\n# b\n```\n"), "### a\n```\n# b\n```\n");
    }
}

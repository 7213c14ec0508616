//! The rule catalogue. One file per rule under `rules/`; each rule's doc comment (*What it
//! checks*, *Why it matters*, *Example*, *Remediation*, *References*) is its user documentation,
//! printed by `emrguard explain` and rendered into `docs/rules/`.
//!
//! Rules read the [`EstateIndex`] (never raw files) through a [`Context`], which also carries the
//! user's configuration.

use emrguard_config::Config;
use emrguard_model::{EstateIndex, Finding, Practice, Severity};
use rayon::prelude::*;

pub mod analysis;
pub mod base36;
pub mod exec_roles;
pub mod iam_evidence;
pub mod infra;
pub mod rbac_support;
mod rules;
mod select;
pub mod submitters;
pub mod trust;
pub mod usage_support;
pub mod util;
pub mod values;

pub use select::{select, Selector, ID_PREFIXES};

/// What a rule is: its id (never reused), practice, default severity, title and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    /// kebab-case name, for SARIF and docs.
    pub name: &'static str,
    pub practice: Practice,
    pub severity: Severity,
    pub title: &'static str,
    /// Markdown, from the rule's doc comment.
    pub doc: &'static str,
}

impl RuleMeta {
    /// The documentation with the doc-comment indentation removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_owned() + "\n"
    }

    /// One section of the documentation (`What it checks`, `Remediation` ...), without heading.
    pub fn section(&self, heading: &str) -> Option<String> {
        let doc = self.documentation();
        let marker = format!("## {heading}");
        let start = doc.find(&marker)? + marker.len();
        let rest = doc.get(start..)?;
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest.get(..end)?.trim().to_owned())
    }
}

/// Everything a rule may read. Engine results ([`Context::iam`]) are computed on first use and
/// shared by every rule of the run.
pub struct Context<'a, 's> {
    pub index: &'a EstateIndex<'s>,
    pub config: &'a Config,
    iam: std::sync::OnceLock<analysis::IamView>,
    rbac: std::sync::OnceLock<analysis::RbacView>,
    exec_roles: std::sync::OnceLock<exec_roles::ExecutionRoles<'s>>,
}

impl<'a, 's> Context<'a, 's> {
    pub fn new(index: &'a EstateIndex<'s>, config: &'a Config) -> Self {
        Context {
            index,
            config,
            iam: std::sync::OnceLock::new(),
            rbac: std::sync::OnceLock::new(),
            exec_roles: std::sync::OnceLock::new(),
        }
    }

    /// Every IAM role and user through the IAM engine (policies, risk classes, tier).
    pub fn iam(&self) -> &analysis::IamView {
        self.iam
            .get_or_init(|| analysis::IamView::build(self.index))
    }

    /// Kubernetes RBAC (with EKS access policies) and the IAM principals behind identities.
    pub fn rbac(&self) -> &analysis::RbacView {
        self.rbac
            .get_or_init(|| analysis::RbacView::build(self.index, self.config))
    }

    /// EMR job execution roles and where each was found ([`exec_roles`]).
    pub fn execution_roles(&self) -> &exec_roles::ExecutionRoles<'s> {
        self.exec_roles
            .get_or_init(|| exec_roles::ExecutionRoles::build(self.index, self.iam()))
    }

    /// Execution roles of the snapshot, with their IAM analysis, that are not administrators
    /// ([`analysis::PrincipalIam::is_administrator`]).
    pub fn non_admin_execution_roles(
        &self,
    ) -> impl Iterator<
        Item = (
            &exec_roles::ExecutionRole<'s>,
            &'s emrguard_model::Located<emrguard_model::aws::iam::Role>,
            &analysis::PrincipalIam,
        ),
    > + '_ {
        let iam = self.iam();
        self.execution_roles()
            .with_roles()
            .filter_map(move |(er, role)| {
                let p = iam.role(&role.arn)?;
                (!p.is_administrator()).then_some((er, role, p))
            })
    }

    /// Builds the shared analyses `rules` read before they run, one after the other, each with
    /// the whole thread pool.
    ///
    /// Two reasons. Speed: left to the first rule that asks, an analysis is built by one thread
    /// while the others, inside rules that need it too, wait on its lock instead of helping.
    /// Safety: an analysis built with `par_iter` inside a rule lets the building thread, while it
    /// waits for its sub-tasks, pick up another queued rule that asks for the same analysis:
    /// a re-entrant `OnceLock` initialisation, which deadlocks. Built here, one at a time, the
    /// only queued jobs are the analysis's own sub-tasks; the order puts each analysis after
    /// those it reads.
    fn prepare(&self, rules: &[&'static dyn Rule]) {
        let iam = rules.iter().any(|r| uses_iam(r.meta().id));
        let rbac = rules.iter().any(|r| uses_rbac(r.meta().id));
        if iam {
            let view = self.iam();
            let exec = self.execution_roles();
            // The execution roles' risk classes (each computed on first use, no inner
            // parallelism, so any thread may compute any of them).
            let roles: Vec<_> = exec.with_roles().collect();
            roles.par_iter().for_each(|(_, role)| {
                if let Some(p) = view.role(&role.arn) {
                    p.report();
                }
            });
            submitters::candidates(self, &[]);
            trust::cached(self, "");
        }
        if rbac {
            self.rbac();
            rbac_support::Submitters::of(self);
        }
    }
}

/// Rules that read the IAM analyses ([`Context::iam`], execution roles, trust analyses,
/// submitter candidates), directly or through a helper module. A test checks every rule's
/// source (and the helpers it names) against this list.
fn uses_iam(id: &str) -> bool {
    id.starts_with("IAM")
        || matches!(
            id,
            "TEN001" | "NODE010" | "POD004" | "POD005" | "POD007" | "POD010"
        )
}

/// Rules that read [`Context::rbac`] (checked like [`uses_iam`]).
fn uses_rbac(id: &str) -> bool {
    id.starts_with("RBAC") && !matches!(id, "RBAC010" | "RBAC020")
}

pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding>;

    /// A finding builder pre-filled with this rule's id, practice, severity and title.
    fn finding(&self, resource: emrguard_model::Ref) -> emrguard_model::FindingBuilder {
        let m = self.meta();
        Finding::builder(m.id, m.practice, m.severity, m.title, resource)
    }
}

/// Declare a rule: a unit struct whose doc comment becomes [`RuleMeta::doc`].
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident;
        id = $id:literal, name = $rname:literal, practice = $practice:ident, severity = $sev:ident,
        title = $title:literal $(,)?
    ) => {
        $(#[doc = $doc])*
        pub struct $name;
        impl $name {
            pub const META: $crate::RuleMeta = $crate::RuleMeta {
                id: $id,
                name: $rname,
                practice: emrguard_model::Practice::$practice,
                severity: emrguard_model::Severity::$sev,
                title: $title,
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}

/// Every rule, in id order.
pub fn registry() -> &'static [&'static dyn Rule] {
    rules::ALL
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    registry()
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(id))
}

/// Run `rules` in parallel; findings come back in a deterministic order, with severity
/// overrides from the config applied.
pub fn run(rules: &[&'static dyn Rule], cx: &Context<'_, '_>) -> Vec<Finding> {
    cx.prepare(rules);
    let mut findings: Vec<Finding> = rules
        .par_iter()
        .flat_map_iter(|r| {
            let mut f = r.check(cx);
            if let Some(sev) = cx.config.severity.get(r.meta().id) {
                for x in &mut f {
                    x.severity = *sev;
                }
            }
            f
        })
        .collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.id == b.id);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prepare` builds what each rule reads: a rule whose source reaches an analysis, directly
    /// or through a helper module (transitively), must be in the matching list. A missing entry
    /// would let the analysis be built inside the rules' parallel loop (see `prepare`).
    /// A source file without its comment lines (doc comments name analyses they do not call).
    fn code(p: &std::path::Path) -> String {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn engine_use_lists_match_the_rule_sources() {
        use std::collections::BTreeMap;
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let iam_markers = [
            "cx.iam()",
            "execution_roles()",
            "candidates(",
            "trust::cached",
        ];
        let rbac_markers = ["cx.rbac()", "Submitters::of"];
        // Helper modules (everything but the rules) by file stem.
        let mut helpers: BTreeMap<String, String> = BTreeMap::new();
        let mut dirs = vec![src.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    if p.file_name().unwrap() != "rules" {
                        dirs.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                    if stem != "lib" && stem != "mod" {
                        helpers.insert(stem, code(&p));
                    }
                }
            }
        }
        // Which helpers reach each kind of analysis, transitively. rbac_support's own IAM use
        // is inside `Submitters::of`, which the RBAC step of `prepare` builds; `analysis`
        // defines the views (naming its types builds nothing).
        let reach = |markers: &[&str], skip: &[&str]| {
            let mut set: Vec<String> = helpers
                .iter()
                .filter(|(k, v)| {
                    !skip.contains(&k.as_str()) && markers.iter().any(|m| v.contains(m))
                })
                .map(|(k, _)| k.clone())
                .collect();
            loop {
                let more: Vec<String> = helpers
                    .iter()
                    .filter(|(k, v)| {
                        !skip.contains(&k.as_str())
                            && !set.contains(k)
                            && set.iter().any(|s| v.contains(&format!("{s}::")))
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                if more.is_empty() {
                    return set;
                }
                set.extend(more);
            }
        };
        let iam_helpers = reach(&iam_markers, &["rbac_support", "analysis"]);
        let rbac_helpers = reach(&rbac_markers, &["analysis"]);
        assert!(iam_helpers.contains(&"creds".to_owned()), "{iam_helpers:?}");
        let mut checked = 0;
        for r in registry() {
            let id = r.meta().id;
            let prefix = format!("{}_", id.to_ascii_lowercase());
            let file = std::fs::read_dir(src.join("rules"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .unwrap_or_else(|| panic!("no source file for {id}"));
            let text = code(&file);
            let names = |set: &[String]| set.iter().any(|h| text.contains(&format!("{h}::")));
            let reads_iam = iam_markers.iter().any(|k| text.contains(k)) || names(&iam_helpers);
            let reads_rbac = rbac_markers.iter().any(|k| text.contains(k)) || names(&rbac_helpers);
            assert!(
                !reads_iam || uses_iam(id),
                "{id} reads the IAM analyses: add it to uses_iam"
            );
            assert!(
                !reads_rbac || uses_rbac(id),
                "{id} reads the RBAC view: add it to uses_rbac"
            );
            checked += 1;
        }
        assert_eq!(checked, registry().len());
    }
}

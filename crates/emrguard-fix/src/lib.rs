//! Remediation: for the findings of a `check`, the change that closes each one, as a reviewer
//! applies it. A [`Plan`] holds one [`Fix`] per cause (a role's trust policy, a binding, a
//! launch template ...), each with the artifacts to apply (policy JSON, manifests, launch-template
//! data), the `aws`/`kubectl` commands (filled in from the snapshot through
//! [`emrguard_rules::values`], the same values the rules' `fix:` texts use), the edits that
//! patch a copy of the snapshot, and what needs a person's decision.
//!
//! Fixers live in [`fixers`], one module per practice; each says in its doc comment why its
//! change is the one a careful engineer would apply. Nothing here runs a command: `apply.sh` is
//! written for a person to read and run.

pub mod fixers;
pub mod output;
pub mod patch;

use emrguard_model::Finding;
use emrguard_rules::values::EstateValues;
use emrguard_rules::Context;
use std::collections::BTreeSet;

pub use patch::{Edit, Op};

/// A file written under the output directory (path relative to it, `/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub contents: String,
}

/// One change that closes one or more findings.
#[derive(Debug, Clone, Default)]
pub struct Fix {
    /// Ids of the findings this change closes (checked by re-running the rules on the patched
    /// snapshot).
    pub findings: Vec<String>,
    /// One line: what changes.
    pub title: String,
    /// More on what changes (README bullets).
    pub details: Vec<String>,
    /// What a person must decide or check before applying.
    pub decisions: Vec<String>,
    pub artifacts: Vec<Artifact>,
    /// Shell commands for `apply.sh`, in order.
    pub commands: Vec<String>,
    /// The same change, on the snapshot copy.
    pub edits: Vec<Edit>,
}

/// A finding no fixer closes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfixed {
    pub finding: String,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub values: Option<EstateValues>,
    pub fixes: Vec<Fix>,
    pub unfixed: Vec<Unfixed>,
    /// Findings the patched snapshot has that the original did not (should be none).
    pub new_findings: Vec<String>,
}

impl Plan {
    /// Ids of every finding some fix claims.
    pub fn claimed(&self) -> BTreeSet<&str> {
        self.fixes
            .iter()
            .flat_map(|f| f.findings.iter().map(String::as_str))
            .collect()
    }
}

/// Keep only the claims a re-check confirms: a claimed finding still in `remaining` moves to
/// [`Plan::unfixed`] (and a fix left with no finding is dropped). The ids moved.
pub fn confirm(plan: &mut Plan, remaining: &BTreeSet<&str>) -> Vec<String> {
    let mut moved = Vec::new();
    for f in &mut plan.fixes {
        let (stay, gone): (Vec<String>, Vec<String>) = f
            .findings
            .drain(..)
            .partition(|id| !remaining.contains(id.as_str()));
        f.findings = stay;
        for id in gone {
            plan.unfixed.push(Unfixed {
                rule: id.split('-').next().unwrap_or_default().to_owned(),
                finding: id.clone(),
                reason: format!(
                    "the change \"{}\" did not close it on the patched snapshot",
                    f.title
                ),
            });
            moved.push(id);
        }
    }
    plan.fixes.retain(|f| !f.findings.is_empty());
    moved
}

/// What fixers read: the rule context (index, config, engines) and the estate's values.
pub struct FixContext<'c, 'a, 's> {
    pub cx: &'c Context<'a, 's>,
    pub values: EstateValues,
    /// Every open finding of the run (fixers coordinate through them, e.g. the trust fixer
    /// drops Pod Identity where the pod-credentials fixer deletes the associations).
    pub findings: Vec<&'c Finding>,
}

/// The plan for `findings` (suppressed ones are left alone).
pub fn plan<'c>(cx: &'c Context<'_, '_>, findings: &'c [Finding]) -> Plan {
    let open: Vec<&Finding> = findings.iter().filter(|f| !f.suppressed).collect();
    let fcx = FixContext {
        cx,
        values: EstateValues::of(cx.index),
        findings: open.clone(),
    };
    let mut fixes = Vec::new();
    for fixer in fixers::ALL {
        let mine: Vec<&Finding> = open
            .iter()
            .copied()
            .filter(|f| fixer.rules.contains(&f.rule.as_str()))
            .collect();
        if !mine.is_empty() {
            fixes.extend((fixer.run)(&fcx, &mine));
        }
    }
    fixes.retain(|f| !f.findings.is_empty());
    let claimed: BTreeSet<String> = fixes
        .iter()
        .flat_map(|f| f.findings.iter().cloned())
        .collect();
    let unfixed = open
        .iter()
        .filter(|f| !claimed.contains(&f.id))
        .map(|f| Unfixed {
            finding: f.id.clone(),
            rule: f.rule.clone(),
            reason: fixers::why_not(&f.rule).to_owned(),
        })
        .collect();
    Plan {
        values: Some(fcx.values),
        fixes,
        unfixed,
        new_findings: Vec::new(),
    }
}

/// Set `v` at `pointer` (`/a/b`, no escapes), creating objects on the way; a non-object on the
/// way is replaced by one (fixers only build their own documents with it).
pub fn put(v: &mut serde_json::Value, pointer: &str, x: serde_json::Value) {
    let mut cur = v;
    let keys: Vec<&str> = pointer.split('/').skip(1).collect();
    let Some((last, parents)) = keys.split_last() else {
        *cur = x;
        return;
    };
    for k in parents {
        if !cur.is_object() {
            *cur = serde_json::Value::Object(Default::default());
        }
        let Some(o) = cur.as_object_mut() else { return };
        cur = o
            .entry((*k).to_owned())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    if !cur.is_object() {
        *cur = serde_json::Value::Object(Default::default());
    }
    if let Some(o) = cur.as_object_mut() {
        o.insert((*last).to_owned(), x);
    }
}

/// Whether `f` is the finding its rule raises with `discriminator`: its id recomputed from its
/// own fields (rule, resource, subject, namespace, capability) and that discriminator. How a
/// fixer tells which part of an object (a policy, a security-group permission) a finding is
/// about without reading its message.
pub fn is_about(f: &Finding, discriminator: &str) -> bool {
    let build = |with_namespace: bool| {
        let mut b = Finding::builder(
            &f.rule,
            f.practice,
            f.severity,
            &f.title,
            f.resource.clone(),
        )
        .discriminator(discriminator);
        if let Some(s) = &f.subject {
            b = b.subject(s.clone());
        }
        if let Some(c) = f.capability {
            b = b.capability(c);
        }
        b = if with_namespace {
            b.namespace(f.namespace.as_deref())
        } else {
            b.namespaces(f.namespaces.clone())
        };
        b.build().id
    };
    build(true) == f.id || build(false) == f.id
}

/// Pretty JSON with a final newline, for artifacts.
pub fn json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// A shell word: quoted with `'...'` unless it is plain.
pub fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A file name from a resource name (`/`, `:` and other separators become `-`).
pub fn file_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_creates_objects_on_the_way() {
        let mut v = serde_json::json!({"a": 1});
        put(&mut v, "/b/c", serde_json::json!(2));
        put(&mut v, "/a", serde_json::json!(3));
        assert_eq!(v, serde_json::json!({"a": 3, "b": {"c": 2}}));
    }

    #[test]
    fn findings_are_told_apart_by_their_discriminator() {
        use emrguard_model::{Kind, Practice, Ref, Severity};
        let f = Finding::builder(
            "NET006",
            Practice::EndpointAccess,
            Severity::High,
            "t",
            Ref::new(Kind::SecurityGroup, "sg-1"),
        )
        .namespace(Some("ns"))
        .discriminator("1:tcp/443")
        .build();
        assert!(is_about(&f, "1:tcp/443"));
        assert!(!is_about(&f, "0:tcp/443"));
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(sh("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh(""), "''");
    }
}

//! Suppressions: accepted findings, each with a reason and an optional expiry, from the config
//! file (`[[suppress]]`) or from the `emrguard.io/ignore` annotation of a Kubernetes object.
//!
//! Matching:
//! - `rule`: a rule id (`RBAC001`), an id prefix (`RBAC`, `NET00`) or a practice slug (`rbac`);
//! - `resource` / `subject`: glob patterns (`*` any run of characters, `/` included; `?` one
//!   character) tried against the ARN, `Kind/namespace/name` (namespaced objects) or
//!   `Kind/name` (others), and, for subjects, the IAM principals mapped onto them;
//! - `namespace`: a glob on the finding's EMR namespace (or its resource's namespace). A
//!   finding about one cause that reaches several EMR namespaces (`namespaces`, e.g. a
//!   ClusterRoleBinding) matches only when the glob matches every one of them: accepting the
//!   exposure in `team-a` must not hide it in `team-b`.
//!
//! An annotation covers only findings about the annotated object: it is their resource, their
//! subject, or a step of their evidence path.
//!
//! Every field given must match. An expired suppression (its `expires` day is before today)
//! suppresses nothing and is reported as an error by the caller.

use crate::date::Date;
use crate::Suppression;
use emrguard_model::{Finding, Ref, Subject};
use std::fmt;

/// The annotation that carries suppressions on a Kubernetes object.
pub const ANNOTATION: &str = "emrguard.io/ignore";

/// `*` matches any run of characters (including `/`), `?` exactly one; everything else is
/// literal and case-sensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

/// True when `pattern` (rule id, id prefix or practice slug, case-insensitive) covers the
/// finding's rule.
pub fn rule_matches(pattern: &str, rule: &str, practice: emrguard_model::Practice) -> bool {
    let p = pattern.trim();
    if p.eq_ignore_ascii_case(practice.slug()) {
        return true;
    }
    let up = p.to_ascii_uppercase();
    !up.is_empty() && rule.to_ascii_uppercase().starts_with(&up)
}

fn ref_names(r: &Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(arn) = &r.arn {
        out.push(arn.clone());
    }
    match &r.namespace {
        Some(ns) => out.push(format!("{}/{ns}/{}", r.kind, r.name)),
        None => out.push(format!("{}/{}", r.kind, r.name)),
    }
    out
}

fn subject_names(s: &Subject) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(arn) = &s.arn {
        out.push(arn.clone());
    }
    match &s.namespace {
        Some(ns) => out.push(format!("{}/{ns}/{}", s.kind, s.name)),
        None => out.push(format!("{}/{}", s.kind, s.name)),
    }
    out.extend(s.iam_principals.iter().cloned());
    out
}

fn is(object: &Ref, kind: &str, namespace: Option<&str>, name: &str) -> bool {
    object.kind == kind && object.name == name && object.namespace.as_deref() == namespace
}

/// `object` is a step of the path (or an alternative of a fork). A finding with several grants
/// (RBAC) cites one in its path: it is about a binding or role only when every grant goes
/// through it, so an annotation on one binding never hides what another binding grants.
fn in_path(f: &Finding, object: &Ref) -> bool {
    let steps = f
        .path
        .iter()
        .flat_map(|s| std::iter::once(s).chain(s.one_of.iter()));
    let mut hit = false;
    for s in steps {
        if is(object, &s.kind, s.namespace.as_deref(), &s.name) {
            hit = true;
            break;
        }
    }
    if !hit || f.grants.len() <= 1 {
        return hit;
    }
    let r = |x: &Ref| is(object, &x.kind, x.namespace.as_deref(), &x.name);
    f.grants
        .iter()
        .all(|g| r(&g.binding) || r(&g.role) || g.aggregated_from.as_ref().is_some_and(r))
}

/// True when the finding is about `object`: it is the finding's resource or subject, or a step
/// of its evidence path (the RoleBinding that grants a permission, the webhook configuration
/// that selects a namespace ...).
pub fn about_object(f: &Finding, object: &Ref) -> bool {
    let r = &f.resource;
    is(object, &r.kind, r.namespace.as_deref(), &r.name)
        || f.subject
            .as_ref()
            .is_some_and(|s| is(object, &s.kind, s.namespace.as_deref(), &s.name))
        || in_path(f, object)
}

/// Where a suppression was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `[[suppress]]` entry of the config file.
    Config { file: String, line: Option<usize> },
    /// The `emrguard.io/ignore` annotation of a Kubernetes object: it may suppress only
    /// findings about that object (see [`about_object`]).
    Annotation {
        object: Ref,
        file: String,
        line: Option<u32>,
    },
}

impl Origin {
    pub fn is_annotation(&self) -> bool {
        matches!(self, Origin::Annotation { .. })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Config {
                file,
                line: Some(l),
            } => write!(f, "{file}:{l}"),
            Origin::Config { file, line: None } => write!(f, "{file}"),
            Origin::Annotation { object, file, line } => {
                write!(f, "annotation {ANNOTATION} on {} ", object.kind)?;
                match &object.namespace {
                    Some(ns) => write!(f, "{ns}/{}", object.name)?,
                    None => write!(f, "{}", object.name)?,
                }
                match line {
                    Some(l) => write!(f, " ({file}:{l})"),
                    None => write!(f, " ({file})"),
                }
            }
        }
    }
}

/// A suppression ready to be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub origin: Origin,
    pub rule: String,
    pub resource: Option<String>,
    pub subject: Option<String>,
    pub namespace: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

impl Active {
    pub fn from_config(file: &str, s: &Suppression) -> Active {
        Active {
            origin: Origin::Config {
                file: file.to_owned(),
                line: s.line,
            },
            rule: s.rule.trim().to_owned(),
            resource: s.resource.clone(),
            subject: s.subject.clone(),
            namespace: s.namespace.clone(),
            reason: s.reason.trim().to_owned(),
            expires: s.expires,
        }
    }

    /// A suppression from an annotation entry on `object`: it covers findings about that
    /// object only.
    pub fn from_annotation(
        object: Ref,
        file: &str,
        line: Option<u32>,
        rule: &str,
        e: &AnnotationEntry,
    ) -> Active {
        Active {
            origin: Origin::Annotation {
                object,
                file: file.to_owned(),
                line,
            },
            rule: rule.to_owned(),
            resource: None,
            subject: None,
            namespace: None,
            reason: e.reason.clone(),
            expires: e.expires,
        }
    }

    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| e < today)
    }

    pub fn matches(&self, f: &Finding) -> bool {
        if !rule_matches(&self.rule, &f.rule, f.practice) {
            return false;
        }
        if let Origin::Annotation { object, .. } = &self.origin {
            if !about_object(f, object) {
                return false;
            }
        }
        if let Some(p) = &self.resource {
            if !ref_names(&f.resource).iter().any(|n| glob_match(p, n)) {
                return false;
            }
        }
        if let Some(p) = &self.subject {
            match &f.subject {
                Some(s) if subject_names(s).iter().any(|n| glob_match(p, n)) => {}
                _ => return false,
            }
        }
        if let Some(p) = &self.namespace {
            if f.namespaces.is_empty() {
                let ns = f.namespace.as_deref().or(f.resource.namespace.as_deref());
                if !ns.is_some_and(|ns| glob_match(p, ns)) {
                    return false;
                }
            } else if !f.namespaces.iter().all(|ns| glob_match(p, ns)) {
                return false;
            }
        }
        true
    }

    /// `rule RBAC001, resource RoleBinding/team-a/*` for messages.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("rule {}", self.rule)];
        if let Some(r) = &self.resource {
            parts.push(format!("resource {r}"));
        }
        if let Some(s) = &self.subject {
            parts.push(format!("subject {s}"));
        }
        if let Some(n) = &self.namespace {
            parts.push(format!("namespace {n}"));
        }
        parts.join(", ")
    }
}

/// One entry of an `emrguard.io/ignore` annotation: `RBAC001[,RBAC002]: reason`, optionally
/// ending with `(expires YYYY-MM-DD)`. Several entries go on separate lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationEntry {
    pub rules: Vec<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

/// Parse an annotation value; each non-empty line is an entry or an error message.
pub fn parse_annotation(value: &str) -> Vec<Result<AnnotationEntry, String>> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(parse_entry)
        .collect()
}

fn parse_entry(line: &str) -> Result<AnnotationEntry, String> {
    let Some((rules, reason)) = line.split_once(':') else {
        return Err(format!(
            "`{line}` has no reason: write `RULE: reason` (a reason is required)"
        ));
    };
    let rules: Vec<String> = rules
        .split(',')
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if rules.is_empty() {
        return Err(format!("`{line}` names no rule: write `RULE: reason`"));
    }
    let mut reason = reason.trim().to_owned();
    let mut expires = None;
    if let Some(open) = reason.rfind("(expires ") {
        let tail = reason.get(open..).unwrap_or("");
        if let Some(inner) = tail
            .strip_prefix("(expires ")
            .and_then(|t| t.strip_suffix(')'))
        {
            expires = Some(Date::parse(inner.trim())?);
            reason = reason.get(..open).unwrap_or("").trim().to_owned();
        }
    }
    if reason.is_empty() {
        return Err(format!(
            "`{line}` has an empty reason: a suppression must say why"
        ));
    }
    Ok(AnnotationEntry {
        rules,
        reason,
        expires,
    })
}

/// What applying suppressions did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Per suppression (same order as given): indices of the findings it matched.
    pub matched: Vec<Vec<usize>>,
    /// Per finding: the suppression that suppressed it (the first that matched).
    pub applied_by: Vec<Option<usize>>,
    /// Indices of expired suppressions (they suppress nothing).
    pub expired: Vec<usize>,
}

/// Mark findings matched by a live suppression as `suppressed`.
pub fn apply(findings: &mut [Finding], sups: &[Active], today: Date) -> Outcome {
    let mut out = Outcome {
        matched: vec![Vec::new(); sups.len()],
        applied_by: vec![None; findings.len()],
        expired: sups
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_expired(today))
            .map(|(i, _)| i)
            .collect(),
    };
    for (fi, f) in findings.iter_mut().enumerate() {
        for (si, s) in sups.iter().enumerate() {
            if s.is_expired(today) || !s.matches(f) {
                continue;
            }
            if let Some(m) = out.matched.get_mut(si) {
                m.push(fi);
            }
            if let Some(slot) = out.applied_by.get_mut(fi) {
                if slot.is_none() {
                    *slot = Some(si);
                    f.suppressed = true;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use emrguard_model::Kind;
    use emrguard_model::{Practice, Severity};

    #[test]
    fn globs() {
        assert!(glob_match("*", ""));
        assert!(glob_match(
            "RoleBinding/team-*/*",
            "RoleBinding/team-a/spark"
        ));
        assert!(glob_match(
            "arn:aws:iam::*:role/emr-*",
            "arn:aws:iam::1:role/emr-x"
        ));
        assert!(!glob_match(
            "arn:aws:iam::*:role/emr-*",
            "arn:aws:iam::1:user/emr-x"
        ));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*b*b", "abxbb"));
        assert!(!glob_match("team-a", "team-ab"));
    }

    fn finding() -> Finding {
        Finding::builder(
            "RBAC001",
            Practice::Rbac,
            Severity::High,
            "t",
            Ref::k8s(Kind::RoleBinding, Some("team-a"), "spark-edit"),
        )
        .namespace(Some("team-a"))
        .subject(Subject {
            kind: "Group".into(),
            name: "spark-submitters".into(),
            namespace: None,
            arn: None,
            iam_principals: vec!["arn:aws:iam::1:role/submitter".into()],
        })
        .build()
    }

    fn sup(rule: &str) -> Active {
        Active::from_config(
            "c.toml",
            &Suppression {
                rule: rule.into(),
                resource: None,
                subject: None,
                namespace: None,
                reason: "r".into(),
                expires: None,
                line: Some(3),
            },
        )
    }

    #[test]
    fn rule_patterns() {
        let f = finding();
        assert!(sup("RBAC001").matches(&f));
        assert!(sup("rbac001").matches(&f));
        assert!(sup("RBAC").matches(&f));
        assert!(sup("rbac").matches(&f));
        assert!(!sup("RBAC002").matches(&f));
        assert!(!sup("NET").matches(&f));
    }

    #[test]
    fn field_patterns() {
        let f = finding();
        let mut s = sup("RBAC001");
        s.resource = Some("RoleBinding/team-*/*".into());
        assert!(s.matches(&f));
        s.subject = Some("arn:aws:iam::*:role/submitter".into());
        assert!(s.matches(&f));
        s.namespace = Some("team-b".into());
        assert!(!s.matches(&f));
        s.namespace = Some("team-?".into());
        assert!(s.matches(&f));
        s.subject = Some("User/*".into());
        assert!(!s.matches(&f));
    }

    #[test]
    fn an_annotated_binding_covers_a_finding_only_when_every_grant_uses_it() {
        let rb = |ns: &str| Ref::k8s(Kind::RoleBinding, Some(ns), "spark-edit");
        let grant = |ns: &str| emrguard_model::GrantRef {
            binding: rb(ns),
            role: Ref::new(Kind::ClusterRole, "edit"),
            aggregated_from: None,
            rule_index: 0,
            rule: "r".into(),
            allows: None,
            cluster_wide: false,
            namespaces: vec![ns.into()],
        };
        let mut f = finding();
        f.resource = Ref::new(Kind::Group, "spark-submitters");
        f.path = vec![
            emrguard_model::PathStep::new(Kind::RoleBinding, "spark-edit")
                .namespace(Some("team-a")),
        ];
        f.grants = vec![grant("team-a")];
        assert!(about_object(&f, &rb("team-a")));
        f.grants.push(grant("team-b"));
        assert!(
            !about_object(&f, &rb("team-a")),
            "team-b's binding still grants"
        );
        // The subject itself is always what the finding is about.
        let s = Ref::new(Kind::Group, "spark-submitters");
        assert!(about_object(&f, &s));
    }

    #[test]
    fn namespace_globs_must_cover_every_namespace_of_a_finding() {
        let mut f = finding();
        f.namespace = None;
        f.namespaces = vec!["team-a".into(), "team-b".into()];
        let mut s = sup("RBAC001");
        s.namespace = Some("team-a".into());
        assert!(!s.matches(&f), "team-a must not hide team-b");
        s.namespace = Some("team-*".into());
        assert!(s.matches(&f));
    }

    #[test]
    fn annotations() {
        let v = parse_annotation(
            "RBAC001: CI deploys from here\nRBAC002, rbac: legacy (expires 2030-01-31)\nbad\nX:",
        );
        assert_eq!(v.len(), 4);
        let a = v[0].as_ref().unwrap();
        assert_eq!(a.rules, ["RBAC001"]);
        assert_eq!(a.reason, "CI deploys from here");
        let b = v[1].as_ref().unwrap();
        assert_eq!(b.rules, ["RBAC002", "rbac"]);
        assert_eq!(b.reason, "legacy");
        assert_eq!(b.expires, Date::new(2030, 1, 31));
        assert!(v[2].is_err());
        assert!(v[3].is_err());

        let f = finding();
        let obj = Ref::k8s(Kind::RoleBinding, Some("team-a"), "spark-edit");
        let s = Active::from_annotation(obj, "rbac.json", Some(4), "RBAC001", a);
        assert!(s.matches(&f));
        let mut via = finding();
        via.resource = Ref::new(Kind::Group, "spark-submitters");
        via.path = vec![
            emrguard_model::PathStep::new(Kind::RoleBinding, "spark-edit")
                .namespace(Some("team-a")),
        ];
        let obj = Ref::k8s(Kind::RoleBinding, Some("team-a"), "spark-edit");
        assert!(Active::from_annotation(obj, "rbac.json", None, "rbac", a).matches(&via));
        via.path.clear();
        let obj = Ref::k8s(Kind::RoleBinding, Some("team-a"), "spark-edit");
        assert!(!Active::from_annotation(obj, "rbac.json", None, "rbac", a).matches(&via));
        let other = Ref::k8s(Kind::RoleBinding, Some("team-b"), "spark-edit");
        let s = Active::from_annotation(other, "rbac.json", Some(4), "RBAC001", a);
        assert!(!s.matches(&f));
        assert!(s
            .origin
            .to_string()
            .contains("RoleBinding team-b/spark-edit"));
    }

    #[test]
    fn apply_marks_and_reports() {
        let mut fs = vec![finding(), finding()];
        fs[1].rule = "RBAC003".into();
        let mut expired = sup("RBAC003");
        expired.expires = Date::new(2020, 1, 1);
        let live = sup("RBAC001");
        let unused = sup("NET001");
        let today = Date::new(2025, 1, 1).unwrap();
        let o = apply(&mut fs, &[expired, live, unused], today);
        assert!(fs[0].suppressed);
        assert!(!fs[1].suppressed, "expired suppressions suppress nothing");
        assert_eq!(o.expired, [0]);
        assert_eq!(o.matched, vec![vec![], vec![0], vec![]]);
        assert_eq!(o.applied_by, vec![Some(1), None]);
        // The expiry day itself is still valid.
        let mut s = sup("RBAC001");
        s.expires = Some(today);
        assert!(!s.is_expired(today));
    }
}

//! Small pieces every format shares: labels, the rule's *why*, namespaces, artifact URIs.

use emrguard_model::{Finding, PathStep, Ref, Subject};
use std::path::{Component, Path, PathBuf};

/// The first paragraph of a rule's *Why it matters*, on one line.
pub fn why(rule: &str) -> Option<String> {
    let meta = emrguard_rules::find(rule)?.meta();
    let s = meta.section("Why it matters")?;
    Some(s.split("\n\n").next().unwrap_or(&s).replace('\n', " "))
}

/// The first paragraph of a rule's *What it checks*, on one line.
pub fn what(meta: &emrguard_rules::RuleMeta) -> String {
    meta.section("What it checks")
        .map(|s| s.split("\n\n").next().unwrap_or(&s).replace('\n', " "))
        .unwrap_or_else(|| meta.title.to_owned())
}

/// `Kind namespace/name` or `Kind name`.
pub fn ref_short(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// `Kind namespace/name (arn)`.
pub fn resource_label(r: &Ref) -> String {
    let base = ref_short(&r.kind, r.namespace.as_deref(), &r.name);
    match &r.arn {
        Some(arn) => format!("{base} ({arn})"),
        None => base,
    }
}

/// `Kind name ← iam principals`.
pub fn subject_label(s: &Subject) -> String {
    let mut line = ref_short(&s.kind, s.namespace.as_deref(), &s.name);
    if !s.iam_principals.is_empty() {
        line.push_str(&format!(" ← {}", s.iam_principals.join(", ")));
    }
    line
}

/// `Kind namespace/name [detail]`; a fork is one step: `IamRole 3 execution roles: one of
/// a, b, c [detail]`.
pub fn step_label(s: &PathStep) -> String {
    let mut t = ref_short(&s.kind, s.namespace.as_deref(), &s.name);
    if !s.one_of.is_empty() {
        let alts: Vec<String> = s
            .one_of
            .iter()
            .map(|a| {
                let mut l = ref_short(&a.kind, a.namespace.as_deref(), &a.name);
                if let Some(arn) = &a.arn {
                    if *arn != a.name {
                        l.push_str(&format!(" ({arn})"));
                    }
                }
                if let Some(d) = &a.detail {
                    l.push_str(&format!(" [{d}]"));
                }
                l
            })
            .collect();
        t.push_str(&format!(": one of {}", alts.join(", ")));
    }
    if let Some(d) = &s.detail {
        t.push_str(&format!(" [{d}]"));
    }
    t
}

/// The namespace a finding is about: its EMR namespace, else its resource's.
pub fn namespace_of(f: &Finding) -> Option<&str> {
    f.namespace.as_deref().or(f.resource.namespace.as_deref())
}

/// Namespaces named before "and N more" in compact listings.
pub const NAMESPACES_SHOWN: usize = 3;

/// The EMR namespaces of a finding about one cause that reaches several, compactly:
/// `spark-a, spark-b, spark-c and 397 more (400 EMR namespaces)`. `None` for a finding with
/// at most one namespace (its `namespace` says it).
pub fn namespaces_label(f: &Finding) -> Option<String> {
    let n = f.namespaces.len();
    if n <= 1 {
        return None;
    }
    let shown: Vec<&str> = f
        .namespaces
        .iter()
        .take(NAMESPACES_SHOWN)
        .map(String::as_str)
        .collect();
    Some(if n > NAMESPACES_SHOWN {
        format!(
            "{} and {} more ({n} EMR namespaces)",
            shown.join(", "),
            n - NAMESPACES_SHOWN
        )
    } else {
        format!("{} ({n} EMR namespaces)", shown.join(", "))
    })
}

/// The fully qualified name of a resource: its ARN, else `Kind/namespace/name`.
pub fn qualified_name(r: &Ref) -> String {
    match (&r.arn, &r.namespace) {
        (Some(arn), _) => arn.clone(),
        (None, Some(ns)) => format!("{}/{ns}/{}", r.kind, r.name),
        (None, None) => format!("{}/{}", r.kind, r.name),
    }
}

/// An object behind several findings: fixing it fixes them all (or most).
pub struct Cause<'a> {
    /// `Kind namespace/name`.
    pub label: String,
    /// The findings it is behind, most severe first.
    pub findings: Vec<&'a Finding>,
}

impl Cause<'_> {
    /// `3 critical, 2 high`.
    pub fn severities(&self) -> String {
        let mut parts = Vec::new();
        for s in emrguard_model::Severity::ALL {
            let n = self.findings.iter().filter(|f| f.severity == s).count();
            if n > 0 {
                parts.push(format!("{n} {s}"));
            }
        }
        parts.join(", ")
    }

    /// The rules of its findings, in order, once each.
    pub fn rules(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.findings.iter().map(|f| f.rule.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The objects behind most of `findings` (their resource, subject, or a step of their evidence
/// path), greedily: the object behind the most findings first, then the one behind the most of
/// the rest, and so on; at most `n`, each behind at least two findings. Deterministic.
pub fn top_causes<'a>(findings: &[&'a Finding], n: usize) -> Vec<Cause<'a>> {
    use std::collections::BTreeMap;
    let objects = |f: &Finding| -> Vec<(String, String)> {
        let mut v = vec![(f.resource.key(), resource_label(&f.resource))];
        if let Some(s) = &f.subject {
            v.push((s.key(), ref_short(&s.kind, s.namespace.as_deref(), &s.name)));
        }
        for p in &f.path {
            let key = match &p.arn {
                Some(a) => a.clone(),
                None => format!(
                    "{}/{}/{}",
                    p.kind,
                    p.namespace.as_deref().unwrap_or(""),
                    p.name
                ),
            };
            v.push((key, ref_short(&p.kind, p.namespace.as_deref(), &p.name)));
        }
        v.sort();
        v.dedup_by(|a, b| a.0 == b.0);
        v
    };
    let per: Vec<Vec<(String, String)>> = findings.iter().map(|f| objects(f)).collect();
    let mut left: Vec<usize> = (0..findings.len()).collect();
    let mut out = Vec::new();
    while out.len() < n && !left.is_empty() {
        let mut count: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for &i in &left {
            for (k, label) in per.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                count.entry(k.as_str()).or_insert((0, label.as_str())).0 += 1;
            }
        }
        let Some((key, (c, label))) = count
            .iter()
            .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then_with(|| b.0.cmp(a.0)))
            .map(|(k, v)| (k.to_string(), *v))
        else {
            break;
        };
        if c < 2 {
            break;
        }
        let label = label.to_owned();
        let (hit, rest): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| per.get(i).is_some_and(|o| o.iter().any(|(k, _)| *k == key)));
        let mut fs: Vec<&Finding> = hit
            .iter()
            .filter_map(|&i| findings.get(i).copied())
            .collect();
        fs.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out.push(Cause {
            label,
            findings: fs,
        });
        left = rest;
    }
    out
}

/// Remove `.` and resolve `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A location's file as a URI reference: relative to `base` when it lies under it (or was
/// given relative), else an absolute `file://` URI. Always `/`-separated and percent-encoded.
pub fn artifact_uri(file: &str, base: Option<&Path>) -> String {
    let path = Path::new(file);
    let rel: Option<PathBuf> = if path.is_absolute() {
        base.and_then(|b| {
            normalize(path)
                .strip_prefix(normalize(b))
                .ok()
                .map(Path::to_path_buf)
        })
    } else {
        Some(normalize(path))
    };
    match rel {
        Some(r) => {
            let s: Vec<String> = r
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            percent_encode(&s.join("/"))
        }
        None => {
            let s = normalize(path).to_string_lossy().replace('\\', "/");
            let s = if s.starts_with('/') {
                s
            } else {
                format!("/{s}")
            };
            format!("file://{}", percent_encode(&s))
        }
    }
}

/// Cut `s` to at most `max` bytes on a character boundary, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use emrguard_model::{Kind, Practice, Severity};

    #[test]
    fn forks_and_namespace_lists() {
        let fork = PathStep::fork(
            Kind::IamRole,
            "2 execution roles",
            vec![
                PathStep::new(Kind::IamRole, "a"),
                PathStep::new(Kind::IamRole, "b").detail("admin"),
            ],
        );
        assert_eq!(
            step_label(&fork),
            "IamRole 2 execution roles: one of IamRole a, IamRole b [admin]"
        );
        let many: Vec<String> = (0..400).map(|i| format!("ns-{i:03}")).collect();
        let f = Finding::builder(
            "RBAC001",
            Practice::Rbac,
            Severity::High,
            "t",
            Ref::new(Kind::Group, "g"),
        )
        .namespaces(many)
        .build();
        assert_eq!(
            namespaces_label(&f).unwrap(),
            "ns-000, ns-001, ns-002 and 397 more (400 EMR namespaces)"
        );
    }

    #[test]
    fn uris() {
        let base = Path::new("/work/repo");
        assert_eq!(
            artifact_uri("/work/repo/crates/x/../../examples/a b.json", Some(base)),
            "examples/a%20b.json"
        );
        assert_eq!(
            artifact_uri("./examples/a.json", Some(base)),
            "examples/a.json"
        );
        assert_eq!(
            artifact_uri("/elsewhere/a.json", Some(base)),
            "file:///elsewhere/a.json"
        );
        assert_eq!(
            artifact_uri("/elsewhere/a.json", None),
            "file:///elsewhere/a.json"
        );
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdef", 5), "ab…");
        assert_eq!(truncate("ééé", 5), "é…");
    }
}

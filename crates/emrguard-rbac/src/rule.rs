//! Precompiled policy rules and the request matcher.
//!
//! The matcher is a port of the API server's `RuleAllows` (`k8s.io/kubernetes`
//! `pkg/apis/rbac/v1/evaluation_helpers.go`): a rule allows a resource request when its verbs,
//! API groups, resources and resource names all match.
//!
//! - `*` in `verbs`, `apiGroups` or `resources` matches anything (for `resources`, also every
//!   subresource: `*` covers `pods/exec`).
//! - `*/scale` matches the `scale` subresource of any resource.
//! - `pods/*` is **not** a wildcard: the API server compares it literally, so it grants nothing
//!   (kubernetes/kubernetes#78936; kubernetes/enhancements#4961 declined it on purpose). The
//!   graph reports such rules as [`crate::IssueKind::IneffectiveWildcard`].
//! - `resourceNames`: an empty list matches every name; otherwise the request must carry one of
//!   the names. A request without a name (`list`, `create`, `deletecollection`) never matches a
//!   name-restricted rule.
//! - `nonResourceURLs` never match resource requests, so they are ignored here.
//!
//! Strings are interned so that matching compares integers. The verbs that the capability checks
//! ask about get fixed ids below 64, so a rule's verb set is mostly one `u64` bitset.

use k8s_openapi::api::rbac::v1::PolicyRule;
use std::collections::HashMap;

/// Verbs interned first, with ids below 64 (bitset fast path). The capability checks only use
/// these; any other verb string goes to the rule's overflow list.
pub(crate) const KNOWN_VERBS: [&str; 15] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "bind",
    "escalate",
    "impersonate",
    "use",
    "approve",
    "sign",
    "proxy",
];

/// A string table: one id per distinct string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    ids: HashMap<Box<str>, u32>,
    len: u32,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.len;
        self.len = self.len.saturating_add(1);
        self.ids.insert(s.into(), id);
        id
    }

    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

/// The interned vocabularies of a graph.
#[derive(Debug, Clone)]
pub(crate) struct Vocab {
    verbs: Interner,
    groups: Interner,
    /// Whole resource strings as written in rules: `pods`, `pods/exec`.
    resources: Interner,
    /// Subresource names from `*/<sub>` rules.
    subresources: Interner,
}

impl Default for Vocab {
    fn default() -> Self {
        let mut verbs = Interner::default();
        for v in KNOWN_VERBS {
            verbs.intern(v);
        }
        Vocab {
            verbs,
            groups: Interner::default(),
            resources: Interner::default(),
            subresources: Interner::default(),
        }
    }
}

/// A rule in matching form.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledRule {
    verbs_all: bool,
    verb_bits: u64,
    verb_extra: Vec<u32>,
    groups_all: bool,
    groups: Vec<u32>,
    res_all: bool,
    res_exact: Vec<u32>,
    res_any_sub: Vec<u32>,
    names: Vec<String>,
}

/// A request in matching form. `None` ids are strings no rule mentions: only wildcards match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CompiledRequest<'a> {
    pub(crate) verb: Option<u32>,
    pub(crate) group: Option<u32>,
    /// `resource` or `resource/subresource`.
    pub(crate) combined: Option<u32>,
    pub(crate) sub: Option<u32>,
    pub(crate) has_sub: bool,
    pub(crate) name: Option<&'a str>,
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

impl Vocab {
    pub(crate) fn compile(&mut self, rule: &PolicyRule) -> CompiledRule {
        let mut c = CompiledRule::default();
        let mut extra = Vec::new();
        for v in &rule.verbs {
            if v == "*" {
                c.verbs_all = true;
                continue;
            }
            let id = self.verbs.intern(v);
            if id < 64 {
                c.verb_bits |= 1u64 << id;
            } else {
                extra.push(id);
            }
        }
        c.verb_extra = sorted(extra);
        let mut groups = Vec::new();
        for g in rule.api_groups.iter().flatten() {
            if g == "*" {
                c.groups_all = true;
            } else {
                groups.push(self.groups.intern(g));
            }
        }
        c.groups = sorted(groups);
        let (mut exact, mut any_sub) = (Vec::new(), Vec::new());
        for r in rule.resources.iter().flatten() {
            if r == "*" {
                c.res_all = true;
            } else if let Some(sub) = r.strip_prefix("*/").filter(|s| !s.is_empty()) {
                any_sub.push(self.subresources.intern(sub));
            } else {
                exact.push(self.resources.intern(r));
            }
        }
        c.res_exact = sorted(exact);
        c.res_any_sub = sorted(any_sub);
        c.names = rule.resource_names.clone().unwrap_or_default();
        c
    }

    /// Compile a request. `subresource` of `Some("")` counts as no subresource, as in the API
    /// server's request attributes.
    pub(crate) fn request<'a>(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        name: Option<&'a str>,
    ) -> CompiledRequest<'a> {
        let sub = subresource.filter(|s| !s.is_empty());
        let combined = match sub {
            Some(s) => self.resources.get(&format!("{resource}/{s}")),
            None => self.resources.get(resource),
        };
        CompiledRequest {
            verb: self.verbs.get(verb),
            group: self.groups.get(group),
            combined,
            sub: sub.and_then(|s| self.subresources.get(s)),
            has_sub: sub.is_some(),
            name,
        }
    }
}

impl CompiledRule {
    pub(crate) fn verb_matches(&self, verb: Option<u32>) -> bool {
        if self.verbs_all {
            return true;
        }
        match verb {
            Some(id) if id < 64 => self.verb_bits & (1u64 << id) != 0,
            Some(id) => self.verb_extra.binary_search(&id).is_ok(),
            None => false,
        }
    }

    fn group_matches(&self, group: Option<u32>) -> bool {
        self.groups_all || group.is_some_and(|g| self.groups.binary_search(&g).is_ok())
    }

    fn resource_matches(&self, req: &CompiledRequest<'_>) -> bool {
        if self.res_all {
            return true;
        }
        if req
            .combined
            .is_some_and(|r| self.res_exact.binary_search(&r).is_ok())
        {
            return true;
        }
        req.has_sub
            && req
                .sub
                .is_some_and(|s| self.res_any_sub.binary_search(&s).is_ok())
    }

    /// Verbs, groups and resources match; resource names not considered.
    pub(crate) fn matches_unnamed(&self, req: &CompiledRequest<'_>) -> bool {
        self.verb_matches(req.verb) && self.group_matches(req.group) && self.resource_matches(req)
    }

    /// The API server's `RuleAllows` for a resource request.
    pub(crate) fn matches(&self, req: &CompiledRequest<'_>) -> bool {
        self.matches_unnamed(req) && self.name_matches(req.name)
    }

    fn name_matches(&self, name: Option<&str>) -> bool {
        if self.names.is_empty() {
            return true;
        }
        let n = name.unwrap_or("");
        self.names.iter().any(|x| x == n)
    }

    /// Restricted to named objects (`resourceNames` non-empty).
    pub(crate) fn restricted(&self) -> bool {
        !self.names.is_empty()
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether the rule could allow `verb` on *some* subresource of `resource` in `group` (used
    /// for `userextras/<key>`, whose key is open-ended): `*`, `*/<x>`, or `resource/<x>`.
    pub(crate) fn matches_some_subresource(
        &self,
        rule: &PolicyRule,
        vocab: &Vocab,
        verb: &str,
        group: &str,
        resource: &str,
    ) -> bool {
        if !self.verb_matches(vocab.verbs.get(verb)) || !self.group_matches(vocab.groups.get(group))
        {
            return false;
        }
        if self.res_all || !self.res_any_sub.is_empty() {
            return true;
        }
        rule.resources.iter().flatten().any(|r| {
            r.strip_prefix(resource)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|s| !s.is_empty())
        })
    }
}

/// `verbs=[get,list] apiGroups=["",apps] resources=[pods] resourceNames=[a]`: the rule as people
/// read it in evidence.
pub(crate) fn rule_text(rule: &PolicyRule) -> String {
    fn list(v: &[String]) -> String {
        let items: Vec<String> = v
            .iter()
            .map(|s| {
                if s.is_empty() {
                    "\"\"".to_owned()
                } else {
                    s.clone()
                }
            })
            .collect();
        format!("[{}]", items.join(","))
    }
    let mut out = format!("verbs={}", list(&rule.verbs));
    if let Some(g) = &rule.api_groups {
        out.push_str(&format!(" apiGroups={}", list(g)));
    }
    if let Some(r) = &rule.resources {
        out.push_str(&format!(" resources={}", list(r)));
    }
    if let Some(n) = rule.resource_names.as_ref().filter(|n| !n.is_empty()) {
        out.push_str(&format!(" resourceNames={}", list(n)));
    }
    if let Some(n) = rule.non_resource_urls.as_ref().filter(|n| !n.is_empty()) {
        out.push_str(&format!(" nonResourceURLs={}", list(n)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PolicyRule {
            verbs: s(verbs),
            api_groups: Some(s(groups)),
            resources: Some(s(resources)),
            resource_names: if names.is_empty() {
                None
            } else {
                Some(s(names))
            },
            non_resource_urls: None,
        }
    }

    fn allows(
        r: &PolicyRule,
        verb: &str,
        group: &str,
        res: &str,
        sub: Option<&str>,
        name: Option<&str>,
    ) -> bool {
        let mut v = Vocab::default();
        let c = v.compile(r);
        c.matches(&v.request(verb, group, res, sub, name))
    }

    #[test]
    fn wildcards_and_subresources() {
        let r = rule(&["*"], &["*"], &["*"], &[]);
        assert!(allows(&r, "create", "", "pods", Some("exec"), None));
        let r = rule(&["create"], &[""], &["pods/exec"], &[]);
        assert!(allows(&r, "create", "", "pods", Some("exec"), None));
        assert!(!allows(&r, "create", "", "pods", None, None));
        assert!(!allows(&r, "get", "", "pods", Some("exec"), None));
        let r = rule(&["update"], &["apps"], &["*/scale"], &[]);
        assert!(allows(
            &r,
            "update",
            "apps",
            "deployments",
            Some("scale"),
            None
        ));
        assert!(!allows(&r, "update", "apps", "deployments", None, None));
        // `pods/*` is literal, as in the API server.
        let r = rule(&["create"], &[""], &["pods/*"], &[]);
        assert!(!allows(&r, "create", "", "pods", Some("exec"), None));
        // Unknown strings only match wildcards.
        let r = rule(&["get"], &[""], &["secrets"], &[]);
        assert!(!allows(&r, "frobnicate", "", "secrets", None, None));
        assert!(!allows(&r, "get", "nope", "secrets", None, None));
    }

    #[test]
    fn resource_names_restrict() {
        let r = rule(&["get"], &[""], &["secrets"], &["my-secret"]);
        assert!(allows(&r, "get", "", "secrets", None, Some("my-secret")));
        assert!(!allows(&r, "get", "", "secrets", None, Some("other")));
        assert!(!allows(&r, "get", "", "secrets", None, None));
    }

    #[test]
    fn verbs_beyond_the_bitset() {
        let mut verbs: Vec<String> = (0..80).map(|i| format!("v{i}")).collect();
        verbs.push("get".into());
        let r = PolicyRule {
            verbs,
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into()]),
            ..Default::default()
        };
        let mut v = Vocab::default();
        let c = v.compile(&r);
        assert!(c.matches(&v.request("v79", "", "pods", None, None)));
        assert!(c.matches(&v.request("get", "", "pods", None, None)));
        assert!(!c.matches(&v.request("list", "", "pods", None, None)));
    }

    #[test]
    fn text() {
        let r = rule(&["get"], &["", "apps"], &["pods"], &["a"]);
        assert_eq!(
            rule_text(&r),
            "verbs=[get] apiGroups=[\"\",apps] resources=[pods] resourceNames=[a]"
        );
    }
}

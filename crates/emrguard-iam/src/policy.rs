//! Parsing and compiling policy documents.
//!
//! [`CompiledPolicy::parse`] never fails: problems become [`PolicyIssue`]s with a JSON pointer,
//! and statements IAM would refuse (no `Effect`, both `Action` and `NotAction`...) are left out
//! of evaluation (the issue says so). Everything else is compiled once: action patterns are
//! lower-cased and resolved to catalogue ids or wildcard matchers, resource patterns to
//! matchers, condition operators parsed and their values precompiled.

use crate::actionset::{ActionId, ActionSet};
use crate::catalogue::Catalogue;
use crate::condition::{validate_value, ConditionBlock, Tri};
use crate::context::{parse_vars, resolve, Context, Part, Resolved};
use crate::glob::Glob;
use crate::issues::{ptr, IssueKind, PolicyIssue};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// What a document is used as; decides which elements are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// Inline or managed identity policy (and permissions boundaries).
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`): `Principal` required, no `Resource`.
    Trust,
    /// A service control policy.
    ServiceControl,
    /// A resource-based policy (bucket policy...): `Principal` and `Resource` required.
    ResourceBased,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// How a statement element matched a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Matched {
    /// This pattern of `Action`/`Resource`/`Principal` matched.
    Pattern(Arc<str>),
    /// The request is not listed in `NotAction`/`NotResource`/`NotPrincipal`.
    NotListed,
    /// The statement has no such element (a trust policy's `Resource`).
    NoElement,
}

impl Matched {
    /// The pattern text, or `NotAction`-style description.
    pub fn describe(&self, element: &str) -> String {
        match self {
            Matched::Pattern(p) => p.to_string(),
            Matched::NotListed => format!("not in Not{element}"),
            Matched::NoElement => format!("no {element} element"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Clause<T> {
    pub negated: bool,
    pub items: Vec<T>,
}

#[derive(Debug, Clone)]
pub(crate) struct ActionPattern {
    pub text: Arc<str>,
    pub lower: Box<str>,
    glob: Glob,
    exact: Option<ActionId>,
}

impl ActionPattern {
    fn new(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        let glob = Glob::new(&lower);
        let exact = if lower.contains(['*', '?']) {
            None
        } else {
            Catalogue::global().lookup(&lower)
        };
        ActionPattern {
            text: text.into(),
            lower: lower.into(),
            glob,
            exact,
        }
    }

    fn matches(&self, q: &ActionQuery<'_>) -> bool {
        match (self.exact, q.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.glob.matches(q.lower),
        }
    }
}

/// An action being decided: lower-cased name and catalogue id.
pub(crate) struct ActionQuery<'a> {
    pub lower: &'a str,
    pub id: Option<ActionId>,
}

#[derive(Debug, Clone)]
pub(crate) struct ResourcePattern {
    pub text: Arc<str>,
    glob: Glob,
    vars: Option<Vec<Part>>,
}

impl ResourcePattern {
    fn new(text: &str, vars_enabled: bool) -> Self {
        let vars = if vars_enabled { parse_vars(text) } else { None };
        ResourcePattern {
            text: text.into(),
            glob: Glob::new(text),
            vars,
        }
    }

    /// True/False, or Unknown with the variable the context lacks.
    fn matches(&self, resource: &str, ctx: &Context) -> (Tri, Option<String>) {
        match &self.vars {
            None => (tri(self.glob.matches(resource)), None),
            Some(parts) => match resolve(parts, ctx, true) {
                Resolved::Tokens(t) => (tri(Glob::from_tokens(&t).matches(resource)), None),
                Resolved::Absent => (Tri::False, None),
                Resolved::Unknown(k) => (Tri::Unknown, Some(k)),
            },
        }
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

/// One entry of `Principal`/`NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"Principal": "*"`.
    Everyone,
    Aws(Arc<str>),
    Service(Arc<str>),
    Federated(Arc<str>),
    CanonicalUser(Arc<str>),
}

impl PrincipalEntry {
    pub(crate) fn text(&self) -> Arc<str> {
        match self {
            PrincipalEntry::Everyone => "*".into(),
            PrincipalEntry::Aws(s)
            | PrincipalEntry::Service(s)
            | PrincipalEntry::Federated(s)
            | PrincipalEntry::CanonicalUser(s) => s.clone(),
        }
    }
}

/// Who asks to assume a role (or calls a resource policy).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrustPrincipal {
    /// An IAM principal ARN (`arn:aws:iam::1:role/x`, `arn:aws:sts::1:assumed-role/x/s`) or an
    /// account id.
    Aws(String),
    /// A service principal (`ec2.amazonaws.com`, `pods.eks.amazonaws.com`).
    Service(String),
    /// An identity provider (`arn:aws:iam::1:oidc-provider/oidc.eks...`, `cognito-identity.amazonaws.com`).
    Federated(String),
    CanonicalUser(String),
    /// An unauthenticated caller.
    Anonymous,
}

fn account_of(arn_or_account: &str) -> Option<&str> {
    if arn_or_account.len() == 12 && arn_or_account.bytes().all(|b| b.is_ascii_digit()) {
        return Some(arn_or_account);
    }
    arn_or_account.split(':').nth(4).filter(|a| !a.is_empty())
}

fn is_account_root(v: &str) -> Option<&str> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v);
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", acct, "root"] => Some(acct),
        _ => None,
    }
}

/// `arn:aws:sts::1:assumed-role/Name/session` -> (`1`, `Name`)
fn assumed_role(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sts", "", acct, res] => {
            let rest = res.strip_prefix("assumed-role/")?;
            let name = rest.split('/').next()?;
            Some((acct, name))
        }
        _ => None,
    }
}

impl PrincipalEntry {
    fn matches(&self, p: &TrustPrincipal) -> bool {
        match (self, p) {
            (PrincipalEntry::Everyone, _) => true,
            (PrincipalEntry::Aws(v), TrustPrincipal::Aws(arn)) => {
                if &**v == "*" || &**v == arn.as_str() {
                    return true;
                }
                if let Some(acct) = is_account_root(v) {
                    return account_of(arn) == Some(acct);
                }
                // A role in the policy matches its sessions.
                if let Some((acct, name)) = assumed_role(arn) {
                    let parts: Vec<&str> = v.splitn(6, ':').collect();
                    if let ["arn", _, "iam", "", vacct, res] = parts.as_slice() {
                        return *vacct == acct
                            && res.starts_with("role/")
                            && res.rsplit('/').next() == Some(name);
                    }
                }
                false
            }
            (PrincipalEntry::Service(v), TrustPrincipal::Service(s)) => {
                &**v == "*" || v.eq_ignore_ascii_case(s)
            }
            (PrincipalEntry::Federated(v), TrustPrincipal::Federated(f)) => {
                &**v == "*" || v.eq_ignore_ascii_case(f)
            }
            (PrincipalEntry::CanonicalUser(v), TrustPrincipal::CanonicalUser(c)) => {
                &**v == "*" || **v == **c
            }
            _ => false,
        }
    }
}

/// Lazily computed action sets of a statement (over the catalogue).
#[derive(Debug, Clone)]
pub(crate) struct StatementSets {
    /// Every catalogue action the statement's `Action`/`NotAction` covers.
    pub actions: ActionSet,
    /// The actions it covers on every resource of their type ("unscoped"; see
    /// [`Catalogue::unscoped_by`]). For `Allow`, actions that take no resource are included
    /// whatever the `Resource`; a `NotResource` statement counts as unscoped.
    pub unscoped: ActionSet,
}

/// A compiled statement.
#[derive(Debug)]
pub struct Statement {
    pub(crate) index: usize,
    pub(crate) pointer: Arc<str>,
    pub(crate) sid: Option<Arc<str>>,
    pub(crate) effect: Effect,
    pub(crate) actions: Clause<ActionPattern>,
    pub(crate) resources: Option<Clause<ResourcePattern>>,
    pub(crate) principals: Option<Clause<PrincipalEntry>>,
    pub(crate) conditions: Vec<ConditionBlock>,
    sets: OnceLock<StatementSets>,
}

impl Statement {
    /// Position in the `Statement` array (0 when `Statement` is a single object).
    pub fn index(&self) -> usize {
        self.index
    }
    /// JSON pointer of the statement in its document.
    pub fn pointer(&self) -> &str {
        &self.pointer
    }
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// (`NotAction`?, patterns as written)
    pub fn action_patterns(&self) -> (bool, Vec<&str>) {
        (
            self.actions.negated,
            self.actions.items.iter().map(|a| &*a.text).collect(),
        )
    }
    /// (`NotResource`?, patterns as written); `None` when there is no resource element.
    pub fn resource_patterns(&self) -> Option<(bool, Vec<&str>)> {
        self.resources
            .as_ref()
            .map(|r| (r.negated, r.items.iter().map(|p| &*p.text).collect()))
    }
    /// (`NotPrincipal`?, `(type, value)` with type `*`, `AWS`, `Service`, `Federated` or
    /// `CanonicalUser`)
    pub fn principals(&self) -> Option<(bool, Vec<(&'static str, &str)>)> {
        self.principals.as_ref().map(|c| {
            (
                c.negated,
                c.items
                    .iter()
                    .map(|e| match e {
                        PrincipalEntry::Everyone => ("*", "*"),
                        PrincipalEntry::Aws(s) => ("AWS", &**s),
                        PrincipalEntry::Service(s) => ("Service", &**s),
                        PrincipalEntry::Federated(s) => ("Federated", &**s),
                        PrincipalEntry::CanonicalUser(s) => ("CanonicalUser", &**s),
                    })
                    .collect(),
            )
        })
    }
    pub fn has_conditions(&self) -> bool {
        !self.conditions.is_empty()
    }
    /// `(operator, key, values)` of each condition, as written.
    pub fn conditions(&self) -> Vec<(&str, &str, Vec<&str>)> {
        self.conditions
            .iter()
            .map(|c| {
                (
                    &*c.op_text,
                    &*c.key,
                    c.values.iter().map(|v| &**v).collect(),
                )
            })
            .collect()
    }

    pub(crate) fn match_action(&self, q: &ActionQuery<'_>) -> Option<Matched> {
        let hit = self.actions.items.iter().find(|p| p.matches(q));
        match (self.actions.negated, hit) {
            (false, Some(p)) => Some(Matched::Pattern(p.text.clone())),
            (false, None) => None,
            (true, Some(_)) => None,
            (true, None) => Some(Matched::NotListed),
        }
    }

    /// Resource match: (result, matched element, unknown variable).
    pub(crate) fn match_resource(
        &self,
        resource: &str,
        ctx: &Context,
    ) -> (Tri, Matched, Option<String>) {
        let Some(clause) = &self.resources else {
            return (Tri::True, Matched::NoElement, None);
        };
        let mut unknown: Option<(Arc<str>, String)> = None;
        let mut hit: Option<Arc<str>> = None;
        for p in &clause.items {
            match p.matches(resource, ctx) {
                (Tri::True, _) => {
                    hit = Some(p.text.clone());
                    break;
                }
                (Tri::Unknown, k) => {
                    if unknown.is_none() {
                        unknown = Some((p.text.clone(), k.unwrap_or_default()));
                    }
                }
                (Tri::False, _) => {}
            }
        }
        match (clause.negated, hit, unknown) {
            (false, Some(p), _) => (Tri::True, Matched::Pattern(p), None),
            (false, None, Some((p, k))) => (Tri::Unknown, Matched::Pattern(p), Some(k)),
            (false, None, None) => (Tri::False, Matched::NoElement, None),
            (true, Some(_), _) => (Tri::False, Matched::NotListed, None),
            (true, None, Some((_, k))) => (Tri::Unknown, Matched::NotListed, Some(k)),
            (true, None, None) => (Tri::True, Matched::NotListed, None),
        }
    }

    pub(crate) fn match_principal(&self, p: &TrustPrincipal) -> Option<Matched> {
        let clause = self.principals.as_ref()?;
        let hit = clause.items.iter().find(|e| e.matches(p));
        match (clause.negated, hit) {
            (false, Some(e)) => Some(Matched::Pattern(e.text())),
            (false, None) => None,
            (true, Some(_)) => None,
            (true, None) => Some(Matched::NotListed),
        }
    }

    /// Evaluate all condition blocks (AND). Unknown blocks are returned by index.
    pub(crate) fn eval_conditions(&self, ctx: &Context) -> (Tri, Vec<usize>) {
        let mut unknown = Vec::new();
        for (i, c) in self.conditions.iter().enumerate() {
            match c.eval(ctx) {
                Tri::False => return (Tri::False, Vec::new()),
                Tri::Unknown => unknown.push(i),
                Tri::True => {}
            }
        }
        if unknown.is_empty() {
            (Tri::True, unknown)
        } else {
            (Tri::Unknown, unknown)
        }
    }

    pub(crate) fn sets(&self) -> &StatementSets {
        self.sets.get_or_init(|| {
            let cat = Catalogue::global();
            let n = cat.len();
            // Exact actions by id; wildcard patterns through the (cached) expansions.
            let mut ids: Vec<u32> = Vec::new();
            let mut wild: Option<Vec<u64>> = None;
            for p in &self.actions.items {
                match p.exact {
                    Some(id) => ids.push(id),
                    None if !p.lower.contains(['*', '?']) => {} // unknown action
                    None => {
                        let set = cat.expand_lower(&p.lower);
                        if set.len() <= 64 {
                            ids.extend(set.iter());
                        } else {
                            set.or_into(wild.get_or_insert_with(|| ActionSet::buffer(n)));
                        }
                    }
                }
            }
            let covered = match wild {
                None => ActionSet::from_ids(ids, n),
                Some(mut bits) => {
                    ActionSet::from_ids(ids, n).or_into(&mut bits);
                    ActionSet::from_buffer(bits, n)
                }
            };
            let actions = if self.actions.negated {
                cat.all().difference(&covered)
            } else {
                covered
            };
            let unscoped = match &self.resources {
                None => ActionSet::empty(n),
                Some(r) if r.negated => actions.clone(),
                Some(r) => {
                    let mask = match r.items.as_slice() {
                        [one] => cat.unscoped_by(&one.text),
                        many => {
                            let mut bits = ActionSet::buffer(n);
                            for p in many {
                                cat.unscoped_by(&p.text).or_into(&mut bits);
                            }
                            ActionSet::from_buffer(bits, n)
                        }
                    };
                    let mut u = actions.intersection(&mask);
                    if self.effect == Effect::Allow {
                        u = u.union(&actions.intersection(cat.unrestrictable()));
                    }
                    u
                }
            };
            StatementSets { actions, unscoped }
        })
    }
}

/// Per-policy unions of statement sets (computed once, shared by every principal).
#[derive(Debug, Clone)]
pub(crate) struct PolicySets {
    pub allow_unscoped: ActionSet,
    pub allow_unscoped_cond: ActionSet,
    pub allow_any: ActionSet,
    pub deny_unscoped: ActionSet,
    pub deny_unscoped_cond: ActionSet,
}

/// A parsed and compiled policy document.
#[derive(Debug)]
pub struct CompiledPolicy {
    kind: PolicyKind,
    version: Option<Box<str>>,
    statements: Vec<Statement>,
    issues: Vec<PolicyIssue>,
    sets: OnceLock<PolicySets>,
}

impl CompiledPolicy {
    /// Parse and compile a policy document. Never fails: see [`CompiledPolicy::issues`].
    pub fn parse(text: &str, kind: PolicyKind) -> CompiledPolicy {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => CompiledPolicy::from_value(&v, kind),
            Err(e) => CompiledPolicy {
                kind,
                version: None,
                statements: Vec::new(),
                issues: vec![PolicyIssue::new(
                    IssueKind::InvalidJson,
                    "",
                    format!("not valid JSON: {e}"),
                )],
                sets: OnceLock::new(),
            },
        }
    }

    /// Compile an already-parsed document.
    pub fn from_value(v: &Value, kind: PolicyKind) -> CompiledPolicy {
        let mut c = Compiler {
            kind,
            issues: Vec::new(),
            vars: false,
        };
        let (version, statements) = c.document(v);
        CompiledPolicy {
            kind,
            version,
            statements,
            issues: c.issues,
            sets: OnceLock::new(),
        }
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The statements that are evaluated (malformed ones are left out; see issues).
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
    pub fn issues(&self) -> &[PolicyIssue] {
        &self.issues
    }
    /// `true` when some issue means IAM would refuse the document.
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(PolicyIssue::is_error)
    }

    pub(crate) fn sets(&self) -> &PolicySets {
        self.sets.get_or_init(|| {
            let n = Catalogue::global().len();
            let mut s = PolicySets {
                allow_unscoped: ActionSet::empty(n),
                allow_unscoped_cond: ActionSet::empty(n),
                allow_any: ActionSet::empty(n),
                deny_unscoped: ActionSet::empty(n),
                deny_unscoped_cond: ActionSet::empty(n),
            };
            for st in &self.statements {
                let ss = st.sets();
                let cond = st.has_conditions();
                match (st.effect, cond) {
                    (Effect::Allow, false) => {
                        s.allow_unscoped = s.allow_unscoped.union(&ss.unscoped);
                        s.allow_any = s.allow_any.union(&ss.actions);
                    }
                    (Effect::Allow, true) => {
                        s.allow_unscoped_cond = s.allow_unscoped_cond.union(&ss.unscoped);
                        s.allow_any = s.allow_any.union(&ss.actions);
                    }
                    (Effect::Deny, false) => s.deny_unscoped = s.deny_unscoped.union(&ss.unscoped),
                    (Effect::Deny, true) => {
                        s.deny_unscoped_cond = s.deny_unscoped_cond.union(&ss.unscoped)
                    }
                }
            }
            s
        })
    }
}

/// Service keys that describe where the caller's credentials come from; AWS sets them on
/// requests to every service, like global keys.
const CROSS_SERVICE_KEYS: &[&str] = &[
    "ec2:sourceinstancearn",
    "ec2:roledelivery",
    "glue:roleassumedby",
    "glue:credentialissuingservice",
    "lambda:sourcefunctionarn",
    "ssm:sourceinstancearn",
];

struct Compiler {
    kind: PolicyKind,
    issues: Vec<PolicyIssue>,
    vars: bool,
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Compiler {
    fn issue(&mut self, kind: IssueKind, pointer: impl Into<String>, message: impl Into<String>) {
        self.issues.push(PolicyIssue::new(kind, pointer, message));
    }

    fn document(&mut self, v: &Value) -> (Option<Box<str>>, Vec<Statement>) {
        let Value::Object(root) = v else {
            self.issue(
                IssueKind::NotAnObject,
                "",
                "a policy document must be a JSON object",
            );
            return (None, Vec::new());
        };
        let version = match root.get("Version") {
            None => {
                self.issue(
                    IssueKind::MissingVersion,
                    "",
                    "no Version: IAM uses 2008-10-17, where policy variables are not substituted",
                );
                None
            }
            Some(Value::String(s)) => {
                if s == "2012-10-17" {
                    self.vars = true;
                } else if s != "2008-10-17" {
                    self.issue(
                        IssueKind::UnknownVersion,
                        "/Version",
                        format!("Version `{s}` is neither 2012-10-17 nor 2008-10-17"),
                    );
                }
                Some(s.as_str().into())
            }
            Some(_) => {
                self.issue(
                    IssueKind::UnknownVersion,
                    "/Version",
                    "Version must be a string",
                );
                None
            }
        };
        for k in root.keys() {
            if !matches!(k.as_str(), "Version" | "Statement" | "Id") {
                self.issue(
                    IssueKind::UnknownElement,
                    format!("/{}", ptr(k)),
                    format!("unknown top-level element `{k}`"),
                );
            }
        }
        let mut statements = Vec::new();
        match root.get("Statement") {
            None => self.issue(IssueKind::MissingStatement, "", "no Statement element"),
            Some(Value::Object(s)) => {
                if let Some(st) = self.statement(s, 0, "/Statement".to_owned()) {
                    statements.push(st);
                }
            }
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let pointer = format!("/Statement/{i}");
                    match item {
                        Value::Object(s) => {
                            if let Some(st) = self.statement(s, i, pointer) {
                                statements.push(st);
                            }
                        }
                        _ => self.issue(
                            IssueKind::StatementNotObject,
                            pointer,
                            "a statement must be a JSON object",
                        ),
                    }
                }
            }
            Some(_) => self.issue(
                IssueKind::StatementNotObject,
                "/Statement",
                "Statement must be an object or an array of objects",
            ),
        }
        (version, statements)
    }

    /// A string or an array of strings; entries with their array index (`None` for a string).
    fn strings(&mut self, v: &Value, pointer: &str, element: &str) -> Vec<(String, Option<usize>)> {
        let kind = match element {
            "Resource" => IssueKind::MalformedArn,
            "Principal" => IssueKind::MalformedPrincipal,
            _ => IssueKind::MalformedAction,
        };
        match v {
            Value::String(s) => vec![(s.clone(), None)],
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push((s.clone(), Some(i))),
                        _ => self.issue(
                            kind,
                            format!("{pointer}/{i}"),
                            format!("{element} entries must be strings"),
                        ),
                    }
                }
                out
            }
            _ => {
                self.issue(
                    kind,
                    pointer,
                    format!("{element} must be a string or an array of strings"),
                );
                Vec::new()
            }
        }
    }

    fn statement(
        &mut self,
        s: &Map<String, Value>,
        index: usize,
        pointer: String,
    ) -> Option<Statement> {
        for k in s.keys() {
            if !STATEMENT_ELEMENTS.contains(&k.as_str()) {
                self.issue(
                    IssueKind::UnknownElement,
                    format!("{pointer}/{}", ptr(k)),
                    format!("unknown statement element `{k}`"),
                );
            }
        }
        let sid = match s.get("Sid") {
            Some(Value::String(x)) => Some(Arc::<str>::from(x.as_str())),
            _ => None,
        };
        let mut ok = true;
        let effect = match s.get("Effect") {
            None => {
                self.issue(
                    IssueKind::MissingEffect,
                    pointer.clone(),
                    "statement has no Effect; it is ignored",
                );
                ok = false;
                Effect::Deny
            }
            Some(Value::String(e)) if e == "Allow" => Effect::Allow,
            Some(Value::String(e)) if e == "Deny" => Effect::Deny,
            Some(Value::String(e))
                if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") =>
            {
                self.issue(
                    IssueKind::InvalidEffect,
                    format!("{pointer}/Effect"),
                    format!("Effect `{e}` must be spelled `Allow` or `Deny`; evaluated as written"),
                );
                if e.eq_ignore_ascii_case("allow") {
                    Effect::Allow
                } else {
                    Effect::Deny
                }
            }
            Some(other) => {
                self.issue(
                    IssueKind::InvalidEffect,
                    format!("{pointer}/Effect"),
                    format!("Effect must be `Allow` or `Deny`, not {other}; statement ignored"),
                );
                ok = false;
                Effect::Deny
            }
        };

        // Action / NotAction
        let actions = match (s.get("Action"), s.get("NotAction")) {
            (Some(_), Some(_)) => {
                self.issue(
                    IssueKind::ActionAndNotAction,
                    pointer.clone(),
                    "statement has both Action and NotAction; it is ignored",
                );
                ok = false;
                None
            }
            (None, None) => {
                self.issue(
                    IssueKind::MissingAction,
                    pointer.clone(),
                    "statement has neither Action nor NotAction; it is ignored",
                );
                ok = false;
                None
            }
            (Some(a), None) => Some((false, a, format!("{pointer}/Action"))),
            (None, Some(a)) => Some((true, a, format!("{pointer}/NotAction"))),
        };
        let actions = actions.map(|(negated, v, p)| {
            let items = self
                .strings(v, &p, "Action")
                .into_iter()
                .map(|(a, idx)| {
                    if let Some((kind, msg)) = check_action(&a) {
                        self.issue(kind, child(&p, idx), msg);
                    }
                    ActionPattern::new(&a)
                })
                .collect();
            Clause { negated, items }
        });

        // Resource / NotResource
        let needs_resource = matches!(
            self.kind,
            PolicyKind::Identity | PolicyKind::ServiceControl | PolicyKind::ResourceBased
        );
        let resources = match (s.get("Resource"), s.get("NotResource")) {
            (Some(_), Some(_)) => {
                self.issue(
                    IssueKind::ResourceAndNotResource,
                    pointer.clone(),
                    "statement has both Resource and NotResource; it is ignored",
                );
                ok = false;
                None
            }
            (None, None) => {
                if needs_resource {
                    self.issue(
                        IssueKind::MissingResource,
                        pointer.clone(),
                        "statement has neither Resource nor NotResource; it is ignored",
                    );
                    ok = false;
                }
                None
            }
            (Some(r), None) => Some((false, r, format!("{pointer}/Resource"))),
            (None, Some(r)) => Some((true, r, format!("{pointer}/NotResource"))),
        };
        let vars = self.vars;
        let resources = resources.map(|(negated, v, p)| {
            let items = self
                .strings(v, &p, "Resource")
                .into_iter()
                .map(|(r, idx)| {
                    if let Some(msg) = check_arn(&r) {
                        self.issue(IssueKind::MalformedArn, child(&p, idx), msg);
                    }
                    ResourcePattern::new(&r, vars)
                })
                .collect();
            Clause { negated, items }
        });

        // Principal / NotPrincipal
        let needs_principal = matches!(self.kind, PolicyKind::Trust | PolicyKind::ResourceBased);
        let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(_), Some(_)) => {
                self.issue(
                    IssueKind::PrincipalAndNotPrincipal,
                    pointer.clone(),
                    "statement has both Principal and NotPrincipal; it is ignored",
                );
                ok = false;
                None
            }
            (None, None) => {
                if needs_principal {
                    self.issue(
                        IssueKind::MissingPrincipal,
                        pointer.clone(),
                        "statement has no Principal; it applies to nobody",
                    );
                    ok = false;
                }
                None
            }
            (Some(p), None) => Some((false, p, format!("{pointer}/Principal"))),
            (None, Some(p)) => Some((true, p, format!("{pointer}/NotPrincipal"))),
        };
        if principals.is_some() && !needs_principal {
            self.issue(
                IssueKind::UnexpectedPrincipal,
                pointer.clone(),
                "Principal is not allowed in an identity policy, boundary or SCP; it is ignored",
            );
        }
        let principals = principals.map(|(negated, v, p)| Clause {
            negated,
            items: self.principal(v, &p),
        });

        // Condition
        let conditions = match s.get("Condition") {
            None => Vec::new(),
            Some(c) => self.conditions(c, &format!("{pointer}/Condition"), vars),
        };

        let actions = actions?;
        if !ok {
            return None;
        }
        self.check_condition_keys(&actions, &conditions, &pointer);
        Some(Statement {
            index,
            pointer: pointer.into(),
            sid,
            effect,
            actions,
            resources,
            principals: if needs_principal { principals } else { None },
            conditions,
            sets: OnceLock::new(),
        })
    }

    fn principal(&mut self, v: &Value, pointer: &str) -> Vec<PrincipalEntry> {
        match v {
            Value::String(s) if s == "*" => vec![PrincipalEntry::Everyone],
            Value::Object(m) => {
                let mut out = Vec::new();
                for (k, vals) in m {
                    let p = format!("{pointer}/{}", ptr(k));
                    let list = self.strings(vals, &p, "Principal");
                    for (val, idx) in list {
                        let arc: Arc<str> = val.as_str().into();
                        let entry = match k.as_str() {
                            "AWS" => {
                                self.check_aws_principal(&val, &child(&p, idx));
                                PrincipalEntry::Aws(arc)
                            }
                            "Service" => PrincipalEntry::Service(arc),
                            "Federated" => PrincipalEntry::Federated(arc),
                            "CanonicalUser" => PrincipalEntry::CanonicalUser(arc),
                            other => {
                                self.issue(
                                    IssueKind::MalformedPrincipal,
                                    p.clone(),
                                    format!("unknown principal type `{other}`"),
                                );
                                break;
                            }
                        };
                        out.push(entry);
                    }
                }
                out
            }
            _ => {
                self.issue(
                    IssueKind::MalformedPrincipal,
                    pointer,
                    "Principal must be \"*\" or an object of AWS/Service/Federated/CanonicalUser",
                );
                Vec::new()
            }
        }
    }

    fn check_aws_principal(&mut self, v: &str, pointer: &str) {
        let account = v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit());
        // Deleted principals show as unique ids (AROA..., AIDA...).
        let unique_id = v.len() >= 16
            && v.starts_with('A')
            && v.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let arn = v.starts_with("arn:") && v.split(':').count() >= 6;
        if v == "*" || account || unique_id {
            return;
        }
        if !arn {
            self.issue(
                IssueKind::MalformedPrincipal,
                pointer,
                format!("`{v}` is not *, an account id or an ARN"),
            );
        } else if v.contains(['*', '?']) {
            self.issue(
                IssueKind::MalformedPrincipal,
                pointer,
                format!(
                    "`{v}`: wildcards are not allowed inside a principal ARN (it matches nothing)"
                ),
            );
        }
    }

    fn conditions(&mut self, v: &Value, pointer: &str, vars: bool) -> Vec<ConditionBlock> {
        let Value::Object(ops) = v else {
            self.issue(
                IssueKind::MalformedCondition,
                pointer,
                "Condition must be an object",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (op, keys) in ops {
            let op_ptr = || format!("{pointer}/{}", ptr(op));
            let Value::Object(keys) = keys else {
                self.issue(
                    IssueKind::MalformedCondition,
                    op_ptr(),
                    format!("`{op}` must map condition keys to values"),
                );
                continue;
            };
            let parsed = crate::condition::Operator::parse(op);
            if parsed.is_none() {
                self.issue(
                    IssueKind::UnknownConditionOperator,
                    op_ptr(),
                    format!("unknown condition operator `{op}`"),
                );
            }
            for (key, vals) in keys {
                let key_ptr = || format!("{}/{}", op_ptr(), ptr(key));
                let mut values: Vec<Box<str>> = Vec::new();
                let mut push = |c: &mut Compiler, x: &Value, i: Option<usize>| match x {
                    Value::String(s) => values.push(s.as_str().into()),
                    Value::Number(n) => values.push(n.to_string().into()),
                    Value::Bool(b) => values.push(b.to_string().into()),
                    _ => c.issue(
                        IssueKind::MalformedCondition,
                        child(&key_ptr(), i),
                        "condition values must be strings, numbers or booleans",
                    ),
                };
                match vals {
                    Value::Array(items) => {
                        for (i, x) in items.iter().enumerate() {
                            push(self, x, Some(i));
                        }
                    }
                    other => push(self, other, None),
                }
                if let Some(o) = parsed {
                    for (i, val) in values.iter().enumerate() {
                        if let Some(msg) = validate_value(o.base, val) {
                            let p = if matches!(vals, Value::Array(_)) {
                                format!("{}/{i}", key_ptr())
                            } else {
                                key_ptr()
                            };
                            self.issue(IssueKind::InvalidConditionValue, p, msg);
                        }
                    }
                }
                out.push(ConditionBlock::new(op, key, values, vars));
            }
        }
        out
    }

    fn check_condition_keys(
        &mut self,
        actions: &Clause<ActionPattern>,
        conditions: &[ConditionBlock],
        pointer: &str,
    ) {
        if conditions.is_empty() {
            return;
        }
        let cat = Catalogue::global();
        for c in conditions {
            let key_ptr = || format!("{pointer}/Condition/{}/{}", ptr(&c.op_text), ptr(&c.key));
            let Some((prefix, _)) = c.key_lower.split_once(':') else {
                self.issue(
                    IssueKind::UnknownConditionKey,
                    key_ptr(),
                    format!("condition key `{}` has no prefix", c.key),
                );
                continue;
            };
            if prefix == "aws" || CROSS_SERVICE_KEYS.contains(&&*c.key_lower) {
                continue;
            }
            if cat.has_service(prefix) {
                // Only when the statement names its actions' services explicitly.
                if actions.negated
                    || actions.items.iter().any(|a| {
                        a.lower
                            .split_once(':')
                            .is_none_or(|(s, _)| s.contains(['*', '?']))
                    })
                {
                    continue;
                }
                let mut any_known = false;
                let mut applies = false;
                'outer: for a in &actions.items {
                    let set = cat.expand_lower(&a.lower);
                    for id in set.iter() {
                        any_known = true;
                        if cat.key_applies_lower(id, &c.key_lower) {
                            applies = true;
                            break 'outer;
                        }
                    }
                }
                if any_known && !applies {
                    self.issue(
                        IssueKind::ConditionKeyNotApplicable,
                        key_ptr(),
                        format!(
                            "condition key `{}` applies to none of the statement's actions",
                            c.key
                        ),
                    );
                }
            } else if !(prefix.contains(['.', '/']) || cat.is_idp_key_prefix(prefix)) {
                self.issue(
                    IssueKind::UnknownConditionKey,
                    key_ptr(),
                    format!("condition key `{}`: `{prefix}` is not a known service or identity provider", c.key),
                );
            }
        }
    }
}

fn child(pointer: &str, idx: Option<usize>) -> String {
    match idx {
        Some(i) => format!("{pointer}/{i}"),
        None => pointer.to_owned(),
    }
}

fn check_action(a: &str) -> Option<(IssueKind, String)> {
    if a == "*" {
        return None;
    }
    let cat = Catalogue::global();
    let malformed = || {
        Some((
            IssueKind::MalformedAction,
            format!("`{a}` is not of the form service:action"),
        ))
    };
    let Some((svc, name)) = a.split_once(':') else {
        return malformed();
    };
    if svc.is_empty() || name.is_empty() {
        return malformed();
    }
    let wild = name.contains(['*', '?']);
    if svc.contains(['*', '?']) {
        if cat.expand(a).is_empty() {
            return Some((
                IssueKind::UnknownAction,
                format!("`{a}` matches no known action"),
            ));
        }
        return None;
    }
    if !cat.has_service(svc) {
        return Some((
            IssueKind::UnknownService,
            format!("unknown service prefix `{svc}` in `{a}`"),
        ));
    }
    let known = if wild {
        !cat.expand(a).is_empty()
    } else {
        cat.lookup(a).is_some()
    };
    if known {
        None
    } else if wild {
        Some((
            IssueKind::UnknownAction,
            format!("`{a}` matches no known action"),
        ))
    } else {
        Some((
            IssueKind::UnknownAction,
            format!("`{a}` is not a known action"),
        ))
    }
}

fn check_arn(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    // Colons inside `${...}` do not separate components.
    let mut depth = 0usize;
    let mut colons = 0usize;
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'{') => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ':' if depth == 0 => colons += 1,
            _ => {}
        }
    }
    let partition_ok = r
        .split(':')
        .nth(1)
        .is_some_and(|p| p.starts_with("aws") || p.contains(['*', '?']) || p.starts_with("${"));
    if !r.starts_with("arn:") || colons < 5 || !partition_ok {
        Some(format!(
            "`{r}` is not `*` or an ARN (arn:partition:service:region:account:resource)"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(p: &CompiledPolicy) -> Vec<(IssueKind, String)> {
        p.issues()
            .iter()
            .map(|i| (i.kind, i.pointer.clone()))
            .collect()
    }

    #[test]
    fn statement_object_or_array() {
        let one = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
            PolicyKind::Identity,
        );
        assert_eq!(one.statements().len(), 1);
        assert!(one.issues().is_empty(), "{:?}", one.issues());
        let arr = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b"}]}"#,
            PolicyKind::Identity,
        );
        let st = &arr.statements()[0];
        assert_eq!(st.sid(), Some("a"));
        assert_eq!(st.effect(), Effect::Deny);
        assert_eq!(st.action_patterns(), (true, vec!["s3:*"]));
        assert_eq!(st.resource_patterns(), Some((true, vec!["arn:aws:s3:::b"])));
    }

    #[test]
    fn issues_are_located() {
        let p = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObject","s3:GetObjekt","nosuch:Thing","bad"],"Resource":["*","arn:aws:s3"]},
                "oops",
                {"Action":"s3:GetObject","Resource":"*"},
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}},
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"ec2:InstanceType":"x","emr-containers:ExecutionRoleArn":"y"}}},
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"abc"}}}
            ]}"#,
            PolicyKind::Identity,
        );
        let k = kinds(&p);
        assert!(
            k.contains(&(IssueKind::UnknownAction, "/Statement/0/Action/1".into())),
            "{k:?}"
        );
        assert!(k.contains(&(IssueKind::UnknownService, "/Statement/0/Action/2".into())));
        assert!(k.contains(&(IssueKind::MalformedAction, "/Statement/0/Action/3".into())));
        assert!(k.contains(&(IssueKind::MalformedArn, "/Statement/0/Resource/1".into())));
        assert!(k.contains(&(IssueKind::StatementNotObject, "/Statement/1".into())));
        assert!(k.contains(&(IssueKind::MissingEffect, "/Statement/2".into())));
        assert!(k.contains(&(
            IssueKind::UnknownConditionOperator,
            "/Statement/3/Condition/StringEqualz".into()
        )));
        assert!(k.contains(&(
            IssueKind::ConditionKeyNotApplicable,
            "/Statement/4/Condition/StringEquals/ec2:InstanceType".into()
        )));
        assert!(k.contains(&(
            IssueKind::ConditionKeyNotApplicable,
            "/Statement/4/Condition/StringEquals/emr-containers:ExecutionRoleArn".into()
        )));
        assert!(k.contains(&(
            IssueKind::InvalidConditionValue,
            "/Statement/5/Condition/NumericLessThan/aws:MultiFactorAuthAge".into()
        )));
        // statement 2 (no Effect) and 1 (not an object) are not evaluated
        assert_eq!(p.statements().len(), 4);
        assert!(p.has_errors());
    }

    #[test]
    fn invalid_json_and_root() {
        let p = CompiledPolicy::parse("{nope", PolicyKind::Identity);
        assert_eq!(p.issues()[0].kind, IssueKind::InvalidJson);
        let p = CompiledPolicy::parse("[]", PolicyKind::Identity);
        assert_eq!(p.issues()[0].kind, IssueKind::NotAnObject);
        let p = CompiledPolicy::parse(r#"{"Statement":[]}"#, PolicyKind::Identity);
        assert_eq!(p.issues()[0].kind, IssueKind::MissingVersion);
        assert!(!p.has_errors());
    }

    #[test]
    fn trust_principals() {
        let p = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/x"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            PolicyKind::Trust,
        );
        assert!(p.issues().is_empty(), "{:?}", p.issues());
        let st = &p.statements()[0];
        let m = |tp: TrustPrincipal| st.match_principal(&tp).is_some();
        assert!(m(TrustPrincipal::Aws(
            "arn:aws:iam::111122223333:user/bob".into()
        )));
        assert!(m(TrustPrincipal::Aws(
            "arn:aws:iam::444455556666:role/x".into()
        )));
        assert!(m(TrustPrincipal::Aws(
            "arn:aws:sts::444455556666:assumed-role/x/sess".into()
        )));
        assert!(!m(TrustPrincipal::Aws(
            "arn:aws:iam::444455556666:role/y".into()
        )));
        assert!(m(TrustPrincipal::Service("ec2.amazonaws.com".into())));
        assert!(!m(TrustPrincipal::Service("lambda.amazonaws.com".into())));
        let missing = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}"#,
            PolicyKind::Trust,
        );
        assert_eq!(missing.issues()[0].kind, IssueKind::MissingPrincipal);
    }

    #[test]
    fn idp_condition_keys_are_accepted() {
        let p = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"oidc.eks.us-west-2.amazonaws.com/id/ABC:sub":"system:serviceaccount:ns:*"}}}]}"#,
            PolicyKind::Trust,
        );
        assert!(p.issues().is_empty(), "{:?}", p.issues());
    }

    #[test]
    fn statement_sets() {
        let cat = Catalogue::global();
        let p = CompiledPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObject","iam:PassRole","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"},
                {"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        let s0 = p.statements()[0].sets();
        assert!(s0.unscoped.contains(cat.lookup("s3:GetObject").unwrap()));
        assert!(!s0.unscoped.contains(cat.lookup("iam:PassRole").unwrap()));
        assert!(s0
            .unscoped
            .contains(cat.lookup("s3:ListAllMyBuckets").unwrap()));
        let s1 = p.statements()[1].sets();
        assert!(!s1.actions.contains(cat.lookup("iam:PassRole").unwrap()));
        assert!(s1
            .unscoped
            .contains(cat.lookup("ec2:RunInstances").unwrap()));
    }
}

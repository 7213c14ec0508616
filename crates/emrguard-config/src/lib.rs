//! `emrguard.toml`, parsed strictly: unknown keys are errors that point at the line and suggest
//! the closest known key. `emrguard.example.toml` at the repository root documents every key.

pub mod date;
pub mod suppress;

pub use date::Date;

use emrguard_model::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Administrators the user declares: never job submitters, listed in the report.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Administrators {
    #[serde(default)]
    pub kubernetes_users: Vec<String>,
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
    /// `namespace/name`.
    #[serde(default)]
    pub kubernetes_service_accounts: Vec<String>,
    #[serde(default)]
    pub iam_arns: Vec<String>,
}

impl Administrators {
    pub fn is_empty(&self) -> bool {
        self.kubernetes_users.is_empty()
            && self.kubernetes_groups.is_empty()
            && self.kubernetes_service_accounts.is_empty()
            && self.iam_arns.is_empty()
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSettings {
    /// CIDRs that may reach managed endpoints and the EKS API.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// Security-group ingress wider than this prefix length (e.g. a /8) is reported.
    #[serde(default = "default_max_prefix")]
    pub min_ipv4_prefix_length: u8,
}

fn default_max_prefix() -> u8 {
    16
}

impl Default for EndpointSettings {
    fn default() -> Self {
        EndpointSettings {
            allowed_cidrs: Vec::new(),
            min_ipv4_prefix_length: default_max_prefix(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImageSettings {
    /// Registries (host or host/prefix) whose images are trusted as bases.
    #[serde(default)]
    pub trusted_registries: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeSettings {
    /// Policy ARNs allowed on node roles beyond the EKS minimum.
    #[serde(default)]
    pub extra_allowed_policies: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialProvider {
    Irsa,
    PodIdentity,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CredentialSettings {
    #[serde(default = "default_providers")]
    pub allowed_providers: Vec<CredentialProvider>,
}

fn default_providers() -> Vec<CredentialProvider> {
    vec![CredentialProvider::Irsa, CredentialProvider::PodIdentity]
}

impl Default for CredentialSettings {
    fn default() -> Self {
        CredentialSettings {
            allowed_providers: default_providers(),
        }
    }
}

/// An accepted finding: rule and what it is about, with a reason and an optional expiry. See
/// [`suppress`] for how the patterns match.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Rule id, id prefix or practice slug.
    pub rule: String,
    /// Glob on the resource (`Kind/namespace/name`, `Kind/name` or ARN).
    #[serde(default)]
    pub resource: Option<String>,
    /// Glob on the subject (`Kind/namespace/name`, `Kind/name`, ARN or a mapped IAM principal).
    #[serde(default)]
    pub subject: Option<String>,
    /// Glob on the finding's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Why the finding is accepted (required, not empty).
    pub reason: String,
    /// The last day the suppression holds (`YYYY-MM-DD`); after it, it is an error.
    #[serde(default)]
    pub expires: Option<Date>,
    /// Line of the entry's `[[suppress]]` header, filled in by [`Config::parse`].
    #[serde(skip)]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Honour `emrguard.io/ignore` annotations on Kubernetes objects (default true). Whoever can
    /// annotate an object can then accept its findings; set false to allow only this file.
    #[serde(default = "yes")]
    pub annotation_suppressions: bool,
    #[serde(default)]
    pub administrators: Administrators,
    #[serde(default)]
    pub endpoints: EndpointSettings,
    #[serde(default)]
    pub images: ImageSettings,
    #[serde(default)]
    pub nodes: NodeSettings,
    #[serde(default)]
    pub credentials: CredentialSettings,
    /// Rule id → severity.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    #[serde(default)]
    pub select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default, rename = "suppress")]
    pub suppressions: Vec<Suppression>,
    /// `[admission]`: settings of `emrguard serve` and `emrguard generate`, validated strictly
    /// by `emrguard-admission`; `check` accepts the table and ignores it.
    #[serde(default)]
    pub admission: Option<AdmissionSection>,
}

/// The `[admission]` table, as far as `check` is concerned: present, not read here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionSection;

impl<'de> Deserialize<'de> for AdmissionSection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(AdmissionSection)
    }
}

fn yes() -> bool {
    true
}

impl Default for Config {
    fn default() -> Self {
        Config {
            annotation_suppressions: true,
            administrators: Administrators::default(),
            endpoints: EndpointSettings::default(),
            images: ImageSettings::default(),
            nodes: NodeSettings::default(),
            credentials: CredentialSettings::default(),
            severity: BTreeMap::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            suppressions: Vec::new(),
            admission: None,
        }
    }
}

/// Where a rule reference appears in the config, for [`Config::parse_checked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleRefKind {
    /// A `[severity]` key: must be a rule id.
    RuleId,
    /// `select`, `ignore`, or a suppression's `rule`: a rule id, id prefix or practice slug.
    Selector,
}

/// The closest candidate to `word` (typo-level distance), for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let cl = c.to_ascii_lowercase();
        if cl == w {
            return Some(c);
        }
        let d = strsim::damerau_levenshtein(&w, &cl);
        let jw = strsim::jaro_winkler(&w, &cl);
        let close = d <= (w.chars().count() / 3).max(1) || jw >= 0.88;
        if close && best.is_none_or(|(s, _)| jw > s) {
            best = Some((jw, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A configuration error with the line it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, col)
}

/// The `[table]` (or `[[table]]`) header in force at `line` (1-based), if any.
fn table_at(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let t = l.trim();
            let t = t.split('#').next().unwrap_or(t).trim();
            (t.starts_with('[') && t.ends_with(']')).then(|| t.to_owned())
        })
        .last()
}

/// Names in backticks after `expected` in a serde message: the keys or values it accepts.
fn expected_names(msg: &str) -> Vec<String> {
    let Some(pos) = msg.find("expected") else {
        return Vec::new();
    };
    msg.get(pos..)
        .unwrap_or("")
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Turn serde's "unknown field `x`, expected one of ..." into a message that says where and
/// suggests the closest known key.
fn explain(msg: &str, text: &str, line: Option<usize>) -> String {
    let (what, rest) = if let Some(r) = msg.strip_prefix("unknown field `") {
        ("key", r)
    } else if let Some(r) = msg.strip_prefix("unknown variant `") {
        ("value", r)
    } else {
        return msg.to_owned();
    };
    let Some((word, _)) = rest.split_once('`') else {
        return msg.to_owned();
    };
    let known = expected_names(msg);
    let mut out = format!("unknown {what} `{word}`");
    if what == "key" {
        match line.and_then(|l| table_at(text, l)) {
            Some(t) => out.push_str(&format!(" in {t}")),
            None => out.push_str(" at the top level"),
        }
    }
    if let Some(s) = suggest(word, known.iter().map(String::as_str)) {
        out.push_str(&format!("; did you mean `{s}`?"));
    }
    if !known.is_empty() {
        let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        out.push_str(&format!(" (known {what}s: {})", list.join(", ")));
    } else if what == "key" {
        out.push_str(" (this table takes no keys)");
    }
    out
}

/// 1-based line numbers of the `[[suppress]]` headers, in order.
fn suppress_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t: String = l
                .split('#')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            t == "[[suppress]]"
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The first line that sets `key` (`key =` or `"key" =`), after the header `section` if given.
fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let mut in_section = section.is_none();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            in_section = section.is_none_or(|s| t.starts_with(s));
            continue;
        }
        if !in_section {
            continue;
        }
        let k = t
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(|c| c == '"' || c == '\'');
        if t.contains('=') && k == key {
            return Some(i + 1);
        }
    }
    None
}

/// The first line that contains `"value"` or `'value'`.
fn value_line(text: &str, value: &str) -> Option<usize> {
    let dq = format!("\"{value}\"");
    let sq = format!("'{value}'");
    text.lines()
        .position(|l| l.contains(&dq) || l.contains(&sq))
        .map(|i| i + 1)
}

impl ConfigError {
    fn at(file: &str, line: Option<usize>, message: String) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            line,
            column: line.map(|_| 1),
            message,
        }
    }
}

impl Config {
    /// Parse strictly: syntax, unknown keys (with a suggestion), value types, dates, and
    /// suppressions without a reason are errors with the line they are on.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let mut config = toml::from_str::<Config>(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ConfigError {
                file: file.to_owned(),
                line,
                column,
                message: explain(e.message(), text, line),
            }
        })?;
        let headers = suppress_header_lines(text);
        let same_count = headers.len() == config.suppressions.len();
        for (i, s) in config.suppressions.iter_mut().enumerate() {
            s.line = if same_count {
                headers.get(i).copied()
            } else {
                None
            };
            if s.reason.trim().is_empty() {
                return Err(ConfigError::at(
                    file,
                    s.line,
                    format!(
                        "the suppression of `{}` has an empty `reason`: say why the finding is accepted",
                        s.rule
                    ),
                ));
            }
            if s.rule.trim().is_empty() {
                return Err(ConfigError::at(
                    file,
                    s.line,
                    "a suppression needs a `rule` (rule id, id prefix or practice)".to_owned(),
                ));
            }
        }
        Ok(config)
    }

    /// [`Config::parse`], then every rule reference (`[severity]` keys, `select`, `ignore`,
    /// suppression rules) is checked with `check`, which returns an explanation (with a
    /// suggestion) for a reference that names no rule.
    pub fn parse_checked(
        file: &str,
        text: &str,
        check: &dyn Fn(&str, RuleRefKind) -> Result<(), String>,
    ) -> Result<Config, ConfigError> {
        let config = Config::parse(file, text)?;
        for key in config.severity.keys() {
            check(key, RuleRefKind::RuleId).map_err(|m| {
                ConfigError::at(
                    file,
                    key_line(text, Some("[severity]"), key),
                    format!("[severity]: {m}"),
                )
            })?;
        }
        for (name, list) in [("select", &config.select), ("ignore", &config.ignore)] {
            for p in list {
                check(p, RuleRefKind::Selector).map_err(|m| {
                    ConfigError::at(
                        file,
                        value_line(text, p).or_else(|| key_line(text, None, name)),
                        format!("{name}: {m}"),
                    )
                })?;
            }
        }
        for s in &config.suppressions {
            check(s.rule.trim(), RuleRefKind::Selector)
                .map_err(|m| ConfigError::at(file, s.line, format!("[[suppress]] rule: {m}")))?;
        }
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        Config::parse(&file, &read(path)?)
    }

    /// [`Config::load`] with the rule references checked (see [`Config::parse_checked`]).
    pub fn load_checked(
        path: &Path,
        check: &dyn Fn(&str, RuleRefKind) -> Result<(), String>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        Config::parse_checked(&file, &read(path)?, check)
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys_with_a_line() {
        let c = Config::parse(
            "c.toml",
            "[administrators]\nkubernetes_groups = [\"platform-admins\"]\n",
        )
        .unwrap();
        assert_eq!(c.administrators.kubernetes_groups, ["platform-admins"]);
        let e =
            Config::parse("c.toml", "[administrators]\nkubernetes_group = [\"x\"]\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("kubernetes_group"), "{e}");
    }

    #[test]
    fn severity_overrides() {
        let c = Config::parse("c.toml", "[severity]\nRBAC001 = \"low\"\n").unwrap();
        assert_eq!(c.severity.get("RBAC001"), Some(&Severity::Low));
    }

    #[test]
    fn unknown_keys_name_the_table_and_suggest() {
        let e =
            Config::parse("c.toml", "[administrators]\nkubernetes_group = [\"x\"]\n").unwrap_err();
        assert!(e.message.contains("in [administrators]"), "{e}");
        assert!(
            e.message.contains("did you mean `kubernetes_groups`?"),
            "{e}"
        );
        let e = Config::parse("c.toml", "selct = [\"rbac\"]\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("at the top level"), "{e}");
        assert!(e.message.contains("did you mean `select`?"), "{e}");
        let e = Config::parse("c.toml", "[severity]\nNET002 = \"hihg\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("did you mean `high`?"), "{e}");
        let e = Config::parse(
            "c.toml",
            "[credentials]\nallowed_providers = [\"irsa\", \"podidentity\"]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("did you mean `pod-identity`?"), "{e}");
        let e = Config::parse(
            "c.toml",
            "[[suppress]]\nrule = \"X\"\nreason = \"r\"\nexpire = \"2020-01-01\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("did you mean `expires`?"), "{e}");
        assert_eq!(
            e.to_string().split(':').take(2).collect::<Vec<_>>(),
            ["c.toml", "4"]
        );
    }

    #[test]
    fn suppressions_need_a_reason_and_a_valid_date() {
        let ok = Config::parse(
            "c.toml",
            "# comment\n[[suppress]]\nrule = \"NET002\"\nreason = \"r\"\nexpires = 2030-01-31\n\n[[suppress]]\nrule = \"rbac\"\nreason = \"r\"\nexpires = \"2030-02-01\"\n",
        )
        .unwrap();
        assert_eq!(ok.suppressions.len(), 2);
        assert_eq!(ok.suppressions[0].line, Some(2));
        assert_eq!(ok.suppressions[1].line, Some(7));
        assert_eq!(ok.suppressions[0].expires, Date::new(2030, 1, 31));
        assert_eq!(ok.suppressions[1].expires, Date::new(2030, 2, 1));
        let e = Config::parse("c.toml", "[[suppress]]\nrule = \"NET002\"\n").unwrap_err();
        assert!(e.message.contains("reason"), "{e}");
        let e = Config::parse(
            "c.toml",
            "\n[[suppress]]\nrule = \"NET002\"\nreason = \" \"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = Config::parse(
            "c.toml",
            "[[suppress]]\nrule = \"NET002\"\nreason = \"r\"\nexpires = \"2030-02-30\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("2030-02-30"), "{e}");
    }

    #[test]
    fn rule_references_are_checked_with_lines() {
        let check = |r: &str, k: RuleRefKind| -> Result<(), String> {
            match (r, k) {
                ("NET002", _) | ("rbac", RuleRefKind::Selector) => Ok(()),
                _ => Err(format!("no rule `{r}`")),
            }
        };
        let text = "select = [\"rbac\", \"NOPE\"]\n[severity]\nNET002 = \"low\"\n";
        let e = Config::parse_checked("c.toml", text, &check).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.starts_with("select: no rule `NOPE`"), "{e}");
        let text = "[severity]\nNET002 = \"low\"\nrbac = \"low\"\n";
        let e = Config::parse_checked("c.toml", text, &check).unwrap_err();
        assert_eq!(e.line, Some(3));
        let text = "[[suppress]]\nrule = \"XX\"\nreason = \"r\"\n";
        let e = Config::parse_checked("c.toml", text, &check).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(Config::parse_checked("c.toml", "ignore = ['rbac']", &check).is_ok());
    }

    #[test]
    fn defaults() {
        let c = Config::parse("c.toml", "").unwrap();
        assert_eq!(c, Config::default());
        assert!(c.annotation_suppressions);
        assert_eq!(
            c.credentials.allowed_providers,
            [CredentialProvider::Irsa, CredentialProvider::PodIdentity]
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("iam_arn", ["iam_arns", "kubernetes_users"]),
            Some("iam_arns")
        );
        assert_eq!(suggest("zzz", ["iam_arns", "kubernetes_users"]), None);
        assert_eq!(suggest("RBCA001", ["RBAC001", "NET001"]), Some("RBAC001"));
    }
}

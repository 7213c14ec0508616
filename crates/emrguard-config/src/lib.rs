//! `emrguard.toml`, parsed strictly: unknown keys are errors that point at the line.

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

/// An accepted finding: rule and what it is about, with a reason and an optional expiry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Rule id, id prefix or practice slug.
    pub rule: String,
    /// Glob on the resource (`kind/namespace/name` or ARN).
    #[serde(default)]
    pub resource: Option<String>,
    /// Glob on the subject (`kind/namespace/name` or ARN).
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`; after it the suppression is an error.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
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

impl Config {
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        toml::from_str::<Config>(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    let col = before
                        .rsplit('\n')
                        .next()
                        .map(|l| l.chars().count() + 1)
                        .unwrap_or(1);
                    (Some(line), Some(col))
                }
                None => (None, None),
            };
            ConfigError {
                file: file.to_owned(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&file, &text)
    }
}

#[cfg(test)]
mod tests {
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
}

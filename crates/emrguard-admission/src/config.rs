//! Admission settings: the `[admission]` table of `emrguard.toml` (everything else in the file is
//! `emrguard_config::Config`, whose `[administrators]` are exempt here as in `check`; `check`
//! accepts the `[admission]` table and ignores it).
//!
//! ```toml
//! [admission]
//! emr_namespaces = ["spark-team-a"]     # besides the snapshot's virtual clusters and the label
//! namespace_label = "emrguard.io/emr"   # value "true" marks an EMR namespace
//! portforward = true                    # treat pods/portforward like exec
//! unknown_roles = "deny"                # a binding to a role emrguard does not know: deny | warn
//! evaluation_timeout_ms = 2000
//! max_body_bytes = 3145728
//!
//! [admission.modes]                     # enforce (default) | warn | audit | off
//! exec-pods = "enforce"
//! host-network = "warn"
//! ```

use crate::rules::AdmissionRule;
use emrguard_config::Config;
use emrguard_rbac::Exemptions;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The label the generated manifests put on EMR namespaces (value `"true"`).
pub const DEFAULT_NAMESPACE_LABEL: &str = "emrguard.io/emr";

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Deny the request (the message names the rule).
    #[default]
    Enforce,
    /// Allow it with an `AdmissionResponse` warning (kubectl prints it).
    Warn,
    /// Allow it silently; the decision log records it.
    Audit,
    /// The rule is not evaluated.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}

/// What to do with a binding whose role is not in emrguard's cluster state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownRoles {
    /// Fail closed: a grant that cannot be evaluated is refused (in `enforce` mode).
    #[default]
    Deny,
    /// Allow it with a warning.
    Warn,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionSettings {
    #[serde(default)]
    pub emr_namespaces: Vec<String>,
    #[serde(default = "default_label")]
    pub namespace_label: String,
    #[serde(default = "yes")]
    pub portforward: bool,
    #[serde(default)]
    pub unknown_roles: UnknownRoles,
    #[serde(default = "default_timeout")]
    pub evaluation_timeout_ms: u64,
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
    #[serde(default)]
    pub modes: BTreeMap<String, Mode>,
}

fn default_label() -> String {
    DEFAULT_NAMESPACE_LABEL.to_owned()
}
fn yes() -> bool {
    true
}
fn default_timeout() -> u64 {
    2000
}
fn default_body() -> usize {
    3 * 1024 * 1024
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        AdmissionSettings {
            emr_namespaces: Vec::new(),
            namespace_label: default_label(),
            portforward: true,
            unknown_roles: UnknownRoles::Deny,
            evaluation_timeout_ms: default_timeout(),
            max_body_bytes: default_body(),
            modes: BTreeMap::new(),
        }
    }
}

/// Everything the decisions read from configuration.
#[derive(Debug, Clone, Default)]
pub struct AdmissionConfig {
    pub settings: AdmissionSettings,
    /// Declared administrators (`[administrators]`), as the RBAC engine takes them.
    pub exemptions: Exemptions,
    modes: [Mode; AdmissionRule::ALL.len()],
}

impl AdmissionConfig {
    pub fn new(settings: AdmissionSettings, config: &Config) -> Result<AdmissionConfig, String> {
        let mut modes = [Mode::Enforce; AdmissionRule::ALL.len()];
        for (k, m) in &settings.modes {
            let rule: AdmissionRule = k.parse()?;
            if let Some(slot) = modes.get_mut(rule as usize) {
                *slot = *m;
            }
        }
        if settings.namespace_label.is_empty() {
            return Err("[admission] namespace_label must not be empty".into());
        }
        Ok(AdmissionConfig {
            settings,
            exemptions: exemptions(config),
            modes,
        })
    }

    pub fn mode(&self, rule: AdmissionRule) -> Mode {
        self.modes.get(rule as usize).copied().unwrap_or_default()
    }

    /// Read `emrguard.toml`: `[admission]` here, the rest with `emrguard_config`.
    pub fn load(path: &Path) -> Result<AdmissionConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<AdmissionConfig, String> {
        // `emrguard_config` reads everything but `[admission]` (it accepts the table and leaves
        // it to this crate), with its line-numbered errors.
        let config = Config::parse(file, text).map_err(|e| e.to_string())?;
        let mut table: toml::Table = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let settings = match table.remove("admission") {
            Some(v) => v
                .try_into::<AdmissionSettings>()
                .map_err(|e| format!("{file}: [admission]: {e}"))?,
            None => AdmissionSettings::default(),
        };
        AdmissionConfig::new(settings, &config).map_err(|e| format!("{file}: [admission]: {e}"))
    }
}

/// The declared administrators as the RBAC engine takes them (as `check` builds them).
pub fn exemptions(config: &Config) -> Exemptions {
    let a = &config.administrators;
    Exemptions {
        users: a.kubernetes_users.clone(),
        groups: a.kubernetes_groups.clone(),
        service_accounts: a.kubernetes_service_accounts.clone(),
        iam_arns: a.iam_arns.clone(),
    }
}

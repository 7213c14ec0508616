//! ECR outputs (`describe-repositories`, `describe-images`, `get-registry-scanning-configuration`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanningConfig {
    #[serde(default)]
    pub scan_on_push: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    #[serde(default)]
    pub repository_arn: String,
    #[serde(default)]
    pub registry_id: String,
    #[serde(default)]
    pub repository_name: String,
    #[serde(default)]
    pub repository_uri: String,
    #[serde(default)]
    pub created_at: Option<serde_json::Value>,
    /// `MUTABLE` | `IMMUTABLE` (and the `*_WITH_EXCLUSION` forms).
    #[serde(default)]
    pub image_tag_mutability: Option<String>,
    #[serde(default)]
    pub image_scanning_configuration: Option<ScanningConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetail {
    #[serde(default)]
    pub registry_id: String,
    #[serde(default)]
    pub repository_name: String,
    #[serde(default)]
    pub image_digest: String,
    #[serde(default)]
    pub image_tags: Vec<String>,
    /// ISO 8601 string from the CLI (or epoch seconds from some exporters).
    #[serde(default)]
    pub image_pushed_at: Option<serde_json::Value>,
    #[serde(default)]
    pub image_size_in_bytes: Option<u64>,
    /// `describe-images` prints it once a scan ran (`COMPLETE`, `FAILED`, ...).
    #[serde(default)]
    pub image_scan_status: Option<ImageScanStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageScanStatus {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryFilter {
    #[serde(default)]
    pub filter: String,
    #[serde(default)]
    pub filter_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanningRule {
    /// `SCAN_ON_PUSH` | `CONTINUOUS_SCAN` | `MANUAL`.
    #[serde(default)]
    pub scan_frequency: String,
    #[serde(default)]
    pub repository_filters: Vec<RepositoryFilter>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryScanningConfiguration {
    /// `BASIC` | `ENHANCED`.
    #[serde(default)]
    pub scan_type: Option<String>,
    #[serde(default)]
    pub rules: Vec<ScanningRule>,
}

/// `get-registry-scanning-configuration` output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryScanning {
    #[serde(default)]
    pub registry_id: Option<String>,
    #[serde(default)]
    pub scanning_configuration: RegistryScanningConfiguration,
}

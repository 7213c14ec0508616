//! Inputs of the usage audit: a trail's event selectors (`aws cloudtrail get-event-selectors`),
//! the rows of the Athena aggregation queries ("usage summary", `scripts/athena/`), and
//! Kubernetes audit events (`audit.k8s.io/v1` `Event`).

use serde::{Deserialize, Serialize};

/// `aws cloudtrail get-event-selectors --trail-name T`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailEventSelectors {
    #[serde(default, rename = "TrailARN")]
    pub trail_arn: Option<String>,
    #[serde(default)]
    pub event_selectors: Vec<EventSelector>,
    #[serde(default)]
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    #[serde(default)]
    pub read_write_type: Option<String>,
    #[serde(default)]
    pub include_management_events: Option<bool>,
    #[serde(default)]
    pub data_resources: Vec<DataResource>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    /// `AWS::S3::Object`, `AWS::Lambda::Function`, ...
    #[serde(default, rename = "Type")]
    pub resource_type: String,
    /// `arn:aws:s3` (every bucket), `arn:aws:s3:::bucket/` or `arn:aws:s3:::bucket/prefix`.
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    /// `eventCategory`, `resources.type`, `resources.ARN`, `readOnly`, `eventName`, ...
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub equals: Vec<String>,
    #[serde(default)]
    pub starts_with: Vec<String>,
    #[serde(default)]
    pub ends_with: Vec<String>,
    #[serde(default)]
    pub not_equals: Vec<String>,
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

/// One row of `scripts/athena/usage.sql` (usage grouped by role, access key, event source,
/// event name, error code, bucket and key prefix), from its CSV or JSON result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSummaryRow {
    #[serde(default)]
    pub role_arn: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub event_source: String,
    #[serde(default)]
    pub event_name: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub key_prefix: String,
    /// Request shape the IAM action depends on: `version` (a `versionId` was given),
    /// `sse-kms`, or empty.
    #[serde(default)]
    pub variant: String,
    /// CopyObject / UploadPartCopy: the source `bucket/prefix`.
    #[serde(default)]
    pub copy_source: String,
    #[serde(default)]
    pub event_count: u64,
    #[serde(default)]
    pub first_seen: String,
    #[serde(default)]
    pub last_seen: String,
    #[serde(default)]
    pub sample_event_id: String,
}

/// One row of `scripts/athena/sessions.sql`: who an access key was issued to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummaryRow {
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub role_arn: String,
    /// `system:serviceaccount:<ns>:<sa>` (web identity) or `<ns>:<sa>` (Pod Identity).
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub first_seen: String,
}

/// A Kubernetes audit event (`audit.k8s.io/v1` `Event`), the fields the usage audit reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sAuditEvent {
    #[serde(default, rename = "auditID")]
    pub audit_id: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub verb: String,
    #[serde(default)]
    pub user: AuditUser,
    #[serde(default)]
    pub impersonated_user: Option<AuditUser>,
    #[serde(default)]
    pub object_ref: Option<AuditObjectRef>,
    #[serde(default)]
    pub response_status: Option<AuditStatus>,
    #[serde(default)]
    pub request_received_timestamp: Option<String>,
    #[serde(default)]
    pub stage_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditUser {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditObjectRef {
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub subresource: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub api_group: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditStatus {
    #[serde(default)]
    pub code: Option<u16>,
}

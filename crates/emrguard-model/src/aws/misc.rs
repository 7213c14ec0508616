//! CloudTrail records (S3 delivery format `{"Records": [...]}`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(default, rename = "type")]
    pub identity_type: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub principal_id: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    /// The temporary (or long-term) key the call was signed with: joins a call to the
    /// `AssumeRoleWithWebIdentity`/`AssumeRoleForPodIdentity` that issued it.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// For `WebIdentityUser`: `system:serviceaccount:<ns>:<sa>`.
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default)]
    pub session_issuer: Option<SessionIssuer>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(default, rename = "type")]
    pub issuer_type: Option<String>,
    /// The role ARN (`arn:aws:iam::<acct>:role/<name>`) for an assumed-role session.
    #[serde(default)]
    pub arn: Option<String>,
}

/// One entry of a record's `resources` list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventResource {
    #[serde(default, rename = "ARN")]
    pub arn: Option<String>,
    #[serde(default, rename = "type")]
    pub resource_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default)]
    pub event_time: Option<String>,
    #[serde(default)]
    pub event_source: Option<String>,
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub aws_region: Option<String>,
    #[serde(default, rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    #[serde(default)]
    pub user_identity: Option<UserIdentity>,
    #[serde(default)]
    pub request_parameters: Option<serde_json::Value>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default, rename = "eventID")]
    pub event_id: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    /// Credentials of `AssumeRole*` calls, job run ids of `StartJobRun`...
    #[serde(default)]
    pub response_elements: Option<serde_json::Value>,
    #[serde(default)]
    pub resources: Option<Vec<EventResource>>,
    /// `Management` or `Data` (newer records).
    #[serde(default)]
    pub event_category: Option<String>,
}

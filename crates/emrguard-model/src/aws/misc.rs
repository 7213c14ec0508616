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
}

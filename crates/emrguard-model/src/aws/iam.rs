//! IAM as printed by `aws iam get-account-authorization-details` and
//! `aws iam list-open-id-connect-providers`.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A policy document as JSON text. The CLI prints documents as JSON objects; the raw API (and
/// some exporters) give URL-encoded strings; both decode to the same text here. The IAM engine
/// parses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(transparent)]
pub struct PolicyDocument(pub String);

impl PolicyDocument {
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Decode a document given as a string: URL-encoded (`%7B%22Version...`) or plain JSON text.
    pub fn from_encoded(s: &str) -> Result<Self, String> {
        let trimmed = s.trim_start();
        if trimmed.starts_with('{') {
            return Ok(PolicyDocument(s.to_owned()));
        }
        let decoded = percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map_err(|e| format!("policy document is not valid URL-encoded UTF-8: {e}"))?;
        // `+` is not a space in IAM's encoding (RFC 3986), so nothing more to undo.
        Ok(PolicyDocument(decoded.into_owned()))
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(d)?;
        let text = raw.get();
        if text.starts_with('"') {
            let s: String = serde_json::from_str(text).map_err(de::Error::custom)?;
            PolicyDocument::from_encoded(&s).map_err(de::Error::custom)
        } else if text.starts_with('{') {
            Ok(PolicyDocument(text.to_owned()))
        } else {
            Err(de::Error::custom(
                "policy document must be a JSON object or a URL-encoded string",
            ))
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    #[serde(default)]
    pub policy_name: String,
    #[serde(default)]
    pub policy_document: PolicyDocument,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    #[serde(default)]
    pub policy_name: String,
    #[serde(default)]
    pub policy_arn: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundary {
    #[serde(default)]
    pub permissions_boundary_type: Option<String>,
    #[serde(default)]
    pub permissions_boundary_arn: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfile {
    #[serde(default)]
    pub instance_profile_name: String,
    #[serde(default)]
    pub arn: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub role_name: String,
    #[serde(default)]
    pub role_id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub assume_role_policy_document: Option<PolicyDocument>,
    #[serde(default)]
    pub instance_profile_list: Vec<InstanceProfile>,
    #[serde(default)]
    pub role_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub user_policy_list: Vec<InlinePolicy>,
    /// Group names.
    #[serde(default)]
    pub group_list: Vec<String>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Group {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub group_name: String,
    #[serde(default)]
    pub group_id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub group_policy_list: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    #[serde(default)]
    pub document: Option<PolicyDocument>,
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub is_default_version: bool,
    #[serde(default)]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    #[serde(default)]
    pub policy_name: String,
    #[serde(default)]
    pub policy_id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub default_version_id: Option<String>,
    #[serde(default)]
    pub attachment_count: Option<u64>,
    #[serde(default)]
    pub is_attachable: Option<bool>,
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// The default version's document: the version flagged default, else the one named by
    /// `DefaultVersionId`.
    pub fn default_document(&self) -> Option<&PolicyDocument> {
        self.policy_version_list
            .iter()
            .find(|v| v.is_default_version)
            .or_else(|| {
                let id = self.default_version_id.as_deref()?;
                self.policy_version_list.iter().find(|v| v.version_id == id)
            })
            .and_then(|v| v.document.as_ref())
    }
}

/// `aws iam list-open-id-connect-providers` item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OidcProvider {
    #[serde(default)]
    pub arn: String,
}

impl OidcProvider {
    /// `oidc.eks.us-west-2.amazonaws.com/id/ABC` from the provider ARN.
    pub fn issuer_host(&self) -> Option<&str> {
        self.arn.split_once(":oidc-provider/").map(|(_, h)| h)
    }
}

/// The name part of an IAM ARN (`arn:aws:iam::1:role/path/Name` -> `Name`).
pub fn arn_resource_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Account id (field 5) of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_document_accepts_object_and_url_encoded_string() {
        let obj: PolicyDocument =
            serde_json::from_str(r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap();
        assert_eq!(obj.text(), r#"{"Version":"2012-10-17","Statement":[]}"#);
        let enc: PolicyDocument = serde_json::from_str(
            r#""%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D""#,
        )
        .unwrap();
        assert_eq!(enc.text(), r#"{"Version":"2012-10-17","Statement":[]}"#);
        assert!(serde_json::from_str::<PolicyDocument>("42").is_err());
    }

    #[test]
    fn default_version_is_found() {
        let p: ManagedPolicy = serde_json::from_str(
            r#"{"PolicyName":"p","Arn":"arn:aws:iam::1:policy/p","DefaultVersionId":"v2",
                "PolicyVersionList":[{"VersionId":"v1","IsDefaultVersion":false,"Document":{"a":1}},
                                     {"VersionId":"v2","IsDefaultVersion":true,"Document":{"b":2}}]}"#,
        )
        .unwrap();
        assert_eq!(p.default_document().unwrap().text(), r#"{"b":2}"#);
    }

    #[test]
    fn arn_helpers() {
        assert_eq!(
            arn_resource_name("arn:aws:iam::111122223333:role/a/b/Name"),
            "Name"
        );
        assert_eq!(
            arn_account("arn:aws:iam::111122223333:role/x"),
            Some("111122223333")
        );
    }
}

//! The parts of a CloudTrail record the usage audit reads, borrowed from the log text.
//!
//! Accepts and rejects exactly what `emrguard_model::aws::misc::CloudTrailRecord` does (the
//! same fields, types and order), so streaming and the loader agree; but strings are borrowed
//! when unescaped, and `requestParameters`/`responseElements` keep only the members read
//! (checked like a `serde_json::Value`, never built as one).

use emrguard_model::aws::misc::CloudTrailRecord;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrV).map(Str)
    }
}

struct StrV;

impl<'de> Visitor<'de> for StrV {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

fn get<'x>(s: &'x Option<Str<'_>>) -> Option<&'x str> {
    s.as_ref().map(|s| s.0.as_ref())
}

fn get_cow<'x>(s: &'x Option<Cow<'_, str>>) -> Option<&'x str> {
    s.as_deref()
}

/// `UserIdentity` (field for field).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView<'a> {
    #[serde(default, borrow, rename = "type")]
    pub identity_type: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub arn: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub principal_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub account_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub access_key_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub user_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub session_context: Option<SessionContextView<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContextView<'a> {
    #[serde(default, borrow)]
    pub session_issuer: Option<SessionIssuerView<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuerView<'a> {
    #[serde(default, borrow, rename = "type")]
    pub issuer_type: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub arn: Option<Str<'a>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceView<'a> {
    #[serde(default, borrow, rename = "ARN")]
    pub arn: Option<Str<'a>>,
    #[serde(default, borrow, rename = "type")]
    pub resource_type: Option<Str<'a>>,
}

/// A CloudTrail record as the usage audit reads it (`CloudTrailRecord`'s fields, in order).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView<'a> {
    #[serde(default, borrow)]
    pub event_time: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub event_source: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub event_name: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub aws_region: Option<Str<'a>>,
    #[serde(default, borrow, rename = "sourceIPAddress")]
    pub source_ip_address: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub user_identity: Option<IdentityView<'a>>,
    #[serde(default, borrow)]
    pub request_parameters: Option<Params<'a>>,
    #[serde(default, borrow)]
    pub error_code: Option<Str<'a>>,
    #[serde(default, borrow, rename = "eventID")]
    pub event_id: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub error_message: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub response_elements: Option<Params<'a>>,
    #[serde(default, borrow)]
    pub resources: Option<Vec<ResourceView<'a>>>,
    #[serde(default, borrow)]
    pub event_category: Option<Str<'a>>,
}

impl<'a> RecordView<'a> {
    pub fn event_time(&self) -> Option<&str> {
        get(&self.event_time)
    }
    pub fn event_source(&self) -> Option<&str> {
        get(&self.event_source)
    }
    pub fn event_name(&self) -> Option<&str> {
        get(&self.event_name)
    }
    pub fn aws_region(&self) -> Option<&str> {
        get(&self.aws_region)
    }
    pub fn error_code(&self) -> Option<&str> {
        get(&self.error_code)
    }
    pub fn event_id(&self) -> Option<&str> {
        get(&self.event_id)
    }
    pub fn event_category(&self) -> Option<&str> {
        get(&self.event_category)
    }
    pub fn access_key_id(&self) -> Option<&str> {
        get(&self.user_identity.as_ref()?.access_key_id)
    }
    pub fn user_name(&self) -> Option<&str> {
        get(&self.user_identity.as_ref()?.user_name)
    }
    pub fn identity_arn(&self) -> Option<&str> {
        get(&self.user_identity.as_ref()?.arn)
    }
    /// The session issuer when present: (type, ARN).
    pub fn session_issuer(&self) -> Option<(Option<&str>, Option<&str>)> {
        let i = self
            .user_identity
            .as_ref()?
            .session_context
            .as_ref()?
            .session_issuer
            .as_ref()?;
        Some((get(&i.issuer_type), get(&i.arn)))
    }
    pub fn resource_arns(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().flatten().filter_map(|r| get(&r.arn))
    }
    pub fn req(&self) -> Option<&Params<'a>> {
        self.request_parameters.as_ref()
    }
    pub fn resp(&self) -> Option<&Params<'a>> {
        self.response_elements.as_ref()
    }
}

/// Call `f` with the view of a loaded record. Goes through the record's JSON so that there
/// is one extraction path (loaded snapshots are small; the logs are streamed).
pub fn with_record<R>(rec: &CloudTrailRecord, f: impl FnOnce(&RecordView<'_>) -> R) -> R {
    let text = serde_json::to_string(rec).unwrap_or_default();
    let v = serde_json::from_str::<RecordView>(&text).unwrap_or_default();
    f(&v)
}

/// The members of `requestParameters`/`responseElements` read (a string member is `None`
/// when absent or not a string, as `Value::get(..)?.as_str()`; a repeated member: the last
/// wins, as in a `Value` map). Rare nested members are kept as values.
#[derive(Debug, Clone, Default)]
pub struct Params<'a> {
    pub bucket_name: Option<Cow<'a, str>>,
    pub key: Option<Cow<'a, str>>,
    /// `key` present, whatever its value.
    pub has_key: bool,
    pub version_id: Option<Cow<'a, str>>,
    pub prefix: Option<Cow<'a, str>>,
    pub copy_source: Option<Cow<'a, str>>,
    pub sse: Option<Cow<'a, str>>,
    pub sse_kms_key_id: Option<Cow<'a, str>>,
    pub role_arn: Option<Cow<'a, str>>,
    pub execution_role_arn: Option<Cow<'a, str>>,
    pub virtual_cluster_id: Option<Cow<'a, str>>,
    pub release_label: Option<Cow<'a, str>>,
    pub job_template_id: Option<Cow<'a, str>>,
    pub subject_from_web_identity_token: Option<Cow<'a, str>>,
    pub id: Option<Cow<'a, str>>,
    /// Glue: `databaseName`, `tableName`, `name` (a database's or table's), `catalogId`.
    pub database_name: Option<Cow<'a, str>>,
    pub table_name: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub catalog_id: Option<Cow<'a, str>>,
    pub credentials: Option<Value>,
    pub assumed_role_user: Option<Value>,
    pub subject: Option<Value>,
    pub job_template_parameters: Option<Value>,
    pub job_driver: Option<Value>,
    pub configuration_overrides: Option<Value>,
}

macro_rules! str_getters {
    ($($f:ident),*) => {
        $(pub fn $f(&self) -> Option<&str> { get_cow(&self.$f) })*
    };
}

impl Params<'_> {
    str_getters!(
        bucket_name,
        key,
        version_id,
        prefix,
        copy_source,
        sse,
        sse_kms_key_id,
        role_arn,
        execution_role_arn,
        virtual_cluster_id,
        release_label,
        job_template_id,
        subject_from_web_identity_token,
        id,
        database_name,
        table_name,
        name,
        catalog_id
    );
}

/// `v.get(p0)?.get(p1)?...as_str()`.
pub fn path<'v>(v: Option<&'v Value>, p: &[&str]) -> Option<&'v str> {
    let mut cur = v?;
    for k in p {
        cur = cur.get(k)?;
    }
    cur.as_str()
}

enum PKey {
    BucketName,
    Key,
    VersionId,
    Prefix,
    CopySource,
    Sse,
    SseKmsKeyId,
    RoleArn,
    ExecutionRoleArn,
    VirtualClusterId,
    ReleaseLabel,
    JobTemplateId,
    SubjectFromWebIdentityToken,
    Id,
    DatabaseName,
    TableName,
    Name,
    CatalogId,
    Credentials,
    AssumedRoleUser,
    Subject,
    JobTemplateParameters,
    JobDriver,
    ConfigurationOverrides,
    Other,
}

impl<'de> Deserialize<'de> for PKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E>(self, v: &str) -> Result<PKey, E> {
                Ok(match v {
                    "bucketName" => PKey::BucketName,
                    "key" => PKey::Key,
                    "versionId" => PKey::VersionId,
                    "prefix" => PKey::Prefix,
                    "x-amz-copy-source" => PKey::CopySource,
                    "x-amz-server-side-encryption" => PKey::Sse,
                    "x-amz-server-side-encryption-aws-kms-key-id" => PKey::SseKmsKeyId,
                    "roleArn" => PKey::RoleArn,
                    "executionRoleArn" => PKey::ExecutionRoleArn,
                    "virtualClusterId" => PKey::VirtualClusterId,
                    "releaseLabel" => PKey::ReleaseLabel,
                    "jobTemplateId" => PKey::JobTemplateId,
                    "subjectFromWebIdentityToken" => PKey::SubjectFromWebIdentityToken,
                    "id" => PKey::Id,
                    "databaseName" => PKey::DatabaseName,
                    "tableName" => PKey::TableName,
                    "name" => PKey::Name,
                    "catalogId" => PKey::CatalogId,
                    "credentials" => PKey::Credentials,
                    "assumedRoleUser" => PKey::AssumedRoleUser,
                    "subject" => PKey::Subject,
                    "jobTemplateParameters" => PKey::JobTemplateParameters,
                    "jobDriver" => PKey::JobDriver,
                    "configurationOverrides" => PKey::ConfigurationOverrides,
                    _ => PKey::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, checked as `serde_json::Value` would (numbers in range, nesting depth),
/// then dropped.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedV)
    }
}

struct CheckedV;

impl<'de> Visitor<'de> for CheckedV {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Checked, D::Error> {
        Checked::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Checked, A::Error> {
        while s.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Checked, M::Error> {
        // Keys are read as strings, as a `Value` map reads them.
        while m.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A member's value as `Value::as_str` sees it: a string, else None (checked, dropped).
struct AnyStr<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AnyStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(AnyStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AnyStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(AnyStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(AnyStr(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                AnyStr::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
                CheckedV.visit_seq(s).map(|_| AnyStr(None))
            }
            fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<Self::Value, M::Error> {
                CheckedV.visit_map(m).map(|_| AnyStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Params<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamsV)
    }
}

struct ParamsV;

impl<'de> Visitor<'de> for ParamsV {
    type Value = Params<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    // Not an object: present, with no members (as a `Value` would be).
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Params::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Self::Value, A::Error> {
        CheckedV.visit_seq(s).map(|_| Params::default())
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
        let mut p = Params::default();
        while let Some(k) = m.next_key::<PKey>()? {
            let s = |m: &mut M| m.next_value::<AnyStr>().map(|v| v.0);
            match k {
                PKey::BucketName => p.bucket_name = s(&mut m)?,
                PKey::Key => {
                    p.has_key = true;
                    p.key = s(&mut m)?;
                }
                PKey::VersionId => p.version_id = s(&mut m)?,
                PKey::Prefix => p.prefix = s(&mut m)?,
                PKey::CopySource => p.copy_source = s(&mut m)?,
                PKey::Sse => p.sse = s(&mut m)?,
                PKey::SseKmsKeyId => p.sse_kms_key_id = s(&mut m)?,
                PKey::RoleArn => p.role_arn = s(&mut m)?,
                PKey::ExecutionRoleArn => p.execution_role_arn = s(&mut m)?,
                PKey::VirtualClusterId => p.virtual_cluster_id = s(&mut m)?,
                PKey::ReleaseLabel => p.release_label = s(&mut m)?,
                PKey::JobTemplateId => p.job_template_id = s(&mut m)?,
                PKey::SubjectFromWebIdentityToken => p.subject_from_web_identity_token = s(&mut m)?,
                PKey::Id => p.id = s(&mut m)?,
                PKey::DatabaseName => p.database_name = s(&mut m)?,
                PKey::TableName => p.table_name = s(&mut m)?,
                PKey::Name => p.name = s(&mut m)?,
                PKey::CatalogId => p.catalog_id = s(&mut m)?,
                PKey::Credentials => p.credentials = Some(m.next_value()?),
                PKey::AssumedRoleUser => p.assumed_role_user = Some(m.next_value()?),
                PKey::Subject => p.subject = Some(m.next_value()?),
                PKey::JobTemplateParameters => p.job_template_parameters = Some(m.next_value()?),
                PKey::JobDriver => p.job_driver = Some(m.next_value()?),
                PKey::ConfigurationOverrides => p.configuration_overrides = Some(m.next_value()?),
                PKey::Other => {
                    m.next_value::<Checked>()?;
                }
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The view of a text accepts and rejects what the typed record does, and reads the
    /// same members.
    fn same(text: &str) {
        let typed = serde_json::from_str::<CloudTrailRecord>(text);
        let view = serde_json::from_str::<RecordView>(text);
        assert_eq!(typed.is_ok(), view.is_ok(), "{text}: {typed:?} / {view:?}");
        if let (Ok(t), Ok(v)) = (typed, view) {
            with_record(&t, |w| {
                assert_eq!(w.event_name(), v.event_name());
                assert_eq!(w.access_key_id(), v.access_key_id());
                let (a, b) = (w.req(), v.req());
                assert_eq!(a.is_some(), b.is_some(), "{text}");
                assert_eq!(a.and_then(|p| p.key()), b.and_then(|p| p.key()));
                assert_eq!(a.map(|p| p.has_key), b.map(|p| p.has_key));
                assert_eq!(
                    a.and_then(|p| p.bucket_name()),
                    b.and_then(|p| p.bucket_name())
                );
                assert_eq!(
                    path(a.and_then(|p| p.credentials.as_ref()), &["accessKeyId"]),
                    path(b.and_then(|p| p.credentials.as_ref()), &["accessKeyId"])
                );
            });
        }
    }

    #[test]
    fn accepts_and_rejects_like_the_typed_record() {
        for t in [
            r#"{"eventName":"GetObject","requestParameters":{"bucketName":"b","key":"k"}}"#,
            r#"{"eventName":"GetObject","requestParameters":{"key":null,"key":"k2","bucketName":5}}"#,
            r#"{"eventName":"a\u0042c","requestParameters":"text"}"#,
            r#"{"eventName":"x","requestParameters":[1,{"a":[]}],"responseElements":null}"#,
            r#"{"eventName":"x","requestParameters":{"other":1e400}}"#,
            r#"{"eventName":"x","requestParameters":{"key":1e400}}"#,
            r#"{"eventName":5}"#,
            r#"{"eventName":"x","eventName":"y"}"#,
            r#"{"userIdentity":{"accessKeyId":"A","sessionContext":{"sessionIssuer":{"arn":7}}}}"#,
            r#"{"userIdentity":{"accessKeyId":"A"},"unknown":1e400}"#,
            r#"{"responseElements":{"credentials":{"accessKeyId":"K"},"credentials":3}}"#,
            r#"{"resources":[{"ARN":"arn:x"},{"type":null}]}"#,
            r#"{"resources":{"ARN":"arn:x"}}"#,
            r#"["2024-01-01T00:00:00Z","s3.amazonaws.com"]"#,
            r#"7"#,
        ] {
            same(t);
        }
        let v = json!({"eventName": "e", "requestParameters": {"key": "k\"q"}});
        same(&v.to_string());
    }
}

#[cfg(test)]
mod props {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const KEYS: [&str; 13] = [
        "bucketName",
        "key",
        "versionId",
        "x-amz-copy-source",
        "roleArn",
        "credentials",
        "configurationOverrides",
        "id",
        "other",
        "databaseName",
        "tableName",
        "name",
        "catalogId",
    ];

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\\\\é/]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(&KEYS[..]), inner), 0..5)
                    .prop_map(|kv| {
                        Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                    }),
            ]
        })
    }

    proptest! {
        // The members read equal what `Value::get(..)?.as_str()` gives.
        #[test]
        fn params_read_what_a_value_holds(v in json()) {
            let text = serde_json::json!({"requestParameters": v}).to_string();
            let view: RecordView = serde_json::from_str(&text).unwrap();
            let p = view.req();
            prop_assert_eq!(p.is_some(), !v.is_null());
            let p = p.cloned().unwrap_or_default();
            let s = |k: &str| v.get(k).and_then(Value::as_str);
            prop_assert_eq!(p.bucket_name(), s("bucketName"));
            prop_assert_eq!(p.key(), s("key"));
            prop_assert_eq!(p.has_key, v.get("key").is_some());
            prop_assert_eq!(p.version_id(), s("versionId"));
            prop_assert_eq!(p.copy_source(), s("x-amz-copy-source"));
            prop_assert_eq!(p.role_arn(), s("roleArn"));
            prop_assert_eq!(p.id(), s("id"));
            prop_assert_eq!(p.database_name(), s("databaseName"));
            prop_assert_eq!(p.table_name(), s("tableName"));
            prop_assert_eq!(p.name(), s("name"));
            prop_assert_eq!(p.catalog_id(), s("catalogId"));
            prop_assert_eq!(p.credentials.as_ref(), v.get("credentials"));
            prop_assert_eq!(p.configuration_overrides.as_ref(), v.get("configurationOverrides"));
        }
    }
}

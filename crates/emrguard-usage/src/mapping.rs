//! CloudTrail event → the IAM actions and resources it was authorized by, from
//! `data/operations.tsv` (the AWS service reference's operation → authorized-actions table),
//! narrowed by the request (versionId, CopyObject's source, ListObjects' prefix, SSE-KMS).

use crate::view::{with_record, Params, RecordView};
use emrguard_model::aws::misc::CloudTrailRecord;
use serde_json::Value;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/operations.tsv");

/// How the resource of an operation is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `arn:aws:s3:::<bucket>/<key>`.
    Object,
    /// `arn:aws:s3:::<bucket>`.
    Bucket,
    /// CopyObject / UploadPartCopy: `s3:GetObject` on the source object, the row's actions on
    /// the target object.
    Copy,
    /// `*` (actions that take no resource).
    Any,
    /// The record's `resources[].ARN`, else `*`.
    Event,
    /// Glue Data Catalog objects named by the request (IAM checks the catalog, the database and
    /// the table; AWS Glue developer guide, "Specifying AWS Glue resource ARNs"); `*` when the
    /// request names no database (or the region/account are unknown).
    Glue(GlueScope),
}

/// Which Glue objects an operation is authorized on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlueScope {
    /// `catalog` and `database/*` (GetDatabases).
    Catalog,
    /// `catalog`, `database/DB` (DB from `name`, else `databaseName`).
    Database,
    /// `catalog`, `database/DB`, `table/DB/T` (T from `tableName`, else `name`).
    Table,
    /// `catalog`, `database/DB`, `table/DB/*` (GetTables, CreateTable, UpdateTable).
    Tables,
}

#[derive(Debug, Clone)]
struct Row {
    actions: Vec<String>,
    resource: ResourceKind,
}

/// The operations table.
#[derive(Debug)]
pub struct OperationTable {
    version: String,
    /// (event source, event name, variant) → row.
    rows: hashbrown::HashMap<(String, String, String), Row>,
}

/// A row's key borrowed (hashes as the tuple of strings does).
#[derive(Hash)]
struct RowKey<'a>(&'a str, &'a str, &'a str);

impl hashbrown::Equivalent<(String, String, String)> for RowKey<'_> {
    fn equivalent(&self, k: &(String, String, String)) -> bool {
        self.0 == k.0 && self.1 == k.1 && self.2 == k.2
    }
}

impl OperationTable {
    /// The table compiled in from `data/operations.tsv`.
    pub fn global() -> &'static OperationTable {
        static T: OnceLock<OperationTable> = OnceLock::new();
        T.get_or_init(|| OperationTable::parse(DATA).unwrap_or_else(|_| OperationTable::empty()))
    }

    fn empty() -> OperationTable {
        OperationTable {
            version: String::new(),
            rows: hashbrown::HashMap::new(),
        }
    }

    /// Parse the TSV format documented at the top of `data/operations.tsv`.
    pub fn parse(text: &str) -> Result<OperationTable, String> {
        let mut t = OperationTable::empty();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            match f.as_slice() {
                ["V", source, date] => t.version = format!("{source} {date}"),
                [src, name, variant, actions, res] => {
                    let resource = match *res {
                        "object" => ResourceKind::Object,
                        "bucket" => ResourceKind::Bucket,
                        "copy" => ResourceKind::Copy,
                        "any" => ResourceKind::Any,
                        "event" => ResourceKind::Event,
                        "glue-catalog" => ResourceKind::Glue(GlueScope::Catalog),
                        "glue-database" => ResourceKind::Glue(GlueScope::Database),
                        "glue-table" => ResourceKind::Glue(GlueScope::Table),
                        "glue-tables" => ResourceKind::Glue(GlueScope::Tables),
                        other => return Err(format!("line {}: unknown resource {other:?}", i + 1)),
                    };
                    let actions = actions
                        .split(',')
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect();
                    t.rows.insert(
                        ((*src).to_owned(), (*name).to_owned(), (*variant).to_owned()),
                        Row { actions, resource },
                    );
                }
                _ => return Err(format!("line {}: expected 5 tab-separated fields", i + 1)),
            }
        }
        Ok(t)
    }

    /// `seed 2026-12-03` or `service-reference <date>`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, source: &str, name: &str, variant: &str) -> Option<&Row> {
        self.rows.get(&RowKey(source, name, variant)).or_else(|| {
            // A variant the table does not distinguish is the plain call.
            self.rows.get(&RowKey(source, name, ""))
        })
    }
}

/// One IAM authorization an event needed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Authorization {
    /// `s3:GetObject`.
    pub action: String,
    /// The real ARN (`arn:aws:s3:::bucket/full/key`), or `*`.
    pub resource: String,
    /// `s3:prefix` of a ListObjects call (empty: none given).
    pub s3_prefix: Option<String>,
}

/// What an event maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The authorizations (empty: the call needs no permission, e.g. GetCallerIdentity).
    Actions(Vec<Authorization>),
    /// Not in the table: listed, never guessed.
    Unmapped,
}

/// The request shape an event's action depends on (`version` when a `versionId` was given).
pub fn variant(req: Option<&Value>) -> &'static str {
    match req.and_then(|r| r.get("versionId")) {
        Some(Value::String(s)) if !s.is_empty() => "version",
        _ => "",
    }
}

/// Map a CloudTrail record.
pub fn map_record(rec: &CloudTrailRecord) -> Mapped {
    with_record(rec, map_view)
}

/// Map a CloudTrail record (as read from a log file).
pub fn map_view<'a>(rec: &RecordView<'a>) -> Mapped {
    let (Some(src), Some(name)) = (rec.event_source(), rec.event_name()) else {
        return Mapped::Unmapped;
    };
    let req = rec.req();
    let resp = rec.resp();
    let event_arns: Vec<&str> = rec.resource_arns().collect();
    let field = |f: for<'x> fn(&'x Params<'a>) -> Option<&'x str>| req.and_then(f);
    let either = |f: for<'x> fn(&'x Params<'a>) -> Option<&'x str>| {
        req.and_then(f).or_else(|| resp.and_then(f))
    };
    let sse = either(Params::sse).unwrap_or("");
    let kms_key = either(Params::sse_kms_key_id).unwrap_or("");
    let variant = match field(Params::version_id) {
        Some(s) if !s.is_empty() => "version",
        _ => "",
    };
    map_parts(&MapInput {
        source: src,
        name,
        variant,
        bucket: field(Params::bucket_name).unwrap_or(""),
        key: field(Params::key).unwrap_or(""),
        prefix: field(Params::prefix),
        copy_source: field(Params::copy_source),
        sse_kms_key: (sse == "aws:kms").then_some(kms_key),
        event_arns: &event_arns,
        region: rec.aws_region().unwrap_or(""),
        account: field(Params::catalog_id)
            .or_else(|| rec.identity_arn().and_then(|a| a.split(':').nth(4)))
            .unwrap_or(""),
        database_name: field(Params::database_name),
        table_name: field(Params::table_name),
        name_param: field(Params::name),
    })
}

/// The parts of an event the mapping reads (also built from a usage-summary row).
#[derive(Debug, Clone, Default)]
pub struct MapInput<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub variant: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub prefix: Option<&'a str>,
    /// `source-bucket/key[?versionId=...]`, URL-encoded as S3 logs it.
    pub copy_source: Option<&'a str>,
    /// SSE-KMS was used; the key ARN or id when logged (may be empty).
    pub sse_kms_key: Option<&'a str>,
    pub event_arns: &'a [&'a str],
    /// The record's region and account (the catalog's: `catalogId`, else the caller's).
    pub region: &'a str,
    pub account: &'a str,
    /// Glue: `databaseName`, `tableName` and `name` of the request.
    pub database_name: Option<&'a str>,
    pub table_name: Option<&'a str>,
    pub name_param: Option<&'a str>,
}

/// `aws`, `aws-cn` or `aws-us-gov` for a region.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The Glue resources `scope` names for `m`, or None when the request does not say.
fn glue_resources(m: &MapInput<'_>, scope: GlueScope) -> Option<Vec<String>> {
    let ok = |s: &str| !s.is_empty() && !s.contains(['*', '?', '/', ':']);
    if !ok(m.region) || !m.account.chars().all(|c| c.is_ascii_digit()) || m.account.is_empty() {
        return None;
    }
    let base = format!(
        "arn:{}:glue:{}:{}:",
        partition_of(m.region),
        m.region,
        m.account
    );
    let catalog = format!("{base}catalog");
    let db = match scope {
        GlueScope::Catalog => return Some(vec![catalog, format!("{base}database/*")]),
        GlueScope::Database => m.name_param.or(m.database_name),
        GlueScope::Table | GlueScope::Tables => m.database_name,
    }
    .filter(|d| ok(d))?;
    let mut out = vec![catalog, format!("{base}database/{db}")];
    match scope {
        GlueScope::Table => {
            let t = m.table_name.or(m.name_param).filter(|t| ok(t))?;
            out.push(format!("{base}table/{db}/{t}"));
        }
        GlueScope::Tables => out.push(format!("{base}table/{db}/*")),
        _ => {}
    }
    Some(out)
}

pub fn map_parts(m: &MapInput<'_>) -> Mapped {
    let table = OperationTable::global();
    let Some(row) = table.row(m.source, m.name, m.variant) else {
        return Mapped::Unmapped;
    };
    let object = || format!("arn:aws:s3:::{}/{}", m.bucket, m.key);
    let mut out = Vec::new();
    let push = |out: &mut Vec<Authorization>, action: &str, resource: String| {
        out.push(Authorization {
            action: action.to_owned(),
            resource,
            s3_prefix: None,
        })
    };
    match row.resource {
        ResourceKind::Object => {
            for a in &row.actions {
                push(&mut out, a, object());
            }
        }
        ResourceKind::Bucket => {
            for a in &row.actions {
                out.push(Authorization {
                    action: a.clone(),
                    resource: format!("arn:aws:s3:::{}", m.bucket),
                    s3_prefix: if a == "s3:ListBucket" {
                        Some(m.prefix.unwrap_or("").to_owned())
                    } else {
                        None
                    },
                });
            }
        }
        ResourceKind::Copy => {
            for a in &row.actions {
                push(&mut out, a, object());
            }
            if let Some(src) = m.copy_source {
                let decoded = percent_encoding::percent_decode_str(src).decode_utf8_lossy();
                let (path, query) = match decoded.split_once('?') {
                    Some((p, q)) => (p.to_owned(), q.to_owned()),
                    None => (decoded.to_string(), String::new()),
                };
                let path = path.trim_start_matches('/');
                let action = if query.contains("versionId=") {
                    "s3:GetObjectVersion"
                } else {
                    "s3:GetObject"
                };
                push(&mut out, action, format!("arn:aws:s3:::{path}"));
            }
        }
        ResourceKind::Any => {
            for a in &row.actions {
                push(&mut out, a, "*".to_owned());
            }
        }
        ResourceKind::Glue(scope) if glue_resources(m, scope).is_some() => {
            for a in &row.actions {
                for r in glue_resources(m, scope).into_iter().flatten() {
                    push(&mut out, a, r);
                }
            }
        }
        ResourceKind::Event | ResourceKind::Glue(_) => {
            for a in &row.actions {
                if m.event_arns.is_empty() {
                    push(&mut out, a, "*".to_owned());
                }
                for arn in m.event_arns {
                    push(&mut out, a, (*arn).to_owned());
                }
            }
        }
    }
    // SSE-KMS through S3: S3 calls KMS with the caller's permissions.
    if let Some(key) = m.sse_kms_key {
        if m.source == "s3.amazonaws.com" {
            let res = if key.starts_with("arn:") {
                key.to_owned()
            } else {
                "*".to_owned()
            };
            let writes = out.iter().any(|a| a.action.starts_with("s3:Put"));
            let kms = if writes {
                "kms:GenerateDataKey"
            } else {
                "kms:Decrypt"
            };
            push(&mut out, kms, res);
        }
    }
    Mapped::Actions(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: serde_json::Value) -> CloudTrailRecord {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn table_parses_and_has_a_version() {
        let t = OperationTable::global();
        assert!(t.len() > 50, "{}", t.len());
        assert!(!t.version().is_empty());
    }

    #[test]
    fn every_action_is_in_the_catalogue() {
        let cat = emrguard_iam::Catalogue::global();
        for row in OperationTable::global().rows.values() {
            for a in &row.actions {
                assert!(cat.lookup(a).is_some(), "{a} not in the IAM catalogue");
            }
        }
    }

    #[test]
    fn version_id_narrows_to_version_actions() {
        let r = rec(
            serde_json::json!({"eventSource":"s3.amazonaws.com","eventName":"GetObject",
            "requestParameters":{"bucketName":"b","key":"k/x","versionId":"3"}}),
        );
        let Mapped::Actions(a) = map_record(&r) else {
            panic!("unmapped")
        };
        assert_eq!(a[0].action, "s3:GetObjectVersion");
        assert_eq!(a[0].resource, "arn:aws:s3:::b/k/x");
    }

    #[test]
    fn copy_object_reads_source_and_writes_target() {
        let r = rec(
            serde_json::json!({"eventSource":"s3.amazonaws.com","eventName":"CopyObject",
            "requestParameters":{"bucketName":"dst","key":"out/a","x-amz-copy-source":"src/in%2Fa"}}),
        );
        let Mapped::Actions(a) = map_record(&r) else {
            panic!("unmapped")
        };
        let got: Vec<(&str, &str)> = a
            .iter()
            .map(|x| (x.action.as_str(), x.resource.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("s3:PutObject", "arn:aws:s3:::dst/out/a"),
                ("s3:GetObject", "arn:aws:s3:::src/in/a")
            ]
        );
    }

    #[test]
    fn glue_calls_name_catalog_database_and_table() {
        let m = |v: serde_json::Value| match map_record(&rec(v)) {
            Mapped::Actions(a) => a
                .into_iter()
                .map(|x| format!("{} {}", x.action, x.resource))
                .collect::<Vec<_>>(),
            Mapped::Unmapped => vec![],
        };
        let who = serde_json::json!({"type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/job/s"});
        let a = m(
            serde_json::json!({"eventSource": "glue.amazonaws.com", "eventName": "GetTable",
            "awsRegion": "eu-west-1", "userIdentity": who,
            "requestParameters": {"databaseName": "sales", "name": "orders"}}),
        );
        assert_eq!(
            a,
            vec![
                "glue:GetTable arn:aws:glue:eu-west-1:111122223333:catalog",
                "glue:GetTable arn:aws:glue:eu-west-1:111122223333:database/sales",
                "glue:GetTable arn:aws:glue:eu-west-1:111122223333:table/sales/orders",
            ]
        );
        // Another account's catalog.
        let a = m(
            serde_json::json!({"eventSource": "glue.amazonaws.com", "eventName": "GetPartitions",
            "awsRegion": "eu-west-1", "userIdentity": who,
            "requestParameters": {"catalogId": "444455556666", "databaseName": "sales", "tableName": "orders"}}),
        );
        assert!(a.iter().all(|x| x.contains(":444455556666:")), "{a:?}");
        // GetTables: every table of the database; no database named: `*`.
        let a = m(
            serde_json::json!({"eventSource": "glue.amazonaws.com", "eventName": "GetTables",
            "awsRegion": "eu-west-1", "userIdentity": who, "requestParameters": {"databaseName": "sales"}}),
        );
        assert!(a.contains(
            &"glue:GetTables arn:aws:glue:eu-west-1:111122223333:table/sales/*".to_owned()
        ));
        let a = m(
            serde_json::json!({"eventSource": "glue.amazonaws.com", "eventName": "GetTable",
            "awsRegion": "eu-west-1", "userIdentity": who, "requestParameters": {"name": "orders"}}),
        );
        assert_eq!(a, vec!["glue:GetTable *"]);
        // A wildcard in a logged name is not a resource.
        let a = m(
            serde_json::json!({"eventSource": "glue.amazonaws.com", "eventName": "GetDatabase",
            "awsRegion": "eu-west-1", "userIdentity": who, "requestParameters": {"name": "s*"}}),
        );
        assert_eq!(a, vec!["glue:GetDatabase *"]);
    }

    #[test]
    fn multipart_is_put_object_and_sse_kms_needs_generate_data_key() {
        let r = rec(
            serde_json::json!({"eventSource":"s3.amazonaws.com","eventName":"CreateMultipartUpload",
            "requestParameters":{"bucketName":"b","key":"k","x-amz-server-side-encryption":"aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:1:key/k1"}}),
        );
        let Mapped::Actions(a) = map_record(&r) else {
            panic!("unmapped")
        };
        assert_eq!(a[0].action, "s3:PutObject");
        assert_eq!(a[1].action, "kms:GenerateDataKey");
        assert_eq!(a[1].resource, "arn:aws:kms:us-east-1:1:key/k1");
    }

    #[test]
    fn list_objects_is_list_bucket_with_prefix() {
        let r = rec(
            serde_json::json!({"eventSource":"s3.amazonaws.com","eventName":"ListObjects",
            "requestParameters":{"bucketName":"b","prefix":"raw/dt=2024-01-01/","list-type":"2"}}),
        );
        let Mapped::Actions(a) = map_record(&r) else {
            panic!("unmapped")
        };
        assert_eq!(a[0].action, "s3:ListBucket");
        assert_eq!(a[0].resource, "arn:aws:s3:::b");
        assert_eq!(a[0].s3_prefix.as_deref(), Some("raw/dt=2024-01-01/"));
    }

    #[test]
    fn unknown_events_are_unmapped_and_permissionless_ones_empty() {
        let r = rec(
            serde_json::json!({"eventSource":"lambda.amazonaws.com","eventName":"UpdateFunctionConfiguration20150331v2"}),
        );
        assert_eq!(map_record(&r), Mapped::Unmapped);
        let r = rec(
            serde_json::json!({"eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity"}),
        );
        assert_eq!(map_record(&r), Mapped::Actions(vec![]));
    }
}

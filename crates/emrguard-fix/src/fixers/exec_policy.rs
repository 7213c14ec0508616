//! Execution-role permissions (IAM001–IAM005, IAM010, IAM011).
//!
//! A careful engineer replaces a wide execution-role policy with what the role's jobs use, as
//! the snapshot shows it, with real ARNs:
//!
//! - S3: every `s3://` / `s3a://` path in the job drivers, arguments and Spark/Hive
//!   configuration of the role's job runs, templates and endpoints. Code and dependencies
//!   (entry point, `--py-files`, `--jars`, `spark.*` values) are read (`s3:GetObject` on the
//!   path's folder, `s3:ListBucket` on the bucket); entry-point arguments may be outputs, so
//!   their prefixes also get `s3:PutObject`/`s3:DeleteObject` and the README asks to confirm.
//! - Logs: `s3:PutObject` under each `logUri`, `logs:CreateLogStream`,
//!   `logs:DescribeLogStreams`, `logs:PutLogEvents` on each CloudWatch log group (the EMR on
//!   EKS guide's policy), in the estate's region and account.
//! - What CloudTrail shows the role using, when the snapshot has CloudTrail records or a usage
//!   summary (the usage audit, `emrguard_usage`): its least-privilege statements (real ARNs, S3
//!   keys collapsed to the prefixes used) are added, and the Glue databases they name replace
//!   the account-wide Glue grant. The job-derived statements stay beside them: a log
//!   destination or a job path the window did not show must keep working (IAM011, POD005).
//!   Without usage, jobs that name the Glue catalog keep Glue access on the account's catalog
//!   and the README asks which databases.
//!
//! Everything else the role had (managed policies, other inline policies) is removed, and the
//! README lists it for a decision: a job that needs more shows it in its first failed run, a
//! wide grant shows nothing until it is abused. When a permissions boundary denies a log
//! destination (IAM011), the boundary gets a new default version that also allows it.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::index::Workload;
use emrguard_model::{aws::iam::Role, Finding, Located};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &[
        "IAM001", "IAM002", "IAM003", "IAM004", "IAM005", "IAM010", "IAM011",
    ],
    run,
};

/// The name of the policy the fix writes.
pub const POLICY_NAME: &str = "emrguard-least-privilege";

/// What the snapshot shows a role's jobs use.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Usage {
    /// `bucket/prefix` folders read.
    pub read: BTreeSet<(String, String)>,
    /// `bucket/prefix` folders possibly written (entry-point arguments).
    pub write: BTreeSet<(String, String)>,
    /// S3 log prefixes.
    pub s3_logs: BTreeSet<(String, String)>,
    /// CloudWatch log groups.
    pub log_groups: BTreeSet<String>,
    /// Some job names the Glue Data Catalog.
    pub glue: bool,
}

/// What the usage audit saw one role do.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The usage audit's least-privilege statements (Sids prefixed `Observed`).
    pub statements: Vec<Value>,
    /// Glue databases the role's calls named.
    pub glue_dbs: Vec<String>,
    pub window: String,
    pub events: u64,
    /// Denied attempts (action, resource): listed, not granted.
    pub denied: Vec<(String, String)>,
    /// The statements fit the inline-policy size left beside the job-derived ones.
    pub fits: bool,
}

/// The usage report of the roles the fixer changes, when the snapshot has CloudTrail records
/// or usage summaries; computed once for all of them.
pub fn usage_report(
    fcx: &FixContext<'_, '_, '_>,
    roles: &[&str],
) -> Option<emrguard_usage::UsageReport> {
    let snap = fcx.cx.index.snap;
    if (snap.cloudtrail.is_empty() && snap.usage_rows.is_empty()) || roles.is_empty() {
        return None;
    }
    Some(emrguard_usage::report_for_snapshot(
        snap,
        &emrguard_usage::Options {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..Default::default()
        },
    ))
}

/// The Glue database a Glue resource ARN names (`database/DB`, `table/DB/T`, `partition/DB/T/..`).
fn glue_database(resource: &str) -> Option<String> {
    let res = resource.splitn(6, ':').nth(5)?;
    let mut parts = res.split('/');
    match parts.next()? {
        "database" | "table" | "partition" | "userDefinedFunction" => {
            let db = parts.next()?;
            (!db.is_empty() && !db.contains('*')).then(|| db.to_owned())
        }
        _ => None,
    }
}

/// `st` without the Glue actions it grants on `*` when `glue_granted` (the job-derived Glue
/// statement covers them); those actions go to `unnamed`. None when nothing is left.
fn narrow_unnamed(st: &Value, glue_granted: bool, unnamed: &mut Vec<String>) -> Option<Value> {
    if !glue_granted || st.get("Resource").and_then(Value::as_str) != Some("*") {
        return Some(st.clone());
    }
    let actions: Vec<String> = match st.get("Action") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => return Some(st.clone()),
    };
    let (glue, rest): (Vec<String>, Vec<String>) =
        actions.into_iter().partition(|a| a.starts_with("glue:"));
    unnamed.extend(glue);
    if rest.is_empty() {
        return None;
    }
    let mut out = st.clone();
    if let Some(o) = out.as_object_mut() {
        o.insert("Action".into(), json!(rest));
    }
    Some(out)
}

/// What `report` shows `role_arn` using, within `room` characters of policy.
pub fn observed(
    report: Option<&emrguard_usage::UsageReport>,
    role_arn: &str,
    room: usize,
) -> Option<Observed> {
    let report = report?;
    let ru = report.role(role_arn)?;
    if ru.used.is_empty() {
        return None;
    }
    let gp = emrguard_usage::least_privilege_policy(
        ru,
        &emrguard_usage::PolicyOptions {
            max_chars: room,
            include_denied: false,
        },
    );
    let statements = gp
        .document
        .get("Statement")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut st| {
            if let Some(o) = st.as_object_mut() {
                let sid = o
                    .get("Sid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                o.insert("Sid".into(), Value::String(format!("Observed{sid}")));
            }
            st
        })
        .collect();
    let glue_dbs: BTreeSet<String> = ru
        .used
        .iter()
        .filter(|u| u.action.starts_with("glue:"))
        .filter_map(|u| glue_database(&u.resource))
        .collect();
    Some(Observed {
        statements,
        glue_dbs: glue_dbs.into_iter().collect(),
        window: report.window_text(),
        events: ru.events,
        denied: gp.denied_not_granted,
        fits: gp.fits,
    })
}

fn s3_parts(s: &str) -> Option<(String, String)> {
    let start = s.find("s3://").or_else(|| s.find("s3a://"))?;
    let rest = s.get(start..)?;
    let rest = rest
        .strip_prefix("s3://")
        .or_else(|| rest.strip_prefix("s3a://"))?;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
        .unwrap_or(rest.len());
    let path = rest.get(..end)?;
    if path.contains("${") {
        return None;
    }
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_owned(), key.to_owned()))
}

/// The folder a path names: a key with a file extension in its last segment is a file (its
/// folder), otherwise the key is a folder itself.
fn folder(key: &str) -> String {
    let k = key.trim_end_matches('/');
    match k.rsplit_once('/') {
        Some((dir, last)) if last.contains('.') => format!("{dir}/"),
        None if k.contains('.') => String::new(),
        _ if k.is_empty() => String::new(),
        _ => format!("{k}/"),
    }
}

fn walk(v: &Value, key: &str, under_args: bool, u: &mut Usage) {
    match v {
        Value::String(s) => {
            if s.contains("AWSGlueDataCatalog") || s.contains("glue.catalog") {
                u.glue = true;
            }
            match key {
                "logUri" => {
                    if let Some((b, k)) = s3_parts(s) {
                        u.s3_logs.insert((b, k));
                    }
                }
                "logGroupName" => {
                    if !s.is_empty() && !s.contains("${") {
                        u.log_groups.insert(s.clone());
                    }
                }
                _ => {
                    // Several paths may sit in one string (`--py-files a,b`).
                    let mut rest = s.as_str();
                    while let Some(i) = rest.find("s3") {
                        let tail = rest.get(i..).unwrap_or("");
                        if let Some((b, k)) = s3_parts(tail)
                            .filter(|_| tail.starts_with("s3://") || tail.starts_with("s3a://"))
                        {
                            let f = folder(&k);
                            if under_args {
                                u.write.insert((b.clone(), f.clone()));
                            }
                            u.read.insert((b, f));
                        }
                        rest = tail.get(2..).unwrap_or("");
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                walk(x, key, under_args, u);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if k == "glue" || k.contains("glue") {
                    u.glue = true;
                }
                walk(x, k, under_args || k == "entryPointArguments", u);
            }
        }
        _ => {}
    }
}

/// What the role's job runs, templates and endpoints use.
pub fn usage(fcx: &FixContext<'_, '_, '_>, role_arn: &str) -> Usage {
    let mut u = Usage::default();
    let snap = fcx.cx.index.snap;
    let Some(er) = fcx.cx.execution_roles().get(role_arn) else {
        return u;
    };
    for w in er.workloads() {
        let v = match w {
            Workload::JobRun(i) => snap
                .job_runs
                .get(i)
                .and_then(|j| serde_json::to_value(&j.value).ok()),
            Workload::JobTemplate(i) => snap
                .job_templates
                .get(i)
                .and_then(|j| serde_json::to_value(&j.value).ok()),
            Workload::Endpoint(i) => snap
                .endpoints
                .get(i)
                .and_then(|j| serde_json::to_value(&j.value).ok()),
        };
        if let Some(v) = v {
            walk(&v, "", false, &mut u);
        }
    }
    // Log prefixes are written, not read as code.
    let logs: Vec<(String, String)> = u.s3_logs.iter().cloned().collect();
    for (b, k) in logs {
        let f = folder(&k);
        u.read.remove(&(b.clone(), f.clone()));
        u.write.remove(&(b, f));
    }
    u
}

/// The least-privilege policy document for `u`.
pub fn policy(fcx: &FixContext<'_, '_, '_>, u: &Usage, glue_dbs: Option<&[String]>) -> Value {
    let v = &fcx.values;
    let p = v.partition();
    let obj = |(b, f): &(String, String)| format!("arn:{p}:s3:::{b}/{f}*");
    let mut st = Vec::new();
    if !u.read.is_empty() {
        st.push(json!({
            "Sid": "ReadJobCodeAndData",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": u.read.iter().map(obj).collect::<Vec<_>>()
        }));
    }
    if !u.write.is_empty() {
        st.push(json!({
            "Sid": "WriteJobOutputs",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": u.write.iter().map(obj).collect::<Vec<_>>()
        }));
    }
    let buckets: BTreeSet<&String> = u
        .read
        .iter()
        .chain(u.write.iter())
        .map(|(b, _)| b)
        .collect();
    if !buckets.is_empty() {
        st.push(json!({
            "Sid": "ListJobBuckets",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": buckets.iter().map(|b| format!("arn:{p}:s3:::{b}")).collect::<Vec<_>>()
        }));
    }
    if !u.s3_logs.is_empty() {
        st.push(json!({
            "Sid": "WriteJobLogsToS3",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": u.s3_logs.iter().map(|(b, k)| {
                let k = k.trim_end_matches('/');
                if k.is_empty() { format!("arn:{p}:s3:::{b}/*") } else { format!("arn:{p}:s3:::{b}/{k}/*") }
            }).collect::<Vec<_>>()
        }));
    }
    if !u.log_groups.is_empty() {
        st.push(json!({
            "Sid": "WriteJobLogsToCloudWatch",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": u.log_groups.iter().map(|g| v.arn("logs", &format!("log-group:{g}:*"))).collect::<Vec<_>>()
        }));
    }
    if u.glue {
        let mut res = vec![v.arn("glue", "catalog")];
        match glue_dbs {
            Some(dbs) => {
                for d in dbs {
                    res.push(v.arn("glue", &format!("database/{d}")));
                    res.push(v.arn("glue", &format!("table/{d}/*")));
                }
            }
            None => {
                res.push(v.arn("glue", "database/*"));
                res.push(v.arn("glue", "table/*/*"));
            }
        }
        st.push(json!({
            "Sid": "GlueDataCatalog",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                       "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
                       "glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition",
                       "glue:BatchCreatePartition", "glue:UpdatePartition"],
            "Resource": res
        }));
    }
    json!({"Version": "2012-10-17", "Statement": st})
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut by_role: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(arn) = f.resource.arn.as_deref() {
            by_role.entry(arn).or_default().push(f);
        }
    }
    let roles: Vec<&str> = by_role.keys().copied().collect();
    let report = usage_report(fcx, &roles);
    let mut out = Vec::new();
    for (arn, fs) in by_role {
        let Some(role) = fcx.cx.index.role(arn) else {
            continue;
        };
        out.extend(fix_role(fcx, role, &fs, report.as_ref()));
    }
    out
}

fn fix_role(
    fcx: &FixContext<'_, '_, '_>,
    role: &Located<Role>,
    fs: &[&Finding],
    report: Option<&emrguard_usage::UsageReport>,
) -> Vec<Fix> {
    let u = usage(fcx, &role.arn);
    // The job-derived document first, to know the room left for what CloudTrail shows.
    let base = policy(fcx, &u, None);
    let room = emrguard_usage::policy::INLINE_ROLE_POLICY_LIMIT
        .saturating_sub(emrguard_usage::policy::policy_size(&base));
    let seen = observed(report, &role.arn, room);
    let dbs: Option<Vec<String>> = seen
        .as_ref()
        .filter(|o| !o.glue_dbs.is_empty())
        .map(|o| o.glue_dbs.clone());
    let mut doc = policy(fcx, &u, dbs.as_deref());
    // Calls whose resource CloudTrail does not name come out on `*`; where the job-derived
    // statements already grant that service (Glue), they add nothing but a wildcard.
    let mut unnamed: Vec<String> = Vec::new();
    let observed_statements: Vec<Value> = seen
        .as_ref()
        .map(|o| {
            o.statements
                .iter()
                .filter_map(|st| narrow_unnamed(st, u.glue, &mut unnamed))
                .collect()
        })
        .unwrap_or_default();
    // Glue used on resources CloudTrail does not name, with no job-derived Glue statement:
    // kept (the jobs use it), but the all-tables finding stays open.
    let glue_wide = observed_statements.iter().any(|st| {
        st.get("Resource").and_then(Value::as_str) == Some("*")
            && match st.get("Action") {
                Some(Value::String(a)) => a.starts_with("glue:"),
                Some(Value::Array(a)) => a
                    .iter()
                    .any(|x| x.as_str().is_some_and(|x| x.starts_with("glue:"))),
                _ => false,
            }
    });
    if let Some(Value::Array(st)) = doc.get_mut("Statement") {
        st.extend(observed_statements.iter().cloned());
    }
    let name = &role.role_name;
    let fname = crate::file_name(name);
    let path = format!("artifacts/iam/{fname}.policy.json");
    let mut commands = vec![format!(
        "aws iam put-role-policy --role-name {} --policy-name {POLICY_NAME} --policy-document file://{path}",
        sh(name)
    )];
    let mut edits = Vec::new();
    let mut removed = Vec::new();
    for (i, p) in role.attached_managed_policies.iter().enumerate() {
        let (command, edit) = super::detach_managed_policy(role, i, &p.policy_arn);
        commands.push(command);
        removed.push(format!("managed policy `{}`", p.policy_name));
        edits.push(edit);
    }
    for (i, p) in role.role_policy_list.iter().enumerate() {
        if p.policy_name == POLICY_NAME {
            continue;
        }
        commands.push(format!(
            "aws iam delete-role-policy --role-name {} --policy-name {}",
            sh(name),
            sh(&p.policy_name)
        ));
        removed.push(format!("inline policy `{}`", p.policy_name));
        edits.push(Edit::at(
            &role.loc,
            &format!("/RolePolicyList/{i}"),
            Op::Remove,
        ));
    }
    edits.push(Edit::at(
        &role.loc,
        "/RolePolicyList/-",
        Op::Set(json!({"PolicyName": POLICY_NAME, "PolicyDocument": doc.clone()})),
    ));
    let mut details = vec![format!(
        "`{name}` gets one inline policy `{POLICY_NAME}` with what its jobs use: {} read location(s), {} output location(s), {} S3 log prefix(es), {} CloudWatch log group(s){}.",
        u.read.len(),
        u.write.len(),
        u.s3_logs.len(),
        u.log_groups.len(),
        if u.glue { ", the Glue Data Catalog" } else { "" }
    )];
    let mut decisions = Vec::new();
    if !removed.is_empty() {
        details.push(format!("Removed: {}.", removed.join(", ")));
        decisions.push(format!(
            "Jobs of `{name}` that need more than the snapshot shows (other buckets, KMS keys, DynamoDB, ...) fail after this change: add exactly those resources to `{path}`."
        ));
    }
    if !u.write.is_empty() {
        decisions.push(format!(
            "The write access on entry-point argument paths of `{name}` is a guess (arguments may be inputs): keep it only for real outputs."
        ));
    }
    if let Some(o) = &seen {
        details.push(format!(
            "CloudTrail shows {} call(s) of `{name}` over {}: the policy also grants exactly what they used ({} statement(s), S3 keys collapsed to the prefixes used){}.",
            o.events,
            o.window,
            observed_statements.len(),
            if o.glue_dbs.is_empty() { String::new() } else { format!("; Glue limited to database(s) {}", o.glue_dbs.join(", ")) }
        ));
        decisions.push(format!(
            "The usage window is {}: permissions `{name}`'s jobs use less often than that (month-end runs, backfills) are not in the observed statements; add them to `{path}` if they are needed.",
            o.window
        ));
        if !unnamed.is_empty() {
            decisions.push(format!(
                "CloudTrail does not name the resources of `{name}`'s calls {}: the Glue statement above covers them; name the databases to narrow it.",
                unnamed.join(", ")
            ));
        }
        if !o.denied.is_empty() {
            let d: Vec<String> = o
                .denied
                .iter()
                .map(|(a, r)| format!("{a} on {r}"))
                .collect();
            decisions.push(format!(
                "CloudTrail shows denied attempts of `{name}` ({}): not granted; grant them only if the jobs need them.",
                d.join(", ")
            ));
        }
        if !o.fits {
            decisions.push(format!(
                "The observed statements of `{name}` do not fit the inline-policy size limit even with S3 prefixes widened to buckets: split them into a managed policy."
            ));
        }
    }
    let mut claimed: Vec<String> = fs.iter().map(|f| f.id.clone()).collect();
    if glue_wide {
        decisions.push(format!(
            "CloudTrail shows `{name}` calling Glue without naming the databases or tables: the observed Glue actions stay on every table; name the databases."
        ));
        claimed.retain(|id| !id.starts_with("IAM005-"));
    } else if u.glue && dbs.is_none() {
        decisions.push(format!(
            "Jobs of `{name}` use the Glue Data Catalog; without a usage summary the policy keeps every database and table of the account: name the databases."
        ));
        // The all-tables finding stays open.
        claimed.retain(|id| !id.starts_with("IAM005-"));
    }
    let mut artifacts = vec![Artifact {
        path: path.clone(),
        contents: json(&doc),
    }];
    // A permissions boundary that denies the log destinations gets them too.
    if fs.iter().any(|f| f.rule == "IAM011") {
        if let Some(b) = boundary_fix(fcx, role, &u) {
            commands.push(b.0);
            artifacts.push(b.1);
            edits.extend(b.2);
            details.push(b.3);
            decisions.push("The permissions boundary may be shared by other roles: they may now also write the log prefixes added to it (still only where their own policies allow). A managed policy keeps at most five versions: delete an old one first if needed.".into());
        }
    }
    vec![Fix {
        findings: claimed,
        title: format!("Least-privilege policy for execution role `{name}`"),
        details,
        decisions,
        artifacts,
        commands,
        edits,
    }]
}

/// A new default version of the role's permissions boundary allowing its log destinations.
fn boundary_fix(
    fcx: &FixContext<'_, '_, '_>,
    role: &Role,
    u: &Usage,
) -> Option<(String, Artifact, Vec<Edit>, String)> {
    let arn = &role.permissions_boundary.as_ref()?.permissions_boundary_arn;
    let pol = fcx.cx.index.managed_policy(arn)?;
    let default = pol
        .policy_version_list
        .iter()
        .position(|v| v.is_default_version)?;
    let cur = pol.policy_version_list.get(default)?;
    let mut doc: Value = serde_json::from_str(cur.document.as_ref()?.text()).ok()?;
    let p = fcx.values.partition();
    let mut logs: Vec<String> = u
        .s3_logs
        .iter()
        .map(|(b, k)| {
            let k = k.trim_end_matches('/');
            if k.is_empty() {
                format!("arn:{p}:s3:::{b}/*")
            } else {
                format!("arn:{p}:s3:::{b}/{k}/*")
            }
        })
        .collect();
    logs.sort();
    let add =
        json!({"Sid": "EmrJobLogs", "Effect": "Allow", "Action": "s3:PutObject", "Resource": logs});
    match doc.get_mut("Statement") {
        Some(Value::Array(a)) => a.push(add),
        Some(other) => {
            let one = other.take();
            *other = json!([one, add]);
        }
        None => return None,
    }
    let next = pol
        .policy_version_list
        .iter()
        .filter_map(|v| v.version_id.trim_start_matches('v').parse::<u32>().ok())
        .max()
        .unwrap_or(1)
        + 1;
    let path = format!(
        "artifacts/iam/{}.boundary.json",
        crate::file_name(&pol.policy_name)
    );
    let mut edits = vec![
        Edit::at(
            &pol.loc,
            &format!("/PolicyVersionList/{default}/IsDefaultVersion"),
            Op::Set(json!(false)),
        ),
        Edit::at(
            &pol.loc,
            "/DefaultVersionId",
            Op::Set(json!(format!("v{next}"))),
        ),
        Edit::at(
            &pol.loc,
            "/PolicyVersionList/-",
            Op::Set(
                json!({"Document": doc.clone(), "VersionId": format!("v{next}"), "IsDefaultVersion": true}),
            ),
        ),
    ];
    edits.dedup();
    Some((
        format!(
            "aws iam create-policy-version --policy-arn {} --policy-document file://{path} --set-as-default",
            sh(arn)
        ),
        Artifact { path: path.clone(), contents: json(&doc) },
        edits,
        format!("Permissions boundary `{}` gets a version v{next} that also allows the role's S3 log prefixes.", pol.policy_name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_databases_of_resources() {
        let a = "arn:aws:glue:us-west-2:111122223333:";
        assert_eq!(
            glue_database(&format!("{a}table/sales/orders")),
            Some("sales".into())
        );
        assert_eq!(
            glue_database(&format!("{a}database/sales")),
            Some("sales".into())
        );
        assert_eq!(glue_database(&format!("{a}catalog")), None);
        assert_eq!(glue_database(&format!("{a}table/*/*")), None);
        assert_eq!(glue_database("*"), None);
    }

    #[test]
    fn folders_and_paths() {
        assert_eq!(folder("jobs/etl.py"), "jobs/");
        assert_eq!(folder("data/in"), "data/in/");
        assert_eq!(folder("etl.py"), "");
        assert_eq!(folder(""), "");
        assert_eq!(
            s3_parts("--conf x=s3://b/k/a.jar,s3://c/d"),
            Some(("b".into(), "k/a.jar".into()))
        );
        assert_eq!(s3_parts("s3://${Bucket}/x"), None);
    }
}

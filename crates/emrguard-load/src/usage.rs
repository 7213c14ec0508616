//! Usage-audit inputs: Athena result files (CSV, or `aws athena get-query-results` JSON) of the
//! queries in `scripts/athena/`, and Kubernetes audit logs as JSON lines.

use crate::dispatch::Ctx;
use emrguard_model::aws::usage::{K8sAuditEvent, SessionSummaryRow, UsageSummaryRow};
use emrguard_model::{Located, SourceLoc};
use serde::Deserialize;

/// Which of the two Athena queries a header belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SummaryKind {
    Usage,
    Sessions,
}

pub(crate) fn summary_kind(header: &[String]) -> Option<SummaryKind> {
    let has = |k: &str| header.iter().any(|h| h == k);
    if has("event_source") && has("event_name") && has("event_count") {
        Some(SummaryKind::Usage)
    } else if has("access_key_id") && has("role_arn") && has("subject") {
        Some(SummaryKind::Sessions)
    } else {
        None
    }
}

/// The first line of a CSV text, as column names, when it names a usage summary.
pub(crate) fn csv_summary_kind(text: &str) -> Option<SummaryKind> {
    let first = text.lines().next()?;
    if !first.contains("event_source") && !first.contains("access_key_id") {
        return None;
    }
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first.as_bytes());
    let rec = r.records().next()?.ok()?;
    let header: Vec<String> = rec.iter().map(|s| s.trim().to_owned()).collect();
    summary_kind(&header)
}

/// Read a CSV usage summary; one bad row is one error.
pub(crate) fn load_csv(ctx: &mut Ctx<'_>, text: &str) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
        Err(e) => return ctx.err_at("line 1", format!("malformed CSV header: {e}")),
    };
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        match rec {
            Ok(rec) => {
                let cells: Vec<&str> = rec.iter().collect();
                push_row(ctx, &header, &cells, format!("/{}", i), Some(line as u32));
            }
            Err(e) => ctx.err_at(&format!("line {line}"), format!("malformed CSV row: {e}")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultSet {
    #[serde(default)]
    rows: Vec<ResultRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultRow {
    #[serde(default)]
    data: Vec<Datum>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Datum {
    #[serde(default)]
    var_char_value: Option<String>,
}

/// `aws athena get-query-results` output: `ResultSet.Rows`, the first row the column names.
/// True when recognised.
pub(crate) fn load_result_set(ctx: &mut Ctx<'_>, result_set: &str) -> bool {
    let Ok(rs) = serde_json::from_str::<ResultSet>(result_set) else {
        return false;
    };
    let mut rows = rs.rows.into_iter();
    let Some(head) = rows.next() else {
        return false;
    };
    let header: Vec<String> = head
        .data
        .into_iter()
        .map(|d| d.var_char_value.unwrap_or_default())
        .collect();
    if summary_kind(&header).is_none() {
        return false;
    }
    for (i, row) in rows.enumerate() {
        let cells: Vec<String> = row
            .data
            .into_iter()
            .map(|d| d.var_char_value.unwrap_or_default())
            .collect();
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        push_row(
            ctx,
            &header,
            &cells,
            format!("/ResultSet/Rows/{}", i + 1),
            None,
        );
    }
    true
}

fn push_row(
    ctx: &mut Ctx<'_>,
    header: &[String],
    cells: &[&str],
    pointer: String,
    line: Option<u32>,
) {
    let get = |k: &str| -> String {
        header
            .iter()
            .position(|h| h == k)
            .and_then(|i| cells.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let loc = SourceLoc::new(ctx.name(), pointer.clone(), line);
    match summary_kind(header) {
        Some(SummaryKind::Usage) => {
            let count = get("event_count");
            let event_count = match count.parse::<u64>() {
                Ok(n) => n,
                Err(_) => {
                    let at = line.map(|l| format!("line {l}")).unwrap_or(pointer);
                    return ctx.err_at(&at, format!("event_count is not a number: {count:?}"));
                }
            };
            let row = UsageSummaryRow {
                role_arn: get("role_arn"),
                access_key_id: get("access_key_id"),
                event_source: get("event_source"),
                event_name: get("event_name"),
                error_code: get("error_code"),
                bucket: get("bucket"),
                key_prefix: get("key_prefix"),
                variant: get("variant"),
                copy_source: get("copy_source"),
                event_count,
                first_seen: get("first_seen"),
                last_seen: get("last_seen"),
                sample_event_id: get("sample_event_id"),
            };
            ctx.kinds.insert("usage summary");
            ctx.objects += 1;
            ctx.snapshot.usage_rows.push(Located::new(row, loc));
        }
        Some(SummaryKind::Sessions) => {
            let row = SessionSummaryRow {
                access_key_id: get("access_key_id"),
                role_arn: get("role_arn"),
                subject: get("subject"),
                first_seen: get("first_seen"),
            };
            ctx.kinds.insert("usage summary (sessions)");
            ctx.objects += 1;
            ctx.snapshot.session_rows.push(Located::new(row, loc));
        }
        None => {}
    }
}

/// `{"kind":"Event","apiVersion":"audit.k8s.io/v1",...}` on each line (the API server's audit
/// log file, a CloudWatch Logs export). None when the first line is not an audit event.
pub(crate) fn load_audit_lines(ctx: &mut Ctx<'_>, text: &str) -> Option<()> {
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    if !is_audit_event(first) {
        return None;
    }
    ctx.kinds.insert("kubernetes audit events");
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line = (i + 1) as u32;
        match serde_json::from_str::<K8sAuditEvent>(l) {
            Ok(e) => {
                ctx.objects += 1;
                let loc = SourceLoc::new(ctx.name(), "", Some(line));
                ctx.snapshot.k8s_audit.push(Located::new(e, loc));
            }
            Err(err) => ctx.err_at(
                &format!("line {line}"),
                format!("malformed audit event: {err}"),
            ),
        }
    }
    Some(())
}

#[derive(Deserialize)]
struct AuditTypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

/// An `audit.k8s.io` `Event` object (text of one JSON object).
pub(crate) fn is_audit_event(text: &str) -> bool {
    serde_json::from_str::<AuditTypeMeta>(text)
        .map(|t| t.api_version.starts_with("audit.k8s.io/") && t.kind == "Event")
        .unwrap_or(false)
}

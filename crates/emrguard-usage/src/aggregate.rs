//! Aggregation of events into uses: (role, access key, action, resource pattern, denied?) →
//! count, first/last seen, an event id. The same shape as the Athena `usage.sql` result, so an
//! organisation's trail can be aggregated in Athena and the rows read instead of the logs.

use crate::attribution::{
    caller_role_view, job_run_of_view, session_of_view, JobRunStart, Session,
};
use crate::mapping::{map_parts, map_view, MapInput, Mapped};
use crate::view::{with_record, RecordView};
use emrguard_model::aws::misc::CloudTrailRecord;
use emrguard_model::aws::usage::{SessionSummaryRow, UsageSummaryRow};
use hashbrown::Equivalent;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A time window (ISO 8601 strings compare in time order; a bare date is its whole day).
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Window {
    pub fn contains(&self, time: &str) -> bool {
        if let Some(s) = &self.since {
            if time < s.as_str() {
                return false;
            }
        }
        if let Some(u) = &self.until {
            // `--until 2024-01-31` includes that day.
            if time > u.as_str() && !time.starts_with(u.as_str()) {
                return false;
            }
        }
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UseKey {
    pub role_arn: String,
    pub access_key_id: String,
    pub action: String,
    /// The resource with S3 keys collapsed to their prefix pattern (`bucket/raw/dt=*/*`).
    pub resource: String,
    pub denied: bool,
}

/// A [`UseKey`] borrowed, to look one up without building it (hashes as `UseKey` does: the
/// fields in order).
#[derive(Hash)]
struct UseKeyRef<'a> {
    role_arn: &'a str,
    access_key_id: &'a str,
    action: &'a str,
    resource: &'a str,
    denied: bool,
}

impl Equivalent<UseKey> for UseKeyRef<'_> {
    fn equivalent(&self, k: &UseKey) -> bool {
        self.denied == k.denied
            && self.action == k.action
            && self.resource == k.resource
            && self.access_key_id == k.access_key_id
            && self.role_arn == k.role_arn
    }
}

impl From<&UseKeyRef<'_>> for UseKey {
    fn from(k: &UseKeyRef<'_>) -> UseKey {
        UseKey {
            role_arn: k.role_arn.to_owned(),
            access_key_id: k.access_key_id.to_owned(),
            action: k.action.to_owned(),
            resource: k.resource.to_owned(),
            denied: k.denied,
        }
    }
}

fn set(s: &mut String, v: &str) {
    s.clear();
    s.push_str(v);
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// The first event seen (evidence).
    pub event_id: String,
    /// A real resource ARN of the first event.
    pub sample_resource: String,
    /// `s3:prefix` values of ListBucket calls, collapsed like keys.
    pub s3_prefixes: BTreeSet<String>,
}

impl Stats {
    fn add(&mut self, time: &str, id: &str, resource: &str, n: u64) {
        if self.count == 0 || time < self.first_seen.as_str() {
            set(&mut self.first_seen, time);
            set(&mut self.event_id, id);
            set(&mut self.sample_resource, resource);
        }
        if time > self.last_seen.as_str() {
            set(&mut self.last_seen, time);
        }
        self.count += n;
    }

    fn merge(&mut self, o: Stats) {
        if self.count == 0 || (o.count > 0 && o.first_seen < self.first_seen) {
            self.first_seen = o.first_seen;
            self.event_id = o.event_id;
            self.sample_resource = o.sample_resource;
        }
        if o.last_seen > self.last_seen {
            self.last_seen = o.last_seen;
        }
        self.count += o.count;
        self.s3_prefixes.extend(o.s3_prefixes);
    }
}

/// Everything read from the events of a window.
#[derive(Debug, Default)]
pub struct Aggregate {
    /// (hashbrown's map: looked up by a borrowed key, once or more per record.)
    pub uses: hashbrown::HashMap<UseKey, Stats>,
    /// access key → its issue.
    pub sessions: HashMap<String, Session>,
    pub job_runs: Vec<JobRunStart>,
    /// (event source, event name) of events made as a role that the table cannot map.
    pub unmapped: HashMap<(String, String), Stats>,
    /// Events in the window.
    pub records: u64,
    /// Events not made as an IAM role (users, services, anonymous).
    pub not_role: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// Buckets with at least one S3 data event in the logs (observed coverage).
    pub s3_data_buckets: HashSet<String>,
}

/// Error codes of a call refused by authorization.
pub fn is_denied(code: &str) -> bool {
    code.contains("AccessDenied") || code.contains("UnauthorizedOperation") || code == "Forbidden"
}

/// The key prefix pattern of an S3 key: its "directory" with `name=value` partition
/// segments as `name=*` (`raw/dt=2024-01-01/part-1` → `raw/dt=*/`). A key at the bucket's root
/// is kept whole.
pub fn collapse_key(key: &str) -> String {
    let Some((dir, _)) = key.rsplit_once('/') else {
        return key.to_owned();
    };
    let mut out = String::with_capacity(dir.len() + 1);
    push_collapsed_dir(dir, &mut out);
    out
}

/// `dt=2024-03-01/part` → `dt=*/part/` appended to `out`: partition values become `*`.
fn push_collapsed_dir(dir: &str, out: &mut String) {
    for seg in dir.split('/') {
        match seg.split_once('=') {
            Some((name, _)) if !name.is_empty() => {
                out.push_str(name);
                out.push_str("=*");
            }
            _ => out.push_str(seg),
        }
        out.push('/');
    }
}

/// `arn:aws:s3:::bucket/key` → `arn:aws:s3:::bucket/<collapsed>*` (root keys kept whole).
pub fn collapse_resource(resource: &str) -> String {
    let mut out = String::new();
    collapse_resource_into(resource, &mut out);
    out
}

/// [`collapse_resource`] into `out` (cleared first; its capacity is reused).
pub fn collapse_resource_into(resource: &str, out: &mut String) {
    out.clear();
    let Some((bucket, key)) = resource
        .strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
    else {
        out.push_str(resource);
        return;
    };
    out.push_str("arn:aws:s3:::");
    out.push_str(bucket);
    out.push('/');
    match key.rsplit_once('/') {
        None => out.push_str(key),
        Some((dir, _)) => {
            push_collapsed_dir(dir, out);
            out.push('*');
        }
    }
}

/// A ListBucket prefix as a pattern: partition values as `*`, then `*`.
pub fn collapse_prefix(prefix: &str) -> String {
    let (dir, last) = match prefix.rsplit_once('/') {
        Some((d, l)) => (collapse_key(&format!("{d}/x")), l),
        None => (String::new(), prefix),
    };
    let last = match last.split_once('=') {
        Some((n, _)) if !n.is_empty() => format!("{n}="),
        _ => last.to_owned(),
    };
    format!("{dir}{last}*")
}

impl Aggregate {
    /// Add one CloudTrail record.
    pub fn add_record(&mut self, rec: &CloudTrailRecord, window: &Window) {
        with_record(rec, |v| self.add_view(v, window));
    }

    /// Add one CloudTrail record (as read from a log file).
    pub fn add_view(&mut self, rec: &RecordView<'_>, window: &Window) {
        let time = rec.event_time().unwrap_or("");
        if !window.contains(time) {
            return;
        }
        self.records += 1;
        if self.first_seen.is_empty() || time < self.first_seen.as_str() {
            set(&mut self.first_seen, time);
        }
        if time > self.last_seen.as_str() {
            set(&mut self.last_seen, time);
        }
        if let Some(s) = session_of_view(rec) {
            self.sessions.insert(s.access_key_id.clone(), s);
        }
        if let Some(j) = job_run_of_view(rec) {
            self.job_runs.push(j);
        }
        if rec.event_source() == Some("s3.amazonaws.com") {
            let req = rec.req();
            let data = rec.event_category() == Some("Data") || req.is_some_and(|r| r.has_key);
            if data {
                if let Some(b) = req.and_then(|r| r.bucket_name()) {
                    if !self.s3_data_buckets.contains(b) {
                        self.s3_data_buckets.insert(b.to_owned());
                    }
                }
            }
        }
        let Some(role) = caller_role_view(rec) else {
            self.not_role += 1;
            return;
        };
        let key = rec.access_key_id().unwrap_or("");
        let id = rec.event_id().unwrap_or("");
        let denied = rec.error_code().map(is_denied).unwrap_or(false);
        // Other failures (NoSuchKey, throttling) were authorized: they count as uses.
        match map_view(rec) {
            Mapped::Actions(auths) => {
                let mut collapsed = String::new();
                for a in auths {
                    collapse_resource_into(&a.resource, &mut collapsed);
                    let k = UseKeyRef {
                        role_arn: &role,
                        access_key_id: key,
                        action: &a.action,
                        resource: &collapsed,
                        denied,
                    };
                    let st = self.uses.entry_ref(&k).or_default();
                    st.add(time, id, &a.resource, 1);
                    if let Some(p) = a.s3_prefix {
                        let p = collapse_prefix(&p);
                        if st.s3_prefixes.len() < 1000 && !st.s3_prefixes.contains(&p) {
                            st.s3_prefixes.insert(p);
                        }
                    }
                }
            }
            Mapped::Unmapped => {
                let k = (
                    rec.event_source().unwrap_or_default().to_owned(),
                    rec.event_name().unwrap_or_default().to_owned(),
                );
                self.unmapped.entry(k).or_default().add(time, id, "", 1);
            }
        }
    }

    /// Add one row of the Athena usage summary.
    pub fn add_usage_row(&mut self, r: &UsageSummaryRow, window: &Window) {
        if !window.contains(&r.last_seen) && !window.contains(&r.first_seen) {
            return;
        }
        self.records += r.event_count;
        if self.first_seen.is_empty() || r.first_seen < self.first_seen {
            self.first_seen = r.first_seen.clone();
        }
        if r.last_seen > self.last_seen {
            self.last_seen = r.last_seen.clone();
        }
        if r.role_arn.is_empty() {
            self.not_role += r.event_count;
            return;
        }
        if r.event_source == "s3.amazonaws.com" && !r.bucket.is_empty() {
            self.s3_data_buckets.insert(r.bucket.clone());
        }
        let key = format!("{}x", r.key_prefix);
        let m = MapInput {
            source: &r.event_source,
            name: &r.event_name,
            variant: if r.variant == "version" {
                "version"
            } else {
                ""
            },
            bucket: &r.bucket,
            key: &key,
            prefix: Some(&r.key_prefix),
            copy_source: (!r.copy_source.is_empty()).then_some(r.copy_source.as_str()),
            sse_kms_key: (r.variant == "sse-kms").then_some(""),
            event_arns: &[],
            // Usage-summary rows carry no Glue names: Glue maps to `*` there.
            ..Default::default()
        };
        let denied = is_denied(&r.error_code);
        match map_parts(&m) {
            Mapped::Actions(auths) => {
                for a in auths {
                    let k = UseKey {
                        role_arn: r.role_arn.clone(),
                        access_key_id: r.access_key_id.clone(),
                        action: a.action,
                        resource: collapse_resource(&a.resource),
                        denied,
                    };
                    let st = self.uses.entry(k).or_default();
                    let mut one = Stats::default();
                    one.add(
                        &r.first_seen,
                        &r.sample_event_id,
                        &a.resource,
                        r.event_count,
                    );
                    one.last_seen = r.last_seen.clone();
                    if let Some(p) = a.s3_prefix {
                        one.s3_prefixes.insert(collapse_prefix(&p));
                    }
                    st.merge(one);
                }
            }
            Mapped::Unmapped => {
                let k = (r.event_source.clone(), r.event_name.clone());
                let st = self.unmapped.entry(k).or_default();
                let mut one = Stats::default();
                one.add(&r.first_seen, &r.sample_event_id, "", r.event_count);
                one.last_seen = r.last_seen.clone();
                st.merge(one);
            }
        }
    }

    /// Add one row of the Athena sessions summary.
    pub fn add_session_row(&mut self, r: &SessionSummaryRow) {
        let (ns, sa, via) = match crate::attribution::parse_sa_subject(&r.subject) {
            Some((ns, sa)) => (ns, sa, crate::attribution::Via::WebIdentity),
            None => match r.subject.split_once(':') {
                Some((ns, sa)) => (ns, sa, crate::attribution::Via::PodIdentity),
                None => return,
            },
        };
        self.sessions.insert(
            r.access_key_id.clone(),
            Session {
                access_key_id: r.access_key_id.clone(),
                role_arn: r.role_arn.clone(),
                namespace: ns.to_owned(),
                service_account: sa.to_owned(),
                via,
                issued_at: r.first_seen.clone(),
                event_id: String::new(),
            },
        );
    }

    /// Merge another partial aggregate (one file's).
    pub fn merge(&mut self, o: Aggregate) {
        for (k, v) in o.uses {
            self.uses.entry(k).or_default().merge(v);
        }
        self.sessions.extend(o.sessions);
        self.job_runs.extend(o.job_runs);
        for (k, v) in o.unmapped {
            self.unmapped.entry(k).or_default().merge(v);
        }
        self.records += o.records;
        self.not_role += o.not_role;
        if !o.first_seen.is_empty()
            && (self.first_seen.is_empty() || o.first_seen < self.first_seen)
        {
            self.first_seen = o.first_seen;
        }
        if o.last_seen > self.last_seen {
            self.last_seen = o.last_seen;
        }
        self.s3_data_buckets.extend(o.s3_data_buckets);
    }

    /// Everything the snapshot holds: CloudTrail records (also the `job_runs` of
    /// `describe-job-run`), usage-summary rows and session rows.
    pub fn from_snapshot(snap: &emrguard_model::Snapshot, window: &Window) -> Aggregate {
        let mut a = Aggregate::default();
        for r in &snap.cloudtrail {
            a.add_record(r, window);
        }
        for r in &snap.usage_rows {
            a.add_usage_row(r, window);
        }
        for r in &snap.session_rows {
            a.add_session_row(r);
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_collapse_to_partition_patterns() {
        assert_eq!(
            collapse_key("warehouse/sales/dt=2024-01-01/hr=03/part-0.parquet"),
            "warehouse/sales/dt=*/hr=*/"
        );
        assert_eq!(collapse_key("top.txt"), "top.txt");
        assert_eq!(
            collapse_resource("arn:aws:s3:::b/raw/dt=1/x"),
            "arn:aws:s3:::b/raw/dt=*/*"
        );
        assert_eq!(collapse_prefix("raw/dt=2024-01-01/"), "raw/dt=*/*");
        assert_eq!(collapse_prefix("raw/dt=2024"), "raw/dt=*");
        assert_eq!(collapse_prefix(""), "*");
    }

    #[test]
    fn window_bounds() {
        let w = Window {
            since: Some("2024-01-02".into()),
            until: Some("2024-01-03".into()),
        };
        assert!(!w.contains("2024-01-01T23:59:59Z"));
        assert!(w.contains("2024-01-02T00:00:00Z"));
        assert!(w.contains("2024-01-03T23:00:00Z"));
        assert!(!w.contains("2024-01-04T00:00:00Z"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-z0-9_.-]{1,8}",
                "[a-z]{1,4}=[a-z0-9:-]{0,10}",
                Just(String::new())
            ],
            1..6,
        )
        .prop_map(|segs| segs.join("/"))
    }

    proptest! {
        // The generated policy grants the collapsed patterns: each must still cover the
        // object actually used (IAM's own matcher is the reference).
        #[test]
        fn collapsed_resource_covers_the_used_object(bucket in "[a-z0-9-]{3,12}", k in key()) {
            let arn = format!("arn:aws:s3:::{bucket}/{k}");
            let pat = collapse_resource(&arn);
            prop_assert!(emrguard_iam::resource_matches(&pat, &arn), "{pat} vs {arn}");
        }

        #[test]
        fn collapsed_prefix_matches_the_prefix_used(p in key()) {
            let pat = collapse_prefix(&p);
            prop_assert!(emrguard_iam::wildcard_match(&pat, &p), "{pat} vs {p}");
        }
    }
}

//! What the trail logs: S3 data events per bucket/prefix from `get-event-selectors` (basic
//! and advanced selectors). Without selectors, a bucket is observable when its data events
//! appear in the logs.

use emrguard_model::aws::usage::TrailEventSelectors;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Data events for this object are logged (for reads, writes or both as asked).
    Logged,
    /// The selectors do not log them.
    NotLogged,
    /// No selectors in the snapshot and no data event for the bucket in the logs.
    Unknown,
}

#[derive(Debug, Default)]
pub struct Coverage {
    /// (ARN prefix, reads logged, writes logged); `arn:aws:s3` covers every bucket.
    s3: Vec<(String, bool, bool)>,
    has_selectors: bool,
    seen_buckets: HashSet<String>,
}

impl Coverage {
    pub fn new(selectors: &[&TrailEventSelectors], seen_buckets: HashSet<String>) -> Coverage {
        let mut c = Coverage {
            has_selectors: !selectors.is_empty(),
            seen_buckets,
            ..Default::default()
        };
        for t in selectors {
            for es in &t.event_selectors {
                let (r, w) = rw(es.read_write_type.as_deref().unwrap_or("All"));
                for d in &es.data_resources {
                    if d.resource_type == "AWS::S3::Object" {
                        for v in &d.values {
                            c.s3.push((v.clone(), r, w));
                        }
                    }
                }
            }
            for a in &t.advanced_event_selectors {
                let field = |n: &str| a.field_selectors.iter().find(|f| f.field == n);
                let data = field("eventCategory")
                    .map(|f| f.equals.iter().any(|v| v == "Data"))
                    .unwrap_or(false);
                let s3 = field("resources.type")
                    .map(|f| f.equals.iter().any(|v| v == "AWS::S3::Object"))
                    .unwrap_or(false);
                if !data || !s3 {
                    continue;
                }
                let (r, w) = match field("readOnly").and_then(|f| f.equals.first()) {
                    Some(v) if v == "true" => (true, false),
                    Some(v) if v == "false" => (false, true),
                    _ => (true, true),
                };
                // Exclusions (NotStartsWith/NotEquals) are not modelled: the prefixes listed
                // are taken as logged, which can only overstate coverage. Without
                // `resources.ARN`, every bucket.
                match field("resources.ARN") {
                    Some(f) if !f.starts_with.is_empty() || !f.equals.is_empty() => {
                        for v in f.starts_with.iter().chain(f.equals.iter()) {
                            c.s3.push((v.clone(), r, w));
                        }
                    }
                    _ => c.s3.push(("arn:aws:s3".to_owned(), r, w)),
                }
            }
        }
        c
    }

    pub fn has_selectors(&self) -> bool {
        self.has_selectors
    }

    /// Is the S3 data event for this object (or bucket) ARN logged? `write`: the action
    /// writes.
    pub fn s3(&self, arn: &str, write: bool) -> Observed {
        if !self.has_selectors {
            let bucket = arn
                .strip_prefix("arn:aws:s3:::")
                .map(|r| r.split('/').next().unwrap_or(r))
                .unwrap_or("");
            let wildcard = bucket.contains('*') || bucket.contains('?');
            return if !wildcard && self.seen_buckets.contains(bucket) {
                Observed::Logged
            } else {
                Observed::Unknown
            };
        }
        let logged = self.s3.iter().any(|(p, r, w)| {
            let covers = p == "arn:aws:s3" || p == "arn:aws:s3:::" || arn.starts_with(p.as_str())
                // A bucket ARN is covered by a selector on its objects (`arn:aws:s3:::b/`).
                || p.strip_suffix('/') == Some(arn);
            covers && if write { *w } else { *r }
        });
        if logged {
            Observed::Logged
        } else {
            Observed::NotLogged
        }
    }

    /// Short statement of the coverage, for findings.
    pub fn describe(&self) -> String {
        if !self.has_selectors {
            return format!(
                "no event selectors in the snapshot; S3 data events seen for {} bucket(s)",
                self.seen_buckets.len()
            );
        }
        if self.s3.is_empty() {
            return "the trail logs management events only (no S3 data events)".to_owned();
        }
        let mut v: Vec<String> = self
            .s3
            .iter()
            .map(|(p, r, w)| {
                let what = match (r, w) {
                    (true, true) => "all",
                    (true, false) => "reads",
                    _ => "writes",
                };
                let p = if p == "arn:aws:s3" || p == "arn:aws:s3:::" {
                    "every bucket"
                } else {
                    p.as_str()
                };
                format!("{p} ({what})")
            })
            .collect();
        v.sort();
        v.dedup();
        format!("S3 data events logged for {}", v.join(", "))
    }
}

fn rw(t: &str) -> (bool, bool) {
    match t {
        "ReadOnly" => (true, false),
        "WriteOnly" => (false, true),
        _ => (true, true),
    }
}

/// S3 actions whose calls are data events (object-level operations and the bucket-level
/// listings logged as data events).
pub fn is_s3_data_action(action: &str) -> bool {
    let Some(name) = action.strip_prefix("s3:") else {
        return false;
    };
    let lname = name.to_ascii_lowercase();
    lname.contains("object")
        || matches!(
            lname.as_str(),
            "listbucket"
                | "listbucketversions"
                | "listbucketmultipartuploads"
                | "listmultipartuploadparts"
                | "abortmultipartupload"
        )
}

//! The least-privilege policy from usage: the actions a role used, on the real ARNs it used
//! them on, S3 keys collapsed to the prefixes used (partition values as `*`), ListBucket
//! narrowed by `s3:prefix`, within IAM's policy size limits.

use crate::analyze::{RoleUsage, Use};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// IAM's quota for all inline policies of a role (characters, whitespace not counted).
pub const INLINE_ROLE_POLICY_LIMIT: usize = 10_240;
/// IAM's quota for one managed policy.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;

#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// Size limit to fit (default: [`INLINE_ROLE_POLICY_LIMIT`]).
    pub max_chars: usize,
    /// Also grant what was denied (needed but missing). Default false: denied attempts are
    /// reported, not granted.
    pub include_denied: bool,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        PolicyOptions {
            max_chars: INLINE_ROLE_POLICY_LIMIT,
            include_denied: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GeneratedPolicy {
    pub role_arn: String,
    pub document: Value,
    /// Characters without whitespace, as IAM counts them.
    pub size: usize,
    /// How far prefixes had to be widened to fit: 0 = prefixes as used, 1 = first path
    /// segment, 2 = whole buckets.
    pub coarsening: u8,
    /// Fits `max_chars`.
    pub fits: bool,
    /// Uses left out (none unless `include_denied` is false and there were denied attempts):
    /// `(action, resource)`.
    pub denied_not_granted: Vec<(String, String)>,
}

/// IAM's size: the JSON without whitespace.
pub fn policy_size(doc: &Value) -> usize {
    serde_json::to_string(doc)
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).count())
        .unwrap_or(0)
}

/// Widen an S3 object pattern: level 1 keeps the first key segment, level 2 the bucket.
fn coarsen(resource: &str, level: u8) -> String {
    let Some(rest) = resource.strip_prefix("arn:aws:s3:::") else {
        return resource.to_owned();
    };
    let Some((bucket, key)) = rest.split_once('/') else {
        return resource.to_owned();
    };
    match level {
        0 => resource.to_owned(),
        1 => match key.split_once('/') {
            Some((first, _)) => format!("arn:aws:s3:::{bucket}/{first}/*"),
            None => format!("arn:aws:s3:::{bucket}/*"),
        },
        _ => format!("arn:aws:s3:::{bucket}/*"),
    }
}

fn coarsen_prefix(p: &str, level: u8) -> String {
    match level {
        0 => p.to_owned(),
        1 => match p.split_once('/') {
            Some((first, _)) => format!("{first}/*"),
            None => p.to_owned(),
        },
        _ => "*".to_owned(),
    }
}

/// The policy document at one coarsening level.
fn build(uses: &[&Use], level: u8) -> Value {
    // resource set → actions; ListBucket per bucket with its prefixes.
    let mut by_resource: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut list_bucket: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in uses {
        if u.action.eq_ignore_ascii_case("s3:ListBucket") {
            let e = list_bucket.entry(u.resource.clone()).or_default();
            if u.s3_prefixes.is_empty() || u.s3_prefixes.contains("*") {
                e.insert("*".to_owned());
            }
            for p in &u.s3_prefixes {
                e.insert(coarsen_prefix(p, level));
            }
            continue;
        }
        by_resource
            .entry(coarsen(&u.resource, level))
            .or_default()
            .insert(u.action.clone());
    }
    // Group resources with the same action set into one statement.
    let mut by_actions: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for (r, acts) in by_resource {
        by_actions
            .entry(acts.into_iter().collect())
            .or_default()
            .insert(r);
    }
    let mut statements = Vec::new();
    for (i, (acts, res)) in by_actions.into_iter().enumerate() {
        let res: Vec<String> = if res.contains("*") {
            vec!["*".to_owned()]
        } else {
            res.into_iter().collect()
        };
        statements.push(json!({
            "Sid": format!("Used{i}"),
            "Effect": "Allow",
            "Action": one_or_many(acts),
            "Resource": one_or_many(res),
        }));
    }
    for (i, (bucket, prefixes)) in list_bucket.into_iter().enumerate() {
        let mut st = json!({
            "Sid": format!("List{i}"),
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
        });
        if !prefixes.contains("*") {
            if let Some(o) = st.as_object_mut() {
                o.insert(
                    "Condition".into(),
                    json!({"StringLike": {"s3:prefix": one_or_many(prefixes.into_iter().collect())}}),
                );
            }
        }
        statements.push(st);
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn one_or_many(mut v: Vec<String>) -> Value {
    if v.len() == 1 {
        Value::String(v.remove(0))
    } else {
        json!(v)
    }
}

/// The least-privilege policy of a role from its usage.
///
/// ```text
/// least_privilege_policy(&RoleUsage, &PolicyOptions) -> GeneratedPolicy
/// ```
/// Uses only what was used (and, with `include_denied`, what was denied); widens S3 prefixes
/// step by step (first segment, then bucket) until the document fits `max_chars`; `fits` says
/// whether it did.
pub fn least_privilege_policy(role: &RoleUsage, opts: &PolicyOptions) -> GeneratedPolicy {
    let mut uses: Vec<&Use> = role.used.iter().collect();
    let mut denied_not_granted = Vec::new();
    for d in &role.denied {
        if opts.include_denied {
            uses.push(d);
        } else {
            denied_not_granted.push((d.action.clone(), d.resource.clone()));
        }
    }
    let mut last = (json!({}), 0usize, 0u8);
    for level in 0..=2u8 {
        let doc = build(&uses, level);
        let size = policy_size(&doc);
        last = (doc, size, level);
        if size <= opts.max_chars {
            break;
        }
    }
    let (document, size, coarsening) = last;
    GeneratedPolicy {
        role_arn: role.role_arn.clone(),
        document,
        size,
        coarsening,
        fits: size <= opts.max_chars,
        denied_not_granted,
    }
}

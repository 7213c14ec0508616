//! The usage audit (emrguard-usage) of the snapshot's execution roles, for the IAM05x rules.

use crate::Context;
use emrguard_usage::{report_for_snapshot, Options, UsageReport};

/// None when the snapshot holds no CloudTrail records or usage summaries. Computed per call
/// (three rules): the aggregation is linear in the records already in memory.
pub fn execution_role_usage(cx: &Context<'_, '_>) -> Option<UsageReport> {
    let snap = cx.index.snap;
    if snap.cloudtrail.is_empty() && snap.usage_rows.is_empty() {
        return None;
    }
    let roles: Vec<String> = cx
        .execution_roles()
        .with_roles()
        .map(|(_, r)| r.arn.clone())
        .collect();
    if roles.is_empty() {
        return None;
    }
    Some(report_for_snapshot(
        snap,
        &Options {
            roles,
            ..Default::default()
        },
    ))
}

/// `a, b, c (+4 more)`.
pub fn short_list(v: &[String], max: usize) -> String {
    if v.len() <= max {
        return v.join(", ");
    }
    let head: Vec<&str> = v.iter().take(max).map(String::as_str).collect();
    format!("{} (+{} more)", head.join(", "), v.len() - max)
}

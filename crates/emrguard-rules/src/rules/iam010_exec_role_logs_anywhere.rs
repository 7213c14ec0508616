use crate::iam_evidence::{evidence_step, policy_location, role_ref};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide, Decision};
use emrguard_model::aws::emr::MonitoringConfiguration;
use emrguard_model::aws::iam::{arn_account, Role};
use emrguard_model::index::Workload;
use emrguard_model::Kind;
use emrguard_model::{Finding, Located, PathStep, SourceLoc};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// For every job run, job template and managed endpoint that sends logs somewhere
    /// (`configurationOverrides.monitoringConfiguration`: `s3MonitoringConfiguration.logUri`,
    /// `cloudWatchMonitoringConfiguration.logGroupName`), whether its execution role may also
    /// write logs *everywhere else*: `s3:PutObject` in any other bucket, or
    /// `logs:PutLogEvents` into any other log group. The IAM engine decides concrete requests
    /// (a probe object in another bucket, a probe stream in another log group), with denies,
    /// the permissions boundary and SCPs. Administrators are reported by IAM001 only.
    ///
    /// ## Why it matters
    /// A job's logs belong in its configured destination. A role that can write any bucket or
    /// log group lets a job overwrite or forge other teams' logs and audit trails, or smuggle
    /// data out through a log destination nobody watches.
    ///
    /// ## Example
    /// ```json
    /// {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:*"}
    /// ```
    /// with `"cloudWatchMonitoringConfiguration": {"logGroupName": "/emr-on-eks/analytics-prod/team-a"}`.
    ///
    /// ## Remediation
    /// Grant `s3:PutObject` only on `arn:aws:s3:::LOG_BUCKET/PREFIX/*` and
    /// `logs:CreateLogStream`, `logs:DescribeLogStreams`, `logs:PutLogEvents` only on
    /// `arn:aws:logs:REGION:ACCOUNT:log-group:LOG_GROUP:*`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Configure a job run to use Amazon S3 logs" and
    ///   "Configure a job run to use Amazon CloudWatch Logs"
    /// - Amazon CloudWatch Logs User Guide, "Actions, resources, and condition keys"
    pub struct ExecRoleLogsAnywhere;
    id = "IAM010", name = "execution-role-writes-logs-anywhere", practice = LeastPrivilege, severity = Medium,
    title = "Execution role may write logs outside its configured destination",
}

/// A configured log destination.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Dest {
    S3 { bucket: String, prefix: String },
    CloudWatch { group: String },
}

impl Dest {
    pub(crate) fn describe(&self) -> String {
        match self {
            Dest::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Dest::CloudWatch { group } => format!("CloudWatch log group {group}"),
        }
    }
    /// The resource ARN a least-privilege grant names (partition, region and account of the
    /// estate, [`crate::values`]).
    pub(crate) fn grant_arn(&self, v: &crate::values::EstateValues) -> String {
        match self {
            Dest::S3 { bucket, prefix } => {
                let p = prefix.trim_end_matches('/');
                if p.is_empty() {
                    format!("arn:{}:s3:::{bucket}/*", v.partition())
                } else {
                    format!("arn:{}:s3:::{bucket}/{p}/*", v.partition())
                }
            }
            Dest::CloudWatch { group } => v.arn("logs", &format!("log-group:{group}:*")),
        }
    }
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Dest::S3 { .. } => "s3",
            Dest::CloudWatch { .. } => "cloudwatch",
        }
    }
}

/// One workload that logs to a destination with an execution role.
#[derive(Debug, Clone)]
pub(crate) struct LogUse {
    pub workload: Workload,
    pub label: String,
    pub loc: SourceLoc,
    /// Virtual cluster id and job/endpoint id (for the concrete object or stream name).
    pub vc: String,
    pub id: String,
    pub region: String,
    pub account: String,
    /// `logStreamNamePrefix` (CloudWatch).
    pub stream_prefix: String,
}

/// `s3://bucket/prefix` → (bucket, prefix without leading `/`).
pub(crate) fn parse_s3(uri: &str) -> Option<(String, String)> {
    let rest = uri
        .strip_prefix("s3://")
        .or_else(|| uri.strip_prefix("s3a://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() || bucket.contains("${") || prefix.contains("${") {
        return None;
    }
    Some((bucket.to_owned(), prefix.trim_start_matches('/').to_owned()))
}

fn dests(m: &MonitoringConfiguration) -> Vec<(Dest, String)> {
    let mut out = Vec::new();
    if let Some((bucket, prefix)) = m
        .s3_monitoring_configuration
        .as_ref()
        .and_then(|s| s.log_uri.as_deref())
        .and_then(parse_s3)
    {
        out.push((Dest::S3 { bucket, prefix }, String::new()));
    }
    if let Some(cw) = &m.cloud_watch_monitoring_configuration {
        if let Some(g) = cw
            .log_group_name
            .as_deref()
            .filter(|g| !g.is_empty() && !g.contains("${"))
        {
            out.push((
                Dest::CloudWatch {
                    group: g.to_owned(),
                },
                cw.log_stream_name_prefix
                    .clone()
                    .unwrap_or_else(|| "emr".to_owned()),
            ));
        }
    }
    out
}

fn region_account(arn: &str) -> (Option<String>, Option<String>) {
    let mut it = arn.split(':');
    let region = it.nth(3).filter(|s| !s.is_empty()).map(str::to_owned);
    let account = it.next().filter(|s| !s.is_empty()).map(str::to_owned);
    (region, account)
}

/// (execution role ARN, destination) → (role, workloads that log there with it).
pub(crate) type Destinations<'s> = BTreeMap<(String, Dest), (&'s Located<Role>, Vec<LogUse>)>;

/// Every (execution role, destination) with the workloads that use it. Roles that are not in
/// the snapshot are left out.
pub(crate) fn destinations<'s>(cx: &Context<'_, 's>) -> Destinations<'s> {
    let index = cx.index;
    let snap = index.snap;
    let default_region = crate::iam_evidence::region_of_snapshot(index);
    let mut out: Destinations<'s> = BTreeMap::new();
    let mut add = |role_arn: Option<&str>,
                   m: Option<&MonitoringConfiguration>,
                   workload: Workload,
                   label: String,
                   loc: &SourceLoc,
                   arn: &str,
                   vc: &str,
                   id: &str| {
        let (Some(role_arn), Some(m)) = (role_arn, m) else {
            return;
        };
        let Some(role) = index.role(role_arn) else {
            return;
        };
        let (region, account) = region_account(arn);
        let account = account
            .or_else(|| arn_account(&role.arn).map(str::to_owned))
            .unwrap_or_default();
        for (d, stream_prefix) in dests(m) {
            out.entry((role.arn.clone(), d))
                .or_insert_with(|| (role, Vec::new()))
                .1
                .push(LogUse {
                    workload,
                    label: label.clone(),
                    loc: loc.clone(),
                    vc: if vc.is_empty() {
                        "virtual-cluster-id".to_owned()
                    } else {
                        vc.to_owned()
                    },
                    id: if id.is_empty() {
                        "job-id".to_owned()
                    } else {
                        id.to_owned()
                    },
                    region: region.clone().unwrap_or_else(|| default_region.clone()),
                    account: account.clone(),
                    stream_prefix,
                });
        }
    };
    for (i, j) in snap.job_runs.iter().enumerate() {
        let m = j
            .configuration_overrides
            .as_ref()
            .and_then(|o| o.monitoring_configuration.as_ref());
        add(
            j.execution_role_arn.as_deref(),
            m,
            Workload::JobRun(i),
            format!(
                "job run `{}` ({})",
                j.name.as_deref().unwrap_or(&j.id),
                j.id
            ),
            &j.loc,
            &j.arn,
            &j.virtual_cluster_id,
            &j.id,
        );
    }
    for (i, e) in snap.endpoints.iter().enumerate() {
        let m = e
            .configuration_overrides
            .as_ref()
            .and_then(|o| o.monitoring_configuration.as_ref());
        add(
            e.execution_role_arn.as_deref(),
            m,
            Workload::Endpoint(i),
            format!("managed endpoint `{}` ({})", e.name, e.id),
            &e.loc,
            &e.arn,
            &e.virtual_cluster_id,
            &e.id,
        );
    }
    for (i, t) in snap.job_templates.iter().enumerate() {
        let Some(d) = t.job_template_data.as_ref() else {
            continue;
        };
        let role = d
            .execution_role_arn
            .as_deref()
            .filter(|r| !r.contains("${"));
        let m = d
            .configuration_overrides
            .as_ref()
            .and_then(|o| o.monitoring_configuration.as_ref());
        add(
            role,
            m,
            Workload::JobTemplate(i),
            format!(
                "job template `{}` ({})",
                t.name.as_deref().unwrap_or(&t.id),
                t.id
            ),
            &t.loc,
            &t.arn,
            "",
            "",
        );
    }
    out
}

/// The request a destination needs: (action, resource ARN) pairs; for CloudWatch the stream
/// and the group forms (IAM matches either, depending on the API).
pub(crate) fn required(d: &Dest, u: &LogUse) -> Vec<(&'static str, Vec<String>)> {
    match d {
        Dest::S3 { bucket, prefix } => {
            let p = prefix.trim_end_matches('/');
            let key = if p.is_empty() {
                format!("{}/jobs/{}/containers/spark-driver/stdout.gz", u.vc, u.id)
            } else {
                format!(
                    "{p}/{}/jobs/{}/containers/spark-driver/stdout.gz",
                    u.vc, u.id
                )
            };
            vec![("s3:PutObject", vec![format!("arn:aws:s3:::{bucket}/{key}")])]
        }
        Dest::CloudWatch { group } => {
            let g = format!("arn:aws:logs:{}:{}:log-group:{group}", u.region, u.account);
            let stream = format!(
                "{g}:log-stream:{}/{}/jobs/{}/containers/spark-driver/stdout",
                u.stream_prefix, u.vc, u.id
            );
            let forms = vec![stream, format!("{g}:*"), g];
            vec![
                ("logs:CreateLogStream", forms.clone()),
                ("logs:PutLogEvents", forms),
            ]
        }
    }
}

/// A request to somewhere the destination is not.
fn elsewhere(d: &Dest, u: &LogUse) -> (&'static str, String) {
    match d {
        Dest::S3 { bucket, .. } => (
            "s3:PutObject",
            format!("arn:aws:s3:::emrguard-probe-not-{bucket}/emrguard-probe"),
        ),
        Dest::CloudWatch { .. } => (
            "logs:PutLogEvents",
            format!(
                "arn:aws:logs:{}:{}:log-group:emrguard-probe-other-group:log-stream:emrguard-probe",
                u.region, u.account
            ),
        ),
    }
}

pub(crate) fn workload_steps(uses: &[LogUse]) -> Vec<PathStep> {
    uses.iter()
        .take(3)
        .map(|u| {
            let kind = match u.workload {
                Workload::JobRun(_) => Kind::JobRun,
                Workload::JobTemplate(_) => Kind::EmrJobTemplate,
                Workload::Endpoint(_) => Kind::ManagedEndpoint,
            };
            PathStep::new(kind, u.id.clone()).detail(format!("{} logs with this role", u.label))
        })
        .collect()
}

impl Rule for ExecRoleLogsAnywhere {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        // (role, kind) -> (role, configured destinations, uses, evidence)
        type Acc<'r> = (
            &'r Located<Role>,
            Vec<String>,
            Vec<LogUse>,
            Option<(String, String, Decision)>,
        );
        let mut by_kind: BTreeMap<(String, &'static str), Acc<'_>> = BTreeMap::new();
        let values = crate::values::EstateValues::of(cx.index);
        for ((arn, dest), (role, uses)) in destinations(cx) {
            let Some(p) = cx.iam().role(&arn) else {
                continue;
            };
            if p.is_administrator() {
                continue;
            }
            let Some(first) = uses.first() else {
                continue;
            };
            let entry = by_kind
                .entry((arn.clone(), dest.kind()))
                .or_insert_with(|| (role, Vec::new(), Vec::new(), None));
            entry.1.push(format!(
                "{}\u{0}{}",
                dest.describe(),
                dest.grant_arn(&values)
            ));
            entry.2.extend(uses.iter().cloned());
            if entry.3.is_none() {
                let (action, resource) = elsewhere(&dest, first);
                let d = decide(&p.policies, action, &resource, &p.policies.context());
                if d.is_allowed() {
                    entry.3 = Some((action.to_owned(), resource, d));
                }
            }
        }
        let mut out = Vec::new();
        for ((arn, kind), (role, dests_arns, uses, ev)) in by_kind {
            let (dests, grant_arns): (Vec<String>, Vec<String>) = dests_arns
                .iter()
                .map(|d| {
                    let (a, b) = d.split_once('\u{0}').unwrap_or((d.as_str(), ""));
                    (a.to_owned(), format!("`{b}`"))
                })
                .unzip();
            let Some((action, resource, Decision::Allowed(evidence))) = ev else {
                continue;
            };
            let what = if kind == "s3" {
                "any S3 bucket"
            } else {
                "any CloudWatch log group"
            };
            let labels: Vec<String> = uses.iter().map(|u| u.label.clone()).collect();
            let mut labels_short: Vec<String> = labels.iter().take(3).cloned().collect();
            if labels.len() > 3 {
                labels_short.push(format!("{} more", labels.len() - 3));
            }
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Execution role `{}` may write logs to {what}, not only to {} configured by {}.",
                    role.role_name,
                    join_words(&dests),
                    join_words(&labels_short)
                ))
                .remediation(match kind {
                    "s3" => format!(
                        "Grant `s3:PutObject` to `{}` only on the configured log prefix ({}) and remove the wider grant.",
                        role.role_name,
                        join_words(&grant_arns)
                    ),
                    _ => format!(
                        "Grant `logs:CreateLogStream`, `logs:DescribeLogStreams` and `logs:PutLogEvents` to `{}` only on the configured log group ({}) and remove the wider grant.",
                        role.role_name,
                        join_words(&grant_arns)
                    ),
                })
                .discriminator(kind)
                .step(match cx.execution_roles().get(&arn) {
                    Some(er) => er.step(cx.index),
                    None => PathStep::new(Kind::IamRole, role.role_name.clone()).arn(Some(&arn)),
                });
            // The workloads that use the role are alternatives: one fork.
            b = b.fork(
                Kind::Workload,
                format!("{} workloads", uses.len()),
                workload_steps(&uses),
            );
            for e in evidence.iter().take(3) {
                b = b.step(evidence_step(e, &action, Some(&resource)));
                if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                    b = b.location(&l);
                }
            }
            b = b.location(&role.loc);
            for u in uses.iter().take(3) {
                b = b.location(&u.loc);
            }
            out.push(b.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris() {
        assert_eq!(
            parse_s3("s3://b/team-a/"),
            Some(("b".into(), "team-a/".into()))
        );
        assert_eq!(parse_s3("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(parse_s3("s3://${bucket}/x"), None);
        assert_eq!(parse_s3("https://b/x"), None);
    }
}

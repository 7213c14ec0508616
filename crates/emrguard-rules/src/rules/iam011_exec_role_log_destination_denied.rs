use super::iam010_exec_role_logs_anywhere::{destinations, required, workload_steps, Dest};
use crate::iam_evidence::{evidence_step, policy_location, role_ref};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide, Decision, Evidence, ImplicitDenyReason};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// For every job run, job template and managed endpoint that sends logs somewhere
    /// (`monitoringConfiguration.s3MonitoringConfiguration.logUri`,
    /// `cloudWatchMonitoringConfiguration.logGroupName`), whether its execution role may write
    /// there: `s3:PutObject` on an object under the log URI
    /// (`LOGURI/VIRTUAL_CLUSTER_ID/jobs/JOB_ID/containers/...`), `logs:CreateLogStream` and
    /// `logs:PutLogEvents` on a stream of the log group. The IAM engine decides the concrete
    /// requests with explicit denies, the permissions boundary and SCPs; a request that depends
    /// on conditions the snapshot cannot settle is not reported.
    ///
    /// ## Why it matters
    /// The logs of the job are lost: nobody can investigate a failure or an incident from
    /// them. It usually means the permissions were widened in one policy and narrowed in
    /// another (a permissions boundary, an SCP) without anyone noticing, so the effective
    /// permissions are not what the team believes.
    ///
    /// ## Example
    /// Identity policy `s3:PutObject` on `*`, permissions boundary allowing S3 only on
    /// `analytics-prod-team-b-*`, job `logUri` `s3://analytics-prod-emr-logs/team-b/`.
    ///
    /// ## Remediation
    /// Allow `s3:PutObject` on `arn:aws:s3:::LOG_BUCKET/PREFIX/*` (and `logs:CreateLogStream`,
    /// `logs:PutLogEvents` on `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`) in the role's
    /// policies *and* in its permissions boundary; or change the job's monitoring configuration
    /// to a destination the role may write.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Configure a job run to use Amazon S3 logs" and
    ///   "Configure a job run to use Amazon CloudWatch Logs"
    /// - IAM User Guide, "Policy evaluation logic" (permissions boundaries)
    pub struct ExecRoleLogDestinationDenied;
    id = "IAM011", name = "execution-role-cannot-write-log-destination", practice = LeastPrivilege, severity = Medium,
    title = "Execution role cannot write to its configured log destination",
}

fn reason(d: &Decision) -> String {
    match d {
        Decision::Denied(_) => "explicitly denied".to_owned(),
        Decision::ImplicitDeny(ImplicitDenyReason::NoAllow) => "no policy allows it".to_owned(),
        Decision::ImplicitDeny(ImplicitDenyReason::Boundary) => {
            "the permissions boundary does not allow it".to_owned()
        }
        Decision::ImplicitDeny(ImplicitDenyReason::ServiceControl(i)) => {
            format!("service control policy level {i} does not allow it")
        }
        _ => "not allowed".to_owned(),
    }
}

impl Rule for ExecRoleLogDestinationDenied {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((arn, dest), (role, uses)) in destinations(cx) {
            let Some(p) = cx.iam().role(&arn) else {
                continue;
            };
            let Some(first) = uses.first() else {
                continue;
            };
            let ctx = p.policies.context();
            // Each required action must be allowed on one of its resource forms.
            let mut missing: Vec<(String, String, Decision)> = Vec::new();
            for (action, forms) in required(&dest, first) {
                let decisions: Vec<(String, Decision)> = forms
                    .iter()
                    .map(|r| (r.clone(), decide(&p.policies, action, r, &ctx)))
                    .collect();
                if decisions.iter().any(|(_, d)| d.may_be_allowed()) {
                    continue;
                }
                if let Some((r, d)) = decisions.into_iter().next() {
                    missing.push((action.to_owned(), r, d));
                }
            }
            if missing.is_empty() {
                continue;
            }
            let labels: Vec<String> = uses.iter().take(3).map(|u| u.label.clone()).collect();
            let why: Vec<String> = missing
                .iter()
                .map(|(a, _, d)| format!("`{a}` ({})", reason(d)))
                .collect();
            let mut b = self
                .finding(role_ref(role))
                .message(format!(
                    "{} log{} to {} with execution role `{}`, which may not write there: {}. The logs are lost.",
                    join_words(&labels),
                    if uses.len() == 1 { "s" } else { "" },
                    dest.describe(),
                    role.role_name,
                    join_words(&why)
                ))
                .remediation(match &dest {
                    Dest::S3 { bucket, prefix } => format!(
                        "Allow `s3:PutObject` on `arn:{}:s3:::{bucket}/{}*` for `{}` in its policies and its permissions boundary, or point `logUri` at a prefix it may write.",
                        crate::values::EstateValues::of(cx.index).partition(),
                        prefix,
                        role.role_name
                    ),
                    Dest::CloudWatch { group } => format!(
                        "Allow `logs:CreateLogStream` and `logs:PutLogEvents` on `{}` for `{}` in its policies and its permissions boundary.",
                        crate::values::EstateValues::of(cx.index).arn("logs", &format!("log-group:{group}:*")),
                        role.role_name
                    ),
                })
                .discriminator(dest.describe())
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
            for (action, resource, d) in &missing {
                let detail = format!("{action} on {resource}: {}", reason(d));
                match d {
                    Decision::Denied(ev) => {
                        for e in ev.iter().take(3) {
                            b = b.step(evidence_step(e, action, Some(resource)));
                            if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                                b = b.location(&l);
                            }
                        }
                    }
                    Decision::ImplicitDeny(ImplicitDenyReason::Boundary) => {
                        // The identity allow and the boundary that does not.
                        let allowed = decide_identity_only(&p.policies, action, resource);
                        for e in allowed.iter().take(2) {
                            b = b.step(evidence_step(e, action, Some(resource)));
                            if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                                b = b.location(&l);
                            }
                        }
                        if let Some(bd) = &p.policies.boundary {
                            b = b.step(
                                PathStep::new(Kind::PermissionsBoundary, bd.origin.name.clone())
                                    .arn(bd.origin.arn.as_deref())
                                    .detail(format!(
                                        "{detail}{}",
                                        bd.origin
                                            .version
                                            .as_deref()
                                            .map(|v| format!(" (default version {v})"))
                                            .unwrap_or_default()
                                    )),
                            );
                            if let Some(l) = policy_location(cx.index, &bd.origin) {
                                b = b.location(&l);
                            }
                        }
                    }
                    _ => {
                        b = b.step(
                            PathStep::new(Kind::IamRole, role.role_name.clone())
                                .arn(Some(&arn))
                                .detail(detail),
                        );
                    }
                }
            }
            b = b.location(&role.loc);
            for u in uses.iter().take(3) {
                b = b.location(&u.loc);
            }
            let mut f = b.build();
            f.path.dedup();
            out.push(f);
        }
        out
    }
}

/// The identity statements that would allow the request without the boundary.
fn decide_identity_only(
    p: &emrguard_iam::PrincipalPolicies,
    action: &str,
    resource: &str,
) -> Vec<Evidence> {
    let mut q = p.clone();
    q.boundary = None;
    q.boundary_unresolved = None;
    q.scps.clear();
    match decide(&q, action, resource, &q.context()) {
        Decision::Allowed(ev) => ev,
        _ => Vec::new(),
    }
}

use crate::iam_evidence::role_ref;
use crate::usage_support::{execution_role_usage, short_list};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind, PathStep};

declare_rule! {
    /// ## What it checks
    /// Actions an execution role's identity policies allow (each `Allow` statement and
    /// resource, wildcards expanded over the AWS action catalogue) that its jobs did not use
    /// in the CloudTrail window of the snapshot (log files or Athena usage summaries, see
    /// `emrguard usage`). Calls are tied to the role through the session issuer and the
    /// `AssumeRoleWithWebIdentity` / `AssumeRoleForPodIdentity` records. Actions whose calls
    /// the trail does not log (S3 data events on buckets outside the trail's event selectors,
    /// from `aws cloudtrail get-event-selectors`) are not reported as unused: they are
    /// unobservable, and counted apart. Only roles with at least one call in the window are
    /// judged. The finding states the window and the coverage.
    ///
    /// ## Why it matters
    /// The first EMR on EKS practice is to grant execution roles only what jobs need and to
    /// audit jobs as code changes. Grants a job never exercises are pure exposure: a
    /// compromised driver or executor (or any user who can submit jobs with the role) gets
    /// them for free. Access Advisor works per service and IAM Access Analyzer's policy
    /// generation does not see S3 data events, which are most of what a Spark job does.
    ///
    /// ## Example
    /// A role allowed `s3:GetObject`, `s3:PutObject`, `s3:DeleteObject` on
    /// `arn:aws:s3:::datalake/*` whose jobs only read and wrote objects there during the
    /// window, with S3 data events logged for that bucket: `s3:DeleteObject` is unused.
    ///
    /// ## Remediation
    /// Replace the policy with the least-privilege policy from usage
    /// (`emrguard usage SNAPSHOT --role ROLE` prints it: real ARNs, S3 keys collapsed to the
    /// prefixes used with partition patterns such as `dt=*`), after checking that the window
    /// covers every job of the role (monthly jobs, backfills).
    ///
    /// ## References
    /// - EMR on EKS best practices, security: "grant execution roles only the permissions jobs need"
    /// - IAM User Guide, "Refine permissions in AWS using last accessed information"
    /// - CloudTrail User Guide, "Logging data events" (event selectors)
    pub struct ExecRoleGrantedUnused;
    id = "IAM050", name = "execution-role-granted-unused", practice = LeastPrivilege, severity = Medium,
    title = "Execution role is granted actions its jobs did not use",
}

impl Rule for ExecRoleGrantedUnused {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let Some(report) = execution_role_usage(cx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(u) = report.role(&role.arn) else {
                continue;
            };
            if u.events == 0 || u.unused_count() == 0 {
                continue;
            }
            let mut b = self
                .finding(role_ref(role))
                .message(format!(
                    "Execution role `{}` is granted {} action(s) its jobs did not use in the window {} ({} calls by the role; {}; {} more action(s) unobservable): {}.",
                    role.role_name,
                    u.unused_count(),
                    report.window_text(),
                    u.events,
                    report.coverage,
                    u.unobservable_count(),
                    short_list(
                        &u.grants
                            .iter()
                            .filter(|g| !g.unused.is_empty())
                            .map(|g| format!("{} on {} ({} {})", short_list(&g.unused, 6), g.resource, g.policy, g.statement))
                            .collect::<Vec<_>>(),
                        4
                    )
                ))
                .remediation("Replace the policy with the least-privilege policy from usage (`emrguard usage SNAPSHOT --role ROLE`), after checking the window covers every job of the role.")
                .step(er.step(cx.index));
            for g in u.grants.iter().filter(|g| !g.unused.is_empty()).take(5) {
                b = b.step(
                    PathStep::new(
                        if g.inline {
                            Kind::InlinePolicy
                        } else {
                            Kind::ManagedPolicy
                        },
                        format!("{} {}", g.policy, g.statement),
                    )
                    .detail(format!(
                        "unused on {}: {}",
                        g.resource,
                        short_list(&g.unused, 10)
                    )),
                );
            }
            out.push(b.location(&role.loc).build());
        }
        out
    }
}

use crate::iam_evidence::role_ref;
use crate::usage_support::{execution_role_usage, short_list};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind, PathStep};

declare_rule! {
    /// ## What it checks
    /// CloudTrail calls made with an execution role's credentials that failed authorization
    /// (`errorCode` `AccessDenied`, `AccessDeniedException`, `UnauthorizedOperation`), in
    /// the snapshot's log files or Athena usage summaries, mapped to the IAM actions and
    /// resources they needed. Each is listed with its count, first and last time, an event
    /// id and the component (spark-driver, spark-executor, ...) and namespace that made it.
    ///
    /// ## Why it matters
    /// A denied call is a permission the job needed but does not have: the job failed or
    /// fell back. The usual "fix" is a wildcard grant; the exact action and resource are the
    /// right one. Denied calls to resources the job should never touch (another team's
    /// bucket, secrets) are a sign of misconfiguration or compromise.
    ///
    /// ## Example
    /// `kms:Decrypt` on `arn:aws:kms:us-east-1:111122223333:key/1111-2222` denied once for
    /// `spark-executor@spark-team-a`.
    ///
    /// ## Remediation
    /// Grant exactly the listed action on the listed resource if the job needs it
    /// (`emrguard usage --include-denied` adds it to the generated policy); otherwise find out
    /// why the job tries it.
    ///
    /// ## References
    /// - CloudTrail record contents (`errorCode`, `errorMessage`)
    /// - IAM User Guide, "Troubleshoot access denied error messages"
    pub struct ExecRoleDeniedAttempts;
    id = "IAM051", name = "execution-role-denied-attempts", practice = LeastPrivilege, severity = Low,
    title = "Execution role's jobs made calls that were denied",
}

impl Rule for ExecRoleDeniedAttempts {
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
            if u.denied.is_empty() {
                continue;
            }
            let list: Vec<String> = u
                .denied
                .iter()
                .map(|d| {
                    let by: Vec<String> = d.callers.iter().cloned().collect();
                    format!(
                        "{} on {} ×{} (last {}, event {}{})",
                        d.action,
                        d.resource,
                        d.count,
                        d.last_seen,
                        d.event_id,
                        if by.is_empty() {
                            String::new()
                        } else {
                            format!(", by {}", by.join(", "))
                        }
                    )
                })
                .collect();
            let mut b = self
                .finding(role_ref(role))
                .message(format!(
                    "Calls made as execution role `{}` were denied in the window {}: {}.",
                    role.role_name,
                    report.window_text(),
                    short_list(&list, 5)
                ))
                .remediation("Grant exactly the denied action on the listed resource if the job needs it (`emrguard usage --include-denied`); otherwise find out why the job tries it.")
                .step(er.step(cx.index));
            for d in u.denied.iter().take(5) {
                b = b.step(
                    PathStep::new(Kind::CloudTrailEvent, d.event_id.clone()).detail(format!(
                        "{} on {} denied {} time(s)",
                        d.action, d.resource, d.count
                    )),
                );
            }
            out.push(b.location(&role.loc).build());
        }
        out
    }
}

use crate::iam_evidence::role_ref;
use crate::usage_support::{execution_role_usage, short_list};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind, PathStep};

declare_rule! {
    /// ## What it checks
    /// Permissions an execution role used for the first time after its jobs changed: between
    /// two consecutive `StartJobRun` records of the role (CloudTrail) the release label, the
    /// job template or the container image (`spark.kubernetes.container.image`) changed, the
    /// role was already in use before, and an (action, resource) was first seen after the
    /// change.
    ///
    /// ## Why it matters
    /// Jobs are audited "as application code changes": a new release, template or image
    /// that suddenly reads other prefixes, deletes objects or calls a new service is exactly
    /// the change a reviewer should see. It is also what a compromised image looks like.
    ///
    /// ## Example
    /// A role whose jobs moved from `emr-6.15.0-latest` to `emr-7.1.0-latest` and first
    /// called `glue:GetDatabase` after the first run on the new release.
    ///
    /// ## Remediation
    /// Review the change (release notes, image diff, template parameters) and confirm the
    /// new permissions are intended; then regenerate the least-privilege policy from usage.
    ///
    /// ## References
    /// - EMR on EKS best practices, security: "audit jobs regularly as application code changes"
    /// - EMR on EKS `StartJobRun` (releaseLabel, jobTemplateId, configurationOverrides)
    pub struct ExecRolePermissionDrift;
    id = "IAM052", name = "execution-role-permission-drift", practice = LeastPrivilege, severity = Low,
    title = "Execution role used new permissions after a release, template or image change",
}

impl Rule for ExecRolePermissionDrift {
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
            if u.drift.is_empty() {
                continue;
            }
            let list: Vec<String> = u
                .drift
                .iter()
                .map(|d| {
                    format!(
                        "{} on {} first used {} (event {}) after {} (job run {} at {})",
                        d.action,
                        d.resource,
                        d.first_seen,
                        d.event_id,
                        d.change,
                        d.job_run_id,
                        d.changed_at
                    )
                })
                .collect();
            let mut b = self
                .finding(role_ref(role))
                .message(format!(
                    "Execution role `{}` used {} permission(s) for the first time after its jobs changed: {}.",
                    role.role_name,
                    u.drift.len(),
                    short_list(&list, 4)
                ))
                .remediation("Review the change (release notes, image diff, template parameters) and confirm the new permissions are intended, then regenerate the policy from usage.")
                .step(er.step(cx.index));
            for d in u.drift.iter().take(5) {
                b = b.step(
                    PathStep::new(Kind::CloudTrailEvent, d.event_id.clone()).detail(format!(
                        "{} on {} first used after {}",
                        d.action, d.resource, d.change
                    )),
                );
            }
            out.push(b.location(&role.loc).build());
        }
        out
    }
}

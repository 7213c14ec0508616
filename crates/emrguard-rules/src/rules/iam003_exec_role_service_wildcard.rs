use crate::iam_evidence::{grant_step, policy_location, role_ref};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::RiskClass;
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Job execution roles that hold every action of a service on all of its resources
    /// (`s3:*` on `*`, `logs:*` on `arn:aws:logs:*:*:*`, `glue:*` ...), after denies, the
    /// permissions boundary and SCPs. Administrators are reported by IAM001 only.
    ///
    /// ## Why it matters
    /// A service wildcard grants far more than a job uses: with `s3:*` on `*` a job can read,
    /// overwrite and delete every bucket of the account, and also change bucket policies and
    /// ACLs to expose them publicly (`s3:PutBucketPolicy`, `s3:PutBucketAcl`).
    ///
    /// ## Example
    /// ```json
    /// {"Sid": "S3Everything", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// List the actions the jobs use (`s3:GetObject`, `s3:PutObject`, `s3:ListBucket`,
    /// `logs:PutLogEvents` ...) on the buckets, prefixes and log groups they use.
    ///
    /// ## References
    /// - IAM User Guide, "Grant least privilege"
    /// - EMR on EKS security best practices, "Apply the principle of least privilege"
    pub struct ExecRoleServiceWildcard;
    id = "IAM003", name = "execution-role-service-wildcard", practice = LeastPrivilege, severity = High,
    title = "Execution role holds every action of a service on all resources",
}

impl Rule for ExecRoleServiceWildcard {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role, p) in cx.non_admin_execution_roles() {
            let Some(risk) = p.report().get(RiskClass::ServiceWildcard) else {
                continue;
            };
            let services: Vec<String> = risk.services.iter().map(|s| format!("`{s}:*`")).collect();
            let probe: Vec<String> = risk.services.iter().map(|s| format!("{s}:*")).collect();
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Execution role `{}` holds {} on all resources{}.",
                    role.role_name,
                    join_words(&services),
                    if risk.is_conditional() { " (under conditions)" } else { "" }
                ))
                .remediation(format!(
                    "Replace the wildcards of `{}` with the actions its jobs call, on the resources they use.",
                    role.role_name
                ))
                .step(er.step(cx.index))
                .location(&role.loc);
            for s in risk.statements.iter().take(5) {
                b = b.step(grant_step(&p.policies, s, &probe));
                if let Some(l) = policy_location(cx.index, &s.policy) {
                    b = b.location(&l);
                }
            }
            out.push(b.build());
        }
        out
    }
}

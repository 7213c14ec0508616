use crate::iam_evidence::{policy_kind, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::IssueKind;
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// Identity policies and permissions boundaries of job execution roles with problems the
    /// IAM engine finds while parsing (as Parliament reports them): unknown actions or
    /// services, malformed actions or ARNs, condition keys that none of the statement's actions
    /// support, unknown condition operators, statements IAM would refuse. Soft findings
    /// (`info`): the action catalogue may lag behind AWS.
    ///
    /// ## Why it matters
    /// A misspelt action or ARN silently grants nothing, so the job fails, and the usual fix
    /// is a wildcard; a condition key an action does not support never matches (with
    /// `...IfExists` it always does), so the statement does not restrict what its author
    /// thinks.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": "s3:GetObjects", "Resource": "arn:aws:s3:::team-a-code/*"}
    /// ```
    ///
    /// ## Remediation
    /// Correct the policy; `aws accessanalyzer validate-policy --policy-type IDENTITY_POLICY
    /// --policy-document file://policy.json` reports the same problems.
    ///
    /// ## References
    /// - IAM User Guide, "Validating IAM policies" (IAM Access Analyzer policy validation)
    /// - Parliament (duo-labs/parliament)
    pub struct ExecRolePolicyIssues;
    id = "IAM040", name = "execution-role-policy-issues", practice = LeastPrivilege, severity = Info,
    title = "Execution role policy has invalid or unknown elements",
}

impl Rule for ExecRolePolicyIssues {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(p) = cx.iam().role(&role.arn) else {
                continue;
            };
            for a in p.policies.identity.iter().chain(p.policies.boundary.iter()) {
                let issues: Vec<_> = a
                    .policy
                    .issues()
                    .iter()
                    .filter(|i| i.kind != IssueKind::MissingVersion)
                    .collect();
                if issues.is_empty() {
                    continue;
                }
                let o = &a.origin;
                let list: Vec<String> = issues
                    .iter()
                    .take(5)
                    .map(|i| {
                        format!(
                            "{} at {}: {}",
                            i.kind.slug(),
                            if i.pointer.is_empty() {
                                "/"
                            } else {
                                &i.pointer
                            },
                            i.message
                        )
                    })
                    .collect();
                let mut b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "{} of execution role `{}` has {} problem{}: {}.",
                        match o.source {
                            emrguard_iam::PolicySource::Inline => format!("Inline policy `{}`", o.name),
                            emrguard_iam::PolicySource::PermissionsBoundary => format!("Permissions boundary `{}`", o.name),
                            _ => format!("Managed policy `{}`", o.name),
                        },
                        role.role_name,
                        issues.len(),
                        if issues.len() == 1 { "" } else { "s" },
                        list.join("; ")
                    ))
                    .remediation("Correct the policy (IAM Access Analyzer `validate-policy` reports the same problems).")
                    .discriminator(format!("{}/{}", o.arn.as_deref().unwrap_or(""), o.name))
                    .step(er.step(cx.index));
                for i in issues.iter().take(5) {
                    b = b.step(
                        PathStep::new(policy_kind(o), o.name.clone())
                            .arn(o.arn.as_deref())
                            .detail(format!("{} {}: {}", i.kind.slug(), i.pointer, i.message)),
                    );
                }
                if let Some(l) = policy_location(cx.index, o) {
                    b = b.location(&l);
                }
                out.push(b.location(&role.loc).build());
            }
        }
        out
    }
}

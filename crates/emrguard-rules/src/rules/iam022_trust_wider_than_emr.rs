use crate::iam_evidence::role_ref;
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles whose `:sub` pattern, within the role's own
    /// namespaces, admits more than EMR's service accounts *for this role*
    /// (`emr-containers-sa-*-*-ACCOUNT-BASE36(ROLE)`): any service account
    /// (`system:serviceaccount:NS:*`), or EMR service accounts of other execution roles
    /// (`emr-containers*`, `emr-containers-sa-*`, a truncated base36 suffix). The IAM engine is
    /// asked about a non-EMR service account, a made-up role's EMR service accounts and those of
    /// the snapshot's other execution roles.
    ///
    /// ## Why it matters
    /// EMR names each job's service accounts after its execution role, so the role boundary
    /// *is* the service-account name. A wider pattern lets a job submitted with a low-privilege
    /// role (or any pod of the namespace) assume this role, defeating the
    /// `emr-containers:ExecutionRoleArn` restrictions on submitters.
    ///
    /// ## Example
    /// ```json
    /// "StringLike": {"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:emr:emr-containers*"}
    /// ```
    /// (the pattern of the EMR best-practices guide's cross-account example).
    ///
    /// ## Remediation
    /// Use the exact pattern EMR writes,
    /// `system:serviceaccount:NAMESPACE:emr-containers-sa-*-*-ACCOUNT-BASE36(ROLE)`
    /// (`aws emr-containers update-role-trust-policy`).
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Update the trust policy of the job execution role"
    /// - aws-emr-containers-best-practices, `job-exec-role-1-trust-policy.json` (a looser example)
    pub struct TrustWiderThanEmr;
    id = "IAM022", name = "trust-sub-wider-than-emr", practice = LeastPrivilege, severity = High,
    title = "Execution role trust admits service accounts beyond this role's EMR service accounts",
}

impl Rule for TrustWiderThanEmr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let all = cx.execution_roles();
        for (er, role) in all.with_roles() {
            let Some(a) = crate::trust::cached(cx, &role.arn) else {
                continue;
            };
            for v in a.statements.iter().filter(|v| v.wider_than_emr()) {
                let mut what: Vec<String> = Vec::new();
                if !v.any_service_account_in.is_empty() {
                    let ns: Vec<String> = v
                        .any_service_account_in
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect();
                    what.push(format!("any service account of {}", join_words(&ns)));
                }
                let roles: Vec<String> = v
                    .other_roles
                    .iter()
                    .filter(|r| *r != "other roles")
                    .map(|r| format!("`{r}`"))
                    .collect();
                if !roles.is_empty() {
                    what.push(format!(
                        "the EMR service accounts of execution role{} {}",
                        if roles.len() == 1 { "" } else { "s" },
                        join_words(&roles)
                    ));
                } else if v.other_roles.contains("other roles") {
                    what.push("the EMR service accounts of other execution roles".to_owned());
                }
                let b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "The trust policy of execution role `{}` (statement {}) admits {}: its `:sub` pattern is wider than EMR's for this role.",
                        role.role_name,
                        v.index,
                        join_words(&what)
                    ))
                    .remediation(format!(
                        "Narrow the `:sub` condition to `system:serviceaccount:NAMESPACE:emr-containers-sa-*-*-{}-{}` for the role's namespaces, what {} writes.",
                        crate::values::EstateValues::of(cx.index).account(),
                        crate::base36::encode(&role.role_name),
                        crate::trust::update_trust_commands(cx, role)
                    ));
                out.push(crate::trust::finish_statement_finding(
                    b,
                    cx.index,
                    a,
                    v,
                    er.step(cx.index),
                    &role.loc,
                ));
            }
        }
        out
    }
}

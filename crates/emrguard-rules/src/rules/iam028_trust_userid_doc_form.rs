use crate::exec_roles::raw_trust_conditions;
use crate::iam_evidence::{policy_location, role_ref};
use crate::trust::{statement_step, trust_policy};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::IssueKind;
use emrguard_model::Finding;
use emrguard_model::Kind;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles with a statement that matches EMR service
    /// accounts through `aws:userid` (`"StringLike": {"aws:userid": "system:serviceaccount:NS:emr-containers-sa-*-*-ACCOUNT-BASE36"}`),
    /// the form shown on the EMR on EKS page "Using job execution roles" — usually without a
    /// `Principal` and with `"Resource": "*"`.
    ///
    /// **UNCERTAIN**: no AWS source explains that template. As a trust policy it is malformed:
    /// a trust statement needs a `Principal` (IAM rejects the document without one), and for
    /// a web-identity session `aws:userid` is `ROLE_ID:SESSION_NAME`, never
    /// `system:serviceaccount:...`, so the statement does not admit EMR's service accounts.
    /// emrguard reports it as *not effective*; the canonical form is the one
    /// `aws emr-containers update-role-trust-policy` writes.
    ///
    /// ## Why it matters
    /// The team believes the role is trusted by its jobs when it is not: jobs fail to get
    /// credentials, and the usual "fix" under pressure is a much wider trust.
    ///
    /// ## Example
    /// ```json
    /// {"Sid": "AllowSTSAssumerolewithwebidentity", "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    ///  "Resource": "*", "Condition": {"StringLike": {"aws:userid": "system:serviceaccount:NAMESPACE:emr-containers-sa-*-*-111122223333-BASE36"}}}
    /// ```
    ///
    /// ## Remediation
    /// Replace the statement with the output of
    /// `aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NAMESPACE --role-name ROLE`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS" (the
    ///   `aws:userid` template) and "Update the trust policy of the job execution role"
    /// - IAM User Guide, "AWS global condition context keys: aws:userid"
    pub struct TrustUseridDocForm;
    id = "IAM028", name = "trust-userid-doc-form", practice = LeastPrivilege, severity = Low,
    title = "Execution role trust matches service accounts on aws:userid and is not effective (UNCERTAIN)",
}

impl Rule for TrustUseridDocForm {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(tp) = trust_policy(cx, role) else {
                continue;
            };
            // Read the raw document: the engine leaves a statement without Principal out of
            // evaluation (IAM refuses it), but it is still what the snapshot holds.
            let Some(doc) = role.assume_role_policy_document.as_ref() else {
                continue;
            };
            let mut by_statement: std::collections::BTreeMap<usize, Vec<String>> =
                std::collections::BTreeMap::new();
            for (i, key, v) in raw_trust_conditions(doc.text()) {
                if key.eq_ignore_ascii_case("aws:userid") && v.starts_with("system:serviceaccount:")
                {
                    by_statement.entry(i).or_default().push(v);
                }
            }
            let missing_principal: Vec<usize> = tp
                .policy
                .issues()
                .iter()
                .filter(|i| i.kind == IssueKind::MissingPrincipal)
                .filter_map(|i| statement_index(&i.pointer))
                .collect();
            for (i, values) in by_statement {
                out.push(self.finding_for(
                    cx,
                    er,
                    role,
                    &tp,
                    i,
                    &values,
                    missing_principal.contains(&i),
                ));
            }
        }
        out
    }
}

/// `/Statement/3/...` → 3; `/Statement` (a single object) → 0.
fn statement_index(pointer: &str) -> Option<usize> {
    let rest = pointer.strip_prefix("/Statement")?;
    match rest.strip_prefix('/') {
        None => Some(0),
        Some(r) => r.split('/').next()?.parse().ok(),
    }
}

impl TrustUseridDocForm {
    #[allow(clippy::too_many_arguments)]
    fn finding_for(
        &self,
        cx: &Context<'_, '_>,
        er: &crate::exec_roles::ExecutionRole<'_>,
        role: &emrguard_model::Located<emrguard_model::aws::iam::Role>,
        tp: &emrguard_iam::TrustPolicy,
        index: usize,
        values: &[String],
        no_principal: bool,
    ) -> Finding {
        let mut b = self
            .finding(role_ref(role))
            .message(format!(
                "The trust policy of execution role `{}` (statement {index}) matches `aws:userid` against `{}`. UNCERTAIN: this is the template of the EMR documentation page \"Using job execution roles\"; it is not effective — {}`aws:userid` of a web-identity session is ROLE_ID:SESSION, never a service account — so it does not let the role's jobs assume the role.",
                role.role_name,
                values.join("`, `"),
                if no_principal { "the statement has no Principal (IAM refuses such a trust policy), and " } else { "" }
            ))
            .remediation(format!(
                "Replace the statement with the one {} writes.",
                crate::trust::update_trust_commands(cx, role)
            ))
            .discriminator(index.to_string())
            .step(er.step(cx.index));
        if let Some(s) = statement_step(tp, index) {
            b = b.step(s);
        } else {
            b = b.step(
                emrguard_model::PathStep::new(Kind::TrustPolicy, "AssumeRolePolicyDocument")
                    .detail(format!(
                        "statement {index}: aws:userid = {} (no Principal)",
                        values.join(", ")
                    )),
            );
        }
        if let Some(l) = policy_location(cx.index, &tp.origin) {
            b = b.location(&l);
        }
        b.location(&role.loc).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_pointers() {
        assert_eq!(statement_index("/Statement/2"), Some(2));
        assert_eq!(statement_index("/Statement/2/Principal"), Some(2));
        assert_eq!(statement_index("/Statement"), Some(0));
        assert_eq!(statement_index("/Version"), None);
    }
}

use crate::iam_evidence::role_ref;
use crate::trust::{irsa_statements, STS_AUDIENCE};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// A hardening note: web-identity (IRSA) statements of job execution roles that restrict
    /// `:sub` properly but have no `<issuer>:aud` condition. The exact statement that
    /// `aws emr-containers update-role-trust-policy` writes (`StringLike` on `:sub` only,
    /// domain.md §1.1) is AWS's own form and is **not** reported; statements already reported
    /// as too wide (IAM020–IAM023) are not repeated here.
    ///
    /// ## Why it matters
    /// The EKS user guide's IRSA template and the EKS best-practices guide scope trust with
    /// both `:sub` and `:aud` = `sts.amazonaws.com`. Without `:aud`, a token the cluster issued
    /// for another audience (a projected token for Vault, or another OIDC consumer) that leaks
    /// could also be exchanged for the role's credentials. The risk is low: the service
    /// account is still pinned. Turn the rule off with `[severity]` or `ignore` if you follow
    /// AWS's EMR form everywhere.
    ///
    /// ## Example
    /// ```json
    /// "StringEquals": {"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:spark:emr-containers-sa-spark-driver-111122223333-abc"}
    /// ```
    ///
    /// ## Remediation
    /// Add `"oidc.eks.REGION.amazonaws.com/id/ID:aud": "sts.amazonaws.com"` under
    /// `StringEquals` next to the `:sub` condition.
    ///
    /// ## References
    /// - EKS User Guide, "Assign IAM roles to Kubernetes service accounts" (trust policy template)
    /// - EKS best practices guide, "Scope the IAM Role trust policy for IRSA Roles to the
    ///   service account name, namespace, and cluster"
    pub struct TrustMissingAud;
    id = "IAM027", name = "trust-missing-aud", practice = LeastPrivilege, severity = Info,
    title = "IRSA trust statement of an execution role has no :aud condition",
}

impl Rule for TrustMissingAud {
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
            let stmts = irsa_statements(&a.trust);
            for v in &a.statements {
                if !v.has_sub
                    || v.has_aud
                    || v.cli_form
                    || v.crosses_namespaces()
                    || v.wider_than_emr()
                    || !v.suffix_mismatches.is_empty()
                {
                    continue;
                }
                // Only statements that are in use (admit something).
                if !stmts.iter().any(|s| s.st.index() == v.index) {
                    continue;
                }
                let b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "The IRSA statement {} of execution role `{}` pins `:sub` but has no `{}:aud` condition (hardening; AWS's EMR command does not write it either).",
                        v.index, role.role_name, v.issuer
                    ))
                    .remediation(format!(
                        "Add `\"{}:aud\": \"{STS_AUDIENCE}\"` under `StringEquals` in statement {} of the trust policy of `{}`.",
                        v.issuer, v.index, role.role_name
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

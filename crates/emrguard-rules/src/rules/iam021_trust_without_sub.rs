use crate::iam_evidence::role_ref;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles with a web-identity (IRSA) statement for an OIDC
    /// provider that has no `<issuer>:sub` condition at all (at most `:aud`), and that the IAM
    /// engine confirms admits an arbitrary service account.
    ///
    /// ## Why it matters
    /// Every service account of every namespace of the cluster can assume the role: `:aud`
    /// is `sts.amazonaws.com` for every projected token EKS issues. Any pod, including ones a
    /// tenant creates, gets the execution role's credentials.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},
    ///  "Action": "sts:AssumeRoleWithWebIdentity",
    ///  "Condition": {"StringEquals": {"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:aud": "sts.amazonaws.com"}}}
    /// ```
    ///
    /// ## Remediation
    /// Add the `:sub` condition EMR writes
    /// (`aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NAMESPACE --role-name ROLE`)
    /// and remove the unrestricted statement.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Update the trust policy of the job execution role"
    /// - EKS User Guide, "Assign IAM roles to Kubernetes service accounts"
    pub struct TrustWithoutSub;
    id = "IAM021", name = "trust-web-identity-without-sub", practice = LeastPrivilege, severity = Critical,
    title = "Execution role trust accepts any service account of the cluster (no :sub condition)",
}

impl Rule for TrustWithoutSub {
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
            for v in a
                .statements
                .iter()
                .filter(|v| !v.has_sub && v.evidence.is_some())
            {
                let b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "The trust policy of execution role `{}` (statement {}) lets any service account of the cluster behind `{}` assume it: the web-identity statement has no `:sub` condition{}.",
                        role.role_name,
                        v.index,
                        v.issuer,
                        if v.has_aud { " (only `:aud`, which every EKS token satisfies)" } else { "" }
                    ))
                    .remediation(format!(
                        "Run {} and delete statement {} of the trust policy.",
                        crate::trust::update_trust_commands(cx, role),
                        v.index
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

use crate::iam_evidence::role_ref;
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles whose web-identity (IRSA) statement has a
    /// `<issuer>:sub` condition that admits service accounts of namespaces the role is not
    /// meant for: `system:serviceaccount:*:*`, `*`, `system:serviceaccount:spark-*:...` and the
    /// like. The role is meant for the namespaces of the virtual clusters that use it, of its
    /// Pod Identity associations, and those its trust names literally. The IAM engine is asked
    /// whether the trust admits the role's own EMR service-account name in the other EMR
    /// namespaces of the snapshot and in a namespace that exists nowhere.
    ///
    /// ## Why it matters
    /// Any pod in any namespace admitted by the pattern — a tenant's notebook, a CI runner, a
    /// compromised web app — can exchange its service-account token for the role's
    /// credentials (`sts:AssumeRoleWithWebIdentity` needs nothing else). EMR's own pattern
    /// admits only EMR's service accounts for this role in one namespace.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"},
    ///  "Action": "sts:AssumeRoleWithWebIdentity",
    ///  "Condition": {"StringLike": {"oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub": "system:serviceaccount:*:*"}}}
    /// ```
    ///
    /// ## Remediation
    /// Replace the statement with the one EMR writes:
    /// `aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NAMESPACE --role-name ROLE`,
    /// which admits `system:serviceaccount:NAMESPACE:emr-containers-sa-*-*-ACCOUNT-BASE36(ROLE)`
    /// only; run it once per namespace that really uses the role.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Update the trust policy of the job execution role"
    /// - EKS best practices guide, "Scope the IAM Role trust policy for IRSA Roles to the
    ///   service account name, namespace, and cluster"
    pub struct TrustOtherNamespaces;
    id = "IAM020", name = "trust-admits-other-namespaces", practice = LeastPrivilege, severity = Critical,
    title = "Execution role trust admits service accounts of other namespaces",
}

impl Rule for TrustOtherNamespaces {
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
            for v in a.statements.iter().filter(|v| v.crosses_namespaces()) {
                let mut spaces: Vec<String> = v
                    .other_namespaces
                    .iter()
                    .map(|n| {
                        if n == "any namespace" {
                            n.clone()
                        } else {
                            format!("`{n}`")
                        }
                    })
                    .collect();
                // "any namespace" last.
                spaces.sort_by_key(|s| s == "any namespace");
                let intended: Vec<String> = a
                    .intended_namespaces
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect();
                let b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "The trust policy of execution role `{}` (statement {}) admits service accounts of {}{}: any pod there can assume the role.",
                        role.role_name,
                        v.index,
                        join_words(&spaces),
                        if intended.is_empty() {
                            String::new()
                        } else {
                            format!(", not only of {}", join_words(&intended))
                        }
                    ))
                    .remediation(format!(
                        "Restrict the `:sub` condition to EMR's service accounts of the role's namespaces (`system:serviceaccount:NAMESPACE:emr-containers-sa-*-*-{}-{}`): run {} and remove the wide statement.",
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

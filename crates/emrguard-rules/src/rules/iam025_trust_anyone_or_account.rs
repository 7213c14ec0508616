use crate::iam_evidence::{policy_location, role_ref};
use crate::trust::{statement_step, trust_policy};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide_trust, Context as IamContext, Decision, TrustPrincipal};
use emrguard_model::aws::iam::arn_account;
use emrguard_model::{Finding, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles that let everyone (`"Principal": "*"`,
    /// `{"AWS": "*"}`) or a whole AWS account (`arn:aws:iam::ACCOUNT:root`, `ACCOUNT`) assume
    /// the role without any condition. The IAM engine is asked whether an arbitrary principal
    /// of another account, and of the role's own account, may call `sts:AssumeRole`,
    /// `sts:AssumeRoleWithWebIdentity` or `sts:AssumeRoleWithSAML`; a condition the request
    /// cannot satisfy (MFA, source, organization...) keeps the statement out.
    ///
    /// ## Why it matters
    /// EMR needs only its service accounts (IRSA) or `pods.eks.amazonaws.com` (Pod Identity).
    /// Trusting everyone exposes the role to the internet; trusting a whole account hands it
    /// to every user and role of that account with `sts:AssumeRole` on `*`, bypassing the
    /// `emr-containers:ExecutionRoleArn` controls on who may run jobs with it.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}
    /// ```
    ///
    /// ## Remediation
    /// Remove the statement. Keep only the IRSA statement written by
    /// `aws emr-containers update-role-trust-policy` and, for Pod Identity on emr-7.3.0 and
    /// later, `pods.eks.amazonaws.com` with `sts:AssumeRole` and `sts:TagSession`.
    ///
    /// ## References
    /// - IAM User Guide, "AWS JSON policy elements: Principal"
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS"
    pub struct TrustAnyoneOrAccount;
    id = "IAM025", name = "trust-anyone-or-whole-account", practice = LeastPrivilege, severity = Critical,
    title = "Execution role trust admits everyone or a whole account without conditions",
}

const ACTIONS: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

impl Rule for TrustAnyoneOrAccount {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(tp) = trust_policy(cx, role) else {
                continue;
            };
            let account = arn_account(&role.arn).unwrap_or("111111111111");
            let foreign_account = if account == "000000000000" {
                "999999999999"
            } else {
                "000000000000"
            };
            let probes = [
                (
                    true,
                    TrustPrincipal::Aws(format!(
                        "arn:aws:iam::{foreign_account}:user/emrguard-probe"
                    )),
                ),
                (true, TrustPrincipal::Anonymous),
                (
                    false,
                    TrustPrincipal::Aws(format!("arn:aws:iam::{account}:user/emrguard-probe")),
                ),
            ];
            // statement index -> (everyone?, action)
            let mut hits: BTreeMap<usize, (bool, &str)> = BTreeMap::new();
            for (everyone, who) in &probes {
                for action in ACTIONS {
                    if let Decision::Allowed(ev) =
                        decide_trust(&tp, who, action, &IamContext::closed())
                    {
                        for e in ev {
                            let h = hits.entry(e.statement.index).or_insert((*everyone, action));
                            h.0 |= *everyone;
                        }
                    }
                }
            }
            for (index, (everyone, action)) in hits {
                let who = if everyone {
                    "everyone (any AWS principal of any account)".to_owned()
                } else {
                    format!("every principal of account {account}")
                };
                let mut b = self
                    .finding(role_ref(role))
                    .severity(if everyone { Severity::Critical } else { Severity::High })
                    .message(format!(
                        "The trust policy of execution role `{}` (statement {index}) lets {who} call `{action}` without conditions.",
                        role.role_name
                    ))
                    .remediation(format!(
                        "Remove statement {index} from the trust policy of `{}`; EMR needs only its IRSA statement (and `pods.eks.amazonaws.com` for Pod Identity).",
                        role.role_name
                    ))
                    .discriminator(index.to_string())
                    .step(er.step(cx.index));
                if let Some(s) = statement_step(&tp, index) {
                    b = b.step(s);
                }
                if let Some(l) = policy_location(cx.index, &tp.origin) {
                    b = b.location(&l);
                }
                out.push(b.location(&role.loc).build());
            }
        }
        out
    }
}

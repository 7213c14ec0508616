use crate::iam_evidence::{policy_location, role_ref};
use crate::trust::statement_step;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles whose `:sub` condition names EMR's per-role
    /// service accounts (`emr-containers-sa-*-*-ACCOUNT-BASE36`, or one exact
    /// `emr-containers-sa-spark-driver-ACCOUNT-BASE36`) with an account or base36 suffix that is
    /// not this role's. The suffix is the role *name* read as a base-256 number and written in
    /// base 36 (aws-cli `base36.py`); emrguard decodes it to say which role it names.
    ///
    /// ## Why it matters
    /// The statement never admits this role's own jobs, and when the suffix encodes another
    /// role (a copy/paste of another role's statement), that role's jobs can assume this one:
    /// a job submitted with a read-only role obtains this role's permissions. High when the
    /// suffix names a role of the snapshot, medium when it names a role emrguard cannot see,
    /// low when it decodes to no valid role name (a dead statement).
    ///
    /// ## Example
    /// Role `emr-team-a-exec` (suffix `ued72w79csftn2hgi3ug4mb`) trusting
    /// `system:serviceaccount:spark-shared:emr-containers-sa-*-*-111122223333-ndkbteyfdethxdyg80tkih94qbini260pqelf`,
    /// which encodes `emr-shared-readonly-exec`.
    ///
    /// ## Remediation
    /// Remove the statement, and regenerate the role's trust with
    /// `aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NAMESPACE --role-name ROLE`.
    ///
    /// ## References
    /// - aws-cli `awscli/customizations/emrcontainers/base36.py` and `constants.py`
    /// - EMR on EKS Development Guide, "Update the trust policy of the job execution role"
    pub struct TrustBase36Mismatch;
    id = "IAM023", name = "trust-base36-suffix-mismatch", practice = LeastPrivilege, severity = High,
    title = "Execution role trust names another role's EMR service accounts (base36 suffix mismatch)",
}

impl Rule for TrustBase36Mismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let all = cx.execution_roles();
        let own_account = |arn: &str| {
            emrguard_model::aws::iam::arn_account(arn)
                .unwrap_or("")
                .to_owned()
        };
        for (er, role) in all.with_roles() {
            let Some(a) = crate::trust::cached(cx, &role.arn) else {
                continue;
            };
            let account = own_account(&role.arn);
            let own = crate::base36::encode(&role.role_name);
            for v in &a.statements {
                for (value, acct, b36, decoded) in &v.suffix_mismatches {
                    let other = decoded.as_deref().and_then(|n| cx.index.role_by_name(n));
                    let (severity, whose) = match (decoded, other) {
                        (Some(n), Some(r)) if r.arn != role.arn => (
                            Severity::High,
                            format!(
                                "encodes role `{n}`: that role's EMR service accounts can assume `{}`",
                                role.role_name
                            ),
                        ),
                        (Some(n), _) if n != &role.role_name => (
                            Severity::Medium,
                            format!("encodes role `{n}`, which is not in the snapshot; jobs of such a role could assume `{}`", role.role_name),
                        ),
                        (Some(_), _) => (Severity::Low, "encodes this role".to_owned()),
                        (None, _) => (Severity::Low, "decodes to no valid role name".to_owned()),
                    };
                    let account_note = if acct != &account {
                        format!(" The account in the name is {acct}, not the role's {account}.")
                    } else {
                        String::new()
                    };
                    let mut b = self
                        .finding(role_ref(role))
                        .severity(severity)
                        .message(format!(
                            "The trust policy of execution role `{}` (statement {}) admits `{value}`, whose base36 suffix `{b36}` {whose}. This role's own suffix is `{own}`, so the statement never admits its jobs.{account_note}",
                            role.role_name, v.index
                        ))
                        .remediation(format!(
                            "Delete the statement and regenerate the trust with {} (suffix `{own}`).",
                            crate::trust::update_trust_commands(cx, role)
                        ))
                        .discriminator(format!("{}/{value}", v.index))
                        .step(er.step(cx.index));
                    if let Some(s) = statement_step(&a.trust, v.index) {
                        b = b.step(s);
                    }
                    if let Some(r) = other.filter(|r| r.arn != role.arn) {
                        b = b.step(
                            emrguard_model::PathStep::new(Kind::IamRole, r.role_name.clone())
                                .arn(Some(&r.arn))
                                .detail(format!("base36(`{}`) = `{b36}`", r.role_name)),
                        );
                    }
                    if let Some(l) = policy_location(cx.index, &a.trust.origin) {
                        b = b.location(&l);
                    }
                    out.push(b.location(&role.loc).build());
                }
            }
        }
        out
    }
}

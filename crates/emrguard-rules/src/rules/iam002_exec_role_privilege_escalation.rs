use crate::iam_evidence::{grant_step, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::RiskClass;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Job execution roles that can escalate their own privileges: they hold, on all resources,
    /// every action of a known escalation method (Cloudsplaining's list, which includes Rhino
    /// Security Labs' and pathfinding.cloud's methods, plus EMR on EKS and EKS Pod Identity
    /// methods): `iam:PutRolePolicy`, `iam:AttachRolePolicy`, `iam:CreatePolicyVersion`,
    /// `iam:UpdateAssumeRolePolicy`, `iam:PassRole` with a compute service
    /// (`ec2:RunInstances`, `lambda:CreateFunction`, `emr-containers:StartJobRun` ...),
    /// `iam:CreateAccessKey` ... Roles that are administrators already are reported by IAM001
    /// only.
    ///
    /// ## Why it matters
    /// Code running in a job can turn the role into an administrator (or obtain a more
    /// privileged role) in one API call: the role's effective privilege is the account's.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": ["iam:PassRole", "emr-containers:StartJobRun"], "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// Remove IAM write and `iam:PassRole` permissions from execution roles; jobs never need to
    /// change IAM. If a job must start other jobs, scope `emr-containers:StartJobRun` with an
    /// `emr-containers:ExecutionRoleArn` condition and `iam:PassRole` to named roles.
    ///
    /// ## References
    /// - Cloudsplaining, "Privilege Escalation" risk category
    /// - Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation"
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS"
    pub struct ExecRolePrivilegeEscalation;
    id = "IAM002", name = "execution-role-privilege-escalation", practice = LeastPrivilege, severity = High,
    title = "Execution role can escalate its privileges",
}

impl Rule for ExecRolePrivilegeEscalation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role, p) in cx.non_admin_execution_roles() {
            let Some(risk) = p.report().get(RiskClass::PrivilegeEscalation) else {
                continue;
            };
            let methods: Vec<String> = risk
                .escalations
                .iter()
                .map(|e| format!("{} ({})", e.method, e.actions.join(" + ")))
                .collect();
            let all_conditional = risk.escalations.iter().all(|e| e.conditional);
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Execution role `{}` can escalate its privileges{}: {}.",
                    role.role_name,
                    if all_conditional { " under conditions" } else { "" },
                    methods.join("; ")
                ))
                .remediation(format!(
                    "Remove IAM write and unscoped `iam:PassRole` permissions from `{}`; scope any job-starting permission with `emr-containers:ExecutionRoleArn`.",
                    role.role_name
                ))
                .step(er.step(cx.index))
                .location(&role.loc);
            if all_conditional {
                b = b.severity(Severity::Medium);
            }
            for e in risk.escalations.iter().take(5) {
                for s in e.statements.iter().take(3) {
                    let acts: Vec<String> = e.actions.iter().map(|a| a.to_string()).collect();
                    b = b.step(grant_step(&p.policies, s, &acts));
                    if let Some(l) = policy_location(cx.index, &s.policy) {
                        b = b.location(&l);
                    }
                }
            }
            let mut f = b.build();
            f.path.dedup();
            out.push(f);
        }
        out
    }
}

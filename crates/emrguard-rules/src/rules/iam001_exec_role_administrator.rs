use crate::iam_evidence::{grant_step, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::RiskClass;
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Job execution roles (named by job runs, job templates, managed endpoints, submitters'
    /// `emr-containers:ExecutionRoleArn` conditions, EMR service accounts in their trust policy,
    /// or Pod Identity associations of EMR service accounts) that hold administrator access:
    /// every IAM write and permissions-management action plus `sts:AssumeRole` on all
    /// resources, after explicit denies, the permissions boundary and SCPs. `AdministratorAccess`,
    /// `"Action": "*", "Resource": "*"`, `NotAction` that leaves IAM in, or `iam:*` + `sts:*`
    /// all count.
    ///
    /// ## Why it matters
    /// Every pod of a job (driver, executors, the job runner) and every notebook kernel of an
    /// endpoint gets the role's credentials. Whoever can submit a job, or put code into one
    /// (a dependency, a notebook cell, a compromised library), owns the AWS account.
    ///
    /// ## Example
    /// ```json
    /// {"RoleName": "emr-shared-admin-exec",
    ///  "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]}
    /// ```
    ///
    /// ## Remediation
    /// Detach the administrator policy and grant only what the jobs use: read on their code and
    /// input prefixes, write on their output and log prefixes, the Glue databases and tables they
    /// query. The job runs'
    /// `configurationOverrides` and entry points in the snapshot say which prefixes those are.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS"
    /// - EMR on EKS security best practices, "Apply the principle of least privilege"
    pub struct ExecRoleAdministrator;
    id = "IAM001", name = "execution-role-administrator", practice = LeastPrivilege, severity = Critical,
    title = "Execution role has administrator access",
}

impl Rule for ExecRoleAdministrator {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(p) = cx.iam().role(&role.arn) else {
                continue;
            };
            let Some(risk) = p.report().get(RiskClass::Administrator) else {
                continue;
            };
            let conditional = risk.is_conditional();
            let actions: Vec<String> = vec![
                "iam:PutRolePolicy".into(),
                "iam:AttachRolePolicy".into(),
                "sts:AssumeRole".into(),
            ];
            let resource = role_ref(role);
            let mut b = self
                .finding(resource)
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Execution role `{}` holds administrator access{}: every pod of its jobs and endpoints can do anything in the account.",
                    role.role_name,
                    if conditional { " under conditions" } else { "" }
                ))
                .remediation(format!(
                    "Detach administrator policies from `{}` and grant only the S3 prefixes, log destinations and tables its jobs use.",
                    role.role_name
                ))
                .step(er.step(cx.index))
                .location(&role.loc);
            if conditional {
                b = b.severity(Severity::High);
            }
            for s in risk.statements.iter().take(5) {
                b = b.step(grant_step(&p.policies, s, &actions));
                if let Some(l) = policy_location(cx.index, &s.policy) {
                    b = b.location(&l);
                }
            }
            out.push(b.build());
        }
        out
    }
}

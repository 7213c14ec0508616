use crate::iam_evidence::{grant_step, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{data_access_to_all_tables, DataAccess};
use emrguard_model::{Finding, Severity};

declare_rule! {
    /// ## What it checks
    /// Job execution roles that may read or write every table: Glue Data Catalog tables and
    /// partitions (`glue:GetTable`, `glue:GetPartitions` ... / `glue:CreateTable`,
    /// `glue:UpdateTable`, `glue:BatchCreatePartition` ...) or DynamoDB items (`dynamodb:GetItem`,
    /// `dynamodb:Scan` ... / `dynamodb:PutItem` ...) with `Resource` `*` or every table of the
    /// account, after denies, the permissions boundary and SCPs. Write access is high severity,
    /// read-only access medium. Administrators are reported by IAM001 only.
    ///
    /// ## Why it matters
    /// Spark jobs that use the Glue Data Catalog as their metastore need the databases and
    /// tables they query. Every table means a job can see (and with write, redefine) every
    /// dataset's schema and location, including other teams', and point tables at data it
    /// controls.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": ["glue:GetTable", "glue:UpdateTable"], "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// Scope Glue actions to `arn:aws:glue:REGION:ACCOUNT:catalog`, the job's
    /// `database/NAME` and `table/NAME/*`, and DynamoDB actions to the job's tables.
    ///
    /// ## References
    /// - AWS Glue Developer Guide, "Specifying AWS Glue resource ARNs"
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS"
    pub struct ExecRoleAllTables;
    id = "IAM005", name = "execution-role-all-tables", practice = LeastPrivilege, severity = Medium,
    title = "Execution role can read or write every Glue or DynamoDB table",
}

fn describe(kind: &str, a: &DataAccess) -> Option<String> {
    if !a.any() {
        return None;
    }
    let what = match (a.read, a.write) {
        (true, true) => "read and write",
        (true, false) => "read",
        _ => "write",
    };
    Some(format!(
        "{what} every {kind}{} ({})",
        if a.conditional {
            " under conditions"
        } else {
            ""
        },
        a.actions.join(", ")
    ))
}

impl Rule for ExecRoleAllTables {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role, p) in cx.non_admin_execution_roles() {
            let t = data_access_to_all_tables(&p.policies);
            let parts: Vec<String> = [
                describe("Glue table", &t.glue),
                describe("DynamoDB table", &t.dynamodb),
            ]
            .into_iter()
            .flatten()
            .collect();
            if parts.is_empty() {
                continue;
            }
            let write = t.glue.write || t.dynamodb.write;
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!("Execution role `{}` may {}.", role.role_name, parts.join("; and ")))
                .remediation(format!(
                    "Scope the Glue and DynamoDB permissions of `{}` to the catalog, databases and tables its jobs use.",
                    role.role_name
                ))
                .step(er.step(cx.index))
                .location(&role.loc);
            if write {
                b = b.severity(Severity::High);
            }
            for a in [&t.glue, &t.dynamodb] {
                for s in a.statements.iter().take(3) {
                    b = b.step(grant_step(&p.policies, s, &a.actions));
                    if let Some(l) = policy_location(cx.index, &s.policy) {
                        b = b.location(&l);
                    }
                }
            }
            out.push(b.build());
        }
        out
    }
}

use crate::iam_evidence::{grant_step, policy_location, role_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::data_access_to_all_buckets;
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Job execution roles that may read (`s3:GetObject`, `s3:GetObjectVersion`) or write
    /// (`s3:PutObject`, `s3:DeleteObject`, `s3:DeleteObjectVersion`, `s3:PutObjectAcl`) objects
    /// in every bucket: `Resource` `*`, `arn:aws:s3:::*` or `arn:aws:s3:::*/*`, after denies,
    /// the permissions boundary and SCPs. Administrators are reported by IAM001 only.
    ///
    /// ## Why it matters
    /// A job needs its code, its input and output prefixes and its log prefix. Access to every
    /// bucket lets any job (and anyone who can put code into one) read other teams' data,
    /// Terraform state, CloudTrail logs and backups, or overwrite them.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// Scope object actions to the job's prefixes (`arn:aws:s3:::team-a-data/*`,
    /// `arn:aws:s3:::emr-logs/team-a/*`) and `s3:ListBucket` to those buckets, or bound the
    /// role with a permissions boundary that does.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS"
    /// - Cloudsplaining, "Data Exfiltration" risk category
    pub struct ExecRoleAllBuckets;
    id = "IAM004", name = "execution-role-all-buckets", practice = LeastPrivilege, severity = High,
    title = "Execution role can read or write every S3 bucket",
}

impl Rule for ExecRoleAllBuckets {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role, p) in cx.non_admin_execution_roles() {
            let access = data_access_to_all_buckets(&p.policies);
            if !access.any() {
                continue;
            }
            let what = match (access.read, access.write) {
                (true, true) => "read and write",
                (true, false) => "read",
                _ => "write",
            };
            let mut b = self
                .finding(role_ref(role))
                .subject(crate::iam_evidence::principal_subject(&role.arn))
                .message(format!(
                    "Execution role `{}` may {what} objects in every S3 bucket{} ({}).",
                    role.role_name,
                    if access.conditional { " under conditions" } else { "" },
                    access.actions.join(", ")
                ))
                .remediation(format!(
                    "Scope the S3 object permissions of `{}` to the buckets and prefixes its jobs read and write.",
                    role.role_name
                ))
                .step(er.step(cx.index))
                .location(&role.loc);
            for s in access.statements.iter().take(5) {
                b = b.step(grant_step(&p.policies, s, &access.actions));
                if let Some(l) = policy_location(cx.index, &s.policy) {
                    b = b.location(&l);
                }
            }
            out.push(b.build());
        }
        out
    }
}

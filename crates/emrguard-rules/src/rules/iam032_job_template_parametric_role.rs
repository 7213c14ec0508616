use super::iam030_submitter_any_execution_role::allow_evidence;
use crate::iam_evidence::{evidence_step, policy_location, principal_location, principal_subject};
use crate::submitters::{
    account_of, any_privileged, candidates, describe_roles, probe_role_arn, request_context,
    usable_roles, virtual_clusters, START_JOB_RUN,
};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::decide;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref, Severity};

declare_rule! {
    /// ## What it checks
    /// Job templates whose `executionRoleArn` is a template parameter
    /// (`arn:aws:iam::111122223333:role/${ExecutionRoleName}`), combined with submitters that
    /// may `StartJobRun` from the template (an `emr-containers:JobTemplateArn` condition) and
    /// are not also restricted by `emr-containers:ExecutionRoleArn`. The IAM engine decides
    /// `StartJobRun` with the template's ARN and an execution role no policy names: allowed
    /// with the template, not allowed without it.
    ///
    /// ## Why it matters
    /// AWS: "If the job template specifies a job template parameter inside the execution role
    /// ARN field, then the user will be able to invoke StartJobRun using an arbitrary execution
    /// role." The template restriction looks tight and is not: the submitter fills in the most
    /// privileged role whose trust admits the namespace.
    ///
    /// ## Example
    /// Template `"executionRoleArn": "arn:aws:iam::111122223333:role/${ExecutionRoleName}"`; submitter
    /// `{"Action": "emr-containers:StartJobRun", "Condition": {"ArnLike": {"emr-containers:JobTemplateArn": "arn:aws:emr-containers:us-west-2:111122223333:/jobtemplates/2zqkqc2w95h7h"}}}`.
    ///
    /// ## Remediation
    /// Fix the execution role in the template (`"executionRoleArn": "arn:aws:iam::ACCOUNT:role/TEAM_EXECUTION_ROLE"`),
    /// or add an `ArnEquals` `emr-containers:ExecutionRoleArn` condition to the submitter's
    /// `StartJobRun` statement.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job templates" → "Controlling access to job
    ///   templates" (iam-job-template)
    pub struct JobTemplateParametricRole;
    id = "IAM032", name = "job-template-parametric-execution-role", practice = LeastPrivilege, severity = High,
    title = "Submitters restricted only by a job template can choose the execution role",
}

impl Rule for JobTemplateParametricRole {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let templates: Vec<_> = cx
            .index
            .snap
            .job_templates
            .iter()
            .filter(|t| {
                t.job_template_data
                    .as_ref()
                    .and_then(|d| d.execution_role_arn.as_deref())
                    .is_some_and(|r| r.contains("${"))
            })
            .collect();
        if templates.is_empty() {
            return Vec::new();
        }
        let vcs = virtual_clusters(cx);
        let subs = candidates(cx, &[START_JOB_RUN]);
        let mut out = Vec::new();
        let mut usable_by_vc: std::collections::HashMap<
            String,
            Vec<(String, String, Option<emrguard_iam::PrivilegeTier>)>,
        > = std::collections::HashMap::new();
        for t in templates {
            let role_field = t
                .job_template_data
                .as_ref()
                .and_then(|d| d.execution_role_arn.as_deref())
                .unwrap_or("");
            let name = t.name.clone().unwrap_or_else(|| t.id.clone());
            for (arn, p) in &subs {
                let probe = probe_role_arn(account_of(arn));
                let mut hits = Vec::new();
                for vc in &vcs {
                    let with = decide(
                        &p.policies,
                        START_JOB_RUN,
                        &vc.arn,
                        &request_context(p, Some(&probe), Some(&t.arn)),
                    );
                    if !with.may_be_allowed() {
                        continue;
                    }
                    let without = decide(
                        &p.policies,
                        START_JOB_RUN,
                        &vc.arn,
                        &request_context(p, Some(&probe), None),
                    );
                    if without.may_be_allowed() {
                        continue; // IAM030: any role, template or not
                    }
                    hits.push((vc, with));
                }
                if hits.is_empty() {
                    continue;
                }
                let mut usable = Vec::new();
                for (vc, _) in &hits {
                    let roles = usable_by_vc
                        .entry(vc.vc.id.clone())
                        .or_insert_with(|| usable_roles(cx, vc.vc));
                    for r in roles.iter().cloned() {
                        if !usable.iter().any(
                            |u: &(String, String, Option<emrguard_iam::PrivilegeTier>)| u.0 == r.0,
                        ) {
                            usable.push(r);
                        }
                    }
                }
                let vc_names: Vec<String> = hits
                    .iter()
                    .map(|(vc, _)| format!("`{}` ({})", vc.vc.name, vc.vc.id))
                    .collect();
                let resource = Ref::aws(Kind::EmrJobTemplate, name.clone(), Some(&t.arn));
                let mut b = self
                    .finding(resource.clone())
                    .subject(principal_subject(arn))
                    .severity(if any_privileged(&usable) { Severity::Critical } else { Severity::High })
                    .message(format!(
                        "`{}` may start jobs from job template `{name}` on {}, and the template's execution role is a parameter (`{role_field}`): it can run jobs as any execution role.{}",
                        emrguard_model::aws::iam::arn_resource_name(arn),
                        join_words(&vc_names),
                        if usable.is_empty() {
                            String::new()
                        } else {
                            format!(" Roles whose trust admits jobs there: {}.", join_words(&describe_roles(&usable)))
                        }
                    ))
                    .remediation(format!(
                        "Fix `executionRoleArn` in job template `{name}` to one role, or add an `ArnEquals` `emr-containers:ExecutionRoleArn` condition to the `StartJobRun` statement of `{}`.",
                        emrguard_model::aws::iam::arn_resource_name(arn)
                    ))
                    .step(PathStep::from_ref(&resource).detail(format!("jobTemplateData.executionRoleArn = {role_field}")));
                for (vc, d) in hits.iter().take(2) {
                    for e in allow_evidence(d).iter().take(2) {
                        b = b.step(evidence_step(e, START_JOB_RUN, Some(&vc.arn)));
                        if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                            b = b.location(&l);
                        }
                    }
                }
                let roles: Vec<PathStep> = usable
                    .iter()
                    .take(5)
                    .map(|(rarn, rname, _)| {
                        PathStep::new(Kind::IamRole, rname.clone())
                            .arn(Some(rarn))
                            .detail("usable execution role")
                    })
                    .collect();
                b = b.fork(
                    Kind::IamRole,
                    format!("{} usable execution roles", usable.len()),
                    roles,
                );
                b = b.location(&t.loc);
                if let Some(l) = principal_location(cx.index, arn) {
                    b = b.location(&l);
                }
                let mut f = b.build();
                f.path.dedup();
                out.push(f);
            }
        }
        out
    }
}

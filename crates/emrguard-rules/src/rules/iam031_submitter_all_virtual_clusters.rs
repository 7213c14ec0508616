use super::iam030_submitter_any_execution_role::{allow_evidence, unrestricted};
use crate::iam_evidence::{
    evidence_step, policy_location, principal_location, principal_ref, principal_subject,
    region_of_snapshot,
};
use crate::submitters::{account_of, candidates, CREATE_ENDPOINT, START_JOB_RUN};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::decide;
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// Job submitters (IAM users and roles that are not administrators, declared
    /// administrators or service-linked roles) whose `emr-containers:StartJobRun` or
    /// `CreateManagedEndpoint` permission covers every virtual cluster (`"Resource": "*"`,
    /// `.../virtualclusters/*`): the IAM engine allows the action on a virtual cluster that
    /// exists nowhere. Submitters that may also use any execution role are reported by IAM030
    /// instead.
    ///
    /// ## Why it matters
    /// Even with the execution role pinned, a submitter who may start jobs in every virtual
    /// cluster can run them in other teams' namespaces: on their nodes, next to their pods and
    /// pod templates, and with any execution role whose trust is wider than its namespace.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": "emr-containers:StartJobRun", "Resource": "*",
    ///  "Condition": {"ArnEquals": {"emr-containers:ExecutionRoleArn": "arn:aws:iam::111122223333:role/team-a-exec"}}}
    /// ```
    ///
    /// ## Remediation
    /// List the submitter's virtual clusters in `Resource`:
    /// `arn:aws:emr-containers:REGION:ACCOUNT:/virtualclusters/VIRTUAL_CLUSTER_ID`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS",
    ///   section "Controlling access to the execution role"
    pub struct SubmitterAllVirtualClusters;
    id = "IAM031", name = "submitter-all-virtual-clusters", practice = LeastPrivilege, severity = Medium,
    title = "Principal may start EMR jobs on every virtual cluster",
}

impl Rule for SubmitterAllVirtualClusters {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let region = region_of_snapshot(cx.index);
        let mut already: Vec<String> = Vec::new();
        for action in [START_JOB_RUN, CREATE_ENDPOINT] {
            already.extend(unrestricted(cx, action).into_keys().map(str::to_owned));
        }
        let mut out = Vec::new();
        for (arn, p) in candidates(cx, &[START_JOB_RUN, CREATE_ENDPOINT]) {
            if already.iter().any(|a| a == arn) {
                continue;
            }
            let vc = format!(
                "arn:aws:emr-containers:{region}:{}:/virtualclusters/emrguard-probe-vc",
                account_of(arn)
            );
            let mut hits = Vec::new();
            for action in [START_JOB_RUN, CREATE_ENDPOINT] {
                let mut ctx = p.policies.context();
                ctx.set_absent(crate::submitters::TEMPLATE_KEY);
                let d = decide(&p.policies, action, &vc, &ctx);
                if d.may_be_allowed() {
                    hits.push((action, d));
                }
            }
            if hits.is_empty() {
                continue;
            }
            let acts: Vec<String> = hits.iter().map(|(a, _)| format!("`{a}`")).collect();
            let mut b = self
                .finding(principal_ref(arn))
                .subject(principal_subject(arn))
                .message(format!(
                    "`{}` may call {} on every virtual cluster (its `Resource` does not name the virtual clusters meant for it).",
                    emrguard_model::aws::iam::arn_resource_name(arn),
                    join_words(&acts)
                ))
                .remediation(format!(
                    "Name in `Resource` only the virtual clusters meant for the submitter (the snapshot has {}).",
                    crate::util::join_words(
                        &cx.index
                            .snap
                            .virtual_clusters
                            .iter()
                            .filter(|v| v.is_live())
                            .map(|v| format!("`{}` (`{}`)", v.arn, v.name))
                            .collect::<Vec<_>>()
                    )
                ))
                .step(PathStep::from_ref(&principal_ref(arn)).detail("job submitter (may call emr-containers or EKS Pod Identity actions)"));
            for (action, d) in &hits {
                for e in allow_evidence(d).iter().take(3) {
                    b = b.step(evidence_step(e, action, Some(&vc)));
                    if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                        b = b.location(&l);
                    }
                }
            }
            if let Some(l) = principal_location(cx.index, arn) {
                b = b.location(&l);
            }
            let mut f = b.build();
            f.path.dedup();
            out.push(f);
        }
        out
    }
}

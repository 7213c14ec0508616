use crate::iam_evidence::{
    evidence_step, policy_location, principal_location, principal_ref, principal_subject,
};
use crate::submitters::{account_of, candidates, probe_role_arn, SUBMITTER_ACTIONS};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide, grants, Catalogue, Decision};
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// Job submitters (IAM users and roles that may call `emr-containers:StartJobRun`,
    /// `CreateManagedEndpoint`, `eks:CreatePodIdentityAssociation` or
    /// `eks:UpdatePodIdentityAssociation`; administrators and declared administrators excepted)
    /// that may `iam:PassRole` any role to EKS Pod Identity: the IAM engine allows
    /// `iam:PassRole` on a role no policy names with `iam:PassedToService` =
    /// `pods.eks.amazonaws.com`.
    ///
    /// ## Why it matters
    /// With EKS Pod Identity (emr-7.3.0 and later) `StartJobRun` and Pod Identity associations
    /// require `iam:PassRole` of the execution role to `pods.eks.amazonaws.com`. `PassRole` on
    /// `*` lets the submitter hand any role that trusts `pods.eks.amazonaws.com` to its jobs or
    /// pods, whatever the `ExecutionRoleArn` conditions say.
    ///
    /// ## Example
    /// ```json
    /// {"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// ```json
    /// {"Effect": "Allow", "Action": "iam:PassRole",
    ///  "Resource": "arn:aws:iam::ACCOUNT:role/TEAM_EXECUTION_ROLE",
    ///  "Condition": {"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}}}
    /// ```
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using EKS Pod Identity" (setting-up-enable-IAM)
    /// - IAM User Guide, "Grant a user permissions to pass a role to an AWS service"
    pub struct SubmitterPassRolePodIdentity;
    id = "IAM033", name = "submitter-passrole-any-role-pod-identity", practice = LeastPrivilege, severity = High,
    title = "Submitter may pass any role to EKS Pod Identity",
}

const POD_ACTIONS: [&str; 4] = SUBMITTER_ACTIONS;

impl Rule for SubmitterPassRolePodIdentity {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let cat = Catalogue::global();
        let mut out = Vec::new();
        for (arn, p) in candidates(cx, &POD_ACTIONS) {
            let probe = probe_role_arn(account_of(arn));
            let mut ctx = p.policies.context();
            ctx.set(
                "iam:PassedToService",
                vec!["pods.eks.amazonaws.com".to_owned()],
            );
            let d = decide(&p.policies, "iam:PassRole", &probe, &ctx);
            let Decision::Allowed(ev) = d else {
                continue;
            };
            let g = grants(&p.policies);
            let uses: Vec<String> = POD_ACTIONS
                .iter()
                .filter(|a| {
                    cat.lookup(&a.to_ascii_lowercase())
                        .is_some_and(|id| g.any_resource.contains(id))
                })
                .map(|a| format!("`{a}`"))
                .collect();
            let mut b = self
                .finding(principal_ref(arn))
                .subject(principal_subject(arn))
                .message(format!(
                    "`{}` may `iam:PassRole` any role to `pods.eks.amazonaws.com` and may call {}: on the Pod Identity path it can give its jobs or pods any role that trusts EKS Pod Identity.",
                    emrguard_model::aws::iam::arn_resource_name(arn),
                    join_words(&uses)
                ))
                .remediation("Scope `iam:PassRole` to the execution roles meant for the submitter, with `\"iam:PassedToService\": \"pods.eks.amazonaws.com\"`.")
                .step(PathStep::from_ref(&principal_ref(arn)).detail("job submitter (may call emr-containers or EKS Pod Identity actions)"));
            for e in ev.iter().take(3) {
                b = b.step(evidence_step(e, "iam:PassRole", Some(&probe)));
                if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                    b = b.location(&l);
                }
            }
            if let Some(l) = principal_location(cx.index, arn) {
                b = b.location(&l);
            }
            out.push(b.build());
        }
        out
    }
}

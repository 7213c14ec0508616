use crate::iam_evidence::{
    evidence_step, policy_location, principal_location, principal_ref, principal_subject,
};
use crate::submitters::{
    account_of, any_privileged, candidates, describe_roles, probe_role_arn, request_context,
    usable_roles, virtual_clusters, CREATE_ENDPOINT, START_JOB_RUN,
};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide, ConditionRef, Decision, Evidence};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Severity};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// IAM users and roles (job submitters: not administrators, not declared administrators,
    /// not service-linked roles) that may call `emr-containers:StartJobRun` or
    /// `emr-containers:CreateManagedEndpoint` on a virtual cluster of the snapshot with an
    /// execution role nobody listed for them. The IAM engine decides each request with
    /// `emr-containers:ExecutionRoleArn` set to a role no policy names (and no job template):
    /// allowed means no `emr-containers:ExecutionRoleArn` condition restricts the role (or the
    /// condition is a pattern matching everything). The finding lists the execution roles whose
    /// trust admits jobs in those virtual clusters, and is critical when one of them is an
    /// administrator or can escalate.
    ///
    /// ## Why it matters
    /// The execution role is the job's identity: whoever may pick it runs code with its
    /// permissions. AWS documents `emr-containers:ExecutionRoleArn` (and, for templates,
    /// `emr-containers:JobTemplateArn`) as *the* control on which roles a submitter may use;
    /// without it any submitter can run jobs as the most privileged execution role in the
    /// account.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Action": ["emr-containers:StartJobRun", "emr-containers:CreateManagedEndpoint"], "Resource": "*"}
    /// ```
    ///
    /// ## Remediation
    /// Scope the statement to the submitter's virtual clusters and execution roles:
    /// ```json
    /// {"Effect": "Allow", "Action": "emr-containers:StartJobRun",
    ///  "Resource": "arn:aws:emr-containers:REGION:ACCOUNT:/virtualclusters/VIRTUAL_CLUSTER_ID",
    ///  "Condition": {"ArnEquals": {"emr-containers:ExecutionRoleArn": ["arn:aws:iam::ACCOUNT:role/TEAM_EXECUTION_ROLE"]}}}
    /// ```
    /// or restrict submitters to job templates with `emr-containers:JobTemplateArn` whose
    /// execution role is fixed. (There is no `emr-containers:ReleaseLabel` condition key.)
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using job execution roles with Amazon EMR on EKS",
    ///   section "Controlling access to the execution role"
    /// - Service Authorization Reference, "Actions, resources, and condition keys for Amazon EMR on EKS"
    pub struct SubmitterAnyExecutionRole;
    id = "IAM030", name = "submitter-any-execution-role", practice = LeastPrivilege, severity = High,
    title = "Principal may start EMR jobs or endpoints with any execution role",
}

/// The statements behind a decision that may allow (definite evidence, or the conditions).
pub(crate) fn allow_evidence(d: &Decision) -> Vec<Evidence> {
    match d {
        Decision::Allowed(ev) => ev.clone(),
        Decision::Conditional(c) => {
            c.iter()
                .filter_map(|c| match c {
                    ConditionRef::Condition { at, .. }
                    | ConditionRef::ResourceVariable { at, .. } => Some(at.clone()),
                    ConditionRef::UnresolvedPolicy { .. } => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Principals that may call `action` on a virtual cluster with any execution role: principal
/// ARN → (virtual cluster id, VC ARN, decision) per virtual cluster where it may.
pub(crate) fn unrestricted<'v>(
    cx: &'v Context<'_, '_>,
    action: &str,
) -> BTreeMap<&'v str, Vec<(String, String, Decision)>> {
    let vcs = virtual_clusters(cx);
    let mut out: BTreeMap<&str, Vec<(String, String, Decision)>> = BTreeMap::new();
    for (arn, p) in candidates(cx, &[action]) {
        let probe = probe_role_arn(account_of(arn));
        for vc in &vcs {
            let ctx = request_context(p, Some(&probe), None);
            let d = decide(&p.policies, action, &vc.arn, &ctx);
            if d.may_be_allowed() {
                out.entry(arn)
                    .or_default()
                    .push((vc.vc.id.clone(), vc.arn.clone(), d));
            }
        }
    }
    out
}

impl Rule for SubmitterAnyExecutionRole {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut per: BTreeMap<&str, Vec<(&str, String, String, Decision)>> = BTreeMap::new();
        for action in [START_JOB_RUN, CREATE_ENDPOINT] {
            for (arn, hits) in unrestricted(cx, action) {
                for (vc, vc_arn, d) in hits {
                    per.entry(arn).or_default().push((action, vc, vc_arn, d));
                }
            }
        }
        let mut out = Vec::new();
        let mut usable_by_vc: std::collections::HashMap<
            String,
            Vec<(String, String, Option<emrguard_iam::PrivilegeTier>)>,
        > = std::collections::HashMap::new();
        for (arn, hits) in per {
            let mut actions: Vec<&str> = hits.iter().map(|h| h.0).collect();
            actions.dedup();
            let mut vcs: Vec<&str> = hits.iter().map(|h| h.1.as_str()).collect();
            vcs.sort_unstable();
            vcs.dedup();
            let mut usable: Vec<(String, String, Option<emrguard_iam::PrivilegeTier>)> = Vec::new();
            for id in &vcs {
                if let Some(vc) = cx.index.virtual_cluster(id) {
                    let roles = usable_by_vc
                        .entry((*id).to_owned())
                        .or_insert_with(|| usable_roles(cx, vc));
                    for r in roles.iter().cloned() {
                        if !usable.iter().any(|u| u.0 == r.0) {
                            usable.push(r);
                        }
                    }
                }
            }
            let conditional = hits.iter().all(|h| matches!(h.3, Decision::Conditional(_)));
            let vc_names: Vec<String> = vcs
                .iter()
                .map(|id| match cx.index.virtual_cluster(id) {
                    Some(v) if !v.name.is_empty() => format!("`{}` ({id})", v.name),
                    _ => format!("`{id}`"),
                })
                .collect();
            let acts: Vec<String> = actions.iter().map(|a| format!("`{a}`")).collect();
            let roles_text = if usable.is_empty() {
                String::new()
            } else {
                format!(
                    " Execution roles whose trust admits jobs there: {}.",
                    join_words(&describe_roles(&usable))
                )
            };
            let severity = if any_privileged(&usable) && !conditional {
                Severity::Critical
            } else if conditional {
                Severity::Medium
            } else {
                Severity::High
            };
            let mut b = self
                .finding(principal_ref(arn))
                .subject(principal_subject(arn))
                .severity(severity)
                .message(format!(
                    "`{}` may call {} on virtual cluster{} {} with any execution role{}: no `emr-containers:ExecutionRoleArn` condition restricts which role its jobs run as.{roles_text}",
                    emrguard_model::aws::iam::arn_resource_name(arn),
                    join_words(&acts),
                    if vcs.len() == 1 { "" } else { "s" },
                    join_words(&vc_names),
                    if conditional { " (under the listed conditions)" } else { "" }
                ))
                .remediation(
                    "Scope `emr-containers:StartJobRun`/`CreateManagedEndpoint` to the submitter's virtual clusters with an `ArnEquals` `emr-containers:ExecutionRoleArn` condition naming the execution roles meant for it (or an `emr-containers:JobTemplateArn` condition on templates with a fixed execution role).",
                )
                .step(PathStep::from_ref(&principal_ref(arn)).detail("job submitter (may call emr-containers or EKS Pod Identity actions)"));
            let mut seen = Vec::new();
            for (action, _, vc_arn, d) in &hits {
                for e in allow_evidence(d) {
                    let key = (e.statement.clone(), *action);
                    if seen.contains(&key) {
                        continue;
                    }
                    seen.push(key);
                    b = b.step(evidence_step(&e, action, Some(vc_arn)));
                    if let Some(l) = policy_location(cx.index, &e.statement.policy) {
                        b = b.location(&l);
                    }
                }
            }
            let roles: Vec<PathStep> = usable
                .iter()
                .take(5)
                .map(|(rarn, name, tier)| {
                    PathStep::new(Kind::IamRole, name.clone())
                        .arn(Some(rarn))
                        .detail(format!(
                            "usable execution role (tier {})",
                            tier.map(tier_name).unwrap_or("unknown")
                        ))
                })
                .collect();
            b = b.fork(
                Kind::IamRole,
                format!("{} usable execution roles", usable.len()),
                roles,
            );
            if let Some(l) = principal_location(cx.index, arn) {
                b = b.location(&l);
            }
            out.push(b.build());
        }
        out
    }
}

pub(crate) fn tier_name(t: emrguard_iam::PrivilegeTier) -> &'static str {
    use emrguard_iam::PrivilegeTier as T;
    match t {
        T::None => "none",
        T::Read => "read",
        T::Write => "write",
        T::PrivilegeEscalation => "privilege escalation",
        T::Administrator => "administrator",
    }
}

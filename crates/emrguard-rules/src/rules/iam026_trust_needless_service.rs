use crate::exec_roles::FoundBy;
use crate::iam_evidence::{policy_location, role_ref};
use crate::trust::{statement_step, trust_policy};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_iam::{decide_trust, Context as IamContext, Decision, TrustPrincipal};
use emrguard_model::index::Workload;
use emrguard_model::release::ReleaseLabel;
use emrguard_model::Finding;
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// Trust policies of job execution roles that let AWS services assume the role
    /// (`"Principal": {"Service": ...}`, confirmed by the IAM engine for `sts:AssumeRole` in a
    /// request without conditions) when EMR on EKS does not need them. The only service EMR
    /// uses is `pods.eks.amazonaws.com`, for EKS Pod Identity, supported from emr-7.3.0 for
    /// `StartJobRun`; it is reported as needless only when no Pod Identity association names
    /// the role and every job run and job template that uses the role runs an older release.
    /// `eks.amazonaws.com`, `ec2.amazonaws.com`, `lambda.amazonaws.com` ... are always needless.
    ///
    /// ## Why it matters
    /// Every trusted service is another way to obtain the role's credentials: anyone who can
    /// create an EKS cluster, an EC2 instance profile or a Lambda function with the role (and
    /// holds `iam:PassRole` on it) runs with the job's permissions, outside EMR and outside the
    /// namespace's controls.
    ///
    /// ## Example
    /// ```json
    /// {"Effect": "Allow", "Principal": {"Service": ["eks.amazonaws.com", "pods.eks.amazonaws.com"]},
    ///  "Action": ["sts:AssumeRole", "sts:TagSession"]}
    /// ```
    ///
    /// ## Remediation
    /// Remove the service principals EMR does not use. For Pod Identity keep exactly
    /// `{"Sid": "AllowEksAuthToAssumeRoleForPodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}`.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Using EKS Pod Identity" (setting-up-enable-IAM)
    /// - aws-emr-containers-best-practices, `job-exec-role-1-trust-policy.json` (trusts
    ///   `eks.amazonaws.com` needlessly)
    pub struct TrustNeedlessService;
    id = "IAM026", name = "trust-needless-service-principal", practice = LeastPrivilege, severity = Medium,
    title = "Execution role trusts an AWS service EMR does not need",
}

pub(crate) const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";

/// Releases of the job runs and templates that use the role (`None` when none says).
fn releases(cx: &Context<'_, '_>, er: &crate::exec_roles::ExecutionRole<'_>) -> Vec<String> {
    let snap = cx.index.snap;
    er.workloads()
        .filter_map(|w| match w {
            Workload::JobRun(i) => snap.job_runs.get(i).and_then(|j| j.release_label.clone()),
            Workload::JobTemplate(i) => snap
                .job_templates
                .get(i)
                .and_then(|t| t.job_template_data.as_ref())
                .and_then(|d| d.release_label.clone()),
            Workload::Endpoint(_) => None,
        })
        .collect()
}

impl Rule for TrustNeedlessService {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let Some(tp) = trust_policy(cx, role) else {
                continue;
            };
            let mut services: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for st in tp.policy.statements() {
                let Some((false, principals)) = st.principals() else {
                    continue;
                };
                for (kind, v) in principals {
                    if kind == "Service" {
                        services.entry(v.to_ascii_lowercase()).or_default();
                    }
                }
            }
            let pod_identity_used = er
                .found
                .iter()
                .any(|f| matches!(f, FoundBy::PodIdentity(_)));
            let rels = releases(cx, er);
            let all_old = !rels.is_empty()
                && rels.iter().all(|r| {
                    ReleaseLabel::parse(r)
                        .is_some_and(|l| l.family == "emr" && l.version < (7, 3, 0))
                });
            let mut needless: Vec<(String, Option<String>)> = Vec::new();
            for (svc, idx) in services.iter_mut() {
                if let Decision::Allowed(ev) = decide_trust(
                    &tp,
                    &TrustPrincipal::Service(svc.clone()),
                    "sts:AssumeRole",
                    &IamContext::closed(),
                ) {
                    idx.extend(ev.iter().map(|e| e.statement.index));
                } else {
                    continue;
                }
                if svc == POD_IDENTITY_SERVICE {
                    if pod_identity_used || !all_old {
                        continue;
                    }
                    needless.push((
                        svc.clone(),
                        Some(format!(
                            "no Pod Identity association names the role and its jobs run {} (Pod Identity needs emr-7.3.0 or later)",
                            join_words(&rels.iter().collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>())
                        )),
                    ));
                } else {
                    needless.push((svc.clone(), None));
                }
            }
            if needless.is_empty() {
                continue;
            }
            let names: Vec<String> = needless
                .iter()
                .map(|(s, why)| match why {
                    Some(w) => format!("`{s}` ({w})"),
                    None => format!("`{s}`"),
                })
                .collect();
            let mut b = self
                .finding(role_ref(role))
                .message(format!(
                    "The trust policy of execution role `{}` lets {} assume it; EMR on EKS does not use {}.",
                    role.role_name,
                    join_words(&names),
                    if needless.len() == 1 { "it" } else { "them" }
                ))
                .remediation(format!(
                    "Remove {} from the trust policy of `{}`.",
                    join_words(&needless.iter().map(|(s, _)| format!("`{s}`")).collect::<Vec<_>>()),
                    role.role_name
                ))
                .step(er.step(cx.index));
            let mut seen = std::collections::BTreeSet::new();
            for (svc, _) in &needless {
                for i in services.get(svc).into_iter().flatten() {
                    if seen.insert(*i) {
                        if let Some(s) = statement_step(&tp, *i) {
                            b = b.step(s);
                        }
                    }
                }
            }
            if let Some(l) = policy_location(cx.index, &tp.origin) {
                b = b.location(&l);
            }
            out.push(b.location(&role.loc).build());
        }
        out
    }
}

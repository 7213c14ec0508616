//! Which IAM roles are EMR on EKS job execution roles, and where each was found.
//!
//! A role is an execution role when any of these names it:
//!
//! - a job run, a job template or a managed endpoint (`executionRoleArn`);
//! - a submitter's policy, in an `emr-containers:ExecutionRoleArn` condition (exact ARNs, or
//!   patterns such as `arn:aws:iam::*:role/MyRole*` matched against the snapshot's roles; a
//!   pattern whose role name is only wildcards identifies nothing);
//! - its own trust policy, when a condition value names EMR's service accounts
//!   (`system:serviceaccount:<ns>:emr-containers-sa-…` on `:sub`, or the documentation's
//!   `aws:userid` form);
//! - an EKS Pod Identity association of an EMR service account (`emr-containers-sa-…`) in an
//!   EMR namespace.
//!
//! The EMR service-linked role (and any `aws-service-role/` role) never is. Computed once per
//! run ([`crate::Context::execution_roles`]).

use crate::analysis::IamView;
use emrguard_iam::{wildcard_match, PolicySource, StatementRef};
use emrguard_model::aws::iam::{arn_resource_name, Role};
use emrguard_model::index::Workload;
use emrguard_model::source::{Located, SourceLoc};
use emrguard_model::EstateIndex;
use emrguard_model::Kind;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where an execution role was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundBy {
    /// `executionRoleArn` of a job run, job template or managed endpoint.
    Workload(Workload),
    /// An `emr-containers:ExecutionRoleArn` condition value of a submitter's policy.
    SubmitterCondition {
        statement: StatementRef,
        operator: String,
        value: String,
    },
    /// The role's own trust policy names EMR service accounts.
    Trust {
        statement: usize,
        key: String,
        value: String,
        /// The namespace in `system:serviceaccount:<ns>:…` (may be a pattern).
        namespace: Option<String>,
    },
    /// A Pod Identity association (index into `snap.pod_identity_associations`).
    PodIdentity(usize),
}

impl FoundBy {
    /// Short description for messages and evidence.
    pub fn describe(&self, index: &EstateIndex<'_>) -> String {
        let snap = index.snap;
        match self {
            FoundBy::Workload(Workload::JobRun(i)) => match snap.job_runs.get(*i) {
                Some(j) => format!(
                    "job run `{}` ({}) of virtual cluster {}",
                    j.name.as_deref().unwrap_or(&j.id),
                    j.id,
                    j.virtual_cluster_id
                ),
                None => "a job run".to_owned(),
            },
            FoundBy::Workload(Workload::JobTemplate(i)) => match snap.job_templates.get(*i) {
                Some(t) => format!(
                    "job template `{}` ({})",
                    t.name.as_deref().unwrap_or(&t.id),
                    t.id
                ),
                None => "a job template".to_owned(),
            },
            FoundBy::Workload(Workload::Endpoint(i)) => match snap.endpoints.get(*i) {
                Some(e) => format!(
                    "managed endpoint `{}` ({}) of virtual cluster {}",
                    e.name, e.id, e.virtual_cluster_id
                ),
                None => "a managed endpoint".to_owned(),
            },
            FoundBy::SubmitterCondition {
                statement,
                operator,
                value,
            } => format!(
                "{} `emr-containers:ExecutionRoleArn` = `{value}` in {}",
                operator,
                statement.describe()
            ),
            FoundBy::Trust {
                statement,
                key,
                value,
                ..
            } => {
                format!("its trust policy statement {statement} (`{key}` = `{value}`)")
            }
            FoundBy::PodIdentity(i) => match snap.pod_identity_associations.get(*i) {
                Some(a) => format!(
                    "Pod Identity association {} for {}/{}",
                    a.association_id.as_deref().unwrap_or("?"),
                    a.namespace,
                    a.service_account
                ),
                None => "a Pod Identity association".to_owned(),
            },
        }
    }

    /// Where in the snapshot the evidence lives (the workload or association; for the other
    /// kinds the policy's owner, found by the caller).
    pub fn location(&self, index: &EstateIndex<'_>) -> Option<SourceLoc> {
        let snap = index.snap;
        match self {
            FoundBy::Workload(Workload::JobRun(i)) => snap.job_runs.get(*i).map(|x| x.loc.clone()),
            FoundBy::Workload(Workload::JobTemplate(i)) => {
                snap.job_templates.get(*i).map(|x| x.loc.clone())
            }
            FoundBy::Workload(Workload::Endpoint(i)) => {
                snap.endpoints.get(*i).map(|x| x.loc.clone())
            }
            FoundBy::PodIdentity(i) => snap
                .pod_identity_associations
                .get(*i)
                .map(|x| x.loc.clone()),
            FoundBy::SubmitterCondition { .. } | FoundBy::Trust { .. } => None,
        }
    }
}

/// One execution role.
#[derive(Debug, Clone)]
pub struct ExecutionRole<'s> {
    /// The role's ARN as the snapshot has it (or as named, when the role is not in the snapshot).
    pub arn: String,
    pub role: Option<&'s Located<Role>>,
    pub found: Vec<FoundBy>,
}

impl<'s> ExecutionRole<'s> {
    pub fn name(&self) -> &str {
        match self.role {
            Some(r) => &r.role_name,
            None => arn_resource_name(&self.arn),
        }
    }

    /// Job runs, job templates and endpoints that name the role.
    pub fn workloads(&self) -> impl Iterator<Item = Workload> + '_ {
        self.found.iter().filter_map(|f| match f {
            FoundBy::Workload(w) => Some(*w),
            _ => None,
        })
    }

    /// Virtual clusters whose job runs or endpoints use the role.
    pub fn virtual_clusters(&self, index: &EstateIndex<'s>) -> BTreeSet<&'s str> {
        let snap = index.snap;
        self.workloads()
            .filter_map(|w| match w {
                Workload::JobRun(i) => snap.job_runs.get(i).map(|j| j.virtual_cluster_id.as_str()),
                Workload::Endpoint(i) => {
                    snap.endpoints.get(i).map(|e| e.virtual_cluster_id.as_str())
                }
                Workload::JobTemplate(_) => None,
            })
            .filter(|id| !id.is_empty())
            .collect()
    }

    /// Namespaces the role is meant for: those of the virtual clusters that use it, of its Pod
    /// Identity associations, and those its trust policy names without wildcards.
    pub fn namespaces(&self, index: &EstateIndex<'s>) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .virtual_clusters(index)
            .into_iter()
            .filter_map(|vc| index.namespace_of_vc(vc))
            .map(str::to_owned)
            .collect();
        for f in &self.found {
            match f {
                FoundBy::Trust {
                    namespace: Some(ns),
                    ..
                } if !ns.contains(['*', '?']) && !ns.is_empty() => {
                    out.insert(ns.clone());
                }
                FoundBy::PodIdentity(i) => {
                    if let Some(a) = index.snap.pod_identity_associations.get(*i) {
                        out.insert(a.namespace.clone());
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// EKS clusters (names) of the virtual clusters that use the role.
    pub fn clusters(&self, index: &EstateIndex<'s>) -> BTreeSet<&'s str> {
        self.virtual_clusters(index)
            .into_iter()
            .filter_map(|vc| index.virtual_cluster(vc))
            .filter_map(|vc| vc.eks_cluster())
            .collect()
    }

    /// A path step for the role, saying how it was identified as an execution role.
    pub fn step(&self, index: &EstateIndex<'s>) -> emrguard_model::PathStep {
        let mut how: Vec<String> = self
            .found
            .iter()
            .take(3)
            .map(|f| f.describe(index))
            .collect();
        if self.found.len() > 3 {
            how.push(format!("{} more", self.found.len() - 3));
        }
        emrguard_model::PathStep::new(Kind::IamRole, self.name())
            .arn(Some(&self.arn))
            .detail(format!("execution role: named by {}", how.join("; ")))
    }

    /// True when something other than the role's own trust policy says it is an execution role.
    pub fn used(&self) -> bool {
        self.found
            .iter()
            .any(|f| !matches!(f, FoundBy::Trust { .. }))
    }
}

/// Submitter-condition sources kept per role.
const MAX_CONDITION_SOURCES: usize = 3;

/// Every execution role of the snapshot, by ARN, with analyses several rules share (computed on
/// first use, once per run).
#[derive(Debug, Default)]
pub struct ExecutionRoles<'s> {
    roles: BTreeMap<String, ExecutionRole<'s>>,
    /// Trust analyses by role ARN ([`crate::trust::cached`]).
    pub(crate) trust: std::sync::OnceLock<HashMap<String, crate::trust::TrustAnalysis>>,
    /// Principal ARN → which submitter actions it may call on some resource, and whether it is
    /// exempt ([`crate::submitters::candidates`], [`crate::submitters::callers`]).
    pub(crate) submitter_actions: std::sync::OnceLock<HashMap<String, (Vec<&'static str>, bool)>>,
}

/// `true` for the EMR service-linked role and other service-linked roles.
pub fn is_service_linked(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
        || arn_resource_name(arn).starts_with("AWSServiceRoleFor")
}

/// `system:serviceaccount:<ns>:<sa>` → (`ns`, `sa`).
pub fn split_subject(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix("system:serviceaccount:")?.split_once(':')
}

/// A condition value that names EMR's per-role service accounts.
fn names_emr_service_account(value: &str) -> bool {
    value.contains("emr-containers-sa-") || value.contains("emr-container-sa-")
}

impl<'s> ExecutionRoles<'s> {
    pub fn build(index: &EstateIndex<'s>, iam: &IamView) -> ExecutionRoles<'s> {
        let mut out = ExecutionRoles::default();
        let snap = index.snap;

        // Workloads.
        for (arn, workloads) in index.named_execution_roles() {
            if arn.contains("${") {
                continue; // a parametric job template names no role
            }
            for w in workloads {
                out.add(index, arn, FoundBy::Workload(w));
            }
        }

        // Submitters' ExecutionRoleArn conditions: inline policies of every principal (a user's
        // include its groups'), and every managed policy once.
        let mut seen_inline: BTreeSet<(String, String, Option<String>)> = BTreeSet::new();
        let mut conditions: Vec<(StatementRef, String, String)> = Vec::new();
        for (_, p) in iam.principals() {
            for a in &p.policies.identity {
                if a.origin.source != PolicySource::Inline {
                    continue;
                }
                let key = (
                    a.origin.owner.clone().unwrap_or_default(),
                    a.origin.name.clone(),
                    a.via_group.as_deref().map(str::to_owned),
                );
                if !seen_inline.insert(key) {
                    continue;
                }
                collect_role_conditions(a, &mut conditions);
            }
        }
        let mut managed: Vec<_> = iam.store.managed_iter().collect();
        managed.sort_by(|a, b| a.0.cmp(b.0));
        for (_, origin, policy) in managed {
            let attached = emrguard_iam::AttachedPolicy {
                origin: origin.clone(),
                via_group: None,
                policy: policy.clone(),
            };
            collect_role_conditions(&attached, &mut conditions);
        }
        // Distinct values first: many submitters repeat the same pattern.
        let mut by_value: BTreeMap<String, Vec<(StatementRef, String)>> = BTreeMap::new();
        for (statement, operator, value) in conditions {
            let v = by_value.entry(value).or_default();
            if v.len() < MAX_CONDITION_SOURCES {
                v.push((statement, operator));
            }
        }
        let conditions: Vec<(StatementRef, String, String)> = by_value
            .into_iter()
            .flat_map(|(value, srcs)| {
                srcs.into_iter()
                    .map(move |(st, op)| (st, op, value.clone()))
            })
            .collect();
        let mut matched: HashMap<String, Vec<String>> = HashMap::new();
        for (statement, operator, value) in conditions {
            if value.contains("${") {
                continue;
            }
            if value.contains(['*', '?']) {
                let name = value.rsplit_once(":role/").map(|(_, n)| n).unwrap_or("");
                let literal = name
                    .chars()
                    .filter(|c| !matches!(c, '*' | '?' | '/'))
                    .count();
                if literal == 0 {
                    continue;
                }
                let arns = matched.entry(value.clone()).or_insert_with(|| {
                    snap.roles
                        .iter()
                        .filter(|r| {
                            emrguard_iam::arn_like(&value, &r.arn) || wildcard_match(&value, &r.arn)
                        })
                        .map(|r| r.arn.clone())
                        .collect()
                });
                for arn in arns.iter() {
                    {
                        out.add(
                            index,
                            arn,
                            FoundBy::SubmitterCondition {
                                statement: statement.clone(),
                                operator: operator.clone(),
                                value: value.clone(),
                            },
                        );
                    }
                }
            } else if value.contains(":role/") {
                out.add(
                    index,
                    &value,
                    FoundBy::SubmitterCondition {
                        statement,
                        operator,
                        value: value.clone(),
                    },
                );
            }
        }

        // Trust policies naming EMR service accounts.
        for r in &snap.roles {
            let Some(doc) = r.assume_role_policy_document.as_ref() else {
                continue;
            };
            let text = doc.text();
            if !names_emr_service_account(text) {
                continue;
            }
            for (statement, key, v) in raw_trust_conditions(text) {
                let lower = key.to_ascii_lowercase();
                if !(lower.ends_with(":sub") || lower == "aws:userid")
                    || !names_emr_service_account(&v)
                {
                    continue;
                }
                let namespace = split_subject(&v).map(|(ns, _)| ns.to_owned());
                out.add(
                    index,
                    &r.arn,
                    FoundBy::Trust {
                        statement,
                        key,
                        value: v,
                        namespace,
                    },
                );
            }
        }

        // Pod Identity associations of EMR service accounts in EMR namespaces.
        for (i, a) in snap.pod_identity_associations.iter().enumerate() {
            let Some(role) = a.role_arn.as_deref() else {
                continue;
            };
            if index.is_emr_namespace(&a.namespace)
                && emrguard_model::k8s::is_emr_service_account(&a.service_account)
            {
                out.add(index, role, FoundBy::PodIdentity(i));
            }
        }
        out
    }

    fn add(&mut self, index: &EstateIndex<'s>, arn: &str, found: FoundBy) {
        if arn.is_empty() || is_service_linked(arn) {
            return;
        }
        let role = index.role(arn);
        let key = role
            .map(|r| r.arn.clone())
            .unwrap_or_else(|| arn.to_owned());
        let entry = self
            .roles
            .entry(key.clone())
            .or_insert_with(|| ExecutionRole {
                arn: key,
                role,
                found: Vec::new(),
            });
        match &found {
            // Unique by construction.
            FoundBy::Workload(_) | FoundBy::PodIdentity(_) => entry.found.push(found),
            // Evidence enough: a few statements per role (a pattern such as `emr-*` in
            // thousands of submitter policies would otherwise grow without bound).
            FoundBy::SubmitterCondition { .. } => {
                let n = entry
                    .found
                    .iter()
                    .filter(|f| matches!(f, FoundBy::SubmitterCondition { .. }))
                    .count();
                if n < MAX_CONDITION_SOURCES && !entry.found.contains(&found) {
                    entry.found.push(found);
                }
            }
            FoundBy::Trust { .. } => {
                if !entry.found.contains(&found) {
                    entry.found.push(found);
                }
            }
        }
    }

    /// Execution roles in ARN order.
    pub fn iter(&self) -> impl Iterator<Item = &ExecutionRole<'s>> {
        self.roles.values()
    }

    /// Execution roles that are in the snapshot, with the role.
    pub fn with_roles(&self) -> impl Iterator<Item = (&ExecutionRole<'s>, &'s Located<Role>)> {
        self.roles.values().filter_map(|e| e.role.map(|r| (e, r)))
    }

    /// An execution role by ARN (or by name when the ARN lacks the role's path).
    pub fn get(&self, arn: &str) -> Option<&ExecutionRole<'s>> {
        self.roles.get(arn).or_else(|| {
            let name = arn_resource_name(arn);
            self.roles.values().find(|e| e.name() == name)
        })
    }

    pub fn contains(&self, arn: &str) -> bool {
        self.get(arn).is_some()
    }

    pub fn len(&self) -> usize {
        self.roles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }
}

/// `(statement index, condition key, value)` of every string condition value of a policy
/// document, read from the raw JSON (so statements the engine leaves out of evaluation, such as
/// one without `Principal`, are seen too).
pub fn raw_trust_conditions(text: &str) -> Vec<(usize, String, String)> {
    use serde_json::Value;
    let mut out = Vec::new();
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return out;
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    };
    for (i, st) in statements.into_iter().enumerate() {
        let Some(cond) = st.get("Condition").and_then(Value::as_object) else {
            continue;
        };
        for block in cond.values() {
            let Some(block) = block.as_object() else {
                continue;
            };
            for (key, vals) in block {
                let vals: Vec<&Value> = match vals {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                for v in vals.into_iter().filter_map(Value::as_str) {
                    out.push((i, key.clone(), v.to_owned()));
                }
            }
        }
    }
    out
}

fn collect_role_conditions(
    a: &emrguard_iam::AttachedPolicy,
    out: &mut Vec<(StatementRef, String, String)>,
) {
    for st in a.policy.statements() {
        if !st.has_conditions() {
            continue;
        }
        for (op, key, values) in st.conditions() {
            if !key.eq_ignore_ascii_case("emr-containers:ExecutionRoleArn") {
                continue;
            }
            for v in values {
                out.push((statement_ref(a, st), op.to_owned(), v.to_owned()));
            }
        }
    }
}

/// A [`StatementRef`] for a statement of an attached policy.
pub fn statement_ref(
    a: &emrguard_iam::AttachedPolicy,
    st: &emrguard_iam::Statement,
) -> StatementRef {
    StatementRef {
        policy: a.origin.clone(),
        via_group: a.via_group.clone(),
        index: st.index(),
        sid: st.sid().map(Into::into),
        effect: st.effect(),
        pointer: st.pointer().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_split() {
        assert_eq!(
            split_subject("system:serviceaccount:ns:emr-containers-sa-*-*-1-x"),
            Some(("ns", "emr-containers-sa-*-*-1-x"))
        );
        assert_eq!(split_subject("repo:x"), None);
    }

    #[test]
    fn service_linked_roles_are_never_execution_roles() {
        assert!(is_service_linked(
            "arn:aws:iam::1:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"
        ));
        assert!(is_service_linked(
            "arn:aws:iam::1:role/AWSServiceRoleForAmazonEMRContainers"
        ));
        assert!(!is_service_linked("arn:aws:iam::1:role/emr-team-a-exec"));
    }
}

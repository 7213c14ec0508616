//! RBAC013: `AmazonEMRJobPolicy` associated with cluster scope on an access entry (EMR's
//! service-linked role, as a rule).
//!
//! The association gets namespace scope over the EMR namespaces (the namespaces of the
//! cluster's virtual clusters), which is what EMR's cluster-access-management integration
//! creates for each virtual cluster: EMR keeps working where it runs jobs (RBAC012 re-checks
//! that) and loses the rights everywhere else. EKS keeps one association per policy and
//! entry, so `associate-access-policy` with the new scope is the change; the README says what
//! to do if EKS refuses to re-associate.

use super::Fixer;
use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use emrguard_rbac::identity::canonical_principal;
use serde_json::json;

pub const FIXER: Fixer = Fixer {
    rules: &["RBAC013"],
    run,
};

const POLICY: &str = "AmazonEMRJobPolicy";

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let index = fcx.cx.index;
    let mut namespaces: Vec<String> = index.emr_namespaces().map(str::to_owned).collect();
    namespaces.sort();
    namespaces.dedup();
    if namespaces.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for f in findings {
        let Some(principal) = f.resource.arn.as_deref() else {
            continue;
        };
        let want = canonical_principal(principal);
        let Some(list) = index
            .snap
            .associated_access_policies
            .iter()
            .find(|a| canonical_principal(&a.principal_arn) == want)
        else {
            continue;
        };
        let Some((i, p)) = list
            .associated_access_policies
            .iter()
            .enumerate()
            .find(|(_, p)| p.policy_arn.rsplit('/').next() == Some(POLICY))
        else {
            continue;
        };
        let cluster = list
            .cluster_name
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| fcx.values.cluster().to_owned());
        let scope = format!("type=namespace,namespaces={}", namespaces.join(","));
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("`{POLICY}` of `{}`: scoped to the EMR namespaces", list.principal_arn),
            details: vec![format!(
                "The association's scope becomes the EMR namespaces {} (it was the whole cluster).",
                namespaces.join(", ")
            )],
            decisions: vec![
                "If EKS refuses to re-associate the policy, disassociate it and associate it again with the same scope; jobs submitted in between fail. A virtual cluster created later on another namespace needs that namespace added.".into(),
            ],
            artifacts: Vec::new(),
            commands: vec![format!(
                "aws eks associate-access-policy --cluster-name {} --principal-arn {} --policy-arn {} --access-scope {}",
                sh(&cluster),
                sh(&list.principal_arn),
                sh(&p.policy_arn),
                sh(&scope)
            )],
            edits: vec![Edit::at(
                &list.loc,
                &format!("/associatedAccessPolicies/{i}/accessScope"),
                Op::Set(json!({"type": "namespace", "namespaces": namespaces})),
            )],
        });
    }
    out
}

//! Execution-role trust policies (IAM020–IAM028).
//!
//! The fix rewrites the whole trust policy rather than patching the statement a finding names:
//! a trust policy is small, every statement of an execution role's trust is either EMR's or
//! wrong, and several findings (another namespace, no `:sub`, a wrong base36 suffix, a needless
//! service) usually sit on one role. The new policy is what a careful engineer writes:
//!
//! - one web-identity statement for the cluster's OIDC provider, with exactly the subjects
//!   `aws emr-containers update-role-trust-policy` writes for each namespace the role's jobs run
//!   in (`system:serviceaccount:NS:emr-containers-sa-*-*-ACCOUNT-BASE36(ROLE)`, base36 of the
//!   role name computed here, where Terraform users fall back to `*`), plus `:aud` =
//!   `sts.amazonaws.com` as the EKS user guide's template has it;
//! - the EKS Pod Identity statement (`pods.eks.amazonaws.com`, `sts:AssumeRole` +
//!   `sts:TagSession`, with `aws:SourceAccount`) only when the role keeps Pod Identity
//!   associations its jobs can use ([`keeps_pod_identity`]);
//! - nothing else: other namespaces, other roles' suffixes, `*` subjects, other providers,
//!   services and accounts go.
//!
//! The namespaces are those of the virtual clusters whose jobs, templates and endpoints name the
//! role; a role no workload names keeps the namespaces its trust names literally, and the README
//! asks for a decision.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::{aws::iam::Role, Finding, Located};
use emrguard_rules::base36;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &[
        "IAM020", "IAM021", "IAM022", "IAM023", "IAM024", "IAM025", "IAM026", "IAM027", "IAM028",
    ],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut by_role: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(arn) = f.resource.arn.as_deref() {
            by_role.entry(arn).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    for (arn, fs) in by_role {
        let Some(role) = fcx.cx.index.role(arn) else {
            continue;
        };
        if let Some(fix) = fix_role(fcx, role, &fs) {
            out.push(fix);
        }
    }
    out
}

/// The namespaces a role's jobs run in (virtual clusters of its workloads), else those its
/// trust names literally; and whether they came from workloads.
pub fn job_namespaces(fcx: &FixContext<'_, '_, '_>, role_arn: &str) -> (BTreeSet<String>, bool) {
    let index = fcx.cx.index;
    let Some(er) = fcx.cx.execution_roles().get(role_arn) else {
        return (BTreeSet::new(), false);
    };
    let from_jobs: BTreeSet<String> = er
        .virtual_clusters(index)
        .into_iter()
        .filter_map(|vc| index.namespace_of_vc(vc))
        .map(str::to_owned)
        .collect();
    if !from_jobs.is_empty() {
        return (from_jobs, true);
    }
    (er.namespaces(index), false)
}

/// The web-identity statement for `namespaces` (CLI form, with `:aud`).
pub fn irsa_statement(
    provider_arn: &str,
    issuer: &str,
    account: &str,
    role_name: &str,
    namespaces: &BTreeSet<String>,
) -> Value {
    let b36 = base36::encode(role_name);
    let subs: Vec<String> = namespaces
        .iter()
        .map(|ns| format!("system:serviceaccount:{ns}:emr-containers-sa-*-*-{account}-{b36}"))
        .collect();
    let sub = if subs.len() == 1 {
        json!(subs.first())
    } else {
        json!(subs)
    };
    json!({
        "Sid": "EmrOnEksIrsa",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringLike": {format!("{issuer}:sub"): sub},
            "StringEquals": {format!("{issuer}:aud"): "sts.amazonaws.com"}
        }
    })
}

/// Whether the role keeps EKS Pod Identity: it has associations, and no POD004 finding says
/// its jobs cannot use them (the pod-credentials fixer deletes those associations).
pub fn keeps_pod_identity(fcx: &FixContext<'_, '_, '_>, role: &Role) -> bool {
    let has = fcx
        .cx
        .index
        .snap
        .pod_identity_associations
        .iter()
        .any(|a| a.role_arn.as_deref() == Some(role.arn.as_str()));
    has && !crate::fixers::pod_identity_dropped(fcx, &role.arn)
}

fn fix_role(fcx: &FixContext<'_, '_, '_>, role: &Located<Role>, fs: &[&Finding]) -> Option<Fix> {
    let index = fcx.cx.index;
    let v = &fcx.values;
    let (namespaces, from_jobs) = job_namespaces(fcx, &role.arn);
    // The cluster's OIDC provider; without the cluster in the snapshot, the provider the
    // role's trust already names.
    let cluster = index
        .snap
        .clusters
        .iter()
        .find(|c| Some(c.name.as_str()) == v.cluster.as_deref());
    let (provider, issuer, account) = match cluster {
        Some(c) => (
            emrguard_rules::infra::creds::oidc_provider_arn(c)?,
            c.oidc_issuer_host()?.to_owned(),
            c.account()?.to_owned(),
        ),
        None => {
            let doc: Value =
                serde_json::from_str(role.assume_role_policy_document.as_ref()?.text()).ok()?;
            let text = doc.to_string();
            let arn = text
                .split('"')
                .find(|t| t.starts_with("arn:") && t.contains(":oidc-provider/"))?;
            let (head, host) = arn.split_once(":oidc-provider/")?;
            let account = head.rsplit(':').next()?.to_owned();
            (arn.to_owned(), host.to_owned(), account)
        }
    };
    let (issuer, account) = (issuer.as_str(), account.as_str());
    let mut statements = Vec::new();
    if !namespaces.is_empty() {
        statements.push(irsa_statement(
            &provider,
            issuer,
            account,
            &role.role_name,
            &namespaces,
        ));
    }
    let pod_identity = keeps_pod_identity(fcx, role);
    if pod_identity {
        statements.push(json!({
            "Sid": "EksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }));
    }
    if statements.is_empty() {
        return None; // nothing EMR needs: a person decides (the role may be unused)
    }
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    let path = format!(
        "artifacts/iam/{}.trust.json",
        crate::file_name(&role.role_name)
    );
    let mut details = vec![format!(
        "The trust of `{}` admits only EMR's service accounts of {} through `{provider}` (base36 `{}`, `:aud` `sts.amazonaws.com`){}; every other statement is removed.",
        role.role_name,
        namespaces
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        base36::encode(&role.role_name),
        if pod_identity { ", plus the EKS Pod Identity statement its associations need" } else { "" }
    )];
    let mut decisions = Vec::new();
    if !from_jobs {
        decisions.push(format!(
            "No job run, template or endpoint of the snapshot names `{}`; the namespaces come from its current trust. Check they are the intended ones.",
            role.role_name
        ));
    }
    details.push(format!(
        "Equivalent per namespace: {}",
        namespaces
            .iter()
            .map(|ns| format!(
                "`aws emr-containers update-role-trust-policy --cluster-name {} --namespace {ns} --role-name {}`",
                v.cluster(),
                role.role_name
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    Some(Fix {
        findings: fs.iter().map(|f| f.id.clone()).collect(),
        title: format!(
            "Trust policy of `{}`: EMR's service accounts only",
            role.role_name
        ),
        details,
        decisions,
        artifacts: vec![Artifact {
            path: path.clone(),
            contents: json(&doc),
        }],
        commands: vec![format!(
            "aws iam update-assume-role-policy --role-name {} --policy-document file://{path}",
            sh(&role.role_name)
        )],
        edits: vec![Edit::at(
            &role.loc,
            "/AssumeRolePolicyDocument",
            Op::Set(doc),
        )],
    })
}

//! Pod credentials (POD001 kube2iam/kiam, POD002 their annotations, POD004 Pod Identity on
//! releases that cannot use it).
//!
//! - kube2iam / kiam: the agent's DaemonSet/Deployment is deleted (with it, its iptables
//!   redirection of 169.254.169.254): EKS has IRSA and Pod Identity, which give each pod its
//!   own role without an agent that holds every role's credentials.
//! - `iam.amazonaws.com/role` / `iam.amazonaws.com/permitted` annotations are removed; the
//!   README names the IRSA annotation (`eks.amazonaws.com/role-arn`) the workload's service
//!   account gets instead (a person creates that role's trust).
//! - Pod Identity associations of a role whose jobs run a release older than emr-7.3.0 are
//!   deleted: those jobs use IRSA, and the unused association is a second, unexpected way to
//!   the role. The trust fixer then drops the `pods.eks.amazonaws.com` statement too.

use super::Fixer;
use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::{Finding, SourceLoc};
use std::collections::BTreeSet;

pub const FIXER: Fixer = Fixer {
    rules: &["POD001", "POD002", "POD004"],
    run,
};

const ROLE_ANN: &str = "iam.amazonaws.com/role";
const PERMITTED_ANN: &str = "iam.amazonaws.com/permitted";

fn kind_word(kind: &str) -> String {
    kind.to_ascii_lowercase()
}

/// The object (kind, namespace, name) of a finding's resource, with its location.
fn find_object<'s>(
    fcx: &FixContext<'_, '_, 's>,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Option<(&'s SourceLoc, bool)> {
    let k = &fcx.cx.index.snap.k8s;
    macro_rules! look {
        ($v:expr, $tmpl:expr) => {
            $v.iter()
                .find(|o| {
                    o.metadata.name.as_deref() == Some(name)
                        && o.metadata.namespace.as_deref() == ns
                })
                .map(|o| (&o.loc, $tmpl))
        };
    }
    match kind {
        "Pod" => look!(k.pods, false),
        "Deployment" => look!(k.deployments, true),
        "DaemonSet" => look!(k.daemon_sets, true),
        "StatefulSet" => look!(k.stateful_sets, true),
        "ReplicaSet" => look!(k.replica_sets, true),
        "Job" => look!(k.jobs, true),
        "Namespace" => k
            .namespaces
            .iter()
            .find(|o| o.metadata.name.as_deref() == Some(name))
            .map(|o| (&o.loc, false)),
        _ => None,
    }
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out = Vec::new();
    let c = fcx.values.cluster().to_owned();
    for f in findings {
        let r = &f.resource;
        match f.rule.as_str() {
            "POD001" => {
                let Some((loc, _)) = find_object(fcx, &r.kind, r.namespace.as_deref(), &r.name)
                else {
                    continue;
                };
                let ns = r.namespace.clone().unwrap_or_default();
                let mut edits = vec![Edit::at(loc, "", Op::Remove)];
                // Its pods go with it.
                for p in &fcx.cx.index.snap.k8s.pods {
                    let owned =
                        p.metadata.owner_references.as_ref().is_some_and(|o| {
                            o.iter().any(|o| o.kind == r.kind && o.name == r.name)
                        });
                    if owned && p.metadata.namespace.as_deref() == r.namespace.as_deref() {
                        edits.push(Edit::at(&p.loc, "", Op::Remove));
                    }
                }
                out.push(Fix {
                    findings: vec![f.id.clone()],
                    title: format!("{} `{ns}/{}` (kube2iam/kiam) deleted", r.kind, r.name),
                    details: vec!["The agent and its metadata-API interception go; workloads use IRSA or EKS Pod Identity.".into()],
                    decisions: vec!["Move every workload that still relies on the agent's roles to IRSA first (the annotations are listed under POD002).".into()],
                    artifacts: Vec::new(),
                    commands: vec![format!("kubectl delete {} {} -n {}", kind_word(&r.kind), sh(&r.name), sh(&ns))],
                    edits,
                });
            }
            "POD002" => {
                let Some((loc, template)) =
                    find_object(fcx, &r.kind, r.namespace.as_deref(), &r.name)
                else {
                    continue;
                };
                let ann = if r.kind == "Namespace" {
                    PERMITTED_ANN
                } else {
                    ROLE_ANN
                };
                let esc = crate::patch::token(ann);
                let (sub, cmd) = if r.kind == "Namespace" {
                    (
                        format!("/metadata/annotations/{esc}"),
                        format!("kubectl annotate namespace {} {ann}-", sh(&r.name)),
                    )
                } else if template {
                    (
                        format!("/spec/template/metadata/annotations/{esc}"),
                        format!(
                            "kubectl patch {} {} -n {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/spec/template/metadata/annotations/{esc}\"}}]'",
                            kind_word(&r.kind),
                            sh(&r.name),
                            sh(r.namespace.as_deref().unwrap_or("default"))
                        ),
                    )
                } else {
                    (
                        format!("/metadata/annotations/{esc}"),
                        format!(
                            "kubectl annotate pod {} -n {} {ann}-",
                            sh(&r.name),
                            sh(r.namespace.as_deref().unwrap_or("default"))
                        ),
                    )
                };
                out.push(Fix {
                    findings: vec![f.id.clone()],
                    title: format!("{} `{}`: `{ann}` removed", r.kind, qual(r.namespace.as_deref(), &r.name)),
                    details: vec![format!("Without kube2iam the annotation does nothing; give the workload's service account `eks.amazonaws.com/role-arn: {}` (IRSA) with a trust for exactly that service account, or an EKS Pod Identity association.", fcx.values.role_arn("ROLE"))],
                    decisions: vec!["Which role the workload needs, and its IRSA trust, is a person's decision.".into()],
                    artifacts: Vec::new(),
                    commands: vec![cmd],
                    edits: vec![Edit::at(loc, &sub, Op::Remove)],
                });
            }
            "POD004" => {
                let ids: BTreeSet<String> = f
                    .path
                    .iter()
                    .filter(|s| s.kind == "PodIdentityAssociation" && !s.name.is_empty())
                    .map(|s| s.name.clone())
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let ns = f.namespace.clone().unwrap_or_default();
                let role = f
                    .path
                    .iter()
                    .find_map(|s| s.detail.as_deref().and_then(|d| d.split("-> ").nth(1)))
                    .unwrap_or("")
                    .to_owned();
                let role_name = role.rsplit('/').next().unwrap_or("").to_owned();
                let commands: Vec<String> = if role_name.is_empty() {
                    ids.iter()
                        .map(|id| format!("aws eks delete-pod-identity-association --cluster-name {} --association-id {}", sh(&c), sh(id)))
                        .collect()
                } else {
                    vec![format!(
                        "aws emr-containers delete-role-associations --cluster-name {} --namespace {} --role-name {}",
                        sh(&c), sh(&ns), sh(&role_name)
                    )]
                };
                let (mut artifacts, mut commands, mut trust_edits) =
                    (Vec::new(), commands, Vec::new());
                // Without associations the Pod Identity trust is needless (IAM026): drop it
                // here unless the trust fixer rewrites this role's trust anyway.
                let trust_fixed = fcx.findings.iter().any(|x| {
                    x.rule.starts_with("IAM02") && x.resource.arn.as_deref() == Some(role.as_str())
                });
                if let (false, Some(r)) = (trust_fixed, fcx.cx.index.role(&role)) {
                    if let Some(doc) = r
                        .assume_role_policy_document
                        .as_ref()
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(d.text()).ok())
                    {
                        let sts: Vec<serde_json::Value> = match doc.get("Statement") {
                            Some(serde_json::Value::Array(a)) => a.clone(),
                            Some(v) => vec![v.clone()],
                            None => Vec::new(),
                        };
                        let keep: Vec<serde_json::Value> = sts
                            .iter()
                            .filter(|st| {
                                !st.pointer("/Principal/Service").is_some_and(|v| {
                                    v.to_string().contains("pods.eks.amazonaws.com")
                                })
                            })
                            .cloned()
                            .collect();
                        if keep.len() < sts.len() && !keep.is_empty() {
                            let new =
                                serde_json::json!({"Version": "2012-10-17", "Statement": keep});
                            let path = format!(
                                "artifacts/iam/{}.trust.json",
                                crate::file_name(&r.role_name)
                            );
                            artifacts.push(crate::Artifact {
                                path: path.clone(),
                                contents: crate::json(&new),
                            });
                            commands.push(format!(
                                "aws iam update-assume-role-policy --role-name {} --policy-document file://{path}",
                                sh(&r.role_name)
                            ));
                            trust_edits.push(Edit::at(
                                &r.loc,
                                "/AssumeRolePolicyDocument",
                                Op::Set(new),
                            ));
                        }
                    }
                }
                let mut edits: Vec<Edit> = ids
                    .iter()
                    .map(|id| Edit {
                        file: "*".into(),
                        doc_line: None,
                        pointer: String::new(),
                        op: Op::Purge {
                            key: "associationId".into(),
                            value: id.clone(),
                        },
                    })
                    .collect();
                edits.extend(trust_edits);
                out.push(Fix {
                    findings: vec![f.id.clone()],
                    title: format!("Pod Identity associations of `{role_name}` in `{ns}` deleted"),
                    details: vec![format!("The jobs keep IRSA (the role's trust admits their service accounts); associations {} go.", ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))],
                    decisions: vec!["When the jobs move to emr-7.3.0 or later, Pod Identity can come back (`aws emr-containers create-role-associations`).".into()],
                    artifacts,
                    commands,
                    edits,
                });
            }
            _ => {}
        }
    }
    out
}

fn qual(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

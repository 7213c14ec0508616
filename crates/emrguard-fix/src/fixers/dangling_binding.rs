//! RBAC014: a binding in an EMR namespace (or cluster-wide) whose role does not exist.
//!
//! The binding grants nothing today, but whoever later creates a role of that name grants it,
//! unreviewed, to the binding's subjects: deleting the binding changes no access now and closes
//! that door. A binding of EMR's own roles or to EMR's identities is left alone: there the
//! missing role is what breaks EMR, and restoring it is the fix (RBAC012, RBAC010).

use super::Fixer;
use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::k8s::is_emr_service_account;
use emrguard_model::{Finding, Kind};
use emrguard_rbac::emr::classify_role;

pub const FIXER: Fixer = Fixer {
    rules: &["RBAC014"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let k = &fcx.cx.index.snap.k8s;
    let mut out = Vec::new();
    for f in findings {
        let r = &f.resource;
        let ns = r.namespace.as_deref();
        let found = if r.kind == Kind::RoleBinding.as_str() {
            k.role_bindings
                .iter()
                .find(|b| {
                    b.metadata.name.as_deref() == Some(r.name.as_str())
                        && b.metadata.namespace.as_deref() == ns
                })
                .map(|b| (&b.loc, &b.role_ref, b.subjects.clone().unwrap_or_default()))
        } else if r.kind == Kind::ClusterRoleBinding.as_str() {
            k.cluster_role_bindings
                .iter()
                .find(|b| b.metadata.name.as_deref() == Some(r.name.as_str()))
                .map(|b| (&b.loc, &b.role_ref, b.subjects.clone().unwrap_or_default()))
        } else {
            None
        };
        let Some((loc, role_ref, subjects)) = found else {
            continue;
        };
        let emr = classify_role(&role_ref.kind, &role_ref.name).is_some()
            || subjects.iter().any(|s| {
                s.name == "emr-containers"
                    || (s.kind == "ServiceAccount" && is_emr_service_account(&s.name))
            });
        if emr {
            continue;
        }
        let (kind, flag) = match ns {
            Some(n) => ("rolebinding", format!(" -n {}", sh(n))),
            None => ("clusterrolebinding", String::new()),
        };
        let what = match ns {
            Some(n) => format!("RoleBinding `{n}/{}`", r.name),
            None => format!("ClusterRoleBinding `{}`", r.name),
        };
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("{what} (to missing {} `{}`) deleted", role_ref.kind, role_ref.name),
            details: vec![format!(
                "It grants nothing today; deleted, a {} named `{}` created later grants nothing to its {} subject(s) either.",
                role_ref.kind,
                role_ref.name,
                subjects.len()
            )],
            decisions: vec![format!(
                "If `{}` is meant to exist (created later by a chart or an operator), create it with reviewed rules instead, and make sure the snapshot holds every Role and ClusterRole.",
                role_ref.name
            )],
            artifacts: Vec::new(),
            commands: vec![format!("kubectl delete {kind} {}{flag}", sh(&r.name))],
            edits: vec![Edit::at(loc, "", Op::Remove)],
        });
    }
    out
}

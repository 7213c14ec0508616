//! RBAC015: an IAM principal mapped into `system:masters` that is not a declared administrator.
//!
//! The group is taken out of the principal's mapping: its `aws-auth` `mapRoles` / `mapUsers`
//! entry keeps its ARN, username and other groups (so bindings to them keep working and audit
//! logs keep the name), or its access entry keeps everything but that group
//! (`aws eks update-access-entry --kubernetes-groups` with the rest). `system:masters` is
//! authorized before RBAC and nothing narrows it, so removing the group is the only change that
//! ends the cluster-admin grant; what the principal really needs is then granted by RBAC, where
//! it is visible and reviewable. A principal that is an administrator on purpose is declared
//! under `[administrators] iam_arns` instead (the README says so): then RBAC015 is silent and
//! nothing here applies. The cluster creator's implicit admin access is not a mapping and is
//! left to a person.

use super::Fixer;
use crate::{sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use emrguard_rbac::identity::{canonical_principal, MappingSource};
use emrguard_rbac::SUPERUSER_GROUP;
use serde_json::json;
use serde_yaml_ng::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &["RBAC015"],
    run,
};

/// Where one finding's principal is mapped into the group.
enum Place {
    /// `aws-auth` data key (`mapRoles` / `mapUsers`) and entry index.
    AwsAuth(&'static str, usize),
    AccessEntry,
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let view = fcx.cx.rbac();
    // aws-auth: per data key, the entries to change and the findings that closes.
    let mut aws_auth: BTreeMap<&'static str, BTreeSet<usize>> = BTreeMap::new();
    let mut aws_auth_ids: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for f in findings {
        let Some(principal) = f
            .resource
            .arn
            .as_deref()
            .or(f.subject.as_ref().and_then(|s| s.arn.as_deref()))
        else {
            continue;
        };
        let places: Vec<Option<Place>> = view
            .identities
            .mappings_for_principal(principal)
            .into_iter()
            .filter(|m| m.groups.iter().any(|g| g == SUPERUSER_GROUP))
            .filter(|m| !m.path_in_arn && !m.shadowed)
            .filter(|m| !matches!(m.source, MappingSource::AwsAuthMapAccounts(_)))
            .map(|m| match m.source {
                MappingSource::AwsAuthMapRoles(i) => Some(Place::AwsAuth("mapRoles", i)),
                MappingSource::AwsAuthMapUsers(i) => Some(Place::AwsAuth("mapUsers", i)),
                MappingSource::AccessEntry => Some(Place::AccessEntry),
                _ => None,
            })
            .collect();
        if places.is_empty() || places.iter().any(Option::is_none) {
            continue; // the cluster creator, or nothing this fixer can change
        }
        let mut entry_fix = None;
        for p in places.into_iter().flatten() {
            match p {
                Place::AwsAuth(key, i) => {
                    aws_auth.entry(key).or_default().insert(i);
                }
                Place::AccessEntry => entry_fix = access_entry_fix(fcx, principal),
            }
        }
        match entry_fix {
            Some(mut fix) => {
                fix.findings.push(f.id.clone());
                out.push(fix);
            }
            None => {
                aws_auth_ids.insert(f.id.clone());
            }
        }
    }
    if !aws_auth.is_empty() {
        out.extend(aws_auth_fix(fcx, &aws_auth, aws_auth_ids));
    }
    out
}

const DECIDE: &str = "If the principal is a cluster administrator on purpose, do not apply this: declare it under [administrators] iam_arns in emrguard.toml (the finding then goes away). Otherwise give it what it needs with a RoleBinding first: after this change it keeps only its other groups' and username's bindings.";

fn aws_auth_fix(
    fcx: &FixContext<'_, '_, '_>,
    changes: &BTreeMap<&'static str, BTreeSet<usize>>,
    ids: BTreeSet<String>,
) -> Option<Fix> {
    let cm = fcx.cx.index.snap.k8s.config_maps.iter().find(|c| {
        c.metadata.name.as_deref() == Some("aws-auth")
            && c.metadata.namespace.as_deref() == Some("kube-system")
    })?;
    let data = cm.data.as_ref()?;
    let mut patch = serde_json::Map::new();
    let mut edits = Vec::new();
    let mut details = Vec::new();
    for (key, entries) in changes {
        let text = data.get(*key)?;
        let Ok(Yaml::Sequence(mut items)) = serde_yaml_ng::from_str::<Yaml>(text) else {
            return None;
        };
        for i in entries {
            let Some(Yaml::Mapping(m)) = items.get_mut(*i) else {
                return None;
            };
            let arn = m
                .iter()
                .find(|(k, _)| {
                    k.as_str().is_some_and(|k| {
                        k.eq_ignore_ascii_case("rolearn") || k.eq_ignore_ascii_case("userarn")
                    })
                })
                .and_then(|(_, v)| v.as_str())
                .unwrap_or("?")
                .to_owned();
            // Field names match case-insensitively, as the authenticator reads them.
            for (k, v) in m.iter_mut() {
                if k.as_str().is_some_and(|k| k.eq_ignore_ascii_case("groups")) {
                    if let Yaml::Sequence(gs) = v {
                        gs.retain(|g| g.as_str() != Some(SUPERUSER_GROUP));
                    }
                }
            }
            details.push(format!(
                "`aws-auth` {key}[{i}] (`{arn}`): `system:masters` removed from its groups; its ARN, username and other groups stay."
            ));
        }
        let new = serde_yaml_ng::to_string(&Yaml::Sequence(items)).ok()?;
        edits.push(Edit::at(
            &cm.loc,
            &format!("/data/{key}"),
            Op::Set(json!(new)),
        ));
        patch.insert((*key).to_owned(), json!(new));
    }
    let path = "artifacts/k8s/configmap-kube-system-aws-auth.patch.yaml".to_owned();
    let contents = serde_yaml_ng::to_string(&json!({ "data": patch })).ok()?;
    Some(Fix {
        findings: ids.into_iter().collect(),
        title: "ConfigMap `kube-system/aws-auth`: no IAM principal in `system:masters`".into(),
        details,
        decisions: vec![
            DECIDE.into(),
            "The patch writes the whole mapRoles/mapUsers value as the snapshot had it, minus the group: if aws-auth changed since the snapshot was taken, run `emrguard fix` on a fresh one.".into(),
        ],
        artifacts: vec![Artifact {
            path: path.clone(),
            contents,
        }],
        commands: vec![format!(
            "kubectl patch configmap aws-auth -n kube-system --type merge --patch-file {path}"
        )],
        edits,
    })
}

fn access_entry_fix(fcx: &FixContext<'_, '_, '_>, principal: &str) -> Option<Fix> {
    let want = canonical_principal(principal);
    let e = fcx
        .cx
        .index
        .snap
        .access_entries
        .iter()
        .find(|e| canonical_principal(&e.principal_arn) == want)?;
    let keep: Vec<String> = e
        .kubernetes_groups
        .iter()
        .filter(|g| *g != SUPERUSER_GROUP)
        .cloned()
        .collect();
    let groups = if keep.is_empty() {
        "'[]'".to_owned()
    } else {
        keep.iter().map(|g| sh(g)).collect::<Vec<_>>().join(" ")
    };
    let cluster = if e.cluster_name.is_empty() {
        fcx.values.cluster().to_owned()
    } else {
        e.cluster_name.clone()
    };
    Some(Fix {
        findings: Vec::new(),
        title: format!("Access entry `{}`: no `system:masters`", e.principal_arn),
        details: vec![format!(
            "`kubernetesGroups` becomes [{}]; the entry's username and access policies stay.",
            keep.join(", ")
        )],
        decisions: vec![DECIDE.into()],
        artifacts: Vec::new(),
        commands: vec![format!(
            "aws eks update-access-entry --cluster-name {} --principal-arn {} --kubernetes-groups {groups}",
            sh(&cluster),
            sh(&e.principal_arn)
        )],
        edits: vec![Edit::at(&e.loc, "/kubernetesGroups", Op::Set(json!(keep)))],
    })
}

//! Job submitters (IAM030 any execution role, IAM031 every virtual cluster, IAM032 a job
//! template whose role is a parameter, IAM033 `iam:PassRole` on any role).
//!
//! A careful engineer pins what each submitter may run its jobs as to what it runs as today:
//! the `StartJobRun` / `CreateManagedEndpoint` actions of the statement that grants them move
//! to a statement of their own with `ArnEquals` on `emr-containers:ExecutionRoleArn`, naming
//! the execution roles of the submitter's job runs in the snapshot (`createdBy`); the other
//! actions of the statement stay as they were. A submitter with no job run in the snapshot
//! loses the two actions (a person adds the roles it should use). `iam:PassRole` is scoped the
//! same way, to those roles. `StartJobRun` / `CreateManagedEndpoint` on every virtual cluster
//! narrow to the virtual clusters of those job runs (other teams' namespaces are out of reach).
//!
//! Only inline policies are rewritten: a managed policy may be shared by other principals, so
//! a person decides (not claimed).

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::aws::iam::PolicyDocument;
use emrguard_model::Finding;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &["IAM030", "IAM031", "IAM032", "IAM033"],
    run,
};

const GATED: [&str; 2] = [
    "emr-containers:StartJobRun",
    "emr-containers:CreateManagedEndpoint",
];

/// The principal (user or role ARN) whose `createdBy` is `by` (`assumed-role/NAME/session`).
fn creator_matches(by: &str, principal: &str) -> bool {
    if by == principal {
        return true;
    }
    let Some((_, name)) = principal.split_once(":role/") else {
        return false;
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    by.contains(&format!(":assumed-role/{name}/"))
}

/// Execution roles and virtual-cluster ARNs of the principal's job runs.
pub fn roles_used(
    fcx: &FixContext<'_, '_, '_>,
    principal: &str,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let index = fcx.cx.index;
    let mine: Vec<_> = index
        .snap
        .job_runs
        .iter()
        .filter(|j| {
            j.created_by
                .as_deref()
                .is_some_and(|b| creator_matches(b, principal))
        })
        .collect();
    let roles = mine
        .iter()
        .filter_map(|j| j.execution_role_arn.clone())
        .filter(|r| !r.contains("${"))
        .collect();
    let vcs = mine
        .iter()
        .filter_map(|j| index.virtual_cluster(&j.virtual_cluster_id))
        .map(|v| v.arn.clone())
        .filter(|a| a.starts_with("arn:"))
        .collect();
    (roles, vcs)
}

/// Whether a statement's `Resource` covers every virtual cluster (`*`,
/// `.../virtualclusters/*`), the case IAM031 reports.
fn wide_resource(st: &Value) -> bool {
    let wide = |r: &str| r == "*" || r.ends_with(":*") || r.ends_with("/virtualclusters/*");
    match st.get("Resource") {
        Some(Value::String(r)) => wide(r),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(wide),
        _ => false,
    }
}

fn actions(st: &Value) -> Vec<String> {
    match st.get("Action") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn covers(pattern: &str, action: &str) -> bool {
    emrguard_config::suppress::glob_match(
        &pattern.to_ascii_lowercase(),
        &action.to_ascii_lowercase(),
    )
}

/// Rewrite `doc`: gated actions conditioned on `roles`, PassRole scoped to them.
/// `narrow_pinned`: also narrow statements already pinned to roles to `vcs` (an IAM031 finding
/// is being fixed).
fn rewrite(
    doc: &Value,
    roles: &BTreeSet<String>,
    vcs: &BTreeSet<String>,
    narrow_pinned: bool,
) -> Value {
    let mut out = Vec::new();
    let sts: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    };
    let role_list: Vec<&String> = roles.iter().collect();
    for st in sts {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow")
            || st.get("NotAction").is_some()
        {
            out.push(st);
            continue;
        }
        let acts = actions(&st);
        let gated: Vec<&str> = GATED
            .iter()
            .copied()
            .filter(|g| acts.iter().any(|a| covers(a, g)))
            .collect();
        let passes = acts.iter().any(|a| covers(a, "iam:PassRole"));
        let already = st
            .pointer("/Condition/ArnEquals/emr-containers:ExecutionRoleArn")
            .or_else(|| st.pointer("/Condition/ArnLike/emr-containers:ExecutionRoleArn"))
            .is_some();
        let narrow = narrow_pinned && already && !gated.is_empty() && wide_resource(&st);
        if (gated.is_empty() || already) && !passes && !narrow {
            out.push(st);
            continue;
        }
        // The rest of the statement, without the gated actions / PassRole.
        let rest: Vec<String> = acts
            .iter()
            .filter(|a| {
                let is_gated = GATED.iter().any(|g| a.eq_ignore_ascii_case(g));
                let wild_gated =
                    !gated.is_empty() && !already && GATED.iter().any(|g| covers(a, g));
                let pass = covers(a, "iam:PassRole");
                !(is_gated || wild_gated || pass)
            })
            .cloned()
            .collect();
        if !rest.is_empty() {
            let mut s = st.clone();
            crate::put(&mut s, "/Action", json!(rest));
            out.push(s);
        }
        if !gated.is_empty() && !already && !roles.is_empty() {
            let mut s = st.clone();
            if let Some(o) = s.as_object_mut() {
                o.remove("Sid");
            }
            crate::put(&mut s, "/Sid", json!("StartJobsAsKnownRoles"));
            crate::put(&mut s, "/Action", json!(gated));
            if wide_resource(&s) && !vcs.is_empty() {
                // The virtual clusters it uses (StartJobRun's resource), and their job runs /
                // endpoints.
                let mut res: Vec<String> = Vec::new();
                for v in vcs {
                    res.push(v.clone());
                }
                crate::put(&mut s, "/Resource", json!(res));
            }
            let mut cond = st.get("Condition").cloned().unwrap_or(json!({}));
            crate::put(
                &mut cond,
                "/ArnEquals/emr-containers:ExecutionRoleArn",
                json!(role_list),
            );
            crate::put(&mut s, "/Condition", cond);
            out.push(s);
        } else if already && !gated.is_empty() {
            let mut s = st.clone();
            crate::put(&mut s, "/Action", json!(gated));
            // Roles pinned already; the virtual clusters too, when it runs jobs (IAM031).
            if narrow_pinned && wide_resource(&s) && !vcs.is_empty() {
                crate::put(&mut s, "/Resource", json!(vcs.iter().collect::<Vec<_>>()));
            }
            out.push(s);
        }
        if passes && !roles.is_empty() {
            out.push(json!({
                "Sid": "PassKnownExecutionRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role_list,
            }));
        }
    }
    json!({"Version": doc.get("Version").cloned().unwrap_or(json!("2012-10-17")), "Statement": out})
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    // (file, pointer of the inline policy) -> (principal, findings)
    let mut by_policy: BTreeMap<(String, String), (String, Vec<&Finding>)> = BTreeMap::new();
    for f in findings {
        let principal = match f.rule.as_str() {
            "IAM032" => f
                .locations
                .iter()
                .find(|l| {
                    l.pointer
                        .as_deref()
                        .is_some_and(|p| p.contains("PolicyList/"))
                })
                .and_then(|l| {
                    let p = l.pointer.as_deref()?;
                    let (owner, _) = p
                        .split_once("/RolePolicyList/")
                        .or_else(|| p.split_once("/UserPolicyList/"))?;
                    Some((l.file.clone(), owner.to_owned()))
                })
                .and_then(|(file, owner)| {
                    fcx.cx
                        .index
                        .snap
                        .roles
                        .iter()
                        .find(|r| *r.loc.file == *file && r.loc.pointer == owner)
                        .map(|r| r.arn.clone())
                }),
            _ => f
                .subject
                .as_ref()
                .and_then(|s| s.arn.clone())
                .or_else(|| f.resource.arn.clone()),
        };
        let Some(principal) = principal else { continue };
        for l in &f.locations {
            let Some(p) = l.pointer.as_deref() else {
                continue;
            };
            if !(p.contains("/RolePolicyList/") || p.contains("/UserPolicyList/")) {
                continue;
            }
            let e = by_policy
                .entry((l.file.clone(), p.to_owned()))
                .or_insert_with(|| (principal.clone(), Vec::new()));
            if !e.1.iter().any(|x| x.id == f.id) {
                e.1.push(f);
            }
        }
    }
    let mut out = Vec::new();
    for ((file, pointer), (principal, fs)) in by_policy {
        let Some(raw) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        let Some(pol) = raw.pointer(&pointer) else {
            continue;
        };
        let name = pol
            .get("PolicyName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let doc: Option<Value> = match pol.get("PolicyDocument") {
            Some(Value::String(s)) => PolicyDocument::from_encoded(s)
                .ok()
                .and_then(|d| serde_json::from_str(d.text()).ok()),
            Some(v @ Value::Object(_)) => Some(v.clone()),
            _ => None,
        };
        let Some(doc) = doc else { continue };
        let (roles, vcs) = roles_used(fcx, &principal);
        let new = rewrite(&doc, &roles, &vcs, fs.iter().any(|f| f.rule == "IAM031"));
        let short = principal
            .rsplit('/')
            .next()
            .unwrap_or(&principal)
            .to_owned();
        let is_user = principal.contains(":user/");
        let path = format!(
            "artifacts/iam/{}.{}.json",
            crate::file_name(&short),
            crate::file_name(&name)
        );
        let cmd = if is_user {
            format!("aws iam put-user-policy --user-name {} --policy-name {} --policy-document file://{path}", sh(&short), sh(&name))
        } else {
            format!("aws iam put-role-policy --role-name {} --policy-name {} --policy-document file://{path}", sh(&short), sh(&name))
        };
        let roles_txt = if roles.is_empty() {
            "none (no job run of it in the snapshot)".to_owned()
        } else {
            roles
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let loc = emrguard_model::SourceLoc::new(file.as_str(), pointer.clone(), None);
        out.push(Fix {
            // IAM031 closes only when there are virtual clusters to narrow to.
            findings: fs
                .iter()
                .filter(|f| f.rule != "IAM031" || !vcs.is_empty())
                .map(|f| f.id.clone())
                .collect(),
            title: format!("Submitter `{short}`: jobs only as the execution roles it uses"),
            details: vec![format!("Inline policy `{name}`: `StartJobRun`/`CreateManagedEndpoint` require `emr-containers:ExecutionRoleArn` in {roles_txt}, on the virtual clusters it uses; `iam:PassRole` is scoped to the same roles.")],
            decisions: vec![if roles.is_empty() {
                format!("`{short}` started no job in the snapshot and loses `StartJobRun`: add the roles it should use, if any.")
            } else {
                format!("Check that {roles_txt} are the roles `{short}` should run jobs as (an administrator role there is a finding of its own).")
            }],
            artifacts: vec![Artifact { path, contents: json(&new) }],
            commands: vec![cmd],
            edits: vec![Edit::at(&loc, "/PolicyDocument", Op::Set(new))],
        });
    }
    out
}

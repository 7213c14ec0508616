//! Custom images (IMG004 ECR scanning, IMG005 mutable tags).
//!
//! - Scanning: with BASIC registry scanning, the repository's own `scanOnPush` is what a team
//!   can set without touching other teams' registry rules, so that is the fix; under ENHANCED
//!   scanning the repository setting does not apply, and the repository is added to the
//!   registry's rules instead. The images already in use are then scanned once
//!   (`start-image-scan`), which only a person can do against the live registry.
//! - Tags: `IMMUTABLE` (a tag then names one image forever: what ran is what was reviewed).
//! - Job templates on an old release: a new template on the newest release of the line.
//! - Dockerfiles: [`super::dockerfile`].

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::release::{Build, ReleaseLabel};
use emrguard_model::{Finding, Kind};
use emrguard_rules::infra::data::staleness;
use serde_json::json;

pub const FIXER: Fixer = Fixer {
    rules: &["IMG001", "IMG004", "IMG005"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let mut out = templates(fcx, findings);
    for f in findings {
        match f.rule.as_str() {
            "IMG004" | "IMG005" => {
                let Some(repo) = snap.ecr_repositories.iter().find(|r| {
                    f.resource.arn.as_deref() == Some(r.repository_arn.as_str())
                        || r.repository_name == f.resource.name
                }) else {
                    continue;
                };
                let name = &repo.repository_name;
                if f.rule == "IMG005" {
                    out.push(Fix {
                        findings: vec![f.id.clone()],
                        title: format!("ECR repository `{name}`: immutable tags"),
                        details: vec!["`imageTagMutability` becomes `IMMUTABLE`: pushing an existing tag fails, so a tag names one image.".into()],
                        decisions: vec!["Pipelines that re-push a tag (e.g. `latest`) must push new tags.".into()],
                        artifacts: Vec::new(),
                        commands: vec![format!(
                            "aws ecr put-image-tag-mutability --repository-name {} --image-tag-mutability IMMUTABLE",
                            sh(name)
                        )],
                        edits: vec![Edit::at(&repo.loc, "/imageTagMutability", Op::Set(json!("IMMUTABLE")))],
                    });
                    continue;
                }
                let enhanced = snap.ecr_registry_scanning.iter().find(|c| {
                    c.scanning_configuration
                        .scan_type
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case("ENHANCED"))
                });
                let used: Vec<String> = fcx
                    .cx
                    .index
                    .ecr_images(&repo.registry_id, name)
                    .iter()
                    .filter(|d| d.image_scan_status.is_none())
                    .filter_map(|d| d.image_tags.first().cloned())
                    .collect();
                let scans: Vec<String> = used
                    .iter()
                    .map(|t| {
                        format!(
                            "aws ecr start-image-scan --repository-name {} --image-id imageTag={}",
                            sh(name),
                            sh(t)
                        )
                    })
                    .collect();
                match enhanced {
                    None => {
                        let mut commands = vec![format!(
                            "aws ecr put-image-scanning-configuration --repository-name {} --image-scanning-configuration scanOnPush=true",
                            sh(name)
                        )];
                        commands.extend(scans);
                        out.push(Fix {
                            findings: vec![f.id.clone()],
                            title: format!("ECR repository `{name}`: scan on push"),
                            details: vec!["`imageScanningConfiguration.scanOnPush` becomes true; the images in use are scanned once.".into()],
                            decisions: Vec::new(),
                            artifacts: Vec::new(),
                            commands,
                            edits: vec![Edit::at(&repo.loc, "/imageScanningConfiguration/scanOnPush", Op::Set(json!(true)))],
                        });
                    }
                    Some(cfg) => {
                        let mut sc =
                            serde_json::to_value(&cfg.scanning_configuration).unwrap_or_default();
                        let rule = json!({"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": [{"filter": name, "filterType": "WILDCARD"}]});
                        if let Some(serde_json::Value::Array(r)) = sc.get_mut("rules") {
                            r.push(rule.clone());
                        }
                        let rules = sc.get("rules").cloned().unwrap_or_else(|| json!([rule]));
                        let path = "artifacts/ecr/registry-scanning-rules.json".to_owned();
                        let mut commands = vec![format!(
                            "aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules file://{path}"
                        )];
                        commands.extend(scans);
                        out.push(Fix {
                            findings: vec![f.id.clone()],
                            title: format!("ECR registry scanning covers `{name}`"),
                            details: vec!["A CONTINUOUS_SCAN rule for the repository is added to the registry's enhanced scanning rules (the existing rules are kept).".into()],
                            decisions: Vec::new(),
                            artifacts: vec![Artifact { path, contents: json(&rules) }],
                            commands,
                            edits: vec![Edit::at(&cfg.loc, "/scanningConfiguration/rules", Op::Push(rule))],
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Job templates on an old release (IMG001 about a template): the template's release becomes
/// the newest of its line, judged from the release data the rule uses (variants such as
/// `-java11` kept, `-latest` so new builds are picked up). Templates cannot be edited, so a
/// new template is created and the README names the submitter conditions that must follow it.
fn templates(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let mut out = Vec::new();
    for f in findings
        .iter()
        .filter(|f| f.rule == "IMG001" && f.resource.kind == Kind::EmrJobTemplate.as_str())
    {
        let Some(t) = snap.job_templates.iter().find(|t| {
            f.resource.arn.as_deref() == Some(t.arn.as_str())
                || t.name.as_deref() == Some(f.resource.name.as_str())
        }) else {
            continue;
        };
        let Some(old) = t
            .job_template_data
            .as_ref()
            .and_then(|d| d.release_label.as_deref())
            .and_then(ReleaseLabel::parse)
        else {
            continue;
        };
        let Some(newest) = staleness(&old)
            .and_then(|s| s.newer_release)
            .and_then(|n| ReleaseLabel::parse(&n))
        else {
            continue;
        };
        let new_label = ReleaseLabel {
            version: newest.version,
            build: Build::Latest,
            ..old.clone()
        };
        let label = new_label.to_string();
        let release = new_label.release();
        let Ok(raw) = std::fs::read_to_string(&*t.loc.file) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&raw) else {
            continue;
        };
        let Some(mut data) = v
            .pointer(&format!("{}/jobTemplateData", t.loc.pointer))
            .cloned()
        else {
            continue;
        };
        crate::put(&mut data, "/releaseLabel", json!(label));
        let name = f.resource.name.clone();
        let path = format!(
            "artifacts/emr/{}.job-template-data.json",
            crate::file_name(&name)
        );
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("Job template `{name}`: release `{label}`"),
            details: vec![format!("A new template `{name}-{release}` with `releaseLabel` `{label}` and the same job data replaces `{name}`.")],
            decisions: vec![format!("Submitter policies that name the old template's ARN (`emr-containers:JobTemplateArn`) must name the new one; test the jobs on `{label}` first.")],
            artifacts: vec![Artifact { path: path.clone(), contents: json(&data) }],
            commands: vec![format!(
                "aws emr-containers create-job-template --name {} --client-token {} --job-template-data file://{path}",
                sh(&format!("{name}-{release}")),
                sh(&format!("emrguard-{}", crate::file_name(&name)))
            )],
            edits: vec![Edit::at(&t.loc, "/jobTemplateData/releaseLabel", Op::Set(json!(label)))],
        });
    }
    out
}

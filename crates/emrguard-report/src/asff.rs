//! AWS Security Finding Format, as `aws securityhub batch-import-findings --cli-input-json`
//! takes it: `{"Findings": [...]}`, one finding per emrguard finding, in the account and region
//! of the snapshot, from the account's default product
//! (`arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`). Suppressed findings are
//! imported with workflow status `SUPPRESSED`. Security Hub takes at most 100 findings per
//! call: split larger files (`jq -c '.Findings | _nwise(100) | {Findings: .}'`).

use crate::common::{
    namespace_of, namespaces_label, qualified_name, step_label, subject_label, truncate,
};
use crate::{Emitter, Format, RenderOptions, Report};
use emrguard_model::{Finding, Ref, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

pub(crate) struct Asff;

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFORMATIONAL",
    }
}

/// The ARN's service and resource type (`iam`, `role/x` → `AwsIamRole`).
fn type_from_arn(arn: &str) -> Option<&'static str> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let rtype = resource.split(['/', ':']).next().unwrap_or("");
    Some(match (service, rtype) {
        ("eks", "cluster") => "AwsEksCluster",
        ("iam", "role") => "AwsIamRole",
        ("iam", "user") => "AwsIamUser",
        ("iam", "group") => "AwsIamGroup",
        ("iam", "policy") => "AwsIamPolicy",
        ("iam", "instance-profile") => "AwsIamInstanceProfile",
        ("ec2", "security-group") => "AwsEc2SecurityGroup",
        ("ec2", "subnet") => "AwsEc2Subnet",
        ("ec2", "instance") => "AwsEc2Instance",
        ("ec2", "launch-template") => "AwsEc2LaunchTemplate",
        ("ec2", "vpc") => "AwsEc2Vpc",
        ("ec2", "route-table") => "AwsEc2RouteTable",
        ("elasticloadbalancing", "loadbalancer") => "AwsElbv2LoadBalancer",
        ("ecr", "repository") => "AwsEcrRepository",
        _ => return None,
    })
}

/// The Security Hub resource type of a finding's resource; `Other` when there is none
/// (Kubernetes objects, EMR virtual clusters and endpoints).
fn resource_type(r: &Ref) -> &'static str {
    if let Some(t) = r.arn.as_deref().and_then(type_from_arn) {
        return t;
    }
    let k = r.kind.to_ascii_lowercase().replace(['-', '_', ' '], "");
    match k.as_str() {
        "ekscluster" => "AwsEksCluster",
        "iamrole" => "AwsIamRole",
        "iamuser" => "AwsIamUser",
        "iampolicy" | "managedpolicy" => "AwsIamPolicy",
        "securitygroup" | "ec2securitygroup" => "AwsEc2SecurityGroup",
        "subnet" | "ec2subnet" => "AwsEc2Subnet",
        "instance" | "ec2instance" => "AwsEc2Instance",
        "launchtemplate" | "launchtemplateversion" => "AwsEc2LaunchTemplate",
        "loadbalancer" => "AwsElbv2LoadBalancer",
        "ecrrepository" => "AwsEcrRepository",
        "ecrimage" | "containerimage" => "AwsEcrContainerImage",
        _ => "Other",
    }
}

fn arn_part(arn: &str, i: usize) -> Option<&str> {
    arn.split(':').nth(i).filter(|s| !s.is_empty())
}

/// Account and region: the snapshot's, else the first ARN of the findings that has them.
fn account_region(report: &Report) -> (Option<String>, Option<String>) {
    let arns = || {
        report.findings.iter().flat_map(|f| {
            f.resource
                .arn
                .iter()
                .chain(f.path.iter().filter_map(|s| s.arn.as_ref()))
        })
    };
    let account = report
        .account
        .clone()
        .or_else(|| arns().find_map(|a| arn_part(a, 4)).map(str::to_owned));
    let region = report
        .region
        .clone()
        .or_else(|| arns().find_map(|a| arn_part(a, 3)).map(str::to_owned));
    (account, region)
}

fn finding(f: &Finding, report: &Report, account: &str, region: &str, ts: &str) -> Value {
    let scope = report.cluster.as_deref().unwrap_or(account);
    let mut details = Map::new();
    details.insert("kind".into(), json!(truncate(&f.resource.kind, 1024)));
    details.insert("name".into(), json!(truncate(&f.resource.name, 1024)));
    if let Some(ns) = &f.resource.namespace {
        details.insert("namespace".into(), json!(truncate(ns, 1024)));
    }
    if let Some(c) = &report.cluster {
        details.insert("eksCluster".into(), json!(truncate(c, 1024)));
    }
    let mut resource = Map::new();
    resource.insert("Type".into(), json!(resource_type(&f.resource)));
    resource.insert(
        "Id".into(),
        json!(truncate(&qualified_name(&f.resource), 512)),
    );
    resource.insert("Partition".into(), json!("aws"));
    resource.insert("Region".into(), json!(region));
    resource.insert("Details".into(), json!({ "Other": details }));

    let mut fields = Map::new();
    fields.insert("emrguard/id".into(), json!(f.id));
    fields.insert("emrguard/rule".into(), json!(f.rule));
    fields.insert("emrguard/practice".into(), json!(f.practice.slug()));
    if let Some(ns) = namespace_of(f) {
        fields.insert("emrguard/namespace".into(), json!(truncate(ns, 1024)));
    }
    if let Some(ns) = namespaces_label(f) {
        // ProductFields values are strings of at most 2048 characters: the compact form.
        fields.insert("emrguard/namespaces".into(), json!(truncate(&ns, 1024)));
    }
    if let Some(s) = &f.subject {
        fields.insert(
            "emrguard/subject".into(),
            json!(truncate(&subject_label(s), 1024)),
        );
    }
    if let Some(c) = f.capability {
        fields.insert("emrguard/capability".into(), json!(c.slug()));
    }
    if !f.path.is_empty() {
        let steps: Vec<String> = f.path.iter().map(step_label).collect();
        fields.insert(
            "emrguard/evidence".into(),
            json!(truncate(&steps.join(" -> "), 1024)),
        );
    }
    if let Some(l) = f.locations.first() {
        let line = l.line.map(|n| format!(":{n}")).unwrap_or_default();
        fields.insert(
            "emrguard/location".into(),
            json!(truncate(&format!("{}{line}", l.file), 1024)),
        );
    }

    json!({
        "SchemaVersion": "2018-10-08",
        "Id": truncate(&format!("emrguard/{region}/{scope}/{}", f.id), 512),
        "ProductArn": format!("arn:aws:securityhub:{region}:{account}:product/{account}/default"),
        "ProductName": "emrguard",
        "CompanyName": "emrguard",
        "GeneratorId": format!("emrguard/{}", f.rule),
        "AwsAccountId": account,
        "Types": [format!(
            "Software and Configuration Checks/AWS Security Best Practices/EMR on EKS {}",
            f.practice.slug()
        )],
        "CreatedAt": ts,
        "UpdatedAt": ts,
        "Severity": { "Label": label(f.severity), "Original": f.severity.as_str() },
        "Title": truncate(&format!("{} {}", f.rule, f.title), 256),
        "Description": truncate(&f.message, 1024),
        "Remediation": { "Recommendation": { "Text": truncate(&f.remediation, 512) } },
        "ProductFields": fields,
        "Resources": [resource],
        "Workflow": { "Status": if f.suppressed { "SUPPRESSED" } else { "NEW" } },
        "RecordState": "ACTIVE",
    })
}

impl Emitter for Asff {
    fn format(&self) -> Format {
        Format::Asff
    }

    fn render(&self, report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
        let (account, region) = account_region(report);
        let findings: Vec<Value> = if report.findings.is_empty() {
            Vec::new()
        } else {
            let (Some(account), Some(region)) = (account, region) else {
                return Err(io::Error::other(
                    "ASFF needs the AWS account and region, and the snapshot has no EKS cluster (aws eks describe-cluster) or regional ARN to take them from",
                ));
            };
            report
                .findings
                .iter()
                .map(|f| finding(f, report, &account, &region, &opts.timestamp))
                .collect()
        };
        serde_json::to_writer_pretty(&mut *out, &json!({ "Findings": findings }))
            .map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emrguard_model::Kind;

    #[test]
    fn types() {
        assert_eq!(
            type_from_arn("arn:aws:eks:us-west-2:111122223333:cluster/x"),
            Some("AwsEksCluster")
        );
        assert_eq!(
            type_from_arn("arn:aws:iam::111122223333:role/path/x"),
            Some("AwsIamRole")
        );
        assert_eq!(
            resource_type(&Ref::k8s(Kind::Role, Some("ns"), "x")),
            "Other"
        );
        assert_eq!(
            resource_type(&Ref::new(Kind::SecurityGroup, "sg-1")),
            "AwsEc2SecurityGroup"
        );
    }
}

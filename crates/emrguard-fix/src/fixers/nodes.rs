//! Node credentials (NODE001 IMDS reachable from pods, NODE010 node-role policies beyond the
//! EKS minimum, NODE011 the CNI policy on the node role).
//!
//! - IMDS: a new launch-template version with `HttpTokens: required` and
//!   `HttpPutResponseHopLimit: 1` (IMDSv2 only, and its token cannot cross the extra hop into a
//!   pod's network namespace: the EKS best-practices guide's setting), the node group moved to
//!   it (nodes roll), and the running nodes changed at once with
//!   `modify-instance-metadata-options`. A node group without a launch template cannot get
//!   one in place: [`super::nodegroup_replace`] replaces it.
//! - Node-role policies: detached / deleted. The EKS node minimum
//!   (`AmazonEKSWorkerNodePolicy`, `AmazonEC2ContainerRegistryReadOnly`) stays; pods that used
//!   the node's extra rights get their own role through IRSA.
//! - `AmazonEKS_CNI_Policy`: moved to a role of its own for `kube-system/aws-node`, set on the
//!   vpc-cni add-on (`update-addon --service-account-role-arn`), as the EKS user guide
//!   describes, then detached from the node role.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const FIXER: Fixer = Fixer {
    rules: &["NODE001", "NODE010", "NODE011"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out = Vec::new();
    for f in findings.iter().filter(|f| f.rule == "NODE001") {
        out.extend(imds_fix(fcx, f));
    }
    let mut by_role: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.rule != "NODE001") {
        if let Some(a) = f.resource.arn.as_deref() {
            by_role.entry(a).or_default().push(f);
        }
    }
    for (arn, fs) in by_role {
        out.extend(node_role_fix(fcx, arn, &fs));
    }
    out
}

fn read_json(file: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()
}

fn imds_fix(fcx: &FixContext<'_, '_, '_>, f: &Finding) -> Option<Fix> {
    let index = fcx.cx.index;
    let ng = index
        .snap
        .nodegroups
        .iter()
        .find(|n| n.nodegroup_name == f.resource.name)?;
    let lt = index.launch_template_for(ng)?;
    let raw = read_json(&lt.loc.file)?;
    let mut data = raw.pointer(&lt.loc.pointer)?.clone();
    let next = index
        .snap
        .launch_template_versions
        .iter()
        .filter(|v| v.launch_template_id == lt.launch_template_id)
        .map(|v| v.version_number)
        .max()
        .unwrap_or(lt.version_number)
        + 1;
    let md =
        json!({"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"});
    crate::put(&mut data, "/VersionNumber", json!(next));
    crate::put(&mut data, "/DefaultVersion", json!(false));
    crate::put(
        &mut data,
        "/VersionDescription",
        json!("emrguard fix: IMDSv2 only, hop limit 1"),
    );
    crate::put(&mut data, "/LaunchTemplateData/MetadataOptions", md.clone());
    let (parent, _) = lt.loc.pointer.rsplit_once('/')?;
    // The node group's own cluster; the estate's when the describe output lacks it.
    let c = if ng.cluster_name.is_empty() {
        fcx.values.cluster()
    } else {
        ng.cluster_name.as_str()
    };
    let path = format!(
        "artifacts/ec2/{}-v{next}.json",
        crate::file_name(&lt.launch_template_name)
    );
    let lt_data = json!({"MetadataOptions": md});
    let mut commands = vec![
        format!(
            "aws ec2 create-launch-template-version --launch-template-id {} --source-version {} --version-description 'emrguard fix: IMDSv2 only, hop limit 1' --launch-template-data file://{path}",
            sh(&lt.launch_template_id),
            lt.version_number
        ),
        format!(
            "aws eks update-nodegroup-version --cluster-name {} --nodegroup-name {} --launch-template id={},version={next}",
            sh(c),
            sh(&ng.nodegroup_name),
            sh(&lt.launch_template_id)
        ),
    ];
    let mut edits = vec![
        Edit::at(&lt.loc, "", Op::Set(Value::Null))
            .with_pointer(&format!("{parent}/-"), Op::Set(data)),
        Edit::at(
            &ng.loc,
            "/launchTemplate/version",
            Op::Set(json!(next.to_string())),
        ),
    ];
    for i in index.instances_of_nodegroup(ng) {
        commands.push(format!(
            "aws ec2 modify-instance-metadata-options --instance-id {} --http-tokens required --http-put-response-hop-limit 1",
            sh(&i.instance_id)
        ));
        edits.push(Edit::at(
            &i.loc,
            "/MetadataOptions/HttpTokens",
            Op::Set(json!("required")),
        ));
        edits.push(Edit::at(
            &i.loc,
            "/MetadataOptions/HttpPutResponseHopLimit",
            Op::Set(json!(1)),
        ));
    }
    Some(Fix {
        findings: vec![f.id.clone()],
        title: format!("Node group `{}`: IMDSv2 only, hop limit 1", ng.nodegroup_name),
        details: vec![format!(
            "Launch template `{}` gets version {next} (from version {}, metadata options changed only); the node group moves to it and its running nodes are changed in place.",
            lt.launch_template_name, lt.version_number
        )],
        decisions: vec!["Pods that need the node's credentials (a node agent on the host network keeps working) must use IRSA; the node group update replaces its nodes.".into()],
        artifacts: vec![Artifact { path, contents: json(&lt_data) }],
        commands,
        edits,
    })
}

impl Edit {
    /// The same file and document, another pointer and operation.
    fn with_pointer(mut self, pointer: &str, op: Op) -> Edit {
        self.pointer = pointer.to_owned();
        self.op = op;
        self
    }
}

fn node_role_fix(fcx: &FixContext<'_, '_, '_>, arn: &str, fs: &[&Finding]) -> Option<Fix> {
    let index = fcx.cx.index;
    let role = index.role(arn)?;
    let name = &role.role_name;
    let v = &fcx.values;
    let mut commands = Vec::new();
    let mut edits = Vec::new();
    let mut details = Vec::new();
    let mut artifacts = Vec::new();
    let mut claimed = Vec::new();
    for f in fs {
        match f.rule.as_str() {
            // The rule's discriminator: the managed policy's ARN, or `inline:NAME`.
            "NODE010" => {
                if let Some((i, p)) = role
                    .attached_managed_policies
                    .iter()
                    .enumerate()
                    .find(|(_, p)| crate::is_about(f, &p.policy_arn))
                {
                    let (command, edit) = super::detach_managed_policy(role, i, &p.policy_arn);
                    commands.push(command);
                    edits.push(edit);
                    details.push(format!(
                        "Managed policy `{}` detached from `{name}`.",
                        p.policy_name
                    ));
                    claimed.push(f.id.clone());
                } else if let Some((i, p)) = role
                    .role_policy_list
                    .iter()
                    .enumerate()
                    .find(|(_, p)| crate::is_about(f, &format!("inline:{}", p.policy_name)))
                {
                    commands.push(format!(
                        "aws iam delete-role-policy --role-name {} --policy-name {}",
                        sh(name),
                        sh(&p.policy_name)
                    ));
                    edits.push(Edit::at(
                        &role.loc,
                        &format!("/RolePolicyList/{i}"),
                        Op::Remove,
                    ));
                    details.push(format!(
                        "Inline policy `{}` deleted from `{name}`.",
                        p.policy_name
                    ));
                    claimed.push(f.id.clone());
                }
            }
            "NODE011" => {
                let Some((i, p)) = role
                    .attached_managed_policies
                    .iter()
                    .enumerate()
                    .find(|(_, p)| p.policy_name == "AmazonEKS_CNI_Policy")
                else {
                    continue;
                };
                let Some(cluster) = index.snap.clusters.first() else {
                    continue;
                };
                let (Some(provider), Some(issuer)) = (
                    emrguard_rules::infra::creds::oidc_provider_arn(cluster),
                    cluster.oidc_issuer_host(),
                ) else {
                    continue;
                };
                let cni_role = format!("{}-aws-node", v.cluster());
                let cni_arn = v.role_arn(&cni_role);
                let trust = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"Federated": provider},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {"StringEquals": {
                            format!("{issuer}:sub"): "system:serviceaccount:kube-system:aws-node",
                            format!("{issuer}:aud"): "sts.amazonaws.com"
                        }}
                    }]
                });
                let tpath = format!("artifacts/iam/{}.trust.json", crate::file_name(&cni_role));
                artifacts.push(Artifact {
                    path: tpath.clone(),
                    contents: json(&trust),
                });
                commands.push(format!("aws iam create-role --role-name {} --assume-role-policy-document file://{tpath}", sh(&cni_role)));
                commands.push(format!(
                    "aws iam attach-role-policy --role-name {} --policy-arn {}",
                    sh(&cni_role),
                    sh(&p.policy_arn)
                ));
                commands.push(format!(
                    "aws eks update-addon --cluster-name {} --addon-name vpc-cni --service-account-role-arn {} --resolve-conflicts PRESERVE",
                    sh(v.cluster()),
                    sh(&cni_arn)
                ));
                let (command, edit) = super::detach_managed_policy(role, i, &p.policy_arn);
                commands.push(command);
                edits.push(edit);
                // The new role, in the same authorization-details file.
                if let Some((parent, _)) = role.loc.pointer.rsplit_once('/') {
                    edits.push(Edit {
                        file: role.loc.file.to_string(),
                        doc_line: None,
                        pointer: format!("{parent}/-"),
                        op: Op::Set(json!({
                            "Path": "/", "RoleName": cni_role, "RoleId": "AROAEMRGUARDFIXAWSNODE", "Arn": cni_arn,
                            "AssumeRolePolicyDocument": trust,
                            "AttachedManagedPolicies": [{"PolicyName": p.policy_name, "PolicyArn": p.policy_arn}],
                            "RolePolicyList": [], "InstanceProfileList": [], "Tags": []
                        })),
                    });
                }
                for a in index
                    .snap
                    .addons
                    .iter()
                    .filter(|a| a.addon_name == "vpc-cni")
                {
                    edits.push(Edit::at(
                        &a.loc,
                        "/serviceAccountRoleArn",
                        Op::Set(json!(cni_arn)),
                    ));
                }
                details.push(format!("`AmazonEKS_CNI_Policy` moves from `{name}` to a new role `{cni_role}` trusted by `kube-system/aws-node` only, set on the vpc-cni add-on."));
                claimed.push(f.id.clone());
            }
            _ => {}
        }
    }
    if claimed.is_empty() {
        return None;
    }
    Some(Fix {
        findings: claimed,
        title: format!("Node role `{name}`: the EKS node minimum only"),
        details,
        decisions: vec!["Workloads that used the node's extra permissions (kube2iam, S3 from the node) must get an IRSA role first.".into()],
        artifacts,
        commands,
        edits,
    })
}

//! Node groups created without a launch template (NODE001 IMDS reachable from pods, NODE003
//! SSH remote access).
//!
//! EKS cannot give such a node group a launch template later ("You can update a node group
//! using a launch template only if the node group was originally deployed with a launch
//! template", UpdateNodegroupVersion), and `remoteAccess` cannot be removed in place either. So
//! the node group is replaced: a launch template with `HttpTokens: required` and hop limit 1
//! (the EKS best-practices setting; pods then cannot reach the node role), the old `diskSize`
//! as the root volume and no key pair (SSM Session Manager replaces SSH); a new node group with
//! the old one's role, subnets, scaling, instance types, AMI type, labels, taints and tags on
//! that template; then, once it is active, the old node group is deleted (EKS drains its
//! nodes, and deletes its remote-access security group). A node group with a custom AMI is
//! left to a person: its bootstrap user data belongs in the template.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const FIXER: Fixer = Fixer {
    rules: &["NODE001", "NODE003"],
    run,
};

/// Members of `describe-nodegroup` that `create-nodegroup` takes unchanged.
const KEPT: [&str; 11] = [
    "clusterName",
    "scalingConfig",
    "subnets",
    "instanceTypes",
    "amiType",
    "nodeRole",
    "labels",
    "taints",
    "tags",
    "capacityType",
    "updateConfig",
];

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let mut by_ng: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(ng) = snap.nodegroups.iter().find(|n| {
            n.launch_template.is_none()
                && (f.resource.arn.as_deref() == Some(n.nodegroup_arn.as_str())
                    || (f.resource.arn.is_none() && f.resource.name == n.nodegroup_name))
        }) {
            by_ng.entry(ng.nodegroup_name.as_str()).or_default().push(f);
        }
    }
    by_ng
        .into_iter()
        .filter_map(|(name, fs)| replace(fcx, name, &fs))
        .collect()
}

fn read_json(file: &str) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()
}

/// A node-group name not used yet: `NAME-v2`, `NAME-v3` ...
fn new_name(fcx: &FixContext<'_, '_, '_>, old: &str) -> String {
    let snap = fcx.cx.index.snap;
    (2..)
        .map(|n| format!("{old}-v{n}"))
        .find(|c| {
            !snap.nodegroups.iter().any(|n| &n.nodegroup_name == c)
                && !snap.nodegroup_names.iter().any(|n| &n.value == c)
        })
        .unwrap_or_else(|| format!("{old}-new"))
}

fn replace(fcx: &FixContext<'_, '_, '_>, name: &str, fs: &[&Finding]) -> Option<Fix> {
    let index = fcx.cx.index;
    let ng = index
        .snap
        .nodegroups
        .iter()
        .find(|n| n.nodegroup_name == name)?;
    let ami = ng.ami_type.as_deref().unwrap_or("AL2_x86_64");
    // The root (or, on Bottlerocket, data) volume the EKS-generated template had.
    let device = if ami.starts_with("AL2") {
        "/dev/xvda"
    } else if ami.starts_with("BOTTLEROCKET") {
        "/dev/xvdb"
    } else {
        return None; // CUSTOM / Windows: the template needs the AMI's own settings
    };
    let raw = read_json(&ng.loc.file)?;
    let old = raw.pointer(&ng.loc.pointer)?.as_object()?.clone();
    let cluster = if ng.cluster_name.is_empty() {
        fcx.values.cluster().to_owned()
    } else {
        ng.cluster_name.clone()
    };
    let new_ng = new_name(fcx, name);
    let lt_name = crate::file_name(&format!("{cluster}-{new_ng}"));
    let md =
        json!({"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"});
    let mut lt_data = json!({ "MetadataOptions": md });
    if let Some(size) = old.get("diskSize").and_then(Value::as_u64) {
        crate::put(
            &mut lt_data,
            "/BlockDeviceMappings",
            json!([{"DeviceName": device, "Ebs": {"VolumeSize": size, "VolumeType": "gp3"}}]),
        );
    }
    let mut create = serde_json::Map::new();
    for k in KEPT {
        if let Some(v) = old.get(k) {
            create.insert(k.to_owned(), v.clone());
        }
    }
    create.insert("clusterName".into(), json!(cluster));
    create.insert("nodegroupName".into(), json!(new_ng));
    create.insert(
        "launchTemplate".into(),
        json!({"name": lt_name, "version": "1"}),
    );
    if let Some(v) = old.get("version") {
        create.insert("version".into(), v.clone());
    }
    let create = Value::Object(create);
    // The node group as describe-nodegroup will show it (no ARN until it exists).
    let mut described = create.clone();
    for k in ["status", "createdAt", "modifiedAt", "releaseVersion"] {
        if let Some(v) = old.get(k) {
            crate::put(&mut described, &format!("/{k}"), v.clone());
        }
    }
    let lt_path = format!("artifacts/ec2/{lt_name}.launch-template-data.json");
    let ng_path = format!(
        "artifacts/eks/{}.create-nodegroup.json",
        crate::file_name(&new_ng)
    );
    let desc = "emrguard fix: IMDSv2 only, hop limit 1, no SSH key";
    let commands = vec![
        format!(
            "aws ec2 create-launch-template --launch-template-name {} --version-description {} --launch-template-data file://{lt_path}",
            sh(&lt_name),
            sh(desc)
        ),
        format!("aws eks create-nodegroup --cli-input-json file://{ng_path}"),
        format!(
            "aws eks wait nodegroup-active --cluster-name {} --nodegroup-name {}",
            sh(&cluster),
            sh(&new_ng)
        ),
        format!(
            "aws eks delete-nodegroup --cluster-name {} --nodegroup-name {}",
            sh(&cluster),
            sh(name)
        ),
    ];
    let mut edits = vec![
        Edit::at(&ng.loc, "", Op::Set(described)),
        Edit::create(
            &format!("emrguard-fix/aws-ec2-describe-launch-template-versions-{lt_name}.json"),
            json(&json!({"LaunchTemplateVersions": [{
                // The id EC2 assigns is not known before the template exists.
                "LaunchTemplateId": format!("pending-{lt_name}"),
                "LaunchTemplateName": lt_name,
                "VersionNumber": 1,
                "VersionDescription": desc,
                "DefaultVersion": true,
                "LaunchTemplateData": lt_data
            }]})),
        ),
    ];
    // The old node group's instances end with it; a node-group list names the new one.
    for i in index.instances_of_nodegroup(ng) {
        edits.push(Edit::at(&i.loc, "", Op::Remove));
    }
    for n in index
        .snap
        .nodegroup_names
        .iter()
        .filter(|n| n.value == name)
    {
        edits.push(Edit::at(&n.loc, "", Op::Set(json!(new_ng))));
    }
    let mut details = vec![format!(
        "Launch template `{lt_name}`: {}{}, no key pair.",
        "IMDSv2 required, hop limit 1",
        old.get("diskSize")
            .and_then(Value::as_u64)
            .map(|s| format!(", {s} GiB gp3 volume {device} (the old `diskSize`)"))
            .unwrap_or_default()
    )];
    details.push(format!(
        "Node group `{new_ng}` replaces `{name}` with the same role, subnets, scaling, instance types, AMI type, labels, taints and tags, on that template (EKS does not add a launch template to a node group created without one); `{name}` is deleted once `{new_ng}` is active."
    ));
    let mut decisions = vec![format!(
        "Deleting `{name}` drains its nodes: check that pod disruption budgets and the new node group's capacity let the workloads move; pods that need the node's credentials must use IRSA first."
    )];
    if ng.remote_access.is_some() {
        decisions.push("SSH goes away: reach nodes with SSM Session Manager (the node role needs `AmazonSSMManagedInstanceCore`, or use `kubectl debug node/...`).".into());
    }
    Some(Fix {
        findings: fs.iter().map(|f| f.id.clone()).collect(),
        title: format!("Node group `{name}` replaced by `{new_ng}` on a launch template"),
        details,
        decisions,
        artifacts: vec![
            Artifact {
                path: lt_path,
                contents: json(&lt_data),
            },
            Artifact {
                path: ng_path,
                contents: json(&create),
            },
        ],
        commands,
        edits,
    })
}

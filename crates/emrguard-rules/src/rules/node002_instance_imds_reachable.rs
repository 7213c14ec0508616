use super::node001_nodegroup_imds_reachable::{iptables_verdict, Mitigations, FIX_METADATA};
use crate::infra::imds::{security_groups_for_pods, Metadata};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ec2::{tag, Instance};
use emrguard_model::aws::eks::LaunchTemplateSpec;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref, Severity};
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it checks
    /// EKS worker nodes in `aws ec2 describe-instances` that no managed node group of the
    /// snapshot accounts for (self-managed node groups, Karpenter nodes, nodes of node groups
    /// missing from the snapshot), recognised by their tags (`kubernetes.io/cluster/<name>`,
    /// `eks:cluster-name`, `eks:nodegroup-name`, `karpenter.sh/nodepool`,
    /// `alpha.eksctl.io/nodegroup-name`), whose `MetadataOptions` let pods reach IMDS: IMDSv1
    /// allowed (`HttpTokens: optional`) or a hop limit above 1, with the endpoint enabled. The
    /// node is credited when the user data of its launch template (tags
    /// `aws:ec2launchtemplate:id`/`version`) or an `iptables-save` dump of it (file named after
    /// the instance id or IP) shows the documented iptables block.
    ///
    /// ## Why it matters
    /// Nodes outside managed node groups are easy to forget, but EMR pods land on them like on
    /// any other node. A pod that reaches IMDS there gets the instance profile's credentials
    /// instead of its execution role.
    ///
    /// ## Example
    /// ```json
    /// {"Reservations": [{"Instances": [{"InstanceId": "i-0abc", "Tags": [{"Key": "karpenter.sh/nodepool", "Value": "spark"}],
    ///   "MetadataOptions": {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}}]}]}
    /// ```
    ///
    /// ## Remediation
    /// `aws ec2 modify-instance-metadata-options --instance-id ID --http-tokens required --http-put-response-hop-limit 1`,
    /// and fix what launches the nodes (launch template `MetadataOptions`, Karpenter
    /// `EC2NodeClass.spec.metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 1}`).
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Restrict access to nodegroup IAM role or instance profile credentials"
    /// - EKS best practices guide, "Restrict access to the instance profile assigned to the worker node"
    pub struct InstanceImdsReachable;
    id = "NODE002", name = "node-instance-imds-reachable-from-pods", practice = NodeCredentials, severity = High,
    title = "Pods on an EKS node outside the known node groups can reach IMDS",
}

/// The EKS cluster an instance is a node of, from its tags.
fn eks_node(i: &Instance) -> Option<String> {
    for t in &i.tags {
        if let Some(c) = t.key.strip_prefix("kubernetes.io/cluster/") {
            return Some(c.to_owned());
        }
    }
    if let Some(c) = tag(&i.tags, "eks:cluster-name") {
        return Some(c.to_owned());
    }
    [
        "eks:nodegroup-name",
        "karpenter.sh/nodepool",
        "karpenter.sh/provisioner-name",
        "alpha.eksctl.io/nodegroup-name",
    ]
    .iter()
    .any(|k| tag(&i.tags, k).is_some())
    .then(String::new)
}

impl Rule for InstanceImdsReachable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let managed: BTreeSet<&str> = index
            .snap
            .nodegroups
            .iter()
            .flat_map(|ng| index.instances_of_nodegroup(ng))
            .map(|i| i.instance_id.as_str())
            .collect();
        let sg_for_pods = security_groups_for_pods(index);
        let mitigations = Mitigations::of(index);
        let mut out = Vec::new();
        for i in &index.snap.instances {
            if !i.is_live() || managed.contains(i.instance_id.as_str()) {
                continue;
            }
            let Some(cluster) = eks_node(i) else { continue };
            let Some(opts) = i.metadata_options.as_ref() else {
                continue; // nothing to judge
            };
            let md = Metadata::resolve(Some(opts), false);
            if md.blocks_pods() {
                continue;
            }
            let lt = match (
                tag(&i.tags, "aws:ec2launchtemplate:id"),
                tag(&i.tags, "aws:ec2launchtemplate:version"),
            ) {
                (Some(id), v) => index.launch_template(&LaunchTemplateSpec {
                    id: Some(id.to_owned()),
                    name: None,
                    version: v.map(str::to_owned),
                }),
                _ => None,
            };
            let (notes, locs) = match iptables_verdict(index, &[i], lt, sg_for_pods.as_deref()) {
                Ok(_) => continue,
                Err(e) => e,
            };
            let mut sev = if md.certain() {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut mitigation_notes = Vec::new();
            mitigations.apply(&mut sev, &mut mitigation_notes);
            let extra: String = mitigation_notes.iter().map(|n| format!(" {n}")).collect();
            let owner = tag(&i.tags, "eks:nodegroup-name")
                .map(|n| format!("node group `{n}` (not described in the snapshot)"))
                .or_else(|| {
                    tag(&i.tags, "karpenter.sh/nodepool")
                        .map(|n| format!("Karpenter node pool `{n}`"))
                })
                .or_else(|| {
                    tag(&i.tags, "alpha.eksctl.io/nodegroup-name")
                        .map(|n| format!("self-managed node group `{n}`"))
                })
                .unwrap_or_else(|| "no managed node group".to_owned());
            let profile = i
                .iam_instance_profile
                .as_ref()
                .and_then(|p| p.arn.clone())
                .unwrap_or_else(|| "?".to_owned());
            let resource = Ref::new(Kind::Instance, i.instance_id.clone());
            let mut b = self
                .finding(resource.clone())
                .severity(sev)
                .message(format!(
                    "Pods on EKS node {} ({}; cluster {}; {owner}) can reach the instance metadata service and the credentials of instance profile {profile}: it runs with {}: {}{}.{extra}",
                    i.instance_id,
                    i.private_ip_address.as_deref().unwrap_or("?"),
                    if cluster.is_empty() { "?" } else { &cluster },
                    md.describe(),
                    md.why_reachable(),
                    if notes.is_empty() { String::new() } else { format!("; {}", notes.join("; ")) }
                ))
                .remediation(format!(
                    "`aws ec2 modify-instance-metadata-options --instance-id {} --http-tokens required --http-put-response-hop-limit 1`; fix what launches such nodes ({{{FIX_METADATA}}} in the launch template, or Karpenter `EC2NodeClass.spec.metadataOptions: {{httpTokens: required, httpPutResponseHopLimit: 1}}`).",
                    i.instance_id
                ))
                .step(PathStep::from_ref(&resource).detail(md.describe()))
                .location(&i.loc);
            for l in &locs {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

use super::node001_nodegroup_imds_reachable::{iptables_blocks, Mitigations};
use crate::infra::imds::{security_groups_for_pods, Metadata};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::k8s::{Ec2NodeClass, NodePool};
use emrguard_model::node::UserDataKind;
use emrguard_model::Kind;
use emrguard_model::{Finding, Located, PathStep, Severity};

declare_rule! {
    /// ## What it checks
    /// Karpenter `EC2NodeClass` objects (`kubectl get ec2nodeclasses -o json`) whose
    /// `spec.metadataOptions` let pods reach the instance metadata service of the nodes
    /// Karpenter launches: `httpTokens: optional` (IMDSv1), or `httpPutResponseHopLimit` above
    /// 1 (IMDSv2 tokens reach containers), unless `httpEndpoint: disabled` or the class's
    /// `spec.userData` installs the documented iptables block
    /// (`iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP`,
    /// plus the `vlan+` rule with security groups for pods). Unset fields take Karpenter's
    /// defaults (v1 CRD: `httpTokens: required`, hop limit 1, endpoint enabled; the API server
    /// writes them into the stored object). When the snapshot has NodePools, only classes some
    /// NodePool launches (`spec.template.spec.nodeClassRef`) are reported; a class no pool uses
    /// launches nothing. When every EMR namespace runs all its pods on Fargate, the finding is
    /// low: EMR's pods never land on these nodes.
    ///
    /// Running nodes are judged by NODE002 (their own metadata options); this rule reports the
    /// setting that launches them, so a fix here also fixes the nodes Karpenter launches next
    /// (Karpenter replaces drifted nodes).
    ///
    /// ## Why it matters
    /// A pod that reaches IMDS gets the node role's credentials instead of its execution role:
    /// every job on the node, every tenant, and whatever the node role can do. The EMR security
    /// best practices call for blocking it; on Karpenter the place to do so is the node class.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: karpenter.k8s.aws/v1
    /// kind: EC2NodeClass
    /// metadata: {name: spark}
    /// spec:
    ///   role: KarpenterNodeRole-analytics
    ///   metadataOptions: {httpEndpoint: enabled, httpTokens: required, httpPutResponseHopLimit: 2}
    /// ```
    ///
    /// ## Remediation
    /// `kubectl patch ec2nodeclass NAME --type merge -p '{"spec":{"metadataOptions":{"httpTokens":"required","httpPutResponseHopLimit":1}}}'`;
    /// Karpenter marks the nodes it launched from the class as drifted and replaces them. Where
    /// pods legitimately need IMDS, install the iptables rule in `spec.userData` instead.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Restrict access to nodegroup IAM role or instance profile credentials"
    /// - Karpenter `EC2NodeClass` CRD (`karpenter.k8s.aws_ec2nodeclasses.yaml`: `metadataOptions` defaults)
    /// - Karpenter documentation, "NodeClasses" (`spec.metadataOptions`, `spec.userData`) and "Disruption" (drift)
    /// - EKS best practices guide, "Restrict access to the instance profile assigned to the worker node"
    pub struct KarpenterNodeclassImdsReachable;
    id = "NODE004", name = "karpenter-nodeclass-imds-reachable-from-pods", practice = NodeCredentials, severity = High,
    title = "Pods on nodes of a Karpenter EC2NodeClass can reach the node role's credentials through IMDS",
}

/// The NodePools that launch `class`.
fn pools_of<'s>(pools: &'s [Located<NodePool>], class: &str) -> Vec<&'s Located<NodePool>> {
    pools
        .iter()
        .filter(|p| {
            p.spec
                .template
                .spec
                .node_class_ref
                .as_ref()
                .is_some_and(|r| {
                    r.name == class
                        && r.kind.as_deref().is_none_or(|k| k == "EC2NodeClass")
                        && r.group.as_deref().is_none_or(|g| g == "karpenter.k8s.aws")
                })
        })
        .collect()
}

fn name(c: &Ec2NodeClass) -> &str {
    c.metadata.name.as_deref().unwrap_or("")
}

impl Rule for KarpenterNodeclassImdsReachable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let k = &index.snap.k8s;
        if k.ec2_node_classes.is_empty() {
            return Vec::new();
        }
        let sg_for_pods = security_groups_for_pods(index);
        let mitigations = Mitigations::of(index);
        let mut out = Vec::new();
        for class in &k.ec2_node_classes {
            let n = name(class);
            let pools = pools_of(&k.node_pools, n);
            if !k.node_pools.is_empty() && pools.is_empty() {
                continue; // no pool launches nodes from it
            }
            let md = Metadata::karpenter(class.spec.metadata_options.as_ref());
            if md.blocks_pods() {
                continue;
            }
            let ud = class.spec.user_data_decoded.as_ref();
            if ud
                .and_then(|u| iptables_blocks(&u.iptables, sg_for_pods.is_some()))
                .is_some()
            {
                continue;
            }
            let ud_note = match ud {
                None => None,
                Some(u) if u.parts.iter().any(|p| p.kind == UserDataKind::Bottlerocket) => {
                    Some("its Bottlerocket user data cannot run the iptables block")
                }
                Some(_) => Some("its user data installs no iptables block"),
            };
            let mut sev = Severity::High;
            let mut extra = Vec::new();
            mitigations.apply(&mut sev, &mut extra);
            let role = class
                .spec
                .role
                .as_deref()
                .map(|r| format!("node role `{r}`"))
                .or_else(|| {
                    class
                        .spec
                        .instance_profile
                        .as_deref()
                        .map(|p| format!("instance profile `{p}`"))
                })
                .unwrap_or_else(|| "the node role".to_owned());
            let resource = crate::util::k8s_ref(Kind::EC2NodeClass, &class.metadata);
            let mut b = self
                .finding(resource.clone())
                .severity(sev)
                .message(format!(
                    "Pods on the nodes Karpenter launches from EC2NodeClass `{n}` ({role}) can reach the instance metadata service and obtain the node's credentials: `spec.metadataOptions` gives {}: {}{}.{}",
                    md.describe(),
                    md.why_reachable(),
                    ud_note.map(|u| format!("; {u}")).unwrap_or_default(),
                    if extra.is_empty() { String::new() } else { format!(" {}", extra.join(" ")) }
                ))
                .remediation(format!(
                    "`kubectl patch ec2nodeclass {n} --type merge -p '{{\"spec\":{{\"metadataOptions\":{{\"httpTokens\":\"required\",\"httpPutResponseHopLimit\":1}}}}}}'` (Karpenter then replaces the drifted nodes); where pods need IMDS, install `iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP` in `spec.userData` instead."
                ))
                .step(PathStep::from_ref(&resource).detail(md.describe()))
                .location(&class.loc);
            b = b.fork(
                Kind::NodePool,
                format!("{} NodePools", pools.len()),
                pools
                    .iter()
                    .map(|p| {
                        PathStep::new(Kind::NodePool, p.metadata.name.clone().unwrap_or_default())
                            .detail(format!("nodeClassRef {n}"))
                    })
                    .collect(),
            );
            for p in &pools {
                b = b.location(&p.loc);
            }
            if let Some(r) = class.spec.role.as_deref() {
                b = b.step(
                    PathStep::new(Kind::IamRole, r.to_owned())
                        .detail("node role reachable from pods"),
                );
            }
            out.push(b.build());
        }
        out
    }
}

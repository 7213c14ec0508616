use crate::infra::imds::{
    eni_block, netpol_blocks_imds, policy_engine, security_groups_for_pods, vlan_block, Metadata,
    PolicyEngine,
};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ec2::{Instance, LaunchTemplateVersion};
use emrguard_model::node::{IptablesRule, UserDataKind};
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, Finding, Located, PathStep, Ref, Severity, SourceLoc};

declare_rule! {
    /// ## What it checks
    /// For every EKS managed node group, whether pods can reach the instance metadata service
    /// and so the node role's credentials. A node group is protected when:
    ///
    /// - its launch template version (the one the node group pins: `$Default`, `$Latest` or a
    ///   number) requires IMDSv2 with a PUT response hop limit of 1, or disables the endpoint
    ///   (`MetadataOptions`); when the template says nothing, AL2023 node groups get the AL2023
    ///   managed-node-group defaults (IMDSv2 required, hop limit 1) and the message says so;
    ///   other AMI types have no documented default (UNCERTAIN; reported at medium);
    /// - and its running instances (`describe-instances`, tag `eks:nodegroup-name`) show the
    ///   same;
    /// - or its user data installs the documented rule
    ///   `iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP`
    ///   (plus `iptables -t mangle -A POSTROUTING -o vlan+ --destination 169.254.169.254/32 --jump DROP`
    ///   when security groups for pods are in use: `ENABLE_POD_ENI=true` or SecurityGroupPolicy
    ///   objects), or an `iptables-save` dump of one of its nodes shows it. A dump is tied to its
    ///   node by its file name (instance id, `ip-10-0-1-23` or `10.0.1.23`); a dump that lacks
    ///   the rule overrides user data that claims to install it. Bottlerocket user data (TOML
    ///   settings) runs no iptables commands, and no documented Bottlerocket setting blocks
    ///   pod access to IMDS, so Bottlerocket node groups rely on their metadata options.
    ///
    /// When every EMR namespace runs all its pods on Fargate (a live Fargate profile's
    /// label-free selector matches it), the finding is low: EMR's pods never run on the nodes.
    ///
    /// NetworkPolicies that deny egress to `169.254.169.254/32` for every pod of every EMR
    /// namespace are credited only with a note (severity low, or info when a policy engine is
    /// seen in the snapshot): they work only while a policy engine enforces them (the VPC CNI
    /// network policy agent, Calico, Cilium ...) and never for host-network pods.
    ///
    /// ## Why it matters
    /// EMR on EKS pods must get AWS credentials only from their execution role. A pod that
    /// reaches IMDS gets the node role's credentials instead (every job on the node, every
    /// tenant) and, with them, whatever the node role can do: pull any image, describe the
    /// VPC, and often far more. The EMR security best practices call for blocking it.
    ///
    /// ## Example
    /// ```json
    /// {"LaunchTemplateVersions": [{"LaunchTemplateName": "analytics-prod-spark-ondemand",
    ///   "VersionNumber": 3, "LaunchTemplateData": {"MetadataOptions":
    ///   {"HttpTokens": "optional", "HttpPutResponseHopLimit": 2}}}]}
    /// ```
    ///
    /// ## Remediation
    /// Require IMDSv2 with hop limit 1 in a new launch template version
    /// (`aws ec2 create-launch-template-version --launch-template-id LT --source-version N --launch-template-data '{"MetadataOptions":{"HttpTokens":"required","HttpPutResponseHopLimit":1,"HttpEndpoint":"enabled"}}'`),
    /// point the node group at it (`aws eks update-nodegroup-version --launch-template id=LT,version=NEW`),
    /// and for running nodes `aws ec2 modify-instance-metadata-options --instance-id ID --http-tokens required --http-put-response-hop-limit 1`.
    /// Where pods legitimately need IMDS, install the iptables rule in the user data instead.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Restrict access to nodegroup IAM role or instance profile credentials"
    /// - EKS best practices guide, "Restrict access to the instance profile assigned to the worker node"
    /// - EKS user guide, `al2023.adoc` (IMDSv2 required, hop limit 1 by default for managed node groups)
    /// - EKS user guide (2021), "Restrict access to the instance profile" (iptables rules, `vlan+` for security groups for pods)
    pub struct NodegroupImdsReachable;
    id = "NODE001", name = "nodegroup-imds-reachable-from-pods", practice = NodeCredentials, severity = High,
    title = "Pods on a node group can reach the node role's credentials through IMDS",
}

/// Whether pods on nodes with these iptables rules are blocked (and which rules prove it).
pub(crate) fn iptables_blocks(rules: &[IptablesRule], sg_for_pods: bool) -> Option<String> {
    let eni = eni_block(rules)?;
    if sg_for_pods {
        let vlan = vlan_block(rules)?;
        return Some(format!("`{}` and `{}`", eni.text, vlan.text));
    }
    Some(format!("`{}`", eni.text))
}

/// The iptables evidence of a set of instances and a launch template: `Ok(why)` when pods are
/// blocked, `Err(notes)` otherwise.
pub(crate) fn iptables_verdict(
    index: &EstateIndex<'_>,
    instances: &[&Located<Instance>],
    lt: Option<&Located<LaunchTemplateVersion>>,
    sg_for_pods: Option<&str>,
) -> Result<String, (Vec<String>, Vec<SourceLoc>)> {
    let mut notes = Vec::new();
    let mut locs = Vec::new();
    let sgp = sg_for_pods.is_some();
    // Dumps from the nodes are the strongest evidence.
    let mut dumps = Vec::new();
    for i in instances {
        for d in index.iptables_of_instance(i) {
            dumps.push((i, d));
        }
    }
    if !dumps.is_empty() {
        let mut all = true;
        let mut why = Vec::new();
        for (i, d) in &dumps {
            match iptables_blocks(&d.rules, sgp) {
                Some(w) => why.push(format!(
                    "{w} in the iptables-save dump of {}",
                    i.instance_id
                )),
                None => {
                    all = false;
                    let missing = if sgp && eni_block(&d.rules).is_some() {
                        "the `vlan+` mangle rule needed with security groups for pods"
                    } else {
                        "rule dropping pod traffic to 169.254.169.254"
                    };
                    notes.push(format!(
                        "the iptables-save dump of node {} ({}) has no {missing}",
                        i.instance_id,
                        i.private_ip_address.as_deref().unwrap_or("?")
                    ));
                    locs.push(d.loc.clone());
                }
            }
        }
        if all {
            return Ok(why.join("; "));
        }
        return Err((notes, locs));
    }
    if let Some(lt) = lt {
        if let Some(ud) = &lt.user_data {
            if let Some(w) = iptables_blocks(&ud.iptables, sgp) {
                return Ok(format!(
                    "{w} in the user data of launch template {} version {}",
                    lt.launch_template_name, lt.version_number
                ));
            }
            if ud
                .parts
                .iter()
                .any(|p| p.kind == UserDataKind::Bottlerocket)
            {
                notes.push("Bottlerocket user data cannot run the iptables block and no documented Bottlerocket setting blocks pod access to IMDS".to_owned());
            } else if sgp && eni_block(&ud.iptables).is_some() {
                notes.push(format!(
                    "the user data blocks `eni+` but not `vlan+` although security groups for pods are in use ({})",
                    sg_for_pods.unwrap_or("")
                ));
            } else {
                notes.push("the user data installs no iptables block".to_owned());
            }
            locs.push(lt.loc.clone());
        }
    }
    Err((notes, locs))
}

/// The NetworkPolicy note: `(severity, text)` when every EMR namespace denies IMDS egress.
fn netpol_note(index: &EstateIndex<'_>) -> Option<(Severity, String)> {
    let namespaces: Vec<&str> = index.emr_namespaces().collect();
    if namespaces.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    for ns in &namespaces {
        let pols = netpol_blocks_imds(index, ns)?;
        for p in pols {
            names.push(format!("{ns}/{}", p.name.as_deref().unwrap_or("")));
        }
    }
    match policy_engine(index) {
        PolicyEngine::Running(what) => Some((
            Severity::Info,
            format!(
                "NetworkPolicies {} deny egress to 169.254.169.254 for every pod of every EMR namespace, enforced by {what}; they do not cover host-network pods or other namespaces, so blocking at the node is still recommended.",
                names.join(", ")
            ),
        )),
        PolicyEngine::Disabled(what) => Some((
            Severity::High,
            format!(
                "NetworkPolicies {} deny egress to 169.254.169.254 in every EMR namespace, but they are not enforced: {what}.",
                names.join(", ")
            ),
        )),
        PolicyEngine::Unknown => Some((
            Severity::Low,
            format!(
                "NetworkPolicies {} deny egress to 169.254.169.254 for every pod of every EMR namespace; this protects only while a network policy engine enforces them (VPC CNI network policy agent with enableNetworkPolicy, Calico, Cilium), which the snapshot does not show, and never host-network pods.",
                names.join(", ")
            ),
        )),
    }
}

/// What lowers every reachable-IMDS finding (NODE001, NODE002, NODE004): NetworkPolicies that
/// deny IMDS egress in every EMR namespace, and EMR namespaces that all run on Fargate.
pub(crate) struct Mitigations {
    netpol: Option<(Severity, String)>,
    fargate: Option<String>,
}

impl Mitigations {
    pub(crate) fn of(index: &EstateIndex<'_>) -> Mitigations {
        Mitigations {
            netpol: netpol_note(index),
            fargate: crate::infra::fargate::emr_on_fargate_note(index),
        }
    }

    /// Lower `sev` as the mitigations allow and add their notes to `extra`.
    pub(crate) fn apply(&self, sev: &mut Severity, extra: &mut Vec<String>) {
        if let Some((s, note)) = &self.netpol {
            if *s != Severity::High {
                *sev = *s;
            }
            extra.push(note.clone());
        }
        if let Some(note) = &self.fargate {
            *sev = Severity::Low;
            extra.push(note.clone());
        }
    }
}

pub(crate) const FIX_METADATA: &str = "\"MetadataOptions\":{\"HttpTokens\":\"required\",\"HttpPutResponseHopLimit\":1,\"HttpEndpoint\":\"enabled\"}";

impl Rule for NodegroupImdsReachable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let sg_for_pods = security_groups_for_pods(index);
        let mitigations = Mitigations::of(index);
        let mut out = Vec::new();
        for ng in &index.snap.nodegroups {
            let ami = ng.ami_type.as_deref().unwrap_or("");
            if ami.starts_with("WINDOWS") {
                continue; // EMR on EKS runs on Linux nodes only
            }
            let al2023 = ami.starts_with("AL2023");
            let lt = index.launch_template_for(ng);
            let lt_opts = lt.and_then(|l| l.launch_template_data.metadata_options.as_ref());
            let template_md = Metadata::resolve(lt_opts, al2023);
            let instances = index.instances_of_nodegroup(ng);
            let mut reasons = Vec::new();
            let mut certain = false;
            let mut steps = Vec::new();
            let mut locs = vec![ng.loc.clone()];
            let resource = Ref::aws(
                Kind::EksNodegroup,
                ng.nodegroup_name.clone(),
                Some(ng.nodegroup_arn.as_str()).filter(|a| !a.is_empty()),
            );
            steps.push(PathStep::from_ref(&resource).detail(format!(
                "amiType = {}{}",
                if ami.is_empty() { "?" } else { ami },
                ng.launch_template
                    .as_ref()
                    .map(|t| format!(
                        ", launchTemplate = {} version {}",
                        t.name.as_deref().or(t.id.as_deref()).unwrap_or("?"),
                        t.version.as_deref().unwrap_or("$Default")
                    ))
                    .unwrap_or_default()
            )));
            let where_ = match lt {
                Some(l) => format!(
                    "launch template `{}` version {}{}",
                    l.launch_template_name,
                    l.version_number,
                    if l.default_version {
                        " (default version)"
                    } else {
                        " (not the template's default version)"
                    }
                ),
                None if ng.launch_template.is_some() => {
                    "its launch template (not in the snapshot)".to_owned()
                }
                None => "the launch template EKS generates (no custom launch template)".to_owned(),
            };
            // Judge the template only when the snapshot has it, or when there is none (EKS
            // defaults); a custom template missing from the snapshot cannot be judged.
            let template_known = lt.is_some() || ng.launch_template.is_none();
            // A template that leaves the settings to unknown defaults is judged by its running
            // instances when they all block pods (account-level IMDS defaults, AMI settings).
            let instances_block = !instances.is_empty()
                && instances.iter().all(|i| {
                    i.metadata_options
                        .as_ref()
                        .is_some_and(|o| Metadata::resolve(Some(o), false).blocks_pods())
                });
            if template_known
                && !template_md.blocks_pods()
                && (template_md.certain() || !instances_block)
            {
                // Without a launch template and with instances in the snapshot, the instances
                // are the evidence; the generated template is not in the snapshot.
                if lt.is_some() || instances.is_empty() {
                    reasons.push(format!(
                        "{where_} sets {}: {}",
                        template_md.describe(),
                        template_md.why_reachable()
                    ));
                    certain |= template_md.certain();
                }
            }
            if let Some(l) = lt {
                steps.push(
                    PathStep::from_ref(&Ref::new(
                        Kind::LaunchTemplateVersion,
                        format!("{} v{}", l.launch_template_name, l.version_number),
                    ))
                    .detail(template_md.describe()),
                );
                locs.push(l.loc.clone());
            }
            for i in &instances {
                let Some(opts) = i.metadata_options.as_ref() else {
                    continue;
                };
                let md = Metadata::resolve(Some(opts), false);
                if md.blocks_pods() {
                    continue;
                }
                reasons.push(format!(
                    "instance {} ({}) runs with {}: {}",
                    i.instance_id,
                    i.private_ip_address.as_deref().unwrap_or("?"),
                    md.describe(),
                    md.why_reachable()
                ));
                certain |= md.certain();
                steps.push(
                    PathStep::new(Kind::Instance, i.instance_id.clone()).detail(md.describe()),
                );
                locs.push(i.loc.clone());
            }
            if reasons.is_empty() {
                continue;
            }
            let (ipt_notes, ipt_locs) =
                match iptables_verdict(index, &instances, lt, sg_for_pods.as_deref()) {
                    Ok(_) => continue,
                    Err(e) => e,
                };
            locs.extend(ipt_locs);
            let mut sev = if certain {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut extra = Vec::new();
            if template_md.uses_al2023_defaults() {
                extra.push("The launch template sets no metadata options, so the AL2023 managed-node-group defaults (IMDSv2 required, hop limit 1) apply to new nodes.".to_owned());
            }
            if !certain {
                extra.push("UNCERTAIN: the verdict rests on an unset default (domain.md §9.7); confirm with `aws ec2 describe-instances --query 'Reservations[].Instances[].MetadataOptions'`.".to_owned());
            }
            mitigations.apply(&mut sev, &mut extra);
            let lt_ref = ng
                .launch_template
                .as_ref()
                .and_then(|t| t.id.clone().or_else(|| t.name.clone()))
                .unwrap_or_else(|| "LT".to_owned());
            let mut b = self
                .finding(resource)
                .severity(sev)
                .message(format!(
                    "Pods on node group `{}` (node role {}) can reach the instance metadata service and obtain the node role's credentials: {}{}.{}",
                    ng.nodegroup_name,
                    ng.node_role.as_deref().unwrap_or("?"),
                    reasons.join("; "),
                    if ipt_notes.is_empty() { String::new() } else { format!("; {}", ipt_notes.join("; ")) },
                    if extra.is_empty() { String::new() } else { format!(" {}", extra.join(" ")) }
                ))
                .remediation(if ng.launch_template.is_some() {
                    format!(
                        "Create a launch template version with {{{FIX_METADATA}}} (`aws ec2 create-launch-template-version --launch-template-id {lt_ref} --source-version {} --launch-template-data '{{{FIX_METADATA}}}'`), roll the node group to it (`aws eks update-nodegroup-version --cluster-name {} --nodegroup-name {} --launch-template id={lt_ref},version=NEW`), and fix running nodes with `aws ec2 modify-instance-metadata-options --instance-id ID --http-tokens required --http-put-response-hop-limit 1`. Where pods need IMDS, install `iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP` in the user data instead.",
                        lt.map(|l| l.version_number.to_string()).unwrap_or_else(|| "N".to_owned()),
                        ng.cluster_name,
                        ng.nodegroup_name
                    )
                } else {
                    format!(
                        "Replace node group `{}` with one using a launch template that sets {{{FIX_METADATA}}} (or AL2023 nodes, whose defaults block pods), and meanwhile run `aws ec2 modify-instance-metadata-options --instance-id ID --http-tokens required --http-put-response-hop-limit 1` on its instances{}.",
                        ng.nodegroup_name,
                        if instances.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", instances.iter().map(|i| i.instance_id.as_str()).collect::<Vec<_>>().join(", "))
                        }
                    )
                });
            for s in steps {
                b = b.step(s);
            }
            if let Some(role) = ng.node_role.as_deref() {
                b = b.step(
                    PathStep::new(
                        Kind::IamRole,
                        emrguard_model::aws::iam::arn_resource_name(role),
                    )
                    .arn(Some(role))
                    .detail("node role reachable from pods"),
                );
            }
            for l in &locs {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

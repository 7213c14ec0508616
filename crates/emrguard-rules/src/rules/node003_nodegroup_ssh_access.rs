use crate::infra::net::{sg_label, world_sources};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref, Severity};

declare_rule! {
    /// ## What it checks
    /// Managed node groups with SSH remote access (`remoteAccess.ec2SshKey`), and node groups
    /// whose launch template sets an SSH key pair (`KeyName`). Medium when SSH is open to the
    /// world: no `sourceSecurityGroups` (EKS then opens tcp/22 to `0.0.0.0/0` on the
    /// remote-access security group) or a remote-access group that admits `0.0.0.0/0`/`::/0`
    /// on port 22; low when restricted.
    ///
    /// ## Why it matters
    /// A shell on a node is a shell next to every pod on it: it reads the node role's
    /// credentials from IMDS (no iptables rule or hop limit stops the node itself), the
    /// service-account tokens and secrets mounted into EMR pods, and the other tenants'
    /// Spark traffic. A key pair shared by operators is a long-lived credential to all of it.
    ///
    /// ## Example
    /// ```json
    /// {"nodegroup": {"nodegroupName": "ng-general", "remoteAccess": {"ec2SshKey": "analytics-ops"},
    ///   "resources": {"remoteAccessSecurityGroup": "sg-0fab8232413399596"}}}
    /// ```
    ///
    /// ## Remediation
    /// Replace SSH with SSM Session Manager (the `AmazonSSMManagedInstanceCore` policy on the
    /// node role and no key pair). Remote access cannot be removed from an existing node
    /// group: create a new node group without `--remote-access` and delete the old one; at
    /// least restrict it with `sourceSecurityGroups` to a bastion's group.
    ///
    /// ## References
    /// - EKS user guide, "Create a managed node group" (remote access, source security groups)
    /// - EKS best practices guide, "Minimize access to worker nodes"
    pub struct NodegroupSshAccess;
    id = "NODE003", name = "nodegroup-ssh-remote-access", practice = NodeCredentials, severity = Medium,
    title = "Node group allows SSH remote access",
}

impl Rule for NodegroupSshAccess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for ng in &cx.index.snap.nodegroups {
            let resource = Ref::aws(
                Kind::EksNodegroup,
                ng.nodegroup_name.clone(),
                Some(ng.nodegroup_arn.as_str()).filter(|a| !a.is_empty()),
            );
            let key = ng
                .remote_access
                .as_ref()
                .and_then(|r| r.ec2_ssh_key.clone());
            if let Some(key) = key {
                let sources = ng
                    .remote_access
                    .as_ref()
                    .map(|r| r.source_security_groups.clone())
                    .unwrap_or_default();
                let rsg_id = ng
                    .resources
                    .as_ref()
                    .and_then(|r| r.remote_access_security_group.clone());
                let rsg = rsg_id.as_deref().and_then(|id| cx.index.security_group(id));
                let world: Vec<String> = rsg
                    .map(|g| {
                        g.ip_permissions
                            .iter()
                            .filter(|p| p.admits_tcp_port(22))
                            .flat_map(world_sources)
                            .collect()
                    })
                    .unwrap_or_default();
                let open = !world.is_empty() || (sources.is_empty() && rsg.is_none());
                let how = if !world.is_empty() {
                    format!(
                        "its remote-access security group {} admits tcp/22 from {}",
                        sg_label(rsg_id.as_deref().unwrap_or("?"), rsg.map(|g| &g.value)),
                        world.join(" and ")
                    )
                } else if sources.is_empty() && rsg.is_none() {
                    "no `sourceSecurityGroups` are set, so EKS opens tcp/22 to 0.0.0.0/0 on the remote-access security group".to_owned()
                } else if sources.is_empty() {
                    format!(
                        "SSH is limited by remote-access security group {}",
                        sg_label(rsg_id.as_deref().unwrap_or("?"), rsg.map(|g| &g.value))
                    )
                } else {
                    format!("SSH is limited to security groups {}", sources.join(", "))
                };
                let mut b = self
                    .finding(resource.clone())
                    .severity(if open { Severity::Medium } else { Severity::Low })
                    .discriminator("remoteAccess")
                    .message(format!(
                        "Node group `{}` allows SSH to its nodes with key pair `{key}`: {how}. A shell on a node reaches the node role's credentials and every EMR pod on it.",
                        ng.nodegroup_name
                    ))
                    .remediation(if open {
                        format!(
                            "Use SSM Session Manager instead of SSH; recreate node group `{}` without `remoteAccess` (it cannot be removed in place), or at least restrict it with `sourceSecurityGroups` to a bastion's security group.",
                            ng.nodegroup_name
                        )
                    } else {
                        format!(
                            "Use SSM Session Manager instead of SSH and recreate node group `{}` without `remoteAccess` (it cannot be removed in place); until then keep the source security groups limited to a bastion.",
                            ng.nodegroup_name
                        )
                    })
                    .step(PathStep::from_ref(&resource).detail(format!("remoteAccess.ec2SshKey = {key}")))
                    .location(&ng.loc);
                if let (Some(id), Some(g)) = (rsg_id.as_deref(), rsg) {
                    b = b
                        .step(
                            PathStep::from_ref(&Ref::new(Kind::SecurityGroup, id)).detail(
                                if world.is_empty() {
                                    "remote-access security group".to_owned()
                                } else {
                                    format!("tcp/22 from {}", world.join(", "))
                                },
                            ),
                        )
                        .location(&g.loc);
                }
                out.push(b.build());
            }
            if let Some(lt) = cx.index.launch_template_for(ng) {
                if let Some(k) = lt.launch_template_data.key_name.as_deref() {
                    out.push(
                        self.finding(resource.clone())
                            .severity(Severity::Low)
                            .discriminator("launchTemplate.KeyName")
                            .message(format!(
                                "Node group `{}` launches its nodes with SSH key pair `{k}` (launch template `{}` version {}): whoever holds the key and reaches port 22 gets a shell next to every EMR pod on the node.",
                                ng.nodegroup_name, lt.launch_template_name, lt.version_number
                            ))
                            .remediation("Remove `KeyName` from the launch template (new version) and use SSM Session Manager for node access.")
                            .step(PathStep::from_ref(&resource))
                            .step(PathStep::new(Kind::LaunchTemplateVersion, format!("{} v{}", lt.launch_template_name, lt.version_number)).detail(format!("KeyName = {k}")))
                            .location(&ng.loc)
                            .location(&lt.loc)
                            .build(),
                    );
                }
            }
        }
        out
    }
}

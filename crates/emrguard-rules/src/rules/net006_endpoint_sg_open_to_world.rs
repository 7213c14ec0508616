use crate::infra::net::sg_ingress_evidence;
use crate::infra::net::{
    endpoints, other_sources, ports_note, sg_label, sg_ref, world_sources, EndpointNet,
};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ec2::SecurityGroup;
use emrguard_model::{Finding, Located};
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// Ingress rules of the security groups of live managed endpoints (the endpoint's
    /// `securityGroup` and those of its load balancer) that admit `0.0.0.0/0` or `::/0`. One
    /// finding per rule; ports beyond HTTPS 443 are noted, and the rule's other sources
    /// (referenced security groups, prefix lists) are explained in the message.
    ///
    /// ## Why it matters
    /// AWS recommends that the security groups of managed endpoints "restrict incoming traffic
    /// to a selected set of IP addresses". A group open to the world leaves the notebook
    /// gateway, which runs code with the endpoint's execution role, reachable from anywhere
    /// the load balancer is; extra ports open more of the load balancer or its targets.
    ///
    /// ## Example
    /// ```json
    /// {"GroupId": "sg-082d09e57868a708e", "IpPermissions": [{"IpProtocol": "tcp",
    ///   "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    ///   "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}
    /// ```
    ///
    /// ## Remediation
    /// Replace the world-wide source with the networks that use EMR Studio, on tcp/443 only:
    /// `aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions ...` and
    /// `aws ec2 authorize-security-group-ingress --group-id SG --protocol tcp --port 443 --cidr 10.20.30.0/24`
    /// (or `--source-group` the Studio workspace security group). Declare the chosen networks
    /// in `emrguard.toml` under `[endpoints] allowed_cidrs`.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Managed endpoints"
    /// - EMR on EKS Development Guide, "Prerequisites for interactive endpoints"
    pub struct EndpointSgOpenToWorld;
    id = "NET006", name = "managed-endpoint-sg-open-to-world", practice = EndpointAccess, severity = Critical,
    title = "Managed endpoint security group admits the whole internet",
}

/// Security groups of live endpoints, with the endpoints that use each.
pub(crate) fn endpoint_groups<'s, 'e>(
    ens: &'e [EndpointNet<'s>],
) -> BTreeMap<String, (&'s Located<SecurityGroup>, Vec<&'e EndpointNet<'s>>)> {
    let mut m: BTreeMap<String, (&'s Located<SecurityGroup>, Vec<&'e EndpointNet<'s>>)> =
        BTreeMap::new();
    for en in ens {
        for (id, g) in &en.sgs {
            if let Some(g) = g {
                m.entry(id.clone())
                    .or_insert_with(|| (*g, Vec::new()))
                    .1
                    .push(en);
            }
        }
    }
    m
}

impl Rule for EndpointSgOpenToWorld {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let ens = endpoints(cx.index);
        let mut out = Vec::new();
        for (id, (g, users)) in endpoint_groups(&ens) {
            for (pi, p) in g.ip_permissions.iter().enumerate() {
                let world = world_sources(p);
                if world.is_empty() {
                    continue;
                }
                let mut notes = Vec::new();
                if let Some(n) = ports_note(p) {
                    notes.push(format!("Ports: {n}."));
                }
                let desc: Vec<String> = p
                    .ip_ranges
                    .iter()
                    .filter(|r| world.contains(&r.cidr_ip))
                    .filter_map(|r| r.description.clone())
                    .collect();
                if !desc.is_empty() {
                    notes.push(format!("Rule description: \"{}\".", desc.join("\", \"")));
                }
                let others = other_sources(cx.index, p);
                if !others.is_empty() {
                    notes.push(format!("The same rule also admits {}.", others.join("; ")));
                }
                let who: Vec<String> = users.iter().map(|e| e.describe()).collect();
                let first = users.first();
                let mut b = self
                    .finding(sg_ref(&id))
                    .namespace(first.and_then(|e| e.namespace()))
                    .virtual_cluster(first.map(|e| e.vc.id.as_str()))
                    .discriminator(format!("{pi}:{}", p.ports()))
                    .message(format!(
                        "Security group {} of {} admits {} from {}.{}",
                        sg_label(&id, Some(g)),
                        who.join(" and "),
                        p.ports(),
                        world.join(" and "),
                        if notes.is_empty() { String::new() } else { format!(" {}", notes.join(" ")) }
                    ))
                    .remediation(format!(
                        "Revoke the world-wide source (`aws ec2 revoke-security-group-ingress --group-id {id} --ip-permissions '{}'`) and admit only the EMR Studio networks on tcp/443 (`aws ec2 authorize-security-group-ingress --group-id {id} --protocol tcp --port 443 --cidr YOUR_CIDR`); record them in emrguard.toml `[endpoints] allowed_cidrs`.",
                        revoke_json(p, &world)
                    ));
                b = sg_ingress_evidence(b, &users, &id, g, p, &world);
                out.push(b.build());
            }
        }
        out
    }
}

/// The `--ip-permissions` JSON that revokes exactly the world-wide sources of a rule.
fn revoke_json(p: &emrguard_model::aws::ec2::IpPermission, world: &[String]) -> String {
    let v4: Vec<String> = world
        .iter()
        .filter(|c| !c.contains(':'))
        .map(|c| format!("{{\"CidrIp\":\"{c}\"}}"))
        .collect();
    let v6: Vec<String> = world
        .iter()
        .filter(|c| c.contains(':'))
        .map(|c| format!("{{\"CidrIpv6\":\"{c}\"}}"))
        .collect();
    let mut s = format!("[{{\"IpProtocol\":\"{}\"", p.ip_protocol);
    if let (Some(a), Some(b)) = (p.from_port, p.to_port) {
        s.push_str(&format!(",\"FromPort\":{a},\"ToPort\":{b}"));
    }
    if !v4.is_empty() {
        s.push_str(&format!(",\"IpRanges\":[{}]", v4.join(",")));
    }
    if !v6.is_empty() {
        s.push_str(&format!(",\"Ipv6Ranges\":[{}]", v6.join(",")));
    }
    s.push_str("}]");
    s
}

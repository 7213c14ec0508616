use super::net006_endpoint_sg_open_to_world::endpoint_groups;
use crate::infra::net::sg_ingress_evidence;
use crate::infra::net::{
    cidr_prefix, endpoints, ipv4_contains, other_sources, ports_note, sg_label, sg_ref,
};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ec2::IpPermission;
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Ingress rules of the security groups of live managed endpoints that admit a CIDR wider
    /// than the configured prefix length (`[endpoints] min_ipv4_prefix_length`, default 16:
    /// a `/8` or `/12` is reported, a `/16` is not; IPv6 ranges wider than `/32`), short of the
    /// whole internet (NET006 reports `0.0.0.0/0` and `::/0`). CIDRs inside one of
    /// `[endpoints] allowed_cidrs` are the user's declared networks and are not reported.
    ///
    /// ## Why it matters
    /// A `10.0.0.0/8` or a carrier-sized public block admits far more hosts than the EMR Studio
    /// users the endpoint serves: every workload of every peered VPC, every VPN user. The
    /// security group is the endpoint's allow-list; it should name the networks that need it.
    ///
    /// ## Example
    /// ```json
    /// {"GroupId": "sg-0c520eecc45b96241", "IpPermissions": [{"IpProtocol": "tcp",
    ///   "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}
    /// ```
    ///
    /// ## Remediation
    /// Narrow the source to the EMR Studio networks (or reference the Studio workspace security
    /// group): `aws ec2 revoke-security-group-ingress` then
    /// `aws ec2 authorize-security-group-ingress --group-id SG --protocol tcp --port 443 --cidr 10.20.30.0/24`.
    /// If the wide range is intended, declare it in `emrguard.toml` `[endpoints] allowed_cidrs`.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Managed endpoints" ("restrict incoming traffic to a selected set of IP addresses")
    pub struct EndpointSgWideCidr;
    id = "NET007", name = "managed-endpoint-sg-wide-cidr", practice = EndpointAccess, severity = Medium,
    title = "Managed endpoint security group admits a wide CIDR",
}

/// Whether a CIDR lies within one the user declared.
pub(crate) fn declared(cidr: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a == cidr || (!a.contains(':') && !cidr.contains(':') && ipv4_contains(a, cidr)))
}

/// `(cidr, prefix)` of every CIDR source of a rule.
pub(crate) fn cidrs(p: &IpPermission) -> Vec<(String, bool, u8)> {
    let mut out = Vec::new();
    for r in &p.ip_ranges {
        if let Some((v6, l)) = cidr_prefix(&r.cidr_ip) {
            out.push((r.cidr_ip.clone(), v6, l));
        }
    }
    for r in &p.ipv6_ranges {
        if let Some((v6, l)) = cidr_prefix(&r.cidr_ipv6) {
            out.push((r.cidr_ipv6.clone(), v6, l));
        }
    }
    out
}

pub(crate) fn is_world(cidr: &str, prefix: u8) -> bool {
    prefix == 0 || cidr.eq_ignore_ascii_case("2000::/3")
}

impl Rule for EndpointSgWideCidr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let min4 = cx.config.endpoints.min_ipv4_prefix_length;
        let allowed = &cx.config.endpoints.allowed_cidrs;
        let ens = endpoints(cx.index);
        let mut out = Vec::new();
        for (id, (g, users)) in endpoint_groups(&ens) {
            for (pi, p) in g.ip_permissions.iter().enumerate() {
                let wide: Vec<String> = cidrs(p)
                    .into_iter()
                    .filter(|(c, v6, l)| !is_world(c, *l) && if *v6 { *l < 32 } else { *l < min4 })
                    .filter(|(c, _, _)| !declared(c, allowed))
                    .map(|(c, _, _)| c)
                    .collect();
                if wide.is_empty() {
                    continue;
                }
                let mut notes = Vec::new();
                if let Some(n) = ports_note(p) {
                    notes.push(format!("Ports: {n}."));
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
                    .discriminator(format!("{pi}:{}", wide.join(",")))
                    .message(format!(
                        "Security group {} of {} admits {} from {}, wider than /{min4} (IPv4) or /32 (IPv6) and not among the declared `allowed_cidrs`.{}",
                        sg_label(&id, Some(g)),
                        who.join(" and "),
                        p.ports(),
                        wide.join(" and "),
                        if notes.is_empty() { String::new() } else { format!(" {}", notes.join(" ")) }
                    ))
                    .remediation(format!(
                        "Narrow the source of security group {id} to the EMR Studio networks on tcp/443 (`aws ec2 revoke-security-group-ingress --group-id {id} ...`, `aws ec2 authorize-security-group-ingress --group-id {id} --protocol tcp --port 443 --cidr YOUR_CIDR`), or declare the range in emrguard.toml `[endpoints] allowed_cidrs` if it is intended."
                    ));
                b = sg_ingress_evidence(b, &users, &id, g, p, &wide);
                out.push(b.build());
            }
        }
        out
    }
}

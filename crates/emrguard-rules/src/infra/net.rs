//! Managed endpoints and their network: load balancers, security groups, subnets; CIDR helpers.

use super::jobs::live_endpoints;
use emrguard_model::aws::ec2::{IpPermission, LoadBalancer, SecurityGroup, Subnet};
use emrguard_model::aws::emr::{Endpoint, VirtualCluster};
use emrguard_model::index::{url_host, LbMatch};
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, Located, PathStep, Ref};

/// A live managed endpoint with what fronts it.
pub struct EndpointNet<'s> {
    pub ep: &'s Located<Endpoint>,
    pub vc: &'s Located<VirtualCluster>,
    pub lbs: Vec<(&'s Located<LoadBalancer>, LbMatch)>,
    /// Security groups: the endpoint's own, then its load balancers' (deduplicated, in order);
    /// `None` when the group is not in the snapshot.
    pub sgs: Vec<(String, Option<&'s Located<SecurityGroup>>)>,
    /// Subnets: the endpoint's `subnetIds`, then its load balancers' (deduplicated, in order).
    pub subnets: Vec<(String, Option<&'s Located<Subnet>>)>,
}

impl<'s> EndpointNet<'s> {
    pub fn namespace(&self) -> Option<&'s str> {
        self.vc.namespace()
    }

    /// `endpoint `name` (id) of virtual cluster `vc` (namespace `ns`)`.
    pub fn describe(&self) -> String {
        format!(
            "managed endpoint `{}` ({}) of virtual cluster `{}` (namespace `{}`)",
            self.ep.name,
            self.ep.id,
            self.vc.name,
            self.namespace().unwrap_or("?")
        )
    }

    pub fn step(&self) -> PathStep {
        PathStep::from_ref(&super::jobs::endpoint_ref(self.ep)).namespace(self.namespace())
    }
}

/// Every live managed endpoint with its network.
pub fn endpoints<'s>(index: &EstateIndex<'s>) -> Vec<EndpointNet<'s>> {
    live_endpoints(index)
        .into_iter()
        .map(|(_, ep, vc)| {
            let lbs = index.load_balancers_for_endpoint(ep);
            let mut sg_ids: Vec<String> = ep.security_group.iter().cloned().collect();
            for (lb, _) in &lbs {
                sg_ids.extend(lb.security_groups.iter().cloned());
            }
            let mut subnet_ids: Vec<String> = ep.subnet_ids.clone();
            for (lb, _) in &lbs {
                subnet_ids.extend(
                    lb.availability_zones
                        .iter()
                        .filter_map(|z| z.subnet_id.clone()),
                );
            }
            dedup_in_order(&mut sg_ids);
            dedup_in_order(&mut subnet_ids);
            let sgs = sg_ids
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(|id| {
                    let g = index.security_group(&id);
                    (id, g)
                })
                .collect();
            let subnets = subnet_ids
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(|id| {
                    let s = index.subnet(&id);
                    (id, s)
                })
                .collect();
            EndpointNet {
                ep,
                vc,
                lbs,
                sgs,
                subnets,
            }
        })
        .collect()
}

fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

pub fn lb_match_text(m: LbMatch) -> &'static str {
    match m {
        LbMatch::SecurityGroup => "it carries the endpoint's security group",
        LbMatch::DnsName => "its DNS name is the endpoint's serverUrl host",
        LbMatch::Tag => "a tag names the endpoint id",
    }
}

pub fn lb_ref(lb: &LoadBalancer) -> Ref {
    Ref::aws(
        Kind::LoadBalancer,
        lb.load_balancer_name.clone(),
        Some(lb.load_balancer_arn.as_str()).filter(|a| !a.is_empty()),
    )
}

pub fn sg_ref(id: &str) -> Ref {
    Ref::new(Kind::SecurityGroup, id)
}

/// The evidence tail shared by the security-group rules: each endpoint that uses group `id`,
/// then the group's ingress rule `p` with the `sources` it admits.
pub fn sg_ingress_evidence(
    mut b: emrguard_model::FindingBuilder,
    users: &[&EndpointNet<'_>],
    id: &str,
    g: &Located<SecurityGroup>,
    p: &IpPermission,
    sources: &[String],
) -> emrguard_model::FindingBuilder {
    for e in users {
        b = b
            .step(e.step().detail(format!("securityGroup = {id}")))
            .location(&e.ep.loc);
    }
    b.step(PathStep::from_ref(&sg_ref(id)).detail(format!(
        "ingress {} from {}",
        p.ports(),
        sources.join(", ")
    )))
    .location(&g.loc)
}

/// `sg-1 (name)`.
pub fn sg_label(id: &str, g: Option<&SecurityGroup>) -> String {
    match g.map(|g| g.group_name.as_str()).filter(|n| !n.is_empty()) {
        Some(n) => format!("`{id}` ({n})"),
        None => format!("`{id}`"),
    }
}

/// An `elb.amazonaws.com` host name and whether it is an internal load balancer's: internal
/// ELB DNS names start with `internal-` (ELB documentation, "Internal load balancers").
pub fn elb_host_scheme(url: &str) -> Option<(&str, bool)> {
    let host = url_host(url)?;
    let lower = host.to_ascii_lowercase();
    if !(lower.ends_with(".elb.amazonaws.com") || lower.ends_with(".elb.amazonaws.com.cn")) {
        return None;
    }
    Some((host, lower.starts_with("internal-")))
}

/// A CIDR: `(is_ipv6, prefix length)`.
pub fn cidr_prefix(cidr: &str) -> Option<(bool, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u8 = len.trim().parse().ok()?;
    if addr.contains(':') {
        (len <= 128).then_some((true, len))
    } else {
        (addr.parse::<std::net::Ipv4Addr>().is_ok() && len <= 32).then_some((false, len))
    }
}

/// Whether the IPv4 CIDR `outer` contains the IPv4 CIDR or address `inner`.
pub fn ipv4_contains(outer: &str, inner: &str) -> bool {
    fn parse(c: &str) -> Option<(u32, u8)> {
        let (a, l) = match c.split_once('/') {
            Some((a, l)) => (a, l.trim().parse::<u8>().ok()?),
            None => (c, 32),
        };
        let ip: std::net::Ipv4Addr = a.trim().parse().ok()?;
        (l <= 32).then_some((u32::from(ip), l))
    }
    let (Some((oa, ol)), Some((ia, il))) = (parse(outer), parse(inner)) else {
        return false;
    };
    if il < ol {
        return false;
    }
    let mask = if ol == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(ol))
    };
    oa & mask == ia & mask
}

/// World-wide sources of a permission: `0.0.0.0/0`, `::/0` (and the IPv6 global unicast
/// `2000::/3`, which is the whole IPv6 internet).
pub fn world_sources(p: &IpPermission) -> Vec<String> {
    let mut out: Vec<String> = p
        .ip_ranges
        .iter()
        .filter(|r| cidr_prefix(&r.cidr_ip).is_some_and(|(_, l)| l == 0))
        .map(|r| r.cidr_ip.clone())
        .collect();
    out.extend(
        p.ipv6_ranges
            .iter()
            .filter(|r| {
                cidr_prefix(&r.cidr_ipv6).is_some_and(|(_, l)| l == 0)
                    || r.cidr_ipv6.eq_ignore_ascii_case("2000::/3")
            })
            .map(|r| r.cidr_ipv6.clone()),
    );
    out
}

/// Sources of a permission that are neither CIDRs nor the world: referenced security groups
/// and prefix lists, explained for a message.
pub fn other_sources(index: &EstateIndex<'_>, p: &IpPermission) -> Vec<String> {
    let mut out = Vec::new();
    for g in &p.user_id_group_pairs {
        let id = g
            .group_id
            .as_deref()
            .or(g.group_name.as_deref())
            .unwrap_or("?");
        let known = index.security_group(id);
        let owner = g
            .user_id
            .as_deref()
            .map(|u| format!(" of account {u}"))
            .unwrap_or_default();
        out.push(match known {
            Some(sg) => format!(
                "security group {}{owner} (any network interface that carries that group)",
                sg_label(id, Some(sg))
            ),
            None => format!(
                "security group `{id}`{owner} (any network interface that carries that group; the group is not in the snapshot)"
            ),
        });
    }
    for pl in &p.prefix_list_ids {
        out.push(format!(
            "prefix list `{}` (its CIDRs are not in the snapshot: `aws ec2 get-managed-prefix-list-entries --prefix-list-id {}`)",
            pl.prefix_list_id, pl.prefix_list_id
        ));
    }
    out
}

/// A one-line note on ports: what beyond TCP 443 a permission opens.
pub fn ports_note(p: &IpPermission) -> Option<String> {
    if !p.beyond_443() {
        return None;
    }
    Some(format!(
        "{} opens more than HTTPS (tcp/443), the only port an interactive endpoint's load balancer serves",
        p.ports()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(cidr_prefix("0.0.0.0/0"), Some((false, 0)));
        assert_eq!(cidr_prefix("::/0"), Some((true, 0)));
        assert_eq!(cidr_prefix("10.20.30.0/24"), Some((false, 24)));
        assert_eq!(cidr_prefix("bogus"), None);
        assert!(ipv4_contains("10.0.0.0/8", "10.20.30.0/24"));
        assert!(ipv4_contains("0.0.0.0/0", "169.254.169.254"));
        assert!(!ipv4_contains("10.20.30.0/24", "10.0.0.0/8"));
        assert!(ipv4_contains("169.254.169.254/32", "169.254.169.254"));
        assert!(!ipv4_contains("169.254.0.0/16", "10.0.0.1"));
    }

    #[test]
    fn elb_hosts() {
        assert_eq!(
            elb_host_scheme("https://internal-k8s-a-1.us-west-2.elb.amazonaws.com"),
            Some(("internal-k8s-a-1.us-west-2.elb.amazonaws.com", true))
        );
        assert_eq!(
            elb_host_scheme("https://k8s-a-1.us-west-2.elb.amazonaws.com:443/x"),
            Some(("k8s-a-1.us-west-2.elb.amazonaws.com", false))
        );
        assert_eq!(elb_host_scheme("https://notebooks.example.com"), None);
    }
}

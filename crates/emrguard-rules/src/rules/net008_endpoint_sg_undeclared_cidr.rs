use super::net006_endpoint_sg_open_to_world::endpoint_groups;
use super::net007_endpoint_sg_wide_cidr::{cidrs, declared, is_world};
use crate::infra::net::sg_ingress_evidence;
use crate::infra::net::{endpoints, sg_label, sg_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;

declare_rule! {
    /// ## What it checks
    /// Only when `emrguard.toml` declares `[endpoints] allowed_cidrs`: ingress CIDRs of the
    /// security groups of live managed endpoints that lie outside every declared CIDR (and are
    /// neither world-wide, NET006, nor wide, NET007).
    ///
    /// ## Why it matters
    /// The declared list is the record of which networks may reach the notebooks. A CIDR
    /// outside it was added without that decision (a test range, a contractor network) and
    /// widens who can reach the endpoint.
    ///
    /// ## Example
    /// `allowed_cidrs = ["10.20.30.0/24"]` and an endpoint security group admitting
    /// `{"CidrIp": "192.0.2.0/24"}` on tcp/443.
    ///
    /// ## Remediation
    /// Remove the rule (`aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port 443 --cidr CIDR`)
    /// or add the CIDR to `allowed_cidrs` if it is intended.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Managed endpoints"
    pub struct EndpointSgUndeclaredCidr;
    id = "NET008", name = "managed-endpoint-sg-undeclared-cidr", practice = EndpointAccess, severity = Low,
    title = "Managed endpoint security group admits a CIDR outside the declared networks",
}

impl Rule for EndpointSgUndeclaredCidr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let allowed = &cx.config.endpoints.allowed_cidrs;
        if allowed.is_empty() {
            return Vec::new();
        }
        let min4 = cx.config.endpoints.min_ipv4_prefix_length;
        let ens = endpoints(cx.index);
        let mut out = Vec::new();
        for (id, (g, users)) in endpoint_groups(&ens) {
            for (pi, p) in g.ip_permissions.iter().enumerate() {
                let odd: Vec<String> = cidrs(p)
                    .into_iter()
                    .filter(|(c, v6, l)| {
                        !is_world(c, *l) && !(if *v6 { *l < 32 } else { *l < min4 })
                    })
                    .filter(|(c, _, _)| !declared(c, allowed))
                    .map(|(c, _, _)| c)
                    .collect();
                if odd.is_empty() {
                    continue;
                }
                let who: Vec<String> = users.iter().map(|e| e.describe()).collect();
                let first = users.first();
                let mut b = self
                    .finding(sg_ref(&id))
                    .namespace(first.and_then(|e| e.namespace()))
                    .virtual_cluster(first.map(|e| e.vc.id.as_str()))
                    .discriminator(format!("{pi}:{}", odd.join(",")))
                    .message(format!(
                        "Security group {} of {} admits {} from {}, outside the declared allowed_cidrs ({}).",
                        sg_label(&id, Some(g)),
                        who.join(" and "),
                        p.ports(),
                        odd.join(" and "),
                        allowed.join(", ")
                    ))
                    .remediation(format!(
                        "Revoke the rule (`aws ec2 revoke-security-group-ingress --group-id {id} --protocol {} --port {} --cidr {}`) or add the CIDR to emrguard.toml `[endpoints] allowed_cidrs` if it is intended.",
                        p.ip_protocol,
                        match (p.from_port, p.to_port) {
                            (Some(a), Some(b)) if a == b => a.to_string(),
                            (Some(a), Some(b)) => format!("{a}-{b}"),
                            _ => "all".to_owned(),
                        },
                        odd.first().map(String::as_str).unwrap_or("")
                    ));
                b = sg_ingress_evidence(b, &users, &id, g, p, &odd);
                out.push(b.build());
            }
        }
        out
    }
}

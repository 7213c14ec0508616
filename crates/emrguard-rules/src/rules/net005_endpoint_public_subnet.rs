use crate::infra::net::endpoints;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::ec2::tag;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// Live managed endpoints placed in public subnets: the endpoint's `subnetIds` and the
    /// subnets of its load balancer whose route table sends `0.0.0.0/0` or `::/0` to an internet
    /// gateway (`igw-…`). A subnet without an explicit route-table association uses its VPC's
    /// main route table, so a main table with an internet route makes every unassociated subnet
    /// public.
    ///
    /// ## Why it matters
    /// AWS requires interactive endpoints to be created in private subnets, reachable only from
    /// the VPC (EMR Studio). In a public subnet, one change of the load balancer scheme, or a
    /// second load balancer, exposes the Jupyter Enterprise Gateway to the internet, and the
    /// security group becomes the only control left.
    ///
    /// ## Example
    /// ```json
    /// {"RouteTables": [{"RouteTableId": "rtb-098ebaedb61a7d544",
    ///   "Associations": [{"Main": true}],
    ///   "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-068870df1a7ade7f0"}]}]}
    /// ```
    /// with an endpoint `"subnetIds": ["subnet-016684b51c33c0e69"]` that has no explicit
    /// association.
    ///
    /// ## Remediation
    /// Recreate the endpoint in private subnets (route `0.0.0.0/0` to a NAT gateway, not an
    /// internet gateway). Give every subnet an explicit route-table association and keep the
    /// main route table private, so that a new subnet is never public by accident
    /// (`aws ec2 associate-route-table --route-table-id rtb-PRIVATE --subnet-id subnet-…`).
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Prerequisites for interactive endpoints"
    /// - Amazon VPC User Guide, "Subnet route tables" (main route table, implicit association)
    pub struct EndpointPublicSubnet;
    id = "NET005", name = "managed-endpoint-in-public-subnet", practice = EndpointAccess, severity = Medium,
    title = "Managed endpoint is placed in public subnets",
}

impl Rule for EndpointPublicSubnet {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for en in endpoints(cx.index) {
            let mut public = Vec::new();
            let mut steps = Vec::new();
            let mut locs = Vec::new();
            for (id, subnet) in &en.subnets {
                let Some((rt, explicit)) = cx.index.route_table_for_subnet(id) else {
                    continue;
                };
                let Some(route) = rt.internet_route() else {
                    continue;
                };
                let dest = route
                    .destination_cidr_block
                    .as_deref()
                    .or(route.destination_ipv6_cidr_block.as_deref())
                    .unwrap_or("0.0.0.0/0");
                let igw = route.gateway_id.as_deref().unwrap_or("igw-?");
                let name = subnet
                    .and_then(|s| tag(&s.tags, "Name"))
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let how = if explicit {
                    format!(
                        "explicitly associated with route table `{}`",
                        rt.route_table_id
                    )
                } else {
                    format!(
                        "has no explicit route-table association, so it uses the VPC's main route table `{}`",
                        rt.route_table_id
                    )
                };
                public.push(format!(
                    "`{id}`{name} {how}, which routes {dest} to internet gateway `{igw}`"
                ));
                steps.push(
                    PathStep::from_ref(&Ref::new(Kind::Subnet, id.clone())).detail(if explicit {
                        "explicit association"
                    } else {
                        "main route table (implicit)"
                    }),
                );
                steps.push(
                    PathStep::from_ref(&Ref::new(Kind::RouteTable, rt.route_table_id.clone()))
                        .detail(format!("{dest} -> {igw}")),
                );
                if let Some(s) = subnet {
                    locs.push(s.loc.clone());
                }
                locs.push(rt.loc.clone());
            }
            if public.is_empty() {
                continue;
            }
            let mut b = self
                .finding(crate::infra::jobs::endpoint_ref(en.ep))
                .namespace(en.namespace())
                .virtual_cluster(Some(en.vc.id.as_str()))
                .message(format!(
                    "{} is placed in public subnets: subnet {}.",
                    crate::infra::jobs::capitalise(&en.describe()),
                    public.join("; subnet ")
                ))
                .remediation(format!(
                    "Recreate endpoint `{}` with private `subnetIds` (default route to a NAT gateway), and give every subnet an explicit association with a private route table (`aws ec2 associate-route-table --route-table-id rtb-PRIVATE --subnet-id SUBNET`); keep the main route table without an internet-gateway route.",
                    en.ep.name
                ))
                .step(en.step())
                .location(&en.ep.loc);
            for s in steps {
                b = b.step(s);
            }
            for l in &locs {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

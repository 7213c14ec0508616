use crate::infra::net::{elb_host_scheme, endpoints, lb_match_text, lb_ref};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// Live managed (interactive) endpoints whose load balancer is `internet-facing`. The load
    /// balancer is found in `aws elbv2 describe-load-balancers` by the endpoint's security group
    /// (`endpoint.securityGroup`), by the DNS name in its `serverUrl`, or by a tag naming the
    /// endpoint id. When no load balancer of the snapshot matches, the `serverUrl` host is
    /// judged by its name: ELB gives internal load balancers DNS names that start with
    /// `internal-`, so an `*.elb.amazonaws.com` host without that prefix is internet-facing.
    ///
    /// ## Why it matters
    /// EMR on EKS creates interactive endpoints for EMR Studio, which reaches them from inside
    /// the VPC; AWS documents them as HTTPS endpoints in private subnets behind an internal
    /// Application Load Balancer. An internet-facing load balancer puts the Jupyter Enterprise
    /// Gateway, and every kernel running with the endpoint's execution role, one leaked
    /// session token away from anyone on the internet.
    ///
    /// ## Example
    /// ```json
    /// {"LoadBalancers": [{"LoadBalancerName": "k8s-sparksha-adhocnot-2d13252035",
    ///   "DNSName": "k8s-sparksha-adhocnot-2d13252035-1871289147.us-west-2.elb.amazonaws.com",
    ///   "Scheme": "internet-facing", "SecurityGroups": ["sg-082d09e57868a708e"]}]}
    /// ```
    ///
    /// ## Remediation
    /// Recreate the endpoint so that its load balancer is internal: the EKS cluster needs
    /// private subnets tagged `kubernetes.io/role/internal-elb=1` for the AWS Load Balancer
    /// Controller, and the endpoint's `subnetIds` must be private. Delete the old endpoint
    /// (`aws emr-containers delete-managed-endpoint --id ID --virtual-cluster-id VC`) and
    /// create a new one (`aws emr-containers create-managed-endpoint ...`).
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Prerequisites for interactive endpoints" (private subnet, internal ALB)
    /// - EMR on EKS security best practices, "Managed endpoints"
    /// - Elastic Load Balancing, "Internal load balancers" (DNS names prefixed `internal-`)
    pub struct EndpointInternetFacing;
    id = "NET004", name = "managed-endpoint-internet-facing", practice = EndpointAccess, severity = High,
    title = "Managed endpoint is behind an internet-facing load balancer",
}

impl Rule for EndpointInternetFacing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for en in endpoints(cx.index) {
            let ep = en.ep;
            let resource = crate::infra::jobs::endpoint_ref(ep);
            let ns = en.namespace();
            let mut found_lb = false;
            for (lb, how) in &en.lbs {
                found_lb = true;
                if !lb.is_internet_facing() {
                    continue;
                }
                let lref = lb_ref(lb);
                out.push(
                    self.finding(resource.clone())
                        .namespace(ns)
                        .virtual_cluster(Some(en.vc.id.as_str()))
                        .discriminator(lb.load_balancer_arn.clone())
                        .message(format!(
                            "The load balancer `{}` of {} is internet-facing (Scheme `{}`; {}). Anyone on the internet can reach the endpoint at {}.",
                            lb.load_balancer_name,
                            en.describe(),
                            lb.scheme,
                            lb_match_text(*how),
                            ep.server_url.as_deref().unwrap_or(&lb.dns_name)
                        ))
                        .remediation(format!(
                            "Recreate the endpoint with an internal load balancer in private subnets: tag the private subnets `kubernetes.io/role/internal-elb=1`, then `aws emr-containers delete-managed-endpoint --id {} --virtual-cluster-id {}` and `aws emr-containers create-managed-endpoint --virtual-cluster-id {} --name {} --type {} --release-label {} --execution-role-arn {} ...`.",
                            ep.id,
                            ep.virtual_cluster_id,
                            ep.virtual_cluster_id,
                            ep.name,
                            ep.endpoint_type.as_deref().unwrap_or("JUPYTER_ENTERPRISE_GATEWAY"),
                            ep.release_label.as_deref().unwrap_or("RELEASE"),
                            ep.execution_role_arn.as_deref().unwrap_or("ROLE_ARN"),
                        ))
                        .step(en.step().detail(format!(
                            "serverUrl = {}",
                            ep.server_url.as_deref().unwrap_or("")
                        )))
                        .step(PathStep::from_ref(&lref).detail(format!("Scheme = {}", lb.scheme)))
                        .location(&ep.loc)
                        .location(&lb.loc)
                        .build(),
                );
            }
            if found_lb {
                continue;
            }
            // No load balancer in the snapshot: judge the serverUrl (and authProxyUrl) host.
            for url in [ep.server_url.as_deref(), ep.auth_proxy_url.as_deref()]
                .into_iter()
                .flatten()
            {
                let Some((host, internal)) = elb_host_scheme(url) else {
                    continue;
                };
                if internal {
                    continue;
                }
                out.push(
                    self.finding(resource.clone())
                        .namespace(ns)
                        .virtual_cluster(Some(en.vc.id.as_str()))
                        .discriminator(host.to_ascii_lowercase())
                        .message(format!(
                            "{} is served at {url}, whose load balancer host name `{host}` lacks the `internal-` prefix ELB gives internal load balancers: the load balancer is internet-facing (it is not in the snapshot's describe-load-balancers output to confirm).",
                            crate::infra::jobs::capitalise(&en.describe())
                        ))
                        .remediation(format!(
                            "Confirm with `aws elbv2 describe-load-balancers` (Scheme), then recreate the endpoint with an internal load balancer in private subnets (`aws emr-containers delete-managed-endpoint --id {} --virtual-cluster-id {}`, then create-managed-endpoint).",
                            ep.id, ep.virtual_cluster_id
                        ))
                        .step(en.step().detail(format!("endpoint URL = {url}")))
                        .step(PathStep::from_ref(&Ref::new(Kind::LoadBalancer, host)).detail("host name without `internal-` prefix"))
                        .location(&ep.loc)
                        .build(),
                );
            }
        }
        out
    }
}

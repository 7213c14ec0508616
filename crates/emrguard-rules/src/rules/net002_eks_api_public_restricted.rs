use super::net001_eks_api_public_world::{is_public, world_cidrs};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// EKS clusters whose API endpoint is public but restricted to chosen CIDRs
    /// (`publicAccessCidrs` without `0.0.0.0/0` or `::/0`). A low-severity note: the endpoint is
    /// still reachable from outside the VPC, from the listed networks.
    ///
    /// ## Why it matters
    /// Allow-listed public endpoints are a reasonable compromise, but the list drifts: office
    /// ranges change hands, CI runners move, and every CIDR on it is a place from which a leaked
    /// credential works. A private endpoint removes the question.
    ///
    /// ## Example
    /// ```json
    /// {"cluster": {"resourcesVpcConfig": {"endpointPublicAccess": true,
    ///   "publicAccessCidrs": ["203.0.113.0/24"]}}}
    /// ```
    ///
    /// ## Remediation
    /// Prefer `endpointPublicAccess=false` with private access through the VPC (VPN, Direct
    /// Connect, a bastion). If public access must stay, review `publicAccessCidrs` regularly;
    /// list your networks in `emrguard.toml` under `[endpoints] allowed_cidrs` to record the
    /// decision.
    ///
    /// ## References
    /// - EKS user guide, "Cluster API server endpoint"
    pub struct EksApiPublicRestricted;
    id = "NET002", name = "eks-api-endpoint-public-restricted", practice = EndpointAccess, severity = Low,
    title = "EKS API endpoint is public (restricted to chosen CIDRs)",
}

impl Rule for EksApiPublicRestricted {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let allowed = &cx.config.endpoints.allowed_cidrs;
        let mut out = Vec::new();
        for c in &cx.index.snap.clusters {
            if !is_public(c) || !world_cidrs(c).is_empty() {
                continue;
            }
            let cidrs = &c.resources_vpc_config.public_access_cidrs;
            let undeclared: Vec<&String> = cidrs.iter().filter(|x| !allowed.contains(x)).collect();
            if undeclared.is_empty() {
                continue; // every CIDR is one the user declared as theirs
            }
            let resource = Ref::aws(Kind::EksCluster, c.name.clone(), Some(&c.arn));
            let list = cidrs.join(", ");
            out.push(
                self.finding(resource.clone())
                    .message(format!(
                        "The API endpoint of EKS cluster `{}` is public, restricted to {list}.",
                        c.name
                    ))
                    .remediation("Make the endpoint private, or review the allowed CIDRs and declare them in emrguard.toml ([endpoints] allowed_cidrs).")
                    .step(PathStep::from_ref(&resource).detail(format!("resourcesVpcConfig.publicAccessCidrs = {list}")))
                    .location(&c.loc)
                    .build(),
            );
        }
        out
    }
}

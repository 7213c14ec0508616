use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// EKS clusters whose Kubernetes API endpoint is public (`endpointPublicAccess: true`) and
    /// open to the whole internet: `publicAccessCidrs` contains `0.0.0.0/0` or `::/0`, or is
    /// empty (which EKS treats as `0.0.0.0/0`).
    ///
    /// ## Why it matters
    /// Every job submitter, EMR itself and any attacker holding a leaked credential reach the
    /// cluster's API from anywhere. The API server is the door to the EMR namespaces: a stolen
    /// kubeconfig or IAM key is immediately usable, and the endpoint is exposed to
    /// vulnerability scans and brute force.
    ///
    /// ## Example
    /// ```json
    /// {"cluster": {"name": "analytics", "resourcesVpcConfig": {
    ///   "endpointPublicAccess": true, "endpointPrivateAccess": false,
    ///   "publicAccessCidrs": ["0.0.0.0/0"]}}}
    /// ```
    ///
    /// ## Remediation
    /// Make the endpoint private, or restrict it to your networks:
    /// `aws eks update-cluster-config --name CLUSTER --resources-vpc-config endpointPrivateAccess=true,endpointPublicAccess=false`
    /// (or `publicAccessCidrs=203.0.113.0/24` to keep a restricted public endpoint).
    ///
    /// ## References
    /// - EKS user guide, "Cluster API server endpoint"
    /// - EKS best practices guide, "Make the EKS Cluster Endpoint private"
    pub struct EksApiPublicWorld;
    id = "NET001", name = "eks-api-endpoint-open-to-world", practice = EndpointAccess, severity = High,
    title = "EKS API endpoint is open to the internet",
}

/// `endpointPublicAccess` defaults to true when the output omits it.
pub(crate) fn is_public(c: &emrguard_model::aws::eks::Cluster) -> bool {
    c.resources_vpc_config
        .endpoint_public_access
        .unwrap_or(true)
}

pub(crate) fn world_cidrs(c: &emrguard_model::aws::eks::Cluster) -> Vec<String> {
    let cidrs = &c.resources_vpc_config.public_access_cidrs;
    if cidrs.is_empty() {
        return vec!["0.0.0.0/0 (default)".to_owned()];
    }
    cidrs
        .iter()
        .filter(|c| *c == "0.0.0.0/0" || *c == "::/0")
        .cloned()
        .collect()
}

impl Rule for EksApiPublicWorld {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in &cx.index.snap.clusters {
            if !is_public(c) {
                continue;
            }
            let world = world_cidrs(c);
            if world.is_empty() {
                continue;
            }
            let resource = Ref::aws(Kind::EksCluster, c.name.clone(), Some(&c.arn));
            out.push(
                self.finding(resource.clone())
                    .message(format!(
                        "The API endpoint of EKS cluster `{}` is public and admits {}. Anyone on the internet can reach the Kubernetes API that guards the EMR namespaces.",
                        c.name,
                        world.join(" and ")
                    ))
                    .remediation(format!(
                        "Disable public access (`aws eks update-cluster-config --name {} --resources-vpc-config endpointPrivateAccess=true,endpointPublicAccess=false`) or restrict `publicAccessCidrs` to your own networks.",
                        c.name
                    ))
                    .step(PathStep::from_ref(&resource).detail(format!("resourcesVpcConfig.publicAccessCidrs = {}", world.join(", "))))
                    .location(&c.loc)
                    .build(),
            );
        }
        out
    }
}

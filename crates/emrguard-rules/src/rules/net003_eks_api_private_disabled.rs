use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};

declare_rule! {
    /// ## What it checks
    /// EKS clusters with private endpoint access disabled (`endpointPrivateAccess: false`).
    ///
    /// ## Why it matters
    /// Without private access, nodes and pods inside the VPC talk to the API server over the
    /// public endpoint: traffic leaves the VPC, and the public endpoint cannot be closed without
    /// breaking the cluster. EMR's managed endpoints and jobs all depend on that API.
    ///
    /// ## Example
    /// ```json
    /// {"cluster": {"resourcesVpcConfig": {"endpointPublicAccess": true, "endpointPrivateAccess": false}}}
    /// ```
    ///
    /// ## Remediation
    /// `aws eks update-cluster-config --name CLUSTER --resources-vpc-config endpointPrivateAccess=true`
    ///
    /// ## References
    /// - EKS user guide, "Cluster API server endpoint"
    pub struct EksApiPrivateDisabled;
    id = "NET003", name = "eks-api-private-access-disabled", practice = EndpointAccess, severity = Medium,
    title = "EKS API private endpoint access is disabled",
}

impl Rule for EksApiPrivateDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in &cx.index.snap.clusters {
            // Absent means the EKS default, which is private access off.
            if c.resources_vpc_config
                .endpoint_private_access
                .unwrap_or(false)
            {
                continue;
            }
            let resource = Ref::aws(Kind::EksCluster, c.name.clone(), Some(&c.arn));
            out.push(
                self.finding(resource.clone())
                    .message(format!(
                        "EKS cluster `{}` has private endpoint access disabled: nodes and pods reach the API server over its public endpoint.",
                        c.name
                    ))
                    .remediation(format!(
                        "aws eks update-cluster-config --name {} --resources-vpc-config endpointPrivateAccess=true",
                        c.name
                    ))
                    .step(PathStep::from_ref(&resource).detail("resourcesVpcConfig.endpointPrivateAccess = false"))
                    .location(&c.loc)
                    .build(),
            );
        }
        out
    }
}

//! Endpoint access: the EKS API endpoint (NET001/NET003). Managed-endpoint security groups are
//! [`super::sg_ingress`].
//!
//! - EKS API: private access on; public access off, or limited to the networks declared in
//!   emrguard.toml `[endpoints] allowed_cidrs` when there are some. Nodes and pods then reach
//!   the API inside the VPC; people reach it from the declared networks (or a bastion / VPN),
//!   which is the EKS best-practices guide's recommendation.

use super::Fixer;
use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use serde_json::json;

pub const FIXER: Fixer = Fixer {
    rules: &["NET001", "NET003"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out = Vec::new();
    let declared = fcx.cx.config.endpoints.allowed_cidrs.clone();
    let api: Vec<&Finding> = findings.to_vec();
    if !api.is_empty() {
        if let Some(c) = fcx.cx.index.snap.clusters.first() {
            let cfg = if declared.is_empty() {
                "endpointPrivateAccess=true,endpointPublicAccess=false".to_owned()
            } else {
                format!(
                    "endpointPrivateAccess=true,endpointPublicAccess=true,publicAccessCidrs={}",
                    declared.join(",")
                )
            };
            let mut edits = vec![
                Edit::at(
                    &c.loc,
                    "/resourcesVpcConfig/endpointPrivateAccess",
                    Op::Set(json!(true)),
                ),
                Edit::at(
                    &c.loc,
                    "/resourcesVpcConfig/endpointPublicAccess",
                    Op::Set(json!(!declared.is_empty())),
                ),
            ];
            if !declared.is_empty() {
                edits.push(Edit::at(
                    &c.loc,
                    "/resourcesVpcConfig/publicAccessCidrs",
                    Op::Set(json!(declared)),
                ));
            }
            out.push(Fix {
                findings: api.iter().map(|f| f.id.clone()).collect(),
                title: format!("EKS API endpoint of `{}`: private{}", c.name, if declared.is_empty() { " only" } else { ", public from the declared networks" }),
                details: vec![format!("`{cfg}`.")],
                decisions: if declared.is_empty() {
                    vec!["Everyone who runs kubectl from outside the VPC loses access: declare their networks in emrguard.toml `[endpoints] allowed_cidrs` (then the fix keeps public access from those only), or give them a VPN/bastion.".into()]
                } else {
                    Vec::new()
                },
                artifacts: Vec::new(),
                commands: vec![format!("aws eks update-cluster-config --name {} --resources-vpc-config {}", sh(&c.name), sh(&cfg))],
                edits,
            });
        }
    }
    out
}

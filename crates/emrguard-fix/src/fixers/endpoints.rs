//! Endpoint access (NET001/NET003 the EKS API endpoint, NET006 managed-endpoint security
//! groups open to the world).
//!
//! - EKS API: private access on; public access off, or limited to the networks declared in
//!   emrguard.toml `[endpoints] allowed_cidrs` when there are some. Nodes and pods then reach
//!   the API inside the VPC; people reach it from the declared networks (or a bastion / VPN),
//!   which is the EKS best-practices guide's recommendation.
//! - Security groups: the world-wide sources (`0.0.0.0/0`, `::/0`) are revoked; the declared
//!   networks, when there are some, are admitted on the same ports instead. Without declared
//!   networks the README asks which networks (EMR Studio's) should reach the endpoint. The
//!   permission itself stays in the snapshot (emptied), so the group's other findings keep
//!   their ids.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::Finding;
use serde_json::{json, Value};

pub const FIXER: Fixer = Fixer {
    rules: &["NET001", "NET003", "NET006"],
    run,
};

const WORLD: [&str; 2] = ["0.0.0.0/0", "::/0"];

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let mut out = Vec::new();
    let declared = fcx.cx.config.endpoints.allowed_cidrs.clone();
    let api: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.rule != "NET006")
        .collect();
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
    for f in findings.iter().filter(|f| f.rule == "NET006") {
        let Some(g) = fcx.cx.index.security_group(&f.resource.name) else {
            continue;
        };
        let Some(pi) = discriminator_index(f, g) else {
            continue;
        };
        let Some(p) = g.ip_permissions.get(pi) else {
            continue;
        };
        let revoke = json!([{
            "IpProtocol": p.ip_protocol,
            "FromPort": p.from_port,
            "ToPort": p.to_port,
            "IpRanges": p.ip_ranges.iter().filter(|r| WORLD.contains(&r.cidr_ip.as_str())).map(|r| json!({"CidrIp": r.cidr_ip})).collect::<Vec<_>>(),
            "Ipv6Ranges": p.ipv6_ranges.iter().filter(|r| WORLD.contains(&r.cidr_ipv6.as_str())).map(|r| json!({"CidrIpv6": r.cidr_ipv6})).collect::<Vec<_>>(),
        }]);
        let id = &g.group_id;
        let ports = match (p.from_port, p.to_port) {
            (Some(a), Some(b)) if a == b => format!("{a}"),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "all".to_owned(),
        };
        let path = format!("artifacts/ec2/{}-revoke-{pi}.json", crate::file_name(id));
        let mut commands = vec![format!(
            "aws ec2 revoke-security-group-ingress --group-id {} --ip-permissions file://{path}",
            sh(id)
        )];
        let keep_v4: Vec<Value> =
            p.ip_ranges
                .iter()
                .filter(|r| !WORLD.contains(&r.cidr_ip.as_str()))
                .filter_map(|r| serde_json::to_value(r).ok())
                .chain(declared.iter().map(
                    |c| json!({"CidrIp": c, "Description": "declared network (emrguard.toml)"}),
                ))
                .collect();
        let keep_v6: Vec<Value> = p
            .ipv6_ranges
            .iter()
            .filter(|r| !WORLD.contains(&r.cidr_ipv6.as_str()))
            .filter_map(|r| serde_json::to_value(r).ok())
            .collect();
        for c in &declared {
            commands.push(format!(
                "aws ec2 authorize-security-group-ingress --group-id {} --protocol {} --port {ports} --cidr {}",
                sh(id), sh(&p.ip_protocol), sh(c)
            ));
        }
        let edits = vec![
            Edit::at(
                &g.loc,
                &format!("/IpPermissions/{pi}/IpRanges"),
                Op::Set(json!(keep_v4)),
            ),
            Edit::at(
                &g.loc,
                &format!("/IpPermissions/{pi}/Ipv6Ranges"),
                Op::Set(json!(keep_v6)),
            ),
        ];
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("Security group `{id}`: no world-wide source on {} {ports}", p.ip_protocol),
            details: vec![if declared.is_empty() {
                "The world-wide sources are revoked.".to_owned()
            } else {
                format!("The world-wide sources are replaced by the declared networks {}.", declared.join(", "))
            }],
            decisions: if declared.is_empty() {
                vec!["No networks are declared (emrguard.toml `[endpoints] allowed_cidrs`): admit the EMR Studio / notebook networks that need the endpoint.".into()]
            } else {
                Vec::new()
            },
            artifacts: vec![Artifact { path, contents: json(&revoke) }],
            commands,
            edits,
        });
    }
    out
}

/// Which permission of `g` a NET006 finding is about: the rule's discriminator is
/// `index:ports`, so the index whose discriminator gives the finding's id.
fn discriminator_index(f: &Finding, g: &emrguard_model::aws::ec2::SecurityGroup) -> Option<usize> {
    g.ip_permissions
        .iter()
        .enumerate()
        .find_map(|(i, p)| crate::is_about(f, &format!("{i}:{}", p.ports())).then_some(i))
}

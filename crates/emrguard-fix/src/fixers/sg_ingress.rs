//! Managed-endpoint security groups (NET006 a world-wide source, NET007 a wide CIDR, NET008 a
//! CIDR outside the declared networks), one change per permission so that the three never
//! write the same rule twice.
//!
//! - World-wide sources are revoked; the declared networks (emrguard.toml `[endpoints]
//!   allowed_cidrs`) are admitted on the same ports instead. Without declared networks the
//!   README asks which networks (EMR Studio's) should reach the endpoint: the world is never
//!   the answer.
//! - A wide or undeclared CIDR is revoked only when networks are declared: then the
//!   declaration says who should reach the endpoint, and the declared networks take its place.
//!   Without a declaration a wide internal range may be the intended one, so NET007 is left to
//!   a person (declare it, or narrow it).
//!
//! The permission stays in the snapshot (its sources narrowed), so the group's other findings,
//! whose ids hold the permission's index, keep their ids.

use super::Fixer;
use crate::{json, sh, Artifact, Edit, Fix, FixContext, Op};
use emrguard_model::aws::ec2::IpPermission;
use emrguard_model::Finding;
use emrguard_rules::infra::net::{cidr_prefix, ipv4_contains, world_sources};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    rules: &["NET006", "NET007", "NET008"],
    run,
};

/// Whether `cidr` is one of the declared networks (or inside a declared IPv4 network), as the
/// rules judge it.
fn declared(cidr: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a == cidr || (!a.contains(':') && !cidr.contains(':') && ipv4_contains(a, cidr)))
}

fn is_world(cidr: &str, prefix: u8) -> bool {
    prefix == 0 || cidr.eq_ignore_ascii_case("2000::/3")
}

/// `(wide, undeclared)` CIDR sources of a permission, as NET007 and NET008 list them.
fn judged(p: &IpPermission, min4: u8, allowed: &[String]) -> (Vec<String>, Vec<String>) {
    let all = p
        .ip_ranges
        .iter()
        .map(|r| r.cidr_ip.as_str())
        .chain(p.ipv6_ranges.iter().map(|r| r.cidr_ipv6.as_str()));
    let (mut wide, mut odd) = (Vec::new(), Vec::new());
    for c in all {
        let Some((v6, l)) = cidr_prefix(c) else {
            continue;
        };
        if is_world(c, l) || declared(c, allowed) {
            continue;
        }
        if (v6 && l < 32) || (!v6 && l < min4) {
            wide.push(c.to_owned());
        } else {
            odd.push(c.to_owned());
        }
    }
    (wide, odd)
}

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let cfg = &fcx.cx.config.endpoints;
    let declared_nets = cfg.allowed_cidrs.clone();
    // Per (group, permission): the findings and the sources they revoke.
    let mut per: BTreeMap<(String, usize), (Vec<String>, BTreeSet<String>)> = BTreeMap::new();
    for f in findings {
        let Some(g) = fcx.cx.index.security_group(&f.resource.name) else {
            continue;
        };
        for (pi, p) in g.ip_permissions.iter().enumerate() {
            let (wide, odd) = judged(p, cfg.min_ipv4_prefix_length, &declared_nets);
            let revoke: Option<Vec<String>> = match f.rule.as_str() {
                "NET006" if crate::is_about(f, &format!("{pi}:{}", p.ports())) => {
                    Some(world_sources(p))
                }
                "NET007"
                    if !declared_nets.is_empty()
                        && crate::is_about(f, &format!("{pi}:{}", wide.join(","))) =>
                {
                    Some(wide)
                }
                "NET008" if crate::is_about(f, &format!("{pi}:{}", odd.join(","))) => Some(odd),
                _ => None,
            };
            if let Some(r) = revoke {
                let e = per.entry((g.group_id.clone(), pi)).or_default();
                e.0.push(f.id.clone());
                e.1.extend(r);
                break;
            }
        }
    }
    let mut out = Vec::new();
    for ((id, pi), (ids, revoke)) in per {
        let Some(g) = fcx.cx.index.security_group(&id) else {
            continue;
        };
        let Some(p) = g.ip_permissions.get(pi) else {
            continue;
        };
        out.push(permission_fix(p, g, pi, ids, &revoke, &declared_nets));
    }
    out
}

/// The permission `p` with only its protocol and ports, and `ranges` as its sources.
fn permission_json(p: &IpPermission, v4: Vec<Value>, v6: Vec<Value>) -> Value {
    let mut m = json!({"IpProtocol": p.ip_protocol});
    if let Some(a) = p.from_port {
        crate::put(&mut m, "/FromPort", json!(a));
    }
    if let Some(b) = p.to_port {
        crate::put(&mut m, "/ToPort", json!(b));
    }
    if !v4.is_empty() {
        crate::put(&mut m, "/IpRanges", json!(v4));
    }
    if !v6.is_empty() {
        crate::put(&mut m, "/Ipv6Ranges", json!(v6));
    }
    json!([m])
}

fn permission_fix(
    p: &IpPermission,
    g: &emrguard_model::Located<emrguard_model::aws::ec2::SecurityGroup>,
    pi: usize,
    ids: Vec<String>,
    revoke: &BTreeSet<String>,
    declared_nets: &[String],
) -> Fix {
    let id = &g.group_id;
    let ports = p.ports();
    let gone = |c: &str| revoke.contains(c);
    let present: BTreeSet<&str> = p
        .ip_ranges
        .iter()
        .map(|r| r.cidr_ip.as_str())
        .chain(p.ipv6_ranges.iter().map(|r| r.cidr_ipv6.as_str()))
        .filter(|c| !gone(c))
        .collect();
    let admit: Vec<&String> = declared_nets
        .iter()
        .filter(|c| !present.contains(c.as_str()))
        .collect();
    let desc = "declared network (emrguard.toml)";
    let revoke_doc = permission_json(
        p,
        p.ip_ranges
            .iter()
            .filter(|r| gone(&r.cidr_ip))
            .map(|r| json!({"CidrIp": r.cidr_ip}))
            .collect(),
        p.ipv6_ranges
            .iter()
            .filter(|r| gone(&r.cidr_ipv6))
            .map(|r| json!({"CidrIpv6": r.cidr_ipv6}))
            .collect(),
    );
    let (admit4, admit6): (Vec<&String>, Vec<&String>) =
        admit.iter().partition(|c| !c.contains(':'));
    let admit_doc = permission_json(
        p,
        admit4
            .iter()
            .map(|c| json!({"CidrIp": c, "Description": desc}))
            .collect(),
        admit6
            .iter()
            .map(|c| json!({"CidrIpv6": c, "Description": desc}))
            .collect(),
    );
    let base = crate::file_name(id);
    let revoke_path = format!("artifacts/ec2/{base}-revoke-{pi}.json");
    let admit_path = format!("artifacts/ec2/{base}-authorize-{pi}.json");
    let mut artifacts = vec![Artifact {
        path: revoke_path.clone(),
        contents: json(&revoke_doc),
    }];
    let mut commands = vec![format!(
        "aws ec2 revoke-security-group-ingress --group-id {} --ip-permissions file://{revoke_path}",
        sh(id)
    )];
    if !admit.is_empty() {
        artifacts.push(Artifact {
            path: admit_path.clone(),
            contents: json(&admit_doc),
        });
        commands.push(format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --ip-permissions file://{admit_path}",
            sh(id)
        ));
    }
    let keep_v4: Vec<Value> = p
        .ip_ranges
        .iter()
        .filter(|r| !gone(&r.cidr_ip))
        .filter_map(|r| serde_json::to_value(r).ok())
        .chain(
            admit4
                .iter()
                .map(|c| json!({"CidrIp": c, "Description": desc})),
        )
        .collect();
    let keep_v6: Vec<Value> = p
        .ipv6_ranges
        .iter()
        .filter(|r| !gone(&r.cidr_ipv6))
        .filter_map(|r| serde_json::to_value(r).ok())
        .chain(
            admit6
                .iter()
                .map(|c| json!({"CidrIpv6": c, "Description": desc})),
        )
        .collect();
    let revoked: Vec<&str> = revoke.iter().map(String::as_str).collect();
    Fix {
        findings: ids,
        title: if declared_nets.is_empty() {
            format!("Security group `{id}`: no world-wide source on {ports}")
        } else {
            format!("Security group `{id}`: {ports} only from the declared networks")
        },
        details: vec![if declared_nets.is_empty() {
            format!("Revoked: {}.", revoked.join(", "))
        } else {
            format!(
                "Revoked: {}; the declared networks {} are admitted instead.",
                revoked.join(", "),
                declared_nets.join(", ")
            )
        }],
        decisions: if declared_nets.is_empty() {
            vec!["No networks are declared (emrguard.toml `[endpoints] allowed_cidrs`): admit the EMR Studio / notebook networks that need the endpoint.".into()]
        } else {
            Vec::new()
        },
        artifacts,
        commands,
        edits: vec![
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
        ],
    }
}

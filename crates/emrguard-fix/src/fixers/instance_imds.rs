//! NODE002: an EKS node outside the described node groups (self-managed, Karpenter) whose pods
//! can reach the instance metadata service.
//!
//! The instance's metadata options change in place (`modify-instance-metadata-options
//! --http-tokens required --http-put-response-hop-limit 1`): IMDSv2 only, and its token cannot
//! cross the extra hop into a pod's network namespace, the EKS best-practices setting. It
//! takes effect at once, without a reboot. The nodes that replace it come from its launch
//! template or Karpenter `EC2NodeClass`, which emrguard cannot see whole here: the README asks
//! for the same settings there (`metadataOptions` in the EC2NodeClass, `MetadataOptions` in the
//! launch template), or new nodes come back open.

use super::Fixer;
use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::aws::ec2::tag;
use emrguard_model::Finding;
use serde_json::json;

pub const FIXER: Fixer = Fixer {
    rules: &["NODE002"],
    run,
};

fn run(fcx: &FixContext<'_, '_, '_>, findings: &[&Finding]) -> Vec<Fix> {
    let snap = fcx.cx.index.snap;
    let mut out = Vec::new();
    for f in findings {
        let Some(i) = snap
            .instances
            .iter()
            .find(|i| i.instance_id == f.resource.name)
        else {
            continue;
        };
        let source = tag(&i.tags, "karpenter.sh/nodepool")
            .map(|p| format!("the EC2NodeClass of Karpenter node pool `{p}` (`metadataOptions: {{httpTokens: required, httpPutResponseHopLimit: 1}}`)"))
            .or_else(|| {
                tag(&i.tags, "aws:ec2launchtemplate:id")
                    .map(|lt| format!("launch template `{lt}` (a new default version with `MetadataOptions` `HttpTokens: required`, `HttpPutResponseHopLimit: 1`)"))
            })
            .unwrap_or_else(|| "whatever launches these nodes (launch template, Auto Scaling group, node class)".to_owned());
        out.push(Fix {
            findings: vec![f.id.clone()],
            title: format!("Instance `{}`: IMDSv2 only, hop limit 1", i.instance_id),
            details: vec![
                "`HttpTokens: required`, `HttpPutResponseHopLimit: 1`, changed in place (no reboot).".into(),
            ],
            decisions: vec![
                format!("Set the same in {source}, or the nodes that replace this one come back open."),
                "Pods that need the node's credentials must use IRSA or Pod Identity first.".into(),
            ],
            artifacts: Vec::new(),
            commands: vec![format!(
                "aws ec2 modify-instance-metadata-options --instance-id {} --http-tokens required --http-put-response-hop-limit 1 --http-endpoint enabled",
                sh(&i.instance_id)
            )],
            edits: vec![
                Edit::at(&i.loc, "/MetadataOptions/HttpTokens", Op::Set(json!("required"))),
                Edit::at(
                    &i.loc,
                    "/MetadataOptions/HttpPutResponseHopLimit",
                    Op::Set(json!(1)),
                ),
                Edit::at(&i.loc, "/MetadataOptions/HttpEndpoint", Op::Set(json!("enabled"))),
            ],
        });
    }
    out
}

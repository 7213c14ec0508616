//! The fixers, one module per practice. Each takes the open findings of its rules and returns
//! one [`Fix`](crate::Fix) per cause (a role, a binding, a launch template ...), claiming every
//! finding that change closes.

use crate::{Fix, FixContext};
use emrguard_model::Finding;

pub mod endpoints;
pub mod exec_policy;
pub mod images;
pub mod nodes;
pub mod pod_creds;
pub mod rbac;
pub mod rbac_usage;
pub mod submitters;
pub mod trust;
pub mod workloads;

/// A fixer: the rules whose findings it closes, and the function that plans the fixes.
pub struct Fixer {
    pub rules: &'static [&'static str],
    pub run: fn(&FixContext<'_, '_, '_>, &[&Finding]) -> Vec<Fix>,
}

/// Every fixer, in the order their fixes are written to `apply.sh`.
pub const ALL: &[Fixer] = &[
    trust::FIXER,
    exec_policy::FIXER,
    rbac::FIXER,
    pod_creds::FIXER,
    images::FIXER,
    nodes::FIXER,
    endpoints::FIXER,
    workloads::FIXER,
    submitters::FIXER,
];

/// Whether the plan deletes the Pod Identity associations of `role_arn` (a POD004 finding
/// names them: the role's jobs run releases that cannot use them).
pub fn pod_identity_dropped(fcx: &FixContext<'_, '_, '_>, role_arn: &str) -> bool {
    fcx.findings.iter().any(|f| {
        f.rule == "POD004"
            && f.path.iter().any(|s| {
                s.kind == "PodIdentityAssociation"
                    && s.detail
                        .as_deref()
                        .is_some_and(|d| d.ends_with(&format!("-> {role_arn}")))
            })
    })
}

/// Why a finding of `rule` has no mechanical fix (README's last section).
pub fn why_not(rule: &str) -> &'static str {
    match rule {
        "POD006" => "the finding is history (CloudTrail): the node-credential fixes stop it from recurring; review the listed calls",
        "TEN001" | "TEN002" => "splitting a namespace (new namespace, virtual cluster, trust and submitter permissions) is a design decision",
        "RBAC015" => "an IAM principal mapped to system:masters is an administrator or a mistake: declare it under [administrators] or remove the mapping",
        "NET001" | "NET002" | "NET003" => "the EKS API endpoint's access needs the networks that reach it; declare them in emrguard.toml [endpoints] allowed_cidrs",
        "IMG001" | "IMG002" | "IMG003" | "IMG007" => "moving jobs to a newer release needs a test run of the jobs",
        "IMG008" => "add `USER hadoop:hadoop` as the Dockerfile's last instruction and rebuild (emrguard does not patch Dockerfiles: their findings are keyed on the file's content)",
        "IMG009" | "IMG010" => "the Dockerfile's downloads and secrets need a person (pin a checksum, move secrets out and rotate them)",
        _ => "no fixer for this rule yet",
    }
}

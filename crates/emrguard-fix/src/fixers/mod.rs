//! The fixers, one module per practice. Each takes the open findings of its rules and returns
//! one [`Fix`](crate::Fix) per cause (a role, a binding, a launch template ...), claiming every
//! finding that change closes.

use crate::{sh, Edit, Fix, FixContext, Op};
use emrguard_model::{aws::iam::Role, Finding, Located};

/// Detach the `i`-th attached managed policy (`arn`) of `role`: the command and the edit of
/// the snapshot copy.
pub(crate) fn detach_managed_policy(role: &Located<Role>, i: usize, arn: &str) -> (String, Edit) {
    (
        format!(
            "aws iam detach-role-policy --role-name {} --policy-arn {}",
            sh(&role.role_name),
            sh(arn)
        ),
        Edit::at(
            &role.loc,
            &format!("/AttachedManagedPolicies/{i}"),
            Op::Remove,
        ),
    )
}

pub mod dangling_binding;
pub mod dockerfile;
pub mod emr_job_policy_scope;
pub mod endpoints;
pub mod exec_policy;
pub mod images;
pub mod instance_imds;
pub mod nodegroup_replace;
pub mod nodes;
pub mod pod_creds;
pub mod rbac;
pub mod rbac_usage;
pub mod sg_ingress;
pub mod submitters;
pub mod system_masters;
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
    system_masters::FIXER,
    emr_job_policy_scope::FIXER,
    dangling_binding::FIXER,
    pod_creds::FIXER,
    images::FIXER,
    dockerfile::FIXER,
    nodes::FIXER,
    nodegroup_replace::FIXER,
    instance_imds::FIXER,
    endpoints::FIXER,
    sg_ingress::FIXER,
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
        "RBAC015" => "the principal is cluster-admin through the cluster creator's access (not a mapping emrguard can change): declare it under [administrators], or remove the creator's admin access (`bootstrapClusterCreatorAdminPermissions`) after granting admins explicitly",
        "NET007" => "a wide range admitted to an endpoint may be the intended network: declare the networks in emrguard.toml [endpoints] allowed_cidrs (then the range is replaced by them), or narrow it",
        "NET004" | "NET005" => "the endpoint's load balancer is placed by the AWS Load Balancer Controller from subnet tags (`kubernetes.io/role/internal-elb`), and CreateManagedEndpoint has no scheme or subnet parameter: tag the private subnets, untag the public ones, and recreate the endpoint",
        "NET001" | "NET002" | "NET003" => "the EKS API endpoint's access needs the networks that reach it; declare them in emrguard.toml [endpoints] allowed_cidrs",
        "IMG003" => "the image already pushed stays as it was built: rebuild it on the newest base (from the Dockerfile emrguard patches when the Dockerfile is in the snapshot), push it under a new tag and point the jobs, templates and endpoints at it after a test run",
        "IMG001" | "IMG002" => "job runs are history: the next submissions must name the newer release (or a job template on it) and a rebuilt image, after a test run of the jobs",
        "IMG006" | "IMG007" | "IMG008" | "IMG009" | "IMG010" => "the Dockerfile has a finding emrguard does not patch (a non-EMR base, an ADD with flags or several sources, a secret used outside RUN), and its findings are keyed on the file's content, so it is left whole to a person",
        "NODE001" | "NODE003" => "the node group has a custom AMI (its bootstrap user data belongs in a new launch template), or its launch template is not in the snapshot: a person writes the template",
        _ => "no fixer for this rule yet",
    }
}

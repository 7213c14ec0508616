//! Coverage: per practice, the input kinds its selected rules need and whether the snapshot had
//! them.
//!
//! # What "could not be evaluated" means
//!
//! Every rule declares (below, [`needs`]) the input kinds it reads. A *required* kind is one
//! without which the rule cannot say anything true about the estate; an *optional* one lets it
//! look at more places (or is the only input of a rule that most snapshots do not have, such
//! as Dockerfiles). Some requirements only apply when the snapshot has objects that call for
//! them: security groups, subnets, route tables and load balancers are required by the
//! endpoint rules only when managed endpoints exist; launch templates only when a node group
//! names one; job runs only when virtual clusters exist.
//!
//! An input kind is *present* when a file of that kind was read (an empty list counts: "no
//! managed endpoints" is an answer). Kubernetes kinds are present when objects of the kind were
//! read, or the collector log says the `kubectl get` of that kind succeeded (an empty list has
//! no kind of its own), or a `kubectl-get-<kind>` file was read. A kind whose every file is
//! malformed is *malformed*, which counts as absent.
//!
//! A rule is **not evaluated** when a required kind is absent or malformed: the run then exits
//! 2 (unless `--allow-partial`). A rule whose only inputs are optional and absent is
//! **skipped** (JUnit `<skipped/>`), which does not fail the run. A practice is *evaluated*
//! when all its selected rules are; *partial* when some optional input is missing or an input
//! it reads had unreadable parts; *not evaluated* when one of its selected rules is not.
//! Practices without a selected rule are *not selected* and never fail the run.

use emrguard_load::InputRecord;
use emrguard_model::collect::CollectLog;
use emrguard_model::{Practice, Snapshot};
use emrguard_report::{
    CollectorLog, Coverage, CoverageStatus, InputError, InputNeed, InputState, PracticeCoverage,
    RuleCoverage,
};
use emrguard_rules::Rule;
use std::collections::BTreeMap;

/// An input kind of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Iam,
    Oidc,
    Cluster,
    Nodegroups,
    AccessEntries,
    PodIdentity,
    Addons,
    VirtualClusters,
    Endpoints,
    JobRuns,
    SecurityGroups,
    Subnets,
    RouteTables,
    LaunchTemplates,
    Instances,
    LoadBalancers,
    EcrRepositories,
    EcrImages,
    CloudTrail,
    Iptables,
    Dockerfiles,
    Namespaces,
    Pods,
    ServiceAccounts,
    ConfigMaps,
    Roles,
    RoleBindings,
    ClusterRoles,
    ClusterRoleBindings,
    Workloads,
    MutatingWebhooks,
    FargateProfiles,
    NodeClasses,
    NodePools,
}

impl Kind {
    /// The name used in coverage lines (the loader's label for AWS kinds).
    fn name(self) -> &'static str {
        match self {
            Kind::Iam => "iam authorization details",
            Kind::Oidc => "iam oidc providers",
            Kind::Cluster => "eks cluster",
            Kind::Nodegroups => "eks node groups",
            Kind::AccessEntries => "eks access entries",
            Kind::PodIdentity => "eks pod identity associations",
            Kind::Addons => "eks add-ons",
            Kind::VirtualClusters => "emr virtual clusters",
            Kind::Endpoints => "emr managed endpoints",
            Kind::JobRuns => "emr job runs",
            Kind::SecurityGroups => "ec2 security groups",
            Kind::Subnets => "ec2 subnets",
            Kind::RouteTables => "ec2 route tables",
            Kind::LaunchTemplates => "ec2 launch template versions",
            Kind::Instances => "ec2 instances",
            Kind::LoadBalancers => "elbv2 load balancers",
            Kind::EcrRepositories => "ecr repositories",
            Kind::EcrImages => "ecr images",
            Kind::CloudTrail => "cloudtrail records",
            Kind::Iptables => "node iptables-save",
            Kind::Dockerfiles => "Dockerfiles",
            Kind::Namespaces => "kubernetes namespaces",
            Kind::Pods => "kubernetes pods",
            Kind::ServiceAccounts => "kubernetes serviceaccounts",
            Kind::ConfigMaps => "kubernetes configmaps",
            Kind::Roles => "kubernetes roles",
            Kind::RoleBindings => "kubernetes rolebindings",
            Kind::ClusterRoles => "kubernetes clusterroles",
            Kind::ClusterRoleBindings => "kubernetes clusterrolebindings",
            Kind::Workloads => "kubernetes workloads",
            Kind::MutatingWebhooks => "kubernetes mutatingwebhookconfigurations",
            Kind::FargateProfiles => "eks fargate profiles",
            Kind::NodeClasses => "karpenter ec2nodeclasses",
            Kind::NodePools => "karpenter nodepools",
        }
    }

    /// The loader's `recognised_as` labels of the kind (AWS and node kinds).
    fn labels(self) -> &'static [&'static str] {
        match self {
            Kind::Iam => &["iam authorization details"],
            Kind::Oidc => &["iam oidc providers"],
            Kind::Cluster => &["eks cluster"],
            Kind::Nodegroups => &["eks node group", "eks node group list"],
            Kind::AccessEntries => &[
                "eks access entry",
                "eks access entry list",
                "eks associated access policies",
            ],
            Kind::PodIdentity => &[
                "eks pod identity association",
                "eks pod identity associations",
            ],
            Kind::Addons => &["eks add-on"],
            Kind::VirtualClusters => &["emr virtual clusters"],
            Kind::Endpoints => &["emr managed endpoints"],
            Kind::JobRuns => &["emr job runs"],
            Kind::SecurityGroups => &["ec2 security groups"],
            Kind::Subnets => &["ec2 subnets"],
            Kind::RouteTables => &["ec2 route tables"],
            Kind::LaunchTemplates => &["ec2 launch template versions"],
            Kind::Instances => &["ec2 instances"],
            Kind::LoadBalancers => &["elbv2 load balancers"],
            Kind::EcrRepositories => &["ecr repositories"],
            Kind::EcrImages => &["ecr images"],
            Kind::CloudTrail => &["cloudtrail records"],
            Kind::Iptables => &["iptables-save"],
            Kind::Dockerfiles => &["Dockerfile"],
            Kind::FargateProfiles => &["eks fargate profile", "eks fargate profile list"],
            _ => &["kubernetes objects"],
        }
    }

    /// `kubectl get` resource names of a Kubernetes kind (empty for the others).
    fn kubectl(self) -> &'static [&'static str] {
        match self {
            Kind::Namespaces => &["namespaces"],
            Kind::Pods => &["pods"],
            Kind::ServiceAccounts => &["serviceaccounts"],
            Kind::ConfigMaps => &["configmaps"],
            Kind::Roles => &["roles", "rbac"],
            Kind::RoleBindings => &["rolebindings", "rbac"],
            Kind::ClusterRoles => &["clusterroles", "rbac"],
            Kind::ClusterRoleBindings => &["clusterrolebindings", "rbac"],
            Kind::Workloads => &[
                "deployments",
                "daemonsets",
                "statefulsets",
                "replicasets",
                "jobs",
                "cronjobs",
                "workloads",
            ],
            Kind::MutatingWebhooks => &["mutatingwebhookconfigurations"],
            Kind::NodeClasses => &["ec2nodeclasses"],
            Kind::NodePools => &["nodepools"],
            _ => &[],
        }
    }

    fn is_k8s(self) -> bool {
        !self.kubectl().is_empty()
    }

    /// The collector command that writes this kind (to tie log failures to it).
    fn command(self) -> &'static [&'static str] {
        match self {
            Kind::Iam => &["aws iam get-account-authorization-details"],
            Kind::Oidc => &["aws iam list-open-id-connect-providers"],
            Kind::Cluster => &["aws eks describe-cluster"],
            Kind::Nodegroups => &["aws eks list-nodegroups", "aws eks describe-nodegroup"],
            Kind::AccessEntries => &[
                "aws eks list-access-entries",
                "aws eks describe-access-entry",
                "aws eks list-associated-access-policies",
            ],
            Kind::PodIdentity => &[
                "aws eks list-pod-identity-associations",
                "aws eks describe-pod-identity-association",
            ],
            Kind::Addons => &["aws eks list-addons", "aws eks describe-addon"],
            Kind::VirtualClusters => &["aws emr-containers list-virtual-clusters"],
            Kind::Endpoints => &["aws emr-containers list-managed-endpoints"],
            Kind::JobRuns => &["aws emr-containers list-job-runs"],
            Kind::SecurityGroups => &["aws ec2 describe-security-groups"],
            Kind::Subnets => &["aws ec2 describe-subnets"],
            Kind::RouteTables => &["aws ec2 describe-route-tables"],
            Kind::LaunchTemplates => &["aws ec2 describe-launch-template-versions"],
            Kind::Instances => &["aws ec2 describe-instances"],
            Kind::LoadBalancers => &["aws elbv2 describe-load-balancers"],
            Kind::EcrRepositories => &["aws ecr describe-repositories"],
            Kind::EcrImages => &["aws ecr describe-images"],
            Kind::CloudTrail => &["cloudtrail"],
            Kind::FargateProfiles => &[
                "aws eks list-fargate-profiles",
                "aws eks describe-fargate-profile",
            ],
            _ => &[],
        }
    }

    fn count(self, s: &Snapshot) -> usize {
        let k = &s.k8s;
        match self {
            Kind::Iam => s.roles.len() + s.users.len() + s.groups.len() + s.policies.len(),
            Kind::Oidc => s.oidc_providers.len(),
            Kind::Cluster => s.clusters.len(),
            Kind::Nodegroups => s.nodegroups.len().max(s.nodegroup_names.len()),
            Kind::AccessEntries => s.access_entries.len().max(s.access_entry_arns.len()),
            Kind::PodIdentity => s.pod_identity_associations.len(),
            Kind::Addons => s.addons.len(),
            Kind::VirtualClusters => s.virtual_clusters.len(),
            Kind::Endpoints => s.endpoints.len(),
            Kind::JobRuns => s.job_runs.len(),
            Kind::SecurityGroups => s.security_groups.len(),
            Kind::Subnets => s.subnets.len(),
            Kind::RouteTables => s.route_tables.len(),
            Kind::LaunchTemplates => s.launch_template_versions.len(),
            Kind::Instances => s.instances.len(),
            Kind::LoadBalancers => s.load_balancers.len(),
            Kind::EcrRepositories => s.ecr_repositories.len(),
            Kind::EcrImages => s.ecr_images.len(),
            Kind::CloudTrail => s.cloudtrail.len(),
            Kind::Iptables => s.iptables.len(),
            Kind::Dockerfiles => s.dockerfiles.len(),
            Kind::Namespaces => k.namespaces.len(),
            Kind::Pods => k.pods.len(),
            Kind::ServiceAccounts => k.service_accounts.len(),
            Kind::ConfigMaps => k.config_maps.len(),
            Kind::Roles => k.roles.len(),
            Kind::RoleBindings => k.role_bindings.len(),
            Kind::ClusterRoles => k.cluster_roles.len(),
            Kind::ClusterRoleBindings => k.cluster_role_bindings.len(),
            Kind::Workloads => {
                k.deployments.len()
                    + k.daemon_sets.len()
                    + k.stateful_sets.len()
                    + k.replica_sets.len()
                    + k.jobs.len()
                    + k.cron_jobs.len()
                    + k.replication_controllers.len()
            }
            Kind::MutatingWebhooks => k.mutating_webhooks.len(),
            Kind::FargateProfiles => s.fargate_profiles.len().max(s.fargate_profile_names.len()),
            Kind::NodeClasses => k.ec2_node_classes.len(),
            Kind::NodePools => k.node_pools.len(),
        }
    }
}

/// When a need applies.
#[derive(Debug, Clone, Copy)]
enum When {
    Always,
    /// Only when the snapshot has objects of this kind.
    Any(Kind),
    /// Only when a node group names a launch template.
    NodegroupLaunchTemplates,
}

#[derive(Debug, Clone, Copy)]
struct Need {
    kind: Kind,
    required: bool,
    when: When,
}

const fn req(kind: Kind) -> Need {
    Need {
        kind,
        required: true,
        when: When::Always,
    }
}
const fn opt(kind: Kind) -> Need {
    Need {
        kind,
        required: false,
        when: When::Always,
    }
}
const fn req_if(kind: Kind, when: When) -> Need {
    Need {
        kind,
        required: true,
        when,
    }
}

const RBAC_GRAPH: [Need; 9] = [
    req(Kind::VirtualClusters),
    req(Kind::Namespaces),
    req(Kind::Roles),
    req(Kind::RoleBindings),
    req(Kind::ClusterRoles),
    req(Kind::ClusterRoleBindings),
    opt(Kind::AccessEntries),
    opt(Kind::ConfigMaps),
    opt(Kind::Iam),
];

/// The input kinds a rule reads. Rules not listed (new ones) need nothing, which a unit test
/// forbids.
fn needs(id: &str) -> Vec<Need> {
    use Kind::*;
    let v: &[Need] = match id {
        "IAM024" => &[req(Iam), req(Cluster), opt(Oidc), opt(VirtualClusters)],
        "IAM010" | "IAM011" => &[req(Iam), opt(VirtualClusters), opt(JobRuns), opt(Endpoints)],
        "IAM030" | "IAM031" | "IAM032" | "IAM033" => &[req(Iam), opt(VirtualClusters)],
        _ if id.starts_with("IAM") => &[
            req(Iam),
            opt(VirtualClusters),
            opt(JobRuns),
            opt(Cluster),
            opt(Oidc),
        ],
        "NET001" | "NET002" | "NET003" => &[req(Cluster)],
        "NET004" | "NET005" | "NET006" | "NET007" | "NET008" => &[
            req(VirtualClusters),
            req_if(Endpoints, When::Any(VirtualClusters)),
            req_if(SecurityGroups, When::Any(Endpoints)),
            req_if(Subnets, When::Any(Endpoints)),
            req_if(RouteTables, When::Any(Endpoints)),
            req_if(LoadBalancers, When::Any(Endpoints)),
        ],
        "IMG001" | "IMG002" => &[
            req(VirtualClusters),
            req_if(JobRuns, When::Any(VirtualClusters)),
            opt(Endpoints),
        ],
        "IMG003" => &[
            req(VirtualClusters),
            req_if(JobRuns, When::Any(VirtualClusters)),
            req_if(EcrImages, When::Any(EcrRepositories)),
            opt(Pods),
            opt(Workloads),
        ],
        "IMG004" | "IMG005" => &[req(EcrRepositories), opt(EcrImages)],
        _ if id.starts_with("IMG") => &[opt(Dockerfiles)],
        "NODE001" => &[
            req(Nodegroups),
            req_if(LaunchTemplates, When::NodegroupLaunchTemplates),
            opt(Instances),
            opt(Iptables),
            opt(VirtualClusters),
            opt(FargateProfiles),
        ],
        "NODE002" => &[
            req(Instances),
            opt(Nodegroups),
            opt(LaunchTemplates),
            opt(FargateProfiles),
        ],
        "NODE004" => &[
            opt(NodeClasses),
            opt(NodePools),
            opt(FargateProfiles),
            opt(VirtualClusters),
        ],
        "NODE003" => &[
            req(Nodegroups),
            req_if(LaunchTemplates, When::NodegroupLaunchTemplates),
            opt(SecurityGroups),
        ],
        "NODE010" => &[req(Iam), req(Nodegroups), opt(AccessEntries)],
        "NODE011" => &[
            req(Iam),
            req(Nodegroups),
            opt(ServiceAccounts),
            opt(Addons),
            opt(PodIdentity),
        ],
        "POD001" => &[req(Workloads), opt(Pods)],
        "POD002" | "POD003" => &[
            req(VirtualClusters),
            req(Pods),
            opt(Workloads),
            opt(Namespaces),
        ],
        "POD004" => &[
            req(VirtualClusters),
            req(PodIdentity),
            opt(Cluster),
            opt(Iam),
        ],
        "POD007" => &[
            opt(FargateProfiles),
            opt(PodIdentity),
            opt(VirtualClusters),
            opt(Iam),
        ],
        "POD005" => &[
            req(VirtualClusters),
            req_if(JobRuns, When::Any(VirtualClusters)),
            req(Iam),
            req(Cluster),
            opt(PodIdentity),
            opt(Endpoints),
        ],
        "POD006" => &[opt(CloudTrail), opt(Pods)],
        "POD010" => &[
            req(Iam),
            req(VirtualClusters),
            req(ServiceAccounts),
            opt(PodIdentity),
        ],
        "RBAC010" | "RBAC011" => &[
            req(VirtualClusters),
            req(Roles),
            req(RoleBindings),
            opt(ClusterRoles),
            opt(ClusterRoleBindings),
        ],
        "RBAC012" => &[
            req(VirtualClusters),
            req(Roles),
            req(RoleBindings),
            opt(AccessEntries),
        ],
        "RBAC020" => &[req(VirtualClusters), req(MutatingWebhooks), opt(Namespaces)],
        _ if id.starts_with("RBAC") => &RBAC_GRAPH,
        "TEN001" => &[
            req(VirtualClusters),
            req(Iam),
            req_if(JobRuns, When::Any(VirtualClusters)),
            opt(PodIdentity),
            opt(ServiceAccounts),
        ],
        "TEN002" => &[req(VirtualClusters)],
        "TEN003" => &[req(VirtualClusters), req(Pods), opt(Workloads)],
        _ => &[],
    };
    v.to_vec()
}

/// What is known about one kind.
struct KindState {
    state: InputState,
    objects: usize,
    notes: Vec<String>,
}

/// The input labels of each file, and its errors.
struct Files<'a> {
    inputs: &'a [InputRecord],
    errors: &'a [InputError],
    logs: Vec<&'a CollectLog>,
}

impl Files<'_> {
    fn labels(i: &InputRecord) -> impl Iterator<Item = &str> {
        i.recognised_as.split(", ")
    }

    fn has_error(&self, file: &str) -> bool {
        self.errors.iter().any(|e| e.file == file)
    }

    fn kind_state(&self, kind: Kind, snap: &Snapshot) -> KindState {
        let objects = kind.count(snap);
        let labels = kind.labels();
        let of_kind: Vec<&InputRecord> = self
            .inputs
            .iter()
            .filter(|i| Files::labels(i).any(|l| labels.contains(&l)))
            .collect();
        let k8s_file_for = |i: &InputRecord| {
            let base = std::path::Path::new(&i.file)
                .file_name()
                .map(|f| f.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            kind.kubectl().iter().any(|k| base.contains(k))
        };
        // Files of this kind that were read without error.
        let clean = of_kind
            .iter()
            .any(|i| !self.has_error(&i.file) && (!kind.is_k8s() || k8s_file_for(i)));
        let broken: Vec<&&InputRecord> = of_kind
            .iter()
            .filter(|i| self.has_error(&i.file) && (!kind.is_k8s() || k8s_file_for(i)))
            .collect();
        // A broken Kubernetes file whose name tells no kind may have held any kind.
        let broken_k8s_unknown = kind.is_k8s()
            && of_kind.iter().any(|i| {
                self.has_error(&i.file)
                    && !Kind::ALL_K8S.iter().any(|k| {
                        k.kubectl()
                            .iter()
                            .any(|n| i.file.to_lowercase().contains(n))
                    })
            });
        let collected = kind.is_k8s()
            && self.logs.iter().any(|l| {
                kind.kubectl()
                    .iter()
                    .any(|k| l.collected(&format!("kubectl get {k} ")))
            });
        let mut notes: Vec<String> = Vec::new();
        for i in &broken {
            notes.push(format!("{} is malformed", i.file));
        }
        if broken_k8s_unknown && broken.is_empty() {
            for i in of_kind.iter().filter(|i| self.has_error(&i.file)) {
                notes.push(format!("{} is malformed", i.file));
            }
        }
        for l in &self.logs {
            for f in &l.failed {
                let hit = kind.command().iter().any(|c| f.starts_with(c))
                    || kind
                        .kubectl()
                        .iter()
                        .any(|k| f.starts_with(&format!("kubectl get {k} ")));
                if hit {
                    notes.push(format!("the collector failed: {f}"));
                }
            }
        }
        let any_broken = !broken.is_empty() || broken_k8s_unknown;
        let usable = objects > 0 || clean || collected;
        let state = match (usable, any_broken) {
            (true, false) => InputState::Present,
            (_, true) => InputState::Malformed,
            (false, false) => InputState::Missing,
        };
        KindState {
            state,
            objects,
            notes,
        }
    }
}

impl Kind {
    const ALL: [Kind; 34] = [
        Kind::Iam,
        Kind::Oidc,
        Kind::Cluster,
        Kind::Nodegroups,
        Kind::AccessEntries,
        Kind::PodIdentity,
        Kind::Addons,
        Kind::VirtualClusters,
        Kind::Endpoints,
        Kind::JobRuns,
        Kind::SecurityGroups,
        Kind::Subnets,
        Kind::RouteTables,
        Kind::LaunchTemplates,
        Kind::Instances,
        Kind::LoadBalancers,
        Kind::EcrRepositories,
        Kind::EcrImages,
        Kind::CloudTrail,
        Kind::Iptables,
        Kind::Dockerfiles,
        Kind::Namespaces,
        Kind::Pods,
        Kind::ServiceAccounts,
        Kind::ConfigMaps,
        Kind::Roles,
        Kind::RoleBindings,
        Kind::ClusterRoles,
        Kind::ClusterRoleBindings,
        Kind::Workloads,
        Kind::MutatingWebhooks,
        Kind::FargateProfiles,
        Kind::NodeClasses,
        Kind::NodePools,
    ];
    const ALL_K8S: [Kind; 12] = [
        Kind::Namespaces,
        Kind::Pods,
        Kind::ServiceAccounts,
        Kind::ConfigMaps,
        Kind::Roles,
        Kind::RoleBindings,
        Kind::ClusterRoles,
        Kind::ClusterRoleBindings,
        Kind::Workloads,
        Kind::MutatingWebhooks,
        Kind::NodeClasses,
        Kind::NodePools,
    ];
}

/// Compute the coverage of `rules` on the loaded snapshot.
pub fn compute(
    rules: &[&'static dyn Rule],
    snap: &Snapshot,
    inputs: &[InputRecord],
    errors: &[InputError],
) -> Coverage {
    let files = Files {
        inputs,
        errors,
        logs: snap.collect_logs.iter().map(|l| &l.value).collect(),
    };
    let states: BTreeMap<Kind, KindState> = Kind::ALL
        .iter()
        .map(|&k| (k, files.kind_state(k, snap)))
        .collect();
    let state = |k: Kind| -> InputState {
        states
            .get(&k)
            .map(|s| s.state)
            .unwrap_or(InputState::Missing)
    };
    let ng_templates = snap.nodegroups.iter().any(|n| n.launch_template.is_some());
    let applies = |w: When| match w {
        When::Always => true,
        When::Any(k) => k.count(snap) > 0,
        When::NodegroupLaunchTemplates => ng_templates,
    };

    let mut cov = Coverage::default();
    let mut per_practice: BTreeMap<Practice, Vec<(&'static str, Vec<Need>)>> = BTreeMap::new();
    for r in rules {
        let m = r.meta();
        per_practice
            .entry(m.practice)
            .or_default()
            .push((m.id, needs(m.id)));
    }
    for p in Practice::ALL {
        let Some(rs) = per_practice.get(&p) else {
            cov.practices.push(PracticeCoverage {
                practice: p.slug().to_owned(),
                status: CoverageStatus::NotSelected,
                rules: Vec::new(),
                not_evaluated: Vec::new(),
                skipped: Vec::new(),
                inputs: Vec::new(),
                summary: format!("{}: not selected", p.slug()),
            });
            continue;
        };
        let mut need_map: BTreeMap<Kind, InputNeed> = BTreeMap::new();
        let mut not_evaluated = Vec::new();
        let mut skipped = Vec::new();
        let mut partial = false;
        let mut missing_required: Vec<String> = Vec::new();
        let mut missing_optional: Vec<String> = Vec::new();
        for (id, needs) in rs {
            let mut blocked: Vec<String> = Vec::new();
            let mut optional_present = false;
            for n in needs {
                let applies_here = applies(n.when);
                let st = if applies_here {
                    state(n.kind)
                } else {
                    InputState::NotNeeded
                };
                let e = need_map.entry(n.kind).or_insert_with(|| InputNeed {
                    kind: n.kind.name().to_owned(),
                    required: false,
                    state: InputState::NotNeeded,
                    objects: n.kind.count(snap),
                    rules: Vec::new(),
                    notes: Vec::new(),
                });
                e.rules.push((*id).to_owned());
                if applies_here {
                    e.state = st;
                    e.required |= n.required;
                }
                let absent = matches!(st, InputState::Missing)
                    || (matches!(st, InputState::Malformed) && n.kind.count(snap) == 0);
                match (n.required && applies_here, absent, st) {
                    (true, true, _) => blocked.push(describe(n.kind, st)),
                    (false, true, _) if applies_here => {
                        partial = true;
                        let d = describe(n.kind, st);
                        if !missing_optional.contains(&d) {
                            missing_optional.push(d);
                        }
                    }
                    (_, false, InputState::Malformed) => partial = true,
                    (false, false, InputState::Present) => optional_present = true,
                    _ => {}
                }
            }
            let only_optional = needs.iter().all(|n| !n.required);
            if !blocked.is_empty() {
                for b in &blocked {
                    if !missing_required.contains(b) {
                        missing_required.push(b.clone());
                    }
                }
                cov.rules.insert(
                    (*id).to_owned(),
                    RuleCoverage::NotEvaluated(blocked.join(", ")),
                );
                not_evaluated.push((*id).to_owned());
            } else if only_optional && !needs.is_empty() && !optional_present {
                let what: Vec<String> = needs
                    .iter()
                    .map(|n| describe(n.kind, state(n.kind)))
                    .collect();
                cov.rules.insert(
                    (*id).to_owned(),
                    RuleCoverage::Skipped(format!("{} (optional)", what.join(", "))),
                );
                skipped.push((*id).to_owned());
            }
        }
        for (k, n) in need_map.iter_mut() {
            if let Some(ks) = states.get(k) {
                n.notes = ks.notes.clone();
                n.objects = ks.objects;
            }
            // A collector failure behind an input the practice reads: it may be incomplete.
            if n.state != InputState::NotNeeded && !n.notes.is_empty() {
                partial = true;
            }
        }
        let rule_ids: Vec<String> = rs.iter().map(|(id, _)| (*id).to_owned()).collect();
        let status = if !not_evaluated.is_empty() {
            CoverageStatus::NotEvaluated
        } else if partial || !skipped.is_empty() {
            CoverageStatus::Partial
        } else {
            CoverageStatus::Evaluated
        };
        let summary = summary_line(
            p,
            status,
            &rule_ids,
            &not_evaluated,
            &skipped,
            &missing_required,
            &missing_optional,
            &need_map,
        );
        cov.practices.push(PracticeCoverage {
            practice: p.slug().to_owned(),
            status,
            rules: rule_ids,
            not_evaluated,
            skipped,
            inputs: need_map.into_values().collect(),
            summary,
        });
    }
    if let Some(l) = snap.collect_logs.first() {
        cov.collector = Some(CollectorLog {
            file: l.loc.file.to_string(),
            succeeded: snap.collect_logs.iter().map(|l| l.ok.len()).sum(),
            failures: snap
                .collect_logs
                .iter()
                .flat_map(|l| l.failed.iter().cloned())
                .collect(),
        });
    }
    cov.complete = errors.is_empty() && cov.not_evaluated() == 0;
    cov
}

/// `no iam authorization details`, `iam authorization details malformed`.
fn describe(kind: Kind, st: InputState) -> String {
    match st {
        InputState::Malformed => format!("{} malformed", kind.name()),
        _ => format!("no {}", kind.name()),
    }
}

/// `NET004-NET008` for a run of consecutive ids, else a comma list.
fn ids(v: &[String]) -> String {
    match (v.first(), v.last()) {
        (Some(a), Some(b)) if v.len() > 2 => format!("{a}..{b} ({} rules)", v.len()),
        _ => v.join(", "),
    }
}

#[allow(clippy::too_many_arguments)]
fn summary_line(
    p: Practice,
    status: CoverageStatus,
    rules: &[String],
    not_evaluated: &[String],
    skipped: &[String],
    missing_required: &[String],
    missing_optional: &[String],
    needs: &BTreeMap<Kind, InputNeed>,
) -> String {
    let slug = p.slug();
    let mut notes: Vec<String> = needs
        .values()
        .flat_map(|n| n.notes.iter().cloned())
        .collect();
    notes.sort();
    notes.dedup();
    let tail = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    match status {
        CoverageStatus::NotSelected => format!("{slug}: not selected"),
        CoverageStatus::NotEvaluated if not_evaluated.len() == rules.len() => format!(
            "{slug}: not evaluated ({}){tail}",
            missing_required.join(", ")
        ),
        CoverageStatus::NotEvaluated => format!(
            "{slug}: partly not evaluated: {} not evaluated ({}){tail}",
            ids(not_evaluated),
            missing_required.join(", ")
        ),
        CoverageStatus::Partial => {
            let mut parts = Vec::new();
            if !skipped.is_empty() {
                parts.push(format!("{} skipped", ids(skipped)));
            }
            if !missing_optional.is_empty() {
                parts.push(format!("{} (optional)", missing_optional.join(", ")));
            }
            if parts.is_empty() && notes.is_empty() {
                parts.push("an input had unreadable parts".to_owned());
            }
            if parts.is_empty() {
                return format!("{slug}: partial: {}", notes.join("; "));
            }
            format!("{slug}: partial: {}{tail}", parts.join("; "))
        }
        CoverageStatus::Evaluated => {
            let read = |required: bool| -> Vec<&str> {
                needs
                    .values()
                    .filter(|n| n.state == InputState::Present && n.required == required)
                    .map(|n| n.kind.as_str())
                    .collect()
            };
            let optional = read(false).len();
            let mut what = read(true).join(", ");
            if optional > 0 {
                what.push_str(&format!(" + {optional} optional"));
            }
            format!("{slug}: evaluated ({what})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_declares_its_inputs() {
        for r in emrguard_rules::registry() {
            assert!(
                !needs(r.meta().id).is_empty(),
                "{}: add its input kinds to coverage::needs",
                r.meta().id
            );
        }
    }

    #[test]
    fn missing_iam_is_not_evaluated() {
        let rules: Vec<&'static dyn Rule> = emrguard_rules::registry()
            .iter()
            .copied()
            .filter(|r| r.meta().id == "IAM001")
            .collect();
        let cov = compute(&rules, &Snapshot::default(), &[], &[]);
        let p = cov.practice("least-privilege").unwrap();
        assert_eq!(p.status, CoverageStatus::NotEvaluated);
        assert_eq!(
            p.summary,
            "least-privilege: not evaluated (no iam authorization details)"
        );
        assert!(!cov.complete);
        assert_eq!(
            cov.practice("rbac").unwrap().status,
            CoverageStatus::NotSelected
        );
    }
}

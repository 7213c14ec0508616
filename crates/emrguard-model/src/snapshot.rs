//! The snapshot: every object read, by kind, each with its source location.

use crate::aws::{ec2, ecr, eks, emr, iam, misc, usage};
use crate::collect::CollectLog;
use crate::k8s::{self, K8sObjects};
use crate::node::{Dockerfile, IptablesSave};
use crate::source::Located;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    // IAM
    pub roles: Vec<Located<iam::Role>>,
    pub users: Vec<Located<iam::User>>,
    pub groups: Vec<Located<iam::Group>>,
    pub policies: Vec<Located<iam::ManagedPolicy>>,
    pub oidc_providers: Vec<Located<iam::OidcProvider>>,
    // EKS
    pub clusters: Vec<Located<eks::Cluster>>,
    pub nodegroups: Vec<Located<eks::Nodegroup>>,
    pub access_entries: Vec<Located<eks::AccessEntry>>,
    /// Principal ARNs from `list-access-entries` (entries may lack a `describe`).
    pub access_entry_arns: Vec<Located<String>>,
    pub associated_access_policies: Vec<Located<eks::AssociatedAccessPolicies>>,
    pub pod_identity_associations: Vec<Located<eks::PodIdentityAssociation>>,
    pub addons: Vec<Located<eks::Addon>>,
    /// `describe-fargate-profile`, and the names of `list-fargate-profiles`.
    pub fargate_profiles: Vec<Located<eks::FargateProfile>>,
    pub fargate_profile_names: Vec<Located<String>>,
    // EMR on EKS
    pub virtual_clusters: Vec<Located<emr::VirtualCluster>>,
    pub endpoints: Vec<Located<emr::Endpoint>>,
    pub job_runs: Vec<Located<emr::JobRun>>,
    pub job_templates: Vec<Located<emr::JobTemplate>>,
    // EC2 / ELB
    pub security_groups: Vec<Located<ec2::SecurityGroup>>,
    pub subnets: Vec<Located<ec2::Subnet>>,
    pub route_tables: Vec<Located<ec2::RouteTable>>,
    pub launch_template_versions: Vec<Located<ec2::LaunchTemplateVersion>>,
    pub instances: Vec<Located<ec2::Instance>>,
    pub load_balancers: Vec<Located<ec2::LoadBalancer>>,
    // ECR
    pub ecr_repositories: Vec<Located<ecr::Repository>>,
    pub ecr_images: Vec<Located<ecr::ImageDetail>>,
    pub ecr_registry_scanning: Vec<Located<ecr::RegistryScanning>>,
    // Other
    pub cloudtrail: Vec<Located<misc::CloudTrailRecord>>,
    // Usage audit
    pub event_selectors: Vec<Located<usage::TrailEventSelectors>>,
    pub usage_rows: Vec<Located<usage::UsageSummaryRow>>,
    pub session_rows: Vec<Located<usage::SessionSummaryRow>>,
    pub k8s_audit: Vec<Located<usage::K8sAuditEvent>>,
    pub iptables: Vec<Located<IptablesSave>>,
    pub dockerfiles: Vec<Located<Dockerfile>>,
    /// `collect.sh` logs (`collect.log`).
    pub collect_logs: Vec<Located<CollectLog>>,
    /// Node group names from `list-nodegroups` (a cluster may have none: Karpenter, Fargate).
    pub nodegroup_names: Vec<Located<String>>,
    pub k8s: K8sObjects,
}

/// Sort by key and merge duplicates (the same object from a `list` and a `describe`, or from
/// overlapping pages): the richest copy wins (most serialized content), ties go to the first
/// location. The result does not depend on file order.
fn dedup<T: Serialize>(v: &mut Vec<Located<T>>, key: impl Fn(&T) -> String) {
    let mut keyed: Vec<(String, Located<T>)> = v.drain(..).map(|l| (key(&l.value), l)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.loc.cmp(&b.1.loc)));
    let mut out: Vec<Located<T>> = Vec::with_capacity(keyed.len());
    let mut last_key: Option<String> = None;
    let mut last_size: Option<usize> = None;
    for (k, item) in keyed {
        if last_key.as_deref() == Some(k.as_str()) && !k.is_empty() {
            // Duplicate: keep the richer one.
            let size = |x: &T| serde_json::to_string(x).map(|s| s.len()).unwrap_or(0);
            let prev_size = match (last_size, out.last()) {
                (Some(s), _) => s,
                (None, Some(prev)) => size(&prev.value),
                (None, None) => 0,
            };
            let this = size(&item.value);
            if this > prev_size {
                if let Some(slot) = out.last_mut() {
                    *slot = item;
                }
                last_size = Some(this);
            } else {
                last_size = Some(prev_size);
            }
            continue;
        }
        last_key = Some(k);
        last_size = None;
        out.push(item);
    }
    *v = out;
}

fn k8s_key(m: &k8s::ObjectMeta) -> String {
    k8s::meta_key(m)
}

impl Snapshot {
    /// Merge duplicates and put every collection in a canonical order.
    pub fn finalize(&mut self) {
        dedup(&mut self.roles, |r| r.arn.clone());
        dedup(&mut self.users, |r| r.arn.clone());
        dedup(&mut self.groups, |r| r.arn.clone());
        dedup(&mut self.policies, |r| r.arn.clone());
        dedup(&mut self.oidc_providers, |r| r.arn.clone());
        dedup(&mut self.clusters, |r| r.arn.clone());
        dedup(&mut self.nodegroups, |r| {
            format!("{}/{}", r.cluster_name, r.nodegroup_name)
        });
        dedup(&mut self.access_entries, |r| r.principal_arn.clone());
        dedup(&mut self.access_entry_arns, |r| r.clone());
        dedup(&mut self.associated_access_policies, |r| {
            r.principal_arn.clone()
        });
        dedup(
            &mut self.pod_identity_associations,
            eks::PodIdentityAssociation::key,
        );
        dedup(&mut self.addons, |r| {
            format!(
                "{}/{}",
                r.cluster_name.as_deref().unwrap_or(""),
                r.addon_name
            )
        });
        dedup(&mut self.fargate_profiles, |r| {
            format!("{}/{}", r.cluster_name, r.fargate_profile_name)
        });
        dedup(&mut self.fargate_profile_names, |r| r.clone());
        dedup(&mut self.virtual_clusters, |r| r.id.clone());
        dedup(&mut self.endpoints, |r| r.id.clone());
        dedup(&mut self.job_runs, |r| {
            format!("{}/{}", r.virtual_cluster_id, r.id)
        });
        dedup(&mut self.job_templates, |r| r.id.clone());
        dedup(&mut self.security_groups, |r| r.group_id.clone());
        dedup(&mut self.subnets, |r| r.subnet_id.clone());
        dedup(&mut self.route_tables, |r| r.route_table_id.clone());
        dedup(&mut self.launch_template_versions, |r| {
            format!("{}/{}", r.launch_template_id, r.version_number)
        });
        dedup(&mut self.instances, |r| r.instance_id.clone());
        dedup(&mut self.load_balancers, |r| r.load_balancer_arn.clone());
        dedup(&mut self.ecr_repositories, |r| r.repository_arn.clone());
        dedup(&mut self.ecr_images, |r| {
            format!("{}/{}/{}", r.registry_id, r.repository_name, r.image_digest)
        });
        dedup(&mut self.ecr_registry_scanning, |r| {
            r.registry_id.clone().unwrap_or_default()
        });
        // CloudTrail records are events, not objects: dedup by event id only.
        dedup(&mut self.cloudtrail, |r| {
            r.event_id.clone().unwrap_or_default()
        });
        sort_by_loc(&mut self.event_selectors);
        sort_by_loc(&mut self.usage_rows);
        sort_by_loc(&mut self.session_rows);
        sort_by_loc(&mut self.k8s_audit);
        sort_by_loc(&mut self.iptables);
        sort_by_loc(&mut self.dockerfiles);
        sort_by_loc(&mut self.collect_logs);
        dedup(&mut self.nodegroup_names, |r| r.clone());
        let k = &mut self.k8s;
        dedup(&mut k.namespaces, |o| k8s_key(&o.metadata));
        dedup(&mut k.pods, |o| k8s_key(&o.metadata));
        dedup(&mut k.service_accounts, |o| k8s_key(&o.metadata));
        dedup(&mut k.config_maps, |o| k8s_key(&o.metadata));
        dedup(&mut k.secrets, |o| k8s_key(&o.metadata));
        dedup(&mut k.roles, |o| k8s_key(&o.metadata));
        dedup(&mut k.cluster_roles, |o| k8s_key(&o.metadata));
        dedup(&mut k.role_bindings, |o| k8s_key(&o.metadata));
        dedup(&mut k.cluster_role_bindings, |o| k8s_key(&o.metadata));
        dedup(&mut k.deployments, |o| k8s_key(&o.metadata));
        dedup(&mut k.daemon_sets, |o| k8s_key(&o.metadata));
        dedup(&mut k.stateful_sets, |o| k8s_key(&o.metadata));
        dedup(&mut k.replica_sets, |o| k8s_key(&o.metadata));
        dedup(&mut k.jobs, |o| k8s_key(&o.metadata));
        dedup(&mut k.cron_jobs, |o| k8s_key(&o.metadata));
        dedup(&mut k.replication_controllers, |o| k8s_key(&o.metadata));
        dedup(&mut k.mutating_webhooks, |o| k8s_key(&o.metadata));
        dedup(&mut k.validating_webhooks, |o| k8s_key(&o.metadata));
        dedup(&mut k.network_policies, |o| k8s_key(&o.metadata));
        dedup(&mut k.ec2_node_classes, |o| k8s_key(&o.metadata));
        dedup(&mut k.node_pools, |o| k8s_key(&o.metadata));
        dedup(&mut k.other, |o| {
            format!("{}/{}/{}", o.api_version, o.kind, k8s_key(&o.metadata))
        });
    }

    /// Append another (partial) snapshot, e.g. one file's objects.
    pub fn extend(&mut self, other: Snapshot) {
        macro_rules! ext {
            ($($f:ident),*) => { $( self.$f.extend(other.$f); )* };
        }
        ext!(
            roles,
            users,
            groups,
            policies,
            oidc_providers,
            clusters,
            nodegroups,
            access_entries,
            access_entry_arns,
            associated_access_policies,
            pod_identity_associations,
            addons,
            virtual_clusters,
            endpoints,
            job_runs,
            job_templates,
            security_groups,
            subnets,
            route_tables,
            launch_template_versions,
            instances,
            load_balancers,
            ecr_repositories,
            ecr_images,
            ecr_registry_scanning,
            cloudtrail,
            event_selectors,
            usage_rows,
            session_rows,
            k8s_audit,
            iptables,
            dockerfiles,
            collect_logs,
            nodegroup_names,
            fargate_profiles,
            fargate_profile_names
        );
        let (k, o) = (&mut self.k8s, other.k8s);
        macro_rules! extk {
            ($($f:ident),*) => { $( k.$f.extend(o.$f); )* };
        }
        extk!(
            namespaces,
            pods,
            service_accounts,
            config_maps,
            secrets,
            roles,
            cluster_roles,
            role_bindings,
            cluster_role_bindings,
            deployments,
            daemon_sets,
            stateful_sets,
            replica_sets,
            jobs,
            cron_jobs,
            replication_controllers,
            mutating_webhooks,
            validating_webhooks,
            network_policies,
            ec2_node_classes,
            node_pools,
            other
        );
    }

    /// The snapshot's account and region, from the EKS cluster ARN (or the first IAM ARN).
    pub fn account_region(&self) -> (Option<String>, Option<String>) {
        if let Some(c) = self.clusters.first() {
            return (
                c.account().map(str::to_owned),
                c.region().map(str::to_owned),
            );
        }
        let acct = self
            .roles
            .first()
            .and_then(|r| iam::arn_account(&r.arn))
            .map(str::to_owned);
        (acct, None)
    }

    /// Object counts by kind, for summaries.
    pub fn counts(&self) -> HashMap<&'static str, usize> {
        let mut m = HashMap::new();
        m.insert("iam roles", self.roles.len());
        m.insert("iam users", self.users.len());
        m.insert("kubernetes objects", self.k8s.object_count());
        m.insert("virtual clusters", self.virtual_clusters.len());
        m
    }
}

fn sort_by_loc<T>(v: &mut [Located<T>]) {
    v.sort_by(|a, b| a.loc.cmp(&b.loc));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceLoc;

    #[test]
    fn dedup_keeps_richest_and_is_order_independent() {
        let list = eks::PodIdentityAssociation {
            namespace: "ns".into(),
            service_account: "sa".into(),
            association_id: Some("a-1".into()),
            ..Default::default()
        };
        let mut described = list.clone();
        described.role_arn = Some("arn:aws:iam::1:role/r".into());
        for order in [0, 1] {
            let mut s = Snapshot::default();
            let a = Located::new(
                list.clone(),
                SourceLoc::new("a.json", "/associations/0", None),
            );
            let b = Located::new(
                described.clone(),
                SourceLoc::new("b.json", "/association", None),
            );
            if order == 0 {
                s.pod_identity_associations = vec![a, b];
            } else {
                s.pod_identity_associations = vec![b, a];
            }
            s.finalize();
            assert_eq!(s.pod_identity_associations.len(), 1);
            assert_eq!(
                s.pod_identity_associations[0].role_arn.as_deref(),
                Some("arn:aws:iam::1:role/r")
            );
        }
    }
}

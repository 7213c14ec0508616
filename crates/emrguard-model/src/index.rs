//! The estate index: built once from a [`Snapshot`], it answers the joins every rule needs
//! (namespace → virtual clusters, role ARN → role, service account → IRSA role / Pod Identity,
//! node group → launch template version, endpoint → security group / subnets / load balancer,
//! job → execution role, release, images). Rules query it; they never re-scan raw files.

use crate::aws::{ec2, ecr, eks, emr, iam};
use crate::k8s;
use crate::snapshot::Snapshot;
use crate::source::Located;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Spark properties that name the container image.
pub const IMAGE_KEYS: [&str; 3] = [
    "spark.kubernetes.container.image",
    "spark.kubernetes.driver.container.image",
    "spark.kubernetes.executor.container.image",
];

/// What uses an execution role or an image: a job run, a job template or a managed endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    JobRun(usize),
    JobTemplate(usize),
    Endpoint(usize),
}

/// How a load balancer was tied to a managed endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LbMatch {
    SecurityGroup,
    DnsName,
    Tag,
}

pub struct EstateIndex<'s> {
    pub snap: &'s Snapshot,
    emr_namespaces: BTreeMap<&'s str, Vec<usize>>,
    vc_by_id: HashMap<&'s str, usize>,
    role_by_arn: HashMap<&'s str, usize>,
    role_by_name: HashMap<&'s str, usize>,
    policy_by_arn: HashMap<&'s str, usize>,
    group_by_name: HashMap<&'s str, usize>,
    user_by_arn: HashMap<&'s str, usize>,
    cluster_by_name: HashMap<&'s str, usize>,
    sa_by_key: HashMap<(&'s str, &'s str), usize>,
    pod_identity_by_sa: HashMap<(&'s str, &'s str), Vec<usize>>,
    ltv_by_id: HashMap<&'s str, Vec<usize>>,
    ltv_by_name: HashMap<&'s str, Vec<usize>>,
    sg_by_id: HashMap<&'s str, usize>,
    subnet_by_id: HashMap<&'s str, usize>,
    rt_by_subnet: HashMap<&'s str, usize>,
    main_rt_by_vpc: HashMap<&'s str, usize>,
    lb_by_sg: HashMap<&'s str, Vec<usize>>,
    lb_by_dns: HashMap<String, usize>,
    job_runs_by_vc: HashMap<&'s str, Vec<usize>>,
    endpoints_by_vc: HashMap<&'s str, Vec<usize>>,
    access_policies_by_principal: HashMap<&'s str, usize>,
    access_entry_by_principal: HashMap<&'s str, usize>,
    ecr_repo_by_name: HashMap<(&'s str, &'s str), usize>,
    ecr_images_by_repo: HashMap<(&'s str, &'s str), Vec<usize>>,
    images_by_workload: BTreeMap<Workload, Vec<(&'static str, String)>>,
}

fn push<K: std::hash::Hash + Eq>(m: &mut HashMap<K, Vec<usize>>, k: K, i: usize) {
    m.entry(k).or_default().push(i);
}

impl<'s> EstateIndex<'s> {
    pub fn build(snap: &'s Snapshot) -> Self {
        let mut emr_namespaces: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut vc_by_id = HashMap::new();
        for (i, vc) in snap.virtual_clusters.iter().enumerate() {
            vc_by_id.insert(vc.id.as_str(), i);
            if vc.is_live() {
                if let Some(ns) = vc.namespace() {
                    emr_namespaces.entry(ns).or_default().push(i);
                }
            }
        }
        let mut role_by_arn = HashMap::new();
        let mut role_by_name = HashMap::new();
        for (i, r) in snap.roles.iter().enumerate() {
            role_by_arn.insert(r.arn.as_str(), i);
            role_by_name.insert(r.role_name.as_str(), i);
        }
        let policy_by_arn = snap
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (p.arn.as_str(), i))
            .collect();
        let group_by_name = snap
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.group_name.as_str(), i))
            .collect();
        let user_by_arn = snap
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.arn.as_str(), i))
            .collect();
        let cluster_by_name = snap
            .clusters
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let mut sa_by_key = HashMap::new();
        for (i, sa) in snap.k8s.service_accounts.iter().enumerate() {
            if let (Some(ns), Some(n)) = (
                sa.metadata.namespace.as_deref(),
                sa.metadata.name.as_deref(),
            ) {
                sa_by_key.insert((ns, n), i);
            }
        }
        let mut pod_identity_by_sa = HashMap::new();
        for (i, a) in snap.pod_identity_associations.iter().enumerate() {
            push(
                &mut pod_identity_by_sa,
                (a.namespace.as_str(), a.service_account.as_str()),
                i,
            );
        }
        let mut ltv_by_id = HashMap::new();
        let mut ltv_by_name = HashMap::new();
        for (i, v) in snap.launch_template_versions.iter().enumerate() {
            push(&mut ltv_by_id, v.launch_template_id.as_str(), i);
            push(&mut ltv_by_name, v.launch_template_name.as_str(), i);
        }
        let sg_by_id = snap
            .security_groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.group_id.as_str(), i))
            .collect();
        let subnet_by_id = snap
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| (s.subnet_id.as_str(), i))
            .collect();
        let mut rt_by_subnet = HashMap::new();
        let mut main_rt_by_vpc = HashMap::new();
        for (i, rt) in snap.route_tables.iter().enumerate() {
            for a in &rt.associations {
                if a.main {
                    main_rt_by_vpc.insert(rt.vpc_id.as_str(), i);
                }
                if let Some(s) = a.subnet_id.as_deref() {
                    rt_by_subnet.insert(s, i);
                }
            }
        }
        let mut lb_by_sg = HashMap::new();
        let mut lb_by_dns = HashMap::new();
        for (i, lb) in snap.load_balancers.iter().enumerate() {
            for sg in &lb.security_groups {
                push(&mut lb_by_sg, sg.as_str(), i);
            }
            if !lb.dns_name.is_empty() {
                lb_by_dns.insert(lb.dns_name.to_ascii_lowercase(), i);
            }
        }
        let mut job_runs_by_vc = HashMap::new();
        for (i, j) in snap.job_runs.iter().enumerate() {
            push(&mut job_runs_by_vc, j.virtual_cluster_id.as_str(), i);
        }
        let mut endpoints_by_vc = HashMap::new();
        for (i, e) in snap.endpoints.iter().enumerate() {
            push(&mut endpoints_by_vc, e.virtual_cluster_id.as_str(), i);
        }
        let access_policies_by_principal = snap
            .associated_access_policies
            .iter()
            .enumerate()
            .map(|(i, a)| (a.principal_arn.as_str(), i))
            .collect();
        let access_entry_by_principal = snap
            .access_entries
            .iter()
            .enumerate()
            .map(|(i, a)| (a.principal_arn.as_str(), i))
            .collect();
        let ecr_repo_by_name = snap
            .ecr_repositories
            .iter()
            .enumerate()
            .map(|(i, r)| ((r.registry_id.as_str(), r.repository_name.as_str()), i))
            .collect();
        let mut ecr_images_by_repo = HashMap::new();
        for (i, im) in snap.ecr_images.iter().enumerate() {
            push(
                &mut ecr_images_by_repo,
                (im.registry_id.as_str(), im.repository_name.as_str()),
                i,
            );
        }
        let mut images_by_workload = BTreeMap::new();
        for (i, j) in snap.job_runs.iter().enumerate() {
            let imgs = images_in(emr::spark_properties(
                j.job_driver.as_ref(),
                j.configuration_overrides.as_ref(),
            ));
            if !imgs.is_empty() {
                images_by_workload.insert(Workload::JobRun(i), imgs);
            }
        }
        for (i, t) in snap.job_templates.iter().enumerate() {
            if let Some(d) = &t.job_template_data {
                let imgs = images_in(emr::spark_properties(
                    d.job_driver.as_ref(),
                    d.configuration_overrides.as_ref(),
                ));
                if !imgs.is_empty() {
                    images_by_workload.insert(Workload::JobTemplate(i), imgs);
                }
            }
        }
        for (i, e) in snap.endpoints.iter().enumerate() {
            let imgs = images_in(emr::spark_properties(
                None,
                e.configuration_overrides.as_ref(),
            ));
            if !imgs.is_empty() {
                images_by_workload.insert(Workload::Endpoint(i), imgs);
            }
        }
        EstateIndex {
            snap,
            emr_namespaces,
            vc_by_id,
            role_by_arn,
            role_by_name,
            policy_by_arn,
            group_by_name,
            user_by_arn,
            cluster_by_name,
            sa_by_key,
            pod_identity_by_sa,
            ltv_by_id,
            ltv_by_name,
            sg_by_id,
            subnet_by_id,
            rt_by_subnet,
            main_rt_by_vpc,
            lb_by_sg,
            lb_by_dns,
            job_runs_by_vc,
            endpoints_by_vc,
            access_policies_by_principal,
            access_entry_by_principal,
            ecr_repo_by_name,
            ecr_images_by_repo,
            images_by_workload,
        }
    }

    // ---- EMR namespaces and virtual clusters ----

    /// Namespaces with at least one live virtual cluster, in order.
    pub fn emr_namespaces(&self) -> impl Iterator<Item = &'s str> + '_ {
        self.emr_namespaces.keys().copied()
    }

    pub fn is_emr_namespace(&self, ns: &str) -> bool {
        self.emr_namespaces.contains_key(ns)
    }

    /// Live virtual clusters registered on `ns`.
    pub fn virtual_clusters_on(&self, ns: &str) -> Vec<&'s Located<emr::VirtualCluster>> {
        self.emr_namespaces
            .get(ns)
            .map(|v| {
                v.iter()
                    .filter_map(|&i| self.snap.virtual_clusters.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn virtual_cluster(&self, id: &str) -> Option<&'s Located<emr::VirtualCluster>> {
        self.vc_by_id
            .get(id)
            .and_then(|&i| self.snap.virtual_clusters.get(i))
    }

    /// The namespace a virtual cluster id runs in.
    pub fn namespace_of_vc(&self, id: &str) -> Option<&'s str> {
        self.virtual_cluster(id)?.value.namespace()
    }

    pub fn job_runs_of(&self, vc_id: &str) -> Vec<&'s Located<emr::JobRun>> {
        self.job_runs_by_vc
            .get(vc_id)
            .map(|v| {
                v.iter()
                    .filter_map(|&i| self.snap.job_runs.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn endpoints_of(&self, vc_id: &str) -> Vec<&'s Located<emr::Endpoint>> {
        self.endpoints_by_vc
            .get(vc_id)
            .map(|v| {
                v.iter()
                    .filter_map(|&i| self.snap.endpoints.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- IAM ----

    /// A role by ARN; falls back to the role name so that ARNs written without the role's path
    /// (as aws-auth and some trust policies do) still resolve.
    pub fn role(&self, arn: &str) -> Option<&'s Located<iam::Role>> {
        self.role_by_arn
            .get(arn)
            .or_else(|| self.role_by_name.get(iam::arn_resource_name(arn)))
            .and_then(|&i| self.snap.roles.get(i))
    }

    pub fn role_by_name(&self, name: &str) -> Option<&'s Located<iam::Role>> {
        self.role_by_name
            .get(name)
            .and_then(|&i| self.snap.roles.get(i))
    }

    pub fn managed_policy(&self, arn: &str) -> Option<&'s Located<iam::ManagedPolicy>> {
        self.policy_by_arn
            .get(arn)
            .and_then(|&i| self.snap.policies.get(i))
    }

    pub fn group(&self, name: &str) -> Option<&'s Located<iam::Group>> {
        self.group_by_name
            .get(name)
            .and_then(|&i| self.snap.groups.get(i))
    }

    pub fn user(&self, arn: &str) -> Option<&'s Located<iam::User>> {
        self.user_by_arn
            .get(arn)
            .and_then(|&i| self.snap.users.get(i))
    }

    /// Execution roles named by job runs, job templates and managed endpoints, with who names
    /// them. (Roles found through trust policies or submitters' conditions need the IAM engine;
    /// the rules add those.)
    pub fn named_execution_roles(&self) -> BTreeMap<&'s str, Vec<Workload>> {
        let mut out: BTreeMap<&str, Vec<Workload>> = BTreeMap::new();
        for (i, j) in self.snap.job_runs.iter().enumerate() {
            if let Some(r) = j.execution_role_arn.as_deref() {
                out.entry(r).or_default().push(Workload::JobRun(i));
            }
        }
        for (i, t) in self.snap.job_templates.iter().enumerate() {
            if let Some(r) = t
                .job_template_data
                .as_ref()
                .and_then(|d| d.execution_role_arn.as_deref())
            {
                out.entry(r).or_default().push(Workload::JobTemplate(i));
            }
        }
        for (i, e) in self.snap.endpoints.iter().enumerate() {
            if let Some(r) = e.execution_role_arn.as_deref() {
                out.entry(r).or_default().push(Workload::Endpoint(i));
            }
        }
        out
    }

    // ---- EKS ----

    pub fn cluster(&self, name: &str) -> Option<&'s Located<eks::Cluster>> {
        self.cluster_by_name
            .get(name)
            .and_then(|&i| self.snap.clusters.get(i))
    }

    pub fn service_account(
        &self,
        ns: &str,
        name: &str,
    ) -> Option<&'s Located<k8s::ServiceAccount>> {
        self.sa_by_key
            .get(&(ns, name))
            .and_then(|&i| self.snap.k8s.service_accounts.get(i))
    }

    /// The IRSA role a service account is annotated with.
    pub fn irsa_role(&self, ns: &str, sa: &str) -> Option<&'s str> {
        let sa = self.service_account(ns, sa)?;
        k8s::annotation(&sa.metadata, k8s::IRSA_ANNOTATION)
    }

    pub fn pod_identity(
        &self,
        ns: &str,
        sa: &str,
    ) -> Vec<&'s Located<eks::PodIdentityAssociation>> {
        self.pod_identity_by_sa
            .get(&(ns, sa))
            .map(|v| {
                v.iter()
                    .filter_map(|&i| self.snap.pod_identity_associations.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn access_entry(&self, principal_arn: &str) -> Option<&'s Located<eks::AccessEntry>> {
        self.access_entry_by_principal
            .get(principal_arn)
            .and_then(|&i| self.snap.access_entries.get(i))
    }

    pub fn access_policies(
        &self,
        principal_arn: &str,
    ) -> Option<&'s Located<eks::AssociatedAccessPolicies>> {
        self.access_policies_by_principal
            .get(principal_arn)
            .and_then(|&i| self.snap.associated_access_policies.get(i))
    }

    /// The launch template version a node group runs: the version it names (`$Default`,
    /// `$Latest` or a number), by id or name. `None` when the snapshot lacks it.
    pub fn launch_template_for(
        &self,
        ng: &eks::Nodegroup,
    ) -> Option<&'s Located<ec2::LaunchTemplateVersion>> {
        self.launch_template(ng.launch_template.as_ref()?)
    }

    /// The launch template version a specification names (id or name; `$Default`, `$Latest` or a
    /// number; absent means `$Default`).
    pub fn launch_template(
        &self,
        spec: &eks::LaunchTemplateSpec,
    ) -> Option<&'s Located<ec2::LaunchTemplateVersion>> {
        let candidates = spec
            .id
            .as_deref()
            .and_then(|id| self.ltv_by_id.get(id))
            .or_else(|| spec.name.as_deref().and_then(|n| self.ltv_by_name.get(n)))?;
        let versions = candidates
            .iter()
            .filter_map(|&i| self.snap.launch_template_versions.get(i));
        match spec.version.as_deref() {
            None | Some("$Default") => {
                let all: Vec<_> = versions.collect();
                all.iter()
                    .copied()
                    .find(|v| v.default_version)
                    .or_else(|| all.iter().copied().max_by_key(|v| v.version_number))
            }
            Some("$Latest") => versions.max_by_key(|v| v.version_number),
            Some(n) => {
                let n: i64 = n.parse().ok()?;
                versions.into_iter().find(|v| v.version_number == n)
            }
        }
    }

    /// The EC2 instances of a managed node group: tagged `eks:nodegroup-name` (and, when tagged,
    /// `eks:cluster-name`) or in one of its Auto Scaling groups. Terminated instances excluded.
    pub fn instances_of_nodegroup(&self, ng: &eks::Nodegroup) -> Vec<&'s Located<ec2::Instance>> {
        let asgs: Vec<&str> = ng
            .resources
            .iter()
            .flat_map(|r| r.auto_scaling_groups.iter())
            .filter_map(|a| a.name.as_deref())
            .collect();
        self.snap
            .instances
            .iter()
            .filter(|i| i.is_live())
            .filter(|i| {
                let by_tag = ec2::tag(&i.tags, "eks:nodegroup-name")
                    == Some(ng.nodegroup_name.as_str())
                    && ec2::tag(&i.tags, "eks:cluster-name")
                        .is_none_or(|c| ng.cluster_name.is_empty() || c == ng.cluster_name);
                let by_asg = ec2::tag(&i.tags, "aws:autoscaling:groupName")
                    .is_some_and(|g| asgs.contains(&g));
                by_tag || by_asg
            })
            .collect()
    }

    /// `iptables-save` dumps taken on an instance. A dump is tied to its node by its file name,
    /// which must contain the instance id, the private IP (`10.0.1.23` or `ip-10-0-1-23`) or the
    /// private DNS host name (`ip-10-0-1-23.us-west-2.compute.internal`).
    pub fn iptables_of_instance(
        &self,
        inst: &ec2::Instance,
    ) -> Vec<&'s Located<crate::node::IptablesSave>> {
        let mut keys: Vec<String> = Vec::new();
        if !inst.instance_id.is_empty() {
            keys.push(inst.instance_id.clone());
        }
        if let Some(ip) = inst.private_ip_address.as_deref().filter(|s| !s.is_empty()) {
            keys.push(ip.to_owned());
            keys.push(format!("ip-{}", ip.replace('.', "-")));
        }
        if let Some(host) = inst
            .private_dns_name
            .as_deref()
            .and_then(|d| d.split('.').next())
            .filter(|h| !h.is_empty())
        {
            keys.push(host.to_owned());
        }
        self.snap
            .iptables
            .iter()
            .filter(|d| {
                let file = d.loc.file.rsplit(['/', '\\']).next().unwrap_or(&d.loc.file);
                keys.iter().any(|k| contains_token(file, k))
            })
            .collect()
    }

    // ---- Network ----

    pub fn security_group(&self, id: &str) -> Option<&'s Located<ec2::SecurityGroup>> {
        self.sg_by_id
            .get(id)
            .and_then(|&i| self.snap.security_groups.get(i))
    }

    pub fn subnet(&self, id: &str) -> Option<&'s Located<ec2::Subnet>> {
        self.subnet_by_id
            .get(id)
            .and_then(|&i| self.snap.subnets.get(i))
    }

    /// The route table governing a subnet: its explicit association, else the main table of its
    /// VPC (`true` when explicit).
    pub fn route_table_for_subnet(
        &self,
        subnet_id: &str,
    ) -> Option<(&'s Located<ec2::RouteTable>, bool)> {
        if let Some(rt) = self
            .rt_by_subnet
            .get(subnet_id)
            .and_then(|&i| self.snap.route_tables.get(i))
        {
            return Some((rt, true));
        }
        let vpc = self.subnet(subnet_id)?.vpc_id.as_str();
        self.main_rt_by_vpc
            .get(vpc)
            .and_then(|&i| self.snap.route_tables.get(i))
            .map(|rt| (rt, false))
    }

    /// Load balancers that front a managed endpoint: by its security group, by the DNS name in
    /// `serverUrl`, or by a tag value naming the endpoint id.
    pub fn load_balancers_for_endpoint(
        &self,
        ep: &emr::Endpoint,
    ) -> Vec<(&'s Located<ec2::LoadBalancer>, LbMatch)> {
        let mut found: BTreeMap<usize, LbMatch> = BTreeMap::new();
        if let Some(sg) = ep.security_group.as_deref() {
            for &i in self.lb_by_sg.get(sg).into_iter().flatten() {
                found.entry(i).or_insert(LbMatch::SecurityGroup);
            }
        }
        if let Some(host) = ep.server_url.as_deref().and_then(url_host) {
            if let Some(&i) = self.lb_by_dns.get(&host.to_ascii_lowercase()) {
                found.entry(i).or_insert(LbMatch::DnsName);
            }
        }
        if !ep.id.is_empty() {
            for (i, lb) in self.snap.load_balancers.iter().enumerate() {
                if lb.tags.iter().any(|t| t.value.contains(ep.id.as_str())) {
                    found.entry(i).or_insert(LbMatch::Tag);
                }
            }
        }
        found
            .into_iter()
            .filter_map(|(i, m)| self.snap.load_balancers.get(i).map(|lb| (lb, m)))
            .collect()
    }

    // ---- Images ----

    /// Images named by a workload's Spark properties: `(property, image)`.
    pub fn images_of(&self, w: Workload) -> &[(&'static str, String)] {
        self.images_by_workload
            .get(&w)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every workload that names a custom image.
    pub fn workloads_with_images(
        &self,
    ) -> impl Iterator<Item = (Workload, &[(&'static str, String)])> + '_ {
        self.images_by_workload
            .iter()
            .map(|(w, v)| (*w, v.as_slice()))
    }

    pub fn ecr_repository(
        &self,
        registry: &str,
        name: &str,
    ) -> Option<&'s Located<ecr::Repository>> {
        self.ecr_repo_by_name
            .get(&(registry, name))
            .and_then(|&i| self.snap.ecr_repositories.get(i))
    }

    pub fn ecr_images(&self, registry: &str, name: &str) -> Vec<&'s Located<ecr::ImageDetail>> {
        self.ecr_images_by_repo
            .get(&(registry, name))
            .map(|v| {
                v.iter()
                    .filter_map(|&i| self.snap.ecr_images.get(i))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- Kubernetes ----

    /// Pods whose `status.podIP` (or one of `status.podIPs`) is `ip`.
    pub fn pods_with_ip(&self, ip: &str) -> Vec<&'s Located<k8s::Pod>> {
        self.snap
            .k8s
            .pods
            .iter()
            .filter(|p| {
                p.status.as_ref().is_some_and(|s| {
                    s.pod_ip.as_deref() == Some(ip)
                        || s.pod_ips.iter().flatten().any(|x| x.ip == ip)
                })
            })
            .collect()
    }

    /// Namespaces that appear anywhere in the snapshot (declared, or used by objects).
    pub fn known_namespaces(&self) -> BTreeSet<&'s str> {
        let mut out: BTreeSet<&str> = self.emr_namespaces.keys().copied().collect();
        for n in &self.snap.k8s.namespaces {
            if let Some(name) = n.metadata.name.as_deref() {
                out.insert(name);
            }
        }
        out
    }
}

fn images_in(props: Vec<(String, String)>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (k, v) in props {
        if let Some(key) = IMAGE_KEYS.iter().find(|ik| **ik == k) {
            if !v.is_empty() && !out.iter().any(|(kk, vv)| kk == key && *vv == v) {
                out.push((*key, v));
            }
        }
    }
    out
}

/// Whether `key` occurs in `text` not glued to more characters of the same kind on either side
/// (`10.0.1.2` is not found in `10.0.1.23`, `i-0abc` not in `i-0abcd`).
fn contains_token(text: &str, key: &str) -> bool {
    let same_kind = |c: char| c.is_ascii_alphanumeric();
    let mut start = 0;
    while let Some(pos) = text.get(start..).and_then(|t| t.find(key)) {
        let at = start + pos;
        let before = text.get(..at).and_then(|b| b.chars().next_back());
        let after = text.get(at + key.len()..).and_then(|a| a.chars().next());
        if !before.is_some_and(same_kind) && !after.is_some_and(same_kind) {
            return true;
        }
        start = at + key.len().max(1);
    }
    false
}

/// The host of an `https://host:port/path` URL.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceLoc;

    fn loc() -> SourceLoc {
        SourceLoc::new("t.json", "", None)
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://internal-k8s-abc.us-west-2.elb.amazonaws.com:18888/x"),
            Some("internal-k8s-abc.us-west-2.elb.amazonaws.com")
        );
        assert_eq!(url_host("https://a.b"), Some("a.b"));
        assert_eq!(url_host(""), None);
    }

    #[test]
    fn subnets_fall_back_to_the_main_route_table() {
        let mut s = Snapshot::default();
        s.subnets.push(Located::new(
            ec2::Subnet {
                subnet_id: "subnet-1".into(),
                vpc_id: "vpc-1".into(),
                ..Default::default()
            },
            loc(),
        ));
        s.subnets.push(Located::new(
            ec2::Subnet {
                subnet_id: "subnet-2".into(),
                vpc_id: "vpc-1".into(),
                ..Default::default()
            },
            loc(),
        ));
        s.route_tables.push(Located::new(
            ec2::RouteTable {
                route_table_id: "rtb-main".into(),
                vpc_id: "vpc-1".into(),
                associations: vec![ec2::RouteTableAssociation {
                    main: true,
                    ..Default::default()
                }],
                ..Default::default()
            },
            loc(),
        ));
        s.route_tables.push(Located::new(
            ec2::RouteTable {
                route_table_id: "rtb-2".into(),
                vpc_id: "vpc-1".into(),
                associations: vec![ec2::RouteTableAssociation {
                    subnet_id: Some("subnet-2".into()),
                    ..Default::default()
                }],
                ..Default::default()
            },
            loc(),
        ));
        let idx = EstateIndex::build(&s);
        let (rt, explicit) = idx.route_table_for_subnet("subnet-1").unwrap();
        assert_eq!((rt.route_table_id.as_str(), explicit), ("rtb-main", false));
        let (rt, explicit) = idx.route_table_for_subnet("subnet-2").unwrap();
        assert_eq!((rt.route_table_id.as_str(), explicit), ("rtb-2", true));
    }

    #[test]
    fn tokens_are_not_found_inside_longer_ones() {
        assert!(contains_token("node-ip-10-0-1-23.iptables", "ip-10-0-1-23"));
        assert!(!contains_token(
            "node-ip-10-0-1-234.iptables",
            "ip-10-0-1-23"
        ));
        assert!(contains_token("0001-10.0.1.23.iptables", "10.0.1.23"));
        assert!(!contains_token("110.0.1.23.iptables", "10.0.1.23"));
        assert!(contains_token(
            "i-05b977d4e1942e2db.iptables",
            "i-05b977d4e1942e2db"
        ));
    }

    #[test]
    fn nodes_join_their_node_group_and_iptables_dumps() {
        let mut s = Snapshot::default();
        let tag = |k: &str, v: &str| ec2::Tag {
            key: k.into(),
            value: v.into(),
        };
        s.instances.push(Located::new(
            ec2::Instance {
                instance_id: "i-1".into(),
                private_ip_address: Some("10.0.1.23".into()),
                tags: vec![
                    tag("eks:nodegroup-name", "ng-a"),
                    tag("eks:cluster-name", "c"),
                ],
                ..Default::default()
            },
            loc(),
        ));
        s.instances.push(Located::new(
            ec2::Instance {
                instance_id: "i-2".into(),
                tags: vec![tag("aws:autoscaling:groupName", "asg-b")],
                state: Some(ec2::InstanceState {
                    name: Some("terminated".into()),
                }),
                ..Default::default()
            },
            loc(),
        ));
        s.iptables.push(Located::new(
            crate::node::IptablesSave::default(),
            SourceLoc::new("snap/node-ip-10-0-1-23.iptables", "", Some(1)),
        ));
        let idx = EstateIndex::build(&s);
        let ng = eks::Nodegroup {
            nodegroup_name: "ng-a".into(),
            cluster_name: "c".into(),
            ..Default::default()
        };
        let found = idx.instances_of_nodegroup(&ng);
        assert_eq!(found.len(), 1);
        assert_eq!(idx.iptables_of_instance(found[0]).len(), 1);
        let ng_b = eks::Nodegroup {
            nodegroup_name: "ng-b".into(),
            resources: Some(eks::NodegroupResources {
                auto_scaling_groups: vec![eks::AutoScalingGroup {
                    name: Some("asg-b".into()),
                }],
                remote_access_security_group: None,
            }),
            ..Default::default()
        };
        assert!(idx.instances_of_nodegroup(&ng_b).is_empty(), "terminated");
    }

    #[test]
    fn launch_template_versions_resolve() {
        let mut s = Snapshot::default();
        for (n, def) in [(1, true), (2, false)] {
            s.launch_template_versions.push(Located::new(
                ec2::LaunchTemplateVersion {
                    launch_template_id: "lt-1".into(),
                    launch_template_name: "ng".into(),
                    version_number: n,
                    default_version: def,
                    ..Default::default()
                },
                loc(),
            ));
        }
        let idx = EstateIndex::build(&s);
        let mut ng = eks::Nodegroup {
            launch_template: Some(eks::LaunchTemplateSpec {
                id: Some("lt-1".into()),
                version: Some("$Latest".into()),
                name: None,
            }),
            ..Default::default()
        };
        assert_eq!(idx.launch_template_for(&ng).unwrap().version_number, 2);
        ng.launch_template = Some(eks::LaunchTemplateSpec {
            name: Some("ng".into()),
            version: Some("1".into()),
            id: None,
        });
        assert_eq!(idx.launch_template_for(&ng).unwrap().version_number, 1);
        ng.launch_template = Some(eks::LaunchTemplateSpec {
            name: Some("ng".into()),
            version: None,
            id: None,
        });
        assert_eq!(idx.launch_template_for(&ng).unwrap().version_number, 1);
    }

    #[test]
    fn images_from_submit_parameters_and_properties() {
        let mut s = Snapshot::default();
        let job: emr::JobRun = serde_json::from_str(
            r#"{"id":"j1","virtualClusterId":"vc1","jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"s3://b/x.py",
                 "sparkSubmitParameters":"--conf spark.kubernetes.container.image=1.dkr.ecr.us-west-2.amazonaws.com/a:1"}},
                "configurationOverrides":{"applicationConfiguration":[{"classification":"spark-defaults",
                 "properties":{"spark.kubernetes.driver.container.image":"1.dkr.ecr.us-west-2.amazonaws.com/b:2"}}]}}"#,
        )
        .unwrap();
        s.job_runs.push(Located::new(job, loc()));
        let idx = EstateIndex::build(&s);
        let imgs = idx.images_of(Workload::JobRun(0));
        assert_eq!(imgs.len(), 2);
        assert_eq!(imgs[0].1, "1.dkr.ecr.us-west-2.amazonaws.com/a:1");
    }
}

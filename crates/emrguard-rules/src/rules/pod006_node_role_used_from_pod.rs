use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Severity};
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// ## What it checks
    /// CloudTrail records (S3 delivery files) made with the credentials of a node role
    /// (`userIdentity.arn` `arn:aws:sts::<account>:assumed-role/<node role>/i-…`; node roles are
    /// the node groups' `nodeRole` and the roles of the instances' instance profiles) whose
    /// `sourceIPAddress` is the IP of a pod of the snapshot (`status.podIP`) that does not use
    /// the host network. Calls from the node's own IP are the node's and are not reported.
    /// High when the pod is in an EMR namespace.
    ///
    /// ## Why it matters
    /// It is the proof, not the risk: a pod obtained the node's instance-profile credentials
    /// from IMDS and used them. EMR on EKS pods must get credentials only from IRSA or EKS Pod
    /// Identity; a job that falls back to the node role acts with the permissions of every
    /// node (and every tenant) instead of its execution role, and its calls are logged under
    /// the node's identity.
    ///
    /// ## Example
    /// `{"eventName": "ListBuckets", "userIdentity": {"arn": "arn:aws:sts::111122223333:assumed-role/analytics-prod-eks-node-role/i-05b977d4e1942e2db"}, "sourceIPAddress": "10.0.1.87"}`
    /// where `10.0.1.87` is the IP of a Spark executor pod in `spark-team-a`.
    ///
    /// ## Remediation
    /// Block IMDS from pods (IMDSv2 with hop limit 1, or the iptables rule), fix the job's
    /// execution role so that its pods can assume it (see POD005), and review what the node
    /// role's credentials were used for (CloudTrail, the listed events).
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Restrict access to nodegroup IAM role or instance profile credentials"
    /// - CloudTrail userIdentity element (assumed-role sessions of instance profiles are named after the instance id)
    pub struct NodeRoleUsedFromPod;
    id = "POD006", name = "node-role-credentials-used-from-pod", practice = PodCredentials, severity = High,
    title = "CloudTrail shows a pod using the node role's credentials",
}

/// A pod, the node role used from its IP, the events `(name, time, session)` and their
/// locations.
type Hit<'s> = (
    &'s emrguard_model::Located<emrguard_model::k8s::Pod>,
    String,
    Vec<(String, String, String)>,
    Vec<emrguard_model::SourceLoc>,
);

impl Rule for NodeRoleUsedFromPod {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let index = cx.index;
        let snap = index.snap;
        if snap.cloudtrail.is_empty() {
            return Vec::new();
        }
        let mut node_roles: BTreeSet<String> = snap
            .nodegroups
            .iter()
            .filter_map(|n| n.node_role.as_deref())
            .map(|r| arn_resource_name(r).to_owned())
            .collect();
        let profiles: BTreeSet<&str> = snap
            .instances
            .iter()
            .filter_map(|i| i.iam_instance_profile.as_ref()?.arn.as_deref())
            .collect();
        for r in &snap.roles {
            if r.instance_profile_list
                .iter()
                .any(|p| profiles.contains(p.arn.as_str()))
            {
                node_roles.insert(r.role_name.clone());
            }
        }
        let node_ips: BTreeSet<&str> = snap
            .instances
            .iter()
            .filter_map(|i| i.private_ip_address.as_deref())
            .collect();
        // (pod namespace, pod name) → what CloudTrail shows for the pod's IP.
        let mut hits: BTreeMap<(String, String), Hit<'_>> = BTreeMap::new();
        for rec in &snap.cloudtrail {
            let Some(arn) = rec.user_identity.as_ref().and_then(|u| u.arn.as_deref()) else {
                continue;
            };
            let Some(rest) = arn.split_once(":assumed-role/").map(|(_, r)| r) else {
                continue;
            };
            let mut parts = rest.splitn(2, '/');
            let (Some(role), Some(session)) = (parts.next(), parts.next()) else {
                continue;
            };
            if !node_roles.contains(role) {
                continue;
            }
            let Some(ip) = rec.source_ip_address.as_deref() else {
                continue;
            };
            if ip.parse::<std::net::IpAddr>().is_err() || node_ips.contains(ip) {
                continue;
            }
            for pod in index.pods_with_ip(ip) {
                let host = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.host_network)
                    .unwrap_or(false);
                if host {
                    continue;
                }
                let key = (
                    pod.metadata.namespace.clone().unwrap_or_default(),
                    pod.metadata.name.clone().unwrap_or_default(),
                );
                let e = hits
                    .entry(key)
                    .or_insert_with(|| (pod, role.to_owned(), Vec::new(), Vec::new()));
                e.2.push((
                    rec.event_name.clone().unwrap_or_else(|| "?".to_owned()),
                    rec.event_time.clone().unwrap_or_default(),
                    session.to_owned(),
                ));
                e.3.push(rec.loc.clone());
            }
        }
        let mut out = Vec::new();
        for ((ns, name), (pod, role, events, locs)) in hits {
            let emr = index.is_emr_namespace(&ns);
            let ip = pod
                .status
                .as_ref()
                .and_then(|s| s.pod_ip.clone())
                .unwrap_or_default();
            let ev: Vec<String> = events
                .iter()
                .map(|(n, t, s)| format!("{n} at {t} (session {s})"))
                .collect();
            let mut b = self
                .finding(k8s_ref(Kind::Pod, &pod.metadata))
                .severity(if emr { Severity::High } else { Severity::Medium })
                .namespace(Some(ns.as_str()).filter(|_| emr))
                .discriminator(role.clone())
                .message(format!(
                    "CloudTrail shows node role `{role}` used from {ip}, the IP of pod `{name}` in {}namespace `{ns}`: {}. The pod obtained the node's instance-profile credentials from IMDS instead of using its own IRSA or Pod Identity role.",
                    if emr { "EMR " } else { "" },
                    ev.join("; ")
                ))
                .remediation("Block IMDS from pods (launch template `HttpTokens: required`, `HttpPutResponseHopLimit: 1`, or the documented iptables rule), make the job's execution role assumable by its service accounts (`aws emr-containers update-role-trust-policy ...`), and review the listed calls in CloudTrail.")
                .step(k8s_step(Kind::Pod, &pod.metadata).detail(format!("podIP = {ip}")))
                .step(PathStep::new(Kind::IamRole, role.clone()).detail(format!("{} CloudTrail event(s) from the pod IP", events.len())))
                .location(&pod.loc);
            for l in &locs {
                b = b.location(l);
            }
            out.push(b.build());
        }
        out
    }
}

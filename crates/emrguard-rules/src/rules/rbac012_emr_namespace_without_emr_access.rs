use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep, Ref};
use emrguard_rbac::identity::{is_emr_service_linked_role, EMR_USER};

declare_rule! {
    /// ## What it checks
    /// Namespaces with a live virtual cluster where EMR has no working access: neither the
    /// classic setup (a RoleBinding in the namespace that binds Role `emr-containers` of the
    /// namespace, or ClusterRole `emr-containers`, to the user `emr-containers`, with that user
    /// mapped from `AWSServiceRoleForAmazonEMRContainers` in `aws-auth` or an access entry) nor the
    /// access-entry setup (the service-linked role's access entry with `AmazonEMRJobPolicy`
    /// associated to the namespace, or cluster-wide). Only checked when the snapshot holds
    /// Kubernetes RBAC objects or access entries, so an AWS-only snapshot raises nothing.
    ///
    /// One finding per cause: when no IAM principal is mapped to the user `emr-containers`, one
    /// finding on the cluster lists every EMR namespace left without access (one mapping fixes
    /// them all); a namespace without its RoleBinding is a finding of its own.
    ///
    /// ## Why it matters
    /// Jobs in the virtual cluster fail, and the usual "fix" under time pressure is to bind
    /// something broad (`cluster-admin`, `edit`) to EMR or to the submitters. A missing or renamed
    /// `emr-containers` Role is also how drift from EMR's published permissions starts.
    ///
    /// ## Example
    /// ```text
    /// virtual cluster analytics-team-c → namespace spark-team-c
    /// no RoleBinding spark-team-c/* → Role emr-containers ← User emr-containers
    /// no access entry AWSServiceRoleForAmazonEMRContainers + AmazonEMRJobPolicy for spark-team-c
    ///
    /// Role AWSServiceRoleForAmazonEMRContainers (mapped to user emr-containers: nowhere)
    /// → Namespace 400 EMR namespaces (no working EMR access)
    /// ```
    ///
    /// ## Remediation
    /// `eksctl create iamidentitymapping --cluster CLUSTER --namespace NS --service-name
    /// emr-containers`, or (new virtual clusters, EKS 1.23+ with `API_AND_CONFIG_MAP`) let EMR
    /// create the access entry and associate `AmazonEMRJobPolicy` scoped to the namespace.
    ///
    /// ## References
    /// - EMR on EKS developer guide, "Enable cluster access for Amazon EMR on EKS" (manual steps and access entries)
    /// - eksctl `pkg/authconfigmap/service_access.go`
    pub struct EmrNamespaceWithoutEmrAccess;
    id = "RBAC012", name = "emr-namespace-without-emr-access", practice = Rbac, severity = Low,
    title = "EMR namespace without working EMR access",
}

impl Rule for EmrNamespaceWithoutEmrAccess {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let snap = cx.index.snap;
        let k = &snap.k8s;
        let has_rbac = !k.roles.is_empty()
            || !k.role_bindings.is_empty()
            || !k.cluster_role_bindings.is_empty();
        if !has_rbac && snap.access_entries.is_empty() {
            return Vec::new();
        }
        let view = cx.rbac();
        // Any principal mapped to the user works for the classic path (normally the EMR
        // service-linked role, written with or without its path).
        let user_mapped = view
            .identities
            .mappings()
            .iter()
            .any(|m| m.username == EMR_USER);
        // Namespaces where Role emr-containers exists, and where a RoleBinding binds it (or the
        // ClusterRole) to the user: one pass over the objects, not one per namespace.
        let cluster_role = k
            .cluster_roles
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some("emr-containers"));
        let roles: std::collections::HashSet<&str> = k
            .roles
            .iter()
            .filter(|r| r.metadata.name.as_deref() == Some("emr-containers"))
            .filter_map(|r| r.metadata.namespace.as_deref())
            .collect();
        let binds_user = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
            subjects
                .iter()
                .flatten()
                .any(|s| s.kind == "User" && s.name == EMR_USER)
        };
        let bound: std::collections::HashSet<&str> = k
            .role_bindings
            .iter()
            .filter(|b| b.role_ref.name == "emr-containers" && binds_user(&b.subjects))
            .filter_map(|b| {
                let ns = b.metadata.namespace.as_deref()?;
                let ok = match b.role_ref.kind.as_str() {
                    "Role" => roles.contains(ns),
                    "ClusterRole" => cluster_role,
                    _ => false,
                };
                ok.then_some(ns)
            })
            .collect();
        let cluster_bound = cluster_role
            && k.cluster_role_bindings.iter().any(|b| {
                b.role_ref.kind == "ClusterRole"
                    && b.role_ref.name == "emr-containers"
                    && binds_user(&b.subjects)
            });
        let covered_by_entry = |ns: &str| {
            view.identities.access_policy_bindings().iter().any(|p| {
                is_emr_service_linked_role(&p.principal_arn)
                    && p.policy_name == "AmazonEMRJobPolicy"
                    && p.scope.covers(ns)
            })
        };
        // Two causes, each one finding: the user `emr-containers` mapped from nothing (one
        // cluster-wide cause, listing every namespace it leaves without access), and a namespace
        // without its RoleBinding (one cause per namespace: the fix is that namespace's binding).
        let mut unmapped: Vec<String> = Vec::new();
        let mut unbound: Vec<&str> = Vec::new();
        for ns in cx.index.emr_namespaces() {
            if covered_by_entry(ns) {
                continue;
            }
            if !user_mapped {
                unmapped.push(ns.to_owned());
            }
            if !(cluster_bound || bound.contains(ns)) {
                unbound.push(ns);
            }
        }
        let values = crate::values::EstateValues::of(cx.index);
        let cluster = values.cluster();
        let mut out = Vec::new();
        if !unmapped.is_empty() {
            let n = unmapped.len();
            let scope = crate::util::scope_phrase(&unmapped, false);
            let mut b = self
                .finding(Ref::aws(Kind::EksCluster, cluster, None))
                .namespaces(unmapped.clone())
                .message(format!(
                    "No aws-auth entry or access entry maps AWSServiceRoleForAmazonEMRContainers to user `emr-containers`, and no `AmazonEMRJobPolicy` access entry covers {}: EMR has no working access {scope} (RoleBindings to user `emr-containers` grant nothing while no IAM principal becomes that user).",
                    if n == 1 { "that namespace" } else { "them" },
                ))
                .remediation({
                    let (p, a) = (values.partition(), values.account());
                    let slr = format!("arn:{p}:iam::{a}:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers");
                    format!(
                        "Map the service-linked role once, either in aws-auth (`eksctl create iamidentitymapping --cluster {cluster} --arn arn:{p}:iam::{a}:role/AWSServiceRoleForAmazonEMRContainers --username emr-containers`; aws-auth takes the role without its path) or with an access entry (`aws eks create-access-entry --cluster-name {cluster} --principal-arn {slr}`, then `aws eks associate-access-policy --cluster-name {cluster} --principal-arn {slr} --policy-arn arn:{p}:eks::aws:cluster-access-policy/AmazonEMRJobPolicy --access-scope type=namespace,namespaces={}`).",
                        unmapped.join(",")
                    )
                })
                .step(
                    PathStep::new(Kind::IamRole, "AWSServiceRoleForAmazonEMRContainers")
                        .arn(Some(&format!(
                            "arn:{}:iam::{}:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers",
                            values.partition(),
                            values.account()
                        )))
                        .detail("mapped to user emr-containers: nowhere"),
                );
            // One step for the reach (the namespaces are listed in `namespaces`), as RBAC015.
            b = b.step(
                PathStep::new(
                    Kind::Namespace,
                    if n == 1 {
                        unmapped.first().cloned().unwrap_or_default()
                    } else {
                        format!("{n} EMR namespaces")
                    },
                )
                .detail("no working EMR access"),
            );
            for ns in &unmapped {
                for v in cx.index.virtual_clusters_on(ns) {
                    b = b.location(&v.loc);
                }
            }
            out.push(b.build());
        }
        for ns in unbound {
            let vcs = cx.index.virtual_clusters_on(ns);
            let names: Vec<String> = vcs
                .iter()
                .map(|v| format!("{} ({})", v.name, v.id))
                .collect();
            let mut b = self
                .finding(Ref::k8s(Kind::Namespace, None, ns))
                .namespace(Some(ns))
                .virtual_cluster(vcs.first().map(|v| v.id.as_str()))
                .message(format!(
                    "Namespace `{ns}` hosts virtual cluster{} {} but EMR has no working access to it: no RoleBinding of Role `emr-containers` to user `emr-containers`, and no `AmazonEMRJobPolicy` access entry of AWSServiceRoleForAmazonEMRContainers scoped to it.",
                    if names.len() == 1 { "" } else { "s" },
                    crate::util::join_words(&names),
                ))
                .remediation(format!(
                    "Run `eksctl create iamidentitymapping --cluster {cluster} --namespace {ns} --service-name emr-containers`, or associate `AmazonEMRJobPolicy` to the EMR service-linked role's access entry with namespace scope `{ns}`."
                ));
            for v in &vcs {
                b = b
                    .step(
                        PathStep::new(Kind::VirtualCluster, v.name.clone())
                            .arn(Some(&v.arn))
                            .detail(format!("namespace {ns}")),
                    )
                    .location(&v.loc);
            }
            out.push(b.build());
        }
        out
    }
}

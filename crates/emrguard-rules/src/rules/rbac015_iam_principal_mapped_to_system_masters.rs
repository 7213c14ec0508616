use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Capability, Finding, Kind, PathStep, Ref};
use emrguard_rbac::identity::{iam_subject, MappingSource};
use emrguard_rbac::{is_exempt, SUPERUSER_GROUP};

declare_rule! {
    /// ## What it checks
    /// IAM principals that an `aws-auth` entry (`mapRoles`, `mapUsers`: `groups`) or an EKS access
    /// entry (`kubernetesGroups`) maps into the group `system:masters`, and that are not declared
    /// administrators (`[administrators] iam_arns` in `emrguard.toml`). One finding per principal,
    /// listing the EMR namespaces it reaches.
    ///
    /// The group itself, with no principal mapped into it, is silent: the bootstrap
    /// `cluster-admin` ClusterRoleBinding to `system:masters` exists on every cluster. Entries that
    /// do not take effect are skipped: an `aws-auth` role ARN with a path (EKS does not match it)
    /// and an `aws-auth` entry shadowed by an access entry of the same principal.
    ///
    /// ## Why it matters
    /// The API server authorizes `system:masters` for every request before RBAC is consulted, and no
    /// binding or admission rule narrows it: the principal is cluster-admin. In every EMR namespace
    /// it can modify EMR's configmaps, exec into and create pods, read secrets, deploy mutating
    /// webhooks and grant itself anything else, and `kubectl auth can-i` or RBAC reviews show no
    /// binding that explains it. Someone chose this mapping; it must be a deliberate, declared
    /// administrator, not a convenience shortcut for a CI role or a team.
    ///
    /// ## Example
    /// ```yaml
    /// # aws-auth mapRoles
    /// - rolearn: arn:aws:iam::111122223333:role/github-actions-deployer
    ///   username: github-actions
    ///   groups: [system:masters]
    /// ```
    ///
    /// ## Remediation
    /// If the principal is a cluster administrator on purpose, declare it:
    /// `[administrators] iam_arns = ["arn:aws:iam::111122223333:role/platform-admin"]` in
    /// `emrguard.toml` (it is then listed in the report as an administrator, and the admission
    /// webhook lets it through). Otherwise remove `system:masters` from the entry's groups
    /// (`kubectl edit configmap aws-auth -n kube-system`, or `aws eks update-access-entry
    /// --kubernetes-groups`) and grant what the principal needs with a RoleBinding or an access
    /// policy scoped to its own namespaces.
    ///
    /// ## References
    /// - Kubernetes documentation, "Using RBAC Authorization", default roles: `system:masters`
    ///   bypasses authorization
    /// - EKS user guide, "Grant IAM users and roles access to Kubernetes APIs" (aws-auth) and
    ///   "Create access entries"
    /// - EKS best practices guide, security, "Identity and access management": avoid mapping
    ///   principals to `system:masters`
    pub struct IamPrincipalMappedToSystemMasters;
    id = "RBAC015", name = "iam-principal-mapped-to-system-masters", practice = Rbac, severity = Critical,
    title = "IAM principal is mapped to system:masters (cluster-admin) and not declared",
}

impl Rule for IamPrincipalMappedToSystemMasters {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let view = cx.rbac();
        let mut emr: Vec<String> = cx.index.emr_namespaces().map(str::to_owned).collect();
        emr.sort();
        emr.dedup();
        // One finding per principal, with every entry that maps it.
        let mut by_principal: std::collections::BTreeMap<String, Vec<&emrguard_rbac::Mapping>> =
            Default::default();
        for m in view.identities.mappings() {
            if !m.groups.iter().any(|g| g == SUPERUSER_GROUP) || m.path_in_arn || m.shadowed {
                continue;
            }
            if matches!(m.source, MappingSource::AwsAuthMapAccounts(_)) {
                continue;
            }
            by_principal
                .entry(emrguard_rbac::identity::canonical_principal(&m.principal))
                .or_default()
                .push(m);
        }
        let caps: Vec<&str> = Capability::ALL.iter().map(|c| c.slug()).collect();
        let mut out = Vec::new();
        for (principal, maps) in by_principal {
            let subject = iam_subject(&principal);
            if is_exempt(&subject, &view.exemptions).is_some() {
                continue;
            }
            let entries: Vec<String> = maps.iter().map(|m| describe_entry(m)).collect();
            let reach = crate::util::scope_phrase(&emr, true);
            let message = format!(
                "{} `{}` is mapped into group `system:masters` by {}: the API server authorizes that group for everything before RBAC, so it is cluster-admin and, {}, holds every capability job submitters must not ({}). It is not declared under [administrators].",
                subject.kind,
                principal,
                crate::util::join_words(&entries),
                if emr.is_empty() { "in every namespace".to_owned() } else { reach },
                caps.join(", "),
            );
            let cluster = cx
                .index
                .snap
                .clusters
                .first()
                .map(|c| c.name.as_str())
                .filter(|n| !n.is_empty())
                .unwrap_or("CLUSTER");
            let undo = if maps.iter().any(|m| m.source == MappingSource::AccessEntry) {
                format!("remove it from the access entry's groups (`aws eks update-access-entry --cluster-name {cluster} --principal-arn {principal} --kubernetes-groups ...` without system:masters)")
            } else {
                "remove `system:masters` from its groups in `aws-auth` (`kubectl edit configmap aws-auth -n kube-system`)".to_owned()
            };
            let remediation = format!(
                "If `{principal}` is a cluster administrator on purpose, declare it in emrguard.toml: [administrators] iam_arns = [\"{principal}\"] (it is then listed as an administrator, not reported). Otherwise {undo}, and grant what it needs with a RoleBinding or an access policy scoped to its own namespaces."
            );
            let alternatives: Vec<PathStep> = maps
                .iter()
                .map(|m| m.path_step().arn(Some(&m.principal)))
                .collect();
            let mut path = vec![
                PathStep::new(subject_kind(&principal), subject.name.clone()).arn(Some(&principal)),
                PathStep::fork(
                    Kind::AwsAuthEntry,
                    format!("{} mapping entries", alternatives.len()),
                    alternatives,
                ),
                PathStep::new(Kind::Group, SUPERUSER_GROUP),
                PathStep::new(Kind::SuperuserGroup, SUPERUSER_GROUP)
                    .detail("authorized for every request by the API server, before RBAC"),
            ];
            if !emr.is_empty() {
                path.push(
                    PathStep::new(Kind::Namespace, format!("all {} EMR namespaces", emr.len()))
                        .detail(emr.join(", ")),
                );
            }
            let mut b = self
                .finding(Ref::aws(
                    subject_kind(&principal),
                    subject.name.clone(),
                    Some(&principal),
                ))
                .subject(subject)
                .namespaces(emr.clone())
                .message(message)
                .remediation(remediation)
                .path(path);
            for m in &maps {
                if let Some(l) = &m.loc {
                    b = b.location(l);
                }
            }
            out.push(b.build());
        }
        out
    }
}

fn subject_kind(arn: &str) -> Kind {
    Kind::of_iam_arn(arn)
}

fn describe_entry(m: &emrguard_rbac::Mapping) -> String {
    match &m.source {
        MappingSource::AwsAuthMapRoles(i) => format!("aws-auth mapRoles[{i}]"),
        MappingSource::AwsAuthMapUsers(i) => format!("aws-auth mapUsers[{i}]"),
        MappingSource::AwsAuthMapAccounts(i) => format!("aws-auth mapAccounts[{i}]"),
        MappingSource::AccessEntry => "its access entry's kubernetesGroups".to_owned(),
        MappingSource::ClusterCreator => "the cluster creator's access".to_owned(),
    }
}

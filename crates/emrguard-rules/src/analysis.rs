//! Engine results shared by rules, computed once per run and only when a rule asks.

use emrguard_iam::{analyze, PolicyStore, PrincipalPolicies, PrivilegeTier, RiskReport};
use emrguard_model::aws::iam::arn_resource_name;
use emrguard_model::EstateIndex;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One IAM principal: its policies and, computed on first use, its risk classes.
pub struct PrincipalIam {
    pub policies: PrincipalPolicies,
    report: OnceLock<RiskReport>,
}

impl PrincipalIam {
    fn new(policies: PrincipalPolicies) -> PrincipalIam {
        PrincipalIam {
            policies,
            report: OnceLock::new(),
        }
    }

    /// The principal's risk classes. Rules ask about execution roles, node roles and submitter
    /// candidates only: analysing every principal of a 10,000-role account up front cost more
    /// than all the rules together.
    pub fn report(&self) -> &RiskReport {
        self.report.get_or_init(|| analyze(&self.policies))
    }

    /// Administrator, even only under conditions: IAM001 reports it, and the narrower
    /// least-privilege rules would only repeat it.
    pub fn is_administrator(&self) -> bool {
        self.report()
            .get(emrguard_iam::RiskClass::Administrator)
            .is_some()
    }
}

/// Every role and user of the snapshot through the IAM engine.
pub struct IamView {
    pub store: PolicyStore,
    roles: HashMap<String, PrincipalIam>,
    role_names: HashMap<String, String>,
    users: HashMap<String, PrincipalIam>,
}

impl IamView {
    pub fn build(index: &EstateIndex<'_>) -> IamView {
        let snap = index.snap;
        let store = PolicyStore::from_managed(snap.policies.iter().map(|p| &p.value));
        let roles: HashMap<String, PrincipalIam> = snap
            .roles
            .par_iter()
            .map(|r| {
                let policies = store.principal_from_role(r);
                (r.arn.clone(), PrincipalIam::new(policies))
            })
            .collect();
        let role_names = snap
            .roles
            .iter()
            .map(|r| (r.role_name.clone(), r.arn.clone()))
            .collect();
        let users: HashMap<String, PrincipalIam> = snap
            .users
            .par_iter()
            .map(|u| {
                let policies =
                    store.principal_from_user(u, &|g: &str| index.group(g).map(|l| &l.value));
                (u.arn.clone(), PrincipalIam::new(policies))
            })
            .collect();
        IamView {
            store,
            roles,
            role_names,
            users,
        }
    }

    /// A role by ARN, or by name when the ARN lacks the role's path.
    pub fn role(&self, arn: &str) -> Option<&PrincipalIam> {
        self.roles.get(arn).or_else(|| {
            let full = self.role_names.get(arn_resource_name(arn))?;
            self.roles.get(full)
        })
    }

    pub fn user(&self, arn: &str) -> Option<&PrincipalIam> {
        self.users.get(arn)
    }

    /// A role or user by ARN.
    pub fn principal(&self, arn: &str) -> Option<&PrincipalIam> {
        self.role(arn).or_else(|| self.user(arn))
    }

    pub fn tier(&self, arn: &str) -> Option<PrivilegeTier> {
        self.principal(arn).map(|p| p.report().tier)
    }

    /// Roles and users, in ARN order.
    pub fn principals(&self) -> Vec<(&str, &PrincipalIam)> {
        let mut v: Vec<(&str, &PrincipalIam)> = self
            .roles
            .iter()
            .chain(self.users.iter())
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

use emrguard_rbac::{
    aws_auth_from_config_maps, AccessEntryInput, AwsAuthError, ClusterCreator, Exemptions,
    IdentityMap, RbacGraph, RbacObjects,
};

/// Kubernetes RBAC of the snapshot through the RBAC engine, joined to the IAM principals behind
/// each Kubernetes identity.
pub struct RbacView {
    pub graph: RbacGraph,
    pub identities: IdentityMap,
    /// A malformed `aws-auth` ConfigMap (the mappings it has are then unknown).
    pub aws_auth_error: Option<AwsAuthError>,
    /// Who is never a job submitter beyond EMR and system identities: the declared administrators.
    pub exemptions: Exemptions,
    /// Job submitters' capabilities per EMR namespace ([`crate::rbac_support::Submitters::of`]).
    pub submitters: std::sync::OnceLock<crate::rbac_support::Submitters>,
}

impl RbacView {
    pub fn build(index: &EstateIndex<'_>, config: &emrguard_config::Config) -> RbacView {
        let snap = index.snap;
        let cluster = snap.clusters.first();
        // authenticationMode API ignores aws-auth entirely.
        let api_only = cluster
            .and_then(|c| c.access_config.as_ref())
            .and_then(|a| a.authentication_mode.as_deref())
            == Some("API");
        let (aws_auth, aws_auth_error) = match aws_auth_from_config_maps(&snap.k8s.config_maps) {
            Some(Ok(a)) if !api_only => (Some(a), None),
            Some(Err(e)) if !api_only => (None, Some(e)),
            _ => (None, None),
        };
        let entries: Vec<AccessEntryInput> = snap
            .access_entries
            .iter()
            .map(|e| AccessEntryInput::from_model(e, &snap.associated_access_policies))
            .collect();
        let creator = ClusterCreator {
            bootstrap_admin: cluster
                .and_then(|c| c.access_config.as_ref())
                .and_then(|a| a.bootstrap_cluster_creator_admin_permissions)
                .unwrap_or(false),
            creator_arn: None,
            loc: cluster.map(|c| c.loc.clone()),
        };
        let identities = IdentityMap::new(aws_auth.as_ref(), &entries, &creator);
        let graph = RbacGraph::new(RbacObjects {
            roles: &snap.k8s.roles,
            cluster_roles: &snap.k8s.cluster_roles,
            role_bindings: &snap.k8s.role_bindings,
            cluster_role_bindings: &snap.k8s.cluster_role_bindings,
            access_policies: identities.access_policy_bindings(),
        });
        let a = &config.administrators;
        let exemptions = Exemptions {
            users: a.kubernetes_users.clone(),
            groups: a.kubernetes_groups.clone(),
            service_accounts: a.kubernetes_service_accounts.clone(),
            iam_arns: a.iam_arns.clone(),
        };
        RbacView {
            graph,
            identities,
            aws_auth_error,
            exemptions,
            submitters: std::sync::OnceLock::new(),
        }
    }
}

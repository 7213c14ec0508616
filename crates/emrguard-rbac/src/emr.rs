//! EMR on EKS's own RBAC: the `emr-containers` Role and the per-job roles
//! `emr-containers-role-spark-{client,driver}`, compared with the published variants
//! (`data/emr-role-variants.yaml`, with sources) by a superset/subset model:
//!
//! - the published variants drift (spec domain.md §2.2, §10.4), so a real role is compared with
//!   their **union**: [`rules_beyond_published`] lists the verbs of each rule that no variant
//!   grants for that API group and resource;
//! - comparison is literal per (verb, apiGroup, resource) triple. A `*` in the real role is an
//!   extra unless a variant has `*` there too (none does); a `resourceNames` restriction only
//!   narrows, so it never makes a covered triple an extra; `nonResourceURLs` are always extras;
//! - the per-job roles have no published rule list: their bound is the union of the
//!   `emr-containers` variants (EMR writes them as the user `emr-containers`, and RBAC only lets
//!   it write what it holds) plus the documented patches for driver and client.
//!
//! [`check_emr_binding`] says whether a binding to one of these roles binds only EMR.

use crate::exempt::is_emr_service_account;
use crate::graph::split_sa_username;
use crate::identity::EMR_USER;
use emrguard_model::Subject;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleRef, Subject as K8sSubject};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::OnceLock;

/// One of EMR's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EmrRole {
    /// Role `emr-containers` (eksctl / the EMR docs' manual steps).
    Containers,
    /// ClusterRole `emr-containers` (the Lake Formation setup in the EMR docs).
    ContainersClusterRole,
    /// Role `emr-containers-role-spark-client` (created by EMR per execution role).
    SparkClient,
    /// Role `emr-containers-role-spark-driver` (created by EMR per execution role).
    SparkDriver,
}

impl EmrRole {
    /// The `emrguard.dev/applies-to` value of its variants.
    fn key(self) -> &'static str {
        match self {
            EmrRole::Containers => "emr-containers",
            EmrRole::ContainersClusterRole => "emr-containers-clusterrole",
            EmrRole::SparkClient => "emr-containers-role-spark-client",
            EmrRole::SparkDriver => "emr-containers-role-spark-driver",
        }
    }
}

/// Recognise EMR's roles by kind (`Role` / `ClusterRole`) and name.
pub fn classify_role(kind: &str, name: &str) -> Option<EmrRole> {
    match (kind, name) {
        ("Role", "emr-containers") => Some(EmrRole::Containers),
        ("ClusterRole", "emr-containers") => Some(EmrRole::ContainersClusterRole),
        ("Role", "emr-containers-role-spark-client") => Some(EmrRole::SparkClient),
        ("Role", "emr-containers-role-spark-driver") => Some(EmrRole::SparkDriver),
        _ => None,
    }
}

/// A published variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// `eksctl-main`, `best-practices`, ...
    pub name: String,
    pub applies_to: String,
    pub source: String,
    pub rules: Vec<PolicyRule>,
}

struct Variants {
    list: Vec<Variant>,
    error: Option<String>,
}

fn load() -> &'static Variants {
    static V: OnceLock<Variants> = OnceLock::new();
    V.get_or_init(|| {
        let mut list = Vec::new();
        let mut error = None;
        for doc in
            serde_yaml_ng::Deserializer::from_str(include_str!("../data/emr-role-variants.yaml"))
        {
            match Role::deserialize(doc) {
                Ok(role) => {
                    let ann = role.metadata.annotations.unwrap_or_default();
                    let get = |k: &str| ann.get(k).cloned().unwrap_or_default();
                    list.push(Variant {
                        name: get("emrguard.dev/variant"),
                        applies_to: get("emrguard.dev/applies-to"),
                        source: get("emrguard.dev/source"),
                        rules: role.rules.unwrap_or_default(),
                    });
                }
                Err(e) => error = Some(e.to_string()),
            }
        }
        Variants { list, error }
    })
}

/// Every published variant shipped in the crate.
pub fn variants() -> &'static [Variant] {
    &load().list
}

/// A parse error of the shipped data (a bug; tested to be `None`).
pub fn variants_error() -> Option<&'static str> {
    load().error.as_deref()
}

/// The variants whose union bounds `role`.
pub fn published_variants(role: EmrRole) -> Vec<&'static Variant> {
    // Every EMR role is bounded by the emr-containers variants plus its own.
    let keys = [EmrRole::Containers.key(), role.key()];
    variants()
        .iter()
        .filter(|v| keys.contains(&v.applies_to.as_str()))
        .collect()
}

/// Part of a real rule that no published variant grants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExcessRule {
    /// Index of the rule in the real role.
    pub index: usize,
    pub api_group: String,
    /// A resource, or `nonResourceURL:<path>`.
    pub resource: String,
    /// The verbs beyond the published union for this group and resource.
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
}

fn triples(role: EmrRole) -> HashSet<(String, String, String)> {
    let mut out = HashSet::new();
    for v in published_variants(role) {
        for r in &v.rules {
            for g in r.api_groups.iter().flatten() {
                for res in r.resources.iter().flatten() {
                    for verb in &r.verbs {
                        out.insert((verb.clone(), g.clone(), res.clone()));
                    }
                }
            }
        }
    }
    out
}

/// The parts of `rules` (a real EMR role) beyond the union of the published variants; empty
/// when the role is within it.
pub fn rules_beyond_published(role: EmrRole, rules: &[PolicyRule]) -> Vec<ExcessRule> {
    let allowed = triples(role);
    let mut out = Vec::new();
    for (index, r) in rules.iter().enumerate() {
        let names = r.resource_names.clone().unwrap_or_default();
        for g in r.api_groups.iter().flatten() {
            for res in r.resources.iter().flatten() {
                let verbs: Vec<String> = r
                    .verbs
                    .iter()
                    .filter(|v| !allowed.contains(&((*v).clone(), g.clone(), res.clone())))
                    .cloned()
                    .collect();
                if !verbs.is_empty() {
                    out.push(ExcessRule {
                        index,
                        api_group: g.clone(),
                        resource: res.clone(),
                        verbs,
                        resource_names: names.clone(),
                    });
                }
            }
        }
        for url in r.non_resource_urls.iter().flatten() {
            out.push(ExcessRule {
                index,
                api_group: String::new(),
                resource: format!("nonResourceURL:{url}"),
                verbs: r.verbs.clone(),
                resource_names: Vec::new(),
            });
        }
    }
    out
}

/// A binding to one of EMR's roles, and the subjects in it that are not EMR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmrBindingCheck {
    pub role: EmrRole,
    /// Empty: the binding binds only EMR.
    pub non_emr_subjects: Vec<Subject>,
}

/// For a binding (`binding_namespace` = `None` for a ClusterRoleBinding) whose `roleRef` is one of
/// EMR's roles: which subjects are not EMR. `None` when the roleRef is not an EMR role.
///
/// EMR's subjects: for `emr-containers` (Role or ClusterRole), only the User `emr-containers`;
/// for the per-job roles, only EMR-created service accounts (`emr-containers-sa-*`,
/// `emr-container-sa-spark-livy`) in the binding's own namespace (also written as User
/// `system:serviceaccount:<ns>:<name>`). Anything else (a custom service account bound to the
/// driver role, `default`, a group) receives EMR's permissions and is reported.
pub fn check_emr_binding(
    role_ref: &RoleRef,
    subjects: &[K8sSubject],
    binding_namespace: Option<&str>,
) -> Option<EmrBindingCheck> {
    let role = classify_role(&role_ref.kind, &role_ref.name)?;
    let is_emr = |s: &K8sSubject| -> bool {
        match role {
            EmrRole::Containers | EmrRole::ContainersClusterRole => {
                s.kind == "User" && s.name == EMR_USER
            }
            EmrRole::SparkClient | EmrRole::SparkDriver => {
                let (ns, name) = match s.kind.as_str() {
                    "ServiceAccount" => (
                        s.namespace.as_deref().or(binding_namespace),
                        s.name.as_str(),
                    ),
                    "User" => match split_sa_username(&s.name) {
                        Some((ns, name)) => (Some(ns), name),
                        None => return false,
                    },
                    _ => return false,
                };
                binding_namespace.is_some()
                    && ns == binding_namespace
                    && is_emr_service_account(name)
            }
        }
    };
    let non_emr_subjects = subjects
        .iter()
        .filter(|s| !is_emr(s))
        .map(|s| Subject {
            kind: s.kind.clone(),
            name: s.name.clone(),
            namespace: match s.kind.as_str() {
                "ServiceAccount" => s
                    .namespace
                    .clone()
                    .or_else(|| binding_namespace.map(str::to_owned)),
                _ => None,
            },
            arn: None,
            iam_principals: Vec::new(),
        })
        .collect();
    Some(EmrBindingCheck {
        role,
        non_emr_subjects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PolicyRule {
            verbs: s(verbs),
            api_groups: Some(s(groups)),
            resources: Some(s(resources)),
            ..Default::default()
        }
    }

    #[test]
    fn data_parses_and_every_role_has_variants() {
        assert_eq!(variants_error(), None);
        assert!(variants().len() >= 9);
        for v in variants() {
            assert!(
                !v.name.is_empty() && !v.source.is_empty() && !v.rules.is_empty(),
                "{v:?}"
            );
        }
        for r in [
            EmrRole::Containers,
            EmrRole::ContainersClusterRole,
            EmrRole::SparkClient,
            EmrRole::SparkDriver,
        ] {
            assert!(
                published_variants(r)
                    .iter()
                    .any(|v| v.applies_to == r.key()),
                "{r:?}"
            );
        }
    }

    #[test]
    fn every_variant_is_within_the_union() {
        for v in variants() {
            let role = match v.applies_to.as_str() {
                "emr-containers" => EmrRole::Containers,
                "emr-containers-clusterrole" => EmrRole::ContainersClusterRole,
                "emr-containers-role-spark-client" => EmrRole::SparkClient,
                _ => EmrRole::SparkDriver,
            };
            assert_eq!(rules_beyond_published(role, &v.rules), vec![], "{}", v.name);
        }
    }

    #[test]
    fn extras_are_reported() {
        let rules = vec![
            rule(&["get", "create"], &[""], &["configmaps"]),
            rule(&["get", "list"], &[""], &["secrets"]),
            rule(&["create"], &[""], &["pods/exec"]),
            rule(&["*"], &["*"], &["*"]),
        ];
        let x = rules_beyond_published(EmrRole::Containers, &rules);
        assert_eq!(x.len(), 3);
        assert_eq!(
            (x[0].index, x[0].resource.as_str(), x[0].verbs.clone()),
            (1, "secrets", vec!["get".to_string(), "list".to_string()])
        );
        assert_eq!(x[1].resource, "pods/exec");
        assert_eq!(x[2].verbs, vec!["*"]);
        // The driver may update services (documented patch); emr-containers may not.
        let svc = vec![rule(&["update"], &[""], &["services"])];
        assert!(rules_beyond_published(EmrRole::SparkDriver, &svc).is_empty());
        assert_eq!(rules_beyond_published(EmrRole::Containers, &svc).len(), 1);
        // clusterroles only in the Lake Formation ClusterRole.
        let cr = vec![rule(
            &["create"],
            &["rbac.authorization.k8s.io"],
            &["clusterroles"],
        )];
        assert!(rules_beyond_published(EmrRole::ContainersClusterRole, &cr).is_empty());
        assert_eq!(rules_beyond_published(EmrRole::Containers, &cr).len(), 1);
    }

    fn subj(kind: &str, name: &str, ns: Option<&str>) -> K8sSubject {
        K8sSubject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            api_group: None,
        }
    }

    #[test]
    fn bindings() {
        let rr = |name: &str| RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: name.into(),
        };
        assert_eq!(check_emr_binding(&rr("other"), &[], Some("emr")), None);
        let ok = check_emr_binding(
            &rr("emr-containers"),
            &[subj("User", "emr-containers", None)],
            Some("emr"),
        )
        .unwrap();
        assert!(ok.non_emr_subjects.is_empty());
        let bad = check_emr_binding(
            &rr("emr-containers"),
            &[
                subj("User", "emr-containers", None),
                subj("Group", "devs", None),
            ],
            Some("emr"),
        )
        .unwrap();
        assert_eq!(bad.non_emr_subjects.len(), 1);
        let drv = check_emr_binding(
            &rr("emr-containers-role-spark-driver"),
            &[
                subj(
                    "ServiceAccount",
                    "emr-containers-sa-spark-driver-1-abc",
                    Some("emr"),
                ),
                subj(
                    "User",
                    "system:serviceaccount:emr:emr-containers-sa-spark-client-1-abc",
                    None,
                ),
                subj("ServiceAccount", "emr-kyuubi", Some("emr")),
                subj(
                    "ServiceAccount",
                    "emr-containers-sa-spark-driver-1-abc",
                    Some("other"),
                ),
            ],
            Some("emr"),
        )
        .unwrap();
        assert_eq!(drv.role, EmrRole::SparkDriver);
        assert_eq!(
            drv.non_emr_subjects
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            vec!["emr-kyuubi", "emr-containers-sa-spark-driver-1-abc"]
        );
    }
}

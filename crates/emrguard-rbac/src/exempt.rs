//! Who is never a job submitter (spec README, "Identities that are never job submitters").
//!
//! | subject | exempt as |
//! |---|---|
//! | User `emr-containers`; ServiceAccounts `emr-containers-sa-*`, `emr-container-sa-spark-livy`; the IAM role `AWSServiceRoleForAmazonEMRContainers` | EMR itself |
//! | Users and Groups `system:*`, except the "everyone" identities below | system component |
//! | Users and Groups `eks:*` | system component (EKS) |
//! | ServiceAccounts in `kube-system` (also as User `system:serviceaccount:kube-system:<name>`) | system component |
//! | declared users, groups, service accounts, IAM ARNs | administrator |
//!
//! Checked, never exempt: Groups `system:authenticated`, `system:unauthenticated`,
//! `system:serviceaccounts`, `system:serviceaccounts:<ns>`, and User `system:anonymous` (it is
//! the unauthenticated caller, so it stands for everyone like `system:unauthenticated`).
//!
//! A User named `system:serviceaccount:<ns>:<name>` is judged as that ServiceAccount, so
//! `default` in an EMR namespace is checked however it is written. A subject whose IAM
//! principals (`Subject::iam_principals`) are all declared administrators is exempt as an
//! administrator too.

use crate::graph::split_sa_username;
use crate::identity::{canonical_principal, is_emr_service_linked_role, EMR_USER};
use emrguard_model::Subject;

/// Administrators declared in the configuration. Declared administrators are still listed in
/// the report (with [`Reason::DeclaredAdmin`]), not hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    /// `namespace/name`.
    pub service_accounts: Vec<String>,
    /// IAM role or user ARNs (any form: a role path or an STS assumed-role ARN is canonicalised).
    pub iam_arns: Vec<String>,
}

/// Why a subject is not a job submitter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// EMR on EKS itself.
    Emr(&'static str),
    /// A Kubernetes or EKS system component.
    System(&'static str),
    /// Declared in the configuration; the string says which declaration matched.
    DeclaredAdmin(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Emr(s) => write!(f, "EMR on EKS itself ({s})"),
            Reason::System(s) => write!(f, "system component ({s})"),
            Reason::DeclaredAdmin(s) => write!(f, "declared administrator ({s})"),
        }
    }
}

/// The groups that stand for everyone: always checked.
fn is_everyone_group(name: &str) -> bool {
    matches!(
        name,
        "system:authenticated" | "system:unauthenticated" | "system:serviceaccounts"
    ) || name.starts_with("system:serviceaccounts:")
}

/// A service account EMR creates and manages (`emr-containers-sa-*`,
/// `emr-container-sa-spark-livy`); the model's definition.
pub use emrguard_model::k8s::is_emr_service_account;

fn service_account(ns: &str, name: &str, ex: &Exemptions) -> Option<Reason> {
    if ns == "kube-system" {
        return Some(Reason::System("service account in kube-system"));
    }
    if is_emr_service_account(name) {
        return Some(Reason::Emr("service account created by EMR"));
    }
    let key = format!("{ns}/{name}");
    ex.service_accounts
        .contains(&key)
        .then(|| Reason::DeclaredAdmin(format!("service account {key}")))
}

fn declared_arn(arn: &str, ex: &Exemptions) -> bool {
    let c = canonical_principal(arn);
    ex.iam_arns.iter().any(|a| canonical_principal(a) == c)
}

/// `Some(reason)` when `subject` is EMR itself, a system component or a declared administrator;
/// `None` when it is a (potential) job submitter whose capabilities must be checked.
pub fn is_exempt(subject: &Subject, ex: &Exemptions) -> Option<Reason> {
    let own = match subject.kind.as_str() {
        "User" => match split_sa_username(&subject.name) {
            Some((ns, sa)) => service_account(ns, sa, ex),
            None if subject.name == EMR_USER => Some(Reason::Emr("Kubernetes user emr-containers")),
            None if subject.name == "system:anonymous" => None,
            None if subject.name.starts_with("system:") => Some(Reason::System("system:* user")),
            None if subject.name.starts_with("eks:") => Some(Reason::System("eks:* user")),
            None => ex
                .users
                .contains(&subject.name)
                .then(|| Reason::DeclaredAdmin(format!("user {}", subject.name))),
        },
        "Group" if is_everyone_group(&subject.name) => None,
        "Group" if subject.name.starts_with("system:") => Some(Reason::System("system:* group")),
        "Group" if subject.name.starts_with("eks:") => Some(Reason::System("eks:* group")),
        "Group" => ex
            .groups
            .contains(&subject.name)
            .then(|| Reason::DeclaredAdmin(format!("group {}", subject.name))),
        "ServiceAccount" => service_account(
            subject.namespace.as_deref().unwrap_or(""),
            &subject.name,
            ex,
        ),
        _ => None,
    };
    if own.is_some() {
        return own;
    }
    if let Some(arn) = &subject.arn {
        if is_emr_service_linked_role(arn) {
            return Some(Reason::Emr(
                "service-linked role AWSServiceRoleForAmazonEMRContainers",
            ));
        }
        if declared_arn(arn, ex) {
            return Some(Reason::DeclaredAdmin(format!("IAM principal {arn}")));
        }
    }
    if !subject.iam_principals.is_empty()
        && subject.iam_principals.iter().all(|p| declared_arn(p, ex))
    {
        return Some(Reason::DeclaredAdmin(format!(
            "IAM principals {}",
            subject.iam_principals.join(", ")
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            arn: None,
            iam_principals: vec![],
        }
    }

    #[test]
    fn spec_cases() {
        let ex = Exemptions::default();
        assert!(matches!(
            is_exempt(&s("User", "emr-containers", None), &ex),
            Some(Reason::Emr(_))
        ));
        assert!(matches!(
            is_exempt(
                &s(
                    "ServiceAccount",
                    "emr-containers-sa-spark-driver-1-abc",
                    Some("emr")
                ),
                &ex
            ),
            Some(Reason::Emr(_))
        ));
        assert!(matches!(
            is_exempt(
                &s("ServiceAccount", "emr-container-sa-spark-livy", Some("emr")),
                &ex
            ),
            Some(Reason::Emr(_))
        ));
        assert!(matches!(
            is_exempt(&s("User", "system:kube-controller-manager", None), &ex),
            Some(Reason::System(_))
        ));
        assert!(matches!(
            is_exempt(&s("Group", "system:masters", None), &ex),
            Some(Reason::System(_))
        ));
        assert!(matches!(
            is_exempt(&s("Group", "eks:node-bootstrapper", None), &ex),
            Some(Reason::System(_))
        ));
        assert!(matches!(
            is_exempt(&s("User", "eks:addon-manager", None), &ex),
            Some(Reason::System(_))
        ));
        for everyone in [
            "system:authenticated",
            "system:unauthenticated",
            "system:serviceaccounts",
            "system:serviceaccounts:emr",
        ] {
            assert_eq!(
                is_exempt(&s("Group", everyone, None), &ex),
                None,
                "{everyone}"
            );
        }
        assert_eq!(is_exempt(&s("User", "system:anonymous", None), &ex), None);
        assert!(matches!(
            is_exempt(
                &s("User", "system:serviceaccount:kube-system:foo", None),
                &ex
            ),
            Some(Reason::System(_))
        ));
        assert!(matches!(
            is_exempt(&s("ServiceAccount", "foo", Some("kube-system")), &ex),
            Some(Reason::System(_))
        ));
        assert_eq!(
            is_exempt(&s("ServiceAccount", "default", Some("emr")), &ex),
            None
        );
        assert_eq!(
            is_exempt(&s("User", "system:serviceaccount:emr:default", None), &ex),
            None
        );
        assert_eq!(is_exempt(&s("User", "alice", None), &ex), None);
    }

    #[test]
    fn declared_admins() {
        let ex = Exemptions {
            users: vec!["alice".into()],
            groups: vec!["platform-admins".into()],
            service_accounts: vec!["ci/deployer".into()],
            iam_arns: vec!["arn:aws:iam::111:role/path/Admin".into()],
        };
        assert!(matches!(
            is_exempt(&s("User", "alice", None), &ex),
            Some(Reason::DeclaredAdmin(_))
        ));
        assert!(matches!(
            is_exempt(&s("Group", "platform-admins", None), &ex),
            Some(Reason::DeclaredAdmin(_))
        ));
        assert!(matches!(
            is_exempt(&s("User", "system:serviceaccount:ci:deployer", None), &ex),
            Some(Reason::DeclaredAdmin(_))
        ));
        let mut iam = s("IamRole", "Admin", None);
        iam.arn = Some("arn:aws:sts::111:assumed-role/Admin/bob".into());
        assert!(matches!(
            is_exempt(&iam, &ex),
            Some(Reason::DeclaredAdmin(_))
        ));
        let mut mapped = s("User", "bob", None);
        mapped.iam_principals = vec!["arn:aws:iam::111:role/Admin".into()];
        assert!(matches!(
            is_exempt(&mapped, &ex),
            Some(Reason::DeclaredAdmin(_))
        ));
        mapped
            .iam_principals
            .push("arn:aws:iam::111:role/Other".into());
        assert_eq!(is_exempt(&mapped, &ex), None);
        let mut slr = s("IamRole", "AWSServiceRoleForAmazonEMRContainers", None);
        slr.arn = Some("arn:aws:iam::111:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers".into());
        assert!(matches!(
            is_exempt(&slr, &Exemptions::default()),
            Some(Reason::Emr(_))
        ));
    }
}

//! The one vocabulary of object kinds that findings name (`resource.kind`, `subject.kind`,
//! `path[].kind`). Every constructor of [`crate::Ref`], [`crate::PathStep`] and
//! [`crate::Subject`] takes a [`Kind`], so a kind is spelled one way everywhere; a test in the
//! rules crate parses every kind of every finding of the fixtures back into this enum.

use std::fmt;
use std::str::FromStr;

macro_rules! kinds {
    ($( $(#[$doc:meta])* $v:ident ),* $(,)?) => {
        /// An object kind, as findings spell it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $( $(#[$doc])* $v, )*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$v),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$v => stringify!($v),)*
                }
            }
        }
    };
}

kinds! {
    // Kubernetes objects (their API kind).
    Namespace,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    ConfigMap,
    Secret,
    ServiceAccount,
    Service,
    Node,
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
    /// Karpenter `EC2NodeClass` (`karpenter.k8s.aws`).
    EC2NodeClass,
    /// Karpenter `NodePool` (`karpenter.sh`).
    NodePool,
    /// A Kubernetes user (RBAC subject).
    User,
    /// A Kubernetes group (RBAC subject).
    Group,
    /// A workload of another kind (a custom resource), or a set of workloads of mixed kinds
    /// (EMR job runs, job templates and managed endpoints using one role).
    Workload,
    // EKS.
    EksCluster,
    EksNodegroup,
    EksAddon,
    /// An `aws-auth` ConfigMap entry (`mapRoles`, `mapUsers`, `mapAccounts`).
    AwsAuthEntry,
    AccessEntry,
    /// An EKS access-policy association (access entry → access policy, with its scope).
    AccessPolicyAssociation,
    /// An EKS access policy (`AmazonEKSClusterAdminPolicy`, ...).
    AccessPolicy,
    PodIdentityAssociation,
    /// The API server's built-in authorization of group `system:masters`.
    SuperuserGroup,
    /// Rules built into the API server (what `system:masters` is authorized for).
    BuiltinRole,
    FargateProfile,
    // EMR on EKS.
    VirtualCluster,
    ManagedEndpoint,
    JobRun,
    EmrJobTemplate,
    // IAM.
    IamRole,
    IamUser,
    IamGroup,
    /// An IAM principal of another kind (root, federated, assumed role without a role).
    IamPrincipal,
    InlinePolicy,
    ManagedPolicy,
    PermissionsBoundary,
    ServiceControlPolicy,
    TrustPolicy,
    OidcProvider,
    // EC2, ELB, ECR.
    SecurityGroup,
    Subnet,
    RouteTable,
    Instance,
    LaunchTemplateVersion,
    LoadBalancer,
    EcrRepository,
    ContainerImage,
    RegistryScanningConfiguration,
    /// A base-image build of an EMR release (release data).
    BaseImageBuild,
    // Node and image recipes.
    Dockerfile,
    IptablesRules,
    /// Where a pod's AWS credentials come from (IMDS, kube2iam, ...).
    CredentialProvider,
    /// A CloudTrail event.
    CloudTrailEvent,
}

impl Kind {
    /// The kind of a Kubernetes object given its API `kind` (`Deployment`, ...); unknown kinds
    /// (custom resources) are [`Kind::Workload`].
    pub fn of_k8s(kind: &str) -> Kind {
        Kind::from_str(kind).unwrap_or(Kind::Workload)
    }

    /// The kind of an IAM principal from its ARN (`role/`, `assumed-role/`, `user/`, `group/`).
    pub fn of_iam_arn(arn: &str) -> Kind {
        let res = arn.splitn(6, ':').nth(5).unwrap_or("");
        if res.starts_with("role/") || res.starts_with("assumed-role/") {
            Kind::IamRole
        } else if res.starts_with("user/") {
            Kind::IamUser
        } else if res.starts_with("group/") {
            Kind::IamGroup
        } else {
            Kind::IamPrincipal
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind `{s}`"))
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> String {
        k.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(*k));
            assert!(seen.insert(k.as_str()), "{k} twice");
        }
        assert!("IAMRole".parse::<Kind>().is_err());
    }

    #[test]
    fn iam_arns() {
        assert_eq!(Kind::of_iam_arn("arn:aws:iam::1:role/a/b"), Kind::IamRole);
        assert_eq!(
            Kind::of_iam_arn("arn:aws:sts::1:assumed-role/a/s"),
            Kind::IamRole
        );
        assert_eq!(Kind::of_iam_arn("arn:aws:iam::1:user/u"), Kind::IamUser);
        assert_eq!(Kind::of_iam_arn("arn:aws:iam::1:root"), Kind::IamPrincipal);
        assert_eq!(Kind::of_k8s("Deployment"), Kind::Deployment);
        assert_eq!(Kind::of_k8s("SparkApplication"), Kind::Workload);
    }
}

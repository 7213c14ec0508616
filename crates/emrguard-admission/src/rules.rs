//! The admission rules: what `emrguard serve` (and, for the request-only subset, the generated
//! ValidatingAdmissionPolicies) refuse, each tied to the `check` rule that audits the same thing.

use emrguard_model::Capability;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdmissionRule {
    /// CONNECT on `pods/exec`, `pods/attach` (and `pods/portforward`), and `kubectl debug`'s
    /// UPDATE of `pods/ephemeralcontainers`, in an EMR namespace, by anyone but EMR, system
    /// components and declared administrators.
    ExecPods,
    /// CREATE of pods, and CREATE/UPDATE of pod controllers, in an EMR namespace by anyone but
    /// EMR's identities and Kubernetes controllers acting for an owner (controller owner
    /// reference).
    CreatePods,
    /// A pod (or pod template) in an EMR namespace that names an EMR service account, not
    /// created by EMR (or a controller for an owner).
    EmrServiceAccount,
    /// `hostNetwork: true` in an EMR namespace (POD003).
    HostNetwork,
    /// The kube2iam/kiam annotation `iam.amazonaws.com/role` in an EMR namespace (POD002).
    Kube2iamAnnotation,
    /// CREATE/UPDATE/DELETE of EMR's job ConfigMaps (label
    /// `emr-containers.amazonaws.com/job.configuration`: pod templates, spark-defaults, fluentd)
    /// by anyone but EMR and system components (the garbage collector).
    EmrConfigmaps,
    /// CREATE/UPDATE of a MutatingWebhookConfiguration whose namespaceSelector matches an EMR
    /// namespace, by anyone but EMR, system components and declared administrators.
    MutatingWebhooks,
    /// CREATE/UPDATE of Roles, ClusterRoles, RoleBindings, ClusterRoleBindings that would give a
    /// job submitter a forbidden capability in an EMR namespace (RBAC engine, cluster state).
    RbacGrants,
    /// UPDATE of a Namespace that removes the EMR namespace label, by anyone but system
    /// components and declared administrators (it would take the namespace out of the webhook's
    /// scope).
    EmrNamespaceLabel,
}

impl AdmissionRule {
    pub const ALL: [AdmissionRule; 9] = [
        AdmissionRule::ExecPods,
        AdmissionRule::CreatePods,
        AdmissionRule::EmrServiceAccount,
        AdmissionRule::HostNetwork,
        AdmissionRule::Kube2iamAnnotation,
        AdmissionRule::EmrConfigmaps,
        AdmissionRule::MutatingWebhooks,
        AdmissionRule::RbacGrants,
        AdmissionRule::EmrNamespaceLabel,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            AdmissionRule::ExecPods => "exec-pods",
            AdmissionRule::CreatePods => "create-pods",
            AdmissionRule::EmrServiceAccount => "emr-service-account",
            AdmissionRule::HostNetwork => "host-network",
            AdmissionRule::Kube2iamAnnotation => "kube2iam-annotation",
            AdmissionRule::EmrConfigmaps => "emr-configmaps",
            AdmissionRule::MutatingWebhooks => "mutating-webhooks",
            AdmissionRule::RbacGrants => "rbac-grants",
            AdmissionRule::EmrNamespaceLabel => "emr-namespace-label",
        }
    }

    /// The `check` rule(s) that audit the same thing.
    pub fn check_rules(self) -> &'static str {
        match self {
            AdmissionRule::ExecPods => "RBAC002",
            AdmissionRule::CreatePods => "RBAC003",
            AdmissionRule::EmrServiceAccount => "RBAC003",
            AdmissionRule::HostNetwork => "POD003",
            AdmissionRule::Kube2iamAnnotation => "POD002",
            AdmissionRule::EmrConfigmaps => "RBAC001",
            AdmissionRule::MutatingWebhooks => "RBAC004",
            AdmissionRule::RbacGrants => "RBAC001-RBAC008",
            AdmissionRule::EmrNamespaceLabel => "-",
        }
    }

    /// The RBAC capability the rule stops being used, when there is one.
    pub fn capability(self) -> Option<Capability> {
        match self {
            AdmissionRule::ExecPods => Some(Capability::ExecPods),
            AdmissionRule::CreatePods | AdmissionRule::EmrServiceAccount => {
                Some(Capability::CreatePods)
            }
            AdmissionRule::EmrConfigmaps => Some(Capability::ModifyConfigmaps),
            AdmissionRule::MutatingWebhooks => Some(Capability::DeployMutatingWebhooks),
            _ => None,
        }
    }

    /// Decidable from the request alone, so expressible as a ValidatingAdmissionPolicy.
    pub fn request_only(self) -> bool {
        !matches!(self, AdmissionRule::RbacGrants)
    }

    pub fn summary(self) -> &'static str {
        match self {
            AdmissionRule::ExecPods => "exec/attach/port-forward/debug into pods of an EMR namespace by anyone but EMR, system components and declared administrators",
            AdmissionRule::CreatePods => "pods and pod controllers created in an EMR namespace by anyone but EMR and controllers acting for an owner",
            AdmissionRule::EmrServiceAccount => "pods naming an EMR service account (emr-containers-sa-*) not created by EMR",
            AdmissionRule::HostNetwork => "hostNetwork pods in an EMR namespace (POD003)",
            AdmissionRule::Kube2iamAnnotation => "iam.amazonaws.com/role (kube2iam/kiam) annotations in an EMR namespace (POD002)",
            AdmissionRule::EmrConfigmaps => "edits of EMR's job ConfigMaps (pod templates, spark-defaults) by anyone but EMR",
            AdmissionRule::MutatingWebhooks => "mutating webhooks whose namespaceSelector matches EMR namespaces, by non-administrators",
            AdmissionRule::RbacGrants => "Roles/ClusterRoles/bindings that give a job submitter a forbidden capability in an EMR namespace",
            AdmissionRule::EmrNamespaceLabel => "removal of the EMR namespace label by non-administrators",
        }
    }
}

impl fmt::Display for AdmissionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for AdmissionRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AdmissionRule::ALL
            .into_iter()
            .find(|r| r.slug() == s)
            .ok_or_else(|| {
                format!(
                    "unknown admission rule `{s}` (expected one of {})",
                    AdmissionRule::ALL.map(|r| r.slug()).join(", ")
                )
            })
    }
}

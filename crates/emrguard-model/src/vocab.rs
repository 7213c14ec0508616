//! The fixed vocabulary of the contract (`shared/spec/README.md`): practices, severities and RBAC
//! capabilities. Their serialized spellings are part of the JSON output and must not change.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the seven EMR on EKS security practices. Every finding belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Practice {
    LeastPrivilege,
    EndpointAccess,
    ImageUpdates,
    PodCredentials,
    TenantIsolation,
    Rbac,
    NodeCredentials,
}

impl Practice {
    pub const ALL: [Practice; 7] = [
        Practice::LeastPrivilege,
        Practice::EndpointAccess,
        Practice::ImageUpdates,
        Practice::PodCredentials,
        Practice::TenantIsolation,
        Practice::Rbac,
        Practice::NodeCredentials,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Practice::LeastPrivilege => "least-privilege",
            Practice::EndpointAccess => "endpoint-access",
            Practice::ImageUpdates => "image-updates",
            Practice::PodCredentials => "pod-credentials",
            Practice::TenantIsolation => "tenant-isolation",
            Practice::Rbac => "rbac",
            Practice::NodeCredentials => "node-credentials",
        }
    }

    /// One line for people: what the practice asks.
    pub fn summary(self) -> &'static str {
        match self {
            Practice::LeastPrivilege => "job execution roles, their trust policies and submitters hold only what jobs need",
            Practice::EndpointAccess => "managed endpoints are internal and the EKS API endpoint is not open to the world",
            Practice::ImageUpdates => "custom images are rebuilt on the newest base image, scanned, and run as hadoop:hadoop",
            Practice::PodCredentials => "pods get AWS credentials only through IRSA or EKS Pod Identity",
            Practice::TenantIsolation => "untrusted tenants do not share a virtual cluster with execution roles of other privilege",
            Practice::Rbac => "job submitters cannot modify configmaps, exec into or create pods, deploy mutating webhooks or read secrets",
            Practice::NodeCredentials => "node roles are minimal and pods cannot reach the node's instance-profile credentials",
        }
    }
}

impl fmt::Display for Practice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Practice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Practice::ALL
            .into_iter()
            .find(|p| p.slug() == s)
            .ok_or_else(|| format!("unknown practice `{s}`"))
    }
}

/// Severity, most severe first. `Ord` sorts `Critical` before `Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// True when `self` is as severe as `threshold` or more.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }

    /// One step more severe (saturating at critical).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Critical | Severity::High => Severity::Critical,
            Severity::Medium => Severity::High,
            Severity::Low => Severity::Medium,
            Severity::Info => Severity::Low,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity `{s}` (expected critical, high, medium, low or info)")
            })
    }
}

/// The RBAC capabilities a job submitter must not hold in an EMR namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    ModifyConfigmaps,
    ExecPods,
    CreatePods,
    DeployMutatingWebhooks,
    ReadSecrets,
    EscalateRbac,
    Impersonate,
    MintTokens,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::ModifyConfigmaps,
        Capability::ExecPods,
        Capability::CreatePods,
        Capability::DeployMutatingWebhooks,
        Capability::ReadSecrets,
        Capability::EscalateRbac,
        Capability::Impersonate,
        Capability::MintTokens,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Capability::ModifyConfigmaps => "modify-configmaps",
            Capability::ExecPods => "exec-pods",
            Capability::CreatePods => "create-pods",
            Capability::DeployMutatingWebhooks => "deploy-mutating-webhooks",
            Capability::ReadSecrets => "read-secrets",
            Capability::EscalateRbac => "escalate-rbac",
            Capability::Impersonate => "impersonate",
            Capability::MintTokens => "mint-tokens",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Capability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.slug() == s)
            .ok_or_else(|| format!("unknown capability `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_through_serde() {
        for p in Practice::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.slug()));
            assert_eq!(p.slug().parse::<Practice>().unwrap(), p);
        }
        for c in Capability::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.slug()));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
    }

    #[test]
    fn severity_threshold() {
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(Severity::High.at_least(Severity::High));
        assert!(!Severity::Medium.at_least(Severity::High));
        assert!(Severity::Info.at_least(Severity::Info));
    }
}

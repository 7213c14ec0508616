//! EKS outputs: `describe-cluster`, `describe-nodegroup`, access entries and their access
//! policies, Pod Identity associations, add-ons.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub cluster_security_group_id: Option<String>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub endpoint_public_access: Option<bool>,
    #[serde(default)]
    pub endpoint_private_access: Option<bool>,
    #[serde(default)]
    pub public_access_cidrs: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Oidc {
    #[serde(default)]
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default)]
    pub oidc: Option<Oidc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    #[serde(default)]
    pub authentication_mode: Option<String>,
    #[serde(default)]
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub resources_vpc_config: VpcConfig,
    #[serde(default)]
    pub identity: Option<Identity>,
    #[serde(default)]
    pub access_config: Option<AccessConfig>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Cluster {
    /// The OIDC issuer without `https://`, as it appears in IRSA trust policies.
    pub fn oidc_issuer_host(&self) -> Option<&str> {
        let issuer = self.identity.as_ref()?.oidc.as_ref()?.issuer.as_deref()?;
        Some(issuer.strip_prefix("https://").unwrap_or(issuer))
    }
    pub fn account(&self) -> Option<&str> {
        crate::aws::iam::arn_account(&self.arn)
    }
    pub fn region(&self) -> Option<&str> {
        self.arn.split(':').nth(3).filter(|r| !r.is_empty())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAccess {
    #[serde(default)]
    pub ec2_ssh_key: Option<String>,
    #[serde(default)]
    pub source_security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTemplateSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AutoScalingGroup {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupResources {
    #[serde(default)]
    pub auto_scaling_groups: Vec<AutoScalingGroup>,
    #[serde(default)]
    pub remote_access_security_group: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nodegroup {
    #[serde(default)]
    pub nodegroup_name: String,
    #[serde(default)]
    pub nodegroup_arn: String,
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub release_version: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub capacity_type: Option<String>,
    #[serde(default)]
    pub instance_types: Vec<String>,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub remote_access: Option<RemoteAccess>,
    #[serde(default)]
    pub ami_type: Option<String>,
    #[serde(default)]
    pub node_role: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub resources: Option<NodegroupResources>,
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateSpec>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// `describe-access-entry`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub principal_arn: String,
    #[serde(default)]
    pub kubernetes_groups: Vec<String>,
    #[serde(default)]
    pub access_entry_arn: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, rename = "type")]
    pub entry_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessScope {
    /// `cluster` | `namespace`.
    #[serde(default, rename = "type")]
    pub scope_type: String,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedAccessPolicy {
    #[serde(default)]
    pub policy_arn: String,
    #[serde(default)]
    pub access_scope: AccessScope,
}

/// `list-associated-access-policies` output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedAccessPolicies {
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub principal_arn: String,
    #[serde(default)]
    pub associated_access_policies: Vec<AssociatedAccessPolicy>,
}

/// A Pod Identity association (list form has no `roleArn`; describe form does).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityAssociation {
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub service_account: String,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub target_role_arn: Option<String>,
    #[serde(default)]
    pub association_arn: Option<String>,
    #[serde(default)]
    pub association_id: Option<String>,
    #[serde(default)]
    pub owner_arn: Option<String>,
}

impl PodIdentityAssociation {
    pub fn key(&self) -> String {
        self.association_id
            .clone()
            .or_else(|| self.association_arn.clone())
            .unwrap_or_else(|| format!("{}/{}", self.namespace, self.service_account))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addon {
    #[serde(default)]
    pub addon_name: String,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub addon_version: Option<String>,
    #[serde(default)]
    pub addon_arn: Option<String>,
    #[serde(default)]
    pub service_account_role_arn: Option<String>,
    #[serde(default)]
    pub pod_identity_associations: Vec<String>,
    /// The add-on's configuration as a JSON (or YAML) string (`describe-addon`).
    #[serde(default)]
    pub configuration_values: Option<String>,
}

/// `describe-fargate-profile`: pods matching a selector run on Fargate, where no instance
/// metadata service is reachable and the pod execution role only pulls images and ships logs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateProfile {
    #[serde(default)]
    pub fargate_profile_name: String,
    #[serde(default)]
    pub fargate_profile_arn: Option<String>,
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub pod_execution_role_arn: Option<String>,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub selectors: Vec<FargateSelector>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateSelector {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

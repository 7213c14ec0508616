//! One module per rule. Add new rules to [`ALL`] in id order.

use crate::Rule;

mod iam001_exec_role_administrator;
mod iam002_exec_role_privilege_escalation;
mod iam003_exec_role_service_wildcard;
mod iam004_exec_role_all_buckets;
mod iam005_exec_role_all_tables;
mod iam010_exec_role_logs_anywhere;
mod iam011_exec_role_log_destination_denied;
mod iam020_trust_other_namespaces;
mod iam021_trust_without_sub;
mod iam022_trust_wider_than_emr;
mod iam023_trust_base36_mismatch;
mod iam024_trust_foreign_oidc_provider;
mod iam025_trust_anyone_or_account;
mod iam026_trust_needless_service;
mod iam027_trust_missing_aud;
mod iam028_trust_userid_doc_form;
mod iam030_submitter_any_execution_role;
mod iam031_submitter_all_virtual_clusters;
mod iam032_job_template_parametric_role;
mod iam033_submitter_passrole_pod_identity;
mod iam040_exec_role_policy_issues;
mod iam050_exec_role_granted_unused;
mod iam051_exec_role_denied_attempts;
mod iam052_exec_role_permission_drift;
mod img001_release_behind_newest;
mod img002_release_pinned_old_build;
mod img003_custom_image_outdated_base;
mod img004_ecr_repository_not_scanned;
mod img005_ecr_repository_mutable_tags;
mod img006_dockerfile_base_not_emr;
mod img007_dockerfile_old_base;
mod img008_dockerfile_user_not_hadoop;
mod img009_dockerfile_add_from_url;
mod img010_dockerfile_secret_in_env;
mod net001_eks_api_public_world;
mod net002_eks_api_public_restricted;
mod net003_eks_api_private_disabled;
mod net004_endpoint_internet_facing;
mod net005_endpoint_public_subnet;
mod net006_endpoint_sg_open_to_world;
mod net007_endpoint_sg_wide_cidr;
mod net008_endpoint_sg_undeclared_cidr;
mod node001_nodegroup_imds_reachable;
mod node002_instance_imds_reachable;
mod node003_nodegroup_ssh_access;
mod node004_karpenter_nodeclass_imds_reachable;
mod node010_node_role_extra_policies;
mod node011_node_role_cni_policy;
mod pod001_kube2iam_kiam_running;
mod pod002_kube2iam_annotation;
mod pod003_host_network_in_emr_namespace;
mod pod004_pod_identity_unsupported_release;
mod pod005_job_without_pod_credentials;
mod pod006_node_role_used_from_pod;
mod pod007_pod_identity_on_fargate;
mod pod010_irsa_role_not_managed_by_emr;
mod rbac001_submitter_can_modify_configmaps;
mod rbac002_submitter_can_exec_pods;
mod rbac003_submitter_can_create_pods;
mod rbac004_submitter_can_deploy_mutating_webhooks;
mod rbac005_submitter_can_read_secrets;
mod rbac006_submitter_can_escalate_rbac;
mod rbac007_submitter_can_impersonate;
mod rbac008_submitter_can_mint_tokens;
mod rbac010_emr_role_beyond_published;
mod rbac011_emr_role_bound_to_non_emr;
mod rbac012_emr_namespace_without_emr_access;
mod rbac013_emr_job_policy_cluster_scoped;
mod rbac014_dangling_role_ref;
mod rbac015_iam_principal_mapped_to_system_masters;
mod rbac020_mutating_webhook_targets_emr_namespace;
mod ten001_mixed_privilege_execution_roles;
mod ten002_several_virtual_clusters_on_namespace;
mod ten003_non_emr_workload_in_emr_namespace;

pub static ALL: &[&dyn Rule] = &[
    &iam001_exec_role_administrator::ExecRoleAdministrator,
    &iam002_exec_role_privilege_escalation::ExecRolePrivilegeEscalation,
    &iam003_exec_role_service_wildcard::ExecRoleServiceWildcard,
    &iam004_exec_role_all_buckets::ExecRoleAllBuckets,
    &iam005_exec_role_all_tables::ExecRoleAllTables,
    &iam010_exec_role_logs_anywhere::ExecRoleLogsAnywhere,
    &iam011_exec_role_log_destination_denied::ExecRoleLogDestinationDenied,
    &iam020_trust_other_namespaces::TrustOtherNamespaces,
    &iam021_trust_without_sub::TrustWithoutSub,
    &iam022_trust_wider_than_emr::TrustWiderThanEmr,
    &iam023_trust_base36_mismatch::TrustBase36Mismatch,
    &iam024_trust_foreign_oidc_provider::TrustForeignOidcProvider,
    &iam025_trust_anyone_or_account::TrustAnyoneOrAccount,
    &iam026_trust_needless_service::TrustNeedlessService,
    &iam027_trust_missing_aud::TrustMissingAud,
    &iam028_trust_userid_doc_form::TrustUseridDocForm,
    &iam030_submitter_any_execution_role::SubmitterAnyExecutionRole,
    &iam031_submitter_all_virtual_clusters::SubmitterAllVirtualClusters,
    &iam032_job_template_parametric_role::JobTemplateParametricRole,
    &iam033_submitter_passrole_pod_identity::SubmitterPassRolePodIdentity,
    &iam040_exec_role_policy_issues::ExecRolePolicyIssues,
    &iam050_exec_role_granted_unused::ExecRoleGrantedUnused,
    &iam051_exec_role_denied_attempts::ExecRoleDeniedAttempts,
    &iam052_exec_role_permission_drift::ExecRolePermissionDrift,
    &img001_release_behind_newest::ReleaseBehindNewest,
    &img002_release_pinned_old_build::ReleasePinnedOldBuild,
    &img003_custom_image_outdated_base::CustomImageOutdatedBase,
    &img004_ecr_repository_not_scanned::EcrRepositoryNotScanned,
    &img005_ecr_repository_mutable_tags::EcrRepositoryMutableTags,
    &img006_dockerfile_base_not_emr::DockerfileBaseNotEmr,
    &img007_dockerfile_old_base::DockerfileOldBase,
    &img008_dockerfile_user_not_hadoop::DockerfileUserNotHadoop,
    &img009_dockerfile_add_from_url::DockerfileAddFromUrl,
    &img010_dockerfile_secret_in_env::DockerfileSecretInEnv,
    &net001_eks_api_public_world::EksApiPublicWorld,
    &net002_eks_api_public_restricted::EksApiPublicRestricted,
    &net003_eks_api_private_disabled::EksApiPrivateDisabled,
    &net004_endpoint_internet_facing::EndpointInternetFacing,
    &net005_endpoint_public_subnet::EndpointPublicSubnet,
    &net006_endpoint_sg_open_to_world::EndpointSgOpenToWorld,
    &net007_endpoint_sg_wide_cidr::EndpointSgWideCidr,
    &net008_endpoint_sg_undeclared_cidr::EndpointSgUndeclaredCidr,
    &node001_nodegroup_imds_reachable::NodegroupImdsReachable,
    &node002_instance_imds_reachable::InstanceImdsReachable,
    &node003_nodegroup_ssh_access::NodegroupSshAccess,
    &node004_karpenter_nodeclass_imds_reachable::KarpenterNodeclassImdsReachable,
    &node010_node_role_extra_policies::NodeRoleExtraPolicies,
    &node011_node_role_cni_policy::NodeRoleCniPolicy,
    &pod001_kube2iam_kiam_running::Kube2iamKiamRunning,
    &pod002_kube2iam_annotation::Kube2iamAnnotation,
    &pod003_host_network_in_emr_namespace::HostNetworkInEmrNamespace,
    &pod004_pod_identity_unsupported_release::PodIdentityUnsupportedRelease,
    &pod005_job_without_pod_credentials::JobWithoutPodCredentials,
    &pod006_node_role_used_from_pod::NodeRoleUsedFromPod,
    &pod007_pod_identity_on_fargate::PodIdentityOnFargate,
    &pod010_irsa_role_not_managed_by_emr::IrsaRoleNotManagedByEmr,
    &rbac001_submitter_can_modify_configmaps::SubmitterCanModifyConfigmaps,
    &rbac002_submitter_can_exec_pods::SubmitterCanExecPods,
    &rbac003_submitter_can_create_pods::SubmitterCanCreatePods,
    &rbac004_submitter_can_deploy_mutating_webhooks::SubmitterCanDeployMutatingWebhooks,
    &rbac005_submitter_can_read_secrets::SubmitterCanReadSecrets,
    &rbac006_submitter_can_escalate_rbac::SubmitterCanEscalateRbac,
    &rbac007_submitter_can_impersonate::SubmitterCanImpersonate,
    &rbac008_submitter_can_mint_tokens::SubmitterCanMintTokens,
    &rbac010_emr_role_beyond_published::EmrRoleBeyondPublished,
    &rbac011_emr_role_bound_to_non_emr::EmrRoleBoundToNonEmr,
    &rbac012_emr_namespace_without_emr_access::EmrNamespaceWithoutEmrAccess,
    &rbac013_emr_job_policy_cluster_scoped::EmrJobPolicyClusterScoped,
    &rbac014_dangling_role_ref::DanglingRoleRef,
    &rbac015_iam_principal_mapped_to_system_masters::IamPrincipalMappedToSystemMasters,
    &rbac020_mutating_webhook_targets_emr_namespace::MutatingWebhookTargetsEmrNamespace,
    &ten001_mixed_privilege_execution_roles::MixedPrivilegeExecutionRoles,
    &ten002_several_virtual_clusters_on_namespace::SeveralVirtualClustersOnNamespace,
    &ten003_non_emr_workload_in_emr_namespace::NonEmrWorkloadInEmrNamespace,
];

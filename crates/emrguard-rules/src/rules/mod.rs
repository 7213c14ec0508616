//! One module per rule. Add new rules to [`ALL`] in id order.

use crate::Rule;

mod net001_eks_api_public_world;
mod net002_eks_api_public_restricted;
mod net003_eks_api_private_disabled;
mod pod001_kube2iam_kiam_running;
mod pod002_kube2iam_annotation;
mod pod003_host_network_in_emr_namespace;

pub static ALL: &[&dyn Rule] = &[
    &net001_eks_api_public_world::EksApiPublicWorld,
    &net002_eks_api_public_restricted::EksApiPublicRestricted,
    &net003_eks_api_private_disabled::EksApiPrivateDisabled,
    &pod001_kube2iam_kiam_running::Kube2iamKiamRunning,
    &pod002_kube2iam_annotation::Kube2iamAnnotation,
    &pod003_host_network_in_emr_namespace::HostNetworkInEmrNamespace,
];

//! How an EMR job's pods get AWS credentials: IRSA (the execution role's trust admits EMR's
//! service accounts of the job's namespace, through the cluster's OIDC provider) or EKS Pod
//! Identity (an association of EMR's service account with the role, on emr-7.3.0 and later).

use crate::Context;
use emrguard_iam::{decide_trust, Decision, PolicyKind, TrustPolicy, TrustPrincipal};
use emrguard_model::aws::eks::{Cluster, PodIdentityAssociation};
use emrguard_model::aws::iam::{arn_account, Role};
use emrguard_model::Located;

/// `arn:<partition>:iam::<account>:oidc-provider/<issuer host>` of a cluster.
pub fn oidc_provider_arn(c: &Cluster) -> Option<String> {
    let host = c.oidc_issuer_host()?;
    let partition = c.arn.split(':').nth(1).filter(|p| !p.is_empty())?;
    let account = c.account()?;
    Some(format!(
        "arn:{partition}:iam::{account}:oidc-provider/{host}"
    ))
}

/// EMR's per-role service account: `emr-containers-sa-spark-<component>-<account>-<b36(role)>`.
pub fn emr_service_account(component: &str, account: &str, role_name: &str) -> String {
    format!(
        "emr-containers-sa-spark-{component}-{account}-{}",
        crate::base36::encode(role_name)
    )
}

/// The trust policy of a role, compiled once per run by the IAM engine's store.
pub fn trust_of(cx: &Context<'_, '_>, role: &Role) -> Option<TrustPolicy> {
    let doc = role.assume_role_policy_document.as_ref()?;
    let policy = cx.iam().store.compile(doc.text(), PolicyKind::Trust);
    Some(TrustPolicy::new(&role.arn, policy))
}

/// Whether the role's trust lets EMR's `spark-<component>` service account of `ns` on cluster
/// `c` assume it with a web identity (IRSA): `driver` for job runs, `jeg` for interactive
/// endpoints. `Conditional` decisions count as usable (no false alarm on conditions the
/// snapshot cannot settle).
pub fn irsa_usable(
    cx: &Context<'_, '_>,
    c: &Cluster,
    ns: &str,
    role: &Role,
    component: &str,
) -> Option<bool> {
    let provider = oidc_provider_arn(c)?;
    let host = c.oidc_issuer_host()?;
    let account = c.account()?;
    let trust = trust_of(cx, role)?;
    let sa = emr_service_account(component, account, &role.role_name);
    let ctx = emrguard_iam::Context::closed()
        .with(
            &format!("{host}:sub"),
            format!("system:serviceaccount:{ns}:{sa}"),
        )
        .with(&format!("{host}:aud"), "sts.amazonaws.com");
    let d = decide_trust(
        &trust,
        &TrustPrincipal::Federated(provider),
        "sts:AssumeRoleWithWebIdentity",
        &ctx,
    );
    Some(matches!(d, Decision::Allowed(_) | Decision::Conditional(_)))
}

/// Whether the role's trust admits the EKS Pod Identity service (`pods.eks.amazonaws.com`,
/// `sts:AssumeRole` and `sts:TagSession`).
pub fn trusts_pod_identity(cx: &Context<'_, '_>, role: &Role) -> bool {
    let Some(trust) = trust_of(cx, role) else {
        return false;
    };
    let p = TrustPrincipal::Service("pods.eks.amazonaws.com".to_owned());
    let ctx = emrguard_iam::Context::new();
    ["sts:AssumeRole", "sts:TagSession"]
        .iter()
        .all(|a| decide_trust(&trust, &p, a, &ctx).may_be_allowed())
}

/// Pod Identity associations of EMR's service accounts of `role` in `ns` (matched by role ARN
/// when the snapshot has it, else by the service account's base36 suffix).
pub fn pod_identity_for<'s>(
    cx: &Context<'_, 's>,
    ns: &str,
    role: &Role,
) -> Vec<&'s Located<PodIdentityAssociation>> {
    let account = arn_account(&role.arn).unwrap_or("");
    let suffix = format!("-{account}-{}", crate::base36::encode(&role.role_name));
    cx.index
        .snap
        .pod_identity_associations
        .iter()
        .filter(|a| a.namespace == ns)
        .filter(|a| match a.role_arn.as_deref() {
            Some(r) => same_role(r, role),
            None => {
                emrguard_model::k8s::is_emr_service_account(&a.service_account)
                    && a.service_account.ends_with(&suffix)
            }
        })
        .collect()
}

/// Whether an ARN names `role` (the path may be missing from the ARN).
pub fn same_role(arn: &str, role: &Role) -> bool {
    arn == role.arn
        || (emrguard_model::aws::iam::arn_resource_name(arn) == role.role_name
            && arn_account(arn) == arn_account(&role.arn))
}

/// The `system:serviceaccount:<ns>:<sa>` subjects a web-identity trust statement admits, with
/// the OIDC provider it names. Statements without a `:sub` condition yield `None` subjects.
pub struct WebIdentityGrant {
    pub statement: usize,
    pub provider: String,
    pub subjects: Option<Vec<String>>,
}

/// The Allow statements of a role's trust policy that let an OIDC provider assume it.
pub fn web_identity_grants(cx: &Context<'_, '_>, role: &Role) -> Vec<WebIdentityGrant> {
    let Some(trust) = trust_of(cx, role) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for st in trust.policy.statements() {
        if st.effect() != emrguard_iam::Effect::Allow {
            continue;
        }
        let (neg, actions) = st.action_patterns();
        if neg
            || !actions
                .iter()
                .any(|a| emrguard_iam::action_matches(a, "sts:AssumeRoleWithWebIdentity"))
        {
            continue;
        }
        let Some((false, principals)) = st.principals() else {
            continue;
        };
        for (kind, value) in principals {
            if kind != "Federated" || !value.contains(":oidc-provider/") {
                continue;
            }
            let subjects: Vec<String> = st
                .conditions()
                .into_iter()
                .filter(|(_, key, _)| key.to_ascii_lowercase().ends_with(":sub"))
                .flat_map(|(_, _, values)| values.into_iter().map(str::to_owned))
                .collect();
            out.push(WebIdentityGrant {
                statement: st.index(),
                provider: value.to_owned(),
                subjects: (!subjects.is_empty()).then_some(subjects),
            });
        }
    }
    out
}

/// The OIDC issuer host of an `oidc-provider` ARN.
pub fn provider_host(arn: &str) -> &str {
    arn.split_once(":oidc-provider/").map_or(arn, |(_, h)| h)
}

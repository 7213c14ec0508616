use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind};
use emrguard_rbac::emr::{classify_role, rules_beyond_published, EmrRole, ExcessRule};
use k8s_openapi::api::rbac::v1::PolicyRule;

declare_rule! {
    /// ## What it checks
    /// EMR's own RBAC roles (Role `emr-containers`, the per-job Roles
    /// `emr-containers-role-spark-client` / `-driver`, and the ClusterRole `emr-containers` of the
    /// Lake Formation setup) that grant more than the **union** of the published variants: eksctl's
    /// `emr-containers-rbac.yaml`, the EMR developer guide's manual steps (both Kubernetes version
    /// tabs), the aws-emr-containers-best-practices copy, and the documented patches of the per-job
    /// roles. Comparison is per (verb, API group, resource); a `*` counts as an extra; extra
    /// `resourceNames` only narrow.
    ///
    /// ## Why it matters
    /// EMR's identities are never job submitters, so the `rbac` capability rules do not look at
    /// what they hold. Whatever is added to EMR's roles (reading secrets, exec into pods, a `*`)
    /// is held by EMR, by every job-runner that uses the per-job roles, and by anyone later bound to
    /// them, without any finding. The published variants drift (eksctl adds volcano, the docs widen
    /// PVC verbs), so only the union is a fair bound.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: emr-containers, namespace: spark-team-a}
    /// rules:
    /// - {apiGroups: [""], resources: [secrets], verbs: [get, list, watch, create, patch, delete]}
    /// ```
    ///
    /// ## Remediation
    /// Re-apply the role from `eksctl create iamidentitymapping --service-name emr-containers
    /// --namespace NS` (or the EMR developer guide); give other workloads their own role instead of
    /// widening EMR's.
    ///
    /// ## References
    /// - eksctl `pkg/authconfigmap/assets/emr-containers-rbac.yaml`
    /// - EMR on EKS developer guide, "Enable cluster access for Amazon EMR on EKS" (manual steps)
    /// - aws-emr-containers-best-practices `tools/k8s-rbac-policies/`
    pub struct EmrRoleBeyondPublished;
    id = "RBAC010", name = "emr-role-beyond-published", practice = Rbac, severity = Medium,
    title = "EMR's RBAC role grants more than the published variants",
}

impl Rule for EmrRoleBeyondPublished {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let k = &cx.index.snap.k8s;
        let roles = k
            .roles
            .iter()
            .map(|r| ("Role", &r.metadata, r.rules.as_deref(), &r.loc));
        let cluster_roles = k
            .cluster_roles
            .iter()
            .map(|r| ("ClusterRole", &r.metadata, r.rules.as_deref(), &r.loc));
        let mut out = Vec::new();
        // EMR's roles are mostly identical copies: compare each distinct rule list once.
        let mut seen: Vec<(EmrRole, &[PolicyRule], Vec<ExcessRule>)> = Vec::new();
        for (kind, meta, rules, loc) in roles.chain(cluster_roles) {
            let name = meta.name.as_deref().unwrap_or("");
            let Some(emr_role) = classify_role(kind, name) else {
                continue;
            };
            let rules = rules.unwrap_or(&[]);
            let extra = match seen.iter().find(|(r, l, _)| *r == emr_role && *l == rules) {
                Some((_, _, x)) => x.clone(),
                None => {
                    let x = rules_beyond_published(emr_role, rules);
                    seen.push((emr_role, rules, x.clone()));
                    x
                }
            };
            if extra.is_empty() {
                continue;
            }
            let parts: Vec<String> = extra
                .iter()
                .map(|x| {
                    let group = if x.api_group.is_empty() {
                        "core".to_owned()
                    } else {
                        x.api_group.clone()
                    };
                    format!(
                        "{} on {}/{} (rule {})",
                        x.verbs.join(","),
                        group,
                        x.resource,
                        x.index
                    )
                })
                .collect();
            let ns = meta.namespace.as_deref();
            let mut b = self
                .finding(k8s_ref(Kind::of_k8s(kind), meta))
                .namespace(ns)
                .message(format!(
                    "{kind} `{}` is one of EMR's own roles but grants {} beyond the union of the published variants: {}.",
                    match ns {
                        Some(ns) => format!("{ns}/{name}"),
                        None => name.to_owned(),
                    },
                    if extra.len() == 1 { "a permission" } else { "permissions" },
                    crate::util::join_words(&parts)
                ))
                .remediation(format!("Re-apply {kind} `{name}` as published (eksctl `--service-name emr-containers`, or the EMR developer guide) and give other workloads a role of their own."));
            for x in &extra {
                b = b.step(k8s_step(Kind::of_k8s(kind), meta).detail(format!(
                    "rule {}: {} {}/{} not in any published variant",
                    x.index,
                    x.verbs.join(","),
                    x.api_group,
                    x.resource
                )));
            }
            out.push(b.location(loc).build());
        }
        out
    }
}

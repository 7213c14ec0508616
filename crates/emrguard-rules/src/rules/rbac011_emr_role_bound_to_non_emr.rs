use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::{Finding, Kind};
use emrguard_rbac::emr::check_emr_binding;
use emrguard_rbac::is_exempt;

declare_rule! {
    /// ## What it checks
    /// RoleBindings and ClusterRoleBindings whose `roleRef` is one of EMR's own roles (Role or
    /// ClusterRole `emr-containers`, Roles `emr-containers-role-spark-client` / `-driver`) and that
    /// bind anyone but EMR: the user `emr-containers` for `emr-containers`, and EMR-created service
    /// accounts (`emr-containers-sa-*`, `emr-container-sa-spark-livy`) of the binding's own
    /// namespace for the per-job roles. One finding per foreign subject; system components and
    /// declared administrators are left out.
    ///
    /// ## Why it matters
    /// EMR's role may create pods, configmaps, roles and role bindings and watch secrets in the
    /// namespace: bound to a person or a custom service account, it makes them EMR, with every
    /// execution role of the namespace within reach. The per-job roles likewise hand EMR's driver
    /// permissions to whatever pod runs as the bound account.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: etl-operator-emr, namespace: spark-team-a}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: emr-containers}
    /// subjects: [{kind: User, name: etl-operator}]
    /// ```
    ///
    /// ## Remediation
    /// Remove the subject from the binding (or delete the binding) and give the person or workload
    /// a role of its own, without pod creation, configmap writes, RBAC writes or secret reads.
    ///
    /// ## References
    /// - EMR on EKS developer guide, "Enable cluster access for Amazon EMR on EKS"
    /// - EMR on EKS best practices, security, "Kubernetes RBAC"
    pub struct EmrRoleBoundToNonEmr;
    id = "RBAC011", name = "emr-role-bound-to-non-emr", practice = Rbac, severity = High,
    title = "EMR's RBAC role is bound to an identity that is not EMR",
}

impl Rule for EmrRoleBoundToNonEmr {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let k = &cx.index.snap.k8s;
        let rbs = k.role_bindings.iter().map(|b| {
            (
                "RoleBinding",
                &b.metadata,
                &b.role_ref,
                b.subjects.as_deref(),
                b.metadata.namespace.as_deref(),
                &b.loc,
            )
        });
        let crbs = k.cluster_role_bindings.iter().map(|b| {
            (
                "ClusterRoleBinding",
                &b.metadata,
                &b.role_ref,
                b.subjects.as_deref(),
                None,
                &b.loc,
            )
        });
        let mut out = Vec::new();
        for (kind, meta, role_ref, subjects, ns, loc) in rbs.chain(crbs) {
            let Some(check) = check_emr_binding(role_ref, subjects.unwrap_or(&[]), ns) else {
                continue;
            };
            if check.non_emr_subjects.is_empty() {
                continue;
            }
            let view = cx.rbac();
            let name = meta.name.as_deref().unwrap_or("");
            for mut s in check.non_emr_subjects {
                s.iam_principals = view.identities.iam_principals(&s);
                if is_exempt(&s, &view.exemptions).is_some() {
                    continue;
                }
                let who = match &s.namespace {
                    Some(n) => format!("{} `{n}/{}`", s.kind, s.name),
                    None => format!("{} `{}`", s.kind, s.name),
                };
                let iam = if s.iam_principals.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (IAM: {})",
                        crate::rbac_support::describe_principals(&s.iam_principals)
                    )
                };
                let maps = view.identities.mappings_for(&s);
                let alternatives: Vec<_> = maps
                    .iter()
                    .take(10)
                    .map(|m| m.path_step().arn(Some(&m.principal)))
                    .collect();
                let mut path = Vec::new();
                if !alternatives.is_empty() {
                    path.push(emrguard_model::PathStep::fork(
                        Kind::IamPrincipal,
                        format!("{} IAM principals", maps.len()),
                        alternatives,
                    ));
                }
                path.push(
                    emrguard_model::PathStep::new(
                        s.kind.parse().unwrap_or(Kind::IamPrincipal),
                        s.name.clone(),
                    )
                    .namespace(s.namespace.as_deref()),
                );
                path.push(k8s_step(Kind::of_k8s(kind), meta));
                let role_kind = if role_ref.kind == "Role" {
                    Kind::Role
                } else {
                    Kind::ClusterRole
                };
                path.push(
                    emrguard_model::PathStep::new(role_kind, role_ref.name.clone())
                        .namespace(ns.filter(|_| role_ref.kind == "Role"))
                        .detail("EMR's own role"),
                );
                let mut b = self
                    .finding(k8s_ref(Kind::of_k8s(kind), meta))
                    .subject(s.clone())
                    .namespace(ns)
                    .discriminator(s.to_ref().key())
                    .message(format!(
                        "{kind} `{}` binds EMR's {} `{}` to {who}{iam}, which is not EMR: it receives everything EMR may do in the namespace.",
                        match ns {
                            Some(ns) => format!("{ns}/{name}"),
                            None => name.to_owned(),
                        },
                        role_ref.kind,
                        role_ref.name
                    ))
                    .remediation(format!(
                        "Remove {who} from {kind} `{name}` and give it a role of its own without pod creation, configmap or RBAC writes and secret reads."
                    ))
                    .path(path)
                    .location(loc);
                for m in view.identities.mappings_for(&s) {
                    if let Some(l) = &m.loc {
                        b = b.location(l);
                    }
                }
                out.push(b.build());
            }
        }
        out
    }
}

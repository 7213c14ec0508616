use crate::util::{k8s_ref, k8s_step};
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::k8s::PodSpec;
use emrguard_model::release::ImageRef;
use emrguard_model::Kind;
use emrguard_model::{Finding, PathStep};

declare_rule! {
    /// ## What it checks
    /// kube2iam or kiam running in the cluster: DaemonSets, Deployments, pods and other
    /// workloads recognised by container image (`jtblin/kube2iam`, `uswitch/kiam`, any image
    /// whose repository is named `kube2iam` or `kiam`), by name, or by their characteristic
    /// arguments (`--iam-role-key`, `--auto-discover-base-arn`, kiam `agent`/`server` with
    /// `--role-base-arn`).
    ///
    /// ## Why it matters
    /// EMR on EKS supports only IRSA and EKS Pod Identity for pod credentials. kube2iam and kiam
    /// intercept the instance metadata service and hand out role credentials based on pod
    /// annotations, so any pod that can set an annotation, or reach IMDS around the proxy, gets
    /// any role the node can assume: the node role must be allowed to assume every pod role,
    /// which breaks the isolation between execution roles.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata: {name: kube2iam, namespace: kube-system}
    /// spec:
    ///   template:
    ///     spec:
    ///       hostNetwork: true
    ///       containers:
    ///       - name: kube2iam
    ///         image: jtblin/kube2iam:0.11.2
    ///         args: ["--auto-discover-base-arn", "--iptables=true", "--host-interface=eni+"]
    /// ```
    ///
    /// ## Remediation
    /// Move every workload that relies on it to IRSA (an `eks.amazonaws.com/role-arn`
    /// annotation on its service account) or EKS Pod Identity, remove the
    /// `iam.amazonaws.com/role` annotations, delete the kube2iam/kiam workloads, and remove the
    /// node role's `sts:AssumeRole` rights on pod roles.
    ///
    /// ## References
    /// - EMR on EKS security best practices, "Use IAM roles for service accounts"
    /// - EKS best practices guide, "IAM roles for service accounts"
    pub struct Kube2iamKiamRunning;
    id = "POD001", name = "kube2iam-or-kiam-running", practice = PodCredentials, severity = High,
    title = "kube2iam or kiam hands out pod credentials",
}

/// Which of kube2iam/kiam a pod spec runs, and why we think so.
pub(crate) fn detect(name: &str, spec: &PodSpec) -> Option<(&'static str, String)> {
    let lname = name.to_ascii_lowercase();
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let image = c.image.as_deref().unwrap_or("");
        if let Some(r) = ImageRef::parse(image) {
            let repo = r
                .repository
                .rsplit('/')
                .next()
                .unwrap_or(&r.repository)
                .to_ascii_lowercase();
            if repo == "kube2iam" {
                return Some((
                    "kube2iam",
                    format!("container `{}` runs image {image}", c.name),
                ));
            }
            if repo == "kiam" {
                return Some(("kiam", format!("container `{}` runs image {image}", c.name)));
            }
        }
        let args: Vec<&str> = c
            .args
            .iter()
            .flatten()
            .chain(c.command.iter().flatten())
            .map(String::as_str)
            .collect();
        if args
            .iter()
            .any(|a| a.starts_with("--iam-role-key") || a.starts_with("--auto-discover-base-arn"))
        {
            return Some((
                "kube2iam",
                format!("container `{}` has kube2iam arguments", c.name),
            ));
        }
        if args.iter().any(|a| a.starts_with("--role-base-arn"))
            && args.iter().any(|a| *a == "agent" || *a == "server")
        {
            return Some(("kiam", format!("container `{}` has kiam arguments", c.name)));
        }
    }
    if lname == "kube2iam" {
        return Some(("kube2iam", "named kube2iam".to_owned()));
    }
    if lname == "kiam" || lname.starts_with("kiam-agent") || lname.starts_with("kiam-server") {
        return Some(("kiam", format!("named {name}")));
    }
    None
}

impl Rule for Kube2iamKiamRunning {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in crate::util::root_workloads(&cx.index.snap.k8s) {
            let Some(spec) = w.spec else { continue };
            let name = w.metadata.name.as_deref().unwrap_or("");
            let Some((tool, why)) = detect(name, spec) else {
                continue;
            };
            let resource = k8s_ref(Kind::of_k8s(w.kind), w.metadata);
            out.push(
                self.finding(resource)
                    .message(format!(
                        "{} `{}` in namespace `{}` runs {tool} ({why}). {tool} hands out IAM role credentials by pod annotation through the node's metadata service; EMR on EKS supports only IRSA and EKS Pod Identity.",
                        w.kind,
                        name,
                        w.metadata.namespace.as_deref().unwrap_or("")
                    ))
                    .remediation(format!(
                        "Move workloads that use {tool} to IRSA or EKS Pod Identity, remove their `iam.amazonaws.com/role` annotations, delete this {}, and drop the node role's sts:AssumeRole rights on pod roles.",
                        w.kind
                    ))
                    .step(k8s_step(Kind::of_k8s(w.kind), w.metadata).detail(why))
                    .step(PathStep::new(Kind::CredentialProvider, tool))
                    .location(w.loc)
                    .build(),
            );
        }
        out
    }
}

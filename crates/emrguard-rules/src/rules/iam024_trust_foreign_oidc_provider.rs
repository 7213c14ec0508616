use crate::iam_evidence::{policy_location, role_ref};
use crate::trust::{irsa_statements, statement_step, trust_policy};
use crate::util::join_words;
use crate::{declare_rule, Context, Rule, RuleMeta};
use emrguard_model::Finding;
use emrguard_model::Kind;
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it checks
    /// Execution roles used by virtual clusters (through their job runs or managed endpoints)
    /// whose trust policy has a web-identity statement for an OIDC provider that is not the
    /// issuer of any EKS cluster those virtual clusters run on (`describe-cluster`
    /// `identity.oidc.issuer`). Virtual clusters whose EKS cluster is not in the snapshot are
    /// not judged.
    ///
    /// ## Why it matters
    /// Pods of another cluster (often a less guarded development cluster) can assume the role;
    /// and when the role's own cluster is missing from the trust, its jobs cannot get
    /// credentials at all, which invites someone to "fix" it by loosening the trust further.
    /// If the role is meant to be shared with that other cluster, include that cluster's
    /// virtual clusters in the snapshot.
    ///
    /// ## Example
    /// Virtual cluster on `analytics-prod` (issuer `oidc.eks.us-west-2.amazonaws.com/id/AAAA`),
    /// execution role trusting `arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/BBBB`.
    ///
    /// ## Remediation
    /// Remove the statement for the foreign provider and run
    /// `aws emr-containers update-role-trust-policy --cluster-name CLUSTER --namespace NAMESPACE --role-name ROLE`
    /// for the cluster that runs the role's jobs.
    ///
    /// ## References
    /// - EMR on EKS Development Guide, "Update the trust policy of the job execution role"
    /// - EKS User Guide, "Create an IAM OIDC provider for your cluster"
    pub struct TrustForeignOidcProvider;
    id = "IAM024", name = "trust-foreign-oidc-provider", practice = LeastPrivilege, severity = Medium,
    title = "Execution role trusts an OIDC provider that is not its virtual clusters' EKS cluster",
}

impl Rule for TrustForeignOidcProvider {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (er, role) in cx.execution_roles().with_roles() {
            let clusters: Vec<(&str, &str)> = er
                .clusters(cx.index)
                .into_iter()
                .filter_map(|c| cx.index.cluster(c))
                .filter_map(|c| c.oidc_issuer_host().map(|h| (c.name.as_str(), h)))
                .collect();
            if clusters.is_empty() {
                continue;
            }
            let Some(tp) = trust_policy(cx, role) else {
                continue;
            };
            let stmts = irsa_statements(&tp);
            let issuers: BTreeSet<&str> = clusters.iter().map(|(_, h)| *h).collect();
            let own_trusted = stmts.iter().any(|s| issuers.contains(s.issuer.as_str()));
            let names: Vec<String> = clusters.iter().map(|(n, _)| format!("`{n}`")).collect();
            for s in stmts
                .iter()
                .filter(|s| !issuers.contains(s.issuer.as_str()))
            {
                let mut b = self
                    .finding(role_ref(role))
                    .message(format!(
                        "The trust policy of execution role `{}` (statement {}) trusts OIDC provider `{}`, which is not the issuer of {} where its virtual clusters run: pods of that other cluster can assume the role.{}",
                        role.role_name,
                        s.st.index(),
                        s.issuer,
                        join_words(&names),
                        if own_trusted {
                            String::new()
                        } else {
                            " No statement trusts the role's own cluster, so its jobs cannot get credentials through IRSA.".to_owned()
                        }
                    ))
                    .remediation(format!(
                        "Remove statement {} and run {}.",
                        s.st.index(),
                        crate::trust::update_trust_commands(cx, role)
                    ))
                    .discriminator(format!("{}/{}", s.st.index(), s.provider))
                    .step(er.step(cx.index));
                for (n, h) in &clusters {
                    b = b.step(
                        emrguard_model::PathStep::new(Kind::EksCluster, *n)
                            .detail(format!("identity.oidc.issuer = https://{h}")),
                    );
                }
                if let Some(st) = statement_step(&tp, s.st.index()) {
                    b = b.step(st);
                }
                if let Some(l) = policy_location(cx.index, &tp.origin) {
                    b = b.location(&l);
                }
                for (n, _) in &clusters {
                    if let Some(c) = cx.index.cluster(n) {
                        b = b.location(&c.loc);
                    }
                }
                out.push(b.location(&role.loc).build());
            }
        }
        out
    }
}

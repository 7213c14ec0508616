//! The eight capabilities of the `rbac` practice, each as the exact requests that confer it.
//!
//! A rule confers a capability when it would allow at least one of the capability's *probes*
//! (verb, API group, resource or resource/subresource) under the API server's matching rules
//! (`RuleAllows`, see the crate docs). Probes are either **namespaced** (the request is made
//! inside the EMR namespace, so a RoleBinding there or any ClusterRoleBinding grants it) or
//! **cluster-scoped**
//! (only a cluster-wide binding can grant it: RoleBindings never authorize cluster-scoped
//! requests).
//!
//! | capability | probes |
//! |---|---|
//! | `modify-configmaps` | create, update, patch, delete, deletecollection on `configmaps` |
//! | `exec-pods` | create on `pods/exec`, `pods/attach`; also **get** on them: `kubectl exec` over WebSocket sends a GET and many API server versions authorize it as `get` |
//! | `create-pods` | create `pods`; create, update or patch a pod controller: `deployments`, `replicasets`, `statefulsets`, `daemonsets` (`apps`, `extensions`), `jobs`, `cronjobs` (`batch`), `replicationcontrollers` (core). Update/patch count because changing the pod template makes the controller create pods from it |
//! | `deploy-mutating-webhooks` | create, update, patch `mutatingwebhookconfigurations` (`admissionregistration.k8s.io`); cluster-scoped |
//! | `read-secrets` | get, list, watch `secrets` |
//! | `escalate-rbac` | namespaced: create/update/patch `roles`, `rolebindings`; `bind`/`escalate` on `roles`; `bind` on `clusterroles` (the API server checks `bind` in the namespace of the RoleBinding being written). Cluster-scoped: create/update/patch `clusterroles`, `clusterrolebindings`; `escalate` on `clusterroles` |
//! | `impersonate` | namespaced: impersonate `serviceaccounts`. Cluster-scoped: impersonate `users`, `groups` (core), `uids`, `userextras/<key>` (`authentication.k8s.io`) |
//! | `mint-tokens` | create `serviceaccounts/token` |
//!
//! Verbs that are not Kubernetes verbs (EMR's Role lists `describe`, `edit`, `annotate`,
//! `label`) match no probe and so grant nothing. Name-restricted rules (`resourceNames`) never
//! confer a capability; they are reported beside it as restricted evidence.

use crate::rule::{CompiledRequest, CompiledRule, Vocab};
use emrguard_model::Capability;
use k8s_openapi::api::rbac::v1::PolicyRule;

/// Where a probe's request is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Namespaced,
    Cluster,
}

struct Probe {
    verbs: &'static [&'static str],
    groups: &'static [&'static str],
    resources: &'static [(&'static str, Option<&'static str>)],
    /// `resource/<any key>`: used for `userextras`.
    any_sub: bool,
    scope: Scope,
    why: &'static str,
}

const MODIFY: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const WRITE: &[&str] = &["create", "update", "patch"];
const READ: &[&str] = &["get", "list", "watch"];

const PROBES: &[(Capability, &[Probe])] = &[
    (
        Capability::ModifyConfigmaps,
        &[Probe {
            verbs: MODIFY,
            groups: &[""],
            resources: &[("configmaps", None)],
            any_sub: false,
            scope: Scope::Namespaced,
            why: "create/update/patch/delete configmaps",
        }],
    ),
    (
        Capability::ExecPods,
        &[
            Probe {
                verbs: &["create"],
                groups: &[""],
                resources: &[("pods", Some("exec")), ("pods", Some("attach"))],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create on pods/exec or pods/attach",
            },
            Probe {
                verbs: &["get"],
                groups: &[""],
                resources: &[("pods", Some("exec")), ("pods", Some("attach"))],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "get on pods/exec or pods/attach (exec over WebSocket is authorized as GET on many API server versions)",
            },
        ],
    ),
    (
        Capability::CreatePods,
        &[
            Probe {
                verbs: &["create"],
                groups: &[""],
                resources: &[("pods", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create pods",
            },
            Probe {
                verbs: WRITE,
                groups: &["apps", "extensions"],
                resources: &[
                    ("deployments", None),
                    ("replicasets", None),
                    ("statefulsets", None),
                    ("daemonsets", None),
                ],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create/update/patch a pod controller (deployments, replicasets, statefulsets, daemonsets): the controller creates pods from the template",
            },
            Probe {
                verbs: WRITE,
                groups: &["batch"],
                resources: &[("jobs", None), ("cronjobs", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create/update/patch jobs or cronjobs: the controller creates pods from the template",
            },
            Probe {
                verbs: WRITE,
                groups: &[""],
                resources: &[("replicationcontrollers", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create/update/patch replicationcontrollers: the controller creates pods from the template",
            },
        ],
    ),
    (
        Capability::DeployMutatingWebhooks,
        &[Probe {
            verbs: WRITE,
            groups: &["admissionregistration.k8s.io"],
            resources: &[("mutatingwebhookconfigurations", None)],
            any_sub: false,
            scope: Scope::Cluster,
            why: "create/update/patch mutatingwebhookconfigurations (cluster-scoped)",
        }],
    ),
    (
        Capability::ReadSecrets,
        &[Probe {
            verbs: READ,
            groups: &[""],
            resources: &[("secrets", None)],
            any_sub: false,
            scope: Scope::Namespaced,
            why: "get/list/watch secrets",
        }],
    ),
    (
        Capability::EscalateRbac,
        &[
            Probe {
                verbs: WRITE,
                groups: &["rbac.authorization.k8s.io"],
                resources: &[("roles", None), ("rolebindings", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "create/update/patch roles or rolebindings",
            },
            Probe {
                verbs: &["bind", "escalate"],
                groups: &["rbac.authorization.k8s.io"],
                resources: &[("roles", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "bind/escalate on roles",
            },
            Probe {
                verbs: &["bind"],
                groups: &["rbac.authorization.k8s.io"],
                resources: &[("clusterroles", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "bind on clusterroles (lets a RoleBinding in this namespace reference any ClusterRole)",
            },
            Probe {
                verbs: WRITE,
                groups: &["rbac.authorization.k8s.io"],
                resources: &[("clusterroles", None), ("clusterrolebindings", None)],
                any_sub: false,
                scope: Scope::Cluster,
                why: "create/update/patch clusterroles or clusterrolebindings",
            },
            Probe {
                verbs: &["escalate"],
                groups: &["rbac.authorization.k8s.io"],
                resources: &[("clusterroles", None)],
                any_sub: false,
                scope: Scope::Cluster,
                why: "escalate on clusterroles",
            },
        ],
    ),
    (
        Capability::Impersonate,
        &[
            Probe {
                verbs: &["impersonate"],
                groups: &[""],
                resources: &[("serviceaccounts", None)],
                any_sub: false,
                scope: Scope::Namespaced,
                why: "impersonate serviceaccounts",
            },
            Probe {
                verbs: &["impersonate"],
                groups: &[""],
                resources: &[("users", None), ("groups", None)],
                any_sub: false,
                scope: Scope::Cluster,
                why: "impersonate users or groups",
            },
            Probe {
                verbs: &["impersonate"],
                groups: &["authentication.k8s.io"],
                resources: &[("uids", None)],
                any_sub: false,
                scope: Scope::Cluster,
                why: "impersonate uids",
            },
            Probe {
                verbs: &["impersonate"],
                groups: &["authentication.k8s.io"],
                resources: &[("userextras", None)],
                any_sub: true,
                scope: Scope::Cluster,
                why: "impersonate userextras",
            },
        ],
    ),
    (
        Capability::MintTokens,
        &[Probe {
            verbs: &["create"],
            groups: &[""],
            resources: &[("serviceaccounts", Some("token"))],
            any_sub: false,
            scope: Scope::Namespaced,
            why: "create serviceaccounts/token",
        }],
    ),
];

/// One capability a rule confers (or would, were it not name-restricted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CapHit {
    pub(crate) cap: Capability,
    /// `Cluster` when only cluster-scoped probes match: only cluster-wide bindings confer it.
    pub(crate) scope: Scope,
    pub(crate) restricted: bool,
    pub(crate) why: &'static str,
    /// The probe's place in the capability's list: 0 is its primary request (`create
    /// pods/exec`), higher ones are weaker forms (`get pods/exec`). Evidence cites the lowest.
    pub(crate) rank: u8,
}

/// The probes compiled against a graph's vocabulary: each is a list of concrete requests, so
/// checking a rule is integer comparisons only.
pub(crate) struct CompiledProbes {
    caps: Vec<(Capability, Vec<CompiledProbe>)>,
}

struct CompiledProbe {
    scope: Scope,
    why: &'static str,
    rank: u8,
    requests: Vec<CompiledRequest<'static>>,
    /// (verb, group, resource) for `resource/<any>` probes.
    any_sub: Vec<(&'static str, &'static str, &'static str)>,
}

impl CompiledProbes {
    pub(crate) fn new(vocab: &Vocab) -> CompiledProbes {
        let caps = PROBES
            .iter()
            .map(|(cap, probes)| {
                let compiled = probes
                    .iter()
                    .enumerate()
                    .map(|(rank, p)| {
                        let mut requests = Vec::new();
                        let mut any_sub = Vec::new();
                        for verb in p.verbs {
                            for group in p.groups {
                                for (res, sub) in p.resources {
                                    if p.any_sub {
                                        any_sub.push((*verb, *group, *res));
                                    } else {
                                        requests.push(vocab.request(verb, group, res, *sub, None));
                                    }
                                }
                            }
                        }
                        CompiledProbe {
                            scope: p.scope,
                            why: p.why,
                            rank: u8::try_from(rank).unwrap_or(u8::MAX),
                            requests,
                            any_sub,
                        }
                    })
                    .collect();
                (*cap, compiled)
            })
            .collect();
        CompiledProbes { caps }
    }

    /// Every capability the rule confers. Namespaced probes are tried first, so a rule that
    /// also allows a namespaced request is usable through a RoleBinding.
    pub(crate) fn rule_capabilities(
        &self,
        c: &CompiledRule,
        rule: &PolicyRule,
        vocab: &Vocab,
    ) -> Vec<CapHit> {
        let matches = |p: &CompiledProbe| {
            p.requests.iter().any(|r| c.matches_unnamed(r))
                || p.any_sub.iter().any(|(verb, group, res)| {
                    c.matches_some_subresource(rule, vocab, verb, group, res)
                })
        };
        let mut hits = Vec::new();
        for (cap, probes) in &self.caps {
            let found = [Scope::Namespaced, Scope::Cluster]
                .into_iter()
                .find_map(|scope| {
                    probes
                        .iter()
                        .filter(|p| p.scope == scope)
                        .find(|p| matches(p))
                        .map(|p| (scope, p.why, p.rank))
                });
            if let Some((scope, why, rank)) = found {
                hits.push(CapHit {
                    cap: *cap,
                    scope,
                    restricted: c.restricted(),
                    why,
                    rank,
                });
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Vec<(Capability, Scope)> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let rule = PolicyRule {
            verbs: s(verbs),
            api_groups: Some(s(groups)),
            resources: Some(s(resources)),
            ..Default::default()
        };
        let mut vocab = Vocab::default();
        let c = vocab.compile(&rule);
        CompiledProbes::new(&vocab)
            .rule_capabilities(&c, &rule, &vocab)
            .into_iter()
            .map(|h| (h.cap, h.scope))
            .collect()
    }

    #[test]
    fn every_capability_has_a_probe() {
        for cap in Capability::ALL {
            assert!(
                PROBES.iter().any(|(c, p)| *c == cap && !p.is_empty()),
                "{cap}"
            );
        }
    }

    #[test]
    fn examples() {
        use Capability::*;
        assert_eq!(caps(&["*"], &["*"], &["*"]).len(), 8);
        assert_eq!(
            caps(&["get"], &[""], &["pods/exec"]),
            vec![(ExecPods, Scope::Namespaced)]
        );
        assert_eq!(
            caps(&["patch"], &["apps"], &["deployments"]),
            vec![(CreatePods, Scope::Namespaced)]
        );
        assert_eq!(caps(&["update"], &["apps"], &["deployments/scale"]), vec![]);
        assert_eq!(
            caps(
                &["create"],
                &["admissionregistration.k8s.io"],
                &["mutatingwebhookconfigurations"]
            ),
            vec![(DeployMutatingWebhooks, Scope::Cluster)]
        );
        assert_eq!(
            caps(
                &["create"],
                &["admissionregistration.k8s.io"],
                &["validatingwebhookconfigurations"]
            ),
            vec![]
        );
        assert_eq!(
            caps(
                &["escalate"],
                &["rbac.authorization.k8s.io"],
                &["clusterroles"]
            ),
            vec![(EscalateRbac, Scope::Cluster)]
        );
        assert_eq!(
            caps(&["bind"], &["rbac.authorization.k8s.io"], &["clusterroles"]),
            vec![(EscalateRbac, Scope::Namespaced)]
        );
        assert_eq!(
            caps(&["impersonate"], &[""], &["users"]),
            vec![(Impersonate, Scope::Cluster)]
        );
        assert_eq!(
            caps(
                &["impersonate"],
                &["authentication.k8s.io"],
                &["userextras/scopes"]
            ),
            vec![(Impersonate, Scope::Cluster)]
        );
        assert_eq!(
            caps(&["describe", "edit", "annotate", "label"], &["*"], &["*"]),
            vec![]
        );
        assert_eq!(caps(&["create"], &[""], &["serviceaccounts"]), vec![]);
        assert_eq!(
            caps(&["create"], &[""], &["serviceaccounts/token"]),
            vec![(MintTokens, Scope::Namespaced)]
        );
    }
}

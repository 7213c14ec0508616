//! kubescape regolibrary RBAC test cases as an oracle: for each case, the subjects emrguard finds
//! holding the capability (in any namespace) must equal the subjects in kubescape's
//! `expected.json`, except for the deliberate disagreements listed in `CASES` with their reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

mod common;

use common::{fixture, Objects};
use emrguard_model::Capability::{self, *};
use emrguard_rbac::BindingKind;
use std::collections::BTreeSet;
use std::path::Path;

/// What emrguard does with a case.
enum Verdict {
    Agree,
    /// emrguard finds these subjects instead of kubescape's, for this reason.
    Disagree {
        ours: &'static [(&'static str, &'static str)],
        reason: &'static str,
    },
}
use Verdict::*;

/// Every case used: (rule, case, capability, verdict).
const CASES: &[(&str, &str, Capability, Verdict)] = &[
    ("exec-into-container-v1", "clusterrole", ExecPods, Disagree {
        ours: &[],
        reason: "the rule grants create on `pods/*`; the API server does not treat `pods/*` as a wildcard (only `*` and `*/<sub>`), so it allows no exec (kubernetes/kubernetes#78936, kubernetes/enhancements#4961); emrguard reports the rule as IneffectiveWildcard instead",
    }),
    ("exec-into-container-v1", "role", ExecPods, Agree),
    ("rule-can-bind-escalate", "clusterrole-clusterrolebinding", EscalateRbac, Agree),
    ("rule-can-bind-escalate", "role-rolebinding", EscalateRbac, Agree),
    ("rule-can-create-pod", "clusterrole-clusterrolebinding", CreatePods, Agree),
    ("rule-can-create-pod", "clusterrole-rolebinding", CreatePods, Agree),
    ("rule-can-create-pod", "role-rolebinding", CreatePods, Agree),
    ("rule-can-create-service-account-token", "clusterrole-clusterrolebinding", MintTokens, Agree),
    ("rule-can-create-service-account-token", "clusterrole-rolebinding", MintTokens, Agree),
    ("rule-can-create-service-account-token", "role-rolebinding", MintTokens, Agree),
    ("rule-can-impersonate-users-groups-v1", "clusterrole-clusterrolebinding", Impersonate, Agree),
    // Agree on the subject, for a narrower reason: a RoleBinding cannot authorize impersonating
    // users or groups (cluster-scoped), but `*` on `*` in kube-system lets jane impersonate the
    // service accounts of kube-system.
    ("rule-can-impersonate-users-groups-v1", "clusterrole-rolebinding", Impersonate, Agree),
    ("rule-can-impersonate-users-groups-v1", "role-rolebinding", Impersonate, Agree),
    ("rule-can-list-get-secrets-v1", "clusterrole-clusterrolebinding", ReadSecrets, Agree),
    ("rule-can-list-get-secrets-v1", "clusterrole-rolebinding", ReadSecrets, Agree),
    ("rule-can-list-get-secrets-v1", "role-rolebinding", ReadSecrets, Agree),
    ("rule-can-modify-admission-webhooks", "clusterrole-clusterrolebinding", DeployMutatingWebhooks, Agree),
    ("rule-can-modify-admission-webhooks", "clusterrole-rolebinding", DeployMutatingWebhooks, Disagree {
        ours: &[],
        reason: "webhook configurations are cluster-scoped and a RoleBinding never authorizes cluster-scoped requests, even when it references a ClusterRole",
    }),
    ("rule-can-modify-admission-webhooks", "role-rolebinding", DeployMutatingWebhooks, Disagree {
        ours: &[],
        reason: "a namespaced Role cannot grant access to cluster-scoped mutatingwebhookconfigurations",
    }),
    // kubescape's rule is about the kube-system `coredns` ConfigMap; emrguard's modify-configmaps
    // in kube-system covers it.
    ("rule-can-update-configmap-v1", "clusterrole-clusterrolebinding", ModifyConfigmaps, Agree),
    ("rule-can-update-configmap-v1", "clusterrole-rolebinding", ModifyConfigmaps, Agree),
    ("rule-can-update-configmap-v1", "role-rolebinding", ModifyConfigmaps, Agree),
];

fn load_case(rule: &str, case: &str) -> Objects {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubescape")
        .join(rule)
        .join(case)
        .join("input");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut o = Objects::default();
    for f in files {
        let rel = f
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        o.add_yaml(&rel, &fixture(&rel));
    }
    o
}

fn expected(rule: &str, case: &str) -> BTreeSet<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&fixture(&format!("kubescape/{rule}/{case}/expected.json"))).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = &a["alertObject"]["externalObjects"];
            (
                s["kind"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Subjects holding `cap` in any namespace a binding mentions (or `default`).
fn ours(o: &Objects, cap: Capability) -> BTreeSet<(String, String)> {
    let g = o.graph();
    let mut namespaces: BTreeSet<String> = o
        .role_bindings
        .iter()
        .filter_map(|b| b.metadata.namespace.clone())
        .collect();
    namespaces.insert("default".into());
    let mut out = BTreeSet::new();
    for ns in namespaces {
        for s in g.capabilities(&ns) {
            if let Some(ev) = s.capabilities.get(&cap) {
                // The API server's built-in system:masters is not in kubescape's model.
                if ev
                    .grants
                    .iter()
                    .any(|gr| gr.binding.kind != BindingKind::SuperuserGroup)
                {
                    out.insert((s.subject.kind.clone(), s.subject.name.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn every_fixture_case_is_in_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubescape");
    let mut on_disk = BTreeSet::new();
    for rule in std::fs::read_dir(&root).unwrap() {
        let rule = rule.unwrap();
        for case in std::fs::read_dir(rule.path()).unwrap() {
            on_disk.insert((
                rule.file_name().into_string().unwrap(),
                case.unwrap().file_name().into_string().unwrap(),
            ));
        }
    }
    let listed: BTreeSet<_> = CASES
        .iter()
        .map(|(r, c, _, _)| (r.to_string(), c.to_string()))
        .collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn emrguard_agrees_with_kubescape_except_where_listed() {
    let mut failures = Vec::new();
    for (rule, case, cap, verdict) in CASES {
        let o = load_case(rule, case);
        let got = ours(&o, *cap);
        let want = match verdict {
            Agree => expected(rule, case),
            Disagree { ours, reason } => {
                assert!(!reason.is_empty());
                assert_ne!(
                    ours.iter()
                        .map(|(k, n)| (k.to_string(), n.to_string()))
                        .collect::<BTreeSet<_>>(),
                    expected(rule, case),
                    "{rule}/{case} is listed as a disagreement but agrees with kubescape"
                );
                ours.iter()
                    .map(|(k, n)| (k.to_string(), n.to_string()))
                    .collect()
            }
        };
        if got != want {
            failures.push(format!("{rule}/{case} ({cap}): got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pods_star_is_reported_as_ineffective() {
    let g = load_case("exec-into-container-v1", "clusterrole").graph();
    assert!(g
        .issues()
        .iter()
        .any(|i| i.kind == emrguard_rbac::IssueKind::IneffectiveWildcard
            && i.message.contains("pods/*")));
}

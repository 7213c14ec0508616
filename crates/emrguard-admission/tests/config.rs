//! `[admission]` in emrguard.toml: parsed strictly here, accepted (and ignored) by `check`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use emrguard_admission::{AdmissionConfig, AdmissionRule, Mode, Scope};

const TOML: &str = r#"
[administrators]
kubernetes_groups = ["platform-admins"]

[admission]
emr_namespaces = ["spark-extra"]
portforward = false

[admission.modes]
exec-pods = "warn"
host-network = "audit"
kube2iam-annotation = "off"
"#;

#[test]
fn parses_modes_and_settings() {
    let c = AdmissionConfig::parse("emrguard.toml", TOML).unwrap();
    assert_eq!(c.mode(AdmissionRule::ExecPods), Mode::Warn);
    assert_eq!(c.mode(AdmissionRule::HostNetwork), Mode::Audit);
    assert_eq!(c.mode(AdmissionRule::Kube2iamAnnotation), Mode::Off);
    assert_eq!(c.mode(AdmissionRule::CreatePods), Mode::Enforce);
    assert_eq!(c.exemptions.groups, vec!["platform-admins".to_owned()]);
    assert!(!c.settings.portforward);
    // check reads the same file.
    let cfg = emrguard_config::Config::parse("emrguard.toml", TOML).unwrap();
    assert_eq!(
        cfg.administrators.kubernetes_groups,
        vec!["platform-admins".to_owned()]
    );
}

#[test]
fn rejects_unknown_rules_and_keys() {
    let e = AdmissionConfig::parse("f.toml", "[admission.modes]\nexec = \"warn\"\n").unwrap_err();
    assert!(e.contains("unknown admission rule `exec`"), "{e}");
    let e = AdmissionConfig::parse("f.toml", "[admission]\nportfoward = true\n").unwrap_err();
    assert!(e.contains("portfoward"), "{e}");
    let e =
        AdmissionConfig::parse("f.toml", "[admission.modes]\nexec-pods = \"block\"\n").unwrap_err();
    assert!(e.contains("block"), "{e}");
}

#[test]
fn modes_shape_the_response() {
    let engine = engine_with(AdmissionConfig::parse("emrguard.toml", TOML).unwrap());
    let review = |v: serde_json::Value| {
        emrguard_admission::review::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
    };
    // warn: allowed with a warning naming the rule.
    let d = engine.decide(&review(exec(&submitter(), EMR_NS, "p")), Scope::Known);
    assert!(d.allowed());
    assert_eq!(d.verdict(), "warn");
    let w = d.response.warnings.clone().unwrap();
    assert!(w[0].contains("[exec-pods]"), "{w:?}");
    // audit: allowed silently, recorded.
    let mut hn = pod(EMR_NS, "hn", DRIVER_SA);
    hn["spec"]["hostNetwork"] = serde_json::json!(true);
    let d = engine.decide(&review(pod_create(&emr(), EMR_NS, hn)), Scope::Known);
    assert!(d.allowed() && d.response.warnings.is_none());
    assert_eq!(d.verdict(), "audit");
    // off: not evaluated.
    let mut k2 = pod(EMR_NS, "k2", DRIVER_SA);
    k2["metadata"]["annotations"] = serde_json::json!({"iam.amazonaws.com/role": "x"});
    let d = engine.decide(&review(pod_create(&emr(), EMR_NS, k2)), Scope::Known);
    assert_eq!(d.verdict(), "allow");
    // A configured EMR namespace.
    let d = engine.decide(
        &review(pod_create(
            &submitter(),
            "spark-extra",
            pod("spark-extra", "p", "default"),
        )),
        Scope::Known,
    );
    assert_eq!(d.verdict(), "deny");
    // portforward = false.
    let mut pf = exec(&submitter(), EMR_NS, "p");
    pf["request"]["subResource"] = serde_json::json!("portforward");
    let d = engine.decide(&review(pf), Scope::Known);
    assert_eq!(d.verdict(), "allow");
}

#[test]
fn rbac_updates_only_deny_new_grants() {
    let engine = engine();
    let review = |v: serde_json::Value| {
        emrguard_admission::review::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
    };
    let subj = |n: &str| serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": n}]);
    let old = rolebinding(EMR_NS, "b", "ClusterRole", "edit", subj("data-scientists"));
    let same = rolebinding(EMR_NS, "b", "ClusterRole", "edit", subj("data-scientists"));
    // An UPDATE that grants nothing new (e.g. a label change on a bad binding) is not blocked.
    let d = engine.decide(
        &review(rbac_write(
            &admin(),
            "UPDATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            same,
            old.clone(),
        )),
        Scope::Known,
    );
    assert!(d.allowed(), "{:?}", d.response);
    // Adding a subject is.
    let more = rolebinding(
        EMR_NS,
        "b",
        "ClusterRole",
        "edit",
        serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "data-scientists"}, {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "carol"}]),
    );
    let d = engine.decide(
        &review(rbac_write(
            &admin(),
            "UPDATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            more,
            old,
        )),
        Scope::Known,
    );
    assert!(!d.allowed());
    let msg = &d.response.result.message;
    assert!(
        msg.contains("User carol") && !msg.contains("Group data-scientists"),
        "{msg}"
    );
    // A ClusterRole that aggregates into `edit` gives every `edit` binding its rules; the
    // hardened estate binds `view` only, so a new aggregate-to-view rule granting exec is caught.
    let cr = serde_json::json!({"kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "debug-exec", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
        "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]});
    let d = engine.decide(
        &review(rbac_write(
            &submitter(),
            "CREATE",
            "ClusterRole",
            "clusterroles",
            None,
            cr,
            serde_json::Value::Null,
        )),
        Scope::Known,
    );
    assert!(!d.allowed(), "{:?}", d.response);
    assert!(
        d.response.result.message.contains("exec-pods"),
        "{}",
        d.response.result.message
    );
    // A ClusterRoleBinding of cluster-admin to a submitter.
    let crb = serde_json::json!({"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "oops"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": EMR_NS}]});
    let d = engine.decide(
        &review(rbac_write(
            &admin(),
            "CREATE",
            "ClusterRoleBinding",
            "clusterrolebindings",
            None,
            crb,
            serde_json::Value::Null,
        )),
        Scope::Known,
    );
    assert!(!d.allowed());
    assert!(
        d.response.result.message.contains("every EMR namespace"),
        "{}",
        d.response.result.message
    );
    // A binding to a role the snapshot lacks: refused by default (fail closed).
    let unknown = rolebinding(
        EMR_NS,
        "u",
        "Role",
        "made-after-the-snapshot",
        subj("data-scientists"),
    );
    let d = engine.decide(
        &review(rbac_write(
            &admin(),
            "CREATE",
            "RoleBinding",
            "rolebindings",
            Some(EMR_NS),
            unknown,
            serde_json::Value::Null,
        )),
        Scope::Known,
    );
    assert!(!d.allowed());
    assert!(
        d.response.result.message.contains("does not contain"),
        "{}",
        d.response.result.message
    );
    // Outside EMR namespaces RBAC is not emrguard's business.
    let elsewhere = rolebinding("web", "b", "ClusterRole", "edit", subj("data-scientists"));
    let d = engine.decide(
        &review(rbac_write(
            &admin(),
            "CREATE",
            "RoleBinding",
            "rolebindings",
            Some("web"),
            elsewhere,
            serde_json::Value::Null,
        )),
        Scope::Known,
    );
    assert!(d.allowed());
}

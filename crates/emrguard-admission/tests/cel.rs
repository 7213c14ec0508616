//! Every CEL expression of the generated ValidatingAdmissionPolicies (and of the webhook's
//! matchConditions) compiles, and the policies decide sample admission requests, allowed and
//! denied, exactly as the webhook's engine does. Evaluated with the `cel-interpreter` crate,
//! emulating the API server: matchConstraints, the binding's namespaceSelector,
//! matchConditions, variables (in order, as `variables.NAME`), then validations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use cel_interpreter::extractors::This;
use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, Program, Value as Cel};
use common::*;
use emrguard_admission::generate::{admission_policies, system_user_match_conditions, Policy};
use emrguard_admission::{AdmissionRule, Engine, Scope};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

fn base_context(review: &Value) -> Context<'static> {
    let mut ctx = Context::default();
    // Kubernetes' CEL environment has the strings extension; cel-interpreter does not.
    ctx.add_function("lowerAscii", |This(s): This<Arc<String>>| {
        s.to_ascii_lowercase()
    });
    let req = &review["request"];
    ctx.add_variable("request", req.clone()).unwrap();
    ctx.add_variable("object", req.get("object").cloned().unwrap_or(Value::Null))
        .unwrap();
    ctx.add_variable(
        "oldObject",
        req.get("oldObject").cloned().unwrap_or(Value::Null),
    )
    .unwrap();
    ctx
}

fn eval(expr: &str, ctx: &Context) -> Cel {
    let p = Program::compile(expr).unwrap_or_else(|e| panic!("does not compile: {expr}\n{e:?}"));
    p.execute(ctx)
        .unwrap_or_else(|e| panic!("cannot evaluate: {expr}\n{e:?}"))
}

fn eval_bool(expr: &str, ctx: &Context) -> bool {
    match eval(expr, ctx) {
        Cel::Bool(b) => b,
        other => panic!("not a bool: {expr} = {other:?}"),
    }
}

fn matches_constraints(p: &Policy, review: &Value, engine: &Engine) -> bool {
    let req = &review["request"];
    let group = req["resource"]["group"].as_str().unwrap();
    let mut resource = req["resource"]["resource"].as_str().unwrap().to_owned();
    if let Some(s) = req.get("subResource").and_then(Value::as_str) {
        resource = format!("{resource}/{s}");
    }
    let op = req["operation"].as_str().unwrap();
    let rules = p.policy["spec"]["matchConstraints"]["resourceRules"]
        .as_array()
        .unwrap();
    let rule_ok = rules.iter().any(|r| {
        let has = |k: &str, v: &str| r[k].as_array().unwrap().iter().any(|x| x == v || x == "*");
        has("apiGroups", group) && has("resources", &resource) && has("operations", op)
    });
    if !rule_ok {
        return false;
    }
    // The binding's namespaceSelector (EMR label): the namespaces the generated Namespace
    // objects label are the engine's EMR namespaces.
    if p.binding["spec"].get("matchResources").is_some() {
        let ns = req.get("namespace").and_then(Value::as_str).unwrap_or("");
        return engine.state.is_emr_namespace(ns);
    }
    true
}

/// The rules the policies deny (Deny action: every rule is in enforce mode here).
fn cel_decision(policies: &[Policy], review: &Value, engine: &Engine) -> BTreeSet<AdmissionRule> {
    let mut out = BTreeSet::new();
    for p in policies {
        if !matches_constraints(p, review, engine) {
            continue;
        }
        let mut ctx = base_context(review);
        let conds = p.policy["spec"]["matchConditions"].as_array().unwrap();
        if !conds
            .iter()
            .all(|c| eval_bool(c["expression"].as_str().unwrap(), &ctx))
        {
            continue;
        }
        let mut vars: HashMap<Key, Cel> = HashMap::new();
        for v in p.policy["spec"]["variables"].as_array().unwrap() {
            let value = eval(v["expression"].as_str().unwrap(), &ctx);
            vars.insert(
                Key::String(Arc::new(v["name"].as_str().unwrap().to_owned())),
                value,
            );
            ctx.add_variable_from_value(
                "variables",
                Cel::Map(Map {
                    map: Arc::new(vars.clone()),
                }),
            );
        }
        for val in p.policy["spec"]["validations"].as_array().unwrap() {
            if !eval_bool(val["expression"].as_str().unwrap(), &ctx) {
                let msg = eval(val["messageExpression"].as_str().unwrap(), &ctx);
                let Cel::String(m) = msg else {
                    panic!("message is not a string: {msg:?}")
                };
                assert!(m.contains(&format!("[{}]", p.rule)), "{m}");
                out.insert(p.rule);
            }
        }
    }
    out
}

fn webhook_decision(engine: &Engine, review: &Value) -> BTreeSet<AdmissionRule> {
    let req = emrguard_admission::review::parse(&serde_json::to_vec(review).unwrap()).unwrap();
    // The webhook's matchConditions skip system users before the request reaches emrguard.
    let ctx = base_context(review);
    for c in system_user_match_conditions().as_array().unwrap() {
        if !eval_bool(c["expression"].as_str().unwrap(), &ctx) {
            return BTreeSet::new();
        }
    }
    engine
        .evaluate(&req, Scope::Known)
        .unwrap()
        .into_iter()
        .map(|v| v.rule)
        .filter(|r| r.request_only())
        .collect()
}

fn samples() -> Vec<(&'static str, Value, Vec<AdmissionRule>)> {
    use AdmissionRule::*;
    let owned = |mut p: Value| {
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "0000000337okspsc913", "uid": "5b1f", "controller": true}]);
        p
    };
    let mut hn = pod(EMR_NS, "hn", "default");
    hn["spec"]["hostNetwork"] = json!(true);
    let mut k2 = pod(EMR_NS, "k2", DRIVER_SA);
    k2["metadata"]["annotations"] = json!({"iam.amazonaws.com/role": "etl"});
    let mut sa_old_field = pod(EMR_NS, "old-field", "x");
    sa_old_field["spec"]
        .as_object_mut()
        .unwrap()
        .remove("serviceAccountName");
    sa_old_field["spec"]["serviceAccount"] = json!(DRIVER_SA);
    let mut iam_admin = submitter();
    iam_admin.extra = json!({"canonicalArn": ["arn:aws:iam::111122223333:role/platform-admin"], "arn": ["arn:aws:sts::111122223333:assumed-role/platform-admin/ops"]});
    let mut slr = submitter();
    slr.name = "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAmazonEMRContainers/emr";
    slr.groups = vec!["system:authenticated"];
    slr.extra = json!({"canonicalArn": ["arn:aws:iam::111122223333:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"]});
    let masters = User {
        name: "kubernetes-admin",
        groups: vec!["system:masters", "system:authenticated"],
        extra: json!({}),
    };
    let cm_old = configmap(EMR_NS, "podtemplate-1", Some("pod-template"), "a");
    let cm_new = configmap(EMR_NS, "podtemplate-1", Some("pod-template"), "b");
    let plain = configmap(EMR_NS, "my-settings", None, "a");
    let emr_label = json!({"emrguard.io/emr": "true", "kubernetes.io/metadata.name": EMR_NS});
    vec![
        (
            "exec by submitter",
            exec(&submitter(), EMR_NS, "spark-1-driver"),
            vec![ExecPods],
        ),
        (
            "exec by emr-containers",
            exec(&emr(), EMR_NS, "spark-1-driver"),
            vec![],
        ),
        (
            "exec by admin group",
            exec(&admin(), EMR_NS, "spark-1-driver"),
            vec![],
        ),
        (
            "exec by admin IAM role",
            exec(&iam_admin, EMR_NS, "spark-1-driver"),
            vec![],
        ),
        (
            "exec by system:masters",
            exec(&masters, EMR_NS, "spark-1-driver"),
            vec![],
        ),
        (
            "exec outside EMR",
            exec(&submitter(), OTHER_NS, "web-1"),
            vec![],
        ),
        (
            "pod by submitter",
            pod_create(&submitter(), EMR_NS, pod(EMR_NS, "p", "default")),
            vec![CreatePods],
        ),
        (
            "pod by submitter as EMR SA",
            pod_create(&submitter(), EMR_NS, pod(EMR_NS, "p", DRIVER_SA)),
            vec![CreatePods, EmrServiceAccount],
        ),
        (
            "pod as EMR SA, deprecated field",
            pod_create(&submitter(), EMR_NS, sa_old_field),
            vec![CreatePods, EmrServiceAccount],
        ),
        (
            "pod by admin as EMR SA",
            pod_create(&admin(), EMR_NS, pod(EMR_NS, "p", DRIVER_SA)),
            vec![CreatePods, EmrServiceAccount],
        ),
        (
            "pod by emr-containers",
            pod_create(&emr(), EMR_NS, pod(EMR_NS, "p", DRIVER_SA)),
            vec![],
        ),
        (
            "pod by EMR client SA",
            pod_create(&emr_sa(), EMR_NS, pod(EMR_NS, "p", DRIVER_SA)),
            vec![],
        ),
        (
            "pod by EMR service-linked role",
            pod_create(&slr, EMR_NS, pod(EMR_NS, "p", DRIVER_SA)),
            vec![],
        ),
        (
            "pod by job controller for a Job",
            pod_create(
                &job_controller(),
                EMR_NS,
                owned(pod(EMR_NS, "p", DRIVER_SA)),
            ),
            vec![],
        ),
        (
            "pod by system:masters, no owner",
            pod_create(&masters, EMR_NS, pod(EMR_NS, "p", "default")),
            vec![CreatePods],
        ),
        (
            "hostNetwork pod by EMR",
            pod_create(&emr(), EMR_NS, hn.clone()),
            vec![HostNetwork],
        ),
        (
            "hostNetwork pod by submitter",
            pod_create(&submitter(), EMR_NS, hn),
            vec![CreatePods, HostNetwork],
        ),
        (
            "kube2iam pod by EMR",
            pod_create(&emr(), EMR_NS, k2),
            vec![Kube2iamAnnotation],
        ),
        (
            "pod outside EMR",
            pod_create(&submitter(), OTHER_NS, pod(OTHER_NS, "p", "default")),
            vec![],
        ),
        (
            "deployment by submitter",
            workload_write(
                &submitter(),
                EMR_NS,
                deployment(EMR_NS, "d", false, json!({})),
            ),
            vec![CreatePods],
        ),
        (
            "hostNetwork kube2iam deployment by EMR",
            workload_write(
                &emr(),
                EMR_NS,
                deployment(EMR_NS, "d", true, json!({"iam.amazonaws.com/role": "x"})),
            ),
            vec![HostNetwork, Kube2iamAnnotation],
        ),
        (
            "deployment by EMR",
            workload_write(
                &emr(),
                EMR_NS,
                deployment(EMR_NS, "d", false, json!({"a": "b"})),
            ),
            vec![],
        ),
        (
            "pod template edit by submitter",
            configmap_write(
                &submitter(),
                "UPDATE",
                EMR_NS,
                cm_new.clone(),
                cm_old.clone(),
            ),
            vec![EmrConfigmaps],
        ),
        (
            "pod template delete by submitter",
            configmap_write(&submitter(), "DELETE", EMR_NS, Value::Null, cm_old.clone()),
            vec![EmrConfigmaps],
        ),
        (
            "pod template spoofed by submitter",
            configmap_write(&submitter(), "CREATE", EMR_NS, cm_new.clone(), Value::Null),
            vec![EmrConfigmaps],
        ),
        (
            "pod template edit by EMR",
            configmap_write(&emr(), "UPDATE", EMR_NS, cm_new.clone(), cm_old.clone()),
            vec![],
        ),
        (
            "pod template delete by the garbage collector",
            configmap_write(
                &User {
                    name: "system:serviceaccount:kube-system:generic-garbage-collector",
                    groups: vec!["system:serviceaccounts"],
                    extra: json!({}),
                },
                "DELETE",
                EMR_NS,
                Value::Null,
                cm_old,
            ),
            vec![],
        ),
        (
            "pod template edit by admin",
            configmap_write(
                &admin(),
                "UPDATE",
                EMR_NS,
                cm_new,
                configmap(EMR_NS, "podtemplate-1", Some("pod-template"), "a"),
            ),
            vec![EmrConfigmaps],
        ),
        (
            "other configmap by submitter",
            configmap_write(&submitter(), "UPDATE", EMR_NS, plain.clone(), plain),
            vec![],
        ),
        (
            "mutating webhook for every namespace",
            mwc_create(&submitter(), mwc("w", Value::Null)),
            vec![MutatingWebhooks],
        ),
        (
            "mutating webhook for the EMR label",
            mwc_create(
                &submitter(),
                mwc("w", json!({"matchLabels": {"emrguard.io/emr": "true"}})),
            ),
            vec![MutatingWebhooks],
        ),
        (
            "mutating webhook for an EMR namespace by name",
            mwc_create(
                &submitter(),
                mwc(
                    "w",
                    json!({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": [EMR_NS]}]}),
                ),
            ),
            vec![MutatingWebhooks],
        ),
        (
            "mutating webhook NotIn other",
            mwc_create(
                &submitter(),
                mwc(
                    "w",
                    json!({"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}),
                ),
            ),
            vec![MutatingWebhooks],
        ),
        (
            "mutating webhook away from EMR",
            mwc_create(
                &submitter(),
                mwc(
                    "w",
                    json!({"matchExpressions": [{"key": "emrguard.io/emr", "operator": "DoesNotExist"}]}),
                ),
            ),
            vec![],
        ),
        (
            "mutating webhook for another namespace",
            mwc_create(
                &submitter(),
                mwc(
                    "w",
                    json!({"matchLabels": {"kubernetes.io/metadata.name": "web"}}),
                ),
            ),
            vec![],
        ),
        (
            "mutating webhook team label",
            mwc_create(
                &submitter(),
                mwc("w", json!({"matchLabels": {"team": "web"}})),
            ),
            vec![],
        ),
        (
            "mutating webhook by admin",
            mwc_create(&admin(), mwc("w", Value::Null)),
            vec![],
        ),
        (
            "EMR label removed by submitter",
            namespace_update(
                &submitter(),
                namespace(EMR_NS, json!({"kubernetes.io/metadata.name": EMR_NS})),
                namespace(EMR_NS, emr_label.clone()),
            ),
            vec![EmrNamespaceLabel],
        ),
        (
            "EMR label removed by admin",
            namespace_update(
                &admin(),
                namespace(EMR_NS, json!({})),
                namespace(EMR_NS, emr_label.clone()),
            ),
            vec![],
        ),
        (
            "other label changed",
            namespace_update(
                &submitter(),
                namespace(EMR_NS, json!({"emrguard.io/emr": "true", "x": "y"})),
                namespace(EMR_NS, emr_label),
            ),
            vec![],
        ),
        (
            "exec by kube-system SA (skipped by matchConditions)",
            exec(&job_controller(), EMR_NS, "p"),
            vec![],
        ),
    ]
}

#[test]
fn every_generated_expression_compiles() {
    let engine = engine();
    let policies = admission_policies(&engine.config, &engine.state);
    assert_eq!(
        policies.len(),
        AdmissionRule::ALL
            .iter()
            .filter(|r| r.request_only())
            .count()
    );
    let mut n = 0;
    for p in &policies {
        let spec = &p.policy["spec"];
        for list in ["matchConditions", "variables", "validations"] {
            for item in spec[list].as_array().unwrap() {
                for key in ["expression", "messageExpression"] {
                    if let Some(e) = item.get(key).and_then(Value::as_str) {
                        Program::compile(e)
                            .unwrap_or_else(|err| panic!("{}: {e}\n{err:?}", p.rule));
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 60, "{n} expressions");
}

#[test]
fn policies_decide_the_samples_as_the_webhook_does() {
    let engine = engine();
    let policies = admission_policies(&engine.config, &engine.state);
    let mut denied = 0;
    let mut allowed = 0;
    let mut rules_seen = BTreeSet::new();
    for (name, review, expected) in samples() {
        let expected: BTreeSet<AdmissionRule> = expected.into_iter().collect();
        let hook = webhook_decision(&engine, &review);
        let cel = cel_decision(&policies, &review, &engine);
        assert_eq!(hook, expected, "webhook, sample `{name}`");
        assert_eq!(cel, expected, "CEL policies, sample `{name}`");
        if expected.is_empty() {
            allowed += 1;
        } else {
            denied += 1;
        }
        rules_seen.extend(expected);
    }
    assert!(
        allowed >= 10 && denied >= 10,
        "{allowed} allowed, {denied} denied"
    );
    for r in AdmissionRule::ALL.into_iter().filter(|r| r.request_only()) {
        assert!(rules_seen.contains(&r), "no denied sample for {r}");
    }
}

#[test]
fn manifests_render() {
    let engine = engine();
    let y = emrguard_admission::generate::admission_policy_manifests(&engine.config, &engine.state);
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&y)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"ValidatingAdmissionPolicy")
            && kinds.contains(&"ValidatingAdmissionPolicyBinding")
    );
    let w = emrguard_admission::generate::webhook_manifests(
        &engine.config,
        &engine.state,
        &Default::default(),
    );
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&w)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let dep = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    assert!(c["resources"]["limits"]["memory"].is_string());
    let vwc = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingWebhookConfiguration")
        .unwrap();
    let hooks = vwc["webhooks"].as_array().unwrap();
    assert_eq!(
        hooks[0]["namespaceSelector"]["matchLabels"]["emrguard.io/emr"],
        "true"
    );
    assert_eq!(hooks[0]["failurePolicy"], "Fail");
    assert!(hooks
        .iter()
        .all(|h| h["matchConditions"].as_array().unwrap().len() == 3));
    // The known EMR namespaces are labelled.
    assert!(docs
        .iter()
        .any(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == EMR_NS));
    let cm = emrguard_admission::generate::webhook_manifests(
        &engine.config,
        &engine.state,
        &emrguard_admission::generate::WebhookOptions {
            cert_manager: true,
            ..Default::default()
        },
    );
    assert!(cm.contains("kind: Certificate") && cm.contains("cert-manager.io/inject-ca-from"));
}

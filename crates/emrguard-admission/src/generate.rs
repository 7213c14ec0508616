//! Generated manifests: the webhook deployment (`emrguard generate webhook`) and the
//! ValidatingAdmissionPolicies for the request-only subset (`emrguard generate
//! admission-policy`). Both read the same configuration and cluster state as `serve`, so the
//! namespaces, administrators and modes agree.

use crate::config::{AdmissionConfig, Mode};
use crate::rules::AdmissionRule;
use crate::state::ClusterState;
use emrguard_rbac::identity::canonical_principal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Options of `emrguard generate webhook`.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    pub namespace: String,
    pub name: String,
    pub image: String,
    pub replicas: u32,
    /// `Fail` (recommended) or `Ignore`.
    pub failure_policy: String,
    /// Issue the serving certificate with cert-manager (a self-signed Issuer and a
    /// Certificate; the CA is injected into the webhook configuration).
    pub cert_manager: bool,
    /// PEM CA bundle for `clientConfig.caBundle` when cert-manager is not used.
    pub ca_bundle_pem: Option<String>,
    /// Label the known EMR namespaces (Namespace objects carrying only the label; `kubectl
    /// apply` merges it into the existing namespaces).
    pub label_namespaces: bool,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            namespace: "emrguard-system".into(),
            name: "emrguard".into(),
            image: "emrguard:latest".into(),
            replicas: 2,
            failure_policy: "Fail".into(),
            cert_manager: false,
            ca_bundle_pem: None,
            label_namespaces: true,
        }
    }
}

/// `v[key] = val` for an object (no-op otherwise).
fn set(v: &mut Value, key: &str, val: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), val);
    }
}

fn yaml_stream(header: &str, docs: &[Value]) -> String {
    let mut out = String::from(header);
    for d in docs {
        out.push_str("---\n");
        match serde_yaml_ng::to_string(d) {
            Ok(s) => out.push_str(&s),
            Err(e) => out.push_str(&format!("# cannot render: {e}\n")),
        }
    }
    out
}

/// CEL conditions that let system users through without calling emrguard (controllers,
/// the scheduler, the garbage collector, kube-system service accounts, EKS). Service accounts
/// of other namespaces and `system:anonymous` are still checked.
pub fn system_user_match_conditions() -> Value {
    json!([
        {"name": "not-a-system-user", "expression": "!(request.userInfo.username.startsWith('system:') && !request.userInfo.username.startsWith('system:serviceaccount:') && request.userInfo.username != 'system:anonymous')"},
        {"name": "not-a-kube-system-service-account", "expression": "!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')"},
        {"name": "not-eks", "expression": "!request.userInfo.username.startsWith('eks:')"}
    ])
}

fn rule(ops: &[&str], groups: &[&str], resources: &[&str], scope: &str) -> Value {
    json!({"operations": ops, "apiGroups": groups, "apiVersions": ["*"], "resources": resources, "scope": scope})
}

fn namespaced_rules(cfg: &AdmissionConfig) -> Vec<Value> {
    let mut connect = vec!["pods/exec", "pods/attach"];
    if cfg.settings.portforward {
        connect.push("pods/portforward");
    }
    vec![
        rule(&["CONNECT"], &[""], &connect, "Namespaced"),
        rule(&["CREATE"], &[""], &["pods"], "Namespaced"),
        rule(
            &["UPDATE"],
            &[""],
            &["pods/ephemeralcontainers"],
            "Namespaced",
        ),
        rule(
            &["CREATE", "UPDATE"],
            &["apps"],
            &["deployments", "replicasets", "statefulsets", "daemonsets"],
            "Namespaced",
        ),
        rule(
            &["CREATE", "UPDATE"],
            &["batch"],
            &["jobs", "cronjobs"],
            "Namespaced",
        ),
        rule(
            &["CREATE", "UPDATE"],
            &[""],
            &["replicationcontrollers"],
            "Namespaced",
        ),
        rule(
            &["CREATE", "UPDATE", "DELETE"],
            &[""],
            &["configmaps"],
            "Namespaced",
        ),
        rule(
            &["CREATE", "UPDATE"],
            &["rbac.authorization.k8s.io"],
            &["roles", "rolebindings"],
            "Namespaced",
        ),
    ]
}

fn cluster_rules() -> Vec<Value> {
    vec![
        rule(
            &["CREATE", "UPDATE"],
            &["admissionregistration.k8s.io"],
            &["mutatingwebhookconfigurations"],
            "Cluster",
        ),
        rule(
            &["CREATE", "UPDATE"],
            &["rbac.authorization.k8s.io"],
            &["clusterroles", "clusterrolebindings"],
            "Cluster",
        ),
        rule(&["UPDATE"], &[""], &["namespaces"], "Cluster"),
    ]
}

const WEBHOOK_HEADER: &str = "\
# emrguard admission webhook, generated by `emrguard generate webhook`.
#
# Before applying:
#   kubectl create namespace emrguard-system   (or apply this file twice: the Namespace is first)
#   kubectl -n emrguard-system create configmap emrguard-config --from-file=emrguard.toml
#   # The webhook watches Namespaces and RBAC itself (`serve --watch`, read-only ClusterRole
#   # below). Optional, the AWS side: virtual clusters make their namespaces EMR's even before
#   # the namespaces carry the label:
#   aws emr-containers list-virtual-clusters --output json > vcs.json
#   kubectl -n emrguard-system create configmap emrguard-snapshot --from-file=vcs.json
#   # without cert-manager: a serving certificate for emrguard.emrguard-system.svc in Secret
#   # emrguard-tls (tls.crt, tls.key) and its CA in clientConfig.caBundle (--ca-bundle FILE)
#
# failurePolicy: Fail (the default here) means that while no emrguard replica answers, the
# matched requests (exec, pod and workload creation in EMR namespaces, RBAC and mutating-webhook
# writes) are refused: an outage of the webhook cannot open a hole, at the price of blocking
# those operations until it is back. Two replicas, a PodDisruptionBudget and the
# matchConditions (system users never reach the webhook, so controllers, the scheduler and the
# garbage collector keep working) keep that rare. `--failure-policy Ignore` admits everything
# while the webhook is down: nothing is blocked, nothing is enforced.
#
# Reads (get/list/watch of secrets) never pass admission; `emrguard check` reports who can read
# secrets in EMR namespaces.
";

/// `emrguard generate webhook`.
pub fn webhook_manifests(
    cfg: &AdmissionConfig,
    state: &ClusterState,
    o: &WebhookOptions,
) -> String {
    let ns = o.namespace.as_str();
    let name = o.name.as_str();
    let labels = json!({"app.kubernetes.io/name": "emrguard", "app.kubernetes.io/component": "admission-webhook"});
    let svc_host = format!("{name}.{ns}.svc");
    let mut docs = vec![json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
    })];
    if o.label_namespaces {
        for emr in &state.emr_namespaces {
            docs.push(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": emr, "labels": {cfg.settings.namespace_label.clone(): "true"}}
            }));
        }
    }
    docs.push(json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "automountServiceAccountToken": false
    }));
    // Read-only access to what the webhook's cluster state holds (namespaces and RBAC), for its
    // watch; nothing else, and no secrets.
    docs.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": format!("{name}-state-reader"), "labels": labels},
        "rules": [
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles", "rolebindings", "clusterrolebindings"], "verbs": ["get", "list", "watch"]}
        ]
    }));
    docs.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": format!("{name}-state-reader"), "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("{name}-state-reader")},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]
    }));
    let probe = |path: &str| json!({"httpGet": {"path": path, "port": "https", "scheme": "HTTPS"}, "periodSeconds": 10, "timeoutSeconds": 2});
    docs.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": o.replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    // The token is the watch's credential (the ClusterRole above: read-only).
                    "automountServiceAccountToken": true,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": labels}}],
                    "containers": [{
                        "name": "emrguard",
                        "image": o.image,
                        // No --config: serve reads /etc/emrguard/config/emrguard.toml when the
                        // optional ConfigMap is mounted, and starts with defaults when it is
                        // not (an explicit --config that is missing would crash-loop the pods
                        // and, with failurePolicy Fail, block exec and pod creation).
                        "args": ["serve", "--listen", "0.0.0.0:8443",
                                 "--tls-cert", "/etc/emrguard/tls/tls.crt", "--tls-key", "/etc/emrguard/tls/tls.key",
                                 "--watch", "--snapshot", "/etc/emrguard/snapshot"],
                        "ports": [{"name": "https", "containerPort": 8443, "protocol": "TCP"}],
                        "readinessProbe": probe("/readyz"),
                        "livenessProbe": probe("/healthz"),
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [
                            {"name": "tls", "mountPath": "/etc/emrguard/tls", "readOnly": true},
                            {"name": "config", "mountPath": "/etc/emrguard/config", "readOnly": true},
                            {"name": "snapshot", "mountPath": "/etc/emrguard/snapshot", "readOnly": true}
                        ]
                    }],
                    "volumes": [
                        {"name": "tls", "secret": {"secretName": format!("{name}-tls")}},
                        {"name": "config", "configMap": {"name": format!("{name}-config"), "optional": true}},
                        {"name": "snapshot", "configMap": {"name": format!("{name}-snapshot"), "optional": true}}
                    ]
                }
            }
        }
    }));
    docs.push(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}
    }));
    docs.push(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"selector": labels, "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}
    }));
    if o.cert_manager {
        docs.push(json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer",
            "metadata": {"name": format!("{name}-selfsigned"), "namespace": ns},
            "spec": {"selfSigned": {}}
        }));
        docs.push(json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "secretName": format!("{name}-tls"),
                "dnsNames": [svc_host, format!("{name}.{ns}.svc.cluster.local")],
                "duration": "2160h", "renewBefore": "360h",
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {"name": format!("{name}-selfsigned"), "kind": "Issuer"}
            }
        }));
    }
    let client = |path: &str| {
        let mut c = json!({"service": {"namespace": ns, "name": name, "path": path, "port": 443}});
        if let Some(pem) = &o.ca_bundle_pem {
            use base64::Engine as _;
            set(
                &mut c,
                "caBundle",
                json!(base64::engine::general_purpose::STANDARD.encode(pem)),
            );
        }
        c
    };
    let webhook = |wname: &str, path: &str, rules: Vec<Value>, selector: Option<Value>| {
        let mut w = json!({
            "name": wname,
            "clientConfig": client(path),
            "rules": rules,
            "failurePolicy": o.failure_policy,
            "matchPolicy": "Equivalent",
            "sideEffects": "None",
            "timeoutSeconds": 5,
            "admissionReviewVersions": ["v1"],
            "matchConditions": system_user_match_conditions()
        });
        if let Some(s) = selector {
            set(&mut w, "namespaceSelector", s);
        }
        w
    };
    let mut meta = json!({"name": name, "labels": labels});
    if o.cert_manager {
        set(
            &mut meta,
            "annotations",
            json!({"cert-manager.io/inject-ca-from": format!("{ns}/{name}")}),
        );
    }
    docs.push(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": meta,
        "webhooks": [
            webhook("emr-namespaces.emrguard.io", "/validate/emr-namespace", namespaced_rules(cfg),
                    Some(json!({"matchLabels": {cfg.settings.namespace_label.clone(): "true"}}))),
            webhook("cluster.emrguard.io", "/validate", cluster_rules(), None)
        ]
    }));
    yaml_stream(WEBHOOK_HEADER, &docs)
}

// ---------------------------------------------------------------------------------------------
// ValidatingAdmissionPolicies

/// One generated policy, for tests and callers that want the parts.
#[derive(Debug, Clone)]
pub struct Policy {
    pub rule: AdmissionRule,
    pub policy: Value,
    pub binding: Value,
}

fn cel_str(s: &str) -> String {
    let mut o = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

fn cel_list<S: AsRef<str>>(items: &[S]) -> String {
    let v: Vec<String> = items.iter().map(|s| cel_str(s.as_ref())).collect();
    format!("[{}]", v.join(", "))
}

/// `has(object.a) && has(object.a.b) && ...` for `root.a.b...`.
fn has_chain(root: &str, path: &[&str]) -> String {
    let mut parts = Vec::new();
    let mut cur = root.to_owned();
    for p in path {
        cur = format!("{cur}.{p}");
        parts.push(format!("has({cur})"));
    }
    parts.join(" && ")
}

/// A pod-spec (or pod-metadata) predicate over the three shapes: Pod, CronJob, other workloads.
/// `f(root)` builds the predicate given the guard-checked root expression of the pod
/// template's `spec`/`metadata`.
fn per_kind(part: &str, field: &[&str], pred: impl Fn(&str) -> String) -> String {
    let shape = |prefix: &[&str]| {
        let mut path: Vec<&str> = prefix.to_vec();
        path.push(part);
        path.extend_from_slice(field);
        let mut full = String::from("object");
        for p in &path {
            full.push('.');
            full.push_str(p);
        }
        format!("({} && {})", has_chain("object", &path), pred(&full))
    };
    format!(
        "request.resource.resource == 'pods' ? {} : (request.resource.resource == 'cronjobs' ? {} : {})",
        shape(&[]),
        shape(&["spec", "jobTemplate", "spec", "template"]),
        shape(&["spec", "template"])
    )
}

/// The variables every policy shares: who is asking, as `emrguard_rbac::is_exempt` decides.
fn identity_variables(cfg: &AdmissionConfig) -> Vec<Value> {
    let ex = &cfg.exemptions;
    let sa_users: Vec<String> = ex
        .service_accounts
        .iter()
        .filter_map(|s| s.split_once('/'))
        .map(|(n, s)| format!("system:serviceaccount:{n}:{s}"))
        .collect();
    let arns: Vec<String> = ex.iam_arns.iter().map(|a| canonical_principal(a)).collect();
    let extra_arn = "(has(request.userInfo.extra) && 'canonicalArn' in request.userInfo.extra ? request.userInfo.extra['canonicalArn'] : (has(request.userInfo.extra) && 'arn' in request.userInfo.extra ? request.userInfo.extra['arn'] : []))";
    vec![
        json!({"name": "user", "expression": "has(request.userInfo.username) ? request.userInfo.username : ''"}),
        json!({"name": "groups", "expression": "has(request.userInfo.groups) ? request.userInfo.groups : []"}),
        json!({"name": "arns", "expression": extra_arn}),
        json!({"name": "isEmr", "expression": "variables.user == 'emr-containers' || variables.user.matches('^system:serviceaccount:[^:]+:(emr-containers-sa-.*|emr-container-sa-spark-livy)$') || variables.arns.exists(a, a.lowerAscii().matches(':role/(.*/)?awsserviceroleforamazonemrcontainers$') || a.lowerAscii().matches(':assumed-role/awsserviceroleforamazonemrcontainers/'))"}),
        json!({"name": "isSystem", "expression": "(variables.user.startsWith('system:') && !variables.user.startsWith('system:serviceaccount:') && variables.user != 'system:anonymous') || variables.user.startsWith('system:serviceaccount:kube-system:') || variables.user.startsWith('eks:') || variables.groups.exists(g, (g.startsWith('system:') && !(g in ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts']) && !g.startsWith('system:serviceaccounts:')) || g.startsWith('eks:'))"}),
        json!({"name": "isAdmin", "expression": format!(
            "variables.user in {} || variables.user in {} || variables.groups.exists(g, g in {}) || variables.arns.exists(a, a.lowerAscii() in {})",
            cel_list(&ex.users), cel_list(&sa_users), cel_list(&ex.groups), cel_list(&arns))}),
        json!({"name": "isExempt", "expression": "variables.isEmr || variables.isSystem || variables.isAdmin"}),
    ]
}

fn owner_variable() -> Value {
    json!({"name": "actsForOwner", "expression": "variables.isSystem && has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(o, has(o.controller) && o.controller == true)"})
}

fn label_sets_literal(state: &ClusterState, label: &str) -> String {
    let sets: Vec<String> = state
        .emr_label_sets(label)
        .iter()
        .map(|l: &BTreeMap<String, String>| {
            let kv: Vec<String> = l
                .iter()
                .map(|(k, v)| format!("{}: {}", cel_str(k), cel_str(v)))
                .collect();
            format!("{{{}}}", kv.join(", "))
        })
        .collect();
    format!("[{}]", sets.join(", "))
}

fn selector_matches(s: &str, l: &str) -> String {
    format!(
        "((!has({s}.matchLabels) || {s}.matchLabels.all(k, k in {l} && {l}[k] == {s}.matchLabels[k])) && \
(!has({s}.matchExpressions) || {s}.matchExpressions.all(e, \
e.operator == 'In' ? (e.key in {l} && has(e.values) && {l}[e.key] in e.values) : \
(e.operator == 'NotIn' ? (!(e.key in {l}) || !has(e.values) || !({l}[e.key] in e.values)) : \
(e.operator == 'Exists' ? (e.key in {l}) : \
(e.operator == 'DoesNotExist' ? !(e.key in {l}) : false))))))"
    )
}

fn resource_rules(rule: AdmissionRule, cfg: &AdmissionConfig) -> Value {
    let pods_and_workloads = json!([
        {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE"], "resources": ["pods"]},
        {"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"]},
        {"apiGroups": ["batch"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["jobs", "cronjobs"]},
        {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["replicationcontrollers"]}
    ]);
    match rule {
        AdmissionRule::ExecPods => {
            let mut connect = vec!["pods/exec", "pods/attach"];
            if cfg.settings.portforward {
                connect.push("pods/portforward");
            }
            json!([
                {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CONNECT"], "resources": connect},
                {"apiGroups": [""], "apiVersions": ["*"], "operations": ["UPDATE"], "resources": ["pods/ephemeralcontainers"]}
            ])
        }
        AdmissionRule::EmrConfigmaps => json!([
            {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE", "DELETE"], "resources": ["configmaps"]}
        ]),
        AdmissionRule::MutatingWebhooks => json!([
            {"apiGroups": ["admissionregistration.k8s.io"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["mutatingwebhookconfigurations"]}
        ]),
        AdmissionRule::EmrNamespaceLabel => json!([
            {"apiGroups": [""], "apiVersions": ["*"], "operations": ["UPDATE"], "resources": ["namespaces"]}
        ]),
        _ => pods_and_workloads,
    }
}

/// The policies for every request-only rule whose mode is not `off`.
pub fn admission_policies(cfg: &AdmissionConfig, state: &ClusterState) -> Vec<Policy> {
    let label = cfg.settings.namespace_label.as_str();
    let mut out = Vec::new();
    for rule in AdmissionRule::ALL {
        if !rule.request_only() || cfg.mode(rule) == Mode::Off {
            continue;
        }
        let mut vars = identity_variables(cfg);
        let (expr, message) = match rule {
            AdmissionRule::ExecPods => (
                "variables.isExempt".to_owned(),
                "'emrguard [exec-pods]: ' + variables.user + ' may not exec/attach/port-forward/debug into pod ' + request.name + ' in EMR namespace ' + request.namespace + ' (check rule RBAC002)'".to_owned(),
            ),
            AdmissionRule::CreatePods => {
                vars.push(owner_variable());
                (
                    "variables.isEmr || variables.actsForOwner".to_owned(),
                    "'emrguard [create-pods]: ' + variables.user + ' may not create ' + request.kind.kind + ' ' + request.name + ' in EMR namespace ' + request.namespace + '; only EMR and controllers acting for an owner create pods there (check rule RBAC003)'".to_owned(),
                )
            }
            AdmissionRule::EmrServiceAccount => {
                vars.push(owner_variable());
                let sa = |f: &str| {
                    per_kind("spec", &[f], |p| {
                        format!("{p}.matches('^(emr-containers-sa-.*|emr-container-sa-spark-livy)$')")
                    })
                };
                // serviceAccountName wins over the deprecated serviceAccount.
                let named = per_kind("spec", &["serviceAccountName"], |_| "true".into());
                vars.push(json!({"name": "emrServiceAccount", "expression": format!(
                    "({named}) ? ({}) : ({})", sa("serviceAccountName"), sa("serviceAccount"))}));
                (
                    "variables.isEmr || variables.actsForOwner || !variables.emrServiceAccount".to_owned(),
                    "'emrguard [emr-service-account]: ' + request.kind.kind + ' ' + request.name + ' names an EMR service account but was not created by EMR (' + variables.user + ')'".to_owned(),
                )
            }
            AdmissionRule::HostNetwork => {
                vars.push(owner_variable());
                vars.push(json!({"name": "hostNetwork", "expression": per_kind("spec", &["hostNetwork"], |p| format!("{p} == true"))}));
                (
                    "variables.actsForOwner || !variables.hostNetwork".to_owned(),
                    "'emrguard [host-network]: ' + request.kind.kind + ' ' + request.name + ' in EMR namespace ' + request.namespace + ' uses hostNetwork and can reach the node role credentials (check rule POD003)'".to_owned(),
                )
            }
            AdmissionRule::Kube2iamAnnotation => {
                vars.push(owner_variable());
                let key = cel_str(emrguard_model::k8s::KUBE2IAM_ANNOTATION);
                let tmpl = per_kind("metadata", &["annotations"], |p| format!("{key} in {p}"));
                vars.push(json!({"name": "kube2iam", "expression": format!(
                    "(has(object.metadata.annotations) && {key} in object.metadata.annotations) || ({tmpl})")}));
                (
                    "variables.actsForOwner || !variables.kube2iam".to_owned(),
                    "'emrguard [kube2iam-annotation]: ' + request.kind.kind + ' ' + request.name + ' in EMR namespace ' + request.namespace + ' uses the iam.amazonaws.com/role annotation; use IRSA or EKS Pod Identity (check rule POD002)'".to_owned(),
                )
            }
            AdmissionRule::EmrConfigmaps => {
                let l = cel_str(crate::decide::EMR_JOB_CONFIG_LABEL);
                vars.push(json!({"name": "emrJobConfig", "expression": format!(
                    "(oldObject != null && has(oldObject.metadata.labels) && {l} in oldObject.metadata.labels) || (object != null && has(object.metadata.labels) && {l} in object.metadata.labels)")}));
                (
                    "variables.isEmr || variables.isSystem || !variables.emrJobConfig".to_owned(),
                    "'emrguard [emr-configmaps]: ' + variables.user + ' may not change ConfigMap ' + request.name + ': it is EMR\\'s job configuration (check rule RBAC001)'".to_owned(),
                )
            }
            AdmissionRule::MutatingWebhooks => {
                vars.push(json!({"name": "emrLabelSets", "expression": label_sets_literal(state, label)}));
                let reaches = format!(
                    "!(has(w.rules) && size(w.rules) > 0 && w.rules.all(r, has(r.scope) && r.scope == 'Cluster')) && (!has(w.namespaceSelector) || variables.emrLabelSets.exists(l, {}))",
                    selector_matches("w.namespaceSelector", "l")
                );
                vars.push(json!({"name": "reachesEmr", "expression": format!("has(object.webhooks) && object.webhooks.exists(w, {reaches})")}));
                (
                    "variables.isExempt || !variables.reachesEmr".to_owned(),
                    "'emrguard [mutating-webhooks]: ' + variables.user + ' may not deploy MutatingWebhookConfiguration ' + request.name + ': its namespaceSelector matches EMR namespaces (check rule RBAC004)'".to_owned(),
                )
            }
            AdmissionRule::EmrNamespaceLabel => {
                let l = cel_str(label);
                vars.push(json!({"name": "labelRemoved", "expression": format!(
                    "has(oldObject.metadata.labels) && {l} in oldObject.metadata.labels && oldObject.metadata.labels[{l}] == 'true' && !(has(object.metadata.labels) && {l} in object.metadata.labels && object.metadata.labels[{l}] == 'true')")}));
                (
                    "variables.isExempt || !variables.labelRemoved".to_owned(),
                    format!("'emrguard [emr-namespace-label]: ' + variables.user + ' may not remove the label {label}=true from namespace ' + request.name"),
                )
            }
            AdmissionRule::RbacGrants => continue,
        };
        let name = format!("emrguard-{}", rule.slug());
        let policy = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "emrguard"},
                         "annotations": {"emrguard.io/rule": rule.slug(), "emrguard.io/check-rules": rule.check_rules(), "emrguard.io/summary": rule.summary()}},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": resource_rules(rule, cfg)},
                "matchConditions": system_user_match_conditions(),
                "variables": vars,
                "validations": [{"expression": expr, "messageExpression": message, "reason": "Forbidden"}]
            }
        });
        let actions = match cfg.mode(rule) {
            Mode::Enforce => json!(["Deny", "Audit"]),
            Mode::Warn => json!(["Warn", "Audit"]),
            _ => json!(["Audit"]),
        };
        let mut binding = json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "emrguard"}},
            "spec": {"policyName": name, "validationActions": actions}
        });
        if !matches!(
            rule,
            AdmissionRule::MutatingWebhooks | AdmissionRule::EmrNamespaceLabel
        ) {
            if let Some(spec) = binding.get_mut("spec") {
                set(
                    spec,
                    "matchResources",
                    json!({"namespaceSelector": {"matchLabels": {label: "true"}}}),
                );
            }
        }
        out.push(Policy {
            rule,
            policy,
            binding,
        });
    }
    out
}

const POLICY_HEADER: &str = "\
# emrguard ValidatingAdmissionPolicies, generated by `emrguard generate admission-policy`.
# Kubernetes 1.30+ (admissionregistration.k8s.io/v1). For clusters that prefer no webhook: the
# rules decidable from the request alone, with the same identities, namespaces and modes as
# `emrguard serve`. Not covered here (they need cluster state): RBAC writes that would give a
# job submitter a forbidden capability (`emrguard serve` rbac-grants, `emrguard check`
# RBAC001-RBAC008); secret reads (reads never pass admission; `emrguard check` RBAC005).
# Namespaced policies apply to namespaces labelled emrguard.io/emr=true: label them (the
# Namespace objects below do) before relying on these policies.
";

/// `emrguard generate admission-policy`.
pub fn admission_policy_manifests(cfg: &AdmissionConfig, state: &ClusterState) -> String {
    let mut docs = Vec::new();
    for emr in &state.emr_namespaces {
        docs.push(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": emr, "labels": {cfg.settings.namespace_label.clone(): "true"}}
        }));
    }
    for p in admission_policies(cfg, state) {
        docs.push(p.policy);
        docs.push(p.binding);
    }
    yaml_stream(POLICY_HEADER, &docs)
}

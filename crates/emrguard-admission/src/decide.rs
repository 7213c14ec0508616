//! The decisions: one AdmissionReview request in, the rules it breaks out, then the response
//! after each rule's mode. Pure and synchronous; the server adds transport, time bounds, logs
//! and metrics.

use crate::config::{AdmissionConfig, Mode};
use crate::review::{self, Operation, RawObject, Request};
use crate::rules::AdmissionRule;
use crate::state::ClusterState;
use emrguard_model::k8s::{
    is_emr_service_account, CronJob, DaemonSet, Deployment, Job, MutatingWebhookConfiguration,
    Namespace, ObjectMeta, Pod, PodSpec, ReplicaSet, ReplicationController, StatefulSet,
};
use emrguard_model::Subject;
use emrguard_rbac::selector::Selector;
use emrguard_rbac::{is_exempt, Reason};
use k8s_openapi::api::authentication::v1::UserInfo;
use kube_core::admission::AdmissionResponse;
use std::collections::BTreeMap;

/// The label EMR puts on the ConfigMaps of a job (`pod-template`, `spark-defaults`, `fluentd`).
pub const EMR_JOB_CONFIG_LABEL: &str = "emr-containers.amazonaws.com/job.configuration";

/// A rule the request breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: AdmissionRule,
    pub message: String,
    /// Never more than a warning (a check that could not be completed, configured to warn).
    pub weak: bool,
}

/// Which requests the caller vouches are in EMR namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/validate`: a namespace is EMR's when emrguard's state says so.
    Known,
    /// `/validate/emr-namespace`: the webhook's `namespaceSelector` (the EMR label) already
    /// chose the request, so every namespaced request is in an EMR namespace.
    EmrNamespaces,
}

/// The outcome of one review.
#[derive(Debug, Clone)]
pub struct Decision {
    pub response: AdmissionResponse,
    /// Every matched rule with the mode it was applied in.
    pub matched: Vec<(Violation, Mode)>,
    /// The object could not be read (the request is then refused).
    pub error: Option<String>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.response.allowed
    }
    /// `deny`, `warn`, `audit` (the strongest mode among the matched rules), `error`, or
    /// `allow`.
    pub fn verdict(&self) -> &'static str {
        if self.error.is_some() {
            return "error";
        }
        if !self.response.allowed {
            return "deny";
        }
        if self.matched.iter().any(|(_, m)| *m == Mode::Warn) {
            return "warn";
        }
        if self.matched.iter().any(|(_, m)| *m == Mode::Audit) {
            return "audit";
        }
        "allow"
    }
}

/// The requester as the rules see it.
#[derive(Debug, Clone)]
pub struct Who {
    pub username: String,
    pub groups: Vec<String>,
    /// EKS's `extra.canonicalArn` / `extra.arn`.
    pub arn: Option<String>,
    /// Why the requester is not a job submitter (its user, IAM principal or one of its groups).
    pub exempt: Option<Reason>,
}

impl Who {
    pub fn from_user_info(u: &UserInfo, cfg: &AdmissionConfig) -> Who {
        let username = u.username.clone().unwrap_or_default();
        let groups = u.groups.clone().unwrap_or_default();
        let extra = |k: &str| {
            u.extra
                .as_ref()
                .and_then(|e| e.get(k))
                .and_then(|v| v.first())
                .cloned()
        };
        let arn = extra("canonicalArn").or_else(|| extra("arn"));
        let user = Subject {
            kind: "User".into(),
            name: username.clone(),
            namespace: None,
            arn: arn.clone(),
            iam_principals: vec![],
        };
        let exempt = is_exempt(&user, &cfg.exemptions).or_else(|| {
            groups.iter().find_map(|g| {
                let s = Subject {
                    kind: "Group".into(),
                    name: g.clone(),
                    namespace: None,
                    arn: None,
                    iam_principals: vec![],
                };
                is_exempt(&s, &cfg.exemptions)
            })
        });
        Who {
            username,
            groups,
            arn,
            exempt,
        }
    }

    pub fn is_emr(&self) -> bool {
        matches!(self.exempt, Some(Reason::Emr(_)))
    }
    pub fn is_system(&self) -> bool {
        matches!(self.exempt, Some(Reason::System(_)))
    }
    /// EMR, a system component or a declared administrator: not a job submitter.
    pub fn is_exempt(&self) -> bool {
        self.exempt.is_some()
    }
}

/// The decision engine: configuration and cluster state, shared by every request.
#[derive(Debug, Clone)]
pub struct Engine {
    pub config: AdmissionConfig,
    pub state: ClusterState,
    label_selector_sets: Vec<BTreeMap<String, String>>,
    /// The RBAC graph of `state`, built once.
    pub(crate) base: std::sync::Arc<crate::rbac::BaseGraph>,
}

const WORKLOADS: [(&str, &str); 7] = [
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
];

const RBAC_RESOURCES: [&str; 4] = [
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
];

impl Engine {
    pub fn new(config: AdmissionConfig, state: ClusterState) -> Engine {
        let label_selector_sets = state.emr_label_sets(&config.settings.namespace_label);
        let base = std::sync::Arc::new(crate::rbac::BaseGraph::new(&state));
        Engine {
            config,
            state,
            label_selector_sets,
            base,
        }
    }

    /// Requests whose evaluation grows with the cluster state (Role and ClusterRole writes
    /// rebuild the RBAC graph with the role in place): the server runs them on the blocking pool
    /// under the time bound. Bindings are judged on a graph of the binding and its role alone
    /// (microseconds) and run inline like everything else.
    pub fn is_heavy(req: &Request) -> bool {
        req.resource.group == "rbac.authorization.k8s.io"
            && matches!(req.resource.resource.as_str(), "roles" | "clusterroles")
            && req.sub_resource.is_none()
            && matches!(req.operation, Operation::Create | Operation::Update)
    }

    /// Evaluate and answer.
    pub fn decide(&self, req: &Request, scope: Scope) -> Decision {
        match self.evaluate(req, scope) {
            Ok(v) => self.apply_modes(req, v),
            Err(e) => Decision {
                response: review::deny(
                    req,
                    format!("emrguard: cannot read the {} object: {e}", req.kind.kind),
                    vec![],
                ),
                matched: vec![],
                error: Some(e),
            },
        }
    }

    /// Turn violations into a response, after each rule's mode.
    pub fn apply_modes(&self, req: &Request, violations: Vec<Violation>) -> Decision {
        let mut deny = Vec::new();
        let mut warnings = Vec::new();
        let mut matched = Vec::new();
        for v in violations {
            let mode = match self.config.mode(v.rule) {
                Mode::Enforce if v.weak => Mode::Warn,
                m => m,
            };
            match mode {
                Mode::Off => continue,
                Mode::Enforce => deny.push(format!("[{}] {}", v.rule, v.message)),
                Mode::Warn => warnings.push(format!("emrguard [{}]: {}", v.rule, v.message)),
                Mode::Audit => {}
            }
            matched.push((v, mode));
        }
        let response = if deny.is_empty() {
            review::allow(req, warnings)
        } else {
            review::deny(req, format!("emrguard: {}", deny.join("; ")), warnings)
        };
        Decision {
            response,
            matched,
            error: None,
        }
    }

    fn in_emr_namespace(&self, req: &Request, scope: Scope) -> Option<String> {
        let ns = req.namespace.as_deref().filter(|n| !n.is_empty())?;
        (scope == Scope::EmrNamespaces || self.state.is_emr_namespace(ns)).then(|| ns.to_owned())
    }

    /// The rules `req` breaks, before modes. `Err` when an object the rules must read cannot be
    /// parsed.
    pub fn evaluate(&self, req: &Request, scope: Scope) -> Result<Vec<Violation>, String> {
        let group = req.resource.group.as_str();
        let resource = req.resource.resource.as_str();
        let sub = req.sub_resource.as_deref().filter(|s| !s.is_empty());
        let who = Who::from_user_info(&req.user_info, &self.config);
        let mut out = Vec::new();
        match (group, resource, sub, &req.operation) {
            ("", "pods", Some(s @ ("exec" | "attach" | "portforward")), Operation::Connect) => {
                if s == "portforward" && !self.config.settings.portforward {
                    return Ok(out);
                }
                if let Some(ns) = self.in_emr_namespace(req, scope) {
                    self.exec(req, &who, &ns, s, &mut out);
                }
            }
            ("", "pods", Some("ephemeralcontainers"), Operation::Update | Operation::Create) => {
                if let Some(ns) = self.in_emr_namespace(req, scope) {
                    self.exec(req, &who, &ns, "ephemeralcontainers", &mut out);
                }
            }
            ("", "pods", None, Operation::Create) => {
                if let Some(ns) = self.in_emr_namespace(req, scope) {
                    let pod: Pod = object(req)?;
                    self.pod_like(
                        &who,
                        &ns,
                        "Pod",
                        &pod.metadata,
                        Some(&pod.metadata),
                        pod.spec.as_ref(),
                        &mut out,
                    );
                }
            }
            (g, r, None, Operation::Create | Operation::Update) if WORKLOADS.contains(&(g, r)) => {
                if let Some(ns) = self.in_emr_namespace(req, scope) {
                    let kind = req.kind.kind.clone();
                    let (meta, tmeta, spec) = workload_parts(r, object_raw(req)?)?;
                    self.pod_like(
                        &who,
                        &ns,
                        &kind,
                        &meta,
                        tmeta.as_ref(),
                        spec.as_ref(),
                        &mut out,
                    );
                }
            }
            ("", "configmaps", None, Operation::Create | Operation::Update | Operation::Delete) => {
                if let Some(ns) = self.in_emr_namespace(req, scope) {
                    self.configmap(req, &who, &ns, &mut out)?;
                }
            }
            (
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                None,
                Operation::Create | Operation::Update,
            ) => {
                self.mutating_webhook(req, &who, &mut out)?;
            }
            ("rbac.authorization.k8s.io", r, None, Operation::Create | Operation::Update)
                if RBAC_RESOURCES.contains(&r) =>
            {
                crate::rbac::evaluate(self, req, scope, &mut out)?;
            }
            ("", "namespaces", None, Operation::Update) => {
                self.namespace_label(req, &who, &mut out)?;
            }
            _ => {}
        }
        Ok(out)
    }

    fn exec(&self, req: &Request, who: &Who, ns: &str, what: &str, out: &mut Vec<Violation>) {
        if who.is_exempt() {
            return;
        }
        let verb = match what {
            "exec" => "exec into",
            "attach" => "attach to",
            "portforward" => "port-forward to",
            _ => "add a debug container to",
        };
        out.push(Violation {
            rule: AdmissionRule::ExecPods,
            weak: false,
            message: format!(
                "{} may not {verb} pod `{}` in EMR namespace `{ns}`: a shell in an EMR pod reads its service-account token and the job's execution-role credentials; only EMR, system components and declared administrators may (check rule RBAC002)",
                describe(who),
                req.name
            ),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn pod_like(
        &self,
        who: &Who,
        ns: &str,
        kind: &str,
        meta: &ObjectMeta,
        pod_meta: Option<&ObjectMeta>,
        spec: Option<&PodSpec>,
        out: &mut Vec<Violation>,
    ) {
        let name = meta
            .name
            .as_deref()
            .or(meta.generate_name.as_deref())
            .unwrap_or("");
        // A controller creating pods (or ReplicaSets, Jobs) for an owner: the owner was admitted
        // when it was written.
        let controller = who.is_system() && has_controller_owner(meta);
        if controller {
            return;
        }
        if !who.is_emr() {
            out.push(Violation {
                rule: AdmissionRule::CreatePods,
                weak: false,
                message: format!(
                    "{} may not create {kind} `{name}` in EMR namespace `{ns}`: only EMR (user emr-containers, its emr-containers-sa-* service accounts) and controllers acting for an owner create pods there; a pod may name EMR's service accounts and so obtain job execution roles (check rule RBAC003)",
                    describe(who)
                ),
            });
            if let Some(sa) = spec
                .and_then(|s| {
                    s.service_account_name
                        .as_deref()
                        .or(s.service_account.as_deref())
                })
                .filter(|sa| is_emr_service_account(sa))
            {
                out.push(Violation {
                    rule: AdmissionRule::EmrServiceAccount,
                    weak: false,
                    message: format!(
                        "{kind} `{name}` in EMR namespace `{ns}` runs as EMR's service account `{sa}` but was not created by EMR ({}): it would receive that job execution role's credentials",
                        describe(who)
                    ),
                });
            }
        }
        if emrguard_rules::util::uses_host_network(spec) {
            out.push(Violation {
                rule: AdmissionRule::HostNetwork,
                weak: false,
                message: format!(
                    "{kind} `{name}` in EMR namespace `{ns}` uses hostNetwork: it bypasses the block of the instance metadata service and can take the node role's credentials (check rule POD003)"
                ),
            });
        }
        if let Some(role) = emrguard_rules::util::kube2iam_role(meta, pod_meta) {
            out.push(Violation {
                rule: AdmissionRule::Kube2iamAnnotation,
                weak: false,
                message: format!(
                    "{kind} `{name}` in EMR namespace `{ns}` requests role `{role}` through the iam.amazonaws.com/role annotation (kube2iam/kiam); pods in EMR namespaces get credentials only from IRSA or EKS Pod Identity (check rule POD002)"
                ),
            });
        }
    }

    fn configmap(
        &self,
        req: &Request,
        who: &Who,
        ns: &str,
        out: &mut Vec<Violation>,
    ) -> Result<(), String> {
        let label_of = |o: Option<&RawObject>| -> Result<Option<String>, String> {
            let Some(o) = o else { return Ok(None) };
            let m: MetaOnly = o.parse().map_err(|e| e.to_string())?;
            Ok(m.metadata
                .labels
                .and_then(|mut l| l.remove(EMR_JOB_CONFIG_LABEL)))
        };
        let label = match label_of(req.old_object.as_ref())? {
            Some(l) => Some(l),
            None => label_of(req.object.as_ref())?,
        };
        let Some(label) = label else { return Ok(()) };
        if who.is_emr() || who.is_system() {
            return Ok(());
        }
        let op = match req.operation {
            Operation::Create => "create",
            Operation::Delete => "delete",
            _ => "modify",
        };
        out.push(Violation {
            rule: AdmissionRule::EmrConfigmaps,
            weak: false,
            message: format!(
                "{} may not {op} ConfigMap `{}` in EMR namespace `{ns}`: it is EMR's job configuration ({EMR_JOB_CONFIG_LABEL}={label}); whoever edits a pod template chooses what runs with the job's execution role (check rule RBAC001)",
                describe(who),
                req.name
            ),
        });
        Ok(())
    }

    fn mutating_webhook(
        &self,
        req: &Request,
        who: &Who,
        out: &mut Vec<Violation>,
    ) -> Result<(), String> {
        if who.is_exempt() {
            return Ok(());
        }
        let mwc: MutatingWebhookConfiguration = object(req)?;
        let mut aimed = Vec::new();
        for w in mwc.webhooks.iter().flatten() {
            if self.webhook_reaches_emr(w.namespace_selector.as_ref(), w.rules.as_deref()) {
                aimed.push(w.name.clone());
            }
        }
        if !aimed.is_empty() {
            out.push(Violation {
                rule: AdmissionRule::MutatingWebhooks,
                weak: false,
                message: format!(
                    "{} may not deploy MutatingWebhookConfiguration `{}`: webhook(s) {} would rewrite objects in EMR namespaces (their namespaceSelector matches them), e.g. inject containers or swap service accounts in EMR's pods (check rule RBAC004)",
                    describe(who),
                    req.name,
                    aimed.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// Whether a webhook with this namespaceSelector and these rules sees requests in EMR
    /// namespaces: its rules cover namespaced resources, and its selector matches one of the
    /// EMR label sets ([`ClusterState::emr_label_sets`]). An invalid selector matches nothing
    /// (the API server refuses it anyway).
    pub fn webhook_reaches_emr(
        &self,
        selector: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
        rules: Option<&[k8s_openapi::api::admissionregistration::v1::RuleWithOperations]>,
    ) -> bool {
        if let Some(rules) = rules {
            if !rules.is_empty() && rules.iter().all(|r| r.scope.as_deref() == Some("Cluster")) {
                return false;
            }
        }
        let sel = match selector {
            None => return true,
            Some(s) => match Selector::compile(s) {
                Ok(s) => s,
                Err(_) => return false,
            },
        };
        self.label_selector_sets
            .iter()
            .any(|l| sel.matches(Some(l)))
    }

    fn namespace_label(
        &self,
        req: &Request,
        who: &Who,
        out: &mut Vec<Violation>,
    ) -> Result<(), String> {
        if who.is_exempt() {
            return Ok(());
        }
        let label = self.config.settings.namespace_label.as_str();
        let value = |o: Option<&RawObject>| -> Result<Option<String>, String> {
            let Some(o) = o else { return Ok(None) };
            let n: Namespace = o.parse().map_err(|e| e.to_string())?;
            Ok(n.metadata.labels.and_then(|mut l| l.remove(label)))
        };
        let before = value(req.old_object.as_ref())?;
        let after = value(req.object.as_ref())?;
        if before.as_deref() == Some("true") && after.as_deref() != Some("true") {
            out.push(Violation {
                rule: AdmissionRule::EmrNamespaceLabel,
                weak: false,
                message: format!(
                    "{} may not remove the label {label}=true from EMR namespace `{}`: it would take the namespace out of emrguard's admission checks",
                    describe(who),
                    req.name
                ),
            });
        }
        Ok(())
    }
}

/// `User alice`, `ServiceAccount ns/name`.
pub fn describe(who: &Who) -> String {
    match who
        .username
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, n)) => format!("ServiceAccount {ns}/{n}"),
        None => format!("User `{}`", who.username),
    }
}

fn has_controller_owner(meta: &ObjectMeta) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true))
}

#[derive(serde::Deserialize, Default)]
struct MetaOnly {
    #[serde(default)]
    metadata: ObjectMeta,
}

fn object_raw(req: &Request) -> Result<&RawObject, String> {
    req.object
        .as_ref()
        .ok_or_else(|| format!("{} request without an object", req.kind.kind))
}

fn object<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, String> {
    object_raw(req)?.parse().map_err(|e| e.to_string())
}

type Parts = (ObjectMeta, Option<ObjectMeta>, Option<PodSpec>);

fn workload_parts(resource: &str, raw: &RawObject) -> Result<Parts, String> {
    fn tpl(
        t: Option<k8s_openapi::api::core::v1::PodTemplateSpec>,
    ) -> (Option<ObjectMeta>, Option<PodSpec>) {
        match t {
            Some(t) => (t.metadata, t.spec),
            None => (None, None),
        }
    }
    let e = |e: serde_json::Error| e.to_string();
    Ok(match resource {
        "deployments" => {
            let o: Deployment = raw.parse().map_err(e)?;
            let (m, s) = tpl(Some(o.spec.template));
            (o.metadata, m, s)
        }
        "replicasets" => {
            let o: ReplicaSet = raw.parse().map_err(e)?;
            let (m, s) = tpl(o.spec.template);
            (o.metadata, m, s)
        }
        "statefulsets" => {
            let o: StatefulSet = raw.parse().map_err(e)?;
            let (m, s) = tpl(Some(o.spec.template));
            (o.metadata, m, s)
        }
        "daemonsets" => {
            let o: DaemonSet = raw.parse().map_err(e)?;
            let (m, s) = tpl(Some(o.spec.template));
            (o.metadata, m, s)
        }
        "jobs" => {
            let o: Job = raw.parse().map_err(e)?;
            let (m, s) = tpl(o.spec.map(|s| s.template));
            (o.metadata, m, s)
        }
        "cronjobs" => {
            let o: CronJob = raw.parse().map_err(e)?;
            let (m, s) = tpl(o.spec.job_template.spec.map(|j| j.template));
            (o.metadata, m, s)
        }
        _ => {
            let o: ReplicationController = raw.parse().map_err(e)?;
            let (m, s) = tpl(o.spec.and_then(|s| s.template));
            (o.metadata, m, s)
        }
    })
}

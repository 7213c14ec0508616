//! Kubernetes side: which subjects actually used a capability (exec, configmap writes, pod
//! creation, secret reads, ...) in given namespaces, from `audit.k8s.io/v1` events.

use emrguard_model::aws::usage::K8sAuditEvent;
use emrguard_model::{Capability, Located};
use serde::Serialize;

/// How often a subject used a capability in the window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct K8sUsage {
    /// Allowed requests (response code < 400, or no status).
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub audit_id: String,
    /// Requests refused (403).
    pub denied: u64,
}

/// The audit window: first and last event time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditWindow {
    pub events: usize,
    pub first: String,
    pub last: String,
}

pub fn audit_window(events: &[Located<K8sAuditEvent>]) -> Option<AuditWindow> {
    let times: Vec<&str> = events.iter().filter_map(|e| time_of(e)).collect();
    Some(AuditWindow {
        events: events.len(),
        first: (*times.iter().min()?).to_owned(),
        last: (*times.iter().max()?).to_owned(),
    })
}

fn time_of(e: &K8sAuditEvent) -> Option<&str> {
    e.stage_timestamp
        .as_deref()
        .or(e.request_received_timestamp.as_deref())
}

/// Does the request exercise the capability? Subresources are kept (`pods/exec` is exec,
/// not pod reads).
pub fn request_is(e: &K8sAuditEvent, cap: Capability) -> bool {
    let Some(o) = &e.object_ref else {
        return false;
    };
    let res = o.resource.as_deref().unwrap_or("");
    let sub = o.subresource.as_deref().unwrap_or("");
    let core = o.api_group.as_deref().unwrap_or("").is_empty();
    let v = e.verb.as_str();
    match cap {
        Capability::ExecPods => {
            core && res == "pods"
                && matches!(sub, "exec" | "attach")
                && matches!(v, "create" | "get")
        }
        Capability::CreatePods => core && res == "pods" && sub.is_empty() && v == "create",
        Capability::ModifyConfigmaps => {
            core && res == "configmaps"
                && sub.is_empty()
                && matches!(
                    v,
                    "create" | "update" | "patch" | "delete" | "deletecollection"
                )
        }
        Capability::ReadSecrets => {
            core && res == "secrets" && sub.is_empty() && matches!(v, "get" | "list" | "watch")
        }
        Capability::DeployMutatingWebhooks => {
            res == "mutatingwebhookconfigurations" && matches!(v, "create" | "update" | "patch")
        }
        Capability::EscalateRbac => {
            o.api_group.as_deref() == Some("rbac.authorization.k8s.io")
                && matches!(v, "escalate" | "bind" | "create" | "update" | "patch")
        }
        Capability::Impersonate => v == "impersonate" || e.impersonated_user.is_some(),
        Capability::MintTokens => res == "serviceaccounts" && sub == "token" && v == "create",
    }
}

/// `subject`: a user name as the API server logs it (`kubernetes-admin`,
/// `system:serviceaccount:ns:sa`, an EKS-mapped `arn:aws:...` session name), or `Group <g>`
/// for any member of a group. `namespaces`: empty for any namespace. None when no event in
/// `events` matches (the caller says "never used in the window" when the window is known,
/// see [`audit_window`]).
pub fn usage_of(
    events: &[Located<K8sAuditEvent>],
    subject: &str,
    capability: Capability,
    namespaces: &[&str],
) -> Option<K8sUsage> {
    let group = subject.strip_prefix("Group ");
    let user = subject.strip_prefix("User ").unwrap_or(subject);
    let mut out: Option<K8sUsage> = None;
    for e in events {
        let who = match group {
            Some(g) => e.user.groups.iter().any(|x| x == g),
            None => e.user.username == user,
        };
        if !who || !request_is(e, capability) {
            continue;
        }
        if !namespaces.is_empty() {
            let ns = e.object_ref.as_ref().and_then(|o| o.namespace.as_deref());
            if !ns.map(|n| namespaces.contains(&n)).unwrap_or(false) {
                continue;
            }
        }
        // One stage per request: ResponseComplete when stages are logged, else whatever is.
        if matches!(
            e.stage.as_deref(),
            Some("RequestReceived" | "ResponseStarted")
        ) {
            continue;
        }
        let u = out.get_or_insert_with(K8sUsage::default);
        let code = e
            .response_status
            .as_ref()
            .and_then(|s| s.code)
            .unwrap_or(200);
        if code == 403 {
            u.denied += 1;
            continue;
        }
        if code >= 400 {
            continue;
        }
        let t = time_of(e).unwrap_or("");
        if u.count == 0 || t < u.first_seen.as_str() {
            u.first_seen = t.to_owned();
            u.audit_id = e.audit_id.clone().unwrap_or_default();
        }
        if t > u.last_seen.as_str() {
            u.last_seen = t.to_owned();
        }
        u.count += 1;
    }
    out
}

/// The phrase RBAC findings append: `used 3 times in the audit window, last on 2024-01-02`
/// / `never used in the audit window (… to …)`.
pub fn usage_phrase(u: Option<&K8sUsage>, window: Option<&AuditWindow>) -> Option<String> {
    let w = window?;
    Some(match u {
        Some(u) if u.count > 0 => format!(
            "used {} time{} in the audit window, last on {}",
            u.count,
            if u.count == 1 { "" } else { "s" },
            u.last_seen.get(..10).unwrap_or(&u.last_seen)
        ),
        _ => format!("never used in the audit window ({} … {})", w.first, w.last),
    })
}

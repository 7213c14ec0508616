//! `emrguard who-can VERB RESOURCE [-n NAMESPACE] SNAPSHOT...`: like `kubectl who-can`, offline,
//! with the IAM principals behind each Kubernetes subject and the granting path.

use clap::ValueEnum;
use emrguard_model::{EstateIndex, Kind, PathStep, Subject};
use emrguard_rbac::identity::iam_subject;
use emrguard_rbac::{is_exempt, Request, SUPERUSER_GROUP};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection, impersonate,
    /// bind, escalate, ...
    verb: String,
    /// The resource: `pods`, `pods/exec` (a subresource), `deployments.apps` (with its API group),
    /// `mutatingwebhookconfigurations.admissionregistration.k8s.io`. Well-known resources need no
    /// group (`deployments` is `apps`, `roles` is `rbac.authorization.k8s.io`).
    resource: String,
    /// Snapshot files or directories (read recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Namespace of the request; without it, only cluster-wide grants (ClusterRoleBindings,
    /// cluster-scoped access policies) are considered, as for a cluster-scoped resource.
    #[arg(long, short)]
    namespace: Option<String>,
    /// Name of the object (rules with `resourceNames` then count).
    #[arg(long)]
    name: Option<String>,
    #[arg(long, short, value_enum, default_value_t = WhoCanFormat::Text)]
    format: WhoCanFormat,
    /// Configuration file (default: ./emrguard.toml when present), for declared administrators.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum WhoCanFormat {
    Text,
    Json,
}

/// API group of well-known resources (`kubectl api-resources`), for a RESOURCE given without one.
fn default_group(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "pods"
        | "configmaps"
        | "secrets"
        | "serviceaccounts"
        | "services"
        | "namespaces"
        | "nodes"
        | "persistentvolumeclaims"
        | "persistentvolumes"
        | "replicationcontrollers"
        | "events"
        | "endpoints"
        | "limitranges"
        | "resourcequotas"
        | "podtemplates"
        | "users"
        | "groups" => "",
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "controllerrevisions" => {
            "apps"
        }
        "jobs" | "cronjobs" => "batch",
        "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings" => {
            "rbac.authorization.k8s.io"
        }
        "mutatingwebhookconfigurations"
        | "validatingwebhookconfigurations"
        | "validatingadmissionpolicies"
        | "validatingadmissionpolicybindings" => "admissionregistration.k8s.io",
        "ingresses" | "networkpolicies" | "ingressclasses" => "networking.k8s.io",
        "podgroups" => "scheduling.volcano.sh",
        "uids" | "userextras" => "authentication.k8s.io",
        _ => return None,
    })
}

fn alias(resource: &str) -> &str {
    match resource {
        "po" | "pod" => "pods",
        "cm" | "configmap" => "configmaps",
        "secret" => "secrets",
        "sa" | "serviceaccount" => "serviceaccounts",
        "svc" | "service" => "services",
        "ns" | "namespace" => "namespaces",
        "deploy" | "deployment" => "deployments",
        "rs" | "replicaset" => "replicasets",
        "sts" | "statefulset" => "statefulsets",
        "ds" | "daemonset" => "daemonsets",
        "job" => "jobs",
        "cj" | "cronjob" => "cronjobs",
        "rc" | "replicationcontroller" => "replicationcontrollers",
        "role" => "roles",
        "rolebinding" => "rolebindings",
        "clusterrole" => "clusterroles",
        "clusterrolebinding" => "clusterrolebindings",
        "mutatingwebhookconfiguration" => "mutatingwebhookconfigurations",
        other => other,
    }
}

/// `pods/exec` → (``, pods, exec); `deployments.apps` → (apps, deployments, -).
fn parse_resource(s: &str) -> (String, String, Option<String>, bool) {
    let (res, sub) = match s.split_once('/') {
        Some((r, sub)) => (r, Some(sub.to_owned())),
        None => (s, None),
    };
    let (name, group, guessed) = match res.split_once('.') {
        Some((r, g)) => (alias(r).to_owned(), g.to_owned(), false),
        None => {
            let r = alias(res);
            match default_group(r) {
                Some(g) => (r.to_owned(), g.to_owned(), false),
                None => (r.to_owned(), String::new(), true),
            }
        }
    };
    (group, name, sub, guessed)
}

struct Row {
    subject: Subject,
    exempt: Option<String>,
    /// How IAM principals become the subject (aws-auth entries, access entries).
    mappings: Vec<PathStep>,
    mappings_total: usize,
    /// Binding → role → rule.
    grant: Vec<PathStep>,
    locations: Vec<emrguard_model::Location>,
}

const MAX_MAPPINGS: usize = 8;

pub fn run(args: WhoCanArgs) -> ExitCode {
    let config = match super::load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let loaded = emrguard_load::load_paths(&args.paths);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    if !loaded.anything_read() {
        eprintln!("error: nothing could be read from the snapshot");
        return ExitCode::from(2);
    }
    let (group, resource, sub, guessed) = parse_resource(&args.resource);
    if guessed {
        eprintln!(
            "note: `{resource}` is not a well-known resource; assuming the core API group (write RESOURCE.GROUP to name one)"
        );
    }
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context::new(&index, &config);
    let view = cx.rbac();
    if let Some(e) = &view.aws_auth_error {
        eprintln!("warning: {e}: IAM principals mapped by aws-auth are unknown");
    }
    let verb = args.verb.to_ascii_lowercase();
    let mut req = Request::new(&verb, &group, &resource);
    if let Some(s) = sub.as_deref() {
        req = req.subresource(s);
    }
    if let Some(ns) = args.namespace.as_deref() {
        req = req.namespace(ns);
    }
    if let Some(n) = args.name.as_deref() {
        req = req.name(n);
    }
    let mut rows: Vec<Row> = Vec::new();
    for (mut subject, grant) in view.graph.subjects_with(&req) {
        let maps = view.identities.mappings_for(&subject);
        subject.iam_principals = view.identities.iam_principals(&subject);
        let exempt = is_exempt(&subject, &view.exemptions).map(|r| r.to_string());
        let mappings: Vec<PathStep> = maps
            .iter()
            .take(MAX_MAPPINGS)
            .map(|m| {
                let s = m.path_step();
                if s.arn.is_none() {
                    s.arn(Some(&m.principal))
                } else {
                    s
                }
            })
            .collect();
        let mut locations: Vec<emrguard_model::Location> = grant
            .locations()
            .into_iter()
            .map(emrguard_model::Location::from)
            .collect();
        locations.sort();
        locations.dedup();
        // Members of system:masters are cluster-admins someone chose: each IAM principal mapped
        // into it is a job submitter unless declared (the group itself is a system identity).
        let masters: Vec<Row> = if subject.kind == "Group" && subject.name == SUPERUSER_GROUP {
            subject
                .iam_principals
                .iter()
                .filter_map(|p| {
                    let member = iam_subject(p);
                    if is_exempt(&member, &view.exemptions).is_some() {
                        return None;
                    }
                    let via: Vec<PathStep> = view
                        .identities
                        .mappings_for_principal(p)
                        .into_iter()
                        .filter(|m| m.groups.iter().any(|g| g == SUPERUSER_GROUP))
                        .map(|m| m.path_step().arn(Some(&m.principal)))
                        .collect();
                    let mut grant_path = vec![PathStep::new(Kind::Group, SUPERUSER_GROUP)];
                    grant_path.extend(grant.path());
                    Some(Row {
                        subject: member,
                        exempt: None,
                        mappings_total: via.len(),
                        mappings: via,
                        grant: grant_path,
                        locations: locations.clone(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(Row {
            subject,
            exempt,
            mappings,
            mappings_total: maps.len(),
            grant: grant.path(),
            locations,
        });
        rows.extend(masters);
    }
    let what = format!(
        "{verb} {}{}{}{}",
        resource,
        sub.as_deref().map(|s| format!("/{s}")).unwrap_or_default(),
        if group.is_empty() {
            String::new()
        } else {
            format!(" (API group {group})")
        },
        args.name
            .as_deref()
            .map(|n| format!(" named `{n}`"))
            .unwrap_or_default()
    );
    let scope = match args.namespace.as_deref() {
        Some(ns) => format!("in namespace `{ns}`"),
        None => "cluster-wide".to_owned(),
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        WhoCanFormat::Json => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "subject": r.subject,
                        "job_submitter": r.exempt.is_none(),
                        "exempt": r.exempt,
                        "path": r.mappings.iter().chain(r.grant.iter()).collect::<Vec<_>>(),
                        "locations": r.locations,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "verb": verb,
                "group": group,
                "resource": resource,
                "subresource": sub,
                "namespace": args.namespace,
                "name": args.name,
                "subjects": list,
            });
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
        WhoCanFormat::Text => write_text(&mut out, &what, &scope, &rows),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn step_text(s: &PathStep) -> String {
    let mut t = format!("{} ", s.kind);
    if let Some(ns) = &s.namespace {
        t.push_str(ns);
        t.push('/');
    }
    t.push_str(&s.name);
    if let Some(d) = &s.detail {
        t.push_str(&format!(" [{d}]"));
    }
    t
}

fn write_text(out: &mut impl Write, what: &str, scope: &str, rows: &[Row]) -> std::io::Result<()> {
    if rows.is_empty() {
        writeln!(out, "No subject can {what} {scope}.")?;
        return Ok(());
    }
    writeln!(out, "Who can {what} {scope}:")?;
    for r in rows {
        let s = &r.subject;
        writeln!(out)?;
        let name = match &s.namespace {
            Some(ns) => format!("{ns}/{}", s.name),
            None => s.name.clone(),
        };
        let status = match &r.exempt {
            Some(reason) => format!("not a job submitter: {reason}"),
            None => "job submitter".to_owned(),
        };
        writeln!(out, "{} {name}  ({status})", s.kind)?;
        if s.iam_principals.is_empty() {
            writeln!(out, "  IAM principals: none mapped")?;
        } else {
            const MAX: usize = 10;
            let shown: Vec<&str> = s
                .iam_principals
                .iter()
                .take(MAX)
                .map(String::as_str)
                .collect();
            let more = s.iam_principals.len().saturating_sub(MAX);
            writeln!(
                out,
                "  IAM principals: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )?;
        }
        for m in &r.mappings {
            writeln!(out, "  mapped by: {}", step_text(m))?;
        }
        if r.mappings_total > r.mappings.len() {
            writeln!(
                out,
                "  mapped by: {} more aws-auth entries or access entries",
                r.mappings_total - r.mappings.len()
            )?;
        }
        let steps: Vec<String> = r.grant.iter().map(step_text).collect();
        writeln!(out, "  granted by: {}", steps.join(" → "))?;
        for l in &r.locations {
            match l.line {
                Some(line) => writeln!(out, "  at {}:{line}", l.file)?,
                None => writeln!(out, "  at {}", l.file)?,
            }
        }
    }
    writeln!(out)?;
    let submitters = rows.iter().filter(|r| r.exempt.is_none()).count();
    writeln!(
        out,
        "{} grant{} ({} to job submitters)",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        submitters
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse() {
        assert_eq!(
            parse_resource("pods/exec"),
            (String::new(), "pods".into(), Some("exec".into()), false)
        );
        assert_eq!(
            parse_resource("deploy"),
            ("apps".into(), "deployments".into(), None, false)
        );
        assert_eq!(
            parse_resource("widgets.example.com"),
            ("example.com".into(), "widgets".into(), None, false)
        );
        assert!(parse_resource("widgets").3);
    }
}

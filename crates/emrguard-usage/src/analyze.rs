//! Classification of each role's grants against its usage: used (count, first/last seen, an
//! event id), unused though observable, unobservable (the trail does not log the data
//! events), denied attempts, and drift (first used after a release label, template or image
//! change).

use crate::aggregate::{Aggregate, Stats, Window};
use crate::attribution::{component_of_sa, JobRunStart, Via};
use crate::coverage::{is_s3_data_action, Coverage, Observed};
use emrguard_iam::{resource_matches, Catalogue, Effect, PolicyStore, PrincipalPolicies};
use emrguard_model::aws::iam::{arn_account, arn_resource_name};
use emrguard_model::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What to report.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these roles (name or ARN); empty: every role with usage in the window, and every
    /// role listed in `roles`.
    pub roles: Vec<String>,
    pub window: Window,
}

/// `<account>:<name>`: session ARNs lose the role's path, so roles are matched on this.
pub fn role_key(arn: &str) -> String {
    format!(
        "{}:{}",
        arn_account(arn).unwrap_or(""),
        arn_resource_name(arn)
    )
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Caller {
    pub namespace: String,
    pub service_account: String,
    pub component: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_cluster_id: Option<String>,
    pub via: String,
}

impl Caller {
    pub fn label(&self) -> String {
        format!("{}@{}", self.component, self.namespace)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Use {
    pub action: String,
    /// The resource pattern (S3 keys collapsed to the prefixes used).
    pub resource: String,
    pub sample_resource: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub event_id: String,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub s3_prefixes: BTreeSet<String>,
    /// `component@namespace` of the sessions that made the calls; empty when the
    /// credentials' issue is not in the logs.
    pub callers: BTreeSet<String>,
}

/// One Allow statement × resource pattern of a role's policies, its actions classified.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub policy: String,
    /// An inline policy (else managed).
    pub inline: bool,
    pub statement: String,
    pub resource: String,
    pub conditional: bool,
    pub used: Vec<String>,
    /// Not used, and the calls would have been logged.
    pub unused: Vec<String>,
    /// Not used, but the trail does not log these data events here: no conclusion.
    pub unobservable: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub action: String,
    pub resource: String,
    pub first_seen: String,
    pub event_id: String,
    /// `releaseLabel emr-6.15.0 → emr-7.1.0`, ...
    pub change: String,
    pub changed_at: String,
    pub job_run_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleUsage {
    pub role_arn: String,
    pub role_name: String,
    /// The role's policies are in the snapshot (grants were classified).
    pub in_snapshot: bool,
    pub callers: Vec<Caller>,
    pub used: Vec<Use>,
    pub denied: Vec<Use>,
    pub grants: Vec<Grant>,
    pub drift: Vec<Drift>,
    pub job_runs: Vec<JobRunStart>,
    pub events: u64,
}

impl RoleUsage {
    pub fn unused_count(&self) -> usize {
        self.grants.iter().map(|g| g.unused.len()).sum()
    }
    pub fn unobservable_count(&self) -> usize {
        self.grants.iter().map(|g| g.unobservable.len()).sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Unmapped {
    pub event_source: String,
    pub event_name: String,
    pub count: u64,
    pub event_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    /// First and last event in the window.
    pub first_seen: String,
    pub last_seen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub events: u64,
    pub events_not_by_roles: u64,
    pub coverage: String,
    pub operations_table: String,
    pub roles: Vec<RoleUsage>,
    /// Events made as roles that the operations table cannot map (never guessed).
    pub unmapped: Vec<Unmapped>,
}

impl UsageReport {
    pub fn role(&self, arn_or_name: &str) -> Option<&RoleUsage> {
        self.roles
            .iter()
            .find(|r| r.role_arn == arn_or_name || r.role_name == arn_or_name)
    }

    /// `2024-01-01T00:00:00Z … 2024-01-31T23:00:00Z`.
    pub fn window_text(&self) -> String {
        let a = self.since.as_deref().unwrap_or(&self.first_seen);
        let b = self.until.as_deref().unwrap_or(&self.last_seen);
        format!("{a} … {b}")
    }
}

fn to_use(action: &str, resource: &str, st: &Stats, callers: BTreeSet<String>) -> Use {
    Use {
        action: action.to_owned(),
        resource: resource.to_owned(),
        sample_resource: st.sample_resource.clone(),
        count: st.count,
        first_seen: st.first_seen.clone(),
        last_seen: st.last_seen.clone(),
        event_id: st.event_id.clone(),
        s3_prefixes: st.s3_prefixes.clone(),
        callers,
    }
}

type KeyedUse<'a> = (&'a crate::aggregate::UseKey, &'a Stats);

/// Classify every role's usage.
pub fn analyze(snap: &Snapshot, agg: &Aggregate, opts: &Options) -> UsageReport {
    let selectors: Vec<_> = snap.event_selectors.iter().map(|s| &s.value).collect();
    let coverage = Coverage::new(&selectors, agg.s3_data_buckets.clone());
    let ns_to_vc: HashMap<&str, &str> = snap
        .virtual_clusters
        .iter()
        .filter_map(|v| Some((v.namespace()?, v.id.as_str())))
        .collect();
    let wanted: BTreeSet<String> = opts.roles.iter().map(|r| role_key_of(snap, r)).collect();

    // role key → (access key, action, resource, denied) → stats
    let mut by_role: BTreeMap<String, (String, Vec<KeyedUse<'_>>)> = BTreeMap::new();
    for (k, st) in &agg.uses {
        let rk = role_key(&k.role_arn);
        if !wanted.is_empty() && !wanted.contains(&rk) {
            continue;
        }
        by_role
            .entry(rk)
            .or_insert_with(|| (k.role_arn.clone(), Vec::new()))
            .1
            .push((k, st));
    }
    for w in &wanted {
        if !by_role.contains_key(w) {
            let arn = snap
                .roles
                .iter()
                .find(|r| &role_key(&r.arn) == w)
                .map(|r| r.arn.clone())
                .unwrap_or_else(|| w.clone());
            by_role.insert(w.clone(), (arn, Vec::new()));
        }
    }

    // In key order, not the map's: which ARN names a role missing from the snapshot, and
    // which event is the evidence among equal first times, must not vary between runs.
    for (arn, uses) in by_role.values_mut() {
        uses.sort_by(|a, b| a.0.cmp(b.0));
        if let Some((k, _)) = uses.first() {
            arn.clone_from(&k.role_arn);
        }
    }

    let store = PolicyStore::from_managed(snap.policies.iter().map(|p| &p.value));
    let mut roles = Vec::new();
    for (rk, (seen_arn, uses)) in by_role {
        let role = snap.roles.iter().find(|r| role_key(&r.arn) == rk);
        let role_arn = role.map(|r| r.arn.clone()).unwrap_or(seen_arn);
        let caller_of = |key: &str| -> Option<Caller> {
            let s = agg.sessions.get(key)?;
            if role_key(&s.role_arn) != rk {
                return None;
            }
            Some(Caller {
                namespace: s.namespace.clone(),
                service_account: s.service_account.clone(),
                component: component_of_sa(&s.service_account).as_str().to_owned(),
                virtual_cluster_id: ns_to_vc.get(s.namespace.as_str()).map(|v| (*v).to_owned()),
                via: match s.via {
                    Via::WebIdentity => "web-identity".to_owned(),
                    Via::PodIdentity => "pod-identity".to_owned(),
                },
            })
        };
        // Merge access keys: (action, resource, denied) → stats, callers.
        let mut merged: BTreeMap<(String, String, bool), (Stats, BTreeSet<String>)> =
            BTreeMap::new();
        let mut callers: BTreeSet<Caller> = BTreeSet::new();
        let mut events = 0u64;
        for (k, st) in uses {
            events += st.count;
            let e = merged
                .entry((k.action.clone(), k.resource.clone(), k.denied))
                .or_default();
            merge_stats(&mut e.0, st);
            if let Some(c) = caller_of(&k.access_key_id) {
                e.1.insert(c.label());
                callers.insert(c);
            }
        }
        let mut used = Vec::new();
        let mut denied = Vec::new();
        for ((action, resource, is_denied), (st, cs)) in &merged {
            let u = to_use(action, resource, st, cs.clone());
            if *is_denied {
                denied.push(u);
            } else {
                used.push(u);
            }
        }
        let grants = match role {
            Some(r) => classify_grants(&store.principal_from_role(r), &used, &coverage),
            None => Vec::new(),
        };
        let mut job_runs: Vec<JobRunStart> = agg
            .job_runs
            .iter()
            .filter(|j| role_key(&j.role_arn) == rk)
            .cloned()
            .collect();
        job_runs.sort_by(|a, b| a.time.cmp(&b.time).then(a.job_run_id.cmp(&b.job_run_id)));
        let drift = drift(&used, &job_runs);
        roles.push(RoleUsage {
            role_name: arn_resource_name(&role_arn).to_owned(),
            role_arn,
            in_snapshot: role.is_some(),
            callers: callers.into_iter().collect(),
            used,
            denied,
            grants,
            drift,
            job_runs,
            events,
        });
    }
    let mut unmapped: Vec<Unmapped> = agg
        .unmapped
        .iter()
        .map(|((s, n), st)| Unmapped {
            event_source: s.clone(),
            event_name: n.clone(),
            count: st.count,
            event_id: st.event_id.clone(),
        })
        .collect();
    unmapped
        .sort_by(|a, b| (&a.event_source, &a.event_name).cmp(&(&b.event_source, &b.event_name)));
    UsageReport {
        first_seen: agg.first_seen.clone(),
        last_seen: agg.last_seen.clone(),
        since: opts.window.since.clone(),
        until: opts.window.until.clone(),
        events: agg.records,
        events_not_by_roles: agg.not_role,
        coverage: coverage.describe(),
        operations_table: crate::mapping::OperationTable::global()
            .version()
            .to_owned(),
        roles,
        unmapped,
    }
}

fn merge_stats(into: &mut Stats, st: &Stats) {
    if into.count == 0 || st.first_seen < into.first_seen {
        into.first_seen = st.first_seen.clone();
        into.event_id = st.event_id.clone();
        into.sample_resource = st.sample_resource.clone();
    }
    if st.last_seen > into.last_seen {
        into.last_seen = st.last_seen.clone();
    }
    into.count += st.count;
    into.s3_prefixes.extend(st.s3_prefixes.iter().cloned());
}

fn role_key_of(snap: &Snapshot, name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        return role_key(name_or_arn);
    }
    snap.roles
        .iter()
        .find(|r| r.role_name == name_or_arn)
        .map(|r| role_key(&r.arn))
        .unwrap_or_else(|| format!(":{name_or_arn}"))
}

/// Each Allow statement × resource pattern of the identity policies, its actions split into
/// used, unused (observable) and unobservable.
pub fn classify_grants(p: &PrincipalPolicies, used: &[Use], cov: &Coverage) -> Vec<Grant> {
    let cat = Catalogue::global();
    let mut out = Vec::new();
    for a in &p.identity {
        for st in a.policy.statements() {
            if st.effect() != Effect::Allow {
                continue;
            }
            let (not_action, pats) = st.action_patterns();
            let mut set = cat.set_of(&[]);
            for pat in &pats {
                set = set.union(&cat.expand(pat));
            }
            if not_action {
                set = cat.all().difference(&set);
            }
            let resources: Vec<String> = match st.resource_patterns() {
                Some((false, rs)) => rs.iter().map(|r| (*r).to_owned()).collect(),
                // NotResource or none: treated as every resource.
                _ => vec!["*".to_owned()],
            };
            for res in resources {
                let mut g = Grant {
                    policy: a.origin.name.clone(),
                    inline: a.origin.source == emrguard_iam::PolicySource::Inline,
                    statement: match st.sid() {
                        Some(s) => format!("{} ({s})", st.pointer()),
                        None => st.pointer().to_owned(),
                    },
                    resource: res.clone(),
                    conditional: st.has_conditions(),
                    used: Vec::new(),
                    unused: Vec::new(),
                    unobservable: Vec::new(),
                };
                for id in set.iter() {
                    let name = cat.qualified_name(id);
                    let is_used = used.iter().any(|u| {
                        u.action.eq_ignore_ascii_case(name)
                            && (res == "*"
                                || resource_matches(&res, &u.sample_resource)
                                || resource_matches(&res, &u.resource))
                    });
                    if is_used {
                        g.used.push(name.to_owned());
                        continue;
                    }
                    if is_s3_data_action(name) {
                        let write = cat
                            .action(id)
                            .map(|a| a.access_level().is_modify())
                            .unwrap_or(false);
                        if cov.s3(&res, write) != Observed::Logged {
                            g.unobservable.push(name.to_owned());
                            continue;
                        }
                    }
                    g.unused.push(name.to_owned());
                }
                out.push(g);
            }
        }
    }
    out
}

/// Uses first seen after a change of release label, job template or image between two
/// consecutive job runs of the role (when the role was already in use before the change).
fn drift(used: &[Use], runs: &[JobRunStart]) -> Vec<Drift> {
    let Some(role_first) = used.iter().map(|u| u.first_seen.as_str()).min() else {
        return Vec::new();
    };
    let mut changes: Vec<(&JobRunStart, String)> = Vec::new();
    for w in runs.windows(2) {
        let [a, b] = w else { continue };
        let mut what = Vec::new();
        if a.release_label != b.release_label {
            what.push(format!(
                "releaseLabel {} → {}",
                or_dash(&a.release_label),
                or_dash(&b.release_label)
            ));
        }
        if a.job_template_id != b.job_template_id {
            what.push(format!(
                "job template {} → {}",
                or_dash(&a.job_template_id),
                or_dash(&b.job_template_id)
            ));
        }
        if a.image != b.image {
            what.push(format!(
                "image {} → {}",
                or_dash(&a.image),
                or_dash(&b.image)
            ));
        }
        if !what.is_empty() {
            changes.push((b, what.join(", ")));
        }
    }
    let mut out = Vec::new();
    for u in used {
        // The latest change at or before the first use.
        let Some((run, what)) = changes
            .iter()
            .rev()
            .find(|(r, _)| r.time.as_str() <= u.first_seen.as_str())
        else {
            continue;
        };
        if role_first >= run.time.as_str() {
            continue;
        }
        out.push(Drift {
            action: u.action.clone(),
            resource: u.resource.clone(),
            first_seen: u.first_seen.clone(),
            event_id: u.event_id.clone(),
            change: what.clone(),
            changed_at: run.time.clone(),
            job_run_id: run.job_run_id.clone(),
        });
    }
    out
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::aggregate::UseKey;

    #[test]
    fn the_report_does_not_depend_on_map_order() {
        // Two ARNs with one role key (a session issuer logged as `user/`), equal first times.
        let mut reports = BTreeSet::new();
        for _ in 0..20 {
            let mut agg = Aggregate::default();
            for (arn, key, id) in [
                ("arn:aws:iam::1:user/tester", "K1", "e1"),
                ("arn:aws:iam::1:role/tester", "K2", "e2"),
                ("arn:aws:iam::1:role/tester", "K3", "e3"),
            ] {
                let k = UseKey {
                    role_arn: arn.into(),
                    access_key_id: key.into(),
                    action: "s3:GetObject".into(),
                    resource: "arn:aws:s3:::b/*".into(),
                    denied: false,
                };
                let st = Stats {
                    count: 1,
                    first_seen: "2024-01-01T00:00:00Z".into(),
                    last_seen: "2024-01-01T00:00:00Z".into(),
                    event_id: id.into(),
                    ..Default::default()
                };
                agg.uses.insert(k, st);
            }
            let r = analyze(&Snapshot::default(), &agg, &Options::default());
            reports.insert(serde_json::to_string(&r).unwrap());
        }
        assert_eq!(reports.len(), 1, "{reports:?}");
        let r: serde_json::Value = serde_json::from_str(reports.first().unwrap()).unwrap();
        assert_eq!(r["roles"][0]["role_arn"], "arn:aws:iam::1:role/tester");
    }
}

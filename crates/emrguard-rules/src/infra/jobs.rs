//! What runs in EMR namespaces: the latest run of each job, and live managed endpoints, with
//! their release labels.

use crate::util::join_words;
use emrguard_model::aws::emr::{Endpoint, JobRun, JobTemplate, VirtualCluster};
use emrguard_model::index::Workload;
use emrguard_model::Kind;
use emrguard_model::{EstateIndex, Located, PathStep, Ref};
use std::collections::BTreeMap;

/// The runs of one job (same virtual cluster and job name) and the most recent of them.
pub struct JobGroup<'s> {
    pub vc: &'s Located<VirtualCluster>,
    /// The job's name (the run id when the runs have no name).
    pub name: String,
    pub latest: &'s Located<JobRun>,
    pub latest_index: usize,
    pub runs: Vec<&'s Located<JobRun>>,
}

impl<'s> JobGroup<'s> {
    pub fn namespace(&self) -> Option<&'s str> {
        self.vc.namespace()
    }
}

/// The latest run of every job of every live virtual cluster, in (virtual cluster, name) order.
/// Older runs of a job that has since changed its release or image are history, not the
/// current configuration, so rules judge the latest run.
pub fn latest_jobs<'s>(index: &EstateIndex<'s>) -> Vec<JobGroup<'s>> {
    type Runs<'s> = Vec<(usize, &'s Located<JobRun>)>;
    let mut groups: BTreeMap<(&str, String), Runs<'s>> = BTreeMap::new();
    for (i, j) in index.snap.job_runs.iter().enumerate() {
        let name = j.name.clone().unwrap_or_else(|| j.id.clone());
        groups
            .entry((j.virtual_cluster_id.as_str(), name))
            .or_default()
            .push((i, j));
    }
    let mut out = Vec::new();
    for ((vc_id, name), mut runs) in groups {
        let Some(vc) = index.virtual_cluster(vc_id) else {
            continue;
        };
        if !vc.is_live() {
            continue;
        }
        runs.sort_by(|a, b| {
            created(a.1)
                .cmp(&created(b.1))
                .then_with(|| a.1.id.cmp(&b.1.id))
        });
        let Some(&(latest_index, latest)) = runs.last() else {
            continue;
        };
        out.push(JobGroup {
            vc,
            name,
            latest,
            latest_index,
            runs: runs.into_iter().map(|(_, r)| r).collect(),
        });
    }
    out
}

fn created(j: &JobRun) -> String {
    match &j.created_at {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => format!("{n:0>20}"),
        _ => String::new(),
    }
}

/// Live managed endpoints of live virtual clusters.
pub fn live_endpoints<'s>(
    index: &EstateIndex<'s>,
) -> Vec<(usize, &'s Located<Endpoint>, &'s Located<VirtualCluster>)> {
    index
        .snap
        .endpoints
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_live())
        .filter_map(|(i, e)| {
            let vc = index.virtual_cluster(&e.virtual_cluster_id)?;
            vc.is_live().then_some((i, e, vc))
        })
        .collect()
}

pub fn vc_ref(vc: &VirtualCluster) -> Ref {
    Ref::aws(
        Kind::VirtualCluster,
        vc.name.clone(),
        Some(vc.arn.as_str()).filter(|a| !a.is_empty()),
    )
}

pub fn vc_step(vc: &VirtualCluster) -> PathStep {
    PathStep::from_ref(&vc_ref(vc)).namespace(vc.namespace())
}

pub fn endpoint_ref(e: &Endpoint) -> Ref {
    let name = if e.name.is_empty() { &e.id } else { &e.name };
    Ref::aws(
        Kind::ManagedEndpoint,
        name.clone(),
        Some(e.arn.as_str()).filter(|a| !a.is_empty()),
    )
}

pub fn template_ref(t: &JobTemplate) -> Ref {
    Ref::aws(
        Kind::EmrJobTemplate,
        t.name.clone().unwrap_or_else(|| t.id.clone()),
        Some(t.arn.as_str()).filter(|a| !a.is_empty()),
    )
}

pub fn job_run_step(j: &JobRun) -> PathStep {
    PathStep::new(Kind::JobRun, j.name.clone().unwrap_or_else(|| j.id.clone()))
        .arn(Some(j.arn.as_str()).filter(|a| !a.is_empty()))
}

/// `job `name` (latest run ID)` for messages.
pub fn describe_job(g: &JobGroup<'_>) -> String {
    if g.runs.len() > 1 {
        format!(
            "job `{}` (latest of {} runs: {})",
            g.name,
            g.runs.len(),
            g.latest.id
        )
    } else {
        format!("job `{}` (run {})", g.name, g.latest.id)
    }
}

/// Describe a workload for messages.
pub fn describe_workload(index: &EstateIndex<'_>, w: Workload) -> String {
    let snap = index.snap;
    match w {
        Workload::JobRun(i) => snap
            .job_runs
            .get(i)
            .map(|j| {
                let vc = index
                    .virtual_cluster(&j.virtual_cluster_id)
                    .map(|v| v.name.clone())
                    .unwrap_or_else(|| j.virtual_cluster_id.clone());
                format!(
                    "job `{}` (run {}, virtual cluster {vc})",
                    j.name.as_deref().unwrap_or(&j.id),
                    j.id
                )
            })
            .unwrap_or_default(),
        Workload::JobTemplate(i) => snap
            .job_templates
            .get(i)
            .map(|t| format!("job template `{}`", t.name.as_deref().unwrap_or(&t.id)))
            .unwrap_or_default(),
        Workload::Endpoint(i) => snap
            .endpoints
            .get(i)
            .map(|e| format!("managed endpoint `{}`", e.name))
            .unwrap_or_default(),
    }
}

/// `a, b and c` of a list of strings, deduplicated, in order.
pub fn words(mut v: Vec<String>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
    join_words(&v)
}

/// The first letter in upper case (for messages that start with a description).
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

//! Benchmark: load an authorization-details file, compile every policy, compute the risk classes
//! and the privilege tier of every principal (rayon across principals), print timings and counts.
//!
//! cargo run --release -p emrguard-iam --example iam_bench -- FILE [--threads N]

use emrguard_iam::{
    analyze, default_version, CompiledPolicy, PolicyKind, PolicyStore, PrivilegeTier, RiskClass,
    TrustPolicy,
};
use emrguard_model::aws::iam::{Group, ManagedPolicy, Role, User};
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthzDetails {
    #[serde(default)]
    role_detail_list: Vec<Role>,
    #[serde(default)]
    user_detail_list: Vec<User>,
    #[serde(default)]
    group_detail_list: Vec<Group>,
    #[serde(default)]
    policies: Vec<ManagedPolicy>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1) else {
        eprintln!("usage: iam_bench FILE [--threads N]");
        std::process::exit(2);
    };
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        let n: usize = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(0);
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .ok();
    }
    let t0 = Instant::now();

    // Parse the embedded catalogue while the file loads (as a CLI can).
    let cat_thread = std::thread::spawn(|| {
        let t = Instant::now();
        let cat = emrguard_iam::Catalogue::global();
        (cat.len(), t.elapsed())
    });

    let text = std::fs::read(file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(2)
    });
    let a: AuthzDetails = serde_json::from_slice(&text).unwrap_or_else(|e| {
        eprintln!("{file}: not an authorization-details file: {e}");
        std::process::exit(2)
    });
    drop(text);
    let t_load = t0.elapsed();
    let (n_actions, t_cat) = cat_thread.join().unwrap_or((0, Default::default()));
    let cat = emrguard_iam::Catalogue::global();

    // Managed policies: compile the default version of each once, in parallel.
    let compiler = PolicyStore::new();
    let compiled: Vec<(&ManagedPolicy, Option<String>, Arc<CompiledPolicy>)> = a
        .policies
        .par_iter()
        .map(|p| {
            let (version, doc) = default_version(p);
            let c = compiler.compile(&doc, PolicyKind::Identity);
            (p, version, c)
        })
        .collect();
    let mut store = compiler;
    for (p, version, c) in compiled {
        store.add_compiled(&p.arn, &p.policy_name, version.as_deref(), c);
    }
    let t_managed = t0.elapsed();

    // Principals: roles (with trust policies) and users (with groups).
    let groups: HashMap<&str, &Group> = a
        .group_detail_list
        .iter()
        .map(|g| (g.group_name.as_str(), g))
        .collect();
    let role_principals: Vec<_> = a
        .role_detail_list
        .par_iter()
        .map(|r| {
            let p = store.principal_from_role(r);
            let trust = r
                .assume_role_policy_document
                .as_ref()
                .map(|d| TrustPolicy::new(&r.arn, store.compile(d.text(), PolicyKind::Trust)));
            (p, trust)
        })
        .collect();
    let user_principals: Vec<_> = a
        .user_detail_list
        .par_iter()
        .map(|u| store.principal_from_user(u, &|g: &str| groups.get(g).copied()))
        .collect();
    let t_build = t0.elapsed();
    let role_reports: Vec<_> = role_principals
        .par_iter()
        .map(|(p, trust)| {
            let issues = p
                .identity
                .iter()
                .map(|x| x.policy.issues().len())
                .sum::<usize>()
                + trust.as_ref().map_or(0, |t| t.policy.issues().len());
            (analyze(p), issues)
        })
        .collect();
    let user_reports: Vec<_> = user_principals
        .par_iter()
        .map(|p| {
            let issues = p
                .identity
                .iter()
                .map(|x| x.policy.issues().len())
                .sum::<usize>();
            (analyze(p), issues)
        })
        .collect();
    let t_analyze = t0.elapsed();

    let mut tiers: BTreeMap<PrivilegeTier, usize> = BTreeMap::new();
    let mut classes: BTreeMap<RiskClass, usize> = BTreeMap::new();
    let mut issues = 0usize;
    let mut escalations = 0usize;
    for (r, n) in role_reports.iter().chain(user_reports.iter()) {
        *tiers.entry(r.tier).or_default() += 1;
        for risk in &r.risks {
            *classes.entry(risk.class).or_default() += 1;
            escalations += risk.escalations.len();
        }
        issues += n;
    }
    println!("file: {file}");
    println!(
        "roles: {}  users: {}  groups: {}  managed policies: {}  catalogue actions: {}",
        a.role_detail_list.len(),
        a.user_detail_list.len(),
        a.group_detail_list.len(),
        store.managed_len(),
        n_actions.max(cat.len())
    );
    println!("tiers: {tiers:?}");
    println!("risk classes (principals): {classes:?}");
    println!("escalation methods found: {escalations}  policy issues (incl. trust): {issues}");
    println!(
        "time: catalogue {:.1} ms (in parallel with load), load {:.1} ms, managed compile {:.1} ms, principals+inline/trust compile {:.1} ms, risk analysis {:.1} ms, total {:.1} ms ({} threads)",
        t_cat.as_secs_f64() * 1e3,
        t_load.as_secs_f64() * 1e3,
        (t_managed - t_load).as_secs_f64() * 1e3,
        (t_build - t_managed).as_secs_f64() * 1e3,
        (t_analyze - t_build).as_secs_f64() * 1e3,
        t_analyze.as_secs_f64() * 1e3,
        rayon::current_num_threads()
    );
    // --dump FILE: one JSON line a principal (escalation methods, data-exfiltration actions,
    // tier), for bench/iam/compare.py.
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        if let Some(path) = args.get(i + 1) {
            let mut out = String::new();
            for (r, _) in role_reports.iter().chain(user_reports.iter()) {
                let pe: Vec<&str> = r
                    .get(RiskClass::PrivilegeEscalation)
                    .map(|x| x.escalations.iter().map(|e| e.method).collect())
                    .unwrap_or_default();
                let de: Vec<String> = r
                    .get(RiskClass::DataExfiltration)
                    .map(|x| {
                        x.action_names()
                            .into_iter()
                            .chain(x.conditional_action_names())
                            .collect()
                    })
                    .unwrap_or_default();
                let line = serde_json::json!({"arn": r.arn, "tier": r.tier, "privilege_escalation": pe, "data_exfiltration": de});
                out.push_str(&line.to_string());
                out.push('\n');
            }
            if let Err(e) = std::fs::write(path, out) {
                eprintln!("{path}: {e}");
            }
        }
    }
    // Like the CLI: exit without tearing down the (large) structures.
    std::process::exit(0);
}

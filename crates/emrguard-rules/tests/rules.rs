//! Registry tests and one fixture pair per rule: `tests/fixtures/<ID>/trigger` must raise the
//! rule (its findings are snapshot-tested), `tests/fixtures/<ID>/clean` must not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_config::Config;
use emrguard_model::{EstateIndex, Finding, Kind, PathStep, Practice};
use emrguard_rules::{registry, run, Context, Rule};
use std::collections::HashSet;
use std::path::PathBuf;

fn fixture(id: &str, which: &str) -> PathBuf {
    // Relative paths keep the snapshots independent of where the repo is checked out.
    PathBuf::from(format!("tests/fixtures/{id}/{which}"))
}

fn run_rule(rule: &'static dyn Rule, dir: &PathBuf) -> Vec<Finding> {
    assert!(dir.is_dir(), "missing fixture directory {}", dir.display());
    let loaded = emrguard_load::load_paths(std::slice::from_ref(dir));
    assert!(
        loaded.errors.is_empty(),
        "fixture {} does not load cleanly: {:?}",
        dir.display(),
        loaded.errors
    );
    let index = EstateIndex::build(&loaded.snapshot);
    // A rule that needs settings reads them from `tests/fixtures/<ID>/emrguard.toml` (beside
    // `trigger/` and `clean/`, so never part of the snapshot).
    let settings = dir.parent().map(|p| p.join("emrguard.toml"));
    let config = match settings.filter(|p| p.is_file()) {
        Some(p) => Config::load(&p).unwrap(),
        None => Config::default(),
    };
    let cx = Context::new(&index, &config);
    run(&[rule], &cx)
}

#[test]
fn every_rule_triggers_on_its_fixture_and_not_on_the_clean_one() {
    for rule in registry() {
        let id = rule.meta().id;
        let hits = run_rule(*rule, &fixture(id, "trigger"));
        assert!(!hits.is_empty(), "{id}: trigger fixture raised nothing");
        assert!(hits.iter().all(|f| f.rule == id));
        insta::assert_json_snapshot!(format!("trigger_{id}"), hits);
        let clean = run_rule(*rule, &fixture(id, "clean"));
        assert!(clean.is_empty(), "{id}: clean fixture raised {clean:#?}");
    }
}

/// Every kind a finding names (resource, subject, path steps and their alternatives, grants)
/// is one of [`Kind`], spelled its one way.
fn unknown_kinds(f: &Finding) -> Vec<String> {
    fn steps<'a>(s: &'a PathStep, out: &mut Vec<&'a str>) {
        out.push(&s.kind);
        for a in &s.one_of {
            steps(a, out);
        }
    }
    let mut kinds: Vec<&str> = vec![&f.resource.kind];
    if let Some(s) = &f.subject {
        kinds.push(&s.kind);
    }
    for s in &f.path {
        steps(s, &mut kinds);
    }
    for g in &f.grants {
        kinds.push(&g.binding.kind);
        kinds.push(&g.role.kind);
        if let Some(a) = &g.aggregated_from {
            kinds.push(&a.kind);
        }
    }
    kinds
        .into_iter()
        .filter(|k| k.parse::<Kind>().is_err())
        .map(|k| format!("{} {}: kind `{k}`", f.rule, f.id))
        .collect()
}

#[test]
fn every_kind_in_findings_is_in_the_one_vocabulary() {
    let mut dirs: Vec<PathBuf> = registry()
        .iter()
        .map(|r| fixture(r.meta().id, "trigger"))
        .collect();
    dirs.push(PathBuf::from("../../examples/insecure-estate"));
    let mut bad = Vec::new();
    let mut seen = 0;
    for dir in dirs {
        let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
        let index = EstateIndex::build(&loaded.snapshot);
        let config = Config::default();
        let cx = Context::new(&index, &config);
        for f in run(registry(), &cx) {
            seen += 1;
            bad.extend(unknown_kinds(&f));
        }
    }
    assert!(seen > 100, "only {seen} findings checked");
    bad.sort();
    bad.dedup();
    assert!(
        bad.is_empty(),
        "kinds outside emrguard_model::Kind:\n{}",
        bad.join("\n")
    );
}

#[test]
fn ids_are_unique_well_formed_and_match_their_practice() {
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for rule in registry() {
        let m = rule.meta();
        assert!(ids.insert(m.id), "duplicate id {}", m.id);
        assert!(names.insert(m.name), "duplicate name {}", m.name);
        let (letters, digits) =
            m.id.split_at(m.id.find(|c: char| c.is_ascii_digit()).unwrap());
        assert!(
            !letters.is_empty() && letters.chars().all(|c| c.is_ascii_uppercase()),
            "{}",
            m.id
        );
        assert!(
            digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()),
            "{}",
            m.id
        );
        let prefix_practice = match letters {
            "IAM" => Practice::LeastPrivilege,
            "NET" => Practice::EndpointAccess,
            "IMG" => Practice::ImageUpdates,
            "POD" => Practice::PodCredentials,
            "TEN" => Practice::TenantIsolation,
            "RBAC" => Practice::Rbac,
            "NODE" => Practice::NodeCredentials,
            other => panic!("unknown id prefix {other}"),
        };
        assert_eq!(prefix_practice, m.practice, "{}", m.id);
        assert!(
            m.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}",
            m.name
        );
        assert!(!m.title.is_empty() && !m.title.ends_with('.'), "{}", m.id);
    }
    let sorted: Vec<_> = registry().iter().map(|r| r.meta().id).collect();
    let mut expect = sorted.clone();
    expect.sort();
    assert_eq!(sorted, expect, "registry must be in id order");
}

#[test]
fn every_rule_is_documented() {
    for rule in registry() {
        let m = rule.meta();
        for h in [
            "What it checks",
            "Why it matters",
            "Example",
            "Remediation",
            "References",
        ] {
            let s = m
                .section(h)
                .unwrap_or_else(|| panic!("{}: missing section {h}", m.id));
            assert!(s.len() > 10, "{}: section {h} is too short", m.id);
        }
    }
}

/// Declared administrators are not job submitters (`candidates`), but they still call
/// StartJobRun (`callers`): TEN001 reads the latter, so a role only an administrator may start
/// jobs with still counts as usable in the namespace.
#[test]
fn declared_administrators_are_callers_not_candidates() {
    use emrguard_rules::submitters::{callers, candidates, START_JOB_RUN};
    let dir = fixture("TEN001", "trigger");
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
    let index = EstateIndex::build(&loaded.snapshot);
    let admin = "arn:aws:iam::111122223333:role/spark-submitter-shared";
    let mut config = Config::default();
    config.administrators.iam_arns = vec![admin.to_owned()];
    let cx = Context::new(&index, &config);
    let cand: Vec<&str> = candidates(&cx, &[START_JOB_RUN])
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let call: Vec<&str> = callers(&cx, &[START_JOB_RUN])
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(!cand.contains(&admin), "{cand:?}");
    assert!(call.contains(&admin), "{call:?}");
    assert!(call.contains(&"arn:aws:iam::111122223333:role/spark-submitter-team-a"));
}

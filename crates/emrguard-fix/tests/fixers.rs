//! Each fixer on the rule fixtures it covers (`crates/emrguard-rules/tests/fixtures/ID/trigger`):
//! fixture in, the plan's artifacts and commands out (insta snapshot), and the patched copy
//! re-checked with the whole catalogue: every claimed finding is gone and no new finding id
//! appears.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_config::Config;
use emrguard_fix::output::SnapshotFile;
use emrguard_model::{EstateIndex, Finding, Snapshot};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../emrguard-rules/tests/fixtures")
        .canonicalize()
        .unwrap()
}

fn run_rules(snap: &Snapshot, config: &Config) -> Vec<Finding> {
    let index = EstateIndex::build(snap);
    let cx = emrguard_rules::Context::new(&index, config);
    emrguard_rules::run(emrguard_rules::registry(), &cx)
}

fn load_memory(files: &[(String, Vec<u8>)]) -> Snapshot {
    let mut snap = Snapshot::default();
    for (name, data) in files {
        let (s, _, _) = emrguard_load::load_bytes_public(name, data.clone());
        snap.extend(s);
    }
    snap.finalize();
    snap
}

/// The settings a rule's fixture is checked with (`fixtures/ID/emrguard.toml`, beside
/// `trigger/`, as the rules' own test reads them).
fn fixture_config(rule: &str) -> Config {
    let p = fixtures().join(rule).join("emrguard.toml");
    if p.is_file() {
        Config::load(&p).unwrap()
    } else {
        Config::default()
    }
}

/// Fix the fixture of `rule`; returns (claimed ids, the text snapshotted).
fn fix_fixture(rule: &str) -> (BTreeSet<String>, String) {
    fix_fixture_with(rule, fixture_config(rule))
}

/// Fix the fixture of `rule` under `config`.
fn fix_fixture_with(rule: &str, config: Config) -> (BTreeSet<String>, String) {
    fix_dir(rule, &fixtures().join(rule).join("trigger"), config)
}

/// Fix the snapshot in `dir`, which must raise `rule`.
fn fix_dir(rule: &str, dir: &Path, config: Config) -> (BTreeSet<String>, String) {
    let dir = dir.to_path_buf();
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&dir));
    let before = run_rules(&loaded.snapshot, &config);
    assert!(
        before.iter().any(|f| f.rule == rule),
        "{rule}: the trigger fixture has no {rule} finding"
    );
    let index = EstateIndex::build(&loaded.snapshot);
    let cx = emrguard_rules::Context::new(&index, &config);
    let plan = emrguard_fix::plan(&cx, &before);
    let (files, _) = emrguard_load::collect_files(std::slice::from_ref(&dir));
    let inputs: Vec<SnapshotFile> = files
        .iter()
        .map(|f| SnapshotFile {
            name: f.display().to_string(),
            dest: f.strip_prefix(&dir).unwrap().display().to_string(),
            data: std::fs::read(f).unwrap(),
        })
        .collect();
    let (out, errors) = emrguard_fix::output::render(&plan, &inputs);
    assert!(errors.is_empty(), "{rule}: {errors:?}");
    let patched: Vec<(String, Vec<u8>)> = out
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("snapshot/")
                .map(|n| (dir.join(n).display().to_string(), v.clone()))
        })
        .collect();
    let after = run_rules(&load_memory(&patched), &config);
    let before_ids: BTreeSet<&str> = before.iter().map(|f| f.id.as_str()).collect();
    let after_ids: BTreeSet<&str> = after.iter().map(|f| f.id.as_str()).collect();
    let claimed: BTreeSet<String> = plan.claimed().into_iter().map(str::to_owned).collect();
    for id in &claimed {
        assert!(
            !after_ids.contains(id.as_str()),
            "{rule}: {id} is claimed but still reported"
        );
    }
    let new: Vec<&Finding> = after
        .iter()
        .filter(|f| !before_ids.contains(f.id.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "{rule}: new findings after the fix: {:?}",
        new.iter().map(|f| (&f.id, &f.message)).collect::<Vec<_>>()
    );
    // The reviewer-facing part: artifacts and apply.sh, without the machine's paths.
    let root = dir.display().to_string();
    let mut text = String::new();
    for (k, v) in &out {
        if k.starts_with("artifacts/") || k == "apply.sh" {
            text.push_str(&format!(
                "=== {k}\n{}\n",
                String::from_utf8_lossy(v).replace(&root, "FIXTURE")
            ));
        }
    }
    (claimed, text)
}

macro_rules! fixer_test {
    ($name:ident, $rule:literal) => {
        #[test]
        fn $name() {
            let (claimed, text) = fix_fixture($rule);
            assert!(
                claimed.iter().any(|id| id.starts_with(concat!($rule, "-"))),
                "{}: no {} finding is fixed",
                $rule,
                $rule
            );
            insta::assert_snapshot!($rule, text);
        }
    };
}

fixer_test!(trust_other_namespaces, "IAM020");
fixer_test!(trust_without_sub, "IAM021");
fixer_test!(trust_base36_mismatch, "IAM023");
fixer_test!(exec_role_administrator, "IAM001");
fixer_test!(exec_role_all_buckets, "IAM004");
fixer_test!(exec_role_logs_anywhere, "IAM010");
fixer_test!(submitter_any_role, "IAM030");
fixer_test!(rbac_configmaps, "RBAC001");
fixer_test!(rbac_exec, "RBAC002");
fixer_test!(rbac_secrets, "RBAC005");
fixer_test!(emr_role_bound_to_others, "RBAC011");
fixer_test!(webhook_selects_emr, "RBAC020");
fixer_test!(nodegroup_imds, "NODE001");
fixer_test!(node_role_extra, "NODE010");
// NODE011: its fixture has no EKS cluster (no OIDC provider for the aws-node role); the
// end-to-end test (crates/emrguard/tests/fix.rs) covers it on the insecure estate.
fixer_test!(api_public_world, "NET001");
fixer_test!(sg_open_to_world, "NET006");
fixer_test!(kube2iam_running, "POD001");
fixer_test!(kube2iam_annotation, "POD002");
fixer_test!(pod_identity_old_release, "POD004");
fixer_test!(ecr_scan, "IMG004");
fixer_test!(ecr_mutable, "IMG005");
fixer_test!(non_emr_workload, "TEN003");
fixer_test!(job_template_old_release, "IMG001");
fixer_test!(system_masters_mapping, "RBAC015");
fixer_test!(emr_role_beyond_published, "RBAC010");
fixer_test!(dockerfile_old_base, "IMG007");
fixer_test!(dockerfile_user, "IMG008");
fixer_test!(dockerfile_add_from_url, "IMG009");
fixer_test!(dockerfile_secrets, "IMG010");
fixer_test!(nodegroup_ssh, "NODE003");
fixer_test!(sg_undeclared_cidr, "NET008");

/// NET007 is fixed only when networks are declared: then the wide range gives way to them.
#[test]
fn sg_wide_cidr_with_declared_networks() {
    let (claimed, _) = fix_fixture("NET007");
    assert!(
        !claimed.iter().any(|id| id.starts_with("NET007-")),
        "NET007 is fixed without declared networks"
    );
    let config = Config::parse(
        "emrguard.toml",
        "[endpoints]\nallowed_cidrs = [\"10.20.30.0/24\"]\n",
    )
    .unwrap();
    let (claimed, text) = fix_fixture_with("NET007", config);
    assert!(
        claimed.iter().any(|id| id.starts_with("NET007-")),
        "{claimed:?}"
    );
    insta::assert_snapshot!("NET007", text);
}
fixer_test!(instance_imds, "NODE002");
fixer_test!(emr_job_policy_cluster_scoped, "RBAC013");
fixer_test!(dangling_role_ref, "RBAC014");

/// IAM031 on a submitter whose job runs say which virtual clusters it uses (the rule's own
/// fixture has none: there is nothing to narrow to, and it stays unfixed).
#[test]
fn submitter_all_virtual_clusters() {
    let (claimed, _) = fix_fixture("IAM031");
    assert!(!claimed.iter().any(|id| id.starts_with("IAM031-")));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/IAM031-with-runs")
        .canonicalize()
        .unwrap();
    let (claimed, text) = fix_dir("IAM031", &dir, Config::default());
    assert!(
        claimed.iter().any(|id| id.starts_with("IAM031-")),
        "{claimed:?}"
    );
    insta::assert_snapshot!("IAM031", text);
}

/// With CloudTrail usage in the snapshot, the execution-role policy is built from what the
/// role was seen doing (issues 12 and 13): S3 narrowed to the prefixes its calls used, beside
/// the job-derived statements, Glue to the database and table its calls named.
#[test]
fn exec_policy_from_cloudtrail_usage() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exec-usage")
        .canonicalize()
        .unwrap();
    let (claimed, text) = fix_dir("IAM004", &dir, Config::default());
    assert!(
        claimed.iter().any(|id| id.starts_with("IAM004-")),
        "{claimed:?}"
    );
    // The Glue calls name their database and table: the every-table grant goes too.
    assert!(
        claimed.iter().any(|id| id.starts_with("IAM005-")),
        "{claimed:?}"
    );
    assert!(
        text.contains("arn:aws:glue:us-east-1:111122223333:table/db/events"),
        "{text}"
    );
    // The observed statements: the partitioned prefixes the jobs read and wrote.
    assert!(text.contains("\"Sid\": \"ObservedUsed"), "{text}");
    assert!(
        text.contains("arn:aws:s3:::datalake/raw/events/dt=*/*"),
        "{text}"
    );
    assert!(
        text.contains("arn:aws:s3:::datalake/curated/events/dt=*/*"),
        "{text}"
    );
    assert!(!text.contains("\"s3:*\""), "{text}");
    insta::assert_snapshot!("exec_usage", text);
}

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_load::{load_paths, load_paths_with, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn gz(content: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(content.as_bytes()).unwrap();
    e.finish().unwrap()
}

const LIST: &str = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "spark"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "rb", "namespace": "spark"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
     "subjects": [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}]},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "spark"},
     "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x"}]}}
  ]
}"#;

#[test]
fn kubectl_list_objects_carry_pointer_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "k.json", LIST.as_bytes());
    let r = load_paths(&[d.path().to_path_buf()]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let k = &r.snapshot.k8s;
    assert_eq!(k.namespaces.len(), 1);
    assert_eq!(k.role_bindings.len(), 1);
    assert_eq!(k.pods.len(), 1);
    let rb = &k.role_bindings[0];
    assert_eq!(rb.loc.pointer, "/items/1");
    assert_eq!(rb.loc.line, Some(6));
    assert_eq!(r.inputs[0].recognised_as, "kubernetes objects");
    assert_eq!(r.inputs[0].objects, Some(3));
}

#[test]
fn multi_document_yaml_with_old_api_versions() {
    let d = tempfile::tempdir().unwrap();
    let y = "# rbac\n---\napiVersion: rbac.authorization.k8s.io/v1beta1\nkind: ClusterRole\nmetadata:\n  name: a\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: ns\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/r\n";
    write(d.path(), "m.yaml", y.as_bytes());
    let r = load_paths(&[d.path().to_path_buf()]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.snapshot.k8s.cluster_roles.len(), 1);
    assert_eq!(r.snapshot.k8s.cluster_roles[0].loc.line, Some(3));
    assert_eq!(r.snapshot.k8s.service_accounts[0].loc.line, Some(12));
}

#[test]
fn gzip_and_url_encoded_policies() {
    let d = tempfile::tempdir().unwrap();
    let authz = r#"{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r",
        "AssumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
        "RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[]}}]}],
        "UserDetailList":[],"GroupDetailList":[],"Policies":[]}"#;
    write(d.path(), "authz.json.gz", &gz(authz));
    let r = load_paths(&[d.path().to_path_buf()]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let role = &r.snapshot.roles[0];
    assert_eq!(
        role.assume_role_policy_document.as_ref().unwrap().text(),
        r#"{"Version":"2012-10-17","Statement":[]}"#
    );
    assert_eq!(r.inputs[0].recognised_as, "iam authorization details");
}

#[test]
fn paginated_outputs_merge_and_file_order_does_not_matter() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a-page1.json", br#"{"jobRuns":[{"id":"j1","virtualClusterId":"vc"},{"id":"j2","virtualClusterId":"vc"}],"nextToken":"x"}"#);
    write(
        d.path(),
        "b-page2.json",
        br#"{"jobRuns":[{"id":"j3","virtualClusterId":"vc"}]}"#,
    );
    write(
        d.path(),
        "c-describe.json",
        br#"{"jobRun":{"id":"j2","virtualClusterId":"vc","releaseLabel":"emr-7.13.0-latest"}}"#,
    );
    let r = load_paths(&[d.path().to_path_buf()]);
    let ids: Vec<_> = r.snapshot.job_runs.iter().map(|j| j.id.clone()).collect();
    assert_eq!(ids, ["j1", "j2", "j3"]);
    assert_eq!(
        r.snapshot.job_runs[1].release_label.as_deref(),
        Some("emr-7.13.0-latest")
    );
    // Reverse the names: same objects.
    let e = tempfile::tempdir().unwrap();
    write(e.path(), "c-page1.json", br#"{"jobRuns":[{"id":"j1","virtualClusterId":"vc"},{"id":"j2","virtualClusterId":"vc"}],"nextToken":"x"}"#);
    write(
        e.path(),
        "b-page2.json",
        br#"{"jobRuns":[{"id":"j3","virtualClusterId":"vc"}]}"#,
    );
    write(
        e.path(),
        "a-describe.json",
        br#"{"jobRun":{"id":"j2","virtualClusterId":"vc","releaseLabel":"emr-7.13.0-latest"}}"#,
    );
    let r2 = load_paths(&[e.path().to_path_buf()]);
    let ids2: Vec<_> = r2
        .snapshot
        .job_runs
        .iter()
        .map(|j| (j.id.clone(), j.release_label.clone()))
        .collect();
    let ids1: Vec<_> = r
        .snapshot
        .job_runs
        .iter()
        .map(|j| (j.id.clone(), j.release_label.clone()))
        .collect();
    assert_eq!(ids1, ids2);
}

#[test]
fn truncated_json_is_an_error_naming_the_file_and_others_still_load() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "good.json", LIST.as_bytes());
    let bad = &LIST[..LIST.len() / 2];
    write(d.path(), "truncated.json", bad.as_bytes());
    let r = load_paths(&[d.path().to_path_buf()]);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].file.ends_with("truncated.json"));
    assert!(r.errors[0]
        .location
        .as_deref()
        .unwrap()
        .starts_with("line "));
    assert_eq!(r.snapshot.k8s.role_bindings.len(), 1);
}

#[test]
fn one_bad_object_does_not_lose_its_neighbours() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "sg.json",
        br#"{"SecurityGroups":[{"GroupId":"sg-1"},{"GroupId":42},{"GroupId":"sg-3"}]}"#,
    );
    let r = load_paths(&[d.path().to_path_buf()]);
    assert_eq!(r.snapshot.security_groups.len(), 2);
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0]
            .location
            .as_deref()
            .unwrap()
            .contains("/SecurityGroups/1"),
        "{:?}",
        r.errors
    );
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let d = tempfile::tempdir().unwrap();
    let mut y = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        y.push_str(&format!("  {n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        prev = n;
    }
    write(d.path(), "lol.yaml", y.as_bytes());
    let t = Instant::now();
    let r = load_paths(&[d.path().to_path_buf()]);
    let _elapsed = t.elapsed(); // no timing assertions in tests; the refusal itself is the check
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].file.ends_with("lol.yaml"));
    assert!(r.snapshot.k8s.config_maps.is_empty());
}

#[test]
fn deep_nesting_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let deep = format!(
        "{{\"Records\":[{{\"requestParameters\":{}{}}}]}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    write(d.path(), "deep.json", deep.as_bytes());
    let r = load_paths(&[d.path().to_path_buf()]);
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].message.contains("recursion"), "{:?}", r.errors);
}

#[test]
fn unknown_files_are_skipped_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "notes.md",
        b"# Notes\n\nSome text: with a colon\n- and a list\n",
    );
    write(d.path(), "other.json", br#"{"Foo": 1}"#);
    let r = load_paths(&[d.path().to_path_buf()]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.inputs.len(), 2);
    assert!(r
        .inputs
        .iter()
        .all(|i| i.recognised_as == "unknown" && i.warning.is_some()));
}

#[test]
fn node_files_by_name_and_content() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile.spark", b"FROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest\nUSER root\nRUN yum -y install jq\nUSER hadoop:hadoop\n");
    write(
        d.path(),
        "node-a.iptables",
        b"*filter\n-A FORWARD -d 169.254.169.254/32 -i eni+ -j DROP\nCOMMIT\n",
    );
    write(
        d.path(),
        "dump.txt",
        b"# Generated by iptables-save v1.8.4 on Mon\n*filter\nCOMMIT\n",
    );
    let r = load_paths(&[d.path().to_path_buf()]);
    assert_eq!(r.snapshot.dockerfiles.len(), 1);
    assert_eq!(r.snapshot.iptables.len(), 2);
    assert_eq!(
        r.snapshot.dockerfiles[0].final_user().unwrap().args,
        "hadoop:hadoop"
    );
}

#[test]
fn gzip_bomb_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let big = "{\"Records\":[".to_string() + &" ".repeat(200_000) + "]}";
    write(d.path(), "big.json.gz", &gz(&big));
    let limits = Limits {
        max_file_bytes: 100_000,
        ..Limits::default()
    };
    let r = load_paths_with(&[d.path().to_path_buf()], &limits);
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].message.contains("limit"));
}

#[test]
fn launch_template_user_data_is_decoded() {
    use base64::Engine;
    let script = "#!/bin/bash\niptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP\n";
    let b64 = base64::engine::general_purpose::STANDARD.encode(script);
    let d = tempfile::tempdir().unwrap();
    let j = format!(
        r#"{{"LaunchTemplateVersions":[{{"LaunchTemplateId":"lt-1","VersionNumber":1,"LaunchTemplateData":{{"UserData":"{b64}","MetadataOptions":{{"HttpTokens":"optional","HttpPutResponseHopLimit":2}}}}}}]}}"#
    );
    write(d.path(), "lt.json", j.as_bytes());
    let r = load_paths(&[d.path().to_path_buf()]);
    let v = &r.snapshot.launch_template_versions[0];
    assert_eq!(v.user_data.as_ref().unwrap().iptables.len(), 1);
}

#[test]
fn missing_path_is_an_error() {
    let r = load_paths(&[PathBuf::from("/nonexistent/emrguard/path")]);
    assert_eq!(r.errors.len(), 1);
    assert!(!r.anything_read());
}

mod no_panic {
    use proptest::prelude::*;

    const SEEDS: [&str; 4] = [
        r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}]}"#,
        r#"{"RoleDetailList":[{"RoleName":"r","AssumeRolePolicyDocument":"%7B%7D"}],"Policies":[]}"#,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: &a y, z: *a}\n---\nkind: x\n",
        r#"{"LaunchTemplateVersions":[{"LaunchTemplateData":{"UserData":"IyEvYmluL2Jhc2gK"}}]}"#,
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Random bytes, and truncations/mutations of real-looking inputs, never panic.
        #[test]
        fn loader_never_panics(seed in 0usize..4, cut in 0usize..400, flip in any::<(usize, u8)>(), noise in proptest::collection::vec(any::<u8>(), 0..64), name in 0usize..4) {
            let names = ["a.json", "a.yaml", "Dockerfile", "a.iptables"];
            let mut bytes = SEEDS[seed].as_bytes().to_vec();
            bytes.truncate(cut.min(bytes.len()));
            if !bytes.is_empty() {
                let i = flip.0 % bytes.len();
                bytes[i] ^= flip.1;
            }
            bytes.extend(noise);
            let (mut snap, _, _) = emrguard_load::load_bytes_public(names[name], bytes);
            snap.finalize();
            let _ = emrguard_model::EstateIndex::build(&snap);
        }
    }
}

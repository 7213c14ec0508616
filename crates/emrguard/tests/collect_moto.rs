//! `scripts/collect.sh` end to end: its AWS half against moto's server on 127.0.0.1 (PyPI
//! `moto[server]` and the AWS CLI, installed by `.ci/run` into `.ci/venv`), its kubectl half
//! against a stub (`tests/collect/kubectl`, first on PATH), then `emrguard check` on the
//! result. Skipped with a message when moto is missing, failed when CI=true.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const CLUSTER: &str = "analytics";
const REGION: &str = "us-west-2";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A tool from `.ci/venv/bin`, else PATH.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = repo().join(".ci/venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn missing(what: &str) {
    let msg = format!("{what} is not installed (run .ci/run, or see it for the install steps)");
    if in_ci() {
        panic!("{msg}; CI=true requires it");
    }
    eprintln!("SKIPPED: {msg}");
}

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto(bin: &Path) -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "moto_server did not listen on 127.0.0.1:{port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Environment for the AWS CLI talking to moto, with no user configuration.
fn aws_env(cmd: &mut Command, moto: &Moto, home: &Path) {
    cmd.env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_REGION", REGION)
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_PAGER", "")
        .env("HOME", home)
        .env_remove("AWS_PROFILE");
}

fn aws(aws_bin: &Path, moto: &Moto, home: &Path, args: &[&str]) -> Value {
    let mut cmd = Command::new(aws_bin);
    aws_env(&mut cmd, moto, home);
    let out = cmd.args(args).args(["--output", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Run collect.sh with the stub kubectl (and the venv's aws) first on PATH.
fn collect(
    moto: &Moto,
    home: &Path,
    aws_bin: &Path,
    out: &Path,
    cluster: &str,
    server: &str,
) -> Output {
    let stub_dir = repo().join("crates/emrguard/tests/collect");
    let path = std::env::join_paths(
        [stub_dir, aws_bin.parent().unwrap().to_path_buf()]
            .into_iter()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut cmd = Command::new("bash");
    aws_env(&mut cmd, moto, home);
    cmd.arg(repo().join("scripts/collect.sh"))
        .args([cluster, REGION])
        .env("PATH", path)
        .env("OUT", out)
        .env("STUB_KUBE_SERVER", server)
        .env(
            "STUB_KUBE_CLUSTER",
            format!("arn:aws:eks:{REGION}:123456789012:cluster/{CLUSTER}"),
        )
        .env("STUB_KARPENTER", "1")
        .env("STUB_KUBECTL_LOG", home.join("kubectl-calls.log"))
        .env_remove("KUBE_CONTEXT")
        .env_remove("CLOUDTRAIL_S3_PREFIX");
    cmd.output().unwrap()
}

fn kubectl_gets(home: &Path) -> usize {
    std::fs::read_to_string(home.join("kubectl-calls.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("get "))
        .count()
}

#[test]
fn collect_sh_against_moto_and_a_kubectl_stub() {
    let Some(moto_bin) = tool("moto_server") else {
        missing("moto_server (pip install 'moto[server]')");
        return;
    };
    let Some(aws_bin) = tool("aws") else {
        missing("the AWS CLI (pip install awscli)");
        return;
    };
    let moto = start_moto(&moto_bin);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();

    // An estate in moto: a cluster with a node group, a Fargate profile, a virtual cluster.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws(
        &aws_bin,
        &moto,
        home,
        &[
            "iam",
            "create-role",
            "--role-name",
            "eks-cluster",
            "--assume-role-policy-document",
            trust,
        ],
    )["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let vpc = aws(
        &aws_bin,
        &moto,
        home,
        &["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"],
    )["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subnet = aws(
        &aws_bin,
        &moto,
        home,
        &[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            "10.0.1.0/24",
        ],
    )["Subnet"]["SubnetId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cluster = aws(
        &aws_bin,
        &moto,
        home,
        &[
            "eks",
            "create-cluster",
            "--name",
            CLUSTER,
            "--role-arn",
            &role,
            "--resources-vpc-config",
            &format!("subnetIds={subnet}"),
        ],
    );
    let endpoint = cluster["cluster"]["endpoint"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    aws(
        &aws_bin,
        &moto,
        home,
        &[
            "eks",
            "create-nodegroup",
            "--cluster-name",
            CLUSTER,
            "--nodegroup-name",
            "ng-spark",
            "--node-role",
            &role,
            "--subnets",
            &subnet,
        ],
    );
    aws(
        &aws_bin,
        &moto,
        home,
        &[
            "eks",
            "create-fargate-profile",
            "--cluster-name",
            CLUSTER,
            "--fargate-profile-name",
            "fp-jobs",
            "--pod-execution-role-arn",
            &role,
            "--subnets",
            &subnet,
            "--selectors",
            "namespace=spark-jobs",
        ],
    );
    aws(
        &aws_bin,
        &moto,
        home,
        &[
            "emr-containers",
            "create-virtual-cluster",
            "--name",
            "vc-jobs",
            "--container-provider",
            &format!(
                r#"{{"id":"{CLUSTER}","type":"EKS","info":{{"eksInfo":{{"namespace":"spark-jobs"}}}}}}"#
            ),
        ],
    );

    // 1. The whole collection.
    let out = home.join("snapshot");
    let run = collect(&moto, home, &aws_bin, &out, CLUSTER, &endpoint);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let log = std::fs::read_to_string(out.join("collect.log"))
        .unwrap_or_else(|e| panic!("no collect.log ({e}):\n{stdout}\n{stderr}"));
    assert!(log.starts_with("# emrguard collect.sh log v1"), "{log}");
    let failed: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once(" FAIL ").map(|(_, c)| c))
        .collect();
    eprintln!(
        "collect.sh against moto: {} failed command(s):",
        failed.len()
    );
    for f in &failed {
        eprintln!("  {f}");
    }
    // Exit 1 exactly when a command failed, and the summary names each of them.
    assert_eq!(
        run.status.code(),
        Some(if failed.is_empty() { 0 } else { 1 }),
        "{stdout}\n{stderr}\n{log}"
    );
    assert!(
        stdout.contains(&format!("failed commands:   {}", failed.len())),
        "{stdout}"
    );
    for f in &failed {
        let cmd = f.split(": ").next().unwrap();
        assert!(
            stdout.contains(&format!("    - {cmd}")),
            "{cmd} not in the summary:\n{stdout}"
        );
    }
    for file in [
        "aws-eks-describe-cluster.json",
        "aws-eks-list-nodegroups.json",
        "aws-eks-describe-nodegroup-ng-spark.json",
        "aws-eks-list-fargate-profiles.json",
        "aws-eks-describe-fargate-profile-fp-jobs.json",
        "aws-emr-containers-list-virtual-clusters.json",
        "aws-iam-get-account-authorization-details.json",
        "kubectl-get-namespaces.json",
        "kubectl-get-clusterroles.json",
        "kubectl-get-ec2nodeclasses.json",
        "kubectl-get-nodepools.json",
    ] {
        assert!(out.join(file).is_file(), "{file} not written:\n{log}");
    }

    // 2. emrguard reads the snapshot, its log, and says what it could not evaluate.
    let check = Command::new(assert_cmd::cargo::cargo_bin("emrguard"))
        .args(["check", "--format", "json"])
        .arg(&out)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&check.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&check.stderr)));
    let kinds: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["recognised_as"].as_str().unwrap())
        .collect();
    for k in [
        "eks cluster",
        "eks node group list",
        "emr virtual clusters",
        "collector log",
    ] {
        assert!(
            kinds.iter().any(|x| x.contains(k)),
            "{k} not recognised: {kinds:?}"
        );
    }
    assert!(
        !kinds.contains(&"unknown"),
        "a collected file was not recognised: {:#?}",
        report["inputs"]
    );
    // The collected Karpenter node class (IMDSv1 allowed, hop limit 2) is read and judged.
    let node004: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NODE004")
        .collect();
    assert_eq!(node004.len(), 1, "{:#?}", report["findings"]);
    assert_eq!(node004[0]["resource"]["name"], "default");
    let cov = &report["coverage"];
    assert_eq!(
        cov["collector"]["failures"].as_array().unwrap().len(),
        failed.len()
    );
    let code = check.status.code().unwrap();
    if cov["complete"] == false {
        assert_eq!(code, 2, "an incomplete check fails closed");
    }

    // 3. A cluster name that does not exist: stop at once, before kubectl.
    let before = kubectl_gets(home);
    let bad = collect(
        &moto,
        home,
        &aws_bin,
        &home.join("bad"),
        "no-such-cluster",
        &endpoint,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("describe-cluster"));
    assert_eq!(
        kubectl_gets(home),
        before,
        "no kubectl collection after a failed describe-cluster"
    );
    assert!(std::fs::read_to_string(home.join("bad/collect.log"))
        .unwrap()
        .contains("STOP"));

    // 4. kubectl pointing at another cluster: stop at once.
    let other = collect(
        &moto,
        home,
        &aws_bin,
        &home.join("other"),
        CLUSTER,
        "https://OTHER.gr7.us-west-2.eks.amazonaws.com",
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("not to analytics"));
    assert_eq!(kubectl_gets(home), before);
    assert!(!home.join("other/kubectl-get-namespaces.json").exists());
}

//! One finding per cause on an estate with many EMR namespaces (issue 11): a ClusterRoleBinding
//! is one finding per (subject, capability) listing every namespace, a wildcard access scope
//! reaches exactly the namespaces it matches, an IAM principal mapped into `system:masters` is
//! reported, and a new EMR namespace changes a finding's namespaces, not its id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const ACCT: &str = "111122223333";

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// `n` EMR namespaces `emr-00`.. and one other, `web`.
fn estate(dir: &Path, n: usize) {
    let vcs: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("vc{i:023}"), "name": format!("vc-{i}"),
                   "arn": format!("arn:aws:emr-containers:us-west-2:{ACCT}:/virtualclusters/vc{i:023}"),
                   "state": "RUNNING",
                   "containerProvider": {"type": "EKS", "id": "analytics",
                                         "info": {"eksInfo": {"namespace": format!("emr-{i:02}")}}}})
        })
        .collect();
    write(
        dir,
        "aws-emr-containers-list-virtual-clusters.json",
        &json!({ "virtualClusters": vcs }),
    );
    let map_roles = format!(
        "- rolearn: arn:aws:iam::{ACCT}:role/AWSServiceRoleForAmazonEMRContainers\n  username: emr-containers\n\
         - groups:\n  - team-0\n  rolearn: arn:aws:iam::{ACCT}:role/team-0-sso\n  username: team-0:{{{{SessionName}}}}\n"
    );
    let map_users = format!(
        "- groups:\n  - system:masters\n  userarn: arn:aws:iam::{ACCT}:user/carol\n  username: carol\n\
         - userarn: arn:aws:iam::{ACCT}:user/bob\n  username: bob\n"
    );
    write(
        dir,
        "kubectl-get-configmaps.json",
        &json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "aws-auth", "namespace": "kube-system"},
             "data": {"mapRoles": map_roles, "mapUsers": map_users}}]}),
    );
    let rbac = "rbac.authorization.k8s.io";
    let mut items = vec![
        json!({"apiVersion": format!("{rbac}/v1"), "kind": "ClusterRole", "metadata": {"name": "team-writer"},
               "rules": [
                   {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["configmaps", "pods/exec"], "verbs": ["create", "update"]}]}),
        json!({"apiVersion": format!("{rbac}/v1"), "kind": "ClusterRoleBinding", "metadata": {"name": "team-0-writer"},
               "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "team-writer"},
               "subjects": [{"apiGroup": rbac, "kind": "Group", "name": "team-0"}]}),
    ];
    for ns in ["emr-03", "emr-07"] {
        items.push(json!({"apiVersion": format!("{rbac}/v1"), "kind": "Role",
                          "metadata": {"name": "debug", "namespace": ns},
                          "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}));
        items.push(
            json!({"apiVersion": format!("{rbac}/v1"), "kind": "RoleBinding",
                          "metadata": {"name": "bob-debug", "namespace": ns},
                          "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "debug"},
                          "subjects": [{"apiGroup": rbac, "kind": "User", "name": "bob"}]}),
        );
    }
    write(
        dir,
        "kubectl-get-rbac.json",
        &json!({"apiVersion": "v1", "kind": "List", "items": items}),
    );
    // EMR's own access: AmazonEMRJobPolicy scoped with a wildcard to every EMR namespace.
    let slr = format!(
        "arn:aws:iam::{ACCT}:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"
    );
    write(
        dir,
        "aws-eks-describe-access-entry-emr.json",
        &json!({"accessEntry": {"clusterName": "analytics", "principalArn": slr,
                                "kubernetesGroups": [], "type": "STANDARD"}}),
    );
    write(
        dir,
        "aws-eks-list-associated-access-policies-emr.json",
        &json!({"clusterName": "analytics", "principalArn": slr, "associatedAccessPolicies": [
            {"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEMRJobPolicy",
             "accessScope": {"type": "namespace", "namespaces": ["emr-*"]}}]}),
    );
    // EKS audit log: bob exec'd once in emr-03; team-0 never wrote a configmap.
    write(
        dir,
        "eks-audit-events.json",
        &json!({"apiVersion": "audit.k8s.io/v1", "kind": "EventList", "items": [
            {"apiVersion": "audit.k8s.io/v1", "kind": "Event", "level": "Metadata",
             "auditID": "a1", "stage": "ResponseComplete", "verb": "create",
             "requestURI": "/api/v1/namespaces/emr-03/pods/spark-1-driver/exec",
             "user": {"username": "bob", "groups": ["system:authenticated"]},
             "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "emr-03",
                           "name": "spark-1-driver", "apiVersion": "v1"},
             "responseStatus": {"code": 101},
             "requestReceivedTimestamp": "2026-11-20T10:00:00.000000Z",
             "stageTimestamp": "2026-11-20T10:00:01.000000Z"},
            {"apiVersion": "audit.k8s.io/v1", "kind": "Event", "level": "Metadata",
             "auditID": "a2", "stage": "ResponseComplete", "verb": "get",
             "requestURI": "/api/v1/namespaces/web/pods",
             "user": {"username": "alice", "groups": ["system:authenticated"]},
             "objectRef": {"resource": "pods", "namespace": "web", "apiVersion": "v1"},
             "responseStatus": {"code": 200},
             "requestReceivedTimestamp": "2026-11-27T10:00:00.000000Z",
             "stageTimestamp": "2026-11-27T10:00:00.100000Z"}]}),
    );
    let admins = format!("arn:aws:iam::{ACCT}:role/emr-admins");
    write(
        dir,
        "aws-eks-describe-access-entry-emr-admins.json",
        &json!({"accessEntry": {"clusterName": "analytics", "principalArn": admins,
                                "kubernetesGroups": [], "type": "STANDARD", "username": "emr-admins"}}),
    );
    write(
        dir,
        "aws-eks-list-associated-access-policies-emr-admins.json",
        &json!({"clusterName": "analytics", "principalArn": admins, "associatedAccessPolicies": [
            {"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
             "accessScope": {"type": "namespace", "namespaces": ["emr-1*"]}}]}),
    );
}

fn emrguard() -> Command {
    let mut c = Command::cargo_bin("emrguard").unwrap();
    c.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    c
}

fn check(dir: &Path, format: &str) -> (i32, String) {
    let out = emrguard()
        .args(["check", "--allow-partial", "--format", format])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn findings(dir: &Path) -> Vec<Value> {
    let (code, out) = check(dir, "json");
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["findings"].as_array().unwrap().clone()
}

fn by<'a>(fs: &'a [Value], rule: &str, subject: &str) -> Vec<&'a Value> {
    fs.iter()
        .filter(|f| f["rule"] == rule && f["subject"]["name"] == subject)
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn cluster_wide_grants_are_one_finding_per_subject_and_capability() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), 30);
    let fs = findings(dir.path());
    // At most one finding per (rule, subject): the cause, not its namespaces.
    let mut seen = BTreeSet::new();
    for f in fs
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("RBAC00"))
    {
        let key = format!("{} {}", f["rule"], f["subject"]);
        assert!(seen.insert(key.clone()), "twice: {key}");
    }
    let cm = by(&fs, "RBAC001", "team-0");
    assert_eq!(cm.len(), 1);
    let cm = cm[0];
    assert_eq!(names(&cm["namespaces"]).len(), 30);
    assert!(cm.get("namespace").is_none(), "{cm}");
    assert!(cm["message"]
        .as_str()
        .unwrap()
        .contains("in all 30 EMR namespaces"));
    assert_eq!(cm["grants"][0]["cluster_wide"], true);
    // exec-pods cites the strongest rule: `create` (rule 1), not `get` (rule 0); both listed.
    let exec = by(&fs, "RBAC002", "team-0");
    assert_eq!(exec.len(), 1);
    assert_eq!(exec[0]["grants"][0]["rule_index"], 1);
    assert_eq!(exec[0]["grants"].as_array().unwrap().len(), 2);
    // Namespace grants: the namespaces they are in.
    let bob = by(&fs, "RBAC002", "bob");
    assert_eq!(bob.len(), 1);
    assert_eq!(names(&bob[0]["namespaces"]), vec!["emr-03", "emr-07"]);
    // The EKS audit log says whether the capability was used.
    let msg = bob[0]["message"].as_str().unwrap();
    assert!(msg.contains("EKS audit log: used 1 time"), "{msg}");
    let msg = cm["message"].as_str().unwrap();
    assert!(msg.contains("EKS audit log: never used"), "{msg}");
    // The wildcard access scope `emr-1*` reaches emr-10 .. emr-19 and nothing else.
    let admin = by(&fs, "RBAC001", "emr-admins");
    assert_eq!(admin.len(), 1, "{fs:#?}");
    let expected: Vec<String> = (10..20).map(|i| format!("emr-{i}")).collect();
    assert_eq!(names(&admin[0]["namespaces"]), expected);
    assert_eq!(admin[0]["grants"][0]["binding"]["namespace"], "emr-1*");
    for rule in ["RBAC003", "RBAC005"] {
        assert_eq!(by(&fs, rule, "emr-admins").len(), 1, "{rule}");
    }
    // EMR's wildcard-scoped access entry covers every EMR namespace: no RBAC012.
    assert!(!fs.iter().any(|f| f["rule"] == "RBAC012"), "{fs:#?}");
    // carol is mapped into system:masters and not declared.
    let masters: Vec<_> = fs.iter().filter(|f| f["rule"] == "RBAC015").collect();
    assert_eq!(masters.len(), 1);
    assert_eq!(masters[0]["resource"]["name"], "carol");
    assert_eq!(names(&masters[0]["namespaces"]).len(), 30);
}

#[test]
fn a_new_emr_namespace_changes_the_list_not_the_id() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    estate(a.path(), 30);
    estate(b.path(), 31);
    let fa = findings(a.path());
    let fb = findings(b.path());
    let x = by(&fa, "RBAC001", "team-0")[0];
    let y = by(&fb, "RBAC001", "team-0")[0];
    assert_eq!(x["id"], y["id"]);
    assert_eq!(names(&y["namespaces"]).len(), 31);
    let ids = |fs: &[Value]| -> BTreeSet<String> {
        fs.iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&fa), ids(&fb), "no finding appears or goes");
}

#[test]
fn text_and_markdown_show_namespaces_compactly() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), 30);
    let (_, text) = check(dir.path(), "text");
    assert!(
        text.contains("namespaces: emr-00, emr-01, emr-02 and 27 more (30 EMR namespaces)"),
        "{text}"
    );
    // A fork prints as one step.
    assert!(text.contains(": one of "), "{text}");
    let (_, md) = check(dir.path(), "markdown");
    assert!(md.contains("and 27 more (30 EMR namespaces)"), "{md}");
    let (_, sarif) = check(dir.path(), "sarif");
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["properties"]["namespaces"]
        .as_array()
        .is_some_and(|n| n.len() == 30)));
    let (_, html) = check(dir.path(), "html");
    assert!(html.contains("class=\"fork\""), "HTML draws forks");
    assert!(
        html.contains("<code>emr-29</code>"),
        "HTML lists every namespace"
    );
}

#[test]
fn who_can_uses_the_same_wildcard_matching() {
    let dir = tempfile::tempdir().unwrap();
    estate(dir.path(), 30);
    let run = |ns: &str| {
        let out = emrguard()
            .args(["who-can", "update", "configmaps", "-n", ns])
            .arg(dir.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run("emr-15").contains("emr-admins"), "{}", run("emr-15"));
    assert!(!run("emr-25").contains("emr-admins"), "{}", run("emr-25"));
    // carol, in system:masters, is listed as a job submitter.
    assert!(
        run("emr-25").contains("IamUser carol  (job submitter)"),
        "{}",
        run("emr-25")
    );
}

/// The estate without EMR's access entry and without its aws-auth mapping, with EMR's Role and
/// RoleBinding in every EMR namespace but `emr-02`.
fn estate_without_emr_mapping(dir: &Path, n: usize) {
    estate(dir, n);
    for f in [
        "aws-eks-describe-access-entry-emr.json",
        "aws-eks-list-associated-access-policies-emr.json",
    ] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    let cm_path = dir.join("kubectl-get-configmaps.json");
    let mut cm: Value = serde_json::from_slice(&std::fs::read(&cm_path).unwrap()).unwrap();
    let roles = cm["items"][0]["data"]["mapRoles"].as_str().unwrap();
    let kept: String = roles
        .split_inclusive('\n')
        .skip(2) // the service-linked role's entry
        .collect();
    cm["items"][0]["data"]["mapRoles"] = Value::String(kept);
    write(dir, "kubectl-get-configmaps.json", &cm);
    let rbac_path = dir.join("kubectl-get-rbac.json");
    let mut rbac: Value = serde_json::from_slice(&std::fs::read(&rbac_path).unwrap()).unwrap();
    let g = "rbac.authorization.k8s.io";
    let items = rbac["items"].as_array_mut().unwrap();
    for i in (0..n).filter(|i| *i != 2) {
        let ns = format!("emr-{i:02}");
        items.push(json!({"apiVersion": format!("{g}/v1"), "kind": "Role",
                          "metadata": {"name": "emr-containers", "namespace": ns},
                          "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}));
        items.push(
            json!({"apiVersion": format!("{g}/v1"), "kind": "RoleBinding",
                          "metadata": {"name": "emr-containers", "namespace": ns},
                          "roleRef": {"apiGroup": g, "kind": "Role", "name": "emr-containers"},
                          "subjects": [{"apiGroup": g, "kind": "User", "name": "emr-containers"}]}),
        );
    }
    write(dir, "kubectl-get-rbac.json", &rbac);
}

#[test]
fn emr_unmapped_everywhere_is_one_finding_on_the_cluster() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    estate_without_emr_mapping(a.path(), 12);
    estate_without_emr_mapping(b.path(), 13);
    let fa = findings(a.path());
    let rbac012: Vec<_> = fa.iter().filter(|f| f["rule"] == "RBAC012").collect();
    // One cause on the cluster (the missing mapping, every namespace), one on emr-02 (its
    // missing RoleBinding): two findings, not thirteen.
    assert_eq!(rbac012.len(), 2, "{rbac012:#?}");
    let cluster = rbac012
        .iter()
        .find(|f| f["resource"]["kind"] == "EksCluster")
        .unwrap();
    assert_eq!(names(&cluster["namespaces"]).len(), 12);
    assert!(cluster.get("namespace").is_none());
    let msg = cluster["message"].as_str().unwrap();
    assert!(msg.contains("in 12 EMR namespaces"), "{msg}");
    assert_eq!(cluster["path"][0]["kind"], "IamRole");
    let fix = cluster["remediation"].as_str().unwrap();
    assert!(
        fix.contains("--access-scope type=namespace,namespaces=emr-00,emr-01,"),
        "{fix}"
    );
    let ns = rbac012
        .iter()
        .find(|f| f["resource"]["kind"] == "Namespace")
        .unwrap();
    assert_eq!(ns["namespace"], "emr-02");
    // A thirteenth namespace joins the cluster finding's list; the id stays.
    let fb = findings(b.path());
    let again = fb
        .iter()
        .find(|f| f["rule"] == "RBAC012" && f["resource"]["kind"] == "EksCluster")
        .unwrap();
    assert_eq!(again["id"], cluster["id"]);
    assert_eq!(names(&again["namespaces"]).len(), 13);
}

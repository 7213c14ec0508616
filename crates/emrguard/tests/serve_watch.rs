//! `emrguard serve --watch` as a process: it reaches the API server named by KUBECONFIG (a fake
//! one on loopback), builds its state from the lists, and rebuilds it on watch events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_watch::fake::{cluster_role, kubeconfig, namespace, FakeApi, RBAC};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The next "cluster state updated" log line (JSON) within 20 s.
fn next_state(lines: &mpsc::Receiver<String>) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["message"] == "cluster state updated" {
            return v;
        }
    }
    panic!("no state update logged within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_watch_follows_the_cluster() {
    let api = FakeApi::new();
    api.add("/api/v1/namespaces", namespace("spark-a", true, "10"));
    api.add(
        &format!("{RBAC}/clusterroles"),
        cluster_role("pod-exec", &["pods/exec"], &["create"], "11"),
    );
    let url = api.clone().serve().await;

    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.path().join("tls.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls.key"), cert.signing_key.serialize_pem()).unwrap();
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&url)).unwrap();
    // An empty snapshot folder, as when the optional ConfigMap is absent.
    std::fs::create_dir(dir.path().join("snapshot")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_emrguard"))
        .args([
            "serve",
            "--watch",
            "--watch-debounce-ms",
            "50",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--tls-cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .arg("--snapshot")
        .arg(dir.path().join("snapshot"))
        .env("KUBECONFIG", dir.path().join("kubeconfig"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let first = next_state(&rx);
    let s = first["state"].as_str().unwrap_or_default().to_owned();
    assert!(s.starts_with("1 EMR namespaces"), "{first}");
    assert!(s.contains("1 cluster roles"), "{first}");

    api.event(
        "/api/v1/namespaces",
        "ADDED",
        namespace("spark-b", true, "12"),
    )
    .await;
    let second = next_state(&rx);
    assert!(
        second["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2 EMR namespaces"),
        "{second}"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

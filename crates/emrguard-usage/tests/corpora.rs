//! The real CloudTrail and Kubernetes audit samples (tests/data/corpora, see its SOURCES).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_model::Capability;
use emrguard_usage::k8s::{audit_window, usage_of, usage_phrase};
use emrguard_usage::stream::{aggregate_files, for_each_record, is_cloudtrail_file};
use emrguard_usage::*;
use std::path::PathBuf;

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpora")
        .join(p)
}

#[test]
fn panther_records_stream_like_the_loader_reads_them() {
    let f = data("panther-cloudtrail-records.json.gz");
    assert!(is_cloudtrail_file(&f));
    let (agg, errs) = aggregate_files(std::slice::from_ref(&f), &Window::default());
    // Record 109 has `resources` as strings (a sanitised test event): skipped and reported
    // by both paths, the rest is read.
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]
        .message
        .contains("1 record(s) of an unexpected shape skipped (/Records/109: "));
    let loaded = emrguard_load::load_paths(std::slice::from_ref(&f));
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert!(loaded.errors[0]
        .location
        .as_deref()
        .unwrap_or("")
        .contains("/Records/109"));
    let snap_agg = Aggregate::from_snapshot(&loaded.snapshot, &Window::default());
    // The loader drops duplicate event ids (Panther test events reuse "1", "2"...); the
    // stream counts every record.
    assert!(
        agg.records >= snap_agg.records && snap_agg.records > 150,
        "{} {}",
        agg.records,
        snap_agg.records
    );
    assert!(agg.uses.len() >= snap_agg.uses.len() && !snap_agg.uses.is_empty());

    let rep = analyze(&loaded.snapshot, &agg, &Options::default());
    // CopyObject by an assumed role: GetObject on the source, PutObject on the target.
    let copies: Vec<&Use> = rep
        .roles
        .iter()
        .flat_map(|r| r.used.iter())
        .filter(|u| u.action == "s3:PutObject" || u.action == "s3:GetObject")
        .collect();
    assert!(!copies.is_empty());
    assert!(copies
        .iter()
        .all(|u| u.resource.starts_with("arn:aws:s3:::")));
    // Denied attempts are kept apart from uses.
    let denied: Vec<&str> = rep
        .roles
        .iter()
        .flat_map(|r| r.denied.iter())
        .map(|u| u.action.as_str())
        .collect();
    assert!(denied.contains(&"s3:PutBucketPolicy"), "{denied:?}");
    // What the table cannot map is listed, not guessed.
    assert!(!rep.unmapped.is_empty());
    assert!(rep
        .unmapped
        .iter()
        .all(|u| u.event_source != "s3.amazonaws.com" || u.event_name != "GetObject"));
}

#[test]
fn aws_serializer_fixtures_gzip_and_malformed() {
    let (agg, errs) = aggregate_files(
        &[
            data("SerializerTestFileCompact.json.gz"),
            data("SerializerTestFileBadJsonFormat.json"),
        ],
        &Window::default(),
    );
    assert!(agg.records > 0);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]
        .file
        .ends_with("SerializerTestFileBadJsonFormat.json"));
    assert!(errs[0].message.contains("malformed CloudTrail file"));
}

#[test]
fn a_bare_array_of_events_streams() {
    let mut names = Vec::new();
    let skipped = for_each_record(&data("stratus-cloudtrail-event-selectors.json"), |r| {
        names.push(r.event_name().unwrap_or_default().to_owned())
    })
    .unwrap();
    assert_eq!(skipped.count, 0);
    assert_eq!(names, vec!["PutEventSelectors"]);
}

#[test]
fn kubernetes_audit_usage() {
    let loaded = emrguard_load::load_paths(&[data("panther-k8s-audit-records.json.gz")]);
    let ev = &loaded.snapshot.k8s_audit;
    assert!(ev.len() >= 40, "{}", ev.len());
    // Exec (`pods/exec`, 101 Switching Protocols is success) by the attacker in production.
    let u = usage_of(
        ev,
        "attacker@example.com",
        Capability::ExecPods,
        &["production"],
    )
    .unwrap();
    assert_eq!(u.count, 3);
    // Secret reads: get/list/watch allowed, two 403s denied, the 404 not counted.
    let s = usage_of(
        ev,
        "attacker@example.com",
        Capability::ReadSecrets,
        &["production"],
    )
    .unwrap();
    assert_eq!((s.count, s.denied), (3, 2));
    // Reading pods is not creating them; a namespace filter applies.
    assert!(usage_of(
        ev,
        "admin@example.com",
        Capability::CreatePods,
        &["kube-system"]
    )
    .is_none());
    let c = usage_of(
        ev,
        "admin@example.com",
        Capability::CreatePods,
        &["default"],
    )
    .unwrap();
    assert_eq!(c.count, 3);
    assert!(usage_of(ev, "nobody", Capability::ModifyConfigmaps, &[]).is_none());
    let w = audit_window(ev);
    if let Some(w) = &w {
        assert!(usage_phrase(None, Some(w))
            .unwrap()
            .starts_with("never used in the audit window"));
    }
}

//! Athena results (the "usage summary" input kind) of a known estate: CSV usage rows,
//! `get-query-results` JSON session rows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_usage::*;
use std::path::PathBuf;

#[test]
fn usage_summary_rows_are_classified_like_events() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/summary");
    let loaded = emrguard_load::load_paths(&[dir]);
    // The bad row is one error naming the file and line; the rest loads.
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert!(loaded.errors[0].file.ends_with("bad.csv"));
    assert_eq!(loaded.errors[0].location.as_deref(), Some("line 2"));
    assert_eq!(loaded.snapshot.usage_rows.len(), 7);
    assert_eq!(loaded.snapshot.session_rows.len(), 2);
    let kinds: Vec<&str> = loaded
        .inputs
        .iter()
        .map(|i| i.recognised_as.as_str())
        .collect();
    assert!(kinds.contains(&"usage summary"), "{kinds:?}");
    assert!(kinds.contains(&"usage summary (sessions)"), "{kinds:?}");

    let rep = report_for_snapshot(&loaded.snapshot, &Options::default());
    let r = &rep.roles[0];
    let used: Vec<(&str, &str, u64)> = r
        .used
        .iter()
        .map(|u| (u.action.as_str(), u.resource.as_str(), u.count))
        .collect();
    assert_eq!(
        used,
        vec![
            ("glue:GetTable", "*", 7),
            // SSE-KMS writes through S3 need GenerateDataKey (key not in the summary).
            ("kms:GenerateDataKey", "*", 5),
            // CopyObject's source.
            ("s3:GetObject", "arn:aws:s3:::datalake/raw/events/dt=*/*", 5),
            ("s3:ListBucket", "arn:aws:s3:::datalake", 1),
            (
                "s3:PutObject",
                "arn:aws:s3:::datalake/curated/events/dt=*/*",
                7
            ),
        ]
    );
    assert_eq!(r.used[2].first_seen, "2024-03-01T00:04:00Z");
    assert_eq!(r.used[2].last_seen, "2024-03-01T00:06:00Z");
    assert_eq!(
        r.used[3].s3_prefixes.iter().collect::<Vec<_>>(),
        vec!["raw/events/dt=*/*"]
    );
    assert_eq!(r.denied[0].action, "kms:Decrypt");
    assert_eq!(r.denied[0].count, 4);
    let callers: Vec<String> = r.callers.iter().map(|c| c.label()).collect();
    assert_eq!(
        callers,
        vec!["spark-driver@spark-team-a", "spark-executor@spark-team-a"]
    );
    assert_eq!(rep.unmapped[0].event_name, "ListFunctions20150331");
    let data = r
        .grants
        .iter()
        .find(|g| g.statement.contains("Data"))
        .unwrap();
    assert_eq!(data.unused, vec!["s3:DeleteObject"]);
}

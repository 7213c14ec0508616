//! A hand-written estate (tests/data/estate: one execution role, IRSA sessions of its driver
//! and executor, S3 data events, a denied KMS call, an unmappable event, two job runs with a
//! release-label change, a trail logging data events for one bucket) whose expected unused
//! permissions, denied attempts, drift and generated policy are known.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_usage::stream::aggregate_files;
use emrguard_usage::*;
use std::path::PathBuf;

fn data(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn report() -> UsageReport {
    let loaded = emrguard_load::load_paths(&[data("estate")]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    report_for_snapshot(&loaded.snapshot, &Options::default())
}

fn grant<'a>(r: &'a RoleUsage, sid: &str) -> &'a Grant {
    r.grants
        .iter()
        .find(|g| g.statement.contains(sid))
        .unwrap_or_else(|| panic!("no grant {sid}"))
}

#[test]
fn attribution_classification_denied_drift() {
    let rep = report();
    assert_eq!(rep.roles.len(), 1, "{:#?}", rep.roles);
    let r = &rep.roles[0];
    assert_eq!(r.role_arn, "arn:aws:iam::111122223333:role/emr-job-role");
    assert!(r.in_snapshot);
    let callers: Vec<String> = r.callers.iter().map(|c| c.label()).collect();
    assert_eq!(
        callers,
        vec!["spark-driver@spark-team-a", "spark-executor@spark-team-a"]
    );

    let used: Vec<(&str, &str, u64)> = r
        .used
        .iter()
        .map(|u| (u.action.as_str(), u.resource.as_str(), u.count))
        .collect();
    assert_eq!(
        used,
        vec![
            // Glue: the catalog, database and table IAM checks, from the request.
            (
                "glue:GetDatabase",
                "arn:aws:glue:us-east-1:111122223333:catalog",
                1
            ),
            (
                "glue:GetDatabase",
                "arn:aws:glue:us-east-1:111122223333:database/db",
                1
            ),
            (
                "glue:GetTable",
                "arn:aws:glue:us-east-1:111122223333:catalog",
                1
            ),
            (
                "glue:GetTable",
                "arn:aws:glue:us-east-1:111122223333:database/db",
                1
            ),
            (
                "glue:GetTable",
                "arn:aws:glue:us-east-1:111122223333:table/db/events",
                1
            ),
            (
                "logs:PutLogEvents",
                "arn:aws:logs:us-east-1:111122223333:log-group:/emr/jobs",
                1
            ),
            ("s3:GetObject", "arn:aws:s3:::datalake/code/*", 2),
            ("s3:GetObject", "arn:aws:s3:::datalake/raw/events/dt=*/*", 3),
            ("s3:ListBucket", "arn:aws:s3:::datalake", 1),
            (
                "s3:PutObject",
                "arn:aws:s3:::datalake/curated/events/dt=*/*",
                1
            ),
        ]
    );
    let raw = &r.used[7];
    assert_eq!(raw.first_seen, "2024-03-01T00:04:00Z");
    assert_eq!(raw.last_seen, "2024-03-01T00:04:02Z");
    assert!(!raw.event_id.is_empty());
    assert_eq!(
        raw.callers.iter().collect::<Vec<_>>(),
        vec!["spark-executor@spark-team-a"]
    );

    // Denied: needed but missing.
    assert_eq!(r.denied.len(), 1);
    assert_eq!(r.denied[0].action, "kms:Decrypt");
    assert_eq!(
        r.denied[0].resource,
        "arn:aws:kms:us-east-1:111122223333:key/1111-2222"
    );

    // Granted but unused (observable), unobservable.
    assert_eq!(grant(r, "Data").unused, vec!["s3:DeleteObject"]);
    assert_eq!(grant(r, "Data").used, vec!["s3:GetObject", "s3:PutObject"]);
    assert_eq!(grant(r, "Logs").unused, vec!["logs:CreateLogStream"]);
    assert_eq!(grant(r, "Glue").unused, vec!["glue:DeleteTable"]);
    assert!(grant(r, "List").unused.is_empty());
    let archive = grant(r, "Archive");
    assert!(archive.unused.is_empty());
    assert_eq!(archive.unobservable, vec!["s3:GetObject"]);
    assert_eq!(r.unused_count(), 3);

    // Drift: GetDatabase (on the catalog and on the database) first used after emr-6.15.0 →
    // emr-7.1.0.
    assert_eq!(r.drift.len(), 2, "{:#?}", r.drift);
    assert!(r.drift.iter().all(|d| d.action == "glue:GetDatabase"));
    assert!(r.drift[0]
        .change
        .contains("emr-6.15.0-latest → emr-7.1.0-latest"));
    assert_eq!(r.drift[0].job_run_id, "jr-2");

    // Unmappable events are listed.
    assert_eq!(rep.unmapped.len(), 1);
    assert_eq!(rep.unmapped[0].event_name, "ListFunctions20150331");
    assert!(rep.coverage.contains("arn:aws:s3:::datalake/"));
    // Two StartJobRun by a user, one ListBuckets, three AssumeRoleWithWebIdentity.
    assert_eq!(rep.events_not_by_roles, 6);
}

#[test]
fn generated_policy_is_the_usage() {
    let rep = report();
    let p = least_privilege_policy(&rep.roles[0], &PolicyOptions::default());
    assert!(p.fits);
    assert_eq!(p.coarsening, 0);
    let expected = serde_json::json!({
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "Used0", "Effect": "Allow", "Action": ["glue:GetDatabase", "glue:GetTable"],
         "Resource": ["arn:aws:glue:us-east-1:111122223333:catalog", "arn:aws:glue:us-east-1:111122223333:database/db"]},
        {"Sid": "Used1", "Effect": "Allow", "Action": "glue:GetTable",
         "Resource": "arn:aws:glue:us-east-1:111122223333:table/db/events"},
        {"Sid": "Used2", "Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": "arn:aws:logs:us-east-1:111122223333:log-group:/emr/jobs"},
        {"Sid": "Used3", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": ["arn:aws:s3:::datalake/code/*", "arn:aws:s3:::datalake/raw/events/dt=*/*"]},
        {"Sid": "Used4", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::datalake/curated/events/dt=*/*"},
        {"Sid": "List0", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::datalake",
         "Condition": {"StringLike": {"s3:prefix": "raw/events/dt=*/*"}}}
      ]
    });
    assert_eq!(p.document, expected);
    assert_eq!(
        p.denied_not_granted,
        vec![(
            "kms:Decrypt".to_owned(),
            "arn:aws:kms:us-east-1:111122223333:key/1111-2222".to_owned()
        )]
    );
    // With the denied attempts granted, and under a tiny limit, prefixes widen to buckets.
    let p = least_privilege_policy(
        &rep.roles[0],
        &PolicyOptions {
            max_chars: 400,
            include_denied: true,
        },
    );
    assert_eq!(p.coarsening, 2);
    let text = p.document.to_string();
    assert!(text.contains("kms:Decrypt"));
    assert!(text.contains("arn:aws:s3:::datalake/*"));
    assert!(!text.contains("dt=*"));
}

#[test]
fn streaming_gzip_equals_the_loader_path() {
    let (agg, errs) = aggregate_files(&[data("cloudtrail-estate.json.gz")], &Window::default());
    assert!(errs.is_empty(), "{errs:?}");
    let loaded = emrguard_load::load_paths(&[data("estate")]);
    let from_snap = Aggregate::from_snapshot(&loaded.snapshot, &Window::default());
    assert_eq!(agg.records, from_snap.records);
    let mut a: Vec<_> = agg.uses.iter().map(|(k, v)| (k.clone(), v.count)).collect();
    let mut b: Vec<_> = from_snap
        .uses
        .iter()
        .map(|(k, v)| (k.clone(), v.count))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(agg.sessions.len(), 3);
    assert_eq!(agg.job_runs.len(), 2);
}

#[test]
fn window_and_role_filters() {
    let loaded = emrguard_load::load_paths(&[data("estate")]);
    let opts = Options {
        roles: vec!["emr-job-role".into()],
        window: Window {
            since: Some("2024-03-02".into()),
            until: None,
        },
    };
    let rep = report_for_snapshot(&loaded.snapshot, &opts);
    let r = &rep.roles[0];
    let mut actions: Vec<&str> = r.used.iter().map(|u| u.action.as_str()).collect();
    actions.dedup();
    assert_eq!(actions, vec!["glue:GetDatabase", "s3:GetObject"]);
    // Outside the window the executor's reads are unused now.
    assert!(grant(r, "Data").unused.contains(&"s3:PutObject".to_owned()));
    let opts = Options {
        roles: vec!["no-such-role".into()],
        ..Default::default()
    };
    let rep = report_for_snapshot(&loaded.snapshot, &opts);
    assert!(rep.roles.iter().all(|r| r.used.is_empty()));
}

//! The usage-audit input kinds: `get-event-selectors` output, Kubernetes audit events (Event,
//! EventList, JSON lines, inside a `Records` list), usage summaries (CSV).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_load::load_bytes_public;

const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"create","user":{"username":"alice","groups":["dev"]},"objectRef":{"resource":"pods","subresource":"exec","namespace":"spark","name":"spark-x-driver"},"responseStatus":{"code":101},"stageTimestamp":"2024-03-01T00:00:00.000000Z"}"#;

#[test]
fn event_selectors() {
    let text = r#"{"TrailARN":"arn:aws:cloudtrail:us-east-1:1:trail/t","AdvancedEventSelectors":[{"Name":"s3","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::b/raw/"]}]}]}"#;
    let (s, input, errs) = load_bytes_public("sel.json", text.as_bytes().to_vec());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(input.unwrap().recognised_as, "cloudtrail event selectors");
    let sel = &s.event_selectors[0];
    assert_eq!(
        sel.advanced_event_selectors[0].field_selectors[2].starts_with,
        vec!["arn:aws:s3:::b/raw/"]
    );
}

#[test]
fn audit_events_in_every_shape() {
    let one = load_bytes_public("e.json", EVENT.as_bytes().to_vec());
    assert_eq!(one.0.k8s_audit.len(), 1);
    assert!(one.0.k8s.object_count() == 0);
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{EVENT},{EVENT}]}}"#
    );
    assert_eq!(
        load_bytes_public("l.json", list.into_bytes())
            .0
            .k8s_audit
            .len(),
        2
    );
    let lines = format!("{EVENT}\n{EVENT}\n\n{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":7}}\n");
    let (s, input, errs) = load_bytes_public("audit.log", lines.into_bytes());
    assert_eq!(s.k8s_audit.len(), 2);
    assert_eq!(input.unwrap().recognised_as, "kubernetes audit events");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].location.as_deref(), Some("line 4"));
    let records = format!(
        r#"{{"Records":[{EVENT},{{"eventSource":"s3.amazonaws.com","eventName":"GetObject"}}]}}"#
    );
    let (s, _, errs) = load_bytes_public("r.json", records.into_bytes());
    assert!(errs.is_empty());
    assert_eq!((s.k8s_audit.len(), s.cloudtrail.len()), (1, 1));
    let e = &s.k8s_audit[0];
    assert_eq!(
        e.object_ref.as_ref().unwrap().subresource.as_deref(),
        Some("exec")
    );
}

#[test]
fn csv_summaries_and_non_summary_csv() {
    let csv = "access_key_id,role_arn,subject,first_seen\nASIA1,arn:aws:iam::1:role/r,system:serviceaccount:ns:sa,2024-01-01T00:00:00Z\n";
    let (s, input, errs) = load_bytes_public("s.csv", csv.as_bytes().to_vec());
    assert!(errs.is_empty());
    assert_eq!(input.unwrap().recognised_as, "usage summary (sessions)");
    assert_eq!(s.session_rows[0].subject, "system:serviceaccount:ns:sa");
    // Any other CSV is not a usage summary.
    let (s, input, _) = load_bytes_public("x.csv", b"a,b\n1,2\n".to_vec());
    assert!(s.session_rows.is_empty() && s.usage_rows.is_empty());
    assert_eq!(input.unwrap().recognised_as, "unknown");
}

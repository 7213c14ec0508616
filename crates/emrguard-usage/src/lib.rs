//! Usage audit: what each EMR on EKS execution role was granted against what its jobs used.
//!
//! - [`attribution`]: `AssumeRoleWithWebIdentity` (IRSA, subject
//!   `system:serviceaccount:<ns>:<sa>`) and `AssumeRoleForPodIdentity` records tie an access
//!   key to role × namespace × service account; EMR's service-account names give the
//!   component (spark-client/driver/executor, jeg, session, flink, operators, Livy);
//!   `StartJobRun` records tie job runs, templates, release labels and images to roles.
//! - [`mapping`]: event → IAM actions from `data/operations.tsv` (the AWS service reference's
//!   operation → authorized-actions table), narrowed by the request (versionId, CopyObject,
//!   multipart, ListObjects' `s3:prefix`, SSE-KMS). Unmappable events are listed, never
//!   guessed.
//! - [`aggregate`]: uses keyed by (role, access key, action, resource pattern, denied), the
//!   shape of the Athena `scripts/athena/usage.sql` result ("usage summary" input kind);
//!   [`stream`] aggregates `.json.gz` log files streaming, in parallel; [`view`] is the
//!   borrowed record it reads.
//! - [`analyze()`]: each Allow statement × resource of a role classified into used, unused
//!   though observable, unobservable (no data events logged per the trail's event
//!   selectors), plus denied attempts and drift.
//! - [`least_privilege_policy`]: the policy from usage.
//! - [`k8s::usage_of`]: Kubernetes audit usage of a capability by a subject.
//!
//! ```text
//! Aggregate::from_snapshot(&Snapshot, &Window) -> Aggregate
//! stream::aggregate_files(&[PathBuf], &Window) -> (Aggregate, Vec<StreamError>)
//! analyze(&Snapshot, &Aggregate, &Options) -> UsageReport
//! least_privilege_policy(&RoleUsage, &PolicyOptions) -> GeneratedPolicy
//! k8s::usage_of(&[Located<K8sAuditEvent>], subject, Capability, &[namespace]) -> Option<K8sUsage>
//! ```

pub mod aggregate;
pub mod analyze;
pub mod attribution;
pub mod coverage;
pub mod k8s;
pub mod mapping;
pub mod policy;
pub mod stream;
pub mod view;

pub use aggregate::{Aggregate, Window};
pub use analyze::{analyze, Grant, Options, RoleUsage, UsageReport, Use};
pub use policy::{least_privilege_policy, GeneratedPolicy, PolicyOptions};

/// The report for a snapshot (its CloudTrail records and usage summaries).
pub fn report_for_snapshot(snap: &emrguard_model::Snapshot, opts: &Options) -> UsageReport {
    let agg = Aggregate::from_snapshot(snap, &opts.window);
    analyze(snap, &agg, opts)
}

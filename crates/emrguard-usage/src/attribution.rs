//! Who made a call: the credentials' issue (`AssumeRoleWithWebIdentity` for IRSA,
//! `AssumeRoleForPodIdentity` for EKS Pod Identity) ties an access key to a role and a
//! Kubernetes service account; EMR's service-account names give the component.

use crate::view::{path, with_record, Params, RecordView};
use emrguard_model::aws::misc::CloudTrailRecord;
use serde::Serialize;
use std::borrow::Cow;

/// The EMR on EKS component a service account belongs to (shared/spec/domain.md §1.5, §3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    SparkClient,
    SparkDriver,
    SparkExecutor,
    SparkJeg,
    SparkJegKernel,
    SparkSession,
    FlinkJobmanager,
    FlinkTaskmanager,
    SparkOperator,
    FlinkOperator,
    Livy,
    /// Not an EMR-managed service account.
    Other,
}

impl Component {
    pub fn as_str(&self) -> &'static str {
        match self {
            Component::SparkClient => "spark-client",
            Component::SparkDriver => "spark-driver",
            Component::SparkExecutor => "spark-executor",
            Component::SparkJeg => "spark-jeg",
            Component::SparkJegKernel => "spark-jeg-kernel",
            Component::SparkSession => "spark-session",
            Component::FlinkJobmanager => "flink-jobmanager",
            Component::FlinkTaskmanager => "flink-taskmanager",
            Component::SparkOperator => "spark-operator",
            Component::FlinkOperator => "flink-operator",
            Component::Livy => "livy",
            Component::Other => "other",
        }
    }
}

/// The component of a service account name: `emr-containers-sa-<component>-<acct>-<b36>`,
/// or one of the fixed operator and Livy names (note `emr-container-sa-spark-livy`, spelt
/// without the s in the AWS CLI source).
pub fn component_of_sa(sa: &str) -> Component {
    match sa {
        "emr-containers-sa-spark-operator" => return Component::SparkOperator,
        "emr-containers-sa-flink-operator" => return Component::FlinkOperator,
        "emr-containers-sa-livy" | "emr-container-sa-spark-livy" => return Component::Livy,
        _ => {}
    }
    let Some(rest) = sa.strip_prefix("emr-containers-sa-") else {
        return Component::Other;
    };
    // Longest first: `spark-jeg-kernel-` before `spark-jeg-`.
    const PARTS: [(&str, Component); 8] = [
        ("spark-jeg-kernel-", Component::SparkJegKernel),
        ("spark-jeg-", Component::SparkJeg),
        ("spark-session-", Component::SparkSession),
        ("spark-client-", Component::SparkClient),
        ("spark-driver-", Component::SparkDriver),
        ("spark-executor-", Component::SparkExecutor),
        ("flink-jobmanager-", Component::FlinkJobmanager),
        ("flink-taskmanager-", Component::FlinkTaskmanager),
    ];
    for (p, c) in PARTS {
        if rest.starts_with(p) {
            return c;
        }
    }
    Component::Other
}

/// How a session was tied to its service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    WebIdentity,
    PodIdentity,
}

/// One credential issue: an access key handed to a service account for a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub access_key_id: String,
    pub role_arn: String,
    pub namespace: String,
    pub service_account: String,
    pub via: Via,
    pub issued_at: String,
    pub event_id: String,
}

/// `system:serviceaccount:<ns>:<sa>` → (ns, sa).
pub fn parse_sa_subject(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("system:serviceaccount:")?;
    let (ns, sa) = rest.split_once(':')?;
    (!ns.is_empty() && !sa.is_empty()).then_some((ns, sa))
}

/// `arn:aws:sts::<acct>:assumed-role/<name>/<session>` → `arn:aws:iam::<acct>:role/<name>`
/// (the role's path is not in the session ARN).
pub fn role_of_assumed(arn: &str) -> Option<String> {
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let name = rest.split('/').next()?;
    let head = head.replacen(":sts:", ":iam:", 1);
    Some(format!("{head}:role/{name}"))
}

/// A credential issue from an `AssumeRoleWithWebIdentity` or `AssumeRoleForPodIdentity`
/// record (successful ones only).
pub fn session_of(rec: &CloudTrailRecord) -> Option<Session> {
    with_record(rec, session_of_view)
}

pub fn session_of_view(rec: &RecordView<'_>) -> Option<Session> {
    if rec.error_code().is_some() {
        return None;
    }
    let req = rec.req();
    let resp = rec.resp();
    let key = path(resp?.credentials.as_ref(), &["accessKeyId"])?.to_owned();
    let time = rec.event_time().unwrap_or_default().to_owned();
    let id = rec.event_id().unwrap_or_default().to_owned();
    let assumed = || path(resp?.assumed_role_user.as_ref(), &["arn"]);
    match rec.event_name()? {
        "AssumeRoleWithWebIdentity" => {
            let subject = resp
                .and_then(Params::subject_from_web_identity_token)
                .or_else(|| rec.user_name())?;
            let (ns, sa) = parse_sa_subject(subject)?;
            let role = req
                .and_then(Params::role_arn)
                .map(str::to_owned)
                .or_else(|| role_of_assumed(assumed()?))?;
            Some(Session {
                access_key_id: key,
                role_arn: role,
                namespace: ns.to_owned(),
                service_account: sa.to_owned(),
                via: Via::WebIdentity,
                issued_at: time,
                event_id: id,
            })
        }
        "AssumeRoleForPodIdentity" => {
            let subject = resp?.subject.as_ref();
            let ns = path(subject, &["namespace"])?;
            let sa = path(subject, &["serviceAccount"])?;
            let role = role_of_assumed(assumed()?)?;
            Some(Session {
                access_key_id: key,
                role_arn: role,
                namespace: ns.to_owned(),
                service_account: sa.to_owned(),
                via: Via::PodIdentity,
                issued_at: time,
                event_id: id,
            })
        }
        _ => None,
    }
}

/// The role a call was made as: the session issuer (assumed-role sessions), else the role in
/// the assumed-role ARN.
pub fn caller_role(rec: &CloudTrailRecord) -> Option<String> {
    with_record(rec, |v| caller_role_view(v).map(Cow::into_owned))
}

pub fn caller_role_view<'r>(rec: &'r RecordView<'_>) -> Option<Cow<'r, str>> {
    if let Some((ty, Some(arn))) = rec.session_issuer() {
        if ty.unwrap_or("Role") == "Role" {
            return Some(Cow::Borrowed(arn));
        }
    }
    role_of_assumed(rec.identity_arn()?).map(Cow::Owned)
}

/// A `StartJobRun` record: which role, release label, template and image a job ran with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRunStart {
    pub job_run_id: String,
    pub virtual_cluster_id: String,
    pub role_arn: String,
    pub release_label: String,
    pub job_template_id: String,
    pub image: String,
    pub time: String,
    pub event_id: String,
}

/// `spark.kubernetes.container.image` from `--conf k=v` submit parameters or the
/// application configuration.
fn image_of(req: &Params<'_>) -> Option<String> {
    let key = "spark.kubernetes.container.image";
    if let Some(params) = path(
        req.job_driver.as_ref(),
        &["sparkSubmitJobDriver", "sparkSubmitParameters"],
    ) {
        for tok in params.split_whitespace() {
            if let Some(v) = tok.strip_prefix(&format!("{key}=")) {
                return Some(v.to_owned());
            }
        }
    }
    let confs = req
        .configuration_overrides
        .as_ref()?
        .get("applicationConfiguration")?
        .as_array()?;
    confs
        .iter()
        .find_map(|c| c.get("properties")?.get(key)?.as_str().map(str::to_owned))
}

pub fn job_run_of(rec: &CloudTrailRecord) -> Option<JobRunStart> {
    with_record(rec, job_run_of_view)
}

pub fn job_run_of_view(rec: &RecordView<'_>) -> Option<JobRunStart> {
    if rec.event_name() != Some("StartJobRun")
        || rec.event_source() != Some("emr-containers.amazonaws.com")
        || rec.error_code().is_some()
    {
        return None;
    }
    let req = rec.req()?;
    let resp = rec.resp();
    // With a template, the role and release label may come from the template's parameters.
    let role = req
        .execution_role_arn()
        .or_else(|| path(req.job_template_parameters.as_ref(), &["executionRoleArn"]))
        .unwrap_or("")
        .to_owned();
    Some(JobRunStart {
        job_run_id: resp.and_then(Params::id).unwrap_or("").to_owned(),
        virtual_cluster_id: req
            .virtual_cluster_id()
            .or_else(|| resp.and_then(Params::virtual_cluster_id))
            .unwrap_or("")
            .to_owned(),
        role_arn: role,
        release_label: req.release_label().unwrap_or("").to_owned(),
        job_template_id: req.job_template_id().unwrap_or("").to_owned(),
        image: image_of(req).unwrap_or_default(),
        time: rec.event_time().unwrap_or_default().to_owned(),
        event_id: rec.event_id().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_from_sa_names() {
        let acct = "123456789012-2bs0ab3mwuvh2ewr1zvjizr5g7vhy8a8y6qxiwnlfr";
        for (sa, c) in [
            ("spark-client", Component::SparkClient),
            ("spark-driver", Component::SparkDriver),
            ("spark-executor", Component::SparkExecutor),
            ("spark-jeg", Component::SparkJeg),
            ("spark-jeg-kernel", Component::SparkJegKernel),
            ("spark-session", Component::SparkSession),
            ("flink-jobmanager", Component::FlinkJobmanager),
            ("flink-taskmanager", Component::FlinkTaskmanager),
        ] {
            assert_eq!(
                component_of_sa(&format!("emr-containers-sa-{sa}-{acct}")),
                c,
                "{sa}"
            );
        }
        assert_eq!(
            component_of_sa("emr-container-sa-spark-livy"),
            Component::Livy
        );
        assert_eq!(component_of_sa("default"), Component::Other);
    }

    #[test]
    fn pod_identity_and_web_identity_sessions() {
        let rec: CloudTrailRecord = serde_json::from_value(serde_json::json!({
            "eventSource": "eks-auth.amazonaws.com", "eventName": "AssumeRoleForPodIdentity",
            "eventTime": "2024-05-01T00:00:00Z", "eventID": "e1",
            "requestParameters": {"clusterName": "c", "token": "HIDDEN"},
            "responseElements": {
                "credentials": {"accessKeyId": "ASIAPOD"},
                "subject": {"namespace": "spark", "serviceAccount": "emr-containers-sa-spark-executor-1-abc"},
                "assumedRoleUser": {"arn": "arn:aws:sts::1:assumed-role/exec-role/eks-c-pod", "assumeRoleId": "AROA:x"},
                "podIdentityAssociation": {"associationArn": "arn:aws:eks:us-east-1:1:podidentityassociation/c/a-1"}
            }
        }))
        .unwrap();
        let s = session_of(&rec).unwrap();
        assert_eq!(s.via, Via::PodIdentity);
        assert_eq!(s.role_arn, "arn:aws:iam::1:role/exec-role");
        assert_eq!(
            (s.namespace.as_str(), component_of_sa(&s.service_account)),
            ("spark", Component::SparkExecutor)
        );
        // A failed issue gives no session.
        let mut failed = rec.clone();
        failed.error_code = Some("AccessDenied".into());
        assert!(session_of(&failed).is_none());
    }

    #[test]
    fn start_job_run_with_image_and_template() {
        let rec: CloudTrailRecord = serde_json::from_value(serde_json::json!({
            "eventSource": "emr-containers.amazonaws.com", "eventName": "StartJobRun",
            "eventTime": "2024-05-01T00:00:00Z",
            "requestParameters": {"virtualClusterId": "vc", "jobTemplateId": "tpl-1",
              "jobTemplateParameters": {"executionRoleArn": "arn:aws:iam::1:role/r"},
              "configurationOverrides": {"applicationConfiguration": [
                {"classification": "spark-defaults", "properties": {"spark.kubernetes.container.image": "1.dkr.ecr.us-east-1.amazonaws.com/spark:7"}}]}},
            "responseElements": {"id": "jr"}
        }))
        .unwrap();
        let j = job_run_of(&rec).unwrap();
        assert_eq!(j.role_arn, "arn:aws:iam::1:role/r");
        assert_eq!(j.job_template_id, "tpl-1");
        assert_eq!(j.image, "1.dkr.ecr.us-east-1.amazonaws.com/spark:7");
    }

    #[test]
    fn role_of_session_arn() {
        assert_eq!(
            role_of_assumed("arn:aws:sts::1:assumed-role/r/s").as_deref(),
            Some("arn:aws:iam::1:role/r")
        );
        assert_eq!(
            parse_sa_subject("system:serviceaccount:ns:sa"),
            Some(("ns", "sa"))
        );
        assert_eq!(parse_sa_subject("system:serviceaccount:ns"), None);
    }
}

//! EMR on EKS (`emr-containers`) outputs: virtual clusters, managed endpoints, job runs, job
//! templates.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EksInfo {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default, rename = "nodeLabel")]
    pub node_label: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    #[serde(default)]
    pub eks_info: Option<EksInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerProvider {
    #[serde(default, rename = "type")]
    pub provider_type: Option<String>,
    /// The EKS cluster name.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub info: Option<ContainerInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualCluster {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub container_provider: Option<ContainerProvider>,
    #[serde(default)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub security_configuration_id: Option<String>,
}

impl VirtualCluster {
    pub fn namespace(&self) -> Option<&str> {
        self.container_provider
            .as_ref()?
            .info
            .as_ref()?
            .eks_info
            .as_ref()?
            .namespace
            .as_deref()
    }
    pub fn eks_cluster(&self) -> Option<&str> {
        self.container_provider.as_ref()?.id.as_deref()
    }
    /// Terminated virtual clusters no longer matter.
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_deref(), Some("TERMINATED"))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Configuration {
    #[serde(default)]
    pub classification: String,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    #[serde(default)]
    pub configurations: Vec<Configuration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3MonitoringConfiguration {
    #[serde(default)]
    pub log_uri: Option<String>,
    #[serde(default)]
    pub encryption_key_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMonitoringConfiguration {
    #[serde(default)]
    pub log_group_name: Option<String>,
    #[serde(default)]
    pub log_stream_name_prefix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringConfiguration {
    #[serde(default)]
    pub persistent_app_ui: Option<String>,
    #[serde(default)]
    pub cloud_watch_monitoring_configuration: Option<CloudWatchMonitoringConfiguration>,
    #[serde(default)]
    pub s3_monitoring_configuration: Option<S3MonitoringConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationOverrides {
    #[serde(default)]
    pub application_configuration: Vec<Configuration>,
    #[serde(default)]
    pub monitoring_configuration: Option<MonitoringConfiguration>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SparkSubmitJobDriver {
    #[serde(default)]
    pub entry_point: Option<String>,
    #[serde(default)]
    pub entry_point_arguments: Vec<String>,
    #[serde(default)]
    pub spark_submit_parameters: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SparkSqlJobDriver {
    #[serde(default)]
    pub entry_point: Option<String>,
    #[serde(default)]
    pub spark_sql_parameters: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDriver {
    #[serde(default)]
    pub spark_submit_job_driver: Option<SparkSubmitJobDriver>,
    #[serde(default)]
    pub spark_sql_job_driver: Option<SparkSqlJobDriver>,
}

impl JobDriver {
    /// The spark-submit / spark-sql parameter string, where there is one.
    pub fn parameters(&self) -> impl Iterator<Item = &str> {
        let a = self
            .spark_submit_job_driver
            .as_ref()
            .and_then(|d| d.spark_submit_parameters.as_deref());
        let b = self
            .spark_sql_job_driver
            .as_ref()
            .and_then(|d| d.spark_sql_parameters.as_deref());
        a.into_iter().chain(b)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub virtual_cluster_id: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub release_label: Option<String>,
    #[serde(default)]
    pub configuration_overrides: Option<ConfigurationOverrides>,
    #[serde(default)]
    pub job_driver: Option<JobDriver>,
    #[serde(default)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    #[serde(default)]
    pub certificate_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub virtual_cluster_id: String,
    #[serde(default, rename = "type")]
    pub endpoint_type: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub release_label: Option<String>,
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub configuration_overrides: Option<ConfigurationOverrides>,
    #[serde(default)]
    pub server_url: Option<String>,
    #[serde(default)]
    pub auth_proxy_url: Option<String>,
    #[serde(default)]
    pub security_group: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Endpoint {
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state.as_deref(),
            Some("TERMINATED") | Some("TERMINATED_WITH_ERRORS")
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateData {
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub release_label: Option<String>,
    #[serde(default)]
    pub configuration_overrides: Option<ConfigurationOverrides>,
    #[serde(default)]
    pub job_driver: Option<JobDriver>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplate {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arn: String,
    #[serde(default)]
    pub job_template_data: Option<JobTemplateData>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Where a workload names its Spark settings: spark-submit parameters and
/// `applicationConfiguration` properties (recursively). Returns `(key, value)` pairs in order.
pub fn spark_properties(
    driver: Option<&JobDriver>,
    overrides: Option<&ConfigurationOverrides>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(d) = driver {
        for params in d.parameters() {
            out.extend(parse_conf_flags(params));
        }
    }
    fn walk(cfgs: &[Configuration], out: &mut Vec<(String, String)>, depth: usize) {
        if depth > 16 {
            return;
        }
        for c in cfgs {
            for (k, v) in &c.properties {
                out.push((k.clone(), v.clone()));
            }
            walk(&c.configurations, out, depth + 1);
        }
    }
    if let Some(o) = overrides {
        walk(&o.application_configuration, &mut out, 0);
    }
    out
}

/// `--conf k=v` and `--conf=k=v` pairs of a spark-submit parameter string (quotes honoured).
pub fn parse_conf_flags(params: &str) -> Vec<(String, String)> {
    let words = shell_words(params);
    let mut out = Vec::new();
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let kv = if w == "--conf" || w == "-c" {
            it.next().map(String::as_str)
        } else {
            w.strip_prefix("--conf=")
        };
        if let Some((k, v)) = kv.and_then(|kv| kv.split_once('=')) {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

/// Split a command line into words, honouring single and double quotes and backslashes.
pub fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        cur.push(n);
                        in_word = true;
                    }
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_flags_are_parsed() {
        let p = "--class x --conf spark.kubernetes.container.image=1.dkr.ecr/x:1 --conf=spark.a='b c' --conf \"spark.d=e f\"";
        let kv = parse_conf_flags(p);
        assert_eq!(
            kv[0],
            (
                "spark.kubernetes.container.image".into(),
                "1.dkr.ecr/x:1".into()
            )
        );
        assert_eq!(kv[1], ("spark.a".into(), "b c".into()));
        assert_eq!(kv[2], ("spark.d".into(), "e f".into()));
    }
}

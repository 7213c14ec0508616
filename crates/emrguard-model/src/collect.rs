//! The log `scripts/collect.sh` writes into the snapshot (`collect.log`): which commands ran,
//! which failed. `check` turns its failures into coverage warnings.

use serde::Serialize;

/// The first line of a collector log.
pub const LOG_HEADER: &str = "# emrguard collect.sh log";

/// One parsed collector log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CollectLog {
    /// `key=value` settings from the `#` header lines (cluster, region, versions ...).
    pub settings: Vec<(String, String)>,
    /// Commands that succeeded (`aws eks describe-cluster --name x`).
    pub ok: Vec<String>,
    /// Commands that failed, each with its error where the log has it.
    pub failed: Vec<String>,
}

impl CollectLog {
    /// True when `text` is a collector log.
    pub fn is_log(text: &str) -> bool {
        text.trim_start().starts_with(LOG_HEADER)
    }

    /// Parse a log: `# key=value ...` header lines, then `TIME ok   COMMAND`,
    /// `TIME FAIL COMMAND: error` (also the older `WARN` lines) and `TIME error ...` lines.
    pub fn parse(text: &str) -> CollectLog {
        let mut log = CollectLog::default();
        for line in text.lines() {
            let line = line.trim_end();
            if let Some(h) = line.strip_prefix('#') {
                for kv in h.split_whitespace() {
                    if let Some((k, v)) = kv.split_once('=') {
                        log.settings.push((k.to_owned(), v.to_owned()));
                    }
                }
                continue;
            }
            // Drop the time stamp (first word).
            let rest = line.split_once(' ').map(|(_, r)| r).unwrap_or("");
            let rest = rest.trim_start();
            if let Some(cmd) = rest.strip_prefix("ok ") {
                log.ok.push(cmd.trim().to_owned());
            } else if let Some(cmd) = rest
                .strip_prefix("FAIL ")
                .or_else(|| rest.strip_prefix("WARN "))
            {
                log.failed.push(cmd.trim().to_owned());
            }
        }
        log
    }

    /// The value of a header setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when a command starting with `prefix` (`kubectl get roles`) succeeded.
    pub fn collected(&self, prefix: &str) -> bool {
        self.ok.iter().any(|c| c.starts_with(prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ok_and_failed_lines() {
        let text = "# emrguard collect.sh log v1\n# cluster=c region=us-west-2\n\
                    06:00:01Z ok   aws eks describe-cluster --name c\n\
                    06:00:02Z FAIL aws iam get-account-authorization-details: AccessDenied\n\
                    some stray stderr line\n";
        assert!(CollectLog::is_log(text));
        let l = CollectLog::parse(text);
        assert_eq!(l.setting("cluster"), Some("c"));
        assert_eq!(l.ok, vec!["aws eks describe-cluster --name c"]);
        assert_eq!(
            l.failed,
            vec!["aws iam get-account-authorization-details: AccessDenied"]
        );
        assert!(l.collected("aws eks describe-cluster"));
        assert!(!CollectLog::is_log("06:00 ok aws"));
    }
}

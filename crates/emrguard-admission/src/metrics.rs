//! Prometheus text exposition (format 0.0.4) from lock-free counters.

use crate::rules::AdmissionRule;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub const ENDPOINTS: [&str; 6] = [
    "validate",
    "validate_emr_namespace",
    "healthz",
    "readyz",
    "metrics",
    "other",
];
pub const CODES: [u16; 9] = [200, 400, 404, 405, 408, 413, 415, 500, 503];
pub const VERDICTS: [&str; 6] = ["allow", "deny", "warn", "audit", "error", "timeout"];
const BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const RULES: usize = AdmissionRule::ALL.len() + 1; // + "none"

#[derive(Debug, Default)]
pub struct Metrics {
    requests: [[AtomicU64; CODES.len()]; ENDPOINTS.len()],
    decisions: [[AtomicU64; VERDICTS.len()]; RULES],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_sum_ns: AtomicU64,
    latency_count: AtomicU64,
    pub tls_reloads: AtomicU64,
    pub tls_reload_errors: AtomicU64,
    pub connections: AtomicU64,
}

fn idx<T: PartialEq>(list: &[T], v: &T) -> Option<usize> {
    list.iter().position(|x| x == v)
}

impl Metrics {
    pub fn request(&self, endpoint: &str, code: u16) {
        let e = idx(&ENDPOINTS, &endpoint).unwrap_or(ENDPOINTS.len() - 1);
        if let Some(c) = idx(&CODES, &code) {
            if let Some(slot) = self.requests.get(e).and_then(|r| r.get(c)) {
                slot.fetch_add(1, Relaxed);
            }
        }
    }

    /// One decision: `rule` `None` for reviews no rule matched.
    pub fn decision(&self, rule: Option<AdmissionRule>, verdict: &str) {
        let r = rule.map(|r| r as usize).unwrap_or(RULES - 1);
        if let Some(v) = idx(&VERDICTS, &verdict) {
            if let Some(slot) = self.decisions.get(r).and_then(|x| x.get(v)) {
                slot.fetch_add(1, Relaxed);
            }
        }
    }

    pub fn latency(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                if let Some(slot) = self.buckets.get(i) {
                    slot.fetch_add(1, Relaxed);
                }
                break;
            }
        }
        self.latency_sum_ns
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut o = String::with_capacity(8192);
        let _ = writeln!(
            o,
            "# HELP emrguard_admission_requests_total HTTP requests by endpoint and status code."
        );
        let _ = writeln!(o, "# TYPE emrguard_admission_requests_total counter");
        for (e, row) in ENDPOINTS.iter().zip(&self.requests) {
            for (c, n) in CODES.iter().zip(row) {
                let n = n.load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        o,
                        "emrguard_admission_requests_total{{endpoint=\"{e}\",code=\"{c}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(o, "# HELP emrguard_admission_decisions_total Admission decisions by rule (none: no rule matched) and verdict.");
        let _ = writeln!(o, "# TYPE emrguard_admission_decisions_total counter");
        let names = AdmissionRule::ALL.iter().map(|r| r.slug()).chain(["none"]);
        for (rule, row) in names.zip(&self.decisions) {
            for (v, n) in VERDICTS.iter().zip(row) {
                let n = n.load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        o,
                        "emrguard_admission_decisions_total{{rule=\"{rule}\",verdict=\"{v}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(o, "# HELP emrguard_admission_review_duration_seconds Time from a complete request body to the response, per AdmissionReview.");
        let _ = writeln!(
            o,
            "# TYPE emrguard_admission_review_duration_seconds histogram"
        );
        let mut cum = 0u64;
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            cum += n.load(Relaxed);
            let _ = writeln!(
                o,
                "emrguard_admission_review_duration_seconds_bucket{{le=\"{b}\"}} {cum}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            o,
            "emrguard_admission_review_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "emrguard_admission_review_duration_seconds_sum {}",
            self.latency_sum_ns.load(Relaxed) as f64 / 1e9
        );
        let _ = writeln!(
            o,
            "emrguard_admission_review_duration_seconds_count {count}"
        );
        for (name, help, v) in [
            ("emrguard_admission_tls_reloads_total", "Certificate reloads after the files changed.", &self.tls_reloads),
            ("emrguard_admission_tls_reload_errors_total", "Changed certificate files that could not be loaded (the previous certificate stays).", &self.tls_reload_errors),
            ("emrguard_admission_connections_total", "TLS connections accepted.", &self.connections),
        ] {
            let _ = writeln!(o, "# HELP {name} {help}");
            let _ = writeln!(o, "# TYPE {name} counter");
            let _ = writeln!(o, "{name} {}", v.load(Relaxed));
        }
        o
    }
}

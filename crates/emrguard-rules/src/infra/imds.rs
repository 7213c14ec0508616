//! Can pods reach the instance metadata service (and so the node role's credentials)?
//!
//! A node is protected when IMDSv2 is required with a PUT response hop limit of 1 (a pod's
//! request crosses one more hop and gets no token), when the metadata endpoint is disabled, or
//! when the documented iptables rule drops pod traffic to 169.254.169.254
//! (`iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP`,
//! plus `iptables -t mangle -A POSTROUTING -o vlan+ --destination 169.254.169.254/32 --jump DROP`
//! when security groups for pods put pods on branch ENIs).

use super::net::ipv4_contains;
use emrguard_model::aws::ec2::MetadataOptions;
use emrguard_model::k8s::{NetworkPolicy, ObjectMeta};
use emrguard_model::node::IptablesRule;
use emrguard_model::{EstateIndex, Located};
use k8s_openapi::api::networking::v1::NetworkPolicyEgressRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Where a metadata setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Written in the launch template or observed on the instance.
    Explicit,
    /// The AL2023 managed-node-group defaults (IMDSv2 required, hop limit 1; EKS user guide,
    /// `al2023.adoc`).
    Al2023Default,
    /// Not written anywhere in the snapshot; the default depends on the AMI and account settings
    /// (domain.md §9.7, UNCERTAIN).
    Unknown,
    /// Karpenter's `EC2NodeClass` defaults (v1 CRD: `httpTokens: required`,
    /// `httpPutResponseHopLimit: 1`, `httpEndpoint: enabled`).
    KarpenterDefault,
}

/// What unset metadata options default to.
#[derive(Debug, Clone, Copy)]
struct Defaults {
    tokens: Option<&'static str>,
    hop: Option<i64>,
    source: Source,
}

impl Defaults {
    /// Nothing known (domain.md §9.7).
    const UNKNOWN: Defaults = Defaults {
        tokens: None,
        hop: None,
        source: Source::Unknown,
    };

    /// IMDSv2 required, hop limit 1, from `source`.
    const fn secure(source: Source) -> Defaults {
        Defaults {
            tokens: Some("required"),
            hop: Some(1),
            source,
        }
    }
}

/// The effective metadata options of a launch template or instance.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub endpoint_disabled: bool,
    pub tokens: Option<String>,
    pub tokens_source: Source,
    pub hop: Option<i64>,
    pub hop_source: Source,
}

impl Metadata {
    /// From explicit options, filling gaps with AL2023 defaults when `al2023`.
    pub fn resolve(opts: Option<&MetadataOptions>, al2023: bool) -> Metadata {
        let defaults = if al2023 {
            Defaults::secure(Source::Al2023Default)
        } else {
            Defaults::UNKNOWN
        };
        Metadata::from_fields(
            opts.and_then(|o| o.http_endpoint.as_deref()),
            opts.and_then(|o| o.http_tokens.as_deref()),
            opts.and_then(|o| o.http_put_response_hop_limit),
            defaults,
        )
    }

    /// From an `EC2NodeClass`'s `metadataOptions`, gaps filled with Karpenter's defaults (the
    /// v1 CRD's `default:` values; the API server applies them, so a `kubectl get` usually
    /// shows them written out).
    pub fn karpenter(opts: Option<&emrguard_model::k8s::KarpenterMetadataOptions>) -> Metadata {
        Metadata::from_fields(
            opts.and_then(|o| o.http_endpoint.as_deref()),
            opts.and_then(|o| o.http_tokens.as_deref()),
            opts.and_then(|o| o.http_put_response_hop_limit),
            Defaults::secure(Source::KarpenterDefault),
        )
    }

    /// The settings as written (EC2's PascalCase and Karpenter's camelCase fields alike), gaps
    /// filled from `defaults`.
    fn from_fields(
        endpoint: Option<&str>,
        tokens: Option<&str>,
        hop: Option<i64>,
        defaults: Defaults,
    ) -> Metadata {
        let (tokens, tokens_source) = match tokens {
            Some(t) => (Some(t.to_ascii_lowercase()), Source::Explicit),
            None => (defaults.tokens.map(str::to_owned), defaults.source),
        };
        let (hop, hop_source) = match hop {
            Some(h) if h > 0 => (Some(h), Source::Explicit),
            _ => (defaults.hop, defaults.source),
        };
        Metadata {
            endpoint_disabled: endpoint.is_some_and(|e| e.eq_ignore_ascii_case("disabled")),
            tokens,
            tokens_source,
            hop,
            hop_source,
        }
    }

    /// Pods cannot obtain credentials from IMDS.
    pub fn blocks_pods(&self) -> bool {
        self.endpoint_disabled
            || (self.tokens.as_deref() == Some("required") && self.hop == Some(1))
    }

    /// Whether the verdict rests only on explicit settings (no unknown default involved).
    pub fn certain(&self) -> bool {
        self.endpoint_disabled
            || (self.tokens_source != Source::Unknown && self.hop_source != Source::Unknown)
            || self.tokens.as_deref() == Some("optional")
            || self.hop.is_some_and(|h| h > 1)
    }

    pub fn uses_al2023_defaults(&self) -> bool {
        self.tokens_source == Source::Al2023Default || self.hop_source == Source::Al2023Default
    }

    /// `HttpTokens: optional, HttpPutResponseHopLimit: 2`, with where unset values come from.
    pub fn describe(&self) -> String {
        if self.endpoint_disabled {
            return "HttpEndpoint: disabled".to_owned();
        }
        let tokens = match (&self.tokens, self.tokens_source) {
            (Some(t), Source::Explicit) => t.clone(),
            (Some(t), Source::Al2023Default) => format!("{t} (AL2023 default)"),
            (Some(t), Source::KarpenterDefault) => format!("{t} (Karpenter default)"),
            _ => "not set (default depends on the AMI and account settings)".to_owned(),
        };
        let hop = match (self.hop, self.hop_source) {
            (Some(h), Source::Explicit) => h.to_string(),
            (Some(h), Source::Al2023Default) => format!("{h} (AL2023 default)"),
            (Some(h), Source::KarpenterDefault) => format!("{h} (Karpenter default)"),
            _ => "not set".to_owned(),
        };
        format!("HttpTokens: {tokens}, HttpPutResponseHopLimit: {hop}")
    }

    /// Why pods reach IMDS with these settings.
    pub fn why_reachable(&self) -> String {
        match (self.tokens.as_deref(), self.hop) {
            (Some("optional"), _) => {
                "IMDSv1 is allowed, so any pod gets credentials with a plain GET".to_owned()
            }
            (Some("required"), Some(h)) if h > 1 => format!(
                "the hop limit {h} lets IMDSv2 tokens reach pods"
            ),
            (None, _) => "IMDSv1 may be allowed (HttpTokens is not set; UNCERTAIN: the default depends on the AMI and the account's IMDS defaults)".to_owned(),
            _ => "the hop limit is not set (UNCERTAIN: the default depends on the AMI)".to_owned(),
        }
    }
}

/// The documented pod block: `-A/-I FORWARD -i eni+ -d 169.254.169.254/32 -j DROP` (filter).
pub fn eni_block(rules: &[IptablesRule]) -> Option<&IptablesRule> {
    rules
        .iter()
        .find(|r| r.drops_imds("filter", "FORWARD", "eni", false))
}

/// The branch-ENI block: `-t mangle -A POSTROUTING -o vlan+ -d 169.254.169.254/32 -j DROP`.
pub fn vlan_block(rules: &[IptablesRule]) -> Option<&IptablesRule> {
    rules
        .iter()
        .find(|r| r.drops_imds("mangle", "POSTROUTING", "vlan", true))
}

/// Evidence that security groups for pods are in use (pods on branch ENIs `vlan*`): the VPC
/// CNI's `ENABLE_POD_ENI=true` (aws-node env or add-on configuration) or SecurityGroupPolicy
/// objects.
pub fn security_groups_for_pods(index: &EstateIndex<'_>) -> Option<String> {
    let k = &index.snap.k8s;
    for ds in &k.daemon_sets {
        if ds.metadata.name.as_deref() != Some("aws-node") {
            continue;
        }
        let spec = ds.spec.template.spec.as_ref();
        for c in spec.iter().flat_map(|s| s.containers.iter()) {
            for e in c.env.iter().flatten() {
                if e.name == "ENABLE_POD_ENI"
                    && e.value
                        .as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
                {
                    return Some("the aws-node DaemonSet sets ENABLE_POD_ENI=true".to_owned());
                }
            }
        }
    }
    for a in &index.snap.addons {
        if a.addon_name == "vpc-cni" {
            if let Some(cfg) = a.configuration_values.as_deref() {
                if config_flag(cfg, "ENABLE_POD_ENI") == Some(true) {
                    return Some(
                        "the vpc-cni add-on configuration sets ENABLE_POD_ENI=true".to_owned(),
                    );
                }
            }
        }
    }
    k.other
        .iter()
        .find(|o| o.kind == "SecurityGroupPolicy")
        .map(|o| {
            format!(
                "SecurityGroupPolicy `{}/{}` exists",
                o.metadata.namespace.as_deref().unwrap_or(""),
                o.metadata.name.as_deref().unwrap_or("")
            )
        })
}

/// `"KEY": "true"` / `KEY: true` in an add-on configuration (JSON or YAML text).
fn config_flag(cfg: &str, key: &str) -> Option<bool> {
    let pos = cfg.find(key)?;
    let rest = cfg.get(pos + key.len()..)?;
    let rest = rest.trim_start_matches(['"', '\'', ' ', ':', '\t']);
    let word: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    match word.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// What enforces NetworkPolicies, as far as the snapshot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyEngine {
    /// An engine is configured (what).
    Running(String),
    /// The VPC CNI network policy agent is present but switched off, and no other engine seen.
    Disabled(String),
    /// Nothing in the snapshot says.
    Unknown,
}

pub fn policy_engine(index: &EstateIndex<'_>) -> PolicyEngine {
    let k = &index.snap.k8s;
    const ENGINES: [&str; 6] = [
        "calico-node",
        "cilium",
        "antrea-agent",
        "kube-router",
        "weave-net",
        "canal",
    ];
    for ds in &k.daemon_sets {
        let name = ds.metadata.name.as_deref().unwrap_or("");
        if ENGINES.contains(&name) {
            return PolicyEngine::Running(format!("DaemonSet `{name}`"));
        }
    }
    let mut disabled = None;
    for ds in &k.daemon_sets {
        if ds.metadata.name.as_deref() != Some("aws-node") {
            continue;
        }
        let spec = ds.spec.template.spec.as_ref();
        for c in spec.iter().flat_map(|s| s.containers.iter()) {
            if c.name != "aws-eks-nodeagent" {
                continue;
            }
            for a in c.args.iter().flatten() {
                if let Some(v) = a.strip_prefix("--enable-network-policy=") {
                    if v.eq_ignore_ascii_case("true") {
                        return PolicyEngine::Running(
                            "the VPC CNI network policy agent (aws-eks-nodeagent --enable-network-policy=true)"
                                .to_owned(),
                        );
                    }
                    disabled = Some(
                        "the VPC CNI network policy agent runs with --enable-network-policy=false"
                            .to_owned(),
                    );
                }
            }
        }
    }
    for a in &index.snap.addons {
        if a.addon_name == "vpc-cni" {
            if let Some(cfg) = a.configuration_values.as_deref() {
                match config_flag(cfg, "enableNetworkPolicy") {
                    Some(true) => {
                        return PolicyEngine::Running(
                            "the vpc-cni add-on (enableNetworkPolicy: true)".to_owned(),
                        )
                    }
                    Some(false) => {
                        disabled =
                            Some("the vpc-cni add-on sets enableNetworkPolicy: false".to_owned())
                    }
                    None => {}
                }
            }
        }
    }
    disabled.map_or(PolicyEngine::Unknown, PolicyEngine::Disabled)
}

fn selects_all(s: Option<&LabelSelector>) -> bool {
    s.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(|l| l.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    })
}

/// Whether a NetworkPolicy egress rule lets traffic reach 169.254.169.254:80.
fn rule_allows_imds(r: &NetworkPolicyEgressRule) -> bool {
    let port_ok = match &r.ports {
        None => true,
        Some(ps) if ps.is_empty() => true,
        Some(ps) => ps.iter().any(|p| {
            let proto_ok = p.protocol.as_deref().is_none_or(|x| x == "TCP");
            let port_ok = match &p.port {
                None => true,
                Some(IntOrString::Int(n)) => {
                    let end = p.end_port.unwrap_or(*n);
                    *n <= 80 && 80 <= end
                }
                Some(IntOrString::String(s)) => s == "http",
            };
            proto_ok && port_ok
        }),
    };
    if !port_ok {
        return false;
    }
    match &r.to {
        None => true,
        Some(peers) if peers.is_empty() => true,
        Some(peers) => peers.iter().any(|p| {
            p.ip_block.as_ref().is_some_and(|b| {
                ipv4_contains(&b.cidr, "169.254.169.254")
                    && !b
                        .except
                        .iter()
                        .flatten()
                        .any(|e| ipv4_contains(e, "169.254.169.254"))
            })
        }),
    }
}

fn isolates_egress(p: &NetworkPolicy) -> bool {
    let Some(spec) = p.spec.as_ref() else {
        return false;
    };
    match &spec.policy_types {
        Some(t) => t.iter().any(|x| x == "Egress"),
        None => spec.egress.is_some(),
    }
}

/// NetworkPolicies of `ns` that deny egress to IMDS for every pod, and none that allows it.
/// Returns the denying policies' names, or `None` when the namespace is not covered.
pub fn netpol_blocks_imds<'s>(index: &EstateIndex<'s>, ns: &str) -> Option<Vec<&'s ObjectMeta>> {
    let pols: Vec<&'s Located<NetworkPolicy>> = index
        .snap
        .k8s
        .network_policies
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .collect();
    let mut covering = Vec::new();
    for p in &pols {
        let Some(spec) = p.spec.as_ref() else {
            continue;
        };
        if !isolates_egress(p) {
            continue;
        }
        let allows = spec.egress.iter().flatten().any(rule_allows_imds);
        if allows {
            // Policies add up: one that lets any pod reach IMDS defeats the others for those
            // pods.
            return None;
        }
        if selects_all(spec.pod_selector.as_ref()) {
            covering.push(&p.metadata);
        }
    }
    (!covering.is_empty()).then_some(covering)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_verdicts() {
        let opt = |t: Option<&str>, h: Option<i64>| MetadataOptions {
            http_tokens: t.map(str::to_owned),
            http_put_response_hop_limit: h,
            ..Default::default()
        };
        assert!(Metadata::resolve(Some(&opt(Some("required"), Some(1))), false).blocks_pods());
        assert!(!Metadata::resolve(Some(&opt(Some("required"), Some(2))), false).blocks_pods());
        assert!(!Metadata::resolve(Some(&opt(Some("optional"), Some(1))), false).blocks_pods());
        let d = Metadata::resolve(None, true);
        assert!(d.blocks_pods() && d.uses_al2023_defaults());
        let u = Metadata::resolve(None, false);
        assert!(!u.blocks_pods() && !u.certain());
        let disabled = MetadataOptions {
            http_endpoint: Some("disabled".into()),
            ..Default::default()
        };
        assert!(Metadata::resolve(Some(&disabled), false).blocks_pods());
    }

    fn snapshot_with_policies(docs: &[&str]) -> emrguard_model::Snapshot {
        let mut s = emrguard_model::Snapshot::default();
        s.virtual_clusters.push(Located::new(
            serde_json::from_str(
                r#"{"id":"vc1","name":"a","state":"RUNNING","containerProvider":{"type":"EKS","id":"c","info":{"eksInfo":{"namespace":"spark-a"}}}}"#,
            )
            .unwrap(),
            emrguard_model::SourceLoc::new("vc.json", "", None),
        ));
        for d in docs {
            s.k8s.network_policies.push(Located::new(
                serde_json::from_str(d).unwrap(),
                emrguard_model::SourceLoc::new("np.json", "", None),
            ));
        }
        s
    }

    const DENY: &str = r#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny-imds","namespace":"spark-a"},
        "spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"0.0.0.0/0","except":["169.254.169.254/32"]}}]}]}}"#;

    #[test]
    fn network_policies_that_deny_imds_egress() {
        let s = snapshot_with_policies(&[DENY]);
        let idx = EstateIndex::build(&s);
        assert_eq!(netpol_blocks_imds(&idx, "spark-a").unwrap().len(), 1);
        assert!(netpol_blocks_imds(&idx, "spark-b").is_none());
        // An allow-all egress policy in the same namespace defeats it (policies add up).
        let allow = r#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-all","namespace":"spark-a"},
            "spec":{"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}],"egress":[{}]}}"#;
        let s = snapshot_with_policies(&[DENY, allow]);
        let idx = EstateIndex::build(&s);
        assert!(netpol_blocks_imds(&idx, "spark-a").is_none());
        // DNS-only egress does not reach IMDS on port 80.
        let dns = r#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"dns","namespace":"spark-a"},
            "spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"ports":[{"protocol":"UDP","port":53}]}]}}"#;
        let s = snapshot_with_policies(&[dns]);
        let idx = EstateIndex::build(&s);
        assert_eq!(netpol_blocks_imds(&idx, "spark-a").unwrap().len(), 1);
        assert_eq!(policy_engine(&idx), PolicyEngine::Unknown);
    }

    #[test]
    fn addon_flags() {
        assert_eq!(
            config_flag(r#"{"enableNetworkPolicy": "true"}"#, "enableNetworkPolicy"),
            Some(true)
        );
        assert_eq!(
            config_flag("env:\n  ENABLE_POD_ENI: \"false\"\n", "ENABLE_POD_ENI"),
            Some(false)
        );
        assert_eq!(config_flag("{}", "ENABLE_POD_ENI"), None);
    }
}

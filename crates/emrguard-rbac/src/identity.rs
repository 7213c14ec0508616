//! IAM principal ↔ Kubernetes identity: the `aws-auth` ConfigMap, EKS access entries and the
//! EKS access policies associated with them.
//!
//! [`IdentityMap`] answers two questions the `rbac` findings need:
//!
//! - which IAM principals become a given Kubernetes User or Group ([`IdentityMap::mappings_for`],
//!   [`IdentityMap::iam_principals`]), so a finding can list `iam_principals` and the path
//!   IAM principal → aws-auth entry / access entry → binding → role → rule;
//! - which EKS access policies a principal holds ([`IdentityMap::access_policy_bindings`]); they
//!   are fed to [`crate::RbacGraph::new`] as synthetic bindings of the IAM principal.
//!
//! Modelling choices (each is an over-approximation, so no access is missed):
//!
//! - ARNs are compared case-insensitively after canonicalisation: an STS `assumed-role` ARN
//!   becomes its role ARN, and a role ARN loses its path. aws-iam-authenticator canonicalises
//!   the *caller* this way, and the EKS docs say `aws-auth` ARNs "can't include a path"
//!   (aws-iam-authenticator#268: an entry with a path never matches). emrguard still matches such
//!   an entry to the role and marks it [`Mapping::path_in_arn`], so the rules can say the entry is
//!   probably dead instead of silently dropping it.
//! - An `aws-auth` entry and an access entry for the same principal are both kept; EKS prefers
//!   the access entry, so the aws-auth one is marked [`Mapping::shadowed`].
//! - Username templates (`{{SessionName}}`, `{{SessionNameRaw}}`, `{{EC2PrivateDNSName}}`,
//!   `{{AccessKeyID}}`) stay patterns and match any non-empty text; `{{AccountID}}` is the
//!   principal's account.
//! - An `aws-auth` entry without `username` maps to the principal's canonical ARN.

use crate::graph::iam_kind_and_name;
use emrguard_model::aws::eks;
use emrguard_model::k8s::ConfigMap;
use emrguard_model::{Located, SourceLoc, Subject};
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// Largest `aws-auth` value parsed (a ConfigMap holds at most 1 MiB in all).
pub const MAX_AWS_AUTH_VALUE: usize = 1 << 20;

/// The Kubernetes user EMR on EKS acts as (eksctl `--service-name emr-containers`).
pub const EMR_USER: &str = "emr-containers";
/// EMR on EKS's service-linked role name.
pub const EMR_SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForAmazonEMRContainers";

/// Access-policy scope, as in `list-associated-access-policies`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessScope {
    Cluster,
    /// Namespace names, each possibly with `*` wildcards ([`namespace_pattern_matches`]).
    Namespaces(Vec<String>),
}

impl AccessScope {
    /// Whether the scope covers namespace `ns` (a cluster scope covers every namespace).
    pub fn covers(&self, ns: &str) -> bool {
        match self {
            AccessScope::Cluster => true,
            AccessScope::Namespaces(v) => v.iter().any(|p| namespace_pattern_matches(p, ns)),
        }
    }
}

/// Whether an access-scope namespace entry matches namespace `ns`. The EKS User Guide,
/// "Associate access policies with access entries": "You can use wildcard characters for a
/// namespace name. For example, if you want to scope an access policy to all namespaces that
/// start with `dev-`, you can specify `dev-*`". EKS documents only `*`, and not where it may
/// stand; emrguard lets `*` match any run of characters (also empty) anywhere in the entry, the
/// reading that never misses a namespace the association may cover. Every other character,
/// `?` included, is literal.
pub fn namespace_pattern_matches(pattern: &str, ns: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == ns;
    }
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = ns.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let last = parts.pop().unwrap_or("");
    for mid in parts {
        if mid.is_empty() {
            continue;
        }
        match rest.find(mid) {
            Some(i) => rest = rest.get(i + mid.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// One access policy associated with an access entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyInput {
    /// `arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`.
    pub policy_arn: String,
    pub scope: AccessScope,
    pub loc: Option<SourceLoc>,
}

/// An EKS access entry (`describe-access-entry` + `list-associated-access-policies`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessEntryInput {
    pub principal_arn: String,
    /// `None`: the EKS default for the entry type (see [`default_username`]).
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
    /// `STANDARD` (the default when `None`), `EC2_LINUX`, `EC2_WINDOWS`, `FARGATE_LINUX`,
    /// `HYBRID_LINUX`, `EC2`, `HYPERPOD_LINUX`.
    pub type_: Option<String>,
    pub policies: Vec<AccessPolicyInput>,
    pub loc: Option<SourceLoc>,
}

/// `bootstrapClusterCreatorAdminPermissions`: EKS gives the cluster creator an access entry with
/// `AmazonEKSClusterAdminPolicy` (cluster scope). The creator's ARN is not in
/// `describe-cluster`; pass it when known (e.g. from CloudTrail `CreateCluster`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterCreator {
    pub bootstrap_admin: bool,
    pub creator_arn: Option<String>,
    pub loc: Option<SourceLoc>,
}

/// An access-policy association, ready for [`crate::RbacGraph`]: the principal holds the
/// policy's rules in `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyBinding {
    pub principal_arn: String,
    /// The Kubernetes username the principal gets (for evidence).
    pub username: String,
    pub policy_arn: String,
    /// The last segment of `policy_arn`, e.g. `AmazonEKSEditPolicy`.
    pub policy_name: String,
    pub scope: AccessScope,
    /// Whether emrguard knows the policy's rules ([`PolicyCatalog`]).
    pub known: bool,
    /// The rules are an assumption (AmazonEMRJobPolicy): findings must say so.
    pub uncertain: bool,
    pub loc: Option<SourceLoc>,
}

/// The parsed `kube-system/aws-auth` ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsAuth {
    pub map_roles: Vec<AwsAuthEntry>,
    pub map_users: Vec<AwsAuthEntry>,
    /// Account ids whose every IAM user and role may authenticate (username = ARN, no groups).
    pub map_accounts: Vec<String>,
    pub loc: Option<SourceLoc>,
}

/// One `mapRoles` / `mapUsers` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsAuthEntry {
    /// `rolearn` or `userarn` as written.
    pub arn: String,
    pub username: Option<String>,
    pub groups: Vec<String>,
}

/// Malformed `aws-auth` content: which key, where inside its YAML, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("aws-auth {key}{}: {message}", position(*.line, *.column))]
pub struct AwsAuthError {
    pub key: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

fn aws_auth_err(key: &str, message: impl Into<String>) -> AwsAuthError {
    AwsAuthError {
        key: key.to_owned(),
        line: None,
        column: None,
        message: message.into(),
    }
}

fn parse_yaml_value(key: &str, text: &str) -> Result<serde_yaml_ng::Value, AwsAuthError> {
    if text.len() > MAX_AWS_AUTH_VALUE {
        return Err(aws_auth_err(
            key,
            format!(
                "{} bytes, more than the {MAX_AWS_AUTH_VALUE} a ConfigMap can hold",
                text.len()
            ),
        ));
    }
    serde_yaml_ng::from_str(text).map_err(|e| {
        let loc = e.location();
        AwsAuthError {
            key: key.to_owned(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: e.to_string(),
        }
    })
}

fn scalar_string(v: &serde_yaml_ng::Value) -> Option<String> {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Entries of `mapRoles` / `mapUsers`. Field names are matched case-insensitively, as Go's JSON
/// decoding (behind aws-iam-authenticator's YAML) does; unknown fields are ignored.
fn parse_entries(
    key: &str,
    arn_field: &str,
    text: &str,
) -> Result<Vec<AwsAuthEntry>, AwsAuthError> {
    use serde_yaml_ng::Value;
    let value = parse_yaml_value(key, text)?;
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        _ => return Err(aws_auth_err(key, "expected a YAML list of entries")),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Value::Mapping(map) = item else {
            return Err(aws_auth_err(key, format!("entry {i} is not a mapping")));
        };
        let mut entry = AwsAuthEntry::default();
        for (k, v) in map {
            let Some(k) = k.as_str() else { continue };
            let k = k.to_ascii_lowercase();
            if k == arn_field {
                entry.arn = scalar_string(v).ok_or_else(|| {
                    aws_auth_err(key, format!("entry {i}: `{arn_field}` is not a string"))
                })?;
            } else if k == "username" {
                entry.username = Some(scalar_string(v).ok_or_else(|| {
                    aws_auth_err(key, format!("entry {i}: `username` is not a string"))
                })?);
            } else if k == "groups" {
                entry.groups = match v {
                    Value::Null => Vec::new(),
                    Value::Sequence(gs) => gs
                        .iter()
                        .map(|g| {
                            scalar_string(g).ok_or_else(|| {
                                aws_auth_err(key, format!("entry {i}: a group is not a string"))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(aws_auth_err(
                            key,
                            format!("entry {i}: `groups` is not a list"),
                        ))
                    }
                };
            }
        }
        if entry.arn.trim().is_empty() {
            return Err(aws_auth_err(key, format!("entry {i} has no `{arn_field}`")));
        }
        entry.arn = entry.arn.trim().to_owned();
        out.push(entry);
    }
    Ok(out)
}

/// Parse the `data` of the `aws-auth` ConfigMap (`mapRoles`, `mapUsers`, `mapAccounts` are YAML
/// documents inside string values). Malformed content is an error naming the key and the line
/// and column inside that key's YAML.
pub fn parse_aws_auth(
    data: &BTreeMap<String, String>,
    loc: Option<SourceLoc>,
) -> Result<AwsAuth, AwsAuthError> {
    use serde_yaml_ng::Value;
    let mut out = AwsAuth {
        loc,
        ..AwsAuth::default()
    };
    if let Some(t) = data.get("mapRoles") {
        out.map_roles = parse_entries("mapRoles", "rolearn", t)?;
    }
    if let Some(t) = data.get("mapUsers") {
        out.map_users = parse_entries("mapUsers", "userarn", t)?;
    }
    if let Some(t) = data.get("mapAccounts") {
        out.map_accounts = match parse_yaml_value("mapAccounts", t)? {
            Value::Null => Vec::new(),
            Value::Sequence(items) => items
                .iter()
                .map(|v| {
                    scalar_string(v)
                        .map(|s| s.trim().to_owned())
                        .ok_or_else(|| aws_auth_err("mapAccounts", "an account id is not a string"))
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(aws_auth_err(
                    "mapAccounts",
                    "expected a YAML list of account ids",
                ))
            }
        };
    }
    Ok(out)
}

/// Parse the `kube-system/aws-auth` ConfigMap of a snapshot (`None` when there is none).
pub fn aws_auth_from_config_maps(
    config_maps: &[Located<ConfigMap>],
) -> Option<Result<AwsAuth, AwsAuthError>> {
    let cm = config_maps.iter().find(|c| {
        c.metadata.name.as_deref() == Some("aws-auth")
            && c.metadata.namespace.as_deref() == Some("kube-system")
    })?;
    let empty = BTreeMap::new();
    Some(parse_aws_auth(
        cm.data.as_ref().unwrap_or(&empty),
        Some(cm.loc.child("data")),
    ))
}

impl AccessEntryInput {
    /// From the snapshot's `describe-access-entry` and `list-associated-access-policies` objects
    /// (policies are matched to the entry by principal ARN, in any form).
    pub fn from_model(
        entry: &Located<eks::AccessEntry>,
        policies: &[Located<eks::AssociatedAccessPolicies>],
    ) -> AccessEntryInput {
        let principal = canonical_principal(&entry.principal_arn);
        let mut out = Vec::new();
        for list in policies
            .iter()
            .filter(|p| canonical_principal(&p.principal_arn) == principal)
        {
            for (i, p) in list.associated_access_policies.iter().enumerate() {
                let scope = if p.access_scope.scope_type.eq_ignore_ascii_case("namespace") {
                    AccessScope::Namespaces(p.access_scope.namespaces.clone())
                } else {
                    // `cluster`, or anything unknown: the wider reading.
                    AccessScope::Cluster
                };
                out.push(AccessPolicyInput {
                    policy_arn: p.policy_arn.clone(),
                    scope,
                    loc: Some(list.loc.child("associatedAccessPolicies").child(i)),
                });
            }
        }
        AccessEntryInput {
            principal_arn: entry.principal_arn.clone(),
            username: entry.username.clone(),
            kubernetes_groups: entry.kubernetes_groups.clone(),
            type_: entry.entry_type.clone(),
            policies: out,
            loc: Some(entry.loc.clone()),
        }
    }
}

/// The parts of an ARN: partition, service, account, resource.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(_region), Some(account), Some(resource)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    Some((partition, service, account, resource))
}

/// The account id of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn_parts(arn).map(|p| p.2)
}

/// The canonical, lower-cased form aws-iam-authenticator compares: `assumed-role/R/S` → `role/R`,
/// role paths removed. Anything that is not an IAM/STS ARN is lower-cased only.
pub fn canonical_principal(arn: &str) -> String {
    canonical_arn(arn).to_ascii_lowercase()
}

/// [`canonical_principal`] without lower-casing (for display and default usernames).
fn canonical_arn(arn: &str) -> String {
    let arn = arn.trim();
    let Some((partition, service, account, resource)) = arn_parts(arn) else {
        return arn.to_owned();
    };
    match (service, resource.split_once('/')) {
        ("sts", Some(("assumed-role", rest))) => {
            let role = rest.split('/').next().unwrap_or(rest);
            format!("arn:{partition}:iam::{account}:role/{role}")
        }
        ("iam", Some(("role", rest))) => {
            let role = rest.rsplit('/').next().unwrap_or(rest);
            format!("arn:{partition}:iam::{account}:role/{role}")
        }
        _ => arn.to_owned(),
    }
}

/// Whether an IAM role ARN carries a path (`role/some/path/name`).
fn role_has_path(arn: &str) -> bool {
    arn_parts(arn).is_some_and(|(_, service, _, resource)| {
        service == "iam"
            && resource
                .strip_prefix("role/")
                .is_some_and(|r| r.contains('/'))
    })
}

/// Whether `arn` is EMR on EKS's service-linked role (with or without its
/// `aws-service-role/emr-containers.amazonaws.com/` path).
pub fn is_emr_service_linked_role(arn: &str) -> bool {
    canonical_principal(arn).ends_with(&format!(
        ":role/{}",
        EMR_SERVICE_LINKED_ROLE.to_ascii_lowercase()
    ))
}

/// The username EKS gives an access entry without one (EKS User Guide, "Create access entries").
pub fn default_username(principal_arn: &str, type_: Option<&str>) -> String {
    match type_.map(str::to_ascii_uppercase).as_deref() {
        Some("EC2_LINUX" | "EC2_WINDOWS" | "EC2") => "system:node:{{EC2PrivateDNSName}}".to_owned(),
        Some("FARGATE_LINUX" | "HYBRID_LINUX" | "HYPERPOD_LINUX") => {
            "system:node:{{SessionName}}".to_owned()
        }
        _ => match arn_parts(principal_arn) {
            Some((partition, "iam", account, resource)) if resource.starts_with("role/") => {
                let role = resource.rsplit('/').next().unwrap_or(resource);
                format!("arn:{partition}:sts::{account}:assumed-role/{role}/{{{{SessionName}}}}")
            }
            _ => principal_arn.to_owned(),
        },
    }
}

/// Groups EKS adds for node-type access entries.
fn default_groups(type_: Option<&str>) -> Vec<String> {
    match type_.map(str::to_ascii_uppercase).as_deref() {
        Some("EC2_LINUX" | "EC2" | "HYBRID_LINUX" | "HYPERPOD_LINUX") => {
            vec!["system:nodes".into()]
        }
        Some("EC2_WINDOWS") => vec!["system:nodes".into(), "eks:kube-proxy-windows".into()],
        Some("FARGATE_LINUX") => vec!["system:nodes".into(), "system:node-proxier".into()],
        _ => Vec::new(),
    }
}

/// Whether a concrete username matches a template (`{{X}}` = any non-empty text,
/// `{{AccountID}}` = `account`).
pub fn username_matches(template: &str, name: &str, account: Option<&str>) -> bool {
    // Split into literal segments separated by placeholders.
    let mut parts: Vec<Option<String>> = Vec::new(); // Some(literal) / None (wildcard)
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest.get(start..).and_then(|s| s.find("}}")) else {
            break;
        };
        let (lit, after) = rest.split_at(start);
        let placeholder = after.get(2..len).unwrap_or("");
        parts.push(Some(lit.to_owned()));
        match (placeholder, account) {
            ("AccountID", Some(acct)) => parts.push(Some(acct.to_owned())),
            _ => parts.push(None),
        }
        rest = after.get(len + 2..).unwrap_or("");
    }
    parts.push(Some(rest.to_owned()));
    glob(&parts, name)
}

fn glob(parts: &[Option<String>], s: &str) -> bool {
    match parts.split_first() {
        None => s.is_empty(),
        Some((Some(lit), tail)) => s.strip_prefix(lit.as_str()).is_some_and(|r| glob(tail, r)),
        Some((None, tail)) => s
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .filter(|&i| i > 0)
            .any(|i| s.get(i..).is_some_and(|r| glob(tail, r))),
    }
}

/// Where a mapping comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MappingSource {
    /// `aws-auth` `mapRoles[i]`.
    AwsAuthMapRoles(usize),
    /// `aws-auth` `mapUsers[i]`.
    AwsAuthMapUsers(usize),
    /// `aws-auth` `mapAccounts[i]`: every principal of the account.
    AwsAuthMapAccounts(usize),
    AccessEntry,
    /// The cluster creator's implicit admin access (`bootstrapClusterCreatorAdminPermissions`).
    ClusterCreator,
}

/// One way an IAM principal becomes a Kubernetes identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The principal ARN as written; for `mapAccounts`, `arn:aws:iam::<account>:*`.
    pub principal: String,
    pub source: MappingSource,
    /// Kubernetes username (may hold `{{...}}` templates).
    pub username: String,
    pub groups: Vec<String>,
    /// An `aws-auth` role ARN with a path: EKS says such entries do not match (see module docs).
    pub path_in_arn: bool,
    /// An `aws-auth` entry for a principal that also has an access entry: EKS uses the access
    /// entry.
    pub shadowed: bool,
    pub loc: Option<SourceLoc>,
}

impl Mapping {
    /// Whether `arn` (any form: role, assumed-role, user) is this mapping's principal.
    pub fn matches_principal(&self, arn: &str) -> bool {
        match self.source {
            MappingSource::AwsAuthMapAccounts(_) => {
                arn_account(&self.principal).is_some()
                    && arn_account(&self.principal) == arn_account(arn)
            }
            _ => canonical_principal(&self.principal) == canonical_principal(arn),
        }
    }

    /// A step for a finding's path: `aws-auth mapRoles[3]`, `AccessEntry <arn>`.
    pub fn path_step(&self) -> emrguard_model::PathStep {
        use emrguard_model::{Kind, PathStep};
        let detail = format!(
            "username {}, groups [{}]",
            self.username,
            self.groups.join(",")
        );
        let step = match &self.source {
            MappingSource::AwsAuthMapRoles(i) => PathStep::new(Kind::ConfigMap, "aws-auth")
                .namespace(Some("kube-system"))
                .detail(format!("mapRoles[{i}]: {detail}")),
            MappingSource::AwsAuthMapUsers(i) => PathStep::new(Kind::ConfigMap, "aws-auth")
                .namespace(Some("kube-system"))
                .detail(format!("mapUsers[{i}]: {detail}")),
            MappingSource::AwsAuthMapAccounts(i) => PathStep::new(Kind::ConfigMap, "aws-auth")
                .namespace(Some("kube-system"))
                .detail(format!(
                    "mapAccounts[{i}]: every principal of the account, {detail}"
                )),
            MappingSource::AccessEntry => PathStep::new(Kind::AccessEntry, self.principal.clone())
                .arn(Some(&self.principal))
                .detail(detail),
            MappingSource::ClusterCreator => {
                PathStep::new(Kind::AccessEntry, self.principal.clone())
                    .arn(Some(&self.principal))
                    .detail("cluster creator (bootstrapClusterCreatorAdminPermissions)")
            }
        };
        step
    }
}

#[derive(Deserialize)]
struct CatalogDoc {
    items: Vec<ClusterRole>,
}

/// The EKS access policies emrguard knows (`data/eks-access-policies.yaml`).
#[derive(Debug, Default)]
pub struct PolicyCatalog {
    policies: BTreeMap<String, (Vec<PolicyRule>, bool)>,
    error: Option<String>,
}

impl PolicyCatalog {
    /// The catalog shipped in the crate, parsed once.
    pub fn builtin() -> &'static PolicyCatalog {
        static CATALOG: OnceLock<PolicyCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            match serde_yaml_ng::from_str::<CatalogDoc>(include_str!(
                "../data/eks-access-policies.yaml"
            )) {
                Ok(doc) => PolicyCatalog {
                    policies: doc
                        .items
                        .into_iter()
                        .filter_map(|cr| {
                            let uncertain = cr
                                .metadata
                                .annotations
                                .as_ref()
                                .is_some_and(|a| a.contains_key("emrguard.dev/uncertain"));
                            Some((cr.metadata.name?, (cr.rules.unwrap_or_default(), uncertain)))
                        })
                        .collect(),
                    error: None,
                },
                Err(e) => PolicyCatalog {
                    policies: BTreeMap::new(),
                    error: Some(e.to_string()),
                },
            }
        })
    }

    /// The rules of a policy, by name (`AmazonEKSEditPolicy`).
    pub fn rules(&self, name: &str) -> Option<&[PolicyRule]> {
        self.policies.get(name).map(|(r, _)| r.as_slice())
    }

    /// The policy's rules are an assumption (AmazonEMRJobPolicy).
    pub fn uncertain(&self, name: &str) -> bool {
        self.policies.get(name).is_some_and(|(_, u)| *u)
    }

    /// A parse error of the shipped data (a bug; tested to be `None`).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// `AmazonEKSEditPolicy` from `arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`.
pub fn policy_name(policy_arn: &str) -> &str {
    policy_arn.rsplit('/').next().unwrap_or(policy_arn)
}

/// All mappings of the cluster, and the access-policy associations.
#[derive(Debug, Clone, Default)]
pub struct IdentityMap {
    mappings: Vec<Mapping>,
    policies: Vec<AccessPolicyBinding>,
}

impl IdentityMap {
    /// Build from the parsed `aws-auth` (pass `None` when the cluster's authentication mode is
    /// `API`, which ignores it), the access entries, and the cluster creator.
    pub fn new(
        aws_auth: Option<&AwsAuth>,
        entries: &[AccessEntryInput],
        creator: &ClusterCreator,
    ) -> IdentityMap {
        let catalog = PolicyCatalog::builtin();
        let mut mappings = Vec::new();
        let mut policies = Vec::new();
        let mut with_entry: HashSet<String> = HashSet::new();
        for e in entries {
            with_entry.insert(canonical_principal(&e.principal_arn));
            let username = e
                .username
                .clone()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| default_username(&e.principal_arn, e.type_.as_deref()));
            let mut groups = default_groups(e.type_.as_deref());
            for g in &e.kubernetes_groups {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
            mappings.push(Mapping {
                principal: e.principal_arn.clone(),
                source: MappingSource::AccessEntry,
                username: username.clone(),
                groups,
                path_in_arn: false,
                shadowed: false,
                loc: e.loc.clone(),
            });
            for p in &e.policies {
                let name = policy_name(&p.policy_arn).to_owned();
                policies.push(AccessPolicyBinding {
                    principal_arn: e.principal_arn.clone(),
                    username: username.clone(),
                    policy_arn: p.policy_arn.clone(),
                    known: catalog.rules(&name).is_some(),
                    uncertain: catalog.uncertain(&name),
                    policy_name: name,
                    scope: p.scope.clone(),
                    loc: p.loc.clone().or_else(|| e.loc.clone()),
                });
            }
        }
        if creator.bootstrap_admin {
            if let Some(arn) = &creator.creator_arn {
                // The creator's implicit entry is a real access entry in `list-access-entries`
                // too; add it only when the snapshot does not already have it.
                if !with_entry.contains(&canonical_principal(arn)) {
                    let username = default_username(arn, None);
                    mappings.push(Mapping {
                        principal: arn.clone(),
                        source: MappingSource::ClusterCreator,
                        username: username.clone(),
                        groups: Vec::new(),
                        path_in_arn: false,
                        shadowed: false,
                        loc: creator.loc.clone(),
                    });
                    let policy_arn =
                        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
                            .to_owned();
                    policies.push(AccessPolicyBinding {
                        principal_arn: arn.clone(),
                        username,
                        policy_name: policy_name(&policy_arn).to_owned(),
                        policy_arn,
                        scope: AccessScope::Cluster,
                        known: true,
                        uncertain: false,
                        loc: creator.loc.clone(),
                    });
                }
            }
        }
        if let Some(a) = aws_auth {
            let entries = a
                .map_roles
                .iter()
                .enumerate()
                .map(|(i, e)| (MappingSource::AwsAuthMapRoles(i), e))
                .chain(
                    a.map_users
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (MappingSource::AwsAuthMapUsers(i), e)),
                );
            for (source, e) in entries {
                let canonical = canonical_principal(&e.arn);
                let default_username = canonical_arn(&e.arn);
                mappings.push(Mapping {
                    principal: e.arn.clone(),
                    source,
                    username: e
                        .username
                        .clone()
                        .filter(|u| !u.is_empty())
                        .unwrap_or(default_username),
                    groups: e.groups.clone(),
                    path_in_arn: role_has_path(&e.arn),
                    shadowed: with_entry.contains(&canonical),
                    loc: a.loc.clone(),
                });
            }
            for (i, acct) in a.map_accounts.iter().enumerate() {
                mappings.push(Mapping {
                    principal: format!("arn:aws:iam::{acct}:*"),
                    source: MappingSource::AwsAuthMapAccounts(i),
                    username: "{{ARN}}".to_owned(),
                    groups: Vec::new(),
                    path_in_arn: false,
                    shadowed: false,
                    loc: a.loc.clone(),
                });
            }
        }
        IdentityMap { mappings, policies }
    }

    /// Every mapping.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// The access-policy associations, for [`crate::RbacObjects::access_policies`].
    pub fn access_policy_bindings(&self) -> &[AccessPolicyBinding] {
        &self.policies
    }

    /// The access policies one principal holds (any ARN form).
    pub fn access_policies_for(&self, arn: &str) -> Vec<&AccessPolicyBinding> {
        let c = canonical_principal(arn);
        self.policies
            .iter()
            .filter(|p| canonical_principal(&p.principal_arn) == c)
            .collect()
    }

    /// The mappings of one principal (any ARN form), `mapAccounts` included.
    pub fn mappings_for_principal(&self, arn: &str) -> Vec<&Mapping> {
        self.mappings
            .iter()
            .filter(|m| m.matches_principal(arn))
            .collect()
    }

    /// The mappings that make some IAM principal into `subject`:
    ///
    /// - User: the username (template) matches; a `mapAccounts` entry matches user names that
    ///   are IAM ARNs of its account;
    /// - Group: the mapping lists the group; `system:authenticated` matches every mapping;
    /// - an IAM subject (one with `arn`): the mappings of that principal;
    /// - ServiceAccount: none (service accounts are not IAM principals).
    pub fn mappings_for(&self, subject: &Subject) -> Vec<&Mapping> {
        match subject.kind.as_str() {
            "User" => self
                .mappings
                .iter()
                .filter(|m| match m.source {
                    MappingSource::AwsAuthMapAccounts(_) => {
                        arn_account(&subject.name).is_some()
                            && arn_account(&subject.name) == arn_account(&m.principal)
                    }
                    _ => username_matches(&m.username, &subject.name, arn_account(&m.principal)),
                })
                .collect(),
            "Group" if subject.name == "system:authenticated" => self.mappings.iter().collect(),
            "Group" => self
                .mappings
                .iter()
                .filter(|m| m.groups.contains(&subject.name))
                .collect(),
            "ServiceAccount" => Vec::new(),
            _ => match &subject.arn {
                Some(arn) => self.mappings_for_principal(arn),
                None => Vec::new(),
            },
        }
    }

    /// The IAM principal ARNs behind `subject`, sorted and de-duplicated, for
    /// `Subject::iam_principals`.
    pub fn iam_principals(&self, subject: &Subject) -> Vec<String> {
        let mut out: Vec<String> = self
            .mappings_for(subject)
            .into_iter()
            .map(|m| m.principal.clone())
            .collect();
        if let Some(arn) = &subject.arn {
            out.push(arn.clone());
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A `Subject` for an IAM principal ARN (`IamRole` / `IamUser` / `IamPrincipal`).
pub fn iam_subject(arn: &str) -> Subject {
    let (kind, name) = iam_kind_and_name(arn);
    Subject {
        kind: kind.into(),
        name: name.to_owned(),
        namespace: None,
        arn: Some(arn.to_owned()),
        iam_principals: vec![arn.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespace_patterns() {
        let m = namespace_pattern_matches;
        assert!(m("emr", "emr"));
        assert!(!m("emr", "emr-a"));
        assert!(m("emr-*", "emr-a"));
        assert!(m("emr-*", "emr-"));
        assert!(!m("emr-*", "emr"));
        assert!(!m("emr-*", "xemr-a"));
        assert!(m("*", "anything"));
        assert!(m("*-prod", "team-prod"));
        assert!(!m("*-prod", "team-prod-2"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("team-?", "team-?"));
        assert!(!m("team-?", "team-a"));
        assert!(AccessScope::Namespaces(vec!["x".into(), "spark-*".into()]).covers("spark-1"));
        assert!(AccessScope::Cluster.covers("any"));
    }

    proptest::proptest! {
        // Against a regex built from the pattern: `*` → `.*`, everything else literal.
        #[test]
        fn namespace_patterns_match_the_regex_reading(
            pattern in "[ab*-]{0,8}",
            ns in "[ab-]{0,10}",
        ) {
            let re = format!(
                "^{}$",
                pattern.split('*').map(regex::escape).collect::<Vec<_>>().join(".*")
            );
            let expected = regex::Regex::new(&re).map(|r| r.is_match(&ns)).unwrap_or(false);
            proptest::prop_assert_eq!(namespace_pattern_matches(&pattern, &ns), expected);
        }
    }

    #[test]
    fn catalog_parses() {
        let c = PolicyCatalog::builtin();
        assert_eq!(c.error(), None);
        for p in [
            "AmazonEKSClusterAdminPolicy",
            "AmazonEKSAdminPolicy",
            "AmazonEKSEditPolicy",
            "AmazonEKSViewPolicy",
            "AmazonEKSAdminViewPolicy",
            "AmazonEMRJobPolicy",
            "AmazonEKSSecretReaderPolicy",
        ] {
            assert!(c.rules(p).is_some_and(|r| !r.is_empty()), "{p}");
        }
        assert!(c.uncertain("AmazonEMRJobPolicy"));
        assert!(!c.uncertain("AmazonEKSEditPolicy"));
    }

    #[test]
    fn aws_auth_parses_eksctl_style() {
        let d = data(&[
            ("mapRoles", "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n- rolearn: arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEMRContainers\n  username: emr-containers\n"),
            ("mapUsers", "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [devs]\n"),
            ("mapAccounts", "- \"444455556666\"\n- 777788889999\n"),
        ]);
        let a = parse_aws_auth(&d, None).unwrap();
        assert_eq!(a.map_roles.len(), 2);
        assert_eq!(a.map_roles[1].username.as_deref(), Some("emr-containers"));
        assert!(a.map_roles[1].groups.is_empty());
        assert_eq!(a.map_users[0].groups, vec!["devs"]);
        assert_eq!(a.map_accounts, vec!["444455556666", "777788889999"]);
    }

    #[test]
    fn aws_auth_errors_name_key_and_position() {
        let e = parse_aws_auth(&data(&[("mapRoles", "- rolearn: [unclosed\n")]), None).unwrap_err();
        assert_eq!(e.key, "mapRoles");
        assert!(e.line.is_some());
        assert!(e.to_string().starts_with("aws-auth mapRoles (line"), "{e}");
        let e = parse_aws_auth(&data(&[("mapUsers", "- username: bob\n")]), None).unwrap_err();
        assert!(e.message.contains("no `userarn`"), "{e}");
        let e = parse_aws_auth(&data(&[("mapRoles", "rolearn: x")]), None).unwrap_err();
        assert!(e.message.contains("list"), "{e}");
        let big = "#".repeat(MAX_AWS_AUTH_VALUE + 1);
        assert!(parse_aws_auth(&data(&[("mapRoles", &big)]), None).is_err());
        assert!(parse_aws_auth(&data(&[("mapRoles", "")]), None)
            .unwrap()
            .map_roles
            .is_empty());
    }

    #[test]
    fn from_the_snapshot_model() {
        let cm = ConfigMap {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("aws-auth".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            data: Some(data(&[(
                "mapUsers",
                "- userarn: arn:aws:iam::1:user/a\n  username: a\n",
            )])),
            ..Default::default()
        };
        let cms = vec![Located::new(
            cm,
            SourceLoc::new("cm.json", "/items/3", Some(7)),
        )];
        let a = aws_auth_from_config_maps(&cms).unwrap().unwrap();
        assert_eq!(a.map_users.len(), 1);
        assert_eq!(a.loc.unwrap().pointer, "/items/3/data");
        assert!(aws_auth_from_config_maps(&[]).is_none());

        let entry = Located::new(
            eks::AccessEntry {
                principal_arn: "arn:aws:iam::1:role/x".into(),
                kubernetes_groups: vec!["g".into()],
                ..Default::default()
            },
            SourceLoc::new("ae.json", "/accessEntry", None),
        );
        let pols = vec![Located::new(
            eks::AssociatedAccessPolicies {
                cluster_name: None,
                principal_arn: "arn:aws:iam::1:role/x".into(),
                associated_access_policies: vec![
                    eks::AssociatedAccessPolicy {
                        policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
                            .into(),
                        access_scope: eks::AccessScope {
                            scope_type: "namespace".into(),
                            namespaces: vec!["emr".into()],
                        },
                    },
                    eks::AssociatedAccessPolicy {
                        policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
                            .into(),
                        access_scope: eks::AccessScope {
                            scope_type: "cluster".into(),
                            namespaces: vec![],
                        },
                    },
                ],
            },
            SourceLoc::new("pol.json", "", None),
        )];
        let input = AccessEntryInput::from_model(&entry, &pols);
        assert_eq!(input.kubernetes_groups, vec!["g"]);
        assert_eq!(input.policies.len(), 2);
        assert_eq!(
            input.policies[0].scope,
            AccessScope::Namespaces(vec!["emr".into()])
        );
        assert_eq!(input.policies[1].scope, AccessScope::Cluster);
        assert_eq!(
            input.policies[1].loc.as_ref().unwrap().pointer,
            "/associatedAccessPolicies/1"
        );
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonical_principal("arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"),
            "arn:aws:iam::111122223333:role/admin"
        );
        assert_eq!(
            canonical_principal("arn:aws:iam::111122223333:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"),
            canonical_principal("arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEMRContainers")
        );
        assert!(is_emr_service_linked_role("arn:aws:iam::1:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers"));
        assert!(!is_emr_service_linked_role("arn:aws:iam::1:role/NotEMR"));
    }

    #[test]
    fn default_usernames() {
        assert_eq!(
            default_username("arn:aws:iam::111122223333:role/dev/apps/my-role", None),
            "arn:aws:sts::111122223333:assumed-role/my-role/{{SessionName}}"
        );
        assert_eq!(
            default_username("arn:aws:iam::111122223333:user/bob", Some("STANDARD")),
            "arn:aws:iam::111122223333:user/bob"
        );
        assert_eq!(
            default_username("arn:aws:iam::1:role/n", Some("EC2_LINUX")),
            "system:node:{{EC2PrivateDNSName}}"
        );
    }

    #[test]
    fn templates() {
        assert!(username_matches(
            "system:node:{{EC2PrivateDNSName}}",
            "system:node:ip-10-0-0-1.ec2.internal",
            None
        ));
        assert!(!username_matches(
            "system:node:{{EC2PrivateDNSName}}",
            "system:node:",
            None
        ));
        assert!(username_matches(
            "admin:{{AccountID}}:{{SessionName}}",
            "admin:111:bob",
            Some("111")
        ));
        assert!(!username_matches(
            "admin:{{AccountID}}:{{SessionName}}",
            "admin:222:bob",
            Some("111")
        ));
        assert!(username_matches("alice", "alice", None));
        assert!(!username_matches("alice", "alice2", None));
        assert!(username_matches("a{{X}}b{{Y}}", "a1b2b3", None));
    }

    #[test]
    fn identity_map_queries() {
        let auth = AwsAuth {
            map_roles: vec![
                AwsAuthEntry {
                    arn: "arn:aws:iam::111:role/team/dev".into(),
                    username: Some("dev:{{SessionName}}".into()),
                    groups: vec!["devs".into()],
                },
                AwsAuthEntry {
                    arn: "arn:aws:iam::111:role/ops".into(),
                    username: None,
                    groups: vec!["system:masters".into()],
                },
            ],
            map_users: vec![],
            map_accounts: vec!["222".into()],
            loc: None,
        };
        let entries = vec![AccessEntryInput {
            principal_arn: "arn:aws:iam::111:role/ops".into(),
            policies: vec![AccessPolicyInput {
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy".into(),
                scope: AccessScope::Namespaces(vec!["emr".into()]),
                loc: None,
            }],
            ..Default::default()
        }];
        let creator = ClusterCreator {
            bootstrap_admin: true,
            creator_arn: Some("arn:aws:iam::111:user/creator".into()),
            loc: None,
        };
        let m = IdentityMap::new(Some(&auth), &entries, &creator);
        let group = |n: &str| Subject {
            kind: "Group".into(),
            name: n.into(),
            namespace: None,
            arn: None,
            iam_principals: vec![],
        };
        let user = |n: &str| Subject {
            kind: "User".into(),
            name: n.into(),
            namespace: None,
            arn: None,
            iam_principals: vec![],
        };
        assert_eq!(
            m.iam_principals(&group("devs")),
            vec!["arn:aws:iam::111:role/team/dev"]
        );
        assert_eq!(
            m.iam_principals(&user("dev:alice")),
            vec!["arn:aws:iam::111:role/team/dev"]
        );
        assert_eq!(
            m.iam_principals(&user("arn:aws:iam::222:user/x")),
            vec!["arn:aws:iam::222:*"]
        );
        assert_eq!(
            m.iam_principals(&user("arn:aws:iam::111:role/ops")),
            vec!["arn:aws:iam::111:role/ops"]
        );
        let dev = m.mappings_for_principal("arn:aws:sts::111:assumed-role/dev/alice");
        assert_eq!(dev.len(), 1);
        assert!(dev[0].path_in_arn);
        let ops = m.mappings_for_principal("arn:aws:iam::111:role/ops");
        assert_eq!(ops.len(), 2);
        assert!(ops
            .iter()
            .any(|m| m.source == MappingSource::AwsAuthMapRoles(1) && m.shadowed));
        assert_eq!(m.access_policies_for("arn:aws:iam::111:role/ops").len(), 1);
        let creator_pols = m.access_policies_for("arn:aws:iam::111:user/creator");
        assert_eq!(creator_pols.len(), 1);
        assert_eq!(creator_pols[0].policy_name, "AmazonEKSClusterAdminPolicy");
        assert_eq!(m.iam_principals(&group("system:authenticated")).len(), 4);
    }
}

//! Findings as the JSON contract (`findings.schema.json`) defines them.

use crate::kind::Kind;
use crate::source::SourceLoc;
use crate::vocab::{Capability, Practice, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A thing in the snapshot: Kubernetes objects by kind/namespace/name, AWS resources by ARN
/// (and kind + name where there is no ARN, e.g. a security group id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ref {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

impl Ref {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Ref {
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            arn: None,
        }
    }
    pub fn k8s(kind: Kind, namespace: Option<&str>, name: impl Into<String>) -> Self {
        Ref {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(str::to_owned),
            arn: None,
        }
    }
    pub fn aws(kind: Kind, name: impl Into<String>, arn: Option<&str>) -> Self {
        Ref {
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            arn: arn.map(str::to_owned),
        }
    }
    /// A stable key for fingerprints: ARN when known, else kind/namespace/name.
    pub fn key(&self) -> String {
        match &self.arn {
            Some(arn) => arn.clone(),
            None => format!(
                "{}/{}/{}",
                self.kind,
                self.namespace.as_deref().unwrap_or(""),
                self.name
            ),
        }
    }
}

/// Who holds a permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iam_principals: Vec<String>,
}

impl Subject {
    /// A Kubernetes subject (User, Group, ServiceAccount) or an IAM principal.
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            arn: None,
            iam_principals: Vec::new(),
        }
    }

    /// The subject as a [`Ref`] (for a finding's `resource`).
    pub fn to_ref(&self) -> Ref {
        Ref {
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            arn: self.arn.clone(),
        }
    }

    pub fn key(&self) -> String {
        match &self.arn {
            Some(arn) => arn.clone(),
            None => format!(
                "{}/{}/{}",
                self.kind,
                self.namespace.as_deref().unwrap_or(""),
                self.name
            ),
        }
    }
}

/// One step of an evidence chain. A step with `one_of` is a fork: any one of its alternatives
/// (roles a submitter may pass, IAM principals mapped to a group, namespaces a grant reaches)
/// leads to the next step; `kind`/`name` then describe the set (`IamRole`, "4 execution roles").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PathStep {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<PathStep>,
}

impl PathStep {
    pub fn new(kind: Kind, name: impl Into<String>) -> Self {
        PathStep {
            kind: kind.into(),
            name: name.into(),
            namespace: None,
            arn: None,
            detail: None,
            one_of: Vec::new(),
        }
    }
    pub fn from_ref(r: &Ref) -> Self {
        PathStep {
            kind: r.kind.clone(),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            arn: r.arn.clone(),
            detail: None,
            one_of: Vec::new(),
        }
    }
    /// A fork of `alternatives` (one step when there is just one). `kind` and `name` describe
    /// the set, e.g. `(Kind::IamRole, "3 execution roles")`.
    pub fn fork(kind: Kind, name: impl Into<String>, mut alternatives: Vec<PathStep>) -> Self {
        if alternatives.len() == 1 {
            if let Some(only) = alternatives.pop() {
                return only;
            }
        }
        let mut s = PathStep::new(kind, name);
        s.one_of = alternatives;
        s
    }
    /// Alternatives of a fork, or the step itself.
    pub fn alternatives(&self) -> std::slice::Iter<'_, PathStep> {
        if self.one_of.is_empty() {
            std::slice::from_ref(self).iter()
        } else {
            self.one_of.iter()
        }
    }
    pub fn namespace(mut self, ns: Option<&str>) -> Self {
        self.namespace = ns.map(str::to_owned);
        self
    }
    pub fn arn(mut self, arn: Option<&str>) -> Self {
        self.arn = arn.map(str::to_owned);
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One grant behind an RBAC finding: binding → role (→ the aggregated role holding the rule) →
/// rule, and the EMR namespaces it gives the capability in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GrantRef {
    /// RoleBinding, ClusterRoleBinding, AccessPolicyAssociation or SuperuserGroup.
    pub binding: Ref,
    pub role: Ref,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<Ref>,
    /// Index of the rule in its role (the `aggregated_from` role when set).
    pub rule_index: usize,
    pub rule: String,
    /// The request of the capability the rule allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allows: Option<String>,
    /// The grant applies cluster-wide (every EMR namespace, and cluster-scoped requests).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cluster_wide: bool,
    /// The EMR namespaces it gives the capability in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// Where in the snapshot a finding's evidence lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl From<&SourceLoc> for Location {
    fn from(s: &SourceLoc) -> Self {
        Location {
            file: s.file.to_string(),
            pointer: if s.pointer.is_empty() {
                None
            } else {
                Some(s.pointer.clone())
            },
            line: s.line,
        }
    }
}

/// One finding. Build with [`Finding::builder`]; the id is derived from what the finding is
/// about (rule, resource, subject, namespace, capability and an optional discriminator), never
/// from file names or order, so it is stable across runs and re-orderings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub rule: String,
    pub practice: Practice,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    pub resource: Ref,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Every EMR namespace the finding holds in (sorted), for findings about one cause that
    /// reaches several namespaces (a ClusterRoleBinding, a wildcard access scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<Capability>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathStep>,
    /// Every grant behind an RBAC finding, strongest first (`path` cites the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantRef>,
    pub remediation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl Finding {
    /// Start a finding for `rule` (id, practice, default severity, title) about `resource`.
    pub fn builder(
        rule: &str,
        practice: Practice,
        severity: Severity,
        title: &str,
        resource: Ref,
    ) -> FindingBuilder {
        FindingBuilder {
            f: Finding {
                id: String::new(),
                rule: rule.to_owned(),
                practice,
                severity,
                title: title.to_owned(),
                message: String::new(),
                resource,
                subject: None,
                namespace: None,
                namespaces: Vec::new(),
                virtual_cluster: None,
                capability: None,
                path: Vec::new(),
                grants: Vec::new(),
                remediation: String::new(),
                locations: Vec::new(),
                suppressed: false,
            },
            discriminator: String::new(),
            namespace_in_id: true,
        }
    }

    /// Deterministic order: severity, practice, rule, then what it is about.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.severity,
            self.practice,
            self.rule.as_str(),
            self.namespace.as_deref(),
            self.resource.key(),
            self.subject.as_ref().map(Subject::key),
            self.capability,
            self.id.as_str(),
        )
    }
}

pub struct FindingBuilder {
    f: Finding,
    discriminator: String,
    namespace_in_id: bool,
}

impl FindingBuilder {
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.f.message = m.into();
        self
    }
    pub fn remediation(mut self, r: impl Into<String>) -> Self {
        self.f.remediation = r.into();
        self
    }
    pub fn severity(mut self, s: Severity) -> Self {
        self.f.severity = s;
        self
    }
    pub fn subject(mut self, s: Subject) -> Self {
        self.f.subject = Some(s);
        self
    }
    pub fn namespace(mut self, ns: Option<&str>) -> Self {
        self.f.namespace = ns.map(str::to_owned);
        self
    }
    /// The EMR namespaces one cause reaches. The id leaves namespaces out, so a new EMR
    /// namespace changes the list, not the finding; `namespace` is set when there is exactly one.
    pub fn namespaces(mut self, mut ns: Vec<String>) -> Self {
        ns.sort();
        ns.dedup();
        self.f.namespace = match ns.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        self.f.namespaces = ns;
        self.namespace_in_id = false;
        self
    }
    pub fn grants(mut self, g: Vec<GrantRef>) -> Self {
        self.f.grants = g;
        self
    }
    pub fn virtual_cluster(mut self, vc: Option<&str>) -> Self {
        self.f.virtual_cluster = vc.map(str::to_owned);
        self
    }
    pub fn capability(mut self, c: Capability) -> Self {
        self.f.capability = Some(c);
        self
    }
    pub fn step(mut self, s: PathStep) -> Self {
        self.f.path.push(s);
        self
    }
    /// A fork of alternatives as one step (nothing when there are none, the step itself when
    /// there is one): the execution roles a submitter may pass, the virtual clusters of a
    /// namespace, the job runs that use a role.
    pub fn fork(
        mut self,
        kind: Kind,
        name: impl Into<String>,
        alternatives: Vec<PathStep>,
    ) -> Self {
        if !alternatives.is_empty() {
            self.f.path.push(PathStep::fork(kind, name, alternatives));
        }
        self
    }
    pub fn path(mut self, p: Vec<PathStep>) -> Self {
        self.f.path = p;
        self
    }
    pub fn location(mut self, loc: &SourceLoc) -> Self {
        let l = Location::from(loc);
        if !self.f.locations.contains(&l) {
            self.f.locations.push(l);
        }
        self
    }
    /// Extra identity for rules that raise several findings on one resource (e.g. a statement
    /// index or a port range). Part of the id.
    pub fn discriminator(mut self, d: impl Into<String>) -> Self {
        self.discriminator = d.into();
        self
    }

    pub fn build(mut self) -> Finding {
        let mut h = Sha256::new();
        for part in [
            self.f.rule.as_str(),
            &self.f.resource.key(),
            &self
                .f
                .subject
                .as_ref()
                .map(Subject::key)
                .unwrap_or_default(),
            if self.namespace_in_id {
                self.f.namespace.as_deref().unwrap_or("")
            } else {
                ""
            },
            self.f.capability.map(Capability::slug).unwrap_or(""),
            &self.discriminator,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        self.f.id = format!("{}-{}", self.f.rule, hex);
        self.f.locations.sort();
        self.f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(disc: &str) -> Finding {
        Finding::builder(
            "POD001",
            Practice::PodCredentials,
            Severity::High,
            "t",
            Ref::k8s(Kind::DaemonSet, Some("kube-system"), "kube2iam"),
        )
        .message("m")
        .discriminator(disc)
        .build()
    }

    #[test]
    fn ids_are_stable_and_distinguish_discriminators() {
        assert_eq!(sample("a").id, sample("a").id);
        assert_ne!(sample("a").id, sample("b").id);
        assert!(sample("a").id.starts_with("POD001-"));
    }

    #[test]
    fn ids_ignore_locations() {
        let a = Finding::builder(
            "X001",
            Practice::Rbac,
            Severity::Low,
            "t",
            Ref::new(Kind::Namespace, "n"),
        )
        .location(&SourceLoc::new("a.json", "/items/0", Some(3)))
        .build();
        let b = Finding::builder(
            "X001",
            Practice::Rbac,
            Severity::Low,
            "t",
            Ref::new(Kind::Namespace, "n"),
        )
        .location(&SourceLoc::new("z.json", "/items/9", Some(30)))
        .build();
        assert_eq!(a.id, b.id);
    }
}

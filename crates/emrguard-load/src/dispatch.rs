//! Recognise a file by content and turn its documents into model objects.

use crate::lines::LineCursor;
use crate::read::Limits;
use crate::{FileOutcome, InputRecord, LoadError};
use emrguard_model::aws::{ec2, ecr, eks, emr, iam, misc};
use emrguard_model::k8s;
use emrguard_model::node::{Dockerfile, IptablesSave};
use emrguard_model::{Located, Snapshot, SourceLoc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

pub(crate) struct Ctx<'a> {
    name: Arc<str>,
    cursor: LineCursor<'a>,
    /// Set for YAML documents: locations then carry the document's first line.
    doc_line: Option<u32>,
    pub snapshot: Snapshot,
    pub errors: Vec<LoadError>,
    pub kinds: BTreeSet<&'static str>,
    pub objects: usize,
    pub unknown_docs: usize,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(name: Arc<str>, src: &'a str) -> Self {
        Ctx {
            name,
            cursor: LineCursor::new(src),
            doc_line: None,
            snapshot: Snapshot::default(),
            errors: Vec::new(),
            kinds: BTreeSet::new(),
            objects: 0,
            unknown_docs: 0,
        }
    }

    /// Switch to a new source text (a YAML document converted to JSON).
    pub(crate) fn with_source<'b>(self, src: &'b str, doc_line: Option<u32>) -> Ctx<'b> {
        Ctx {
            name: self.name,
            cursor: LineCursor::new(src),
            doc_line,
            snapshot: self.snapshot,
            errors: self.errors,
            kinds: self.kinds,
            objects: self.objects,
            unknown_docs: self.unknown_docs,
        }
    }

    fn loc(&mut self, pointer: String, part: &str) -> SourceLoc {
        let line = match self.doc_line {
            Some(l) => Some(l),
            None => self.cursor.line_of(part),
        };
        SourceLoc::new(self.name.clone(), pointer, line)
    }

    pub(crate) fn name(&self) -> std::sync::Arc<str> {
        self.name.clone()
    }

    /// An error at a location already spelled out (`line 3`).
    pub(crate) fn err_at(&mut self, location: &str, message: String) {
        self.errors.push(LoadError {
            file: self.name.to_string(),
            location: Some(location.to_owned()),
            message,
        });
    }

    fn err(&mut self, pointer: &str, part: &str, message: String) {
        let location = match self.doc_line {
            Some(l) if pointer.is_empty() => format!("document at line {l}"),
            Some(l) => format!("document at line {l}, {pointer}"),
            None => match self.cursor.line_of(part) {
                Some(line) if pointer.is_empty() => format!("line {line}"),
                Some(line) => format!("line {line}, {pointer}"),
                None => pointer.to_owned(),
            },
        };
        self.errors.push(LoadError {
            file: self.name.to_string(),
            location: Some(location),
            message,
        });
    }

    pub(crate) fn outcome(self, file: &str) -> FileOutcome {
        let recognised_as = if self.kinds.is_empty() {
            "unknown".to_owned()
        } else {
            self.kinds.iter().copied().collect::<Vec<_>>().join(", ")
        };
        let warning = if self.kinds.is_empty() && self.errors.is_empty() {
            Some("skipped: not a recognised aws/kubectl output, manifest, iptables-save file or Dockerfile".to_owned())
        } else if self.unknown_docs > 0 {
            Some(format!(
                "{} document(s) not recognised and skipped",
                self.unknown_docs
            ))
        } else if !self.errors.is_empty() {
            Some(format!("{} part(s) could not be read", self.errors.len()))
        } else {
            None
        };
        FileOutcome {
            snapshot: self.snapshot,
            input: Some(InputRecord {
                file: file.to_owned(),
                recognised_as,
                objects: Some(self.objects),
                warning,
            }),
            errors: self.errors,
        }
    }
}

/// `0007-Dockerfile`, `team-a_Dockerfile.ml`: a `Dockerfile` word after a prefix (snapshot tools
/// and people number or prefix files), unless the name ends like a data or document file.
fn is_prefixed_dockerfile_name(base: &str) -> bool {
    const DATA: [&str; 6] = [".json", ".yaml", ".yml", ".md", ".txt", ".toml"];
    base.split(['-', '_', '.']).any(|w| w == "Dockerfile")
        && !DATA.iter().any(|e| base.to_ascii_lowercase().ends_with(e))
}

/// Entry point for one file's text.
pub(crate) fn load_text(name: Arc<str>, path: &Path, text: &str, limits: &Limits) -> FileOutcome {
    let file = name.to_string();
    let fname = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let base = fname.strip_suffix(".gz").unwrap_or(&fname);
    let body = text.trim_start_matches('\u{feff}');
    let trimmed = body.trim_start();

    if base.starts_with("Dockerfile")
        || base.ends_with(".dockerfile")
        || base.ends_with(".Dockerfile")
        || is_prefixed_dockerfile_name(base)
    {
        let d = Dockerfile::parse(body);
        let n = d.instructions.len();
        let mut o = FileOutcome::default();
        o.snapshot
            .dockerfiles
            .push(Located::new(d, SourceLoc::new(name, "", Some(1))));
        o.input = Some(InputRecord {
            file,
            recognised_as: "Dockerfile".into(),
            objects: Some(n),
            warning: None,
        });
        return o;
    }
    if emrguard_model::collect::CollectLog::is_log(body) {
        let l = emrguard_model::collect::CollectLog::parse(body);
        let n = l.ok.len() + l.failed.len();
        let mut o = FileOutcome::default();
        o.snapshot
            .collect_logs
            .push(Located::new(l, SourceLoc::new(name, "", Some(1))));
        o.input = Some(InputRecord {
            file,
            recognised_as: "collector log".into(),
            objects: Some(n),
            warning: None,
        });
        return o;
    }
    if base.ends_with(".iptables")
        || trimmed.starts_with("# Generated by iptables-save")
        || trimmed.starts_with("# Generated by iptables-nft-save")
        || ["*filter", "*nat", "*mangle", "*raw", "*security"]
            .iter()
            .any(|t| trimmed.starts_with(t))
    {
        let s = IptablesSave::parse(body);
        let n = s.rules.len();
        let mut o = FileOutcome::default();
        o.snapshot
            .iptables
            .push(Located::new(s, SourceLoc::new(name, "", Some(1))));
        o.input = Some(InputRecord {
            file,
            recognised_as: "iptables-save".into(),
            objects: Some(n),
            warning: None,
        });
        return o;
    }

    if crate::usage::csv_summary_kind(trimmed).is_some() {
        let mut ctx = Ctx::new(name.clone(), body);
        crate::usage::load_csv(&mut ctx, trimmed);
        return ctx.outcome(&file);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match load_json_text(Ctx::new(name.clone(), body), body) {
            Ok(ctx) => return ctx.outcome(&file),
            Err(e) => {
                let mut ctx = Ctx::new(name.clone(), body);
                if crate::usage::load_audit_lines(&mut ctx, body).is_some() {
                    return ctx.outcome(&file);
                }
                let is_yaml_name = base.ends_with(".yaml") || base.ends_with(".yml");
                if !is_yaml_name {
                    // Name the kind the file claims to be (its keys before the damage), so
                    // that coverage can say which input is broken.
                    let claimed = claimed_kinds(body);
                    let kind = if claimed.is_empty() {
                        "json".to_owned()
                    } else {
                        claimed.join(", ")
                    };
                    return FileOutcome::error(
                        &file,
                        &kind,
                        Some(e.0),
                        format!("malformed JSON: {}", e.1),
                    );
                }
                // YAML flow syntax that is not JSON: fall through to the YAML reader.
            }
        }
    }
    crate::yaml::load_yaml(Ctx::new(name, body), body, limits, &file)
}

/// The input kinds a (malformed) JSON text claims by its keys: `"RoleDetailList":` names IAM
/// authorization details even when the file is cut short further down.
pub(crate) fn claimed_kinds(text: &str) -> Vec<&'static str> {
    const KEYS: [(&str, &str); 24] = [
        ("RoleDetailList", "iam authorization details"),
        ("UserDetailList", "iam authorization details"),
        ("GroupDetailList", "iam authorization details"),
        ("OpenIDConnectProviderList", "iam oidc providers"),
        ("cluster", "eks cluster"),
        ("nodegroup", "eks node group"),
        ("nodegroups", "eks node group list"),
        ("accessEntry", "eks access entry"),
        ("accessEntries", "eks access entry list"),
        ("associations", "eks pod identity associations"),
        ("association", "eks pod identity association"),
        ("virtualClusters", "emr virtual clusters"),
        ("endpoints", "emr managed endpoints"),
        ("jobRuns", "emr job runs"),
        ("SecurityGroups", "ec2 security groups"),
        ("Subnets", "ec2 subnets"),
        ("RouteTables", "ec2 route tables"),
        ("LaunchTemplateVersions", "ec2 launch template versions"),
        ("Reservations", "ec2 instances"),
        ("LoadBalancers", "elbv2 load balancers"),
        ("repositories", "ecr repositories"),
        ("imageDetails", "ecr images"),
        ("fargateProfile", "eks fargate profile"),
        ("apiVersion", "kubernetes objects"),
    ];
    // Only the start of the file: the keys of a top-level object come first in AWS CLI and
    // kubectl output, and a cut-off file keeps its start.
    let mut end = text.len().min(4096);
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = text.get(..end).unwrap_or("");
    let mut v: Vec<&'static str> = Vec::new();
    for (key, label) in KEYS {
        let quoted = format!("\"{key}\"");
        let found = head.match_indices(&quoted).any(|(i, m)| {
            head.get(i + m.len()..)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        });
        if found && !v.contains(&label) {
            v.push(label);
        }
    }
    v.sort_unstable();
    v
}

/// Parse a JSON text (one document, or a top-level array of documents). Err: (location, msg).
pub(crate) fn load_json_text<'a>(
    mut ctx: Ctx<'a>,
    text: &'a str,
) -> Result<Ctx<'a>, (String, String)> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let docs: Vec<&RawValue> = serde_json::from_str(text).map_err(json_err)?;
        for (i, d) in docs.iter().enumerate() {
            load_json_doc(&mut ctx, d.get(), &format!("/{i}"));
        }
        return Ok(ctx);
    }
    // Validate the whole document first so a truncated file is one clear error.
    let doc: TopDoc = serde_json::from_str(text).map_err(json_err)?;
    dispatch_doc(&mut ctx, text, &doc, "");
    Ok(ctx)
}

fn json_err(e: serde_json::Error) -> (String, String) {
    (
        format!("line {}, column {}", e.line(), e.column()),
        e.to_string(),
    )
}

/// One JSON object given as text (an array element or a converted YAML document).
pub(crate) fn load_json_doc(ctx: &mut Ctx<'_>, text: &str, pointer: &str) {
    match serde_json::from_str::<TopDoc>(text) {
        Ok(doc) => dispatch_doc(ctx, text, &doc, pointer),
        Err(_) if !text.trim_start().starts_with('{') => ctx.unknown_docs += 1,
        Err(e) => ctx.err(pointer, text, format!("malformed document: {e}")),
    }
}

/// Keys whose values are lists of objects: their elements are captured in the same scan that
/// splits the document's keys (one pass over the bulk of a file instead of two).
const LIST_KEYS: [&str; 22] = [
    "items",
    "nodegroups",
    "fargateProfileNames",
    "RoleDetailList",
    "UserDetailList",
    "GroupDetailList",
    "Policies",
    "OpenIDConnectProviderList",
    "accessEntries",
    "associations",
    "virtualClusters",
    "endpoints",
    "jobRuns",
    "SecurityGroups",
    "Subnets",
    "RouteTables",
    "LaunchTemplateVersions",
    "Reservations",
    "LoadBalancers",
    "repositories",
    "imageDetails",
    "Records",
];

enum TopVal<'a> {
    List(Vec<&'a RawValue>),
    Raw(&'a RawValue),
}

impl<'a> TopVal<'a> {
    fn text(&self) -> &'a str {
        match self {
            TopVal::Raw(r) => r.get(),
            // Only used for error context; lists are located by their elements.
            TopVal::List(v) => v.first().map(|r| r.get()).unwrap_or(""),
        }
    }
}

/// A JSON object's top-level keys, with list values already split into elements.
struct TopDoc<'a>(BTreeMap<String, TopVal<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for TopDoc<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TopDoc<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = m.next_key::<String>()? {
                    let v = if LIST_KEYS.contains(&k.as_str()) {
                        match m.next_value::<Option<Vec<&'de RawValue>>>()? {
                            Some(v) => TopVal::List(v),
                            None => TopVal::List(Vec::new()),
                        }
                    } else {
                        TopVal::Raw(m.next_value::<&'de RawValue>()?)
                    };
                    out.insert(k, v);
                }
                Ok(TopDoc(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct TypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

fn dispatch_doc(ctx: &mut Ctx<'_>, text: &str, doc: &TopDoc<'_>, pointer: &str) {
    let has = |k: &str| doc.0.contains_key(k);
    let get = |k: &str| doc.0.get(k);

    // Kubernetes audit events (before Kubernetes objects: same type meta).
    if has("apiVersion") && has("kind") {
        if let Ok(tm) = serde_json::from_str::<TypeMeta>(text) {
            if tm.api_version.starts_with("audit.k8s.io/") {
                ctx.kinds.insert("kubernetes audit events");
                let push = |ctx: &mut Ctx<'_>, t: &str, p: String| {
                    single::<emrguard_model::aws::usage::K8sAuditEvent>(ctx, t, p, |s, v| {
                        s.k8s_audit.push(v)
                    })
                };
                if tm.kind == "EventList" {
                    if let Some(TopVal::List(list)) = get("items") {
                        for (i, item) in list.iter().enumerate() {
                            push(ctx, item.get(), format!("{pointer}/items/{i}"));
                        }
                    }
                } else {
                    push(ctx, text, pointer.to_owned());
                }
                return;
            }
        }
    }
    // Kubernetes objects and Lists.
    if has("apiVersion") && has("kind") {
        ctx.kinds.insert("kubernetes objects");
        let tm: TypeMeta = match serde_json::from_str(text) {
            Ok(t) => t,
            Err(e) => return ctx.err(pointer, text, format!("malformed Kubernetes object: {e}")),
        };
        if tm.kind == "List" || (tm.kind.ends_with("List") && has("items")) {
            if let Some(TopVal::List(list)) = get("items") {
                for (i, item) in list.iter().enumerate() {
                    k8s_object(
                        ctx,
                        item.get(),
                        &format!("{pointer}/items/{i}"),
                        &tm.api_version,
                        &tm.kind,
                    );
                }
            }
        } else {
            k8s_object(ctx, text, pointer, "", "");
        }
        return;
    }

    let mut recognised = false;
    macro_rules! list {
        ($key:literal, $label:literal, $ty:ty, $field:ident) => {
            if let Some(raw) = get($key) {
                recognised = true;
                ctx.kinds.insert($label);
                items::<$ty>(ctx, raw, &format!("{pointer}/{}", $key), |s, v| {
                    s.$field.push(v)
                });
            }
        };
    }
    macro_rules! one {
        ($key:literal, $label:literal, $ty:ty, $field:ident) => {
            if let Some(raw) = get($key) {
                recognised = true;
                ctx.kinds.insert($label);
                single::<$ty>(ctx, raw.text(), format!("{pointer}/{}", $key), |s, v| {
                    s.$field.push(v)
                });
            }
        };
    }

    // IAM
    list!(
        "RoleDetailList",
        "iam authorization details",
        iam::Role,
        roles
    );
    list!(
        "UserDetailList",
        "iam authorization details",
        iam::User,
        users
    );
    list!(
        "GroupDetailList",
        "iam authorization details",
        iam::Group,
        groups
    );
    if has("RoleDetailList") || has("UserDetailList") || has("GroupDetailList") || has("Policies") {
        list!(
            "Policies",
            "iam authorization details",
            iam::ManagedPolicy,
            policies
        );
    }
    list!(
        "OpenIDConnectProviderList",
        "iam oidc providers",
        iam::OidcProvider,
        oidc_providers
    );
    // EKS
    one!("cluster", "eks cluster", eks::Cluster, clusters);
    one!("nodegroup", "eks node group", eks::Nodegroup, nodegroups);
    if let Some(raw) = get("nodegroups") {
        recognised = true;
        ctx.kinds.insert("eks node group list");
        items::<String>(ctx, raw, &format!("{pointer}/nodegroups"), |s, v| {
            s.nodegroup_names.push(v)
        });
    }
    one!(
        "accessEntry",
        "eks access entry",
        eks::AccessEntry,
        access_entries
    );
    if has("associatedAccessPolicies") && has("principalArn") {
        recognised = true;
        ctx.kinds.insert("eks associated access policies");
        single::<eks::AssociatedAccessPolicies>(ctx, text, pointer.to_owned(), |s, v| {
            s.associated_access_policies.push(v)
        });
    }
    if let Some(raw) = get("accessEntries") {
        recognised = true;
        ctx.kinds.insert("eks access entry list");
        items::<String>(ctx, raw, &format!("{pointer}/accessEntries"), |s, v| {
            s.access_entry_arns.push(v)
        });
    }
    one!(
        "association",
        "eks pod identity association",
        eks::PodIdentityAssociation,
        pod_identity_associations
    );
    list!(
        "associations",
        "eks pod identity associations",
        eks::PodIdentityAssociation,
        pod_identity_associations
    );
    one!("addon", "eks add-on", eks::Addon, addons);
    one!(
        "fargateProfile",
        "eks fargate profile",
        eks::FargateProfile,
        fargate_profiles
    );
    if let Some(raw) = get("fargateProfileNames") {
        recognised = true;
        ctx.kinds.insert("eks fargate profile list");
        items::<String>(
            ctx,
            raw,
            &format!("{pointer}/fargateProfileNames"),
            |s, v| s.fargate_profile_names.push(v),
        );
    }
    // EMR on EKS
    list!(
        "virtualClusters",
        "emr virtual clusters",
        emr::VirtualCluster,
        virtual_clusters
    );
    one!(
        "virtualCluster",
        "emr virtual clusters",
        emr::VirtualCluster,
        virtual_clusters
    );
    list!(
        "endpoints",
        "emr managed endpoints",
        emr::Endpoint,
        endpoints
    );
    one!(
        "endpoint",
        "emr managed endpoints",
        emr::Endpoint,
        endpoints
    );
    list!("jobRuns", "emr job runs", emr::JobRun, job_runs);
    one!("jobRun", "emr job runs", emr::JobRun, job_runs);
    one!(
        "jobTemplate",
        "emr job template",
        emr::JobTemplate,
        job_templates
    );
    // EC2 / ELB
    list!(
        "SecurityGroups",
        "ec2 security groups",
        ec2::SecurityGroup,
        security_groups
    );
    list!("Subnets", "ec2 subnets", ec2::Subnet, subnets);
    list!(
        "RouteTables",
        "ec2 route tables",
        ec2::RouteTable,
        route_tables
    );
    if let Some(raw) = get("LaunchTemplateVersions") {
        recognised = true;
        ctx.kinds.insert("ec2 launch template versions");
        items::<ec2::LaunchTemplateVersion>(
            ctx,
            raw,
            &format!("{pointer}/LaunchTemplateVersions"),
            |s, mut v| {
                v.value.user_data = v
                    .launch_template_data
                    .user_data
                    .as_deref()
                    .map(crate::userdata::decode_user_data);
                s.launch_template_versions.push(v);
            },
        );
    }
    if let Some(raw) = get("Reservations") {
        recognised = true;
        ctx.kinds.insert("ec2 instances");
        items::<ec2::Reservation>(ctx, raw, &format!("{pointer}/Reservations"), |s, r| {
            for (i, inst) in r.value.instances.into_iter().enumerate() {
                s.instances
                    .push(Located::new(inst, r.loc.child("Instances").child(i)));
            }
        });
    }
    list!(
        "LoadBalancers",
        "elbv2 load balancers",
        ec2::LoadBalancer,
        load_balancers
    );
    // ECR
    list!(
        "repositories",
        "ecr repositories",
        ecr::Repository,
        ecr_repositories
    );
    list!("imageDetails", "ecr images", ecr::ImageDetail, ecr_images);
    if has("scanningConfiguration") {
        recognised = true;
        ctx.kinds.insert("ecr registry scanning configuration");
        single::<ecr::RegistryScanning>(ctx, text, pointer.to_owned(), |s, v| {
            s.ecr_registry_scanning.push(v)
        });
    }
    // Usage audit: trail event selectors, Athena query results.
    if has("EventSelectors") || has("AdvancedEventSelectors") {
        recognised = true;
        ctx.kinds.insert("cloudtrail event selectors");
        single::<emrguard_model::aws::usage::TrailEventSelectors>(
            ctx,
            text,
            pointer.to_owned(),
            |s, v| s.event_selectors.push(v),
        );
    }
    if let Some(rs) = get("ResultSet") {
        if crate::usage::load_result_set(ctx, rs.text()) {
            recognised = true;
        }
    }
    // CloudTrail (a `Records` list may also carry Kubernetes audit events, as log pipelines
    // that mix sources write them).
    if let Some(TopVal::List(list)) = get("Records") {
        recognised = true;
        for (i, item) in list.iter().enumerate() {
            let t = item.get();
            let p = format!("{pointer}/Records/{i}");
            if memchr::memmem::find(t.as_bytes(), b"audit.k8s.io/").is_some()
                && crate::usage::is_audit_event(t)
            {
                ctx.kinds.insert("kubernetes audit events");
                single::<emrguard_model::aws::usage::K8sAuditEvent>(ctx, t, p, |s, v| {
                    s.k8s_audit.push(v)
                });
            } else {
                ctx.kinds.insert("cloudtrail records");
                single::<misc::CloudTrailRecord>(ctx, t, p, |s, v| s.cloudtrail.push(v));
            }
        }
    }

    if !recognised {
        ctx.unknown_docs += 1;
    }
}

/// Deserialize each element of a JSON array on its own, so one bad element is one error.
fn items<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    val: &TopVal<'_>,
    pointer: &str,
    mut push: impl FnMut(&mut Snapshot, Located<T>),
) {
    let list: Vec<&RawValue> = match val {
        TopVal::List(l) => l.clone(),
        TopVal::Raw(raw) => match serde_json::from_str::<Option<Vec<&RawValue>>>(raw.get()) {
            Ok(l) => l.unwrap_or_default(),
            Err(e) => return ctx.err(pointer, raw.get(), format!("expected a list: {e}")),
        },
    };
    for (i, item) in list.iter().enumerate() {
        let p = format!("{pointer}/{i}");
        match serde_json::from_str::<T>(item.get()) {
            Ok(v) => {
                let loc = ctx.loc(p, item.get());
                ctx.objects += 1;
                push(&mut ctx.snapshot, Located::new(v, loc));
            }
            Err(e) => ctx.err(&p, item.get(), format!("{e}")),
        }
    }
}

fn single<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    text: &str,
    pointer: String,
    push: impl FnOnce(&mut Snapshot, Located<T>),
) {
    match serde_json::from_str::<T>(text) {
        Ok(v) => {
            let loc = ctx.loc(pointer, text);
            ctx.objects += 1;
            push(&mut ctx.snapshot, Located::new(v, loc));
        }
        Err(e) => ctx.err(&pointer, text, format!("{e}")),
    }
}

/// The `apiVersion` k8s-openapi expects for kinds whose older versions are still seen in
/// manifests (rbac v1beta1, extensions/v1beta1 ...). Same shape for what emrguard reads.
fn canonical_api_version(kind: &str, api_version: &str) -> Option<&'static str> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let target = match kind {
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
            if group == "rbac.authorization.k8s.io" =>
        {
            "rbac.authorization.k8s.io/v1"
        }
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"
            if group == "admissionregistration.k8s.io" =>
        {
            "admissionregistration.k8s.io/v1"
        }
        "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet"
            if group == "apps" || group == "extensions" =>
        {
            "apps/v1"
        }
        "CronJob" if group == "batch" => "batch/v1",
        "NetworkPolicy" if group == "networking.k8s.io" || group == "extensions" => {
            "networking.k8s.io/v1"
        }
        _ => return None,
    };
    (target != api_version).then_some(target)
}

/// Drop what no rule reads and costs most memory: k8s-openapi's `Volume` holds every volume
/// source inline (kilobytes each), so only `hostPath` volumes, which rules may need, are kept.
fn slim_pod_spec(spec: &mut k8s::PodSpec) {
    if let Some(vols) = spec.volumes.take() {
        let kept: Vec<_> = vols.into_iter().filter(|v| v.host_path.is_some()).collect();
        spec.volumes = (!kept.is_empty()).then_some(kept);
    }
}

/// `apiVersion` and `kind` read from the first keys of an object, as kubectl prints them,
/// without scanning the rest; `None` (fall back to a full parse) for anything unusual.
fn peek_type_meta(text: &str) -> Option<TypeMeta> {
    let b = text.as_bytes();
    let ws = |mut i: usize| {
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    // A string without escapes: (content, index after the closing quote).
    let simple_string = |i: usize| -> Option<(&str, usize)> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let rest = b.get(i + 1..)?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        if rest.get(end) != Some(&b'"') {
            return None;
        }
        Some((text.get(i + 1..i + 1 + end)?, i + end + 2))
    };
    let mut i = ws(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let (mut api, mut kind) = (None, None);
    for _ in 0..2 {
        let (key, next) = simple_string(ws(i))?;
        i = ws(next);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let (value, next) = simple_string(ws(i + 1))?;
        match key {
            "apiVersion" => api = Some(value),
            "kind" => kind = Some(value),
            _ => return None,
        }
        i = ws(next);
        if b.get(i) == Some(&b',') {
            i += 1;
        }
    }
    Some(TypeMeta {
        api_version: api?.to_owned(),
        kind: kind?.to_owned(),
    })
}

fn k8s_object(ctx: &mut Ctx<'_>, text: &str, pointer: &str, list_api: &str, list_kind: &str) {
    let tm: TypeMeta = match peek_type_meta(text)
        .map(Ok)
        .unwrap_or_else(|| serde_json::from_str(text))
    {
        Ok(t) => t,
        Err(e) => return ctx.err(pointer, text, format!("malformed Kubernetes object: {e}")),
    };
    if tm.kind.is_empty() {
        return ctx.err(
            pointer,
            text,
            format!("object in {list_kind} ({list_api}) has no `kind`"),
        );
    }
    // Older API versions: rewrite apiVersion so the typed model accepts them.
    let patched;
    let text = match canonical_api_version(&tm.kind, &tm.api_version) {
        Some(target) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut v) => {
                if let Some(obj) = v.as_object_mut() {
                    obj.insert(
                        "apiVersion".into(),
                        serde_json::Value::String(target.into()),
                    );
                }
                patched = v.to_string();
                patched.as_str()
            }
            Err(e) => return ctx.err(pointer, text, format!("malformed Kubernetes object: {e}")),
        },
        None => text,
    };
    let core = tm.api_version == "v1";
    let p = pointer.to_owned();
    match tm.kind.as_str() {
        "Namespace" if core => {
            single::<k8s::Namespace>(ctx, text, p, |s, v| s.k8s.namespaces.push(v))
        }
        "Pod" if core => single::<k8s::Pod>(ctx, text, p, |s, mut v| {
            // Only the pod's addresses are read (to tie CloudTrail source IPs to pods).
            v.value.status = v.value.status.take().map(|st| k8s::PodStatus {
                pod_ip: st.pod_ip,
                pod_ips: st.pod_ips,
                host_ip: st.host_ip,
                ..Default::default()
            });
            if let Some(spec) = v.value.spec.as_mut() {
                slim_pod_spec(spec);
            }
            s.k8s.pods.push(v)
        }),
        "ServiceAccount" if core => {
            single::<k8s::ServiceAccount>(ctx, text, p, |s, v| s.k8s.service_accounts.push(v))
        }
        "ConfigMap" if core => {
            single::<k8s::ConfigMap>(ctx, text, p, |s, v| s.k8s.config_maps.push(v))
        }
        "Secret" if core => single::<k8s::SecretMeta>(ctx, text, p, |s, v| s.k8s.secrets.push(v)),
        "ReplicationController" if core => {
            single::<k8s::ReplicationController>(ctx, text, p, |s, v| {
                s.k8s.replication_controllers.push(v)
            })
        }
        "Role" => single::<k8s::Role>(ctx, text, p, |s, v| s.k8s.roles.push(v)),
        "ClusterRole" => {
            single::<k8s::ClusterRole>(ctx, text, p, |s, v| s.k8s.cluster_roles.push(v))
        }
        "RoleBinding" => {
            single::<k8s::RoleBinding>(ctx, text, p, |s, v| s.k8s.role_bindings.push(v))
        }
        "ClusterRoleBinding" => single::<k8s::ClusterRoleBinding>(ctx, text, p, |s, v| {
            s.k8s.cluster_role_bindings.push(v)
        }),
        "Deployment" => single::<k8s::Deployment>(ctx, text, p, |s, v| s.k8s.deployments.push(v)),
        "DaemonSet" => single::<k8s::DaemonSet>(ctx, text, p, |s, v| s.k8s.daemon_sets.push(v)),
        "StatefulSet" => {
            single::<k8s::StatefulSet>(ctx, text, p, |s, v| s.k8s.stateful_sets.push(v))
        }
        "ReplicaSet" => single::<k8s::ReplicaSet>(ctx, text, p, |s, v| s.k8s.replica_sets.push(v)),
        "Job" if tm.api_version.starts_with("batch/") => {
            single::<k8s::Job>(ctx, text, p, |s, v| s.k8s.jobs.push(v))
        }
        "CronJob" => single::<k8s::CronJob>(ctx, text, p, |s, v| s.k8s.cron_jobs.push(v)),
        "MutatingWebhookConfiguration" => {
            single::<k8s::MutatingWebhookConfiguration>(ctx, text, p, |s, v| {
                s.k8s.mutating_webhooks.push(v)
            })
        }
        "ValidatingWebhookConfiguration" => {
            single::<k8s::ValidatingWebhookConfiguration>(ctx, text, p, |s, v| {
                s.k8s.validating_webhooks.push(v)
            })
        }
        "NetworkPolicy" => {
            single::<k8s::NetworkPolicy>(ctx, text, p, |s, v| s.k8s.network_policies.push(v))
        }
        "EC2NodeClass" if tm.api_version.starts_with("karpenter.k8s.aws/") => {
            single::<k8s::Ec2NodeClass>(ctx, text, p, |s, mut v| {
                v.value.spec.user_data_decoded = v
                    .value
                    .spec
                    .user_data
                    .as_deref()
                    .map(crate::userdata::parse_user_data_text);
                s.k8s.ec2_node_classes.push(v)
            })
        }
        "NodePool" if tm.api_version.starts_with("karpenter.sh/") => {
            single::<k8s::NodePool>(ctx, text, p, |s, v| s.k8s.node_pools.push(v))
        }
        _ => single::<k8s::OtherObject>(ctx, text, p, |s, v| s.k8s.other.push(v)),
    }
}

/// Error location for a YAML error inside a document starting at `doc_line`.
pub(crate) fn yaml_location(doc_line: usize, e: &serde_yaml_ng::Error) -> String {
    match e.location() {
        Some(l) => format!(
            "line {}, column {}",
            doc_line + l.line().saturating_sub(1),
            l.column()
        ),
        None => format!("document at line {doc_line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_dockerfile_names_are_dockerfiles() {
        assert!(is_prefixed_dockerfile_name("0007-Dockerfile"));
        assert!(is_prefixed_dockerfile_name("0006-Dockerfile.team-a-ml"));
        assert!(is_prefixed_dockerfile_name("team-b_Dockerfile"));
        assert!(!is_prefixed_dockerfile_name("Dockerfile-notes.md"));
        assert!(!is_prefixed_dockerfile_name("mydockerfile"));
        assert!(!is_prefixed_dockerfile_name(
            "aws-ec2-describe-instances.json"
        ));
    }

    #[test]
    fn type_meta_peek() {
        let t = peek_type_meta(r#"{ "apiVersion": "v1",  "kind":"Pod", "metadata": {}}"#).unwrap();
        assert_eq!((t.api_version.as_str(), t.kind.as_str()), ("v1", "Pod"));
        let t = peek_type_meta(r#"{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1"}"#)
            .unwrap();
        assert_eq!(t.kind, "Role");
        assert!(peek_type_meta(r#"{"metadata":{},"kind":"Pod","apiVersion":"v1"}"#).is_none());
        assert!(peek_type_meta(r#"{"apiVersion":"v\u0031","kind":"Pod"}"#).is_none());
        assert!(peek_type_meta(r#"{"apiVersion":"v1""#).is_none());
        assert!(peek_type_meta("").is_none());
    }
}

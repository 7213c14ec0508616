//! EMR's own RBAC: the published variants give EMR (user `emr-containers`, EMR service accounts,
//! the service-linked role through AmazonEMRJobPolicy) no capability beyond what its known role
//! holds, and those identities are exempt anyway.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

mod common;

use common::{fixture, role_binding, Objects};
use emrguard_model::{Capability, Capability::*, Located, SourceLoc, Subject};
use emrguard_rbac::emr::{self, check_emr_binding, rules_beyond_published, EmrRole};
use emrguard_rbac::{
    is_exempt, AccessEntryInput, AccessPolicyInput, AccessScope, ClusterCreator, Exemptions,
    IdentityMap, Reason,
};
use k8s_openapi::api::rbac::v1::Role;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeSet;

/// What the emr-containers Role is known to hold: it writes configmaps, pods (and
/// deployments/jobs), roles and rolebindings, and may `watch` secrets.
fn known() -> BTreeSet<Capability> {
    [ModifyConfigmaps, CreatePods, EscalateRbac, ReadSecrets].into()
}

fn held(g: &emrguard_rbac::RbacGraph, ns: &str, subject: &Subject) -> BTreeSet<Capability> {
    g.capabilities(ns)
        .into_iter()
        .filter(|s| s.subject == *subject)
        .flat_map(|s| {
            s.capabilities
                .into_iter()
                .filter(|(_, e)| e.held())
                .map(|(c, _)| c)
        })
        .collect()
}

fn user(name: &str) -> Subject {
    Subject {
        kind: "User".into(),
        name: name.into(),
        namespace: None,
        arn: None,
        iam_principals: vec![],
    }
}

fn role(ns: &str, name: &str, v: &emr::Variant) -> Located<Role> {
    Located::new(
        Role {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            },
            rules: Some(v.rules.clone()),
        },
        SourceLoc::new(format!("variant:{}", v.name), "", None),
    )
}

#[test]
fn emr_containers_variants_stay_within_the_known_role() {
    let containers: Vec<_> = emr::published_variants(EmrRole::Containers)
        .into_iter()
        .filter(|v| v.applies_to == "emr-containers")
        .collect();
    assert!(containers.len() >= 5);
    for v in containers {
        let mut o = Objects::default();
        o.roles.push(role("emr", "emr-containers", v));
        o.add(
            "rb.yaml",
            &role_binding(
                "emr",
                "emr-containers",
                "Role",
                "emr-containers",
                "User",
                "emr-containers",
            ),
        );
        let g = o.graph();
        assert_eq!(
            held(&g, "emr", &user("emr-containers")),
            known(),
            "variant {}",
            v.name
        );
        // EMR holds nothing outside its namespace.
        assert!(held(&g, "other", &user("emr-containers")).is_empty());
        assert!(matches!(
            is_exempt(&user("emr-containers"), &Exemptions::default()),
            Some(Reason::Emr(_))
        ));
        // The fake verbs are inert: `edit`/`describe` on pods do not add exec or anything else.
        assert!(g.issues().is_empty(), "{:?}", g.issues());
    }
}

#[test]
fn per_job_roles_at_their_published_bound_stay_within_the_known_role() {
    for (r, name, sa) in [
        (
            EmrRole::SparkDriver,
            "emr-containers-role-spark-driver",
            "emr-containers-sa-spark-driver-111122223333-abc",
        ),
        (
            EmrRole::SparkClient,
            "emr-containers-role-spark-client",
            "emr-containers-sa-spark-client-111122223333-abc",
        ),
    ] {
        // The whole published bound as one role.
        let rules: Vec<_> = emr::published_variants(r)
            .iter()
            .flat_map(|v| v.rules.clone())
            .collect();
        let bound = emr::Variant {
            name: "bound".into(),
            applies_to: name.into(),
            source: String::new(),
            rules,
        };
        let mut o = Objects::default();
        o.roles.push(role("emr", name, &bound));
        o.add(
            "rb.yaml",
            &role_binding("emr", "rb", "Role", name, "ServiceAccount", sa),
        );
        let g = o.graph();
        let subject = Subject {
            kind: "ServiceAccount".into(),
            name: sa.into(),
            namespace: Some("emr".into()),
            arn: None,
            iam_principals: vec![],
        };
        let caps = held(&g, "emr", &subject);
        assert!(caps.is_subset(&known()), "{name}: {caps:?}");
        assert!(matches!(
            is_exempt(&subject, &Exemptions::default()),
            Some(Reason::Emr(_))
        ));
        assert!(rules_beyond_published(r, &bound.rules).is_empty());
    }
}

#[test]
fn lake_formation_cluster_role_stays_within_the_known_role() {
    let mut o =
        Objects::from_fixture("emr/emr-containers-clusterrole.from-emr-on-eks-devguide.yaml");
    let g = o.graph();
    // Cluster-wide: clusterroles/clusterrolebindings writes add nothing new (already escalate-rbac).
    assert_eq!(held(&g, "emr", &user("emr-containers")), known());
    let cr = o.cluster_roles.remove(0);
    assert!(
        rules_beyond_published(EmrRole::ContainersClusterRole, cr.rules.as_deref().unwrap())
            .is_empty()
    );
    // Judged as the namespaced Role, the same rules go beyond (cluster RBAC, kyverno).
    let extra = rules_beyond_published(EmrRole::Containers, cr.rules.as_deref().unwrap());
    assert!(extra.iter().any(|x| x.resource == "clusterroles"));
    assert!(extra.iter().any(|x| x.api_group == "kyverno.io"));
    let crb = &o.cluster_role_bindings[0];
    let check = check_emr_binding(&crb.role_ref, crb.subjects.as_deref().unwrap(), None).unwrap();
    assert_eq!(check.role, EmrRole::ContainersClusterRole);
    assert!(check.non_emr_subjects.is_empty());
}

#[test]
fn hive_sample_is_a_published_variant_and_binds_only_emr() {
    let text = fixture("emr/hive-emr-on-eks-emr-rbac.yaml").replace("{{NAMESPACE}}", "emr");
    let mut o = Objects::default();
    o.add("emr/hive-emr-on-eks-emr-rbac.yaml", &text);
    let r = &o.roles[0];
    assert_eq!(
        emr::classify_role("Role", r.metadata.name.as_deref().unwrap()),
        Some(EmrRole::Containers)
    );
    assert!(rules_beyond_published(EmrRole::Containers, r.rules.as_deref().unwrap()).is_empty());
    let rb = &o.role_bindings[0];
    let check =
        check_emr_binding(&rb.role_ref, rb.subjects.as_deref().unwrap(), Some("emr")).unwrap();
    assert!(check.non_emr_subjects.is_empty());
    assert_eq!(held(&o.graph(), "emr", &user("emr-containers")), known());
}

#[test]
fn a_spark_role_from_the_load_test_sample_is_a_finding() {
    let text = fixture("emr/load-test-ns_rbac.yaml")
        .replace("{spark_ns}", "emr")
        .replace("{spark_sa}", "spark")
        .replace("{spark_role}", "spark-role")
        .replace("{spark_rb}", "spark-rb");
    let mut o = Objects::default();
    o.add("emr/load-test-ns_rbac.yaml", &text);
    let g = o.graph();
    let sa = Subject {
        kind: "ServiceAccount".into(),
        name: "spark".into(),
        namespace: Some("emr".into()),
        arn: None,
        iam_principals: vec![],
    };
    let caps = held(&g, "emr", &sa);
    let want: BTreeSet<_> = [
        ModifyConfigmaps,
        ExecPods,
        CreatePods,
        ReadSecrets,
        Impersonate,
    ]
    .into();
    assert_eq!(caps, want);
    assert_eq!(is_exempt(&sa, &Exemptions::default()), None);
}

#[test]
fn emr_job_policy_through_the_service_linked_role() {
    let slr = "arn:aws:iam::111122223333:role/aws-service-role/emr-containers.amazonaws.com/AWSServiceRoleForAmazonEMRContainers";
    let entries = vec![AccessEntryInput {
        principal_arn: slr.into(),
        policies: vec![AccessPolicyInput {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEMRJobPolicy".into(),
            scope: AccessScope::Namespaces(vec!["emr".into()]),
            loc: None,
        }],
        ..Default::default()
    }];
    let ids = IdentityMap::new(None, &entries, &ClusterCreator::default());
    assert!(ids.access_policy_bindings()[0].uncertain);
    let g = Objects::default().graph_with(ids.access_policy_bindings());
    let caps = g.capabilities("emr");
    let s = caps
        .iter()
        .find(|s| s.subject.arn.as_deref() == Some(slr))
        .unwrap();
    let held: BTreeSet<_> = s
        .capabilities
        .iter()
        .filter(|(_, e)| e.held())
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(held, known());
    assert_eq!(s.subject.kind, "IamRole");
    assert!(matches!(
        is_exempt(&s.subject, &Exemptions::default()),
        Some(Reason::Emr(_))
    ));
    assert!(
        g.capabilities("other").is_empty()
            || g.capabilities("other")
                .iter()
                .all(|s| s.subject.arn.as_deref() != Some(slr))
    );
}

//! Test helpers: load RBAC objects from YAML/JSON fixtures (multi-document, `kind: List`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use emrguard_model::{Located, SourceLoc};
use emrguard_rbac::{AccessPolicyBinding, RbacGraph, RbacObjects};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Deserialize;
use std::path::Path;

#[derive(Default, Clone)]
pub struct Objects {
    pub roles: Vec<Located<Role>>,
    pub cluster_roles: Vec<Located<ClusterRole>>,
    pub role_bindings: Vec<Located<RoleBinding>>,
    pub cluster_role_bindings: Vec<Located<ClusterRoleBinding>>,
}

pub fn fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl Objects {
    pub fn from_fixture(rel: &str) -> Objects {
        let mut o = Objects::default();
        o.add_yaml(rel, &fixture(rel));
        o
    }

    pub fn add_yaml(&mut self, file: &str, text: &str) {
        for (d, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
            let v = serde_json::Value::deserialize(doc).unwrap();
            if v.is_null() {
                continue;
            }
            let kind = v["kind"].as_str().unwrap_or("").to_owned();
            if kind.ends_with("List") {
                for (i, item) in v["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    self.add_value(
                        item,
                        SourceLoc::new(file, format!("/items/{i}"), Some(d as u32 + 1)),
                    );
                }
            } else {
                self.add_value(v, SourceLoc::new(file, "", Some(d as u32 + 1)));
            }
        }
    }

    pub fn add_value(&mut self, mut v: serde_json::Value, loc: SourceLoc) {
        // Old fixtures use rbac.authorization.k8s.io/v1beta1; the objects are the same.
        if v["apiVersion"]
            .as_str()
            .is_some_and(|a| a.starts_with("rbac.authorization.k8s.io/"))
        {
            v["apiVersion"] = "rbac.authorization.k8s.io/v1".into();
        }
        match v["kind"].as_str().unwrap_or("") {
            "Role" => self
                .roles
                .push(Located::new(serde_json::from_value(v).unwrap(), loc)),
            "ClusterRole" => self
                .cluster_roles
                .push(Located::new(serde_json::from_value(v).unwrap(), loc)),
            "RoleBinding" => self
                .role_bindings
                .push(Located::new(serde_json::from_value(v).unwrap(), loc)),
            "ClusterRoleBinding" => self
                .cluster_role_bindings
                .push(Located::new(serde_json::from_value(v).unwrap(), loc)),
            _ => {}
        }
    }

    pub fn add(&mut self, file: &str, yaml: &str) -> &mut Self {
        self.add_yaml(file, yaml);
        self
    }

    pub fn graph(&self) -> RbacGraph {
        self.graph_with(&[])
    }

    pub fn graph_with(&self, access_policies: &[AccessPolicyBinding]) -> RbacGraph {
        RbacGraph::new(RbacObjects {
            roles: &self.roles,
            cluster_roles: &self.cluster_roles,
            role_bindings: &self.role_bindings,
            cluster_role_bindings: &self.cluster_role_bindings,
            access_policies,
        })
    }
}

/// A RoleBinding in `ns` from `role_kind`/`role` to one subject.
pub fn role_binding(
    ns: &str,
    name: &str,
    role_kind: &str,
    role: &str,
    subject_kind: &str,
    subject: &str,
) -> String {
    let sns = if subject_kind == "ServiceAccount" {
        format!("\n  namespace: {ns}")
    } else {
        String::new()
    };
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {name}\n  namespace: {ns}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {role_kind}\n  name: {role}\nsubjects:\n- kind: {subject_kind}\n  name: {subject}{sns}\n"
    )
}

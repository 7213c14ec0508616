//! Karpenter objects (issue 14): `EC2NodeClass` keeps its metadata options, role and decoded
//! user data; `NodePool` its node class reference; both from YAML manifests and kubectl Lists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

#[test]
fn ec2_node_classes_and_node_pools_are_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("karpenter.yaml"),
        r#"apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: spark
spec:
  role: KarpenterNodeRole-analytics
  amiSelectorTerms: [{alias: al2023@latest}]
  metadataOptions:
    httpEndpoint: enabled
    httpProtocolIPv6: disabled
    httpPutResponseHopLimit: 2
    httpTokens: required
  userData: |
    #!/bin/bash
    iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: spark-spot
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: spark}
---
# Another group's kind of the same name is not Karpenter's.
apiVersion: example.com/v1
kind: NodePool
metadata:
  name: not-karpenter
"#,
    )
    .unwrap();
    let loaded = emrguard_load::load_paths(&[PathBuf::from(dir.path())]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let k = &loaded.snapshot.k8s;
    assert_eq!(k.ec2_node_classes.len(), 1);
    let c = &k.ec2_node_classes[0];
    let md = c.spec.metadata_options.as_ref().unwrap();
    assert_eq!(md.http_put_response_hop_limit, Some(2));
    assert_eq!(md.http_tokens.as_deref(), Some("required"));
    assert_eq!(md.http_protocol_ipv6.as_deref(), Some("disabled"));
    assert_eq!(c.spec.role.as_deref(), Some("KarpenterNodeRole-analytics"));
    let ud = c.spec.user_data_decoded.as_ref().unwrap();
    assert_eq!(ud.iptables.len(), 1, "{ud:?}");
    assert_eq!(k.node_pools.len(), 1);
    let r = k.node_pools[0]
        .spec
        .template
        .spec
        .node_class_ref
        .as_ref()
        .unwrap();
    assert_eq!(r.name, "spark");
    assert_eq!(k.other.len(), 1, "the other group's NodePool stays generic");
}

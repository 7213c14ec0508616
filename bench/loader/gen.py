#!/usr/bin/env python3
"""Generate a large snapshot for the loader benchmark: kubectl JSON (pods, RBAC, service
accounts, config maps) and an IAM authorization-details file, about TARGET_MB in total.

Usage: gen.py OUT_DIR [TARGET_MB]   (deterministic: seeded)"""
import json
import os
import random
import sys

out = sys.argv[1]
target_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 300
os.makedirs(out, exist_ok=True)
rnd = random.Random(42)
ACCT = "111122223333"


def pod(i, ns):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": f"spark-{i:08d}-driver", "namespace": ns, "uid": f"uid-{i:012d}",
            "resourceVersion": str(1000 + i), "creationTimestamp": "2026-11-01T10:00:00Z",
            "labels": {"emr-containers.amazonaws.com/job.id": f"{i:019d}", "spark-role": "driver",
                        "emr-containers.amazonaws.com/virtual-cluster-id": "vc" + str(i % 50),
                        "spark-app-selector": f"spark-{i:032x}"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}" * 20},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": f"{i:019d}",
                                 "uid": f"j-{i}", "controller": True}],
        },
        "spec": {
            "serviceAccountName": f"emr-containers-sa-spark-driver-{ACCT}-abc{i % 97}",
            "nodeSelector": {"eks.amazonaws.com/nodegroup": "spark"},
            "securityContext": {"fsGroup": 65534},
            "volumes": [{"name": f"v{k}", "emptyDir": {}} for k in range(4)],
            "containers": [{
                "name": "spark-kubernetes-driver",
                "image": "895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest",
                "args": ["driver", "--properties-file", "/usr/lib/spark/conf/spark.properties", "--class", "org.example.Main"],
                "env": [{"name": f"SPARK_ENV_{k}", "value": "x" * 40} for k in range(12)],
                "resources": {"limits": {"cpu": "2", "memory": "8Gi"}, "requests": {"cpu": "1", "memory": "4Gi"}},
                "securityContext": {"runAsNonRoot": True, "runAsUser": 999, "runAsGroup": 1000,
                                    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": [{"name": f"v{k}", "mountPath": f"/mnt/v{k}"} for k in range(4)],
            }],
        },
        "status": {"phase": "Running", "podIP": f"10.0.{i % 250}.{i % 200}",
                   "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2026-11-01T10:00:01Z"}
                                  for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]},
    }


def rolebinding(i, ns):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": f"rb-{i}", "namespace": ns, "uid": f"rb-{i}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": rnd.choice(["Role", "ClusterRole"]),
                        "name": rnd.choice(["view", "edit", f"role-{i % 1000}"])},
            "subjects": [{"kind": "User", "name": f"user-{rnd.randrange(5000)}", "apiGroup": "rbac.authorization.k8s.io"},
                         {"kind": "Group", "name": f"group-{rnd.randrange(500)}", "apiGroup": "rbac.authorization.k8s.io"}]}


def role(i, ns):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": f"role-{i % 1000}", "namespace": ns, "uid": f"r-{i}"},
            "rules": [{"apiGroups": [""], "resources": rnd.sample(["pods", "configmaps", "secrets", "services", "pods/log", "events"], 3),
                       "verbs": rnd.sample(["get", "list", "watch", "create", "update", "patch", "delete"], 3)}
                      for _ in range(3)]}


def iam_role(i):
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::bucket-{i % 300}", f"arn:aws:s3:::bucket-{i % 300}/*"]},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Federated": f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringLike": {"oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": f"system:serviceaccount:ns-{i % 400}:emr-containers-sa-*-*-{ACCT}-x{i}"}}}]}
    return {"Path": "/", "RoleName": f"role-{i}", "RoleId": f"AROA{i:016d}", "Arn": f"arn:aws:iam::{ACCT}:role/role-{i}",
            "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": [], "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": doc}],
            "AttachedManagedPolicies": [{"PolicyName": f"shared-{i % 100}", "PolicyArn": f"arn:aws:iam::{ACCT}:policy/shared-{i % 100}"}],
            "Tags": [{"Key": "team", "Value": f"t{i % 20}"}], "RoleLastUsed": {}}


def write_list(name, items):
    path = os.path.join(out, name)
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}, f, indent=4)
    return os.path.getsize(path)


total = 0
# IAM authorization details: ~20% of the volume.
roles = [iam_role(i) for i in range(max(1000, target_mb * 40))]
policies = [{"PolicyName": f"shared-{k}", "Arn": f"arn:aws:iam::{ACCT}:policy/shared-{k}", "DefaultVersionId": "v2",
             "PolicyVersionList": [{"VersionId": v, "IsDefaultVersion": v == "v2", "Document": {"Version": "2012-10-17",
                                     "Statement": [{"Effect": "Allow", "Action": "glue:Get*", "Resource": "*"}]}} for v in ("v1", "v2")]}
            for k in range(100)]
p = os.path.join(out, "aws-iam-get-account-authorization-details.json")
with open(p, "w") as f:
    json.dump({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": policies}, f, indent=4)
total += os.path.getsize(p)
part = 0
i = 0
while total < target_mb * 1_000_000:
    ns = f"ns-{part % 400}"
    total += write_list(f"kubectl-get-pods-{part:03d}.json", [pod(i + k, ns) for k in range(4000)])
    total += write_list(f"kubectl-get-rbac-{part:03d}.json",
                        [rolebinding(i + k, f"ns-{(i + k) % 400}") for k in range(6000)] + [role(i + k, f"ns-{(i + k) % 400}") for k in range(2000)])
    part += 1
    i += 6000
print(f"{out}: {total / 1e6:.1f} MB in {len(os.listdir(out))} files")

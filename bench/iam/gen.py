#!/usr/bin/env python3
"""Generate `aws iam get-account-authorization-details` files for benchmarking emrguard's IAM
engine against Cloudsplaining. Python 3 standard library only; deterministic for a seed.

Usage: python3 bench/iam/gen.py [--out DIR] [--seed N] [--sizes 1000,10000,50000]
Writes DIR/authz-<N>.json for each size N (number of roles).

The mix, per 100 roles (realistic for an EMR on EKS estate):
- 40 EMR job execution roles: the IRSA trust statement aws-cli writes (per namespace, base36 role
  name), an inline policy for their buckets/Glue/logs (some with `s3:*` on `*`), one or two shared
  customer managed policies, some with a permissions boundary;
- 15 IRSA roles of other workloads (VPC CNI with AmazonEKS_CNI_Policy, load balancer
  controller-like, external-dns-like), some with Pod Identity trust;
- 10 node roles: EC2 trust, AmazonEKSWorkerNodePolicy + ECR read-only/pull-only + CNI, some with
  extra policies (SSM core, S3 read-only);
- 10 cross-account roles: AWS principal of another account with sts:ExternalId, ReadOnlyAccess or
  custom policies;
- 15 application roles: wildcards (`s3:Get*`, `iam:*Policy*`), NotAction (PowerUser-like),
  Deny statements, conditions, policy variables;
- 10 submitter/operator roles: emr-containers:StartJobRun with ExecutionRoleArn conditions,
  iam:PassRole, some unconstrained.
Plus users (1 per 20 roles) in groups (1 per 100 roles), customer managed policies (1 per 10
roles, 1-5 versions each, shared among roles), and the AWS managed policies of the crate's test
fixture (real documents, ReadOnlyAccess included).
"""
import argparse
import gzip
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "crates", "emrguard-iam", "tests", "fixtures", "aws-managed-policies.jsonl.gz")
ACCOUNT = "111122223333"
OTHER_ACCOUNTS = ["444455556666", "777788889999", "123456789012"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
V = "2012-10-17"


def b36(name):
    n = 0
    for c in name:
        n = n * 256 + ord(c)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, i = divmod(n, 36)
        out = digits[i] + out
    return out or "0"


def load_aws_managed():
    out = {}
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out[d["name"]] = d
    return out


def date(rng):
    return "20%02d-%02d-%02dT%02d:%02d:%02dZ" % (
        rng.randint(19, 25), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))


class Gen:
    def __init__(self, n_roles, seed):
        self.rng = random.Random(seed)
        self.n = n_roles
        self.aws = load_aws_managed()
        self.issuers = [
            "oidc.eks.%s.amazonaws.com/id/%032X" % (self.rng.choice(REGIONS), self.rng.getrandbits(128))
            for _ in range(max(2, n_roles // 2000))
        ]
        self.namespaces = ["emr-team-%d" % i for i in range(max(4, n_roles // 100))]
        self.buckets = ["data-lake-%d" % i for i in range(max(8, n_roles // 50))]
        self.customer = []  # list of policy dicts
        self.role_arns = []

    # ---------- policies

    def stmt(self, effect, actions, resources, sid=None, cond=None, not_action=False, not_resource=False):
        s = {"Effect": effect}
        if sid:
            s["Sid"] = sid
        s["NotAction" if not_action else "Action"] = actions
        s["NotResource" if not_resource else "Resource"] = resources
        if cond:
            s["Condition"] = cond
        return s

    def doc(self, statements):
        return {"Version": V, "Statement": statements}

    def bucket_statements(self, rng):
        bs = rng.sample(self.buckets, rng.randint(1, 3))
        st = [
            self.stmt("Allow", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], ["arn:aws:s3:::%s/*" % b for b in bs], sid="Objects"),
            self.stmt("Allow", ["s3:ListBucket", "s3:GetBucketLocation"], ["arn:aws:s3:::%s" % b for b in bs], sid="Buckets"),
        ]
        if rng.random() < 0.15:
            st.append(self.stmt("Allow", "s3:*", "*", sid="Lazy"))
        return st

    def glue_statement(self, rng):
        db = "db_%d" % rng.randint(0, 50)
        return self.stmt(
            "Allow",
            ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions", "glue:CreateTable", "glue:UpdateTable"],
            ["arn:aws:glue:*:%s:catalog" % ACCOUNT, "arn:aws:glue:*:%s:database/%s" % (ACCOUNT, db),
             "arn:aws:glue:*:%s:table/%s/*" % (ACCOUNT, db)] if rng.random() < 0.8 else "*",
            sid="Glue",
        )

    def logs_statement(self):
        return self.stmt("Allow", ["logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                         "arn:aws:logs:*:*:*", sid="Logs")

    def make_customer_policies(self):
        rng = self.rng
        count = max(10, self.n // 10)
        shapes = ["emr-common", "kms", "wildcards", "notaction", "deny-guard", "submitter", "boundary"]
        for i in range(count):
            shape = shapes[i % len(shapes)]
            name = "%s-%d" % (shape, i)
            versions = []
            for v in range(rng.randint(1, 5)):
                if shape == "emr-common":
                    st = [self.logs_statement(), self.stmt("Allow", ["s3:GetObject", "s3:ListBucket"],
                          ["arn:aws:s3:::%s" % rng.choice(self.buckets), "arn:aws:s3:::%s/*" % rng.choice(self.buckets)])]
                elif shape == "kms":
                    st = [self.stmt("Allow", ["kms:Decrypt", "kms:GenerateDataKey*"],
                                    "arn:aws:kms:%s:%s:key/%08x-0000-0000-0000-%012x" % (rng.choice(REGIONS), ACCOUNT, rng.getrandbits(32), rng.getrandbits(48)),
                                    cond={"StringEquals": {"kms:ViaService": "s3.%s.amazonaws.com" % rng.choice(REGIONS)}})]
                elif shape == "wildcards":
                    st = [self.stmt("Allow", ["s3:Get*", "s3:List*", "ec2:Describe*", "cloudwatch:*"], "*"),
                          self.stmt("Allow", ["iam:*Policy*", "iam:Get*"], "arn:aws:iam::%s:role/app-*" % ACCOUNT)]
                elif shape == "notaction":
                    st = [self.stmt("Allow", ["iam:*", "organizations:*", "account:*"], "*", not_action=True),
                          self.stmt("Allow", ["iam:CreateServiceLinkedRole", "iam:ListRoles"], "*")]
                elif shape == "deny-guard":
                    st = [self.stmt("Deny", "*", "*", cond={"Bool": {"aws:SecureTransport": "false"}}),
                          self.stmt("Deny", ["s3:DeleteBucket", "iam:DeleteRole*"], "*"),
                          self.stmt("Allow", ["sqs:SendMessage", "sqs:ReceiveMessage"], "arn:aws:sqs:*:%s:queue-%d" % (ACCOUNT, i))]
                elif shape == "submitter":
                    st = [self.stmt("Allow", "emr-containers:StartJobRun",
                                    "arn:aws:emr-containers:*:%s:/virtualclusters/%016x" % (ACCOUNT, rng.getrandbits(64)),
                                    cond={"ArnEquals": {"emr-containers:ExecutionRoleArn": ["arn:aws:iam::%s:role/emr-exec-%d" % (ACCOUNT, rng.randint(0, self.n))]}}),
                          self.stmt("Allow", ["emr-containers:DescribeJobRun", "emr-containers:ListJobRuns", "emr-containers:CancelJobRun"], "*")]
                else:  # boundary
                    st = [self.stmt("Allow", ["s3:*", "glue:*", "logs:*", "kms:Decrypt", "emr-containers:*", "sts:AssumeRole"], "*"),
                          self.stmt("Deny", ["iam:*", "organizations:*"], "*")]
                versions.append({
                    "Document": self.doc(st),
                    "VersionId": "v%d" % (v + 1),
                    "IsDefaultVersion": False,
                    "CreateDate": date(rng),
                })
            versions[-1]["IsDefaultVersion"] = True
            self.customer.append({
                "PolicyName": name,
                "PolicyId": "ANPA%016X" % rng.getrandbits(64),
                "Arn": "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name),
                "Path": "/",
                "DefaultVersionId": versions[-1]["VersionId"],
                "AttachmentCount": 0,
                "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True,
                "CreateDate": date(rng),
                "UpdateDate": date(rng),
                "PolicyVersionList": versions,
            })

    def customer_of(self, shape):
        if not hasattr(self, "_pools"):
            self._pools = {}
            for c in self.customer:
                self._pools.setdefault(c["PolicyName"].rsplit("-", 1)[0], []).append(c)
        p = self.rng.choice(self._pools[shape])
        p["AttachmentCount"] += 1
        return {"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]}

    def aws_of(self, name):
        return {"PolicyName": name, "PolicyArn": self.aws[name]["arn"]}

    # ---------- roles

    def irsa_trust(self, role_name, ns):
        issuer = self.rng.choice(self.issuers)
        return self.doc([{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, issuer)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"%s:sub" % issuer: "system:serviceaccount:%s:emr-containers-sa-*-*-%s-%s" % (ns, ACCOUNT, b36(role_name))}},
        }])

    def role(self, i):
        rng = self.rng
        kind = rng.random()
        inline, attached, boundary, path = [], [], None, "/"
        if kind < 0.40:
            name = "emr-exec-%d" % i
            ns = rng.choice(self.namespaces)
            trust = self.irsa_trust(name, ns)
            if rng.random() < 0.2:  # plus Pod Identity
                trust["Statement"].append({"Sid": "AllowEksAuthToAssumeRoleForPodIdentity", "Effect": "Allow",
                                           "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})
            inline.append({"PolicyName": "job-access", "PolicyDocument": self.doc(self.bucket_statements(rng) + [self.glue_statement(rng), self.logs_statement()])})
            attached.append(self.customer_of("emr-common"))
            if rng.random() < 0.4:
                attached.append(self.customer_of("kms"))
            if rng.random() < 0.3:
                b = self.customer_of("boundary")
                boundary = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": b["PolicyArn"]}
        elif kind < 0.55:
            name = "irsa-%d" % i
            issuer = rng.choice(self.issuers)
            sa = rng.choice(["kube-system:aws-node", "kube-system:aws-load-balancer-controller", "kube-system:external-dns", "karpenter:karpenter"])
            trust = self.doc([{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/%s" % (ACCOUNT, issuer)},
                               "Action": "sts:AssumeRoleWithWebIdentity",
                               "Condition": {"StringEquals": {"%s:aud" % issuer: "sts.amazonaws.com", "%s:sub" % issuer: "system:serviceaccount:" + sa}}}])
            if sa.endswith("aws-node"):
                attached.append(self.aws_of("AmazonEKS_CNI_Policy"))
            else:
                inline.append({"PolicyName": "controller", "PolicyDocument": self.doc([
                    self.stmt("Allow", ["ec2:Describe*", "elasticloadbalancing:Describe*", "route53:List*"], "*"),
                    self.stmt("Allow", ["elasticloadbalancing:*", "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "route53:ChangeResourceRecordSets"], "*",
                              cond={"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}),
                    self.stmt("Allow", ["iam:PassRole"], "arn:aws:iam::%s:role/node-*" % ACCOUNT,
                              cond={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
                ])})
        elif kind < 0.65:
            name = "node-%d" % i
            trust = self.doc([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])
            attached += [self.aws_of("AmazonEKSWorkerNodePolicy"),
                         self.aws_of(rng.choice(["AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly"]))]
            if rng.random() < 0.6:
                attached.append(self.aws_of("AmazonEKS_CNI_Policy"))
            if rng.random() < 0.3:
                attached.append(self.aws_of("AmazonSSMManagedInstanceCore"))
            if rng.random() < 0.1:
                attached.append(self.aws_of("AmazonS3ReadOnlyAccess"))
        elif kind < 0.75:
            name = "xacct-%d" % i
            other = rng.choice(OTHER_ACCOUNTS)
            trust = self.doc([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % other}, "Action": "sts:AssumeRole",
                               "Condition": {"StringEquals": {"sts:ExternalId": "ext-%d" % rng.getrandbits(32)}}}])
            if rng.random() < 0.3:
                attached.append(self.aws_of("ReadOnlyAccess"))
            elif rng.random() < 0.05:
                attached.append(self.aws_of("AdministratorAccess"))
            else:
                attached.append(self.customer_of("wildcards"))
        elif kind < 0.90:
            name = "app-%d" % i
            path = "/apps/"
            trust = self.doc([{"Effect": "Allow", "Principal": {"Service": rng.choice(["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com"])},
                               "Action": "sts:AssumeRole"}])
            r = rng.random()
            if r < 0.3:
                attached.append(self.customer_of("wildcards"))
            elif r < 0.45:
                attached.append(self.customer_of("notaction"))
            attached.append(self.customer_of("deny-guard"))
            inline.append({"PolicyName": "app", "PolicyDocument": self.doc([
                self.stmt("Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                          "arn:aws:dynamodb:%s:%s:table/app-%d" % (rng.choice(REGIONS), ACCOUNT, i)),
                self.stmt("Allow", ["s3:GetObject"], "arn:aws:s3:::home/${aws:username}/*"),
                self.stmt("Allow", ["secretsmanager:GetSecretValue"], "*" if rng.random() < 0.2 else
                          "arn:aws:secretsmanager:*:%s:secret:app-%d-*" % (ACCOUNT, i)),
            ])})
        else:
            name = "submitter-%d" % i
            trust = self.doc([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole",
                               "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])
            attached.append(self.customer_of("submitter"))
            if rng.random() < 0.3:
                inline.append({"PolicyName": "passrole", "PolicyDocument": self.doc([
                    self.stmt("Allow", "iam:PassRole", "arn:aws:iam::%s:role/emr-exec-*" % ACCOUNT if rng.random() < 0.7 else "*",
                              cond={"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}}),
                    self.stmt("Allow", "emr-containers:StartJobRun", "*"),
                ])})
        arn = "arn:aws:iam::%s:role%s%s" % (ACCOUNT, path, name)
        self.role_arns.append(arn)
        r = {
            "Path": path,
            "RoleName": name,
            "RoleId": "AROA%016X" % rng.getrandbits(64),
            "Arn": arn,
            "CreateDate": date(rng),
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": attached,
            "Tags": [{"Key": "team", "Value": "t%d" % rng.randint(0, 20)}],
            "RoleLastUsed": {},
        }
        if boundary:
            r["PermissionsBoundary"] = boundary
        if name.startswith("node-"):
            r["InstanceProfileList"] = [{"Path": "/", "InstanceProfileName": name, "InstanceProfileId": "AIPA%016X" % rng.getrandbits(64),
                                         "Arn": "arn:aws:iam::%s:instance-profile/%s" % (ACCOUNT, name), "CreateDate": date(rng), "Roles": []}]
        return r

    def generate(self):
        self.make_customer_policies()
        roles = [self.role(i) for i in range(self.n)]
        rng = self.rng
        groups = []
        for g in range(max(2, self.n // 100)):
            attached = [self.aws_of(rng.choice(["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "IAMFullAccess", "AmazonEKSWorkerNodePolicy"]))]
            groups.append({
                "Path": "/", "GroupName": "group-%d" % g, "GroupId": "AGPA%016X" % rng.getrandbits(64),
                "Arn": "arn:aws:iam::%s:group/group-%d" % (ACCOUNT, g), "CreateDate": date(rng),
                "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": self.doc([
                    self.stmt("Allow", ["emr-containers:Describe*", "emr-containers:List*"], "*")])}],
                "AttachedManagedPolicies": attached,
            })
        users = []
        for u in range(max(2, self.n // 20)):
            users.append({
                "Path": "/", "UserName": "user-%d" % u, "UserId": "AIDA%016X" % rng.getrandbits(64),
                "Arn": "arn:aws:iam::%s:user/user-%d" % (ACCOUNT, u), "CreateDate": date(rng),
                "UserPolicyList": [{"PolicyName": "self", "PolicyDocument": self.doc([
                    self.stmt("Allow", ["iam:ChangePassword", "iam:GetUser"], "arn:aws:iam::*:user/${aws:username}")])}],
                "GroupList": [g["GroupName"] for g in rng.sample(groups, min(len(groups), rng.randint(1, 2)))],
                "AttachedManagedPolicies": [self.customer_of("submitter")] if rng.random() < 0.3 else [],
                "Tags": [],
            })
        policies = list(self.customer)
        for name, d in sorted(self.aws.items()):
            policies.append({
                "PolicyName": name, "PolicyId": "ANPA%016X" % rng.getrandbits(64), "Arn": d["arn"], "Path": "/",
                "DefaultVersionId": d["version"], "AttachmentCount": 1, "IsAttachable": True,
                "PolicyVersionList": [{"Document": d["document"], "VersionId": d["version"], "IsDefaultVersion": True, "CreateDate": "2024-01-01T00:00:00Z"}],
            })
        return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "out", "iam"))
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--sizes", default="1000,10000,50000")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for n in [int(x) for x in args.sizes.split(",")]:
        data = Gen(n, args.seed + n).generate()
        path = os.path.join(args.out, "authz-%d.json" % n)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        print("%s: %d roles, %d users, %d groups, %d managed policies, %d bytes" % (
            path, len(data["RoleDetailList"]), len(data["UserDetailList"]), len(data["GroupDetailList"]),
            len(data["Policies"]), os.path.getsize(path)))


if __name__ == "__main__":
    main()

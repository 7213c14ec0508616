#!/usr/bin/env python3
"""Generate a CloudTrail log set for the `emrguard usage` benchmark (seeded, deterministic).

Usage: gen.py OUT_DIR [--mb 1024] [--roles 50] [--files 64]

Writes OUT_DIR/cloudtrail/*.json.gz (`{"Records":[...]}` files as CloudTrail delivers them)
totalling about --mb MB uncompressed: for each of --roles execution roles, IRSA sessions
(AssumeRoleWithWebIdentity of spark-client/driver/executor service accounts) and the calls
made with them, mixing management events (Glue, KMS, CloudWatch Logs, STS, ECR, StartJobRun)
and S3 data events (GetObject/PutObject/ListObjects/multipart/CopyObject on partitioned keys,
some denied). Also OUT_DIR/iam.json (the 50 roles with policies) and event-selectors.json.
"""
import argparse, gzip, json, os, random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--mb", type=int, default=1024)
ap.add_argument("--roles", type=int, default=50)
ap.add_argument("--files", type=int, default=64)
a = ap.parse_args()
rnd = random.Random(13)
ACCT = "111122223333"
os.makedirs(os.path.join(a.out, "cloudtrail"), exist_ok=True)
roles = ["emr-job-role-%02d" % i for i in range(a.roles)]
B36 = "2bs0ab3mwuvh2ewr1zvjizr5g7vhy8a8y6qxiwnlfr"

# IAM: each role can read/write its team bucket, read a shared bucket, use Glue and logs.
iam = {"RoleDetailList": [], "UserDetailList": [], "GroupDetailList": [], "Policies": []}
for i, r in enumerate(roles):
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Team", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": "arn:aws:s3:::team-%02d/*" % i},
        {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::team-%02d" % i, "arn:aws:s3:::shared"]},
        {"Sid": "Shared", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"},
        {"Sid": "Glue", "Effect": "Allow", "Action": ["glue:Get*", "glue:CreateTable"], "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "*"},
        {"Sid": "Kms", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}
    iam["RoleDetailList"].append({"Path": "/", "RoleName": r, "RoleId": "AROA%016d" % i,
        "Arn": "arn:aws:iam::%s:role/%s" % (ACCT, r), "RolePolicyList": [{"PolicyName": "job", "PolicyDocument": doc}],
        "AttachedManagedPolicies": []})
json.dump(iam, open(os.path.join(a.out, "iam.json"), "w"))
json.dump({"TrailARN": "arn:aws:cloudtrail:us-east-1:%s:trail/org" % ACCT, "EventSelectors": [
    {"ReadWriteType": "All", "IncludeManagementEvents": True,
     "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]},
    open(os.path.join(a.out, "event-selectors.json"), "w"))

def ident(role, key):
    return {"type": "AssumedRole", "principalId": "AROAX:%s" % key,
            "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCT, role, key), "accountId": ACCT,
            "accessKeyId": key, "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAX",
            "arn": "arn:aws:iam::%s:role/%s" % (ACCT, role), "accountId": ACCT, "userName": role},
            "attributes": {"creationDate": "2024-03-01T00:00:00Z", "mfaAuthenticated": "false"}}}

n = [0]
def base(t, src, name):
    n[0] += 1
    return {"eventVersion": "1.09", "eventTime": t, "eventSource": src, "eventName": name, "awsRegion": "us-east-1",
            "sourceIPAddress": "10.0.%d.%d" % (rnd.randrange(256), rnd.randrange(256)),
            "userAgent": "aws-sdk-java/2.20.160 Linux/5.10 OpenJDK_64-Bit_Server_VM/17 vendor/Amazon.com_Inc. exec-env/EMR_ON_EKS",
            "requestID": "%016X" % rnd.getrandbits(64), "eventID": "%08x-0000-4000-8000-%012x" % (n[0], rnd.getrandbits(48)),
            "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCT}

def events_for(i, day, hour):
    role = roles[i]
    t0 = "2024-03-%02dT%02d:" % (day, hour)
    out = []
    keys = {}
    for comp in ("client", "driver", "executor"):
        k = "ASIA%02d%02d%02d%s" % (i, day, hour, comp[:4].upper())
        keys[comp] = k
        sa = "emr-containers-sa-spark-%s-%s-%s" % (comp, ACCT, B36)
        e = base(t0 + "00:01Z", "sts.amazonaws.com", "AssumeRoleWithWebIdentity")
        e["userIdentity"] = {"type": "WebIdentityUser", "principalId": "oidc:sts.amazonaws.com:system:serviceaccount:team-%02d:%s" % (i, sa),
                             "userName": "system:serviceaccount:team-%02d:%s" % (i, sa),
                             "identityProvider": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC" % ACCT}
        e["requestParameters"] = {"roleArn": "arn:aws:iam::%s:role/%s" % (ACCT, role), "roleSessionName": k, "durationSeconds": 3600}
        e["responseElements"] = {"credentials": {"accessKeyId": k, "expiration": "Mar 1, 2024, 1:00:00 AM", "sessionToken": "x" * 40},
                                 "subjectFromWebIdentityToken": "system:serviceaccount:team-%02d:%s" % (i, sa),
                                 "assumedRoleUser": {"arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCT, role, k)},
                                 "provider": "arn:aws:iam::%s:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC" % ACCT,
                                 "audience": "sts.amazonaws.com"}
        out.append(e)
    e = base(t0 + "00:00Z", "emr-containers.amazonaws.com", "StartJobRun")
    e["userIdentity"] = {"type": "IAMUser", "arn": "arn:aws:iam::%s:user/submitter" % ACCT, "accessKeyId": "AKIASUBMIT"}
    e["requestParameters"] = {"virtualClusterId": "vc%02d" % i, "executionRoleArn": "arn:aws:iam::%s:role/%s" % (ACCT, role),
                              "releaseLabel": "emr-7.1.0-latest" if day > 15 else "emr-6.15.0-latest",
                              "jobDriver": {"sparkSubmitJobDriver": {"entryPoint": "s3://team-%02d/code/job.py" % i}}}
    e["responseElements"] = {"id": "jr%02d%02d%02d" % (i, day, hour), "virtualClusterId": "vc%02d" % i}
    out.append(e)
    for m in range(rnd.randrange(150, 250)):
        t = t0 + "%02d:%02dZ" % (1 + m % 58, m % 60)
        r = rnd.random()
        comp = "executor" if r < 0.8 else "driver"
        if r < 0.45:
            e = base(t, "s3.amazonaws.com", "GetObject")
            e["requestParameters"] = {"bucketName": "team-%02d" % i if r < 0.35 else "shared", "Host": "s3.amazonaws.com",
                                      "key": "raw/events/dt=2024-03-%02d/hr=%02d/part-%05d.parquet" % (day, hour, m)}
            e["eventCategory"] = "Data"; e["managementEvent"] = False
            e["resources"] = [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::team-%02d/raw/events/part-%05d.parquet" % (i, m)},
                              {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::team-%02d" % i}]
            e["additionalEventData"] = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "bytesTransferredOut": 81920}
        elif r < 0.60:
            e = base(t, "s3.amazonaws.com", rnd.choice(["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"]))
            e["requestParameters"] = {"bucketName": "team-%02d" % i, "key": "curated/events/dt=2024-03-%02d/part-%05d.parquet" % (day, m),
                                      "x-amz-server-side-encryption": "aws:kms"}
            e["eventCategory"] = "Data"; e["readOnly"] = False; e["managementEvent"] = False
        elif r < 0.67:
            e = base(t, "s3.amazonaws.com", "ListObjects")
            e["requestParameters"] = {"bucketName": "team-%02d" % i, "prefix": "raw/events/dt=2024-03-%02d/" % day, "list-type": "2", "delimiter": "/"}
            e["eventCategory"] = "Data"; e["managementEvent"] = False
        elif r < 0.70:
            e = base(t, "s3.amazonaws.com", "CopyObject")
            e["requestParameters"] = {"bucketName": "team-%02d" % i, "key": "archive/dt=2024-03-%02d/part-%05d" % (day, m),
                                      "x-amz-copy-source": "team-%02d/raw/events/dt%%3D2024-03-%02d/part-%05d" % (i, day, m)}
            e["eventCategory"] = "Data"; e["readOnly"] = False; e["managementEvent"] = False
        elif r < 0.72:
            e = base(t, "s3.amazonaws.com", "GetObject")
            e["requestParameters"] = {"bucketName": "other-team", "key": "secret/x-%d" % m}
            e["errorCode"] = "AccessDenied"; e["errorMessage"] = "Access Denied"
            e["eventCategory"] = "Data"; e["managementEvent"] = False
        elif r < 0.85:
            comp = "driver"
            e = base(t, "glue.amazonaws.com", rnd.choice(["GetTable", "GetDatabase", "GetPartitions"]))
            e["requestParameters"] = {"databaseName": "db%02d" % i, "name": "events", "catalogId": ACCT}
            e["responseElements"] = None
        elif r < 0.93:
            e = base(t, "kms.amazonaws.com", "Decrypt")
            e["requestParameters"] = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::team-%02d/raw" % i}}
            e["resources"] = [{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-east-1:%s:key/%02d000000-0000-0000-0000-000000000000" % (ACCT, i)}]
        else:
            e = base(t, "logs.amazonaws.com", "PutLogEvents")
            e["requestParameters"] = {"logGroupName": "/emr/team-%02d" % i, "logStreamName": "jr/%d" % m}
        e["userIdentity"] = ident(role, keys[comp])
        out.append(e)
    return out

target = a.mb * 1_000_000
per_file = target // a.files
written = 0
slots = [(i, d, h) for d in range(1, 29) for h in range(24) for i in range(a.roles)]
rnd.shuffle(slots)
si = 0
for f in range(a.files):
    path = os.path.join(a.out, "cloudtrail", "%s_CloudTrail_us-east-1_%04d.json.gz" % (ACCT, f))
    size = 0
    recs = []
    while size < per_file and si < len(slots):
        for e in events_for(*slots[si]):
            s = json.dumps(e, separators=(",", ":"))
            recs.append(s)
            size += len(s) + 1
        si += 1
    body = '{"Records":[' + ",".join(recs) + "]}"
    with gzip.open(path, "wt", compresslevel=1) as g:
        g.write(body)
    written += len(body)
print("wrote %d files, %.0f MB uncompressed, %d records" % (a.files, written / 1e6, n[0]))

#!/usr/bin/env python3
"""Refresh crates/emrguard-usage/data/operations.tsv from the AWS service reference.

The service reference (https://servicereference.us-east-1.amazonaws.com/, "Simplified AWS
service information for programmatic access" in the Service Authorization Reference) lists,
per service, its operations and the IAM actions each is authorized by
(`Operations[].AuthorizedActions[]`). emrguard maps a CloudTrail event (event source, event
name) to those actions.

Usage:
    python3 scripts/refresh-usage-operations.py [--services s3,kms,glue,...] [--out PATH]

Rules of the merge (the file's curated parts are kept):
- rows with a variant (`version`) and rows whose resource kind is `copy`, `object` or
  `bucket` keep their resource kind; their action lists are kept too when the variant is not
  empty (the service reference has no variants);
- plain rows get the service reference's authorized actions; operations the file does not
  have are added with resource kind `event` (the record's resources[].ARN, else `*`);
- operations the service reference lists without AuthorizedActions are left as they are.
Then update crates/emrguard-usage/data/SOURCES.md with the date printed.

Needs network access to servicereference.us-east-1.amazonaws.com (standard library only).
"""
import argparse
import datetime
import json
import os
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "crates", "emrguard-usage", "data", "operations.tsv")
LIST_URL = "https://servicereference.us-east-1.amazonaws.com/"
# Services EMR on EKS jobs call; the event source when it is not <service>.amazonaws.com.
DEFAULT_SERVICES = "s3,kms,glue,logs,sts,ecr,dynamodb,secretsmanager,ssm,cloudwatch,emr-containers,lakeformation,athena,iam,ec2"
EVENT_SOURCE = {"cloudwatch": "monitoring.amazonaws.com"}


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


def read_table(path):
    header, rows = [], {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#") or not line.strip():
            header.append(line)
            continue
        f = line.split("\t")
        if f[0] == "V":
            continue
        src, name, variant, actions, res = f
        rows[(src, name, variant)] = (actions, res)
    return header, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", default=DEFAULT_SERVICES)
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    header, rows = read_table(a.out)
    listing = {s["service"]: s["url"] for s in fetch(LIST_URL)}
    for svc in a.services.split(","):
        if svc not in listing:
            print("not in the service reference: " + svc, file=sys.stderr)
            continue
        doc = fetch(listing[svc])
        src = EVENT_SOURCE.get(svc, svc + ".amazonaws.com")
        for op in doc.get("Operations", []):
            auth = op.get("AuthorizedActions")
            if auth is None:
                continue
            actions = ",".join(sorted("%s:%s" % (x["Service"], x["Name"]) for x in auth))
            key = (src, op["Name"], "")
            res = rows.get(key, ("", "event"))[1]
            rows[key] = (actions, res)
    today = datetime.date.today().isoformat()
    with open(a.out, "w", encoding="utf-8") as out:
        out.write("\n".join(header[:1]) + "\n")
        out.write("\n".join(header[1:]) + "\n")
        out.write("V\tservice-reference\t%s\n" % today)
        for (src, name, variant), (actions, res) in sorted(rows.items()):
            out.write("\t".join([src, name, variant, actions, res]) + "\n")
    print("wrote %d operations, service reference of %s" % (len(rows), today))


if __name__ == "__main__":
    main()

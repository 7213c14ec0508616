#!/usr/bin/env python3
"""Compare Cloudsplaining's per-principal privilege-escalation methods and data-exfiltration
actions with emrguard's (iam_bench --dump). Standard library only.

Usage: compare.py CLOUDSPLAINING_RESULTS.json EMRGUARD_DUMP.jsonl
Prints how many Cloudsplaining findings emrguard also reports, and samples of the differences.
"""
import json
import sys
from collections import Counter


def findings(policy, key):
    v = policy.get(key, [])
    return v.get("findings", []) if isinstance(v, dict) else v


def cloudsplaining(path):
    res = json.load(open(path))
    tables = {k: res.get(k, {}) for k in ("inline_policies", "customer_managed_policies", "aws_managed_policies")}

    def pols(p):
        return [tables[k][i] for k in tables for i in p.get(k, {}) if i in tables[k]]

    out = {}
    for kind in ("users", "roles"):
        for p in res.get(kind, {}).values():
            ps = pols(p)
            for g in p.get("groups", {}).values():
                ps += pols(g)
            pe = {f["type"] for x in ps for f in findings(x, "PrivilegeEscalation")}
            de = {a.lower() for x in ps for a in findings(x, "DataExfiltration")}
            out[p["arn"]] = (pe, de)
    return out


def main():
    cs = cloudsplaining(sys.argv[1])
    eg = {}
    for line in open(sys.argv[2]):
        d = json.loads(line)
        eg[d["arn"]] = (set(d["privilege_escalation"]), {a.lower() for a in d["data_exfiltration"]})
    total = found = 0
    missing = Counter()
    extra = Counter()
    for arn, (pe, de) in cs.items():
        mine = eg.get(arn, (set(), set()))
        for m in pe:
            total += 1
            if m in mine[0]:
                found += 1
            else:
                missing["PE " + m] += 1
        for a in de:
            total += 1
            if a in mine[1]:
                found += 1
            else:
                missing["DE " + a] += 1
        for m in mine[0] - pe:
            extra["PE " + m] += 1
        for a in mine[1] - de:
            extra["DE " + a] += 1
    print("principals: cloudsplaining %d, emrguard %d" % (len(cs), len(eg)))
    print("cloudsplaining findings (PE methods + DE actions per principal): %d, also reported by emrguard: %d" % (total, found))
    print("missing in emrguard (top):", missing.most_common(10))
    print("emrguard only (top):", extra.most_common(10))


if __name__ == "__main__":
    main()

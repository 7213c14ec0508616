#!/usr/bin/env bash
# RBAC benchmark (issue 4, "Performance"): a 2,000-namespace / 100,000-binding cluster, timed
# through the whole `emrguard check` (release build, peak RSS from /usr/bin/time -v), and checkov's
# kubernetes framework side by side on a 10,000-binding slice.
# Usage: bench/rbac/run.sh [--no-checkov]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out/rbac
slice=bench/out/rbac-slice
[ -d "$out" ] || python3 bench/rbac/gen.py "$out" --slice "$slice"
cargo build --release -q -p emrguard
bin=target/release/emrguard
report() { grep -E "Elapsed|Maximum resident|User time|System time" "$1" | sed 's/^\s*/  /'; }
for i in 1 2 3 4 5; do
  echo "== emrguard check, full cluster, run $i"
  /usr/bin/time -v "$bin" check "$out" --format json --output bench/out/rbac-report.json 2> bench/out/rbac-time.txt || true
  report bench/out/rbac-time.txt
done
python3 -c "import json; print('  findings:', json.load(open('bench/out/rbac-report.json'))['summary'])"
# Issue 11: the fan-out cluster (every 50th binding a ClusterRoleBinding with write verbs, each
# reaching all 400 EMR namespaces): one finding per (subject, capability), not per namespace.
fan=bench/out/rbac-fanout
[ -d "$fan" ] || python3 bench/rbac/gen.py "$fan" --fanout
for i in 1 2 3 4 5; do
  echo "== emrguard check, fan-out cluster, run $i"
  /usr/bin/time -v "$bin" check "$fan" --format json --allow-partial --output bench/out/rbac-fanout-report.json 2> bench/out/rbac-fanout-time.txt || true
  report bench/out/rbac-fanout-time.txt
done
python3 - <<'PY'
import json, collections
r = json.load(open("bench/out/rbac-fanout-report.json"))
keys = collections.Counter((f["rule"], json.dumps(f.get("subject"), sort_keys=True)) for f in r["findings"] if f.get("capability"))
print("  findings:", r["summary"]["total"], "| RBAC (subject, capability) pairs:", len(keys), "| most findings for one pair:", max(keys.values(), default=0))
PY
echo "== emrguard check, 10,000-binding slice (+ the virtual-cluster list and aws-auth)"
/usr/bin/time -v "$bin" check "$slice" "$out/aws-emr-containers-list-virtual-clusters.json" \
  "$out/kubectl-get-configmaps-kube-system.json" --format json --output bench/out/rbac-slice-report.json \
  2> bench/out/rbac-slice-time.txt || true
report bench/out/rbac-slice-time.txt
[ "${1:-}" = "--no-checkov" ] && exit 0
venv=bench/out/checkov-venv
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q checkov
fi
echo "== checkov $("$venv/bin/checkov" --version) -d $slice --framework kubernetes"
# --skip-download: no call to the Prisma Cloud API (there is no network here; without it checkov
# retries for minutes before checking anything).
/usr/bin/time -v "$venv/bin/checkov" -d "$slice" --framework kubernetes --skip-download --compact \
  --quiet -o json > bench/out/checkov-slice.json 2> bench/out/checkov-time.txt || true
report bench/out/checkov-time.txt

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

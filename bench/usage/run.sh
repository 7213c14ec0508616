#!/usr/bin/env bash
# `emrguard usage` on a generated 1 GB (uncompressed) gzip CloudTrail set with 50 roles.
# Usage: bench/usage/run.sh [MB]   (generates bench/out/usage-MB on first use)
set -euo pipefail
cd "$(dirname "$0")/../.."
MB="${1:-1024}"
OUT="bench/out/usage-$MB"
if [ ! -d "$OUT/cloudtrail" ]; then
  python3 bench/usage/gen.py "$OUT" --mb "$MB"
fi
cargo build --release -q -p emrguard
du -sh --apparent-size "$OUT/cloudtrail"
for i in 1 2 3; do
  /usr/bin/time -v target/release/emrguard usage "$OUT" --format json >/dev/null 2>"$OUT/time-$i.txt" || true
  grep -E 'Elapsed|Maximum resident|User time|System time|Percent of CPU' "$OUT/time-$i.txt"
done

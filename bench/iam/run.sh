#!/usr/bin/env bash
# IAM engine benchmark: emrguard-iam (examples/iam_bench.rs) against Cloudsplaining on generated
# authorization-details files of 1,000, 10,000 and 50,000 roles (bench/iam/gen.py).
#
#   bash bench/iam/run.sh            # everything (Cloudsplaining on 1,000 and 10,000 roles)
#   CS_SIZES="1000" bash bench/iam/run.sh   # Cloudsplaining sizes to run (50000 takes far too long)
#   SKIP_CS=1 bash bench/iam/run.sh  # emrguard only
#
# Outputs go to bench/out/iam/ (gitignored): the generated files, Cloudsplaining's reports,
# one `*.time` file per run (/usr/bin/time -v), and summary.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/iam
mkdir -p "$OUT"
SIZES="${SIZES:-1000 10000 50000}"
CS_SIZES="${CS_SIZES:-1000 10000}"

for n in $SIZES; do
  if [ ! -s "$OUT/authz-$n.json" ]; then
    python3 bench/iam/gen.py --out "$OUT" --sizes "$n"
  fi
done

summary="$OUT/summary.txt"
{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, $(uname -sr)"
} > "$summary"

extract() { # FILE.time -> "wall=... rss=..."
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$1" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$1" | awk '{print $NF}')
  echo "wall=$wall maxrss_kb=$rss"
}

cpu() { # FILE.time -> user+system seconds
  awk -F': ' '/User time|System time/{s+=$2} END{printf "%.2f", s}' "$1"
}

# --- emrguard-iam ---------------------------------------------------------------------------
cargo build --release -q -p emrguard-iam --example iam_bench
BIN=target/release/examples/iam_bench
for n in $SIZES; do
  # As asked: through `cargo run` (includes cargo's own start-up and freshness check)...
  t="$OUT/emrguard-$n-cargo-run.time"
  /usr/bin/time -v -o "$t" cargo run --release -q -p emrguard-iam --example iam_bench -- \
    "$OUT/authz-$n.json" > "$OUT/emrguard-$n-cargo-run.txt"
  echo "emrguard-iam roles=$n via cargo run $(extract "$t") | $(tail -1 "$OUT/emrguard-$n-cargo-run.txt")" | tee -a "$summary"
  # ...and the binary cargo runs, alone, with 2 threads and with 1.
  for threads in 2 1; do
    t="$OUT/emrguard-$n-t$threads.time"
    /usr/bin/time -v -o "$t" "$BIN" "$OUT/authz-$n.json" --threads "$threads" \
      --dump "$OUT/emrguard-$n.jsonl" > "$OUT/emrguard-$n-t$threads.txt"
    echo "emrguard-iam roles=$n threads=$threads $(extract "$t") cpu_s=$(cpu "$t") | $(tail -1 "$OUT/emrguard-$n-t$threads.txt")" | tee -a "$summary"
  done
done

# --- emrguard check, end to end (load, index, every rule, JSON report) ----------------------
cargo build --release -q -p emrguard
# REPEAT runs per size (default 5): wall time on a small VM varies with the kernel's memory
# work, so BENCHMARKS.md gives the median and the range.
for n in $SIZES; do
  for i in $(seq 1 "${REPEAT:-5}"); do
    t="$OUT/emrguard-check-$n-$i.time"
    # exit status 1 only means findings were reported
    /usr/bin/time -v -o "$t" target/release/emrguard check "$OUT/authz-$n.json" --format json -q \
      > "$OUT/emrguard-check-$n.json" || [ $? -eq 1 ]
    findings=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["total"])' "$OUT/emrguard-check-$n.json")
    echo "emrguard check roles=$n run=$i $(extract "$t") cpu_s=$(cpu "$t") findings=$findings" | tee -a "$summary"
  done
done

# --- Cloudsplaining --------------------------------------------------------------------------
if [ "${SKIP_CS:-0}" != "1" ]; then
  VENV=bench/out/venv
  if [ ! -x "$VENV/bin/cloudsplaining" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet cloudsplaining
  fi
  echo "cloudsplaining $("$VENV/bin/pip" show cloudsplaining | awk '/^Version/{print $2}')" | tee -a "$summary"
  for n in $CS_SIZES; do
    dir="$OUT/cloudsplaining-$n"
    rm -rf "$dir" && mkdir -p "$dir"
    t="$OUT/cloudsplaining-$n.time"
    /usr/bin/time -v -o "$t" "$VENV/bin/cloudsplaining" scan --input-file "$OUT/authz-$n.json" \
      --output "$dir" --skip-open-report > "$dir/log.txt" 2>&1
    echo "cloudsplaining roles=$n $(extract "$t") cpu_s=$(cpu "$t")" | tee -a "$summary"
    # Does emrguard report every privilege escalation and data exfiltration Cloudsplaining does?
    if [ -s "$OUT/emrguard-$n.jsonl" ]; then
      python3 bench/iam/compare.py "$dir/iam-results-authz-$n.json" "$OUT/emrguard-$n.jsonl" | tee -a "$summary"
    fi
  done
fi
uptime | tee -a "$summary"
echo "summary: $summary"

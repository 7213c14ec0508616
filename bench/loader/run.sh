#!/usr/bin/env bash
# Loader benchmark: generate a ~300 MB snapshot (kubectl JSON + IAM authorization details) and
# load it into the model, reporting MB/s and peak memory (RSS) with 1 and 2 threads.
# Usage: bench/loader/run.sh [TARGET_MB]
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-300}
out=bench/out/loader-$mb
[ -d "$out" ] || python3 bench/loader/gen.py "$out" "$mb"
cargo build --release -q -p emrguard-load --example load_bench
for threads in 1 2; do
  echo "== RAYON_NUM_THREADS=$threads"
  RAYON_NUM_THREADS=$threads /usr/bin/time -f 'peak RSS %M KB, wall %e s, cpu user %U s sys %S s' \
    target/release/examples/load_bench "$out"
done

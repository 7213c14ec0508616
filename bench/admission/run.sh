#!/usr/bin/env bash
# Load benchmark of `emrguard serve`: builds release, starts the webhook on 127.0.0.1 with the
# hardened example estate as cluster state, drives it with wrk over HTTPS (keep-alive) with a
# mix of AdmissionReviews for DURATION, and prints reviews/s, latency percentiles, errors, wrong
# verdicts and the server's own latency histogram. Loopback only; stops by itself.
#
#   bench/admission/run.sh                 # 20 s, 32 connections, 1 wrk thread
#   DURATION=60s CONNS=64 bench/admission/run.sh
#
# Needs: wrk (apt-get install -y wrk), openssl, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_THREADS=${SERVER_THREADS:-2}
PORT=${PORT:-18443}

cargo build --release -p emrguard >&2
tmp=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null

target/release/emrguard serve --listen "127.0.0.1:$PORT" --threads "$SERVER_THREADS" \
  --tls-cert "$tmp/tls.crt" --tls-key "$tmp/tls.key" \
  --config examples/hardened-estate/emrguard.toml --snapshot examples/hardened-estate \
  > "$tmp/decisions.log" 2> "$tmp/server.err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
  curl -ksf "https://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done

echo "== wrk -t$WRK_THREADS -c$CONNS -d$DURATION --latency -s bench/admission/mix.lua https://127.0.0.1:$PORT/validate"
wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/admission/mix.lua \
  "https://127.0.0.1:$PORT/validate"
echo "== server-side review latency (emrguard_admission_review_duration_seconds)"
curl -ks "https://127.0.0.1:$PORT/metrics" | grep -E 'review_duration_seconds_(bucket\{le="0.0001"|bucket\{le="0.0005"|bucket\{le="0.001"|bucket\{le="0.005"|bucket\{le="\+Inf"|count|sum)|decisions_total'
echo "== decision log lines: $(wc -l < "$tmp/decisions.log"); sample:"
head -c 600 "$tmp/decisions.log"; echo

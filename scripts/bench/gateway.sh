#!/usr/bin/env bash
# Benchmark cognate's API gateway against nginx (plain reverse proxy) and HAProxy 2.6
# (jwt_verify), same upstream, same token, same run.
#
#   scripts/bench/gateway.sh            # full run: 3 interleaved rounds, 8 s per wrk run (~8 min)
#   scripts/bench/gateway.sh --quick    # smoke run: 1 round, 2 s per wrk run (~1 min)
#
# Extra arguments go to gateway_bench.py (see `python3 scripts/bench/gateway_bench.py --help`).
# Installs wrk, nginx and haproxy (apt-get, when root) if missing, builds target/release/cognate,
# then prints a Markdown report on stdout. JSON, configs, logs and raw wrk output go to
# bench-results/gateway-<timestamp>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

missing=()
for tool in wrk nginx haproxy; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "gateway.sh: installing ${missing[*]} with apt-get" >&2
    # The packages' own services are not wanted: the benchmark starts its own instances.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    echo "gateway.sh: ${missing[*]} not found; install them (Debian: apt-get install wrk nginx haproxy)" >&2
    exit 1
  fi
fi

for tool in python3 cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "gateway.sh: $tool not found" >&2; exit 1; }
done

echo "gateway.sh: cargo build --release -p cognate" >&2
cargo build --release -p cognate >&2

exec python3 "$here/gateway_bench.py" "$@"

#!/usr/bin/env bash
# Benchmark cognate against cognito-local on the same machine, in the same run.
#
#   scripts/bench/run.sh            # full run: 10 s per wrk run, 5 start-ups each
#   scripts/bench/run.sh --quick    # smoke run: 3 s per wrk run, 3 start-ups each
#
# Extra arguments go to bench.py (see `python3 scripts/bench/bench.py --help`).
# Builds target/release/cognate, installs wrk (apt, when root) and cognito-local
# (npm ci into scripts/bench/node_modules) if missing, then prints a Markdown
# report on stdout. JSON and raw wrk output go to bench-results/<timestamp>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing wrk with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "run.sh: wrk not found; install it (Debian: apt-get install wrk)" >&2
    exit 1
  fi
fi

for tool in node npm python3 cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool not found" >&2; exit 1; }
done

if [ ! -f "$here/node_modules/cognito-local/package.json" ] \
   || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  echo "run.sh: installing cognito-local (npm ci in scripts/bench)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

echo "run.sh: cargo build --release -p cognate" >&2
cargo build --release -p cognate >&2

exec python3 "$here/bench.py" "$@"

#!/usr/bin/env bash
# The scale benchmark: a million users in SQLite and in PostgreSQL (see
# scripts/bench/scale.py for what it measures). Builds the release binary,
# installs wrk when missing (as root), starts a throw-away PostgreSQL cluster
# (scripts/pg-test-cluster.sh) and removes it at the end.
#
#   scripts/bench/scale.sh                      # 1,000,000 users, both engines
#   scripts/bench/scale.sh --users 100000       # extra arguments go to scale.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  else
    echo "scale.sh: wrk not found; install it (Debian: apt-get install wrk)" >&2
    exit 1
  fi
fi

echo "scale.sh: cargo build --release -p cognate" >&2
cargo build --release -p cognate >&2

pg_env="$(bash scripts/pg-test-cluster.sh start)"
eval "$pg_env"
trap 'bash scripts/pg-test-cluster.sh stop' EXIT

python3 "$here/scale.py" "$@"

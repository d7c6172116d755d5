#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this script):
#   0. the lint wall: `cargo fmt --check` and clippy with warnings denied,
#   1. Rust unit and integration tests (real server processes on 127.0.0.1), the
#      store's conformance suite on SQLite and on PostgreSQL (a throw-away cluster
#      from scripts/pg-test-cluster.sh, installed from Debian's packages when missing),
#      then the server's integration tests again on PostgreSQL,
#   1b. the fuzz targets for a few seconds each (scripts/fuzz.sh),
#   2. a 30 s soak smoke (scripts/soak.py), end-to-end tests with the unmodified aws CLI, boto3, PyJWT and Authlib, and the
#      hosted UI clicked through in headless Debian Chromium (Playwright).
# Installs what it needs (a Python venv from PyPI; as root, Debian's chromium) on a fresh machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# No incremental caches: a CI run builds once from an empty target dir, and
# those caches would only cost time and gigabytes of disk (a CI run has run
# out of disk before).
export CARGO_INCREMENTAL=0

# Each step's header carries the time (UTC) it starts, so a slow run shows where.
step() { echo "== $* [$(date -u +%H:%M:%S)]"; }

step "lint wall: rustfmt and clippy (warnings are errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "building (dev profile, the one test profile)"
cargo build --workspace --all-targets --locked

# Fuzzing (docs/fuzzing.md): every target in fuzz/ for a few seconds from the
# committed seeds, built apart in target/fuzz; fails on a crash.
bash scripts/fuzz.sh
# The fuzz build (its own flags, its own cache) is not needed again: free its disk.
rm -rf target/fuzz

step "PostgreSQL for the tests (a throw-away cluster, removed on exit)"
pg_env="$(bash scripts/pg-test-cluster.sh start)" # (fails the script if it fails)
eval "$pg_env"
trap 'bash scripts/pg-test-cluster.sh stop' EXIT

step "Rust tests"
cargo test --workspace --locked

step "the server's integration tests on PostgreSQL"
# The test executables of the root package, as `cargo test --workspace` built
# them just now (`cargo test -p cognate` would resolve features apart from the
# workspace and rebuild most dependencies). Run as cargo runs them: from the
# package's directory, one after the other.
mapfile -t server_tests < <(cargo test --workspace --locked --no-run --message-format=json |
  python3 -c '
import json, sys
manifest = sys.argv[1]
for line in sys.stdin:
    msg = json.loads(line)
    if (msg.get("reason") == "compiler-artifact" and msg.get("manifest_path") == manifest
            and msg["profile"]["test"] and msg.get("executable")):
        print(msg["executable"])
' "$repo/Cargo.toml")
if [ ${#server_tests[@]} -eq 0 ]; then
  echo "no test executables found for the root package" >&2
  exit 1
fi
pg_failed=0
for t in "${server_tests[@]}"; do
  echo "     Running $(basename "$t") (PostgreSQL)"
  COGNATE_TEST_ENGINE=postgres "$t" || pg_failed=$((pg_failed + 1))
done
echo "server tests on PostgreSQL: $(( ${#server_tests[@]} - pg_failed )) executables passed, $pg_failed failed"
[ "$pg_failed" -eq 0 ]

step "end-to-end tests (aws CLI, boto3, PyJWT, Authlib, headless Chromium)"
bash scripts/e2e-setup.sh
export COGNATE_BIN="$repo/target/debug/cognate"
reports="$(mktemp -d)"

# Runs the e2e suite once: $1 names the pass, the rest goes to pytest.
e2e_pass() {
  local name="$1"
  shift
  step "e2e on $name"
  set +e
  .venv-e2e/bin/pytest e2e -n 2 --dist loadgroup -q -p no:cacheprovider --junitxml="$reports/$name.xml" \
    --basetemp="$reports/$name-tmp" "$@"
  local code=$?
  # Every server log of the pass, through the secret scanner (SECURITY.md).
  .venv-e2e/bin/python scripts/scan-logs.py "$reports/$name-tmp" e2e || code=1
  set -e
  return "$code"
}

status=0
# Soak smoke (docs/BENCHMARKS.md): 30 s of mixed load on the debug binary; no 5xx,
# no lost admin write, RSS flat after warm-up.
.venv-e2e/bin/python scripts/soak.py --bin target/debug/cognate --duration 30 --workers 4 || status=1
e2e_pass sqlite || status=1
# The whole suite again with every server on a fresh PostgreSQL database (the
# README's commands, which name no database, ran in the first pass).
COGNATE_E2E_ENGINE=postgres e2e_pass postgres --ignore=e2e/test_readme.py || status=1

.venv-e2e/bin/python - "$reports" <<'PY'
import pathlib, sys, xml.etree.ElementTree as ET
totals = [0, 0, 0]
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.xml")):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    print(f"e2e on {path.stem}: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    for i, n in enumerate((total - failed - skipped, failed, skipped)):
        totals[i] += n
print(f"e2e: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
PY
exit "$status"

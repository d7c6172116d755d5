#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this script):
#   1. Rust unit and integration tests (real server processes on 127.0.0.1), the
#      store's conformance suite on SQLite and on PostgreSQL (a throw-away cluster
#      from scripts/pg-test-cluster.sh, installed from Debian's packages when missing),
#      then the server's integration tests again on PostgreSQL,
#   2. end-to-end tests with the unmodified aws CLI, boto3, PyJWT and Authlib, and the
#      hosted UI clicked through in headless Debian Chromium (Playwright).
# Installs what it needs (a Python venv from PyPI; as root, Debian's chromium) on a fresh machine.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

echo "== building (dev profile, the one test profile)"
cargo build --workspace --all-targets --locked

echo "== PostgreSQL for the tests (a throw-away cluster, removed on exit)"
pg_env="$(bash scripts/pg-test-cluster.sh start)" # (fails the script if it fails)
eval "$pg_env"
trap 'bash scripts/pg-test-cluster.sh stop' EXIT

echo "== Rust tests"
cargo test --workspace --locked

echo "== the server's integration tests on PostgreSQL"
COGNATE_TEST_ENGINE=postgres cargo test --locked -p cognate --tests

echo "== end-to-end tests (aws CLI, boto3, PyJWT, Authlib, headless Chromium)"
bash scripts/e2e-setup.sh
export COGNATE_BIN="$repo/target/debug/cognate"
report="$(mktemp -d)/e2e.xml"
set +e
.venv-e2e/bin/pytest e2e -n 2 --dist loadgroup -q -p no:cacheprovider --junitxml="$report"
status=$?
set -e
.venv-e2e/bin/python - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"e2e: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"

#!/usr/bin/env bash
# Creates the end-to-end test virtualenv (.venv-e2e at the repository root) if it is
# missing and installs e2e/requirements.txt into it. Idempotent and quiet: a second run
# with unchanged requirements does nothing. Needs python3 (3.11+) and access to PyPI;
# as root on Debian it apt-get installs what is missing (python3-venv, chromium).
#
#   bash scripts/e2e-setup.sh
#   COGNATE_BIN=target/debug/cognate .venv-e2e/bin/pytest e2e
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${E2E_VENV:-$repo/.venv-e2e}"
req="$repo/e2e/requirements.txt"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "e2e-setup: $python not found; install Python 3.11+ (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    # Debian ships ensurepip separately; install it when we can, else explain.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      echo "e2e-setup: '$python -m venv' failed; installing python${pyver}-venv with apt-get" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${pyver}-venv" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${pyver}-venv" >/dev/null; }
    fi
    if ! "$python" -m venv "$venv"; then
      rm -rf "$venv"
      echo "e2e-setup: could not create $venv; on Debian install the python3-venv package" >&2
      exit 1
    fi
  fi
fi

# Debian's Chromium for the hosted-UI browser tests (e2e/test_hosted_ui.py drives it
# with Playwright's client; no browser is downloaded from anywhere else).
chromium="${E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${E2E_CHROMIUM:-}" ]; then
    echo "e2e-setup: $chromium not found; installing Debian's chromium with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
  fi
  if [ ! -x "$chromium" ]; then
    echo "e2e-setup: $chromium not found; install Chromium (Debian: apt-get install chromium) or set E2E_CHROMIUM" >&2
    exit 1
  fi
fi

# jq and curl: the README's walk-through uses them (e2e/test_readme.py runs it as written).
for tool in jq curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "e2e-setup: $tool not found; installing it with apt-get" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
    fi
    command -v "$tool" >/dev/null 2>&1 || { echo "e2e-setup: $tool not found; install it (Debian: apt-get install $tool)" >&2; exit 1; }
  fi
done

stamp="$venv/.e2e-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  echo "$want" >"$stamp"
fi

# The Node client (amazon-cognito-identity-js) for the SRP tests.
js="$repo/e2e/js"
js_stamp="$js/node_modules/.e2e-lock.sha256"
js_want="$(sha256sum "$js/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$js_stamp" ] || [ "$(cat "$js_stamp")" != "$js_want" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "e2e-setup: npm not found; install Node.js 20+ (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  (cd "$js" && npm ci --silent --no-audit --no-fund)
  echo "$js_want" >"$js_stamp"
fi

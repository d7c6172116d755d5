#!/usr/bin/env python3
"""The log secret scanner over a whole e2e run (issue: no secret in any log).

Usage: scan-logs.py <pytest basetemp> [<source dir> ...]

Every `cognate serve` of the e2e suite writes its log to `<test dir>/cognate.log`
beside its data dir (`e2e/conftest.py`, `CognateServer`). After the run this
script reads every such log under the pytest base temp directory and fails if
any line holds a secret the suite used:

* by shape, wherever it comes from: a JWT (ID, access or refresh token), a PEM
  private key, an argon2 PHC hash;
* by value, from the servers' own SQLite databases (`data/cognate.db`, read
  after the servers stopped): every app client secret, TOTP secret (pending or
  active), password hash, SRP verifier, signing key (its PKCS#8 in base64) and
  server secret;
* by value, from the suite's sources: every string literal of the e2e tests
  (Python and JavaScript) that is shaped like a password (8+ characters with a
  lower- and an upper-case letter, a digit and a symbol, no space; not a pool
  id, an ARN or a regular expression);
* one-time codes: each code a server wrote to its development outbox, in that
  server's log, except on the development delivery line that carries the code
  by design (no mail server configured). Timestamps and UUIDs are taken out of
  a line first, so only a code standing alone counts.

It prints what it scanned and each finding, and exits 1 on any finding (or if it
found no log at all, which would mean it scanned the wrong directory).
"""

from __future__ import annotations

import ast
import base64
import json
import re
import sqlite3
import sys
from pathlib import Path

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
PHC = re.compile(r"\$argon2(id|i|d)\$")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEV_DELIVERY = "development delivery (no mail server configured)"
POOL_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d_")
SECRET_KEYS = re.compile(r"secret|password|verifier|hash|private", re.I)


def looks_like_password(s: str) -> bool:
    return (
        8 <= len(s) <= 128
        and not any(c.isspace() for c in s)
        and any(c.islower() for c in s)
        and any(c.isupper() for c in s)
        and any(c.isdigit() for c in s)
        and any(not c.isalnum() for c in s)
        and "://" not in s
        and "{" not in s
        and not s.startswith(("-", "$", "/", ".", "^", "[", "arn:"))
        and not POOL_ID.match(s)
    )


def source_passwords(dirs: list[Path]) -> set[str]:
    found: set[str] = set()
    for d in dirs:
        for path in sorted(d.rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(), filename=str(path))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if looks_like_password(node.value):
                        found.add(node.value)
        for path in sorted(d.glob("js/*.js")):
            for m in re.finditer(r"""['"]([^'"\s]{8,128})['"]""", path.read_text()):
                if looks_like_password(m.group(1)):
                    found.add(m.group(1))
    return found


def secret_strings(value, out: set[str], under_secret: bool = False) -> None:
    """String values of a JSON document held under a key that names a secret."""
    if isinstance(value, dict):
        for k, v in value.items():
            secret_strings(v, out, under_secret or bool(SECRET_KEYS.search(k)))
    elif isinstance(value, list):
        for v in value:
            secret_strings(v, out, under_secret)
    elif isinstance(value, str) and under_secret and len(value) >= 16:
        out.add(value)


def database_secrets(db: Path) -> set[str]:
    out: set[str] = set()
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:
        return out
    try:
        for table in ("app_clients", "users"):
            try:
                for (data,) in con.execute(f"SELECT data FROM {table}"):
                    secret_strings(json.loads(data), out)
            except (sqlite3.Error, json.JSONDecodeError):
                pass
        for query in ("SELECT pkcs8 FROM signing_keys", "SELECT value FROM server_secrets"):
            try:
                for (blob,) in con.execute(query):
                    if isinstance(blob, (bytes, bytearray)) and len(blob) >= 16:
                        b64 = base64.b64encode(blob).decode()
                        # A window from the middle: found whatever the line wrapping.
                        out.add(b64[len(b64) // 2: len(b64) // 2 + 48])
                        out.add(blob.hex()[:48])
            except sqlite3.Error:
                pass
    finally:
        con.close()
    return out


def outbox_codes(outbox: Path) -> set[str]:
    codes: set[str] = set()
    try:
        lines = outbox.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return codes
    for line in lines:
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        code = m.get("code") if isinstance(m, dict) else None
        if isinstance(code, str) and code.isdigit() and len(code) >= 6:
            codes.add(code)
    return codes


def stands_alone(line: str, code: str) -> bool:
    for m in re.finditer(re.escape(code), line):
        before = line[m.start() - 1] if m.start() > 0 else " "
        after = line[m.end()] if m.end() < len(line) else " "
        if not before.isalnum() and not after.isalnum():
            return True
    return False


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    base = Path(sys.argv[1])
    sources = [Path(p) for p in sys.argv[2:]] or [Path(__file__).resolve().parent.parent / "e2e"]
    passwords = source_passwords(sources)
    logs = sorted(base.rglob("cognate.log"))
    values: set[str] = set(passwords)
    for db in sorted(base.rglob("cognate.db")):
        values |= database_secrets(db)
    findings: list[str] = []
    lines_scanned = 0
    codes_known = 0
    for log in logs:
        codes = outbox_codes(log.parent / "data" / "outbox.jsonl")
        codes_known += len(codes)
        for n, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            lines_scanned += 1
            line = ANSI.sub("", line)
            where = f"{log}:{n}"
            if JWT.search(line):
                findings.append(f"a JWT in {where}")
            if PEM_KEY.search(line):
                findings.append(f"a PEM private key in {where}")
            if PHC.search(line):
                findings.append(f"a password hash in {where}")
            for v in values:
                if v in line:
                    kind = "a test password" if v in passwords else "a stored secret"
                    findings.append(f"{kind} ({v[:3]}…) in {where}")
            if codes and DEV_DELIVERY not in line:
                bare = TIMESTAMP.sub(" ", UUID.sub(" ", line))
                for code in codes:
                    if stands_alone(bare, code):
                        findings.append(f"an outbox code ({code[:2]}…) in {where}")
    print(
        f"log scan: {len(logs)} server logs, {lines_scanned} lines; looked for "
        f"{len(passwords)} test passwords, {len(values) - len(passwords)} stored secrets, "
        f"{codes_known} outbox codes, and JWT / private key / password hash shapes: "
        f"{len(findings)} found"
    )
    for f in findings[:200]:
        print(f"  {f}")
    if not logs:
        print("log scan: no server log found: wrong directory?")
        return 1
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

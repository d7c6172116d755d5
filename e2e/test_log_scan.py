"""The whole-suite log scanner (scripts/scan-logs.py) finds what it must: each kind of
secret planted in a server log of a fake run is reported, the development delivery
line's code is not, and a clean run passes. scripts/test.sh runs the scanner over
every server log of both e2e passes; this test proves that run can fail."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

SCANNER = Path(__file__).resolve().parent.parent / "scripts" / "scan-logs.py"
STORED_SECRET = "k7w2q9zx4m1n8b5v3c6l0p2o9i8u7y6t"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CODE = "482913"
PASSWORD = "Planted-Passw0rd!"


def fake_run(root: Path, log_lines: list[str]) -> Path:
    """A base temp dir shaped like an e2e run: one server dir with its log, its
    SQLite database (an app client with a secret, a user with a TOTP secret) and its
    outbox (one code)."""
    server = root / "popen-gw0" / "cognate0"
    data = server / "data"
    data.mkdir(parents=True)
    con = sqlite3.connect(data / "cognate.db")
    con.execute("CREATE TABLE app_clients (client_id TEXT, pool_id TEXT, data TEXT)")
    con.execute("CREATE TABLE users (data TEXT)")
    con.execute("INSERT INTO app_clients VALUES ('c', 'p', ?)",
                (json.dumps({"secrets": [{"value": STORED_SECRET, "id": "c--1"}]}),))
    con.execute("INSERT INTO users VALUES (?)", (json.dumps({"totp_secret": TOTP_SECRET}),))
    con.commit()
    con.close()
    (data / "outbox.jsonl").write_text(json.dumps({"code": CODE, "body": f"code {CODE}"}) + "\n")
    (server / "cognate.log").write_text("\n".join(log_lines) + "\n")
    return root


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Outside pytest's base temp directory: the whole-suite scan of scripts/test.sh reads
    that directory, and the secrets planted here must not be found by it."""
    with tempfile.TemporaryDirectory(prefix="cognate-log-scan-") as d:
        yield Path(d)


def scan(root: Path, sources: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCANNER), str(root), str(sources)],
                          capture_output=True, text=True, timeout=60)


def test_the_log_scanner_reports_each_planted_secret(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "test_x.py").write_text(f"PASSWORD = {PASSWORD!r}\nPOOL = 'us-east-1_Abc123!'\n")
    delivery = ("\x1b[2m2026-12-06T03:40:50.842990Z\x1b[0m \x1b[32m INFO\x1b[0m development "
                "delivery (no mail server configured): message written to the outbox "
                f"\x1b[3mcode\x1b[0m\x1b[2m=\x1b[0m{CODE}")
    clean = fake_run(tmp_path / "clean", [
        delivery,
        "2026-12-06T03:40:50.482913Z INFO request id=0f482913-aaaa-4bbb-8ccc-1234567890ab done",
        "INFO pool us-east-1_Abc123! created",
    ])
    r = scan(clean, sources)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 found" in r.stdout

    planted = fake_run(tmp_path / "planted", [
        "INFO token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2ln",
        "-----BEGIN PRIVATE KEY-----",
        "hash=$argon2id$v=19$m=19456,t=2,p=1$abc$def",
        f"client secret {STORED_SECRET}",
        f"totp {TOTP_SECRET}",
        f"password {PASSWORD}",
        f"\x1b[3mcode\x1b[0m\x1b[2m=\x1b[0m{CODE}",
    ])
    r = scan(planted, sources)
    assert r.returncode == 1, r.stdout + r.stderr
    for kind, line in [("a JWT", 1), ("a PEM private key", 2), ("a password hash", 3),
                       ("a stored secret", 4), ("a stored secret", 5), ("a test password", 6),
                       ("an outbox code", 7)]:
        assert any(f.strip().startswith(kind) and f.endswith(f"cognate.log:{line}")
                   for f in r.stdout.splitlines()), f"{kind} on line {line}:\n{r.stdout}"
    # A found secret is never printed whole.
    assert STORED_SECRET not in r.stdout and PASSWORD not in r.stdout


def test_the_log_scanner_fails_when_it_finds_no_log(tmp_path: Path) -> None:
    r = scan(tmp_path, tmp_path)
    assert r.returncode == 1
    assert "no server log found" in r.stdout

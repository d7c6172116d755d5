"""The conformance suite: one row per case, written from the botocore model of
`cognito-idp` and AWS's API reference (what AWS answers), not from cognate's code.

Every ``e2e/conformance/*.yaml`` file is a list of cases, one per line:

    - {id: name, op: Operation, req: {...}, error: ExceptionType, message: "exact text"}
    - {id: name, op: Operation, req: {...}, ok: {Dotted.Path: value, Other.Path: "<absent>"}}

Keys:
  id          unique within the file (the test id is ``file::id``)
  op          the operation (the X-Amz-Target suffix)
  req         the JSON request body; every string may hold placeholders
  error       the expected ``__type``; with ``message`` (exact) or ``message_re`` (fullmatch)
  ok          dotted response paths (list indexes as numbers) to their expected JSON
              values, or to "<present>" / "<absent>"
  save        {name: dotted.path}: a response value later rows of the file use as ${name}
  status      the expected HTTP status of an error (400 unless given)

Placeholders: ${pool} (CreateUserPool {PoolName: conformance}, nothing else set),
${client} (an app client of it without a secret, the tutorials' auth flows),
${user} (a confirmed user of ${pool}, password Passw0rd!, verified email alice@example.com),
${access_token} (an access token of ${user}), ${missing_pool} (a well-formed id of no
pool), ${x2049} (2049 x's), ${uniq} (a fresh string per row), and whatever earlier rows saved.

The rows of one file run in order, in one test, against one server and one set of
placeholders; the test reports every row that failed. Requests are sent as botocore sends them (AWS JSON 1.1, SigV4-signed
with test credentials), raw, so invalid input reaches the server as written.
scripts/gen-compat.py counts the rows per operation into docs/compat.md.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import PASSWORD, REGION, TUTORIAL_FLOWS, CognateServer

CASES_DIR = Path(__file__).resolve().parent / "conformance"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
MISSING_POOL = "us-east-1_NoSuchPool1"
ROW_KEYS = {"id", "op", "req", "error", "message", "message_re", "ok", "save", "status"}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_cases() -> dict[str, list[dict]]:
    """Every case file's rows, checked for shape."""
    files: dict[str, list[dict]] = {}
    for path in sorted(CASES_DIR.glob("*.yaml")):
        rows = yaml.safe_load(path.read_text()) or []
        if not isinstance(rows, list):
            raise ValueError(f"{path}: the file must be a YAML list of cases")
        seen: set[str] = set()
        for n, row in enumerate(rows, 1):
            where = f"{path.name} case {n}"
            if not isinstance(row, dict):
                raise ValueError(f"{where}: a case is a mapping")
            unknown = set(row) - ROW_KEYS
            if unknown:
                raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
            for key in ("id", "op"):
                if not isinstance(row.get(key), str):
                    raise ValueError(f"{where}: `{key}` is required")
            if row["id"] in seen:
                raise ValueError(f"{where}: duplicate id {row['id']}")
            seen.add(row["id"])
            if ("error" in row) == ("ok" in row):
                raise ValueError(f"{where} ({row['id']}): give exactly one of `error` and `ok`")
            if ("message" in row or "message_re" in row) and "error" not in row:
                raise ValueError(f"{where} ({row['id']}): `message` goes with `error`")
        files[path.stem] = rows
    return files


CASES = load_cases()


def signed_call(srv: CognateServer, op: str, body: Any) -> requests.Response:
    """One request as botocore sends it: AWS JSON 1.1, signed with SigV4."""
    data = json.dumps(body)
    req = AWSRequest(
        method="POST",
        url=srv.url + "/",
        data=data,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET_PREFIX + op,
        },
    )
    SigV4Auth(Credentials("test", "test"), "cognito-idp", REGION).add_auth(req)
    return requests.post(srv.url + "/", data=data, headers=dict(req.headers.items()), timeout=60)


def must(srv: CognateServer, op: str, body: Any) -> dict:
    r = signed_call(srv, op, body)
    assert r.status_code == 200, f"setup call {op} failed: HTTP {r.status_code} {r.text}"
    return r.json()


class World:
    """The placeholders of one case file, with the pool, client and user behind them."""

    def __init__(self, srv: CognateServer) -> None:
        self.srv = srv
        pool = must(srv, "CreateUserPool", {"PoolName": "conformance"})["UserPool"]["Id"]
        client = must(srv, "CreateUserPoolClient", {
            "UserPoolId": pool, "ClientName": "conformance", "ExplicitAuthFlows": TUTORIAL_FLOWS,
        })["UserPoolClient"]["ClientId"]
        user = f"alice{uuid.uuid4().hex[:8]}"
        must(srv, "AdminCreateUser", {
            "UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": "alice@example.com"},
                               {"Name": "email_verified", "Value": "true"}],
        })
        must(srv, "AdminSetUserPassword", {
            "UserPoolId": pool, "Username": user, "Password": PASSWORD, "Permanent": True,
        })
        token = must(srv, "InitiateAuth", {
            "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
        })["AuthenticationResult"]["AccessToken"]
        self.values: dict[str, Any] = {
            "pool": pool, "client": client, "user": user, "access_token": token,
            "missing_pool": MISSING_POOL, "x2049": "x" * 2049,
        }

    def fill(self, value: Any) -> Any:
        """``value`` with every placeholder replaced (a string that is one placeholder
        becomes the saved value itself, whatever its JSON type)."""
        if isinstance(value, str):
            whole = PLACEHOLDER.fullmatch(value)
            if whole and whole.group(1) != "uniq":
                return self.lookup(whole.group(1))
            return PLACEHOLDER.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {self.fill(k): self.fill(v) for k, v in value.items()}
        return value

    def lookup(self, name: str) -> Any:
        if name == "uniq":
            return uuid.uuid4().hex[:10]
        if name not in self.values:
            raise KeyError(f"unknown placeholder ${{{name}}} (not built in, not saved by an earlier row)")
        return self.values[name]


@pytest.fixture(scope="module")
def srv(module_server: CognateServer) -> CognateServer:
    return module_server


_MISSING = object()


def at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return _MISSING
    return doc


def check_row(world: World, case: dict) -> None:
    """Sends one row's request and checks the answer (AssertionError if it differs)."""
    srv = world.srv
    body = world.fill(case.get("req", {}))
    r = signed_call(srv, case["op"], body)
    shown = f"{case['op']} {json.dumps(body)[:600]}\n-> HTTP {r.status_code} {r.text[:2000]}"
    assert r.status_code < 500, f"server error:\n{shown}"
    try:
        answer = r.json() if r.text else {}
    except ValueError:
        raise AssertionError(f"the answer is not JSON:\n{shown}") from None
    if "error" in case:
        assert r.status_code == case.get("status", 400), f"want HTTP {case.get('status', 400)}:\n{shown}"
        assert answer.get("__type") == world.fill(case["error"]), f"want {case['error']}:\n{shown}"
        message = answer.get("message", answer.get("Message"))
        if "message" in case:
            assert message == world.fill(case["message"]), f"want message {world.fill(case['message'])!r}:\n{shown}"
        if "message_re" in case:
            assert isinstance(message, str) and re.fullmatch(world.fill(case["message_re"]), message), (
                f"want message matching {case['message_re']!r}:\n{shown}")
        return
    assert r.status_code == 200, f"want success:\n{shown}"
    for path, want in (case.get("ok") or {}).items():
        got = at(answer, path)
        if want == "<absent>":
            assert got is _MISSING, f"{path} should be absent, is {got!r}:\n{shown}"
        elif want == "<present>":
            assert got is not _MISSING, f"{path} should be present:\n{shown}"
        else:
            want = world.fill(want)
            assert got is not _MISSING, f"{path} is missing (want {want!r}):\n{shown}"
            assert got == want, f"{path}: want {want!r}, got {got!r}:\n{shown}"
    for name, path in (case.get("save") or {}).items():
        got = at(answer, path)
        assert got is not _MISSING, f"cannot save {name}: {path} is missing:\n{shown}"
        world.values[name] = got


@pytest.mark.parametrize("file", sorted(CASES))
def test_conformance(srv: CognateServer, file: str) -> None:
    """All rows of one case file, in order, on a fresh pool; every row is checked
    and every failing row is reported by its id."""
    world = World(srv)
    failures = []
    for case in CASES[file]:
        try:
            check_row(world, case)
        except (AssertionError, KeyError) as e:
            failures.append(f"--- {file}::{case['id']}\n{e}")
    print(f"{file}: {len(CASES[file]) - len(failures)} of {len(CASES[file])} rows as AWS answers")
    assert not failures, f"{len(failures)} of {len(CASES[file])} rows failed:\n" + "\n".join(failures)


def test_compat_doc_counts_the_cases() -> None:
    """docs/compat.md's Cases column is the suite's rows per operation (run
    scripts/gen-compat.py after adding rows)."""
    want: dict[str, list[int]] = {}
    for rows in CASES.values():
        for case in rows:
            want.setdefault(case["op"], [0, 0])["error" not in case] += 1
    doc = (CASES_DIR.parent.parent / "docs" / "compat.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("Operation", "---"):
            rows[cells[0]] = cells[2]
    for op, (errors, answers) in want.items():
        assert op in rows, f"{op} has conformance rows but no row in docs/compat.md"
        assert rows[op] == f"{errors} + {answers}", (
            f"docs/compat.md says {rows[op]!r} cases for {op}, the suite has {errors} + {answers}: "
            "run scripts/gen-compat.py")

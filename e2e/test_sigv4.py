"""SigV4 on the IAM operations, with botocore's own signer and the real aws CLI: a
server with admin credentials (config file or environment) accepts its keys and
answers everything else as AWS does; the public operations stay unsigned; a
pool-limited key manages only its pools; without credentials the server runs in
development mode on loopback and refuses to start on any other address unless
told --insecure-unsigned-admin."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.auth
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (
    CLIENT_ENV, PASSWORD, REGION, _aws_command, cognate_bin, error_code, error_message, free_port,
)

ADMIN = ("AKIDE2EADMIN01", "e2e-admin-secret-01")
LIMITED = ("AKIDE2ELIMITED", "e2e-limited-secret")
SESSION = ("ASIAE2ESESSION", "e2e-session-secret", "e2e-session-token")
MINE = "us-east-1_E2eMine1"
OTHER = "us-east-1_E2eOther1"
CLIENT = "e2eclient01"

CONFIG = f"""
admin:
  credentials:
    - access_key_id: {ADMIN[0]}
      secret_access_key: {ADMIN[1]}
    - access_key_id: {LIMITED[0]}
      secret_access_key: {LIMITED[1]}
      pools: [{MINE}]
    - access_key_id: {SESSION[0]}
      secret_access_key: {SESSION[1]}
      session_token: {SESSION[2]}
pools:
  - id: {MINE}
    name: mine
    clients:
      - id: {CLIENT}
        name: app
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
  - id: {OTHER}
    name: other
"""


def client(srv, key: str | None = None, secret: str | None = None, token: str | None = None,
           unsigned: bool = False):
    session = boto3.session.Session(aws_access_key_id=key or "test", aws_secret_access_key=secret or "test",
                                    aws_session_token=token, region_name=REGION)
    config = Config(retries={"mode": "standard", "total_max_attempts": 1},
                    signature_version=UNSIGNED if unsigned else None)
    return session.client("cognito-idp", endpoint_url=srv.url, config=config)


def refused(call, code: str) -> str:
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e.value) == code, f"{error_code(e.value)}: {error_message(e.value)}"
    return error_message(e.value)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import _server_factory
    make, finish = _server_factory(lambda: tmp_path_factory.mktemp("cognate-sigv4"))
    yield make(CONFIG)
    finish()


def test_right_credentials_work(srv) -> None:
    pools = client(srv, *ADMIN).list_user_pools(MaxResults=60)["UserPools"]
    assert {p["Id"] for p in pools} >= {MINE, OTHER}
    assert client(srv, *ADMIN).describe_user_pool(UserPoolId=OTHER)["UserPool"]["Name"] == "other"


def test_wrong_secret(srv) -> None:
    msg = refused(lambda: client(srv, ADMIN[0], "not-the-secret").list_user_pools(MaxResults=10),
                  "InvalidSignatureException")
    assert msg.startswith("The request signature we calculated does not match the signature you provided."), msg


def test_unknown_access_key(srv) -> None:
    msg = refused(lambda: client(srv, "AKIDNOBODY", ADMIN[1]).list_user_pools(MaxResults=10),
                  "UnrecognizedClientException")
    assert msg == "The security token included in the request is invalid."
    # boto3 with the dummy credentials every other e2e test uses.
    refused(lambda: client(srv).list_user_pools(MaxResults=10), "UnrecognizedClientException")


def test_unsigned_admin_call(srv) -> None:
    msg = refused(lambda: client(srv, unsigned=True).list_user_pools(MaxResults=10),
                  "MissingAuthenticationTokenException")
    assert msg == "Missing Authentication Token"


def test_stale_signature(srv, monkeypatch) -> None:
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda *a, **k: real(*a, **k) - datetime.timedelta(minutes=10))
    msg = refused(lambda: client(srv, *ADMIN).list_user_pools(MaxResults=10), "InvalidSignatureException")
    assert msg.startswith("Signature expired: ") and msg.endswith(" - 5 min.)"), msg


def test_body_changed_after_signing(srv) -> None:
    idp = client(srv, *ADMIN)

    def tamper(request, **_):
        request.body = request.body.replace(b'"MaxResults": 10', b'"MaxResults": 11')

    idp.meta.events.register("before-send.cognito-idp.ListUserPools", tamper)
    refused(lambda: idp.list_user_pools(MaxResults=10), "InvalidSignatureException")


def test_session_tokens(srv) -> None:
    assert "UserPools" in client(srv, *SESSION).list_user_pools(MaxResults=10)
    refused(lambda: client(srv, SESSION[0], SESSION[1]).list_user_pools(MaxResults=10),
            "UnrecognizedClientException")
    refused(lambda: client(srv, SESSION[0], SESSION[1], "another-token").list_user_pools(MaxResults=10),
            "UnrecognizedClientException")


def test_pool_limited_key(srv) -> None:
    idp = client(srv, *LIMITED)
    assert [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]] == [MINE]
    idp.create_group(UserPoolId=MINE, GroupName="limited-made")
    msg = refused(lambda: idp.create_group(UserPoolId=OTHER, GroupName="nope"), "AccessDeniedException")
    assert f"cognito-idp:CreateGroup on resource: arn:aws:cognito-idp:{REGION}:000000000000:userpool/{OTHER}" in msg
    refused(lambda: idp.describe_user_pool(UserPoolId=OTHER), "AccessDeniedException")
    refused(lambda: idp.create_user_pool(PoolName="new"), "AccessDeniedException")
    assert client(srv, *ADMIN).list_groups(UserPoolId=OTHER)["Groups"] == []


def test_public_operations_stay_unsigned(srv) -> None:
    admin = client(srv, *ADMIN)
    admin.admin_create_user(UserPoolId=MINE, Username="pub-user", MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=MINE, Username="pub-user", Password=PASSWORD, Permanent=True)
    for public in (client(srv, unsigned=True), client(srv)):  # no signature; botocore's own choice
        tokens = public.initiate_auth(ClientId=CLIENT, AuthFlow="USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": "pub-user", "PASSWORD": PASSWORD})
        access = tokens["AuthenticationResult"]["AccessToken"]
        assert public.get_user(AccessToken=access)["Username"] == "pub-user"
    client(srv, unsigned=True).sign_up(ClientId=CLIENT, Username="pub-signup", Password=PASSWORD)


def test_many_signed_calls_in_flight(srv) -> None:
    """Good, badly signed and denied calls interleaved: each gets its own answer."""
    local = threading.local()

    def idp(key, secret):
        cache = getattr(local, "clients", None)
        if cache is None:
            cache = local.clients = {}
        if (key, secret) not in cache:
            cache[(key, secret)] = client(srv, key, secret)
        return cache[(key, secret)]

    def one(i: int) -> str:
        try:
            if i % 3 == 0:
                idp(*ADMIN).create_group(UserPoolId=OTHER, GroupName=f"many-{i}")
            elif i % 3 == 1:
                idp(ADMIN[0], "wrong").create_group(UserPoolId=OTHER, GroupName=f"many-{i}")
            else:
                idp(*LIMITED).create_group(UserPoolId=OTHER, GroupName=f"many-{i}")
            return "ok"
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(max_workers=24) as pool:
        got = list(pool.map(one, range(48)))
    want = ["ok", "InvalidSignatureException", "AccessDeniedException"] * 16
    assert got == want
    names = {g["GroupName"] for g in client(srv, *ADMIN).list_groups(UserPoolId=OTHER, Limit=60)["Groups"]}
    assert names == {f"many-{i}" for i in range(0, 48, 3)}


def test_the_aws_cli_signs_with_configured_credentials(srv, tmp_path) -> None:
    def cli(key: str, secret: str) -> subprocess.CompletedProcess:
        env = {**CLIENT_ENV, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        return subprocess.run(
            _aws_command() + ["cognito-idp", "list-user-pools", "--max-results", "10",
                              "--endpoint-url", srv.url, "--output", "json"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    ok = cli(*ADMIN)
    assert ok.returncode == 0, ok.stderr
    assert MINE in {p["Id"] for p in json.loads(ok.stdout)["UserPools"]}
    bad = cli(ADMIN[0], "wrong")
    assert bad.returncode != 0 and "InvalidSignatureException" in bad.stderr, bad.stderr


def test_environment_credentials(server, monkeypatch) -> None:
    monkeypatch.setenv("COGNATE_ADMIN_ACCESS_KEY_ID", "AKIDE2EFROMENV")
    monkeypatch.setenv("COGNATE_ADMIN_SECRET_ACCESS_KEY", "e2e-env-secret")
    srv = server()
    pool = client(srv, "AKIDE2EFROMENV", "e2e-env-secret").create_user_pool(PoolName="env")["UserPool"]["Id"]
    refused(lambda: client(srv).describe_user_pool(UserPoolId=pool), "UnrecognizedClientException")


# ---------------------------------------------------------------------------
# Start-up rules


def test_loopback_without_credentials_accepts_any_signature(server) -> None:
    srv = server()
    assert "development mode: admin calls are not signature-checked" in srv.logs()
    pool = client(srv, "anything", "at-all").create_user_pool(PoolName="dev")["UserPool"]["Id"]
    client(srv).describe_user_pool(UserPoolId=pool)
    # Unsigned is still refused, as AWS would.
    refused(lambda: client(srv, unsigned=True).describe_user_pool(UserPoolId=pool),
            "MissingAuthenticationTokenException")


def _serve(tmp_path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COGNATE_ADMIN_") and k not in ("COGNATE_CONFIG", "COGNATE_INSECURE_UNSIGNED_ADMIN",
                                                               "COGNATE_DATABASE_URL")}
    return subprocess.Popen(
        [str(cognate_bin()), "serve", "--data-dir", str(tmp_path / "data"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env)


def test_non_loopback_without_credentials_refuses_to_start(tmp_path) -> None:
    proc = _serve(tmp_path, "--listen", f"0.0.0.0:{free_port()}")
    try:
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode != 0, out
    for part in ("admin.credentials", "COGNATE_ADMIN_ACCESS_KEY_ID", "COGNATE_ADMIN_SECRET_ACCESS_KEY",
                 "--insecure-unsigned-admin"):
        assert part in out, out


def test_insecure_flag_starts_and_warns(tmp_path) -> None:
    port = free_port()
    proc = _serve(tmp_path, "--listen", f"0.0.0.0:{port}", "--insecure-unsigned-admin")
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Try it:"):
                break
        out = "".join(lines)
        assert "INSECURE" in out and "--insecure-unsigned-admin" in out, out
        idp = client(type("S", (), {"url": f"http://127.0.0.1:{port}"})())
        assert "UserPools" in idp.list_user_pools(MaxResults=10)
        r = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)

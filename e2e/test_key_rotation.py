"""Signing-key rotation under load: `cognate rotate-keys` runs while clients keep
refreshing tokens and using each new token at once at the user API (GetUser), at
the gateway (a Cognito authorizer) and at a backend that verifies tokens itself
with cognate-token (examples/auth-demo, fetching the JWKS over HTTP). No valid
token may be refused, before, during or after the rotation; the new keys are in
the JWKS before the first token they sign, and tokens signed with them pass all
three checks."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from pathlib import Path

import requests
import yaml

from conftest import cognate_bin, free_port, make_boto_client, store_args

POOL_ID = "us-east-1_Rotation1"
CLIENT_ID = "4rotation0e2e0client000001"
PASSWORD = "MySuperSecurePassw0rd!"
# Longer than cognate-token's 30 s floor between JWKS refetches for an unknown kid.
LEAD_SECS = 35


def kid(token: str) -> str:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def strict_ok(port: int, token: str) -> bool:
    r = requests.get(f"http://127.0.0.1:{port}/strict", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    if r.status_code != 200:
        raise AssertionError(f"{r.status_code} {r.text[:300]}")
    return True


def config(gateway_port: int) -> str:
    return yaml.safe_dump({
        "pools": [{
            "id": POOL_ID, "name": "rotation",
            "clients": [{"id": CLIENT_ID, "name": "app",
                         "explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}],
            "users": [{"username": "joe", "password": PASSWORD, "attributes": {"email": "joe@example.com"}}],
        }],
        "gateway": {
            "listen": f"127.0.0.1:{gateway_port}",
            "apis": [{
                "name": "api", "stage": "dev",
                "authorizers": {"pool": {"type": "cognito", "pools": [POOL_ID], "clients": [CLIENT_ID]}},
                "routes": [{"method": "GET", "path": "/me", "authorizer": "pool",
                            "integration": {"type": "mock", "status": 200, "body": {"ok": True}}}],
            }],
        },
    }, sort_keys=False)


def test_no_valid_token_is_refused_while_keys_rotate(server, tmp_path: Path) -> None:
    gw_port, demo_port = free_port(), free_port()
    srv = server(config=config(gw_port))
    demo_bin = cognate_bin().parent / "auth-demo"
    assert demo_bin.is_file(), f"{demo_bin} missing: cargo build --workspace"
    stop = threading.Event()
    demo_log = open(tmp_path / "auth-demo.log", "wb")
    demo = subprocess.Popen(
        [str(demo_bin), "--listen", f"127.0.0.1:{demo_port}", "--issuer", srv.issuer(POOL_ID), "--client-id", CLIENT_ID],
        stdout=demo_log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"http://127.0.0.1:{demo_port}/public", timeout=1)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "auth-demo did not start"
                time.sleep(0.1)

        idp = make_boto_client(srv)
        first = idp.initiate_auth(ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "joe", "PASSWORD": PASSWORD})["AuthenticationResult"]
        refresh_token = first["RefreshToken"]
        old_kids = {k["kid"] for k in requests.get(srv.jwks_url(POOL_ID), timeout=5).json()["keys"]}

        refusals: list[str] = []
        checked: dict[str, int] = {}

        def load() -> None:
            client = make_boto_client(srv)
            while not stop.is_set():
                tokens = client.initiate_auth(ClientId=CLIENT_ID, AuthFlow="REFRESH_TOKEN_AUTH",
                                              AuthParameters={"REFRESH_TOKEN": refresh_token})["AuthenticationResult"]
                access, id_token = tokens["AccessToken"], tokens["IdToken"]
                for what, ok in (
                    ("GetUser", lambda: client.get_user(AccessToken=access)["Username"] == "joe"),
                    ("gateway", lambda: requests.get(f"http://127.0.0.1:{gw_port}/dev/me",
                                                     headers={"Authorization": id_token}, timeout=5).status_code == 200),
                    ("cognate-token", lambda: strict_ok(demo_port, id_token)),
                ):
                    try:
                        good = ok()
                    except Exception as e:  # a refusal by boto3 is an exception
                        good = False
                        what = f"{what}: {e}"
                    if not good:
                        refusals.append(f"{what} refused a token signed by {kid(access)}/{kid(id_token)}")
                    checked[kid(id_token)] = checked.get(kid(id_token), 0) + 1

        def guarded() -> None:
            try:
                load()
            except Exception as e:  # noqa: BLE001 - reported as a refusal
                refusals.append(f"load stopped: {e}")

        workers = [threading.Thread(target=guarded) for _ in range(4)]
        for w in workers:
            w.start()
        time.sleep(2)
        rotated = subprocess.run(
            [str(cognate_bin()), "rotate-keys", "--pool", POOL_ID, "--lead-secs", str(LEAD_SECS),
             *store_args(srv)],
            capture_output=True, text=True, timeout=60,
        )
        assert rotated.returncode == 0, rotated.stderr
        new_kids = {line.rsplit(" ", 1)[1] for line in rotated.stdout.splitlines() if line.startswith("new ")}
        assert len(new_kids) == 2, rotated.stdout
        # The server that did not rotate rereads the keys within 10 s: the new
        # keys appear in its JWKS beside the old ones, before anything is signed
        # with them.
        appeared = time.monotonic() + 11
        while True:
            published = {k["kid"] for k in requests.get(srv.jwks_url(POOL_ID), timeout=5).json()["keys"]}
            if published == old_kids | new_kids:
                break
            assert time.monotonic() < appeared, f"new keys not published: {published}"
            time.sleep(0.2)
        assert not (set(checked) & new_kids), "a new key signed before its lead was over"
        # Load through the lead and well past the switch.
        time.sleep(LEAD_SECS + 12)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        assert not refusals, refusals[:5]
        assert any(checked.get(k, 0) > 0 for k in new_kids), f"no token signed by a new key was checked: {checked}"
        assert any(checked.get(k, 0) > 0 for k in old_kids), checked
        # Tokens of the old keys still verify after the switch (they are still published).
        assert idp.get_user(AccessToken=first["AccessToken"])["Username"] == "joe"
        assert requests.get(f"http://127.0.0.1:{demo_port}/strict",
                            headers={"Authorization": f"Bearer {first['IdToken']}"}, timeout=5).status_code == 200
    finally:
        stop.set()
        demo.terminate()
        demo.wait(timeout=10)
        demo_log.close()

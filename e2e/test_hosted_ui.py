"""The hosted UI in a real browser: Debian's Chromium, headless, driven by
Playwright's client, clicks through the pool domain's pages of a real
`cognate serve` as a person would. The relying party is a tiny HTTP server on
localhost (`callback_server`), which is also the backend behind the API gateway.

Page contract (URLs, field names, element ids, cookie names): see the table in
e2e/README.md. The login page of every run is saved as
target/e2e-artifacts/login.png, and the last page of each test beside it."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pyotp
import pytest
import requests
import yaml

from conftest import (
    ARTIFACTS_DIR,
    PASSWORD,
    CallbackServer,
    CognateServer,
    HostedApp,
    create_confirmed_user,
    create_hosted_app,
    free_port,
    hosted_ui_host_base,
    latest_code,
    read_outbox,
    unique,
)

NEW_PASSWORD = "N3w-Passw0rd!"


@pytest.fixture(scope="module")
def ui_server(module_server: CognateServer) -> CognateServer:
    """One cognate for the module; every test makes its own pool, domain and client."""
    return module_server


@pytest.fixture
def app(ui_server: CognateServer, callback_server: CallbackServer) -> HostedApp:
    return create_hosted_app(ui_server, callback_server)


# ---------------------------------------------------------------------------
# What a person does on the pages
# ---------------------------------------------------------------------------


def field(page: Any, name: str) -> Any:
    return page.locator(f'input[name="{name}"]:visible').first


def button(page: Any, name: str) -> Any:
    return page.locator(f'button[name="{name}"]:visible').first


def submit_login(page: Any, username: str, password: str) -> None:
    field(page, "username").fill(username)
    field(page, "password").fill(password)
    button(page, "signInSubmitButton").click()


def at_callback(page: Any, app: HostedApp, timeout: float = 15_000) -> dict[str, str]:
    """Waits for the browser to land on the redirect URI; returns the parameters of
    its fragment (implicit) or query (code)."""
    page.wait_for_url(lambda url: url.startswith(app.callback_url), timeout=timeout)
    parts = urlsplit(page.url)
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def on_page(page: Any, app: HostedApp, path: str, *, base: str | None = None) -> None:
    """Waits until the browser shows the hosted UI page ``path`` (e.g. "/login")."""
    want = urlsplit((base or app.base) + path).path
    page.wait_for_url(lambda url: urlsplit(url).path == want)


def error_text(page: Any) -> str:
    box = page.locator("#errorMessage")
    box.wait_for(state="visible")
    assert box.get_attribute("role") == "alert"
    return box.inner_text().strip()


def assert_inputs_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input')]
                 .filter(i => i.type !== 'hidden' && i.labels.length === 0)
                 .map(i => i.name)""")
    assert unlabelled == [], f"inputs without a <label for=…>: {unlabelled}"


def verify_id_token(srv: CognateServer, app: HostedApp, token: str, **expect: Any) -> dict[str, Any]:
    keys = jwt.PyJWKClient(srv.jwks_url(app.pool_id))
    claims = jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                        audience=app.client_id, issuer=srv.issuer(app.pool_id))
    assert claims["token_use"] == "id"
    for k, v in expect.items():
        assert claims.get(k) == v, f"id_token claim {k}: {claims.get(k)!r} != {v!r}"
    return claims


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sign_in_implicit(page: Any, app: HostedApp, username: str, password: str = PASSWORD,
                     **extra: str) -> dict[str, str]:
    state = secrets.token_urlsafe(12)
    page.goto(app.authorize_url("token", state=state, **extra))
    on_page(page, app, "/login")
    submit_login(page, username, password)
    got = at_callback(page, app)
    assert got.get("state") == state, got
    return got


# ---------------------------------------------------------------------------
# Infrastructure
# ---------------------------------------------------------------------------


def test_browser_reaches_the_server_and_the_callback(page: Any, ui_server: CognateServer,
                                                      callback_server: CallbackServer) -> None:
    resp = page.goto(f"{ui_server.url}/health")
    assert resp is not None and resp.status == 200
    assert page.locator("body").inner_text().strip() == "ok"
    # The redirect URI's host is `localhost` (Cognito allows plain http only there).
    resp = page.goto(f"{callback_server.callback_url}?probe=1")
    assert resp is not None and resp.status == 200
    assert page.locator("#rp").inner_text() == "Signed in"
    assert callback_server.hits("/callback")[-1]["path"] == "/callback?probe=1"

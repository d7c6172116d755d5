"""The admin console (/console/) in a real browser: Debian's Chromium,
headless, driven by Playwright, through the seeds' journey on a server with
admin credentials: sign in → create a pool → add an app client with
ALLOW_ADMIN_USER_PASSWORD_AUTH → create a user with a temporary password →
the list shows FORCE_CHANGE_PASSWORD → the user answers NEW_PASSWORD_REQUIRED
through boto3 → the console shows CONFIRMED → create a group, add the user →
a fresh token carries the group; a user created by boto3 appears in the
console. Also: a wrong secret is refused, a form without its CSRF token is
refused, a page without a session goes to sign-in. Fields are found by their
labels. Screenshots of the main pages go to target/e2e-artifacts/console-*.png."""

from __future__ import annotations

import re
from typing import Any, Callable

import boto3
import jwt
import pytest
from botocore.config import Config

from conftest import ARTIFACTS_DIR, REGION, CognateServer, unique

KEY_ID = "AKIDCONSOLEE2E01"
SECRET = "console-e2e-secret-0001"
TEMP_PASSWORD = "Temp0rary!pass"
NEW_PASSWORD = "N3w-Passw0rd!"

CONFIG = f"""
admin:
  credentials:
    - access_key_id: {KEY_ID}
      secret_access_key: {SECRET}
"""


@pytest.fixture
def srv(server: Callable[..., CognateServer]) -> CognateServer:
    return server(CONFIG)


def admin_idp(srv: CognateServer) -> Any:
    """boto3 signing with the server's admin key."""
    return boto3.session.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION
    ).client("cognito-idp", endpoint_url=srv.url,
             config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def shot(page: Any, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"console-{name}.png"), full_page=True)


def sign_in(page: Any, srv: CognateServer, secret: str = SECRET) -> None:
    page.goto(f"{srv.url}/console/")
    assert "/console/sign-in" in page.url
    page.get_by_label("Access key ID").fill(KEY_ID)
    page.get_by_label("Secret access key").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def test_the_seeds_console_journey(srv: CognateServer, page: Any) -> None:
    idp = admin_idp(srv)

    # A wrong secret is refused; the right one signs in.
    sign_in(page, srv, secret="not-the-secret")
    assert "not correct" in page.locator("[role=alert]").inner_text()
    shot(page, "sign-in")
    sign_in(page, srv)
    page.wait_for_url(re.compile(r".*/console/pools$"))

    # Create a pool with the reviewed defaults.
    page.get_by_role("link", name="Create user pool").click()
    pool_name = unique("console-pool")
    page.get_by_label("Pool name", exact=True).fill(pool_name)
    shot(page, "create-pool")
    page.get_by_role("button", name="Create user pool").click()
    assert f"User pool {pool_name} created." in page.locator(".flash").inner_text()
    pool_id = page.locator("#pool-id").inner_text().strip()
    shot(page, "pool")
    # Usable from boto3 at once.
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["Name"] == pool_name
    assert page.locator("#pool-jwks").inner_text() == f"{srv.url}/{pool_id}/.well-known/jwks.json"

    # An app client without a secret, with admin password sign-in.
    page.get_by_role("link", name="Create app client").click()
    page.get_by_label("App client name", exact=True).fill("web")
    page.get_by_label("ALLOW_ADMIN_USER_PASSWORD_AUTH").check()
    page.get_by_role("button", name="Create app client").click()
    client_id = page.locator("#client-id").inner_text().strip()
    assert page.locator("#client-secret").count() == 0, "no secret by default"
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ClientSecret" not in client

    # A user with a temporary password: FORCE_CHANGE_PASSWORD.
    page.goto(f"{srv.url}/console/pools/{pool_id}/users")
    page.get_by_role("link", name="Create user").click()
    page.get_by_label("Username", exact=True).fill("alice")
    page.get_by_label("Email", exact=True).fill("alice@example.com")
    page.get_by_label("Temporary password", exact=True).fill(TEMP_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    assert page.locator("#user-status").inner_text() == "FORCE_CHANGE_PASSWORD"
    page.goto(f"{srv.url}/console/pools/{pool_id}/users")
    row = page.locator("#users tr", has_text="alice")
    assert "FORCE_CHANGE_PASSWORD" in row.inner_text()
    shot(page, "users")

    # The user answers NEW_PASSWORD_REQUIRED through boto3 ...
    started = idp.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": TEMP_PASSWORD})
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    idp.admin_respond_to_auth_challenge(
        UserPoolId=pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": "alice", "NEW_PASSWORD": NEW_PASSWORD})
    # ... and the console shows CONFIRMED.
    page.reload()
    assert "CONFIRMED" in page.locator("#users tr", has_text="alice").inner_text()

    # A group with the user in it: a fresh token carries it.
    page.get_by_role("link", name="Groups").click()
    page.get_by_label("Group name", exact=True).fill("admins")
    page.get_by_label("Precedence", exact=True).fill("1")
    page.get_by_role("button", name="Create group").click()
    page.get_by_label("Username", exact=True).fill("alice")
    page.get_by_role("button", name="Add to group").click()
    assert "alice" in page.locator("#members").inner_text()
    tokens = idp.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": NEW_PASSWORD})["AuthenticationResult"]
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["cognito:groups"] == ["admins"]
    page.goto(f"{srv.url}/console/pools/{pool_id}/users/alice")
    assert "admins" in page.locator("#user-groups").inner_text()
    shot(page, "user")

    # A user created with boto3 appears in the console, and search finds it.
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    page.goto(f"{srv.url}/console/pools/{pool_id}/users")
    page.get_by_label("Search by").select_option("email")
    page.get_by_label("Starts with").fill("bob@")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#users tbody tr")
    assert rows.count() == 1
    assert "bob" in rows.first.inner_text()


def test_forms_need_their_csrf_token_and_pages_a_session(
        srv: CognateServer, page: Any, chromium: Any) -> None:
    sign_in(page, srv)
    page.wait_for_url(re.compile(r".*/console/pools$"))
    # The browser's own cookie, without the form's token: refused.
    r = page.request.post(f"{srv.url}/console/pools/new", form={"pool_name": "no-token"},
                          max_redirects=0)
    assert r.status == 403
    r = page.request.post(f"{srv.url}/console/pools/new",
                          form={"pool_name": "bad-token", "csrf": "x" * 43}, max_redirects=0)
    assert r.status == 403
    names = [p["Name"] for p in admin_idp(srv).list_user_pools(MaxResults=60)["UserPools"]]
    assert "no-token" not in names and "bad-token" not in names

    # A fresh browser without a session lands on the sign-in page.
    other = chromium.new_context()
    try:
        p2 = other.new_page()
        p2.goto(f"{srv.url}/console/pools")
        assert "/console/sign-in" in p2.url
        assert p2.get_by_label("Access key ID").is_visible()
    finally:
        other.close()


def test_the_console_reads_on_a_phone(srv: CognateServer, chromium: Any) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, srv)
        page.wait_for_url(re.compile(r".*/console/pools$"))
        admin_idp(srv).create_user_pool(PoolName="phone-pool")
        page.reload()
        # Nothing wider than the screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        shot(page, "pools-phone")
    finally:
        context.close()

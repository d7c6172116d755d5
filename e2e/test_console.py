"""The admin console (/console/) in a real browser: Debian's Chromium,
headless, driven by Playwright, through the seeds' journey on a server with
admin credentials: sign in → create a pool → add an app client with
ALLOW_ADMIN_USER_PASSWORD_AUTH → create a user with a temporary password →
the list shows FORCE_CHANGE_PASSWORD → the user answers NEW_PASSWORD_REQUIRED
through boto3 → the console shows CONFIRMED → create a group, add the user →
a fresh token carries the group; a user created by boto3 appears in the
console. Then the dashboard's counters, a confirm page before disabling,
signing-key rotation, hosted-UI branding with its preview, and the admins'
activity. Also: a wrong secret is refused, a form without its CSRF token is
refused, a page without a session goes to sign-in, every page fits a phone. Fields are found by their
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


# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f80f00000101000518d84e0000000049454e44ae426082")


def test_dashboard_confirm_pages_keys_branding_and_activity(srv: CognateServer, page: Any) -> None:
    idp = admin_idp(srv)
    pool_id = idp.create_user_pool(PoolName=unique("console-more"))["UserPool"]["Id"]
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=unique("brand"))
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"], CallbackURLs=["http://localhost:9/cb"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="dora", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="dora", Password=NEW_PASSWORD, Permanent=True)

    def sign_in_as_dora(password: str) -> None:
        idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "dora", "PASSWORD": password})

    sign_in_as_dora(NEW_PASSWORD)
    sign_in_as_dora(NEW_PASSWORD)
    for _ in range(3):
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            sign_in_as_dora("Wrong-passw0rd!")

    # The dashboard counts them.
    sign_in(page, srv)
    page.wait_for_url(re.compile(r".*/console/pools$"))
    page.get_by_role("link", name="Dashboard").click()
    assert page.locator("#sign-ins-ok").inner_text() == "2"
    assert page.locator("#sign-ins-failed").inner_text() == "3"
    assert page.locator("#c-event-sign_in-wrong_password").inner_text() == "3"
    shot(page, "dashboard")

    # Disable asks first; Cancel changes nothing, the button does.
    page.goto(f"{srv.url}/console/pools/{pool_id}/users/dora")
    page.get_by_role("link", name="Disable user").click()
    assert "cannot sign in while disabled" in page.locator("main").inner_text()
    shot(page, "confirm-disable")
    page.get_by_role("link", name="Cancel").click()
    assert idp.admin_get_user(UserPoolId=pool_id, Username="dora")["Enabled"] is True
    page.get_by_role("link", name="Disable user").click()
    page.get_by_role("button", name="Disable user").click()
    assert page.locator("#user-enabled").inner_text() == "Disabled"
    assert idp.admin_get_user(UserPoolId=pool_id, Username="dora")["Enabled"] is False
    assert "AdminDisableUser" in page.locator("#user-changes").inner_text()
    shot(page, "user-after-disable")

    # Signing keys: Rotate now, after a confirm page.
    page.goto(f"{srv.url}/console/pools/{pool_id}")
    page.locator(".tabs").get_by_role("link", name="Signing keys").click()
    assert page.locator("#keys tbody tr").count() == 2
    page.get_by_role("link", name="Rotate now").click()
    page.get_by_role("button", name="Rotate now").click()
    assert "New keys" in page.locator(".flash").inner_text()
    assert page.locator("#keys tbody tr").count() == 4
    jwks = page.request.get(f"{srv.url}/{pool_id}/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 4
    shot(page, "keys")

    # Branding: CSS and a logo, previewed as the hosted UI renders them.
    page.locator(".tabs").get_by_role("link", name="Branding").click()
    preview = page.frame_locator("#preview")
    assert preview.locator("input[name=password]").count() == 1
    page.get_by_label("CSS", exact=True).fill(".banner-customizable {background-color: rgb(11, 61, 145);}")
    page.get_by_label("Logo", exact=True).set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_role("button", name="Save branding").click()
    assert "Branding saved" in page.locator(".flash").inner_text()
    banner = preview.locator(".banner-customizable")
    background = banner.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(11, 61, 145)", background
    assert preview.locator("img.logo-customizable").count() == 1
    ui = idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"]
    assert "rgb(11, 61, 145)" in ui["CSS"] and ui["ImageUrl"]
    shot(page, "branding")

    # The admins' own changes, newest first.
    page.get_by_role("link", name="Activity").click()
    rows = page.locator("#activity tbody tr")
    assert "SetUICustomization" in rows.nth(0).inner_text()
    assert "RotateSigningKeys" in rows.nth(1).inner_text()
    assert "AdminDisableUser" in rows.nth(2).inner_text()
    assert KEY_ID in rows.nth(0).inner_text()
    shot(page, "activity")


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
        idp = admin_idp(srv)
        pool_id = idp.create_user_pool(PoolName="phone-pool")["UserPool"]["Id"]
        idp.create_user_pool_domain(UserPoolId=pool_id, Domain=unique("phone"))
        idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="web", AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"],
            AllowedOAuthFlowsUserPoolClient=True, SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=["http://localhost:9/cb"])
        idp.admin_create_user(UserPoolId=pool_id, Username="pat", MessageAction="SUPPRESS")
        page.reload()
        # Nothing wider than the screen, on every page.
        for name, path in [
            ("pools-phone", "/console/pools"),
            ("dashboard-phone", "/console/dashboard"),
            ("user-phone", f"/console/pools/{pool_id}/users/pat"),
            ("confirm-phone", f"/console/pools/{pool_id}/users/pat/confirm/sign_out"),
            ("keys-phone", f"/console/pools/{pool_id}/keys"),
            ("branding-phone", f"/console/pools/{pool_id}/branding"),
            ("activity-phone", "/console/activity"),
        ]:
            page.goto(f"{srv.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            shot(page, name)
    finally:
        context.close()

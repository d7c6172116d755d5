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
    latest_message,
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
    assert resp.json() == {"status": "ok"}
    # The redirect URI's host is `localhost` (Cognito allows plain http only there).
    resp = page.goto(f"{callback_server.callback_url}?probe=1")
    assert resp is not None and resp.status == 200
    assert page.locator("#rp").inner_text() == "Signed in"
    assert callback_server.hits("/callback")[-1]["path"] == "/callback?probe=1"
# ---------------------------------------------------------------------------
# The seeds' journey: implicit grant, id_token from the callback, the gateway
# ---------------------------------------------------------------------------

POOL_ID = "us-east-1_HostedUi1"
CLIENT_ID = "4hostedui0e2e0client000001"


def gateway_config(cb: CallbackServer, gateway_port: int, domain: str) -> str:
    """The tutorial's resources in the config file: a pool with a domain, an app
    client with callback and sign-out URLs and the implicit grant, a user, and an
    API whose route has a Cognito authorizer in front of the callback server."""
    return yaml.safe_dump({
        "pools": [{
            "id": POOL_ID, "name": "todo-user-pool", "auto_verified_attributes": ["email"],
            "domain": domain,
            "clients": [{
                "id": CLIENT_ID, "name": "todo-app-client",
                "explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "callback_urls": [cb.callback_url], "logout_urls": [cb.signout_url],
                "allowed_oauth_flows_user_pool_client": True,
                "allowed_oauth_flows": ["implicit"],
                "allowed_oauth_scopes": ["openid", "email", "profile"],
                "supported_identity_providers": ["COGNITO"],
            }],
            "users": [{"username": "joe_bloggs", "password": "MySuperSecurePassw0rd!",
                       "attributes": {"email": "joe@example.com", "email_verified": "true"}}],
        }],
        "gateway": {
            "listen": f"127.0.0.1:{gateway_port}",
            "apis": [{
                "name": "todo", "stage": "dev",
                "cors": {"allow_origins": ["*"], "allow_headers": ["authorization", "content-type"],
                         "allow_methods": ["GET", "OPTIONS"]},
                "authorizers": {"todo-pool": {"type": "cognito", "pools": [POOL_ID], "clients": [CLIENT_ID]}},
                "routes": [{"method": "GET", "path": "/api/tasks", "authorizer": "todo-pool",
                            "integration": {"type": "http", "url": cb.backend_url}}],
            }],
        },
    }, sort_keys=False)


def test_implicit_grant_id_token_passes_the_gateway(
        page: Any, server: Callable[..., CognateServer], callback_server: CallbackServer) -> None:
    domain = unique("todo")
    gw_port = free_port()
    srv = server(config=gateway_config(callback_server, gw_port, domain))
    app = HostedApp(srv, None, POOL_ID, CLIENT_ID, domain, callback_server.callback_url,
                    callback_server.signout_url)
    api = f"http://127.0.0.1:{gw_port}/dev/api/tasks"

    # Without a token the gateway refuses, as API Gateway's Cognito authorizer does.
    r = requests.get(api, timeout=10)
    assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}

    # "View Hosted UI": the authorize URL sends the browser to the login page.
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    page.goto(app.authorize_url("token", scope="openid email profile", state=state, nonce=nonce))
    on_page(page, app, "/login")
    assert page.title().strip(), "the login page has a title"
    assert_inputs_labelled(page)
    assert field(page, "password").get_attribute("type") == "password"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "login.png"), full_page=True)

    submit_login(page, "joe_bloggs", "MySuperSecurePassw0rd!")
    got = at_callback(page, app)
    assert got["state"] == state
    assert got["token_type"] == "Bearer" and got["expires_in"] == "3600"
    assert "refresh_token" not in got, "the implicit grant issues no refresh token"
    # The tokens travel in the fragment: the relying party's server never sees them.
    assert all("id_token" not in h["path"] for h in callback_server.hits("/callback"))

    claims = verify_id_token(srv, app, got["id_token"], nonce=nonce)
    assert claims["cognito:username"] == "joe_bloggs" and claims["email"] == "joe@example.com"
    assert claims.get("at_hash") == at_hash(got["access_token"]), "implicit id_token needs at_hash (OIDC 3.2.2.10)"

    # The single-page app calls the API with the id_token, from the browser (CORS).
    answer = page.evaluate(
        """async ([url, token]) => {
               const r = await fetch(url, {headers: {Authorization: token}});
               return {status: r.status, body: await r.text()};
           }""", [api, got["id_token"]])
    assert answer["status"] == 200, answer
    seen = yaml.safe_load(answer["body"])["headers"]
    assert seen["x-cognate-claim-cognito-username"] == "joe_bloggs"
    assert seen["x-cognate-claim-email"] == "joe@example.com"
    r = requests.get(api, headers={"Authorization": got["id_token"] + "x"}, timeout=10)
    assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}


# ---------------------------------------------------------------------------
# Sign-in journeys
# ---------------------------------------------------------------------------


def test_wrong_password_shows_the_error_then_sign_in_works(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "wendy")
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    submit_login(page, "wendy", "Wrong-passw0rd!")
    assert error_text(page) == "Incorrect username or password."
    on_page(page, app, "/login")
    assert field(page, "password").input_value() == "", "a refused password is not echoed back"
    # What the page shows back is escaped, never markup.
    hostile = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    submit_login(page, hostile, "Wrong-passw0rd!")
    # (The client's PreventUserExistenceErrors is LEGACY, CreateUserPoolClient's default.)
    assert error_text(page) == "User does not exist."
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert field(page, "username").input_value() in ("", hostile)
    submit_login(page, "wendy", PASSWORD)
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "wendy"})


def test_login_page_fits_a_phone(chromium: Any, app: HostedApp) -> None:
    context = chromium.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(app.authorize_url("token", state="phone"))
        on_page(page, app, "/login")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
        for name in ("username", "password"):
            box = field(page, name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
            assert box["height"] >= 32, f"{name} is too small to tap ({box['height']} px)"
        # Keyboard users reach the fields in order, with a visible focus.
        field(page, "username").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "password"
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS_DIR / "login-phone.png"), full_page=True)
    finally:
        context.close()


def test_code_flow_with_pkce(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "carol")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("code", state=state, code_challenge=challenge, code_challenge_method="S256",
                                scope="openid email aws.cognito.signin.user.admin"))
    on_page(page, app, "/login")
    submit_login(page, "carol", PASSWORD)
    got = at_callback(page, app)
    assert got["state"] == state and set(got) == {"code", "state"}

    form = {"grant_type": "authorization_code", "client_id": app.client_id, "code": got["code"],
            "redirect_uri": app.callback_url}
    r = requests.post(app.token_url(), data={**form, "code_verifier": verifier}, timeout=10)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["refresh_token"]
    verify_id_token(app.srv, app, tokens["id_token"], **{"cognito:username": "carol"})
    # The access token is a user's, with the scope the user APIs want: GetUser accepts it.
    me = app.idp.get_user(AccessToken=tokens["access_token"])
    assert me["Username"] == "carol"
    # A code is single-use.
    again = requests.post(app.token_url(), data={**form, "code_verifier": verifier}, timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    # A second code (the session skips the login) is bound to its verifier.
    state2 = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("code", state=state2, code_challenge=challenge, code_challenge_method="S256"))
    got2 = at_callback(page, app)
    assert got2["state"] == state2
    wrong = requests.post(app.token_url(), data={**form, "code": got2["code"],
                                                  "code_verifier": pkce_pair()[0]}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant", wrong.text


def test_session_cookie_skips_the_login(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "sam")
    first = sign_in_implicit(page, app, "sam")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies.get("cognito")
    assert session is not None, f"no `cognito` session cookie: {sorted(cookies)}"
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]
    assert session["path"].rstrip("/") == f"/domains/{app.domain}"

    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    got = at_callback(page, app)   # straight back, no login page in between
    assert got["state"] == state
    assert got["id_token"] != first["id_token"]
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "sam"})


def test_logout_clears_the_session(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "lou")
    sign_in_implicit(page, app, "lou")

    page.goto(f"{app.base}/logout?" + urlencode({"client_id": app.client_id, "logout_uri": app.signout_url}))
    page.wait_for_url(lambda url: url.startswith(app.signout_url))
    assert page.locator("#rp").inner_text() == "Signed out"
    assert "cognito" not in {c["name"] for c in page.context.cookies()}

    # The next authorize asks for the password again.
    page.goto(app.authorize_url("token", state="again"))
    on_page(page, app, "/login")
    sign_in = sign_in_implicit(page, app, "lou")
    assert sign_in["id_token"]

    # The other form: log out and straight back to the login page.
    page.goto(f"{app.base}/logout?" + urlencode({"client_id": app.client_id, "redirect_uri": app.callback_url,
                                                  "response_type": "token", "state": "s2"}))
    on_page(page, app, "/login")
    assert field(page, "password").is_visible()


def test_sso_session_is_listed_and_revoked_with_its_tokens(page: Any, ui_server: CognateServer,
                                                           callback_server: CallbackServer) -> None:
    """With session tracking on, Chromium's sign-in is an SSO session that boto3 lists beside the
    token session of its code (OriginSessionId), with Chromium's device; revoking it with LINKED
    sends the browser back to the login page and revokes the tokens."""
    app = create_hosted_app(ui_server, callback_server, UserPoolTier="ESSENTIALS")
    app.idp.set_user_pool_session_configuration(UserPoolId=app.pool_id, UserSessionTracking="ENABLED",
                                                TokenSession={"MaxPerUser": 20})
    create_confirmed_user(app.idp, app.pool_id, "sso-user")
    page.goto(app.authorize_url("code", state="s1"))
    on_page(page, app, "/login")
    submit_login(page, "sso-user", PASSWORD)
    got = at_callback(page, app)
    r = requests.post(app.token_url(), data={"grant_type": "authorization_code", "client_id": app.client_id,
                                             "code": got["code"], "redirect_uri": app.callback_url}, timeout=10)
    assert r.status_code == 200, r.text
    tokens = r.json()

    sessions = app.idp.admin_list_user_sessions(UserPoolId=app.pool_id, Username="sso-user")["Sessions"]
    by_type = {x["SessionType"]: x for x in sessions}
    assert len(sessions) == 2 and set(by_type) == {"SSO", "TOKEN"}, sessions
    sso, token = by_type["SSO"], by_type["TOKEN"]
    assert sso["SessionId"].startswith("sso") and len(sso["SessionId"]) == 28
    assert token["OriginSessionId"] == sso["SessionId"]
    assert sso["ClientId"] == app.client_id and sso["LastIPAddress"] == "127.0.0.1"
    assert sso["DeviceType"] == "Chrome on Linux", sso
    assert sso["LastActiveDate"] >= sso["CreateDate"]

    app.idp.admin_revoke_user_session(UserPoolId=app.pool_id, Username="sso-user",
                                      SessionId=sso["SessionId"], RevokeAssociatedSessions="LINKED")
    assert app.idp.admin_list_user_sessions(UserPoolId=app.pool_id, Username="sso-user")["Sessions"] == []
    page.goto(app.authorize_url("code", state="s2"))
    on_page(page, app, "/login")
    with pytest.raises(app.idp.exceptions.NotAuthorizedException):
        app.idp.get_user(AccessToken=tokens["access_token"])


def test_unlisted_redirect_uri_ends_on_the_domains_error_page(page: Any, app: HostedApp,
                                                               callback_server: CallbackServer) -> None:
    # As on Cognito: to <domain>/error?error=redirect_mismatch&client_id=<id>, never to the URI.
    evil = f"{callback_server.base}/evil"
    resp = page.goto(f"{app.base}/oauth2/authorize?" + urlencode({
        "response_type": "token", "client_id": app.client_id, "redirect_uri": evil, "scope": "openid"}))
    assert resp is not None and resp.status == 200
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == f"{app.base}/error"
    assert parse_qs(landed.query) == {"error": ["redirect_mismatch"], "client_id": [app.client_id]}
    assert page.locator("h1").inner_text() == "An error was encountered with the requested page."
    assert page.locator("#errorMessage").inner_text() == "redirect_mismatch"
    assert not callback_server.hits("/evil")


def test_new_password_required(page: Any, app: HostedApp) -> None:
    app.idp.admin_create_user(UserPoolId=app.pool_id, Username="nina", TemporaryPassword="Temp0rary!x",
                              UserAttributes=[{"Name": "email", "Value": "nina@example.com"},
                                              {"Name": "email_verified", "Value": "true"}],
                              MessageAction="SUPPRESS")
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    submit_login(page, "nina", "Temp0rary!x")
    field(page, "new_password").wait_for()
    assert_inputs_labelled(page)
    field(page, "new_password").fill(NEW_PASSWORD)
    field(page, "confirm_password").fill(NEW_PASSWORD)
    button(page, "changePasswordSubmitButton").click()
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "nina"})
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="nina")["UserStatus"] == "CONFIRMED"
    auth = app.idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "nina", "PASSWORD": NEW_PASSWORD})
    assert "AuthenticationResult" in auth


def test_totp_sign_in(page: Any, ui_server: CognateServer, callback_server: CallbackServer) -> None:
    app = create_hosted_app(ui_server, callback_server)
    idp = app.idp
    idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    create_confirmed_user(idp, app.pool_id, "tom")
    access = idp.initiate_auth(ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "tom", "PASSWORD": PASSWORD}
                               )["AuthenticationResult"]["AccessToken"]
    totp = pyotp.TOTP(idp.associate_software_token(AccessToken=access)["SecretCode"])
    now = time.time()
    assert idp.verify_software_token(AccessToken=access, UserCode=totp.at(now))["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=access,
                                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    submit_login(page, "tom", PASSWORD)
    field(page, "totp_code").wait_for()
    assert_inputs_labelled(page)
    # The code of the next 30 s step: the one above is spent (a code is never
    # accepted twice) and the server accepts one step of drift.
    field(page, "totp_code").fill(totp.at(now + 30))
    button(page, "totpSubmitButton").click()
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "tom"})


def test_mfa_setup_when_the_pool_requires_it(page: Any, ui_server: CognateServer,
                                             callback_server: CallbackServer) -> None:
    app = create_hosted_app(ui_server, callback_server)
    app.idp.set_user_pool_mfa_config(UserPoolId=app.pool_id, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    create_confirmed_user(app.idp, app.pool_id, "mia")
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    submit_login(page, "mia", PASSWORD)
    secret = page.locator("#totpSecret")
    secret.wait_for()
    assert_inputs_labelled(page)
    totp = pyotp.TOTP(secret.inner_text().strip())
    field(page, "totp_code").fill(totp.now())
    button(page, "totpSubmitButton").click()
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "mia"})
    mfa = app.idp.admin_get_user(UserPoolId=app.pool_id, Username="mia")
    assert mfa.get("PreferredMfaSetting") == "SOFTWARE_TOKEN_MFA", mfa


def code_mfa_app(ui_server: CognateServer, callback_server: CallbackServer,
                 username: str, **preference: Any) -> HostedApp:
    """A hosted app whose pool offers SMS and email MFA, and a user with both
    contacts and ``preference`` (AdminSetUserMFAPreference members)."""
    app = create_hosted_app(ui_server, callback_server)
    app.idp.set_user_pool_mfa_config(
        UserPoolId=app.pool_id, MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code is {####}"},
        EmailMfaConfiguration={"Message": "Your sign-in code is {####}", "Subject": "Sign-in code"})
    create_confirmed_user(app.idp, app.pool_id, username)
    app.idp.admin_update_user_attributes(
        UserPoolId=app.pool_id, Username=username,
        UserAttributes=[{"Name": "phone_number", "Value": "+15555550177"},
                        {"Name": "phone_number_verified", "Value": "true"}])
    app.idp.admin_set_user_mfa_preference(UserPoolId=app.pool_id, Username=username, **preference)
    return app


def test_email_otp_mfa_sign_in(chromium: Any, ui_server: CognateServer,
                               callback_server: CallbackServer) -> None:
    app = code_mfa_app(ui_server, callback_server, "otto",
                       EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    # On a phone-sized screen, as most people read their email code.
    context = chromium.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        state = secrets.token_urlsafe(8)
        page.goto(app.authorize_url("token", state=state))
        on_page(page, app, "/login")
        sent_before = len(read_outbox(app.srv))
        submit_login(page, "otto", PASSWORD)
        on_page(page, app, "/login")
        field(page, "code").wait_for()
        assert_inputs_labelled(page)
        assert page.locator("#codeDestination").inner_text().strip() == "o***@e***"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
        box = field(page, "code").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["height"] >= 32
        code = latest_code(app.srv, "otto", pool_id=app.pool_id, after=sent_before)
        # A wrong code first: the page again, with the error.
        field(page, "code").fill(f"{(int(code) + 1) % 1_000_000:06d}")
        button(page, "codeSubmitButton").click()
        assert error_text(page) == "Invalid code or auth state for the user."
        field(page, "code").fill(code)
        button(page, "codeSubmitButton").click()
        got = at_callback(page, app)
        assert got["state"] == state
        verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "otto"})
    finally:
        context.close()


def test_select_mfa_type_then_the_sms_code(page: Any, ui_server: CognateServer,
                                            callback_server: CallbackServer) -> None:
    app = code_mfa_app(ui_server, callback_server, "sela",
                       SMSMfaSettings={"Enabled": True}, EmailMfaSettings={"Enabled": True})
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("code", state=state))
    on_page(page, app, "/login")
    submit_login(page, "sela", PASSWORD)
    button(page, "selectMfaSubmitButton").wait_for()
    assert_inputs_labelled(page)
    choices = page.locator('input[name="mfa_type"]')
    assert sorted(choices.evaluate_all("els => els.map(e => e.value)")) == ["EMAIL_OTP", "SMS_MFA"]
    sent_before = len(read_outbox(app.srv))
    page.get_by_label("Text message (SMS)").check()
    button(page, "selectMfaSubmitButton").click()
    field(page, "code").wait_for()
    assert page.locator("#codeDestination").inner_text().strip() == "+*******0177"
    msg = latest_message(app.srv, "sela", pool_id=app.pool_id, after=sent_before)
    assert msg["medium"] == "SMS" and msg["body"] == f"Your code is {msg['code']}"
    field(page, "code").fill(msg["code"])
    button(page, "codeSubmitButton").click()
    got = at_callback(page, app)
    assert got["state"] == state and got.get("code"), got
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "select-mfa-done.png"))


# ---------------------------------------------------------------------------
# Self-service: sign-up and forgot password
# ---------------------------------------------------------------------------


def test_sign_up_with_the_emailed_code(page: Any, app: HostedApp) -> None:
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    page.locator("#signupLink").click()
    on_page(page, app, "/signup")
    assert_inputs_labelled(page)
    field(page, "username").fill("una")
    field(page, "email").fill("una@example.com")
    field(page, "password").fill(PASSWORD)
    button(page, "signupSubmitButton").click()

    on_page(page, app, "/confirm")
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="una")["UserStatus"] == "UNCONFIRMED"
    code = latest_code(app.srv, "una", pool_id=app.pool_id)
    field(page, "code").fill(code)
    button(page, "confirmSubmitButton").click()
    got = at_callback(page, app)
    assert got["state"] == state, "the authorize parameters survive sign-up and confirmation"
    claims = verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "una"})
    assert claims["email"] == "una@example.com" and claims["email_verified"] is True
    assert app.idp.admin_get_user(UserPoolId=app.pool_id, Username="una")["UserStatus"] == "CONFIRMED"


def test_forgot_password(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "fay")
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state))
    on_page(page, app, "/login")
    page.locator("#forgotPasswordLink").click()
    on_page(page, app, "/forgotPassword")
    sent_before = len(read_outbox(app.srv))
    field(page, "username").fill("fay")
    button(page, "resetSubmitButton").click()

    on_page(page, app, "/confirmForgotPassword")
    code = latest_code(app.srv, "fay", pool_id=app.pool_id, after=sent_before)
    field(page, "code").fill(code)
    field(page, "password").fill(NEW_PASSWORD)
    field(page, "confirm_password").fill(NEW_PASSWORD)
    button(page, "confirmResetSubmitButton").click()

    on_page(page, app, "/login")
    info = page.locator("#infoMessage")
    assert info.inner_text().strip().startswith("Your password has been reset")
    submit_login(page, "fay", PASSWORD)
    assert error_text(page) == "Incorrect username or password."
    submit_login(page, "fay", NEW_PASSWORD)
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "fay"})


# ---------------------------------------------------------------------------
# Host-name mode: the Host header picks the pool
# ---------------------------------------------------------------------------


def test_domain_by_host_name(page: Any, app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "hana")
    base = hosted_ui_host_base(app.srv, app.domain)
    state = secrets.token_urlsafe(8)
    page.goto(app.authorize_url("token", state=state, base=base))
    on_page(page, app, "/login", base=base)
    assert urlsplit(page.url).netloc == urlsplit(base).netloc
    submit_login(page, "hana", PASSWORD)
    got = at_callback(page, app)
    assert got["state"] == state
    verify_id_token(app.srv, app, got["id_token"], **{"cognito:username": "hana"})


# ---------------------------------------------------------------------------
# Plain HTTP checks of the pages' security contract
# ---------------------------------------------------------------------------


def test_post_without_matching_csrf_is_refused(app: HostedApp) -> None:
    create_confirmed_user(app.idp, app.pool_id, "cora")
    s = requests.Session()
    s.trust_env = False
    page = s.get(app.authorize_url("token", state="x"), timeout=10)
    assert page.status_code == 200 and urlsplit(page.url).path.endswith("/login")
    assert "XSRF-TOKEN" in s.cookies.get_dict(), s.cookies.get_dict()
    login_url = page.url
    creds = {"username": "cora", "password": PASSWORD}
    r = s.post(login_url, data={**creds, "_csrf": "forged"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    r = s.post(login_url, data=creds, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert "cognito" not in s.cookies.get_dict()


def test_authorize_errors_go_back_to_the_client(ui_server: CognateServer,
                                                callback_server: CallbackServer) -> None:
    app = create_hosted_app(ui_server, callback_server, flows=("code",))
    r = requests.get(app.authorize_url("token", state="st"), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    loc = urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == app.callback_url
    err = parse_qs(loc.fragment)
    assert err["error"] == ["unauthorized_client"] and err["state"] == ["st"]
    r = requests.get(app.authorize_url("code", state="st", scope="openid nope"), allow_redirects=False,
                     timeout=10)
    assert r.status_code == 302
    # Cognito's answer to a scope the client may not have.
    assert urlsplit(r.headers["Location"]).query == "error_description=invalid_scope&state=st&error=invalid_request"
    # PKCE: S256 only; plain, or a challenge without a method, goes back as invalid_request.
    for method in ("plain", None):
        extra = {"code_challenge": "a" * 43}
        if method:
            extra["code_challenge_method"] = method
        r = requests.get(app.authorize_url("code", state="pk", **extra), allow_redirects=False, timeout=10)
        assert r.status_code == 302
        err = parse_qs(urlsplit(r.headers["Location"]).query)
        assert err["error"] == ["invalid_request"] and err["state"] == ["pk"], method


# ---------------------------------------------------------------------------
# Branding: SetUICustomization's CSS and logo on the client's pages
# ---------------------------------------------------------------------------


def tiny_png(width: int = 8, height: int = 4, rgb: tuple[int, int, int] = (0, 128, 255)) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_branding_css_and_logo(page: Any, app: HostedApp, ui_server: CognateServer,
                               callback_server: CallbackServer) -> None:
    css = ".submitButton-customizable { background-color: #d13212; }"
    app.idp.set_ui_customization(UserPoolId=app.pool_id, ClientId=app.client_id, CSS=css,
                                 ImageFile=tiny_png(40, 20))
    got = app.idp.get_ui_customization(UserPoolId=app.pool_id, ClientId=app.client_id)["UICustomization"]
    assert got["CSS"] == css and got["ClientId"] == app.client_id

    page.goto(app.authorize_url("token", state="brand"))
    on_page(page, app, "/login")
    color = page.evaluate(
        "getComputedStyle(document.querySelector('button[name=signInSubmitButton]')).backgroundColor")
    assert color == "rgb(209, 50, 18)"
    logo = page.locator("img.logo-customizable").first
    logo.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", logo.element_handle()) == 40

    # Another app client keeps the default look.
    other = create_hosted_app(ui_server, callback_server)
    page.goto(other.authorize_url("token", state="plain"))
    on_page(page, other, "/login")
    assert page.evaluate(
        "getComputedStyle(document.querySelector('button[name=signInSubmitButton]')).backgroundColor"
    ) != "rgb(209, 50, 18)"

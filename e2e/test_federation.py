"""Sign-in through an external OpenID Connect provider, end to end: two real
`cognate serve` processes, the upstream one the OIDC provider (discovery,
authorize, token, JWKS, userInfo), the downstream pool configured with it by
its issuer only. Chromium clicks through the downstream login page's provider
button, the upstream's login page and back; the tokens at the client's
redirect URI are verified with PyJWT against the downstream JWKS."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from conftest import (
    PASSWORD,
    CallbackServer,
    CognateServer,
    HostedApp,
    create_confirmed_user,
    create_hosted_app,
    hosted_ui_base,
    make_boto_client,
    unique,
)


class Federation:
    def __init__(self, up: CognateServer, down: CognateServer, cb: CallbackServer) -> None:
        self.up, self.down = up, down
        self.app: HostedApp = create_hosted_app(down, cb)
        up_idp = make_boto_client(up)
        self.up_pool = up_idp.create_user_pool(PoolName=unique("upstream"))["UserPool"]["Id"]
        self.up_domain = unique("up")
        up_idp.create_user_pool_domain(UserPoolId=self.up_pool, Domain=self.up_domain)
        callback = f"{hosted_ui_base(down, self.app.domain)}/oauth2/idpresponse"
        client = up_idp.create_user_pool_client(
            UserPoolId=self.up_pool, ClientName="downstream", GenerateSecret=True,
            CallbackURLs=[callback], SupportedIdentityProviders=["COGNITO"],
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"])["UserPoolClient"]
        self.username = unique("carol")
        create_confirmed_user(up_idp, self.up_pool, self.username, email=f"{self.username}@example.org")
        self.up_sub = next(a["Value"] for a in up_idp.admin_get_user(
            UserPoolId=self.up_pool, Username=self.username)["UserAttributes"] if a["Name"] == "sub")
        idp = self.app.idp
        idp.create_identity_provider(
            UserPoolId=self.app.pool_id, ProviderName="Upstream", ProviderType="OIDC",
            ProviderDetails={"client_id": client["ClientId"], "client_secret": client["ClientSecret"],
                             "attributes_request_method": "GET",
                             "oidc_issuer": f"{up.url}/{self.up_pool}",
                             "authorize_scopes": "openid email profile"},
            AttributeMapping={"email": "email"})
        c = idp.describe_user_pool_client(UserPoolId=self.app.pool_id,
                                          ClientId=self.app.client_id)["UserPoolClient"]
        idp.update_user_pool_client(
            UserPoolId=self.app.pool_id, ClientId=self.app.client_id,
            CallbackURLs=c["CallbackURLs"], LogoutURLs=c["LogoutURLs"],
            SupportedIdentityProviders=["COGNITO", "Upstream"],
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=c["AllowedOAuthFlows"],
            AllowedOAuthScopes=c["AllowedOAuthScopes"], ExplicitAuthFlows=c["ExplicitAuthFlows"])

    def provider_redirect(self, http: requests.Session, **extra: str) -> str:
        r = http.get(self.app.authorize_url("code", identity_provider="Upstream", **extra),
                     allow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    def provider_answer(self, **extra: str) -> str:
        """Through the provider without a browser: the upstream's redirect back."""
        up = requests.Session()
        loc = self.provider_redirect(requests.Session(), **extra)
        r = up.get(loc, allow_redirects=False)
        login = up.get(f"{self.up.url}{r.headers['location']}" if r.headers["location"].startswith("/")
                       else r.headers["location"])
        csrf = up.cookies.get("XSRF-TOKEN")
        r = up.post(login.url, data={"_csrf": csrf, "username": self.username, "password": PASSWORD},
                    allow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]


@pytest.fixture
def fed(server: Callable[..., CognateServer], callback_server: CallbackServer) -> Federation:
    return Federation(server(), server(), callback_server)


def test_click_through_the_provider(fed: Federation, page: Any) -> None:
    app = fed.app
    page.goto(app.authorize_url("code", state="st-1", nonce="n-1"))
    page.locator("#idp-Upstream").click()
    page.wait_for_url(lambda url: url.startswith(fed.up.url) and "/login" in url)
    page.locator('input[name="username"]:visible').fill(fed.username)
    page.locator('input[name="password"]:visible').fill(PASSWORD)
    page.locator('button[name="signInSubmitButton"]').click()
    page.wait_for_url(lambda url: url.startswith(app.callback_url))
    q = parse_qs(urlsplit(page.url).query)
    assert q["state"] == ["st-1"]
    tokens = requests.post(app.token_url(), data={
        "grant_type": "authorization_code", "client_id": app.client_id,
        "redirect_uri": app.callback_url, "code": q["code"][0]}).json()
    jwks = jwt.PyJWKClient(f"{fed.down.url}/{app.pool_id}/.well-known/jwks.json")
    id_token = tokens["id_token"]
    claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key, algorithms=["RS256"],
                        audience=app.client_id, issuer=f"{fed.down.url}/{app.pool_id}")
    assert claims["cognito:username"] == f"Upstream_{fed.up_sub}"
    assert claims["nonce"] == "n-1"
    assert claims["email"] == f"{fed.username}@example.org"
    [identity] = claims["identities"]
    assert identity["userId"] == fed.up_sub
    assert identity["providerName"] == "Upstream"
    assert identity["providerType"] == "OIDC"
    user = app.idp.admin_get_user(UserPoolId=app.pool_id, Username=f"Upstream_{fed.up_sub}")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"


def test_bad_and_replayed_state(fed: Federation) -> None:
    base = hosted_ui_base(fed.down, fed.app.domain)
    r = requests.get(f"{base}/oauth2/idpresponse?code=x&state=forged", allow_redirects=False)
    assert r.status_code == 400
    back = fed.provider_answer()
    first = requests.get(back, allow_redirects=False)
    assert first.status_code == 302 and first.headers["location"].startswith(fed.app.callback_url)
    again = requests.get(back, allow_redirects=False)
    assert again.status_code == 400 and "location" not in again.headers


def test_provider_error_goes_back_to_the_client(fed: Federation) -> None:
    loc = fed.provider_redirect(requests.Session(), state="cs")
    state = parse_qs(urlsplit(loc).query)["state"][0]
    base = hosted_ui_base(fed.down, fed.app.domain)
    r = requests.get(f"{base}/oauth2/idpresponse",
                     params={"error": "access_denied", "error_description": "no", "state": state},
                     allow_redirects=False)
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["error"] == ["access_denied"] and q["state"] == ["cs"]


def test_linked_user_signs_in_as_the_native_user(fed: Federation) -> None:
    app = fed.app
    create_confirmed_user(app.idp, app.pool_id, "dave", email="dave@example.com")
    app.idp.admin_link_provider_for_user(
        UserPoolId=app.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "dave"},
        SourceUser={"ProviderName": "Upstream", "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": fed.up_sub})
    r = requests.get(fed.provider_answer(), allow_redirects=False)
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    tokens = requests.post(app.token_url(), data={
        "grant_type": "authorization_code", "client_id": app.client_id,
        "redirect_uri": app.callback_url, "code": code}).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["cognito:username"] == "dave"
    assert claims["identities"][0]["userId"] == fed.up_sub


def test_concurrent_first_sign_ins_create_one_user(fed: Federation) -> None:
    answers = [fed.provider_answer() for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda u: requests.get(u, allow_redirects=False), answers))
    assert all(r.status_code == 302 and "code=" in r.headers["location"] for r in results)
    users = fed.app.idp.list_users(UserPoolId=fed.app.pool_id)["Users"]
    assert [u["Username"] for u in users if u["Username"].startswith("Upstream_")] == \
        [f"Upstream_{fed.up_sub}"]

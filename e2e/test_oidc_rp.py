"""A standard OpenID Connect relying party against cognate, with no special
cases: Authlib's OAuth2Session does discovery-driven authorization with PKCE
S256, nonce and state, exchanges the code (client_secret_basic,
client_secret_post, or a public client), validates the ID token with Authlib's
JOSE against the JWKS (CodeIDToken: iss, aud, exp, iat, nonce, at_hash), calls
userInfo, refreshes and revokes. The person in the middle is plain HTTP: a
`requests` session that reads the login form (`_csrf` included) and posts the
credentials, as a browser without JavaScript."""

from __future__ import annotations

import time
import warnings
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError

with warnings.catch_warnings():
    # Authlib 1.6+ points new code at joserfc; authlib.jose stays its public API until 2.0.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt
    from authlib.jose.errors import JoseError
    from authlib.oidc.core import CodeIDToken

from conftest import PASSWORD, CallbackServer, CognateServer, create_confirmed_user, create_hosted_app

SCOPE = "openid email profile"


class _Forms(HTMLParser):
    """Every <form> of a page: its action, method and named inputs/buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "fields": {}, "buttons": set()})
        elif self.forms and tag in ("input", "button") and a.get("name"):
            if tag == "button" or a.get("type") == "submit":
                self.forms[-1]["buttons"].add(a["name"])
            else:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def form_with(html: str, button: str) -> dict[str, Any]:
    p = _Forms()
    p.feed(html)
    hits = [f for f in p.forms if button in f["buttons"]]
    assert hits, f"no form with a {button!r} button in the page:\n{html[:3000]}"
    return hits[0]


def login_by_http(authorization_url: str, callback_url: str, username: str, password: str) -> str:
    """What a browser without JavaScript does; returns the callback URL it lands on."""
    s = requests.Session()
    s.trust_env = False
    page = s.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text[:2000]
    assert urlsplit(page.url).path.endswith("/login"), page.url
    form = form_with(page.text, "signInSubmitButton")
    assert form["method"] == "post" and form["fields"].get("_csrf"), form
    data = {**form["fields"], "username": username, "password": password, "signInSubmitButton": "Sign in"}
    url = urljoin(page.url, form["action"] or page.url)
    r = s.post(url, data=data, allow_redirects=False, timeout=10)
    for _ in range(10):
        assert r.status_code in (301, 302, 303, 307), f"{r.status_code} from {r.url}:\n{r.text[:2000]}"
        location = urljoin(r.url, r.headers["Location"])
        if location.startswith(callback_url):
            return location
        r = s.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects before the callback")


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post", "none"])
def test_authlib_code_flow_pkce_userinfo_refresh_revoke(module_server: CognateServer,
                                                         callback_server: CallbackServer,
                                                         auth_method: str) -> None:
    """A confidential client authenticating by Basic header or in the body, and a
    public client (PKCE only)."""
    srv = module_server
    app = create_hosted_app(srv, callback_server, secret=auth_method != "none", flows=("code",))
    create_confirmed_user(app.idp, app.pool_id, "rp_user", email="rp_user@example.com")

    meta = requests.get(srv.discovery_url(app.pool_id), timeout=10).json()
    assert meta["issuer"] == srv.issuer(app.pool_id)
    # Cognito's document names no PKCE methods (it supports S256 only); Authlib is told S256.
    assert "code_challenge_methods_supported" not in meta
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "revocation_endpoint",
                "jwks_uri"):
        assert meta.get(key), f"discovery lacks {key}"

    client = OAuth2Session(app.client_id, app.client_secret, scope=SCOPE, redirect_uri=app.callback_url,
                           code_challenge_method="S256", token_endpoint_auth_method=auth_method,
                           revocation_endpoint_auth_method=auth_method)
    client.trust_env = False
    code_verifier, nonce = generate_token(48), generate_token(20)
    uri, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=code_verifier,
                                                 nonce=nonce)
    callback = login_by_http(uri, app.callback_url, "rp_user", PASSWORD)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    token = client.fetch_token(meta["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=code_verifier)
    assert token["token_type"] == "Bearer" and token.get("refresh_token")

    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())

    def validate(id_token: str, access_token: str, *, expect_nonce: bool) -> Any:
        claims = jwt.decode(
            id_token, jwks, claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
            claims_params={"client_id": app.client_id, "access_token": access_token,
                           **({"nonce": nonce} if expect_nonce else {})})
        claims.validate(now=int(time.time()))
        return claims

    claims = validate(token["id_token"], token["access_token"], expect_nonce=True)
    assert claims["nonce"] == nonce and claims["aud"] == app.client_id
    assert claims["cognito:username"] == "rp_user"
    # A tampered token does not pass.
    with pytest.raises(JoseError):
        head, body, sig = token["id_token"].split(".")
        validate(f"{head}.{body}.{sig[:-4]}AAAA", token["access_token"], expect_nonce=True)

    info = client.get(meta["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200, info.text
    user = info.json()
    assert user["sub"] == claims["sub"] and user["username"] == "rp_user"
    assert user["email"] == "rp_user@example.com"

    # Refresh: new access and ID tokens; Cognito keeps the same refresh token.
    refresh_token = token["refresh_token"]
    renewed = client.refresh_token(meta["token_endpoint"], refresh_token=refresh_token)
    assert renewed["access_token"] != token["access_token"]
    validate(renewed["id_token"], renewed["access_token"], expect_nonce=False)
    assert client.get(meta["userinfo_endpoint"], timeout=10).json()["sub"] == claims["sub"]

    # Revoke the refresh token: it no longer refreshes, and the access tokens it
    # issued stop working (Cognito's RevokeToken semantics).
    r = client.revoke_token(meta["revocation_endpoint"], token=refresh_token, token_type_hint="refresh_token")
    assert r.status_code == 200, r.text
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(meta["token_endpoint"], refresh_token=refresh_token)
    assert refused.value.error == "invalid_grant"
    denied = requests.get(meta["userinfo_endpoint"], timeout=10,
                          headers={"Authorization": f"Bearer {renewed['access_token']}"})
    assert denied.status_code == 401, denied.text

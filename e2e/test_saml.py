"""Sign-in through a SAML 2.0 identity provider, end to end: a real `cognate
serve`, a pool whose SAML provider is configured from the provider's metadata,
and a provider (e2e/saml_idp.py) that reads cognate's AuthnRequest from the
HTTP-Redirect binding and answers with a response signed by signxml (lxml's
canonicalization, independent of cognate's), posted back by the HTTP-POST
binding: by Chromium through the provider's auto-submitting form, and by
`requests` for the refusals."""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import html
import http.server
import threading
import urllib.parse
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import CallbackServer, CognateServer, HostedApp, create_hosted_app, hosted_ui_base
from saml_idp import SAML, SamlIdp, new_key_and_cert

PROVIDER = "Corp"
NAME_ID = "jane@corp.example"


class IdpServer:
    """The provider's single sign-on endpoint on 127.0.0.1: a GET with the
    redirect binding's SAMLRequest answers an HTML form that posts a signed
    response for NAME_ID to the request's AssertionConsumerServiceURL."""

    def __init__(self) -> None:
        outer = self
        self.requests: list[dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                location = f"http://127.0.0.1{self.path}"
                request, relay, query = SamlIdp.read_request(location)
                outer.requests.append({"request": request, "relay": relay, "query": query})
                acs = request.get("AssertionConsumerServiceURL")
                xml = outer.idp.response(
                    request_id=request.get("ID"), acs_url=acs,
                    audience=request.find(f"{{{SAML}}}Issuer").text, name_id=NAME_ID,
                    attributes={"email": [NAME_ID], "groups": ["staff", "admins"]})
                fields = "".join(
                    f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                    for k, v in SamlIdp.post_form(xml, relay).items())
                body = (f'<html><body onload="document.forms[0].submit()"><form method="post" '
                        f'action="{html.escape(acs)}">{fields}</form></body></html>').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.idp = SamlIdp(entity_id=f"{self.url}/metadata", sso_url=f"{self.url}/sso")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


class Saml:
    def __init__(self, srv: CognateServer, cb: CallbackServer, idp: IdpServer) -> None:
        self.srv, self.idp_server, self.idp = srv, idp, idp.idp
        self.app: HostedApp = create_hosted_app(
            srv, cb, Schema=[{"Name": "groups", "AttributeDataType": "String", "Mutable": True}])
        api = self.app.idp
        api.create_identity_provider(
            UserPoolId=self.app.pool_id, ProviderName=PROVIDER, ProviderType="SAML",
            ProviderDetails={"MetadataFile": self.idp.metadata()},
            AttributeMapping={"email": "email", "custom:groups": "groups"})
        c = api.describe_user_pool_client(UserPoolId=self.app.pool_id,
                                          ClientId=self.app.client_id)["UserPoolClient"]
        api.update_user_pool_client(
            UserPoolId=self.app.pool_id, ClientId=self.app.client_id,
            CallbackURLs=c["CallbackURLs"], LogoutURLs=c["LogoutURLs"],
            SupportedIdentityProviders=["COGNITO", PROVIDER],
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=c["AllowedOAuthFlows"],
            AllowedOAuthScopes=c["AllowedOAuthScopes"], ExplicitAuthFlows=c["ExplicitAuthFlows"])
        self.base = hosted_ui_base(srv, self.app.domain)
        self.acs = f"{self.base}/saml2/idpresponse"
        self.sp = f"urn:amazon:cognito:sp:{self.app.pool_id}"

    def begin(self, **extra: str):
        """The redirect to the provider: (AuthnRequest, RelayState, query)."""
        r = requests.get(self.app.authorize_url("code", identity_provider=PROVIDER, **extra),
                         allow_redirects=False)
        assert r.status_code == 302, r.text
        location = r.headers["location"]
        assert location.startswith(f"{self.idp_server.url}/sso?"), location
        return SamlIdp.read_request(location)

    def answer(self, xml: str, relay: str | None) -> requests.Response:
        return requests.post(self.acs, data=SamlIdp.post_form(xml, relay), allow_redirects=False)

    def response_for(self, request, **kw: Any) -> str:
        args = dict(request_id=request.get("ID"), acs_url=self.acs, audience=self.sp, name_id=NAME_ID,
                    attributes={"email": [NAME_ID], "groups": ["staff", "admins"]})
        args.update(kw)
        return self.idp.response(**args)

    def tokens(self, location: str) -> dict[str, Any]:
        assert location.startswith(self.app.callback_url), location
        code = parse_qs(urlsplit(location).query)["code"][0]
        r = requests.post(self.app.token_url(), data={
            "grant_type": "authorization_code", "client_id": self.app.client_id,
            "redirect_uri": self.app.callback_url, "code": code})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def idp_server() -> Iterator[IdpServer]:
    s = IdpServer()
    yield s
    s.close()


@pytest.fixture
def saml(server: Callable[..., CognateServer], callback_server: CallbackServer,
         idp_server: IdpServer) -> Saml:
    return Saml(server(), callback_server, idp_server)


def test_click_through_the_saml_provider(saml: Saml, page: Any) -> None:
    app = saml.app
    page.goto(app.authorize_url("code", state="st-9", nonce="n-9"))
    page.locator(f"#idp-{PROVIDER}").click()
    page.wait_for_url(lambda url: url.startswith(app.callback_url))
    q = parse_qs(urlsplit(page.url).query)
    assert q["state"] == ["st-9"]
    tokens = saml.tokens(page.url)
    jwks = jwt.PyJWKClient(f"{saml.srv.url}/{app.pool_id}/.well-known/jwks.json")
    id_token = tokens["id_token"]
    claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key, algorithms=["RS256"],
                        audience=app.client_id, issuer=f"{saml.srv.url}/{app.pool_id}")
    assert claims["cognito:username"] == f"{PROVIDER}_{NAME_ID}"
    assert claims["nonce"] == "n-9"
    assert claims["email"] == NAME_ID
    assert claims["custom:groups"] == "[staff, admins]"
    [identity] = claims["identities"]
    assert identity["userId"] == NAME_ID
    assert identity["providerName"] == PROVIDER
    assert identity["providerType"] == "SAML"
    user = app.idp.admin_get_user(UserPoolId=app.pool_id, Username=f"{PROVIDER}_{NAME_ID}")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    # What the provider was asked.
    request = saml.idp_server.requests[-1]["request"]
    assert request.get("Destination") == f"{saml.idp_server.url}/sso"
    assert request.get("AssertionConsumerServiceURL") == saml.acs
    assert request.find(f"{{{SAML}}}Issuer").text == saml.sp
    assert "Signature" not in saml.idp_server.requests[-1]["query"]


def test_the_authn_request_is_signed_with_the_pools_signing_certificate(saml: Saml) -> None:
    api = saml.app.idp
    api.update_identity_provider(
        UserPoolId=saml.app.pool_id, ProviderName=PROVIDER,
        ProviderDetails={"MetadataFile": saml.idp.metadata(), "RequestSigningAlgorithm": "rsa-sha256"})
    r = requests.get(saml.app.authorize_url("code", identity_provider=PROVIDER), allow_redirects=False)
    raw_query = urlsplit(r.headers["location"]).query
    parts = dict(p.split("=", 1) for p in raw_query.split("&"))
    assert urllib.parse.unquote(parts["SigAlg"]) == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    signed = f"SAMLRequest={parts['SAMLRequest']}&RelayState={parts['RelayState']}&SigAlg={parts['SigAlg']}"
    pem = api.get_signing_certificate(UserPoolId=saml.app.pool_id)["Certificate"]
    cert = x509.load_der_x509_certificate(base64.b64decode(pem))
    cert.public_key().verify(base64.b64decode(urllib.parse.unquote(parts["Signature"])),
                             signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    # The signed request still signs in.
    request, relay, _ = SamlIdp.read_request(r.headers["location"])
    back = saml.answer(saml.response_for(request), relay)
    assert saml.tokens(back.headers["location"])["id_token"]


@pytest.mark.parametrize("sign", ["response", "both"])
def test_a_signed_response_signs_in(saml: Saml, sign: str) -> None:
    request, relay, _ = saml.begin(state="s1")
    r = saml.answer(saml.response_for(request, sign=sign), relay)
    assert r.status_code == 302, r.text
    claims = jwt.decode(saml.tokens(r.headers["location"])["id_token"], options={"verify_signature": False})
    assert claims["cognito:username"] == f"{PROVIDER}_{NAME_ID}"


def test_forged_or_foreign_responses_go_back_to_the_client_as_errors(saml: Saml) -> None:
    cases = {
        "unsigned": lambda req: saml.response_for(req, sign=None),
        "another key": lambda req: saml.response_for(req, key=new_key_and_cert("x")[0],
                                                     cert=new_key_and_cert("x")[1]),
        "changed name": lambda req: saml.response_for(req).replace(NAME_ID, "admin@corp.example"),
        "another audience": lambda req: saml.response_for(req, audience="urn:amazon:cognito:sp:other"),
        "another request": lambda req: saml.response_for(req, request_id="_someone_else"),
        "another issuer": lambda req: saml.response_for(req, issuer="https://evil.example"),
    }
    for name, make in cases.items():
        request, relay, _ = saml.begin(state="cs")
        r = saml.answer(make(request), relay)
        assert r.status_code == 302, (name, r.text)
        assert r.headers["location"].startswith(saml.app.callback_url), name
        q = parse_qs(urlsplit(r.headers["location"]).query)
        assert q["error"] == ["invalid_request"], (name, q)
        assert q["state"] == ["cs"], name
        assert "code" not in q, name
    users = saml.app.idp.list_users(UserPoolId=saml.app.pool_id)["Users"]
    assert users == []


def test_the_providers_refusal_goes_back_to_the_client(saml: Saml) -> None:
    request, relay, _ = saml.begin(state="cs")
    xml = saml.response_for(request, sign="response", status="urn:oasis:names:tc:SAML:2.0:status:Requester")
    q = parse_qs(urlsplit(saml.answer(xml, relay).headers["location"]).query)
    assert q["error"] == ["invalid_request"] and "Requester" in q["error_description"][0]


def test_a_response_is_used_once_and_needs_its_relay_state(saml: Saml) -> None:
    request, relay, _ = saml.begin()
    xml = saml.response_for(request)
    first = saml.answer(xml, relay)
    assert first.status_code == 302 and "code=" in first.headers["location"]
    again = saml.answer(xml, relay)
    assert again.status_code == 400 and "location" not in again.headers
    # IdP-initiated (no RelayState) and forged states are pages, not sign-ins.
    request, _, _ = saml.begin()
    assert saml.answer(saml.response_for(request), None).status_code == 400
    assert saml.answer(saml.response_for(request), "forged").status_code == 400
    assert requests.post(saml.acs, data={"RelayState": "x", "SAMLResponse": "a" * (600 * 1024)},
                         allow_redirects=False).status_code == 400


def test_concurrent_first_sign_ins_create_one_user(saml: Saml) -> None:
    answers = []
    for _ in range(16):
        request, relay, _ = saml.begin()
        answers.append((saml.response_for(request), relay))
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda a: saml.answer(*a), answers))
    assert all(r.status_code == 302 and "code=" in r.headers["location"] for r in results)
    users = saml.app.idp.list_users(UserPoolId=saml.app.pool_id)["Users"]
    assert [u["Username"] for u in users] == [f"{PROVIDER}_{NAME_ID}"]


@pytest.mark.parametrize("cipher", ["aes128-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm"])
def test_encrypted_assertions_are_read_with_the_providers_encryption_certificate(
        saml: Saml, cipher: str) -> None:
    api = saml.app.idp
    described = api.describe_identity_provider(
        UserPoolId=saml.app.pool_id, ProviderName=PROVIDER)["IdentityProvider"]["ProviderDetails"]
    cert = described["ActiveEncryptionCertificate"]
    # Not asked for: an encrypted assertion is refused.
    request, relay, _ = saml.begin(state="cs")
    r = saml.answer(saml.response_for(request, encrypt_for=cert, cipher=cipher), relay)
    assert parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["invalid_request"]
    api.update_identity_provider(
        UserPoolId=saml.app.pool_id, ProviderName=PROVIDER,
        ProviderDetails={"MetadataFile": saml.idp.metadata(), "EncryptedResponses": "true"})
    updated = api.describe_identity_provider(
        UserPoolId=saml.app.pool_id, ProviderName=PROVIDER)["IdentityProvider"]["ProviderDetails"]
    assert updated["ActiveEncryptionCertificate"] == cert
    assert updated["EncryptedResponses"] == "true"
    for sign in ("assertion", "response"):
        request, relay, _ = saml.begin()
        r = saml.answer(saml.response_for(request, sign=sign, encrypt_for=cert, cipher=cipher), relay)
        assert r.status_code == 302, r.text
        claims = jwt.decode(saml.tokens(r.headers["location"])["id_token"],
                            options={"verify_signature": False})
        assert claims["cognito:username"] == f"{PROVIDER}_{NAME_ID}"
        assert claims["custom:groups"] == "[staff, admins]"
    # Asked for: a plain assertion, or one encrypted for another key, is refused.
    other_cert = new_key_and_cert("other sp")[1]
    other = base64.b64encode(other_cert.public_bytes(serialization.Encoding.DER)).decode()
    for xml in (lambda req: saml.response_for(req),
                lambda req: saml.response_for(req, encrypt_for=other, cipher=cipher)):
        request, relay, _ = saml.begin(state="cs")
        r = saml.answer(xml(request), relay)
        q = parse_qs(urlsplit(r.headers["location"]).query)
        assert q["error"] == ["invalid_request"] and "code" not in q


def test_idp_initiated_sign_in_is_taken_once_from_a_provider_that_allows_it(saml: Saml) -> None:
    api, app = saml.app.idp, saml.app
    relay = urllib.parse.urlencode({
        "identity_provider": PROVIDER, "client_id": app.client_id, "redirect_uri": app.callback_url,
        "response_type": "code", "scope": "openid email"})

    def unsolicited(**kw: Any) -> str:
        args = dict(request_id=None, acs_url=saml.acs, audience=saml.sp, name_id=NAME_ID,
                    attributes={"email": [NAME_ID]})
        args.update(kw)
        return saml.idp.response(**args)

    def error_of(r: requests.Response) -> list[str]:
        assert r.status_code == 302, r.text
        assert r.headers["location"].startswith(app.callback_url), r.headers["location"]
        return parse_qs(urlsplit(r.headers["location"]).query).get("error", [])

    # Not allowed by the provider yet.
    assert error_of(saml.answer(unsolicited(), relay)) == ["invalid_request"]
    api.update_identity_provider(
        UserPoolId=app.pool_id, ProviderName=PROVIDER,
        ProviderDetails={"MetadataFile": saml.idp.metadata(), "IDPInit": "true"})
    # Allowed by the provider, but the client also supports COGNITO.
    assert error_of(saml.answer(unsolicited(), relay)) == ["invalid_request"]
    c = api.describe_user_pool_client(UserPoolId=app.pool_id, ClientId=app.client_id)["UserPoolClient"]
    settings = dict(UserPoolId=app.pool_id, ClientId=app.client_id, CallbackURLs=c["CallbackURLs"],
                    LogoutURLs=c["LogoutURLs"], AllowedOAuthFlowsUserPoolClient=True,
                    AllowedOAuthFlows=c["AllowedOAuthFlows"], AllowedOAuthScopes=c["AllowedOAuthScopes"],
                    ExplicitAuthFlows=c["ExplicitAuthFlows"])
    with pytest.raises(api.exceptions.InvalidParameterException):
        api.update_user_pool_client(SupportedIdentityProviders=["COGNITO", PROVIDER], **settings)
    api.update_user_pool_client(SupportedIdentityProviders=[PROVIDER], **settings)

    xml = unsolicited()
    first = saml.answer(xml, relay)
    assert error_of(first) == []
    claims = jwt.decode(saml.tokens(first.headers["location"])["id_token"],
                        options={"verify_signature": False})
    assert claims["cognito:username"] == f"{PROVIDER}_{NAME_ID}"
    # The same assertion again, and one answering a request, or issued
    # seven minutes ago (still within its own validity), are refused.
    assert error_of(saml.answer(xml, relay)) == ["invalid_request"]
    assert error_of(saml.answer(unsolicited(request_id="_ours"), relay)) == ["invalid_request"]
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=7)
    assert error_of(saml.answer(unsolicited(now=old, lifetime=datetime.timedelta(minutes=10)),
                                relay)) == ["invalid_request"]
    # One fresh assertion posted 24 times at once signs in once.
    xml = unsolicited()
    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        results = list(pool.map(lambda _: saml.answer(xml, relay), range(24)))
    codes = [r for r in results if "code=" in r.headers.get("location", "")]
    assert len(codes) == 1, [r.headers.get("location") for r in results]
    # SP-initiated sign-in through the provider still works.
    request, state, _ = saml.begin()
    assert error_of(saml.answer(saml.response_for(request), state)) == []


def test_sign_out_at_the_provider_where_idp_signout_is_on(saml: Saml) -> None:
    app, api = saml.app, saml.app.idp
    base = saml.base

    def signed_in_browser() -> requests.Session:
        browser = requests.Session()
        r = browser.get(app.authorize_url("code", identity_provider=PROVIDER), allow_redirects=False)
        request, relay, _ = SamlIdp.read_request(r.headers["location"])
        r = browser.post(saml.acs, data=SamlIdp.post_form(saml.response_for(request), relay),
                         allow_redirects=False)
        assert r.headers["location"].startswith(app.callback_url)
        return browser

    logout = {"client_id": app.client_id, "logout_uri": app.signout_url}
    # Without IDPSignout, /logout goes straight to the logout_uri.
    r = signed_in_browser().get(f"{base}/logout", params=logout, allow_redirects=False)
    assert r.headers["location"] == app.signout_url
    api.update_identity_provider(
        UserPoolId=app.pool_id, ProviderName=PROVIDER,
        ProviderDetails={"MetadataFile": saml.idp.metadata(), "IDPSignout": "true"})
    browser = signed_in_browser()
    r = browser.get(f"{base}/logout", params=logout, allow_redirects=False)
    location = r.headers["location"]
    assert location.startswith(f"{saml.idp_server.url}/sso/slo?"), location
    request, relay, query = SamlIdp.read_request(location)
    assert request.tag.endswith("LogoutRequest")
    assert request.find(f"{{{SAML}}}NameID").text == NAME_ID
    assert request.find(f"{{{SAML}}}Issuer").text == saml.sp
    assert request.find("{urn:oasis:names:tc:SAML:2.0:protocol}SessionIndex").text
    # Signed with the pool's signing certificate.
    raw = dict(p.split("=", 1) for p in urlsplit(location).query.split("&"))
    signed = f"SAMLRequest={raw['SAMLRequest']}&RelayState={raw['RelayState']}&SigAlg={raw['SigAlg']}"
    pem = api.get_signing_certificate(UserPoolId=app.pool_id)["Certificate"]
    x509.load_der_x509_certificate(base64.b64decode(pem)).public_key().verify(
        base64.b64decode(urllib.parse.unquote(raw["Signature"])), signed.encode(),
        padding.PKCS1v15(), hashes.SHA256())
    # The session is gone at once; the provider's answer leads to the logout_uri, once.
    r = browser.get(app.authorize_url("code"), allow_redirects=False)
    assert r.status_code == 200 or "/login" in r.headers.get("location", "")
    answer = {"SAMLResponse": saml.idp.logout_response(request), "RelayState": relay}
    back = requests.get(f"{base}/saml2/logout", params=answer, allow_redirects=False)
    assert back.status_code == 302 and back.headers["location"] == app.signout_url
    again = requests.get(f"{base}/saml2/logout", params=answer, allow_redirects=False)
    assert again.status_code == 400

"""Passkeys with a real browser: Debian's Chromium, headless, with a CDP virtual
authenticator (CTAP2, internal transport, resident keys, user verification),
creates a credential with navigator.credentials.create from the options of
StartWebAuthnRegistration (boto3), on a page of the server's own origin. The
relying party is `localhost` (browsers refuse IP addresses as relying party
ids, and treat http://localhost as a secure context); CompleteWebAuthnRegistration
with the browser's answer succeeds and ListWebAuthnCredentials shows the passkey;
`cognate export` / `cognate import` carry it to another database.
The sign-in half: boto3 InitiateAuth USER_AUTH gets the WEB_AUTHN challenge's
CREDENTIAL_REQUEST_OPTIONS, the page answers them with navigator.credentials.get,
and RespondToAuthChallenge with that AuthenticationResponseJSON returns tokens
that verify against the pool's JWKS. And on a managed login domain, the hosted
login page's "Sign in with a passkey" signs the browser in with the same passkey."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from conftest import (
    PASSWORD,
    CallbackServer,
    CognateServer,
    create_confirmed_user,
    create_hosted_app,
    make_boto_client,
    unique,
)

# Turns the JSON options (base64url strings) into the browser's types, creates the
# credential and answers a RegistrationResponseJSON (WebAuthn Level 3 §5.1.8).
CREATE_JS = """
async (options) => {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
  const publicKey = {
    ...options,
    challenge: bytes(options.challenge),
    user: {...options.user, id: bytes(options.user.id)},
    excludeCredentials: (options.excludeCredentials || []).map(c => ({...c, id: bytes(c.id)})),
  };
  try {
    const cred = await navigator.credentials.create({publicKey});
    return {
      id: cred.id,
      rawId: b64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: {
        clientDataJSON: b64(cred.response.clientDataJSON),
        attestationObject: b64(cred.response.attestationObject),
        transports: cred.response.getTransports(),
      },
    };
  } catch (e) {
    return {error: e.name, message: e.message};
  }
}
"""

# Answers CREDENTIAL_REQUEST_OPTIONS with navigator.credentials.get and returns an
# AuthenticationResponseJSON (WebAuthn Level 3 §5.1.9), as amazon-cognito libraries send it.
GET_JS = """
async (options) => {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
  const publicKey = {
    ...options,
    challenge: bytes(options.challenge),
    allowCredentials: (options.allowCredentials || []).map(c => ({...c, id: bytes(c.id)})),
  };
  try {
    const cred = await navigator.credentials.get({publicKey});
    return {
      id: cred.id,
      rawId: b64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: {
        clientDataJSON: b64(cred.response.clientDataJSON),
        authenticatorData: b64(cred.response.authenticatorData),
        signature: b64(cred.response.signature),
        userHandle: cred.response.userHandle ? b64(cred.response.userHandle) : undefined,
      },
    };
  } catch (e) {
    return {error: e.name, message: e.message};
  }
}
"""

VIRTUAL_AUTHENTICATOR = {"options": {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}}


@pytest.fixture(scope="module")
def srv(module_server: CognateServer) -> CognateServer:
    return module_server


def passkey_user(srv: CognateServer, flows: list[str] | None = None) -> tuple[Any, str, str]:
    """A pool offering passkeys with relying party `localhost` (user verification
    required), a client and a signed-in user: (boto3 client, pool id, access token)."""
    idp, pool, _client, token = passkey_user_client(srv, flows)
    return idp, pool, token


def passkey_user_client(srv: CognateServer, flows: list[str] | None = None) -> tuple[Any, str, str, str]:
    """As passkey_user, with the client id: (boto3 client, pool id, client id, access token)."""
    idp = make_boto_client(srv)
    pool = idp.create_user_pool(
        PoolName=unique("passkeys"),
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}},
    )["UserPool"]["Id"]
    config = idp.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "localhost", "UserVerification": "required"},
    )
    assert config["WebAuthnConfiguration"] == {"RelyingPartyId": "localhost", "UserVerification": "required"}
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web",
        ExplicitAuthFlows=flows or ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    token = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    return idp, pool, client, token


def test_chromium_registers_a_passkey_with_a_virtual_authenticator(srv: CognateServer, page: Any) -> None:
    idp, _pool, token = passkey_user(srv)
    # A page of the server's origin under the name the relying party id allows.
    page.goto(f"http://localhost:{srv.port}/health")
    assert page.evaluate("window.isSecureContext") is True
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})

    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    assert options["rp"] == {"id": "localhost", "name": "localhost"}
    credential = page.evaluate(CREATE_JS, options)
    assert "error" not in credential, credential
    assert credential["response"]["transports"] == ["internal"]

    idp.complete_web_authn_registration(AccessToken=token, Credential=credential)
    listed = idp.list_web_authn_credentials(AccessToken=token)["Credentials"]
    assert [c["CredentialId"] for c in listed] == [credential["id"]]
    assert listed[0]["RelyingPartyId"] == "localhost"
    assert listed[0]["AuthenticatorAttachment"] == "platform"
    assert listed[0]["AuthenticatorTransports"] == ["internal"]

    # The same answer again: its challenge was used.
    with pytest.raises(idp.exceptions.WebAuthnChallengeNotFoundException):
        idp.complete_web_authn_registration(AccessToken=token, Credential=credential)

    # The next options exclude the passkey: the authenticator refuses to make a second.
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    assert options["excludeCredentials"] == [{"id": credential["id"], "type": "public-key"}]
    again = page.evaluate(CREATE_JS, options)
    assert again.get("error") == "InvalidStateError", again

    # Deleted, it is gone; a new one can be made.
    idp.delete_web_authn_credential(AccessToken=token, CredentialId=credential["id"])
    assert idp.list_web_authn_credentials(AccessToken=token)["Credentials"] == []
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_web_authn_credential(AccessToken=token, CredentialId=credential["id"])


def test_chromium_signs_in_with_its_passkey_through_user_auth(srv: CognateServer, page: Any) -> None:
    """Register a passkey, then sign in with it: InitiateAuth USER_AUTH (boto3) →
    WEB_AUTHN with CREDENTIAL_REQUEST_OPTIONS → navigator.credentials.get in the page →
    RespondToAuthChallenge → tokens that verify against the pool's JWKS."""
    idp, pool, client, token = passkey_user_client(
        srv, ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    page.goto(f"http://localhost:{srv.port}/health")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", VIRTUAL_AUTHENTICATOR)
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    credential = page.evaluate(CREATE_JS, options)
    assert "error" not in credential, credential
    idp.complete_web_authn_registration(AccessToken=token, Credential=credential)
    assert idp.get_user_auth_factors(AccessToken=token)["ConfiguredUserAuthFactors"] == ["PASSWORD", "WEB_AUTHN"]

    started = idp.initiate_auth(
        ClientId=client, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"},
    )
    assert started["ChallengeName"] == "WEB_AUTHN"
    request = json.loads(started["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    assert request["rpId"] == "localhost" and request["userVerification"] == "required"
    assert [c["id"] for c in request["allowCredentials"]] == [credential["id"]]
    assertion = page.evaluate(GET_JS, request)
    assert "error" not in assertion, assertion

    done = idp.respond_to_auth_challenge(
        ClientId=client, ChallengeName="WEB_AUTHN", Session=started["Session"],
        ChallengeResponses={"USERNAME": "alice", "CREDENTIAL": json.dumps(assertion)},
    )
    tokens = done["AuthenticationResult"]
    keys = jwt.PyJWKClient(srv.jwks_url(pool))
    issuer = srv.issuer(pool)
    id_claims = jwt.decode(tokens["IdToken"], keys.get_signing_key_from_jwt(tokens["IdToken"]).key,
                           algorithms=["RS256"], audience=client, issuer=issuer)
    assert id_claims["cognito:username"] == "alice" and id_claims["token_use"] == "id"
    access = jwt.decode(tokens["AccessToken"], keys.get_signing_key_from_jwt(tokens["AccessToken"]).key,
                        algorithms=["RS256"], issuer=issuer, options={"verify_aud": False})
    assert access["client_id"] == client and access["username"] == "alice"
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"

    # The same answer again: its session was used.
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.respond_to_auth_challenge(
            ClientId=client, ChallengeName="WEB_AUTHN", Session=started["Session"],
            ChallengeResponses={"USERNAME": "alice", "CREDENTIAL": json.dumps(assertion)},
        )
    # Through SELECT_CHALLENGE, a second sign-in (the counter moves on).
    selected = idp.initiate_auth(ClientId=client, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    assert selected["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]
    started = idp.respond_to_auth_challenge(
        ClientId=client, ChallengeName="SELECT_CHALLENGE", Session=selected["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "WEB_AUTHN"},
    )
    assertion = page.evaluate(GET_JS, json.loads(started["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]))
    done = idp.respond_to_auth_challenge(
        ClientId=client, ChallengeName="WEB_AUTHN", Session=started["Session"],
        ChallengeResponses={"USERNAME": "alice", "CREDENTIAL": json.dumps(assertion)},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_a_browser_on_another_origin_is_refused(srv: CognateServer, page: Any) -> None:
    """The relying party `localhost` with a page on 127.0.0.1: the browser itself
    refuses (an IP address is not a registrable suffix of `localhost`)."""
    idp, _pool, token = passkey_user(srv)
    page.goto(f"{srv.url}/health")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    answer = page.evaluate(CREATE_JS, options)
    assert answer.get("error") == "SecurityError", answer
    assert idp.list_web_authn_credentials(AccessToken=token)["Credentials"] == []


def test_passkeys_move_with_export_and_import(server: Any, page: Any, tmp_path: Any) -> None:
    """`cognate export` / `cognate import` carry a user's passkeys and the pool's
    WebAuthnConfiguration."""
    import subprocess

    from conftest import cognate_bin, store_args

    src = server()
    idp, pool, token = passkey_user(src)
    page.goto(f"http://localhost:{src.port}/health")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    credential = page.evaluate(CREATE_JS, options)
    idp.complete_web_authn_registration(AccessToken=token, Credential=credential)
    before = idp.list_web_authn_credentials(AccessToken=token)["Credentials"]

    dump = tmp_path / "dump.jsonl"
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(cognate_bin()), *args], capture_output=True, text=True, timeout=120)

    done = run("export", *store_args(src), "--output", str(dump))
    assert done.returncode == 0, done.stderr
    dst = server(start=False)
    dst.port, dst.url, dst.public_url = src.port, src.url, src.public_url
    done = run("import", str(dump), *store_args(dst))
    assert done.returncode == 0 and "0 record(s) skipped" in done.stderr, done.stderr
    src.stop()
    dst.start()
    idp = make_boto_client(dst)
    assert idp.list_web_authn_credentials(AccessToken=token)["Credentials"] == before
    config = idp.get_user_pool_mfa_config(UserPoolId=pool)["WebAuthnConfiguration"]
    assert config == {"RelyingPartyId": "localhost", "UserVerification": "required"}


def test_managed_login_page_signs_in_with_a_passkey(srv: CognateServer, page: Any,
                                                     callback_server: CallbackServer) -> None:
    """A managed login domain (ManagedLoginVersion 2) offers passkey sign-in to a
    client allowing USER_AUTH: the person types the username, chooses "Sign in with
    a passkey", the page's script asks the (virtual) authenticator, and the browser
    lands on the callback with a code that the token endpoint exchanges for alice's
    tokens."""
    app = create_hosted_app(
        srv, callback_server, auth_flows=("ALLOW_USER_AUTH",),
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}})
    idp = app.idp
    idp.set_user_pool_mfa_config(
        UserPoolId=app.pool_id, MfaConfiguration="OFF",
        WebAuthnConfiguration={"RelyingPartyId": "localhost", "UserVerification": "required"})
    idp.update_user_pool_domain(UserPoolId=app.pool_id, Domain=app.domain, ManagedLoginVersion=2)
    create_confirmed_user(idp, app.pool_id, "alice")
    token = idp.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    page.goto(f"http://localhost:{srv.port}/health")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", VIRTUAL_AUTHENTICATOR)
    credential = page.evaluate(CREATE_JS, idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"])
    assert "error" not in credential, credential
    idp.complete_web_authn_registration(AccessToken=token, Credential=credential)

    base = f"http://localhost:{srv.port}/domains/{app.domain}"
    page.goto(app.authorize_url("code", base=base, state="passkey-state"))
    page.locator("#codeSignInUsername").fill("alice")
    page.locator("#codeSignIn-WEB_AUTHN").click()
    page.wait_for_url(lambda url: url.startswith(app.callback_url), timeout=15_000)
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["passkey-state"], page.url
    exchanged = requests.post(f"{base}/oauth2/token", data={
        "grant_type": "authorization_code", "client_id": app.client_id,
        "redirect_uri": app.callback_url, "code": query["code"][0]}, timeout=10)
    assert exchanged.status_code == 200, exchanged.text
    claims = jwt.decode(exchanged.json()["id_token"], options={"verify_signature": False})
    assert claims["cognito:username"] == "alice"
    # The browser's session is open: the next authorization needs no sign-in.
    page.goto(app.authorize_url("code", base=base, state="again"))
    page.wait_for_url(lambda url: url.startswith(app.callback_url), timeout=15_000)

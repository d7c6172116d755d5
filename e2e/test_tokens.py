"""ID and access tokens verified as a backend would: PyJWT against the pool's JWKS."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    PASSWORD, UUID_RE, CognateServer, create_confirmed_user, create_pool_and_client,
    error_code, make_boto_client,
)

USERNAME = "joe_bloggs"
EMAIL = "joe@example.com"


@pytest.fixture(scope="module")
def env(module_server: CognateServer) -> dict:
    """One pool, one user, one sign-in, then (a second later) one refresh."""
    idp = make_boto_client(module_server)
    pool_id, client_id = create_pool_and_client(idp)
    create_confirmed_user(idp, pool_id, USERNAME, email=EMAIL)
    before = int(time.time())
    login = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )
    after = int(time.time())
    time.sleep(1.1)  # so that a refreshed token's iat differs from auth_time
    refresh = idp.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": login["AuthenticationResult"]["RefreshToken"]},
    )
    issuer = module_server.issuer(pool_id)
    return {
        "srv": module_server, "idp": idp, "pool_id": pool_id, "client_id": client_id,
        "issuer": issuer, "jwks_url": module_server.jwks_url(pool_id),
        "login": login["AuthenticationResult"], "refresh": refresh["AuthenticationResult"],
        "before": before, "after": after,
    }


def verify(env: dict, token: str, *, audience: str | None = None) -> dict:
    """What a backend does: key by kid from the JWKS, RS256 only, iss (+aud) checked."""
    key = jwt.PyJWKClient(env["jwks_url"]).get_signing_key_from_jwt(token)
    kw: dict = {"algorithms": ["RS256"], "issuer": env["issuer"],
                "options": {"require": ["exp", "iat", "iss", "sub"]}}
    if audience is not None:
        kw["audience"] = audience
    return jwt.decode(token, key.key, **kw)


def segment_json(token: str, i: int) -> dict:
    seg = token.split(".")[i]
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


def jwks(env: dict) -> dict:
    r = requests.get(env["jwks_url"], timeout=5)
    assert r.status_code == 200, f"GET {env['jwks_url']} -> {r.status_code}: {r.text[:300]}"
    return r.json()


def assert_common_claims(c: dict, env: dict, kind: str) -> None:
    assert UUID_RE.match(c.get("sub", "")), f"{kind}: sub is not a UUID: {c.get('sub')!r}"
    assert c["iss"] == env["issuer"], f"{kind}: iss {c['iss']!r} != {env['issuer']!r}"
    for name in ("auth_time", "iat", "exp"):
        assert type(c.get(name)) is int, f"{kind}: {name} must be an integer NumericDate: {c.get(name)!r}"
    assert env["before"] - 1 <= c["auth_time"] <= env["after"] + 1, f"{kind}: auth_time not the sign-in time: {c}"
    assert c["exp"] - c["iat"] == 3600, f"{kind}: exp - iat = {c['exp'] - c['iat']}, default validity is 3600 s"
    for name in ("jti", "origin_jti", "event_id"):
        assert UUID_RE.match(str(c.get(name, ""))), f"{kind}: {name} is not a UUID: {c.get(name)!r}"


def test_headers_have_kid_and_rs256(env: dict) -> None:
    for kind in ("IdToken", "AccessToken"):
        header = jwt.get_unverified_header(env["login"][kind])
        assert header.get("alg") == "RS256", f"{kind} header: {header}"
        assert isinstance(header.get("kid"), str) and header["kid"], f"{kind} header: {header}"


def test_id_token_claims(env: dict) -> None:
    token = env["login"]["IdToken"]
    c = verify(env, token, audience=env["client_id"])
    assert_common_claims(c, env, "id token")
    assert c["aud"] == env["client_id"], c
    assert c["token_use"] == "id", c
    assert c["cognito:username"] == USERNAME, c
    assert c["email"] == EMAIL, c
    assert c["email_verified"] is True, f"email_verified must be a JSON boolean, got {c.get('email_verified')!r}"
    for absent in ("client_id", "scope", "username", "cognito:groups"):
        assert absent not in c, f"id token should not carry {absent!r}: {c}"
    user = env["idp"].admin_get_user(UserPoolId=env["pool_id"], Username=USERNAME)
    sub = {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]
    assert c["sub"] == sub, "id token sub != the user's sub attribute"


def test_access_token_claims(env: dict) -> None:
    token = env["login"]["AccessToken"]
    c = verify(env, token)  # PyJWT also raises if an aud claim is present and no audience given
    assert_common_claims(c, env, "access token")
    assert "aud" not in c, f"access tokens have no aud claim: {c}"
    assert c["client_id"] == env["client_id"], c
    assert c["token_use"] == "access", c
    assert c["scope"] == "aws.cognito.signin.user.admin", c
    assert c["username"] == USERNAME, c
    for absent in ("email", "email_verified", "cognito:username"):
        assert absent not in c, f"access token should not carry {absent!r}: {c}"


def test_id_and_access_token_belong_to_one_sign_in(env: dict) -> None:
    idc = segment_json(env["login"]["IdToken"], 1)
    acc = segment_json(env["login"]["AccessToken"], 1)
    assert idc["sub"] == acc["sub"]
    assert idc["origin_jti"] == acc["origin_jti"], "ID and access token of one sign-in share origin_jti"
    assert idc["event_id"] == acc["event_id"], "ID and access token of one sign-in share event_id"
    assert idc["jti"] != acc["jti"], "every token has its own jti"
    assert idc["auth_time"] == acc["auth_time"]


def test_refresh_keeps_origin(env: dict) -> None:
    login, refresh = env["login"], env["refresh"]
    assert "RefreshToken" not in refresh, f"REFRESH_TOKEN_AUTH returned a RefreshToken: {sorted(refresh)}"
    assert refresh.get("ExpiresIn") == 3600 and refresh.get("TokenType") == "Bearer", refresh
    for kind, aud in (("IdToken", env["client_id"]), ("AccessToken", None)):
        old = verify(env, login[kind], audience=aud)
        new = verify(env, refresh[kind], audience=aud)
        assert new["jti"] != old["jti"], f"refreshed {kind} must have a new jti"
        assert new["origin_jti"] == old["origin_jti"], f"refreshed {kind} keeps origin_jti"
        assert new["auth_time"] == old["auth_time"], f"refreshed {kind} keeps auth_time"
        assert new["iat"] > new["auth_time"], f"refreshed {kind} iat should be the refresh time: {new}"
        assert new["sub"] == old["sub"] and new["token_use"] == old["token_use"]
    assert env["idp"].get_user(AccessToken=refresh["AccessToken"])["Username"] == USERNAME


def test_id_and_access_tokens_use_different_published_keys(env: dict) -> None:
    id_kid = jwt.get_unverified_header(env["login"]["IdToken"])["kid"]
    access_kid = jwt.get_unverified_header(env["login"]["AccessToken"])["kid"]
    assert id_kid != access_kid, "Cognito signs ID and access tokens with different keys"
    keys = jwks(env)["keys"]
    kids = [k["kid"] for k in keys]
    assert id_kid in kids and access_kid in kids, f"JWKS kids {kids} lack {id_kid} / {access_kid}"
    assert len(set(kids)) == len(kids), f"duplicate kids in JWKS: {kids}"
    for k in keys:
        assert k.get("kty") == "RSA" and k.get("alg") == "RS256" and k.get("use") == "sig", k
        assert k.get("e") and k.get("n"), k
        assert "d" not in k and "p" not in k, "JWKS must not publish private key material"
        n = base64.urlsafe_b64decode(k["n"] + "=" * (-len(k["n"]) % 4))
        assert len(n) * 8 >= 2048, f"RSA modulus of {k['kid']} is {len(n) * 8} bits"


def test_tampered_tokens_fail_verification(env: dict) -> None:
    token = env["login"]["IdToken"]
    header, payload, sig = token.split(".")

    # Flip one character in the middle of the payload.
    i = len(payload) // 2
    flipped = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1:]
    with pytest.raises(jwt.PyJWTError):
        verify(env, f"{header}.{flipped}.{sig}", audience=env["client_id"])

    # Change a claim and re-encode properly: only the signature can catch it.
    claims = segment_json(token, 1)
    claims["cognito:username"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify(env, f"{header}.{forged}.{sig}", audience=env["client_id"])

    # The ID token's key must not validate the access token's signature either.
    acc_header, acc_payload, _ = env["login"]["AccessToken"].split(".")
    with pytest.raises(jwt.PyJWTError):
        verify(env, f"{acc_header}.{acc_payload}.{sig}")

    # And the server itself refuses a tampered access token.
    ah, ap, asig = env["login"]["AccessToken"].split(".")
    acc_claims = segment_json(env["login"]["AccessToken"], 1)
    acc_claims["username"] = "mallory"
    forged_access = base64.urlsafe_b64encode(json.dumps(acc_claims).encode()).rstrip(b"=").decode()
    with pytest.raises(ClientError) as info:
        env["idp"].get_user(AccessToken=f"{ah}.{forged_access}.{asig}")
    assert error_code(info.value) == "NotAuthorizedException", info.value.response

    # An ID token is not an access token.
    with pytest.raises(ClientError) as info:
        env["idp"].get_user(AccessToken=token)
    assert error_code(info.value) == "NotAuthorizedException", info.value.response


def test_discovery_document(env: dict) -> None:
    url = env["srv"].discovery_url(env["pool_id"])
    r = requests.get(url, timeout=5)
    assert r.status_code == 200, f"GET {url} -> {r.status_code}: {r.text[:300]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    doc = r.json()
    assert doc.get("issuer") == env["issuer"], f"discovery issuer {doc.get('issuer')!r} != token iss {env['issuer']!r}"
    assert doc.get("jwks_uri") == env["jwks_url"], f"discovery jwks_uri {doc.get('jwks_uri')!r}"
    if "id_token_signing_alg_values_supported" in doc:
        assert "RS256" in doc["id_token_signing_alg_values_supported"], doc
    iss = segment_json(env["login"]["IdToken"], 1)["iss"]
    assert doc["issuer"] == iss
    assert requests.get(doc["jwks_uri"], timeout=5).json() == jwks(env)


def test_pools_have_their_own_keys(env: dict) -> None:
    other_pool, _ = create_pool_and_client(env["idp"])
    mine = {k["kid"] for k in jwks(env)["keys"]}
    r = requests.get(env["srv"].jwks_url(other_pool), timeout=5)
    assert r.status_code == 200, r.text
    theirs = {k["kid"] for k in r.json()["keys"]}
    assert theirs and not (mine & theirs), f"pools share signing keys: {mine & theirs}"
    # So a token of pool A does not verify with pool B's JWKS.
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(env["srv"].jwks_url(other_pool)).get_signing_key_from_jwt(env["login"]["IdToken"])


def test_unknown_pool_jwks_is_client_error(env: dict) -> None:
    for url in (env["srv"].jwks_url("us-east-1_NoSuchPo0"), env["srv"].discovery_url("us-east-1_NoSuchPo0")):
        r = requests.get(url, timeout=5)
        assert 400 <= r.status_code < 500, f"GET {url} -> {r.status_code}: {r.text[:200]}"

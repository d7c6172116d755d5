"""The AWS JSON 1.1 framing, spoken raw with `requests`: bad input gets a 4xx with a
Cognito-style body, never a 5xx. Only public (unsigned) operations are used."""

from __future__ import annotations

import http.client
import json

import pytest
import requests

from conftest import CognateServer, create_pool_and_client, make_boto_client

PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def srv(module_server: CognateServer) -> CognateServer:
    return module_server


@pytest.fixture(scope="module")
def client_id(srv: CognateServer) -> str:
    return create_pool_and_client(make_boto_client(srv))[1]


def call(srv: CognateServer, target: str | None, body, *, headers: dict | None = None) -> requests.Response:
    h = {"Content-Type": CONTENT_TYPE}
    if target is not None:
        h["X-Amz-Target"] = target if "." in target else PREFIX + target
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(srv.url + "/", data=data, headers=h, timeout=30)


def show(r: requests.Response) -> str:
    req = r.request
    body = req.body if isinstance(req.body, (str, type(None))) else req.body[:300]
    return (f"request: {req.method} {req.url} X-Amz-Target={req.headers.get('X-Amz-Target')!r} "
            f"body={str(body)[:300]!r}\nresponse: HTTP {r.status_code} headers={dict(r.headers)} body={r.text[:500]!r}")


def assert_framing(r: requests.Response) -> None:
    ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ctype == CONTENT_TYPE, f"Content-Type should be {CONTENT_TYPE}:\n{show(r)}"
    assert r.headers.get("x-amzn-RequestId"), f"no x-amzn-RequestId header:\n{show(r)}"


def assert_error(r: requests.Response, *types: str, status: int = 400) -> dict:
    assert r.status_code < 500, f"server error for bad input:\n{show(r)}"
    assert r.status_code == status, f"want HTTP {status}:\n{show(r)}"
    assert_framing(r)
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON:\n{show(r)}") from None
    assert isinstance(body.get("__type"), str), f"error body has no __type:\n{show(r)}"
    assert isinstance(body.get("message", body.get("Message")), str), f"error body has no message:\n{show(r)}"
    if types:
        assert body["__type"] in types, f"__type {body['__type']!r} not in {types}:\n{show(r)}"
    return body


def test_success_framing(srv: CognateServer, client_id: str) -> None:
    r = call(srv, "SignUp", {"ClientId": client_id, "Username": "wire_user", "Password": "Passw0rd!",
                             "UserAttributes": [{"Name": "email", "Value": "wire@example.com"}]})
    assert r.status_code == 200, show(r)
    assert_framing(r)
    assert r.json().get("UserConfirmed") is False, show(r)
    r2 = call(srv, "SignUp", {"ClientId": client_id, "Username": "wire_user2", "Password": "Passw0rd!",
                              "UserAttributes": [{"Name": "email", "Value": "wire2@example.com"}]})
    assert r2.headers["x-amzn-RequestId"] != r.headers["x-amzn-RequestId"], "request ids must be unique"


def test_modelled_error_framing(srv: CognateServer, client_id: str) -> None:
    r = call(srv, "InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                                   "AuthParameters": {"USERNAME": "nobody", "PASSWORD": "Passw0rd!"}})
    assert_error(r, "UserNotFoundException", "NotAuthorizedException")


def test_unknown_operation(srv: CognateServer) -> None:
    r = call(srv, "NoSuchOperation", {})
    body = assert_error(r)
    assert "Operation" in body["__type"] or "Action" in body["__type"], (
        f"expected UnknownOperationException or similar:\n{show(r)}")


@pytest.mark.parametrize("target", [None, "SomeOtherService.SignUp", "AWSCognitoIdentityProviderService."],
                         ids=["missing", "other-service", "empty-op"])
def test_bad_target_header(srv: CognateServer, target: str | None) -> None:
    r = call(srv, target, {})
    assert 400 <= r.status_code < 500, show(r)


@pytest.mark.parametrize("body", [b'{"ClientId": ', b"not json at all", b"\xff\xfe\x00garbage"],
                         ids=["truncated", "text", "binary"])
def test_malformed_json(srv: CognateServer, body: bytes) -> None:
    assert_error(call(srv, "SignUp", body), "SerializationException")


@pytest.mark.parametrize("body", [b"[]", b'"a string"', b"42"], ids=["array", "string", "number"])
def test_body_not_an_object(srv: CognateServer, body: bytes) -> None:
    assert_error(call(srv, "SignUp", body), "SerializationException", "InvalidParameterException")


def test_empty_body(srv: CognateServer) -> None:
    r = call(srv, "InitiateAuth", b"")
    assert_error(r, "SerializationException", "InvalidParameterException")


def test_missing_required_member(srv: CognateServer, client_id: str) -> None:
    r = call(srv, "InitiateAuth", {})
    body = assert_error(r, "InvalidParameterException")
    text = body.get("message", body.get("Message", "")).lower()
    assert "authflow" in text or "clientid" in text, f"message should name the missing member:\n{show(r)}"

    r = call(srv, "SignUp", {"ClientId": client_id, "Password": "Passw0rd!"})
    body = assert_error(r, "InvalidParameterException")
    assert "username" in body.get("message", "").lower(), f"message should name 'username':\n{show(r)}"


@pytest.mark.parametrize(
    "op,body",
    [
        ("InitiateAuth", {"AuthFlow": 5, "ClientId": "x"}),
        ("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "x", "AuthParameters": "USERNAME=a"}),
        ("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "x", "AuthParameters": {"USERNAME": 7}}),
        ("SignUp", {"ClientId": "x", "Username": ["a"], "Password": "Passw0rd!"}),
        ("SignUp", {"ClientId": "x", "Username": "a", "Password": "Passw0rd!", "UserAttributes": {"email": "a"}}),
    ],
    ids=["enum-as-number", "map-as-string", "map-value-number", "string-as-list", "list-as-object"],
)
def test_wrong_member_type(srv: CognateServer, op: str, body: dict) -> None:
    assert_error(call(srv, op, body), "SerializationException", "InvalidParameterException")


def test_invalid_enum_value(srv: CognateServer, client_id: str) -> None:
    r = call(srv, "InitiateAuth", {"AuthFlow": "NOT_A_FLOW", "ClientId": client_id})
    body = assert_error(r, "InvalidParameterException")
    assert "authFlow" in body.get("message", ""), f"message should name 'authFlow':\n{show(r)}"


def test_oversized_body_is_refused(srv: CognateServer, client_id: str) -> None:
    payload = json.dumps({"ClientId": client_id, "Username": "big", "Password": "Passw0rd!",
                          "UserAttributes": [{"Name": "name", "Value": "x" * (2 * 1024 * 1024)}]}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Type", CONTENT_TYPE)
    conn.putheader("X-Amz-Target", PREFIX + "SignUp")
    conn.putheader("Content-Length", str(len(payload)))
    conn.endheaders()
    try:
        for i in range(0, len(payload), 64 * 1024):
            conn.send(payload[i:i + 64 * 1024])
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before reading it all; read its answer below
    try:
        resp = conn.getresponse()
    except (ConnectionResetError, http.client.RemoteDisconnected) as e:
        pytest.fail(f"a 2 MiB body got no HTTP answer (connection dropped: {e!r}); want a 4xx", pytrace=False)
    body = resp.read()[:300]
    conn.close()
    assert 400 <= resp.status < 500, f"2 MiB body -> HTTP {resp.status} {body!r}; want a 4xx"

    # The server is still fine afterwards.
    assert requests.get(srv.url + "/health", timeout=5).status_code == 200
    r = call(srv, "SignUp", {"ClientId": client_id, "Username": "after_big", "Password": "Passw0rd!",
                             "UserAttributes": [{"Name": "email", "Value": "after@example.com"}]})
    assert r.status_code == 200, show(r)


def test_unknown_members_are_ignored(srv: CognateServer, client_id: str) -> None:
    r = call(srv, "SignUp", {"ClientId": client_id, "Username": "extra_member", "Password": "Passw0rd!",
                             "UserAttributes": [{"Name": "email", "Value": "extra@example.com"}],
                             "SomeFutureMember": {"nested": True}})
    assert r.status_code == 200, show(r)

"""USER_SRP_AUTH / PASSWORD_VERIFIER with the unmodified SRP clients:
pycognito (Python) and amazon-cognito-identity-js (Node), including a
NEW_PASSWORD_REQUIRED answer after SRP, and the tokens they get verified."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jwt
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.exceptions import ForceChangePasswordException

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client, error_code, unique

JS_DIR = Path(__file__).resolve().parent / "js"
SRP_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]


def pycognito_user(srv, pool_id: str, client_id: str, username: str) -> Cognito:
    return Cognito(
        pool_id,
        client_id,
        user_pool_region="us-east-1",
        username=username,
        boto3_client_kwargs={
            "endpoint_url": srv.url,
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        },
    )


def js_login(srv, pool_id: str, client_id: str, username: str, password: str, new_password: str | None = None) -> dict:
    if not (JS_DIR / "node_modules" / "amazon-cognito-identity-js").is_dir():
        pytest.fail("e2e/js/node_modules is missing: run `npm ci` in e2e/js (scripts/e2e-setup.sh does)")
    args = ["node", str(JS_DIR / "srp_login.js"), srv.url, pool_id, client_id, username, password]
    if new_password:
        args.append(new_password)
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def verify(srv, pool_id: str, client_id: str, token: str, use: str) -> dict:
    key = jwt.PyJWKClient(srv.jwks_url(pool_id)).get_signing_key_from_jwt(token).key
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        issuer=srv.issuer(pool_id),
        audience=client_id if use == "id" else None,
        options={"verify_aud": use == "id"},
    )
    assert claims["token_use"] == use
    return claims


def test_pycognito_srp_sign_in(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    username = unique("srp")
    create_confirmed_user(idp, pool_id, username)
    u = pycognito_user(cognate, pool_id, client_id, username)
    u.authenticate(password=PASSWORD)  # pycognito also verifies both tokens against the JWKS
    assert verify(cognate, pool_id, client_id, u.id_token, "id")["cognito:username"] == username
    assert verify(cognate, pool_id, client_id, u.access_token, "access")["username"] == username
    assert u.refresh_token
    assert idp.get_user(AccessToken=u.access_token)["Username"] == username


def test_pycognito_wrong_password_and_unknown_user(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    username = unique("srp")
    create_confirmed_user(idp, pool_id, username)
    with pytest.raises(ClientError) as err:
        pycognito_user(cognate, pool_id, client_id, username).authenticate(password="Wr0ng-Password!")
    assert error_code(err.value) == "NotAuthorizedException"
    assert "Incorrect username or password." in str(err.value)
    with pytest.raises(ClientError) as err:
        pycognito_user(cognate, pool_id, client_id, "nobody-" + username).authenticate(password=PASSWORD)
    assert error_code(err.value) == "UserNotFoundException"


def test_pycognito_new_password_required_after_srp(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    username = unique("srpnew")
    idp.admin_create_user(UserPoolId=pool_id, Username=username, TemporaryPassword="Temp0rary!",
                          MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    u = pycognito_user(cognate, pool_id, client_id, username)
    with pytest.raises(ForceChangePasswordException):
        u.authenticate(password="Temp0rary!")
    u.new_password_challenge(password="Temp0rary!", new_password="N3w-Passw0rd!")
    assert verify(cognate, pool_id, client_id, u.id_token, "id")["cognito:username"] == username
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"] == "CONFIRMED"
    # The new password works with SRP too.
    again = pycognito_user(cognate, pool_id, client_id, username)
    again.authenticate(password="N3w-Passw0rd!")


def test_srp_with_prevent_user_existence_errors(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id = idp.create_user_pool(PoolName=unique("pool"))["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=SRP_FLOWS, PreventUserExistenceErrors="ENABLED"
    )["UserPoolClient"]["ClientId"]
    with pytest.raises(ClientError) as err:
        pycognito_user(cognate, pool_id, client_id, "ghost").authenticate(password=PASSWORD)
    assert error_code(err.value) == "NotAuthorizedException"


def test_amazon_cognito_identity_js_srp(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    username = unique("js")
    create_confirmed_user(idp, pool_id, username)
    out = js_login(cognate, pool_id, client_id, username, PASSWORD)
    assert out["ok"], out
    assert verify(cognate, pool_id, client_id, out["idToken"], "id")["cognito:username"] == username
    verify(cognate, pool_id, client_id, out["accessToken"], "access")

    bad = js_login(cognate, pool_id, client_id, username, "Wr0ng-Password!")
    assert bad == {"ok": False, "code": "NotAuthorizedException", "message": "Incorrect username or password."}


def test_amazon_cognito_identity_js_new_password_required(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    username = unique("jsnew")
    idp.admin_create_user(UserPoolId=pool_id, Username=username, TemporaryPassword="Temp0rary!",
                          MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    out = js_login(cognate, pool_id, client_id, username, "Temp0rary!", "N3w-Passw0rd!")
    assert out["ok"] and out["newPasswordRequired"], out
    verify(cognate, pool_id, client_id, out["idToken"], "id")
    assert js_login(cognate, pool_id, client_id, username, "N3w-Passw0rd!")["ok"]


def test_amazon_cognito_identity_js_confirms_its_new_device(cognate, boto_client):
    """In a pool that tracks devices the sign-in hands out NewDeviceMetadata, and the
    library confirms the device (with its SRP verifier) on its own."""
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    idp.update_user_pool(UserPoolId=pool_id, DeviceConfiguration={
        "ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": True})
    username = unique("jsdev")
    create_confirmed_user(idp, pool_id, username)
    out = js_login(cognate, pool_id, client_id, username, PASSWORD)
    assert out["ok"], out
    devices = idp.admin_list_devices(UserPoolId=pool_id, Username=username)["Devices"]
    assert len(devices) == 1, devices
    assert devices[0]["DeviceKey"].startswith("us-east-1_")
    attributes = {a["Name"]: a["Value"] for a in devices[0]["DeviceAttributes"]}
    # DeviceOnlyRememberedOnUserPrompt: not remembered until the user says so.
    assert attributes["dev:device_remembered_status"] == "not_remembered"
    idp.admin_update_device_status(UserPoolId=pool_id, Username=username,
                                   DeviceKey=devices[0]["DeviceKey"], DeviceRememberedStatus="remembered")
    got = idp.admin_get_device(UserPoolId=pool_id, Username=username, DeviceKey=devices[0]["DeviceKey"])
    assert {"Name": "dev:device_remembered_status", "Value": "remembered"} in got["Device"]["DeviceAttributes"]


def test_srp_refuses_a_bad_srp_a(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=SRP_FLOWS)
    with pytest.raises(ClientError) as err:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                          AuthParameters={"USERNAME": "x", "SRP_A": "0"})
    assert error_code(err.value) == "InvalidParameterException"

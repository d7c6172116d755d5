"""Remembered devices with the unmodified amazon-cognito-identity-js
(e2e/js/device_login.js): a user with TOTP MFA signs in with a code, the
library confirms its new device and remembers it (setDeviceStatusRemembered),
and the next sign-in proves the device (DEVICE_SRP_AUTH →
DEVICE_PASSWORD_VERIFIER) instead of asking for a code. A wrong device secret
is refused; a device forgotten on the server is answered with
ResourceNotFoundException, on which the library signs in again without it and
gets the code asked (and a new device). boto3 sets the user up and checks
the device records."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import jwt
import pyotp
import pytest

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client, unique

JS_DIR = Path(__file__).resolve().parent / "js"
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


class DeviceClient:
    """One node process of device_login.js: the library's storage (device key,
    group and secret) lives as long as the process, as in an app."""

    def __init__(self, srv, pool_id: str, client_id: str, username: str, secret: str):
        if not (JS_DIR / "node_modules" / "amazon-cognito-identity-js").is_dir():
            pytest.fail("e2e/js/node_modules is missing: run `npm ci` in e2e/js (scripts/e2e-setup.sh does)")
        self.proc = subprocess.Popen(
            ["node", str(JS_DIR / "device_login.js"), srv.url, pool_id, client_id, username, PASSWORD, secret],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def step(self, name: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read() if self.proc.stderr else "device_login.js ended"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def devices(idp, pool_id: str, username: str) -> dict[str, dict[str, str]]:
    listed = idp.admin_list_devices(UserPoolId=pool_id, Username=username)["Devices"]
    return {d["DeviceKey"]: {a["Name"]: a["Value"] for a in d["DeviceAttributes"]} for d in listed}


def test_a_remembered_device_signs_in_without_a_code(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(
        idp, flows=FLOWS,
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True},
    )
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    user = unique("device")
    create_confirmed_user(idp, pool_id, user)
    # TOTP set up with boto3 (MFA_SETUP), with the previous step's code: the
    # library's codes come after it.
    first = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})
    assert first["ChallengeName"] == "MFA_SETUP"
    assoc = idp.associate_software_token(Session=first["Session"])
    secret = assoc["SecretCode"]
    verified = idp.verify_software_token(Session=assoc["Session"], UserCode=pyotp.TOTP(secret).at(time.time() - 30))
    idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
                                  ChallengeResponses={"USERNAME": user})
    assert devices(idp, pool_id, user) == {}

    js = DeviceClient(cognate, pool_id, client_id, user, secret)
    try:
        # A new device: the code is asked; the library confirms the device
        # and, as the pool asks, remembers it.
        signed = js.step("sign-in")
        assert signed["ok"], signed
        assert signed["mfa"] is True
        assert signed["userConfirmationNecessary"] is True and signed["remembered"] is True
        key = signed["deviceKey"]
        assert devices(idp, pool_id, user)[key]["dev:device_remembered_status"] == "remembered"
        before = idp.admin_get_device(UserPoolId=pool_id, Username=user, DeviceKey=key)["Device"]

        # The remembered device is proven instead of a code.
        again = js.step("sign-in")
        assert again["ok"], again
        assert again["mfa"] is False
        assert again["deviceKey"] == key
        claims = jwt.decode(again["accessToken"], options={"verify_signature": False})
        assert claims["username"] == user
        assert idp.get_user(AccessToken=again["accessToken"])["Username"] == user
        after = idp.admin_get_device(UserPoolId=pool_id, Username=user, DeviceKey=key)["Device"]
        assert after["DeviceLastAuthenticatedDate"] >= before["DeviceLastAuthenticatedDate"]
        assert list(devices(idp, pool_id, user)) == [key]
        # The access token names the device, and the library's refresh
        # (which sends the stored DEVICE_KEY) keeps it.
        assert claims["device_key"] == key
        refreshed = js.step("refresh")
        assert refreshed["ok"], refreshed
        assert jwt.decode(refreshed["accessToken"], options={"verify_signature": False})["device_key"] == key
        # Without the device's key the same refresh token is refused.
        with pytest.raises(idp.exceptions.NotAuthorizedException, match="Invalid Refresh Token"):
            idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": refreshed["refreshToken"]})

        # A wrong device secret is refused.
        assert js.step("tamper")["ok"]
        wrong = js.step("sign-in")
        assert wrong["ok"] is False
        assert wrong["code"] == "NotAuthorizedException", wrong
        assert wrong["mfa"] is False

        # Forgotten on the server: ResourceNotFoundException, on which the
        # library signs in without the device and is asked for a code.
        idp.admin_forget_device(UserPoolId=pool_id, Username=user, DeviceKey=key)
        fallback = js.step("sign-in")
        assert fallback["ok"], fallback
        assert fallback["mfa"] is True
        new_key = fallback["deviceKey"]
        assert new_key and new_key != key
        assert list(devices(idp, pool_id, user)) == [new_key]

        # And the new device, remembered, skips the code again.
        last = js.step("sign-in")
        assert last["ok"], last
        assert last["mfa"] is False
        assert last["deviceKey"] == new_key
    finally:
        js.close()

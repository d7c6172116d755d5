"""Code-based sign-in challenges with boto3: SMS MFA (code read from the development
outbox), email MFA delivered by real SMTP (an aiosmtpd sink), SELECT_MFA_TYPE between
two factors, and a passwordless USER_AUTH sign-in with an EMAIL_OTP first factor."""

from __future__ import annotations

import email
import re
import time

import pytest
from aiosmtpd.controller import Controller
from botocore.exceptions import ClientError

from conftest import (PASSWORD, create_confirmed_user, create_pool_and_client, error_code,
                      free_port, latest_code, latest_message, read_outbox, unique)

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_USER_AUTH",
         "ALLOW_REFRESH_TOKEN_AUTH"]
PHONE = "+15555550123"


def password_start(idp, client_id, user):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})


def mfa_pool(idp, **pool_kw):
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS, **pool_kw)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your sign-in code is {####}"},
        EmailMfaConfiguration={"Message": "Your email code is {####}.", "Subject": "Your code"})
    return pool_id, client_id


def add_phone(idp, pool_id, user):
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username=user, UserAttributes=[
        {"Name": "phone_number", "Value": PHONE}, {"Name": "phone_number_verified", "Value": "true"}])


def test_sms_mfa_sign_in(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = mfa_pool(idp)
    user = unique("sms")
    create_confirmed_user(idp, pool_id, user)
    add_phone(idp, pool_id, user)
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username=user,
                                      SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    got = idp.admin_get_user(UserPoolId=pool_id, Username=user)
    assert got["UserMFASettingList"] == ["SMS_MFA"]
    assert got["PreferredMfaSetting"] == "SMS_MFA"

    start = password_start(idp, client_id, user)
    assert start["ChallengeName"] == "SMS_MFA"
    assert start["ChallengeParameters"] == {"CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                                            "CODE_DELIVERY_DESTINATION": "+*******0123"}
    message = latest_message(cognate, user, pool_id=pool_id, kind="mfa")
    assert message["medium"] == "SMS" and message["destination"] == PHONE
    code = message["code"]
    assert message["body"] == f"Your sign-in code is {code}"
    with pytest.raises(ClientError) as err:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SMS_MFA", Session=start["Session"],
            ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": f"{(int(code) + 1) % 1000000:06d}"})
    assert error_code(err.value) == "CodeMismatchException"
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SMS_MFA", Session=start["Session"],
        ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": code})
    token = done["AuthenticationResult"]["AccessToken"]
    assert idp.get_user(AccessToken=token)["Username"] == user
    # Used once.
    with pytest.raises(ClientError) as err:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SMS_MFA", Session=start["Session"],
            ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": code})
    assert error_code(err.value) == "NotAuthorizedException"


class Collector:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, count: int = 1, timeout: float = 10.0) -> email.message.Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [m for m in self.messages if to in m.get("To", "")]
            if len(mine) >= count:
                return mine[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to}; got {[m.get('To') for m in self.messages]}")


def test_email_mfa_by_smtp(server, boto_client):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        srv = server(start=False)
        srv.extra_args = ["--smtp-url", f"smtp://127.0.0.1:{controller.port}",
                          "--mail-from", "Cognate <no-reply@example.com>"]
        srv.start()
        idp = boto_client(srv)
        pool_id, client_id = mfa_pool(idp)
        user = unique("mail")
        address = f"{user}@example.com"
        create_confirmed_user(idp, pool_id, user, email=address)
        idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username=user,
                                          EmailMfaSettings={"Enabled": True})
        start = password_start(idp, client_id, user)
        assert start["ChallengeName"] == "EMAIL_OTP"
        assert start["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
        mail = collector.wait_for(address)
        assert mail["Subject"] == "Your code"
        body = mail.get_payload(decode=True).decode()
        code = re.search(r"Your email code is (\d{6})\.", body).group(1)
        done = idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="EMAIL_OTP", Session=start["Session"],
            ChallengeResponses={"USERNAME": user, "EMAIL_OTP_CODE": code})
        assert done["AuthenticationResult"]["IdToken"]
    finally:
        controller.stop()


def test_select_mfa_type(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = mfa_pool(idp)
    user = unique("choose")
    create_confirmed_user(idp, pool_id, user)
    add_phone(idp, pool_id, user)
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username=user,
                                      SMSMfaSettings={"Enabled": True},
                                      EmailMfaSettings={"Enabled": True})
    start = password_start(idp, client_id, user)
    assert start["ChallengeName"] == "SELECT_MFA_TYPE"
    assert start["ChallengeParameters"]["MFAS_CAN_CHOOSE"] == '["SMS_MFA","EMAIL_OTP"]'
    chosen = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SELECT_MFA_TYPE", Session=start["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": "SMS_MFA"})
    assert chosen["ChallengeName"] == "SMS_MFA"
    code = latest_code(cognate, user, pool_id=pool_id, kind="mfa")
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SMS_MFA", Session=chosen["Session"],
        ChallengeResponses={"USERNAME": user, "SMS_MFA_CODE": code})
    assert done["AuthenticationResult"]["AccessToken"]


def test_passwordless_sign_up(cognate, boto_client):
    """As the model documents SignUp's Password: a pool that signs users in with
    email codes takes a sign-up without a password; a password-only pool does not."""
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(
        idp, flows=FLOWS, AutoVerifiedAttributes=["email"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    user = unique("nopw")
    signed_up = idp.sign_up(ClientId=client_id, Username=user,
                            UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"}])
    assert signed_up["UserConfirmed"] is False
    code = latest_code(cognate, user, pool_id=pool_id, kind="signup")
    idp.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code)
    # No password: the password factor fails as a wrong one does.
    with pytest.raises(ClientError) as err:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})
    assert error_code(err.value) == "NotAuthorizedException"
    before = len(read_outbox(cognate))
    start = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                              AuthParameters={"USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert start["ChallengeName"] == "EMAIL_OTP"
    code = latest_code(cognate, user, pool_id=pool_id, kind="sign_in_otp", after=before)
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=start["Session"],
        ChallengeResponses={"USERNAME": user, "EMAIL_OTP_CODE": code})
    token = done["AuthenticationResult"]["AccessToken"]
    assert idp.get_user_auth_factors(AccessToken=token)["ConfiguredUserAuthFactors"] == ["EMAIL_OTP"]

    _, password_client = create_pool_and_client(idp, flows=FLOWS)
    with pytest.raises(ClientError) as err:
        idp.sign_up(ClientId=password_client, Username=unique("nopw"))
    assert error_code(err.value) == "InvalidParameterException"


def test_passwordless_email_otp_user_auth(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(
        idp, flows=FLOWS,
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    user = unique("otp")
    create_confirmed_user(idp, pool_id, user)
    start = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                              AuthParameters={"USERNAME": user})
    assert start["ChallengeName"] == "SELECT_CHALLENGE"
    assert start["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
    before = len(read_outbox(cognate))
    chosen = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SELECT_CHALLENGE", Session=start["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": "EMAIL_OTP"})
    assert chosen["ChallengeName"] == "EMAIL_OTP"
    assert chosen["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == f"{user[0]}***@e***"
    code = latest_code(cognate, user, pool_id=pool_id, kind="sign_in_otp", after=before)
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=chosen["Session"],
        ChallengeResponses={"USERNAME": user, "EMAIL_OTP_CODE": code})
    result = done["AuthenticationResult"]
    assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == user
    factors = idp.get_user_auth_factors(AccessToken=result["AccessToken"])
    assert factors["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]
    # The refresh token of a passwordless sign-in works.
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})
    assert refreshed["AuthenticationResult"]["AccessToken"]
    # A preferred challenge skips the choice.
    direct = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                               AuthParameters={"USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert direct["ChallengeName"] == "EMAIL_OTP"

"""TOTP MFA with a standard TOTP implementation (pyotp): the MFA_SETUP
challenge when a pool requires MFA, SOFTWARE_TOKEN_MFA on later sign-ins,
one-time use of codes, OPTIONAL pools, and MFA after SRP (pycognito)."""

from __future__ import annotations

import time

import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client, error_code, unique

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def start(idp, client_id, user):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})


def next_code(secret: str) -> str:
    """The code of the next 30-second step: inside Cognito's ±1 step window
    and never used before."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_mfa_setup_then_software_token_mfa(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    cfg = idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON",
                                       SoftwareTokenMfaConfiguration={"Enabled": True})
    assert cfg["MfaConfiguration"] == "ON"
    assert idp.get_user_pool_mfa_config(UserPoolId=pool_id)["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    user = unique("mfa")
    create_confirmed_user(idp, pool_id, user)

    first = start(idp, client_id, user)
    assert first["ChallengeName"] == "MFA_SETUP"
    assert "SOFTWARE_TOKEN_MFA" in first["ChallengeParameters"]["MFAS_CAN_SETUP"]
    assoc = idp.associate_software_token(Session=first["Session"])
    secret = assoc["SecretCode"]
    with pytest.raises(ClientError) as err:
        idp.verify_software_token(Session=assoc["Session"], UserCode="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert error_code(err.value) == "EnableSoftwareTokenMFAException"
    # A wrong code leaves the session usable.
    verified = idp.verify_software_token(Session=assoc["Session"], UserCode=pyotp.TOTP(secret).now())
    assert verified["Status"] == "SUCCESS"
    done = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP",
                                         Session=verified["Session"], ChallengeResponses={"USERNAME": user})
    token = done["AuthenticationResult"]["AccessToken"]
    me = idp.get_user(AccessToken=token)
    assert me["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert me["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    second = start(idp, client_id, user)
    assert second["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    # A token verified without a FriendlyDeviceName is not named.
    assert second["ChallengeParameters"] == {"USER_ID_FOR_SRP": user}
    code = next_code(secret)
    ok = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                                       Session=second["Session"],
                                       ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code})
    assert "AccessToken" in ok["AuthenticationResult"]

    # The same code is not accepted twice: Cognito says its step was used.
    third = start(idp, client_id, user)
    with pytest.raises(ClientError) as err:
        idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                                      Session=third["Session"],
                                      ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code})
    assert error_code(err.value) == "ExpiredCodeException"
    assert err.value.response["Error"]["Message"] == "Your software token has already been used once."


def test_optional_mfa_enabled_by_the_user(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    user = unique("opt")
    create_confirmed_user(idp, pool_id, user)
    token = start(idp, client_id, user)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as err:
        idp.set_user_mfa_preference(AccessToken=token,
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert error_code(err.value) == "InvalidParameterException"
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    assert idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).now(),
                                     FriendlyDeviceName="phone")["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    challenge = start(idp, client_id, user)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    # As Cognito's challenge: the token's FriendlyDeviceName and the user.
    assert challenge["ChallengeParameters"] == {"FRIENDLY_DEVICE_NAME": "phone", "USER_ID_FOR_SRP": user}

    # With SRP (pycognito) the MFA challenge follows PASSWORD_VERIFIER.
    u = Cognito(pool_id, client_id, user_pool_region="us-east-1", username=user,
                boto3_client_kwargs={"endpoint_url": cognate.url, "aws_access_key_id": "test",
                                     "aws_secret_access_key": "test"})
    with pytest.raises(SoftwareTokenMFAChallengeException) as mfa:
        u.authenticate(password=PASSWORD)
    u.respond_to_software_token_mfa_challenge(next_code(secret), mfa.value.get_tokens())
    assert u.access_token

    # An administrator can turn it off again.
    idp.admin_set_user_mfa_preference(UserPoolId=pool_id, Username=user,
                                      SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    assert "AuthenticationResult" in start(idp, client_id, user)


def test_verified_setup_session_means_software_token_next_time(cognate, boto_client):
    """Cognito: once VerifySoftwareToken succeeds with the MFA_SETUP session, a new
    sign-in (MFA_SETUP left unanswered) is challenged SOFTWARE_TOKEN_MFA; an
    administrator's AdminDeleteSoftwareToken brings MFA_SETUP back."""
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    with pytest.raises(ClientError) as err:
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON")
    assert err.value.response["Error"]["Message"] == (
        "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.")
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="ON",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    user = unique("setup")
    create_confirmed_user(idp, pool_id, user)
    first = start(idp, client_id, user)
    assert first["ChallengeName"] == "MFA_SETUP"
    assoc = idp.associate_software_token(Session=first["Session"])
    secret = assoc["SecretCode"]
    assert idp.verify_software_token(Session=assoc["Session"],
                                     UserCode=pyotp.TOTP(secret).now())["Status"] == "SUCCESS"
    second = start(idp, client_id, user)
    assert second["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    ok = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
                                       Session=second["Session"],
                                       ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": next_code(secret)})
    assert "AccessToken" in ok["AuthenticationResult"]

    idp.admin_delete_software_token(UserPoolId=pool_id, Username=user)
    assert "UserMFASettingList" not in idp.admin_get_user(UserPoolId=pool_id, Username=user)
    assert start(idp, client_id, user)["ChallengeName"] == "MFA_SETUP"


def test_legacy_user_settings(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS)
    user = unique("legacy")
    create_confirmed_user(idp, pool_id, user)
    token = start(idp, client_id, user)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as err:
        idp.set_user_mfa_preference(AccessToken=token, SMSMfaSettings={"Enabled": True})
    assert err.value.response["Error"]["Message"] == "User does not have delivery config set to turn on SMS_MFA"
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username=user,
                                     UserAttributes=[{"Name": "phone_number", "Value": "+15555550123"}])
    options = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    idp.set_user_settings(AccessToken=token, MFAOptions=options)
    assert idp.get_user(AccessToken=token)["MFAOptions"] == options
    idp.admin_set_user_settings(UserPoolId=pool_id, Username=user, MFAOptions=[])
    assert "MFAOptions" not in idp.admin_get_user(UserPoolId=pool_id, Username=user)

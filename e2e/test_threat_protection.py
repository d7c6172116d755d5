"""Threat protection's compromised-credentials check with real clients: a
cognate started with a Pwned-Passwords-style list (`--compromised-passwords`),
boto3 for the API, pycognito for an SRP sign-in (which AWS does not check, as
the password never reaches the server)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito

from conftest import create_confirmed_user, create_pool_and_client, error_code, latest_code, unique

LEAKED = "Summer2024!"
FRESH = "Unlisted-Pass-7q"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
         "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def protected(server, tmp_path):
    """A cognate with a list holding LEAKED among 5000 other digests."""
    digests = [hashlib.sha1(f"filler-{i}".encode()).hexdigest().upper() for i in range(5000)]
    digests.append(hashlib.sha1(LEAKED.encode()).hexdigest().upper())
    listing = tmp_path / "pwned.txt"
    listing.write_text("".join(f"{d}:{i + 1}\r\n" for i, d in enumerate(sorted(digests))))
    srv = server(start=False)
    srv.extra_args = ["--compromised-passwords", str(listing)]
    return srv.start()


def blocking_pool(idp) -> tuple[str, str]:
    pool_id, client_id = create_pool_and_client(
        idp, flows=FLOWS, UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        CompromisedCredentialsRiskConfiguration={
            "EventFilter": ["SIGN_IN", "SIGN_UP", "PASSWORD_CHANGE"],
            "Actions": {"EventAction": "BLOCK"},
        })
    return pool_id, client_id


def sign_in(idp, client_id: str, username: str, password: str) -> dict:
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def expect(code: str, fn, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as err:
        fn(**kwargs)
    assert error_code(err.value) == code, err.value
    return err.value


def test_blocked_sign_in_then_reset_with_boto3(protected, boto_client):
    idp = boto_client(protected)
    pool_id, client_id = blocking_pool(idp)
    user = unique("leak")
    create_confirmed_user(idp, pool_id, user, password=LEAKED)

    expect("PasswordResetRequiredException", sign_in, idp=idp, client_id=client_id,
           username=user, password=LEAKED)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "RESET_REQUIRED"
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert event["EventType"] == "SignIn" and event["EventResponse"] == "Fail"
    assert event["EventRisk"] == {"RiskDecision": "Block", "CompromisedCredentialsDetected": True}

    idp.forgot_password(ClientId=client_id, Username=user)
    code = latest_code(protected, user)
    expect("InvalidPasswordException", idp.confirm_forgot_password, ClientId=client_id,
           Username=user, ConfirmationCode=code, Password=LEAKED)
    idp.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=code, Password=FRESH)
    assert "AuthenticationResult" in sign_in(idp, client_id, user, FRESH)

    expect("InvalidPasswordException", idp.sign_up, ClientId=client_id, Username=unique("new"),
           Password=LEAKED, UserAttributes=[{"Name": "email", "Value": "new@example.com"}])


def test_srp_sign_in_is_not_checked(protected, boto_client):
    """As on AWS: SRP proves the password without sending it."""
    idp = boto_client(protected)
    pool_id, client_id = blocking_pool(idp)
    user = unique("srp")
    create_confirmed_user(idp, pool_id, user, password=LEAKED)
    u = Cognito(pool_id, client_id, user_pool_region="us-east-1", username=user,
                boto3_client_kwargs={"endpoint_url": protected.url, "aws_access_key_id": "test",
                                     "aws_secret_access_key": "test"})
    u.authenticate(password=LEAKED)
    assert u.access_token
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "CONFIRMED"


def test_concurrent_blocked_sign_ins_issue_no_tokens(protected, boto_client):
    idp = boto_client(protected)
    pool_id, client_id = blocking_pool(idp)
    user = unique("many")
    create_confirmed_user(idp, pool_id, user, password=LEAKED)

    def attempt(_: int) -> str:
        try:
            sign_in(idp, client_id, user, LEAKED)
            return "tokens"
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(attempt, range(24)))
    assert answers == ["PasswordResetRequiredException"] * 24, answers
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "RESET_REQUIRED"

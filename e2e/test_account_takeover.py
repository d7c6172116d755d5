"""Threat protection's account takeover with real clients: boto3 signs a user in
from the addresses a server states in ContextData, and the pool's configured
actions answer (an MFA challenge she never turned on, a block); the notification
email's feedback token goes back through boto3's UpdateAuthEventFeedback, and its
one-click link through plain HTTP (requests)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import create_confirmed_user, error_code, error_message, latest_message, unique

FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BLOCKED = "Unable to login because of security reasons."


def enforced_pool(idp, actions: dict) -> tuple[str, str]:
    pool_id = idp.create_user_pool(
        PoolName=unique("takeover"), UserPoolTier="PLUS",
        UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration={"Message": "Code {####}", "Subject": "Code"})
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=FLOWS)["UserPoolClient"]["ClientId"]
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        AccountTakeoverRiskConfiguration={
            "Actions": actions,
            "NotifyConfiguration": {
                "SourceArn": "arn:aws:ses:us-east-1:111111111111:identity/security@example.com",
                "BlockEmail": {"Subject": "Blocked sign-in",
                               "TextBody": "event={event-id} token={feedback-token} "
                                           "no={one-click-link-invalid}"},
            },
        })
    return pool_id, client_id


def sign_in(idp, pool_id: str, client_id: str, username: str, password: str, ip: str,
            user_agent: str) -> dict:
    return idp.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
        ContextData={"IpAddress": ip, "ServerName": "app.example.com", "ServerPath": "/login",
                     "HttpHeaders": [{"headerName": "User-Agent", "headerValue": user_agent}]})


def user_at_home(idp, pool_id: str, client_id: str, prefix: str) -> str:
    """A new confirmed user who has signed in once from home (192.0.2.10, Firefox)."""
    user = unique(prefix)
    create_confirmed_user(idp, pool_id, user, password="Passw0rd!")
    sign_in(idp, pool_id, client_id, user, "Passw0rd!", "192.0.2.10", FIREFOX)
    return user


def test_mfa_for_a_medium_risk_a_block_for_a_high_one_and_feedback(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = enforced_pool(idp, {
        "MediumAction": {"EventAction": "MFA_IF_CONFIGURED", "Notify": False},
        "HighAction": {"EventAction": "BLOCK", "Notify": True},
    })
    user = unique("ann")
    create_confirmed_user(idp, pool_id, user, password="Passw0rd!")

    assert "AuthenticationResult" in sign_in(idp, pool_id, client_id, user, "Passw0rd!",
                                             "192.0.2.10", FIREFOX)
    # A new network on her browser: Medium, an email code though she has no MFA.
    challenge = sign_in(idp, pool_id, client_id, user, "Passw0rd!", "203.0.113.5", FIREFOX)
    assert challenge["ChallengeName"] == "EMAIL_OTP", challenge
    code = latest_message(cognate, user, pool_id=pool_id, kind="mfa")["code"]
    done = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool_id, ClientId=client_id, ChallengeName="EMAIL_OTP",
        Session=challenge["Session"], ChallengeResponses={"USERNAME": user, "EMAIL_OTP_CODE": code})
    assert "AccessToken" in done["AuthenticationResult"]
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert event["EventResponse"] == "Pass"
    assert event["EventRisk"] == {"RiskDecision": "AccountTakeover", "RiskLevel": "Medium",
                                  "CompromisedCredentialsDetected": False}

    # A new network and device: High, blocked, and she is told.
    with pytest.raises(ClientError) as err:
        sign_in(idp, pool_id, client_id, user, "Passw0rd!", "198.51.100.7", "curl/8.5.0")
    assert error_code(err.value) == "NotAuthorizedException"
    assert error_message(err.value) == BLOCKED
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert event["EventResponse"] == "Fail"
    assert event["EventRisk"]["RiskDecision"] == "Block"
    assert event["EventRisk"]["RiskLevel"] == "High"
    mail = latest_message(cognate, user, pool_id=pool_id, kind="risk_notification")
    assert mail["destination"] == f"{user}@example.com"
    assert mail["subject"] == "Blocked sign-in"
    fields = dict(re.findall(r"(\w+)=(\S+)", mail["body"]))
    assert fields["event"] == event["EventId"]

    # "It was me", with the mailed token through the public operation.
    idp.update_auth_event_feedback(UserPoolId=pool_id, Username=user, EventId=fields["event"],
                                   FeedbackToken=fields["token"], FeedbackValue="Valid")
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert event["EventFeedback"]["FeedbackValue"] == "Valid"
    assert event["EventFeedback"]["Provider"] == "User"
    assert "AuthenticationResult" in sign_in(idp, pool_id, client_id, user, "Passw0rd!",
                                             "198.51.100.7", "curl/8.5.0")
    # A token that is not the event's is refused.
    with pytest.raises(ClientError) as err:
        idp.update_auth_event_feedback(UserPoolId=pool_id, Username=user, EventId=fields["event"],
                                       FeedbackToken="forged-token", FeedbackValue="Invalid")
    assert error_code(err.value) == "NotAuthorizedException"


def test_the_one_click_link_asks_then_records(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = enforced_pool(idp, {"HighAction": {"EventAction": "BLOCK", "Notify": True}})
    user = user_at_home(idp, pool_id, client_id, "bob")
    with pytest.raises(ClientError):
        sign_in(idp, pool_id, client_id, user, "Passw0rd!", "198.51.100.7", "curl/8.5.0")
    mail = latest_message(cognate, user, pool_id=pool_id, kind="risk_notification")
    link = dict(re.findall(r"(\w+)=(\S+)", mail["body"]))["no"]
    assert link.startswith(f"{cognate.url}/risk-feedback?")

    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    assert "This was not me" in page.text
    # Following the link changed nothing yet.
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert "EventFeedback" not in event
    posted = requests.post(f"{cognate.url}/risk-feedback", data=link.split("?", 1)[1],
                           headers={"content-type": "application/x-www-form-urlencoded"},
                           timeout=10)
    assert posted.status_code == 200
    event = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"][0]
    assert event["EventFeedback"]["FeedbackValue"] == "Invalid"


def test_concurrent_blocked_sign_ins_get_no_tokens(cognate, boto_client):
    idp = boto_client(cognate)
    pool_id, client_id = enforced_pool(idp, {"HighAction": {"EventAction": "BLOCK", "Notify": False}})
    user = user_at_home(idp, pool_id, client_id, "cat")

    def attempt(i: int) -> str:
        try:
            sign_in(idp, pool_id, client_id, user, "Passw0rd!", f"198.51.100.{i + 1}", "curl/8.5.0")
            return "tokens"
        except ClientError as e:
            return error_message(e)

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(attempt, range(24)))
    assert answers == [BLOCKED] * 24
    events = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=user)["AuthEvents"]
    assert sum(e["EventRisk"]["RiskDecision"] == "Block" for e in events) == 24

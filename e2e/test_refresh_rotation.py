"""Refresh token rotation through boto3: GetTokensFromRefreshToken on an app client with
RefreshTokenRotation answers a new refresh token each time and refuses the old one once its
retry grace period is over (0 here: at once; the grace period's end is tested with a manual
clock in tests/refresh_rotation.rs)."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from conftest import (
    PASSWORD, CognateServer, create_confirmed_user, create_pool_and_client, error_code,
    make_boto_client,
)

USERNAME = "rotating_ruth"


def rotating_client(idp, pool_id: str, grace: int) -> str:
    return idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"rotating-{grace}",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": grace},
    )["UserPoolClient"]["ClientId"]


@pytest.fixture(scope="module")
def env(module_server: CognateServer) -> dict:
    idp = make_boto_client(module_server)
    pool_id, plain_client = create_pool_and_client(idp)
    create_confirmed_user(idp, pool_id, USERNAME)
    return {"srv": module_server, "idp": idp, "pool_id": pool_id, "plain_client": plain_client}


def sign_in(idp, client_id: str) -> dict:
    return idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": USERNAME, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]


def test_each_refresh_answers_a_new_token_and_the_old_one_is_refused(env: dict) -> None:
    idp = env["idp"]
    client_id = rotating_client(idp, env["pool_id"], 0)
    described = idp.describe_user_pool_client(UserPoolId=env["pool_id"], ClientId=client_id)
    assert described["UserPoolClient"]["RefreshTokenRotation"] == {
        "Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    token = sign_in(idp, client_id)["RefreshToken"]
    seen = {token}
    for _ in range(3):
        result = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)[
            "AuthenticationResult"]
        new = result["RefreshToken"]
        assert new not in seen
        seen.add(new)
        assert idp.get_user(AccessToken=result["AccessToken"])["Username"] == USERNAME
        with pytest.raises(idp.exceptions.RefreshTokenReuseException):
            idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
        token = new
    # InitiateAuth's refresh flow is not for a rotating client.
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                          AuthParameters={"REFRESH_TOKEN": token})
    assert error_code(e.value) == "InvalidParameterException"


def test_a_retry_within_the_grace_period_continues_the_same_session(env: dict) -> None:
    idp = env["idp"]
    client_id = rotating_client(idp, env["pool_id"], 60)
    token = sign_in(idp, client_id)["RefreshToken"]
    first = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
    retry = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
    a, b = first["AuthenticationResult"], retry["AuthenticationResult"]
    assert a["RefreshToken"] != b["RefreshToken"]
    for r in (a, b):
        idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=r["RefreshToken"])
    # Revoking the newest token ends the session: every token of the family is refused.
    idp.revoke_token(Token=b["RefreshToken"], ClientId=client_id)
    for t in (token, a["RefreshToken"], b["RefreshToken"]):
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=t)


def test_a_global_sign_out_refuses_the_rotated_tokens(env: dict) -> None:
    idp = env["idp"]
    client_id = rotating_client(idp, env["pool_id"], 60)
    login = sign_in(idp, client_id)
    rotated = idp.get_tokens_from_refresh_token(
        ClientId=client_id, RefreshToken=login["RefreshToken"])["AuthenticationResult"]
    idp.global_sign_out(AccessToken=rotated["AccessToken"])
    for t in (login["RefreshToken"], rotated["RefreshToken"]):
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=t)


def test_concurrent_uses_without_grace_rotate_once(env: dict) -> None:
    idp = env["idp"]
    client_id = rotating_client(idp, env["pool_id"], 0)
    token = sign_in(idp, client_id)["RefreshToken"]
    clients = [make_boto_client(env["srv"]) for _ in range(20)]
    barrier = threading.Barrier(len(clients))
    outcomes: list[str] = []
    lock = threading.Lock()

    def use(c) -> None:
        barrier.wait()
        try:
            c.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
            outcome = "ok"
        except ClientError as e:
            outcome = error_code(e)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "RefreshTokenReuseException"}, outcomes


def test_without_rotation_the_refresh_token_stays(env: dict) -> None:
    idp = env["idp"]
    client_id = env["plain_client"]
    described = idp.describe_user_pool_client(UserPoolId=env["pool_id"], ClientId=client_id)
    assert "RefreshTokenRotation" not in described["UserPoolClient"]
    token = sign_in(idp, client_id)["RefreshToken"]
    for _ in range(2):
        result = idp.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)[
            "AuthenticationResult"]
        assert "RefreshToken" not in result
        assert result["AccessToken"] and result["IdToken"]
    idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                      AuthParameters={"REFRESH_TOKEN": token})

"""Rules that span a read and a write, under real concurrent requests: dozens of
boto3 calls released at once by a barrier against the real server. Each rule must
hold exactly as it does for the same requests sent one after the other:

* parallel wrong passwords lock the account;
* a disable, a global sign-out or a revocation during concurrent logins and writes sticks;
* one confirmation code is used once, and parallel wrong guesses stop at the limit;
* one TOTP code is accepted once;
* N concurrent sign-ups of one username (or one email where email is the sign-in
  name, or one verified alias email) admit exactly one;
* a user added to a group while being deleted leaves no membership behind.

`deployment` gives the servers a test spreads its requests over (request i goes to
server i mod n): one cognate, or, on PostgreSQL, two cognates sharing one database.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pyotp
import pytest
from botocore.exceptions import ClientError

from conftest import (PASSWORD, create_confirmed_user, create_pool_and_client, fresh_postgres_database, latest_code,
                      make_boto_client, unique)

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
WIDTH = 40  # requests in flight at once


@pytest.fixture(params=["one-instance", "two-instances-on-postgres"])
def deployment(request, server) -> list:
    """One cognate (on the run's engine), or two sharing one PostgreSQL database with
    every other request on each."""
    # Cognito's lockout, with a first lock that no loaded machine outwaits
    # between two requests of a test.
    config = "lockout: {first_lock_seconds: 600, max_lock_seconds: 900}\n"
    if request.param == "one-instance":
        return [server(config=config)]
    database = fresh_postgres_database()
    a = server(config=config, start=False, database=database)
    b = server(config=config, start=False, database=database)
    # One service to its clients: the same issuer whichever instance signs.
    b.public_url = a.public_url
    return [a.start(), b.start()]


def fire(deployment: list, n: int, call: Callable[[Any, int], Any]) -> list[tuple[str, Any]]:
    """Runs call(client, i) for i in 0..n, all released at once, each with its own
    boto3 client of server i mod len(deployment). Returns ("ok", result) or
    (error code, message) per call, in order."""
    clients = [make_boto_client(deployment[i % len(deployment)]) for i in range(n)]
    barrier = threading.Barrier(n)

    def run(i: int) -> tuple[str, Any]:
        barrier.wait()
        try:
            return "ok", call(clients[i], i)
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def codes(results: list[tuple[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for code, _ in results:
        out[code] = out.get(code, 0) + 1
    return out


def login(idp, client_id: str, username: str, password: str = PASSWORD) -> dict:
    return idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


def setup_pool(deployment, **kw):
    idp = make_boto_client(deployment[0])
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS, **kw)
    return idp, pool_id, client_id


def test_parallel_wrong_passwords_lock_the_account(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("target")
    create_confirmed_user(idp, pool_id, user)

    results = fire(deployment, WIDTH, lambda c, i: login(c, client_id, user, f"Wrong-{i}-Passw0rd!"))
    assert all(code == "NotAuthorizedException" for code, _ in results), codes(results)
    messages = [m for _, m in results]
    # Every failure was counted: from the sixth on they say the account is locked.
    assert messages.count("Incorrect username or password.") <= 5, messages
    assert messages.count("Password attempts exceeded") >= WIDTH - 5, messages

    # The right password straight after is refused, as after sequential failures.
    with pytest.raises(ClientError) as err:
        login(idp, client_id, user)
    assert err.value.response["Error"]["Message"] == "Password attempts exceeded"


def test_sequential_wrong_passwords_lock_the_account_too(deployment) -> None:
    """The reference behaviour the parallel test is held to."""
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("target")
    create_confirmed_user(idp, pool_id, user)
    messages = []
    for i in range(6):
        with pytest.raises(ClientError) as err:
            login(make_boto_client(deployment[i % len(deployment)]), client_id, user, "Wrong-Passw0rd!")
        messages.append(err.value.response["Error"]["Message"])
    assert messages[:5] == ["Incorrect username or password."] * 5
    assert messages[5] == "Password attempts exceeded"
    with pytest.raises(ClientError) as err:
        login(idp, client_id, user)
    assert err.value.response["Error"]["Message"] == "Password attempts exceeded"


def test_disable_during_concurrent_logins_sticks(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("busy")
    create_confirmed_user(idp, pool_id, user)

    def call(c, i):
        if i == WIDTH // 2:
            return c.admin_disable_user(UserPoolId=pool_id, Username=user)
        if i % 3 == 0:
            return c.admin_update_user_attributes(
                UserPoolId=pool_id, Username=user, UserAttributes=[{"Name": "name", "Value": f"n{i}"}]
            )
        return login(c, client_id, user)

    results = fire(deployment, WIDTH, call)
    assert results[WIDTH // 2][0] == "ok", results[WIDTH // 2]
    assert all(code in ("ok", "NotAuthorizedException") for code, _ in results), codes(results)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=user)["Enabled"] is False
    with pytest.raises(ClientError) as err:
        login(idp, client_id, user)
    assert err.value.response["Error"]["Message"] == "User is disabled."
    # Tokens handed out by logins that finished around the disable are refused.
    for code, result in results:
        if code == "ok" and "AuthenticationResult" in result:
            with pytest.raises(ClientError) as err:
                idp.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])
            assert err.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_global_sign_out_during_writes_and_refreshes_sticks(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("signout")
    create_confirmed_user(idp, pool_id, user)
    sessions = [login(idp, client_id, user)["AuthenticationResult"] for _ in range(4)]

    def call(c, i):
        if i == WIDTH // 2:
            return c.admin_user_global_sign_out(UserPoolId=pool_id, Username=user)
        if i % 2 == 0:
            return c.admin_update_user_attributes(
                UserPoolId=pool_id, Username=user, UserAttributes=[{"Name": "name", "Value": f"n{i}"}]
            )
        s = sessions[i % len(sessions)]
        return c.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": s["RefreshToken"]}
        )

    results = fire(deployment, WIDTH, call)
    assert results[WIDTH // 2][0] == "ok", results[WIDTH // 2]
    # After the sign-out: every earlier session's refresh and access tokens are refused,
    # and so are the ID/access tokens that refreshes returned around it.
    for s in sessions:
        with pytest.raises(ClientError) as err:
            idp.initiate_auth(
                ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": s["RefreshToken"]}
            )
        assert err.value.response["Error"]["Code"] == "NotAuthorizedException"
        with pytest.raises(ClientError):
            idp.get_user(AccessToken=s["AccessToken"])
    for code, result in results:
        if code == "ok" and "AuthenticationResult" in result:
            with pytest.raises(ClientError):
                idp.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])
    # The concurrent attribute writes were not lost either (the last one wins, none is undone).
    name = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username=user)["UserAttributes"]}
    assert name.get("name", "").startswith("n")
    # A new sign-in works.
    assert "AccessToken" in login(idp, client_id, user)["AuthenticationResult"]


def test_revoke_token_during_refreshes_sticks(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("revoke")
    create_confirmed_user(idp, pool_id, user)
    session = login(idp, client_id, user)["AuthenticationResult"]
    refresh = session["RefreshToken"]

    def call(c, i):
        if i == WIDTH // 2:
            return c.revoke_token(Token=refresh, ClientId=client_id)
        return c.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh}
        )

    results = fire(deployment, WIDTH, call)
    assert results[WIDTH // 2][0] == "ok", results[WIDTH // 2]
    with pytest.raises(ClientError):
        idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh})
    with pytest.raises(ClientError):
        idp.get_user(AccessToken=session["AccessToken"])
    for code, result in results:
        if code == "ok" and "AuthenticationResult" in result:
            with pytest.raises(ClientError):
                idp.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])


def test_a_reset_code_is_used_once_by_parallel_requests(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("reset")
    create_confirmed_user(idp, pool_id, user)
    idp.forgot_password(ClientId=client_id, Username=user)
    code = latest_code(deployment[0], user, pool_id=pool_id)
    n = 20
    results = fire(
        deployment,
        n,
        lambda c, i: c.confirm_forgot_password(
            ClientId=client_id, Username=user, ConfirmationCode=code, Password=f"New-Passw0rd-{i}!"
        ),
    )
    winners = [i for i, (c, _) in enumerate(results) if c == "ok"]
    assert len(winners) == 1, codes(results)
    assert all(c in ("ok", "ExpiredCodeException", "CodeMismatchException") for c, _ in results), codes(results)
    # The winner's password is the one that works.
    assert "AccessToken" in login(idp, client_id, user, f"New-Passw0rd-{winners[0]}!")["AuthenticationResult"]


def test_parallel_wrong_codes_stop_at_the_attempt_limit(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("guess")
    create_confirmed_user(idp, pool_id, user)
    idp.forgot_password(ClientId=client_id, Username=user)
    code = latest_code(deployment[0], user, pool_id=pool_id)
    wrong = [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, WIDTH + 1)]
    results = fire(
        deployment,
        WIDTH,
        lambda c, i: c.confirm_forgot_password(
            ClientId=client_id, Username=user, ConfirmationCode=wrong[i], Password="New-Passw0rd!"
        ),
    )
    seen = codes(results)
    assert seen.get("CodeMismatchException", 0) == 5, seen
    assert seen.get("LimitExceededException", 0) == WIDTH - 5, seen
    # The right code is now refused too: the guesses used it up.
    with pytest.raises(ClientError) as err:
        idp.confirm_forgot_password(ClientId=client_id, Username=user, ConfirmationCode=code, Password="New-Passw0rd!")
    assert err.value.response["Error"]["Code"] == "LimitExceededException"


def test_one_totp_code_is_accepted_once(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True}
    )
    user = unique("otp")
    create_confirmed_user(idp, pool_id, user)
    token = login(idp, client_id, user)["AuthenticationResult"]["AccessToken"]
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).now())
    idp.set_user_mfa_preference(
        AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    n = 12
    sessions = [login(idp, client_id, user)["Session"] for _ in range(n)]
    # The next step's code: inside the ±1 step window and not used before.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    results = fire(
        deployment,
        n,
        lambda c, i: c.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=sessions[i],
            ChallengeResponses={"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code},
        ),
    )
    seen = codes(results)
    assert seen.get("ok", 0) == 1, seen
    # The others hear that the code's time step was used (Cognito's answer).
    assert seen.get("ExpiredCodeException", 0) == n - 1, seen


def test_concurrent_sign_ups_of_one_username_admit_one(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    user = unique("same")
    results = fire(
        deployment,
        WIDTH,
        lambda c, i: c.sign_up(
            ClientId=client_id,
            Username=user,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"u{i}@example.com"}],
        ),
    )
    seen = codes(results)
    assert seen == {"ok": 1, "UsernameExistsException": WIDTH - 1}, seen
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1


def test_concurrent_sign_ups_of_one_email_admit_one(deployment) -> None:
    """Email as the sign-in name (UsernameAttributes): unique across the pool."""
    idp, pool_id, client_id = setup_pool(deployment, UsernameAttributes=["email"])
    email = f"{unique('same')}@example.com"
    results = fire(deployment, WIDTH, lambda c, i: c.sign_up(ClientId=client_id, Username=email, Password=PASSWORD))
    seen = codes(results)
    assert seen == {"ok": 1, "UsernameExistsException": WIDTH - 1}, seen
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1


def test_concurrent_verified_alias_emails_admit_one(deployment) -> None:
    """Email as an alias (AliasAttributes): one verified holder."""
    idp, pool_id, client_id = setup_pool(deployment, AliasAttributes=["email"])
    email = f"{unique('alias')}@example.com"
    results = fire(
        deployment,
        WIDTH,
        lambda c, i: c.admin_create_user(
            UserPoolId=pool_id,
            Username=f"user{i}",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        ),
    )
    seen = codes(results)
    assert seen == {"ok": 1, "AliasExistsException": WIDTH - 1}, seen
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1


def test_a_user_added_to_a_group_while_deleted_leaves_no_membership(deployment) -> None:
    idp, pool_id, client_id = setup_pool(deployment)
    idp.create_group(UserPoolId=pool_id, GroupName="admins")
    for round in range(3):
        user = unique(f"victim{round}")
        create_confirmed_user(idp, pool_id, user)

        def call(c, i):
            if i == 10:
                return c.admin_delete_user(UserPoolId=pool_id, Username=user)
            return c.admin_add_user_to_group(UserPoolId=pool_id, Username=user, GroupName="admins")

        results = fire(deployment, 20, call)
        assert results[10][0] == "ok", results[10]
        assert all(c in ("ok", "UserNotFoundException") for c, _ in results), codes(results)
        # A new user of the same name is in no group.
        create_confirmed_user(idp, pool_id, user)
        assert idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=user)["Groups"] == []
        assert user not in [u["Username"] for u in idp.list_users_in_group(UserPoolId=pool_id, GroupName="admins")["Users"]]

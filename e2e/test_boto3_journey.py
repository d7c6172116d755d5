"""The journey with boto3, plus the error paths a boto3 user meets.

One cognate process for the module; every test makes its own pool and client."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import (
    CLIENT_ID_RE, PASSWORD, POOL_ID_RE, TUTORIAL_FLOWS, UUID_RE, CognateServer,
    create_confirmed_user, create_pool_and_client, error_code, error_message,
    latest_message, make_boto_client, read_outbox,
)


@pytest.fixture(scope="module")
def idp(module_server: CognateServer):
    return make_boto_client(module_server)


@pytest.fixture
def pool(idp) -> tuple[str, str]:
    pool_id, client_id = create_pool_and_client(idp)
    assert POOL_ID_RE.match(pool_id), pool_id
    assert CLIENT_ID_RE.match(client_id), client_id
    return pool_id, client_id


def expect_error(code: str, fn, /, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    got = error_code(info.value)
    assert got == code, (
        f"{fn.__name__}({kwargs}) raised {got}: {error_message(info.value)!r}; expected {code}"
    )
    status = info.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 400, f"{code} should be HTTP 400, got {status}"
    return info.value


def password_login(idp, client_id: str, username: str, password: str = PASSWORD) -> dict:
    return idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )


def wrong_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_sign_up_confirm_with_emailed_code_and_log_in(idp, pool, module_server) -> None:
    pool_id, client_id = pool
    signed = idp.sign_up(
        ClientId=client_id, Username="joe_bloggs", Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "joe@example.com"}],
    )
    assert signed["UserConfirmed"] is False, signed
    assert UUID_RE.match(signed["UserSub"]), f"UserSub is not a UUID: {signed['UserSub']!r}"
    details = signed.get("CodeDeliveryDetails", {})
    assert details.get("DeliveryMedium") == "EMAIL" and details.get("AttributeName") == "email", signed
    assert details.get("Destination") and details["Destination"] != "joe@example.com", (
        f"CodeDeliveryDetails.Destination should be masked like j***@e***: {details}"
    )

    msg = latest_message(module_server, "joe_bloggs", pool_id=pool_id)
    assert msg.get("kind") == "signup", msg
    assert msg.get("destination") == "joe@example.com", msg
    assert msg.get("subject"), msg
    assert msg["code"] in msg.get("body", ""), f"the code must appear in the message body: {msg}"

    err = expect_error("UserNotConfirmedException", password_login, idp=idp, client_id=client_id, username="joe_bloggs")
    assert error_message(err) == "User is not confirmed.", error_message(err)

    err = expect_error("CodeMismatchException", idp.confirm_sign_up,
                       ClientId=client_id, Username="joe_bloggs", ConfirmationCode=wrong_code(msg["code"]))
    assert error_message(err) == "Invalid verification code provided, please try again.", error_message(err)

    before = len(read_outbox(module_server))
    resent = idp.resend_confirmation_code(ClientId=client_id, Username="joe_bloggs")
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL", resent
    resend_msg = latest_message(module_server, "joe_bloggs", pool_id=pool_id, after=before)
    assert resend_msg.get("kind") == "resend", resend_msg

    idp.confirm_sign_up(ClientId=client_id, Username="joe_bloggs", ConfirmationCode=resend_msg["code"])
    user = idp.admin_get_user(UserPoolId=pool_id, Username="joe_bloggs")
    assert user["UserStatus"] == "CONFIRMED", user
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs.get("email_verified") == "true", f"confirming by emailed code verifies the email: {attrs}"
    assert attrs.get("sub") == signed["UserSub"], attrs

    err = expect_error("NotAuthorizedException", idp.confirm_sign_up,
                       ClientId=client_id, Username="joe_bloggs", ConfirmationCode=resend_msg["code"])
    assert "CONFIRMED" in error_message(err), error_message(err)

    result = password_login(idp, client_id, "joe_bloggs")["AuthenticationResult"]
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(result), sorted(result)
    me = idp.get_user(AccessToken=result["AccessToken"])
    assert me["Username"] == "joe_bloggs", me

    admin = idp.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "joe_bloggs", "PASSWORD": PASSWORD},
    )
    assert admin["AuthenticationResult"]["AccessToken"], admin

    refreshed = idp.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
    )["AuthenticationResult"]
    assert "RefreshToken" not in refreshed and refreshed["AccessToken"], refreshed
    assert idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == "joe_bloggs"

    err = expect_error("NotAuthorizedException", password_login,
                       idp=idp, client_id=client_id, username="joe_bloggs", password="WrongPassw0rd!")
    assert error_message(err) == "Incorrect username or password.", error_message(err)


def test_username_exists(idp, pool) -> None:
    _, client_id = pool
    kw = dict(ClientId=client_id, Username="joe_bloggs", Password=PASSWORD,
              UserAttributes=[{"Name": "email", "Value": "joe@example.com"}])
    idp.sign_up(**kw)
    err = expect_error("UsernameExistsException", idp.sign_up, **kw)
    assert error_message(err) == "User already exists", error_message(err)


@pytest.mark.parametrize(
    "password",
    ["Sh0rt!", "alllowercase1!", "ALLUPPERCASE1!", "NoNumbers!!", "NoSymbols123"],
)
def test_weak_password_is_rejected(idp, pool, password: str) -> None:
    _, client_id = pool
    err = expect_error("InvalidPasswordException", idp.sign_up,
                       ClientId=client_id, Username="weak", Password=password,
                       UserAttributes=[{"Name": "email", "Value": "weak@example.com"}])
    assert error_message(err).startswith("Password did not conform with policy"), error_message(err)


def test_unknown_pool_and_client(idp, pool) -> None:
    pool_id, client_id = pool
    missing_pool = "us-east-1_NoSuchPo0"
    err = expect_error("ResourceNotFoundException", idp.describe_user_pool, UserPoolId=missing_pool)
    assert missing_pool in error_message(err), error_message(err)
    expect_error("ResourceNotFoundException", idp.admin_get_user, UserPoolId=missing_pool, Username="joe")
    expect_error("ResourceNotFoundException", idp.list_users, UserPoolId=missing_pool)

    missing_client = "abcdefghijklmnopqrstuvwxyz"
    err = expect_error("ResourceNotFoundException", idp.initiate_auth, ClientId=missing_client,
                       AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "joe", "PASSWORD": PASSWORD})
    assert missing_client in error_message(err), error_message(err)
    expect_error("ResourceNotFoundException", idp.sign_up, ClientId=missing_client, Username="joe", Password=PASSWORD)
    expect_error("ResourceNotFoundException", idp.describe_user_pool_client,
                 UserPoolId=pool_id, ClientId=missing_client)
    expect_error("UserNotFoundException", idp.admin_get_user, UserPoolId=pool_id, Username="nobody")


def test_admin_set_user_password(idp, pool) -> None:
    pool_id, client_id = pool
    idp.admin_create_user(UserPoolId=pool_id, Username="carol", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    status = lambda: idp.admin_get_user(UserPoolId=pool_id, Username="carol")["UserStatus"]  # noqa: E731
    assert status() == "FORCE_CHANGE_PASSWORD"

    idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password="Perm4nent!", Permanent=True)
    assert status() == "CONFIRMED"
    result = password_login(idp, client_id, "carol", "Perm4nent!")
    assert "AuthenticationResult" in result and "ChallengeName" not in result, result

    idp.admin_set_user_password(UserPoolId=pool_id, Username="carol", Password="Temp0rary!", Permanent=False)
    assert status() == "FORCE_CHANGE_PASSWORD"
    expect_error("NotAuthorizedException", password_login, idp=idp, client_id=client_id,
                 username="carol", password="Perm4nent!")
    challenge = password_login(idp, client_id, "carol", "Temp0rary!")
    assert challenge.get("ChallengeName") == "NEW_PASSWORD_REQUIRED", challenge

    answered = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "carol", "NEW_PASSWORD": "Fin4lPassword!"},
    )
    assert answered["AuthenticationResult"]["AccessToken"], answered
    assert status() == "CONFIRMED"
    assert "AuthenticationResult" in password_login(idp, client_id, "carol", "Fin4lPassword!")

    expect_error("InvalidPasswordException", idp.admin_set_user_password,
                 UserPoolId=pool_id, Username="carol", Password="weak", Permanent=True)


def test_list_users_pagination(idp, pool) -> None:
    pool_id, _ = pool
    names = {f"user{i:02d}" for i in range(7)}
    for name in sorted(names):
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])

    seen: list[str] = []
    pages = 0
    kwargs: dict = {"UserPoolId": pool_id, "Limit": 3}
    while True:
        page = idp.list_users(**kwargs)
        pages += 1
        assert len(page["Users"]) <= 3, f"page of {len(page['Users'])} users exceeds Limit=3"
        seen += [u["Username"] for u in page["Users"]]
        token = page.get("PaginationToken")
        if not token:
            break
        assert pages < 10, "pagination does not terminate"
        kwargs["PaginationToken"] = token
    assert sorted(seen) == sorted(names), f"Limit=3 pages returned {seen}"
    assert pages == 3, f"7 users at Limit=3 should take 3 pages, took {pages}"

    paginator = idp.get_paginator("list_users")
    page_sizes = []
    via_paginator: list[str] = []
    for page in paginator.paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 2}):
        page_sizes.append(len(page["Users"]))
        via_paginator += [u["Username"] for u in page["Users"]]
    assert sorted(via_paginator) == sorted(names), via_paginator
    assert page_sizes == [2, 2, 2, 1], f"paginator PageSize=2 gave pages {page_sizes}"

    every = idp.list_users(UserPoolId=pool_id)
    assert sorted(u["Username"] for u in every["Users"]) == sorted(names)
    assert not every.get("PaginationToken"), "no token on the last page"
    sample = every["Users"][0]
    assert {"Username", "Attributes", "UserStatus", "Enabled", "UserCreateDate"} <= set(sample), sample


def test_delete_user_with_access_token(idp, pool) -> None:
    pool_id, client_id = pool
    create_confirmed_user(idp, pool_id, "dora")
    token = password_login(idp, client_id, "dora")["AuthenticationResult"]["AccessToken"]

    idp.delete_user(AccessToken=token)
    expect_error("UserNotFoundException", idp.admin_get_user, UserPoolId=pool_id, Username="dora")
    with pytest.raises(ClientError) as info:
        password_login(idp, client_id, "dora")
    assert error_code(info.value) in ("UserNotFoundException", "NotAuthorizedException"), info.value.response
    with pytest.raises(ClientError) as info:
        idp.get_user(AccessToken=token)
    assert error_code(info.value) in ("NotAuthorizedException", "UserNotFoundException"), info.value.response

    # The username is free again.
    idp.sign_up(ClientId=client_id, Username="dora", Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": "dora@example.com"}])


def test_client_without_user_password_flow(idp, pool) -> None:
    pool_id, _ = pool
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="admin-only",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    create_confirmed_user(idp, pool_id, "erin")
    err = expect_error("InvalidParameterException", password_login, idp=idp, client_id=client_id, username="erin")
    assert "USER_PASSWORD_AUTH flow not enabled for this client" in error_message(err), error_message(err)
    # The admin flow it does allow still works.
    ok = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "erin", "PASSWORD": PASSWORD})
    assert ok["AuthenticationResult"]["IdToken"], ok


def test_pool_and_client_describe_round_trip(idp, pool) -> None:
    pool_id, client_id = pool
    desc = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert desc["ClientId"] == client_id and desc["UserPoolId"] == pool_id, desc
    assert sorted(desc["ExplicitAuthFlows"]) == sorted(TUTORIAL_FLOWS), desc
    pools = idp.list_user_pools(MaxResults=60)["UserPools"]
    assert pool_id in [p["Id"] for p in pools], pools
    clients = idp.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
    assert [c["ClientId"] for c in clients] == [client_id], clients

"""The seeds' journey with the real, unmodified `aws` CLI (v1) as a subprocess."""

from __future__ import annotations

import base64
import json

import pytest

from conftest import CLIENT_ID_RE, POOL_ID_RE, TUTORIAL_FLOWS, AwsCli

NEW_PASSWORD = "N3wPassw0rd!"


def b64url_json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def assert_jwt(token: str, what: str) -> dict:
    parts = token.split(".")
    assert len(parts) == 3, f"{what} is not a compact JWS (3 dot-separated parts): {token[:80]!r}"
    header = b64url_json(parts[0])
    assert header.get("alg") == "RS256", f"{what} header alg is {header.get('alg')!r}, want RS256: {header}"
    assert header.get("kid"), f"{what} header has no kid: {header}"
    return b64url_json(parts[1])


@pytest.fixture
def pool(aws_cli: AwsCli) -> tuple[str, str]:
    """create-user-pool (default policy) + create-user-pool-client with the tutorial's flows."""
    created = aws_cli("create-user-pool", "--pool-name", "todo-user-pool")
    pool_id = created["UserPool"]["Id"]
    client = aws_cli(
        "create-user-pool-client", "--user-pool-id", pool_id, "--client-name", "todo-app-client",
        "--explicit-auth-flows", *TUTORIAL_FLOWS,
    )
    return pool_id, client["UserPoolClient"]["ClientId"]


def test_create_pool_and_client_with_defaults(aws_cli: AwsCli) -> None:
    created = aws_cli("create-user-pool", "--pool-name", "todo-user-pool")["UserPool"]
    pool_id = created["Id"]
    assert POOL_ID_RE.match(pool_id), f"pool id {pool_id!r} does not look like us-east-1_XXXXXXXXX"
    assert created["Name"] == "todo-user-pool"
    policy = created.get("Policies", {}).get("PasswordPolicy")
    assert policy, f"CreateUserPool output lacks Policies.PasswordPolicy: {created}"
    assert policy.get("MinimumLength") == 8, f"default MinimumLength should be 8: {policy}"
    for flag in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols"):
        assert policy.get(flag) is True, f"default {flag} should be true: {policy}"

    described = aws_cli("describe-user-pool", "--user-pool-id", pool_id)["UserPool"]
    assert described["Id"] == pool_id and described["Name"] == "todo-user-pool", described
    assert described["Policies"]["PasswordPolicy"] == policy, "describe-user-pool policy differs from create"

    client = aws_cli(
        "create-user-pool-client", "--user-pool-id", pool_id, "--client-name", "todo-app-client",
        "--explicit-auth-flows", *TUTORIAL_FLOWS,
    )["UserPoolClient"]
    assert CLIENT_ID_RE.match(client["ClientId"]), f"client id {client['ClientId']!r} is not 26 [a-z0-9]"
    assert client["UserPoolId"] == pool_id
    assert client["ClientName"] == "todo-app-client"
    assert sorted(client.get("ExplicitAuthFlows", [])) == sorted(TUTORIAL_FLOWS), client
    assert "ClientSecret" not in client, "no secret was asked for"


def test_sign_up_confirm_login_refresh(aws_cli: AwsCli, pool: tuple[str, str]) -> None:
    pool_id, client_id = pool
    signed = aws_cli(
        "sign-up", "--client-id", client_id, "--username", "joe_bloggs", "--password", "Passw0rd!",
        "--user-attributes", "Name=email,Value=joe@example.com",
    )
    assert signed.get("UserConfirmed") is False, f"sign-up must leave the user unconfirmed: {signed}"
    assert signed.get("UserSub"), f"sign-up returned no UserSub: {signed}"

    unconfirmed = aws_cli("admin-get-user", "--user-pool-id", pool_id, "--username", "joe_bloggs")
    assert unconfirmed["UserStatus"] == "UNCONFIRMED", unconfirmed

    assert aws_cli("admin-confirm-sign-up", "--user-pool-id", pool_id, "--username", "joe_bloggs") == {}

    # The tutorial's exact command line: a bare JWT on stdout.
    id_token = aws_cli.text(
        "admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
        "--auth-flow", "ADMIN_NO_SRP_AUTH",
        "--auth-parameters", "USERNAME=joe_bloggs,PASSWORD=Passw0rd!",
        "--query", "AuthenticationResult.IdToken",
    )
    claims = assert_jwt(id_token, "IdToken")
    assert claims.get("cognito:username") == "joe_bloggs", claims
    assert claims.get("email") == "joe@example.com", claims
    assert claims.get("sub") == signed["UserSub"], "ID token sub differs from sign-up UserSub"

    auth = aws_cli(
        "admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
        "--auth-flow", "ADMIN_NO_SRP_AUTH",
        "--auth-parameters", "USERNAME=joe_bloggs,PASSWORD=Passw0rd!",
    )
    result = auth.get("AuthenticationResult")
    assert result, f"no AuthenticationResult: {auth}"
    assert "ChallengeName" not in auth, auth
    assert result.get("TokenType") == "Bearer" and result.get("ExpiresIn") == 3600, result
    for key in ("AccessToken", "IdToken", "RefreshToken"):
        assert result.get(key), f"AuthenticationResult lacks {key}: {sorted(result)}"
    assert_jwt(result["AccessToken"], "AccessToken")

    me = aws_cli("get-user", "--access-token", result["AccessToken"])
    assert me["Username"] == "joe_bloggs", me
    attrs = {a["Name"]: a["Value"] for a in me["UserAttributes"]}
    assert attrs.get("email") == "joe@example.com" and attrs.get("sub") == signed["UserSub"], attrs

    refreshed = aws_cli(
        "initiate-auth", "--client-id", client_id, "--auth-flow", "REFRESH_TOKEN_AUTH",
        "--auth-parameters", json.dumps({"REFRESH_TOKEN": result["RefreshToken"]}),
    )["AuthenticationResult"]
    assert refreshed.get("AccessToken") and refreshed.get("IdToken"), refreshed
    assert "RefreshToken" not in refreshed, "REFRESH_TOKEN_AUTH must not return a new RefreshToken"
    assert aws_cli("get-user", "--access-token", refreshed["AccessToken"])["Username"] == "joe_bloggs"

    user = aws_cli("admin-get-user", "--user-pool-id", pool_id, "--username", "joe_bloggs")
    assert user["UserStatus"] == "CONFIRMED", user
    assert user["Enabled"] is True, user

    listed = aws_cli("list-users", "--user-pool-id", pool_id, "--filter", 'email = "joe@example.com"')
    assert [u["Username"] for u in listed["Users"]] == ["joe_bloggs"], listed
    assert aws_cli("list-users", "--user-pool-id", pool_id, "--filter", 'email = "nobody@example.com"')["Users"] == []

    described = aws_cli("describe-user-pool", "--user-pool-id", pool_id)["UserPool"]
    assert described["Id"] == pool_id and described["Name"] == "todo-user-pool", described
    if "EstimatedNumberOfUsers" in described:
        assert described["EstimatedNumberOfUsers"] == 1, described


def test_admin_create_user_new_password_required(aws_cli: AwsCli, pool: tuple[str, str]) -> None:
    """The tutorial's admin path: temporary password, auth.json, challenge.json."""
    pool_id, client_id = pool
    created = aws_cli(
        "admin-create-user", "--user-pool-id", pool_id, "--username", "jane",
        "--temporary-password", "TempPassw0rd!", "--message-action", "SUPPRESS",
        "--user-attributes", "Name=email,Value=jane@example.com",
    )["User"]
    assert created["Username"] == "jane" and created["UserStatus"] == "FORCE_CHANGE_PASSWORD", created
    assert created["Enabled"] is True, created

    (aws_cli.cwd / "auth.json").write_text(json.dumps({
        "UserPoolId": pool_id, "ClientId": client_id, "AuthFlow": "ADMIN_NO_SRP_AUTH",
        "AuthParameters": {"USERNAME": "jane", "PASSWORD": "TempPassw0rd!"},
    }, indent=4))
    challenge = aws_cli("admin-initiate-auth", "--cli-input-json", "file://auth.json")
    assert challenge.get("ChallengeName") == "NEW_PASSWORD_REQUIRED", challenge
    assert "AuthenticationResult" not in challenge, challenge
    session = challenge.get("Session")
    assert isinstance(session, str) and len(session) >= 20, f"Session must be 20..2048 chars: {challenge}"

    (aws_cli.cwd / "challenge.json").write_text(json.dumps({
        "UserPoolId": pool_id, "ClientId": client_id, "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "ChallengeResponses": {"USERNAME": "jane", "NEW_PASSWORD": NEW_PASSWORD},
        "Session": session,
    }, indent=4))
    answered = aws_cli("admin-respond-to-auth-challenge", "--cli-input-json", "file://challenge.json")
    result = answered.get("AuthenticationResult")
    assert result and result.get("IdToken") and result.get("AccessToken") and result.get("RefreshToken"), answered

    assert aws_cli("get-user", "--access-token", result["AccessToken"])["Username"] == "jane"
    assert aws_cli("admin-get-user", "--user-pool-id", pool_id, "--username", "jane")["UserStatus"] == "CONFIRMED"

    # From now on the plain login works with the new password...
    again = aws_cli(
        "admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
        "--auth-flow", "ADMIN_NO_SRP_AUTH", "--auth-parameters", f"USERNAME=jane,PASSWORD={NEW_PASSWORD}",
    )
    assert again.get("AuthenticationResult", {}).get("IdToken"), again
    # ...and no longer with the temporary one.
    r = aws_cli.fails(
        "admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
        "--auth-flow", "ADMIN_NO_SRP_AUTH", "--auth-parameters", "USERNAME=jane,PASSWORD=TempPassw0rd!",
    )
    assert "NotAuthorizedException" in r.stderr, r.describe()


def test_wrong_password_is_not_authorized(aws_cli: AwsCli, pool: tuple[str, str]) -> None:
    pool_id, client_id = pool
    aws_cli("sign-up", "--client-id", client_id, "--username", "joe_bloggs", "--password", "Passw0rd!",
            "--user-attributes", "Name=email,Value=joe@example.com")
    aws_cli("admin-confirm-sign-up", "--user-pool-id", pool_id, "--username", "joe_bloggs")

    r = aws_cli.fails(
        "admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
        "--auth-flow", "ADMIN_NO_SRP_AUTH", "--auth-parameters", "USERNAME=joe_bloggs,PASSWORD=WrongPassw0rd!",
    )
    assert "NotAuthorizedException" in r.stderr, r.describe()
    assert "Incorrect username or password." in r.stderr, r.describe()
    assert r.stdout.strip() == "", f"nothing should be printed on stdout on error:\n{r.describe()}"

    # The public flow says the same.
    r = aws_cli.fails(
        "initiate-auth", "--client-id", client_id, "--auth-flow", "USER_PASSWORD_AUTH",
        "--auth-parameters", "USERNAME=joe_bloggs,PASSWORD=WrongPassw0rd!",
    )
    assert "NotAuthorizedException" in r.stderr and "Incorrect username or password." in r.stderr, r.describe()


def test_groups_sign_out_and_account_state_with_the_cli(aws_cli: AwsCli, pool: tuple[str, str]) -> None:
    """Issue-4 operations through the CLI: groups in tokens, sign-out, disable, recovery state."""
    pool_id, client_id = pool
    aws_cli("admin-create-user", "--user-pool-id", pool_id, "--username", "gina",
            "--user-attributes", "Name=email,Value=gina@example.com", "Name=email_verified,Value=true",
            "--message-action", "SUPPRESS")
    aws_cli("admin-set-user-password", "--user-pool-id", pool_id, "--username", "gina",
            "--password", NEW_PASSWORD, "--permanent")
    aws_cli("create-group", "--user-pool-id", pool_id, "--group-name", "editors", "--precedence", "1")
    aws_cli("admin-add-user-to-group", "--user-pool-id", pool_id, "--username", "gina", "--group-name", "editors")
    groups = aws_cli("admin-list-groups-for-user", "--user-pool-id", pool_id, "--username", "gina")["Groups"]
    assert [g["GroupName"] for g in groups] == ["editors"]

    login = ["admin-initiate-auth", "--user-pool-id", pool_id, "--client-id", client_id,
             "--auth-flow", "ADMIN_NO_SRP_AUTH", "--auth-parameters", f"USERNAME=gina,PASSWORD={NEW_PASSWORD}"]
    result = aws_cli(*login)["AuthenticationResult"]
    assert assert_jwt(result["IdToken"], "id token")["cognito:groups"] == ["editors"]

    aws_cli("admin-user-global-sign-out", "--user-pool-id", pool_id, "--username", "gina")
    failed = aws_cli.fails("get-user", "--access-token", result["AccessToken"])
    assert "NotAuthorizedException" in failed.stderr and "Access Token has been revoked" in failed.stderr

    aws_cli("admin-disable-user", "--user-pool-id", pool_id, "--username", "gina")
    failed = aws_cli.fails(*login)
    assert "User is disabled." in failed.stderr
    aws_cli("admin-enable-user", "--user-pool-id", pool_id, "--username", "gina")

    aws_cli("admin-reset-user-password", "--user-pool-id", pool_id, "--username", "gina")
    failed = aws_cli.fails(*login)
    assert "PasswordResetRequiredException" in failed.stderr

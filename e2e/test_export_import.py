"""`cognate export` / `cognate import`: a backup and restore loses nothing and
needs no password reset. State is made through the real API (boto3), exported
from one server's database, imported into a fresh one, and checked there with
real clients: the same passwords sign in (password and SRP flows), the same TOTP
secret answers MFA, the same keys verify tokens issued before the move, groups,
clients, domains and branding are there; and exporting the restored database
gives the same file again (round trip)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito import Cognito

from conftest import PASSWORD, cognate_bin, create_confirmed_user, make_boto_client, store_args, unique

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
         "ALLOW_ADMIN_USER_PASSWORD_AUTH"]


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(cognate_bin()), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"cognate {' '.join(args)} failed:\n{done.stderr}"
    return done


def records(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert lines[0]["type"] == "header" and lines[0]["cognate_export"] == 1
    return lines[1:]


def test_export_then_import_restores_everything(server, tmp_path: Path) -> None:
    src = server()
    idp = make_boto_client(src)
    pool = idp.create_user_pool(
        PoolName=unique("pool"), UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]
    pool_id = pool["Id"]
    public = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="public", ExplicitAuthFlows=FLOWS)["UserPoolClient"]
    secret = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="secret", GenerateSecret=True,
                                         ExplicitAuthFlows=FLOWS)["UserPoolClient"]
    idp.create_group(UserPoolId=pool_id, GroupName="admins", Precedence=1, Description="the admins")
    idp.create_group(UserPoolId=pool_id, GroupName="readers")
    idp.create_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com", Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    domain = unique("move")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    idp.set_ui_customization(UserPoolId=pool_id, CSS=".banner-customizable {background-color: #123456;}")

    alice, bob, carol = (f"{unique(n)}@example.com" for n in ("alice", "bob", "carol"))
    for u in (alice, bob, carol):
        create_confirmed_user(idp, pool_id, u, email=u)
    idp.admin_update_user_attributes(UserPoolId=pool_id, Username=alice,
                                     UserAttributes=[{"Name": "custom:team", "Value": "red"}])
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=alice, GroupName="admins")
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=alice, GroupName="readers")
    idp.admin_disable_user(UserPoolId=pool_id, Username=carol)
    # Alice has a Google identity linked to her.
    idp.create_identity_provider(UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
                                 ProviderDetails={"client_id": "id", "client_secret": "secret",
                                                  "authorize_scopes": "openid email"})
    google = {"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
              "ProviderAttributeValue": "google-sub-1"}
    # (The destination is named by its username, which an email-username pool made a UUID.)
    alice_name = idp.admin_get_user(UserPoolId=pool_id, Username=alice)["Username"]
    bob_name = idp.admin_get_user(UserPoolId=pool_id, Username=bob)["Username"]
    idp.admin_link_provider_for_user(
        UserPoolId=pool_id, SourceUser=google,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": alice_name})
    # Bob has TOTP MFA.
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    bob_token = idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": bob, "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"]
    totp_secret = idp.associate_software_token(AccessToken=bob_token)["SecretCode"]
    idp.verify_software_token(AccessToken=bob_token, UserCode=pyotp.TOTP(totp_secret).now())
    idp.set_user_mfa_preference(AccessToken=bob_token,
                                SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    before = idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": alice, "PASSWORD": PASSWORD})["AuthenticationResult"]
    revoked = idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": alice, "PASSWORD": PASSWORD})["AuthenticationResult"]
    idp.revoke_token(Token=revoked["RefreshToken"], ClientId=public["ClientId"])
    jwks_before = requests.get(src.jwks_url(pool_id), timeout=5).json()

    dump = tmp_path / "backup.jsonl"
    tool("export", *store_args(src), "--output", str(dump))
    text = dump.read_text()
    assert PASSWORD not in text  # hashes, never passwords
    kinds = [r["type"] for r in records(dump)]
    for kind in ("pool", "client", "group", "resource_server", "domain", "ui", "user"):
        assert kind in kinds, kinds

    dst = server(start=False)
    # The restored server takes the old one's place: same address, same issuer.
    dst.port, dst.url, dst.public_url = src.port, src.url, src.public_url
    done = tool("import", str(dump), *store_args(dst))
    assert "imported 1 pool(s) and 3 user(s); 0 record(s) skipped" in done.stderr, done.stderr
    # Round trip: the restored database exports to the same records.
    again = tmp_path / "again.jsonl"
    tool("export", *store_args(dst), "--output", str(again))
    assert records(again) == records(dump)
    src.stop()
    dst.start()
    idp = make_boto_client(dst)

    # Same keys: the JWKS, and tokens issued before the move still verify.
    assert requests.get(dst.jwks_url(pool_id), timeout=5).json() == jwks_before
    assert idp.get_user(AccessToken=before["AccessToken"])["Username"]
    # A session revoked before the move stays revoked.
    with pytest.raises(ClientError) as err:
        idp.get_user(AccessToken=revoked["AccessToken"])
    assert err.value.response["Error"]["Code"] == "NotAuthorizedException"
    # Same passwords, password flow and SRP, without a reset.
    after = idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": alice, "PASSWORD": PASSWORD})["AuthenticationResult"]
    claims = json.loads(base64_json(after["IdToken"]))
    assert claims["cognito:groups"] == ["admins", "readers"]
    assert claims["custom:team"] == "red"
    srp = Cognito(pool_id, public["ClientId"], username=alice, user_pool_region="us-east-1",
                  boto3_client_kwargs={"endpoint_url": dst.url, "aws_access_key_id": "test",
                                       "aws_secret_access_key": "test"})
    srp.authenticate(password=PASSWORD)  # also verifies both tokens against the JWKS
    assert srp.access_token
    # The client secret is the same.
    desc = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=secret["ClientId"])["UserPoolClient"]
    assert desc["ClientSecret"] == secret["ClientSecret"]
    # The same TOTP secret answers MFA.
    challenge = idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": bob, "PASSWORD": PASSWORD})
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    ok = idp.respond_to_auth_challenge(
        ClientId=public["ClientId"], ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": bob, "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(totp_secret).at(time.time() + 30)},
    )
    assert "AccessToken" in ok["AuthenticationResult"]
    # Carol is still disabled; the groups, the domain and the branding are there.
    with pytest.raises(ClientError) as err:
        idp.initiate_auth(ClientId=public["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": carol, "PASSWORD": PASSWORD})
    assert err.value.response["Error"]["Message"] == "User is disabled."
    group = idp.get_group(UserPoolId=pool_id, GroupName="admins")["Group"]
    assert (group["Precedence"], group["Description"]) == (1, "the admins")
    assert idp.describe_user_pool_domain(Domain=domain)["DomainDescription"]["UserPoolId"] == pool_id
    assert "#123456" in idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"]["CSS"]
    assert idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://api.example.com")
    # Alice's linked identity came along: linking it to Bob is refused, unlinking it works once.
    with pytest.raises(ClientError) as err:
        idp.admin_link_provider_for_user(
            UserPoolId=pool_id, SourceUser=google,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": bob_name})
    assert err.value.response["Error"]["Code"] == "AliasExistsException"
    idp.admin_disable_provider_for_user(UserPoolId=pool_id, User=google)
    with pytest.raises(ClientError) as err:
        idp.admin_disable_provider_for_user(UserPoolId=pool_id, User=google)
    assert err.value.response["Error"]["Code"] == "UserNotFoundException"


def test_importing_twice_keeps_what_exists(server, tmp_path: Path) -> None:
    src = server()
    idp = make_boto_client(src)
    pool_id = idp.create_user_pool(PoolName=unique("pool"))["UserPool"]["Id"]
    create_confirmed_user(idp, pool_id, "dora")
    dump = tmp_path / "backup.jsonl"
    tool("export", *store_args(src), "--output", str(dump))
    dst = server(start=False)
    tool("import", str(dump), *store_args(dst))
    second = tool("import", str(dump), *store_args(dst))
    assert "imported 0 pool(s) and 0 user(s)" in second.stderr, second.stderr
    assert f"skipped pool {pool_id}: exists" in second.stderr
    assert "skipped user dora: the username or sub exists" in second.stderr


def test_a_file_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "future.jsonl"
    dump.write_text(json.dumps({"type": "header", "cognate_export": 99, "exported_at": 0}) + "\n")
    done = subprocess.run([str(cognate_bin()), "import", str(dump), "--data-dir", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "format version 99" in done.stderr


def base64_json(token: str) -> bytes:
    import base64

    payload = token.split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_a_move_from_sqlite_to_postgres_and_back_loses_nothing(server, tmp_path: Path) -> None:
    src = server(start=False)
    src.database = None  # SQLite, whatever the run's engine
    src.start()
    idp = make_boto_client(src)
    pool_id = idp.create_user_pool(PoolName=unique("pool"), AliasAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c",
                                            ExplicitAuthFlows=FLOWS)["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName="g")
    for name in ("eve", "fay"):
        create_confirmed_user(idp, pool_id, name)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName="g")
    dump = tmp_path / "from-sqlite.jsonl"
    tool("export", *store_args(src), "--output", str(dump))
    src.stop()

    from conftest import fresh_postgres_database

    pg = server(start=False, database=fresh_postgres_database())
    pg.port, pg.url, pg.public_url = src.port, src.url, src.public_url
    tool("import", str(dump), *store_args(pg))
    back = tmp_path / "from-postgres.jsonl"
    tool("export", *store_args(pg), "--output", str(back))
    assert records(back) == records(dump)
    pg.start()
    idp = make_boto_client(pg)
    # Sign-in by the alias email, on PostgreSQL, with the password set on SQLite.
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "eve@example.com", "PASSWORD": PASSWORD})
    claims = json.loads(base64_json(tokens["AuthenticationResult"]["IdToken"]))
    assert claims["cognito:username"] == "eve" and claims["cognito:groups"] == ["g"]

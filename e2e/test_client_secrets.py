"""Client secret rotation with boto3 (AddUserPoolClientSecret,
ListUserPoolClientSecrets, DeleteUserPoolClientSecret): with two secrets,
each gives a working SECRET_HASH sign-in (InitiateAuth USER_PASSWORD_AUTH)
and authenticates the client at the OAuth token endpoint (client_credentials
with requests); after DeleteUserPoolClientSecret the deleted one is refused
by both. Both secrets also survive `cognate export` / `cognate import`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (PASSWORD, CognateServer, cognate_bin, create_confirmed_user, error_code,
                      make_boto_client, store_args, unique)

API = "https://api.example.com"


def secret_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def sign_in(idp, client_id: str, secret: str, username: str):
    return idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD,
                        "SECRET_HASH": secret_hash(secret, username, client_id)})


def token(url: str, client_id: str, secret: str) -> requests.Response:
    return requests.post(url, auth=(client_id, secret), timeout=10,
                         data={"grant_type": "client_credentials", "scope": f"{API}/read"})


def setup(srv: CognateServer):
    idp = make_boto_client(srv)
    pool_id = idp.create_user_pool(PoolName=unique("rotate"))["UserPool"]["Id"]
    domain = unique("rotate")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"}])
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="rotating", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read"])["UserPoolClient"]
    create_confirmed_user(idp, pool_id, "alice")
    return idp, pool_id, client["ClientId"], client["ClientSecret"], f"{srv.url}/domains/{domain}/oauth2/token"


def test_both_secrets_work_until_one_is_deleted(cognate: CognateServer) -> None:
    idp, pool_id, client_id, first, token_url = setup(cognate)

    added = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id)["ClientSecretDescriptor"]
    second = added["ClientSecretValue"]
    assert second != first and added["ClientSecretId"].startswith(f"{client_id}--")
    listed = idp.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=client_id)["ClientSecrets"]
    assert len(listed) == 2
    assert all("ClientSecretValue" not in d for d in listed)
    first_id = next(d["ClientSecretId"] for d in listed if d["ClientSecretId"] != added["ClientSecretId"])
    with pytest.raises(ClientError) as e:
        idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id)
    assert error_code(e.value) == "LimitExceededException"

    for secret in (first, second):
        result = sign_in(idp, client_id, secret, "alice")["AuthenticationResult"]
        assert result["AccessToken"] and result["RefreshToken"]
        r = token(token_url, client_id, secret)
        assert r.status_code == 200, r.text
        assert r.json()["token_type"] == "Bearer"

    idp.delete_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id, ClientSecretId=first_id)
    with pytest.raises(ClientError) as e:
        sign_in(idp, client_id, first, "alice")
    assert error_code(e.value) == "NotAuthorizedException"
    assert e.value.response["Error"]["Message"] == f"Unable to verify secret hash for client {client_id}"
    r = token(token_url, client_id, first)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    # The remaining secret still works for both, and cannot itself be deleted.
    assert sign_in(idp, client_id, second, "alice")["AuthenticationResult"]["AccessToken"]
    assert token(token_url, client_id, second).status_code == 200
    with pytest.raises(ClientError) as e:
        idp.delete_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id,
                                           ClientSecretId=added["ClientSecretId"])
    assert error_code(e.value) == "InvalidParameterException"


def test_both_secrets_survive_export_and_import(server, tmp_path: Path) -> None:
    src = server()
    idp, pool_id, client_id, first, _ = setup(src)
    chosen = "chosensecret000000000000000000001"
    added = idp.add_user_pool_client_secret(UserPoolId=pool_id, ClientId=client_id, ClientSecret=chosen)
    assert "ClientSecretValue" not in added["ClientSecretDescriptor"]

    dump = tmp_path / "dump.jsonl"
    run = lambda *args: subprocess.run([str(cognate_bin()), *args], capture_output=True, text=True, timeout=120)  # noqa: E731
    done = run("export", *store_args(src), "--output", str(dump))
    assert done.returncode == 0, done.stderr
    dst = server(start=False)
    done = run("import", str(dump), *store_args(dst))
    assert done.returncode == 0, done.stderr
    dst.start()

    idp2 = make_boto_client(dst)
    listed = idp2.list_user_pool_client_secrets(UserPoolId=pool_id, ClientId=client_id)["ClientSecrets"]
    assert [d["ClientSecretId"] for d in listed] == [
        d["ClientSecretId"] for d in idp.list_user_pool_client_secrets(
            UserPoolId=pool_id, ClientId=client_id)["ClientSecrets"]]
    for secret in (first, chosen):
        assert sign_in(idp2, client_id, secret, "alice")["AuthenticationResult"]["AccessToken"]
    assert idp2.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)[
        "UserPoolClient"]["ClientSecret"] == first

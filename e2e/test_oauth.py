"""OAuth configuration with boto3 (pool domain, resource servers, client
OAuth settings) and the client_credentials grant with requests, the token
verified with PyJWT against the pool's JWKS."""

from __future__ import annotations

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import CognateServer, error_code, make_boto_client

API = "https://api.example.com"


def test_domain_resource_servers_and_client_credentials(cognate: CognateServer) -> None:
    idp = make_boto_client(cognate)
    pool_id = idp.create_user_pool(PoolName="m2m")["UserPool"]["Id"]

    assert idp.describe_user_pool_domain(Domain="m2m-e2e")["DomainDescription"] == {}
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain="m2m-e2e")
    desc = idp.describe_user_pool_domain(Domain="m2m-e2e")["DomainDescription"]
    assert desc["UserPoolId"] == pool_id and desc["Status"] == "ACTIVE"
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Domain"] == "m2m-e2e"

    rs = idp.create_resource_server(
        UserPoolId=pool_id, Identifier=API, Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"},
                {"ScopeName": "write", "ScopeDescription": "Write"}],
    )["ResourceServer"]
    assert [s["ScopeName"] for s in rs["Scopes"]] == ["read", "write"]
    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId=pool_id, Identifier=API, Name="again")
    assert error_code(e.value) == "InvalidParameterException"
    for i in range(3):
        idp.create_resource_server(UserPoolId=pool_id, Identifier=f"svc{i}", Name=f"svc{i}")
    pages = idp.get_paginator("list_resource_servers").paginate(
        UserPoolId=pool_id, PaginationConfig={"PageSize": 2})
    ids = [r["Identifier"] for page in pages for r in page["ResourceServers"]]
    assert ids == [API, "svc0", "svc1", "svc2"]

    with pytest.raises(ClientError) as e:
        idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="m", GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[f"{API}/delete"])
    assert error_code(e.value) == "ScopeDoesNotExistException"
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="m",
            AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[f"{API}/read"])
    assert error_code(e.value) == "InvalidOAuthFlowException"
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="m", GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read", f"{API}/write"])["UserPoolClient"]
    cid, secret = client["ClientId"], client["ClientSecret"]

    token_url = f"{cognate.url}/domains/m2m-e2e/oauth2/token"
    discovery = requests.get(cognate.discovery_url(pool_id), timeout=10).json()
    assert discovery["token_endpoint"] == token_url

    r = requests.post(token_url, auth=(cid, secret),
                      data={"grant_type": "client_credentials", "scope": f"{API}/write"}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    keys = jwt.PyJWKClient(cognate.jwks_url(pool_id))
    token = body["access_token"]
    claims = jwt.decode(token, keys.get_signing_key_from_jwt(token).key, algorithms=["RS256"],
                        issuer=cognate.issuer(pool_id))
    assert claims["sub"] == claims["client_id"] == cid
    assert claims["token_use"] == "access" and claims["version"] == 2
    assert claims["scope"] == f"{API}/write"
    # A machine token is not a user's: the user APIs refuse it for its scope.
    with pytest.raises(ClientError) as refused:
        idp.get_user(AccessToken=token)
    assert refused.value.response["Error"]["Message"] == "Access Token does not have required scopes"

    r = requests.post(token_url, data={"grant_type": "client_credentials", "client_id": cid,
                                       "client_secret": "wrong"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    # Cognito ignores a scope the client is not allowed, and refuses the
    # request only when nothing is left; its error bodies carry `error` alone.
    r = requests.post(token_url, auth=(cid, secret),
                      data={"grant_type": "client_credentials", "scope": f"openid {API}/read"}, timeout=10)
    assert r.status_code == 200, r.text
    assert jwt.decode(r.json()["access_token"], options={"verify_signature": False})["scope"] == f"{API}/read"
    r = requests.post(token_url, auth=(cid, secret),
                      data={"grant_type": "client_credentials", "scope": "openid"}, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": "invalid_scope"}

"""GetDerivedToken with boto3 (botocore knows the operation): a service
exchanges a user's access token for one bound to a downstream audience,
signed with IAM credentials and, unsigned, with the client's secret; with
an actor token the issued token names the actor in `act`; PyJWT checks the
issued token's signature against the pool's JWKS."""

from __future__ import annotations

import jwt
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION, CognateServer, make_boto_client

import boto3

PASSWORD = "Passw0rd!exchange"


def test_get_derived_token_with_boto3(cognate: CognateServer) -> None:
    idp = make_boto_client(cognate)
    pool = idp.create_user_pool(PoolName="exchange")["UserPool"]["Id"]
    front = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="front",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    service = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="service", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_TOKEN_EXCHANGE_DELEGATION"],
    )["UserPoolClient"]
    for name in ("alice", "agent"):
        idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD, Permanent=True)

    def login(name: str) -> str:
        return idp.initiate_auth(
            ClientId=front, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["AccessToken"]

    subject = login("alice")
    out = idp.get_derived_token(
        ClientId=service["ClientId"], SubjectToken=subject, SubjectTokenType="ACCESS_TOKEN",
        Audiences=["orders-api"],
    )
    assert out["IssuedTokenType"] == "ACCESS_TOKEN"
    assert out["TokenType"] == "Bearer"
    assert out["ExpiresIn"] == 3600
    assert out["Scopes"] == ["aws.cognito.signin.user.admin"]
    jwks = requests.get(f"{cognate.url}/{pool}/.well-known/jwks.json", timeout=10).json()
    issued = out["IssuedToken"]
    kid = jwt.get_unverified_header(issued)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(issued, key.key, algorithms=["RS256"], audience="orders-api",
                        issuer=f"{cognate.url}/{pool}")
    assert claims["username"] == "alice"
    assert claims["client_id"] == service["ClientId"]
    assert "act" not in claims

    # Unsigned, the client's secret authorizes the call; a wrong one is refused.
    unsigned = boto3.session.Session(region_name=REGION).client(
        "cognito-idp", endpoint_url=cognate.url, config=Config(signature_version=UNSIGNED))
    out = unsigned.get_derived_token(
        ClientId=service["ClientId"], ClientSecret=service["ClientSecret"],
        SubjectToken=subject, SubjectTokenType="ACCESS_TOKEN",
        ActorToken=login("agent"), ActorTokenType="ACCESS_TOKEN",
    )
    act = jwt.decode(out["IssuedToken"], options={"verify_signature": False})["act"]
    assert act["username"] == "agent"
    assert act["client_id"] == front
    with pytest.raises(ClientError) as e:
        unsigned.get_derived_token(
            ClientId=service["ClientId"], ClientSecret="wrongsecret0000000000000000000001",
            SubjectToken=subject, SubjectTokenType="ACCESS_TOKEN")
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"

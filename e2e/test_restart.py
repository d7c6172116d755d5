"""Everything lives in the data dir: a restart loses nothing and keeps keys stable."""

from __future__ import annotations

import jwt
import requests

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client


def test_data_and_keys_survive_restart(server, boto_client) -> None:
    srv = server()
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, name="todo-user-pool")
    create_confirmed_user(idp, pool_id, "joe_bloggs")
    before = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "joe_bloggs", "PASSWORD": PASSWORD})["AuthenticationResult"]
    kids_before = sorted(k["kid"] for k in requests.get(srv.jwks_url(pool_id), timeout=5).json()["keys"])
    sub_before = jwt.decode(before["IdToken"], options={"verify_signature": False})["sub"]

    code = srv.stop()
    assert not srv.running
    srv.start()
    idp = boto_client(srv)

    desc = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert desc["Id"] == pool_id and desc["Name"] == "todo-user-pool", desc
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert client["ClientId"] == client_id, client
    user = idp.admin_get_user(UserPoolId=pool_id, Username="joe_bloggs")
    assert user["UserStatus"] == "CONFIRMED", user

    kids_after = sorted(k["kid"] for k in requests.get(srv.jwks_url(pool_id), timeout=5).json()["keys"])
    assert kids_after == kids_before, f"JWKS changed across restart: {kids_before} -> {kids_after}"

    # A token issued before the restart is still good: for the server and for a backend.
    me = idp.get_user(AccessToken=before["AccessToken"])
    assert me["Username"] == "joe_bloggs", me
    key = jwt.PyJWKClient(srv.jwks_url(pool_id)).get_signing_key_from_jwt(before["IdToken"])
    jwt.decode(before["IdToken"], key.key, algorithms=["RS256"], audience=client_id, issuer=srv.issuer(pool_id))

    # The refresh token too.
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": before["RefreshToken"]})["AuthenticationResult"]
    assert idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == "joe_bloggs"

    # And the password login.
    after = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "joe_bloggs", "PASSWORD": PASSWORD})["AuthenticationResult"]
    claims = jwt.decode(after["IdToken"], options={"verify_signature": False})
    assert claims["sub"] == sub_before, "the user's sub changed across restart"
    assert jwt.get_unverified_header(after["IdToken"])["kid"] in kids_before

    # Checked last so that the data checks above report first: SIGTERM is a clean stop.
    assert code == 0, f"cognate should exit 0 on SIGTERM (graceful shutdown), exited {code}"

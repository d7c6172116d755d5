"""Two `cognate serve` processes on one PostgreSQL database behind a round-robin
load balancer with no stickiness: every request goes to the other instance than the
one before. The seeds' journey and the state between its steps must not care: a
challenge issued by one instance is answered at the other (SRP included), a token
minted by one is refreshed, used, revoked and signed out at the other, a hosted-UI
session and authorization code from one are redeemed at the other, and failed
sign-ins on both lock the account together.

The balancer is a small HTTP/1.1 proxy in this file (it counts what each instance
served, so the test can show that both did). Both instances share one
`--public-url`, the balancer's, as they would in production."""

from __future__ import annotations

import http.client
import http.server
import itertools
import socketserver
import threading
import time
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from botocore.exceptions import ClientError
from pycognito import Cognito

from conftest import (PASSWORD, CallbackServer, CognateServer, create_confirmed_user, fresh_postgres_database,
                      free_port, make_boto_client, read_outbox, unique)
from test_oidc_rp import login_by_http

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


class RoundRobin:
    """A reverse proxy sending request n to backend n mod len(backends)."""

    def __init__(self, backends: list[int]):
        self.backends = backends
        self.next = itertools.count()
        self.served = [0] * len(backends)
        self.port = free_port()
        balancer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def relay(self) -> None:
                i = next(balancer.next) % len(balancer.backends)
                balancer.served[i] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection("127.0.0.1", balancer.backends[i], timeout=60)
                upstream.request(self.command, self.path, body=body, headers=headers)
                r = upstream.getresponse()
                data = r.read()
                upstream.close()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = relay

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Cluster:
    """Two instances on one database and the balancer in front of them."""

    def __init__(self, a: CognateServer, b: CognateServer, lb: RoundRobin):
        self.a, self.b, self.lb = a, b, lb
        # Clients talk to the balancer, as to one service.
        self.url = lb.url
        self.public_url = lb.url

    def issuer(self, pool_id: str) -> str:
        return f"{self.public_url}/{pool_id}"

    def code(self, username: str) -> str:
        """The one code sent to `username`, by whichever instance sent it."""
        deadline = time.monotonic() + 5
        while True:
            msgs = [m for srv in (self.a, self.b) for m in read_outbox(srv) if m.get("username") == username]
            if msgs:
                assert len(msgs) == 1, msgs
                return msgs[0]["code"]
            assert time.monotonic() < deadline, f"no code for {username}"
            time.sleep(0.05)


@pytest.fixture
def cluster(server) -> Iterator[Cluster]:
    database = fresh_postgres_database()
    a = server(start=False, database=database)
    b = server(start=False, database=database)
    lb = RoundRobin([a.port, b.port])
    for srv in (a, b):
        srv.public_url = lb.url
        srv.start()
    try:
        yield Cluster(a, b, lb)
    finally:
        lb.close()


def client(c: Cluster):
    return make_boto_client(c)  # make_boto_client only reads .url


def test_the_journey_with_every_step_on_the_other_instance(cluster: Cluster, callback_server: CallbackServer) -> None:
    idp = client(cluster)
    pool_id = idp.create_user_pool(PoolName=unique("pool"), AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    domain = unique("lb")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    app = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                           "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        CallbackURLs=[callback_server.callback_url], SupportedIdentityProviders=["COGNITO"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "aws.cognito.signin.user.admin"],
    )["UserPoolClient"]
    client_id = app["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName="admins")

    # Sign-up on one instance, the emailed code confirmed on the other.
    user = unique("joe")
    idp.sign_up(ClientId=client_id, Username=user, Password=PASSWORD,
                UserAttributes=[{"Name": "email", "Value": f"{user}@example.com"}])
    idp.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=cluster.code(user))
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=user, GroupName="admins")

    # SRP: the challenge from one instance, its answer at the other (pycognito
    # also verifies both tokens against the JWKS, fetched through the balancer).
    srp = Cognito(pool_id, client_id, username=user, user_pool_region="us-east-1",
                  boto3_client_kwargs={"endpoint_url": cluster.url, "aws_access_key_id": "test",
                                       "aws_secret_access_key": "test"})
    srp.authenticate(password=PASSWORD)
    assert idp.get_user(AccessToken=srp.access_token)["Username"] == user
    refreshed = idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": srp.refresh_token})["AuthenticationResult"]
    assert idp.get_user(AccessToken=refreshed["AccessToken"])["Username"] == user

    # NEW_PASSWORD_REQUIRED across instances.
    temp = unique("ann")
    idp.admin_create_user(UserPoolId=pool_id, Username=temp, TemporaryPassword="Temp-Passw0rd!",
                          MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": f"{temp}@example.com"}])
    challenge = idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": temp, "PASSWORD": "Temp-Passw0rd!"})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool_id, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"], ChallengeResponses={"USERNAME": temp, "NEW_PASSWORD": "Chosen-Passw0rd!"})
    assert "AccessToken" in done["AuthenticationResult"]

    # TOTP: associated on one, verified on the other; the MFA challenge answered across
    # instances, and its code refused when replayed at either.
    idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    token = done["AuthenticationResult"]["AccessToken"]
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).now())
    idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    code = pyotp.TOTP(secret).at(time.time() + 30)
    sessions = [idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": temp, "PASSWORD": "Chosen-Passw0rd!"})["Session"]
                for _ in range(3)]
    ok = idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=sessions[0],
                                       ChallengeResponses={"USERNAME": temp, "SOFTWARE_TOKEN_MFA_CODE": code})
    assert "AccessToken" in ok["AuthenticationResult"]
    for session in sessions[1:]:
        with pytest.raises(ClientError) as err:
            idp.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
                                          ChallengeResponses={"USERNAME": temp, "SOFTWARE_TOKEN_MFA_CODE": code})
        assert err.value.response["Error"]["Code"] == "ExpiredCodeException"

    # The hosted UI: authorize page, sign-in form and redirect on alternating instances;
    # the code redeemed at one, userInfo answered at the other.
    from urllib.parse import urlencode
    authorize = f"{cluster.url}/domains/{domain}/oauth2/authorize?" + urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": callback_server.callback_url,
         "scope": "openid email", "state": "s1"})
    landed = login_by_http(authorize, callback_server.callback_url, user, PASSWORD)
    query = parse_qs(urlsplit(landed).query)
    assert query["state"] == ["s1"]
    tokens = requests.post(f"{cluster.url}/domains/{domain}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": client_id, "code": query["code"][0],
        "redirect_uri": callback_server.callback_url}).json()
    assert "access_token" in tokens, tokens
    again = requests.post(f"{cluster.url}/domains/{domain}/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": client_id, "code": query["code"][0],
        "redirect_uri": callback_server.callback_url})
    assert again.status_code == 400  # a code is used once, whichever instance sees it again
    info = requests.get(f"{cluster.url}/domains/{domain}/oauth2/userInfo", timeout=10,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and info.json()["email"] == f"{user}@example.com"

    # RevokeToken on one instance: the refresh token and its access tokens are refused by the other.
    session = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD})["AuthenticationResult"]
    idp.revoke_token(Token=session["RefreshToken"], ClientId=client_id)
    for _ in range(2):  # once at each instance
        with pytest.raises(ClientError):
            idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": session["RefreshToken"]})
        with pytest.raises(ClientError):
            idp.get_user(AccessToken=session["AccessToken"])

    # A global sign-out at one instance ends every session at both.
    idp.global_sign_out(AccessToken=refreshed["AccessToken"])
    for _ in range(2):
        with pytest.raises(ClientError):
            idp.get_user(AccessToken=srp.access_token)
        with pytest.raises(ClientError):
            idp.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": srp.refresh_token})

    # Failed sign-ins counted on both instances lock the account as on one.
    messages = []
    for _ in range(6):
        with pytest.raises(ClientError) as err:
            idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": user, "PASSWORD": "Wrong-Passw0rd!"})
        messages.append(err.value.response["Error"]["Message"])
    assert messages == ["Incorrect username or password."] * 5 + ["Password attempts exceeded"]

    # Both instances served the journey, in turn.
    assert min(cluster.lb.served) > 20, cluster.lb.served
    assert abs(cluster.lb.served[0] - cluster.lb.served[1]) <= 1, cluster.lb.served

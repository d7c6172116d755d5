"""SMS by SNS (`--sns-endpoint`): cognate's SNS Publish is checked with botocore's
own SigV4 signer, as SNS checks it, and the code it carries confirms a user signed
up with boto3."""

from __future__ import annotations

import http.server
import threading
import urllib.parse

import pytest
from conftest import PASSWORD, sigv4_problem, unique

KEY_ID = "AKIAE2ESNSTEST000001"
SECRET = "e2e/sns+secret-key"
REGION = "eu-west-1"


class FakeSns(http.server.ThreadingHTTPServer):
    """An SNS endpoint: checks each request's signature with botocore and keeps the
    published messages (or the reason a request was refused)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.published: list[dict[str, str]] = []
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def check(self, headers, body: bytes) -> str | None:
        return sigv4_problem(self.url, headers, body, "sns", {KEY_ID: SECRET}, REGION)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        problem = self.server.check(self.headers, body)
        if problem:
            self.server.refused.append(problem)
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>")
            return
        self.server.published.append(dict(urllib.parse.parse_qsl(body.decode())))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sns():
    server = FakeSns()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_sign_up_code_by_sns_confirms_the_user(server, boto_client, sns):
    srv = server(start=False)
    srv.extra_args = ["--sns-endpoint", sns.url, "--sns-region", REGION]
    srv.extra_env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    srv.start()
    idp = boto_client(srv)
    pool_id = idp.create_user_pool(
        PoolName=unique("sms"), AutoVerifiedAttributes=["phone_number"],
        SmsVerificationMessage="Code: {####}")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]

    answer = idp.sign_up(ClientId=client_id, Username="sam", Password=PASSWORD,
                         UserAttributes=[{"Name": "phone_number", "Value": "+15555550199"}])
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "SMS"
    assert sns.refused == []
    assert len(sns.published) == 1, sns.published
    message = sns.published[0]
    assert message["Action"] == "Publish"
    assert message["PhoneNumber"] == "+15555550199"
    assert message["MessageAttributes.entry.1.Value.StringValue"] == "Transactional"
    code = message["Message"].removeprefix("Code: ")
    assert len(code) == 6 and code.isdigit(), message

    idp.confirm_sign_up(ClientId=client_id, Username="sam", ConfirmationCode=code)
    user = idp.admin_get_user(UserPoolId=pool_id, Username="sam")
    assert user["UserStatus"] == "CONFIRMED"

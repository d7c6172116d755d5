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
        # The region requests must be signed for.
        self.region = REGION

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def check(self, headers, body: bytes) -> str | None:
        return sigv4_problem(self.url, headers, body, "sns", {KEY_ID: SECRET}, self.region)


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


def sns_server(server, sns):
    """A cognate sending SMS to the fake SNS with the server's credentials."""
    srv = server(start=False)
    srv.extra_args = ["--sns-endpoint", sns.url, "--sns-region", REGION]
    srv.extra_env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    return srv.start()


@pytest.fixture
def sns():
    server = FakeSns()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_sign_up_code_by_sns_confirms_the_user(server, boto_client, sns):
    idp = boto_client(sns_server(server, sns))
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


def test_a_pools_sns_region_signs_its_sms_for_that_region(server, boto_client, sns):
    """SmsConfiguration.SnsRegion: the pool's SMS goes to SNS in that region (an
    SNS-compatible endpoint takes the region from the signature)."""
    idp = boto_client(sns_server(server, sns))
    pool_id = idp.create_user_pool(
        PoolName=unique("sms-region"), AutoVerifiedAttributes=["phone_number"],
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "SnsRegion": "us-west-2"},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    sns.region = "us-west-2"
    idp.sign_up(ClientId=client_id, Username="sam", Password=PASSWORD,
                UserAttributes=[{"Name": "phone_number", "Value": "+15555550199"}])
    assert sns.refused == []
    assert len(sns.published) == 1, sns.published
    # Without SnsRegion, the server's region again.
    sns.region = REGION
    idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["phone_number"],
                         SmsConfiguration={"SnsCallerArn": "arn:aws:iam::123456789012:role/sms"})
    idp.resend_confirmation_code(ClientId=client_id, Username="sam")
    assert sns.refused == []
    assert len(sns.published) == 2, sns.published


TEMP_KEY = "ASIAE2ESTSTEMP000001"
TEMP_SECRET = "e2e/sts+temporary-secret"
TEMP_TOKEN = "e2e-session-token/with+symbols=="
ROLE_ARN = "arn:aws:iam::123456789012:role/cognito-sms"


class FakeSts(http.server.ThreadingHTTPServer):
    """An STS endpoint answering AssumeRole (signed by the server's credentials for
    sts in us-east-1, cognate's --region) with temporary credentials."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StsHandler)
        self.calls: list[dict[str, str]] = []
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class StsHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        problem = sigv4_problem(self.server.url, self.headers, body, "sts", {KEY_ID: SECRET}, "us-east-1")
        params = dict(urllib.parse.parse_qsl(body.decode()))
        if problem or params.get("Action") != "AssumeRole" or params.get("RoleArn", "").endswith("/denied"):
            self.server.refused.append(problem or params.get("Action", ""))
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>")
            return
        self.server.calls.append(params)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><AssumedRoleId>AROA:{params["RoleSessionName"]}</AssumedRoleId>
      <Arn>{params["RoleArn"]}</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{TEMP_KEY}</AccessKeyId>
      <SecretAccessKey>{TEMP_SECRET}</SecretAccessKey>
      <SessionToken>{TEMP_TOKEN}</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>""".encode())

    def log_message(self, *args) -> None:
        pass


def test_sms_goes_by_the_role_of_the_pools_sms_configuration(server, boto_client, sns):
    """With --sts-endpoint, cognate assumes the pool's SnsCallerArn (with its ExternalId)
    as Cognito does and publishes with the role's temporary credentials."""
    sts = FakeSts()
    thread = threading.Thread(target=sts.serve_forever, daemon=True)
    thread.start()
    try:
        checked_keys: list[str] = []
        original = sns.check

        def check(headers, body):
            checked_keys.append(headers.get("Authorization", "").split("Credential=")[1].split("/")[0])
            if headers.get("X-Amz-Security-Token") != TEMP_TOKEN:
                return "no session token"
            return sigv4_problem(sns.url, headers, body, "sns", {TEMP_KEY: TEMP_SECRET}, REGION)

        sns.check = check
        srv = server(start=False)
        srv.extra_args = ["--sns-endpoint", sns.url, "--sns-region", REGION, "--sts-endpoint", sts.url]
        srv.extra_env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
        srv.start()
        idp = boto_client(srv)
        pool_id = idp.create_user_pool(
            PoolName=unique("role"), AutoVerifiedAttributes=["phone_number"],
            SmsConfiguration={"SnsCallerArn": ROLE_ARN, "ExternalId": "pool-external-id"},
            SmsVerificationMessage="Code: {####}")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
        for name, phone in (("ron", "+15555550101"), ("ria", "+15555550102")):
            idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                        UserAttributes=[{"Name": "phone_number", "Value": phone}])
        assert sts.refused == [] and sns.refused == [], (sts.refused, sns.refused)
        assert [m["PhoneNumber"] for m in sns.published] == ["+15555550101", "+15555550102"]
        assert checked_keys == [TEMP_KEY, TEMP_KEY]
        # One AssumeRole: the credentials are kept while they are valid.
        assert len(sts.calls) == 1, sts.calls
        call = sts.calls[0]
        assert call["RoleArn"] == ROLE_ARN and call["ExternalId"] == "pool-external-id"
        assert call["Version"] == "2011-06-15" and call["RoleSessionName"]
        code = sns.published[0]["Message"].removeprefix("Code: ")
        idp.confirm_sign_up(ClientId=client_id, Username="ron", ConfirmationCode=code)

        # A role STS refuses to give: the code cannot be delivered, nothing is published.
        other = idp.create_user_pool(
            PoolName=unique("denied"), AutoVerifiedAttributes=["phone_number"],
            SmsConfiguration={"SnsCallerArn": "arn:aws:iam::123456789012:role/denied"})["UserPool"]["Id"]
        other_client = idp.create_user_pool_client(UserPoolId=other, ClientName="app")["UserPoolClient"]["ClientId"]
        with pytest.raises(Exception) as err:
            idp.sign_up(ClientId=other_client, Username="rex", Password=PASSWORD,
                        UserAttributes=[{"Name": "phone_number", "Value": "+15555550103"}])
        assert "CodeDeliveryFailureException" in str(err.value)
        assert len(sns.published) == 2
        sns.check = original
    finally:
        sts.shutdown()

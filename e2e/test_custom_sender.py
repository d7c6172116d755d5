"""Custom sender triggers (CustomEmailSender, CustomSMSSender): cognate encrypts each
code under the pool's KMS key (`--kms-endpoint`) as Cognito does, and the function
decrypts it with the real AWS Encryption SDK for Python and a KMS keyring, exactly
as AWS's examples write such a function. The codes it reads confirm the sign-up,
sign in with the temporary password and reset the password, through boto3."""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import PASSWORD, REGION, create_confirmed_user, create_pool_and_client, error_code, \
    error_message, read_outbox, sigv4_problem, unique
from test_triggers import ARN, FakeLambda, Refuse

SERVER_KEY_ID = "AKIAE2EKMSSERVER0001"
SERVER_SECRET = "e2e/kms+server-secret"
KEY_ARN = f"arn:aws:kms:{REGION}:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def _context_aad(context: dict[str, str]) -> bytes:
    return json.dumps(sorted(context.items())).encode()


class FakeKms(http.server.ThreadingHTTPServer):
    """A KMS endpoint with one symmetric key: GenerateDataKey and Decrypt, each
    request's SigV4 signature checked with botocore, the encryption context bound to
    the ciphertext as KMS binds it (a Decrypt under another context fails)."""

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), KmsHandler)
        self.secrets = secrets
        self.key = AESGCM(AESGCM.generate_key(bit_length=256))
        self.calls: list[tuple[str, dict]] = []
        self.refused: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def answer(self, target: str, request: dict) -> tuple[int, dict]:
        if request.get("KeyId") not in (None, KEY_ARN):
            return 400, {"__type": "NotFoundException", "message": "no such key"}
        context = request.get("EncryptionContext") or {}
        if target == "TrentService.GenerateDataKey":
            assert request["KeySpec"] == "AES_256", request
            data_key = os.urandom(32)
            nonce = os.urandom(12)
            blob = nonce + self.key.encrypt(nonce, data_key, _context_aad(context))
            return 200, {"KeyId": KEY_ARN,
                         "Plaintext": base64.b64encode(data_key).decode(),
                         "CiphertextBlob": base64.b64encode(blob).decode()}
        if target == "TrentService.Decrypt":
            blob = base64.b64decode(request["CiphertextBlob"])
            try:
                data_key = self.key.decrypt(blob[:12], blob[12:], _context_aad(context))
            except Exception:  # noqa: BLE001 (InvalidTag: KMS's InvalidCiphertextException)
                return 400, {"__type": "InvalidCiphertextException", "message": ""}
            return 200, {"KeyId": KEY_ARN, "Plaintext": base64.b64encode(data_key).decode(),
                         "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        return 400, {"__type": "UnknownOperationException", "message": target}


class KmsHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        kms: FakeKms = self.server
        problem = sigv4_problem(kms.url, self.headers, body, "kms", kms.secrets, REGION)
        target = self.headers.get("X-Amz-Target", "")
        if problem:
            kms.refused.append(problem)
            status, answer = 400, {"__type": "InvalidSignatureException", "message": problem}
        else:
            request = json.loads(body)
            kms.calls.append((target, request))
            status, answer = kms.answer(target, request)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def kms(monkeypatch):
    # The function's own credentials are the test process's (conftest's dummy ones).
    server = FakeKms({SERVER_KEY_ID: SERVER_SECRET, os.environ["AWS_ACCESS_KEY_ID"]:
                      os.environ["AWS_SECRET_ACCESS_KEY"]})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.url)
    yield server
    server.shutdown()
    server.server_close()


def decrypt_code(event: dict) -> tuple[str, dict]:
    """What a custom sender function does with `request.code` (AWS's example)."""
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[KEY_ARN], botocore_session=botocore.session.Session())
    plaintext, header = client.decrypt(
        source=base64.b64decode(event["request"]["code"]), key_provider=provider)
    return plaintext.decode(), dict(header.encryption_context)


class Senders:
    """The custom sender functions: each event is kept, and its code decrypted."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict, str, dict]] = []
        self.refuse = False

    def __call__(self, function: str, event: dict) -> dict:
        code, context = decrypt_code(event)
        self.received.append((function, event, code, context))
        if self.refuse:
            raise Refuse("provider down")
        return {}

    def last(self, source: str) -> tuple[dict, str, dict]:
        matching = [(e, c, ctx) for _, e, c, ctx in self.received if e["triggerSource"] == source]
        assert matching, [e["triggerSource"] for _, e, _, _ in self.received]
        return matching[-1]


@pytest.fixture
def sending(server, kms):
    """A server whose custom senders are the :class:`Senders` functions and whose
    codes are encrypted through the fake KMS: (server, senders)."""
    senders = Senders()
    fake = FakeLambda(senders)
    srv = server(start=False)
    srv.extra_args = ["--lambda-endpoint", fake.url, "--kms-endpoint", kms.url]
    srv.extra_env = {"AWS_ACCESS_KEY_ID": SERVER_KEY_ID, "AWS_SECRET_ACCESS_KEY": SERVER_SECRET}
    yield srv.start(), senders
    fake.stop()


LAMBDA_CONFIG = {
    "CustomEmailSender": {"LambdaVersion": "V1_0", "LambdaArn": ARN + "email-sender"},
    "CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": ARN + "sms-sender"},
    "KMSKeyID": KEY_ARN,
}


def test_codes_reach_the_custom_sender_encrypted_for_the_encryption_sdk(
        sending, boto_client, kms):
    srv, senders = sending
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, LambdaConfig=LAMBDA_CONFIG)
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"] == LAMBDA_CONFIG

    # Sign-up: the confirmation code goes to CustomEmailSender, nowhere else.
    name = unique("ana")
    answer = idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                         UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
                         ClientMetadata={"campaign": "winter"})
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    event, code, context = senders.last("CustomEmailSender_SignUp")
    assert (event["version"], event["userPoolId"], event["userName"]) == ("1", pool_id, name)
    assert event["callerContext"]["clientId"] == client_id
    request = event["request"]
    assert request["type"] == "customEmailSenderRequestV1"
    assert request["clientMetadata"] == {"campaign": "winter"}
    assert request["userAttributes"]["email"] == f"{name}@example.com"
    assert request["userAttributes"]["cognito:user_status"] == "UNCONFIRMED"
    assert context["userpool-id"] == pool_id
    assert "aws-crypto-public-key" in context
    assert len(code) == 6 and code.isdigit(), code
    assert not [m for m in read_outbox(srv) if m.get("username") == name]
    idp.confirm_sign_up(ClientId=client_id, Username=name, ConfirmationCode=code)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "CONFIRMED"

    # ForgotPassword: the reset code, then a sign-in with the new password.
    idp.forgot_password(ClientId=client_id, Username=name)
    event, code, _ = senders.last("CustomEmailSender_ForgotPassword")
    assert event["callerContext"]["clientId"] == client_id
    idp.confirm_forgot_password(ClientId=client_id, Username=name, ConfirmationCode=code,
                                Password=PASSWORD + "2")
    tokens = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD + "2"})
    assert "AuthenticationResult" in tokens

    # AdminCreateUser by SMS: the temporary password goes to CustomSMSSender.
    invited = unique("bo")
    idp.admin_create_user(UserPoolId=pool_id, Username=invited,
                          DesiredDeliveryMediums=["SMS"],
                          UserAttributes=[{"Name": "phone_number", "Value": "+15555550142"}])
    function = [f for f, e, _, _ in senders.received
                if e["triggerSource"] == "CustomSMSSender_AdminCreateUser"]
    assert function == [ARN + "sms-sender"]
    event, temporary, _ = senders.last("CustomSMSSender_AdminCreateUser")
    assert event["request"]["type"] == "customSMSSenderRequestV1"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    challenge = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": invited, "PASSWORD": temporary})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    # Every code was encrypted under the pool's context: the same data key
    # cannot be decrypted as another pool's.
    generated = [r for t, r in kms.calls if t == "TrentService.GenerateDataKey"]
    assert len(generated) == 3 and all(
        r["EncryptionContext"]["userpool-id"] == pool_id for r in generated)
    assert kms.refused == []


def test_a_sender_that_fails_or_a_pool_without_a_key_is_an_error(sending, boto_client):
    srv, senders = sending
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, LambdaConfig=LAMBDA_CONFIG)
    senders.refuse = True
    name = unique("cy")
    with pytest.raises(idp.exceptions.UserLambdaValidationException) as e:
        idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
    assert error_message(e.value) == "CustomEmailSender failed with error provider down."

    without_key = {k: v for k, v in LAMBDA_CONFIG.items() if k != "KMSKeyID"}
    pool_id, client_id = create_pool_and_client(idp, LambdaConfig=without_key)
    senders.refuse = False
    with pytest.raises(idp.exceptions.CodeDeliveryFailureException) as e:
        idp.sign_up(ClientId=client_id, Username=name, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
    assert error_code(e.value) == "CodeDeliveryFailureException"
    assert not [m for m in read_outbox(srv) if m.get("username") == name]


def test_a_passwordless_sign_in_code_goes_to_the_custom_sender(sending, boto_client):
    srv, senders = sending
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(
        idp, LambdaConfig=LAMBDA_CONFIG,
        flows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    name = unique("di")
    create_confirmed_user(idp, pool_id, name)
    assert senders.received == []  # MessageAction SUPPRESS: nothing to send
    start_auth = idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": name, "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert start_auth["ChallengeName"] == "EMAIL_OTP"
    event, code, context = senders.last("CustomEmailSender_Authentication")
    assert event["callerContext"]["clientId"] == client_id
    assert event["request"]["userAttributes"]["email"] == f"{name}@example.com"
    assert context["userpool-id"] == pool_id
    done = idp.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=start_auth["Session"],
        ChallengeResponses={"USERNAME": name, "EMAIL_OTP_CODE": code})
    assert "AccessToken" in done["AuthenticationResult"]
    assert not [m for m in read_outbox(srv) if m.get("username") == name]

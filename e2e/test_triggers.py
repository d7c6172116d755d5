"""Lambda triggers with the real clients: cognate invokes functions served by
a small Python http.server speaking the Lambda Invoke API
(``POST /2015-03-31/functions/{function}/invocations``, failures with
``X-Amz-Function-Error``). CUSTOM_AUTH with boto3 and with
amazon-cognito-identity-js (``authenticateUser`` with SRP_A then
PASSWORD_VERIFIER, and the password-less ``initiateAuth``), PreSignUp
refusal, PreTokenGeneration V2_0 and UserMigration."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import jwt
import pytest
from botocore.exceptions import ClientError

from conftest import PASSWORD, create_confirmed_user, create_pool_and_client, error_code, error_message

JS_DIR = Path(__file__).resolve().parent / "js"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

Behaviour = Callable[[str, dict], Any]


class FakeLambda:
    """The Lambda Invoke API on 127.0.0.1. ``behaviour(function, event)`` returns the
    event's ``response`` (a dict), or raises ``Refuse(message)`` for a function error."""

    def __init__(self, behaviour: Behaviour):
        self.events: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                prefix, suffix = "/2015-03-31/functions/", "/invocations"
                assert self.path.startswith(prefix) and self.path.endswith(suffix), self.path
                function = urllib.parse.unquote(self.path[len(prefix):-len(suffix)])
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.events.append((function, event))
                headers = {"Content-Type": "application/json"}
                try:
                    event["response"] = behaviour(function, event)
                    body = event
                except Refuse as e:
                    headers["X-Amz-Function-Error"] = "Unhandled"
                    body = {"errorMessage": str(e), "errorType": "Error"}
                data = json.dumps(body).encode()
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def of(self, source: str) -> list[dict]:
        return [e for _, e in self.events if e["triggerSource"] == source]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Refuse(Exception):
    pass


@pytest.fixture
def lambdas():
    started: list[FakeLambda] = []

    def make(behaviour: Behaviour) -> FakeLambda:
        fake = FakeLambda(behaviour)
        started.append(fake)
        return fake

    yield make
    for fake in started:
        try:
            fake.stop()
        except OSError:
            pass


def serve_with(server, fake: FakeLambda):
    srv = server(start=False)
    srv.extra_args = ["--lambda-endpoint", fake.url]
    return srv.start()


def quiz(function: str, event: dict) -> dict:
    """Three questions, after a PASSWORD_VERIFIER when the client began with SRP_A."""
    session = event["request"].get("session") or []
    source = event["triggerSource"]
    if source == "DefineAuthChallenge_Authentication":
        names = [r["challengeName"] for r in session]
        if names and names[0] == "SRP_A" and "PASSWORD_VERIFIER" not in names:
            return {"challengeName": "PASSWORD_VERIFIER", "issueTokens": False, "failAuthentication": False}
        custom = [r for r in session if r["challengeName"] == "CUSTOM_CHALLENGE"]
        if any(not r["challengeResult"] for r in custom):
            return {"issueTokens": False, "failAuthentication": True}
        if len(custom) == 3:
            return {"issueTokens": True, "failAuthentication": False}
        return {"challengeName": "CUSTOM_CHALLENGE", "issueTokens": False, "failAuthentication": False}
    if source == "CreateAuthChallenge_Authentication":
        n = len([r for r in session if r["challengeName"] == "CUSTOM_CHALLENGE"])
        return {"publicChallengeParameters": {"question": f"{n} + {n}"},
                "privateChallengeParameters": {"answer": str(2 * n)},
                "challengeMetadata": f"round-{n}"}
    if source == "VerifyAuthChallengeResponse_Authentication":
        req = event["request"]
        return {"answerCorrect": req["challengeAnswer"] == req["privateChallengeParameters"]["answer"]}
    return {}


def custom_auth_pool(idp) -> tuple[str, str]:
    return create_pool_and_client(
        idp,
        flows=["ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        LambdaConfig={
            "DefineAuthChallenge": ARN + "define",
            "CreateAuthChallenge": ARN + "create",
            "VerifyAuthChallengeResponse": ARN + "verify",
        },
    )


def test_custom_auth_with_boto3(server, lambdas, boto_client):
    fake = lambdas(quiz)
    srv = serve_with(server, fake)
    idp = boto_client(srv)
    pool_id, client_id = custom_auth_pool(idp)
    create_confirmed_user(idp, pool_id, "quizzer")

    r = idp.initiate_auth(AuthFlow="CUSTOM_AUTH", ClientId=client_id, AuthParameters={"USERNAME": "quizzer"},
                          ClientMetadata={"lang": "en"})
    for n in range(3):
        assert r["ChallengeName"] == "CUSTOM_CHALLENGE"
        assert r["ChallengeParameters"]["question"] == f"{n} + {n}"
        r = idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=r["Session"],
            ChallengeResponses={"USERNAME": "quizzer", "ANSWER": str(2 * n)},
            ClientMetadata={"round": str(n)})
    claims = jwt.decode(r["AuthenticationResult"]["IdToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == "quizzer"
    define = fake.of("DefineAuthChallenge_Authentication")
    # InitiateAuth's ClientMetadata does not reach the custom-auth triggers (the
    # model lists pre sign-up, pre authentication and user migration only);
    # RespondToAuthChallenge's does.
    assert "clientMetadata" not in define[0]["request"], define[0]
    assert define[1]["request"]["clientMetadata"] == {"round": "0"}
    verify = fake.of("VerifyAuthChallengeResponse_Authentication")
    assert verify[0]["request"]["clientMetadata"] == {"round": "0"}
    assert [s["challengeMetadata"] for s in define[-1]["request"]["session"]] == ["round-0", "round-1", "round-2"]

    # A wrong answer: DefineAuthChallenge fails the sign-in.
    r = idp.initiate_auth(AuthFlow="CUSTOM_AUTH", ClientId=client_id, AuthParameters={"USERNAME": "quizzer"})
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="CUSTOM_CHALLENGE", Session=r["Session"],
            ChallengeResponses={"USERNAME": "quizzer", "ANSWER": "41"})
    assert error_code(e.value) == "NotAuthorizedException"
    assert error_message(e.value) == "Incorrect username or password."


def js_custom_auth(srv, pool_id, client_id, username, password, mode, *answers) -> dict:
    if not (JS_DIR / "node_modules" / "amazon-cognito-identity-js").is_dir():
        pytest.fail("e2e/js/node_modules is missing: run `npm ci` in e2e/js (scripts/e2e-setup.sh does)")
    args = ["node", str(JS_DIR / "custom_auth.js"), srv.url, pool_id, client_id, username, password, mode, *answers]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_custom_auth_with_amazon_cognito_identity_js(server, lambdas, boto_client):
    fake = lambdas(quiz)
    srv = serve_with(server, fake)
    idp = boto_client(srv)
    pool_id, client_id = custom_auth_pool(idp)
    create_confirmed_user(idp, pool_id, "jsquiz")

    # authenticateUser: SRP_A, PASSWORD_VERIFIER, then the three questions.
    out = js_custom_auth(srv, pool_id, client_id, "jsquiz", PASSWORD, "srp", "0", "2", "4")
    assert out["ok"], out
    assert [q["question"] for q in out["questions"]] == ["0 + 0", "1 + 1", "2 + 2"]
    assert jwt.decode(out["accessToken"], options={"verify_signature": False})["username"] == "jsquiz"
    sessions = [e["request"]["session"] for e in fake.of("DefineAuthChallenge_Authentication")]
    assert [s["challengeName"] for s in sessions[1]] == ["SRP_A", "PASSWORD_VERIFIER"]

    # The wrong password fails at PASSWORD_VERIFIER.
    out = js_custom_auth(srv, pool_id, client_id, "jsquiz", "Wrong-Passw0rd!", "srp", "0", "2", "4")
    assert not out["ok"] and out["code"] == "NotAuthorizedException", out

    # initiateAuth: no password, straight to the questions.
    out = js_custom_auth(srv, pool_id, client_id, "jsquiz", "", "plain", "0", "2", "4")
    assert out["ok"], out
    assert len(out["questions"]) == 3


def test_pre_sign_up_refusal_leaves_no_user(server, lambdas, boto_client):
    def behaviour(function: str, event: dict) -> dict:
        if event["request"]["userAttributes"].get("email", "").endswith("@blocked.example"):
            raise Refuse("Domain not allowed")
        return {"autoConfirmUser": True}

    srv = serve_with(server, lambdas(behaviour))
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, LambdaConfig={"PreSignUp": ARN + "pre-sign-up"})
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=client_id, Username="blocked", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@blocked.example"}])
    assert error_code(e.value) == "UserLambdaValidationException"
    assert error_message(e.value) == "PreSignUp failed with error Domain not allowed."
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool_id, Username="blocked")
    assert error_code(e.value) == "UserNotFoundException"
    r = idp.sign_up(ClientId=client_id, Username="welcome", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "w@example.com"}])
    assert r["UserConfirmed"] is True


def test_pre_token_generation_and_user_migration(server, lambdas, boto_client):
    def behaviour(function: str, event: dict) -> dict:
        source = event["triggerSource"]
        if source == "UserMigration_Authentication":
            if event["request"]["password"] != "Legacy-Passw0rd!":
                raise Refuse("Bad password")
            return {"userAttributes": {"email": "old@legacy.example", "email_verified": "true"},
                    "finalUserStatus": "CONFIRMED", "messageAction": "SUPPRESS"}
        if source.startswith("TokenGeneration_"):
            assert event["version"] == "2"
            return {"claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme"}},
                "groupOverrideDetails": {"groupsToOverride": ["migrated"]}}}
        return {}

    fake = lambdas(behaviour)
    srv = serve_with(server, fake)
    idp = boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, LambdaConfig={
        "UserMigration": ARN + "migrate",
        "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": ARN + "tokens"},
    })
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"]["PreTokenGeneration"] == ARN + "tokens"

    def login(password: str) -> dict:
        return idp.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": "olduser", "PASSWORD": password})

    with pytest.raises(ClientError) as e:
        login("Nope-Passw0rd!")
    assert error_code(e.value) == "UserLambdaValidationException"
    tokens = login("Legacy-Passw0rd!")["AuthenticationResult"]
    access = jwt.decode(tokens["AccessToken"], options={"verify_signature": False})
    assert access["tenant"] == "acme"
    assert access["cognito:groups"] == ["migrated"]
    user = idp.admin_get_user(UserPoolId=pool_id, Username="olduser")
    assert user["UserStatus"] == "CONFIRMED"

    # The legacy system is gone; PreTokenGeneration too: sign-in must not need them.
    idp.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"],
                         LambdaConfig={"UserMigration": ARN + "migrate"})
    fake.stop()
    tokens = login("Legacy-Passw0rd!")["AuthenticationResult"]
    assert "tenant" not in jwt.decode(tokens["AccessToken"], options={"verify_signature": False})

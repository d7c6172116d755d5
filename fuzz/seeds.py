#!/usr/bin/env python3
"""Writes the committed seed corpus of each fuzz target (fuzz/corpus/<target>/).

Run from the repository root: python3 fuzz/seeds.py. The ids match the
service the targets make (fuzz/src/lib.rs). Seeds are small valid (and a
few invalid) inputs that lead the fuzzer into each parser quickly.
"""
import base64
import hashlib
import hmac
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"
POOL = "us-east-1_Fuzz00001"
CLIENT = "fuzzclient000000000000001"
SECRET_CLIENT = "fuzzsecretclient000000001"
SECRET = "fuzz-client-secret-0123456789abcdef"
DOMAIN = "fuzz-domain"
CB = "https%3A%2F%2Fapp.example%2Fcb"


def write(target, seeds):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.iterdir():
        old.unlink()
    for i, seed in enumerate(seeds):
        data = seed if isinstance(seed, bytes) else seed.encode()
        (d / f"seed-{i:03}").write_bytes(data)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def secret_hash(username, secret=SECRET, client=SECRET_CLIENT):
    mac = hmac.new(secret.encode(), (username + client).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# --- aws_json: "<Operation>\n<body>"
attrs = [{"Name": "email", "Value": "bob@example.com"}, {"Name": "custom:team", "Value": "a"}]
ops = [
    ("SignUp", {"ClientId": CLIENT, "Username": "bob", "Password": "Passw0rd!x", "UserAttributes": attrs,
                "ValidationData": [{"Name": "x", "Value": "y"}], "ClientMetadata": {"k": "v"}}),
    ("SignUp", {"ClientId": SECRET_CLIENT, "Username": "carol", "Password": "Passw0rd!x",
                "SecretHash": secret_hash("carol")}),
    ("ConfirmSignUp", {"ClientId": CLIENT, "Username": "bob", "ConfirmationCode": "123456"}),
    ("ResendConfirmationCode", {"ClientId": CLIENT, "Username": "bob"}),
    ("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": CLIENT,
                      "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Passw0rd!x"}}),
    ("InitiateAuth", {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": CLIENT,
                      "AuthParameters": {"REFRESH_TOKEN": "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIn0.x.y.z"}}),
    ("InitiateAuth", {"AuthFlow": "CUSTOM_AUTH", "ClientId": CLIENT, "AuthParameters": {"USERNAME": "alice"}}),
    ("AdminInitiateAuth", {"UserPoolId": POOL, "ClientId": CLIENT, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                           "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Passw0rd!x"}}),
    ("RespondToAuthChallenge", {"ClientId": CLIENT, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                                "Session": "AYABe" + "A" * 40,
                                "ChallengeResponses": {"USERNAME": "alice", "NEW_PASSWORD": "N3w-Passw0rd"}}),
    ("RespondToAuthChallenge", {"ClientId": CLIENT, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s" * 30,
                                "ChallengeResponses": {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "123456"}}),
    ("GetUser", {"AccessToken": "eyJraWQiOiJrIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJ4In0.c2ln"}),
    ("GlobalSignOut", {"AccessToken": "a.b.c"}),
    ("RevokeToken", {"ClientId": CLIENT, "Token": "x" * 40}),
    ("ChangePassword", {"AccessToken": "a.b.c", "PreviousPassword": "Passw0rd!x", "ProposedPassword": "N3w-Passw0rd"}),
    ("ForgotPassword", {"ClientId": CLIENT, "Username": "alice"}),
    ("ConfirmForgotPassword", {"ClientId": CLIENT, "Username": "alice", "ConfirmationCode": "123456",
                               "Password": "N3w-Passw0rd"}),
    ("ListUsers", {"UserPoolId": POOL, "Filter": "email ^= \"b\"", "Limit": 10,
                   "AttributesToGet": ["email", "sub"]}),
    ("ListUsers", {"UserPoolId": POOL, "PaginationToken": "eyJrIjoiYWxpY2UifQ=="}),
    ("AdminCreateUser", {"UserPoolId": POOL, "Username": "dave", "TemporaryPassword": "Temp-Passw0rd",
                         "UserAttributes": [{"Name": "email", "Value": "d@example.com"},
                                            {"Name": "email_verified", "Value": "true"}],
                         "MessageAction": "SUPPRESS", "DesiredDeliveryMediums": ["EMAIL"]}),
    ("AdminGetUser", {"UserPoolId": POOL, "Username": "alice"}),
    ("AdminUpdateUserAttributes", {"UserPoolId": POOL, "Username": "alice",
                                   "UserAttributes": [{"Name": "name", "Value": "Alice"}]}),
    ("AdminDeleteUserAttributes", {"UserPoolId": POOL, "Username": "alice", "UserAttributeNames": ["name"]}),
    ("AdminSetUserPassword", {"UserPoolId": POOL, "Username": "dave", "Password": "Passw0rd!y", "Permanent": True}),
    ("AdminConfirmSignUp", {"UserPoolId": POOL, "Username": "bob"}),
    ("AdminDisableUser", {"UserPoolId": POOL, "Username": "dave"}),
    ("AdminUserGlobalSignOut", {"UserPoolId": POOL, "Username": "dave"}),
    ("AdminSetUserMFAPreference", {"UserPoolId": POOL, "Username": "alice",
                                   "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True}}),
    ("CreateGroup", {"UserPoolId": POOL, "GroupName": "admins", "Precedence": 1, "Description": "d"}),
    ("AdminAddUserToGroup", {"UserPoolId": POOL, "Username": "alice", "GroupName": "admins"}),
    ("ListUsersInGroup", {"UserPoolId": POOL, "GroupName": "admins", "Limit": 5}),
    ("ListGroups", {"UserPoolId": POOL}),
    ("DescribeUserPool", {"UserPoolId": POOL}),
    ("UpdateUserPool", {"UserPoolId": POOL, "Policies": {"PasswordPolicy": {"MinimumLength": 8,
                        "RequireSymbols": False, "TemporaryPasswordValidityDays": 3}},
                        "AutoVerifiedAttributes": ["email"], "MfaConfiguration": "OPTIONAL",
                        "UserPoolTags": {"team": "fuzz"}, "DeletionProtection": "ACTIVE"}),
    ("CreateUserPool", {"PoolName": "p2", "UsernameAttributes": ["email"],
                        "Schema": [{"Name": "team", "AttributeDataType": "String", "Mutable": True,
                                    "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "20"}}],
                        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
                        "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-east-1:000000000000:function:f"}}),
    ("AddCustomAttributes", {"UserPoolId": POOL, "CustomAttributes": [{"Name": "team", "AttributeDataType": "String"}]}),
    ("CreateUserPoolClient", {"UserPoolId": POOL, "ClientName": "c2", "GenerateSecret": True,
                              "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                              "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
                              "CallbackURLs": ["https://app.example/cb"], "AllowedOAuthFlowsUserPoolClient": True,
                              "AccessTokenValidity": 60, "TokenValidityUnits": {"AccessToken": "minutes"},
                              "ReadAttributes": ["email"], "PreventUserExistenceErrors": "ENABLED"}),
    ("UpdateUserPoolClient", {"UserPoolId": POOL, "ClientId": CLIENT, "RefreshTokenValidity": 10,
                              "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}}),
    ("DescribeUserPoolClient", {"UserPoolId": POOL, "ClientId": SECRET_CLIENT}),
    ("ListUserPoolClients", {"UserPoolId": POOL, "MaxResults": 2}),
    ("ListUserPools", {"MaxResults": 10}),
    ("CreateResourceServer", {"UserPoolId": POOL, "Identifier": "https://api.example", "Name": "api",
                              "Scopes": [{"ScopeName": "read", "ScopeDescription": "r"}]}),
    ("CreateIdentityProvider", {"UserPoolId": POOL, "ProviderName": "Okta", "ProviderType": "OIDC",
                                "ProviderDetails": {"client_id": "x", "authorize_scopes": "openid",
                                                    "oidc_issuer": "https://idp.example"},
                                "AttributeMapping": {"email": "email"}}),
    ("SetUICustomization", {"UserPoolId": POOL, "ClientId": "ALL", "CSS": ".banner-customizable {color: red}"}),
    ("SetUserPoolMfaConfig", {"UserPoolId": POOL, "SoftwareTokenMfaConfiguration": {"Enabled": True},
                              "MfaConfiguration": "OPTIONAL"}),
    ("CreateUserImportJob", {"UserPoolId": POOL, "JobName": "j",
                             "CloudWatchLogsRoleArn": "arn:aws:iam::000000000000:role/r"}),
    ("GetCSVHeader", {"UserPoolId": POOL}),
    ("TagResource", {"ResourceArn": f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{POOL}",
                     "Tags": {"a": "b"}}),
    ("SetRiskConfiguration", {"UserPoolId": POOL, "RiskExceptionConfiguration": {"BlockedIPRangeList": ["10.0.0.0/8"]}}),
    ("CreateTerms", {"UserPoolId": POOL, "ClientId": CLIENT, "TermsName": "terms-of-use", "TermsSource": "LINK",
                     "Enforcement": "NONE", "Links": {"cognito:default": "https://app.example/terms"}}),
    ("CreateManagedLoginBranding", {"UserPoolId": POOL, "ClientId": CLIENT, "UseCognitoProvidedValues": True}),
    ("SetUserPoolSessionConfiguration", {"UserPoolId": POOL}),
    ("AddUserPoolClientSecret", {"UserPoolId": POOL, "ClientId": SECRET_CLIENT}),
    ("CreateUserPoolDomain", {"UserPoolId": POOL, "Domain": "another-domain"}),
    ("AdminListUserSessions", {"UserPoolId": POOL, "Username": "alice"}),
    ("ConfirmDevice", {"AccessToken": "a.b.c", "DeviceKey": "us-east-1_abc",
                       "DeviceSecretVerifierConfig": {"PasswordVerifier": "AAAA", "Salt": "AAAA"}}),
    ("DeleteUserPool", {"UserPoolId": "us-east-1_Missing1"}),
]
aws = [f"{op}\n{json.dumps(body)}" for op, body in ops]
aws += ["SignUp\n", "SignUp\n[]", "ListUsers\n{\"UserPoolId\": 1}", "InitiateAuth\n{\"AuthFlow\": null}",
        "CreateUserPool\n{\"PoolName\": \"x\", \"Policies\": {\"PasswordPolicy\": {\"MinimumLength\": 99999999999}}}"]
write("aws_json", aws)

# --- list_users_filter
write("list_users_filter", [
    'email = "a@b.c"', 'username ^= "al"', '"given_name" = "x\\"y"', 'sub = "abc"',
    'status = "Enabled"', 'cognito:user_status = "CONFIRMED"', 'phone_number ^= "+1"', '',
    'email="a"', 'name ^= ""', 'preferred_username = "\\\\"', 'family_name  =  "é"',
])

# --- srp: "SRP_A \0 secret block \0 timestamp \0 signature"
src = (pathlib.Path(__file__).resolve().parent.parent / "crates/crypto/src/srp.rs").read_text()
n_hex = "".join(re.findall(r'"([0-9A-F]+)"', src.split("const N_HEX", 1)[1].split(");", 1)[0]))
N = int(n_hex, 16)
a_pub = pow(2, 0x1234567890ABCDEF1234567890ABCDEF, N)
block = base64.b64encode(b"\x01" * 48).decode()
sig = base64.b64encode(b"\x02" * 32).decode()
ts = "Tue Mar 5 09:07:03 UTC 2024"
write("srp", [
    f"{a_pub:x}\0{block}\0{ts}\0{sig}",
    f"{a_pub:X}\0{block}\0Wed Feb 29 23:59:60 UTC 2028\0{sig}",
    f"{N:x}\0{block}\0{ts}\0{sig}",
    f"0\0\0\0",
    f"{2 * N:x}\0AAAA\0Mon Jan 1 00:00:00 UTC 1970\0=",
    f"{a_pub:x}\0not base64!\0{ts}\0",
])

# --- secret_hash: "username \0 SECRET_HASH"
write("secret_hash", [
    f"alice\0{secret_hash('alice')}",
    f"alice\0{secret_hash('alice', 'second-secret')}",
    f"ALICE\0{secret_hash('ALICE')}",
    "alice\0wrong",
    "alice\0",
    f"nobody\0{secret_hash('nobody')}",
])

# --- hosted_ui: "METHOD TARGET\nHeader: v\n...\n\nbody"
form = "Content-Type: application/x-www-form-urlencoded"
base = f"/domains/{DOMAIN}"
q = f"client_id={CLIENT}&response_type=code&redirect_uri={CB}&scope=openid+email&state=st"
basic = base64.b64encode(f"{SECRET_CLIENT}:{SECRET}".encode()).decode()
fake_jwt = b64url(b'{"alg":"RS256","kid":"k"}') + "." + b64url(b'{"sub":"x","token_use":"access"}') + ".c2ln"
write("hosted_ui", [
    f"GET {base}/oauth2/authorize?{q}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\n\n",
    f"GET {base}/oauth2/authorize?client_id={CLIENT}&response_type=token&redirect_uri={CB}&identity_provider=COGNITO\n\n",
    f"GET {base}/login?{q}\n\n",
    f"POST {base}/login?{q}\n{form}\nCookie: XSRF-TOKEN=abc\n\n_csrf=abc&username=alice&password=Passw0rd%21x",
    f"GET /login?{q}\nHost: {DOMAIN}.auth.us-east-1.amazoncognito.com\n\n",
    f"GET {base}/signup?{q}\n\n",
    f"POST {base}/signup?{q}\n{form}\nCookie: XSRF-TOKEN=t\n\n_csrf=t&username=erin&email=e%40example.com&password=Passw0rd%21x",
    f"POST {base}/confirm?{q}\n{form}\nCookie: XSRF-TOKEN=t\n\n_csrf=t&username=erin&code=123456",
    f"POST {base}/confirm/resend?{q}\n{form}\n\n_csrf=t&username=erin",
    f"POST {base}/forgotPassword?{q}\n{form}\nCookie: XSRF-TOKEN=t\n\n_csrf=t&username=alice",
    f"POST {base}/confirmForgotPassword?{q}\n{form}\nCookie: XSRF-TOKEN=t\n\n_csrf=t&username=alice&code=1&password=N3w-Passw0rd&confirm_password=N3w-Passw0rd",
    f"POST {base}/login/newPassword?{q}\n{form}\nCookie: XSRF-TOKEN=t; cognito=abc.def\n\n_csrf=t&session=s&new_password=N3w-Passw0rd&confirm_password=N3w-Passw0rd",
    f"POST {base}/login/totp?{q}\n{form}\n\n_csrf=t&session=s&totp_code=123456",
    f"POST {base}/login/mfaSetup?{q}\n{form}\n\n_csrf=t&session=s&totp_code=123456",
    f"GET {base}/logout?client_id={CLIENT}&logout_uri=https%3A%2F%2Fapp.example%2Fout\nCookie: cognito=x\n\n",
    f"POST {base}/oauth2/token\n{form}\n\ngrant_type=authorization_code&code=abc&client_id={CLIENT}&redirect_uri={CB}&code_verifier=v",
    f"POST {base}/oauth2/token\n{form}\nAuthorization: Basic {basic}\n\ngrant_type=refresh_token&refresh_token=r",
    f"POST {base}/oauth2/token\n{form}\nAuthorization: Basic {basic}\n\ngrant_type=client_credentials&scope=https%3A%2F%2Fapi.example%2Fread",
    f"POST {base}/oauth2/revoke\n{form}\n\ntoken=r&client_id={CLIENT}",
    f"GET {base}/oauth2/userInfo\nAuthorization: Bearer {fake_jwt}\n\n",
    f"OPTIONS {base}/oauth2/token\nOrigin: https://app.example\n\n",
    f"GET /{POOL}/.well-known/jwks.json\n\n",
    f"GET /{POOL}/.well-known/openid-configuration\n\n",
    f"GET /ui-assets/{POOL}/{CLIENT}/style.css\n\n",
    f"GET /ui-assets/{POOL}/ALL/logo\n\n",
])

# --- jwt: mode byte + input (see fuzz_targets/jwt.rs)
iss = f"http://cognate.fuzz/{POOL}"
now = 1_800_000_000
access = {"sub": "0d3c9a5e-1111-2222-3333-444455556666", "iss": iss, "client_id": CLIENT,
          "origin_jti": "o", "event_id": "e", "token_use": "access",
          "scope": "openid email aws.cognito.signin.user.admin", "auth_time": now, "exp": now + 3600,
          "iat": now, "jti": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "username": "alice",
          "cognito:groups": ["admins"]}
id_token = {"sub": "s", "iss": iss, "aud": CLIENT, "token_use": "id", "exp": now + 60, "iat": now - 10,
            "nbf": now - 10, "cognito:username": "alice", "email": "a@example.com"}
header = {"alg": "RS256", "kid": "k", "typ": "JWT"}
write("jwt", [
    "P" + json.dumps(access),
    "P" + json.dumps(id_token),
    "P" + json.dumps({**access, "exp": now - 100}),
    "P" + json.dumps({**access, "iss": "http://other/x"}),
    "P" + json.dumps({**access, "client_id": "other"}),
    "P" + json.dumps({**id_token, "aud": ["a", CLIENT]}),
    "H" + json.dumps(header) + "\0" + json.dumps(access),
    "H" + json.dumps({"alg": "RS256", "kid": "k", "jku": "http://evil/jwks"}) + "\0" + json.dumps(access),
    "H" + '{"alg":"RS256","alg":"none"}' + "\0" + json.dumps(access),
    "T" + b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(access).encode()) + "." + b64url(b"\0" * 256),
    "T" + b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(access).encode()) + ".",
    "T" + b64url(b'{"alg":"HS256","kid":"k"}') + "." + b64url(json.dumps(access).encode()) + ".AAAA",
    "T" + b64url(b'{"alg":"RS256","kid":"../../etc/passwd"}') + ".e30.AAAA",
    "T" + "a.b.c.d",
    "T",
    "J" + json.dumps({"keys": [{"kty": "RSA", "kid": "k", "alg": "RS256", "use": "sig", "e": "AQAB",
                                "n": b64url(b"\xc1" + b"\x00" * 255)}]}),
    "J" + json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, {"kty": "RSA"}]}),
])

# --- config: YAML config files
write("config", [
    """pools:
  - id: us-east-1_Conf00001
    name: conf
    alias_attributes: [email]
    auto_verified_attributes: [email]
    mfa_configuration: OPTIONAL
    password_policy: {minimum_length: 10, require_symbols: false}
    schema:
      - {name: team, type: String, mutable: true, max_length: 20}
    clients:
      - id: confclient0000000000000001
        name: web
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
        callback_urls: [https://app.example/cb]
    users:
      - {username: ann, password: Passw0rd!x, attributes: {email: ann@example.com}}
""",
    (pathlib.Path(__file__).resolve().parent.parent / "examples/quickstart/cognate.yaml").read_text(),
    """gateway:
  listen: 127.0.0.1:0
  max_connections: 10
  apis:
    - name: api
      stage: v1
      authorizers:
        idp: {type: jwt, issuer: "https://idp.example", audience: [a], jwks_uri: "https://idp.example/jwks"}
      routes:
        - {method: GET, path: /echo, auth: required, authorizer: idp, scopes: [read], scope_match: all,
           claim_headers: [sub, email], integration: {type: http, url: "http://127.0.0.1:9", timeout_ms: 100}}
        - {method: ANY, path: "/{proxy+}", auth: optional, authorizer: idp, claim_headers: none,
           integration: {type: mock, status: 204, headers: {x-a: b}, body: "ok"}}
signing_keys: {rotate_after_days: 30, publish_lead_seconds: 60}
database: sqlite:/tmp/x.db
admin:
  credentials:
    - {access_key_id: AKIAFUZZ, secret_access_key: s3cret, pools: [us-east-1_Conf00001]}
lambda:
  functions: {"arn:aws:lambda:us-east-1:000000000000:function:f": "http://127.0.0.1:9/f"}
""",
    "pools: []\n",
    "pools:\n  - id: bad id\n",
    "",
    "a: [1, 2\n",
])
# --- webauthn_attestation: raw attestationObject (CBOR), for the fixed
# clientDataJSON of the target (rp auth.example.com, credential id 7*16).
def cbor(v):
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for size, code in ((1, 24), (2, 25), (4, 26), (8, 27)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | code]) + n.to_bytes(size, "big")
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


# The P-256 generator point: a valid public key.
GX = bytes.fromhex("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296")
GY = bytes.fromhex("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")
COSE = cbor({1: 2, 3: -7, -1: 1, -2: GX, -3: GY})
AUTH = (hashlib.sha256(b"auth.example.com").digest() + bytes([0x45]) + (0).to_bytes(4, "big")
        + bytes(16) + (16).to_bytes(2, "big") + bytes([7] * 16) + COSE)
# A minimal DER certificate shape (not a valid one): SEQUENCE of SEQUENCEs.
CERT = bytes.fromhex("3082010a3081f0a003020102020101300a06082a8648ce3d040302300030")
TPM_PUB = (bytes.fromhex("0023000b00040472") + bytes(2) + bytes.fromhex("0010001000030010")
           + (32).to_bytes(2, "big") + GX + (32).to_bytes(2, "big") + GY)
TPM_INFO = (bytes.fromhex("ff5443478017") + bytes(2) + (32).to_bytes(2, "big") + bytes(32)
            + bytes(25) + (34).to_bytes(2, "big") + bytes.fromhex("000b")
            + hashlib.sha256(TPM_PUB).digest() + bytes(2))
statements = {
    "none": {},
    "packed": {"alg": -7, "sig": bytes(70)},
    "packed-x5c": {"alg": -7, "sig": bytes(70), "x5c": [CERT]},
    "fido-u2f": {"sig": bytes(70), "x5c": [CERT]},
    "apple": {"x5c": [CERT, CERT]},
    "android-key": {"alg": -7, "sig": bytes(70), "x5c": [CERT]},
    "tpm": {"ver": "2.0", "alg": -7, "x5c": [CERT], "sig": bytes(70), "certInfo": TPM_INFO,
            "pubArea": TPM_PUB},
    "android-safetynet": {"ver": "1", "response": b"eyJhbGciOiJSUzI1NiJ9.eyJub25jZSI6IngifQ.c2ln"},
}
write("webauthn_attestation", [
    cbor({"fmt": fmt.split("-x5c")[0], "attStmt": st, "authData": AUTH}) for fmt, st in statements.items()
] + [cbor({"fmt": "none", "attStmt": {}, "authData": AUTH[:40]}), b"\xa0"])

print("seeds written under", ROOT)

# --- saml_metadata: IdP metadata documents (prefixed and default
# namespaces, an EntitiesDescriptor, an SP's, a POST-only one, a DTD).
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
write("saml_metadata", [
    f'<md:EntityDescriptor xmlns:md="{MD}" entityID="https://idp.example.com"><md:IDPSSODescriptor>'
    f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example.com/sso"/>'
    f'<md:SingleLogoutService Binding="{REDIRECT}" Location="https://idp.example.com/slo"/>'
    '</md:IDPSSODescriptor></md:EntityDescriptor>',
    f'<EntitiesDescriptor xmlns="{MD}"><EntityDescriptor entityID="x"><IDPSSODescriptor>'
    f'<SingleSignOnService Binding="{REDIRECT}" Location="https://idp/sso"/>'
    '</IDPSSODescriptor></EntityDescriptor></EntitiesDescriptor>',
    f'<EntityDescriptor xmlns="{MD}" entityID="sp"><SPSSODescriptor/></EntityDescriptor>',
    f'<EntityDescriptor xmlns="{MD}"><IDPSSODescriptor><SingleSignOnService '
    'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp/sso"/>'
    '</IDPSSODescriptor></EntityDescriptor>',
    '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
])

# --- saml_response: the responses the unit tests verify (signed by signxml:
# the assertion, the response, both; unsigned, another key, a failed status).
FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "crates/core/src/service/saml_response/fixtures"
write("saml_response", [p.read_text() for p in sorted(FIXTURES.glob("*.xml")) if not p.name.startswith("metadata")])

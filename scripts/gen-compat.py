#!/usr/bin/env python3
"""Regenerates docs/compat.md from the operation lists in
crates/aws-json/src/operation.rs (every botocore cognito-idp operation, and the
ones cognate implements) and the notes below. A Rust test checks the result
stays in step with the code."""
import re
from pathlib import Path

root = Path(__file__).resolve().parent.parent
src = (root / "crates/aws-json/src/operation.rs").read_text()

def names(const):
    block = re.search(const + r": &\[&str\] = &\[(.*?)\];", src, re.S).group(1)
    return re.findall(r'"([A-Za-z]+)"', block)

model = names("MODEL_OPERATIONS")
implemented = set(names("IMPLEMENTED"))

# Operations that exist but lack part of Cognito's behaviour: what is missing.
PARTIAL = {
    "InitiateAuth": "USER_PASSWORD_AUTH, USER_SRP_AUTH and REFRESH_TOKEN_AUTH/REFRESH_TOKEN work (with NEW_PASSWORD_REQUIRED, MFA_SETUP and SOFTWARE_TOKEN_MFA challenges); CUSTOM_AUTH and USER_AUTH answer UnsupportedOperationException (no Lambda triggers, no passwordless); DEVICE_KEY, ClientMetadata, AnalyticsMetadata and UserContextData are ignored.",
    "AdminInitiateAuth": "ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH, USER_SRP_AUTH and REFRESH_TOKEN_AUTH work; CUSTOM_AUTH and USER_AUTH are not supported; ContextData is ignored.",
    "RespondToAuthChallenge": "NEW_PASSWORD_REQUIRED, PASSWORD_VERIFIER, SOFTWARE_TOKEN_MFA and MFA_SETUP; no SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE, CUSTOM_CHALLENGE or device challenges.",
    "AdminRespondToAuthChallenge": "as RespondToAuthChallenge.",
    "SetUICustomization": "CSS (up to 128 KiB) and a PNG/JPEG logo (up to 100 KB) per client or pool-wide (ALL), served to the hosted UI; the CSS is not restricted to Cognito's customizable classes.",
    "CreateUserPool": "LambdaConfig, EmailConfiguration, SmsConfiguration, DeviceConfiguration and UserPoolAddOns are stored and echoed but not acted on (no Lambda triggers, SES or SNS).",
    "UpdateUserPool": "as CreateUserPool.",
    "SignUp": "ValidationData and ClientMetadata are ignored (no Lambda triggers); SMS codes go to the development outbox only.",
    "AdminCreateUser": "ForceAliasCreation is ignored; SMS invitations go to the development outbox only.",
    "ConfirmSignUp": "ForceAliasCreation is ignored: a verified alias another user holds answers AliasExistsException (the alias is not moved).",
    "CreateUserImportJob": "The PreSignedUrl is served by cognate itself (PUT the CSV there as to S3); PasswordHashingAlgorithm is refused (imported users reset their password; `cognate import` moves hashes); nothing is logged to CloudWatch.",
    "StartUserImportJob": "The import runs on the instance that started it; cognito:mfa_enabled is ignored (no SMS MFA).",
    "SetUserPoolMfaConfig": "software token (TOTP) MFA only; SmsMfaConfiguration, EmailMfaConfiguration and WebAuthnConfiguration are refused.",
    "SetUserMFAPreference": "software token (TOTP) only; enabling SMS or email MFA is refused.",
    "AdminSetUserMFAPreference": "as SetUserMFAPreference.",
    "CreateIdentityProvider": "Stored in the pool and usable in app clients' SupportedIdentityProviders; signing in through the provider is not done yet. Required ProviderDetails are checked per type and the social providers' endpoints added as AWS documents; OIDC endpoints are not discovered from oidc_issuer and SAML metadata is not fetched or parsed (no SSORedirectBindingURI / ActiveEncryptionCertificate).",
    "UpdateIdentityProvider": "as CreateIdentityProvider.",
    "DescribeIdentityProvider": "as CreateIdentityProvider (SignInWithApple private_key is never shown).",
    "DeleteIdentityProvider": "App clients that list the provider keep its name (as AWS does); a later UpdateUserPoolClient still listing it is refused until the name is removed.",
    "GetSigningCertificate": "A self-signed certificate over the pool's current ID-token signing key (the key its JWKS publishes), valid 10 years from the key's creation; no SAML requests are signed with it yet.",
    "SetLogDeliveryConfiguration": "Stored and returned; no log is delivered anywhere. S3 and Firehose destinations need the PLUS tier (FeatureUnavailableInTierException); userAuthEvents to CloudWatch Logs is accepted on any tier.",
    "GetLogDeliveryConfiguration": "as SetLogDeliveryConfiguration.",
    "SetRiskConfiguration": "Stored per pool and per app client and returned; nothing is acted on (no risk scoring, compromised-credential checks, IP lists or notifications). Accepted on every tier, as a live probe of AWS showed for LITE and ESSENTIALS pools (no UserPoolAddOnNotEnabledException).",
    "DescribeRiskConfiguration": "as SetRiskConfiguration; a client without settings of its own shows the pool's.",
}

lines = [
    "# Compatibility with the `cognito-idp` API",
    "",
    "Every operation of the botocore service model `cognito-idp` (2016-04-18), and what cognate does with it.",
    "**supported**: implemented with Cognito's request and response members and errors;",
    "**partial**: implemented, with the listed gaps; **not yet**: answers `UnsupportedOperationException`.",
    "",
    "Generated by `scripts/gen-compat.py` from `crates/aws-json/src/operation.rs`; a test keeps the two in step.",
    "",
    "| Operation | Status | Notes |",
    "|---|---|---|",
]
counts = {"supported": 0, "partial": 0, "not yet": 0}
for op in model:
    if op in implemented:
        status = "partial" if op in PARTIAL else "supported"
    else:
        status = "not yet"
    counts[status] += 1
    lines.append(f"| {op} | {status} | {PARTIAL.get(op, '') if op in implemented else ''} |")
lines += ["", f"Totals: {counts['supported']} supported, {counts['partial']} partial, {counts['not yet']} not yet, of {len(model)}.", ""]
(root / "docs/compat.md").write_text("\n".join(lines))
print(f"docs/compat.md: {counts}")

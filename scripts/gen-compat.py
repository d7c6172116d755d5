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
    "AddUserPoolClientSecret": "At most two secrets per client (LimitExceededException), public clients refused (InvalidParameterException); AWS's exact message texts for these refusals are not published, so cognate's are its own.",
    "DeleteUserPoolClientSecret": "The last secret cannot be deleted (InvalidParameterException, cognate's wording); an unknown ClientSecretId answers ResourceNotFoundException.",
    "CreateTerms": "Stored per pool and returned; the hosted sign-up page links both documents (English, else cognito:default, http(s) links only) once terms-of-use and privacy-policy both exist. TermsExistsException and not-found messages are cognate's wording; no per-pool quota beyond one document of each name per client.",
    "UpdateTerms": "as CreateTerms.",
    "CreateManagedLoginBranding": "Stored per pool and client and returned as given. On a managed login domain (ManagedLoginVersion 2) the hosted pages apply the light-mode page background, page header and primary button colours of Settings and the PAGE_HEADER_LOGO (else FORM_LOGO) asset; other settings, dark mode, backgrounds, favicons and icons are stored only. Requests are limited to 1 MiB (AWS: 2 MB), and a pool keeps at most 8 MiB of branding settings and assets (LimitExceededException), since styles live in the pool document.",
    "UpdateManagedLoginBranding": "as CreateManagedLoginBranding; Settings given are merged into the stored document, assets replace those of the same category and colour mode.",
    "DescribeManagedLoginBranding": "ReturnMergedResources is ignored: only the values the style was given are returned (cognate has no copy of Cognito's default style document).",
    "DescribeManagedLoginBrandingByClient": "as DescribeManagedLoginBranding.",
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

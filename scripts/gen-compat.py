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


def conformance_counts() -> dict[str, list[int]]:
    """Rows of the conformance suite (e2e/conformance/*.yaml, one case per line) per
    operation: [error cases, success cases]."""
    counts: dict[str, list[int]] = {}
    for path in sorted((root / "e2e/conformance").glob("*.yaml")):
        for line in path.read_text().splitlines():
            if not line.startswith("- {"):
                continue
            op = re.search(r"\bop: ([A-Za-z]+)", line).group(1)
            kind = 0 if re.search(r"\berror: ", line) else 1
            counts.setdefault(op, [0, 0])[kind] += 1
    return counts


cases = conformance_counts()
implemented = set(names("IMPLEMENTED"))

# Operations that exist but lack part of Cognito's behaviour: what is missing.
PARTIAL = {
    "StartWebAuthnRegistration": "CredentialCreationOptions as AWS's example shows them (ES256 and RS256, resident key required, timeout 60000, user.id = base64url of sub); the relying party is RelyingPartyId, else the custom domain, else, for a prefix domain, the host of the server's public URL (where cognate serves a prefix domain's pages); neither answers WebAuthnConfigurationMissingException. Passkeys count as enabled when the sign-in policy's AllowedFirstAuthFactors has WEB_AUTHN (or FactorConfiguration is MULTI_FACTOR_WITH_USER_VERIFICATION); the pool's feature plan is not checked. The challenge can be completed for 5 minutes. The exception texts are cognate's (AWS does not publish them).",
    "CompleteWebAuthnRegistration": "Checks the challenge (single use, same user; another app client answers WebAuthnClientMismatchException), the origin (https on the relying party or a subdomain; http only for localhost and the server's own http public URL), the relying party hash, user presence and, when UserVerification is required, user verification. Attestation `none` and `packed` self-attestation only (packed with a certificate, tpm, android-key, fido-u2f and apple answer WebAuthnCredentialNotSupportedException; browsers send `none` because the options ask for no attestation). Keys ES256 and RS256. At most 20 passkeys per user (LimitExceededException). FriendlyCredentialName is `Platform passkey` or `Roaming passkey` by the authenticator attachment (AWS names passkeys by their provider). The exception texts are cognate's.",
    "AdminListUserAuthEvents": "events are recorded (last 50 per user) in pools with AdvancedSecurityMode AUDIT or ENFORCED: sign-ins (Pass/Fail with Password and Mfa challenge responses), SignUp, ForgotPassword, PasswordChange, ResendCode; no risk evaluation (RiskDecision NoRisk), EventContextData has the IP address only; each event carries cognate's own FeedbackToken member (Cognito mails it in risk notifications, which cognate does not send).",
    "ConfirmDevice": "The device's salt and verifier (DeviceSecretVerifierConfig, base64) are checked before they are stored: both or neither, a salt of 1 to 64 bytes not all zero, a verifier that is a non-zero number below the SRP group's N; otherwise InvalidParameterException (AWS does not publish its message; ours names the member). A device without them is never asked to prove itself; a device key handed out in NewDeviceMetadata but not confirmed is unknown to later sign-ins (ResourceNotFoundException).",
    "AdminListUserSessions": "token sessions only (one per sign-in with a live refresh token, kept across refresh token rotations; no SSO sessions of the hosted UI yet); LastActiveDate is the latest sign-in, refresh or rotation of the session; no device, IP or location.",
    "ListUserSessions": "as AdminListUserSessions, with IsCurrentSession.",
    "AdminRevokeUserSession": "token sessions: the refresh token and the access tokens of its sign-in are revoked; RevokeAssociatedSessions has nothing to cascade to.",
    "RevokeUserSession": "as AdminRevokeUserSession; the caller's own session is refused.",
    "GetUserAuthFactors": "ConfiguredUserAuthFactors lists the pool's AllowedFirstAuthFactors the user has: PASSWORD (a password), EMAIL_OTP / SMS_OTP (a verified email / phone_number, ESSENTIALS or PLUS tier); WEB_AUTHN is reported once the WebAuthn operations are wired in (no passkeys yet).",
    "AdminGetUserAuthFactors": "as GetUserAuthFactors.",
    "SetUserPoolSessionConfiguration": "stored and returned (LITE pools refused with FeatureUnavailableInTierException). While tracking is ENABLED, MaxPerUser is enforced as AWS documents it: a sign-in of a user who has that many live token sessions first evicts the least recently used (revoking its refresh and access tokens), in one store transaction per sign-in, so concurrent sign-ins never leave more; lowering it evicts nothing until the user's next sign-in. Without tracking there is no limit.",
    "GetUserPoolSessionConfiguration": "as SetUserPoolSessionConfiguration; defaults DISABLED and 20.",
    "SetUserPoolClientSessionConfiguration": "stored and returned (session tracking must be enabled on the pool). While tracking is ENABLED, the hosted UI reuses its session for a client only within the client's MaxValidityMinutes of the sign-in (0: never), and the session cookie lives as long as the longest of the pool's clients (at least an hour); other clients can still reuse it. No SSO session records are listed.",
    "GetUserPoolClientSessionConfiguration": "as SetUserPoolClientSessionConfiguration; default 60 minutes.",
    "CreateManagedLoginBranding": "Stored per pool and client and returned as given. On a managed login domain (ManagedLoginVersion 2) the hosted pages apply the light-mode page background, page header and primary button colours of Settings and the PAGE_HEADER_LOGO (else FORM_LOGO) asset; other settings, dark mode, backgrounds, favicons and icons are stored only. Requests are limited to 1 MiB (AWS: 2 MB), and a pool keeps at most 8 MiB of branding settings and assets (LimitExceededException), since styles live in the pool document.",
    "UpdateManagedLoginBranding": "as CreateManagedLoginBranding; Settings given are merged into the stored document, assets replace those of the same category and colour mode.",
    "DescribeManagedLoginBranding": "ReturnMergedResources is ignored: only the values the style was given are returned (cognate has no copy of Cognito's default style document).",
    "DescribeManagedLoginBrandingByClient": "as DescribeManagedLoginBranding.",
    "GetTokensFromRefreshToken": "Rotation as AWS documents it: on a client with RefreshTokenRotation ENABLED each call answers a new refresh token of the same sign-in session (same origin_jti, valid for what is left of the original's life) and the submitted one works for RetryGracePeriodSeconds after its first rotation (each retry in the grace period rotates again), then answers RefreshTokenReuseException; the rotation is one conditional store step, so concurrent uses outside the grace period rotate once. Reuse after the grace period refuses that token only (AWS documents no revocation of the family); RevokeToken, AdminRevokeUserSession and GlobalSignOut of any token of the family end all of it. The token endpoint's refresh_token grant rotates the same way. DeviceKey as Cognito requires it: the tokens of a sign-in bound to a device (its NewDeviceMetadata key, or the confirmed device it named) refresh only with that DeviceKey while the pool tracks devices, and only once the device is confirmed and not forgotten (NotAuthorizedException \"Invalid Refresh Token\" otherwise); the refreshed access token keeps the `device_key` claim; ClientMetadata does not reach the PreTokenGeneration trigger.",
    "InitiateAuth": "USER_PASSWORD_AUTH, USER_SRP_AUTH and REFRESH_TOKEN_AUTH/REFRESH_TOKEN work (with NEW_PASSWORD_REQUIRED, MFA_SETUP, SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP and SELECT_MFA_TYPE challenges); USER_AUTH works: SELECT_CHALLENGE with AvailableChallenges (the pool's AllowedFirstAuthFactors the user has; PASSWORD brings PASSWORD_SRP; EMAIL_OTP / SMS_OTP need a verified email / phone number and are left out while MFA is ON), or straight to an available PREFERRED_CHALLENGE (PASSWORD with PASSWORD, PASSWORD_SRP with SRP_A, EMAIL_OTP, SMS_OTP; an unavailable preference falls back to SELECT_CHALLENGE); a one-time-code first factor is not followed by MFA; no WEB_AUTHN yet (no passkeys); an unknown user answers UserNotFoundException or NotAuthorizedException (no simulated challenge under PreventUserExistenceErrors). CUSTOM_AUTH works through the pool's Define/Create/VerifyAuthChallenge Lambda triggers (with SRP_A and a PASSWORD_VERIFIER round); ClientMetadata reaches the custom-auth triggers only; DEVICE_KEY as Cognito: a sign-in naming a confirmed device of the user (with a verifier) proves it with DEVICE_SRP_AUTH before tokens, a remembered device replaces SOFTWARE_TOKEN_MFA where DeviceConfiguration.ChallengeRequiredOnNewDevice is set, and a proven password naming a device the user does not have answers ResourceNotFoundException \"Device does not exist.\" (on which clients sign in again without it); the access token of a sign-in bound to a device carries `device_key`, and REFRESH_TOKEN_AUTH of such tokens needs that DEVICE_KEY of a confirmed device (see GetTokensFromRefreshToken); AnalyticsMetadata and UserContextData are ignored. REFRESH_TOKEN_AUTH on a client with refresh token rotation answers InvalidParameterException (AWS: the flow is incompatible with rotation; its exact error is not published).",
    "AdminInitiateAuth": "ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH, CUSTOM_AUTH (Lambda triggers) and USER_AUTH (as InitiateAuth) work; ContextData is ignored.",
    "RespondToAuthChallenge": "NEW_PASSWORD_REQUIRED, PASSWORD_VERIFIER, CUSTOM_CHALLENGE, SOFTWARE_TOKEN_MFA, MFA_SETUP (TOTP set-up), SMS_MFA (SMS_MFA_CODE), EMAIL_OTP (EMAIL_OTP_CODE), SMS_OTP (SMS_OTP_CODE), SELECT_MFA_TYPE (ANSWER), SELECT_CHALLENGE (ANSWER PASSWORD / PASSWORD_SRP / EMAIL_OTP / SMS_OTP), DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER (device SRP with the device group key and device key; the DEVICE_SRP_AUTH answer must carry the Session of the step before it, so a device secret alone signs no one in). Codes are six digits, live as long as their session (AuthSessionValidity, 3 minutes by default), are used once, and a session takes 3 wrong codes; no WEB_AUTHN answer yet. The hosted UI has no page for SMS_MFA, EMAIL_OTP or SELECT_MFA_TYPE (it answers with an error; sign in through the API).",
    "AdminRespondToAuthChallenge": "as RespondToAuthChallenge.",
    "SetUICustomization": "CSS (up to 128 KiB) and a PNG/JPEG logo (up to 100 KB) per client or pool-wide (ALL), served to the hosted UI; the CSS is not restricted to Cognito's customizable classes.",
    "CreateUserPool": "LambdaConfig's triggers are invoked (docs/triggers.md; CustomSMSSender, CustomEmailSender and KMSKeyID are stored only: their Lambda functions decrypt codes with AWS KMS, which a self-hosted server cannot encrypt for); EmailConfiguration names the sender of the pool's emails, which go out by the server's SMTP transport: From (else the address of SourceArn's SES identity) replaces `--mail-from` and ReplyToEmailAddress becomes Reply-To (ConfigurationSet is stored only); SmsConfiguration is stored only (no SNS: SMS messages go to the development outbox); UserPoolAddOns' AdvancedSecurityMode AUDIT/ENFORCED turns on the auth event log, with no risk scoring; DeviceConfiguration drives device tracking and remembered devices (see InitiateAuth).",
    "UpdateUserPool": "as CreateUserPool.",
    "SignUp": "ValidationData and ClientMetadata go to the PreSignUp trigger; SMS codes go to the development outbox only.",
    "AdminCreateUser": "SMS invitations go to the development outbox only. ForceAliasCreation moves a verified email or phone number that another user holds as its sign-in alias (the other keeps the attribute, unverified) in one store transaction; in pools that sign in with email/phone (UsernameAttributes) the value stays unique.",
    "AdminLinkProviderForUser": "Links are stored (an identity linked to one user at most, five per user, gone with the user) but not used yet: cognate has no sign-in through external providers, so a DestinationUser is a native user (ProviderName Cognito, the username); a provider user as destination answers UserNotFoundException. `cognate export` / `import` carry the links. The linked native user shows no `identities` attribute (AWS documents it for federated users, filled in at their sign-in). The texts of AliasExistsException (identity already linked), LimitExceededException and the InvalidParameterException for missing members are cognate's (AWS does not publish them).",
    "AdminDisableProviderForUser": "Removes a link made by AdminLinkProviderForUser (named as it was linked; UserNotFoundException when there is none). ProviderName Cognito (turning off a native user's password sign-in) is refused with InvalidParameterException; there are no federated user records to disable.",
    "CreateUserImportJob": "The PreSignedUrl is served by cognate itself (PUT the CSV there as to S3); PasswordHashingAlgorithm is refused (imported users reset their password; `cognate import` moves hashes); nothing is logged to CloudWatch.",
    "StartUserImportJob": "The import runs on the instance that started it; cognito:mfa_enabled is ignored (no SMS MFA).",
    "SetUserPoolMfaConfig": "SmsMfaConfiguration (SmsAuthenticationMessage with {####}; SmsConfiguration stored and echoed, no SNS role is needed: SMS codes go to the development outbox) and EmailMfaConfiguration (Message with {####}, Subject; ESSENTIALS or PLUS tier as on AWS, FeatureUnavailableInTierException on LITE; AWS's requirement of a DEVELOPER SES sending account maps to the server's SMTP sink, or the outbox without one, so it is not checked) enable those factors; a factor left out of the call is turned off; WebAuthnConfiguration is stored and returned (RelyingPartyId must be a lower-case host name; a call without it states the default configuration, UserVerification preferred); FactorConfiguration MULTI_FACTOR_WITH_USER_VERIFICATION is kept but passkeys do not yet answer an MFA challenge.",
    "SetUserMFAPreference": "SoftwareTokenMfaSettings, SMSMfaSettings (needs phone_number) and EmailMfaSettings (needs email; ESSENTIALS or PLUS tier) with Enabled / PreferredMfa (one preferred at most); UserMFASettingList and PreferredMfaSetting follow in GetUser / AdminGetUser; WebAuthnMfaSettings is ignored.",
    "AdminSetUserMFAPreference": "as SetUserMFAPreference.",
    "CreateIdentityProvider": "Stored in the pool and usable in app clients' SupportedIdentityProviders; signing in through the provider is not done yet. Required ProviderDetails are checked per type and the social providers' endpoints added as AWS documents; OIDC endpoints are not discovered from oidc_issuer and SAML metadata is not fetched or parsed (no SSORedirectBindingURI / ActiveEncryptionCertificate).",
    "UpdateIdentityProvider": "as CreateIdentityProvider.",
    "DescribeIdentityProvider": "as CreateIdentityProvider (SignInWithApple private_key is never shown).",
    "SetRiskConfiguration": "Stored per pool and per app client and returned; nothing is acted on (no risk scoring, compromised-credential checks, IP lists or notifications). Accepted on every tier, as a live probe of AWS showed for LITE and ESSENTIALS pools (no UserPoolAddOnNotEnabledException).",
    "DescribeRiskConfiguration": "as SetRiskConfiguration; a client without settings of its own shows the pool's.",
}

# Operations that only make sense on AWS: answered as AWS answers for a pool without
# the feature (what cognate does instead is said in the note).
AWS_ONLY = {
    "CreateUserPoolReplica": "A cognate pool lives in one place, so it answers as AWS does for a pool that cannot be replicated: OperationNotEnabledException (InvalidParameterException for the pool's own region).",
    "ListUserPoolReplicas": "The pool itself, Role PRIMARY, Status ACTIVE, in the server's region.",
    "UpdateUserPoolReplica": "There are no secondaries: ResourceNotFoundException (InvalidParameterException for the primary's region).",
    "DeleteUserPoolReplica": "As UpdateUserPoolReplica.",
    "GetProvisionedLimit": "No request-rate quotas are enforced by cognate no request-rate quotas; the answer is the category's documented free rate (UserAuthentication 120, UserCreation 50, …) as both free and provisioned value.",
    "UpdateProvisionedLimit": "The account maximum is the free rate, so a higher value answers ServiceQuotaExceededException and a lower one InvalidParameterException; the free rate itself is accepted.",
    "SetLogDeliveryConfiguration": "Stored and returned as AWS does; the destinations are AWS services (CloudWatch Logs, S3, Firehose), so no log is delivered anywhere (cognate's audit events go to its own log: docs/operations.md). S3 and Firehose destinations need the PLUS tier (FeatureUnavailableInTierException); userAuthEvents to CloudWatch Logs is accepted on any tier.",
    "GetLogDeliveryConfiguration": "As SetLogDeliveryConfiguration.",
}

# Supported operations with something worth knowing (no gap in Cognito's behaviour).
NOTES = {
    "GetDerivedToken": "Token exchange (RFC 8693) of this pool's own ID and access tokens, also as the token endpoint's urn:ietf:params:oauth:grant-type:token-exchange grant. Authorized by a SigV4 signature (IAM credentials) or, unsigned, by the client's secret when it has one. The client needs ALLOW_TOKEN_EXCHANGE_IMPERSONATION (no ActorToken) or ALLOW_TOKEN_EXCHANGE_DELEGATION (with one); LITE pools are refused with OperationNotEnabledException (AWS documents token exchange for the Essentials and Plus plans but names no exception). Subject and actor tokens are checked like every token-consuming operation (signature, exp, this pool, revocation, user enabled); the issued token keeps the subject's origin_jti, so it is revoked with the subject's session or a global sign-out. Scopes: the requested ones (or the subject's) intersected with the subject token's and the client's AllowedOAuthScopes (aws.cognito.signin.user.admin counts as every client's; an ID token subject limits nothing); requested scopes of which none is left are refused. Audiences or Resources (a resource server of the pool) become aud; the access token's client_id is the requesting client; an issued ID token carries azp = the requesting client. With an actor, act = {sub, client_id, username} of the actor token, nesting the subject's own act. Gaps: third-party subject or actor tokens (SAML2, SubjectTokenProviderName, ActorTokenProviderName) are refused with InvalidParameterException because cognate has no federation; the PreTokenGeneration trigger does not run for exchanged tokens (AWS documents no trigger source for it); a pool-limited access key cannot sign the call (it names no UserPoolId); cognate-token and the gateway still judge an access token by its client_id when an authorizer lists app clients (an aud-first rule would let another client's token name ours as its audience), so a derived access token passes an authorizer that lists the requesting client's id or lists none, not one that lists only its aud. AWS publishes no texts for the refusals past the model's constraints, so cognate's are its own.",
    "GetClientToken": "Authorized by the app client's secret (any of its secrets), never by SigV4, as AWS documents. The client needs ALLOW_CLIENT_TOKEN_AUTH, which AWS's API reference documents and the pinned botocore model's ExplicitAuthFlowsType does not list yet: cognate accepts it in ExplicitAuthFlows (as the only authentication flow of the client) and adds it to that enum's validation message. The token is the token endpoint's client_credentials access token (scopes: the requested ones, each an allowed custom scope of the client, or all of those). AWS publishes no texts for the refusals (wrong secret, flow not enabled, scope not allowed), so cognate's are its own.",
    "AddUserPoolClientSecret": "At most two secrets per client (LimitExceededException), public clients refused (InvalidParameterException), any secret valid for SECRET_HASH and the token endpoint. AWS does not publish the texts of these refusals, so cognate's are its own.",
    "DeleteUserPoolClientSecret": "The last secret cannot be deleted (InvalidParameterException; AWS does not publish the text, so cognate's is its own); an unknown ClientSecretId answers ResourceNotFoundException.",
    "CreateTerms": "Stored per pool and returned; the hosted sign-up page links both documents (English, else cognito:default, http(s) links only) once terms-of-use and privacy-policy both exist; one document of each name per client. The texts of TermsExistsException and the not-found messages are not published by AWS, so cognate's are its own.",
    "UpdateTerms": "as CreateTerms.",
    "GetSigningCertificate": "A self-signed certificate over the pool's current ID-token signing key (the key its JWKS publishes), valid 10 years from the key's creation. (It is what a SAML identity provider would be given; cognate signs no SAML requests, since it has no SAML sign-in yet: see CreateIdentityProvider.)",
    "DeleteIdentityProvider": "App clients that list the provider keep its name (as AWS does); a later UpdateUserPoolClient still listing it is refused until the name is removed.",
}

lines = [
    "# Compatibility with the `cognito-idp` API",
    "",
    "Every operation of the botocore service model `cognito-idp` (2016-04-18), and what cognate does with it.",
    "**supported**: implemented with Cognito's request and response members and errors;",
    "**partial**: implemented, with the listed gaps; **AWS-only**: the feature exists only on AWS (replicas, quotas, AWS log destinations), so cognate answers as AWS does for a pool without it, as the note says; **not yet**: answers `UnsupportedOperationException`.",
    "",
    "Generated by `scripts/gen-compat.py` from `crates/aws-json/src/operation.rs` and the",
    "conformance suite (`e2e/conformance/*.yaml`, run by `e2e/test_conformance.py`); tests keep",
    "the three in step. **Cases** counts the suite's rows per operation: error cases (validation,",
    "missing resources, state) + success cases (response members and defaults).",
    "",
    "**Signatures**: the operations the model marks unauthenticated (SignUp, InitiateAuth, GetUser, ...) need none; every other operation must carry a SigV4 signature (service `cognito-idp`, the server's region) by an access key of `admin.credentials` or `COGNATE_ADMIN_ACCESS_KEY_ID`, checked before validation; without configured keys (development mode, loopback only) any well-formed signature is accepted. Refusals as AWS words them: MissingAuthenticationTokenException, IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException (also \"Signature expired\" beyond 5 minutes), AccessDeniedException (pool-limited keys). Presigned (query-string) signatures and a `Date` header in place of `X-Amz-Date` are not supported.",
    "",
    "| Operation | Status | Cases | Notes |",
    "|---|---|---|---|",
]
assert not set(PARTIAL) & set(AWS_ONLY) and not set(PARTIAL) & set(NOTES) and not set(AWS_ONLY) & set(NOTES)
counts = {"supported": 0, "partial": 0, "AWS-only": 0, "not yet": 0}
for op in model:
    note = ""
    if op not in implemented:
        status = "not yet"
    elif op in PARTIAL:
        status, note = "partial", PARTIAL[op]
    elif op in AWS_ONLY:
        status, note = "AWS-only", AWS_ONLY[op]
    else:
        status, note = "supported", NOTES.get(op, "")
    counts[status] += 1
    errors, answers = cases.get(op, [0, 0])
    shown = f"{errors} + {answers}" if errors or answers else ""
    lines.append(f"| {op} | {status} | {shown} | {note} |")
total_cases = sum(sum(c) for c in cases.values())
lines += ["", f"Totals: {counts['supported']} supported, {counts['partial']} partial, {counts['AWS-only']} AWS-only, {counts['not yet']} not yet, of {len(model)}; {total_cases} conformance cases.", ""]
(root / "docs/compat.md").write_text("\n".join(lines))
print(f"docs/compat.md: {counts}")

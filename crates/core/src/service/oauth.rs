//! The OAuth 2.0 endpoints' domain side: the token endpoint's grants
//! (`authorization_code` with PKCE, `refresh_token`, `client_credentials`),
//! userInfo and revocation, with errors in RFC 6749 / 6750 / 7009's
//! vocabulary rather than Cognito's exceptions.

use std::collections::BTreeSet;

use serde_json::json;

use super::clients::SYSTEM_SCOPES;
use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, UserPool};
use crate::tokens::{self, IssueOptions, SignInEvent};

/// An RFC 6749 §5.2 error: `error` code and an optional description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`,
    /// or `server_error` (a fault of ours; never described).
    pub error: &'static str,
    pub description: Option<String>,
}

impl OAuthError {
    /// The description Cognito's token endpoint gives a code redeemed with
    /// a redirect_uri other than the one it was issued for (with
    /// `unauthorized_client`), the one description its guide documents there.
    pub const INVALID_REDIRECT: &'static str = "invalid_redirect";

    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            error,
            description: Some(description.into()),
        }
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        tracing::error!(error = %e, "token endpoint failed");
        OAuthError {
            error: "server_error",
            description: None,
        }
    }
}

/// How a client authenticated at the token endpoint.
#[derive(Clone, Debug)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// A token endpoint answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthTokens {
    pub access_token: String,
    /// Only when `openid` was granted.
    pub id_token: Option<String>,
    /// Only from the authorization_code grant.
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Why the userInfo endpoint refuses a request (both are Cognito's
/// `invalid_token`, with different descriptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserInfoError {
    /// Expired, revoked, malformed or foreign.
    InvalidToken,
    /// A valid token without the `openid` scope.
    InsufficientScope,
    /// 500: a fault of ours.
    Internal,
}

/// The claims of the OIDC `profile` scope (OpenID Connect Core §5.4).
const PROFILE_CLAIMS: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new("invalid_grant", description)
}

/// Whether a client is allowed an OAuth flow (`code`, `implicit`, `client_credentials`).
fn allows_flow(client: &AppClient, flow: &str) -> bool {
    let s = &client.settings;
    s.allowed_oauth_flows_user_pool_client
        && s.allowed_oauth_flows
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == flow)
}

/// RFC 7636 §4.6: the verifier matches the challenge. Cognito supports
/// the S256 method only; any other matches nothing.
fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    use base64::Engine;
    if method != "S256" {
        return false;
    }
    let digest = cognate_crypto::digest::sha256(verifier.as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    cognate_crypto::digest::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

impl UserPools {
    /// The client of a pool, authenticated by its secret when it has one
    /// (compared in constant time). `invalid_client` otherwise.
    pub(crate) async fn authenticate_client(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
    ) -> Result<AppClient, OAuthError> {
        let invalid = || OAuthError::new("invalid_client", "Client authentication failed.");
        let client = self
            .store
            .get_client(&auth.client_id)
            .await
            .map_err(Error::from)?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(invalid)?;
        // Any of the client's secrets (AddUserPoolClientSecret) authenticates it.
        match (client.has_secret(), &auth.client_secret) {
            (true, Some(given)) if client.secret_matches(given) => Ok(client),
            (false, None) => Ok(client),
            _ => Err(invalid()),
        }
    }

    /// `grant_type=client_credentials`: an access token for the client
    /// itself (`sub` = `client_id`) with the requested custom scopes the
    /// client is allowed (others are ignored), or all the client's custom
    /// scopes when `scope` is absent.
    pub async fn client_credentials_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        scope: Option<&str>,
    ) -> Result<OAuthTokens, OAuthError> {
        self.pool(pool_id)
            .await
            .map_err(|_| OAuthError::new("invalid_request", "Unknown user pool."))?;
        let client = self.authenticate_client(pool_id, auth).await?;
        if !allows_flow(&client, "client_credentials") || !client.has_secret() {
            return Err(OAuthError::new(
                "unauthorized_client",
                "The client is not allowed the client_credentials grant.",
            ));
        }
        // Cognito ignores requested scopes the client is not allowed; only
        // when none is left is the request refused.
        let listed = client
            .settings
            .allowed_oauth_scopes
            .as_deref()
            .unwrap_or_default();
        let requested = scope
            .map(|sc| {
                sc.split(' ')
                    .filter(|sc| !sc.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|sc| !sc.is_empty())
            .map(|sc| {
                sc.into_iter()
                    .filter(|sc| listed.iter().any(|l| l == sc))
                    .collect::<Vec<_>>()
            });
        if requested.as_ref().is_some_and(Vec::is_empty) {
            return Err(OAuthError::new(
                "invalid_scope",
                "None of the requested scopes is allowed for this client.",
            ));
        }
        let granted = self
            .machine_scopes(pool_id, &client, requested)
            .await?
            .map_err(|e| OAuthError::new("invalid_scope", e))?;
        let pool = self.pool(pool_id).await?;
        let (access_token, expires_in) = self.machine_token(&pool, &client, &granted).await?;
        Ok(OAuthTokens {
            access_token,
            id_token: None,
            refresh_token: None,
            token_type: "Bearer",
            expires_in,
        })
    }

    /// The custom scopes a machine token of `client` gets: the requested
    /// ones, each of which must be one of the client's allowed custom
    /// scopes, or all of those when none is requested. A scope the client
    /// lists that its resource server no longer has is left out, not
    /// refused: AWS's developer guide says a deleted scope "is ignored and
    /// is not included in the access token". The inner error says why none
    /// can be granted.
    pub(crate) async fn machine_scopes(
        &self,
        pool_id: &str,
        client: &AppClient,
        requested: Option<Vec<&str>>,
    ) -> Result<std::result::Result<Vec<String>, String>> {
        let existing = self.custom_scopes(pool_id).await?;
        let listed: BTreeSet<&str> = client
            .settings
            .allowed_oauth_scopes
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .filter(|sc| !SYSTEM_SCOPES.contains(sc))
            .collect();
        let allowed: BTreeSet<&str> = listed
            .iter()
            .copied()
            .filter(|sc| existing.contains(*sc))
            .collect();
        let granted: Vec<String> = match requested {
            Some(requested) => {
                let mut out: Vec<String> = Vec::new();
                for sc in requested {
                    if !listed.contains(sc) {
                        return Ok(Err(format!("Scope {sc} is not allowed for this client.")));
                    }
                    if !allowed.contains(sc) {
                        continue;
                    }
                    if !out.iter().any(|o| o == sc) {
                        out.push(sc.to_owned());
                    }
                }
                out
            }
            None => allowed.iter().map(|sc| (*sc).to_owned()).collect(),
        };
        if granted.is_empty() {
            return Ok(Err("The client has no custom scopes to grant.".into()));
        }
        Ok(Ok(granted))
    }

    /// Signs an access token for the client itself (`sub` = `client_id`)
    /// with the granted scopes, after a V3_0 PreTokenGeneration trigger;
    /// returns it with its lifetime in seconds.
    pub(crate) async fn machine_token(
        &self,
        pool: &UserPool,
        client: &AppClient,
        granted: &[String],
    ) -> Result<(String, i64)> {
        let now_ms = self.now();
        let keys = self.keys.get(self.store.as_ref(), &pool.id, now_ms).await?;
        let lifetime = tokens::lifetimes(client).access;
        let now = now_ms.div_euclid(1000);
        let scope = granted.join(" ");
        let mut claims = json!({
            "sub": client.client_id,
            "token_use": "access",
            "scope": scope,
            "auth_time": now,
            "iss": self.issuer(&pool.id),
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": cognate_crypto::random::uuid_v7(now_ms),
            "client_id": client.client_id,
        });
        if let Some(o) = self
            .pre_token_generation(
                pool,
                super::triggers::TokenRequest {
                    source: "TokenGeneration_ClientCredentials",
                    client_id: &client.client_id,
                    user: None,
                    groups: Default::default(),
                    scope: &scope,
                },
            )
            .await?
        {
            o.apply_access(&mut claims);
        }
        let token = keys
            .signing_key("access", now_ms)?
            .sign(&claims)
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok((token, lifetime))
    }

    /// `grant_type=authorization_code`: exchanges a code issued by
    /// `/oauth2/authorize` once, for the client it was issued to, with the
    /// same redirect_uri and (when a challenge was sent) the PKCE verifier.
    pub async fn authorization_code_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<OAuthTokens, OAuthError> {
        let code = code
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or_else(|| OAuthError::new("invalid_request", "code is required."))?;
        let redirect_uri = redirect_uri
            .filter(|r| !r.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_request", "redirect_uri is required."))?;
        let pool = self
            .pool(pool_id)
            .await
            .map_err(|_| OAuthError::new("invalid_request", "Unknown user pool."))?;
        let client = self.authenticate_client(pool_id, auth).await?;
        if !allows_flow(&client, "code") {
            return Err(OAuthError::new(
                "unauthorized_client",
                "The client is not allowed the authorization_code grant.",
            ));
        }
        // Taken (deleted) before any check: a code never works twice.
        let record = self
            .store
            .take_authorization_code(&cognate_crypto::digest::sha256_hex(code.as_bytes()))
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                invalid_grant("The authorization code is invalid or was already used.")
            })?;
        if record.expires <= self.now() {
            return Err(invalid_grant("The authorization code has expired."));
        }
        if record.pool_id != pool_id || record.client_id != client.client_id {
            return Err(invalid_grant(
                "The authorization code was issued to another client.",
            ));
        }
        if record.redirect_uri != redirect_uri {
            // Cognito's answer (its developer guide), not RFC 6749's invalid_grant.
            return Err(OAuthError::new(
                "unauthorized_client",
                OAuthError::INVALID_REDIRECT,
            ));
        }
        if let Some(challenge) = &record.code_challenge {
            let method = record.code_challenge_method.as_deref().unwrap_or_default();
            let ok = code_verifier.is_some_and(|v| {
                super::hosted::is_pkce_string(v) && pkce_matches(method, challenge, v)
            });
            if !ok {
                return Err(invalid_grant(
                    "The code_verifier does not match the code_challenge.",
                ));
            }
        }
        // AWS's token endpoint guide: a client granted `email` that cannot
        // read email_verified gets invalid_grant.
        let granted_email = record.scope.split(' ').any(|sc| sc == "email");
        if granted_email
            && client
                .settings
                .read_attributes
                .as_ref()
                .is_some_and(|read| !read.iter().any(|a| a == "email_verified"))
        {
            return Err(invalid_grant(
                "The client asks for the email scope but cannot read email_verified.",
            ));
        }
        let user = self
            .store
            .get_user_by_sub(pool_id, &record.sub)
            .await
            .map_err(Error::from)?
            .filter(|u| u.enabled && !u.signed_out_since(record.created))
            .ok_or_else(|| invalid_grant("The user can no longer sign in."))?;
        if let Some(sso) = &record.sso_session_id {
            // A code from an SSO session revoked since grants nothing. (Its
            // grant, in the browser, was the session's last activity.)
            if !self.sso_session_live(pool_id, sso).await? {
                return Err(invalid_grant("The user can no longer sign in."));
            }
        }
        let event = SignInEvent {
            origin_jti: record.origin_jti.clone(),
            event_id: cognate_crypto::random::uuid(),
            auth_time: record.auth_time,
            device_key: None,
            sso_session_id: record.sso_session_id.clone(),
        };
        let issued = self
            .issue(
                &pool,
                &client,
                &user,
                &event,
                IssueOptions::oauth(&record.scope, record.nonce.as_deref(), true),
            )
            .await?;
        Ok(OAuthTokens {
            access_token: issued.access_token,
            id_token: issued.id_token,
            refresh_token: issued.refresh_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
        })
    }

    /// `grant_type=refresh_token`: new ID and access tokens with the scopes
    /// the refresh token was granted, and a new refresh token when the
    /// client rotates them.
    pub async fn refresh_token_grant(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        refresh_token: Option<&str>,
    ) -> Result<OAuthTokens, OAuthError> {
        let token = refresh_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_request", "refresh_token is required."))?;
        let pool = self
            .pool(pool_id)
            .await
            .map_err(|_| OAuthError::new("invalid_request", "Unknown user pool."))?;
        let client = self.authenticate_client(pool_id, auth).await?;
        let (record, user) = match self.live_refresh_token(&pool, &client, token).await {
            Ok(found) => found,
            Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
            Err(e) => return Err(invalid_grant(&e.message)),
        };
        let event = SignInEvent {
            origin_jti: record.origin_jti.clone(),
            event_id: cognate_crypto::random::uuid(),
            auth_time: record.auth_time,
            device_key: record.device_key.clone(),
            sso_session_id: record.sso_session_id.clone(),
        };
        let options = match &record.scope {
            Some(scope) => IssueOptions::oauth(scope, None, false),
            None => IssueOptions::api(false),
        };
        let issued = self
            .issue_as(
                &pool,
                &client,
                &user,
                &event,
                options,
                "TokenGeneration_RefreshTokens",
            )
            .await?;
        // With refresh token rotation every form of refresh rotates.
        let refresh_token = match self.rotate_if_enabled(&client, &record).await {
            Ok(t) => t,
            Err(e) if e.kind == ErrorKind::Internal => return Err(e.into()),
            Err(e) => return Err(invalid_grant(&e.message)),
        };
        Ok(OAuthTokens {
            access_token: issued.access_token,
            id_token: issued.id_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
        })
    }

    /// `/oauth2/userInfo`: the user of an access token with the `openid`
    /// scope, as OIDC claims (`sub`, `username`, and the attributes the
    /// token's scopes and the client allow: all the client reads for
    /// `openid` alone; booleans as strings, as Cognito answers them).
    pub async fn user_info(
        &self,
        pool_id: &str,
        access_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, UserInfoError> {
        let now_ms = self.now();
        let (token_pool, claims, verified) = match self.verify_access(access_token, "openid").await
        {
            Ok(v) => v,
            Err(e) if e.kind == ErrorKind::Internal => return Err(UserInfoError::Internal),
            Err(e) if e.message.contains("required scopes") => {
                return Err(UserInfoError::InsufficientScope)
            }
            Err(_) => return Err(UserInfoError::InvalidToken),
        };
        // A domain answers for its own pool only.
        if token_pool != pool_id {
            crate::counters::count_token("wrong_issuer");
            return Err(UserInfoError::InvalidToken);
        }
        let user = self
            .store
            .get_user_by_sub(pool_id, &claims.sub)
            .await
            .map_err(|_| UserInfoError::Internal)?;
        let client = self
            .cached_client(&claims.client_id)
            .await
            .map_err(|_| UserInfoError::Internal)?;
        if let Some(refusal) = crate::verify::token_refused(
            user.as_ref(),
            client.as_deref(),
            pool_id,
            &verified,
            now_ms,
        ) {
            crate::counters::count_token(refusal.reason());
            return Err(UserInfoError::InvalidToken);
        }
        crate::counters::count_token("valid");
        let user = user.ok_or(UserInfoError::InvalidToken)?;
        // AWS's developer guide: `openid` alone gives every attribute the
        // client can read; `profile` gives the profile attributes, `email`
        // and `phone` theirs, each with the custom attributes; the
        // aws.cognito.signin.user.admin scope changes nothing.
        let scopes: Vec<&str> = claims.scope.split(' ').collect();
        let has = |s: &str| scopes.contains(&s);
        let everything = !has("profile") && !has("email") && !has("phone");
        let mut out = serde_json::Map::new();
        out.insert("sub".into(), json!(user.sub));
        for a in &user.attributes {
            if a.name.starts_with("dev:") {
                continue;
            }
            if let Some(read) = client
                .as_ref()
                .and_then(|c| c.settings.read_attributes.as_ref())
            {
                if !read.iter().any(|r| r == &a.name) {
                    continue;
                }
            }
            let wanted = everything
                || a.name.starts_with("custom:")
                || (has("profile") && PROFILE_CLAIMS.contains(&a.name.as_str()))
                || (has("email") && matches!(a.name.as_str(), "email" | "email_verified"))
                || (has("phone")
                    && matches!(a.name.as_str(), "phone_number" | "phone_number_verified"));
            if wanted {
                out.insert(a.name.clone(), json!(a.value));
            }
        }
        out.insert("username".into(), json!(user.username));
        Ok(out)
    }

    /// `/oauth2/revoke` (RFC 7009): revokes a refresh token of the
    /// authenticated client and the access tokens issued from it, like
    /// RevokeToken. An unknown or already revoked token is not an error.
    pub async fn oauth_revoke(
        &self,
        pool_id: &str,
        auth: &ClientAuth,
        token: Option<&str>,
    ) -> Result<(), OAuthError> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::new("invalid_request", "token is required."))?;
        let client = self.authenticate_client(pool_id, auth).await?;
        match self.revoke_refresh_token_of(&client, token).await {
            Ok(()) => Ok(()),
            Err(e) => Err(match e.kind {
                ErrorKind::UnsupportedTokenType => {
                    OAuthError::new("unsupported_token_type", e.message)
                }
                ErrorKind::UnsupportedOperation => OAuthError::new("invalid_request", e.message),
                ErrorKind::Unauthorized => {
                    OAuthError::new("invalid_client", "Client authentication failed.")
                }
                _ => e.into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::hosted::is_pkce_string;

    #[test]
    fn pkce_verifiers() {
        // Challenge computed independently (Python hashlib + base64).
        let v = "dBjftJeZ4CVP-mJ92K9qBWwMkjAkUKuX3g3gZqgdMkg";
        assert!(pkce_matches(
            "S256",
            "xeSn3IjfSwZgId9qZBX4-sHiu8ziC22aPFpM9ncOxks",
            v
        ));
        assert!(!pkce_matches(
            "S256",
            "xeSn3IjfSwZgId9qZBX4-sHiu8ziC22aPFpM9ncOxkt",
            v
        ));
        // plain is not a method Cognito supports.
        assert!(!pkce_matches("plain", v, v));
        assert!(!pkce_matches("S512", v, v));
        assert!(is_pkce_string(v));
        assert!(!is_pkce_string("short"));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}!", "a".repeat(43))));
    }
}

//! GetDerivedToken and the token endpoint's token-exchange grant (RFC 8693):
//! a token of a user of this pool (the subject), optionally with a token of
//! the intermediary (the actor), traded for a new access or ID token bound
//! to one audience, with the scopes narrowed to those requested, held by
//! the subject token and allowed for the requesting app client. The
//! requesting client needs `ALLOW_TOKEN_EXCHANGE_IMPERSONATION` (no actor)
//! or `ALLOW_TOKEN_EXCHANGE_DELEGATION` (with an actor: the issued token's
//! `act` claim names it); the pool must be on the ESSENTIALS or PLUS plan.
//! Subject and actor tokens are checked by the one verifier and the one
//! revocation rule (`crate::verify`); the issued token keeps the subject's
//! `origin_jti`, so revoking the subject's session or signing the user out
//! revokes it too. No refresh token is issued. A subject token may also
//! be an ID token of one of the pool's OpenID Connect identity providers
//! (`SubjectTokenProviderName`), checked against that provider's
//! configuration and standing for the user it signs in as; SAML2 tokens
//! and third-party actor tokens are refused.

use std::collections::BTreeSet;
use std::sync::Arc;

use cognate_token::{Claims, Policy, Rejection, TokenUse};
use serde_json::{json, Map, Value};

use super::UserPools;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, UserPool};
use crate::tokens::{self, SignInEvent, ADMIN_SCOPE};
use crate::verify::{self, Refusal};

/// The flow a client needs for exchanges without an actor token.
pub const IMPERSONATION_FLOW: &str = "ALLOW_TOKEN_EXCHANGE_IMPERSONATION";
/// The flow a client needs for exchanges with an actor token.
pub const DELEGATION_FLOW: &str = "ALLOW_TOKEN_EXCHANGE_DELEGATION";

/// The kind of a presented token (`TokenTypeIdentifierType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresentedKind {
    Access,
    Id,
    Saml2,
}

impl PresentedKind {
    /// From the API's enum value.
    pub fn from_api(value: &str) -> Option<Self> {
        match value {
            "ACCESS_TOKEN" => Some(Self::Access),
            "ID_TOKEN" => Some(Self::Id),
            "SAML2" => Some(Self::Saml2),
            _ => None,
        }
    }

    /// From an RFC 8693 token type URI.
    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            "urn:ietf:params:oauth:token-type:access_token" => Some(Self::Access),
            "urn:ietf:params:oauth:token-type:id_token" => Some(Self::Id),
            "urn:ietf:params:oauth:token-type:saml2" => Some(Self::Saml2),
            _ => None,
        }
    }
}

/// The kind of the issued token (`IssuedTokenTypeIdentifierType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuedKind {
    Access,
    Id,
}

impl IssuedKind {
    pub fn from_api(value: &str) -> Option<Self> {
        match value {
            "ACCESS_TOKEN" => Some(Self::Access),
            "ID_TOKEN" => Some(Self::Id),
            _ => None,
        }
    }

    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            "urn:ietf:params:oauth:token-type:access_token" => Some(Self::Access),
            "urn:ietf:params:oauth:token-type:id_token" => Some(Self::Id),
            _ => None,
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Self::Access => "ACCESS_TOKEN",
            Self::Id => "ID_TOKEN",
        }
    }

    pub fn urn(self) -> &'static str {
        match self {
            Self::Access => "urn:ietf:params:oauth:token-type:access_token",
            Self::Id => "urn:ietf:params:oauth:token-type:id_token",
        }
    }

    /// RFC 8693 §2.2.1: `Bearer` for an access token, `N_A` otherwise.
    pub fn token_type(self) -> &'static str {
        match self {
            Self::Access => "Bearer",
            Self::Id => "N_A",
        }
    }
}

/// How the requesting app client was proven.
#[derive(Clone, Copy, Debug)]
pub enum ClientProof<'a> {
    /// A SigV4-signed call (IAM credentials): no secret needed.
    Iam,
    /// The client secret given, if any (required when the client has one).
    Secret(Option<&'a str>),
    /// Authenticated already by the token endpoint, for this pool.
    Authenticated(&'a AppClient),
}

/// One token exchange, with the members of GetDerivedToken.
#[derive(Clone, Copy, Debug)]
pub struct DerivedTokenRequest<'a> {
    pub client_id: &'a str,
    pub proof: ClientProof<'a>,
    pub subject_token: &'a str,
    pub subject_token_type: PresentedKind,
    pub subject_token_provider: Option<&'a str>,
    pub actor_token: Option<&'a str>,
    pub actor_token_type: Option<PresentedKind>,
    pub actor_token_provider: Option<&'a str>,
    /// `None` (or empty): the subject token's scopes.
    pub scopes: Option<&'a [String]>,
    pub audience: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub requested: Option<IssuedKind>,
}

/// GetDerivedToken's answer.
#[derive(Clone, Debug)]
pub struct DerivedToken {
    pub issued_token: String,
    pub issued_kind: IssuedKind,
    pub expires_in: i64,
    pub scopes: Vec<String>,
}

/// A presented token after the checks: its claims and its user, if any.
struct Presented {
    claims: Arc<Claims>,
    user: Option<crate::model::User>,
}

/// Which presented token an error speaks of (in messages).
#[derive(Clone, Copy)]
enum Role {
    Subject,
    Actor,
}

impl Role {
    fn member(self) -> &'static str {
        match self {
            Role::Subject => "SubjectToken",
            Role::Actor => "ActorToken",
        }
    }
}

/// The checks of the members that the model cannot express (AWS publishes
/// no message for them: these are cognate's).
fn check_members(req: &DerivedTokenRequest<'_>) -> Result<()> {
    if req.audience.is_some() && req.resource.is_some() {
        return Err(Error::invalid_parameter(
            "You can't request both Audiences and Resources in the same request.",
        ));
    }
    match (req.actor_token, req.actor_token_type) {
        (Some(_), None) => {
            return Err(Error::invalid_parameter(
                "ActorTokenType is required when you provide an ActorToken.",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::invalid_parameter(
                "ActorTokenType is only valid with an ActorToken.",
            ))
        }
        _ => {}
    }
    if req.actor_token.is_none() && req.actor_token_provider.is_some() {
        return Err(Error::invalid_parameter(
            "ActorTokenProviderName is only valid with an ActorToken.",
        ));
    }
    for (role, kind) in [
        (Role::Subject, Some(req.subject_token_type)),
        (Role::Actor, req.actor_token_type),
    ] {
        if kind == Some(PresentedKind::Saml2) {
            return Err(Error::invalid_parameter(format!(
                "{} of type SAML2 can't be exchanged: cognate verifies SAML assertions only as answers to its own sign-in requests.",
                role.member()
            )));
        }
    }
    if req.actor_token_provider.is_some() {
        return Err(Error::invalid_parameter(
            "ActorToken of a third-party identity provider can't be exchanged: the actor must present a token of this user pool.",
        ));
    }
    if req.subject_token_provider.is_some() && req.subject_token_type != PresentedKind::Id {
        return Err(Error::invalid_parameter(
            "SubjectTokenType must be ID_TOKEN with a SubjectTokenProviderName: only ID tokens of OpenID Connect providers can be exchanged.",
        ));
    }
    Ok(())
}

fn flow_enabled(client: &AppClient, flow: &str) -> bool {
    client
        .settings
        .explicit_auth_flows
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|f| f == flow)
}

impl UserPools {
    /// GetDerivedToken: checks the request, the client, the pool's plan,
    /// the client's flow, the subject (and actor) token, then signs the
    /// new token.
    pub async fn get_derived_token(&self, req: DerivedTokenRequest<'_>) -> Result<DerivedToken> {
        check_members(&req)?;
        let client = match req.proof {
            ClientProof::Authenticated(c) => c.clone(),
            ClientProof::Iam => self.client(req.client_id).await?,
            ClientProof::Secret(secret) => {
                let client = self.client(req.client_id).await?;
                // AWS does not publish this refusal's text; worded as
                // GetClientToken's.
                let proven = match (client.has_secret(), secret) {
                    (true, Some(s)) => client.secret_matches(s),
                    (false, None) => true,
                    _ => false,
                };
                if !proven {
                    return Err(Error::not_authorized(format!(
                        "Unable to verify secret for client {}",
                        req.client_id
                    )));
                }
                client
            }
        };
        let pool = self.pool(&client.pool_id).await?;
        if pool.settings.user_pool_tier == "LITE" {
            return Err(Error::new(
                ErrorKind::OperationNotEnabled,
                "Token exchange is not available in the LITE tier. Upgrade the user pool to the ESSENTIALS or PLUS tier.",
            ));
        }
        let flow = if req.actor_token.is_some() {
            DELEGATION_FLOW
        } else {
            IMPERSONATION_FLOW
        };
        if !flow_enabled(&client, flow) {
            return Err(Error::invalid_parameter(format!(
                "{flow} flow not enabled for this client"
            )));
        }
        let subject = match req.subject_token_provider {
            Some(provider) => {
                self.third_party_subject(&pool, provider, req.subject_token)
                    .await?
            }
            None => {
                self.presented(
                    &pool,
                    req.subject_token,
                    req.subject_token_type,
                    Role::Subject,
                )
                .await?
            }
        };
        let Some(user) = subject.user.clone() else {
            // A client_credentials token represents no user.
            return Err(Error::not_authorized(
                "SubjectToken must be a token of a user of this user pool.",
            ));
        };
        let actor = match (req.actor_token, req.actor_token_type) {
            (Some(token), Some(kind)) => {
                Some(self.presented(&pool, token, kind, Role::Actor).await?)
            }
            _ => None,
        };
        let granted = self
            .derived_scopes(&pool, &client, &subject, req.scopes)
            .await?;
        let audience = match (req.audience, req.resource) {
            (Some(a), _) => Some(a.to_owned()),
            (None, Some(r)) => {
                if self.store.get_resource_server(&pool.id, r).await?.is_none() {
                    return Err(Error::invalid_parameter(format!(
                        "Resource {r} is not the identifier of a resource server of this user pool."
                    )));
                }
                Some(r.to_owned())
            }
            (None, None) => None,
        };
        let kind = req.requested.unwrap_or(IssuedKind::Access);
        let act = actor
            .as_ref()
            .map(|a| act_claim(&a.claims, &subject.claims));
        let (issued_token, expires_in) = self
            .sign_derived(
                &pool,
                &client,
                &user,
                &subject.claims,
                kind,
                &granted,
                audience.as_deref(),
                act,
            )
            .await?;
        let mut event = crate::audit::Event::new("token_exchange", &pool.id).user(&user.sub);
        event.client_id = Some(&client.client_id);
        event.emit();
        Ok(DerivedToken {
            issued_token,
            issued_kind: kind,
            expires_in,
            scopes: granted,
        })
    }

    /// A subject token of a third-party OpenID Connect provider of the pool
    /// (an ID token, `SubjectTokenProviderName`): its user, as its sign-in
    /// through the provider would be (`federation.rs`). Its claims stand as
    /// the subject's where the derived token takes them (`auth_time`); the
    /// members that mean something only in this pool's own tokens are not
    /// taken from it.
    async fn third_party_subject(
        &self,
        pool: &UserPool,
        provider: &str,
        token: &str,
    ) -> Result<Presented> {
        let member = Role::Subject.member();
        let (mut claims, user) = self
            .provider_token_user(pool, provider, token, member)
            .await?;
        for own in [
            "token_use",
            "origin_jti",
            "event_id",
            "scope",
            "scp",
            "client_id",
            "cognito:groups",
            "act",
        ] {
            claims.remove(own);
        }
        let payload = serde_json::to_vec(&claims).map_err(|e| Error::internal(e.to_string()))?;
        let claims = Claims::parse(&payload)
            .map_err(|_| Error::not_authorized(format!("Invalid {member}")))?;
        Ok(Presented {
            claims: Arc::new(claims),
            user: Some(user),
        })
    }

    /// Verifies a presented token: a token of `pool` of the declared kind,
    /// signed by a published key, unexpired, and not refused by the one
    /// revocation rule. A refresh token, or any text that is not one of
    /// our JWTs, is refused as invalid.
    async fn presented(
        &self,
        pool: &UserPool,
        token: &str,
        kind: PresentedKind,
        role: Role,
    ) -> Result<Presented> {
        let member = role.member();
        let invalid = || Error::not_authorized(format!("Invalid {member}"));
        let token_use = match kind {
            PresentedKind::Access => TokenUse::Access,
            PresentedKind::Id => TokenUse::Id,
            PresentedKind::Saml2 => return Err(invalid()),
        };
        let now = self.now().div_euclid(1000);
        let claims = self
            .verifier
            .authorize_at(token, &Policy::token_use(token_use), now)
            .await
            .map_err(|r| match r {
                Rejection::Expired => Error::not_authorized(format!("{member} has expired")),
                _ => invalid(),
            })?;
        if verify::pool_of_issuer(&self.config.public_url, &claims.iss) != Some(pool.id.as_str()) {
            return Err(invalid());
        }
        let sub = claims.sub.as_deref().ok_or_else(invalid)?;
        let client_id = verify::client_of(&claims).ok_or_else(invalid)?;
        let token_client = self.cached_client(client_id).await?;
        let machine = claims.token_use.as_deref() == Some("access")
            && claims.username().is_none()
            && client_id == sub;
        if machine {
            // A client_credentials token stands while its client exists.
            if token_client.is_none_or(|c| c.pool_id != pool.id) {
                return Err(Error::not_authorized(format!("{member} has been revoked")));
            }
            return Ok(Presented { claims, user: None });
        }
        let user = self.store.get_user_by_sub(&pool.id, sub).await?;
        match verify::token_refused(
            user.as_ref(),
            token_client.as_deref(),
            &pool.id,
            &claims,
            self.now(),
        ) {
            None => Ok(Presented { claims, user }),
            Some(Refusal::UserGone) => Err(Error::user_not_found()),
            Some(Refusal::UserDisabled) => Err(Error::not_authorized("User is disabled.")),
            Some(Refusal::ClientGone) => Err(invalid()),
            Some(Refusal::Revoked) => {
                Err(Error::not_authorized(format!("{member} has been revoked")))
            }
        }
    }

    /// The issued token's scopes: the requested ones (or, when none are
    /// requested, the subject token's), kept only when the subject token
    /// holds them (an ID token holds no scope claim and limits nothing)
    /// and the requesting client is allowed them (its AllowedOAuthScopes
    /// that still exist; the sign-in APIs' admin scope is every client's).
    /// Requested scopes of which none can be granted are refused.
    async fn derived_scopes(
        &self,
        pool: &UserPool,
        client: &AppClient,
        subject: &Presented,
        requested: Option<&[String]>,
    ) -> Result<Vec<String>> {
        let existing = self.custom_scopes(&pool.id).await?;
        let allowed = |sc: &str| {
            sc == ADMIN_SCOPE
                || client
                    .settings
                    .allowed_oauth_scopes
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|a| a == sc)
                    && (super::clients::SYSTEM_SCOPES.contains(&sc) || existing.contains(sc))
        };
        let held: Option<BTreeSet<&str>> = (subject.claims.token_use.as_deref() == Some("access"))
            .then(|| subject.claims.scopes.iter().map(String::as_str).collect());
        let requested = requested.filter(|r| !r.is_empty());
        let wanted: Vec<&str> = match requested {
            Some(r) => r.iter().map(String::as_str).collect(),
            None => subject.claims.scopes.iter().map(String::as_str).collect(),
        };
        let mut granted: Vec<String> = Vec::new();
        for sc in wanted {
            let holds = held.as_ref().is_none_or(|h| h.contains(sc));
            if holds && allowed(sc) && !granted.iter().any(|g| g == sc) {
                granted.push(sc.to_owned());
            }
        }
        if requested.is_some() && granted.is_empty() {
            // cognate's words: AWS publishes none for this refusal.
            return Err(Error::invalid_parameter(
                "None of the requested scopes is held by the SubjectToken and allowed for this client.",
            ));
        }
        Ok(granted)
    }

    /// Signs the derived token: the subject's identity (`sub`, username,
    /// `origin_jti`, `event_id`, `auth_time`), the user's groups as read
    /// now, the requesting client, the granted scopes, the audience and
    /// the `act` claim; its lifetime is the requesting client's validity
    /// for that kind of token.
    #[allow(clippy::too_many_arguments)]
    async fn sign_derived(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &crate::model::User,
        subject: &Claims,
        kind: IssuedKind,
        granted: &[String],
        audience: Option<&str>,
        act: Option<Value>,
    ) -> Result<(String, i64)> {
        let now_ms = self.now();
        let now = now_ms.div_euclid(1000);
        let keys = self.keys.get(self.store.as_ref(), &pool.id, now_ms).await?;
        let lifetimes = tokens::lifetimes(client);
        let issuer = self.issuer(&pool.id);
        let text = |name: &str| subject.all.get(name).and_then(Value::as_str);
        let event = SignInEvent {
            origin_jti: subject
                .origin_jti
                .clone()
                .unwrap_or_else(|| cognate_crypto::random::uuid_v7(now_ms)),
            event_id: text("event_id")
                .map(str::to_owned)
                .unwrap_or_else(cognate_crypto::random::uuid),
            auth_time: subject
                .all
                .get("auth_time")
                .and_then(Value::as_i64)
                .unwrap_or(now),
            device_key: None,
            sso_session_id: None,
        };
        let token_subject = tokens::TokenSubject {
            issuer: &issuer,
            pool,
            client,
            user,
            event: &event,
            now,
            now_ms,
        };
        let groups = self
            .store
            .groups_of_user(&pool.id, &user.username_key)
            .await?;
        let (id_extra, access_extra) = tokens::group_claims(&groups);
        let scope = granted.join(" ");
        let (mut claims, lifetime, purpose) = match kind {
            IssuedKind::Access => {
                let mut claims =
                    tokens::access_token_claims(&token_subject, &scope, lifetimes.access);
                if let Some(obj) = claims.as_object_mut() {
                    obj.extend(access_extra);
                    if let Some(aud) = audience {
                        obj.insert("aud".into(), json!(aud));
                    }
                }
                (claims, lifetimes.access, "access")
            }
            IssuedKind::Id => {
                let mut claims =
                    tokens::id_token_claims(&token_subject, lifetimes.id, Some(&id_extra));
                if let Some(obj) = claims.as_object_mut() {
                    if let Some(aud) = audience {
                        obj.insert("aud".into(), json!(aud));
                    }
                    // The client the token was issued to, whatever its
                    // audience (OIDC's authorized party).
                    obj.insert("azp".into(), json!(client.client_id));
                }
                (claims, lifetimes.id, "id")
            }
        };
        if let (Some(act), Some(obj)) = (act, claims.as_object_mut()) {
            obj.insert("act".into(), act);
        }
        let token = keys
            .signing_key(purpose, now_ms)?
            .sign(&claims)
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok((token, lifetime))
    }
}

/// RFC 8693 §4.1: the actor's `sub` and app client, with the subject
/// token's own `act` (an earlier delegation) nested inside.
fn act_claim(actor: &Claims, subject: &Claims) -> Value {
    let mut act = Map::new();
    if let Some(sub) = &actor.sub {
        act.insert("sub".into(), json!(sub));
    }
    if let Some(client) = verify::client_of(actor) {
        act.insert("client_id".into(), json!(client));
    }
    if let Some(username) = actor.username() {
        act.insert("username".into(), json!(username));
    }
    if let Some(prior) = subject.all.get("act") {
        act.insert("act".into(), prior.clone());
    }
    Value::Object(act)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>() -> DerivedTokenRequest<'a> {
        DerivedTokenRequest {
            client_id: "c",
            proof: ClientProof::Iam,
            subject_token: "t",
            subject_token_type: PresentedKind::Access,
            subject_token_provider: None,
            actor_token: None,
            actor_token_type: None,
            actor_token_provider: None,
            scopes: None,
            audience: None,
            resource: None,
            requested: None,
        }
    }

    #[test]
    fn members_the_model_cannot_check() {
        assert!(check_members(&request()).is_ok());
        let both = DerivedTokenRequest {
            audience: Some("a"),
            resource: Some("r"),
            ..request()
        };
        assert_eq!(
            check_members(&both).unwrap_err().kind,
            ErrorKind::InvalidParameter
        );
        let untyped_actor = DerivedTokenRequest {
            actor_token: Some("x"),
            ..request()
        };
        assert!(check_members(&untyped_actor).is_err());
        let saml = DerivedTokenRequest {
            subject_token_type: PresentedKind::Saml2,
            ..request()
        };
        assert!(check_members(&saml).is_err());
        let federated = DerivedTokenRequest {
            subject_token_provider: Some("Google"),
            ..request()
        };
        assert!(check_members(&federated).is_err());
        let federated_id = DerivedTokenRequest {
            subject_token_type: PresentedKind::Id,
            subject_token_provider: Some("Google"),
            ..request()
        };
        assert!(check_members(&federated_id).is_ok());
        let federated_actor = DerivedTokenRequest {
            actor_token: Some("x"),
            actor_token_type: Some(PresentedKind::Id),
            actor_token_provider: Some("Google"),
            ..request()
        };
        assert!(check_members(&federated_actor).is_err());
    }

    #[test]
    fn token_type_names() {
        assert_eq!(
            PresentedKind::from_urn("urn:ietf:params:oauth:token-type:id_token"),
            Some(PresentedKind::Id)
        );
        assert_eq!(
            IssuedKind::from_urn("urn:ietf:params:oauth:token-type:refresh_token"),
            None
        );
        assert_eq!(IssuedKind::Id.token_type(), "N_A");
        assert_eq!(IssuedKind::Access.api_name(), "ACCESS_TOKEN");
    }
}

/// The token endpoint's token-exchange grant: the form's RFC 8693 members.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenExchangeForm<'a> {
    pub subject_token: Option<&'a str>,
    pub subject_token_type: Option<&'a str>,
    pub actor_token: Option<&'a str>,
    pub actor_token_type: Option<&'a str>,
    pub requested_token_type: Option<&'a str>,
    /// Space-separated.
    pub scope: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// What the token endpoint answers for an exchange (RFC 8693 §2.2.1): the
/// issued token is in `access_token` whatever its kind.
#[derive(Clone, Debug)]
pub struct ExchangedToken {
    pub access_token: String,
    pub issued_token_type: &'static str,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

/// The OAuth error of a refused exchange (RFC 8693 §2.2.2, RFC 6749 §5.2).
fn oauth_error(e: Error) -> super::OAuthError {
    use super::OAuthError;
    let description = e.message.clone();
    match e.kind {
        ErrorKind::NotAuthorized | ErrorKind::UserNotFound => {
            OAuthError::new("invalid_grant", description)
        }
        ErrorKind::InvalidParameter if description.contains("flow not enabled") => {
            OAuthError::new("unauthorized_client", description)
        }
        ErrorKind::InvalidParameter if description.contains("scopes") => {
            OAuthError::new("invalid_scope", description)
        }
        ErrorKind::InvalidParameter if description.contains("Resource") => {
            OAuthError::new("invalid_target", description)
        }
        ErrorKind::InvalidParameter | ErrorKind::OperationNotEnabled => {
            OAuthError::new("invalid_request", description)
        }
        _ => OAuthError::from(e),
    }
}

impl UserPools {
    /// `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` at the
    /// pool's token endpoint: the client authenticated as for every grant,
    /// then [`get_derived_token`](Self::get_derived_token).
    pub async fn token_exchange_grant(
        &self,
        pool_id: &str,
        auth: &super::ClientAuth,
        form: TokenExchangeForm<'_>,
    ) -> std::result::Result<ExchangedToken, super::OAuthError> {
        use super::OAuthError;
        let request = |d: &str| OAuthError::new("invalid_request", d);
        self.pool(pool_id)
            .await
            .map_err(|_| request("Unknown user pool."))?;
        let subject_token = form
            .subject_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| request("subject_token is required."))?;
        let subject_token_type = form
            .subject_token_type
            .ok_or_else(|| request("subject_token_type is required."))
            .and_then(|t| {
                PresentedKind::from_urn(t)
                    .ok_or_else(|| request("subject_token_type is not supported."))
            })?;
        let actor_token_type = form
            .actor_token_type
            .map(|t| {
                PresentedKind::from_urn(t)
                    .ok_or_else(|| request("actor_token_type is not supported."))
            })
            .transpose()?;
        let requested = form
            .requested_token_type
            .map(|t| {
                IssuedKind::from_urn(t)
                    .ok_or_else(|| request("requested_token_type is not supported."))
            })
            .transpose()?;
        // The API's bounds (GetDerivedTokenTokenModelType, ScopeType).
        let too_long = |t: Option<&str>| t.is_some_and(|t| t.len() > 131_072);
        if too_long(Some(subject_token)) || too_long(form.actor_token) {
            return Err(request("The token is too long."));
        }
        let scopes: Option<Vec<String>> = form.scope.map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if scopes.as_ref().is_some_and(|s| s.len() > 50) {
            return Err(OAuthError::new("invalid_scope", "Too many scopes."));
        }
        let client = self.authenticate_client(pool_id, auth).await?;
        let issued = self
            .get_derived_token(DerivedTokenRequest {
                client_id: &client.client_id,
                proof: ClientProof::Authenticated(&client),
                subject_token,
                subject_token_type,
                subject_token_provider: None,
                actor_token: form.actor_token.filter(|t| !t.is_empty()),
                actor_token_type,
                actor_token_provider: None,
                scopes: scopes.as_deref(),
                audience: form.audience.filter(|a| !a.is_empty()),
                resource: form.resource.filter(|r| !r.is_empty()),
                requested,
            })
            .await
            .map_err(oauth_error)?;
        Ok(ExchangedToken {
            access_token: issued.issued_token,
            issued_token_type: issued.issued_kind.urn(),
            token_type: issued.issued_kind.token_type(),
            expires_in: issued.expires_in,
            scope: issued.scopes.join(" "),
        })
    }
}

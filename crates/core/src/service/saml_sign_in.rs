//! Sign-in through a SAML 2.0 identity provider, as Cognito does it
//! (service-provider initiated): [`UserPools::federation_begin`] sends the
//! browser to the provider's `SSORedirectBindingURI` with an
//! `AuthnRequest` (HTTP-Redirect binding: deflated, base64, with the
//! sign-in's single-use state as `RelayState`; signed with the pool's
//! signing key, the certificate GetSigningCertificate returns, when the
//! provider's `RequestSigningAlgorithm` is `rsa-sha256`), and
//! [`UserPools::saml_complete`] answers the provider's HTTP-POST to
//! `/saml2/idpresponse`: it takes the state once, verifies the response
//! (saml_response.rs: signature by the metadata's certificate, issuer,
//! audience `urn:amazon:cognito:sp:<pool id>`, recipient, the request's ID,
//! validity), and signs in `<ProviderName>_<NameID>` (or the native user
//! a link names) with the assertion's attributes mapped by the provider's
//! AttributeMapping, as the other federated sign-ins do.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine;
use serde_json::Value;

use super::federation::{refusal, sha256, with_query, PendingSignIn, RawAttributes, Refusal};
use super::hosted::{AuthorizeError, HostedSession, SamlSignIn, ValidAuthorize};
use super::saml_response::{self, Expected, Refused};
use super::UserPools;
use crate::error::Error;
use crate::model::{ChallengeSession, IdentityProvider, User, UserPool};

/// The redirect binding's signature algorithm (the only one Cognito offers).
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// The longest SAMLResponse Cognito accepts at `/saml2/idpresponse`.
pub const MAX_SAML_RESPONSE_CHARS: usize = 100_000;

/// Whether a client supports SAML providers only (what IdP-initiated
/// sign-in requires of it: not even COGNITO).
fn only_saml_providers(pool: &UserPool, valid: &ValidAuthorize) -> bool {
    valid
        .client
        .settings
        .supported_identity_providers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .all(|name| {
            pool.identity_providers
                .iter()
                .any(|p| &p.name == name && p.provider_type == "SAML")
        })
}

type SignInOutcome<T> = crate::error::Result<Result<T, Refusal>>;

/// A SAML sign-in's outcome as federation's, and who it signed in.
fn split_sign_in(
    outcome: SignInOutcome<(User, bool, SamlSignIn)>,
) -> (SignInOutcome<(User, bool)>, Option<SamlSignIn>) {
    match outcome {
        Ok(Ok((user, created, saml))) => (Ok(Ok((user, created))), Some(saml)),
        Ok(Err(r)) => (Ok(Err(r)), None),
        Err(e) => (Err(e), None),
    }
}

/// The pool's SAML service provider entity ID (the audience of assertions).
pub fn sp_entity_id(pool_id: &str) -> String {
    format!("urn:amazon:cognito:sp:{pool_id}")
}

/// The assertion consumer service beside a domain's `/oauth2/idpresponse`.
fn acs_url(callback: &str) -> String {
    match callback.strip_suffix("/oauth2/idpresponse") {
        Some(base) => format!("{base}/saml2/idpresponse"),
        None => callback.to_owned(),
    }
}

/// The challenge name of the sessions that keep a pending SAML sign-out.
const LOGOUT_CHALLENGE: &str = "SAML_LOGOUT";

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml_attribute(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// The AuthnRequest of a sign-in.
fn authn_request(id: &str, instant: &str, destination: &str, acs: &str, issuer: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{instant}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" \
         ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\">\
         <saml:Issuer>{}</saml:Issuer>\
         <samlp:NameIDPolicy AllowCreate=\"true\"/></samlp:AuthnRequest>",
        xml_attribute(destination),
        xml_attribute(acs),
        xml_text(issuer),
    )
}

/// Raw DEFLATE, as the redirect binding encodes a message.
fn deflate(data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::internal(format!("deflate: {e}")))
}

/// An assertion's attributes as the sign-in's claims: one value as it is,
/// several as `[a, b]` (how Cognito writes a multi-valued SAML attribute
/// into a user attribute).
fn attribute_claims(attributes: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Value> {
    attributes
        .iter()
        .map(|(name, values)| {
            let text = match values.as_slice() {
                [one] => one.clone(),
                many => format!("[{}]", many.join(", ")),
            };
            (name.clone(), Value::String(text))
        })
        .collect()
}

impl UserPools {
    /// The redirect to a SAML provider for a checked authorization request.
    pub(super) async fn saml_begin(
        &self,
        pool: &UserPool,
        valid: &ValidAuthorize,
        provider: &IdentityProvider,
        request: Vec<(String, String)>,
        callback: &str,
    ) -> Result<String, Result<Refusal, Error>> {
        let Some(sso) = provider
            .details
            .get("SSORedirectBindingURI")
            .filter(|u| !u.trim().is_empty())
        else {
            return Err(Ok(refusal(
                "provider_no_endpoints",
                "The identity provider has no endpoints.",
            )));
        };
        let acs = acs_url(callback);
        let request_id = format!(
            "_{}",
            cognate_crypto::digest::hex(&cognate_crypto::random::bytes(20))
        );
        let pending = PendingSignIn {
            provider: provider.name.clone(),
            nonce: request_id.clone(),
            callback: acs.clone(),
            request,
        };
        let state = self.put_pending(valid, &pending).await.map_err(Err)?;
        let now = self.now();
        let xml = authn_request(
            &request_id,
            &saml_response::format_instant(now.div_euclid(1000)),
            sso,
            &acs,
            &sp_entity_id(&pool.id),
        );
        let signed = provider
            .details
            .get("RequestSigningAlgorithm")
            .is_some_and(|a| a == "rsa-sha256");
        self.redirect_binding(&pool.id, sso, &xml, &state, signed)
            .await
            .map_err(Err)
    }

    /// `url` with a SAML request in the HTTP-Redirect binding: deflated and
    /// base64 as `SAMLRequest`, `relay_state` as `RelayState`, and, when
    /// `signed`, `SigAlg` and the `Signature` over them by the pool's
    /// signing key (the certificate GetSigningCertificate returns).
    async fn redirect_binding(
        &self,
        pool_id: &str,
        url: &str,
        xml: &str,
        relay_state: &str,
        signed: bool,
    ) -> crate::error::Result<String> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(deflate(xml.as_bytes())?);
        let mut params = vec![
            ("SAMLRequest", encoded),
            ("RelayState", relay_state.to_owned()),
        ];
        if signed {
            params.push(("SigAlg", RSA_SHA256.to_owned()));
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let query = with_query("", &pairs);
            let message = query.trim_start_matches('?');
            let now = self.now();
            let keys = self.keys.get(self.store.as_ref(), pool_id, now).await?;
            let key = keys.signing_key("id", now)?;
            let signature = key
                .sign_rs256(message.as_bytes())
                .map_err(|e| Error::internal(e.to_string()))?;
            params.push((
                "Signature",
                base64::engine::general_purpose::STANDARD.encode(signature),
            ));
        }
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(with_query(url, &pairs))
    }

    /// Sign-out at a SAML provider (its `IDPSignout` is `true`) for a hosted
    /// session that came from it, on `/logout` to `logout_uri` (already
    /// checked against the client's sign-out URLs): the URL of the
    /// provider's SLORedirectBindingURI with a signed LogoutRequest for the
    /// session's NameID and SessionIndex, and a single-use RelayState that
    /// `/saml2/logout` ([`saml_logout_complete`](Self::saml_logout_complete))
    /// turns back into `logout_uri`. `None` when the provider is not
    /// signed out of.
    pub async fn saml_logout_begin(
        &self,
        session: &super::hosted::HostedSession,
        client_id: &str,
        logout_uri: &str,
    ) -> crate::error::Result<Option<String>> {
        let Some(saml) = &session.saml else {
            return Ok(None);
        };
        let pool = self.pool(&session.pool_id).await?;
        let Some(provider) = pool
            .identity_providers
            .iter()
            .find(|p| p.name == saml.provider && p.saml_option("IDPSignout"))
        else {
            return Ok(None);
        };
        let Some(slo) = provider
            .details
            .get("SLORedirectBindingURI")
            .filter(|u| !u.trim().is_empty())
        else {
            return Ok(None);
        };
        let state = cognate_crypto::random::base64url(32);
        let now = self.now();
        self.store
            .put_session(&ChallengeSession {
                handle_hash: sha256(&state),
                pool_id: pool.id.clone(),
                client_id: client_id.to_owned(),
                username: String::new(),
                challenge: LOGOUT_CHALLENGE.into(),
                expires: now + super::federation::FEDERATION_STATE_MS,
                data: serde_json::json!({ "logout_uri": logout_uri }),
            })
            .await?;
        let id = format!(
            "_{}",
            cognate_crypto::digest::hex(&cognate_crypto::random::bytes(20))
        );
        let session_index = saml
            .session_index
            .as_deref()
            .map(|i| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", xml_text(i)))
            .unwrap_or_default();
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{}\">\
             <saml:Issuer>{}</saml:Issuer><saml:NameID>{}</saml:NameID>{session_index}\
             </samlp:LogoutRequest>",
            saml_response::format_instant(now.div_euclid(1000)),
            xml_attribute(slo),
            xml_text(&sp_entity_id(&pool.id)),
            xml_text(&saml.name_id),
        );
        // A LogoutRequest is always signed (SAML's single logout profile).
        self.redirect_binding(&pool.id, slo, &xml, &state, true)
            .await
            .map(Some)
    }

    /// The provider's answer at `/saml2/logout`: the `logout_uri` its
    /// RelayState stands for (taken once), else `None`.
    pub async fn saml_logout_complete(
        &self,
        pool_id: &str,
        relay_state: Option<&str>,
    ) -> crate::error::Result<Option<String>> {
        let Some(state) = relay_state.filter(|s| !s.is_empty() && s.len() <= 512) else {
            return Ok(None);
        };
        let Some(session) = self.store.take_session(&sha256(state)).await? else {
            return Ok(None);
        };
        if session.pool_id != pool_id
            || session.challenge != LOGOUT_CHALLENGE
            || session.expires <= self.now()
        {
            return Ok(None);
        }
        Ok(session
            .data
            .get("logout_uri")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Answers a SAML provider's post to `/saml2/idpresponse`
    /// (`SAMLResponse`, `RelayState`): the original authorization request,
    /// checked again, and the hosted session of the signed-in user. A
    /// missing, unknown, expired or used RelayState is a page (cognate
    /// takes no IdP-initiated sign-ins); everything after it goes back to
    /// the client's redirect URI.
    pub async fn saml_complete(
        &self,
        pool_id: &str,
        saml_response: Option<&str>,
        relay_state: Option<&str>,
    ) -> Result<(ValidAuthorize, HostedSession), AuthorizeError> {
        let (valid, pending) = self.take_pending(pool_id, relay_state).await?;
        let outcome = self
            .saml_user(
                &valid,
                &pending.provider,
                &pending.callback,
                Some(&pending.nonce),
                saml_response,
            )
            .await;
        let (outcome, saml) = split_sign_in(outcome);
        self.federation_finish(pool_id, valid, outcome, saml).await
    }

    /// Answers an unsolicited (IdP-initiated) SAML response, posted to
    /// `/saml2/idpresponse` with a RelayState that holds the parameters of
    /// an authorization request (`relay`, `client_id`, `redirect_uri`,
    /// `response_type`, `scope`, ... and `identity_provider` or
    /// `idp_identifier`), as Cognito takes them: only from a SAML provider
    /// whose `IDPInit` is `true`, for a client that supports no provider but
    /// SAML ones, an assertion that answers no request, issued within the
    /// last six minutes, and accepted once (its ID is kept, by the store's
    /// single-use put, until it could no longer be accepted anyway).
    pub async fn saml_idp_initiated(
        &self,
        pool_id: &str,
        saml_response: Option<&str>,
        relay: &[(String, String)],
        acs: &str,
    ) -> Result<(ValidAuthorize, HostedSession), AuthorizeError> {
        let param = |k: &str| relay.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let request = super::hosted::AuthorizeRequest::from_pairs(relay);
        let valid = self.check_authorize(pool_id, &request).await?;
        let pool = match self.pool(pool_id).await {
            Ok(pool) => pool,
            Err(e) => return self.federation_finish(pool_id, valid, Err(e), None).await,
        };
        let provider = match Self::federation_provider(
            &pool,
            &valid,
            param("identity_provider").as_deref(),
            param("idp_identifier").as_deref(),
        ) {
            Ok(p) => p,
            Err(r) => return Err(Self::refuse_to_client(&valid, r)),
        };
        let allowed = provider.saml_option("IDPInit") && only_saml_providers(&pool, &valid);
        if !allowed {
            return Err(Self::refuse_to_client(
                &valid,
                refusal(
                    "idp_initiated_not_allowed",
                    "The identity provider does not allow IdP-initiated sign-in to this client.",
                ),
            ));
        }
        let name = provider.name.clone();
        let outcome = self
            .saml_user(&valid, &name, acs, None, saml_response)
            .await;
        let (outcome, saml) = split_sign_in(outcome);
        self.federation_finish(pool_id, valid, outcome, saml).await
    }

    async fn saml_user(
        &self,
        valid: &ValidAuthorize,
        provider_name: &str,
        acs: &str,
        request_id: Option<&str>,
        saml_response: Option<&str>,
    ) -> crate::error::Result<Result<(User, bool, SamlSignIn), Refusal>> {
        let pool = self.pool(&valid.pool_id).await?;
        let Some(provider) = pool
            .identity_providers
            .iter()
            .find(|p| p.name == provider_name && p.provider_type == "SAML")
        else {
            return Ok(Err(refusal(
                "provider_gone",
                "The identity provider does not exist in the user pool.",
            )));
        };
        let not_valid = |reason| refusal(reason, "The SAML response is not valid.");
        let Some(trust) = super::saml_metadata::stored_trust(&provider.details) else {
            return Ok(Err(not_valid("provider_without_metadata")));
        };
        // Cognito's limit on the posted assertion.
        if saml_response.is_some_and(|r| r.len() > MAX_SAML_RESPONSE_CHARS) {
            return Ok(Err(not_valid("saml_response_too_long")));
        }
        let xml = saml_response
            .map(|r| {
                r.chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect::<String>()
            })
            .and_then(|r| base64::engine::general_purpose::STANDARD.decode(r).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some(xml) = xml else {
            return Ok(Err(not_valid("saml_response_not_base64")));
        };
        let audience = sp_entity_id(&pool.id);
        // EncryptedResponses: the assertion comes encrypted with the
        // provider's ActiveEncryptionCertificate, whose key we keep.
        let decryption_key = if provider.saml_option("EncryptedResponses") {
            let key = provider
                .details
                .get(super::saml_metadata::ENCRYPTION_KEY)
                .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok());
            let Some(key) = key else {
                return Ok(Err(not_valid("provider_without_encryption_key")));
            };
            Some(key)
        } else {
            None
        };
        let expected = Expected {
            issuer: &trust.entity_id,
            certificates: &trust.certificates,
            audience: &audience,
            acs_url: acs,
            request_id,
            now_secs: self.now().div_euclid(1000),
            decryption_key: decryption_key.as_deref(),
        };
        let assertion = match saml_response::verify_response(&xml, &expected) {
            Ok(a) => a,
            Err(Refused::Untrusted(u)) => return Ok(Err(not_valid(u.0))),
            Err(Refused::Status(status)) => {
                let code = status.rsplit(':').next().unwrap_or_default().to_owned();
                return Ok(Err(refusal(
                    "provider_status",
                    format!("The identity provider answered {code}."),
                )));
            }
        };
        if assertion.name_id.len() > 128 {
            return Ok(Err(not_valid("name_id_too_long")));
        }
        if request_id.is_none() {
            // An unsolicited assertion is accepted once: its ID is kept
            // until it is too old to be accepted anyway.
            let now = self.now();
            let marker = ChallengeSession {
                handle_hash: sha256(&format!(
                    "saml-assertion\n{}\n{}\n{}",
                    pool.id, provider.name, assertion.id
                )),
                pool_id: pool.id.clone(),
                client_id: valid.client.client_id.clone(),
                username: String::new(),
                challenge: "SAML_ASSERTION".into(),
                expires: now
                    + 1000
                        * (saml_response::UNSOLICITED_MAX_AGE_SECS
                            + 2 * saml_response::CLOCK_SKEW_SECS),
                data: Value::Null,
            };
            if !self.store.put_session_once(&marker, now).await? {
                return Ok(Err(not_valid("assertion_replayed")));
            }
        }
        let signed_in = SamlSignIn {
            provider: provider.name.clone(),
            name_id: assertion.name_id.clone(),
            session_index: assertion.session_index.clone(),
        };
        let claims = attribute_claims(&assertion.attributes);
        let raw = RawAttributes {
            saml_response: Some(claims.clone().into_iter().collect()),
            claims,
            name_id: Some(assertion.name_id),
            token_response: Value::Null,
            id_token: None,
            user_info: None,
        };
        Ok(self
            .federated_sign_in(&pool, valid, provider, raw)
            .await?
            .map(|(user, created)| (user, created, signed_in)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acs_is_beside_the_oauth_callback() {
        assert_eq!(
            acs_url("https://auth.example.com/oauth2/idpresponse"),
            "https://auth.example.com/saml2/idpresponse"
        );
        assert_eq!(
            acs_url("http://127.0.0.1:9/domains/d/oauth2/idpresponse"),
            "http://127.0.0.1:9/domains/d/saml2/idpresponse"
        );
    }

    #[test]
    fn multi_valued_attributes_are_bracketed() {
        let mut attributes = BTreeMap::new();
        attributes.insert("email".to_owned(), vec!["a@b.c".to_owned()]);
        attributes.insert("groups".to_owned(), vec!["x".to_owned(), "y".to_owned()]);
        let claims = attribute_claims(&attributes);
        assert_eq!(claims["email"], "a@b.c");
        assert_eq!(claims["groups"], "[x, y]");
    }

    #[test]
    fn the_request_inflates_to_an_authn_request() {
        let xml = authn_request(
            "_1",
            "2026-12-07T09:00:00Z",
            "https://idp/sso?a=1&b=2",
            "https://sp/saml2/idpresponse",
            "urn:amazon:cognito:sp:p",
        );
        let deflated = deflate(xml.as_bytes()).unwrap();
        let mut inflated = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::DeflateDecoder::new(&deflated[..]),
            &mut inflated,
        )
        .unwrap();
        assert_eq!(inflated, xml);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element().attribute("Destination"),
            Some("https://idp/sso?a=1&b=2")
        );
    }
}

//! The CUSTOM_AUTH flow, driven by the pool's DefineAuthChallenge,
//! CreateAuthChallenge and VerifyAuthChallengeResponse triggers. Each
//! round's state (the session list of `{challengeName, challengeResult,
//! challengeMetadata}`, the private challenge parameters, the SRP_A a
//! client sent) lives in the challenge session in the store, which is used
//! once; DefineAuthChallenge decides after every answer whether to issue
//! tokens, fail, or ask another challenge (CUSTOM_CHALLENGE, or
//! PASSWORD_VERIFIER when the client started with SRP_A).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::auth::{param, AuthFlowInput, ChallengeInput, Channel, SignInStep};
use super::triggers::{client_metadata, user_attributes, TriggerEvent};
use super::users::prevents_existence_errors;
use super::UserPools;
use crate::error::{Error, Result};
use crate::model::{AppClient, ChallengeSession, User, UserPool};
use crate::triggers::{invalid_response, Trigger};

/// Rounds after which a custom sign-in fails whatever DefineAuthChallenge says.
const MAX_ROUNDS: usize = 20;

/// A custom sign-in's state between calls (kept in its challenge session).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct CustomState {
    /// The session list DefineAuthChallenge sees.
    history: Vec<Value>,
    /// CreateAuthChallenge's privateChallengeParameters of the open challenge.
    private: Map<String, Value>,
    /// CreateAuthChallenge's challengeMetadata of the open challenge.
    metadata: Option<String>,
    /// The name the client signed in with (the user may be unknown).
    name: String,
    user_not_found: bool,
    /// The client's SRP_A, for a PASSWORD_VERIFIER step.
    srp_a: Option<String>,
}

fn round(name: &str, result: bool, metadata: Option<&str>) -> Value {
    json!({"challengeName": name, "challengeResult": result, "challengeMetadata": metadata})
}

impl UserPools {
    /// InitiateAuth with CUSTOM_AUTH: the account checks, PreAuthentication,
    /// then DefineAuthChallenge's first decision.
    pub(crate) async fn custom_auth_start(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        input: &AuthFlowInput,
    ) -> Result<SignInStep> {
        if !Self::has_trigger(pool, Trigger::DefineAuthChallenge) {
            return Err(Error::invalid_parameter(
                "Custom auth lambda trigger is not configured for the user pool.",
            ));
        }
        let user = self.find_user(pool, username, false).await?;
        match &user {
            None if !prevents_existence_errors(client) => return Err(Error::user_not_found()),
            None => {}
            Some(u) => {
                if !u.enabled {
                    return Err(Error::not_authorized("User is disabled."));
                }
                super::auth::account_state_refusal(&u.status, client)?;
                self.pre_authentication(pool, &client.client_id, u).await?;
            }
        }
        let mut state = CustomState {
            name: username.to_owned(),
            user_not_found: user.is_none(),
            ..CustomState::default()
        };
        if let Some(srp_a) = input.parameters.get("SRP_A") {
            if !cognate_crypto::srp::valid_a(srp_a) {
                return Err(Error::invalid_parameter("Invalid SRP_A value."));
            }
            state.srp_a = Some(srp_a.clone());
            state.history.push(round("SRP_A", true, None));
        }
        self.custom_next(pool, client, user, state, &input.client_metadata)
            .await
    }

    /// RespondToAuthChallenge with CUSTOM_CHALLENGE: VerifyAuthChallengeResponse
    /// judges the ANSWER, then DefineAuthChallenge decides.
    pub(crate) async fn custom_answer(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &ChallengeSession,
        input: &ChallengeInput,
        username: Option<&str>,
    ) -> Result<SignInStep> {
        let mut state: CustomState = session
            .data
            .get("custom")
            .cloned()
            .and_then(|c| serde_json::from_value(c).ok())
            .ok_or_else(|| Error::internal("custom sign-in session without its state"))?;
        let user = if state.user_not_found {
            None
        } else {
            let user = self
                .store
                .get_user(&pool.id, &session.username)
                .await?
                .ok_or_else(Error::incorrect_credentials)?;
            if let Some(name) = username {
                let named = self.find_user(pool, name, false).await?;
                if named.map(|u| u.username_key) != Some(user.username_key.clone()) {
                    return Err(Error::incorrect_credentials());
                }
            }
            if !user.enabled {
                return Err(Error::not_authorized("User is disabled."));
            }
            Some(user)
        };
        let answer = param(&input.responses, "ANSWER")?;
        let event = TriggerEvent::new(
            "VerifyAuthChallengeResponse_Authentication",
            user.as_ref()
                .map(|u| u.username.as_str())
                .unwrap_or(&state.name),
            Some(&client.client_id),
        )
        .request(json!({
            "userAttributes": user.as_ref().map(user_attributes).unwrap_or_else(|| json!({})),
            "privateChallengeParameters": state.private,
            "challengeAnswer": answer,
            "clientMetadata": client_metadata(&input.client_metadata),
            "userNotFound": state.user_not_found,
        }))
        .response(json!({"answerCorrect": false}));
        let correct = match self
            .run_trigger(pool, Trigger::VerifyAuthChallengeResponse, event)
            .await?
        {
            Some(response) => response.flag("answerCorrect")?,
            None => {
                return Err(Error::invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool.",
                ))
            }
        };
        let metadata = state.metadata.take();
        state
            .history
            .push(round("CUSTOM_CHALLENGE", correct, metadata.as_deref()));
        state.private = Map::new();
        self.custom_next(pool, client, user, state, &input.client_metadata)
            .await
    }

    /// A custom sign-in's PASSWORD_VERIFIER answered correctly: back to
    /// DefineAuthChallenge.
    pub(crate) async fn custom_after_password(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: User,
        custom: &Value,
        input: &ChallengeInput,
    ) -> Result<SignInStep> {
        let mut state: CustomState = serde_json::from_value(custom.clone())
            .map_err(|e| Error::internal(format!("custom sign-in state: {e}")))?;
        state.history.push(round("PASSWORD_VERIFIER", true, None));
        self.custom_next(pool, client, Some(user), state, &input.client_metadata)
            .await
    }

    /// Asks DefineAuthChallenge what follows the rounds so far.
    async fn custom_next(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: Option<User>,
        state: CustomState,
        metadata: &BTreeMap<String, String>,
    ) -> Result<SignInStep> {
        if state.history.len() > MAX_ROUNDS {
            return Err(Error::incorrect_credentials());
        }
        let user_name = user
            .as_ref()
            .map(|u| u.username.clone())
            .unwrap_or_else(|| state.name.clone());
        let attributes = user
            .as_ref()
            .map(user_attributes)
            .unwrap_or_else(|| json!({}));
        let event = TriggerEvent::new(
            "DefineAuthChallenge_Authentication",
            &user_name,
            Some(&client.client_id),
        )
        .request(json!({
            "userAttributes": attributes,
            "session": state.history,
            "clientMetadata": client_metadata(metadata),
            "userNotFound": state.user_not_found,
        }))
        .response(
            json!({"challengeName": null, "issueTokens": false, "failAuthentication": false}),
        );
        let decision = self
            .run_trigger(pool, Trigger::DefineAuthChallenge, event)
            .await?
            .ok_or_else(|| {
                Error::invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool.",
                )
            })?;
        if decision.flag("failAuthentication")? {
            return Err(Error::incorrect_credentials());
        }
        if decision.flag("issueTokens")? {
            return match user {
                Some(u) if !state.user_not_found => Ok(SignInStep::Done(u)),
                _ => Err(Error::incorrect_credentials()),
            };
        }
        match decision.string("challengeName")?.as_deref() {
            Some("CUSTOM_CHALLENGE") => {
                self.create_custom_challenge(pool, client, user, state, user_name, metadata)
                    .await
            }
            Some("PASSWORD_VERIFIER") => {
                let (Some(u), Some(srp_a)) = (user, state.srp_a.clone()) else {
                    return Err(Error::incorrect_credentials());
                };
                let custom =
                    serde_json::to_value(&state).map_err(|e| Error::internal(e.to_string()))?;
                let name = state.name.clone();
                let (session, parameters) = self
                    .srp_challenge(pool, client, &name, Some(&u), &srp_a, Some(custom))
                    .await?;
                Ok(SignInStep::Challenge {
                    name: "PASSWORD_VERIFIER".into(),
                    session,
                    parameters,
                    user: u,
                })
            }
            _ => Err(invalid_response()),
        }
    }

    /// CreateAuthChallenge: the challenge's public parameters go to the
    /// client; the private ones and the metadata stay in the session.
    async fn create_custom_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: Option<User>,
        mut state: CustomState,
        user_name: String,
        metadata: &BTreeMap<String, String>,
    ) -> Result<SignInStep> {
        let event = TriggerEvent::new(
            "CreateAuthChallenge_Authentication",
            &user_name,
            Some(&client.client_id),
        )
        .request(json!({
            "userAttributes": user.as_ref().map(user_attributes).unwrap_or_else(|| json!({})),
            "challengeName": "CUSTOM_CHALLENGE",
            "session": state.history,
            "clientMetadata": client_metadata(metadata),
            "userNotFound": state.user_not_found,
        }))
        .response(json!({
            "publicChallengeParameters": null,
            "privateChallengeParameters": null,
            "challengeMetadata": null,
        }));
        let created = self
            .run_trigger(pool, Trigger::CreateAuthChallenge, event)
            .await?
            .ok_or_else(|| {
                Error::invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool.",
                )
            })?;
        let public = created
            .string_map("publicChallengeParameters")?
            .unwrap_or_default();
        state.private = created
            .string_map("privateChallengeParameters")?
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        state.metadata = created.string("challengeMetadata")?;
        let user = match user {
            Some(u) => u,
            // Unknown user (existence errors prevented): a stand-in that is never stored.
            None => self.blank_user(pool, state.name.clone(), Vec::new()),
        };
        let data = json!({
            "custom": serde_json::to_value(&state).map_err(|e| Error::internal(e.to_string()))?,
        });
        let handle = self
            .open_session(pool, client, &user, "CUSTOM_CHALLENGE", data, Channel::Api)
            .await?;
        let mut parameters: BTreeMap<String, String> = public.into_iter().collect();
        parameters.insert("USERNAME".to_owned(), user.username.clone());
        Ok(SignInStep::Challenge {
            name: "CUSTOM_CHALLENGE".into(),
            session: handle,
            parameters,
            user,
        })
    }
}

//! Invoking a pool's Lambda triggers: Cognito's event JSON (`version`,
//! `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext`,
//! `request`, `response`) sent through the service's `LambdaInvoker`, and
//! the answer's `response` read back with its members type-checked (a
//! wrong type is InvalidLambdaResponseException).

use serde_json::{json, Map, Value};

use super::UserPools;
use crate::error::Result;
use crate::model::{Attribute, User, UserPool};
use crate::triggers::{function_of, invalid_response, Trigger};

/// `callerContext.clientId` of a call made without an app client.
pub(crate) const NO_CLIENT: &str = "CLIENT_ID_NOT_APPLICABLE";

/// One invocation's varying parts.
pub(crate) struct TriggerEvent<'a> {
    pub source: &'a str,
    pub user_name: &'a str,
    pub client_id: Option<&'a str>,
    pub request: Value,
    /// The `response` sent (the members the function may fill in).
    pub response: Value,
    /// The event's `version` ("1" except PreTokenGeneration V2_0/V3_0).
    pub version: &'a str,
}

impl<'a> TriggerEvent<'a> {
    pub fn new(source: &'a str, user_name: &'a str, client_id: Option<&'a str>) -> Self {
        TriggerEvent {
            source,
            user_name,
            client_id,
            request: json!({}),
            response: json!({}),
            version: "1",
        }
    }

    pub fn request(mut self, request: Value) -> Self {
        self.request = request;
        self
    }

    pub fn response(mut self, response: Value) -> Self {
        self.response = response;
        self
    }
}

/// The `response` of a trigger's answer, with typed reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct TriggerResponse(pub Map<String, Value>);

impl TriggerResponse {
    /// A boolean member (absent or null: false).
    pub fn flag(&self, name: &str) -> Result<bool> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(invalid_response()),
        }
    }

    /// A string member (absent or null: None).
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid_response()),
        }
    }

    /// A map of strings (absent or null: None).
    pub fn string_map(&self, name: &str) -> Result<Option<Vec<(String, String)>>> {
        string_map(self.0.get(name))
    }

    /// A list of strings (absent or null: None).
    pub fn string_list(&self, name: &str) -> Result<Option<Vec<String>>> {
        string_list(self.0.get(name))
    }
}

/// A JSON map of strings (absent or null: None; anything else is InvalidLambdaResponse).
pub(crate) fn string_map(value: Option<&Value>) -> Result<Option<Vec<(String, String)>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid_response()),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid_response()),
    }
}

/// A JSON list of strings (absent or null: None).
pub(crate) fn string_list(value: Option<&Value>) -> Result<Option<Vec<String>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid_response))
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid_response()),
    }
}

/// Attributes as the `userAttributes` map of an event.
pub(crate) fn attributes_map(attributes: &[Attribute]) -> Value {
    Value::Object(
        attributes
            .iter()
            .map(|a| (a.name.clone(), Value::String(a.value.clone())))
            .collect(),
    )
}

/// A stored user's `userAttributes`: `sub`, its attributes and `cognito:user_status`.
pub(crate) fn user_attributes(user: &User) -> Value {
    let mut map = Map::new();
    map.insert("sub".into(), json!(user.sub));
    for a in &user.attributes {
        map.insert(a.name.clone(), json!(a.value));
    }
    map.insert("cognito:user_status".into(), json!(user.status.as_str()));
    Value::Object(map)
}

/// ClientMetadata as an event's `clientMetadata` (absent when empty).
pub(crate) fn client_metadata(metadata: &std::collections::BTreeMap<String, String>) -> Value {
    if metadata.is_empty() {
        Value::Null
    } else {
        json!(metadata)
    }
}

impl UserPools {
    /// Whether the pool configures `trigger`.
    pub(crate) fn has_trigger(pool: &UserPool, trigger: Trigger) -> bool {
        function_of(pool.settings.lambda_config.as_ref(), trigger).is_some()
    }

    /// Invokes `trigger` when the pool configures it and returns the
    /// answer's `response`; `None` when the pool has no such trigger.
    pub(crate) async fn run_trigger(
        &self,
        pool: &UserPool,
        trigger: Trigger,
        event: TriggerEvent<'_>,
    ) -> Result<Option<TriggerResponse>> {
        let Some(function) = function_of(pool.settings.lambda_config.as_ref(), trigger) else {
            return Ok(None);
        };
        let body = json!({
            "version": event.version,
            "triggerSource": event.source,
            "region": self.config.region,
            "userPoolId": pool.id,
            "userName": event.user_name,
            "callerContext": {
                "awsSdkVersion": concat!("cognate-", env!("CARGO_PKG_VERSION")),
                "clientId": event.client_id.unwrap_or(NO_CLIENT),
            },
            "request": event.request,
            "response": event.response,
        });
        let answer = self
            .lambda
            .invoke(&function, &body)
            .await
            .map_err(|e| trigger.error(e))?;
        let Value::Object(mut answer) = answer else {
            return Err(invalid_response());
        };
        match answer.remove("response") {
            None | Some(Value::Null) => Ok(Some(TriggerResponse::default())),
            Some(Value::Object(response)) => Ok(Some(TriggerResponse(response))),
            Some(_) => Err(invalid_response()),
        }
    }
}

/// What a PreSignUp trigger decided.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PreSignUp {
    pub auto_confirm: bool,
    pub verify_email: bool,
    pub verify_phone: bool,
}

impl PreSignUp {
    /// Applies the decision to the user about to be stored (AdminCreateUser
    /// users keep their status: only the verifications apply).
    pub fn apply(&self, user: &mut User) {
        if self.auto_confirm && user.status == crate::model::UserStatus::Unconfirmed {
            user.status = crate::model::UserStatus::Confirmed;
        }
        if self.verify_email && user.attribute("email").is_some() {
            user.set_attribute("email_verified", Some("true"));
        }
        if self.verify_phone && user.attribute("phone_number").is_some() {
            user.set_attribute("phone_number_verified", Some("true"));
        }
    }
}

impl UserPools {
    /// The PreSignUp trigger (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`)
    /// for a user not stored yet; an error refuses the sign-up.
    pub(crate) async fn pre_sign_up(
        &self,
        pool: &UserPool,
        user: &User,
        source: &str,
        client_id: Option<&str>,
        validation_data: &[Attribute],
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<PreSignUp> {
        let event = TriggerEvent::new(source, &user.username, client_id)
            .request(json!({
                "userAttributes": attributes_map(&user.attributes),
                "validationData": if validation_data.is_empty() { Value::Null } else { attributes_map(validation_data) },
                "clientMetadata": client_metadata(metadata),
            }))
            .response(json!({
                "autoConfirmUser": false,
                "autoVerifyEmail": false,
                "autoVerifyPhone": false,
            }));
        let Some(response) = self.run_trigger(pool, Trigger::PreSignUp, event).await? else {
            return Ok(PreSignUp::default());
        };
        Ok(PreSignUp {
            auto_confirm: response.flag("autoConfirmUser")?,
            verify_email: response.flag("autoVerifyEmail")?,
            verify_phone: response.flag("autoVerifyPhone")?,
        })
    }

    /// The PostConfirmation trigger for a user just confirmed
    /// (`PostConfirmation_ConfirmSignUp`, `PostConfirmation_ConfirmForgotPassword`).
    /// The confirmation stands whatever the function answers, as in Cognito;
    /// its failure is the call's error.
    pub(crate) async fn post_confirmation(
        &self,
        pool: &UserPool,
        user: &User,
        source: &str,
        client_id: Option<&str>,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let event = TriggerEvent::new(source, &user.username, client_id).request(json!({
            "userAttributes": user_attributes(user),
            "clientMetadata": client_metadata(metadata),
        }));
        self.run_trigger(pool, Trigger::PostConfirmation, event)
            .await
            .map(|_| ())
    }
}

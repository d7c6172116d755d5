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

/// `callerContext.awsSdkVersion`: Cognito names the caller's SDK there
/// (`aws-sdk-<language>-<version>`), and `aws-sdk-unknown-unknown` when
/// it cannot tell, as for the hosted UI and most captured events; cognate
/// does not parse User-Agent headers, so every event says unknown.
const SDK_VERSION: &str = "aws-sdk-unknown-unknown";

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

/// A stored user's `userAttributes` also name the sign-in aliases the user
/// holds, as Cognito's events do: `cognito:email_alias` /
/// `cognito:phone_number_alias` for a verified email address or phone
/// number that the pool lets users sign in with (an alias or username
/// attribute).
fn add_alias_attributes(pool: &UserPool, attributes: &mut Map<String, Value>) {
    if !attributes.contains_key("cognito:user_status") {
        return; // not a stored user (PreSignUp's proposed attributes)
    }
    for name in ["email", "phone_number"] {
        let signs_in = pool.alias_attributes.iter().any(|a| a == name)
            || pool.username_attributes.iter().any(|a| a == name);
        let verified = attributes
            .get(&format!("{name}_verified"))
            .and_then(Value::as_str)
            == Some("true");
        if let (true, true, Some(value)) = (signs_in, verified, attributes.get(name).cloned()) {
            attributes.insert(format!("cognito:{name}_alias"), value);
        }
    }
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

    /// The JSON event of an invocation of `trigger`: Cognito's envelope
    /// around `event`, with the operation's ClientMetadata where it
    /// reaches the trigger.
    pub(crate) fn event_body(
        &self,
        pool: &UserPool,
        trigger: Trigger,
        event: TriggerEvent<'_>,
    ) -> Value {
        let mut request = event.request;
        // The operation's ClientMetadata reaches every trigger it invokes
        // as `clientMetadata`; InitiateAuth's reaches only some, as their
        // `validationData` (the model's documentation of ClientMetadata).
        if let Value::Object(r) = &mut request {
            let metadata = crate::triggers::current_client_metadata();
            if !crate::triggers::client_metadata_reaches(trigger) {
                r.remove("clientMetadata");
            } else if crate::triggers::client_metadata_is_validation_data() {
                r.remove("clientMetadata");
                if !metadata.is_empty() && r.get("validationData").is_none_or(Value::is_null) {
                    r.insert("validationData".into(), json!(metadata));
                }
            } else if r.get("clientMetadata").is_none_or(Value::is_null) && !metadata.is_empty() {
                r.insert("clientMetadata".into(), json!(metadata));
            }
            // Cognito leaves clientMetadata out when there is none.
            if r.get("clientMetadata").is_some_and(Value::is_null) {
                r.remove("clientMetadata");
            }
            if let Some(Value::Object(attributes)) = r.get_mut("userAttributes") {
                add_alias_attributes(pool, attributes);
            }
        }
        // A trigger invoked in the course of a public operation gets its
        // ClientId even where the caller did not name one (CustomMessage of
        // SignUp, ForgotPassword, ...), as in Cognito's events.
        let client_id = match event.client_id {
            Some(id) => id.to_owned(),
            None => crate::triggers::current_client_id().unwrap_or_else(|| NO_CLIENT.to_owned()),
        };
        json!({
            "version": event.version,
            "triggerSource": event.source,
            "region": self.config.region,
            "userPoolId": pool.id,
            "userName": event.user_name,
            "callerContext": {
                "awsSdkVersion": SDK_VERSION,
                "clientId": client_id,
            },
            "request": request,
            "response": event.response,
        })
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
        let body = self.event_body(pool, trigger, event);
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

/// The group claims a PreTokenGeneration trigger sees and may replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GroupClaims {
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub preferred_role: Option<String>,
}

impl GroupClaims {
    /// The group claims of an ID token's extra claims (`tokens::group_claims`).
    pub fn of(id_claims: &Map<String, Value>) -> GroupClaims {
        let list = |name: &str| {
            id_claims
                .get(name)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        GroupClaims {
            groups: list("cognito:groups"),
            roles: list("cognito:roles"),
            preferred_role: id_claims
                .get("cognito:preferred_role")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "groupsToOverride": self.groups,
            "iamRolesToOverride": self.roles,
            "preferredRole": self.preferred_role,
        })
    }

    fn from_json(value: &Value) -> Result<GroupClaims> {
        if !value.is_object() {
            return Err(invalid_response());
        }
        Ok(GroupClaims {
            groups: string_list(value.get("groupsToOverride"))?.unwrap_or_default(),
            roles: string_list(value.get("iamRolesToOverride"))?.unwrap_or_default(),
            preferred_role: match value.get("preferredRole") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(invalid_response()),
            },
        })
    }

    /// Writes the group claims into a token's claims (`id`: with roles).
    fn write(&self, claims: &mut Map<String, Value>, id: bool) {
        for name in ["cognito:groups", "cognito:roles", "cognito:preferred_role"] {
            claims.remove(name);
        }
        if !self.groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(self.groups));
        }
        if id {
            if !self.roles.is_empty() {
                claims.insert("cognito:roles".into(), json!(self.roles));
            }
            if let Some(role) = &self.preferred_role {
                claims.insert("cognito:preferred_role".into(), json!(role));
            }
        }
    }
}

/// One token's changes asked by a PreTokenGeneration trigger.
#[derive(Clone, Debug, Default)]
struct ClaimChanges {
    add: Map<String, Value>,
    suppress: Vec<String>,
    scopes_add: Vec<String>,
    scopes_suppress: Vec<String>,
}

impl ClaimChanges {
    fn parse(value: Option<&Value>, access: bool) -> Result<ClaimChanges> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(ClaimChanges::default());
        };
        let Some(obj) = value.as_object() else {
            return Err(invalid_response());
        };
        let add = match obj.get("claimsToAddOrOverride") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(invalid_response()),
        };
        let mut changes = ClaimChanges {
            add,
            suppress: string_list(obj.get("claimsToSuppress"))?.unwrap_or_default(),
            ..ClaimChanges::default()
        };
        if access {
            changes.scopes_add = string_list(obj.get("scopesToAdd"))?.unwrap_or_default();
            changes.scopes_suppress = string_list(obj.get("scopesToSuppress"))?.unwrap_or_default();
        }
        Ok(changes)
    }

    /// Applies the changes to a token's claims; reserved claims stay as
    /// they are, and a claim both added and suppressed is suppressed.
    fn apply(&self, claims: &mut Map<String, Value>, access: bool) {
        use crate::triggers::{RESERVED_ACCESS_CLAIMS, RESERVED_CLAIMS};
        let reserved = |name: &str| {
            RESERVED_CLAIMS.contains(&name)
                || (access && RESERVED_ACCESS_CLAIMS.contains(&name))
                || name.starts_with("cognito:")
        };
        for (name, value) in &self.add {
            if !reserved(name) {
                claims.insert(name.clone(), value.clone());
            }
        }
        for name in &self.suppress {
            if !reserved(name) {
                claims.remove(name);
            }
        }
        if access && !(self.scopes_add.is_empty() && self.scopes_suppress.is_empty()) {
            let mut scopes: Vec<String> = claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            for s in &self.scopes_add {
                if !s.is_empty() && !s.contains(' ') && !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            scopes.retain(|s| !self.scopes_suppress.contains(s));
            claims.insert("scope".into(), json!(scopes.join(" ")));
        }
    }
}

/// What a PreTokenGeneration trigger changes in the tokens of one issuance.
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenOverrides {
    id: ClaimChanges,
    access: ClaimChanges,
    groups: Option<GroupClaims>,
}

impl TokenOverrides {
    pub fn apply_id(&self, claims: &mut Value) {
        if let Some(obj) = claims.as_object_mut() {
            if let Some(g) = &self.groups {
                g.write(obj, true);
            }
            self.id.apply(obj, false);
        }
    }

    pub fn apply_access(&self, claims: &mut Value) {
        if let Some(obj) = claims.as_object_mut() {
            if let Some(g) = &self.groups {
                g.write(obj, false);
            }
            self.access.apply(obj, true);
        }
    }
}

/// Who tokens are being issued for, as a PreTokenGeneration event tells it.
pub(crate) struct TokenRequest<'a> {
    pub source: &'a str,
    pub client_id: &'a str,
    /// None for client_credentials tokens (no user).
    pub user: Option<&'a User>,
    pub groups: GroupClaims,
    pub scope: &'a str,
}

impl UserPools {
    /// The PreTokenGeneration trigger: V1_0 changes the ID token (and the
    /// groups of both), V2_0 both tokens of users, V3_0 also
    /// client_credentials tokens. `None` when no trigger applies.
    pub(crate) async fn pre_token_generation(
        &self,
        pool: &UserPool,
        req: TokenRequest<'_>,
    ) -> Result<Option<TokenOverrides>> {
        use crate::triggers::{token_event_version, TokenEventVersion};
        if !Self::has_trigger(pool, Trigger::PreTokenGeneration) {
            return Ok(None);
        }
        let version = token_event_version(pool.settings.lambda_config.as_ref());
        if req.user.is_none() && version != TokenEventVersion::V3 {
            return Ok(None);
        }
        let user_name = req
            .user
            .map(|u| u.username.as_str())
            .unwrap_or(req.client_id);
        let mut request = json!({
            "userAttributes": req.user.map(user_attributes).unwrap_or_else(|| json!({})),
            "groupConfiguration": req.groups.to_json(),
        });
        let response = if version == TokenEventVersion::V1 {
            json!({"claimsOverrideDetails": null})
        } else {
            request["scopes"] = json!(req
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>());
            json!({"claimsAndScopeOverrideDetails": null})
        };
        let mut event = TriggerEvent::new(req.source, user_name, Some(req.client_id))
            .request(request)
            .response(response);
        event.version = version.event_version();
        let Some(response) = self
            .run_trigger(pool, Trigger::PreTokenGeneration, event)
            .await?
        else {
            return Ok(None);
        };
        let mut out = TokenOverrides::default();
        let details_key = if version == TokenEventVersion::V1 {
            "claimsOverrideDetails"
        } else {
            "claimsAndScopeOverrideDetails"
        };
        let details = match response.0.get(details_key) {
            None | Some(Value::Null) => return Ok(Some(out)),
            Some(Value::Object(d)) => d,
            Some(_) => return Err(invalid_response()),
        };
        if let Some(g) = details.get("groupOverrideDetails").filter(|g| !g.is_null()) {
            out.groups = Some(GroupClaims::from_json(g)?);
        }
        if version == TokenEventVersion::V1 {
            out.id = ClaimChanges::parse(Some(&Value::Object(details.clone())), false)?;
        } else {
            out.id = ClaimChanges::parse(details.get("idTokenGeneration"), false)?;
            out.access = ClaimChanges::parse(details.get("accessTokenGeneration"), true)?;
        }
        Ok(Some(out))
    }
}

impl UserPools {
    /// The PreAuthentication trigger, before a sign-in's proof is checked.
    pub(crate) async fn pre_authentication(
        &self,
        pool: &UserPool,
        client_id: &str,
        user: &User,
    ) -> Result<()> {
        self.run_pre_authentication(pool, client_id, &user.username, Some(user))
            .await
    }

    /// The PreAuthentication trigger for a sign-in name the pool does not
    /// know, which Cognito invokes (with `userNotFound: true`) only for an
    /// app client that prevents user existence errors.
    pub(crate) async fn pre_authentication_of_unknown(
        &self,
        pool: &UserPool,
        client: &crate::model::AppClient,
        name: &str,
    ) -> Result<()> {
        if !super::users::prevents_existence_errors(client) {
            return Ok(());
        }
        self.run_pre_authentication(pool, &client.client_id, name, None)
            .await
    }

    async fn run_pre_authentication(
        &self,
        pool: &UserPool,
        client_id: &str,
        name: &str,
        user: Option<&User>,
    ) -> Result<()> {
        let event = TriggerEvent::new("PreAuthentication_Authentication", name, Some(client_id))
            .request(json!({
                "userAttributes": user.map_or_else(|| json!({}), user_attributes),
                "validationData": null,
                "userNotFound": user.is_none(),
            }));
        self.run_trigger(pool, Trigger::PreAuthentication, event)
            .await
            .map(|_| ())
    }

    /// The PostAuthentication trigger, after the sign-in's proofs and before
    /// its success is audited and tokens (or a hosted session) are made.
    pub(crate) async fn post_authentication(
        &self,
        pool: &UserPool,
        client: &crate::model::AppClient,
        user: &User,
    ) -> Result<()> {
        let event = TriggerEvent::new(
            "PostAuthentication_Authentication",
            &user.username,
            Some(&client.client_id),
        )
        .request(json!({
            "userAttributes": user_attributes(user),
            "newDeviceUsed": false,
        }));
        if let Err(refusal) = self
            .run_trigger(pool, Trigger::PostAuthentication, event)
            .await
        {
            // The sign-in ends here: a failure, not the success it would
            // have been.
            crate::audit::Event::new("sign_in", &pool.id)
                .user(&user.sub)
                .client(&client.client_id)
                .failed("post_authentication_refused")
                .emit();
            return Err(refusal);
        }
        Ok(())
    }

    /// The CustomMessage trigger for a message about to be sent:
    /// `(email subject, email body, SMS body)` templates that replace the
    /// defaults, each only when the function set it (a body that lost the
    /// `{####}` code parameter is not used).
    pub(crate) async fn custom_message(
        &self,
        pool: &UserPool,
        user: &User,
        source: &str,
        with_username: bool,
    ) -> Result<CustomMessage> {
        self.custom_message_of_client(pool, user, source, with_username, None)
            .await
    }

    /// [`custom_message`](Self::custom_message) for a message sent in the
    /// course of an app client's request (a sign-in's codes,
    /// `CustomMessage_Authentication`): its `callerContext.clientId`.
    pub(crate) async fn custom_message_of_client(
        &self,
        pool: &UserPool,
        user: &User,
        source: &str,
        with_username: bool,
        client_id: Option<&str>,
    ) -> Result<CustomMessage> {
        let event = TriggerEvent::new(source, &user.username, client_id)
            .request(json!({
                "userAttributes": user_attributes(user),
                "codeParameter": "{####}",
                "linkParameter": "{##Click Here##}",
                "usernameParameter": if with_username { json!("{username}") } else { Value::Null },
            }))
            .response(json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}));
        let Some(response) = self
            .run_trigger(pool, Trigger::CustomMessage, event)
            .await?
        else {
            return Ok(CustomMessage::default());
        };
        let with_code = |m: Option<String>| m.filter(|m| m.contains("{####}"));
        Ok(CustomMessage {
            email_subject: response.string("emailSubject")?,
            email_message: with_code(response.string("emailMessage")?),
            sms_message: with_code(response.string("smsMessage")?),
        })
    }
}

/// A CustomMessage trigger's templates (None: the default).
#[derive(Clone, Debug, Default)]
pub(crate) struct CustomMessage {
    pub email_subject: Option<String>,
    pub email_message: Option<String>,
    pub sms_message: Option<String>,
}

/// The triggerSource suffix of an outgoing message kind, as the message
/// triggers name their sources (`CustomMessage_<suffix>`,
/// `CustomEmailSender_<suffix>`, `CustomSMSSender_<suffix>`).
pub(crate) fn message_source(kind: &str) -> &'static str {
    match kind {
        "signup" => "SignUp",
        "resend" => "ResendCode",
        "forgot_password" => "ForgotPassword",
        "update_attribute" => "UpdateUserAttribute",
        "invite" => "AdminCreateUser",
        "sign_in_otp" | "mfa" => "Authentication",
        _ => "VerifyUserAttribute",
    }
}

impl UserPools {
    /// The UserMigration trigger for a sign-in name the pool does not know
    /// (`password` for UserMigration_Authentication, None for
    /// UserMigration_ForgotPassword). Stores the user the function
    /// describes, with that password, and returns it; `None` when the pool
    /// has no such trigger or the function described no user. A user
    /// stored meanwhile by a concurrent migration is returned as stored.
    pub(crate) async fn migrate_user(
        &self,
        pool: &UserPool,
        client_id: &str,
        name: &str,
        password: Option<&str>,
    ) -> Result<Option<User>> {
        if !Self::has_trigger(pool, Trigger::UserMigration) {
            return Ok(None);
        }
        let source = if password.is_some() {
            "UserMigration_Authentication"
        } else {
            "UserMigration_ForgotPassword"
        };
        let mut request = json!({"validationData": null});
        if let Some(p) = password {
            request["password"] = json!(p);
        }
        let event = TriggerEvent::new(source, name, Some(client_id))
            .request(request)
            .response(json!({
                "userAttributes": null,
                "finalUserStatus": null,
                "messageAction": null,
                "desiredDeliveryMediums": null,
                "forceAliasCreation": null,
                "enableSMSMFA": null,
            }));
        let Some(response) = self
            .run_trigger(pool, Trigger::UserMigration, event)
            .await?
        else {
            return Ok(None);
        };
        let Some(attributes) = response.string_map("userAttributes")? else {
            return Ok(None);
        };
        let status = match (response.string("finalUserStatus")?.as_deref(), password) {
            (None | Some("CONFIRMED"), Some(_)) => crate::model::UserStatus::Confirmed,
            (None | Some("RESET_REQUIRED"), None) | (Some("RESET_REQUIRED"), Some(_)) => {
                crate::model::UserStatus::ResetRequired
            }
            _ => return Err(invalid_response()),
        };
        if let Some(action) = response.string("messageAction")? {
            if action != "SUPPRESS" && action != "RESEND" {
                return Err(invalid_response());
            }
        }
        response.string_list("desiredDeliveryMediums")?;
        let take = if response.flag("forceAliasCreation")? {
            super::users::forced_alias_kinds(pool)
        } else {
            Vec::new()
        };
        let attributes: Vec<Attribute> = attributes
            .into_iter()
            .filter(|(k, _)| k != "sub" && !k.starts_with("cognito:"))
            .map(|(k, v)| Attribute::new(&k, v))
            .collect();
        let mut attributes = crate::schema::normalized(pool, &attributes);
        crate::schema::validate_attributes(pool, &attributes, true)?;
        let username = self.new_username(pool, name, &mut attributes)?;
        crate::schema::check_required(pool, &attributes)?;
        // enableSMSMFA: the migrated user signs in with SMS MFA, which
        // needs MFA on in the pool and a phone number, else the migration
        // fails.
        let sms_mfa = response.flag("enableSMSMFA")?;
        if sms_mfa
            && (pool.settings.mfa_configuration == "OFF"
                || !attributes.iter().any(|a| a.name == "phone_number"))
        {
            return Err(invalid_response());
        }
        let mut user = self.blank_user(pool, username, attributes);
        user.status = status;
        user.sms_mfa_enabled = sms_mfa;
        if let Some(p) = password {
            self.set_password(pool, &mut user, p).await?;
        }
        match self.insert_user_taking(pool, &user, &take).await {
            Ok(()) => Ok(Some(user)),
            Err(e) if e.kind == crate::error::ErrorKind::UsernameExists => {
                // Migrated meanwhile by a concurrent sign-in.
                self.find_user(pool, name, false).await
            }
            Err(e) => Err(e),
        }
    }
}

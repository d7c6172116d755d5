//! Lambda triggers: which function a pool's `LambdaConfig` names for each
//! trigger, the [`LambdaInvoker`] trait through which the domain calls a
//! function (the binary implements it over HTTP: the Lambda Invoke API or
//! a plain URL), and how an invocation's failure becomes Cognito's error.
//! The events themselves are built by `service/triggers.rs`.

use std::collections::BTreeMap;
use std::future::Future;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// Why an invocation gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// The function ran and failed (`X-Amz-Function-Error`): its errorMessage.
    Function(String),
    /// No answer within the invocation timeout.
    Timeout,
    /// The function could not be invoked (no endpoint configured,
    /// connection refused, an HTTP error of the endpoint).
    Unavailable(String),
    /// The answer is not a JSON object.
    Malformed(String),
}

/// The ClientMetadata of the request being answered, and the triggers it
/// may reach (`None`: every one).
struct RequestMetadata {
    metadata: BTreeMap<String, String>,
    client_id: Option<String>,
    only: Option<&'static [Trigger]>,
}

tokio::task_local! {
    static CLIENT_METADATA: RequestMetadata;
}

/// The triggers that InitiateAuth and AdminInitiateAuth pass their
/// ClientMetadata to, as the model documents, in the event's
/// `validationData`; the others they invoke (post authentication, custom
/// message, pre token generation, define and create auth challenge) get
/// none.
pub const INITIATE_AUTH_METADATA_TRIGGERS: &[Trigger] = &[
    Trigger::PreSignUp,
    Trigger::PreAuthentication,
    Trigger::UserMigration,
];

/// Runs `answer` (one API operation) with the request's `ClientMetadata`:
/// every trigger the operation invokes receives it as its event's
/// `request.clientMetadata`, as the model documents ("any custom workflows
/// that this action triggers"), or, with `only`, the triggers listed.
/// `client_id` is the request's `ClientId` (a public operation's), for
/// the events of triggers that otherwise would not know it.
pub async fn with_client_metadata<F: Future>(
    metadata: BTreeMap<String, String>,
    client_id: Option<String>,
    only: Option<&'static [Trigger]>,
    answer: F,
) -> F::Output {
    CLIENT_METADATA
        .scope(
            RequestMetadata {
                metadata,
                client_id,
                only,
            },
            answer,
        )
        .await
}

/// Runs `answer`, a part of the operation being answered, on behalf of
/// `client_id`: the app client of an access token, for an operation whose
/// request names no ClientId (UpdateUserAttributes,
/// GetUserAttributeVerificationCode). The operation's ClientMetadata stays.
pub(crate) async fn on_behalf_of<F: Future>(client_id: &str, answer: F) -> F::Output {
    let (metadata, only) = CLIENT_METADATA
        .try_with(|m| (m.metadata.clone(), m.only))
        .unwrap_or_default();
    CLIENT_METADATA
        .scope(
            RequestMetadata {
                metadata,
                client_id: Some(client_id.to_owned()),
                only,
            },
            answer,
        )
        .await
}

/// The `ClientId` of the operation being answered, if it named one.
pub(crate) fn current_client_id() -> Option<String> {
    CLIENT_METADATA
        .try_with(|m| m.client_id.clone())
        .ok()
        .flatten()
}

/// The ClientMetadata of the operation being answered (empty outside one).
pub(crate) fn current_client_metadata() -> BTreeMap<String, String> {
    CLIENT_METADATA
        .try_with(|m| m.metadata.clone())
        .unwrap_or_default()
}

/// Whether the operation being answered hands its ClientMetadata to
/// triggers as `validationData` (InitiateAuth and AdminInitiateAuth, the
/// operations that name the triggers they reach) rather than as
/// `clientMetadata`.
pub(crate) fn client_metadata_is_validation_data() -> bool {
    CLIENT_METADATA
        .try_with(|m| m.only.is_some())
        .unwrap_or(false)
}

/// Whether the operation being answered passes its ClientMetadata to
/// `trigger`.
pub(crate) fn client_metadata_reaches(trigger: Trigger) -> bool {
    CLIENT_METADATA
        .try_with(|m| m.only.is_none_or(|only| only.contains(&trigger)))
        .unwrap_or(true)
}

/// Invokes a Lambda function by ARN (or name) with an event and returns
/// the function's JSON answer.
#[async_trait]
pub trait LambdaInvoker: Send + Sync + 'static {
    async fn invoke(&self, function: &str, event: &Value) -> Result<Value, InvokeError>;
}

/// The invoker of a server with no Lambda endpoint: every call fails.
pub struct NoLambda;

#[async_trait]
impl LambdaInvoker for NoLambda {
    async fn invoke(&self, function: &str, _event: &Value) -> Result<Value, InvokeError> {
        Err(InvokeError::Unavailable(format!(
            "no Lambda endpoint is configured for {function} (--lambda-endpoint or config `lambda.functions`)"
        )))
    }
}

/// A pool trigger, named as in `LambdaConfig` and in Cognito's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    CustomMessage,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    CustomEmailSender,
    CustomSMSSender,
    InboundFederation,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::PreAuthentication => "PreAuthentication",
            Trigger::PostAuthentication => "PostAuthentication",
            Trigger::PreTokenGeneration => "PreTokenGeneration",
            Trigger::CustomMessage => "CustomMessage",
            Trigger::UserMigration => "UserMigration",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Trigger::CustomEmailSender => "CustomEmailSender",
            Trigger::CustomSMSSender => "CustomSMSSender",
            Trigger::InboundFederation => "InboundFederation",
        }
    }

    /// The error a failed invocation of this trigger answers.
    pub fn error(self, e: InvokeError) -> Error {
        match e {
            InvokeError::Function(message) => Error::new(
                ErrorKind::UserLambdaValidation,
                format!("{} failed with error {message}.", self.name()),
            ),
            InvokeError::Timeout => Error::new(
                ErrorKind::UnexpectedLambda,
                format!(
                    "{} invocation failed due to error Socket timeout while invoking Lambda function.",
                    self.name()
                ),
            ),
            InvokeError::Unavailable(detail) => {
                tracing::warn!(trigger = self.name(), %detail, "Lambda trigger could not be invoked");
                Error::new(
                    ErrorKind::UnexpectedLambda,
                    format!(
                        "{} invocation failed due to error The Lambda function could not be invoked.",
                        self.name()
                    ),
                )
            }
            InvokeError::Malformed(detail) => {
                tracing::warn!(trigger = self.name(), %detail, "Lambda trigger answered no JSON object");
                invalid_response()
            }
        }
    }
}

/// InvalidLambdaResponseException: an answer of the wrong shape.
pub fn invalid_response() -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponse,
        "Unrecognizable lambda output",
    )
}

/// Encrypts the codes and temporary passwords that custom sender triggers
/// receive, as Cognito does: an AWS Encryption SDK message under the
/// pool's KMS key (`KMSKeyID`), with the encryption context
/// `userpool-id`, base64-encoded. The binary implements it with a KMS
/// endpoint.
#[async_trait]
pub trait CodeEncryptor: Send + Sync + 'static {
    async fn encrypt(&self, key_id: &str, pool_id: &str, code: &str) -> Result<String, String>;
}

/// The encryptor of a server with no KMS endpoint: every call fails.
pub struct NoKms;

#[async_trait]
impl CodeEncryptor for NoKms {
    async fn encrypt(&self, _key_id: &str, _pool_id: &str, _code: &str) -> Result<String, String> {
        Err("no KMS endpoint is configured (--kms-endpoint)".to_owned())
    }
}

/// The version of the PreTokenGeneration event a pool asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenEventVersion {
    V1,
    V2,
    V3,
}

impl TokenEventVersion {
    /// The event's `version` member.
    pub fn event_version(self) -> &'static str {
        match self {
            TokenEventVersion::V1 => "1",
            TokenEventVersion::V2 => "2",
            TokenEventVersion::V3 => "3",
        }
    }
}

/// The function a pool's `LambdaConfig` (as stored: the wire document)
/// names for a trigger. PreTokenGeneration is read from
/// `PreTokenGenerationConfig.LambdaArn` first, then the legacy member;
/// the custom senders and InboundFederation from their `{LambdaVersion,
/// LambdaArn}` members.
pub fn function_of(lambda_config: Option<&Value>, trigger: Trigger) -> Option<String> {
    let config = lambda_config?.as_object()?;
    if matches!(
        trigger,
        Trigger::CustomEmailSender | Trigger::CustomSMSSender | Trigger::InboundFederation
    ) {
        return config
            .get(trigger.name())
            .and_then(|c| c.get("LambdaArn"))
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
    }
    if trigger == Trigger::PreTokenGeneration {
        if let Some(arn) = config
            .get("PreTokenGenerationConfig")
            .and_then(|c| c.get("LambdaArn"))
            .and_then(Value::as_str)
        {
            return Some(arn.to_owned()).filter(|a| !a.is_empty());
        }
    }
    config
        .get(trigger.name())
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// The PreTokenGeneration event version a pool asks for (V1_0 unless
/// `PreTokenGenerationConfig.LambdaVersion` says otherwise).
pub fn token_event_version(lambda_config: Option<&Value>) -> TokenEventVersion {
    match lambda_config
        .and_then(|c| c.get("PreTokenGenerationConfig"))
        .and_then(|c| c.get("LambdaVersion"))
        .and_then(Value::as_str)
    {
        Some("V2_0") => TokenEventVersion::V2,
        Some("V3_0") => TokenEventVersion::V3,
        _ => TokenEventVersion::V1,
    }
}

/// `LambdaConfig` as Cognito stores it: `PreTokenGenerationConfig` and the
/// legacy `PreTokenGeneration` name the same function (either given sets
/// both; the legacy one alone means version V1_0).
pub fn normalize_lambda_config(config: Option<Value>) -> Option<Value> {
    let mut config = config?;
    let Some(obj) = config.as_object_mut() else {
        return Some(config);
    };
    let from_config = obj
        .get("PreTokenGenerationConfig")
        .and_then(|c| c.get("LambdaArn"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match from_config {
        Some(arn) => {
            obj.insert("PreTokenGeneration".into(), Value::String(arn));
        }
        None => {
            if let Some(arn) = obj.get("PreTokenGeneration").and_then(Value::as_str) {
                let version = obj
                    .get("PreTokenGenerationConfig")
                    .and_then(|c| c.get("LambdaVersion"))
                    .cloned()
                    .unwrap_or_else(|| Value::String("V1_0".into()));
                let mut c = Map::new();
                c.insert("LambdaVersion".into(), version);
                c.insert("LambdaArn".into(), Value::String(arn.to_owned()));
                obj.insert("PreTokenGenerationConfig".into(), Value::Object(c));
            }
        }
    }
    Some(config)
}

/// Claims a PreTokenGeneration trigger can neither add, override nor suppress.
pub const RESERVED_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
    "event_id",
];

/// Claims reserved in access tokens besides [`RESERVED_CLAIMS`] (the scope
/// changes through scopesToAdd / scopesToSuppress, groups through
/// groupOverrideDetails).
pub const RESERVED_ACCESS_CLAIMS: &[&str] = &[
    "client_id",
    "scope",
    "username",
    "version",
    "cognito:groups",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_members() {
        let c = json!({"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"});
        assert_eq!(
            function_of(Some(&c), Trigger::PreSignUp).as_deref(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:pre")
        );
        assert_eq!(function_of(Some(&c), Trigger::UserMigration), None);
        let versioned = json!({
            "CustomEmailSender": {"LambdaVersion": "V1_0", "LambdaArn": "arn:email"},
            "InboundFederation": {"LambdaVersion": "V1_0", "LambdaArn": "arn:inbound"},
            "CustomSMSSender": "arn:not-an-object",
        });
        assert_eq!(
            function_of(Some(&versioned), Trigger::CustomEmailSender).as_deref(),
            Some("arn:email")
        );
        assert_eq!(
            function_of(Some(&versioned), Trigger::InboundFederation).as_deref(),
            Some("arn:inbound")
        );
        assert_eq!(
            function_of(Some(&versioned), Trigger::CustomSMSSender),
            None
        );
        let legacy = normalize_lambda_config(Some(json!({"PreTokenGeneration": "arn:x"})));
        assert_eq!(
            legacy,
            Some(
                json!({"PreTokenGeneration": "arn:x", "PreTokenGenerationConfig": {"LambdaVersion": "V1_0", "LambdaArn": "arn:x"}})
            )
        );
        let v2 = normalize_lambda_config(Some(
            json!({"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": "arn:y"}}),
        ));
        assert_eq!(
            function_of(v2.as_ref(), Trigger::PreTokenGeneration).as_deref(),
            Some("arn:y")
        );
        assert_eq!(token_event_version(v2.as_ref()), TokenEventVersion::V2);
        assert_eq!(
            v2.as_ref().and_then(|c| c.get("PreTokenGeneration")),
            Some(&json!("arn:y"))
        );
    }

    #[test]
    fn errors_name_the_trigger() {
        let e = Trigger::PreSignUp.error(InvokeError::Function("no thanks".into()));
        assert_eq!(e.kind, ErrorKind::UserLambdaValidation);
        assert_eq!(e.message, "PreSignUp failed with error no thanks.");
        assert_eq!(
            Trigger::PostAuthentication.error(InvokeError::Timeout).kind,
            ErrorKind::UnexpectedLambda
        );
        assert_eq!(
            Trigger::UserMigration
                .error(InvokeError::Malformed("x".into()))
                .kind,
            ErrorKind::InvalidLambdaResponse
        );
    }
}

//! The hosted UI: `/oauth2/authorize`, `/login` and its challenge steps
//! (new password, TOTP, TOTP setup, SMS / email MFA codes, the choice of an
//! MFA method), `/signup`, `/confirm`,
//! `/forgotPassword`, `/confirmForgotPassword`, `/logout`, and `/error`
//! (where a request with an unlisted redirect URI ends). Every page
//! carries the authorization request's parameters in its URL; every form
//! is a POST with a double-submit CSRF token; a successful sign-in sets
//! the signed session cookie and answers the authorization request.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use cognate_core::model::Attribute;
use cognate_core::service::hosted::{
    AuthorizeError, AuthorizeGrant, AuthorizeRequest, HostedPoolInfo, HostedSession, HostedStep,
    ResponseType, ValidAuthorize,
};
use cognate_core::{Error, ErrorKind, UserPools};
use minijinja::{context, Value};

use crate::web::{
    add_cookie, cookie, encode_pairs, form_pairs, html, param, query_pairs, redirect, set_cookie,
    with_params, Site,
};

/// The session cookie (Cognito's name).
pub(crate) const SESSION_COOKIE: &str = "cognito";
/// The CSRF double-submit cookie; forms echo it in `_csrf`.
pub(crate) const CSRF_COOKIE: &str = "XSRF-TOKEN";
/// The sealed ticket that signs in the browser that signed up, once it confirms.
const SIGNUP_COOKIE: &str = "cognito-signup";
/// The authorization request's parameters, carried from page to page.
const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "login_hint",
];

/// A plain error page (no authorization request to carry).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = crate::templates::render(
        "error.html",
        context! {
            title => "An error was encountered with the requested page.",
            error => message,
        },
    )
    .unwrap_or_else(|_| "An error was encountered with the requested page.".to_owned());
    html(status, body)
}

/// The answer to a refused request of a page that carries an authorization
/// request. A redirect_uri the client does not list sends the browser to
/// the domain's `/error` page, as Cognito does
/// (`/error?error=redirect_mismatch&client_id=<id>`); the rest as
/// [`authorize_error`].
fn page_request_error(site: &Site, query: &[(String, String)], e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page {
            error: REDIRECT_MISMATCH,
            ..
        } => {
            let client_id = param(query, "client_id").unwrap_or_default();
            redirect(&with_params(
                &site.path("/error"),
                &[("error", REDIRECT_MISMATCH), ("client_id", client_id)],
                false,
            ))
        }
        e => authorize_error(e),
    }
}

/// The error code of a redirect_uri that is not one of the client's callback URLs.
const REDIRECT_MISMATCH: &str = "redirect_mismatch";

/// The answer to a refused authorization request: a page when there is no
/// registered redirect URI, else a redirect carrying the error.
pub(crate) fn authorize_error(e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Page { error, description } => {
            error_page(StatusCode::BAD_REQUEST, &format!("{description} ({error})"))
        }
        AuthorizeError::Redirect {
            redirect_uri,
            fragment,
            state,
            error,
        } => {
            // Cognito's order: error_description, state, error.
            let mut params = Vec::new();
            if let Some(d) = &error.description {
                params.push(("error_description", d.as_str()));
            }
            if let Some(s) = &state {
                params.push(("state", s.as_str()));
            }
            params.push(("error", error.error));
            redirect(&with_params(&redirect_uri, &params, fragment))
        }
    }
}

/// What a user sees of a failed step.
fn user_message(e: &Error) -> String {
    match e.kind {
        ErrorKind::Internal => {
            "An error was encountered with the requested page. Please try again.".to_owned()
        }
        _ => e.message.clone(),
    }
}

fn field_label(name: &str) -> String {
    let bare = name.strip_prefix("custom:").unwrap_or(name);
    let spaced = bare.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn field_type(name: &str) -> &'static str {
    match name {
        "email" => "email",
        "phone_number" => "tel",
        "birthdate" => "date",
        "website" | "picture" | "profile" => "url",
        _ => "text",
    }
}

/// `requiredAttributes[<name>]` fields of a form.
fn required_attributes(form: &[(String, String)]) -> Vec<Attribute> {
    form.iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("requiredAttributes[")?.strip_suffix(']')?;
            (!name.is_empty()).then(|| Attribute::new(name, v.trim()))
        })
        .collect()
}

fn attribute_fields(names: &[String], values: &[Attribute]) -> Vec<Value> {
    names
        .iter()
        .map(|name| {
            let value = values
                .iter()
                .find(|a| &a.name == name)
                .map(|a| a.value.clone());
            context! { name => name, label => field_label(name), input_type => field_type(name), value => value }
        })
        .collect()
}

/// One request through the hosted UI: the checked authorization request,
/// the CSRF token, and what every page shares.
struct Flow<'a> {
    svc: &'a UserPools,
    site: Site,
    headers: &'a HeaderMap,
    valid: ValidAuthorize,
    query: Vec<(String, String)>,
    /// The carried parameters, form-encoded.
    carried: String,
    csrf: String,
    /// The CSRF cookie must be (re)set with this response.
    new_csrf: bool,
}

/// The body of a page and its status.
struct View {
    template: &'static str,
    title: &'static str,
    error: Option<String>,
    info: Option<String>,
    vars: Value,
}

impl<'a> Flow<'a> {
    /// A GET: checks the authorization request.
    async fn start(
        svc: &'a UserPools,
        site: Site,
        headers: &'a HeaderMap,
        query: Option<&str>,
    ) -> Result<Flow<'a>, Response> {
        let query = query_pairs(query);
        let valid = svc
            .check_authorize(&site.pool_id, &AuthorizeRequest::from_pairs(&query))
            .await
            .map_err(|e| page_request_error(&site, &query, e))?;
        let carried_pairs: Vec<(&str, &str)> = CARRIED
            .iter()
            .filter_map(|k| param(&query, k).map(|v| (*k, v)))
            .collect();
        let carried = encode_pairs(&carried_pairs);
        let existing = cookie(headers, CSRF_COOKIE).filter(|c| {
            (20..=100).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        let (csrf, new_csrf) = match existing {
            Some(c) => (c, false),
            None => (cognate_crypto::random::base64url(32), true),
        };
        Ok(Flow {
            svc,
            site,
            headers,
            valid,
            query,
            carried,
            csrf,
            new_csrf,
        })
    }

    /// A POST: the form, with its CSRF token checked (403 otherwise), then
    /// the authorization request.
    async fn start_post(
        svc: &'a UserPools,
        site: Site,
        headers: &'a HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<(Flow<'a>, Vec<(String, String)>), Response> {
        let Some(form) = form_pairs(body) else {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "The form is not valid.",
            ));
        };
        let cookie_token = cookie(headers, CSRF_COOKIE).unwrap_or_default();
        let field = param(&form, "_csrf").unwrap_or_default();
        if cookie_token.is_empty()
            || !cognate_crypto::digest::constant_time_eq(cookie_token.as_bytes(), field.as_bytes())
        {
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "The form has expired or did not come from this site. Go back, reload the page and try again.",
            ));
        }
        let flow = Flow::start(svc, site, headers, query).await?;
        Ok((flow, form))
    }

    fn client_id(&self) -> &str {
        &self.valid.client.client_id
    }

    /// `/path?<carried>[&extra]` of this domain.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut url = self.site.path(path);
        url.push('?');
        url.push_str(&self.carried);
        if !extra.is_empty() {
            if !self.carried.is_empty() {
                url.push('&');
            }
            url.push_str(&encode_pairs(extra));
        }
        url
    }

    fn query_param(&self, name: &str) -> Option<&str> {
        param(&self.query, name)
    }

    /// Whether the domain is a managed login one (`ManagedLoginVersion`
    /// 2), whose pages honour `prompt` and `login_hint`.
    async fn managed_login(&self) -> bool {
        match self.svc.domain_of_pool(&self.site.pool_id).await {
            Ok(d) => d.is_some_and(|d| d.managed_login_version == Some(2)),
            Err(e) => {
                tracing::error!(error = %e, "domain lookup failed");
                false
            }
        }
    }

    /// The request's `prompt` on a managed login domain (`none` or `login`
    /// change what a browser gets; others are ignored).
    async fn prompt(&self) -> Option<&str> {
        let prompt = self.query_param("prompt")?;
        self.managed_login().await.then_some(prompt)
    }

    /// The browser's session, unless `prompt=login` asks for a new sign-in.
    async fn reusable_session(&self) -> Option<HostedSession> {
        if self.prompt().await == Some("login") {
            return None;
        }
        self.session().await
    }

    /// The browser's valid session for this pool, if any.
    async fn session(&self) -> Option<HostedSession> {
        let value = cookie(self.headers, SESSION_COOKIE)?;
        match self
            .svc
            .hosted_session_for_client(&self.site.pool_id, self.client_id(), &value)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "session check failed");
                None
            }
        }
    }

    /// Answers the authorization request for a signed-in browser (setting
    /// the session cookie when the sign-in is new).
    async fn finish(&self, session: &HostedSession, new_session: bool) -> Response {
        grant_response(self.svc, &self.site, &self.valid, session, new_session).await
    }

    async fn render(&self, view: View) -> Response {
        let (css_url, logo_url) =
            crate::assets::branding_urls(self.svc, &self.site.pool_id, self.client_id()).await;
        let ctx = context! {
            title => view.title,
            app_name => self.valid.client.settings.client_name.clone(),
            css_url => css_url,
            logo_url => logo_url,
            csrf => self.csrf.clone(),
            error => view.error,
            info => view.info,
            ..view.vars
        };
        let mut r = match crate::templates::render(view.template, ctx) {
            Ok(body) => html(StatusCode::OK, body),
            Err(e) => {
                tracing::error!(error = %e, template = view.template, "rendering failed");
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An error was encountered with the requested page.",
                );
            }
        };
        if self.new_csrf {
            add_cookie(
                &mut r,
                &set_cookie(&self.site, CSRF_COOKIE, &self.csrf, 86_400),
            );
        }
        r
    }

    async fn pool_info(&self) -> Result<HostedPoolInfo, Response> {
        self.svc
            .hosted_pool_info(&self.site.pool_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "pool lookup failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An error was encountered with the requested page.",
                )
            })
    }

    // ------------------------------------------------------------- pages

    async fn login_page(
        &self,
        error: Option<String>,
        info: Option<String>,
        username: &str,
    ) -> Response {
        let sign_up = self
            .pool_info()
            .await
            .map(|p| p.sign_up_allowed)
            .unwrap_or(false);
        let code_factors = match self
            .svc
            .hosted_passwordless_factors(&self.site.pool_id, self.client_id())
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "sign-in methods lookup failed");
                Vec::new()
            }
        };
        let code_buttons: Vec<Value> = code_factors
            .into_iter()
            .map(|f| {
                let label = match f {
                    "EMAIL_OTP" => "Sign in with a code by email",
                    "SMS_OTP" => "Sign in with a code by SMS",
                    _ => "Sign in with a passkey",
                };
                context! { factor => f, label => label }
            })
            .collect();
        self.render(View {
            template: "login.html",
            title: "Sign in with your username and password",
            error,
            info,
            vars: context! {
                action => self.link("/login", &[]),
                username => username,
                forgot_url => self.link("/forgotPassword", &[]),
                signup_url => sign_up.then(|| self.link("/signup", &[])),
                providers => self.provider_buttons(),
                code_action => self.link("/login/otp", &[]),
                code_buttons => code_buttons,
            },
        })
        .await
    }

    /// A button per external provider of the client (federation.rs).
    fn provider_buttons(&self) -> Vec<Value> {
        self.valid
            .client
            .settings
            .supported_identity_providers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|p| p.as_str() != "COGNITO")
            .map(|p| {
                context! { name => p, url => self.link("/oauth2/authorize", &[("identity_provider", p)]) }
            })
            .collect()
    }

    /// The page of a sign-in step, or the answer to the authorization
    /// request when the user is signed in.
    async fn step(&self, step: HostedStep, entered: &[Attribute]) -> Response {
        match step {
            HostedStep::SignedIn(session) => self.finish(&session, true).await,
            HostedStep::NewPasswordRequired {
                session,
                required_attributes,
            } => {
                self.new_password_page(None, &session, &required_attributes, entered)
                    .await
            }
            HostedStep::SoftwareTokenMfa { session } => {
                self.totp_page(None, &session, None, "").await
            }
            HostedStep::MfaSetup {
                session,
                secret,
                username,
            } => {
                self.totp_page(None, &session, Some(&secret), &username)
                    .await
            }
            HostedStep::CodeRequired {
                session,
                state,
                challenge,
                medium,
                destination,
                error,
            } => {
                self.code_page(error, &session, &state, &challenge, &medium, &destination)
                    .await
            }
            HostedStep::PasskeyRequired {
                session,
                state,
                options,
            } => self.passkey_page(&session, &state, &options).await,
            HostedStep::SelectMfaType {
                session,
                state,
                choices,
                error,
            } => {
                self.select_mfa_page(error, &session, &state, &choices)
                    .await
            }
            HostedStep::ConfirmationRequired {
                username,
                destination,
                ticket,
            } => {
                let mut r = redirect(&self.link(
                    "/confirm",
                    &[
                        ("username", &username),
                        ("destination", destination.as_deref().unwrap_or("")),
                    ],
                ));
                add_cookie(
                    &mut r,
                    &set_cookie(&self.site, SIGNUP_COOKIE, &ticket, 86_400),
                );
                r
            }
        }
    }

    async fn new_password_page(
        &self,
        error: Option<String>,
        session: &str,
        required: &[String],
        entered: &[Attribute],
    ) -> Response {
        let info = match self.pool_info().await {
            Ok(i) => i,
            Err(r) => return r,
        };
        self.render(View {
            template: "new_password.html",
            title: "Change Password",
            error,
            info: None,
            vars: context! {
                action => self.link("/login/newPassword", &[]),
                session => session,
                policy_hint => info.password_hint,
                required => attribute_fields(required, entered),
            },
        })
        .await
    }

    async fn totp_page(
        &self,
        error: Option<String>,
        session: &str,
        secret: Option<&str>,
        username: &str,
    ) -> Response {
        let app = &self.valid.client.settings.client_name;
        let otpauth_uri = secret.map(|s| {
            format!(
                "otpauth://totp/{}:{}?secret={s}&issuer={}",
                cognate_core::service::federation::percent_encode(app),
                cognate_core::service::federation::percent_encode(username),
                cognate_core::service::federation::percent_encode(app)
            )
        });
        self.render(View {
            template: "totp.html",
            title: if secret.is_some() {
                "Set up your authenticator app"
            } else {
                "Multi-factor authentication"
            },
            error,
            info: None,
            vars: context! {
                action => self.link(if secret.is_some() { "/login/mfaSetup" } else { "/login/totp" }, &[]),
                session => session,
                secret => secret,
                otpauth_uri => otpauth_uri,
            },
        })
        .await
    }

    /// The page of an SMS_MFA or EMAIL_OTP code.
    async fn code_page(
        &self,
        error: Option<String>,
        session: &str,
        state: &str,
        challenge: &str,
        medium: &str,
        destination: &str,
    ) -> Response {
        let by_sms = medium == "SMS" || challenge == "SMS_MFA";
        self.render(View {
            template: "code.html",
            title: "Multi-factor authentication",
            error,
            info: None,
            vars: context! {
                action => self.link("/login/code", &[]),
                session => session,
                state => state,
                medium_text => if by_sms { "SMS" } else { "email" },
                destination => (!destination.is_empty()).then_some(destination),
            },
        })
        .await
    }

    /// The passkey page: its script asks the browser for the passkey
    /// (`navigator.credentials.get` with `options`) and posts the answer.
    async fn passkey_page(&self, session: &str, state: &str, options: &str) -> Response {
        let mut r = self
            .render(View {
                template: "passkey.html",
                title: "Sign in with a passkey",
                error: None,
                info: None,
                vars: context! {
                    action => self.link("/login/passkey", &[]),
                    session => session,
                    state => state,
                    options => options,
                    login_url => self.link("/login", &[]),
                    script => crate::templates::PASSKEY_JS,
                },
            })
            .await;
        if r.status() == StatusCode::OK {
            if let Ok(csp) = HeaderValue::from_str(&crate::templates::PASSKEY_CSP) {
                r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            }
        }
        r
    }

    /// The SELECT_MFA_TYPE page: one choice per factor offered.
    async fn select_mfa_page(
        &self,
        error: Option<String>,
        session: &str,
        state: &str,
        choices: &[String],
    ) -> Response {
        let choices: Vec<Value> = choices
            .iter()
            .map(|c| {
                let label = match c.as_str() {
                    "SMS_MFA" => "Text message (SMS)",
                    "EMAIL_OTP" => "Email",
                    "SOFTWARE_TOKEN_MFA" => "Authenticator app",
                    other => other,
                };
                context! { value => c, label => label }
            })
            .collect();
        self.render(View {
            template: "select_mfa.html",
            title: "Choose an MFA method",
            error,
            info: None,
            vars: context! {
                action => self.link("/login/selectMfa", &[]),
                session => session,
                state => state,
                choices => choices,
            },
        })
        .await
    }

    async fn signup_page(
        &self,
        error: Option<String>,
        username: &str,
        email: &str,
        entered: &[Attribute],
    ) -> Response {
        let info = match self.pool_info().await {
            Ok(i) => i,
            Err(r) => return r,
        };
        // The client's terms documents (CreateTerms), in the page's language.
        let terms = match self
            .svc
            .hosted_terms_links(&self.site.pool_id, self.client_id(), "cognito:english")
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "reading the terms documents failed");
                None
            }
        };
        self.render(View {
            template: "signup.html",
            title: "Sign up with a new account",
            error,
            info: None,
            vars: context! {
                action => self.link("/signup", &[]),
                ask_username => !info.email_username,
                username => username,
                email => email,
                required => attribute_fields(&info.required_attributes, entered),
                policy_hint => info.password_hint,
                login_url => self.link("/login", &[]),
                terms_of_use_url => terms.as_ref().map(|t| t.0.clone()),
                privacy_policy_url => terms.as_ref().map(|t| t.1.clone()),
            },
        })
        .await
    }

    async fn confirm_page(
        &self,
        error: Option<String>,
        info: Option<String>,
        username: &str,
    ) -> Response {
        self.render(View {
            template: "confirm.html",
            title: "Confirm your account",
            error,
            info,
            vars: context! {
                action => self.link("/confirm", &[]),
                resend_action => self.link("/confirm/resend", &[]),
                username => username,
                destination => self.query_param("destination"),
            },
        })
        .await
    }

    async fn forgot_page(&self, error: Option<String>, username: &str) -> Response {
        self.render(View {
            template: "forgot.html",
            title: "Forgot your password?",
            error,
            info: None,
            vars: context! {
                action => self.link("/forgotPassword", &[]),
                username => username,
                login_url => self.link("/login", &[]),
            },
        })
        .await
    }

    async fn confirm_forgot_page(&self, error: Option<String>, username: &str) -> Response {
        let info = match self.pool_info().await {
            Ok(i) => i,
            Err(r) => return r,
        };
        self.render(View {
            template: "confirm_forgot.html",
            title: "Reset your password",
            error,
            info: None,
            vars: context! {
                action => self.link("/confirmForgotPassword", &[]),
                username => username,
                destination => self.query_param("destination"),
                policy_hint => info.password_hint,
                login_url => self.link("/login", &[]),
            },
        })
        .await
    }
}

/// Answers a checked authorization request for a signed-in browser
/// (setting the session cookie when the sign-in is new).
pub(crate) async fn grant_response(
    svc: &UserPools,
    site: &Site,
    valid: &ValidAuthorize,
    session: &HostedSession,
    new_session: bool,
) -> Response {
    let grant = match svc.authorize_grant(valid, session).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "authorization failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error was encountered with the requested page.",
            );
        }
    };
    let v = valid;
    let location = match &grant {
        AuthorizeGrant::Code(code) => {
            let mut params = vec![("code", code.as_str())];
            if let Some(s) = &v.state {
                params.push(("state", s));
            }
            with_params(&v.redirect_uri, &params, false)
        }
        AuthorizeGrant::Tokens {
            access_token,
            id_token,
            expires_in,
        } => {
            let expires = expires_in.to_string();
            let mut params = Vec::new();
            if let Some(id) = id_token {
                params.push(("id_token", id.as_str()));
            }
            params.push(("access_token", access_token));
            params.push(("token_type", "Bearer"));
            params.push(("expires_in", &expires));
            if let Some(s) = &v.state {
                params.push(("state", s));
            }
            with_params(&v.redirect_uri, &params, true)
        }
    };
    let mut r = redirect(&location);
    if new_session {
        match svc.seal_hosted_session(session).await {
            Ok(value) => add_cookie(
                &mut r,
                &set_cookie(
                    site,
                    SESSION_COOKIE,
                    &value,
                    (session.expires - session.issued) / 1000,
                ),
            ),
            Err(e) => {
                tracing::error!(error = %e, "sealing the session failed");
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An error was encountered with the requested page.",
                );
            }
        }
    }
    r
}

type Svc = State<Arc<UserPools>>;

macro_rules! flow {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return response,
        }
    };
}

/// `GET /error`: where a refused authorization request whose redirect URI
/// cannot be trusted ends (`?error=redirect_mismatch&client_id=...`). The
/// page names the error it was given; nothing else of the query is shown.
pub(crate) async fn error_get(_site: Site, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let error = param(&pairs, "error").filter(|e| !e.is_empty());
    let body = crate::templates::render(
        "error.html",
        context! {
            title => "An error was encountered with the requested page.",
            error => error,
        },
    )
    .unwrap_or_else(|_| "An error was encountered with the requested page.".to_owned());
    html(StatusCode::OK, body)
}

/// `GET /oauth2/authorize`: straight back to the client for a signed-in
/// browser, else to the login page with the same parameters. On a managed
/// login domain, `prompt=login` ignores the session and `prompt=none`
/// without one answers `error=login_required`.
pub(crate) async fn authorize(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    if let Some(session) = flow.reusable_session().await {
        return flow.finish(&session, false).await;
    }
    // Managed login's `prompt=none` without a session: back to the client.
    if flow.prompt().await == Some("none") {
        let mut params = vec![("error", "login_required")];
        if let Some(s) = &flow.valid.state {
            params.push(("state", s.as_str()));
        }
        let fragment = flow.valid.response_type == ResponseType::Token;
        return redirect(&with_params(&flow.valid.redirect_uri, &params, fragment));
    }
    // Straight to an external provider (federation.rs); COGNITO means the login page.
    let provider = flow
        .query_param("identity_provider")
        .filter(|p| !p.is_empty());
    let identifier = flow.query_param("idp_identifier").filter(|p| !p.is_empty());
    if provider.is_some_and(|p| p != "COGNITO") || (provider.is_none() && identifier.is_some()) {
        let request = CARRIED
            .iter()
            .filter_map(|k| flow.query_param(k).map(|v| ((*k).to_owned(), v.to_owned())))
            .collect();
        return crate::federation::to_provider(
            &svc,
            &flow.site,
            &headers,
            &flow.valid,
            request,
            provider,
            identifier,
        )
        .await;
    }
    redirect(&flow.link("/login", &[]))
}

/// `GET /login`.
pub(crate) async fn login_get(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    if let Some(session) = flow.reusable_session().await {
        return flow.finish(&session, false).await;
    }
    // Managed login fills the username in from `login_hint`.
    let hint = match flow.query_param("login_hint") {
        Some(h) if flow.managed_login().await => h.to_owned(),
        _ => String::new(),
    };
    let info = if flow.query_param("passwordReset").is_some() {
        Some("Your password has been reset. Sign in with your new password.".to_owned())
    } else if flow.query_param("confirmed").is_some() {
        Some("Your account is confirmed. Sign in to continue.".to_owned())
    } else {
        None
    };
    flow.login_page(None, info, &hint).await
}

/// `POST /login`: username and password.
pub(crate) async fn login_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let password = param(&form, "password").unwrap_or_default();
    match svc
        .hosted_sign_in(&flow.site.pool_id, flow.client_id(), &username, password)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) => {
            flow.login_page(Some(user_message(&e)), None, &username)
                .await
        }
    }
}

/// `POST /login/otp`: passwordless sign-in (`factor` EMAIL_OTP or SMS_OTP,
/// a one-time code sent to the user, then the code page; or WEB_AUTHN, the
/// passkey page).
pub(crate) async fn otp_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let factor = param(&form, "factor").unwrap_or_default();
    match svc
        .hosted_passwordless_sign_in(&flow.site.pool_id, flow.client_id(), &username, factor)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) => {
            flow.login_page(Some(user_message(&e)), None, &username)
                .await
        }
    }
}

/// `POST /login/passkey`: answers WEB_AUTHN with the credential the
/// passkey page's script got from the browser.
pub(crate) async fn passkey_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let state = param(&form, "state").unwrap_or_default();
    let credential = param(&form, "credential").unwrap_or_default();
    match svc
        .hosted_passkey(
            &flow.site.pool_id,
            flow.client_id(),
            session,
            state,
            credential,
        )
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `POST /login/newPassword`: answers NEW_PASSWORD_REQUIRED.
pub(crate) async fn new_password_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let new_password = param(&form, "new_password").unwrap_or_default();
    let confirm = param(&form, "confirm_password").unwrap_or_default();
    let entered = required_attributes(&form);
    let required: Vec<String> = entered.iter().map(|a| a.name.clone()).collect();
    if new_password != confirm {
        return flow
            .new_password_page(
                Some("Password does not match the confirm password.".to_owned()),
                session,
                &required,
                &entered,
            )
            .await;
    }
    match svc
        .hosted_new_password(
            &flow.site.pool_id,
            flow.client_id(),
            session,
            new_password,
            &entered,
        )
        .await
    {
        Ok(step) => flow.step(step, &entered).await,
        // A weak password or a bad attribute leaves the session usable.
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::InvalidPassword | ErrorKind::InvalidParameter
            ) =>
        {
            flow.new_password_page(Some(user_message(&e)), session, &required, &entered)
                .await
        }
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `POST /login/totp`: answers SOFTWARE_TOKEN_MFA.
pub(crate) async fn totp_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let code = param(&form, "totp_code").unwrap_or_default().trim();
    match svc
        .hosted_totp(&flow.site.pool_id, flow.client_id(), session, code)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) if matches!(e.kind, ErrorKind::CodeMismatch | ErrorKind::ExpiredCode) => {
            // The session stays usable for a few more tries (a code of a
            // time step already used waits for the next one).
            flow.totp_page(Some(user_message(&e)), session, None, "")
                .await
        }
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `POST /login/mfaSetup`: verifies the first code of a new authenticator
/// and answers MFA_SETUP.
pub(crate) async fn mfa_setup_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let code = param(&form, "totp_code").unwrap_or_default().trim();
    match svc
        .hosted_mfa_setup(&flow.site.pool_id, flow.client_id(), session, code)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::EnableSoftwareTokenMfa | ErrorKind::ExpiredCode
            ) =>
        {
            let secret = svc
                .hosted_pending_totp_secret(&flow.site.pool_id, session)
                .await
                .ok()
                .flatten();
            match secret {
                Some(secret) => {
                    flow.totp_page(Some(user_message(&e)), session, Some(&secret), "")
                        .await
                }
                None => flow.login_page(Some(user_message(&e)), None, "").await,
            }
        }
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `POST /login/code`: answers SMS_MFA or EMAIL_OTP. A wrong code shows
/// the page again (the core says so with a `CodeRequired` step); the last
/// wrong code a session takes, or a dead session, ends at the login page.
pub(crate) async fn code_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let state = param(&form, "state").unwrap_or_default();
    let code = param(&form, "code").unwrap_or_default().trim();
    match svc
        .hosted_code(&flow.site.pool_id, flow.client_id(), session, state, code)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `POST /login/selectMfa`: answers SELECT_MFA_TYPE, then the chosen
/// factor's page.
pub(crate) async fn select_mfa_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let session = param(&form, "session").unwrap_or_default();
    let state = param(&form, "state").unwrap_or_default();
    let answer = param(&form, "mfa_type").unwrap_or_default();
    match svc
        .hosted_select_mfa_type(&flow.site.pool_id, flow.client_id(), session, state, answer)
        .await
    {
        Ok(step) => flow.step(step, &[]).await,
        Err(e) => flow.login_page(Some(user_message(&e)), None, "").await,
    }
}

/// `GET /signup`.
pub(crate) async fn signup_get(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    flow.signup_page(None, "", "", &[]).await
}

/// `POST /signup`: SignUp, then the confirmation page.
pub(crate) async fn signup_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let info = flow!(flow.pool_info().await);
    let email = param(&form, "email").unwrap_or_default().trim().to_owned();
    let username = if info.email_username {
        email.clone()
    } else {
        param(&form, "username")
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let password = param(&form, "password").unwrap_or_default();
    let entered = required_attributes(&form);
    if !info.sign_up_allowed {
        return flow
            .signup_page(
                Some("SignUp is not permitted for this user pool".to_owned()),
                &username,
                &email,
                &entered,
            )
            .await;
    }
    let mut attributes = entered.clone();
    if !email.is_empty() {
        attributes.retain(|a| a.name != "email");
        attributes.push(Attribute::new("email", email.clone()));
    }
    match svc
        .hosted_sign_up(
            &flow.site.pool_id,
            flow.client_id(),
            &username,
            password,
            attributes,
        )
        .await
    {
        Ok((out, ticket)) => {
            let destination = out.delivery.map(|d| d.destination).unwrap_or_default();
            let location = if out.user_confirmed {
                flow.link("/login", &[("confirmed", "true")])
            } else {
                flow.link(
                    "/confirm",
                    &[("username", &username), ("destination", &destination)],
                )
            };
            let mut r = redirect(&location);
            add_cookie(
                &mut r,
                &set_cookie(&flow.site, SIGNUP_COOKIE, &ticket, 86_400),
            );
            r
        }
        Err(e) => {
            flow.signup_page(Some(user_message(&e)), &username, &email, &entered)
                .await
        }
    }
}

/// `GET /confirm`.
pub(crate) async fn confirm_get(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    let username = flow.query_param("username").unwrap_or_default().to_owned();
    flow.confirm_page(None, None, &username).await
}

/// `POST /confirm`: ConfirmSignUp; the browser that signed up is then
/// signed in and sent on to the client.
pub(crate) async fn confirm_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let code = param(&form, "code").unwrap_or_default().trim();
    let ticket = cookie(&headers, SIGNUP_COOKIE);
    match svc
        .hosted_confirm_sign_up(
            &flow.site.pool_id,
            flow.client_id(),
            &username,
            code,
            ticket.as_deref(),
        )
        .await
    {
        Ok(Some(session)) => {
            let mut r = flow.finish(&session, true).await;
            add_cookie(&mut r, &set_cookie(&flow.site, SIGNUP_COOKIE, "", 0));
            r
        }
        Ok(None) => redirect(&flow.link("/login", &[("confirmed", "true")])),
        Err(e) => {
            flow.confirm_page(Some(user_message(&e)), None, &username)
                .await
        }
    }
}

/// `POST /confirm/resend`: ResendConfirmationCode.
pub(crate) async fn confirm_resend_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    match svc
        .hosted_resend_code(&flow.site.pool_id, flow.client_id(), &username)
        .await
    {
        Ok(d) => {
            let info = format!("We have sent a new code by email to {}.", d.destination);
            flow.confirm_page(None, Some(info), &username).await
        }
        Err(e) => {
            flow.confirm_page(Some(user_message(&e)), None, &username)
                .await
        }
    }
}

/// `GET /forgotPassword`.
pub(crate) async fn forgot_get(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    flow.forgot_page(None, "").await
}

/// `POST /forgotPassword`: ForgotPassword, then the reset page.
pub(crate) async fn forgot_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if username.is_empty() {
        return flow
            .forgot_page(Some("Username cannot be empty".to_owned()), "")
            .await;
    }
    match svc
        .hosted_forgot_password(&flow.site.pool_id, flow.client_id(), &username)
        .await
    {
        Ok(d) => redirect(&flow.link(
            "/confirmForgotPassword",
            &[("username", &username), ("destination", &d.destination)],
        )),
        Err(e) => flow.forgot_page(Some(user_message(&e)), &username).await,
    }
}

/// `GET /confirmForgotPassword`.
pub(crate) async fn confirm_forgot_get(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    let username = flow.query_param("username").unwrap_or_default().to_owned();
    flow.confirm_forgot_page(None, &username).await
}

/// `POST /confirmForgotPassword`: ConfirmForgotPassword, then the login page.
pub(crate) async fn confirm_forgot_post(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (flow, form) = flow!(Flow::start_post(&svc, site, &headers, query.as_deref(), &body).await);
    let username = param(&form, "username")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let code = param(&form, "code").unwrap_or_default().trim();
    let password = param(&form, "password").unwrap_or_default();
    let confirm = param(&form, "confirm_password").unwrap_or_default();
    if password != confirm {
        return flow
            .confirm_forgot_page(
                Some("Password does not match the confirm password.".to_owned()),
                &username,
            )
            .await;
    }
    match svc
        .hosted_confirm_forgot_password(
            &flow.site.pool_id,
            flow.client_id(),
            &username,
            code,
            password,
        )
        .await
    {
        Ok(()) => redirect(&flow.link("/login", &[("passwordReset", "true")])),
        Err(e) => {
            flow.confirm_forgot_page(Some(user_message(&e)), &username)
                .await
        }
    }
}

/// `GET /logout`: ends the session; then to `logout_uri` (one of the
/// client's sign-out URLs) or, with `redirect_uri` and `response_type`,
/// back to the login page.
pub(crate) async fn logout(
    State(svc): Svc,
    site: Site,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    let mut session = None;
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        // The session is read first: one that came from a SAML provider
        // may be signed out there too.
        session = svc
            .hosted_session(&site.pool_id, &value)
            .await
            .ok()
            .flatten();
        if let Err(e) = svc.hosted_logout(&site.pool_id, &value).await {
            tracing::error!(error = %e, "logout failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An error was encountered with the requested page.",
            );
        }
    }
    let clear = set_cookie(&site, SESSION_COOKIE, "", 0);
    let client_id = param(&pairs, "client_id").unwrap_or_default();
    if let Some(logout_uri) = param(&pairs, "logout_uri") {
        return match svc
            .hosted_logout_uri_allowed(&site.pool_id, client_id, logout_uri)
            .await
        {
            Ok(true) => {
                let at_provider = match &session {
                    Some(s) => svc.saml_logout_begin(s, client_id, logout_uri).await,
                    None => Ok(None),
                };
                let target = match at_provider {
                    Ok(url) => url.unwrap_or_else(|| logout_uri.to_owned()),
                    Err(e) => {
                        tracing::error!(error = %e, "SAML sign-out failed");
                        logout_uri.to_owned()
                    }
                };
                let mut r = redirect(&target);
                add_cookie(&mut r, &clear);
                r
            }
            Ok(false) => error_page(
                StatusCode::BAD_REQUEST,
                "The logout_uri is not one of the client's sign-out URLs, or the client does not exist.",
            ),
            Err(e) => {
                tracing::error!(error = %e, "logout failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An error was encountered with the requested page.",
                )
            }
        };
    }
    if param(&pairs, "redirect_uri").is_none() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "A logout_uri, or a redirect_uri and a response_type, is required.",
        );
    }
    let flow = flow!(Flow::start(&svc, site, &headers, query.as_deref()).await);
    let mut r = redirect(&flow.link("/login", &[]));
    add_cookie(&mut r, &clear);
    r
}

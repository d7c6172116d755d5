//! A small browser for the hosted-UI tests: a cookie jar, no automatic
//! redirects, and just enough HTML reading to fill in and submit the
//! pages' forms the way a person's browser would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use sha2::Digest;

use crate::common::Server;

pub const POOL: &str = "us-east-1_HostedUi1";
pub const DOMAIN: &str = "hosted-test";
pub const WEB: &str = "webapp1";
pub const CONFIDENTIAL: &str = "secretapp1";
pub const CONFIDENTIAL_SECRET: &str = "confidentialsecret000000000000001";
pub const CODE_ONLY: &str = "codeonly1";
pub const CALLBACK: &str = "http://localhost:3000/callback";
pub const SIGNED_OUT: &str = "http://localhost:3000/signed-out";
pub const READ: &str = "https://api.example.com/read";
/// The User-Agent of the test browser.
pub const BROWSER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

pub fn config() -> String {
    format!(
        r#"
# Cognito's lockout, with a first lock long enough that a loaded machine
# cannot outwait it between two requests of a test.
lockout: {{first_lock_seconds: 600, max_lock_seconds: 900}}
pools:
  - id: {POOL}
    name: hosted
    domain: {DOMAIN}
    auto_verified_attributes: [email]
    resource_servers:
      - identifier: https://api.example.com
        name: api
        scopes:
          - {{name: read, description: Read}}
    clients:
      - id: {WEB}
        name: Web App
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [code, implicit]
        allowed_oauth_scopes: [openid, email, profile, {READ}, aws.cognito.signin.user.admin]
        callback_urls: [{CALLBACK}, "https://app.example.com/cb?tenant=1"]
        logout_urls: [{SIGNED_OUT}]
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
      - id: {CONFIDENTIAL}
        name: Confidential
        secret: {CONFIDENTIAL_SECRET}
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [code]
        allowed_oauth_scopes: [openid, email]
        callback_urls: [{CALLBACK}]
      - id: {CODE_ONLY}
        name: Code only
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [code]
        allowed_oauth_scopes: [openid]
        callback_urls: [{CALLBACK}]
    users:
      - username: alice
        password: Passw0rd!
        attributes: {{email: alice@example.com, email_verified: "true", name: Alice}}
"#
    )
}

pub fn start() -> Server {
    Server::start_with_config(&config())
}

/// A response as a browser sees it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    /// The URL the request went to (forms with relative actions resolve against it).
    pub url: String,
}

impl Page {
    /// The text of the element with `id="errorMessage"`, if any.
    pub fn error(&self) -> Option<String> {
        element_text(&self.body, "errorMessage")
    }

    pub fn info(&self) -> Option<String> {
        element_text(&self.body, "infoMessage")
    }

    /// The redirect target's query (or fragment) parameters.
    pub fn redirect_params(&self) -> BTreeMap<String, String> {
        let loc = self
            .location
            .as_deref()
            .unwrap_or_else(|| panic!("no redirect: {} {}", self.status, self.body));
        let part = loc
            .split_once('#')
            .map(|(_, f)| f)
            .or_else(|| loc.split_once('?').map(|(_, q)| q))
            .unwrap_or("");
        serde_urlencoded::from_str(part).unwrap()
    }

    pub fn cookie_attrs(&self, name: &str) -> Option<String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .cloned()
    }
}

/// Text inside the element carrying `id="<id>"`.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(unescape(html[start..end].trim()))
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

/// The form containing a submit button named `button`: its action and
/// hidden fields.
pub fn form(html: &str, button: &str) -> (String, Vec<(String, String)>) {
    let mut rest = html;
    while let Some(at) = rest.find("<form") {
        let chunk = &rest[at..];
        let end = chunk.find("</form>").expect("form closes");
        let form = &chunk[..end];
        if form.contains(&format!("name=\"{button}\"")) {
            let open_end = form.find('>').unwrap();
            let action = attr(&form[..open_end], "action").expect("form action");
            assert!(
                attr(&form[..open_end], "method").as_deref() == Some("post"),
                "forms post"
            );
            let mut hidden = Vec::new();
            let mut inputs = form;
            while let Some(i) = inputs.find("<input") {
                let tag_end = inputs[i..].find('>').unwrap() + i;
                let tag = &inputs[i..tag_end];
                if attr(tag, "type").as_deref() == Some("hidden") {
                    hidden.push((
                        attr(tag, "name").unwrap(),
                        attr(tag, "value").unwrap_or_default(),
                    ));
                }
                inputs = &inputs[tag_end..];
            }
            return (action, hidden);
        }
        rest = &chunk[end..];
    }
    panic!("no form with button {button} in:\n{html}");
}

/// A browser: keeps cookies (by name; the tests stay on one domain) and
/// never follows redirects by itself.
pub struct Browser {
    http: reqwest::blocking::Client,
    pub origin: String,
    pub cookies: BTreeMap<String, String>,
    /// Sent as the Host header (domain by host name).
    pub host: Option<String>,
    /// Sent as X-Forwarded-For (a server that trusts it sees this address).
    pub forwarded_for: Option<String>,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser {
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .user_agent(BROWSER_AGENT)
                .build()
                .unwrap(),
            origin: server.url.clone(),
            cookies: BTreeMap::new(),
            host: None,
            forwarded_for: None,
        }
    }

    /// The domain's base URL under the path prefix.
    pub fn base(&self) -> String {
        format!("{}/domains/{DOMAIN}", self.origin)
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", self.origin)
        }
    }

    fn send(&mut self, req: reqwest::blocking::RequestBuilder, url: String) -> Page {
        let mut req = req;
        if !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("Cookie", header);
        }
        if let Some(h) = &self.host {
            req = req.header("Host", h);
        }
        if let Some(ip) = &self.forwarded_for {
            req = req.header("X-Forwarded-For", ip);
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = r.text().unwrap();
        Page {
            status,
            location,
            set_cookies,
            headers,
            body,
            url,
        }
    }

    pub fn get(&mut self, url: &str) -> Page {
        let url = self.absolute(url);
        let req = self.http.get(&url);
        self.send(req, url)
    }

    pub fn post(&mut self, url: &str, fields: &[(String, String)]) -> Page {
        let url = self.absolute(url);
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = self
            .http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req, url)
    }

    /// Fills the form of `page` that has the button `button` with
    /// `fields` (its hidden fields kept) and submits it.
    pub fn submit(&mut self, page: &Page, button: &str, fields: &[(&str, &str)]) -> Page {
        let (action, mut all) = form(&page.body, button);
        for (k, v) in fields {
            all.retain(|(name, _)| name != k);
            all.push(((*k).to_owned(), (*v).to_owned()));
        }
        self.post(&action, &all)
    }

    /// Follows one redirect within the server (not to the client's callback).
    pub fn follow(&mut self, page: &Page) -> Page {
        let loc = page.location.clone().expect("a redirect");
        assert!(
            !loc.starts_with("http://localhost:3000"),
            "would leave for the client: {loc}"
        );
        self.get(&loc)
    }

    /// `/oauth2/authorize` with these parameters (client, redirect and
    /// response type default to the web client's code flow).
    pub fn authorize(&mut self, params: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![];
        for (k, v) in [
            ("response_type", "code"),
            ("client_id", WEB),
            ("redirect_uri", CALLBACK),
        ] {
            if !params.iter().any(|(pk, _)| *pk == k) {
                all.push((k, v));
            }
        }
        all.extend(params.iter().filter(|(_, v)| !v.is_empty()).copied());
        let q = serde_urlencoded::to_string(&all).unwrap();
        let base = if self.host.is_some() {
            self.origin.clone()
        } else {
            self.base()
        };
        self.get(&format!("{base}/oauth2/authorize?{q}"))
    }

    /// Authorize, then sign in on the login page; returns the last response.
    pub fn sign_in(&mut self, params: &[(&str, &str)], username: &str, password: &str) -> Page {
        let r = self.authorize(params);
        assert_eq!(r.status, 302, "{}", r.body);
        let login = self.follow(&r);
        assert_eq!(login.status, 200, "{}", login.body);
        self.submit(
            &login,
            "signInSubmitButton",
            &[("username", username), ("password", password)],
        )
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", "0123456789abcdefghijklmnopqrstuvwxyz-._~ABCDEFG");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `POST {base}/oauth2/token` with a form; optional Basic auth.
pub fn token(server: &Server, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut req = server
        .http()
        .post(format!("{}/domains/{DOMAIN}/oauth2/token", server.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// OIDC `at_hash` of an access token.
pub fn at_hash(access_token: &str) -> String {
    let d = sha2::Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d[..16])
}

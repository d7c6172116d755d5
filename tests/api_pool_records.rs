//! Records a pool keeps besides its settings, over HTTP against the real
//! server: identity providers (and app clients' SupportedIdentityProviders),
//! tags, the signing certificate, log delivery and risk configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::{merge, password_flows, secret_hash, Server, PASSWORD};
use serde_json::{json, Value};

fn google(pool: &str) -> Value {
    json!({
        "UserPoolId": pool, "ProviderName": "Google", "ProviderType": "Google",
        "ProviderDetails": {"client_id": "gid", "client_secret": "gsecret", "authorize_scopes": "email openid"},
        "AttributeMapping": {"email": "email"},
        "IdpIdentifiers": ["gmail.com"],
    })
}

fn oidc(pool: &str, name: &str) -> Value {
    json!({
        "UserPoolId": pool, "ProviderName": name, "ProviderType": "OIDC",
        "ProviderDetails": {"client_id": "c", "attributes_request_method": "GET",
                            "oidc_issuer": "https://idp.example.com", "authorize_scopes": "openid"},
    })
}

/// A SAML provider's metadata is read when it is created or updated (from
/// MetadataFile, or fetched from MetadataURL): its HTTP-Redirect endpoints
/// become SSORedirectBindingURI / SLORedirectBindingURI, and the provider
/// gets an encryption certificate of its own, kept across updates; bad
/// metadata is refused with AWS's texts.
#[test]
fn saml_providers_read_their_metadata() {
    use axum::routing::get;
    let served = common::background::Background::serve(
        axum::Router::new()
            .route("/metadata", get(|| async { common::SAML_METADATA }))
            .route(
                "/sp-only",
                get(|| async {
                    r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><SPSSODescriptor/></EntityDescriptor>"#
                }),
            ),
    );
    let s = Server::start();
    let pool = s.create_pool("saml", json!({}));
    let saml = |details: Value| {
        json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "SAML",
               "ProviderDetails": details})
    };
    let refused = |details: Value, message: &str| {
        let (status, v) = s.call("CreateIdentityProvider", saml(details));
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["__type"], "InvalidParameterException", "{v}");
        assert_eq!(v["message"], message, "{v}");
    };
    refused(
        json!({"IDPSignout": "true"}),
        "At least one of the MetadataURL or MetadataFile should be provided.",
    );
    refused(
        json!({"MetadataFile": "<html/>"}),
        "Unable to unmarshall metadata",
    );
    refused(
        json!({"MetadataFile": common::SAML_METADATA.replace("HTTP-Redirect\" Location=\"https://idp.example.com/sso", "HTTP-Artifact\" Location=\"https://idp.example.com/sso")}),
        "No SingleSignOn Http redirect binding location found in metadata.",
    );
    let missing = format!("{}/nothing-here", served.url);
    refused(
        json!({"MetadataURL": missing}),
        &format!("Non-ok status code 404 returned from remote metadata source {missing}"),
    );
    refused(
        json!({"MetadataURL": format!("{}/sp-only", served.url)}),
        "Unable to unmarshall metadata",
    );

    let url = format!("{}/metadata", served.url);
    let created = s.ok(
        "CreateIdentityProvider",
        saml(json!({"MetadataURL": url, "IDPSignout": "true"})),
    )["IdentityProvider"]
        .clone();
    let d = &created["ProviderDetails"];
    assert_eq!(d["MetadataURL"], url.as_str());
    assert_eq!(d["IDPSignout"], "true");
    assert_eq!(
        d["SSORedirectBindingURI"],
        "https://idp.example.com/sso/saml"
    );
    assert_eq!(
        d["SLORedirectBindingURI"],
        "https://idp.example.com/slo/saml"
    );
    let certificate = d["ActiveEncryptionCertificate"]
        .as_str()
        .unwrap()
        .to_owned();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&certificate)
        .unwrap();
    x509_parser::parse_x509_certificate(&der).unwrap();
    let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ActiveEncryptionCertificate",
            "IDPSignout",
            "MetadataURL",
            "SLORedirectBindingURI",
            "SSORedirectBindingURI"
        ],
        "no hidden detail is shown"
    );
    assert_eq!(
        s.ok(
            "DescribeIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Corp"})
        )["IdentityProvider"]["ProviderDetails"],
        *d
    );

    // New metadata without a logout service: the URIs follow it, the
    // certificate stays.
    let no_logout = common::SAML_METADATA
        .lines()
        .filter(|l| !l.contains("SingleLogoutService"))
        .collect::<Vec<_>>()
        .join("\n");
    let updated = s.ok(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp",
               "ProviderDetails": {"MetadataFile": no_logout}}),
    )["IdentityProvider"]["ProviderDetails"]
        .clone();
    assert_eq!(
        updated["SSORedirectBindingURI"],
        "https://idp.example.com/sso/saml"
    );
    assert!(updated.get("SLORedirectBindingURI").is_none(), "{updated}");
    assert_eq!(updated["ActiveEncryptionCertificate"], certificate.as_str());
    // An update with bad metadata changes nothing.
    let (status, _) = s.call(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp",
               "ProviderDetails": {"MetadataFile": "garbage"}}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        s.ok(
            "DescribeIdentityProvider",
            json!({"UserPoolId": pool, "ProviderName": "Corp"})
        )["IdentityProvider"]["ProviderDetails"],
        updated
    );
}

#[test]
fn identity_providers_create_describe_update_list_delete() {
    let s = Server::start();
    let pool = s.create_pool("idps", json!({}));

    let created = s.ok("CreateIdentityProvider", google(&pool))["IdentityProvider"].clone();
    assert_eq!(created["UserPoolId"], pool.as_str());
    assert_eq!(created["ProviderName"], "Google");
    assert_eq!(created["ProviderType"], "Google");
    assert!(created["CreationDate"].is_number());
    assert!(created["LastModifiedDate"].is_number());
    let d = &created["ProviderDetails"];
    assert_eq!(d["client_id"], "gid");
    assert_eq!(d["client_secret"], "gsecret");
    // The details Cognito adds for Google.
    assert_eq!(
        d["authorize_url"],
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    assert_eq!(d["token_url"], "https://www.googleapis.com/oauth2/v4/token");
    assert_eq!(d["oidc_issuer"], "https://accounts.google.com");
    assert_eq!(d["token_request_method"], "POST");
    assert_eq!(created["AttributeMapping"]["email"], "email");
    assert_eq!(created["AttributeMapping"]["username"], "sub");
    assert_eq!(created["IdpIdentifiers"], json!(["gmail.com"]));

    let described = s.ok(
        "DescribeIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google"}),
    )["IdentityProvider"]
        .clone();
    assert_eq!(described, created);
    let by_id = s.ok(
        "GetIdentityProviderByIdentifier",
        json!({"UserPoolId": pool, "IdpIdentifier": "gmail.com"}),
    );
    assert_eq!(by_id["IdentityProvider"]["ProviderName"], "Google");

    // Apple: its private key is kept but never shown, and survives an update without it.
    let apple = s.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "SignInWithApple", "ProviderType": "SignInWithApple",
               "ProviderDetails": {"client_id": "com.example", "team_id": "T", "key_id": "K",
                                   "private_key": "PRIVATE", "authorize_scopes": "email name"}}),
    )["IdentityProvider"]
        .clone();
    assert!(apple["ProviderDetails"].get("private_key").is_none());
    assert_eq!(
        apple["ProviderDetails"]["token_url"],
        "https://appleid.apple.com/auth/token"
    );
    let updated = s.ok(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "SignInWithApple",
               "ProviderDetails": {"client_id": "com.example2", "team_id": "T", "key_id": "K2",
                                   "authorize_scopes": "email"}}),
    )["IdentityProvider"]
        .clone();
    assert_eq!(updated["ProviderDetails"]["client_id"], "com.example2");
    assert!(updated["ProviderDetails"].get("private_key").is_none());
    assert_eq!(updated["CreationDate"], apple["CreationDate"]);

    // Update of identifiers and mapping.
    let g2 = s.ok(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "IdpIdentifiers": ["googlemail.com"],
               "AttributeMapping": {"name": "name"}}),
    )["IdentityProvider"]
        .clone();
    assert_eq!(g2["IdpIdentifiers"], json!(["googlemail.com"]));
    assert_eq!(g2["AttributeMapping"]["name"], "name");
    assert_eq!(g2["ProviderDetails"]["client_id"], "gid");
    s.err(
        "GetIdentityProviderByIdentifier",
        json!({"UserPoolId": pool, "IdpIdentifier": "gmail.com"}),
        "ResourceNotFoundException",
    );

    // SAML and Facebook.
    s.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "SAML",
               "ProviderDetails": {"MetadataFile": common::SAML_METADATA}}),
    );
    let fb = s.ok(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Facebook", "ProviderType": "Facebook",
               "ProviderDetails": {"client_id": "f", "client_secret": "s", "authorize_scopes": "email",
                                   "api_version": "v18.0"}}),
    )["IdentityProvider"]
        .clone();
    assert_eq!(
        fb["ProviderDetails"]["authorize_url"],
        "https://www.facebook.com/v18.0/dialog/oauth"
    );

    // Paging: names in order, two at a time.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"UserPoolId": pool, "MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = s.ok("ListIdentityProviders", body);
        let providers = page["Providers"].as_array().unwrap();
        assert!(providers.len() <= 2);
        for p in providers {
            assert!(p["ProviderType"].is_string() && p["CreationDate"].is_number());
            assert!(p.get("ProviderDetails").is_none());
            names.push(p["ProviderName"].as_str().unwrap().to_owned());
        }
        match page.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(names, ["Corp", "Facebook", "Google", "SignInWithApple"]);
    let all = s.ok("ListIdentityProviders", json!({"UserPoolId": pool}));
    assert_eq!(all["Providers"].as_array().unwrap().len(), 4);
    assert!(all.get("NextToken").is_none());
    s.err(
        "ListIdentityProviders",
        json!({"UserPoolId": pool, "NextToken": "!!bad!!"}),
        "InvalidParameterException",
    );

    s.ok(
        "DeleteIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp"}),
    );
    s.err(
        "DescribeIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp"}),
        "ResourceNotFoundException",
    );
    s.err(
        "DeleteIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp"}),
        "ResourceNotFoundException",
    );
}

#[test]
fn identity_provider_errors() {
    let s = Server::start();
    let pool = s.create_pool("idp-errors", json!({}));
    let missing = "us-east-1_NoSuchPool1";
    s.err_msg(
        "CreateIdentityProvider",
        google(missing),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
    s.err(
        "DescribeIdentityProvider",
        json!({"UserPoolId": missing, "ProviderName": "Google"}),
        "ResourceNotFoundException",
    );
    s.err(
        "ListIdentityProviders",
        json!({"UserPoolId": missing}),
        "ResourceNotFoundException",
    );
    // Required details per type.
    let mut no_secret = google(&pool);
    no_secret["ProviderDetails"] = json!({"client_id": "a", "authorize_scopes": "email"});
    s.err_msg(
        "CreateIdentityProvider",
        no_secret,
        "InvalidParameterException",
        "client_id, client_secret and authorize_scopes are all required idp details",
    );
    let mut no_issuer = oidc(&pool, "MyOidc");
    no_issuer["ProviderDetails"]
        .as_object_mut()
        .unwrap()
        .remove("oidc_issuer");
    s.err(
        "CreateIdentityProvider",
        no_issuer,
        "InvalidParameterException",
    );
    s.err(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Corp", "ProviderType": "SAML", "ProviderDetails": {}}),
        "InvalidParameterException",
    );
    s.err(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "SignInWithApple", "ProviderType": "SignInWithApple",
               "ProviderDetails": {"client_id": "a", "team_id": "t", "key_id": "k", "authorize_scopes": "email"}}),
        "InvalidParameterException",
    );
    // A social provider is named after its type.
    let mut misnamed = google(&pool);
    misnamed["ProviderName"] = json!("NameOfGP");
    s.err_msg(
        "CreateIdentityProvider",
        misnamed,
        "InvalidParameterException",
        "Provider NameOfGP cannot be of type Google.",
    );
    // The model's constraints come first.
    let mut bad_type = google(&pool);
    bad_type["ProviderType"] = json!("Twitter");
    let m = s.err(
        "CreateIdentityProvider",
        bad_type,
        "InvalidParameterException",
    );
    assert!(
        m.contains(
            "at 'providerType' failed to satisfy constraint: Member must satisfy enum value set"
        ),
        "{m}"
    );
    let m = s.err(
        "CreateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "ProviderType": "Google"}),
        "InvalidParameterException",
    );
    assert!(m.contains("Value null at 'providerDetails'"), "{m}");

    // A taken name or identifier.
    s.ok("CreateIdentityProvider", google(&pool));
    let m = s.err(
        "CreateIdentityProvider",
        google(&pool),
        "DuplicateProviderException",
    );
    assert_eq!(m, format!("Google already exists in user pool {pool}"));
    let mut same_identifier = oidc(&pool, "MyOidc");
    same_identifier["IdpIdentifiers"] = json!(["gmail.com"]);
    s.err(
        "CreateIdentityProvider",
        same_identifier,
        "DuplicateProviderException",
    );
    s.err(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Nope"}),
        "ResourceNotFoundException",
    );
    s.err(
        "UpdateIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google", "ProviderDetails": {"client_id": "x"}}),
        "InvalidParameterException",
    );
}

#[test]
fn app_clients_name_configured_providers_only() {
    let s = Server::start();
    let pool = s.create_pool("clients-idps", json!({}));
    s.err_msg(
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "web", "SupportedIdentityProviders": ["COGNITO", "Google"]}),
        "InvalidParameterException",
        &format!("The provider Google does not exist for User Pool {pool}."),
    );
    s.ok("CreateIdentityProvider", google(&pool));
    let client = s.create_client_full(
        &pool,
        json!({"SupportedIdentityProviders": ["COGNITO", "Google"]}),
    );
    assert_eq!(
        client["SupportedIdentityProviders"],
        json!(["Google", "COGNITO"])
    );
    let id = client["ClientId"].as_str().unwrap();
    s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "SupportedIdentityProviders": ["Okta"]}),
        "InvalidParameterException",
    );
    // Deleting the provider leaves the client's list as it was; an update
    // that still names it is refused, one without it succeeds.
    s.ok(
        "DeleteIdentityProvider",
        json!({"UserPoolId": pool, "ProviderName": "Google"}),
    );
    let after = s.ok(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id}),
    );
    assert_eq!(
        after["UserPoolClient"]["SupportedIdentityProviders"],
        json!(["Google", "COGNITO"])
    );
    s.err(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "SupportedIdentityProviders": ["COGNITO", "Google"]}),
        "InvalidParameterException",
    );
    s.ok(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": id, "SupportedIdentityProviders": ["COGNITO"]}),
    );
}

#[test]
fn tags_share_user_pool_tags() {
    let s = Server::start();
    let v = s.ok(
        "CreateUserPool",
        json!({"PoolName": "tagged", "UserPoolTags": {"team": "a"}}),
    );
    let pool = v["UserPool"]["Id"].as_str().unwrap().to_owned();
    let arn = v["UserPool"]["Arn"].as_str().unwrap().to_owned();
    assert_eq!(
        s.ok("ListTagsForResource", json!({"ResourceArn": arn}))["Tags"],
        json!({"team": "a"})
    );
    s.ok(
        "TagResource",
        json!({"ResourceArn": arn, "Tags": {"env": "test", "team": "b"}}),
    );
    assert_eq!(
        s.ok("ListTagsForResource", json!({"ResourceArn": arn}))["Tags"],
        json!({"env": "test", "team": "b"})
    );
    let described = s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["UserPoolTags"],
        json!({"env": "test", "team": "b"})
    );
    // An UpdateUserPool that does not name the tags keeps them.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "MfaConfiguration": "OFF"}),
    );
    s.ok(
        "UntagResource",
        json!({"ResourceArn": arn, "TagKeys": ["team", "absent"]}),
    );
    assert_eq!(
        s.ok("ListTagsForResource", json!({"ResourceArn": arn}))["Tags"],
        json!({"env": "test"})
    );
    // UpdateUserPool with UserPoolTags replaces them.
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "UserPoolTags": {"only": "this"}}),
    );
    assert_eq!(
        s.ok("ListTagsForResource", json!({"ResourceArn": arn}))["Tags"],
        json!({"only": "this"})
    );

    let missing = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_NoSuchPool1";
    s.err_msg(
        "TagResource",
        json!({"ResourceArn": missing, "Tags": {"a": "b"}}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
    s.err(
        "ListTagsForResource",
        json!({"ResourceArn": missing}),
        "ResourceNotFoundException",
    );
    s.err(
        "UntagResource",
        json!({"ResourceArn": missing, "TagKeys": ["a"]}),
        "ResourceNotFoundException",
    );
    // Another account's ARN names no pool here.
    s.err(
        "ListTagsForResource",
        json!({"ResourceArn": arn.replace("000000000000", "111111111111")}),
        "ResourceNotFoundException",
    );
    // Well-formed for the model, but no user pool ARN.
    s.err(
        "ListTagsForResource",
        json!({"ResourceArn": "arn:aws:s3:us-east-1:000000000000:bucket/x"}),
        "InvalidParameterException",
    );
    // Malformed for the model.
    let m = s.err(
        "ListTagsForResource",
        json!({"ResourceArn": "not-an-arn-at-all-really"}),
        "InvalidParameterException",
    );
    assert!(m.contains("at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{m}");
    // At most 50 tags.
    let many: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    s.err(
        "TagResource",
        json!({"ResourceArn": arn, "Tags": many}),
        "InvalidParameterException",
    );
}

#[test]
fn signing_certificate_is_over_the_published_key() {
    let s = Server::start();
    let pool = s.create_pool("cert", json!({}));
    let v = s.ok("GetSigningCertificate", json!({"UserPoolId": pool}));
    let text = v["Certificate"].as_str().unwrap();
    assert!(!text.contains("BEGIN") && !text.contains('\n'));
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    let (rest, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(rest.is_empty());
    assert_eq!(cert.subject().to_string(), format!("CN={pool}"), "subject");
    assert_eq!(cert.subject(), cert.issuer(), "self-signed");
    let validity = cert.validity();
    let years = (validity.not_after.timestamp() - validity.not_before.timestamp()) / (365 * 86_400);
    assert_eq!(years, 10);
    let x509_parser::public_key::PublicKey::RSA(rsa) = cert.public_key().parsed().unwrap() else {
        panic!("not an RSA key");
    };
    let strip = |b: &[u8]| {
        b.iter()
            .skip_while(|x| **x == 0)
            .copied()
            .collect::<Vec<u8>>()
    };
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(strip(rsa.modulus));
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(strip(rsa.exponent));
    let jwks: Value = s
        .http()
        .get(format!("{}/{pool}/.well-known/jwks.json", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["n"] == n.as_str() && k["e"] == e.as_str()),
        "the certificate's key is not in {jwks}"
    );
    // The signature verifies with the certificate's own key.
    cert.verify_signature(None).unwrap();
    // The same key gives the same certificate.
    let again = s.ok("GetSigningCertificate", json!({"UserPoolId": pool}));
    assert_eq!(again["Certificate"], v["Certificate"]);
    s.err_msg(
        "GetSigningCertificate",
        json!({"UserPoolId": "us-east-1_NoSuchPool1"}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
}

#[test]
fn log_delivery_configuration_is_stored() {
    let s = Server::start();
    let pool = s.create_pool("logs", json!({}));
    let empty = s.ok("GetLogDeliveryConfiguration", json!({"UserPoolId": pool}));
    // Nothing set: LogConfigurations is left out, as AWS does.
    assert_eq!(
        empty["LogDeliveryConfiguration"],
        json!({"UserPoolId": pool})
    );
    let group = "arn:aws:logs:us-east-1:000000000000:log-group:cognito";
    let set = s.ok(
        "SetLogDeliveryConfiguration",
        json!({"UserPoolId": pool, "LogConfigurations": [
            {"LogLevel": "ERROR", "EventSource": "userNotification",
             "CloudWatchLogsConfiguration": {"LogGroupArn": group}},
            {"LogLevel": "INFO", "EventSource": "userAuthEvents",
             "CloudWatchLogsConfiguration": {"LogGroupArn": group}},
        ]}),
    );
    let got = s.ok("GetLogDeliveryConfiguration", json!({"UserPoolId": pool}));
    assert_eq!(got, set);
    assert_eq!(
        got["LogDeliveryConfiguration"]["LogConfigurations"][0],
        json!({"LogLevel": "ERROR", "EventSource": "userNotification",
               "CloudWatchLogsConfiguration": {"LogGroupArn": group}})
    );
    // Any level to any destination, on any plan (AWS accepts what the
    // Terraform provider's acceptance tests send: INFO notifications, and
    // ERROR auth events to Firehose on an Essentials pool).
    s.ok(
        "SetLogDeliveryConfiguration",
        json!({"UserPoolId": pool, "LogConfigurations": [
            {"LogLevel": "INFO", "EventSource": "userNotification",
             "CloudWatchLogsConfiguration": {"LogGroupArn": group}},
            {"LogLevel": "ERROR", "EventSource": "userAuthEvents",
             "FirehoseConfiguration": {"StreamArn": "arn:aws:firehose:us-east-1:000000000000:deliverystream/s"}}]}),
    );
    // One destination each.
    s.err(
        "SetLogDeliveryConfiguration",
        json!({"UserPoolId": pool, "LogConfigurations": [
            {"LogLevel": "ERROR", "EventSource": "userNotification"}]}),
        "InvalidParameterException",
    );
    // The model: at most two configurations, enums.
    let m = s.err(
        "SetLogDeliveryConfiguration",
        json!({"UserPoolId": pool, "LogConfigurations": [
            {"LogLevel": "WARN", "EventSource": "userNotification"}]}),
        "InvalidParameterException",
    );
    assert!(m.contains("logConfigurations.1.member.logLevel"), "{m}");
    s.err(
        "GetLogDeliveryConfiguration",
        json!({"UserPoolId": "us-east-1_NoSuchPool1"}),
        "ResourceNotFoundException",
    );
    // Setting an empty list clears the destinations.
    s.ok(
        "SetLogDeliveryConfiguration",
        json!({"UserPoolId": pool, "LogConfigurations": []}),
    );
    assert_eq!(
        s.ok("GetLogDeliveryConfiguration", json!({"UserPoolId": pool}))
            ["LogDeliveryConfiguration"],
        json!({"UserPoolId": pool})
    );
}

#[test]
fn risk_configuration_per_pool_and_client() {
    let s = Server::start();
    let pool = s.create_pool("risk", json!({}));
    let client = s.create_client(&pool, json!({}));
    let none = s.ok("DescribeRiskConfiguration", json!({"UserPoolId": pool}));
    assert_eq!(none["RiskConfiguration"], json!({"UserPoolId": pool}));

    let pool_level = json!({"Actions": {"EventAction": "BLOCK"}, "EventFilter": ["SIGN_IN"]});
    let set = s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "CompromisedCredentialsRiskConfiguration": pool_level,
               "RiskExceptionConfiguration": {"BlockedIPRangeList": ["10.0.0.0/8"]}}),
    )["RiskConfiguration"]
        .clone();
    assert_eq!(set["UserPoolId"], pool.as_str());
    assert!(set.get("ClientId").is_none());
    assert_eq!(set["CompromisedCredentialsRiskConfiguration"], pool_level);
    // As AWS's documented answers: no LastModifiedDate.
    assert!(set.get("LastModifiedDate").is_none());
    let got = s.ok("DescribeRiskConfiguration", json!({"UserPoolId": pool}));
    assert_eq!(got["RiskConfiguration"], set);
    // A client without settings of its own shows the pool's.
    let inherited = s.ok(
        "DescribeRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(
        inherited["RiskConfiguration"]["CompromisedCredentialsRiskConfiguration"],
        pool_level
    );
    // Client-level settings.
    let takeover =
        json!({"Actions": {"HighAction": {"Notify": false, "EventAction": "MFA_REQUIRED"}}});
    let own = s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": client, "AccountTakeoverRiskConfiguration": takeover}),
    )["RiskConfiguration"]
        .clone();
    assert_eq!(own["ClientId"], client.as_str());
    let got = s.ok(
        "DescribeRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": client}),
    )["RiskConfiguration"]
        .clone();
    assert_eq!(got["AccountTakeoverRiskConfiguration"], takeover);
    assert!(got.get("CompromisedCredentialsRiskConfiguration").is_none());
    // Ids only: the client inherits again.
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    let got = s.ok(
        "DescribeRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": client}),
    )["RiskConfiguration"]
        .clone();
    assert_eq!(got["CompromisedCredentialsRiskConfiguration"], pool_level);

    s.err_msg(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": "nosuchclient"}),
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    );
    s.err(
        "DescribeRiskConfiguration",
        json!({"UserPoolId": "us-east-1_NoSuchPool1"}),
        "ResourceNotFoundException",
    );
    let m = s.err(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "CompromisedCredentialsRiskConfiguration": {"Actions": {"EventAction": "ALLOW"}}}),
        "InvalidParameterException",
    );
    assert!(
        m.contains("compromisedCredentialsRiskConfiguration.actions.eventAction"),
        "{m}"
    );
    let m = s.err(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "CompromisedCredentialsRiskConfiguration": {}}),
        "InvalidParameterException",
    );
    assert!(
        m.contains("Value null at 'compromisedCredentialsRiskConfiguration.actions'"),
        "{m}"
    );
}

/// Threat protection's always-block ranges refuse sign-ins from them where
/// the pool ENFORCES threat protection; AdminInitiateAuth is judged by the
/// address its ContextData states; ranges must be CIDR ranges.
#[test]
fn blocked_ip_ranges_refuse_sign_in_when_enforced() {
    let s = Server::start();
    let pool = s.create_pool(
        "blocked",
        json!({"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}),
    );
    let client = s.create_client(&pool, password_flows());
    let other = s.create_client(&pool, password_flows());
    s.admin_user(&pool, "ann", json!([]));
    // The test's requests come from 127.0.0.1.
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "RiskExceptionConfiguration": {
            "BlockedIPRangeList": ["127.0.0.0/8", "203.0.113.0/24"],
            "SkippedIPRangeList": ["198.51.100.0/24"]}}),
    );
    // AUDIT records only: the sign-in goes through.
    s.login(&client, "ann", PASSWORD);
    s.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "UserPoolTier": "PLUS",
               "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    let sign_in = json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                         "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD}});
    s.err_msg(
        "InitiateAuth",
        sign_in.clone(),
        "NotAuthorizedException",
        "Request not allowed due to security reasons.",
    );
    // Refused before the password is looked at: a wrong one answers the same.
    let mut wrong = sign_in.clone();
    wrong["AuthParameters"]["PASSWORD"] = json!("Wrong-passw0rd!");
    s.err_msg(
        "InitiateAuth",
        wrong,
        "NotAuthorizedException",
        "Request not allowed due to security reasons.",
    );

    // AdminInitiateAuth: the user's address is ContextData's.
    let admin = |ip: &str| {
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
               "ContextData": {"IpAddress": ip, "ServerName": "app.example.com",
                               "ServerPath": "/login", "HttpHeaders": []}})
    };
    let ok = s.ok("AdminInitiateAuth", admin("192.0.2.10"));
    assert!(
        ok["AuthenticationResult"]["AccessToken"].is_string(),
        "{ok}"
    );
    s.err(
        "AdminInitiateAuth",
        admin("203.0.113.77"),
        "NotAuthorizedException",
    );
    let mut no_context = admin("x");
    no_context.as_object_mut().unwrap().remove("ContextData");
    s.err("AdminInitiateAuth", no_context, "NotAuthorizedException");

    // A client with a configuration of its own does not inherit the pool's.
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": other,
               "RiskExceptionConfiguration": {"BlockedIPRangeList": ["203.0.113.0/24"]}}),
    );
    s.login(&other, "ann", PASSWORD);
    // Refresh tokens keep working (not a sign-in).
    s.ok(
        "SetRiskConfiguration",
        json!({"UserPoolId": pool, "ClientId": other,
               "RiskExceptionConfiguration": {"BlockedIPRangeList": ["127.0.0.1/32"]}}),
    );
    let tokens = s.ok("AdminInitiateAuth", admin("192.0.2.10"))["AuthenticationResult"].clone();
    s.ok(
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}}),
    );

    // A public call's UserContextData.IpAddress counts only where the
    // client propagates user context data, which needs a secret.
    let mut propagating = password_flows();
    merge(
        &mut propagating,
        json!({"GenerateSecret": true, "EnablePropagateAdditionalUserContextData": true}),
    );
    let propagating = s.create_client_full(&pool, propagating);
    let mut secret_only = password_flows();
    merge(&mut secret_only, json!({"GenerateSecret": true}));
    let secret_only = s.create_client_full(&pool, secret_only);
    let stated = |c: &Value, ip: &str| {
        let id = c["ClientId"].as_str().unwrap();
        let hash = secret_hash(c["ClientSecret"].as_str().unwrap(), "ann", id);
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": id,
               "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD, "SECRET_HASH": hash},
               "UserContextData": {"IpAddress": ip, "EncodedData": "x"}})
    };
    let ok = s.ok("InitiateAuth", stated(&propagating, "192.0.2.10"));
    assert!(
        ok["AuthenticationResult"]["AccessToken"].is_string(),
        "{ok}"
    );
    s.err(
        "InitiateAuth",
        stated(&propagating, "203.0.113.77"),
        "NotAuthorizedException",
    );
    // Without the setting, the stated address is ignored: 127.0.0.1 judges.
    s.err(
        "InitiateAuth",
        stated(&secret_only, "192.0.2.10"),
        "NotAuthorizedException",
    );
    let mut public = sign_in.clone();
    public["UserContextData"] = json!({"IpAddress": "192.0.2.10"});
    s.err("InitiateAuth", public, "NotAuthorizedException");

    for bad in ["10.0.0.0/33", "not-an-ip", "2001:db8::/129"] {
        let m = s.err(
            "SetRiskConfiguration",
            json!({"UserPoolId": pool,
                   "RiskExceptionConfiguration": {"SkippedIPRangeList": [bad]}}),
            "InvalidParameterException",
        );
        assert!(
            m.contains("SkippedIPRangeList") && m.contains("CIDR"),
            "{bad}: {m}"
        );
    }
}

//! What hangs off an app client, against the real server: several client
//! secrets (each valid for SECRET_HASH, RevokeToken and the token
//! endpoint until deleted), terms documents (and their links on the hosted
//! sign-up page), managed login branding styles (and what the hosted pages
//! show of them on a managed login domain).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hosted;

use base64::Engine;
use common::{password_flows, secret_hash, Server, PASSWORD};
use hosted::{Browser, CALLBACK, DOMAIN, POOL, WEB};
use serde_json::{json, Value};

fn sign_in_with_hash(s: &Server, client: &str, secret: &str) -> (u16, Value) {
    s.call(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD,
                                  "SECRET_HASH": secret_hash(secret, "alice", client)}}),
    )
}

#[test]
fn two_secrets_both_sign_in_until_one_is_deleted() {
    let s = Server::start();
    let pool = s.create_pool("secrets", json!({}));
    let mut extra = password_flows();
    common::merge(&mut extra, json!({"GenerateSecret": true}));
    let created = s.create_client_full(&pool, extra);
    let client = created["ClientId"].as_str().unwrap().to_owned();
    let first = created["ClientSecret"].as_str().unwrap().to_owned();
    s.admin_user(&pool, "alice", json!([]));
    let ids = json!({"UserPoolId": pool, "ClientId": client});

    // The client's own secret is the first of the list.
    let listed = s.ok("ListUserPoolClientSecrets", ids.clone());
    let list = listed["ClientSecrets"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let first_id = list[0]["ClientSecretId"].as_str().unwrap().to_owned();
    assert!(first_id.starts_with(&format!("{client}--")), "{first_id}");
    assert!(list[0]["ClientSecretCreateDate"].is_number());
    assert!(list[0].get("ClientSecretValue").is_none());

    // A generated second secret is returned once, with its id and date.
    let added = s.ok("AddUserPoolClientSecret", ids.clone());
    let d = &added["ClientSecretDescriptor"];
    let second = d["ClientSecretValue"].as_str().unwrap().to_owned();
    let second_id = d["ClientSecretId"].as_str().unwrap().to_owned();
    assert!(second.len() >= 24 && second != first);
    assert!(d["ClientSecretCreateDate"].is_number());
    assert_ne!(second_id, first_id);

    // Both work for SECRET_HASH; a made-up one does not.
    for secret in [&first, &second] {
        let (status, v) = sign_in_with_hash(&s, &client, secret);
        assert_eq!(status, 200, "{v}");
        assert!(v["AuthenticationResult"]["AccessToken"].is_string());
    }
    let (status, v) = sign_in_with_hash(&s, &client, "not-a-secret-of-this-client");
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "NotAuthorizedException");

    // At most two.
    s.err(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": client,
               "ClientSecret": "thirdsecret0000000000000000"}),
        "LimitExceededException",
    );
    let listed = s.ok("ListUserPoolClientSecrets", ids.clone());
    let list = listed["ClientSecrets"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|d| d.get("ClientSecretValue").is_none()));

    // DescribeUserPoolClient still shows the client's original secret.
    let described = s.ok("DescribeUserPoolClient", ids.clone());
    assert_eq!(described["UserPoolClient"]["ClientSecret"], first.as_str());

    // Deleting the original: it is refused from then on, the other works,
    // and no secret is promoted into DescribeUserPoolClient.
    let mut del = ids.clone();
    common::merge(&mut del, json!({"ClientSecretId": first_id}));
    s.ok("DeleteUserPoolClientSecret", del.clone());
    let (status, v) = sign_in_with_hash(&s, &client, &first);
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "NotAuthorizedException");
    assert_eq!(
        v["message"],
        format!("Unable to verify secret hash for client {client}")
    );
    assert_eq!(sign_in_with_hash(&s, &client, &second).0, 200);
    let described = s.ok("DescribeUserPoolClient", ids.clone());
    assert!(described["UserPoolClient"].get("ClientSecret").is_none());

    // Unknown id, then the last remaining secret.
    s.err(
        "DeleteUserPoolClientSecret",
        del,
        "ResourceNotFoundException",
    );
    let mut last = ids.clone();
    common::merge(&mut last, json!({"ClientSecretId": second_id}));
    s.err(
        "DeleteUserPoolClientSecret",
        last,
        "InvalidParameterException",
    );

    // A secret the caller chose is accepted and never echoed.
    let custom = "mychosensecret000000000000000001";
    let added = s.ok(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": client, "ClientSecret": custom}),
    );
    assert!(added["ClientSecretDescriptor"]
        .get("ClientSecretValue")
        .is_none());
    assert_eq!(sign_in_with_hash(&s, &client, custom).0, 200);

    // RevokeToken takes the raw secret: any of them.
    let (_, v) = sign_in_with_hash(&s, &client, custom);
    let refresh = v["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    s.err(
        "RevokeToken",
        json!({"Token": refresh, "ClientId": client, "ClientSecret": first}),
        "UnauthorizedException",
    );
    s.ok(
        "RevokeToken",
        json!({"Token": refresh, "ClientId": client, "ClientSecret": second}),
    );
}

#[test]
fn secret_operations_refuse_missing_resources_and_public_clients() {
    let s = Server::start();
    let pool = s.create_pool("secrets", json!({}));
    let public = s.create_client(&pool, json!({}));
    s.err(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": public}),
        "InvalidParameterException",
    );
    s.err_msg(
        "ListUserPoolClientSecrets",
        json!({"UserPoolId": "us-east-1_NoSuchPool1", "ClientId": public}),
        "ResourceNotFoundException",
        "User pool us-east-1_NoSuchPool1 does not exist.",
    );
    s.err_msg(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": "nosuchclient"}),
        "ResourceNotFoundException",
        "User pool client nosuchclient does not exist.",
    );
    // The model's constraints: a chosen secret of 24..64 word characters,
    // never echoed in the message.
    let msg = s.err(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": public, "ClientSecret": "short"}),
        "InvalidParameterException",
    );
    assert!(
        msg.contains("clientSecret") && !msg.contains("'short'"),
        "{msg}"
    );
    let v = s.ok(
        "ListUserPoolClientSecrets",
        json!({"UserPoolId": pool, "ClientId": public}),
    );
    assert_eq!(v["ClientSecrets"], json!([]));
}

fn token(s: &Server, domain: &str, id: &str, secret: &str) -> (u16, Value) {
    let r = s
        .http()
        .post(format!("{}/domains/{domain}/oauth2/token", s.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .basic_auth(id, Some(secret))
        .body("grant_type=client_credentials")
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn token_endpoint_accepts_every_secret_of_the_client() {
    let s = Server::start();
    let pool = s.create_pool("m2m", json!({}));
    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "records-m2m"}),
    );
    s.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "api",
               "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}]}),
    );
    let created = s.create_client_full(
        &pool,
        json!({"GenerateSecret": true, "AllowedOAuthFlowsUserPoolClient": true,
               "AllowedOAuthFlows": ["client_credentials"],
               "AllowedOAuthScopes": ["https://api.example.com/read"]}),
    );
    let client = created["ClientId"].as_str().unwrap().to_owned();
    let first = created["ClientSecret"].as_str().unwrap().to_owned();
    let added = s.ok(
        "AddUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    let second = added["ClientSecretDescriptor"]["ClientSecretValue"]
        .as_str()
        .unwrap()
        .to_owned();
    for secret in [&first, &second] {
        let (status, v) = token(&s, "records-m2m", &client, secret);
        assert_eq!(status, 200, "{v}");
        assert!(v["access_token"].is_string());
    }
    let (status, v) = token(&s, "records-m2m", &client, "wrongsecret");
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));

    let listed = s.ok(
        "ListUserPoolClientSecrets",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    let first_id = listed["ClientSecrets"][0]["ClientSecretId"].clone();
    s.ok(
        "DeleteUserPoolClientSecret",
        json!({"UserPoolId": pool, "ClientId": client, "ClientSecretId": first_id}),
    );
    let (status, v) = token(&s, "records-m2m", &client, &first);
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(token(&s, "records-m2m", &client, &second).0, 200);
}

#[test]
fn terms_documents_are_stored_and_linked_on_the_sign_up_page() {
    let s = hosted::start();
    let create = |name: &str, links: Value| {
        s.call(
            "CreateTerms",
            json!({"UserPoolId": POOL, "ClientId": WEB, "TermsName": name,
                   "TermsSource": "LINK", "Enforcement": "NONE", "Links": links}),
        )
    };
    let (status, v) = create(
        "terms-of-use",
        json!({"cognito:default": "https://example.com/terms"}),
    );
    assert_eq!(status, 200, "{v}");
    let t = &v["Terms"];
    let terms_id = t["TermsId"].as_str().unwrap().to_owned();
    assert_eq!(t["UserPoolId"], POOL);
    assert_eq!(t["ClientId"], WEB);
    assert_eq!(t["TermsName"], "terms-of-use");
    assert_eq!(t["TermsSource"], "LINK");
    assert_eq!(t["Enforcement"], "NONE");
    assert_eq!(t["Links"]["cognito:default"], "https://example.com/terms");
    assert!(t["CreationDate"].is_number() && t["LastModifiedDate"].is_number());

    // One document of each name per client.
    let (status, v) = create(
        "terms-of-use",
        json!({"cognito:default": "https://example.com/t2"}),
    );
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("TermsExistsException"))
    );
    // The model: names, languages, enums.
    let (_, v) = create("cookies", json!({"cognito:default": "https://x"}));
    assert_eq!(v["__type"], "InvalidParameterException");
    let (_, v) = create("privacy-policy", json!({"cognito:klingon": "https://x"}));
    assert_eq!(v["__type"], "InvalidParameterException");
    let (_, v) = create("privacy-policy", json!({}));
    assert_eq!(v["__type"], "InvalidParameterException");

    // The sign-up page links the documents only once both exist.
    let mut b = Browser::new(&s);
    let q = serde_urlencoded::to_string([
        ("client_id", WEB),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
    ])
    .unwrap();
    let signup_url = format!("{}/signup?{q}", b.base());
    let page = b.get(&signup_url);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("termsOfUseLink"));
    let (status, v) = create(
        "privacy-policy",
        json!({"cognito:default": "https://example.com/privacy",
               "cognito:english": "https://example.com/en/privacy"}),
    );
    assert_eq!(status, 200, "{v}");
    let privacy_id = v["Terms"]["TermsId"].as_str().unwrap().to_owned();
    let page = b.get(&signup_url);
    assert!(page.body.contains("id=\"termsOfUseLink\""), "{}", page.body);
    assert!(
        page.body.contains("https://example.com/terms")
            || page
                .body
                .contains("https:&#x2f;&#x2f;example.com&#x2f;terms")
    );
    assert!(page.body.contains("en/privacy") || page.body.contains("en&#x2f;privacy"));

    // Describe, by client, list.
    let v = s.ok(
        "DescribeTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id}),
    );
    assert_eq!(v["Terms"]["TermsName"], "terms-of-use");
    let v = s.ok(
        "DescribeTermsByClient",
        json!({"UserPoolId": POOL, "ClientId": WEB, "TermsName": "privacy-policy"}),
    );
    assert_eq!(v["Terms"]["TermsId"], privacy_id.as_str());
    let v = s.ok("ListTerms", json!({"UserPoolId": POOL, "MaxResults": 1}));
    assert_eq!(v["Terms"].as_array().unwrap().len(), 1);
    assert!(v["Terms"][0].get("Links").is_none());
    assert!(v["Terms"][0]["Enforcement"] == "NONE");
    let next = v["NextToken"].as_str().unwrap().to_owned();
    let v = s.ok(
        "ListTerms",
        json!({"UserPoolId": POOL, "MaxResults": 1, "NextToken": next}),
    );
    assert_eq!(v["Terms"].as_array().unwrap().len(), 1);
    assert!(v.get("NextToken").is_none());

    // Update: links replaced; a name taken by the client's other document refused.
    let v = s.ok(
        "UpdateTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id,
               "Links": {"cognito:default": "https://example.com/terms-v2"}}),
    );
    assert_eq!(
        v["Terms"]["Links"],
        json!({"cognito:default": "https://example.com/terms-v2"})
    );
    assert_eq!(v["Terms"]["TermsName"], "terms-of-use");
    s.err(
        "UpdateTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id, "TermsName": "privacy-policy"}),
        "TermsExistsException",
    );

    // Delete, then it is gone.
    s.ok(
        "DeleteTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id}),
    );
    s.err(
        "DescribeTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id}),
        "ResourceNotFoundException",
    );
    s.err(
        "DeleteTerms",
        json!({"UserPoolId": POOL, "TermsId": terms_id}),
        "ResourceNotFoundException",
    );
    s.err(
        "DescribeTermsByClient",
        json!({"UserPoolId": POOL, "ClientId": WEB, "TermsName": "terms-of-use"}),
        "ResourceNotFoundException",
    );
    s.err(
        "CreateTerms",
        json!({"UserPoolId": POOL, "ClientId": "nosuchclient", "TermsName": "terms-of-use",
               "TermsSource": "LINK", "Enforcement": "NONE",
               "Links": {"cognito:default": "https://x"}}),
        "ResourceNotFoundException",
    );
    assert!(!b.get(&signup_url).body.contains("termsOfUseLink"));
}

#[test]
fn managed_login_branding_is_stored_and_shown_on_managed_login_domains() {
    let s = hosted::start();
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-branding-logo".to_vec();
    let png64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let settings = json!({"components": {
        "pageBackground": {"lightMode": {"color": "112233ff"}},
        "primaryButton": {"lightMode": {"defaults": {"backgroundColor": "445566ff", "textColor": "ffffffff"}}}
    }});

    s.err(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ClientId": WEB, "UseCognitoProvidedValues": true,
               "Settings": settings}),
        "InvalidParameterException",
    );
    let v = s.ok(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ClientId": WEB, "Settings": settings,
               "Assets": [{"Category": "PAGE_HEADER_LOGO", "ColorMode": "LIGHT",
                           "Extension": "PNG", "Bytes": png64}]}),
    );
    let b = &v["ManagedLoginBranding"];
    let id = b["ManagedLoginBrandingId"].as_str().unwrap().to_owned();
    assert_eq!(b["UserPoolId"], POOL);
    assert_eq!(b["UseCognitoProvidedValues"], false);
    assert_eq!(b["Settings"], settings);
    assert_eq!(b["Assets"][0]["Bytes"], png64.as_str());
    assert!(b["CreationDate"].is_number());

    // One style per client.
    s.err(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ClientId": WEB, "UseCognitoProvidedValues": true}),
        "ManagedLoginBrandingExistsException",
    );
    s.err(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ClientId": WEB,
               "Assets": [{"Category": "NOT_A_CATEGORY", "ColorMode": "LIGHT", "Extension": "PNG"}]}),
        "InvalidParameterException",
    );
    let v = s.ok(
        "DescribeManagedLoginBrandingByClient",
        json!({"UserPoolId": POOL, "ClientId": WEB}),
    );
    assert_eq!(
        v["ManagedLoginBranding"]["ManagedLoginBrandingId"],
        id.as_str()
    );
    s.err(
        "DescribeManagedLoginBrandingByClient",
        json!({"UserPoolId": POOL, "ClientId": hosted::CODE_ONLY}),
        "ResourceNotFoundException",
    );

    // The classic hosted UI (no ManagedLoginVersion 2) does not use it.
    let mut browser = Browser::new(&s);
    let r = browser.authorize(&[]);
    let login = browser.follow(&r);
    assert!(!login.body.contains("/ui-assets/"), "{}", login.body);

    // On a managed login domain, the colours and the logo reach the pages.
    s.ok(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": POOL, "Domain": DOMAIN, "ManagedLoginVersion": 2}),
    );
    let r = browser.authorize(&[]);
    let login = browser.follow(&r);
    assert!(login.body.contains("ui-assets"), "{}", login.body);
    let assets = format!("{}/ui-assets/{POOL}/{WEB}", s.url);
    let css = browser.get(&format!("{assets}/style.css"));
    assert_eq!(css.status, 200);
    assert!(
        css.body
            .contains(".background-customizable { background-color: #112233ff; }"),
        "{}",
        css.body
    );
    assert!(css
        .body
        .contains(".submitButton-customizable { background-color: #445566ff; }"));
    let logo = browser.get(&format!("{assets}/logo"));
    assert_eq!(logo.status, 200);
    assert_eq!(logo.headers["content-type"], "image/png");

    // Update merges Settings and replaces assets of the same category and mode.
    let v = s.ok(
        "UpdateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id,
               "Settings": {"components": {"pageBackground": {"lightMode": {"color": "000000ff"}}}}}),
    );
    let got = &v["ManagedLoginBranding"];
    assert_eq!(
        got["Settings"]["components"]["pageBackground"]["lightMode"]["color"],
        "000000ff"
    );
    assert_eq!(
        got["Settings"]["components"]["primaryButton"]["lightMode"]["defaults"]["backgroundColor"],
        "445566ff"
    );
    assert_eq!(got["Assets"].as_array().unwrap().len(), 1);
    let v = s.ok(
        "UpdateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id, "UseCognitoProvidedValues": true}),
    );
    assert_eq!(v["ManagedLoginBranding"]["UseCognitoProvidedValues"], true);
    assert!(v["ManagedLoginBranding"].get("Settings").is_none());
    assert_eq!(v["ManagedLoginBranding"]["Assets"], json!([]));
    assert_eq!(browser.get(&format!("{assets}/logo")).status, 404);

    let v = s.ok(
        "DescribeManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id, "ReturnMergedResources": true}),
    );
    assert_eq!(
        v["ManagedLoginBranding"]["ManagedLoginBrandingId"],
        id.as_str()
    );
    s.ok(
        "DeleteManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id}),
    );
    for op in ["DescribeManagedLoginBranding", "DeleteManagedLoginBranding"] {
        s.err(
            op,
            json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id}),
            "ResourceNotFoundException",
        );
    }
    s.err(
        "UpdateManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": id, "UseCognitoProvidedValues": true}),
        "ResourceNotFoundException",
    );
    // Bad ids are refused by the model's pattern first.
    s.err(
        "DescribeManagedLoginBranding",
        json!({"UserPoolId": POOL, "ManagedLoginBrandingId": "not-a-uuid"}),
        "InvalidParameterException",
    );
}

#[test]
fn a_deleted_client_takes_its_terms_and_branding_along() {
    let s = Server::start();
    let pool = s.create_pool("cascade", json!({}));
    let client = s.create_client(&pool, json!({}));
    s.ok(
        "CreateTerms",
        json!({"UserPoolId": pool, "ClientId": client, "TermsName": "terms-of-use",
               "TermsSource": "LINK", "Enforcement": "NONE",
               "Links": {"cognito:default": "https://example.com/t"}}),
    );
    let v = s.ok(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": pool, "ClientId": client, "UseCognitoProvidedValues": true}),
    );
    let id = v["ManagedLoginBranding"]["ManagedLoginBrandingId"].clone();
    s.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(
        s.ok("ListTerms", json!({"UserPoolId": pool}))["Terms"],
        json!([])
    );
    s.err(
        "DescribeManagedLoginBranding",
        json!({"UserPoolId": pool, "ManagedLoginBrandingId": id}),
        "ResourceNotFoundException",
    );
}

#[test]
fn a_branding_request_may_be_two_megabytes() {
    let s = Server::start();
    let pool = s.create_pool("two-mb", json!({}));
    let client = s.create_client(&pool, json!({}));
    // Two images of ~700 KB: a body of ~1.9 MB, over 1 MiB and within AWS's 2 MB.
    let image = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 700_000]);
    let asset = |category: &str| json!({"Category": category, "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": image});
    let v = s.ok(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": pool, "ClientId": client,
               "Assets": [asset("PAGE_BACKGROUND"), asset("FORM_BACKGROUND")]}),
    );
    assert_eq!(
        v["ManagedLoginBranding"]["Assets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Over 2 MiB the body is refused before it is read.
    let (status, v) = s.call(
        "UpdateManagedLoginBranding",
        json!({"UserPoolId": pool,
               "ManagedLoginBrandingId": v["ManagedLoginBranding"]["ManagedLoginBrandingId"],
               "Assets": [asset("PAGE_BACKGROUND"), asset("FORM_BACKGROUND"),
                          asset("PAGE_HEADER_BACKGROUND")]}),
    );
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["__type"], "SerializationException");
}

#[test]
fn branding_of_a_pool_is_bounded() {
    let s = Server::start();
    let pool = s.create_pool("big", json!({}));
    let client = s.create_client(&pool, json!({}));
    let v = s.ok(
        "CreateManagedLoginBranding",
        json!({"UserPoolId": pool, "ClientId": client, "UseCognitoProvidedValues": true}),
    );
    let id = v["ManagedLoginBranding"]["ManagedLoginBrandingId"].clone();
    // ~700 KB images, each in its own category and mode, until the pool's 8 MiB are used.
    let image = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 700_000]);
    let categories = [
        "PAGE_BACKGROUND",
        "FORM_BACKGROUND",
        "PAGE_HEADER_BACKGROUND",
        "PAGE_FOOTER_BACKGROUND",
    ];
    let mut refused = None;
    'outer: for category in categories {
        for mode in ["LIGHT", "DARK", "DYNAMIC"] {
            let (status, v) = s.call(
                "UpdateManagedLoginBranding",
                json!({"UserPoolId": pool, "ManagedLoginBrandingId": id,
                       "Assets": [{"Category": category, "ColorMode": mode,
                                   "Extension": "PNG", "Bytes": image}]}),
            );
            if status != 200 {
                refused = Some(v);
                break 'outer;
            }
        }
    }
    let refused = refused.expect("the pool's branding is bounded");
    assert_eq!(refused["__type"], "LimitExceededException");
    // What was stored before stays.
    let v = s.ok(
        "DescribeManagedLoginBranding",
        json!({"UserPoolId": pool, "ManagedLoginBrandingId": id}),
    );
    let n = v["ManagedLoginBranding"]["Assets"]
        .as_array()
        .unwrap()
        .len();
    assert!((8..12).contains(&n), "{n} assets kept");
}

#[test]
fn concurrent_secret_changes_never_exceed_the_limit_nor_lose_a_write() {
    let s = Server::start();
    let pool = s.create_pool("racing-secrets", json!({}));
    let mut extra = password_flows();
    common::merge(&mut extra, json!({"GenerateSecret": true}));
    let created = s.create_client_full(&pool, extra);
    let client = created["ClientId"].as_str().unwrap().to_owned();
    let ids = json!({"UserPoolId": pool, "ClientId": client});

    // 24 AddUserPoolClientSecret in flight at once on a client with one
    // secret: exactly one is added, the others hit the limit.
    let outcomes: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| scope.spawn(|| s.call("AddUserPoolClientSecret", ids.clone())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let added = outcomes.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(added, 1, "{outcomes:?}");
    for (status, v) in &outcomes {
        if *status != 200 {
            assert_eq!(v["__type"], "LimitExceededException", "{v}");
        }
    }
    let listed = s.ok("ListUserPoolClientSecrets", ids.clone());
    assert_eq!(listed["ClientSecrets"].as_array().unwrap().len(), 2);

    // Settings updates racing a secret deletion and re-addition: the
    // secrets' changes survive the full replacement of the settings.
    let second = listed["ClientSecrets"][1]["ClientSecretId"]
        .as_str()
        .unwrap()
        .to_owned();
    std::thread::scope(|scope| {
        for i in 0..12 {
            let ids = ids.clone();
            let s = &s;
            scope.spawn(move || {
                let mut update = ids.clone();
                common::merge(&mut update, password_flows());
                common::merge(&mut update, json!({"RefreshTokenValidity": 10 + i}));
                let (status, v) = s.call("UpdateUserPoolClient", update);
                assert_eq!(status, 200, "{v}");
            });
        }
        let ids = ids.clone();
        let second = second.clone();
        let s = &s;
        scope.spawn(move || {
            let mut delete = ids.clone();
            common::merge(&mut delete, json!({"ClientSecretId": second}));
            s.ok("DeleteUserPoolClientSecret", delete);
            s.ok("AddUserPoolClientSecret", ids.clone());
        });
    });
    let listed = s.ok("ListUserPoolClientSecrets", ids.clone());
    let list = listed["ClientSecrets"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{listed}");
    assert!(
        list.iter().all(|d| d["ClientSecretId"] != second.as_str()),
        "the deletion was lost: {listed}"
    );
}

//! OAuth configuration over HTTP against the real server: pool domains,
//! resource servers and their custom scopes, and the OAuth members of app
//! clients (flows, scopes, callback URLs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Server;
use serde_json::json;

#[test]
fn pool_domain_lifecycle() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let other = s.create_pool("q", json!({}));

    let v = s.ok("DescribeUserPoolDomain", json!({"Domain": "nothing-here"}));
    assert_eq!(v, json!({"DomainDescription": {}}));

    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "my-app"}),
    );
    let d =
        s.ok("DescribeUserPoolDomain", json!({"Domain": "my-app"}))["DomainDescription"].clone();
    assert_eq!(d["UserPoolId"], pool.as_str());
    assert_eq!(d["Domain"], "my-app");
    assert_eq!(d["Status"], "ACTIVE");
    assert!(d["AWSAccountId"].is_string());
    let p = s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(p["UserPool"]["Domain"], "my-app");

    // One domain per pool; one pool per domain; the pattern of a prefix.
    let m = s.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "second"}),
        "InvalidParameterException",
    );
    assert!(m.contains("already has a domain"), "{m}");
    s.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "my-app"}),
        "InvalidParameterException",
    );
    let m = s.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "Bad_Domain"}),
        "InvalidParameterException",
    );
    assert!(
        m.starts_with("The domain name contains an invalid character."),
        "{m}"
    );
    s.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": "us-east-1_Nope", "Domain": "free"}),
        "ResourceNotFoundException",
    );

    // Deleting needs the owning pool.
    s.err(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "my-app"}),
        "InvalidParameterException",
    );
    s.ok(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "my-app"}),
    );
    assert_eq!(
        s.ok("DescribeUserPoolDomain", json!({"Domain": "my-app"})),
        json!({"DomainDescription": {}})
    );
    let p = s.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert!(p["UserPool"].get("Domain").is_none());

    // A custom domain.
    let v = s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "auth.example.com",
               "CustomDomainConfig": {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}}),
    );
    assert!(v["CloudFrontDomain"].is_string(), "{v}");
    let p = s.ok("DescribeUserPool", json!({"UserPoolId": other}));
    assert_eq!(p["UserPool"]["CustomDomain"], "auth.example.com");
    let d = s.ok(
        "DescribeUserPoolDomain",
        json!({"Domain": "auth.example.com"}),
    );
    assert!(d["DomainDescription"]["CustomDomainConfig"]["CertificateArn"].is_string());
}

fn scopes(names: &[&str]) -> serde_json::Value {
    json!(names
        .iter()
        .map(|n| json!({"ScopeName": n, "ScopeDescription": format!("{n} access")}))
        .collect::<Vec<_>>())
}

#[test]
fn resource_server_lifecycle() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let v = s.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "api",
               "Scopes": scopes(&["read", "write"])}),
    );
    let rs = &v["ResourceServer"];
    assert_eq!(rs["UserPoolId"], pool.as_str());
    assert_eq!(rs["Identifier"], "https://api.example.com");
    assert_eq!(rs["Scopes"][1]["ScopeName"], "write");
    assert_eq!(rs["Scopes"][1]["ScopeDescription"], "write access");

    s.err_msg(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "again"}),
        "InvalidParameterException",
        &format!("https://api.example.com already exists in user pool {pool}."),
    );
    s.err(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "dup", "Name": "d", "Scopes": scopes(&["a", "a"])}),
        "InvalidParameterException",
    );
    let m = s.err(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "x", "Name": "x", "Scopes": scopes(&["a/b"])}),
        "InvalidParameterException",
    );
    assert!(m.contains("scopes.1.member.scopeName"), "{m}");

    for i in 0..3 {
        s.ok(
            "CreateResourceServer",
            json!({"UserPoolId": pool, "Identifier": format!("svc{i}"), "Name": format!("svc {i}")}),
        );
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({"UserPoolId": pool, "MaxResults": 2});
        if let Some(n) = &next {
            body["NextToken"] = json!(n);
        }
        let v = s.ok("ListResourceServers", body);
        for r in v["ResourceServers"].as_array().unwrap() {
            seen.push(r["Identifier"].as_str().unwrap().to_owned());
        }
        match v.get("NextToken") {
            Some(n) => next = Some(n.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["https://api.example.com", "svc0", "svc1", "svc2"]);
    s.err(
        "ListResourceServers",
        json!({"UserPoolId": pool, "MaxResults": 51}),
        "InvalidParameterException",
    );

    let v = s.ok(
        "UpdateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "svc0", "Name": "renamed", "Scopes": scopes(&["admin"])}),
    );
    assert_eq!(v["ResourceServer"]["Name"], "renamed");
    let v = s.ok(
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "svc0"}),
    );
    assert_eq!(v["ResourceServer"]["Scopes"][0]["ScopeName"], "admin");

    s.ok(
        "DeleteResourceServer",
        json!({"UserPoolId": pool, "Identifier": "svc0"}),
    );
    for op in ["DescribeResourceServer", "DeleteResourceServer"] {
        s.err(
            op,
            json!({"UserPoolId": pool, "Identifier": "svc0"}),
            "ResourceNotFoundException",
        );
    }
}

#[test]
fn client_oauth_settings_are_checked() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    s.ok(
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "api", "Name": "api", "Scopes": scopes(&["read"])}),
    );
    let create = |extra: serde_json::Value| {
        let mut body = json!({"UserPoolId": pool, "ClientName": "c"});
        common::merge(&mut body, extra);
        s.call("CreateUserPoolClient", body)
    };
    let expect = |extra: serde_json::Value, error: &str| {
        let (status, v) = create(extra.clone());
        assert_eq!(status, 400, "{extra}: {v}");
        assert_eq!(v["__type"], error, "{extra}: {v}");
    };

    expect(
        json!({"AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"]}),
        "InvalidOAuthFlowException",
    );
    expect(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "GenerateSecret": true,
               "AllowedOAuthFlows": ["client_credentials", "code"], "AllowedOAuthScopes": ["api/read"],
               "CallbackURLs": ["https://app.example.com/cb"]}),
        "InvalidOAuthFlowException",
    );
    expect(
        json!({"AllowedOAuthFlowsUserPoolClient": true,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"]}),
        "InvalidOAuthFlowException",
    );
    expect(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "GenerateSecret": true,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/write"]}),
        "ScopeDoesNotExistException",
    );
    expect(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
               "AllowedOAuthScopes": ["openid"], "CallbackURLs": ["http://app.example.com/cb"]}),
        "InvalidParameterException",
    );
    expect(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
               "AllowedOAuthScopes": ["openid"], "CallbackURLs": ["https://app.example.com/cb"],
               "DefaultRedirectURI": "https://other.example.com/"}),
        "InvalidParameterException",
    );

    let (status, v) = create(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code", "implicit"],
               "AllowedOAuthScopes": ["openid", "email", "api/read"],
               "CallbackURLs": ["http://localhost:3000/cb", "https://app.example.com/cb"]}),
    );
    assert_eq!(status, 200, "{v}");
    let c = &v["UserPoolClient"];
    assert_eq!(
        c["AllowedOAuthScopes"],
        json!(["openid", "email", "api/read"])
    );
    let (status, v) = create(
        json!({"AllowedOAuthFlowsUserPoolClient": true, "GenerateSecret": true,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"]}),
    );
    assert_eq!(status, 200, "{v}");

    // UpdateUserPoolClient checks the same rules against the stored secret.
    let public = c["ClientId"].as_str().unwrap();
    let (status, v) = s.call(
        "UpdateUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": public, "AllowedOAuthFlowsUserPoolClient": true,
               "AllowedOAuthFlows": ["client_credentials"], "AllowedOAuthScopes": ["api/read"]}),
    );
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "InvalidOAuthFlowException", "{v}");
}

#[test]
fn config_file_declares_domain_and_resource_servers() {
    let yaml = "pools:
  - id: us-east-1_OAuthCfg1
    name: cfg
    domain: cfg-app
    resource_servers:
      - identifier: https://api.example.com
        name: api
        scopes:
          - {name: read, description: Read things}
    clients:
      - id: machine1
        name: machine
        generate_secret: true
        allowed_oauth_flows_user_pool_client: true
        allowed_oauth_flows: [client_credentials]
        allowed_oauth_scopes: [https://api.example.com/read]
";
    let s = Server::start_with_config(yaml);
    let d = s.ok("DescribeUserPoolDomain", json!({"Domain": "cfg-app"}));
    assert_eq!(d["DomainDescription"]["UserPoolId"], "us-east-1_OAuthCfg1");
    let v = s.ok(
        "DescribeResourceServer",
        json!({"UserPoolId": "us-east-1_OAuthCfg1", "Identifier": "https://api.example.com"}),
    );
    assert_eq!(v["ResourceServer"]["Scopes"][0]["ScopeName"], "read");
    // Applying the same file again changes nothing and does not fail.
    let s = s.restart();
    let v = s.ok(
        "ListResourceServers",
        json!({"UserPoolId": "us-east-1_OAuthCfg1", "MaxResults": 10}),
    );
    assert_eq!(v["ResourceServers"].as_array().unwrap().len(), 1);
    let d = s.ok("DescribeUserPoolDomain", json!({"Domain": "cfg-app"}));
    assert_eq!(d["DomainDescription"]["Domain"], "cfg-app");
}

/// A PNG header is all the server checks: 1×1 pixel, truncated data.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

#[test]
fn ui_customization_set_get_and_served() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let client = s.create_client(&pool, json!({}));
    let other_pool = s.create_pool("q", json!({}));
    let foreign = s.create_client(&other_pool, json!({}));

    // The hosted UI lives on a domain: without one there is nothing to
    // set or get (AWS's refusal).
    for op in ["GetUICustomization", "SetUICustomization"] {
        s.err_msg(
            op,
            json!({"UserPoolId": pool, "ClientId": client}),
            "InvalidParameterException",
            "There has to be an existing domain associated with this user pool",
        );
    }
    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "ui-custom"}),
    );

    // Nothing set yet: the member names the target and nothing else.
    let v = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(
        v,
        json!({"UICustomization": {"UserPoolId": pool, "ClientId": client}})
    );

    let css = ".submitButton-customizable { background-color: #d13212; }";
    let v = s.ok(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client, "CSS": css, "ImageFile": b64(PNG)}),
    )["UICustomization"]
        .clone();
    assert_eq!(v["CSS"], css);
    // As AWS's examples: a yyyyMMddHHmmss stamp, and no dates.
    let version = v["CSSVersion"].as_str().unwrap();
    assert!(
        version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()),
        "{version}"
    );
    assert!(v.get("CreationDate").is_none() && v.get("LastModifiedDate").is_none());
    let image_url = v["ImageUrl"].as_str().unwrap().to_owned();
    assert!(
        image_url.contains(&format!("/ui-assets/{pool}/{client}/logo")),
        "{image_url}"
    );
    let got = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client}),
    )["UICustomization"]
        .clone();
    assert_eq!(got, v);

    // The hosted UI's assets serve exactly what was set.
    let http = reqwest::blocking::Client::new();
    let logo = http.get(&image_url).send().unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.bytes().unwrap().as_ref(), PNG);
    let style = http
        .get(format!(
            "http://127.0.0.1:{}/ui-assets/{pool}/{client}/style.css",
            s.port
        ))
        .send()
        .unwrap();
    assert_eq!(style.status(), 200);
    assert!(style.text().unwrap().contains("#d13212"));

    // The pool-wide customization is kept under ALL.
    let all = s.ok(
        "SetUICustomization",
        json!({"UserPoolId": pool, "CSS": ".banner-customizable { color: red; }"}),
    )["UICustomization"]
        .clone();
    assert_eq!(all["ClientId"], "ALL");
    assert!(all.get("ImageUrl").is_none());

    // Errors: not an image, a client of another pool, an unknown pool, bad base64.
    let m = s.err(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client, "ImageFile": b64(b"GIF89a...")}),
        "InvalidParameterException",
    );
    assert!(m.contains("PNG or JPEG"), "{m}");
    s.err(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client, "ImageFile": b64(&vec![0x89; 200 * 1024])}),
        "InvalidParameterException",
    );
    s.err(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": foreign, "CSS": "a{}"}),
        "ResourceNotFoundException",
    );
    s.err(
        "GetUICustomization",
        json!({"UserPoolId": "us-east-1_Nope"}),
        "ResourceNotFoundException",
    );
    s.err(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ImageFile": "***"}),
        "InvalidParameterException",
    );

    // The style sheet may select only the customizable classes, holds no
    // at-rules or script, and the pages get the documented properties only.
    for (css, part) in [
        (
            "body { color: red; }",
            "'body' is not one of the customizable classes",
        ),
        (
            "@import url(https://x.example/a.css);",
            "'@import' statements",
        ),
        (
            ".label-customizable { color: expression(alert(1)); }",
            "JavaScript",
        ),
    ] {
        let m = s.err(
            "SetUICustomization",
            json!({"UserPoolId": pool, "ClientId": client, "CSS": css}),
            "InvalidParameterException",
        );
        assert!(m.contains(part), "{css}: {m}");
    }
    // The refused calls changed nothing.
    let kept = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client}),
    )["UICustomization"]
        .clone();
    assert_eq!(kept["CSS"], css);
    s.ok(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client,
               "CSS": ".banner-customizable { position: fixed; background-color: #0a0b0c; }"}),
    );
    let style = http
        .get(format!(
            "http://127.0.0.1:{}/ui-assets/{pool}/{client}/style.css",
            s.port
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        style,
        ".banner-customizable { background-color: #0a0b0c; }\n"
    );
    // Removed, the customization keeps its CSSVersion (as AWS's does).
    let removed = s.ok(
        "SetUICustomization",
        json!({"UserPoolId": pool, "ClientId": client}),
    )["UICustomization"]
        .clone();
    assert!(removed.get("CSS").is_none() && removed.get("ImageUrl").is_none());
    assert!(removed["CSSVersion"].is_string(), "{removed}");
}

#[test]
fn config_file_brands_a_client_and_the_pool() {
    let assets = tempfile::tempdir().unwrap();
    let logo = assets.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let css = assets.path().join("brand.css");
    std::fs::write(&css, ".banner-customizable { background-color: #123456; }").unwrap();
    let yaml = format!(
        "pools:
  - id: us-east-1_Branded1
    name: branded
    domain: branded-app
    ui:
      css_file: {}
    clients:
      - id: brandedclient1
        name: web
        ui:
          css: '.submitButton-customizable {{ color: #fff; }}'
          logo_file: {}
",
        css.display(),
        logo.display()
    );
    let s = Server::start_with_config(&yaml);
    let own = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": "us-east-1_Branded1", "ClientId": "brandedclient1"}),
    )["UICustomization"]
        .clone();
    assert!(own["CSS"].as_str().unwrap().contains("#fff"));
    let logo_url = own["ImageUrl"].as_str().unwrap();
    let got = s.http().get(logo_url).send().unwrap();
    assert_eq!(got.bytes().unwrap().as_ref(), PNG);
    let all = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": "us-east-1_Branded1"}),
    )["UICustomization"]
        .clone();
    assert_eq!(all["ClientId"], "ALL");
    assert!(all["CSS"].as_str().unwrap().contains("#123456"));
    // Applying the same file again leaves the branding untouched.
    let s = s.restart();
    let again = s.ok(
        "GetUICustomization",
        json!({"UserPoolId": "us-east-1_Branded1", "ClientId": "brandedclient1"}),
    )["UICustomization"]
        .clone();
    assert_eq!(again, own);
}

#[test]
fn update_user_pool_domain() {
    let s = Server::start();
    let pool = s.create_pool("p", json!({}));
    let other = s.create_pool("q", json!({}));
    s.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "upd-app"}),
    );
    let v = s.ok(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "upd-app", "ManagedLoginVersion": 2}),
    );
    assert_eq!(v, json!({"ManagedLoginVersion": 2}));
    let d = s.ok("DescribeUserPoolDomain", json!({"Domain": "upd-app"}));
    assert_eq!(d["DomainDescription"]["ManagedLoginVersion"], 2);

    s.err(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "upd-app", "ManagedLoginVersion": 7}),
        "InvalidParameterException",
    );
    // A prefix domain has no certificate; another pool's domain is not yours.
    s.err(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": pool, "Domain": "upd-app",
               "CustomDomainConfig": {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}}),
        "InvalidParameterException",
    );
    s.err(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": other, "Domain": "upd-app", "ManagedLoginVersion": 1}),
        "InvalidParameterException",
    );
    s.err(
        "UpdateUserPoolDomain",
        json!({"UserPoolId": "us-east-1_Nope", "Domain": "upd-app"}),
        "ResourceNotFoundException",
    );
}

//! The hosted UI's HTML templates (minijinja, HTML auto-escaping), built
//! into the binary from `templates/`.

use std::sync::LazyLock;

use minijinja::Environment;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    (
        "new_password.html",
        include_str!("../templates/new_password.html"),
    ),
    ("totp.html", include_str!("../templates/totp.html")),
    ("code.html", include_str!("../templates/code.html")),
    (
        "select_mfa.html",
        include_str!("../templates/select_mfa.html"),
    ),
    ("signup.html", include_str!("../templates/signup.html")),
    ("confirm.html", include_str!("../templates/confirm.html")),
    ("forgot.html", include_str!("../templates/forgot.html")),
    (
        "confirm_forgot.html",
        include_str!("../templates/confirm_forgot.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    ("feedback.html", include_str!("../templates/feedback.html")),
    ("passkey.html", include_str!("../templates/passkey.html")),
];

/// The passkey page's script (inline, allowed by its hash alone).
pub(crate) const PASSKEY_JS: &str = include_str!("../templates/passkey.js");

/// The Content-Security-Policy of the passkey page: as every page's, with
/// [`PASSKEY_JS`] the one script allowed to run.
pub(crate) static PASSKEY_CSP: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD
        .encode(cognate_crypto::digest::sha256(PASSKEY_JS.as_bytes()));
    format!(
        "frame-ancestors 'none'; script-src 'sha256-{hash}'; object-src 'none'; base-uri 'none'"
    )
});

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    // `.html` names are escaped automatically (minijinja's default).
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "bad template");
        }
    }
    env
});

/// Renders a template with a context.
pub(crate) fn render(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    ENV.get_template(name)?.render(ctx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_renders_and_escapes() {
        for (name, _) in TEMPLATES {
            let html = render(
                name,
                context! {
                    title => "T", app_name => "<b>app</b>", error => "<script>x</script>",
                    username => "\"><img src=x>", csrf => "c", action => "/a?x=1&y=2",
                    required => vec![context!{name => "name", label => "Name", input_type => "text"}],
                    ask_username => true, secret => "ABC", session => "s",
                },
            )
            .unwrap();
            assert!(html.contains("<html lang=\"en\">"), "{name}");
            assert!(!html.contains("<script>x"), "{name} does not escape");
            assert!(!html.contains("<b>app"), "{name} does not escape");
            assert!(!html.contains("\"><img"), "{name} does not escape");
        }
    }
}

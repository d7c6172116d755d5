//! The console's templates (minijinja, HTML auto-escaping), stylesheet and
//! script, built into the binary from `templates/`.

use std::sync::LazyLock;

use minijinja::Environment;

pub const CSS: &str = include_str!("../templates/console.css");
pub const JS: &str = include_str!("../templates/console.js");

pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("confirm.html", include_str!("../templates/confirm.html")),
    ("pools.html", include_str!("../templates/pools.html")),
    (
        "pool_form.html",
        include_str!("../templates/pool_form.html"),
    ),
    ("pool.html", include_str!("../templates/pool.html")),
    (
        "pool_tabs.html",
        include_str!("../templates/pool_tabs.html"),
    ),
    (
        "client_form.html",
        include_str!("../templates/client_form.html"),
    ),
    ("client.html", include_str!("../templates/client.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("user_new.html", include_str!("../templates/user_new.html")),
    ("user.html", include_str!("../templates/user.html")),
    ("groups.html", include_str!("../templates/groups.html")),
    ("group.html", include_str!("../templates/group.html")),
    ("gateway.html", include_str!("../templates/gateway.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    ("keys.html", include_str!("../templates/keys.html")),
    ("activity.html", include_str!("../templates/activity.html")),
    ("branding.html", include_str!("../templates/branding.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    // `.html` names are escaped automatically (minijinja's default).
    let mut env = Environment::new();
    // A member an answer leaves out renders as nothing (a missing object too).
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "bad console template");
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
        let evil = "\"><script>x</script>";
        for (name, _) in TEMPLATES {
            if *name == "macros.html" || *name == "pool_tabs.html" {
                continue;
            }
            let html = render(
                name,
                context! {
                    title => evil, message => evil, actor => evil, csrf => evil, flash => evil,
                    development => true, error => evil, typed => evil, base => "/console/pools/p",
                    v => context! { pool_name => evil, client_name => evil, username => evil },
                    err => context! { type_name => "InvalidParameterException", message => evil, field => "pool_name" },
                    pool => context! { Name => evil, Arn => evil }, client => context! { ClientName => evil, ClientId => evil },
                    user => context! { Username => evil, UserStatus => evil, Enabled => true },
                    group => context! { GroupName => evil },
                    crumbs => vec![context! { label => evil, href => "/console/pools" }],
                },
            )
            .unwrap();
            assert!(html.contains("<html lang=\"en\">"), "{name}");
            assert!(!html.contains("<script>x"), "{name} does not escape");
            assert!(html.contains("Development mode"), "{name} has no banner");
        }
    }
}

//! The style sheet rules of SetUICustomization (the classic hosted UI's
//! CSS), as Cognito's developer guide states them: rules may select only
//! the hosted pages' `*-customizable` classes, the style sheet may hold no
//! `@import`, `@supports`, `@page` or `@media` statement and no JavaScript,
//! and of each class only the documented properties take effect ("added
//! CSS keys will not be reflected in your UI").
//!
//! [`check`] refuses a style sheet that breaks the first rules (the
//! operation answers InvalidParameterException); [`served`] rebuilds the
//! style sheet the pages load from the allowed properties only, so what a
//! page shows never depends on anything the rules leave out.

use crate::error::{Error, Result};

/// Each customizable class (with its pseudo-class) and the properties of it
/// that take effect: the developer guide's list, and Cognito's CSS template
/// for `redirect-customizable`.
const CLASSES: &[(&str, &[&str])] = &[
    ("background-customizable", &["background-color"]),
    ("banner-customizable", &["padding", "background-color"]),
    (
        "errorMessage-customizable",
        &[
            "margin",
            "padding",
            "font-size",
            "width",
            "background",
            "border",
            "color",
            "box-sizing",
        ],
    ),
    (
        "idpButton-customizable",
        &[
            "height",
            "width",
            "text-align",
            "margin-bottom",
            "color",
            "background-color",
            "border-color",
        ],
    ),
    (
        "idpButton-customizable:hover",
        &["color", "background-color"],
    ),
    (
        "idpDescription-customizable",
        &["padding-top", "padding-bottom", "display", "font-size"],
    ),
    (
        "inputField-customizable",
        &["width", "height", "color", "background-color", "border"],
    ),
    (
        "inputField-customizable:focus",
        &["border-color", "outline"],
    ),
    ("label-customizable", &["font-weight"]),
    ("legalText-customizable", &["color", "font-size"]),
    ("logo-customizable", &["max-width", "max-height"]),
    ("passwordCheck-notValid-customizable", &["color"]),
    ("passwordCheck-valid-customizable", &["color"]),
    ("redirect-customizable", &["text-align"]),
    (
        "socialButton-customizable",
        &["height", "text-align", "width", "margin-bottom"],
    ),
    (
        "submitButton-customizable",
        &[
            "font-size",
            "font-weight",
            "margin",
            "width",
            "height",
            "color",
            "background-color",
        ],
    ),
    (
        "submitButton-customizable:hover",
        &["color", "background-color"],
    ),
    (
        "textDescription-customizable",
        &["padding-top", "padding-bottom", "display", "font-size"],
    ),
];

/// One rule of the style sheet: its selectors (without the dot) and its
/// declarations (lower-cased property, value).
struct Rule {
    selectors: Vec<String>,
    declarations: Vec<(String, String)>,
}

fn invalid(detail: impl std::fmt::Display) -> Error {
    Error::invalid_parameter(format!("The CSS is not valid: {detail}."))
}

/// At most 64 characters of what was found, for a message.
fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn without_comments(css: &str) -> Result<String> {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => return Err(invalid("a comment is not closed")),
        }
        out.push(' ');
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a value carries script: `javascript:` URLs, IE's
/// `expression(…)`, or markup that opens a script.
fn is_script(value: &str) -> bool {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    v.contains("javascript:")
        || v.contains("vbscript:")
        || v.contains("expression(")
        || v.contains("<script")
        || v.contains("behavior:")
        || v.contains("-moz-binding")
}

fn parse(css: &str) -> Result<Vec<Rule>> {
    let css = without_comments(css)?;
    let mut rules = Vec::new();
    let mut rest = css.as_str();
    loop {
        let Some(open) = rest.find('{') else {
            let tail = rest.trim();
            if tail.starts_with('@') {
                return Err(invalid(format_args!(
                    "'{}' statements are not allowed",
                    excerpt(tail.split_whitespace().next().unwrap_or(tail))
                )));
            }
            if !tail.is_empty() {
                return Err(invalid(format_args!("'{}' is not a rule", excerpt(tail))));
            }
            return Ok(rules);
        };
        let prelude = rest[..open].trim();
        if let Some(at) = prelude.strip_prefix('@') {
            let name = at.split(|c: char| !c.is_ascii_alphanumeric() && c != '-');
            return Err(invalid(format_args!(
                "'@{}' statements are not allowed",
                excerpt(name.into_iter().next().unwrap_or_default())
            )));
        }
        let body_and_rest = &rest[open + 1..];
        let Some(close) = body_and_rest.find('}') else {
            return Err(invalid("a rule is not closed"));
        };
        let body = &body_and_rest[..close];
        if body.contains('{') {
            return Err(invalid("rules cannot be nested"));
        }
        if prelude.contains('}') {
            return Err(invalid("a '}' closes no rule"));
        }
        let mut selectors = Vec::new();
        for selector in prelude.split(',') {
            let selector = selector.trim();
            let name = selector.strip_prefix('.').unwrap_or_default();
            if !CLASSES.iter().any(|(class, _)| *class == name) {
                return Err(invalid(format_args!(
                    "the selector '{}' is not one of the customizable classes",
                    excerpt(selector)
                )));
            }
            selectors.push(name.to_owned());
        }
        let mut declarations = Vec::new();
        for declaration in body.split(';') {
            let declaration = declaration.trim();
            if declaration.is_empty() {
                continue;
            }
            let Some((property, value)) = declaration.split_once(':') else {
                return Err(invalid(format_args!(
                    "'{}' is not a declaration",
                    excerpt(declaration)
                )));
            };
            if is_script(value) || is_script(property) {
                return Err(invalid("JavaScript is not allowed"));
            }
            declarations.push((
                property.trim().to_ascii_lowercase(),
                value.trim().to_owned(),
            ));
        }
        rules.push(Rule {
            selectors,
            declarations,
        });
        rest = &body_and_rest[close + 1..];
    }
}

/// Refuses a style sheet SetUICustomization does not take.
pub fn check(css: &str) -> Result<()> {
    parse(css).map(|_| ())
}

/// Whether a value may reach the page: no resource loads, escapes or
/// markup (none of the documented properties needs them).
fn safe_value(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    !value.is_empty()
        && !lower.contains("url(")
        && !lower.contains("image-set(")
        && !value.contains(['\\', '<', '>', '{', '}', '"', '\''])
}

/// The style sheet the hosted pages load: each allowed class with the
/// properties of it that take effect, in the order given. A style sheet
/// that does not pass [`check`] (stored before the rules) serves nothing.
pub fn served(css: &str) -> String {
    let Ok(rules) = parse(css) else {
        return String::new();
    };
    let mut out = String::new();
    for rule in rules {
        for selector in &rule.selectors {
            let allowed = CLASSES
                .iter()
                .find(|(class, _)| class == selector)
                .map_or(&[][..], |(_, props)| *props);
            let kept: Vec<String> = rule
                .declarations
                .iter()
                .filter(|(p, v)| allowed.contains(&p.as_str()) && safe_value(v))
                .map(|(p, v)| format!("{p}: {v};"))
                .collect();
            if !kept.is_empty() {
                out.push_str(&format!(".{selector} {{ {} }}\n", kept.join(" ")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(css: &str) -> String {
        check(css).unwrap_err().to_string()
    }

    #[test]
    fn customizable_classes_are_taken() {
        let css = "/* brand */ .banner-customizable { padding: 25px 0px 25px 0px; \
                   background-color: lightgray; }\n\
                   .submitButton-customizable:hover, .idpButton-customizable:hover {color: #fff}\n\
                   .inputField-customizable:focus { border-color: red; outline: 1px; }";
        check(css).unwrap();
        assert_eq!(
            served(css),
            ".banner-customizable { padding: 25px 0px 25px 0px; background-color: lightgray; }\n\
             .submitButton-customizable:hover { color: #fff; }\n\
             .idpButton-customizable:hover { color: #fff; }\n\
             .inputField-customizable:focus { border-color: red; outline: 1px; }\n"
        );
        check("").unwrap();
        assert_eq!(served("   "), "");
    }

    #[test]
    fn other_selectors_are_refused() {
        for css in [
            "body { color: red; }",
            ".banner-customizable, div { color: red; }",
            "a{}",
            ".banner-customizable:active { color: red; }",
            ".BANNER-CUSTOMIZABLE { color: red; }",
            "#banner-customizable { color: red; }",
            ".banner-customizable .label-customizable { color: red; }",
        ] {
            let m = refused(css);
            assert!(
                m.contains("is not one of the customizable classes"),
                "{css}: {m}"
            );
        }
    }

    #[test]
    fn at_rules_and_script_are_refused() {
        for (css, part) in [
            ("@import url(https://evil.example/x.css);", "'@import'"),
            (
                "@media (max-width: 10px) { .label-customizable { font-weight: 100; } }",
                "'@media'",
            ),
            ("@supports (display: grid) { }", "'@supports'"),
            ("@page { margin: 1cm; }", "'@page'"),
            (
                ".label-customizable { color: expression(alert(1)); }",
                "JavaScript",
            ),
            (
                ".errorMessage-customizable { background: url(JavaScript:alert(1)); }",
                "JavaScript",
            ),
            (".label-customizable { color: red; ", "not closed"),
            (".label-customizable { color red; }", "not a declaration"),
            (".label-customizable { .x { } }", "nested"),
            ("/* open", "comment"),
            ("}", "not a rule"),
        ] {
            let m = refused(css);
            assert!(m.contains(part), "{css}: {m}");
            assert!(m.contains("The CSS is not valid: "), "{m}");
        }
    }

    #[test]
    fn only_documented_properties_are_served() {
        let css = ".banner-customizable { color: red; position: fixed; padding: 1px; }\n\
                   .logo-customizable { max-width: 60%; background: url(https://x.example/a.png); }\n\
                   .errorMessage-customizable { background: url(https://x.example/a.png); color: red }\n\
                   .label-customizable { font-weight: 400; }";
        check(css).unwrap();
        assert_eq!(
            served(css),
            ".banner-customizable { padding: 1px; }\n\
             .logo-customizable { max-width: 60%; }\n\
             .errorMessage-customizable { color: red; }\n\
             .label-customizable { font-weight: 400; }\n"
        );
        // A style sheet stored before the rules serves nothing.
        assert_eq!(served("body { color: red; }"), "");
    }
}

//! Records that hang off an app client: its secrets
//! (Add/List/DeleteUserPoolClientSecret), its terms documents
//! (Create/Describe/List/Update/DeleteTerms, DescribeTermsByClient) and its
//! managed login branding style (Create/Describe/DescribeByClient/Update/
//! DeleteManagedLoginBranding). Secrets live in the client's document;
//! terms and branding styles in the pool's document (changed through
//! `update_pool`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{BrandingAsset, ClientSecret, ManagedLoginBranding, Terms, UiCustomization};

/// A secret just added; `generated` says whether cognate made its value
/// (only then does AddUserPoolClientSecret return the value).
#[derive(Clone, Debug)]
pub struct AddedSecret {
    pub secret: ClientSecret,
    pub generated: bool,
}

/// The members of CreateTerms / UpdateTerms (absent ones unchanged on update).
#[derive(Clone, Debug, Default)]
pub struct TermsInput {
    pub terms_name: Option<String>,
    pub terms_source: Option<String>,
    pub enforcement: Option<String>,
    pub links: Option<BTreeMap<String, String>>,
}

/// The members of Create/UpdateManagedLoginBranding.
#[derive(Clone, Debug, Default)]
pub struct BrandingInput {
    pub use_cognito_provided_values: bool,
    pub settings: Option<Value>,
    pub assets: Option<Vec<BrandingAsset>>,
}

fn terms_not_found(terms_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Terms {terms_id} does not exist."),
    )
}

fn branding_not_found(branding_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Managed login branding {branding_id} does not exist."),
    )
}

fn terms_exist(name: &str, client_id: &str) -> Error {
    Error::new(
        ErrorKind::TermsExists,
        format!("Terms with name {name} already exist for client {client_id}."),
    )
}

/// Deep merge of a Settings document: objects merge key by key, anything
/// else replaces (UpdateManagedLoginBranding keeps what it is not given).
fn merge_settings(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge_settings(slot, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Cognito's own style document: every setting of a style, with the values
/// a style made with `UseCognitoProvidedValues` has. Taken from the whole
/// Settings document of AWS's published UpdateManagedLoginBranding example
/// (the branding designer's output, its values the designer's defaults);
/// AWS publishes the default style nowhere else.
const DEFAULT_STYLE: &str = include_str!("default_style.json");

/// The Settings that Describe(ByClient)ManagedLoginBranding return with
/// `ReturnMergedResources`: Cognito's style document with the style's own
/// settings merged over it (what the style does not set keeps its default).
pub fn merged_style_settings(own: Option<&Value>) -> Value {
    let mut merged: Value = serde_json::from_str(DEFAULT_STYLE).unwrap_or(Value::Null);
    if let Some(own) = own {
        merge_settings(&mut merged, own.clone());
    }
    merged
}

/// The most branding (Settings and asset bytes, as stored) one pool keeps:
/// styles live in the pool's document, which every request of the pool reads.
pub const MAX_POOL_BRANDING_BYTES: usize = 8 * 1024 * 1024;

fn check_branding_size(p: &crate::model::UserPool) -> Result<()> {
    let total: usize = p
        .managed_login_branding
        .iter()
        .map(|b| {
            b.settings.as_ref().map_or(0, |s| s.to_string().len())
                + b.assets
                    .iter()
                    .map(|a| a.bytes.as_ref().map_or(0, String::len))
                    .sum::<usize>()
        })
        .sum();
    if total > MAX_POOL_BRANDING_BYTES {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "The managed login branding styles of a user pool are limited to 8 MiB of settings and assets.",
        ));
    }
    Ok(())
}

fn check_branding_input(input: &BrandingInput) -> Result<()> {
    if input.use_cognito_provided_values && (input.settings.is_some() || input.assets.is_some()) {
        return Err(Error::invalid_parameter(
            "Settings and Assets must be omitted when UseCognitoProvidedValues is true.",
        ));
    }
    if let Some(assets) = &input.assets {
        let mut seen = std::collections::BTreeSet::new();
        for a in assets {
            if !seen.insert((a.category.as_str(), a.color_mode.as_str())) {
                return Err(Error::invalid_parameter(format!(
                    "Duplicate asset for category {} and color mode {}.",
                    a.category, a.color_mode
                )));
            }
        }
    }
    Ok(())
}

/// A colour of a Settings document (`RRGGBB` or `RRGGBBAA` hex, as the
/// branding editor writes them) as CSS, or `None` for anything else.
fn css_color(value: Option<&Value>) -> Option<String> {
    let hex = value?.as_str()?;
    ((hex.len() == 6 || hex.len() == 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{hex}"))
}

/// What the hosted pages can show of a managed login branding style, as
/// the classic customization they already apply: light-mode colours of
/// the page background, the header and the primary button become CSS; the
/// page header logo (else the form logo), light or browser-adaptive, PNG,
/// JPEG, SVG or WEBP, becomes the logo. Everything else of the style is
/// stored and returned only.
pub(crate) fn branding_customization(pool_id: &str, b: &ManagedLoginBranding) -> UiCustomization {
    use base64::Engine;
    let at = |path: &[&str]| {
        let mut v = b.settings.as_ref()?;
        for key in path {
            v = v.get(key)?;
        }
        Some(v)
    };
    let mut css = String::new();
    let rules: [(&[&str], &str, &str); 4] = [
        (
            &["components", "pageBackground", "lightMode", "color"],
            ".background-customizable",
            "background-color",
        ),
        (
            &[
                "components",
                "pageHeader",
                "lightMode",
                "background",
                "color",
            ],
            ".banner-customizable",
            "background-color",
        ),
        (
            &[
                "components",
                "primaryButton",
                "lightMode",
                "defaults",
                "backgroundColor",
            ],
            ".submitButton-customizable",
            "background-color",
        ),
        (
            &[
                "components",
                "primaryButton",
                "lightMode",
                "defaults",
                "textColor",
            ],
            ".submitButton-customizable",
            "color",
        ),
    ];
    for (path, selector, property) in rules {
        if let Some(color) = css_color(at(path)) {
            css.push_str(&format!("{selector} {{ {property}: {color}; }}\n"));
        }
    }
    let logo = ["PAGE_HEADER_LOGO", "FORM_LOGO"]
        .iter()
        .find_map(|category| {
            ["LIGHT", "DYNAMIC"].iter().find_map(|mode| {
                b.assets
                    .iter()
                    .find(|a| {
                        a.category == *category
                            && a.color_mode == *mode
                            && matches!(a.extension.as_str(), "PNG" | "JPEG" | "SVG" | "WEBP")
                    })
                    .and_then(|a| a.bytes.as_deref())
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            })
        });
    UiCustomization {
        pool_id: pool_id.to_owned(),
        client_id: b.client_id.clone(),
        css: (!css.is_empty()).then_some(css),
        image: logo.filter(|l| !l.is_empty()),
        created: b.created,
        modified: b.modified,
    }
}

impl UserPools {
    // ------------------------------------------------------------ secrets

    /// AddUserPoolClientSecret: a second secret beside the first (at most
    /// two), given by the caller or generated.
    pub async fn add_user_pool_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        value: Option<String>,
    ) -> Result<AddedSecret> {
        self.pool(pool_id).await?;
        let client = self.client_of(pool_id, client_id).await?;
        let generated = value.is_none();
        let value = value.unwrap_or_else(|| cognate_crypto::random::lower_alnum(52));
        let now = self.now();
        // The limit is judged on the copy that is written (compare-and-swap):
        // concurrent calls never leave more than the maximum.
        let (_, secret) = self
            .update_client(client, |client| {
                if !client.has_secret() {
                    return Err(Error::invalid_parameter(format!(
                        "Client {client_id} is a public client; secrets can only be added to a client that has a secret."
                    )));
                }
                if client.secrets.len() >= crate::model::AppClient::MAX_SECRETS {
                    return Err(Error::new(
                        ErrorKind::LimitExceeded,
                        format!(
                            "Client {client_id} already has the maximum of {} client secrets.",
                            crate::model::AppClient::MAX_SECRETS
                        ),
                    ));
                }
                // Ids are `<client-id>--<epoch ms>`: unique even within one millisecond.
                let mut created = now;
                while client.secrets.iter().any(|s| s.created == created) {
                    created += 1;
                }
                let secret = ClientSecret::new(client_id, value.clone(), created, false);
                client.secrets.push(secret.clone());
                client.modified = now;
                Ok(secret)
            })
            .await?;
        Ok(AddedSecret { secret, generated })
    }

    /// ListUserPoolClientSecrets: the client's secrets, oldest first.
    pub async fn list_user_pool_client_secrets(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<ClientSecret>> {
        self.pool(pool_id).await?;
        Ok(self.client_of(pool_id, client_id).await?.secrets)
    }

    /// DeleteUserPoolClientSecret: removes one secret; the last one stays.
    pub async fn delete_user_pool_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        secret_id: &str,
    ) -> Result<()> {
        self.pool(pool_id).await?;
        let client = self.client_of(pool_id, client_id).await?;
        let now = self.now();
        self.update_client(client, |client| {
            let Some(index) = client.secrets.iter().position(|s| s.id == secret_id) else {
                return Err(Error::new(
                    ErrorKind::ResourceNotFound,
                    format!("Client secret {secret_id} does not exist."),
                ));
            };
            if client.secrets.len() == 1 {
                return Err(Error::invalid_parameter(
                    "Cannot delete the last remaining client secret of an app client.",
                ));
            }
            client.secrets.remove(index);
            client.modified = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    // -------------------------------------------------------------- terms

    /// CreateTerms: one document of each name per app client.
    pub async fn create_terms(
        &self,
        pool_id: &str,
        client_id: &str,
        input: TermsInput,
    ) -> Result<Terms> {
        let pool = self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        let now = self.now();
        let terms = Terms {
            terms_id: cognate_crypto::random::uuid(),
            client_id: client_id.to_owned(),
            terms_name: input.terms_name.unwrap_or_default(),
            terms_source: input.terms_source.unwrap_or_else(|| "LINK".into()),
            enforcement: input.enforcement.unwrap_or_else(|| "NONE".into()),
            links: input.links.unwrap_or_default(),
            created: now,
            modified: now,
        };
        let record = terms.clone();
        self.update_pool((*pool).clone(), move |p| {
            if p.terms
                .iter()
                .any(|t| t.client_id == record.client_id && t.terms_name == record.terms_name)
            {
                return Err(terms_exist(&record.terms_name, &record.client_id));
            }
            p.terms.push(record.clone());
            Ok(())
        })
        .await?;
        Ok(terms)
    }

    pub async fn describe_terms(&self, pool_id: &str, terms_id: &str) -> Result<Terms> {
        let pool = self.pool(pool_id).await?;
        pool.terms
            .iter()
            .find(|t| t.terms_id == terms_id)
            .cloned()
            .ok_or_else(|| terms_not_found(terms_id))
    }

    pub async fn describe_terms_by_client(
        &self,
        pool_id: &str,
        client_id: &str,
        terms_name: &str,
    ) -> Result<Terms> {
        let pool = self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        pool.terms
            .iter()
            .find(|t| t.client_id == client_id && t.terms_name == terms_name)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::ResourceNotFound,
                    format!("Terms with name {terms_name} do not exist for client {client_id}."),
                )
            })
    }

    /// ListTerms: the pool's terms documents in id order.
    pub async fn list_terms(
        &self,
        pool_id: &str,
        max: usize,
        next: Option<&str>,
    ) -> Result<Page<Terms>> {
        let pool = self.pool(pool_id).await?;
        let after = next.map(decode_token).transpose()?;
        let mut all: Vec<Terms> = pool.terms.clone();
        all.sort_by(|a, b| a.terms_id.cmp(&b.terms_id));
        let items: Vec<Terms> = all
            .into_iter()
            .filter(|t| after.as_deref().is_none_or(|a| t.terms_id.as_str() > a))
            .take(max + 1)
            .collect();
        Ok(Page::from_overfetch(items, max, |t| &t.terms_id))
    }

    /// UpdateTerms: changes the members given; a new name must not be
    /// taken by another document of the same client.
    pub async fn update_terms(
        &self,
        pool_id: &str,
        terms_id: &str,
        input: TermsInput,
    ) -> Result<Terms> {
        let pool = self.pool(pool_id).await?;
        let now = self.now();
        let id = terms_id.to_owned();
        let (_, terms) = self
            .update_pool((*pool).clone(), move |p| {
                let Some(index) = p.terms.iter().position(|t| t.terms_id == id) else {
                    return Err(terms_not_found(&id));
                };
                let client_id = p.terms[index].client_id.clone();
                if let Some(name) = &input.terms_name {
                    if p.terms.iter().any(|t| {
                        t.terms_id != id && t.client_id == client_id && &t.terms_name == name
                    }) {
                        return Err(terms_exist(name, &client_id));
                    }
                }
                let t = &mut p.terms[index];
                if let Some(v) = &input.terms_name {
                    t.terms_name = v.clone();
                }
                if let Some(v) = &input.terms_source {
                    t.terms_source = v.clone();
                }
                if let Some(v) = &input.enforcement {
                    t.enforcement = v.clone();
                }
                if let Some(v) = &input.links {
                    t.links = v.clone();
                }
                t.modified = now;
                Ok(t.clone())
            })
            .await?;
        Ok(terms)
    }

    pub async fn delete_terms(&self, pool_id: &str, terms_id: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let id = terms_id.to_owned();
        self.update_pool((*pool).clone(), move |p| {
            let before = p.terms.len();
            p.terms.retain(|t| t.terms_id != id);
            if p.terms.len() == before {
                return Err(terms_not_found(&id));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// The terms links the hosted sign-up page shows for a client: both
    /// documents must exist (as Cognito requires before it shows either),
    /// each in `language` or else `cognito:default`.
    pub async fn hosted_terms_links(
        &self,
        pool_id: &str,
        client_id: &str,
        language: &str,
    ) -> Result<Option<(String, String)>> {
        let pool = self.pool(pool_id).await?;
        let link = |name: &str| {
            pool.terms
                .iter()
                .find(|t| t.client_id == client_id && t.terms_name == name)
                .and_then(|t| {
                    t.links
                        .get(language)
                        .or_else(|| t.links.get("cognito:default"))
                        // Only web links become anchors on the page.
                        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                        .cloned()
                })
        };
        Ok(link("terms-of-use").zip(link("privacy-policy")))
    }

    // ----------------------------------------------------------- branding

    /// CreateManagedLoginBranding: one style per app client.
    pub async fn create_managed_login_branding(
        &self,
        pool_id: &str,
        client_id: &str,
        input: BrandingInput,
    ) -> Result<ManagedLoginBranding> {
        check_branding_input(&input)?;
        let pool = self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        let now = self.now();
        let style = ManagedLoginBranding {
            branding_id: cognate_crypto::random::uuid(),
            client_id: client_id.to_owned(),
            use_cognito_provided_values: input.use_cognito_provided_values,
            settings: input.settings,
            assets: input.assets.unwrap_or_default(),
            created: now,
            modified: now,
        };
        let record = style.clone();
        self.update_pool((*pool).clone(), move |p| {
            if p.managed_login_branding
                .iter()
                .any(|b| b.client_id == record.client_id)
            {
                return Err(Error::new(
                    ErrorKind::ManagedLoginBrandingExists,
                    format!(
                        "A managed login branding style already exists for client {}.",
                        record.client_id
                    ),
                ));
            }
            p.managed_login_branding.push(record.clone());
            check_branding_size(p)
        })
        .await?;
        Ok(style)
    }

    pub async fn describe_managed_login_branding(
        &self,
        pool_id: &str,
        branding_id: &str,
    ) -> Result<ManagedLoginBranding> {
        let pool = self.pool(pool_id).await?;
        pool.managed_login_branding
            .iter()
            .find(|b| b.branding_id == branding_id)
            .cloned()
            .ok_or_else(|| branding_not_found(branding_id))
    }

    pub async fn describe_managed_login_branding_by_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<ManagedLoginBranding> {
        let pool = self.pool(pool_id).await?;
        self.client_of(pool_id, client_id).await?;
        pool.managed_login_branding
            .iter()
            .find(|b| b.client_id == client_id)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::ResourceNotFound,
                    format!("Managed login branding for client {client_id} does not exist."),
                )
            })
    }

    /// UpdateManagedLoginBranding: `UseCognitoProvidedValues` resets the
    /// style to Cognito's defaults; otherwise the Settings given merge into
    /// the style's and each asset given replaces the one of its category
    /// and color mode.
    pub async fn update_managed_login_branding(
        &self,
        pool_id: &str,
        branding_id: &str,
        input: BrandingInput,
    ) -> Result<ManagedLoginBranding> {
        check_branding_input(&input)?;
        let pool = self.pool(pool_id).await?;
        let now = self.now();
        let id = branding_id.to_owned();
        let (_, style) = self
            .update_pool((*pool).clone(), move |p| {
                let Some(b) = p
                    .managed_login_branding
                    .iter_mut()
                    .find(|b| b.branding_id == id)
                else {
                    return Err(branding_not_found(&id));
                };
                if input.use_cognito_provided_values {
                    b.use_cognito_provided_values = true;
                    b.settings = None;
                    b.assets.clear();
                } else {
                    if let Some(settings) = input.settings.clone() {
                        match &mut b.settings {
                            Some(old) => merge_settings(old, settings),
                            None => b.settings = Some(settings),
                        }
                        b.use_cognito_provided_values = false;
                    }
                    if let Some(assets) = &input.assets {
                        for a in assets {
                            b.assets.retain(|x| {
                                !(x.category == a.category && x.color_mode == a.color_mode)
                            });
                            b.assets.push(a.clone());
                        }
                        b.use_cognito_provided_values = false;
                    }
                }
                b.modified = now;
                let out = b.clone();
                check_branding_size(p)?;
                Ok(out)
            })
            .await?;
        Ok(style)
    }

    pub async fn delete_managed_login_branding(
        &self,
        pool_id: &str,
        branding_id: &str,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let id = branding_id.to_owned();
        self.update_pool((*pool).clone(), move |p| {
            let before = p.managed_login_branding.len();
            p.managed_login_branding.retain(|b| b.branding_id != id);
            if p.managed_login_branding.len() == before {
                return Err(branding_not_found(&id));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Drops the terms and branding style of a deleted app client.
    pub(crate) async fn forget_client_records(&self, pool_id: &str, client_id: &str) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        if !pool.terms.iter().any(|t| t.client_id == client_id)
            && !pool
                .managed_login_branding
                .iter()
                .any(|b| b.client_id == client_id)
        {
            return Ok(());
        }
        let client_id = client_id.to_owned();
        self.update_pool((*pool).clone(), move |p| {
            p.terms.retain(|t| t.client_id != client_id);
            p.managed_login_branding
                .retain(|b| b.client_id != client_id);
            Ok(())
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{merge_settings, merged_style_settings};
    use crate::model::{AppClient, ClientSettings};
    use serde_json::json;

    #[test]
    fn a_client_stored_with_one_secret_loads_with_it_first() {
        let settings = serde_json::to_value(ClientSettings::named("app")).unwrap();
        let old = json!({"pool_id": "us-east-1_A", "client_id": "c1", "client_secret": "s3cr3t",
                         "created": 1_700_000_000_000i64, "modified": 1_700_000_000_000i64,
                         "settings": settings});
        let client: AppClient = serde_json::from_value(old).unwrap();
        assert_eq!(client.secrets.len(), 1);
        assert_eq!(client.secrets[0].id, "c1--1700000000000");
        assert_eq!(client.original_secret(), Some("s3cr3t"));
        assert!(client.secret_matches("s3cr3t") && !client.secret_matches("s3cr3"));
        // Written back, it keeps the list (and loads the same).
        let again: AppClient =
            serde_json::from_value(serde_json::to_value(&client).unwrap()).unwrap();
        assert_eq!(again, client);
        // A public client stays public.
        let public = json!({"pool_id": "us-east-1_A", "client_id": "c2", "client_secret": null,
                            "created": 1, "modified": 1, "settings": settings});
        let public: AppClient = serde_json::from_value(public).unwrap();
        assert!(!public.has_secret() && public.original_secret().is_none());
    }

    #[test]
    fn settings_merge_keeps_what_is_not_given() {
        let mut old = json!({"components": {"pageBackground": {"lightMode": {"color": "ffffffff"}}, "form": {"x": 1}}});
        merge_settings(
            &mut old,
            json!({"components": {"pageBackground": {"lightMode": {"color": "000000ff"}}}}),
        );
        assert_eq!(
            old,
            json!({"components": {"pageBackground": {"lightMode": {"color": "000000ff"}}, "form": {"x": 1}}})
        );
    }

    #[test]
    fn merged_settings_are_the_default_style_under_the_own() {
        let plain = merged_style_settings(None);
        assert_eq!(plain["categories"]["global"]["colorSchemeMode"], "LIGHT");
        assert_eq!(
            plain["components"]["primaryButton"]["lightMode"]["defaults"]["backgroundColor"],
            "0972d3ff"
        );
        let own = json!({"categories": {"global": {"colorSchemeMode": "DARK"}}});
        let merged = merged_style_settings(Some(&own));
        assert_eq!(merged["categories"]["global"]["colorSchemeMode"], "DARK");
        assert_eq!(merged["categories"]["global"]["spacingDensity"], "REGULAR");
        assert_eq!(merged["components"], plain["components"]);
    }
}

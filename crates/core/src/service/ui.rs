//! SetUICustomization / GetUICustomization: the hosted UI's branding (CSS
//! and logo) for one app client or for the whole pool (`ALL`). The pages
//! read it through `UserPools::hosted_branding`; the style sheet's rules
//! are [`super::ui_css`]'s.

use super::UserPools;
use crate::error::{Error, Result};
use crate::model::UiCustomization;

/// The largest logo accepted, as on Cognito's classic hosted UI.
pub const MAX_LOGO_BYTES: usize = 100 * 1024;
/// The largest style sheet accepted.
pub const MAX_CSS_BYTES: usize = 131_072;

/// The client id under which a pool-wide customization is kept.
pub const ALL_CLIENTS: &str = "ALL";

fn is_png_or_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.starts_with(b"\xff\xd8\xff")
}

impl UserPools {
    /// The customization's key: `ALL`, or a client that belongs to the pool.
    /// The hosted UI lives on a domain, so a pool without one has no
    /// customization to set or get (AWS's refusal, in its words).
    async fn ui_target(&self, pool_id: &str, client_id: Option<&str>) -> Result<String> {
        self.pool(pool_id).await?;
        let target = match client_id.filter(|c| *c != ALL_CLIENTS) {
            Some(c) => self.client_of(pool_id, c).await?.client_id,
            None => ALL_CLIENTS.to_owned(),
        };
        if self.domain_of_pool(pool_id).await?.is_none() {
            return Err(Error::invalid_parameter(
                "There has to be an existing domain associated with this user pool",
            ));
        }
        Ok(target)
    }

    /// Creates or replaces the branding of a client (or of the pool when
    /// `client_id` is absent or `ALL`).
    pub async fn set_ui_customization(
        &self,
        pool_id: &str,
        client_id: Option<&str>,
        css: Option<String>,
        image: Option<Vec<u8>>,
    ) -> Result<UiCustomization> {
        let target = self.ui_target(pool_id, client_id).await?;
        if css.as_ref().is_some_and(|c| c.len() > MAX_CSS_BYTES) {
            return Err(Error::invalid_parameter(format!(
                "CSS is larger than {MAX_CSS_BYTES} bytes."
            )));
        }
        if let Some(css) = &css {
            super::ui_css::check(css)?;
        }
        if let Some(img) = &image {
            if img.len() > MAX_LOGO_BYTES {
                return Err(Error::invalid_parameter(
                    "Logo image file is larger than 100 KB.",
                ));
            }
            if !is_png_or_jpeg(img) {
                return Err(Error::invalid_parameter(
                    "Logo image must be a PNG or JPEG file.",
                ));
            }
        }
        let now = self.now();
        let created = self
            .store
            .get_ui_customization(pool_id, &target)
            .await?
            .map_or(now, |old| old.created);
        let ui = UiCustomization {
            pool_id: pool_id.to_owned(),
            client_id: target,
            css: css.filter(|c| !c.is_empty()),
            image: image.filter(|i| !i.is_empty()),
            created,
            modified: now,
        };
        self.store.put_ui_customization(&ui).await?;
        Ok(ui)
    }

    /// The branding of this client, or else the pool's (`ALL`), as
    /// Cognito's GetUICustomization answers; `None` when neither is set.
    pub async fn get_ui_customization(
        &self,
        pool_id: &str,
        client_id: Option<&str>,
    ) -> Result<(String, Option<UiCustomization>)> {
        let target = self.ui_target(pool_id, client_id).await?;
        let ui = self.store.get_ui_customization(pool_id, &target).await?;
        if ui.is_none() && target != ALL_CLIENTS {
            let pool_wide = self
                .store
                .get_ui_customization(pool_id, ALL_CLIENTS)
                .await?;
            if pool_wide.is_some() {
                return Ok((ALL_CLIENTS.to_owned(), pool_wide));
            }
        }
        Ok((target, ui))
    }
}

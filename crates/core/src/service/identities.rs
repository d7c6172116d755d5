//! External identities linked to native users: AdminLinkProviderForUser and
//! AdminDisableProviderForUser. A link names a provider of the pool (an
//! identity-provider record), the attribute its users are matched by
//! (`Cognito_Subject` or a mapped attribute) and the value; the store keeps
//! each identity linked to one user at most and each user to
//! [`MAX_LINKED_IDENTITIES`] (`Store::link_identity`), and drops the links
//! with the user. A linked identity that signs in through its provider
//! (`federation.rs`) signs in as the native user. Disabling a federated
//! user's identity (one that is not linked) disables the federated user
//! `<ProviderName>_<subject>`. A destination user is a native user or a
//! federated user (`<ProviderName>_<user id>`).

use crate::error::{Error, ErrorKind, Result};
use crate::model::{LinkedIdentity, User, UserPool, UserStatus};
use crate::store::IdentityLink;

use super::UserPools;

/// Cognito's limit of identities linked to one user.
pub const MAX_LINKED_IDENTITIES: usize = 5;

/// The provider name that means the pool's own (native) users.
const COGNITO: &str = "Cognito";
/// The attribute name that means the provider's own subject.
const COGNITO_SUBJECT: &str = "Cognito_Subject";
/// Social providers, whose identities are always matched by subject.
const SOCIAL_TYPES: &[&str] = &["Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];

/// A `ProviderUserIdentifierType` as the caller gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderUser {
    pub provider_name: Option<String>,
    pub attribute_name: Option<String>,
    pub attribute_value: Option<String>,
}

fn is_cognito(name: &str) -> bool {
    name.eq_ignore_ascii_case(COGNITO)
}

fn provider_not_found(name: &str, pool_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("Identity provider {name} does not exist in user pool {pool_id}."),
    )
}

/// A member the operation needs that the model leaves optional.
fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::invalid_parameter(format!("{what} is required."))),
    }
}

/// The external identity a `SourceUser` / `User` names: its provider must
/// be one of the pool's, and a social provider's identities are matched by
/// `Cognito_Subject` only.
fn external_identity<'a>(
    pool: &UserPool,
    user: &'a ProviderUser,
    member: &str,
) -> Result<(&'a str, &'a str, &'a str)> {
    let provider = required(&user.provider_name, &format!("{member}.ProviderName"))?;
    let provider_type = pool
        .identity_providers
        .iter()
        .find(|p| p.name == provider)
        .map(|p| p.provider_type.as_str())
        .ok_or_else(|| provider_not_found(provider, &pool.id))?;
    let attribute = required(
        &user.attribute_name,
        &format!("{member}.ProviderAttributeName"),
    )?;
    let value = required(
        &user.attribute_value,
        &format!("{member}.ProviderAttributeValue"),
    )?;
    if SOCIAL_TYPES.contains(&provider_type) && attribute != COGNITO_SUBJECT {
        return Err(Error::invalid_parameter(format!(
            "ProviderAttributeName must be {COGNITO_SUBJECT} for a {provider_type} identity."
        )));
    }
    Ok((provider, attribute, value))
}

/// Removes the entry of `(provider, user_id)` from a user's `identities`.
fn drop_identity(user: &mut User, provider: &str, user_id: &str) {
    let Some(mut list) = user
        .attribute("identities")
        .and_then(|v| serde_json::from_str::<Vec<serde_json::Value>>(v).ok())
    else {
        return;
    };
    list.retain(|e| {
        !(e.get("providerName").and_then(|v| v.as_str()) == Some(provider)
            && e.get("userId").and_then(|v| v.as_str()) == Some(user_id))
    });
    let value = (!list.is_empty()).then(|| super::federation::identities_text(&list));
    user.set_attribute("identities", value.as_deref());
}

impl UserPools {
    /// AdminLinkProviderForUser: links the external identity `source` to the
    /// user `destination`: a native user (provider `Cognito`, value its
    /// username) or a federated one (its provider, value its user id).
    pub async fn admin_link_provider_for_user(
        &self,
        pool_id: &str,
        destination: &ProviderUser,
        source: &ProviderUser,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        if source.provider_name.as_deref().is_some_and(is_cognito) {
            return Err(Error::invalid_parameter(
                "Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, only as a DestinationUser",
            ));
        }
        let (provider, attribute, value) = external_identity(&pool, source, "SourceUser")?;
        let destination_provider =
            required(&destination.provider_name, "DestinationUser.ProviderName")?;
        let username = required(
            &destination.attribute_value,
            "DestinationUser.ProviderAttributeValue",
        )?;
        // A native destination is named by its username; a federated one
        // (as AWS allows) by its provider and the provider's user id, the
        // federated user `<ProviderName>_<user id>`.
        let destination_username = if is_cognito(destination_provider) {
            username.to_owned()
        } else {
            if !pool
                .identity_providers
                .iter()
                .any(|p| p.name == destination_provider)
            {
                return Err(provider_not_found(destination_provider, &pool.id));
            }
            format!("{destination_provider}_{username}")
        };
        let user = self
            .store
            .get_user(&pool.id, &pool.username_key(&destination_username))
            .await?
            .ok_or_else(Error::user_not_found)?;
        // AWS: every attribute of the destination user must be mutable.
        let immutable = user.attributes.iter().find(|a| {
            pool.schema
                .iter()
                .any(|s| s.name == a.name && !s.mutable && s.name.contains("custom:"))
        });
        if let Some(attribute) = immutable {
            return Err(Error::invalid_parameter(format!(
                "The destination user has the immutable attribute {}; all attributes of a DestinationUser must be mutable.",
                attribute.name
            )));
        }
        let link = LinkedIdentity {
            pool_id: pool.id.clone(),
            username_key: user.username_key.clone(),
            provider_name: provider.to_owned(),
            attribute_name: attribute.to_owned(),
            attribute_value: value.to_owned(),
            created: self.now(),
        };
        match self
            .store
            .link_identity(&link, MAX_LINKED_IDENTITIES)
            .await?
        {
            IdentityLink::Done => Ok(()),
            IdentityLink::AlreadyLinked => Err(Error::new(
                ErrorKind::AliasExists,
                "The SourceUser is already linked to a user.",
            )),
            IdentityLink::LimitReached => Err(Error::new(
                ErrorKind::LimitExceeded,
                format!("A user can have at most {MAX_LINKED_IDENTITIES} linked identities."),
            )),
            IdentityLink::UserMissing => Err(Error::user_not_found()),
        }
    }

    /// AdminDisableProviderForUser: for an external identity, removes its
    /// link (named as it was linked) or disables the federated user; for
    /// a native user (provider `Cognito`, `Cognito_Subject`, its username),
    /// turns its password sign-in off, as AWS documents.
    pub async fn admin_disable_provider_for_user(
        &self,
        pool_id: &str,
        user: &ProviderUser,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        if user.provider_name.as_deref().is_some_and(is_cognito) {
            if user.attribute_name.as_deref() != Some(COGNITO_SUBJECT) {
                return Err(Error::invalid_parameter(
                    "To disable a native user, ProviderAttributeName must be Cognito_Subject.",
                ));
            }
            let username = required(&user.attribute_value, "User.ProviderAttributeValue")?;
            let native = self
                .store
                .get_user(&pool.id, &pool.username_key(username))
                .await?
                .filter(|u| u.status != UserStatus::ExternalProvider)
                .ok_or_else(Error::user_not_found)?;
            let now = self.now();
            let (native, ()) = self
                .update_user(native, |u| {
                    u.password_sign_in_disabled = true;
                    u.modified = now;
                    Ok(())
                })
                .await?;
            crate::audit::user_event("admin_disable_provider_for_user", &pool.id, &native.sub);
            return Ok(());
        }
        let (provider, attribute, value) = external_identity(&pool, user, "User")?;
        if let Some(key) = self
            .store
            .identity_owner(&pool.id, provider, attribute, value)
            .await?
        {
            self.store
                .unlink_identity(&pool.id, provider, attribute, value)
                .await?;
            // The native user no longer carries the identity either.
            if let Some(native) = self.store.get_user(&pool.id, &key).await? {
                self.update_user(native, |u| {
                    drop_identity(u, provider, value);
                    Ok(())
                })
                .await?;
            }
            return Ok(());
        }
        // A federated user (`<ProviderName>_<subject>`, signed in through
        // the provider): its sign-in through the provider is disabled.
        let federated = pool.username_key(&format!("{provider}_{value}"));
        match self.store.get_user(&pool.id, &federated).await? {
            Some(u) if attribute == COGNITO_SUBJECT && u.status == UserStatus::ExternalProvider => {
                let now = self.now();
                self.update_user(u, |u| {
                    u.enabled = false;
                    u.modified = now;
                    Ok(())
                })
                .await?;
                Ok(())
            }
            _ => Err(Error::user_not_found()),
        }
    }

    /// The identities linked to a user (by username key), oldest first.
    pub async fn linked_identities(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> Result<Vec<LinkedIdentity>> {
        Ok(self.store.identities_of_user(pool_id, username_key).await?)
    }
}

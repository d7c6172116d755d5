//! `cognate export` and `cognate import`: the whole state that matters
//! across a move or a restore (pools with their signing keys, app clients,
//! groups, resource servers, domains, hosted-UI branding, users with their
//! password hashes, SRP verifiers, MFA secrets, sign-out instant, group
//! memberships, linked external identities and passkeys) as one versioned JSON Lines
//! file. Short-lived state
//! (challenge sessions, codes, refresh tokens, SSO sessions, lockout counters) is left
//! out: after a restore users sign in again, with the same passwords.
//!
//! The file holds private keys and password hashes: keep it as you keep the
//! database.

use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use cognate_core::model::{
    AppClient, Group, LinkedIdentity, PoolDomain, ResourceServer, RevokedOrigin, StoredKey,
    UiCustomization, User, UserPool, WebAuthnCredential,
};
use cognate_core::service::identities::MAX_LINKED_IDENTITIES;
use cognate_core::service::webauthn::MAX_CREDENTIALS_PER_USER;
use cognate_core::store::{CredentialAdd, IdentityLink, ImportOutcome, ImportUser, Store};
use serde::{Deserialize, Serialize};

/// The format's version; an importer refuses files of a newer one.
pub const FORMAT_VERSION: u32 = 1;
/// Users written to the store per transaction on import.
const IMPORT_BATCH: usize = 1000;
const PAGE: usize = 500;

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The first line.
    Header {
        cognate_export: u32,
        exported_at: i64,
    },
    Pool {
        pool: Box<UserPool>,
        keys: Vec<Key>,
    },
    Client {
        client: Box<AppClient>,
    },
    Group {
        group: Group,
    },
    ResourceServer {
        resource_server: ResourceServer,
    },
    Domain {
        domain: PoolDomain,
    },
    Ui {
        pool_id: String,
        client_id: String,
        css: Option<String>,
        /// Base64.
        image: Option<String>,
        created: i64,
        modified: i64,
    },
    User {
        user: Box<User>,
        tokens_valid_after: Option<i64>,
        totp_last_step: Option<i64>,
        /// Sessions revoked (RevokeToken, sign-out) whose access tokens may still be unexpired.
        #[serde(default)]
        revoked_sessions: Vec<RevokedOrigin>,
        groups: Vec<String>,
        /// External identities linked to the user (AdminLinkProviderForUser).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        identities: Vec<LinkedIdentity>,
        /// The user's passkeys (CompleteWebAuthnRegistration).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        passkeys: Vec<WebAuthnCredential>,
    },
}

/// A signing key in the file (PKCS#8 in base64).
#[derive(Debug, Serialize, Deserialize)]
pub struct Key {
    kid: String,
    purpose: String,
    pkcs8: String,
    created: i64,
    signs_from: i64,
    signs_until: Option<i64>,
    published_until: Option<i64>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Writes every pool and what it holds to `out`; returns (pools, users).
pub async fn export(
    store: &Arc<dyn Store>,
    now: i64,
    out: &mut dyn Write,
) -> anyhow::Result<(u64, u64)> {
    let mut line = |record: &Record| -> anyhow::Result<()> {
        serde_json::to_writer(&mut *out, record)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    line(&Record::Header {
        cognate_export: FORMAT_VERSION,
        exported_at: now,
    })?;
    let (mut pools, mut users) = (0, 0);
    let mut after: Option<String> = None;
    loop {
        let page = store.list_pools(after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for pool in page {
            pools += 1;
            users += export_pool(store, pool, &mut line).await?;
        }
    }
    out.flush()?;
    Ok((pools, users))
}

async fn export_pool(
    store: &Arc<dyn Store>,
    pool: UserPool,
    line: &mut impl FnMut(&Record) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let id = pool.id.clone();
    let keys = store
        .list_keys(&id)
        .await?
        .into_iter()
        .map(|k| Key {
            kid: k.kid,
            purpose: k.purpose,
            pkcs8: b64().encode(&k.pkcs8),
            created: k.created,
            signs_from: k.signs_from,
            signs_until: k.signs_until,
            published_until: k.published_until,
        })
        .collect();
    line(&Record::Pool {
        pool: Box::new(pool),
        keys,
    })?;
    let mut client_ids = vec!["ALL".to_owned()];
    let mut after: Option<String> = None;
    loop {
        let page = store.list_clients(&id, after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.client_id.clone());
        for client in page {
            client_ids.push(client.client_id.clone());
            line(&Record::Client {
                client: Box::new(client),
            })?;
        }
    }
    let mut groups = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_groups(&id, after.as_deref(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.name.clone());
        for group in page {
            groups.push(group.name.clone());
            line(&Record::Group { group })?;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_resource_servers(&id, after.as_deref(), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.identifier.clone());
        for resource_server in page {
            line(&Record::ResourceServer { resource_server })?;
        }
    }
    for domain in store.domains_of_pool(&id).await? {
        line(&Record::Domain { domain })?;
    }
    for client_id in &client_ids {
        if let Some(ui) = store.get_ui_customization(&id, client_id).await? {
            line(&Record::Ui {
                pool_id: ui.pool_id,
                client_id: ui.client_id,
                css: ui.css,
                image: ui.image.map(|i| b64().encode(i)),
                created: ui.created,
                modified: ui.modified,
            })?;
        }
    }
    // Memberships by user: read group by group (one query per group, not per user).
    let mut members: std::collections::HashMap<String, Vec<String>> = Default::default();
    for group in &groups {
        let mut after: Option<String> = None;
        loop {
            let page = store
                .users_in_group(&id, group, after.as_deref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.username_key.clone());
            for u in page {
                members
                    .entry(u.username_key)
                    .or_default()
                    .push(group.clone());
            }
        }
    }
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list_users(&id, None, cursor.as_deref(), PAGE).await?;
        for user in page.users {
            count += 1;
            let identities = store.identities_of_user(&id, &user.username_key).await?;
            let passkeys = store
                .webauthn_credentials_of_user(&id, &user.username_key)
                .await?;
            line(&Record::User {
                identities,
                passkeys,
                tokens_valid_after: user.tokens_valid_after,
                totp_last_step: user.totp_last_step,
                revoked_sessions: user.revoked_origins.clone(),
                groups: members.remove(&user.username_key).unwrap_or_default(),
                user: Box::new(user),
            })?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(count)
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub pools: u64,
    pub users: u64,
    /// Records left out because they exist already (or conflict), with why.
    pub skipped: Vec<String>,
}

/// Reads an export file into the store. Records that exist already are
/// left as they are and reported; everything else is inserted.
pub async fn import(
    store: &Arc<dyn Store>,
    input: &mut dyn BufRead,
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut pools: std::collections::HashMap<String, UserPool> = Default::default();
    let mut batch: Vec<ImportUser> = Vec::with_capacity(IMPORT_BATCH);
    let mut links: Vec<LinkedIdentity> = Vec::new();
    let mut keys: Vec<WebAuthnCredential> = Vec::new();
    let mut lines = input.lines();
    let header = lines.next().context("the file is empty")??;
    match serde_json::from_str::<Record>(&header) {
        Ok(Record::Header { cognate_export, .. }) if cognate_export <= FORMAT_VERSION => {}
        Ok(Record::Header { cognate_export, .. }) => anyhow::bail!(
            "the file is format version {cognate_export}; this cognate reads up to {FORMAT_VERSION}"
        ),
        _ => anyhow::bail!("line 1: not a cognate export file (no header line)"),
    }
    for (n, text) in lines.enumerate() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&text)
            .with_context(|| format!("line {}: not a record of the export format", n + 2))?;
        if !matches!(record, Record::User { .. }) && !batch.is_empty() {
            flush(store, &mut batch, &mut report).await?;
        }
        match record {
            Record::Header { .. } => anyhow::bail!("line {}: a second header", n + 2),
            Record::Pool { pool, keys } => {
                let keys = keys
                    .into_iter()
                    .map(|k| {
                        Ok(StoredKey {
                            pool_id: pool.id.clone(),
                            kid: k.kid,
                            purpose: k.purpose,
                            pkcs8: b64().decode(k.pkcs8).context("a key's pkcs8")?,
                            created: k.created,
                            signs_from: k.signs_from,
                            signs_until: k.signs_until,
                            published_until: k.published_until,
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()
                    .with_context(|| format!("line {}", n + 2))?;
                match store.insert_pool(&pool, &keys).await {
                    Ok(()) => report.pools += 1,
                    Err(cognate_core::StoreError::Conflict(_)) => report
                        .skipped
                        .push(format!("pool {}: exists (left as it is)", pool.id)),
                    Err(e) => return Err(e.into()),
                }
                pools.insert(pool.id.clone(), *pool);
            }
            Record::Client { client } => {
                skip_existing(
                    store.insert_client(&client).await,
                    &mut report,
                    format!("client {}", client.client_id),
                )?;
            }
            Record::Group { group } => skip_existing(
                store.insert_group(&group).await,
                &mut report,
                format!("group {} of {}", group.name, group.pool_id),
            )?,
            Record::ResourceServer { resource_server } => skip_existing(
                store.insert_resource_server(&resource_server).await,
                &mut report,
                format!("resource server {}", resource_server.identifier),
            )?,
            Record::Domain { domain } => skip_existing(
                store.insert_domain(&domain).await,
                &mut report,
                format!("domain {}", domain.domain),
            )?,
            Record::Ui {
                pool_id,
                client_id,
                css,
                image,
                created,
                modified,
            } => {
                let image = image
                    .map(|i| b64().decode(i))
                    .transpose()
                    .with_context(|| format!("line {}: the logo", n + 2))?;
                store
                    .put_ui_customization(&UiCustomization {
                        pool_id,
                        client_id,
                        css,
                        image,
                        created,
                        modified,
                    })
                    .await?;
            }
            Record::User {
                user,
                tokens_valid_after,
                totp_last_step,
                revoked_sessions,
                groups,
                identities,
                passkeys,
            } => {
                let pool = pools.get(&user.pool_id).with_context(|| {
                    format!(
                        "line {}: a user of pool {} before the pool",
                        n + 2,
                        user.pool_id
                    )
                })?;
                let mut user = *user;
                user.tokens_valid_after = tokens_valid_after;
                user.totp_last_step = totp_last_step;
                user.revoked_origins = revoked_sessions;
                batch.push(ImportUser {
                    aliases: pool.alias_keys(&user),
                    user,
                    groups,
                });
                links.extend(identities);
                keys.extend(passkeys);
                if batch.len() >= IMPORT_BATCH {
                    flush(store, &mut batch, &mut report).await?;
                    link_all(store, &mut links, &mut report).await?;
                    add_passkeys(store, &mut keys, &mut report).await?;
                }
            }
        }
    }
    flush(store, &mut batch, &mut report).await?;
    link_all(store, &mut links, &mut report).await?;
    add_passkeys(store, &mut keys, &mut report).await?;
    Ok(report)
}

/// Stores the passkeys of users just written (one of a user that was
/// skipped, or whose id is registered already, is reported and left out).
async fn add_passkeys(
    store: &Arc<dyn Store>,
    keys: &mut Vec<WebAuthnCredential>,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    for key in keys.drain(..) {
        let why = match store
            .add_webauthn_credential(&key, MAX_CREDENTIALS_PER_USER)
            .await?
        {
            CredentialAdd::Done => continue,
            CredentialAdd::Exists => "registered already",
            CredentialAdd::LimitReached => "the user has the most passkeys allowed",
            CredentialAdd::UserMissing => "no such user",
        };
        report.skipped.push(format!(
            "passkey {} of user {}: {why}",
            key.credential_id, key.username_key
        ));
    }
    Ok(())
}

/// Links the identities of users just written (a link to a user that was
/// skipped, or an identity linked already, is reported and left out).
async fn link_all(
    store: &Arc<dyn Store>,
    links: &mut Vec<LinkedIdentity>,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    for link in links.drain(..) {
        let why = match store.link_identity(&link, MAX_LINKED_IDENTITIES).await? {
            IdentityLink::Done => continue,
            IdentityLink::AlreadyLinked => "linked already",
            IdentityLink::LimitReached => "the user has the most identities allowed",
            IdentityLink::UserMissing => "no such user",
        };
        report.skipped.push(format!(
            "identity {}:{} of user {}: {why}",
            link.provider_name, link.attribute_name, link.username_key
        ));
    }
    Ok(())
}

async fn flush(
    store: &Arc<dyn Store>,
    batch: &mut Vec<ImportUser>,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ImportOutcome { inserted, skipped } = store.import_users(batch).await?;
    report.users += inserted;
    report.skipped.extend(
        skipped
            .into_iter()
            .map(|(u, why)| format!("user {u}: {why}")),
    );
    batch.clear();
    Ok(())
}

fn skip_existing(
    result: Result<(), cognate_core::StoreError>,
    report: &mut ImportReport,
    what: String,
) -> anyhow::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(cognate_core::StoreError::Conflict(_)) => {
            report
                .skipped
                .push(format!("{what}: exists (left as it is)"));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

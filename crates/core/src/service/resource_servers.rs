//! CreateResourceServer, DescribeResourceServer, ListResourceServers,
//! UpdateResourceServer, DeleteResourceServer, and the custom scopes
//! (`<identifier>/<scope>`) they define.

use std::collections::BTreeSet;

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result, StoreError};
use crate::model::{ResourceServer, ResourceServerScope};

/// Resource servers per pool (Cognito's quota).
pub const MAX_RESOURCE_SERVERS: usize = 25;

fn not_found(identifier: &str, pool_id: &str) -> Error {
    Error::new(
        ErrorKind::ResourceNotFound,
        format!("{identifier} does not exist in user pool {pool_id}."),
    )
}

fn check_scopes(scopes: &[ResourceServerScope]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for s in scopes {
        if !seen.insert(s.name.as_str()) {
            return Err(Error::invalid_parameter(format!(
                "Duplicate scope name {} in the request.",
                s.name
            )));
        }
    }
    Ok(())
}

impl UserPools {
    pub async fn create_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
        name: &str,
        scopes: Vec<ResourceServerScope>,
    ) -> Result<ResourceServer> {
        self.pool(pool_id).await?;
        check_scopes(&scopes)?;
        let existing = self
            .store
            .list_resource_servers(pool_id, None, MAX_RESOURCE_SERVERS + 1)
            .await?;
        if existing.len() >= MAX_RESOURCE_SERVERS {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                "The user pool has reached its limit of resource servers.",
            ));
        }
        let server = ResourceServer {
            pool_id: pool_id.to_owned(),
            identifier: identifier.to_owned(),
            name: name.to_owned(),
            scopes,
        };
        match self.store.insert_resource_server(&server).await {
            Ok(()) => Ok(server),
            Err(StoreError::Conflict(_)) => Err(Error::invalid_parameter(format!(
                "{identifier} already exists in user pool {pool_id}."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn describe_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<ResourceServer> {
        self.pool(pool_id).await?;
        self.store
            .get_resource_server(pool_id, identifier)
            .await?
            .ok_or_else(|| not_found(identifier, pool_id))
    }

    pub async fn list_resource_servers(
        &self,
        pool_id: &str,
        limit: usize,
        next: Option<&str>,
    ) -> Result<Page<ResourceServer>> {
        self.pool(pool_id).await?;
        let after = next.map(decode_token).transpose()?;
        let items = self
            .store
            .list_resource_servers(pool_id, after.as_deref(), limit + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, |r| &r.identifier))
    }

    /// UpdateResourceServer replaces the name and the scopes.
    pub async fn update_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
        name: &str,
        scopes: Vec<ResourceServerScope>,
    ) -> Result<ResourceServer> {
        check_scopes(&scopes)?;
        let mut server = self.describe_resource_server(pool_id, identifier).await?;
        server.name = name.to_owned();
        server.scopes = scopes;
        if !self.store.update_resource_server(&server).await? {
            return Err(not_found(identifier, pool_id));
        }
        Ok(server)
    }

    pub async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> Result<()> {
        self.pool(pool_id).await?;
        if !self
            .store
            .delete_resource_server(pool_id, identifier)
            .await?
        {
            return Err(not_found(identifier, pool_id));
        }
        Ok(())
    }

    /// Creates or updates a resource server declared in the config file.
    pub async fn reconcile_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
        name: &str,
        scopes: Vec<ResourceServerScope>,
    ) -> Result<ResourceServer> {
        self.pool(pool_id).await?;
        match self.store.get_resource_server(pool_id, identifier).await? {
            None => {
                self.create_resource_server(pool_id, identifier, name, scopes)
                    .await
            }
            Some(s) if s.name == name && s.scopes == scopes => Ok(s),
            Some(_) => {
                self.update_resource_server(pool_id, identifier, name, scopes)
                    .await
            }
        }
    }

    /// Every custom scope string of a pool.
    pub(crate) async fn custom_scopes(&self, pool_id: &str) -> Result<BTreeSet<String>> {
        let servers = self
            .store
            .list_resource_servers(pool_id, None, MAX_RESOURCE_SERVERS * 4)
            .await?;
        Ok(servers.iter().flat_map(|s| s.scope_strings()).collect())
    }
}

//! CreateGroup, GetGroup, UpdateGroup, ListGroups, DeleteGroup,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser,
//! ListUsersInGroup.

use super::{decode_token, Page, UserPools};
use crate::error::{Error, ErrorKind, Result, StoreError};
use crate::model::{Group, User};

/// The changeable fields of a group.
#[derive(Clone, Debug, Default)]
pub struct GroupFields {
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
}

fn group_not_found() -> Error {
    Error::new(ErrorKind::ResourceNotFound, "Group not found.")
}

impl UserPools {
    pub async fn create_group(
        &self,
        pool_id: &str,
        name: &str,
        fields: GroupFields,
    ) -> Result<Group> {
        self.pool(pool_id).await?;
        let now = self.now();
        let group = Group {
            pool_id: pool_id.to_owned(),
            name: name.to_owned(),
            description: fields.description,
            role_arn: fields.role_arn,
            precedence: fields.precedence,
            created: now,
            modified: now,
        };
        match self.store.insert_group(&group).await {
            Ok(()) => Ok(group),
            Err(StoreError::Conflict(_)) => Err(Error::new(
                ErrorKind::GroupExists,
                "A group with the name already exists.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_group(&self, pool_id: &str, name: &str) -> Result<Group> {
        self.pool(pool_id).await?;
        self.store
            .get_group(pool_id, name)
            .await?
            .ok_or_else(group_not_found)
    }

    /// UpdateGroup: members that are sent replace the stored ones.
    pub async fn update_group(
        &self,
        pool_id: &str,
        name: &str,
        fields: GroupFields,
    ) -> Result<Group> {
        let mut group = self.get_group(pool_id, name).await?;
        if fields.description.is_some() {
            group.description = fields.description;
        }
        if fields.role_arn.is_some() {
            group.role_arn = fields.role_arn;
        }
        if fields.precedence.is_some() {
            group.precedence = fields.precedence;
        }
        group.modified = self.now();
        self.store.update_group(&group).await?;
        Ok(group)
    }

    pub async fn list_groups(
        &self,
        pool_id: &str,
        limit: usize,
        next: Option<&str>,
    ) -> Result<Page<Group>> {
        self.pool(pool_id).await?;
        let after = next.map(decode_token).transpose()?;
        let items = self
            .store
            .list_groups(pool_id, after.as_deref(), limit + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, |g| &g.name))
    }

    pub async fn delete_group(&self, pool_id: &str, name: &str) -> Result<()> {
        self.pool(pool_id).await?;
        if !self.store.delete_group(pool_id, name).await? {
            return Err(group_not_found());
        }
        Ok(())
    }

    /// The user a membership call names, once the pool, user and group are known to exist.
    async fn member_of_existing_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<User> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        self.store
            .get_group(pool_id, group)
            .await?
            .ok_or_else(group_not_found)?;
        Ok(user)
    }

    pub async fn admin_add_user_to_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<()> {
        let user = self
            .member_of_existing_group(pool_id, username, group)
            .await?;
        match self
            .store
            .add_user_to_group(pool_id, group, &user.username_key)
            .await
        {
            Ok(()) => {
                crate::audit::user_event("admin_add_user_to_group", pool_id, &user.sub);
                Ok(())
            }
            // The user or the group was deleted meanwhile: no membership is left behind.
            Err(StoreError::Conflict(_)) => match self.store.get_group(pool_id, group).await? {
                Some(_) => Err(Error::user_not_found()),
                None => Err(group_not_found()),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub async fn admin_remove_user_from_group(
        &self,
        pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<()> {
        let user = self
            .member_of_existing_group(pool_id, username, group)
            .await?;
        self.store
            .remove_user_from_group(pool_id, group, &user.username_key)
            .await?;
        crate::audit::user_event("admin_remove_user_from_group", pool_id, &user.sub);
        Ok(())
    }

    pub async fn admin_list_groups_for_user(
        &self,
        pool_id: &str,
        username: &str,
        limit: usize,
        next: Option<&str>,
    ) -> Result<Page<Group>> {
        let pool = self.pool(pool_id).await?;
        let user = self.admin_user(&pool, username).await?;
        let after = next.map(decode_token).transpose()?;
        let items: Vec<Group> = self
            .store
            .groups_of_user(pool_id, &user.username_key)
            .await?
            .into_iter()
            .filter(|g| after.as_deref().is_none_or(|a| g.name.as_str() > a))
            .collect();
        Ok(Page::from_overfetch(items, limit, |g| &g.name))
    }

    pub async fn list_users_in_group(
        &self,
        pool_id: &str,
        group: &str,
        limit: usize,
        next: Option<&str>,
    ) -> Result<Page<User>> {
        self.get_group(pool_id, group).await?;
        let after = next.map(decode_token).transpose()?;
        let items = self
            .store
            .users_in_group(pool_id, group, after.as_deref(), limit + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, |u| &u.username_key))
    }
}

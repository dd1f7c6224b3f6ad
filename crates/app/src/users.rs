//! A practice's users and their rights (S7): list them, change a member's role, adjust a
//! member's permissions (add, remove, narrow calendar permissions to practitioners), remove a
//! member. Nobody grants a right they do not hold; only owners make owners; the last owner
//! cannot be removed or demoted. Rights are read afresh at every request, so a change takes
//! effect on the very next one.

use termin_domain::DomainError;
use termin_domain::ids::UserId;
use termin_domain::rights::{self, Adjustments, Permission, Rights};
use termin_domain::user::Role;
pub use termin_storage::Member;
use termin_storage::{Membership, NewSecurityEvent};

use crate::Services;
use crate::auth::CurrentSession;

/// The practice a request acts in, with the actor's rights there.
#[derive(Debug, Clone)]
pub struct Acting {
    pub membership: Membership,
    pub rights: Rights,
}

impl Acting {
    /// Whether the actor may give someone `role` with `adjustments`, or act on a member who
    /// holds them (`termin_domain::rights::may_give`).
    pub fn may_give(&self, role: Role, adjustments: &Adjustments) -> bool {
        rights::may_give(self.membership.role, &self.rights, role, adjustments)
    }
}

impl Services {
    /// The acting practice (see [`Services::acting_membership`]) if the user holds
    /// `permission` there; otherwise 403.
    pub async fn acting_with(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        permission: Permission,
    ) -> Result<Acting, DomainError> {
        let membership = self.acting_membership(session, org).await?;
        let rights = membership.rights();
        if !rights.has(permission) {
            return Err(DomainError::Forbidden);
        }
        Ok(Acting { membership, rights })
    }

    /// Everyone in the acting practice, with roles and rights.
    pub async fn users(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<Vec<Member>, DomainError> {
        let acting = self
            .acting_with(session, org, Permission::ManageUsers)
            .await?;
        Ok(self.store.members_of(acting.membership.org_id).await?)
    }

    /// A member of the acting practice whom the actor may manage; others are "not found"
    /// (another practice's user) or forbidden (someone with more rights).
    async fn managed(&self, acting: &Acting, user: UserId) -> Result<Member, DomainError> {
        let member = self
            .store
            .members_of(acting.membership.org_id)
            .await?
            .into_iter()
            .find(|m| m.user_id == user)
            .ok_or(DomainError::NotFound)?;
        if !acting.may_give(member.role, &member.adjustments) {
            return Err(DomainError::Forbidden);
        }
        Ok(member)
    }

    /// Gives a member another role (their adjustments stay).
    pub async fn change_role(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        user: UserId,
        role: Role,
    ) -> Result<Member, DomainError> {
        let acting = self
            .acting_with(session, org, Permission::ManageUsers)
            .await?;
        self.require_fresh(session)?;
        let member = self.managed(&acting, user).await?;
        if !acting.may_give(role, &member.adjustments) {
            return Err(DomainError::Forbidden);
        }
        let org_id = acting.membership.org_id;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.lock_org(org_id).await?;
        if member.role == Role::Owner && role != Role::Owner && tx.count_owners(org_id).await? <= 1
        {
            return Err(last_owner());
        }
        if !tx.set_role(org_id, user, role).await? {
            return Err(DomainError::NotFound);
        }
        tx.insert_security_event(&NewSecurityEvent {
            kind: "role_changed",
            org_id: Some(org_id),
            user_id: Some(user),
            actor_id: Some(session.user_id),
            source: None,
            detail: format!("{} -> {} in {org_id}", member.role.as_str(), role.as_str()),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user, actor = %session.user_id, role = role.as_str(), "role changed");
        self.member(org_id, user).await
    }

    /// Replaces a member's adjustments of their role's preset.
    pub async fn adjust_rights(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        user: UserId,
        adjustments: Adjustments,
    ) -> Result<Member, DomainError> {
        let acting = self
            .acting_with(session, org, Permission::ManageUsers)
            .await?;
        self.require_fresh(session)?;
        let member = self.managed(&acting, user).await?;
        if member.role == Role::Owner && !adjustments.is_empty() {
            return Err(DomainError::invalid(
                "grants",
                "owners hold every right; give the member another role first",
            ));
        }
        let before = member.rights();
        let after = rights::effective(member.role, &adjustments);
        if !acting.rights.covers(&before.gained_in(&after)) {
            return Err(DomainError::Forbidden);
        }
        let org_id = acting.membership.org_id;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.set_adjustments(org_id, user, &adjustments).await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind: "rights_changed",
            org_id: Some(org_id),
            user_id: Some(user),
            actor_id: Some(session.user_id),
            source: None,
            detail: format!("in {org_id}: {}", describe(&after)),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user, actor = %session.user_id, "rights adjusted");
        self.member(org_id, user).await
    }

    /// Removes a member from the acting practice.
    pub async fn remove_member(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        user: UserId,
    ) -> Result<(), DomainError> {
        let acting = self
            .acting_with(session, org, Permission::ManageUsers)
            .await?;
        self.require_fresh(session)?;
        let member = self.managed(&acting, user).await?;
        let org_id = acting.membership.org_id;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.lock_org(org_id).await?;
        if member.role == Role::Owner && tx.count_owners(org_id).await? <= 1 {
            return Err(last_owner());
        }
        if !tx.remove_membership(org_id, user).await? {
            return Err(DomainError::NotFound);
        }
        tx.insert_security_event(&NewSecurityEvent {
            kind: "member_removed",
            org_id: Some(org_id),
            user_id: Some(user),
            actor_id: Some(session.user_id),
            source: None,
            detail: format!("from {org_id}"),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user, actor = %session.user_id, "member removed");
        Ok(())
    }

    async fn member(
        &self,
        org: termin_domain::ids::OrgId,
        user: UserId,
    ) -> Result<Member, DomainError> {
        self.store
            .members_of(org)
            .await?
            .into_iter()
            .find(|m| m.user_id == user)
            .ok_or(DomainError::NotFound)
    }
}

fn last_owner() -> DomainError {
    DomainError::Conflict {
        code: "last_owner",
        message: "A practice keeps at least one owner: make someone else owner first.".to_owned(),
    }
}

/// The effective rights in a line for the security event (names and scope sizes only).
fn describe(rights: &Rights) -> String {
    rights
        .permissions()
        .map(|(p, scope)| match scope {
            rights::Scope::All => p.as_str().to_owned(),
            rights::Scope::Practitioners(set) => format!("{}[{}]", p.as_str(), set.len()),
        })
        .collect::<Vec<_>>()
        .join(",")
}

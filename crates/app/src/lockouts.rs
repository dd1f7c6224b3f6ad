//! What a practice's administrators see of attacks on their staff's accounts (S8), and what
//! they may do about it: locked accounts, blocked sources and recent failures; unlock,
//! unblock, and end every session of a member (S6). Every action is a security event.

use jiff::SignedDuration;
use termin_domain::DomainError;
use termin_domain::guard::LoginSubject;
use termin_domain::ids::UserId;
use termin_storage::{FailureRecord, LockedAccount, Membership, NewSecurityEvent, SeenBlock};

use crate::Services;
use crate::auth::CurrentSession;
use crate::users::Acting;
use termin_domain::rights::Permission;

/// How far back the administrators' view of failures reaches.
pub const FAILURES_SHOWN_FOR: SignedDuration = SignedDuration::from_hours(7 * 24);
/// At most this many recent failures are listed.
pub const FAILURES_SHOWN: u32 = 100;

/// Failed sign-ins are kept this long (the longest window any rule looks at is a day; the
/// administrators' view reaches back a week).
pub const FAILURES_KEPT_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The practice's view of attacks on its members' accounts.
#[derive(Debug, Clone)]
pub struct LockoutOverview {
    pub members: Vec<termin_storage::Member>,
    pub locked_accounts: Vec<LockedAccount>,
    pub blocked_sources: Vec<SeenBlock>,
    pub recent_failures: Vec<FailureRecord>,
}

impl Services {
    /// Removes failed sign-ins older than [`FAILURES_KEPT_FOR`] (run hourly by the server;
    /// security events stay for the audit log).
    pub async fn prune_sign_in_failures(&self) -> Result<u64, DomainError> {
        let now = self.clock.now();
        let before = now.checked_sub(FAILURES_KEPT_FOR).unwrap_or(now);
        Ok(self.store.prune_failures(before).await?)
    }

    /// The acting practice's membership of an administrator (who manages users).
    pub(crate) async fn admin_membership(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<Membership, DomainError> {
        Ok(self
            .acting_with(session, org, Permission::ManageUsers)
            .await?
            .membership)
    }

    /// A member of the administrator's practice whom they may act on. Unlocking and ending
    /// sessions act on the whole account, so the administrator must be able to grant the
    /// member's role in *every* practice the member belongs to (an administrator cannot act
    /// on an owner, here or elsewhere). A non-member is "not found".
    async fn managed_member(
        &self,
        actor: UserId,
        admin: &Membership,
        user: UserId,
    ) -> Result<(), DomainError> {
        let theirs = self.store.memberships_of(user).await?;
        if !theirs.iter().any(|m| m.org_id == admin.org_id) {
            return Err(DomainError::NotFound);
        }
        let ours = self.store.memberships_of(actor).await?;
        for member in &theirs {
            let may = ours
                .iter()
                .find(|m| m.org_id == member.org_id)
                .is_some_and(|m| {
                    let acting = Acting {
                        rights: m.rights(),
                        membership: m.clone(),
                    };
                    acting.rights.has(Permission::ManageUsers)
                        && acting.may_give(member.role, &member.adjustments)
                });
            if !may {
                return Err(DomainError::Forbidden);
            }
        }
        Ok(())
    }

    pub async fn lockout_overview(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
    ) -> Result<(Membership, LockoutOverview), DomainError> {
        let admin = self.admin_membership(session, org).await?;
        let now = self.clock.now();
        let since = now.checked_sub(FAILURES_SHOWN_FOR).unwrap_or(now);
        let overview = LockoutOverview {
            members: self.store.members_of(admin.org_id).await?,
            locked_accounts: self.store.locked_members(admin.org_id, now).await?,
            blocked_sources: self.store.blocks_seen_by(admin.org_id, since, now).await?,
            recent_failures: self
                .store
                .failures_of_members(admin.org_id, since, FAILURES_SHOWN)
                .await?,
        };
        Ok((admin, overview))
    }

    /// Unlocks a member's account (their failures are forgotten).
    pub async fn unlock_member(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        user: UserId,
    ) -> Result<(), DomainError> {
        let admin = self.admin_membership(session, org).await?;
        self.managed_member(session.user_id, &admin, user).await?;
        self.require_fresh(session)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let address = self
            .store
            .find_user(user)
            .await?
            .map(|u| LoginSubject::for_email(u.email.as_str()))
            .ok_or(DomainError::NotFound)?;
        let was_locked = tx.reset_guards_of(user, &address, now).await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind: "account_unlocked",
            org_id: Some(admin.org_id),
            user_id: Some(user),
            actor_id: Some(session.user_id),
            source: None,
            detail: format!("by an administrator; was locked: {was_locked}"),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user, actor = %session.user_id, "account unlocked by an administrator");
        Ok(())
    }

    /// Lifts the block of a source that failed against this practice's members; any other
    /// source is "not found".
    pub async fn unblock_source(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        source: &str,
    ) -> Result<(), DomainError> {
        let admin = self.admin_membership(session, org).await?;
        self.require_fresh(session)?;
        let now = self.clock.now();
        let since = now.checked_sub(FAILURES_SHOWN_FOR).unwrap_or(now);
        let seen = self.store.blocks_seen_by(admin.org_id, since, now).await?;
        let block = seen
            .iter()
            .find(|b| b.block.source == source)
            .ok_or(DomainError::NotFound)?;
        if !block.only_ours {
            // It also tried other practices' accounts (or unknown addresses): lifting it
            // would lift it for them too. The operator does that (`termin unblock`).
            return Err(DomainError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        if !tx.end_source_block(source, now).await? {
            return Err(DomainError::NotFound);
        }
        tx.insert_security_event(&NewSecurityEvent {
            kind: "source_unblocked",
            org_id: Some(admin.org_id),
            user_id: None,
            actor_id: Some(session.user_id),
            source: Some(source),
            detail: format!("by an administrator of practice {}", admin.org_id),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(actor = %session.user_id, "sign-in source unblocked by an administrator");
        Ok(())
    }

    /// The operator lifts a block for every practice (`termin unblock`); `false` if the
    /// source was not blocked.
    pub async fn operator_unblock(&self, source: &str) -> Result<bool, DomainError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.end_source_block(source, now).await? {
            return Ok(false);
        }
        tx.insert_security_event(&NewSecurityEvent {
            kind: "source_unblocked",
            org_id: None,
            user_id: None,
            actor_id: None,
            source: Some(source),
            detail: "by the operator".to_owned(),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!("sign-in source unblocked by the operator");
        Ok(true)
    }

    /// The operator unlocks an account by its address (`termin unlock`); `false` if there is
    /// no such account or it was not locked.
    pub async fn operator_unlock(&self, email: &str) -> Result<bool, DomainError> {
        let Ok(email) = termin_domain::user::Email::parse(email) else {
            return Ok(false);
        };
        let Some(user) = self.store.find_user_by_email(&email).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let address = LoginSubject::for_email(user.email.as_str());
        if !tx.reset_guards_of(user.id, &address, now).await? {
            return Ok(false);
        }
        tx.insert_security_event(&NewSecurityEvent {
            kind: "account_unlocked",
            org_id: None,
            user_id: Some(user.id),
            actor_id: None,
            source: None,
            detail: "by the operator".to_owned(),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "account unlocked by the operator");
        Ok(true)
    }

    /// Ends every session of a member (S6: e.g. a lost phone or a departing employee).
    /// Returns how many ended.
    pub async fn end_member_sessions(
        &self,
        session: &CurrentSession,
        org: Option<&str>,
        user: UserId,
    ) -> Result<u64, DomainError> {
        let admin = self.admin_membership(session, org).await?;
        self.managed_member(session.user_id, &admin, user).await?;
        self.require_fresh(session)?;
        let now = self.clock.now();
        // The administrator's own current session stays when they end their own.
        let keep = (user == session.user_id).then_some(session.session_id.as_str());
        let mut tx = self.store.begin().await?;
        let ended = tx.delete_sessions_of(user, keep).await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind: "sessions_ended",
            org_id: Some(admin.org_id),
            user_id: Some(user),
            actor_id: Some(session.user_id),
            source: None,
            detail: format!("{ended} sessions ended by an administrator"),
            at: now,
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user, actor = %session.user_id, ended, "sessions ended by an administrator");
        Ok(ended)
    }
}

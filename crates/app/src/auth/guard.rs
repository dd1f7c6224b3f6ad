//! Blocking account theft (S8) around every password and second-factor check: a blocked
//! source is turned away first; an attempt on an account is counted in the database before
//! it is checked; a failure may lock the account (the owner gets an e-mail) and block the
//! source; a completed login resets the account. The rules are `termin_domain::guard`.

use jiff::{SignedDuration, Timestamp};
use termin_domain::DomainError;
use termin_domain::delivery::Message;
use termin_domain::guard::{
    AccountGuard, AccountPolicy, Admission, LoginSubject, Source, SourceKind, SourcePolicy,
};
use termin_domain::ids::UserId;
use termin_storage::{FailureKind, NewFailure, NewSecurityEvent, SourceBlock, Tx, UserRecord};

use super::{ClientInfo, LoginStatus, LoginStep};
use crate::Services;

/// The thresholds in force (configurable; tests and benchmarks raise them).
#[derive(Debug, Clone, Default)]
pub struct GuardPolicy {
    pub account: AccountPolicy,
    pub source: SourcePolicy,
}

/// An attempt on an account. An admitted one is counted and must end in
/// [`Services::attempt_failed`], [`Services::attempt_passed`] or a completed login; a
/// refused one (the account is locked or inside its delay) is not checked at all and ends in
/// [`Services::attempt_failed`] as [`FailureKind::Refused`], after the same hashing work,
/// so that it takes as long as a wrong password.
#[derive(Debug)]
pub(crate) struct Attempt {
    subject: LoginSubject,
    user: Option<UserId>,
    source: Source,
    pub(crate) admitted: bool,
    /// The guard before this attempt, and as it stands if this attempt fails.
    before: AccountGuard,
    counted: AccountGuard,
}

impl Services {
    /// Turns away a source whose sign-in attempts are blocked: 429 with the time left.
    pub(crate) async fn refuse_blocked_source(
        &self,
        client: &ClientInfo,
    ) -> Result<Source, DomainError> {
        let source = Source::of(&client.ip);
        let now = self.clock.now();
        if let Some(until) = self
            .store
            .blocked_until(&source.ip, &source.network, now)
            .await?
        {
            return Err(DomainError::Throttled {
                retry_after_secs: seconds_until(now, until),
            });
        }
        Ok(source)
    }

    /// Admits and counts one attempt on the account `subject` before anything is compared,
    /// or refuses it (see [`Attempt`]).
    pub(crate) async fn begin_attempt(
        &self,
        subject: LoginSubject,
        user: Option<&UserRecord>,
        client: &ClientInfo,
    ) -> Result<Attempt, DomainError> {
        let source = self.refuse_blocked_source(client).await?;
        let now = self.clock.now();
        let user_id = user.map(|u| u.id);
        let mut tx = self.store.begin().await?;
        let guard = tx.lock_guard(&subject, user_id, now).await?;
        let admitted = self.guard.account.admit(&guard, now) == Admission::Allowed;
        let counted = if admitted {
            let counted = self.guard.account.count_attempt(&guard, now);
            tx.save_guard(&subject, &counted).await?;
            counted
        } else {
            guard
        };
        tx.commit().await?;
        Ok(Attempt {
            subject,
            user: user_id,
            source,
            admitted,
            before: guard,
            counted,
        })
    }

    /// The attempt was wrong (or refused): it stays counted, may lock the account and block
    /// the source.
    pub(crate) async fn attempt_failed(
        &self,
        attempt: &Attempt,
        user: Option<&UserRecord>,
        kind: FailureKind,
    ) -> Result<(), DomainError> {
        let kind = if attempt.admitted {
            kind
        } else {
            FailureKind::Refused
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.lock_guard(&attempt.subject, attempt.user, now).await?;
        let lock = self
            .guard
            .account
            .lock_for(attempt.counted.failures)
            .filter(|_| attempt.admitted);
        if let (Some(lock), Some(user)) = (lock, user) {
            let until = now.checked_add(lock).unwrap_or(now);
            self.announce_lock(&mut tx, user, Some(until), attempt.counted.failures, now)
                .await?;
        }
        self.record_failure(&mut tx, attempt, user, kind, now)
            .await?;
        if let (Some(user), true) = (user, attempt.admitted) {
            let event = match kind {
                FailureKind::Password => "login_failed",
                _ => "second_factor_failed",
            };
            tx.insert_security_event(&NewSecurityEvent {
                kind: event,
                org_id: None,
                user_id: Some(user.id),
                actor_id: Some(user.id),
                source: Some(&attempt.source.ip),
                detail: String::new(),
                at: now,
            })
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The attempt was right but the login is not complete yet (a second step follows): it
    /// is taken back as if it had not happened (no failure, no delay, no lock), or, when
    /// other attempts came in between, it no longer counts as a failure.
    pub(crate) async fn attempt_passed(&self, attempt: &Attempt) -> Result<(), DomainError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut guard = tx.lock_guard(&attempt.subject, attempt.user, now).await?;
        if guard == attempt.counted {
            guard = attempt.before;
        } else {
            guard.failures = guard.failures.saturating_sub(1);
        }
        tx.save_guard(&attempt.subject, &guard).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Admits and counts a second-factor try of `user`; a refused one answers like a wrong
    /// code.
    pub(crate) async fn begin_factor_attempt(
        &self,
        user: &UserRecord,
        client: &ClientInfo,
    ) -> Result<Attempt, DomainError> {
        let attempt = self
            .begin_attempt(
                LoginSubject::for_email(user.email.as_str()),
                Some(user),
                client,
            )
            .await?;
        if !attempt.admitted {
            self.attempt_failed(&attempt, Some(user), FailureKind::Refused)
                .await?;
            return Err(DomainError::InvalidCode);
        }
        Ok(attempt)
    }

    /// Ends a second-factor try by its outcome: a wrong code stays counted; a step that did
    /// not complete the login (or never compared anything) is taken back; a completed login
    /// has already reset the account.
    pub(crate) async fn settle_factor_attempt(
        &self,
        attempt: &Attempt,
        user: &UserRecord,
        result: Result<LoginStep, DomainError>,
    ) -> Result<LoginStep, DomainError> {
        match &result {
            Err(DomainError::InvalidCode) => {
                self.attempt_failed(attempt, Some(user), FailureKind::SecondFactor)
                    .await?;
            }
            Ok(step) if step.status == LoginStatus::Authenticated => {}
            _ => self.attempt_passed(attempt).await?,
        }
        result
    }

    /// Checks a signed-in user's password (password change, re-authentication). Guessing
    /// counts against the account like at the login; a locked account is told to wait.
    pub(crate) async fn check_current_password(
        &self,
        user: &UserRecord,
        presented: &termin_domain::password::Password,
        client: &ClientInfo,
    ) -> Result<(), DomainError> {
        let attempt = self
            .begin_attempt(
                LoginSubject::for_email(user.email.as_str()),
                Some(user),
                client,
            )
            .await?;
        if !attempt.admitted {
            self.attempt_failed(&attempt, Some(user), FailureKind::Refused)
                .await?;
            let now = self.clock.now();
            let retry_after_secs = match self.guard.account.admit(&attempt.counted, now) {
                Admission::Refused { until: Some(until) } => seconds_until(now, until),
                _ => 3600,
            };
            return Err(DomainError::Throttled { retry_after_secs });
        }
        if self.hasher.verify(presented, &user.password_hash).await? {
            self.attempt_passed(&attempt).await?;
            return Ok(());
        }
        self.attempt_failed(&attempt, Some(user), FailureKind::Password)
            .await?;
        Err(DomainError::invalid(
            "current_password",
            "is not your current password",
        ))
    }

    /// A login completed: the account's failures are forgotten (inside the login's
    /// transaction).
    pub(crate) async fn forget_failures(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        tx.reset_guard(&LoginSubject::for_email(user.email.as_str()), now)
            .await?;
        Ok(())
    }

    /// Records a failure, locks the account for good at the 24-hour threshold and blocks the
    /// source when its failures say so.
    async fn record_failure(
        &self,
        tx: &mut Tx,
        attempt: &Attempt,
        user: Option<&UserRecord>,
        kind: FailureKind,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        tx.record_failure(&NewFailure {
            subject: &attempt.subject,
            user_id: attempt.user,
            ip: &attempt.source.ip,
            network: &attempt.source.network,
            kind,
            at: now,
        })
        .await?;
        let policy = &self.guard.account;
        let window_start = now.checked_sub(policy.permanent_window).unwrap_or(now);
        let in_window = tx
            .failures_of_subject_since(&attempt.subject, window_start)
            .await?;
        if policy.locks_permanently(in_window) {
            let mut guard = tx.lock_guard(&attempt.subject, attempt.user, now).await?;
            if !guard.locked_permanently {
                guard.locked_permanently = true;
                tx.save_guard(&attempt.subject, &guard).await?;
                if let Some(user) = user {
                    self.announce_lock(tx, user, None, in_window, now).await?;
                }
            }
        }
        self.block_source_if_due(tx, SourceKind::Ip, &attempt.source.ip, now)
            .await?;
        self.block_source_if_due(tx, SourceKind::Network, &attempt.source.network, now)
            .await
    }

    async fn block_source_if_due(
        &self,
        tx: &mut Tx,
        kind: SourceKind,
        source: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let policy = &self.guard.source;
        let previous = tx.source_block(source).await?;
        if previous.as_ref().is_some_and(|b| b.blocked_until > now) {
            return Ok(());
        }
        // Only failures since the last block ended count towards the next one.
        let mut since = now.checked_sub(policy.window).unwrap_or(now);
        if let Some(previous) = &previous {
            since = since.max(previous.blocked_until);
        }
        let counts = tx.source_counts(kind, source, since).await?;
        let Some(reason) = policy.verdict(kind, counts) else {
            return Ok(());
        };
        let recent = previous
            .as_ref()
            .filter(|b| now.duration_since(b.blocked_until) < policy.memory);
        let level = recent.map_or(1, |b| b.level.saturating_add(1));
        let until = now.checked_add(policy.block_for(level)).unwrap_or(now);
        tx.put_source_block(&SourceBlock {
            source: source.to_owned(),
            kind,
            reason: reason.as_str().to_owned(),
            level,
            blocked_at: now,
            blocked_until: until,
        })
        .await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind: "source_blocked",
            org_id: None,
            user_id: None,
            actor_id: None,
            source: Some(source),
            detail: format!(
                "{} {}: {} failures, {} accounts; blocked until {until}",
                kind.as_str(),
                reason.as_str(),
                counts.failures,
                counts.accounts
            ),
            at: now,
        })
        .await?;
        tracing::warn!(
            kind = kind.as_str(),
            reason = reason.as_str(),
            level,
            "sign-in source blocked"
        );
        Ok(())
    }

    /// Records the lock and tells the account's owner by e-mail. `until` `None`: until an
    /// administrator unlocks it or the password is reset.
    async fn announce_lock(
        &self,
        tx: &mut Tx,
        user: &UserRecord,
        until: Option<Timestamp>,
        failures: u32,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let (kind, de, en) = match until {
            Some(until) => {
                let minutes = (until.duration_since(now).as_secs() + 59) / 60;
                (
                    "account_locked",
                    format!("für {minutes} Minuten gesperrt"),
                    format!("locked for {minutes} minutes"),
                )
            }
            None => (
                "account_locked_permanently",
                "gesperrt, bis Sie Ihr Passwort zurücksetzen oder die Praxisverwaltung es \
                 entsperrt"
                    .to_owned(),
                "locked until you reset your password or your practice's administrator \
                 unlocks it"
                    .to_owned(),
            ),
        };
        tx.insert_security_event(&NewSecurityEvent {
            kind,
            org_id: None,
            user_id: Some(user.id),
            actor_id: None,
            source: None,
            detail: format!("{failures} failed attempts"),
            at: now,
        })
        .await?;
        let reset = format!("{}/reset", self.public_origin);
        let message = Message::email(
            &user.email,
            "Termin: Konto gesperrt / account locked",
            format!(
                "Nach {failures} fehlgeschlagenen Anmeldeversuchen ist Ihr Konto {de}.\n\
                 Waren das nicht Sie, versucht jemand, Ihr Passwort zu erraten. Setzen Sie es \
                 neu: {reset}\n\n\
                 After {failures} failed sign-in attempts your account is {en}.\n\
                 If that was not you, someone is trying to guess your password. Set a new \
                 one: {reset}\n"
            ),
        );
        tx.enqueue_message(&message, now).await?;
        tracing::warn!(user_id = %user.id, kind, "account locked after failed attempts");
        Ok(())
    }
}

impl Services {
    /// Records something that happened to an account (it also goes into the audit log of
    /// every practice the user belongs to). `client` is where the request came from.
    pub(crate) async fn account_event(
        &self,
        kind: &str,
        user: UserId,
        client_ip: Option<&str>,
        detail: String,
    ) -> Result<(), DomainError> {
        let mut tx = self.store.begin().await?;
        tx.insert_security_event(&NewSecurityEvent {
            kind,
            org_id: None,
            user_id: Some(user),
            actor_id: Some(user),
            source: client_ip,
            detail,
            at: self.clock.now(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Whole seconds from `now` to `until`, at least one (for `Retry-After`).
pub(crate) fn seconds_until(now: Timestamp, until: Timestamp) -> u32 {
    let secs = until
        .duration_since(now)
        .max(SignedDuration::from_secs(1))
        .as_secs();
    u32::try_from(secs).unwrap_or(u32::MAX)
}

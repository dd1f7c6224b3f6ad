//! First run: the one-time set-up link and creating a practice with its owner.

use termin_domain::DomainError;
use termin_domain::ids::{OrgId, UserId};
use termin_domain::org::OrgSlug;
use termin_domain::setup::{NewPractice, NewPracticeInput, setup_token_expiry};
use termin_domain::token::SecretToken;
use termin_domain::user::{Role, UserStatus};
use termin_storage::{NewOrganization, NewUser};

use crate::Services;

/// Who may create a practice.
#[derive(Debug)]
enum SetupAuthority {
    /// Someone holding a set-up link printed by `serve`.
    Link(SecretToken),
    /// The operator on the server's command line (`termin setup`).
    Operator,
}

/// The outcome of a successful set-up.
#[derive(Debug, Clone)]
pub struct CreatedPractice {
    pub org_id: OrgId,
    pub slug: OrgSlug,
    pub owner_id: UserId,
}

/// How often a slug is retried with a numeric suffix before giving up.
const SLUG_ATTEMPTS: u32 = 50;

impl Services {
    /// When no practice exists yet, creates a fresh set-up link token (valid one hour) and
    /// returns it for printing; otherwise `None`.
    pub async fn issue_setup_link_if_needed(&self) -> Result<Option<SecretToken>, DomainError> {
        if self.store.count_organizations().await? > 0 {
            return Ok(None);
        }
        let token = SecretToken::generate().map_err(DomainError::internal)?;
        let now = self.clock.now();
        self.store
            .insert_setup_token(&token.hash(), now, setup_token_expiry(now))
            .await?;
        Ok(Some(token))
    }

    /// Checks a set-up link's token as presented; `NotFound` unless it can still be used.
    pub async fn check_setup_link(&self, raw_token: &str) -> Result<SecretToken, DomainError> {
        let token = SecretToken::parse(raw_token).map_err(|_| DomainError::NotFound)?;
        if self
            .store
            .setup_token_is_usable(&token.hash(), self.clock.now())
            .await?
        {
            Ok(token)
        } else {
            Err(DomainError::NotFound)
        }
    }

    /// Creates a practice with a set-up link. An unusable link is refused before the
    /// input is even looked at, so nobody learns the form's rules without a valid link.
    pub async fn create_practice_with_link(
        &self,
        raw_token: &str,
        input: NewPracticeInput<'_>,
    ) -> Result<CreatedPractice, DomainError> {
        let token = self.check_setup_link(raw_token).await?;
        let practice = NewPractice::parse(input, &self.password_policy)?;
        self.create_practice(practice, SetupAuthority::Link(token))
            .await
    }

    /// Creates a practice on the operator's command (`termin setup`).
    pub async fn create_practice_as_operator(
        &self,
        input: NewPracticeInput<'_>,
    ) -> Result<CreatedPractice, DomainError> {
        let practice = NewPractice::parse(input, &self.password_policy)?;
        self.create_practice(practice, SetupAuthority::Operator)
            .await
    }

    /// Creates the practice and its owner (status "verification pending") in one
    /// transaction. With a link, the link is used up in the same transaction: of many
    /// concurrent attempts with one link, exactly one succeeds; the rest get `NotFound`.
    /// Every other outstanding link is retired with it.
    async fn create_practice(
        &self,
        practice: NewPractice,
        authority: SetupAuthority,
    ) -> Result<CreatedPractice, DomainError> {
        // Hash before the transaction: the expensive part must not hold the write lock.
        let password_hash = self.hasher.hash(&practice.password).await?;
        let org_id = OrgId::random();
        let owner_id = UserId::random();
        let now = self.clock.now();

        for attempt in 1..=SLUG_ATTEMPTS {
            let mut tx = self.store.begin().await?;
            if let SetupAuthority::Link(token) = &authority
                && !tx.consume_setup_token(&token.hash(), now).await?
            {
                return Err(DomainError::NotFound);
            }
            tx.retire_setup_tokens(now).await?;
            let slug = OrgSlug::from_name(&practice.org_name, attempt);
            if tx.slug_exists(&slug).await? {
                continue;
            }
            let org = NewOrganization {
                id: org_id,
                slug: slug.clone(),
                name: practice.org_name.clone(),
                time_zone: practice.time_zone.clone(),
                created_at: now,
            };
            let owner = NewUser {
                id: owner_id,
                email: practice.owner_email.clone(),
                phone: practice.owner_phone.clone(),
                password_hash: password_hash.clone(),
                status: UserStatus::VerificationPending,
                created_at: now,
            };
            let written = async {
                tx.insert_organization(&org).await?;
                tx.insert_user(&owner).await?;
                tx.insert_membership(org_id, owner_id, Role::Owner, now)
                    .await?;
                tx.commit().await
            }
            .await;
            match written {
                Ok(()) => {
                    tracing::info!(org_id = %org_id, slug = %slug, "practice created");
                    return Ok(CreatedPractice {
                        org_id,
                        slug,
                        owner_id,
                    });
                }
                // Another instance took this slug between our check and insert: try the next.
                Err(err) if err.conflict_code() == Some("slug_taken") => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(DomainError::Conflict {
            code: "slug_taken",
            message: "no free address could be derived from this practice name".into(),
        })
    }
}

impl Services {
    /// Whether at least one practice exists.
    pub async fn practice_exists(&self) -> Result<bool, DomainError> {
        Ok(self.store.count_organizations().await? > 0)
    }
}

//! Password hashing with Argon2id (OWASP's minimum: m = 19 MiB, t = 2, p = 1).
//!
//! Hashing is deliberately expensive, so it runs on the blocking thread pool behind a
//! semaphore: a flood of logins queues for a few hashing slots instead of starving every
//! other request of threads and memory.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use termin_domain::DomainError;
use termin_domain::password::Password;
use tokio::sync::Semaphore;

/// How long a request waits for a hashing slot before it is answered 503.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Argon2id cost parameters; stored in every PHC string so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    cost: HashCost,
    slots: Arc<Semaphore>,
}

impl PasswordHasher {
    /// `concurrency` hashes may run at once; each holds `cost.memory_kib` of memory.
    pub fn new(cost: HashCost, concurrency: usize) -> Self {
        Self {
            cost,
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    fn argon2(cost: HashCost) -> Result<Argon2<'static>, DomainError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(DomainError::internal)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        let cost = self.cost;
        self.run(move || {
            let argon2 = Self::argon2(cost)?;
            argon2
                .hash_password(password.normalized().as_bytes())
                .map(|h| h.to_string())
                .map_err(DomainError::internal)
        })
        .await
    }

    /// Whether a stored hash was made with weaker parameters than today's (or another
    /// algorithm), so that it should be replaced at the next successful login.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let param = |name: &str| {
            parsed
                .params
                .get_str(name)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        parsed.algorithm.as_str() != "argon2id"
            || param("m") < self.cost.memory_kib
            || param("t") < self.cost.iterations
            || param("p") < self.cost.parallelism
    }

    /// Checks a password against a stored PHC string. `Ok(false)` for a wrong password.
    pub async fn verify(&self, password: &Password, phc: &str) -> Result<bool, DomainError> {
        let password = password.clone();
        let phc = phc.to_owned();
        let cost = self.cost;
        self.run(move || {
            let parsed = PasswordHash::new(&phc).map_err(DomainError::internal)?;
            // The parameters come from the PHC string itself; `cost` only fills the gaps.
            let argon2 = Self::argon2(cost)?;
            Ok(argon2
                .verify_password(password.normalized().as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// Runs `work` on the blocking pool once a slot is free. The slot travels with the work,
    /// so a client that gives up does not free it before the hash is done; a request that
    /// cannot get a slot within [`QUEUE_WAIT`] is told to come back later.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let slot = tokio::time::timeout(QUEUE_WAIT, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| DomainError::Unavailable)?
            .map_err(DomainError::internal)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(slot);
            result
        })
        .await
        .map_err(DomainError::internal)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_configured_cost_and_verify() {
        let hasher = PasswordHasher::new(HashCost::default(), 2);
        let pw = Password::new("Kx7!vbnq");
        let phc = hasher.hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify(&pw, &phc).await.unwrap());
        assert!(
            !hasher
                .verify(&Password::new("Kx7!vbnQ"), &phc)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn abandoned_work_keeps_its_slot_until_it_is_done() {
        let hasher = PasswordHasher::new(HashCost::default(), 1);
        let (release, wait_for_release) = std::sync::mpsc::channel::<()>();
        let abandoned = tokio::spawn({
            let hasher = hasher.clone();
            async move {
                hasher
                    .run(move || {
                        let _ = wait_for_release.recv();
                        Ok(())
                    })
                    .await
            }
        });
        while hasher.slots.available_permits() == 1 {
            tokio::task::yield_now().await;
        }
        // The client goes away; its blocking work does not.
        abandoned.abort();
        let _ = abandoned.await;
        assert_eq!(
            hasher.slots.available_permits(),
            0,
            "the running work still holds the slot"
        );

        release.send(()).unwrap();
        while hasher.slots.available_permits() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(hasher.hash(&Password::new("Kx7!vbnq")).await.is_ok());
    }

    #[tokio::test]
    async fn hashes_made_with_weaker_parameters_are_flagged_for_rehash() {
        let weak = PasswordHasher::new(
            HashCost {
                memory_kib: 8192,
                iterations: 1,
                parallelism: 1,
            },
            1,
        );
        let strong = PasswordHasher::new(HashCost::default(), 1);
        let pw = Password::new("Kx7!vbnq");
        let old = weak.hash(&pw).await.unwrap();
        assert!(strong.needs_rehash(&old));
        assert!(
            strong.verify(&pw, &old).await.unwrap(),
            "old hashes still verify"
        );
        let new = strong.hash(&pw).await.unwrap();
        assert!(!strong.needs_rehash(&new));
        assert!(
            strong.needs_rehash("$2b$12$abcdefghijklmnopqrstuu"),
            "not Argon2id"
        );
    }

    #[tokio::test]
    async fn same_password_gets_a_fresh_salt_each_time() {
        let hasher = PasswordHasher::new(HashCost::default(), 1);
        let pw = Password::new("Kx7!vbnq");
        assert_ne!(
            hasher.hash(&pw).await.unwrap(),
            hasher.hash(&pw).await.unwrap()
        );
    }
}

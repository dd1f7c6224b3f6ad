//! Delivering the outbox. A [`Deliverer`] claims due messages, hands each to the transport
//! of its channel and records the outcome. Several deliverers (one per instance) share the
//! work safely: claims are leases in the database.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use termin_domain::delivery::{Channel, MAX_ATTEMPTS, Message, retry_delay};
use termin_domain::{Clock, DomainError};
use termin_storage::{ClaimedMessage, Store};

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later (connection refused, timeout, 4xx SMTP, HTTP 5xx or 429).
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Will never work (rejected recipient, HTTP 4xx): give up at once.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Something that sends a message on one channel: SMTP, an SMS gateway, a file.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends `message`; `created_at` is when it entered the outbox.
    fn send<'a>(&'a self, message: &'a Message, created_at: jiff::Timestamp) -> SendFuture<'a>;

    /// For the start-up banner: "SMTP smtp.example.net:587 (STARTTLS)".
    fn describe(&self) -> String;
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRound {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Store,
    clock: Arc<dyn Clock>,
    email: Arc<dyn Transport>,
    sms: Arc<dyn Transport>,
    /// This worker's name in leases.
    owner: String,
}

/// How long a claimed message stays with one worker: longer than any send may take.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
/// Messages claimed per pass.
const BATCH: u32 = 20;

impl Deliverer {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        email: Arc<dyn Transport>,
        sms: Arc<dyn Transport>,
    ) -> Self {
        Self {
            store,
            clock,
            email,
            sms,
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub fn email_transport(&self) -> &dyn Transport {
        self.email.as_ref()
    }

    pub fn sms_transport(&self) -> &dyn Transport {
        self.sms.as_ref()
    }

    /// Delivers everything due now, batch by batch, until nothing is due.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, DomainError> {
        let mut round = DeliveryRound::default();
        loop {
            let now = self.clock.now();
            let batch = self
                .store
                .claim_due_messages(&self.owner, now, LEASE, BATCH)
                .await?;
            if batch.is_empty() {
                return Ok(round);
            }
            for claimed in batch {
                self.deliver_one(claimed, &mut round).await?;
            }
        }
    }

    async fn deliver_one(
        &self,
        claimed: ClaimedMessage,
        round: &mut DeliveryRound,
    ) -> Result<(), DomainError> {
        let transport = match claimed.message.channel() {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
        };
        let outcome = transport.send(&claimed.message, claimed.created_at).await;
        let now = self.clock.now();
        let attempt = claimed.attempts + 1;
        let channel = claimed.message.channel().as_str();
        match outcome {
            Ok(()) => {
                self.store
                    .mark_message_sent(&claimed.id, &self.owner, now)
                    .await?;
                tracing::info!(message_id = %claimed.id, channel, attempt, "message delivered");
                round.sent += 1;
            }
            Err(SendError::Temporary(reason)) if attempt < MAX_ATTEMPTS => {
                let retry_at = now.checked_add(retry_delay(attempt)).unwrap_or(now);
                self.store
                    .mark_message_attempt_failed(&claimed.id, &self.owner, Some(retry_at), &reason)
                    .await?;
                tracing::warn!(message_id = %claimed.id, channel, attempt, %retry_at, reason, "delivery failed; will retry");
                round.retrying += 1;
            }
            Err(SendError::Temporary(reason) | SendError::Permanent(reason)) => {
                self.store
                    .mark_message_attempt_failed(&claimed.id, &self.owner, None, &reason)
                    .await?;
                tracing::error!(message_id = %claimed.id, channel, attempt, reason, "delivery failed for good");
                round.failed += 1;
            }
        }
        Ok(())
    }

    /// Delivers every `interval` until `shutdown` completes.
    pub async fn run(self, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticker.tick() => {
                    if let Err(err) = self.deliver_due().await {
                        tracing::error!(error = %err, "outbox delivery pass failed");
                    }
                }
            }
        }
    }
}

//! Online booking by patients (no account): the practice's free slots, holding a slot while
//! the patient confirms with a code sent to their phone, confirming it into an appointment,
//! and the manage link. Everything here is reachable from the internet: inputs are checked
//! field by field, answers never reveal whether a patient record exists, and the public
//! endpoints sit behind the strict rate limit.

mod confirm;
mod hold;
mod manage;
mod notify;
mod offer;
mod reschedule;
mod slots;
mod waiting_list;
mod waiting_offer;

pub use confirm::Confirmed;
pub use hold::{BookingRequest, Held};
pub use manage::{ManagedAppointment, PublicCancellation};
pub use offer::{OfferedPractitioner, OfferedVisit, PublicOffer};
pub use slots::PublicSlotSearch;
pub use termin_storage::WaitingEntry;
pub use waiting_list::{WaitingListView, WaitingPreference};
pub use waiting_offer::{AcceptedOffer, OfferedTime};

use termin_domain::DomainError;
use termin_storage::{NewAuditEntry, Organization, Tx};

use crate::Services;

impl Services {
    /// The practice of a booking page; an unknown address is "not found".
    async fn bookable_practice(&self, slug: &str) -> Result<Organization, DomainError> {
        let slug = termin_domain::org::OrgSlug::parse(slug).map_err(|_| DomainError::NotFound)?;
        self.store
            .find_organization_by_slug(&slug)
            .await?
            .ok_or(DomainError::NotFound)
    }

    /// An audit entry for something a patient did (no account: the actor is empty).
    async fn audit_public(
        &self,
        tx: &mut Tx,
        practice: &Organization,
        action: &str,
        target: String,
        source: Option<std::net::IpAddr>,
    ) -> Result<(), DomainError> {
        let source = source.map_or_else(String::new, |ip| ip.to_string());
        tx.append_audit(
            practice.id,
            &NewAuditEntry {
                at: self.clock.now(),
                actor_id: None,
                action,
                target,
                source: &source,
                outcome: "ok",
            },
        )
        .await?;
        Ok(())
    }
}

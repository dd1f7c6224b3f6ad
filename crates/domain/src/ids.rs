//! Identifiers. Random UUIDs (v4, from the OS CSPRNG) so that several instances can create
//! rows without coordination and ids reveal neither count nor order.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Uuid::try_parse(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

id_type!(
    /// A practice (organisation).
    OrgId
);
id_type!(
    /// A user account; one user may belong to several practices.
    UserId
);
id_type!(
    /// A practitioner: one calendar of a practice.
    PractitionerId
);

id_type!(
    /// A kind of visit a practice offers (duration, buffers, who offers it).
    VisitTypeId
);
id_type!(
    /// A patient record of one practice.
    PatientId
);
id_type!(
    /// An appointment in a practitioner's calendar.
    AppointmentId
);
id_type!(
    /// An absence of one or several practitioners.
    AbsenceId
);

id_type!(
    /// A patient's online booking: a held slot until confirmed by the SMS code.
    BookingId
);
id_type!(
    /// A freed time offered to the first patients on the waiting list.
    WaitingOfferId
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = OrgId::random();
        assert_eq!(id.to_string().parse::<OrgId>(), Ok(id));
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!("1 OR 1=1".parse::<UserId>(), Err(InvalidId));
    }
}

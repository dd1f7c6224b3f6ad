//! Granular rights (seed promise S7): a fixed catalogue of permissions, built-in roles as
//! presets, and per-member adjustments — a permission added or removed, and calendar
//! permissions narrowed to chosen practitioners. Pure rules; the adjustments are stored with
//! the membership and the effective rights are computed at every request, so a change takes
//! effect on the very next one.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{DomainError, FieldErrors};
use crate::ids::PractitionerId;
use crate::user::Role;

/// The catalogue. Calendar permissions can be scoped to practitioners; the others hold for
/// the whole practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ViewCalendar,
    ManageAppointments,
    /// Absences and opening hours.
    ManageAvailability,
    BookOutsideHours,
    Overbook,
    SeePatientContacts,
    /// See and edit medical notes and visit reasons.
    SeeMedicalNotes,
    ManagePatients,
    /// See every patient, not only those with appointments in calendars one may see.
    AllPatients,
    /// Export or erase a patient's data.
    ExportPatientData,
    /// Users and their rights.
    ManageUsers,
    /// Practice settings and security (network rules included).
    ManageSettings,
    ViewAuditLog,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::ViewCalendar,
        Permission::ManageAppointments,
        Permission::ManageAvailability,
        Permission::BookOutsideHours,
        Permission::Overbook,
        Permission::SeePatientContacts,
        Permission::SeeMedicalNotes,
        Permission::ManagePatients,
        Permission::AllPatients,
        Permission::ExportPatientData,
        Permission::ManageUsers,
        Permission::ManageSettings,
        Permission::ViewAuditLog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewCalendar => "view_calendar",
            Permission::ManageAppointments => "manage_appointments",
            Permission::ManageAvailability => "manage_availability",
            Permission::BookOutsideHours => "book_outside_hours",
            Permission::Overbook => "overbook",
            Permission::SeePatientContacts => "see_patient_contacts",
            Permission::SeeMedicalNotes => "see_medical_notes",
            Permission::ManagePatients => "manage_patients",
            Permission::AllPatients => "all_patients",
            Permission::ExportPatientData => "export_patient_data",
            Permission::ManageUsers => "manage_users",
            Permission::ManageSettings => "manage_settings",
            Permission::ViewAuditLog => "view_audit_log",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// Whether the permission concerns calendars and may be narrowed to practitioners.
    pub fn is_calendar(self) -> bool {
        matches!(
            self,
            Permission::ViewCalendar
                | Permission::ManageAppointments
                | Permission::ManageAvailability
                | Permission::BookOutsideHours
                | Permission::Overbook
        )
    }
}

/// Where a permission holds: the whole practice, or the calendars of some practitioners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Practitioners(BTreeSet<PractitionerId>),
}

impl Scope {
    /// Whether this scope includes all of `other`.
    pub fn covers(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::All, _) => true,
            (Scope::Practitioners(_), Scope::All) => false,
            (Scope::Practitioners(mine), Scope::Practitioners(theirs)) => theirs.is_subset(mine),
        }
    }

    pub fn includes(&self, practitioner: PractitionerId) -> bool {
        match self {
            Scope::All => true,
            Scope::Practitioners(set) => set.contains(&practitioner),
        }
    }
}

/// A member's effective rights in one practice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rights(BTreeMap<Permission, Scope>);

impl Rights {
    pub fn has(&self, permission: Permission) -> bool {
        self.0.contains_key(&permission)
    }

    /// The scope of a held permission.
    pub fn scope(&self, permission: Permission) -> Option<&Scope> {
        self.0.get(&permission)
    }

    /// Whether the permission holds for this practitioner's calendar.
    pub fn allows(&self, permission: Permission, practitioner: PractitionerId) -> bool {
        self.scope(permission)
            .is_some_and(|scope| scope.includes(practitioner))
    }

    /// Every held permission, in catalogue order.
    pub fn permissions(&self) -> impl Iterator<Item = (Permission, &Scope)> {
        self.0.iter().map(|(p, s)| (*p, s))
    }

    /// Whether these rights include all of `other` (each permission, in at least its scope):
    /// nobody grants a right they do not hold.
    pub fn covers(&self, other: &Rights) -> bool {
        other
            .0
            .iter()
            .all(|(p, scope)| self.scope(*p).is_some_and(|mine| mine.covers(scope)))
    }

    /// What `after` holds that `self` did not (new permissions or wider scopes).
    pub fn gained_in(&self, after: &Rights) -> Rights {
        Rights(
            after
                .0
                .iter()
                .filter(|(p, scope)| !self.scope(**p).is_some_and(|before| before.covers(scope)))
                .map(|(p, scope)| (*p, scope.clone()))
                .collect(),
        )
    }
}

/// What a built-in role holds before adjustments.
pub fn preset(role: Role) -> Rights {
    use Permission::*;
    let held: &[Permission] = match role {
        Role::Owner | Role::Administrator => &Permission::ALL,
        Role::Practitioner => &[
            ViewCalendar,
            ManageAppointments,
            ManageAvailability,
            BookOutsideHours,
            Overbook,
            SeePatientContacts,
            SeeMedicalNotes,
            ManagePatients,
            AllPatients,
        ],
        Role::Assistant => &[
            ViewCalendar,
            ManageAppointments,
            ManageAvailability,
            BookOutsideHours,
            SeePatientContacts,
            ManagePatients,
        ],
        Role::Reception => &[
            ViewCalendar,
            ManageAppointments,
            SeePatientContacts,
            ManagePatients,
        ],
        Role::ReadOnly => &[ViewCalendar],
    };
    Rights(held.iter().map(|p| (*p, Scope::All)).collect())
}

/// The adjustments that narrow every calendar permission of `role`'s preset to these
/// practitioners (an invitation "for Dr. A's calendar"); none when the set is empty.
pub fn narrowed_to(role: Role, practitioners: &BTreeSet<PractitionerId>) -> Adjustments {
    let mut adjustments = Adjustments::new();
    if practitioners.is_empty() {
        return adjustments;
    }
    for (permission, _) in preset(role).permissions() {
        if permission.is_calendar() {
            adjustments.insert(
                permission,
                Adjustment::Grant(Scope::Practitioners(practitioners.clone())),
            );
        }
    }
    adjustments
}

/// Whether someone with `giver_role` and `giver` rights may give (or act on) a member with
/// `role` and `adjustments`: owners give anything; others never make owners and never give
/// a right they do not hold themselves.
pub fn may_give(giver_role: Role, giver: &Rights, role: Role, adjustments: &Adjustments) -> bool {
    giver_role == Role::Owner
        || (role != Role::Owner && giver.covers(&effective(role, adjustments)))
}

/// One adjustment of a member's preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjustment {
    /// Held (added if the role lacks it), in this scope.
    Grant(Scope),
    /// Not held, although the role has it.
    Remove,
}

/// A member's adjustments, at most one per permission.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Adjustments(BTreeMap<Permission, Adjustment>);

impl Adjustments {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, permission: Permission, adjustment: Adjustment) {
        self.0.insert(permission, adjustment);
    }

    pub fn iter(&self) -> impl Iterator<Item = (Permission, &Adjustment)> {
        self.0.iter().map(|(p, a)| (*p, a))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// From the API or a form: permissions to grant (with practitioners for a narrowed
    /// calendar permission; none means the whole practice) and permissions to remove.
    /// Every bad entry is reported.
    pub fn parse(
        grants: &[(String, Option<Vec<String>>)],
        removals: &[String],
    ) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let mut adjustments = Adjustments::new();
        for (raw, practitioners) in grants {
            let Some(permission) = Permission::parse(raw) else {
                errors.add("grants", format!("{raw} is not a permission"));
                continue;
            };
            let scope = match practitioners {
                None => Scope::All,
                Some(_) if !permission.is_calendar() => {
                    errors.add(
                        "grants",
                        format!("{raw} is not a calendar permission: it cannot be narrowed"),
                    );
                    continue;
                }
                // Narrowed to no calendar at all: simply not held.
                Some(ids) if ids.is_empty() => {
                    adjustments.insert(permission, Adjustment::Remove);
                    continue;
                }
                Some(ids) => {
                    let mut set = BTreeSet::new();
                    for id in ids {
                        match id.parse::<PractitionerId>() {
                            Ok(id) => {
                                set.insert(id);
                            }
                            Err(_) => {
                                errors.add("grants", format!("{id} is not a practitioner id"))
                            }
                        }
                    }
                    Scope::Practitioners(set)
                }
            };
            adjustments.insert(permission, Adjustment::Grant(scope));
        }
        for raw in removals {
            match Permission::parse(raw) {
                Some(permission) if adjustments.0.contains_key(&permission) => {
                    errors.add("removals", format!("{raw} is both granted and removed"))
                }
                Some(permission) => adjustments.insert(permission, Adjustment::Remove),
                None => errors.add("removals", format!("{raw} is not a permission")),
            }
        }
        errors.into_result()?;
        Ok(adjustments)
    }
}

/// A member's effective rights: the role's preset with the adjustments applied.
pub fn effective(role: Role, adjustments: &Adjustments) -> Rights {
    let mut rights = preset(role);
    for (permission, adjustment) in adjustments.iter() {
        match adjustment {
            Adjustment::Remove => {
                rights.0.remove(&permission);
            }
            Adjustment::Grant(scope) => {
                rights.0.insert(permission, scope.clone());
            }
        }
    }
    rights
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: u8) -> PractitionerId {
        format!("00000000-0000-4000-8000-0000000000{n:02}")
            .parse()
            .unwrap()
    }

    #[test]
    fn presets_follow_the_roles() {
        assert!(preset(Role::Owner).covers(&preset(Role::Administrator)));
        assert!(preset(Role::Administrator).covers(&preset(Role::Owner)));
        assert!(preset(Role::Practitioner).has(Permission::SeeMedicalNotes));
        assert!(!preset(Role::Assistant).has(Permission::SeeMedicalNotes));
        assert!(!preset(Role::Reception).has(Permission::ManageAvailability));
        assert!(!preset(Role::Practitioner).has(Permission::ManageUsers));
        let read_only: Vec<_> = preset(Role::ReadOnly)
            .permissions()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(read_only, [Permission::ViewCalendar]);
        for role in Role::ALL {
            assert!(preset(Role::Owner).covers(&preset(role)));
        }
    }

    #[test]
    fn an_assistant_may_manage_one_calendar_and_only_see_another() {
        let (dr_a, dr_b) = (pid(1), pid(2));
        let adjustments = Adjustments::parse(
            &[
                (
                    "manage_appointments".to_owned(),
                    Some(vec![dr_a.to_string()]),
                ),
                (
                    "view_calendar".to_owned(),
                    Some(vec![dr_a.to_string(), dr_b.to_string()]),
                ),
            ],
            &["manage_availability".to_owned()],
        )
        .unwrap();
        let rights = effective(Role::Assistant, &adjustments);
        assert!(rights.allows(Permission::ManageAppointments, dr_a));
        assert!(!rights.allows(Permission::ManageAppointments, dr_b));
        assert!(rights.allows(Permission::ViewCalendar, dr_b));
        assert!(!rights.allows(Permission::ViewCalendar, pid(3)));
        assert!(!rights.has(Permission::ManageAvailability));
        assert!(rights.has(Permission::SeePatientContacts));
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        let assistant = preset(Role::Assistant);
        let practitioner = preset(Role::Practitioner);
        assert!(!assistant.covers(&practitioner));
        let gained = assistant.gained_in(&practitioner);
        assert!(gained.has(Permission::SeeMedicalNotes));
        assert!(!gained.has(Permission::ViewCalendar));
        let narrowed = effective(
            Role::Assistant,
            &Adjustments::parse(
                &[("view_calendar".to_owned(), Some(vec![pid(1).to_string()]))],
                &[],
            )
            .unwrap(),
        );
        assert!(assistant.covers(&narrowed));
        assert!(
            !narrowed.covers(&assistant),
            "a narrower scope does not cover the whole"
        );
        assert!(narrowed.gained_in(&assistant).has(Permission::ViewCalendar));
    }

    #[test]
    fn only_owners_make_owners_and_others_give_only_what_they_hold() {
        let none = Adjustments::new();
        let admin = preset(Role::Administrator);
        assert!(may_give(
            Role::Owner,
            &preset(Role::Owner),
            Role::Owner,
            &none
        ));
        assert!(!may_give(Role::Administrator, &admin, Role::Owner, &none));
        assert!(may_give(
            Role::Administrator,
            &admin,
            Role::Practitioner,
            &none
        ));
        let assistant = preset(Role::Assistant);
        assert!(may_give(
            Role::Assistant,
            &assistant,
            Role::Reception,
            &none
        ));
        assert!(!may_give(
            Role::Assistant,
            &assistant,
            Role::Practitioner,
            &none
        ));
        let notes = Adjustments::parse(&[("see_medical_notes".to_owned(), None)], &[]).unwrap();
        assert!(!may_give(
            Role::Assistant,
            &assistant,
            Role::Reception,
            &notes
        ));
    }

    #[test]
    fn bad_adjustments_are_reported_per_field() {
        let Err(DomainError::Invalid(fields)) = Adjustments::parse(
            &[
                ("fly".to_owned(), None),
                ("manage_users".to_owned(), Some(vec![pid(1).to_string()])),
                ("view_calendar".to_owned(), Some(vec!["dr-a".to_owned()])),
            ],
            &["overbook".to_owned(), "swim".to_owned()],
        ) else {
            panic!("expected field errors");
        };
        assert_eq!(fields.get("grants").unwrap().len(), 3);
        assert_eq!(fields.get("removals").unwrap().len(), 1);
        let Err(DomainError::Invalid(fields)) =
            Adjustments::parse(&[("overbook".to_owned(), None)], &["overbook".to_owned()])
        else {
            panic!("expected a conflict");
        };
        assert!(fields.get("removals").is_some());
    }

    #[test]
    fn every_permission_round_trips_through_its_name() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("all"), None);
    }
}

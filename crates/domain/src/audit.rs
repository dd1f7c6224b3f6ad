//! The audit log's hash chain (one per practice): each entry's hash covers its own fields and
//! the hash of the entry before, so altering, deleting or reordering entries breaks the chain
//! from that point on. Pure rules; `termin audit verify` and the tests walk the stored chain.

use sha2::{Digest, Sha256};

/// The hash before the first entry of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry's content: who did what to which ids, from where, with what outcome. Never
/// medical content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub org_id: &'a str,
    pub seq: i64,
    /// Microseconds since the epoch (as stored).
    pub at: i64,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub source: &'a str,
    pub outcome: &'a str,
}

/// The hash of an entry following `prev_hash`: SHA-256 over every field, each prefixed with
/// its length so that no two different entries serialise alike.
pub fn entry_hash(prev_hash: &str, entry: &EntryFields<'_>) -> String {
    let mut hasher = Sha256::new();
    let seq = entry.seq.to_string();
    let at = entry.at.to_string();
    for field in [
        prev_hash,
        entry.org_id,
        &seq,
        &at,
        entry.actor_id,
        entry.action,
        entry.target,
        entry.source,
        entry.outcome,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where a chain breaks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry with this sequence number is missing (deleted, or the chain reordered).
    Missing { expected_seq: i64, found_seq: i64 },
    /// The entry does not follow its predecessor (its `prev_hash` differs).
    NotLinked { seq: i64 },
    /// The entry's content does not match its hash (altered).
    Altered { seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Missing {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "entry {expected_seq} is missing (the next one found is {found_seq})"
            ),
            Break::NotLinked { seq } => {
                write!(f, "entry {seq} does not follow the entry before it")
            }
            Break::Altered { seq } => write!(f, "entry {seq} was altered"),
        }
    }
}

/// A stored entry as the verifier sees it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub source: String,
    pub outcome: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Checks a chain in storage order (by sequence number) from its anchor (the sequence
/// number and hash of the last removed entry, or 0 and [`GENESIS`]).
pub fn verify_chain(
    org_id: &str,
    anchor: (i64, &str),
    entries: &[StoredEntry],
) -> Result<usize, Break> {
    let (mut last_seq, anchor_hash) = anchor;
    let mut last_hash = anchor_hash.to_owned();
    for entry in entries {
        if entry.seq != last_seq + 1 {
            return Err(Break::Missing {
                expected_seq: last_seq + 1,
                found_seq: entry.seq,
            });
        }
        let fields = EntryFields {
            org_id,
            seq: entry.seq,
            at: entry.at,
            actor_id: &entry.actor_id,
            action: &entry.action,
            target: &entry.target,
            source: &entry.source,
            outcome: &entry.outcome,
        };
        if entry_hash(&entry.prev_hash, &fields) != entry.hash {
            return Err(Break::Altered { seq: entry.seq });
        }
        if entry.prev_hash != last_hash {
            return Err(Break::NotLinked { seq: entry.seq });
        }
        last_seq = entry.seq;
        last_hash.clone_from(&entry.hash);
    }
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let action = format!("action{seq}");
                let fields = EntryFields {
                    org_id: "org",
                    seq,
                    at: seq * 1000,
                    actor_id: "user",
                    action: &action,
                    target: "",
                    source: "127.0.0.1",
                    outcome: "ok",
                };
                let hash = entry_hash(&prev, &fields);
                let entry = StoredEntry {
                    seq,
                    at: seq * 1000,
                    actor_id: "user".into(),
                    action,
                    target: String::new(),
                    source: "127.0.0.1".into(),
                    outcome: "ok".into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                entry
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_each_kind_of_tampering_is_named() {
        let entries = chain(5);
        assert_eq!(verify_chain("org", (0, GENESIS), &entries), Ok(5));

        let mut altered = entries.clone();
        altered[2].outcome = "denied".into();
        assert_eq!(
            verify_chain("org", (0, GENESIS), &altered),
            Err(Break::Altered { seq: 3 })
        );

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain("org", (0, GENESIS), &deleted),
            Err(Break::Missing {
                expected_seq: 2,
                found_seq: 3
            })
        );

        // Reordered: two entries swap places (and numbers).
        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        assert_eq!(
            verify_chain("org", (0, GENESIS), &reordered),
            Err(Break::Altered { seq: 2 })
        );

        // Another practice's chain does not verify as this one's.
        assert!(verify_chain("other", (0, GENESIS), &entries).is_err());
    }

    #[test]
    fn a_chain_pruned_from_the_start_verifies_from_its_anchor() {
        let entries = chain(5);
        let anchor = (2, entries[1].hash.as_str());
        assert_eq!(verify_chain("org", anchor, &entries[2..]), Ok(3));
        assert_eq!(
            verify_chain("org", (0, GENESIS), &entries[2..]),
            Err(Break::Missing {
                expected_seq: 1,
                found_seq: 3
            })
        );
    }
}

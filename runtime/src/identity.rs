//! Identity resolution: which contact a record belongs to, exactly as R1 §2 says.
//!
//! Two views of the same rule:
//! - [`IdentityResolver`] is streaming: records arrive in event-time order, aliases and claims
//!   take effect as they arrive, and each record is attributed to a [`Subject`] *as known at
//!   that moment* (an anonymous visitor until claimed). When a claim or an alias makes two
//!   subjects one, it reports a [`Merge`], so that an evaluator can move state (points,
//!   history, consumed limits) from the old subject into the contact.
//! - [`resolve_all`] reads the whole input first and gives R1's exact attribution, where an
//!   anonymous record *before* the claim in time already belongs to the later owner.
//!
//! Both agree at the end: following the merges, every record of the streaming view lands on
//! the contact that `resolve_all` gives it (tested). The rule, in short: the earliest alias of
//! an id sets its target and chains are followed; the earliest claim of an anonymous id sets
//! its owner and later claims by others are ignored; an old userId merged away is not a contact.

use std::collections::{BTreeSet, HashMap};

use crate::input::{Record, RecordType};

/// A contact: the userId every alias chain from a record ends at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactId(pub String);

impl std::fmt::Display for ContactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who a record is attributed to in the streaming view.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Contact(ContactId),
    /// An anonymousId nobody has claimed (yet).
    Anonymous(String),
}

/// Everything known about `from` now belongs to `into`, from event time `at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// An anonymous visitor just claimed, or an old userId just aliased to another.
    pub from: Subject,
    pub into: ContactId,
    pub at: i64,
    /// The line of the record that caused the merge.
    pub line: u64,
}

/// What else a record did to identities, besides merges; kept so that `--explain` can say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityNote {
    Merged(Merge),
    /// A second userId claimed an anonymousId that already has an owner (a shared computer):
    /// the first claim stays.
    ClaimIgnored {
        anonymous_id: String,
        claimed_by: String,
        owner: String,
        line: u64,
    },
    /// A second alias for the same `previousId`: the first alias stays.
    AliasIgnored {
        previous_id: String,
        user_id: String,
        target: String,
        line: u64,
    },
    /// An alias whose `userId` already leads back to its `previousId`: following it would go
    /// round in a loop, so it is ignored (R1 assumes no loops; this keeps every input safe).
    AliasLoopIgnored {
        previous_id: String,
        user_id: String,
        line: u64,
    },
}

/// Alias targets, with path compression so that long chains stay cheap to follow.
#[derive(Debug, Default, Clone)]
struct AliasTable {
    /// previousId → an id further along its chain (its target, or a later one after compression).
    parent: HashMap<String, String>,
    /// previousId → the `userId` of its first alias, as written (for messages and tables).
    first_target: HashMap<String, String>,
}

enum AliasOutcome {
    /// A new target was set; the old id (a root until now) merges into this root.
    Added {
        root: String,
    },
    AlreadyTargeted {
        target: String,
    },
    Loop,
}

impl AliasTable {
    /// `resolve(x)` of R1: follows targets until an id with none.
    fn resolve(&mut self, id: &str) -> String {
        let mut path = Vec::new();
        let mut current = id.to_string();
        while let Some(next) = self.parent.get(&current) {
            path.push(current);
            current = next.clone();
            // Loops are never added (see `add`), so this ends; the bound is a second guard.
            if path.len() > self.parent.len() {
                break;
            }
        }
        // Point every id on the path straight at the root (the chain's end never moves except by
        // a new alias of the root itself, which only makes the pointers one step short).
        if path.len() > 1 {
            for p in path {
                self.parent.insert(p, current.clone());
            }
        }
        current
    }

    /// Applies an alias `previous → user` in event-time order: the earliest per `previous` wins.
    fn add(&mut self, previous: &str, user: &str) -> AliasOutcome {
        if let Some(target) = self.first_target.get(previous) {
            return AliasOutcome::AlreadyTargeted {
                target: target.clone(),
            };
        }
        let root = self.resolve(user);
        if root == previous {
            return AliasOutcome::Loop;
        }
        self.parent.insert(previous.to_string(), user.to_string());
        self.first_target
            .insert(previous.to_string(), user.to_string());
        AliasOutcome::Added { root }
    }
}

/// The streaming resolver. Feed it valid records in event-time order (`ts`, then `messageId`).
#[derive(Debug, Default, Clone)]
pub struct IdentityResolver {
    aliases: AliasTable,
    /// anonymousId → the userId of its earliest claim.
    owners: HashMap<String, String>,
    last_key: Option<(i64, String)>,
    out_of_order: u64,
}

/// How the resolver saw one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Whom the record belongs to now (after the merges it caused).
    pub subject: Subject,
    /// Merges and ignored claims or aliases caused by this record, in the order applied.
    pub notes: Vec<IdentityNote>,
}

impl Observation {
    pub fn merges(&self) -> impl Iterator<Item = &Merge> {
        self.notes.iter().filter_map(|n| match n {
            IdentityNote::Merged(m) => Some(m),
            _ => None,
        })
    }
}

impl IdentityResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies the record's alias or claim, then attributes it.
    pub fn observe(&mut self, record: &Record) -> Observation {
        let key = (
            record.timestamp,
            record.message_id.clone().unwrap_or_default(),
        );
        if self.last_key.as_ref().is_some_and(|last| key < *last) {
            // The caller's reordering window failed; attributions may differ from R1 from here.
            self.out_of_order += 1;
        }
        self.last_key = Some(key);

        let mut notes = Vec::new();
        let at = record.timestamp;
        let line = record.line;
        if record.record_type == RecordType::Alias {
            if let (Some(previous), Some(user)) = (&record.previous_id, &record.user_id) {
                match self.aliases.add(previous, user) {
                    AliasOutcome::Added { root } => notes.push(IdentityNote::Merged(Merge {
                        from: Subject::Contact(ContactId(previous.clone())),
                        into: ContactId(root),
                        at,
                        line,
                    })),
                    AliasOutcome::AlreadyTargeted { target } => {
                        notes.push(IdentityNote::AliasIgnored {
                            previous_id: previous.clone(),
                            user_id: user.clone(),
                            target,
                            line,
                        })
                    }
                    AliasOutcome::Loop => notes.push(IdentityNote::AliasLoopIgnored {
                        previous_id: previous.clone(),
                        user_id: user.clone(),
                        line,
                    }),
                }
                // An alias is also a claim on its previousId as an anonymousId (R1 §2.2).
                self.claim(previous, user, at, line, &mut notes);
            }
        } else if record.record_type == RecordType::Identify {
            if let (Some(user), Some(anonymous)) = (&record.user_id, &record.anonymous_id) {
                self.claim(anonymous, user, at, line, &mut notes);
            }
        }
        let subject = self.subject_now(record);
        Observation { subject, notes }
    }

    fn claim(
        &mut self,
        anonymous: &str,
        user: &str,
        at: i64,
        line: u64,
        notes: &mut Vec<IdentityNote>,
    ) {
        match self.owners.get(anonymous) {
            None => {
                self.owners.insert(anonymous.to_string(), user.to_string());
                let into = ContactId(self.aliases.resolve(user));
                notes.push(IdentityNote::Merged(Merge {
                    from: Subject::Anonymous(anonymous.to_string()),
                    into,
                    at,
                    line,
                }));
            }
            Some(owner) if owner != user => {
                let owner = owner.clone();
                if self.aliases.resolve(&owner) != self.aliases.resolve(user) {
                    notes.push(IdentityNote::ClaimIgnored {
                        anonymous_id: anonymous.to_string(),
                        claimed_by: user.to_string(),
                        owner,
                        line,
                    });
                }
            }
            Some(_) => {}
        }
    }

    /// The subject of a record with what is known now (R1 §2.3 applied to the input so far).
    fn subject_now(&mut self, record: &Record) -> Subject {
        if let Some(user) = &record.user_id {
            return Subject::Contact(ContactId(self.aliases.resolve(user)));
        }
        match &record.anonymous_id {
            Some(anonymous) => match self.owners.get(anonymous).cloned() {
                Some(owner) => Subject::Contact(ContactId(self.aliases.resolve(&owner))),
                None => Subject::Anonymous(anonymous.clone()),
            },
            // A valid non-alias record always has one of the two ids; this is only reached by a
            // record built by hand.
            None => Subject::Anonymous(String::new()),
        }
    }

    /// The contact of `record` as known now, without applying it; `None` for an anonymous one.
    pub fn contact_of(&mut self, record: &Record) -> Option<ContactId> {
        match self.subject_now(record) {
            Subject::Contact(c) => Some(c),
            Subject::Anonymous(_) => None,
        }
    }

    /// Where a subject seen earlier belongs now, following every merge since.
    pub fn current(&mut self, subject: &Subject) -> Subject {
        match subject {
            Subject::Contact(c) => Subject::Contact(ContactId(self.aliases.resolve(&c.0))),
            Subject::Anonymous(a) => match self.owners.get(a).cloned() {
                Some(owner) => Subject::Contact(ContactId(self.aliases.resolve(&owner))),
                None => subject.clone(),
            },
        }
    }

    /// How many records arrived before one already seen (they should be none).
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }
}

/// R1 §2 over a whole input: the contact of each record, and the set of contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The contact of `records[i]`, or `None` for a record that stays anonymous.
    pub contact_of: Vec<Option<ContactId>>,
    /// All ids some record resolves to (R1 §2.4), sorted.
    pub contacts: BTreeSet<ContactId>,
    /// anonymousId → the userId of its earliest claim.
    pub owners: HashMap<String, String>,
    /// previousId → userId of its earliest alias (loops left out, as in the streaming view).
    pub alias_targets: HashMap<String, String>,
}

/// R1 §2 over all records at once, in any input order: sorts by (`ts`, `messageId`, line),
/// takes the earliest alias per previousId and the earliest claim per anonymousId, then
/// attributes every record with the final tables.
pub fn resolve_all(records: &[Record]) -> Attribution {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| match (records.get(a), records.get(b)) {
        (Some(x), Some(y)) => x.order_key().cmp(&y.order_key()),
        _ => std::cmp::Ordering::Equal,
    });

    let mut aliases = AliasTable::default();
    let mut alias_targets = HashMap::new();
    let mut owners: HashMap<String, String> = HashMap::new();
    for record in order.iter().filter_map(|&i| records.get(i)) {
        let claim = match record.record_type {
            RecordType::Alias => {
                if let (Some(previous), Some(user)) = (&record.previous_id, &record.user_id) {
                    if let AliasOutcome::Added { .. } = aliases.add(previous, user) {
                        alias_targets.insert(previous.clone(), user.clone());
                    }
                }
                record.previous_id.as_ref().zip(record.user_id.as_ref())
            }
            RecordType::Identify => record.anonymous_id.as_ref().zip(record.user_id.as_ref()),
            _ => None,
        };
        if let Some((anonymous, user)) = claim {
            owners
                .entry(anonymous.clone())
                .or_insert_with(|| user.clone());
        }
    }

    let mut contacts = BTreeSet::new();
    let contact_of = records
        .iter()
        .map(|record| {
            let owner = match (&record.user_id, &record.anonymous_id) {
                (Some(user), _) => Some(user.clone()),
                (None, Some(anonymous)) => owners.get(anonymous).cloned(),
                (None, None) => None,
            };
            let contact = owner.map(|o| ContactId(aliases.resolve(&o)));
            if let Some(c) = &contact {
                contacts.insert(c.clone());
            }
            contact
        })
        .collect();
    Attribution {
        contact_of,
        contacts,
        owners,
        alias_targets,
    }
}

/// Every distinct id of a run (`userId`, `anonymousId`, `previousId` share one table) as a
/// number, so that a run keeps one copy of each id however many records carry it.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32, std::hash::BuildHasherDefault<IdHasher>>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        i
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A fast hash for ids (FxHash's mix, eight bytes at a time): SipHash's resistance to chosen
/// keys is not needed for a table that is only probed, never iterated, so no output depends on
/// it.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The identity fields of one record, as numbers of an [`Interner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdKeys {
    pub record_type: RecordType,
    pub user: Option<u32>,
    pub anonymous: Option<u32>,
    pub previous: Option<u32>,
}

/// [`resolve_all`] over interned ids, for a run that keeps its records compact. `claims` are
/// the positions of the records that can claim or alias (every `alias` and `identify`) in
/// event-time order; only their relative order matters to R1 §2, so the other records need no
/// sort. Returns the contact of each record (an id of `names`, which gains the contacts that
/// were no id of a record yet) and the alias targets (previousId → userId).
pub fn resolve_interned(
    records: &[IdKeys],
    claims: &[usize],
    names: &mut Interner,
) -> (Vec<Option<u32>>, HashMap<String, String>) {
    let mut aliases = AliasTable::default();
    let mut alias_targets = HashMap::new();
    const NONE: u32 = u32::MAX;
    // anonymousId → the userId of its earliest claim.
    let mut owners = vec![NONE; names.len()];
    for record in claims.iter().filter_map(|&i| records.get(i)) {
        let claim = match record.record_type {
            RecordType::Alias => {
                if let (Some(previous), Some(user)) = (record.previous, record.user) {
                    let (previous, user) = (names.name(previous), names.name(user));
                    if let AliasOutcome::Added { .. } = aliases.add(previous, user) {
                        alias_targets.insert(previous.to_string(), user.to_string());
                    }
                }
                record.previous.zip(record.user)
            }
            RecordType::Identify => record.anonymous.zip(record.user),
            _ => None,
        };
        if let Some((anonymous, user)) = claim {
            if let Some(owner) = owners.get_mut(anonymous as usize) {
                if *owner == NONE {
                    *owner = user;
                }
            }
        }
    }
    // Owner → its contact, resolved once per owner.
    let mut contact_of_owner = vec![NONE; names.len()];
    let contact_of = records
        .iter()
        .map(|record| {
            let owner = match (record.user, record.anonymous) {
                (Some(user), _) => Some(user),
                (None, Some(anonymous)) => owners
                    .get(anonymous as usize)
                    .copied()
                    .filter(|&o| o != NONE),
                (None, None) => None,
            }?;
            match contact_of_owner.get(owner as usize).copied() {
                Some(c) if c != NONE => Some(c),
                _ => {
                    let root = aliases.resolve(names.name(owner));
                    let contact = names.intern(&root);
                    if let Some(memo) = contact_of_owner.get_mut(owner as usize) {
                        *memo = contact;
                    }
                    Some(contact)
                }
            }
        })
        .collect();
    (contact_of, alias_targets)
}

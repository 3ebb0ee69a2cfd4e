//! The engine: per-contact state built by replaying each contact's records in event time.
//!
//! A run collects every valid record (compactly: see `Kept`), decides who each belongs to with
//! the identity resolver over the whole input (R1 §2: `identity::resolve_interned`, the same
//! rule as `resolve_all` over ids as numbers), then replays each contact's records
//! — the union of every id merged into it — in (`ts`, `messageId`, line) order through the
//! interpreter. Replaying the union is what makes a merge exact: points earned while anonymous
//! are carried over, and limits and windows see the merged history as one (a cap keeps the
//! earliest qualifying records of the contact). Records that belong to no contact at the end are
//! left out of the per-contact output; records after `until` are not applied.
//!
//! Per record, in this order: time advances (decay), an identify with a `userId` replaces the
//! profile (its traits are the whole profile, R1 "latest traits") and profile points are
//! re-evaluated (a limited profile rule counts each start of its condition), then the event's
//! rules run in score and rule order, then the record joins the history (so a rule's aggregate
//! sees the earlier records only); each change keeps its provenance (score, rule, record line,
//! time). Bounds apply at each change. After every contact, account scores are rolled up.
//! At `until` the decay is brought up to date, profile points re-evaluated and segments
//! evaluated in dependency order. The state is plain data (`store.rs` serialises it). A
//! contact snapshot (`push_contact`, from `--contacts`) gives a contact's profile before its
//! first record; identify traits then replace the fields they carry.

use std::collections::{BTreeMap, HashMap, VecDeque};

use maclc_compiler::check::{ConsentState, EventId as ProgramEventId};
use maclc_compiler::ir::{CapKind, DecayIr, EventLayout, EventSource, Ir, Slot, ValType};
use maclc_compiler::syntax::ast::AccountAggregate;

use crate::eval::{HistoryEntry, Scope, Val, MILLIS_PER_DAY};
use crate::identity::{resolve_interned, ContactId, IdKeys, Interner};
use crate::input::{EventSlots, Fields, KeptMembers, Record, RecordType, Value};
use crate::jit::RULES_PER_CHUNK;
use crate::lifecycle::{after_record, finish_actions, fire_timers, Action, Timer};

/// One change of a score, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub score: u32,
    /// The rule's position in its score.
    pub rule: u32,
    /// The line of the record that caused it.
    pub line: u64,
    pub ts: i64,
    /// The change applied, after bounds.
    pub delta: f64,
}

/// A lifecycle transition taken or a routing rule chosen, by position as declared: what
/// `maclc test --coverage` counts and a test's trace shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The lifecycle's transition `transition` moved the contact.
    Transition { time: i64, transition: u32 },
    /// Routing `route` chose its rule `rule` (an `otherwise` is a rule too).
    Route { time: i64, route: u32, rule: u32 },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreState {
    /// Event points, decayed; `value = behaviour + profile`, within bounds.
    pub behaviour: f64,
    /// Profile points from the latest profile.
    pub profile: f64,
    /// Decay is applied up to this time.
    pub decayed_to: Option<i64>,
    /// Steps of a step decay already applied since the last activity.
    pub steps_done: i64,
    /// Which profile rules' points count at the latest evaluation (the condition holds and,
    /// for a rule with a limit, the start of this holding was within the limit).
    pub profile_held: Vec<bool>,
    /// Which profile rules' conditions held at the latest evaluation (a limit counts starts).
    pub profile_true: Vec<bool>,
}

impl ScoreState {
    pub fn value(&self) -> f64 {
        self.behaviour + self.profile
    }
}

/// A limit's counter.
#[derive(Debug, Clone, PartialEq)]
pub enum CapState {
    Unused,
    /// Records kept in the calendar period `period` (day or week number).
    Period {
        period: i64,
        used: u32,
    },
    /// Times of the records kept within the rolling window.
    Rolling(VecDeque<i64>),
    Once,
}

/// Everything known about one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactState {
    pub id: String,
    /// By contact slot.
    pub profile: Vec<Val>,
    /// The linked accounts' fields, by account slot: read, like the profile, from the latest
    /// traits (the account object they carry); missing while the contact has no account.
    pub account: Vec<Val>,
    /// The account scores of the contact's account, set once every contact has run.
    pub account_scores: Vec<Option<f64>>,
    /// By channel slot.
    pub consent: Vec<ConsentState>,
    pub scores: Vec<ScoreState>,
    pub caps: Vec<CapState>,
    pub history: Vec<HistoryEntry>,
    pub changes: Vec<Change>,
    /// Time of the latest record applied (activity, for step decay).
    pub last_activity: Option<i64>,
    /// Segment membership as of the latest evaluation (the end of the run), by segment id.
    pub segments: Vec<bool>,
    /// The lifecycle stage (position in the declared order; every contact starts at 0).
    pub stage: u32,
    /// Counts stage changes: an SLA timer belongs to one visit of its stage.
    pub stage_visit: u64,
    /// Every stage change: (time, from, to).
    pub stage_changes: Vec<(i64, u32, u32)>,
    /// Every transition taken and routing rule chosen, in order.
    pub decisions: Vec<Decision>,
    pub timers: Vec<Timer>,
    pub actions: Vec<Action>,
    /// Score values at the latest lifecycle/routing check (to see a score cross a threshold).
    pub scores_checked: Vec<f64>,
    /// Journey runs and what journey triggers and entry rules remember.
    pub journeys: crate::journey::JourneyState,
    /// The latest time up to which changes that time alone makes (a record leaving a window)
    /// have been looked at; see `lifecycle::fire_timers`.
    pub time_seen: i64,
}

impl ContactState {
    pub fn new(ir: &Ir, id: &str) -> ContactState {
        ContactState {
            id: id.to_string(),
            profile: vec![Val::Missing; ir.contact_slots.len()],
            account: vec![Val::Missing; ir.account_slots.len()],
            account_scores: vec![None; ir.account_scores.len()],
            consent: vec![ConsentState::Unknown; ir.channels.len()],
            scores: vec![ScoreState::default(); ir.scores.len()],
            caps: vec![CapState::Unused; ir.cap_count as usize],
            history: Vec::new(),
            changes: Vec::new(),
            last_activity: None,
            segments: vec![false; ir.segments.len()],
            stage: 0,
            stage_visit: 0,
            stage_changes: Vec::new(),
            decisions: Vec::new(),
            timers: Vec::new(),
            actions: Vec::new(),
            scores_checked: vec![0.0; ir.scores.len()],
            journeys: crate::journey::JourneyState::new(ir),
            time_seen: i64::MIN,
        }
    }

    pub fn score_values(&self) -> Vec<f64> {
        self.scores.iter().map(ScoreState::value).collect()
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The as-of time: `until`, or the largest valid `ts` (anonymous records included).
    pub as_of: Option<i64>,
    /// Every contact, sorted by id (byte order).
    pub contacts: Vec<ContactState>,
    /// Valid records that belong to no contact.
    pub anonymous_left_out: u64,
    /// Valid records later than `until`, not applied.
    pub after_until: u64,
    /// Every action, in (time, contact, sequence) order, with keys and round-robin owners.
    pub actions: Vec<Action>,
    /// Every account some contact links to, sorted by key, with its account scores.
    pub accounts: Vec<AccountState>,
    /// Contact snapshot rows not applied: their `userId` was merged (by an `alias`) into a
    /// contact that has a snapshot row of its own, which wins.
    pub snapshot_rows_merged_away: u64,
}

/// One account at the end of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountState {
    /// The account's key (`acc-00042`).
    pub key: String,
    /// How many contacts link to it (by their latest traits).
    pub contacts: u32,
    /// By account score ([`Ir::account_scores`]).
    pub scores: Vec<f64>,
}

/// Rolls contact scores up to their accounts (the contact's account is the key its latest
/// traits give the one account link), then hands each contact its account's scores.
pub fn account_scores(ir: &Ir, contacts: &mut [ContactState]) -> Vec<AccountState> {
    let Some(link) = ir.account_link.filter(|_| !ir.account_scores.is_empty()) else {
        return Vec::new();
    };
    let key_of = |c: &ContactState| match c.profile.get(link as usize) {
        Some(Val::Text(k)) => Some(k.to_string()),
        _ => None,
    };
    // Per account, the values of each rolled-up score over its contacts.
    let mut groups: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for c in contacts.iter() {
        if let Some(key) = key_of(c) {
            let values = groups
                .entry(key)
                .or_insert_with(|| vec![Vec::new(); ir.account_scores.len()]);
            for (a, v) in ir.account_scores.iter().zip(values.iter_mut()) {
                if let Some(s) = c.scores.get(a.score.index()) {
                    v.push(s.value());
                }
            }
        }
    }
    let accounts: Vec<AccountState> = groups
        .into_iter()
        .map(|(key, values)| AccountState {
            contacts: values.first().map_or(0, |v| v.len() as u32),
            scores: ir
                .account_scores
                .iter()
                .zip(&values)
                .map(|(a, v)| roll_up(a.aggregate, v))
                .collect(),
            key,
        })
        .collect();
    for c in contacts.iter_mut() {
        let Some(key) = key_of(c) else { continue };
        if let Ok(i) = accounts.binary_search_by(|a| a.key.as_str().cmp(&key)) {
            if let Some(a) = accounts.get(i) {
                c.account_scores = a.scores.iter().map(|v| Some(*v)).collect();
            }
        }
    }
    accounts
}

/// `sum`, `max`, `min` or `average` of a non-empty list (an account has at least one contact).
fn roll_up(aggregate: AccountAggregate, values: &[f64]) -> f64 {
    match aggregate {
        AccountAggregate::Sum => values.iter().sum(),
        AccountAggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        AccountAggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        AccountAggregate::Average => values.iter().sum::<f64>() / values.len().max(1) as f64,
    }
}

/// Which program events a record is.
#[derive(Debug, Clone)]
pub struct EventMap {
    /// Input track event id → program event id.
    pub track: Vec<ProgramEventId>,
    pub page: Vec<ProgramEventId>,
    pub screen: Vec<ProgramEventId>,
    /// By program event, by property slot: a text slot whose member no other slot of the event
    /// reads, so that a kept record can take the decoded text rather than copy it.
    text_taken: Vec<Vec<bool>>,
}

impl EventMap {
    pub fn new(ir: &Ir, track: Vec<ProgramEventId>) -> EventMap {
        let of = |source: EventSource| {
            ir.events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.source == source)
                .map(|(i, _)| ProgramEventId(i as u32))
                .collect()
        };
        let text_taken = ir
            .events
            .iter()
            .map(|layout| {
                let slots = &layout.properties;
                slots
                    .iter()
                    .enumerate()
                    .map(|(i, slot)| {
                        slot.ty == ValType::Text
                            && !slots
                                .iter()
                                .enumerate()
                                .any(|(j, other)| j != i && other.wire == slot.wire)
                    })
                    .collect()
            })
            .collect();
        EventMap {
            track,
            page: of(EventSource::Page),
            screen: of(EventSource::Screen),
            text_taken,
        }
    }

    fn events_of(&self, record: &Record) -> &[ProgramEventId] {
        match record.record_type {
            RecordType::Track => record
                .event
                .and_then(|e| self.track.get(e.0 as usize))
                .map_or(&[], std::slice::from_ref),
            RecordType::Page => &self.page,
            RecordType::Screen => &self.screen,
            _ => &[],
        }
    }
}

/// A valid record as a run keeps it until the end of input: only what identity resolution and
/// the replay read. Ids are numbers of the run's [`Interner`]; the program events' properties
/// are already decoded into slot values (only those an expression reads); an identify keeps
/// only the traits the profile reads. A [`Record`] with its maps of every member costs several
/// times as much, and a run holds every record until identity is known over the whole input.
#[derive(Debug)]
struct Kept {
    line: u64,
    timestamp: i64,
    /// Where the record's `messageId` starts in the run's [`MessageIds`], and its length
    /// ([`NO_MESSAGE_ID`]: it has none): one buffer for every id rather than one allocation each.
    message_at: u64,
    message_len: u32,
    ids: IdKeys,
    /// The contact's position in the run's sorted contacts, once identity is resolved.
    contact: u32,
    /// An identify with a `userId`: the traits that set the profile.
    traits: Option<Box<Fields>>,
    /// The record's program events with their properties, as `apply_events` takes them.
    /// (A boxed slice: a record is never extended, and the `Vec`'s capacity would cost 8 bytes
    /// on every record.)
    decoded: Box<[(u32, Box<[Val]>)]>,
}

// A million records are held at once: a field more on every record is megabytes more.
const _: () = assert!(std::mem::size_of::<Kept>() <= 88);

impl Kept {
    /// `profile_members`: the top-level traits the profile reads (`None`: keep every trait).
    fn new(
        ir: &Ir,
        events: &EventMap,
        record: Record,
        ids: IdKeys,
        profile_members: Option<&[String]>,
        message_ids: &mut MessageIds,
    ) -> Kept {
        let mut record = record;
        let decoded = take_events(ir, events, &mut record);
        let traits =
            (record.record_type == RecordType::Identify && record.user_id.is_some()).then(|| {
                let mut traits = record.traits;
                if let Some(members) = profile_members {
                    traits.0.retain(|(k, _)| members.iter().any(|m| m == k));
                }
                Box::new(traits)
            });
        let (message_at, message_len) = message_ids.keep(record.message_id.as_deref());
        Kept {
            line: record.line,
            timestamp: record.timestamp,
            message_at,
            message_len,
            ids,
            contact: 0,
            traits,
            decoded: decoded.into_boxed_slice(),
        }
    }

    /// [`Record::order_key`], the record's `messageId` read from `message_ids`.
    fn order_key<'m>(&self, message_ids: &'m MessageIds) -> (i64, &'m [u8], u64) {
        (
            self.timestamp,
            message_ids.get(self).unwrap_or("").as_bytes(),
            self.line,
        )
    }
}

/// A guess of the shortest record line, for [`Engine::expect_input_bytes`].
const MIN_LINE_BYTES_GUESS: u64 = 128;
/// A guess of a `messageId`'s length (a UUID is 36 bytes), for [`Engine::expect_input_bytes`].
const MESSAGE_ID_BYTES_GUESS: usize = 40;
/// Beyond this many records the buffer grows as it fills.
const MAX_RECORDS_RESERVED: usize = 1 << 26;

/// [`Kept::message_len`] of a record without a `messageId`.
const NO_MESSAGE_ID: u32 = u32::MAX;

/// The `messageId`s of a run's kept records, one after the other.
#[derive(Debug, Default)]
struct MessageIds(String);

impl MessageIds {
    /// Appends `id`: where it starts and its length, for [`Kept`].
    fn keep(&mut self, id: Option<&str>) -> (u64, u32) {
        let at = self.0.len() as u64;
        match id.map(|m| (m, u32::try_from(m.len()))) {
            Some((m, Ok(len))) if len != NO_MESSAGE_ID => {
                self.0.push_str(m);
                (at, len)
            }
            // Longer than any line can be: not reached (a line is at most 32 KB).
            _ => (at, NO_MESSAGE_ID),
        }
    }

    /// The `messageId` of `record`, if it has one.
    fn get(&self, record: &Kept) -> Option<&str> {
        if record.message_len == NO_MESSAGE_ID {
            return None;
        }
        let start = usize::try_from(record.message_at).ok()?;
        self.0.get(start..start + record.message_len as usize)
    }
}

/// The work of one worker thread: given a closure, runs it (the `maclc` command sets up the
/// native code of the conditions for that thread around it).
pub type InWorker<'a> = dyn Fn(&mut dyn FnMut()) + Sync + 'a;

/// Collects valid records and evaluates the program over them.
#[derive(Debug)]
pub struct Engine<'ir> {
    ir: &'ir Ir,
    events: EventMap,
    records: Vec<Kept>,
    /// The records' `messageId`s.
    message_ids: MessageIds,
    /// Every id the records carry, once.
    names: Interner,
    /// The top-level traits the profile reads: an identify keeps only these.
    profile_members: Vec<String>,
    /// The largest valid `ts` pushed.
    latest: Option<i64>,
    program_hash: u64,
    /// The contact snapshot (`--contacts`): `userId` → traits, applied before the contact's
    /// first record.
    snapshot: HashMap<String, Fields>,
}

impl<'ir> Engine<'ir> {
    pub fn new(ir: &'ir Ir, events: EventMap) -> Engine<'ir> {
        let mut profile_members: Vec<String> = ir
            .contact_slots
            .iter()
            .chain(ir.account_slots.iter().map(|a| &a.slot))
            .filter_map(|s| s.wire.first().cloned())
            .chain(["consent".to_string()])
            .collect();
        profile_members.sort();
        profile_members.dedup();
        Engine {
            ir,
            events,
            records: Vec::new(),
            message_ids: MessageIds::default(),
            names: Interner::default(),
            profile_members,
            latest: None,
            program_hash: 0,
            snapshot: HashMap::new(),
        }
    }

    /// The members of `properties` and `traits` this engine reads: decoding can keep only
    /// these (`InputSchema::keeping_only`) and give the same results.
    pub fn members_read(&self) -> KeptMembers {
        let mut properties: Vec<String> = self
            .ir
            .events
            .iter()
            .enumerate()
            .flat_map(|(e, layout)| {
                let used = self.ir.used_properties.get(e);
                layout
                    .properties
                    .iter()
                    .enumerate()
                    .filter(move |(i, _)| used.and_then(|u| u.get(*i)).copied().unwrap_or(false))
                    .filter_map(|(_, slot)| slot.wire.first().cloned())
            })
            .collect();
        properties.sort();
        properties.dedup();
        KeptMembers {
            properties,
            traits: self.profile_members.clone(),
        }
    }

    /// By track event of the input schema: the slots of its program event the decoder can
    /// fill straight from the line (`InputSchema::with_slots`); `None` for an event with a
    /// slot reading a nested member (`company.id`), which decodes into `properties`.
    pub fn track_slots(&self) -> Vec<Option<EventSlots>> {
        self.events
            .track
            .iter()
            .map(|event| self.event_slots(*event))
            .collect()
    }

    /// [`Engine::track_slots`] for a page, when a page is one program event.
    pub fn page_slots(&self) -> Option<EventSlots> {
        match self.events.page.as_slice() {
            &[event] => self.event_slots(event),
            _ => None,
        }
    }

    fn event_slots(&self, event: ProgramEventId) -> Option<EventSlots> {
        let layout = self.ir.events.get(event.index())?;
        let used = self.ir.used_properties.get(event.index());
        let read: Vec<(usize, Slot)> = layout
            .properties
            .iter()
            .enumerate()
            .filter(|(i, _)| used.and_then(|u| u.get(*i)).copied().unwrap_or(false))
            .map(|(i, slot)| (i, slot.clone()))
            .collect();
        let top_level = read.iter().all(|(_, slot)| slot.wire.len() == 1);
        top_level.then_some(EventSlots {
            len: layout.properties.len(),
            read,
        })
    }

    /// A hash of the program's source: part of every action's idempotency key, so that a new
    /// version of the rules gives new keys.
    pub fn with_program_hash(mut self, hash: u64) -> Self {
        self.program_hash = hash;
        self
    }

    /// Reserves room for the records of an input of `bytes` bytes, so that the records do not
    /// move (and new pages are not cleared twice) each time their buffer doubles. The room is
    /// reserved as address space only: pages no record reaches are never touched, so a short
    /// guess costs no memory (a record line is rarely below `MIN_LINE_BYTES_GUESS` bytes,
    /// and more lines than guessed only grow the buffer as before).
    pub fn expect_input_bytes(&mut self, bytes: u64) {
        let lines = usize::try_from(bytes / MIN_LINE_BYTES_GUESS).unwrap_or(usize::MAX);
        let lines = lines.min(MAX_RECORDS_RESERVED);
        self.records.reserve(lines);
        self.message_ids
            .0
            .reserve(lines.saturating_mul(MESSAGE_ID_BYTES_GUESS));
    }

    /// Keeps a valid record (compactly, see `Kept`) until [`Engine::finish`].
    pub fn push(&mut self, record: Record) {
        let mut intern = |id: &Option<String>| id.as_deref().map(|s| self.names.intern(s));
        let ids = IdKeys {
            record_type: record.record_type,
            user: intern(&record.user_id),
            anonymous: intern(&record.anonymous_id),
            previous: if record.record_type == RecordType::Alias {
                intern(&record.previous_id)
            } else {
                None
            },
        };
        self.latest = Some(
            self.latest
                .map_or(record.timestamp, |l| l.max(record.timestamp)),
        );
        let kept = Kept::new(
            self.ir,
            &self.events,
            record,
            ids,
            Some(&self.profile_members),
            &mut self.message_ids,
        );
        self.records.push(kept);
    }

    /// One row of the contact snapshot (a record from `input::decode_contact_lines`): its
    /// traits are the contact's profile before its first record; an identify's traits later
    /// replace the fields they give and keep the others. The first row of a `userId` is kept.
    pub fn push_contact(&mut self, row: Record) {
        if let Some(id) = row.user_id {
            self.snapshot.entry(id).or_insert(row.traits);
        }
    }

    /// The contact each snapshot row belongs to: its `userId`, or the contact an `alias`
    /// merged it into (a contact's own row wins over rows merged into it). Returns the rows by
    /// contact and how many were not applied.
    fn snapshot_by_contact(
        snapshot: HashMap<String, Fields>,
        alias_targets: &HashMap<String, String>,
    ) -> (BTreeMap<ContactId, Fields>, u64) {
        let mut rows: Vec<(String, Fields)> = snapshot.into_iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_contact: BTreeMap<ContactId, Fields> = BTreeMap::new();
        let mut merged: Vec<(ContactId, Fields)> = Vec::new();
        for (id, traits) in rows {
            let mut target = id.clone();
            // Alias chains are short; the bound only guards against a loop.
            for _ in 0..64 {
                match alias_targets.get(&target) {
                    Some(next) if *next != target => target = next.clone(),
                    _ => break,
                }
            }
            if target == id {
                by_contact.insert(ContactId(id), traits);
            } else {
                merged.push((ContactId(target), traits));
            }
        }
        let mut unused = 0;
        for (target, traits) in merged {
            match by_contact.entry(target) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(traits);
                }
                std::collections::btree_map::Entry::Occupied(_) => unused += 1,
            }
        }
        (by_contact, unused)
    }

    /// Runs every contact up to `until` (default: the largest valid `ts`), on this thread.
    pub fn finish(self, until: Option<i64>) -> RunOutput {
        self.finish_on(until, 1, &|work| work())
    }

    /// [`Engine::finish`] with the contacts replayed on `threads` threads, each running its
    /// share inside `in_worker`. Contacts are independent until every one has run (account
    /// scores, segments that read them and the actions' order, round-robin owners and keys
    /// come after, on this thread), and the shares are joined in contact order, so the output
    /// is the same for any number of threads.
    pub fn finish_on(
        mut self,
        until: Option<i64>,
        threads: usize,
        in_worker: &InWorker<'_>,
    ) -> RunOutput {
        let as_of = until.or(self.latest);
        let Some(t_end) = as_of else {
            return RunOutput {
                as_of: None,
                contacts: Vec::new(),
                anonymous_left_out: 0,
                after_until: 0,
                actions: Vec::new(),
                accounts: Vec::new(),
                snapshot_rows_merged_away: 0,
            };
        };
        let mut records = std::mem::take(&mut self.records);
        let pushed = records.len();
        records.retain(|r| r.timestamp <= t_end);
        let after_until = (pushed - records.len()) as u64;

        // Identity over the whole input (R1 §2): only claims and aliases need event-time order.
        let mut claims: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.ids.record_type, RecordType::Alias | RecordType::Identify))
            .map(|(i, _)| i)
            .collect();
        claims.sort_by(|&a, &b| match (records.get(a), records.get(b)) {
            (Some(x), Some(y)) => x
                .order_key(&self.message_ids)
                .cmp(&y.order_key(&self.message_ids)),
            _ => std::cmp::Ordering::Equal,
        });
        let ids: Vec<IdKeys> = records.iter().map(|r| r.ids).collect();
        let (contact_of, alias_targets) = resolve_interned(&ids, &claims, &mut self.names);
        drop((ids, claims));
        let (snapshot, snapshot_rows_merged_away) =
            Self::snapshot_by_contact(std::mem::take(&mut self.snapshot), &alias_targets);

        // Every contact (a contact of the snapshot is one even with no record), by id in byte
        // order, each with its records.
        let snapshot: Vec<(u32, Fields)> = snapshot
            .into_iter()
            .map(|(id, traits)| (self.names.intern(&id.0), traits))
            .collect();
        let mut contact_ids: Vec<u32> = contact_of
            .iter()
            .flatten()
            .copied()
            .chain(snapshot.iter().map(|(id, _)| *id))
            .collect();
        let names = &self.names;
        contact_ids.sort_unstable_by(|a, b| names.name(*a).cmp(names.name(*b)));
        contact_ids.dedup();
        const NONE: u32 = u32::MAX;
        let mut bucket_of = vec![NONE; names.len()];
        for (i, id) in contact_ids.iter().enumerate() {
            if let Some(b) = bucket_of.get_mut(*id as usize) {
                *b = i as u32;
            }
        }
        // Records grouped by contact in place (a counting sort: no second copy of the
        // records), the anonymous ones last; each contact then sorts its own few by time.
        let anonymous_bucket = contact_ids.len() as u32;
        let mut counts = vec![0usize; contact_ids.len() + 1];
        for (record, contact) in records.iter_mut().zip(&contact_of) {
            record.contact = contact
                .and_then(|c| bucket_of.get(c as usize).copied())
                .filter(|&b| b != NONE)
                .unwrap_or(anonymous_bucket);
            if let Some(n) = counts.get_mut(record.contact as usize) {
                *n += 1;
            }
        }
        drop(contact_of);
        group_in_place(&mut records, &counts);
        let anonymous = counts.last().copied().unwrap_or(0);
        records.truncate(records.len() - anonymous);
        let mut snapshot_of: Vec<Option<Fields>> = vec![None; contact_ids.len()];
        for (id, traits) in snapshot {
            let bucket = bucket_of.get(id as usize).copied().unwrap_or(NONE);
            if let Some(s) = snapshot_of.get_mut(bucket as usize) {
                *s = Some(traits);
            }
        }
        let mut rest: &mut [Kept] = &mut records;
        let mut work: Vec<Work<'_>> = Vec::with_capacity(contact_ids.len());
        for ((id, n), snapshot) in contact_ids.iter().zip(&counts).zip(snapshot_of) {
            let (mine, after) = std::mem::take(&mut rest).split_at_mut(*n);
            rest = after;
            work.push(Work {
                id: names.name(*id),
                records: mine,
                snapshot,
            });
        }
        let anonymous = anonymous as u64;

        let ir = self.ir;
        let message_ids = &self.message_ids;
        let replay_all = |share: Vec<Work<'_>>| -> Vec<ContactState> {
            share
                .into_iter()
                .map(|w| replay_kept(ir, w, message_ids, t_end))
                .collect()
        };
        let mut contacts: Vec<ContactState> = if threads <= 1 || work.len() < 2 {
            replay_all(work)
        } else {
            let shares = split_shares(work, threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = shares
                    .into_iter()
                    .map(|share| {
                        s.spawn(move || {
                            let mut share = Some(share);
                            let mut out = Vec::new();
                            in_worker(&mut || {
                                if let Some(share) = share.take() {
                                    out = replay_all(share);
                                }
                            });
                            out
                        })
                    })
                    .collect();
                let mut contacts = Vec::new();
                for h in handles {
                    match h.join() {
                        Ok(part) => contacts.extend(part),
                        // A bug in the runtime: let it surface as it would on one thread.
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                contacts
            })
        };
        let accounts = account_scores(self.ir, &mut contacts);
        if !accounts.is_empty() && !self.ir.live_segments {
            // Segments may read account scores, known only now (lowering keeps them out of
            // anything evaluated during the run).
            for c in &mut contacts {
                evaluate_segments(self.ir, c, t_end);
            }
        }
        let mut actions: Vec<Action> = contacts
            .iter_mut()
            .flat_map(|c| std::mem::take(&mut c.actions))
            .collect();
        finish_actions(self.ir, &mut actions, self.program_hash);
        RunOutput {
            as_of,
            contacts,
            anonymous_left_out: anonymous,
            after_until,
            actions,
            accounts,
            snapshot_rows_merged_away,
        }
    }
}

/// One contact to replay: its id, its records (any order) and its snapshot row.
struct Work<'a> {
    id: &'a str,
    records: &'a mut [Kept],
    snapshot: Option<Fields>,
}

/// Reorders `records` so that the records of bucket 0 come first, then those of bucket 1, …
/// (`counts[b]` records have `contact == b`), by swaps in place (American flag sort).
fn group_in_place(records: &mut [Kept], counts: &[usize]) {
    let mut starts = Vec::with_capacity(counts.len());
    let mut at = 0;
    for n in counts {
        starts.push(at);
        at += n;
    }
    let mut next = starts.clone();
    for bucket in 0..counts.len() {
        let end = starts.get(bucket + 1).copied().unwrap_or(records.len());
        while let Some(i) = next.get(bucket).copied().filter(|&i| i < end) {
            let target = records.get(i).map_or(bucket, |r| r.contact as usize);
            let slot = if target == bucket {
                i
            } else {
                next.get(target).copied().unwrap_or(i)
            };
            if slot != i {
                records.swap(i, slot);
            }
            if let Some(n) = next.get_mut(target) {
                *n += 1;
            }
        }
    }
}

/// Cuts the contacts (in order) into `threads` consecutive shares of about as many records.
fn split_shares(work: Vec<Work<'_>>, threads: usize) -> Vec<Vec<Work<'_>>> {
    let total: usize = work.iter().map(|w| w.records.len() + 1).sum();
    let per_share = total.div_ceil(threads.max(1)).max(1);
    let mut shares = Vec::with_capacity(threads);
    let mut current = Vec::new();
    let mut size = 0;
    for w in work {
        size += w.records.len() + 1;
        current.push(w);
        if size >= per_share && shares.len() + 1 < threads {
            shares.push(std::mem::take(&mut current));
            size = 0;
        }
    }
    if !current.is_empty() {
        shares.push(current);
    }
    shares
}

/// One contact's state from its kept records, as of `until`. A snapshot row sets the profile
/// (and consent) before the first record, at that record's time (at `until` when it has none);
/// an identify's traits then replace the fields they carry, the snapshot keeps the others.
fn replay_kept(ir: &Ir, work: Work<'_>, message_ids: &MessageIds, until: i64) -> ContactState {
    let Work {
        id,
        records,
        snapshot,
    } = work;
    // Unstable is as exact (no two records share a line) and needs no scratch buffer.
    records.sort_unstable_by(|a, b| a.order_key(message_ids).cmp(&b.order_key(message_ids)));
    let mut state = ContactState::new(ir, id);
    if let Some(snapshot) = &snapshot {
        let start = records.first().map_or(until, |r| r.timestamp.min(until));
        set_profile(ir, &mut state, snapshot);
        refresh_profile_points(ir, &mut state, start, 0);
    }
    for record in records.iter_mut() {
        apply_kept(ir, &mut state, record, message_ids, snapshot.as_ref());
    }
    finish_contact(ir, &mut state, until);
    state
}

/// One contact's state from its records (in event-time order), as of `until`.
pub fn replay(
    ir: &Ir,
    events: &EventMap,
    id: &str,
    records: &[&Record],
    until: i64,
) -> ContactState {
    let mut state = ContactState::new(ir, id);
    for record in records {
        apply(ir, events, &mut state, record);
    }
    finish_contact(ir, &mut state, until);
    state
}

/// Brings a contact to `until` with no new record: timers, decay, profile points, segments
/// (and the lifecycle and routings they trigger).
pub fn finish_contact(ir: &Ir, state: &mut ContactState, until: i64) {
    fire_timers(ir, state, until);
    state.time_seen = state.time_seen.max(until);
    advance(ir, state, until);
    refresh_profile_points(ir, state, until, 0);
    if ir.live_segments {
        // Time passing can change segments and so the stage, with no new record.
        after_record(ir, state, &[], until, "until");
    } else {
        evaluate_segments(ir, state, until);
    }
    // Triggers that time alone set off (a segment a window closed) start runs at `until`.
    crate::journey::react(ir, state, &[], until, "until");
}

/// The scope of an expression over a contact's state.
pub(crate) fn scope<'a>(
    ir: &'a Ir,
    state: &'a ContactState,
    scores: &'a [f64],
    segments: &'a [bool],
    event: Option<(&'a [Val], i64)>,
    now: i64,
) -> Scope<'a> {
    Scope {
        ir,
        contact_id: &state.id,
        profile: &state.profile,
        account: &state.account,
        account_scores: &state.account_scores,
        consent: &state.consent,
        scores,
        segments,
        history: &state.history,
        event,
        entry: None,
        now,
        stage: ir.lifecycle.as_ref().map(|_| state.stage),
    }
}

/// Applies one record at its time.
pub fn apply(ir: &Ir, events: &EventMap, state: &mut ContactState, record: &Record) {
    let ids = IdKeys {
        record_type: record.record_type,
        user: None,
        anonymous: None,
        previous: None,
    };
    let mut message_ids = MessageIds::default();
    let mut kept = Kept::new(ir, events, record.clone(), ids, None, &mut message_ids);
    apply_kept(ir, state, &mut kept, &message_ids, None);
}

/// [`apply`] for a kept record; `snapshot`: the contact's snapshot row, whose fields an
/// identify's traits do not give stay in the profile.
fn apply_kept(
    ir: &Ir,
    state: &mut ContactState,
    record: &mut Kept,
    message_ids: &MessageIds,
    snapshot: Option<&Fields>,
) {
    let ts = record.timestamp;
    begin_record(ir, state, ts);
    if record.decoded.is_empty() && ir.history_any {
        state.history.push(HistoryEntry {
            ts,
            event: None,
            properties: Box::new([]),
        });
    }
    if let Some(traits) = &record.traits {
        match snapshot {
            None => set_profile(ir, state, traits),
            Some(snapshot) => {
                let mut merged: Vec<(String, Value)> = snapshot
                    .iter()
                    .filter(|(k, _)| traits.get(k).is_none())
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                merged.extend(traits.0.iter().cloned());
                set_profile(ir, state, &Fields(merged));
            }
        }
        refresh_profile_points(ir, state, ts, record.line);
    }
    // Only actions name their trigger; without lifecycle or routing there are none.
    let trigger = match (message_ids.get(record), ir.live_segments) {
        (_, false) => String::new(),
        (Some(m), true) => m.to_string(),
        (None, true) => format!("line {}", record.line),
    };
    let decoded = std::mem::take(&mut record.decoded).into_vec();
    apply_events(ir, state, decoded, ts, record.line, &trigger);
}

/// Time moves to a record at `ts`: SLA deadlines before it pass, decay runs, and the contact
/// is active again.
pub fn begin_record(ir: &Ir, state: &mut ContactState, ts: i64) {
    // SLA deadlines strictly before this record have passed ("within 48h" includes 48h).
    fire_timers(ir, state, ts - 1);
    advance(ir, state, ts);
    // The record's own evaluation sees every window as of `ts`.
    state.time_seen = state.time_seen.max(ts);
    state.last_activity = Some(ts);
    for s in &mut state.scores {
        s.steps_done = 0;
    }
}

/// Applies a record's program events (event id, decoded properties): points, limits,
/// history, then segments, lifecycle and routing when the program has them.
pub fn apply_events(
    ir: &Ir,
    state: &mut ContactState,
    mut decoded: Vec<(u32, Box<[Val]>)>,
    ts: i64,
    line: u64,
    trigger: &str,
) {
    // Without live segments or journeys nothing reads the events after their points: the
    // history can take their properties rather than a copy of each.
    let read_after = ir.live_segments || !ir.journeys.journeys.is_empty();
    crate::jit::with_score_rules(ir, |native| {
        for (event, properties) in &mut decoded {
            let index = *event as usize;
            score_event(ir, state, native, index, properties, ts, line);
            let keep = ir.history_events.get(index).copied().unwrap_or(false);
            if keep || ir.history_any {
                state.history.push(HistoryEntry {
                    ts,
                    event: Some(*event),
                    properties: match (keep, read_after) {
                        (false, _) => Box::new([]),
                        (true, true) => properties.clone(),
                        (true, false) => std::mem::take(properties),
                    },
                });
            }
        }
    });
    if ir.live_segments {
        after_record(ir, state, &decoded, ts, trigger);
    }
    crate::journey::react(ir, state, &decoded, ts, trigger);
}

/// One event's score rules, in rule order: points, limits, provenance.
///
/// With native code, one call per chunk of [`RULES_PER_CHUNK`] rules answers every rule that
/// reads no score (profile, event, segments: they stay the same while points are added); only
/// the rules that may hold are visited, by their bits. A rule native code does not answer (one
/// that reads scores, or that the backend could not compile) is evaluated alone, in its turn,
/// against the scores as the rules before it left them.
fn score_event(
    ir: &Ir,
    state: &mut ContactState,
    native: Option<crate::jit::ScoreRules<'_>>,
    index: usize,
    properties: &[Val],
    ts: i64,
    line: u64,
) {
    let Some(rules) = ir.rules_by_event.get(index).filter(|r| !r.is_empty()) else {
        return;
    };
    // The scores as the next rule evaluated alone sees them: computed when one needs them,
    // again after points changed them.
    let mut scores: Option<Vec<f64>> = None;
    // Built once for the event (not per chunk); it borrows the fields points do not change.
    let mut ctx = native.map(|_| {
        crate::jit::RuleCtx::new(
            &state.id,
            &state.profile,
            &state.account,
            &state.consent,
            &state.segments,
            ir.lifecycle.as_ref().map(|_| state.stage),
        )
    });
    if let Some(ctx) = &mut ctx {
        ctx.set_event(properties, ts);
    }
    // The event's chunks as native code evaluates them, one per chunk of rules (none without).
    let chunks = native.map_or(&[][..], |n| n.event(index));
    for (c, chunk) in rules.chunks(RULES_PER_CHUNK).enumerate() {
        let may_hold = match (chunks.get(c), &ctx) {
            (Some(code), Some(ctx)) => code.may_hold(ctx, || {
                scope(ir, state, &[], &state.segments, Some((properties, ts)), ts)
            }),
            _ => crate::jit::MayHold {
                rules: u64::MAX >> (RULES_PER_CHUNK - chunk.len()),
                native: 0,
            },
        };
        let answered = may_hold.native;
        // Every rule but those native code found false, lowest bit (first rule) first.
        let mut todo = may_hold.rules;
        while todo != 0 {
            let i = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let Some(rule) = chunk.get(i) else {
                break;
            };
            if answered & 1 << i == 0 {
                if let Some(c) = &rule.condition {
                    let scores = scores.get_or_insert_with(|| state.score_values());
                    let scope = scope(
                        ir,
                        state,
                        scores,
                        &state.segments,
                        Some((properties, ts)),
                        ts,
                    );
                    if !scope.holds(c) {
                        continue;
                    }
                }
            }
            if let Some((kind, slot)) = rule.cap {
                let zone = ir
                    .scores
                    .get(rule.score.index())
                    .map_or(0, |s| s.zone.offset_at(ts));
                let Some(cap) = state.caps.get_mut(slot as usize) else {
                    continue;
                };
                if !take_cap(cap, kind, ts, zone) {
                    continue;
                }
            }
            add_points_to(
                ir,
                &mut state.scores,
                &mut state.changes,
                rule.score.index(),
                rule.rule,
                rule.points,
                line,
                ts,
            );
            scores = None;
        }
    }
}

/// Whether a qualifying record at `ts` is kept by the limit (and counts it if so): the earliest
/// qualifying records are kept.
fn take_cap(cap: &mut CapState, kind: CapKind, ts: i64, zone: i64) -> bool {
    let day = (ts + zone).div_euclid(MILLIS_PER_DAY);
    let (period, limit) = match kind {
        CapKind::Once => {
            if matches!(cap, CapState::Once) {
                return false;
            }
            *cap = CapState::Once;
            return true;
        }
        CapKind::PerDay(n) => (day, n),
        // ISO weeks: day 0 (1970-01-01) is a Thursday, so weeks start on day -3 (a Monday).
        CapKind::PerWeek(n) => ((day + 3).div_euclid(7), n),
        CapKind::Rolling { count, millis } => {
            if !matches!(cap, CapState::Rolling(_)) {
                *cap = CapState::Rolling(VecDeque::new());
            }
            let CapState::Rolling(kept) = cap else {
                return false;
            };
            while kept.front().is_some_and(|&t| t <= ts - millis) {
                kept.pop_front();
            }
            if kept.len() as u64 >= u64::from(count) {
                return false;
            }
            kept.push_back(ts);
            return true;
        }
    };
    match cap {
        CapState::Period { period: p, used } if *p == period => {
            if *used >= limit {
                false
            } else {
                *used += 1;
                true
            }
        }
        _ => {
            if limit == 0 {
                return false;
            }
            *cap = CapState::Period { period, used: 1 };
            true
        }
    }
}

fn clamp(ir: &Ir, score: usize, value: f64) -> f64 {
    let Some(s) = ir.scores.get(score) else {
        return value;
    };
    let mut v = value;
    if let Some(hi) = s.at_most {
        v = v.min(hi);
    }
    if let Some(lo) = s.at_least {
        v = v.max(lo);
    }
    v
}

pub(crate) fn add_points(
    ir: &Ir,
    state: &mut ContactState,
    score: usize,
    rule: u32,
    points: f64,
    line: u64,
    ts: i64,
) {
    add_points_to(
        ir,
        &mut state.scores,
        &mut state.changes,
        score,
        rule,
        points,
        line,
        ts,
    );
}

/// [`add_points`] over the two fields it changes (the rest of the state may stay borrowed).
#[allow(clippy::too_many_arguments)]
fn add_points_to(
    ir: &Ir,
    scores: &mut [ScoreState],
    changes: &mut Vec<Change>,
    score: usize,
    rule: u32,
    points: f64,
    line: u64,
    ts: i64,
) {
    let Some(s) = scores.get_mut(score) else {
        return;
    };
    let before = s.value();
    let after = clamp(ir, score, before + points);
    s.behaviour = after - s.profile;
    changes.push(Change {
        score: score as u32,
        rule,
        line,
        ts,
        delta: after - before,
    });
}

/// Brings decay up to `to`.
pub(crate) fn advance(ir: &Ir, state: &mut ContactState, to: i64) {
    for (i, s) in state.scores.iter_mut().enumerate() {
        let Some(score) = ir.scores.get(i) else {
            continue;
        };
        let from = s.decayed_to.unwrap_or(to);
        match score.decay {
            None => {}
            Some(DecayIr::HalfLife { millis }) if millis > 0 && to > from => {
                s.behaviour *= 0.5f64.powf((to - from) as f64 / millis as f64);
            }
            Some(DecayIr::Step {
                factor,
                every_millis,
                only_when_inactive,
            }) if every_millis > 0 => {
                // Inactivity counts whole periods since the latest record; otherwise periods
                // are calendar-aligned on the epoch.
                let steps = if only_when_inactive {
                    let due = state
                        .last_activity
                        .map_or(0, |a| (to - a).div_euclid(every_millis));
                    let steps = due - s.steps_done;
                    s.steps_done = s.steps_done.max(due);
                    steps
                } else {
                    to.div_euclid(every_millis) - from.div_euclid(every_millis)
                };
                if steps > 0 {
                    s.behaviour *= factor.powi(i32::try_from(steps).unwrap_or(i32::MAX));
                }
            }
            Some(_) => {}
        }
        let value = clamp(ir, i, s.value());
        s.behaviour = value - s.profile;
        s.decayed_to = Some(to.max(from));
    }
}

/// The `rule` of a [`Change`] made by a bound, not by a rule.
pub const BOUNDS_RULE: u32 = u32::MAX;

/// Re-evaluates profile points; each rule that starts or stops holding is one change, so the
/// changes of a score always add up to its value.
pub fn refresh_profile_points(ir: &Ir, state: &mut ContactState, now: i64, line: u64) {
    for (i, score) in ir.scores.iter().enumerate() {
        if score.profile_rules.is_empty() {
            continue;
        }
        let scores = state.score_values();
        let scope = scope(ir, state, &scores, &state.segments, None, now);
        let held: Vec<bool> = score
            .profile_rules
            .iter()
            .map(|rule| scope.holds(&rule.condition))
            .collect();
        let Some(s) = state.scores.get_mut(i) else {
            continue;
        };
        // Points count while the condition holds; with a limit, only when its start (false to
        // true) was kept by the limit, as an event rule's record is.
        let mut counted = Vec::with_capacity(held.len());
        for (k, rule) in score.profile_rules.iter().enumerate() {
            let holds = held.get(k).copied().unwrap_or(false);
            let held_before = s.profile_true.get(k).copied().unwrap_or(false);
            let counted_before = s.profile_held.get(k).copied().unwrap_or(false);
            counted.push(match (holds, held_before, rule.cap) {
                (false, _, _) => false,
                (true, true, _) => counted_before,
                (true, false, None) => true,
                (true, false, Some((kind, slot))) => {
                    let zone = score.zone.offset_at(now);
                    state
                        .caps
                        .get_mut(slot as usize)
                        .is_some_and(|cap| take_cap(cap, kind, now, zone))
                }
            });
        }
        let Some(s) = state.scores.get_mut(i) else {
            continue;
        };
        s.profile_true = held;
        let held = counted;
        let mut changes = Vec::new();
        for (k, rule) in score.profile_rules.iter().enumerate() {
            let now_holds = held.get(k).copied().unwrap_or(false);
            let before = s.profile_held.get(k).copied().unwrap_or(false);
            if now_holds != before {
                changes.push(Change {
                    score: i as u32,
                    rule: rule.rule,
                    line,
                    ts: now,
                    delta: if now_holds { rule.points } else { -rule.points },
                });
            }
        }
        s.profile_held = held;
        let points: f64 = score
            .profile_rules
            .iter()
            .zip(&s.profile_held)
            .filter(|(_, h)| **h)
            .map(|(r, _)| r.points)
            .sum();
        if changes.is_empty() && points == s.profile {
            continue;
        }
        let unbounded = s.value() + changes.iter().map(|c| c.delta).sum::<f64>();
        let after = clamp(ir, i, s.behaviour + points);
        s.profile = points;
        s.behaviour = after - points;
        if after != unbounded {
            changes.push(Change {
                score: i as u32,
                rule: BOUNDS_RULE,
                line,
                ts: now,
                delta: after - unbounded,
            });
        }
        state.changes.extend(changes);
    }
}

/// Segment membership as of `now`, in dependency order.
pub(crate) fn evaluate_segments(ir: &Ir, state: &mut ContactState, now: i64) {
    let scores = state.score_values();
    let mut segments = vec![false; ir.segments.len()];
    for id in &ir.segment_order {
        let Some(segment) = ir.segments.get(id.index()) else {
            continue;
        };
        let holds = scope(ir, state, &scores, &segments, None, now).holds(&segment.condition);
        if let Some(s) = segments.get_mut(id.index()) {
            *s = holds;
        }
    }
    state.segments = segments;
}

/// The latest traits replace the whole profile (an identify carries the whole traits object).
fn set_profile(ir: &Ir, state: &mut ContactState, traits: &Fields) {
    for (slot, value) in ir.contact_slots.iter().zip(state.profile.iter_mut()) {
        *value = read_slot(slot, lookup(traits, &slot.wire));
    }
    for (a, value) in ir.account_slots.iter().zip(state.account.iter_mut()) {
        // No link, no account: its other fields are missing even if the traits have them.
        let linked = state
            .profile
            .get(a.link as usize)
            .is_some_and(|v| !matches!(v, Val::Missing));
        *value = if !linked {
            Val::Missing
        } else if a.is_key {
            state
                .profile
                .get(a.link as usize)
                .cloned()
                .unwrap_or(Val::Missing)
        } else {
            read_slot(&a.slot, lookup(traits, &a.slot.wire))
        };
    }
    for (channel, consent) in ir.channels.iter().zip(state.consent.iter_mut()) {
        let wire = ["consent".to_string(), channel.name.clone()];
        *consent = match lookup(traits, &wire).and_then(Value::as_text) {
            Some("granted") => ConsentState::Granted,
            Some("denied") => ConsentState::Denied,
            _ => ConsentState::Unknown,
        };
    }
}

fn lookup<'a>(fields: &'a Fields, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = fields.get(first)?;
    for member in rest {
        match value {
            Value::Object(inner) => value = inner.get(member)?,
            _ => return None,
        }
    }
    Some(value)
}

/// A record's program events with their properties decoded as `apply` decodes them: for
/// benchmarks and tests that drive conditions directly over decoded events.
pub fn decode_events(ir: &Ir, events: &EventMap, record: &Record) -> Vec<(u32, Box<[Val]>)> {
    events
        .events_of(record)
        .iter()
        .filter_map(|e| {
            ir.events
                .get(e.index())
                .map(|layout| (e.0, decode_properties(ir, e.index(), layout, record)))
        })
        .collect()
}

/// [`decode_events`] for a record the caller gives up: a text property read by one slot is
/// moved out of the record rather than copied, when the record is one program event (a page
/// can be several, each reading the same members).
fn take_events(ir: &Ir, events: &EventMap, record: &mut Record) -> Vec<(u32, Box<[Val]>)> {
    let &[event] = events.events_of(record) else {
        return decode_events(ir, events, record);
    };
    if let Some(slots) = record.slots.take() {
        // Filled by the decoder straight from the line (`Engine::track_slots`).
        return vec![(event.0, slots)];
    }
    let (Some(layout), Some(taken)) = (
        ir.events.get(event.index()),
        events.text_taken.get(event.index()),
    ) else {
        return decode_events(ir, events, record);
    };
    let properties = slot_values(ir, event.index(), layout, |i, slot| {
        if taken.get(i).copied().unwrap_or(false) {
            if let Some(Value::Text(t)) = lookup_mut(&mut record.properties, &slot.wire) {
                return Val::Text(std::mem::take(t).into_boxed_str());
            }
        }
        decode_slot(slot, record)
    });
    vec![(event.0, properties)]
}

/// [`lookup`] for changing the value (the last member of a repeated name, as `Fields::get`).
fn lookup_mut<'a>(fields: &'a mut Fields, path: &[String]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let mut value = fields
        .0
        .iter_mut()
        .rev()
        .find(|(k, _)| k == first)
        .map(|(_, v)| v)?;
    for member in rest {
        match value {
            Value::Object(inner) => {
                value = inner
                    .0
                    .iter_mut()
                    .rev()
                    .find(|(k, _)| k == member)
                    .map(|(_, v)| v)?;
            }
            _ => return None,
        }
    }
    Some(value)
}

/// One property slot of a record's event, as [`decode_properties`] decodes it.
fn decode_slot(slot: &Slot, record: &Record) -> Val {
    match (lookup(&record.properties, &slot.wire), &record.name) {
        // A page's title is the record's own `name` member.
        (None, Some(name)) if slot.wire == ["name"] => Val::Text(name.as_str().into()),
        (v, _) => read_slot(slot, v),
    }
}

/// The properties of a record as `event`'s slots, decoded from the record (see [`slot_values`]).
fn decode_properties(ir: &Ir, event: usize, layout: &EventLayout, record: &Record) -> Box<[Val]> {
    slot_values(ir, event, layout, |_, slot| decode_slot(slot, record))
}

/// The properties of a record as `event`'s slots, `value` giving slot `i`'s; those no
/// expression reads stay missing (nothing to allocate or keep in the history for them).
fn slot_values(
    ir: &Ir,
    event: usize,
    layout: &EventLayout,
    mut value: impl FnMut(usize, &Slot) -> Val,
) -> Box<[Val]> {
    let used = ir.used_properties.get(event);
    layout
        .properties
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            if !used.and_then(|u| u.get(i)).copied().unwrap_or(false) {
                return Val::Missing;
            }
            value(i, slot)
        })
        .collect()
}

/// [`read_slot`] for a value the caller gives up: a text moves into the slot, not copied.
pub(crate) fn read_slot_owned(slot: &Slot, value: Value) -> Val {
    match (slot.ty, value) {
        (ValType::Text, Value::Text(t)) => Val::Text(t.into_boxed_str()),
        (_, value) => read_slot(slot, Some(&value)),
    }
}

/// A decoded JSON value as the slot's type, or missing.
pub(crate) fn read_slot(slot: &Slot, value: Option<&Value>) -> Val {
    let Some(value) = value else {
        return Val::Missing;
    };
    match (slot.ty, value) {
        (ValType::Text, Value::Text(t)) => Val::Text(t.as_str().into()),
        (ValType::Num, v) => v.as_f64().map_or(Val::Missing, Val::Num),
        (ValType::Bool, Value::Bool(b)) => Val::Bool(*b),
        (ValType::Date, Value::Date(d)) => Val::Date(d.days_since_epoch()),
        (ValType::Date, Value::Text(t)) => crate::input::time::parse_date(t)
            .map_or(Val::Missing, |d| Val::Date(d.days_since_epoch())),
        (ValType::Timestamp, Value::Text(t)) => {
            crate::input::time::parse_timestamp(t).map_or(Val::Missing, Val::Timestamp)
        }
        (ValType::Enum, Value::Text(t)) => slot
            .variants
            .iter()
            .position(|v| v == t)
            .map_or(Val::Missing, |i| Val::Enum(i as u32)),
        (ValType::Consent, Value::Text(t)) => match t.as_str() {
            "granted" => Val::Consent(ConsentState::Granted),
            "denied" => Val::Consent(ConsentState::Denied),
            "unknown" => Val::Consent(ConsentState::Unknown),
            _ => Val::Missing,
        },
        _ => Val::Missing,
    }
}

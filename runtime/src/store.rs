//! The run store: `maclc run` keeps its progress in an embedded, crash-safe database (redb, one
//! file `maclc-state.redb` in `--state DIR`, or by default in `.maclc/runs/<key>/`, which the
//! command removes when the run ends), so that a run killed at any point and started again
//! with the same arguments resumes and writes the same bytes.
//!
//! What is kept, and why it is enough. The engine is a whole-input replay (identity is decided
//! over every record, then each contact's records are replayed in event time), so the progress
//! of a run is *which lines were accepted so far*, not a half-built contact state. Every
//! checkpoint commits, in one transaction: the input position (bytes, lines, the reordering
//! window's edge), the counts of the summary, the length of the rejects file written so far,
//! and one *batch*: a bitmap of the accepted lines among the lines read since the previous
//! checkpoint, with a hash of those lines. A resumed run re-reads the input up to the
//! checkpoint, decodes again only the accepted lines (decoding is deterministic), checks each
//! batch's hash (a changed file is an error, not a silent wrong answer), cuts the rejects file
//! back to its checkpointed length and goes on. Records stay in memory, as in a run without a
//! store: the store holds 1 bit per line and about 15 bytes per batch, not the records.
//!
//! At the end of a run with `--state DIR` (a kept store) the final state of every contact
//! (scores with their provenance, stage, segments, history, caps, lifecycle decisions, pending
//! SLA timers) and the round-robin cursors are written with a *finished* marker, in one
//! transaction, after the outputs are in place. Running a finished job again is a no-op that
//! says so. The default folder skips this: it is removed instead.

use std::path::{Path, PathBuf};

use maclc_compiler::check::ConsentState;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::engine::{CapState, Change, ContactState, Decision, ScoreState};
use crate::eval::{HistoryEntry, Val};
use crate::input::{Position, RecordType, RejectReason, Summary};
use crate::journey::{DateArm, JourneyState, Outcome, Run, SendMark, Wait};
use crate::lifecycle::Timer;

/// The store's file inside `--state DIR`.
pub const STORE_FILE: &str = "maclc-state.redb";

/// Bumped when what is stored changes meaning: an old store is then refused with a clear
/// message rather than misread.
const FORMAT: &str = "maclc-state 3";

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");
const CONTACTS: TableDefinition<&str, &[u8]> = TableDefinition::new("contacts");

/// A problem with the store, in plain words (with how to fix it where there is a fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    problem: String,
    /// What the user can do about it, when the caller cannot do it for them.
    help: Option<&'static str>,
}

impl StoreError {
    fn new(problem: String) -> StoreError {
        StoreError {
            problem,
            help: None,
        }
    }

    fn with_help(problem: String, help: &'static str) -> StoreError {
        StoreError {
            problem,
            help: Some(help),
        }
    }

    /// What is wrong, without the advice: for a caller that takes the advice itself (a run in
    /// its default folder starts over on its own, so "add `--fresh`" would mislead).
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem)?;
        match self.help {
            Some(help) => write!(f, "; {help}"),
            None => Ok(()),
        }
    }
}

/// Where a run stands after a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: Position,
    pub summary: Summary,
    /// Bytes of the rejects file written (and flushed) at this checkpoint.
    pub rejects_len: u64,
    /// Batches committed, this one included.
    pub batches: u64,
    /// Whether the input was read to its end (only the evaluation and outputs remain).
    pub input_done: bool,
}

/// The lines read between two checkpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The number of the first line of the batch.
    pub first_line: u64,
    /// How many lines the batch covers.
    pub lines: u64,
    /// Bit `i` is set when line `first_line + i` became a record.
    pub accepted: Vec<u8>,
    /// The hash of the batch's lines (see `input::lines::hash_line`).
    pub hash: u64,
}

impl Batch {
    pub fn starting_at(first_line: u64) -> Batch {
        Batch {
            first_line,
            ..Batch::default()
        }
    }

    /// Counts the next line, accepted or not.
    pub fn push(&mut self, accepted: bool) {
        let i = self.lines as usize;
        if i / 8 >= self.accepted.len() {
            self.accepted.push(0);
        }
        if accepted {
            if let Some(byte) = self.accepted.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
        self.lines += 1;
    }

    pub fn is_accepted(&self, line: u64) -> bool {
        let Some(i) = line.checked_sub(self.first_line) else {
            return false;
        };
        let i = i as usize;
        self.accepted
            .get(i / 8)
            .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
    }
}

/// What the store holds when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Nothing yet: a new run.
    New,
    /// An interrupted run to resume from this checkpoint.
    Resume(Checkpoint),
    /// The run finished; its summary as it was printed.
    Finished { summary: String },
}

/// The store of one run.
#[derive(Debug)]
pub struct RunStore {
    db: Database,
    file: PathBuf,
}

impl RunStore {
    /// Opens (or creates) the store in `dir`; with `fresh`, any earlier store there is removed
    /// first.
    pub fn open(dir: &Path, fresh: bool) -> Result<RunStore, StoreError> {
        RunStore::open_unless_busy(dir, fresh)?.ok_or_else(|| {
            StoreError::new(format!(
                "the state folder `{}` is in use by another `maclc run`; wait for it to end or give this run its own `--state` folder",
                dir.display()
            ))
        })
    }

    /// [`RunStore::open`], but `None` when another process has the store open (its lock is
    /// held), so that a caller with somewhere else to keep the progress can go on without it.
    pub fn open_unless_busy(dir: &Path, fresh: bool) -> Result<Option<RunStore>, StoreError> {
        if dir.exists() && !dir.is_dir() {
            return Err(StoreError::new(format!(
                "`--state {}` is a file; it must be a folder (it is created if it does not exist)",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::new(format!(
                "cannot create the state folder `{}`: {e}",
                dir.display()
            ))
        })?;
        let file = dir.join(STORE_FILE);
        if fresh && file.exists() {
            std::fs::remove_file(&file).map_err(|e| {
                StoreError::new(format!(
                    "cannot remove the earlier state `{}` for `--fresh`: {e}",
                    file.display()
                ))
            })?;
        }
        if !file.exists() {
            // A new store is made under another name and renamed into place: a run killed
            // while redb writes the first pages of the file leaves no half-made store behind
            // (the next run finds no store, removes the leftover and starts again).
            let new = dir.join(format!("{STORE_FILE}.new"));
            let cannot = |e: &dyn std::fmt::Display| {
                StoreError::new(format!("cannot create the state `{}`: {e}", file.display()))
            };
            if new.exists() {
                std::fs::remove_file(&new).map_err(|e| cannot(&e))?;
            }
            drop(Database::create(&new).map_err(|e| cannot(&e))?);
            std::fs::rename(&new, &file).map_err(|e| cannot(&e))?;
            sync_folder(dir);
        }
        let db = match Database::create(&file) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Ok(None),
            Err(e) => {
                return Err(StoreError::with_help(
                    format!("cannot open the state `{}`: {e}", file.display()),
                    "if it is damaged, add `--fresh` to start this run over",
                ))
            }
        };
        Ok(Some(RunStore { db, file }))
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::new(format!(
            "the state `{}` could not be {what}: {e}",
            self.file.display()
        ))
    }

    fn damaged(&self) -> StoreError {
        StoreError::with_help(
            format!(
                "the state `{}` is damaged or was written by another version of maclc",
                self.file.display()
            ),
            "add `--fresh` to start this run over",
        )
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.error("read", e))?;
        let table = match read.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.error("read", e)),
        };
        let value = table.get(key).map_err(|e| self.error("read", e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    /// Says what the store holds for a run described by `fingerprint` (the program, the input
    /// and the options that change the outputs, one `name: value` per line), and claims an
    /// empty store for it. A store of another run is an error that says what differs.
    pub fn begin(&self, fingerprint: &str) -> Result<Status, StoreError> {
        let stored = self.meta("fingerprint")?;
        let Some(stored) = stored else {
            let write = self
                .db
                .begin_write()
                .map_err(|e| self.error("written", e))?;
            {
                let mut meta = write
                    .open_table(META)
                    .map_err(|e| self.error("written", e))?;
                let text = format!("{FORMAT}\n{fingerprint}");
                meta.insert("fingerprint", text.as_bytes())
                    .map_err(|e| self.error("written", e))?;
            }
            write.commit().map_err(|e| self.error("written", e))?;
            return Ok(Status::New);
        };
        let stored = String::from_utf8(stored).map_err(|_| self.damaged())?;
        let mut stored_lines = stored.lines();
        if stored_lines.next() != Some(FORMAT) {
            return Err(self.damaged());
        }
        let stored_lines: Vec<&str> = stored_lines.collect();
        let ours: Vec<&str> = fingerprint.lines().collect();
        if stored_lines != ours {
            let differs: Vec<String> = ours
                .iter()
                .zip(stored_lines.iter().chain(std::iter::repeat(&"")))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| {
                    let name = a.split(':').next().unwrap_or(a);
                    let was = b.split_once(": ").map_or(*b, |(_, v)| v);
                    let now = a.split_once(": ").map_or(*a, |(_, v)| v);
                    format!("{name} was `{was}`, is now `{now}`")
                })
                .collect();
            return Err(StoreError::with_help(
                format!(
                    "the state in `{}` belongs to another run ({})",
                    self.file.parent().unwrap_or(&self.file).display(),
                    differs.join("; ")
                ),
                "give this run a fresh `--state` folder, or add `--fresh` to start over in this one",
            ));
        }
        if let Some(summary) = self.meta("finished")? {
            return Ok(Status::Finished {
                summary: String::from_utf8_lossy(&summary).into_owned(),
            });
        }
        match self.meta("progress")? {
            None => Ok(Status::New),
            Some(bytes) => decode_checkpoint(&bytes)
                .map(Status::Resume)
                .ok_or_else(|| self.damaged()),
        }
    }

    /// Commits a checkpoint and its batch in one transaction: after a crash, the store holds
    /// either both or the previous checkpoint.
    pub fn checkpoint(&self, checkpoint: &Checkpoint, batch: &Batch) -> Result<(), StoreError> {
        let write = self
            .db
            .begin_write()
            .map_err(|e| self.error("written", e))?;
        {
            let mut batches = write
                .open_table(BATCHES)
                .map_err(|e| self.error("written", e))?;
            batches
                .insert(checkpoint.batches, encode_batch(batch).as_slice())
                .map_err(|e| self.error("written", e))?;
            let mut meta = write
                .open_table(META)
                .map_err(|e| self.error("written", e))?;
            meta.insert("progress", encode_checkpoint(checkpoint).as_slice())
                .map_err(|e| self.error("written", e))?;
        }
        write.commit().map_err(|e| self.error("written", e))
    }

    /// Every batch committed, in input order.
    pub fn batches(&self) -> Result<Vec<Batch>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.error("read", e))?;
        let table = match read.open_table(BATCHES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.error("read", e)),
        };
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| self.error("read", e))? {
            let (_, value) = entry.map_err(|e| self.error("read", e))?;
            out.push(decode_batch(value.value()).ok_or_else(|| self.damaged())?);
        }
        Ok(out)
    }

    /// Marks the run finished, with every contact's final state and the round-robin cursors
    /// (route and notify actions per queue), in one transaction.
    pub fn finish(
        &self,
        contacts: &[ContactState],
        cursors: &[u64],
        summary: &str,
    ) -> Result<(), StoreError> {
        let write = self
            .db
            .begin_write()
            .map_err(|e| self.error("written", e))?;
        {
            let mut table = write
                .open_table(CONTACTS)
                .map_err(|e| self.error("written", e))?;
            for c in contacts {
                table
                    .insert(c.id.as_str(), encode_contact(c).as_slice())
                    .map_err(|e| self.error("written", e))?;
            }
            let mut meta = write
                .open_table(META)
                .map_err(|e| self.error("written", e))?;
            let mut enc = Enc::default();
            enc.u(cursors.len() as u64);
            for c in cursors {
                enc.u(*c);
            }
            meta.insert("round_robin", enc.0.as_slice())
                .map_err(|e| self.error("written", e))?;
            meta.insert("finished", summary.as_bytes())
                .map_err(|e| self.error("written", e))?;
        }
        write.commit().map_err(|e| self.error("written", e))
    }

    /// One contact's final state, as the finished run stored it.
    pub fn contact(&self, id: &str) -> Result<Option<ContactState>, StoreError> {
        let read = self.db.begin_read().map_err(|e| self.error("read", e))?;
        let table = match read.open_table(CONTACTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.error("read", e)),
        };
        let Some(value) = table.get(id).map_err(|e| self.error("read", e))? else {
            return Ok(None);
        };
        decode_contact(value.value())
            .map(Some)
            .ok_or_else(|| self.damaged())
    }

    /// The round-robin cursors of the finished run (route and notify actions per queue).
    pub fn round_robin(&self) -> Result<Vec<u64>, StoreError> {
        let Some(bytes) = self.meta("round_robin")? else {
            return Ok(Vec::new());
        };
        let mut dec = Dec::new(&bytes);
        let n = dec.u().ok_or_else(|| self.damaged())?;
        (0..n)
            .map(|_| dec.u().ok_or_else(|| self.damaged()))
            .collect()
    }
}

/// Makes a rename in `dir` durable (the folder's entry, not only the file's bytes). Best
/// effort: where a folder cannot be opened for this, a crash may lose the rename, not the data.
pub fn sync_folder(dir: &Path) {
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
}

/// A compact binary writer: variable-length integers, so small numbers take one byte.
#[derive(Debug, Default)]
struct Enc(Vec<u8>);

impl Enc {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    fn f(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    fn b(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u(v.len() as u64);
        self.0.extend_from_slice(v);
    }
    fn opt_i(&mut self, v: Option<i64>) {
        match v {
            None => self.b(false),
            Some(x) => {
                self.b(true);
                self.i(x);
            }
        }
    }
}

/// The reader of [`Enc`]'s bytes; `None` when they end early or hold an impossible value.
#[derive(Debug)]
struct Dec<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    fn new(bytes: &'a [u8]) -> Dec<'a> {
        Dec { bytes, at: 0 }
    }
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }
    fn u(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn i(&mut self) -> Option<i64> {
        let u = self.u()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.u()?).ok()
    }
    fn word(&mut self) -> Option<u64> {
        let bytes = self.bytes.get(self.at..self.at.checked_add(8)?)?;
        self.at += 8;
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        Some(u64::from_le_bytes(word))
    }
    fn f(&mut self) -> Option<f64> {
        self.word().map(f64::from_bits)
    }
    fn b(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u()?).ok()?;
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn opt_i(&mut self) -> Option<Option<i64>> {
        Some(if self.b()? { Some(self.i()?) } else { None })
    }
    /// A length, bounded by the bytes left so that a damaged length cannot allocate wildly.
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u()?).ok()?;
        (n <= self
            .bytes
            .len()
            .saturating_sub(self.at)
            .saturating_mul(8)
            .max(64))
        .then_some(n)
    }
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Some(out)
    }
    fn end(&self) -> bool {
        self.at == self.bytes.len()
    }
}

fn encode_summary(enc: &mut Enc, s: &Summary) {
    enc.u(s.lines_read);
    enc.u(s.valid);
    for n in s.valid_by_type {
        enc.u(n);
    }
    for n in s.rejected_by_reason {
        enc.u(n);
    }
}

fn decode_summary(dec: &mut Dec<'_>) -> Option<Summary> {
    let mut s = Summary {
        lines_read: dec.u()?,
        valid: dec.u()?,
        ..Summary::default()
    };
    for n in s.valid_by_type.iter_mut().take(RecordType::ALL.len()) {
        *n = dec.u()?;
    }
    for n in s
        .rejected_by_reason
        .iter_mut()
        .take(RejectReason::ALL.len())
    {
        *n = dec.u()?;
    }
    Some(s)
}

fn encode_checkpoint(c: &Checkpoint) -> Vec<u8> {
    let mut enc = Enc::default();
    enc.u(c.position.offset);
    enc.u(c.position.line);
    enc.opt_i(c.position.latest);
    encode_summary(&mut enc, &c.summary);
    enc.u(c.rejects_len);
    enc.u(c.batches);
    enc.b(c.input_done);
    enc.0
}

fn decode_checkpoint(bytes: &[u8]) -> Option<Checkpoint> {
    let mut dec = Dec::new(bytes);
    let c = Checkpoint {
        position: Position {
            offset: dec.u()?,
            line: dec.u()?,
            latest: dec.opt_i()?,
        },
        summary: decode_summary(&mut dec)?,
        rejects_len: dec.u()?,
        batches: dec.u()?,
        input_done: dec.b()?,
    };
    dec.end().then_some(c)
}

fn encode_batch(b: &Batch) -> Vec<u8> {
    let mut enc = Enc::default();
    enc.u(b.first_line);
    enc.u(b.lines);
    enc.0.extend_from_slice(&b.hash.to_le_bytes());
    enc.bytes(&b.accepted);
    enc.0
}

fn decode_batch(bytes: &[u8]) -> Option<Batch> {
    let mut dec = Dec::new(bytes);
    let first_line = dec.u()?;
    let lines = dec.u()?;
    let hash = dec.word()?;
    let accepted = dec.bytes()?.to_vec();
    dec.end().then_some(Batch {
        first_line,
        lines,
        accepted,
        hash,
    })
}

fn encode_val(enc: &mut Enc, v: &Val) {
    match v {
        Val::Missing => enc.u(0),
        Val::Bool(b) => {
            enc.u(1);
            enc.b(*b);
        }
        Val::Num(x) => {
            enc.u(2);
            enc.f(*x);
        }
        Val::Text(t) => {
            enc.u(3);
            enc.bytes(t.as_bytes());
        }
        Val::Date(d) => {
            enc.u(4);
            enc.i(*d);
        }
        Val::Timestamp(t) => {
            enc.u(5);
            enc.i(*t);
        }
        Val::Enum(e) => {
            enc.u(6);
            enc.u(u64::from(*e));
        }
        Val::Consent(c) => {
            enc.u(7);
            enc.u(consent_code(*c));
        }
    }
}

fn decode_val(dec: &mut Dec<'_>) -> Option<Val> {
    Some(match dec.u()? {
        0 => Val::Missing,
        1 => Val::Bool(dec.b()?),
        2 => Val::Num(dec.f()?),
        3 => Val::Text(dec.text()?.into_boxed_str()),
        4 => Val::Date(dec.i()?),
        5 => Val::Timestamp(dec.i()?),
        6 => Val::Enum(dec.u32()?),
        7 => Val::Consent(consent_of(dec.u()?)?),
        _ => return None,
    })
}

fn consent_code(c: ConsentState) -> u64 {
    match c {
        ConsentState::Granted => 0,
        ConsentState::Denied => 1,
        ConsentState::Unknown => 2,
    }
}

fn consent_of(code: u64) -> Option<ConsentState> {
    Some(match code {
        0 => ConsentState::Granted,
        1 => ConsentState::Denied,
        2 => ConsentState::Unknown,
        _ => return None,
    })
}

/// One contact's state as stored. Actions are not part of it: the run moves them out to the
/// actions output (and its idempotency keys) before the state is stored.
pub fn encode_contact(c: &ContactState) -> Vec<u8> {
    // Every field named, none skipped with `..`: a new field of the state is a compile error
    // here until it is stored too.
    let ContactState {
        id,
        profile,
        account,
        account_scores,
        consent,
        scores,
        caps,
        history,
        changes,
        last_activity,
        segments,
        stage,
        stage_visit,
        stage_changes,
        decisions,
        timers,
        actions: _,
        scores_checked,
        journeys,
        time_seen,
    } = c;
    let mut enc = Enc::default();
    enc.bytes(id.as_bytes());
    for vals in [profile, account] {
        enc.u(vals.len() as u64);
        for v in vals {
            encode_val(&mut enc, v);
        }
    }
    enc.u(account_scores.len() as u64);
    for s in account_scores {
        match s {
            None => enc.b(false),
            Some(x) => {
                enc.b(true);
                enc.f(*x);
            }
        }
    }
    enc.u(consent.len() as u64);
    for c in consent {
        enc.u(consent_code(*c));
    }
    enc.u(scores.len() as u64);
    for s in scores {
        let ScoreState {
            behaviour,
            profile,
            decayed_to,
            steps_done,
            profile_held,
            profile_true,
        } = s;
        enc.f(*behaviour);
        enc.f(*profile);
        enc.opt_i(*decayed_to);
        enc.i(*steps_done);
        for flags in [profile_held, profile_true] {
            enc.u(flags.len() as u64);
            for f in flags {
                enc.b(*f);
            }
        }
    }
    enc.u(caps.len() as u64);
    for cap in caps {
        match cap {
            CapState::Unused => enc.u(0),
            CapState::Period { period, used } => {
                enc.u(1);
                enc.i(*period);
                enc.u(u64::from(*used));
            }
            CapState::Rolling(kept) => {
                enc.u(2);
                enc.u(kept.len() as u64);
                for t in kept {
                    enc.i(*t);
                }
            }
            CapState::Once => enc.u(3),
        }
    }
    enc.u(history.len() as u64);
    for h in history {
        enc.i(h.ts);
        match h.event {
            None => enc.u(0),
            Some(e) => enc.u(u64::from(e) + 1),
        }
        enc.u(h.properties.len() as u64);
        for v in h.properties.iter() {
            encode_val(&mut enc, v);
        }
    }
    enc.u(changes.len() as u64);
    for ch in changes {
        enc.u(u64::from(ch.score));
        enc.u(u64::from(ch.rule));
        enc.u(ch.line);
        enc.i(ch.ts);
        enc.f(ch.delta);
    }
    enc.opt_i(*last_activity);
    enc.u(segments.len() as u64);
    for s in segments {
        enc.b(*s);
    }
    enc.u(u64::from(*stage));
    enc.u(*stage_visit);
    enc.u(stage_changes.len() as u64);
    for (ts, from, to) in stage_changes {
        enc.i(*ts);
        enc.u(u64::from(*from));
        enc.u(u64::from(*to));
    }
    enc.u(decisions.len() as u64);
    for d in decisions {
        match *d {
            Decision::Transition { time, transition } => {
                enc.u(0);
                enc.i(time);
                enc.u(u64::from(transition));
            }
            Decision::Route { time, route, rule } => {
                enc.u(1);
                enc.i(time);
                enc.u(u64::from(route));
                enc.u(u64::from(rule));
            }
        }
    }
    enc.u(timers.len() as u64);
    for t in timers {
        enc.i(t.due);
        enc.u(u64::from(t.sla));
        enc.u(t.visit);
    }
    enc.u(scores_checked.len() as u64);
    for s in scores_checked {
        enc.f(*s);
    }
    encode_journeys(&mut enc, journeys);
    enc.i(*time_seen);
    enc.0
}

fn encode_opt_text(enc: &mut Enc, text: Option<&str>) {
    match text {
        None => enc.b(false),
        Some(t) => {
            enc.b(true);
            enc.bytes(t.as_bytes());
        }
    }
}

fn decode_opt_text(d: &mut Dec<'_>) -> Option<Option<Box<str>>> {
    Some(if d.b()? {
        Some(d.text()?.into_boxed_str())
    } else {
        None
    })
}

fn outcome_code(outcome: Outcome) -> u64 {
    match outcome {
        Outcome::Completed => 0,
        Outcome::Converted => 1,
        Outcome::Exited => 2,
        Outcome::StepRemoved => 3,
    }
}

fn outcome_of(code: u64) -> Option<Outcome> {
    Some(match code {
        0 => Outcome::Completed,
        1 => Outcome::Converted,
        2 => Outcome::Exited,
        3 => Outcome::StepRemoved,
        _ => return None,
    })
}

/// A contact's journey runs and what their triggers compare with; like [`encode_contact`],
/// every field is named so that a new one cannot be forgotten here.
fn encode_journeys(enc: &mut Enc, journeys: &JourneyState) {
    let JourneyState {
        runs,
        started,
        entries,
        converted,
        ended,
        steps,
        sends,
        segments_seen,
        stage_changes_seen,
        scores_seen,
        fields_seen,
        dates,
    } = journeys;
    enc.u(runs.len() as u64);
    for run in runs {
        let Run {
            journey,
            number,
            key,
            entry,
            entered,
            cause,
            step,
            step_name,
            wait,
            clock,
        } = run;
        enc.u(u64::from(*journey));
        enc.u(u64::from(*number));
        encode_opt_text(enc, key.as_deref());
        enc.u(entry.len() as u64);
        for v in entry.iter() {
            encode_val(enc, v);
        }
        enc.i(*entered);
        enc.bytes(cause.as_bytes());
        enc.u(u64::from(*step));
        enc.bytes(step_name.as_bytes());
        match *wait {
            Wait::Ready => enc.u(0),
            Wait::Sleep { due } => {
                enc.u(1);
                enc.i(due);
            }
            Wait::Retry { due } => {
                enc.u(2);
                enc.i(due);
            }
            Wait::Event { due } => {
                enc.u(3);
                enc.opt_i(due);
            }
        }
        enc.i(*clock);
    }
    enc.u(u64::from(*started));
    enc.u(entries.len() as u64);
    for per_journey in entries {
        enc.u(per_journey.len() as u64);
        for (key, time) in per_journey {
            encode_opt_text(enc, key.as_deref());
            enc.i(*time);
        }
    }
    enc.u(converted.len() as u64);
    for n in converted {
        enc.u(u64::from(*n));
    }
    enc.u(ended.len() as u64);
    for (time, journey, outcome) in ended {
        enc.i(*time);
        enc.u(u64::from(*journey));
        enc.u(outcome_code(*outcome));
    }
    enc.u(steps.len() as u64);
    for (time, journey, step, actions_before) in steps {
        enc.i(*time);
        enc.u(u64::from(*journey));
        enc.u(u64::from(*step));
        enc.u(u64::from(*actions_before));
    }
    enc.u(sends.len() as u64);
    for SendMark {
        time,
        journey,
        channel,
    } in sends
    {
        enc.i(*time);
        enc.u(u64::from(*journey));
        enc.u(u64::from(*channel));
    }
    enc.u(segments_seen.len() as u64);
    for s in segments_seen {
        enc.b(*s);
    }
    enc.u(*stage_changes_seen as u64);
    enc.u(scores_seen.len() as u64);
    for s in scores_seen {
        enc.f(*s);
    }
    enc.u(fields_seen.len() as u64);
    for v in fields_seen {
        encode_val(enc, v);
    }
    enc.u(dates.len() as u64);
    for arm in dates {
        match arm {
            None => enc.b(false),
            Some(DateArm { value, due, year }) => {
                enc.b(true);
                encode_val(enc, value);
                enc.opt_i(*due);
                enc.i(*year);
            }
        }
    }
}

fn decode_journeys(d: &mut Dec<'_>) -> Option<JourneyState> {
    let runs = d.list(|d| {
        Some(Run {
            journey: d.u32()?,
            number: d.u32()?,
            key: decode_opt_text(d)?,
            entry: d.list(decode_val)?.into_boxed_slice(),
            entered: d.i()?,
            cause: d.text()?.into_boxed_str(),
            step: d.u32()?,
            step_name: d.text()?.into_boxed_str(),
            wait: match d.u()? {
                0 => Wait::Ready,
                1 => Wait::Sleep { due: d.i()? },
                2 => Wait::Retry { due: d.i()? },
                3 => Wait::Event { due: d.opt_i()? },
                _ => return None,
            },
            clock: d.i()?,
        })
    })?;
    let started = d.u32()?;
    let entries = d.list(|d| d.list(|d| Some((decode_opt_text(d)?, d.i()?))))?;
    let converted = d.list(Dec::u32)?;
    let ended = d.list(|d| Some((d.i()?, d.u32()?, outcome_of(d.u()?)?)))?;
    let steps = d.list(|d| Some((d.i()?, d.u32()?, d.u32()?, d.u32()?)))?;
    let sends = d.list(|d| {
        Some(SendMark {
            time: d.i()?,
            journey: d.u32()?,
            channel: d.u32()?,
        })
    })?;
    let segments_seen = d.list(Dec::b)?;
    let stage_changes_seen = usize::try_from(d.u()?).ok()?;
    let scores_seen = d.list(Dec::f)?;
    let fields_seen = d.list(decode_val)?;
    let dates = d.list(|d| {
        Some(if d.b()? {
            Some(DateArm {
                value: decode_val(d)?,
                due: d.opt_i()?,
                year: d.i()?,
            })
        } else {
            None
        })
    })?;
    Some(JourneyState {
        runs,
        started,
        entries,
        converted,
        ended,
        steps,
        sends,
        segments_seen,
        stage_changes_seen,
        scores_seen,
        fields_seen,
        dates,
    })
}

/// The state [`encode_contact`] stored (with no actions).
pub fn decode_contact(bytes: &[u8]) -> Option<ContactState> {
    let mut d = Dec::new(bytes);
    let id = d.text()?;
    let profile = d.list(decode_val)?;
    let account = d.list(decode_val)?;
    let account_scores = d.list(|d| Some(if d.b()? { Some(d.f()?) } else { None }))?;
    let consent = d.list(|d| consent_of(d.u()?))?;
    let scores = d.list(|d| {
        Some(ScoreState {
            behaviour: d.f()?,
            profile: d.f()?,
            decayed_to: d.opt_i()?,
            steps_done: d.i()?,
            profile_held: d.list(Dec::b)?,
            profile_true: d.list(Dec::b)?,
        })
    })?;
    let caps = d.list(|d| {
        Some(match d.u()? {
            0 => CapState::Unused,
            1 => CapState::Period {
                period: d.i()?,
                used: d.u32()?,
            },
            2 => CapState::Rolling(d.list(Dec::i)?.into()),
            3 => CapState::Once,
            _ => return None,
        })
    })?;
    let history = d.list(|d| {
        Some(HistoryEntry {
            ts: d.i()?,
            event: match d.u()? {
                0 => None,
                e => Some(u32::try_from(e - 1).ok()?),
            },
            properties: d.list(decode_val)?.into_boxed_slice(),
        })
    })?;
    let changes = d.list(|d| {
        Some(Change {
            score: d.u32()?,
            rule: d.u32()?,
            line: d.u()?,
            ts: d.i()?,
            delta: d.f()?,
        })
    })?;
    let last_activity = d.opt_i()?;
    let segments = d.list(Dec::b)?;
    let stage = d.u32()?;
    let stage_visit = d.u()?;
    let stage_changes = d.list(|d| Some((d.i()?, d.u32()?, d.u32()?)))?;
    let decisions = d.list(|d| {
        Some(match d.u()? {
            0 => Decision::Transition {
                time: d.i()?,
                transition: d.u32()?,
            },
            1 => Decision::Route {
                time: d.i()?,
                route: d.u32()?,
                rule: d.u32()?,
            },
            _ => return None,
        })
    })?;
    let timers = d.list(|d| {
        Some(Timer {
            due: d.i()?,
            sla: d.u32()?,
            visit: d.u()?,
        })
    })?;
    let scores_checked = d.list(Dec::f)?;
    let journeys = decode_journeys(&mut d)?;
    let time_seen = d.i()?;
    d.end().then_some(ContactState {
        id,
        profile,
        account,
        account_scores,
        consent,
        scores,
        caps,
        history,
        changes,
        last_activity,
        segments,
        stage,
        stage_visit,
        stage_changes,
        decisions,
        timers,
        actions: Vec::new(),
        scores_checked,
        journeys,
        time_seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        let mut enc = Enc::default();
        let values = [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX];
        for v in values {
            enc.i(v);
        }
        let mut dec = Dec::new(&enc.0);
        for v in values {
            assert_eq!(dec.i(), Some(v));
        }
        assert!(dec.end());
    }

    #[test]
    fn batches_remember_accepted_lines() {
        let mut b = Batch::starting_at(11);
        for i in 0..20 {
            b.push(i % 3 == 0);
        }
        b.hash = 42;
        let back = decode_batch(&encode_batch(&b));
        assert_eq!(back.as_ref(), Some(&b));
        assert!(b.is_accepted(11));
        assert!(!b.is_accepted(12));
        assert!(b.is_accepted(14));
        assert!(!b.is_accepted(10));
        assert!(!b.is_accepted(40));
    }

    #[test]
    fn checkpoints_round_trip() {
        let mut summary = Summary {
            lines_read: 12,
            valid: 9,
            ..Summary::default()
        };
        summary.rejected_by_reason[2] = 3;
        let c = Checkpoint {
            position: Position {
                offset: 4096,
                line: 12,
                latest: Some(-5),
            },
            summary,
            rejects_len: 777,
            batches: 2,
            input_done: true,
        };
        assert_eq!(decode_checkpoint(&encode_checkpoint(&c)), Some(c));
    }

    #[test]
    fn damaged_bytes_do_not_decode() {
        assert_eq!(decode_contact(&[]), None);
        assert_eq!(decode_contact(&[0xff; 12]), None);
    }
}

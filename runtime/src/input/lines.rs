//! Reading `\n`-separated lines as bytes, decoding each, and counting what happened.
//!
//! A line is kept in memory up to [`KEEP_BYTES`]; the rest of a longer line is only checked
//! (UTF-8) and counted, so one endless line cannot exhaust memory, and its reject still has the
//! right reason and length.

use std::io::{self, BufRead};

use std::collections::HashSet;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{
    decode_contact_line, decode_line, too_long_detail, utf8_detail, InputSchema, Record,
    RecordType, Reject, RejectReason,
};

/// How much of one line is kept: far above [`super::MAX_LINE_BYTES`], so every line that can
/// be valid, and the start of every other, is kept whole.
pub const KEEP_BYTES: usize = 1 << 20;

/// What a run over an input has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines_read: u64,
    pub valid: u64,
    /// Valid records per type, in the order of [`RecordType::ALL`].
    pub valid_by_type: [u64; RecordType::ALL.len()],
    /// Rejected lines per reason, in the order of [`RejectReason::ALL`].
    pub rejected_by_reason: [u64; RejectReason::ALL.len()],
}

impl Summary {
    pub fn count(&mut self, outcome: &Result<Record, Reject>) {
        self.lines_read += 1;
        match outcome {
            Ok(record) => {
                self.valid += 1;
                if let Some(slot) = RecordType::ALL
                    .iter()
                    .position(|t| *t == record.record_type)
                    .and_then(|i| self.valid_by_type.get_mut(i))
                {
                    *slot += 1;
                }
            }
            Err(reject) => {
                if let Some(slot) = RejectReason::ALL
                    .iter()
                    .position(|r| *r == reject.reason)
                    .and_then(|i| self.rejected_by_reason.get_mut(i))
                {
                    *slot += 1;
                }
            }
        }
    }

    pub fn rejected(&self, reason: RejectReason) -> u64 {
        RejectReason::ALL
            .iter()
            .position(|r| *r == reason)
            .and_then(|i| self.rejected_by_reason.get(i))
            .copied()
            .unwrap_or(0)
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected_by_reason.iter().sum()
    }

    pub fn valid_of_type(&self, t: RecordType) -> u64 {
        RecordType::ALL
            .iter()
            .position(|x| *x == t)
            .and_then(|i| self.valid_by_type.get(i))
            .copied()
            .unwrap_or(0)
    }
}

/// One line for a run's summary: `8,000 lines read: 7,828 valid, 172 skipped (invalid_json 22, …)`.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} lines read: {} valid, {} skipped",
            super::group_digits(self.lines_read),
            super::group_digits(self.valid),
            super::group_digits(self.rejected_total())
        )?;
        let reasons: Vec<String> = RejectReason::ALL
            .iter()
            .filter(|r| self.rejected(**r) > 0)
            .map(|r| format!("{} {}", r.name(), super::group_digits(self.rejected(*r))))
            .collect();
        if !reasons.is_empty() {
            write!(f, " ({})", reasons.join(", "))?;
        }
        Ok(())
    }
}

/// Checks UTF-8 across chunks, for the part of a line beyond [`KEEP_BYTES`].
#[derive(Debug, Default)]
struct Utf8Stream {
    /// The first bytes of a character split between chunks (at most three).
    pending: Vec<u8>,
    /// Bytes checked so far, `pending` included.
    seen: usize,
    /// Offset in the line of the first byte that is not UTF-8.
    bad_at: Option<usize>,
}

impl Utf8Stream {
    fn feed(&mut self, chunk: &[u8]) {
        if self.bad_at.is_some() {
            return;
        }
        let start = self.seen - self.pending.len();
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(chunk);
        self.seen = start + joined.len();
        if let Err(e) = std::str::from_utf8(&joined) {
            match e.error_len() {
                Some(_) => self.bad_at = Some(start + e.valid_up_to()),
                None => self.pending = joined.get(e.valid_up_to()..).unwrap_or_default().to_vec(),
            }
        }
    }

    /// The offset of the first bad byte, once the line is over.
    fn finish(&self) -> Option<usize> {
        self.bad_at.or(if self.pending.is_empty() {
            None
        } else {
            Some(self.seen - self.pending.len())
        })
    }
}

/// The iterator of [`super::decode_lines`].
#[derive(Debug)]
pub struct DecodeLines<'s, R> {
    reader: R,
    schema: &'s InputSchema,
    line_no: u64,
    summary: Summary,
    io_error: Option<io::Error>,
    done: bool,
    buf: Vec<u8>,
    /// The reordering window in milliseconds (`None`: unbounded, R1's behaviour).
    max_out_of_order: Option<i64>,
    /// The largest timestamp of the records accepted so far.
    latest: Option<i64>,
    /// Bytes of input consumed so far (each line and its `\n`): where a resumed run goes on.
    offset: u64,
    /// A hash of the lines read since the last [`DecodeLines::take_hash`]: a checkpoint keeps
    /// it, so that a resumed run can tell that the input it re-reads is the one it read.
    hash: u64,
    /// Reading a contact snapshot: the `userId`s seen so far (a repeat is a reject).
    contacts: Option<HashSet<String>>,
    /// Whether lines are hashed at all: only a run store reads the hash
    /// ([`DecodeLines::without_hash`]).
    hashing: bool,
    /// Threads that decode lines ahead ([`DecodeLines::with_threads`]); 1: line by line.
    threads: usize,
    /// Lines read and decoded ahead, yielded one by one in input order.
    ahead: Ahead,
    /// The chunk after `ahead`, read and being decoded on other threads while this one is
    /// yielded (and the caller keeps its records).
    pending: Option<JoinHandle<Ahead>>,
    /// Lines read so far, those read ahead included: the number of the next chunk's first.
    lines_read: u64,
    /// The schema, shared with the threads that decode ahead.
    shared_schema: Option<Arc<InputSchema>>,
}

/// A chunk of lines read ahead of what the iterator has yielded, decoded in parallel. Only the
/// reading and decoding are ahead: line numbers, offsets, the hash, the reordering window and
/// the counts move as each line is yielded, exactly as line by line.
#[derive(Debug, Default)]
struct Ahead {
    /// The number of its first line.
    first_line: u64,
    /// The kept bytes of every line, one after the other.
    bytes: Vec<u8>,
    lines: Vec<AheadLine>,
    /// The decoded outcome of each line that was not cut in memory.
    decoded: Vec<Option<Result<Record, Reject>>>,
    /// The next line to yield.
    next: usize,
    /// How reading ended after the last line of the chunk: the end of input, or an error.
    ended: Option<io::Result<()>>,
}

#[derive(Debug)]
struct AheadLine {
    /// Where its kept bytes start in [`Ahead::bytes`] and end.
    start: usize,
    end: usize,
    /// Its full length, without the `\n`.
    length: usize,
    /// Bytes of input it took (its `\n` included).
    used: u64,
    overflow: Option<Utf8Stream>,
}

/// Lines each thread decodes per chunk: big enough that starting threads costs little.
const LINES_PER_THREAD: usize = 2048;

/// Where a run over an input stands, as a checkpoint keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// Bytes consumed (the start of the next line).
    pub offset: u64,
    /// Lines read (the number of the last line read).
    pub line: u64,
    /// The reordering window's upper edge.
    pub latest: Option<i64>,
}

impl<'s, R: BufRead> DecodeLines<'s, R> {
    pub(super) fn new(reader: R, schema: &'s InputSchema) -> Self {
        DecodeLines {
            reader,
            schema,
            line_no: 0,
            summary: Summary::default(),
            io_error: None,
            done: false,
            buf: Vec::new(),
            max_out_of_order: None,
            latest: None,
            offset: 0,
            hash: HASH_SEED,
            hashing: true,
            contacts: None,
            threads: 1,
            ahead: Ahead::default(),
            pending: None,
            lines_read: 0,
            shared_schema: None,
        }
    }

    /// Decodes on `threads` threads: lines are read in chunks and decoded in parallel, then
    /// yielded in order; every outcome, count and position is the same as with one thread.
    /// A contact snapshot is always read line by line (a repeated `userId` depends on order).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        if self.threads > 1 {
            self.shared_schema = Some(Arc::new(self.schema.clone()));
        }
        self
    }

    /// Leaves the lines unhashed: for a run without a store, where no checkpoint keeps the
    /// hash ([`DecodeLines::take_hash`] then always gives the seed).
    pub fn without_hash(mut self) -> Self {
        self.hashing = false;
        self
    }

    /// Reads contact snapshot lines rather than events.
    pub(super) fn for_contacts(mut self) -> Self {
        self.contacts = Some(HashSet::new());
        self
    }

    /// A snapshot line's record, or a reject if its `userId` came before.
    fn decode_contact(&mut self) -> Result<Record, Reject> {
        let record = decode_contact_line(self.line_no, &self.buf, self.schema)?;
        let id = record.user_id.clone().unwrap_or_default();
        if let Some(seen) = self.contacts.as_mut() {
            if !seen.insert(id.clone()) {
                return Err(Reject {
                    line: self.line_no,
                    reason: RejectReason::DuplicateContact,
                    detail: format!(
                        "an earlier line already gives the contact `{id}`; the first line is kept"
                    ),
                    raw: self.buf.clone(),
                    length: self.buf.len() as u64,
                });
            }
        }
        Ok(record)
    }

    /// Where the reading stands: bytes and lines consumed, the window's edge.
    pub fn input_position(&self) -> Position {
        Position {
            offset: self.offset,
            line: self.line_no,
            latest: self.latest,
        }
    }

    /// The hash of the lines read since the previous call, and a fresh start for the next.
    pub fn take_hash(&mut self) -> u64 {
        std::mem::replace(&mut self.hash, HASH_SEED)
    }

    /// Re-reads the next line of a resumed run, whose fate a checkpoint already knows: an
    /// `accepted` line is decoded again (decoding is deterministic, so it gives the record the
    /// interrupted run kept), any other is only read past. Nothing is counted: the checkpoint
    /// brings its own [`Summary`] ([`DecodeLines::resume`]). `Ok(None)` at the end of input;
    /// `Err` with plain words when an accepted line no longer decodes (the input changed).
    pub fn reread(&mut self, accepted: bool) -> Result<Option<Option<Record>>, String> {
        let (_, overflow) = match self.read_line_counted() {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("the events could not be read again: {e}")),
        };
        self.line_no += 1;
        self.lines_read += 1;
        if !accepted {
            return Ok(Some(None));
        }
        if overflow.is_some() {
            return Err(format!("line {} is no longer a valid record", self.line_no));
        }
        match decode_line(self.line_no, &self.buf, self.schema) {
            Ok(record) => Ok(Some(Some(record))),
            Err(reject) => Err(format!(
                "line {} is no longer a valid record ({})",
                self.line_no, reject.reason
            )),
        }
    }

    /// Takes up counting where a checkpoint left it, once the lines before it are re-read.
    pub fn resume(&mut self, summary: Summary, latest: Option<i64>) {
        self.summary = summary;
        self.latest = latest;
    }

    /// Bounds the reordering window: a valid record whose timestamp is earlier than the largest
    /// timestamp seen so far minus `window` milliseconds becomes a `too_late` reject. `None`
    /// (the default) accepts any order, as R1 does.
    pub fn with_max_out_of_order(mut self, window: Option<i64>) -> Self {
        self.max_out_of_order = window;
        self
    }

    /// Turns a valid record older than the window allows into a `too_late` reject, and
    /// otherwise moves the window's upper edge.
    fn apply_window(&mut self, record: Record) -> Result<Record, Reject> {
        let (Some(window), Some(latest)) = (self.max_out_of_order, self.latest) else {
            self.latest = Some(
                self.latest
                    .map_or(record.timestamp, |l| l.max(record.timestamp)),
            );
            return Ok(record);
        };
        // Saturating: a window of years before a timestamp near the range's start must not wrap.
        if record.timestamp < latest.saturating_sub(window) {
            return Err(Reject {
                line: record.line,
                reason: RejectReason::TooLate,
                detail: format!(
                    "the record's time {} is {} before the latest time seen so far ({}), more than the reordering window of {}",
                    super::format_timestamp(record.timestamp),
                    describe_millis(latest.saturating_sub(record.timestamp)),
                    super::format_timestamp(latest),
                    describe_millis(window)
                ),
                raw: self.buf.clone(),
                length: self.buf.len() as u64,
            });
        }
        self.latest = Some(latest.max(record.timestamp));
        Ok(record)
    }

    /// Counts of everything yielded so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The read error that ended the iteration early, if any: the caller must report it,
    /// since the lines after it were never read.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.io_error.as_ref()
    }

    /// [`DecodeLines::read_line`], counting the line into the offset and the hash.
    fn read_line_counted(&mut self) -> io::Result<Option<(usize, Option<Utf8Stream>)>> {
        let read = self.read_line();
        if let Ok(Some((length, _, used))) = &read {
            self.offset += used;
            if self.hashing {
                self.hash = hash_line(self.hash, &self.buf, *length);
            }
        }
        read.map(|line| line.map(|(length, overflow, _)| (length, overflow)))
    }

    /// Reads the next line into `buf` (cut at [`KEEP_BYTES`]). Returns its full length, when
    /// it was cut the UTF-8 verdict over the whole line, and the bytes of input it took; `None`
    /// at the end of input.
    fn read_line(&mut self) -> io::Result<Option<(usize, Option<Utf8Stream>, u64)>> {
        self.buf.clear();
        let mut used_total = 0u64;
        let mut length = 0usize;
        let mut overflow: Option<Utf8Stream> = None;
        let mut started = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                // End of input: a last line without `\n` still counts; nothing after a final `\n`.
                return Ok(if started {
                    Some((length, overflow, used_total))
                } else {
                    None
                });
            }
            started = true;
            let newline = memchr::memchr(b'\n', available);
            let chunk = match newline {
                Some(at) => available.get(..at).unwrap_or_default(),
                None => available,
            };
            let room = KEEP_BYTES.saturating_sub(self.buf.len());
            if chunk.len() <= room && overflow.is_none() {
                self.buf.extend_from_slice(chunk);
            } else {
                let (kept, rest) = chunk.split_at(room.min(chunk.len()));
                self.buf.extend_from_slice(kept);
                let stream = overflow.get_or_insert_with(|| {
                    let mut s = Utf8Stream::default();
                    s.feed(&self.buf);
                    s
                });
                stream.feed(rest);
            }
            length += chunk.len();
            let used = chunk.len() + usize::from(newline.is_some());
            self.reader.consume(used);
            used_total += used as u64;
            if newline.is_some() {
                return Ok(Some((length, overflow, used_total)));
            }
        }
    }
}

impl<R: BufRead> Iterator for DecodeLines<'_, R> {
    type Item = Result<Record, Reject>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.threads > 1 && self.contacts.is_none() {
            return self.next_ahead();
        }
        let (length, overflow) = match self.read_line_counted() {
            Ok(Some(line)) => line,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                self.io_error = Some(e);
                return None;
            }
        };
        self.line_no += 1;
        let decoded = match overflow {
            None if self.contacts.is_some() => Some(self.decode_contact()),
            None => Some(decode_line(self.line_no, &self.buf, self.schema)),
            Some(_) => None,
        };
        Some(self.finish_line(decoded, length, overflow))
    }
}

impl<R: BufRead> DecodeLines<'_, R> {
    /// The outcome of the line in `buf` (number `line_no`), given its decoding when it was not
    /// cut in memory: the reordering window applied and the line counted.
    fn finish_line(
        &mut self,
        decoded: Option<Result<Record, Reject>>,
        length: usize,
        overflow: Option<Utf8Stream>,
    ) -> Result<Record, Reject> {
        let outcome = match (decoded, overflow) {
            (Some(outcome), _) => outcome,
            // Every line not cut in memory is decoded ahead; decoding it here is as right.
            (None, None) => decode_line(self.line_no, &self.buf, self.schema),
            // A line cut in memory is longer than any valid one: only its reason is to find.
            (None, Some(stream)) => {
                let (reason, detail) = match stream.finish() {
                    Some(at) if at < self.buf.len() => (RejectReason::InvalidUtf8, utf8_detail(&self.buf, at)),
                    Some(at) => (
                        RejectReason::InvalidUtf8,
                        format!("byte {} is not UTF-8: the text was probably saved as Windows-1252 or Latin-1", at + 1),
                    ),
                    None => (RejectReason::TooLong, too_long_detail(length as u64)),
                };
                Err(Reject {
                    line: self.line_no,
                    reason,
                    detail,
                    raw: self.buf.clone(),
                    length: length as u64,
                })
            }
        };
        let outcome = if self.contacts.is_some() {
            outcome
        } else {
            outcome.and_then(|record| self.apply_window(record))
        };
        self.summary.count(&outcome);
        outcome
    }

    /// [`Iterator::next`] with threads: yields the next line of the chunk read ahead. When it
    /// is used up, the next chunk (decoded on other threads meanwhile) takes its place, and the
    /// one after it is read and handed to other threads, so that decoding overlaps with what
    /// the caller does with the records.
    fn next_ahead(&mut self) -> Option<Result<Record, Reject>> {
        while self.ahead.next >= self.ahead.lines.len() {
            match self.ahead.ended.take() {
                Some(Ok(())) => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.io_error = Some(e);
                    return None;
                }
                None => {}
            }
            let next = match self.pending.take() {
                Some(handle) => match handle.join() {
                    Ok(chunk) => chunk,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                // The first chunk: nothing to overlap with yet.
                None => {
                    let chunk = self.read_chunk();
                    decode_chunk(chunk, self.schema, self.threads)
                }
            };
            self.ahead = next;
            if self.ahead.ended.is_none() {
                let chunk = self.read_chunk();
                let schema = self
                    .shared_schema
                    .get_or_insert_with(|| Arc::new(self.schema.clone()))
                    .clone();
                // This thread goes on yielding: the others decode.
                let workers = (self.threads - 1).max(1);
                self.pending = Some(std::thread::spawn(move || {
                    decode_chunk(chunk, &schema, workers)
                }));
            }
        }
        let at = self.ahead.next;
        self.ahead.next += 1;
        let line = self.ahead.lines.get_mut(at)?;
        let overflow = line.overflow.take();
        let (length, used) = (line.length, line.used);
        let raw = self
            .ahead
            .bytes
            .get(line.start..line.end)
            .unwrap_or_default();
        let decoded = self.ahead.decoded.get_mut(at).and_then(Option::take);
        // `buf` is read only for a reject's bytes or a record the window may turn into one.
        if !matches!(decoded, Some(Ok(_))) || self.max_out_of_order.is_some() {
            self.buf.clear();
            self.buf.extend_from_slice(raw);
        }
        self.line_no += 1;
        self.offset += used;
        if self.hashing {
            self.hash = hash_line(self.hash, raw, length);
        }
        Some(self.finish_line(decoded, length, overflow))
    }

    /// Reads the next chunk of lines (not decoded yet).
    fn read_chunk(&mut self) -> Ahead {
        let mut ahead = Ahead {
            first_line: self.lines_read + 1,
            ..Ahead::default()
        };
        let wanted = LINES_PER_THREAD * self.threads;
        while ahead.lines.len() < wanted {
            match self.read_line() {
                Ok(Some((length, overflow, used))) => {
                    let start = ahead.bytes.len();
                    ahead.bytes.extend_from_slice(&self.buf);
                    ahead.lines.push(AheadLine {
                        start,
                        end: ahead.bytes.len(),
                        length,
                        used,
                        overflow,
                    });
                }
                Ok(None) => {
                    ahead.ended = Some(Ok(()));
                    break;
                }
                Err(e) => {
                    ahead.ended = Some(Err(e));
                    break;
                }
            }
        }
        self.lines_read += ahead.lines.len() as u64;
        ahead
    }
}

/// Decodes the lines of `ahead` on `threads` threads (this one and others), each a run of
/// consecutive lines; line `i` of the chunk is number `first_line + i`.
fn decode_chunk(mut ahead: Ahead, schema: &InputSchema, threads: usize) -> Ahead {
    let first = ahead.first_line;
    let per_thread = ahead.lines.len().div_ceil(threads.max(1)).max(1);
    let bytes = &ahead.bytes;
    let decode_run = |offset: usize, lines: &[AheadLine]| -> Vec<Option<Result<Record, Reject>>> {
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                line.overflow.is_none().then(|| {
                    let raw = bytes.get(line.start..line.end).unwrap_or_default();
                    decode_line(first + (offset + i) as u64, raw, schema)
                })
            })
            .collect()
    };
    let runs: Vec<&[AheadLine]> = ahead.lines.chunks(per_thread).collect();
    let mut decoded = Vec::with_capacity(ahead.lines.len());
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (k, run) in runs.iter().enumerate().skip(1) {
            let decode_run = &decode_run;
            handles.push(s.spawn(move || decode_run(k * per_thread, run)));
        }
        // This thread decodes the first run while the others decode theirs.
        if let Some(run) = runs.first() {
            decoded.extend(decode_run(0, run));
        }
        for h in handles {
            match h.join() {
                Ok(part) => decoded.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    ahead.decoded = decoded;
    ahead
}

const HASH_SEED: u64 = 0x6d61_636c_635f_696e;

/// Folds one line (the bytes kept of it, and its full length) into `h`, eight bytes at a time:
/// cheap enough for every line of the input, and any change to a line changes it (not a
/// cryptographic hash: it guards against a wrong or edited file, not an adversary).
pub(crate) fn hash_line(mut h: u64, kept: &[u8], length: usize) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut mix = |word: u64| {
        h = (h ^ word).wrapping_mul(K).rotate_left(31);
    };
    let mut chunks = kept.chunks_exact(8);
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        mix(u64::from_le_bytes(word));
    }
    let mut tail = [0u8; 8];
    for (t, b) in tail.iter_mut().zip(chunks.remainder()) {
        *t = *b;
    }
    mix(u64::from_le_bytes(tail));
    mix(length as u64);
    h
}

/// A span of time in plain words, to the millisecond: `1d 2h 3m 4.5s`.
fn describe_millis(ms: i64) -> String {
    let mut parts = Vec::new();
    let mut rest = ms;
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if rest > 0 || parts.is_empty() {
        let (s, frac) = (rest / 1000, rest % 1000);
        if frac == 0 {
            parts.push(format!("{s}s"));
        } else {
            let text = format!("{s}.{frac:03}");
            parts.push(format!("{}s", text.trim_end_matches('0')));
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_in_plain_words() {
        assert_eq!(describe_millis(0), "0s");
        assert_eq!(describe_millis(1500), "1.5s");
        assert_eq!(describe_millis(3_600_000), "1h");
        assert_eq!(describe_millis(90_061_001), "1d 1h 1m 1.001s");
    }

    #[test]
    fn utf8_stream_finds_bad_bytes_across_chunks() {
        let text = "aé😀b".as_bytes();
        for split in 0..=text.len() {
            let mut s = Utf8Stream::default();
            let (a, b) = text.split_at(split);
            s.feed(a);
            s.feed(b);
            assert_eq!(s.finish(), None, "split at {split}");
        }
        let mut s = Utf8Stream::default();
        s.feed(b"ab\xe9");
        s.feed(b"xy");
        assert_eq!(s.finish(), Some(2));
        let mut s = Utf8Stream::default();
        s.feed(b"ab\xf0\x9f");
        assert_eq!(s.finish(), Some(2));
    }
}

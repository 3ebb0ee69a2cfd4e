//! Decoding ahead on threads (`DecodeLines::with_threads`: chunks decoded on other threads while
//! the current one is yielded) gives what line-by-line decoding gives: every outcome in order,
//! the counts, the input position and the hash a checkpoint keeps, over inputs of many chunks
//! with rejects, a line cut in memory and a last line without `\n`. Without the hash
//! (`without_hash`, a run with no store) nothing else changes.

use maclc_runtime::input::{
    decode_lines, InputSchema, Position, Record, Reject, RejectReason, Summary,
};

/// Everything a reader of the lines sees.
#[derive(Debug, PartialEq)]
struct Seen {
    outcomes: Vec<Result<Record, Reject>>,
    summary: Summary,
    position: Position,
    hash: u64,
}

fn decode(bytes: &[u8], threads: usize, hashing: bool, window: Option<i64>) -> Seen {
    let schema = InputSchema::reference_r1();
    let mut lines = decode_lines(bytes, &schema)
        .with_threads(threads)
        .with_max_out_of_order(window);
    if !hashing {
        lines = lines.without_hash();
    }
    let outcomes: Vec<_> = lines.by_ref().collect();
    Seen {
        outcomes,
        summary: lines.summary().clone(),
        position: lines.input_position(),
        hash: lines.take_hash(),
    }
}

/// The R1 sample many times over (far more lines than one chunk of two or three threads), the
/// later copies an hour earlier (so a window rejects some), a line too long to keep whole,
/// and a last line without its `\n`.
fn input() -> Vec<u8> {
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/reference-r1/events.sample.jsonl"
    ))
    .unwrap_or_else(|e| panic!("the R1 sample cannot be read: {e}"));
    let text = String::from_utf8_lossy(&sample).into_owned();
    let mut bytes = Vec::new();
    for copy in 0..6 {
        if copy % 2 == 1 {
            bytes.extend_from_slice(text.replace("T1", "T0").as_bytes());
        } else {
            bytes.extend_from_slice(&sample);
        }
        if copy == 3 {
            bytes.extend_from_slice(b"{\"type\":\"track\",\"x\":\"");
            bytes.extend(std::iter::repeat_n(b'a', (1 << 20) + 10));
            bytes.extend_from_slice(b"\"}\n");
        }
    }
    bytes.extend_from_slice(sample.split(|&b| b == b'\n').next().unwrap_or_default());
    bytes
}

#[test]
fn decoding_ahead_on_threads_sees_what_one_thread_sees() {
    let bytes = input();
    for window in [None, Some(60_000)] {
        let one = decode(&bytes, 1, true, window);
        assert!(
            one.outcomes.len() > 3 * 4096,
            "{} lines",
            one.outcomes.len()
        );
        assert!(one.summary.rejected(RejectReason::TooLong) > 0);
        assert_eq!(
            one.summary.rejected(RejectReason::TooLate) > 0,
            window.is_some()
        );
        for threads in [2, 3] {
            let many = decode(&bytes, threads, true, window);
            assert!(many == one, "{threads} threads, window {window:?}");
        }
    }
}

#[test]
fn without_the_hash_only_the_hash_differs() {
    let bytes = input();
    for threads in [1, 2] {
        let hashed = decode(&bytes, threads, true, None);
        let unhashed = decode(&bytes, threads, false, None);
        assert_eq!(hashed.outcomes, unhashed.outcomes);
        assert_eq!(hashed.summary, unhashed.summary);
        assert_eq!(hashed.position, unhashed.position);
        // Unhashed, the hash is the seed whatever was read: another input gives the same.
        assert_ne!(hashed.hash, unhashed.hash);
        assert_eq!(unhashed.hash, decode(b"{}\n", threads, false, None).hash);
    }
}

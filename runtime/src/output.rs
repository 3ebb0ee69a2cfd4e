//! The outputs of a run: per-contact state lines, reject lines and the summary in plain words.
//!
//! Formats are fixed byte for byte (R1 §5) so that runs can be compared with `cmp`: keys in a
//! fixed order, no spaces, integral numbers without a fraction, segment names sorted.

use std::fmt::Write as _;

use maclc_compiler::ir::Ir;

use crate::engine::{AccountState, ContactState, RunOutput};
use crate::input::{format_timestamp, Reject, RejectReason, Summary};
use crate::lifecycle::Action;

/// A number as R1 prints it: integral values without a fraction, others in their shortest
/// exact form.
pub fn format_number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        format!("{}", value as i64)
    } else if value.is_finite() {
        format!("{value}")
    } else {
        // JSON has no infinities; a bounded program never produces one.
        "null".to_string()
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// One line of `--state-out` (without the newline): the contact, every score in declaration
/// order, then the sorted names of the segments it is in.
pub fn state_line(ir: &Ir, contact: &ContactState) -> String {
    let mut line = String::with_capacity(128);
    line.push_str("{\"contact\":");
    line.push_str(&json_string(&contact.id));
    for (score, state) in ir.scores.iter().zip(&contact.scores) {
        let _ = write!(
            line,
            ",{}:{}",
            json_string(&score.name),
            format_number(state.value())
        );
    }
    if let Some(lifecycle) = &ir.lifecycle {
        let stage = lifecycle
            .stages
            .get(contact.stage as usize)
            .map_or("", String::as_str);
        line.push_str(",\"stage\":");
        line.push_str(&json_string(stage));
    }
    let mut names: Vec<&str> = ir
        .segments
        .iter()
        .zip(&contact.segments)
        .filter(|(_, member)| **member)
        .map(|(s, _)| s.name.as_str())
        .collect();
    names.sort_unstable();
    line.push_str(",\"segments\":[");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&json_string(name));
    }
    line.push_str("]}");
    line
}

/// One line of `--accounts-out` (without the newline): the account's key, how many contacts
/// link to it, then every account score in declaration order.
pub fn account_line(ir: &Ir, account: &AccountState) -> String {
    let mut line = String::with_capacity(96);
    line.push_str("{\"account\":");
    line.push_str(&json_string(&account.key));
    let _ = write!(line, ",\"contacts\":{}", account.contacts);
    for (score, value) in ir.account_scores.iter().zip(&account.scores) {
        let _ = write!(
            line,
            ",{}:{}",
            json_string(&score.name),
            format_number(*value)
        );
    }
    line.push('}');
    line
}

/// One line of `--actions` (without the newline).
pub fn action_line(action: &Action) -> String {
    let mut line = format!(
        "{{\"kind\":{},\"contact\":{},\"time\":{},\"rule\":{},\"trigger\":{},\"payload\":{{",
        json_string(action.kind),
        json_string(&action.contact),
        json_string(&format_timestamp(action.time)),
        json_string(&action.rule),
        json_string(&action.trigger),
    );
    for (i, (k, v)) in action.payload.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let _ = write!(line, "{}:{}", json_string(k), json_string(v));
    }
    let _ = write!(line, "}},\"key\":{}}}", json_string(&action.key));
    line
}

/// One line of `--rejects` (without the newline).
pub fn reject_line(reject: &Reject) -> String {
    let mut line = format!(
        "{{\"line\":{},\"reason\":{},\"detail\":{},",
        reject.line,
        json_string(reject.reason.name()),
        json_string(&reject.detail)
    );
    match std::str::from_utf8(&reject.raw) {
        Ok(text) => {
            line.push_str("\"raw\":");
            line.push_str(&json_string(text));
        }
        Err(_) => {
            line.push_str("\"raw_base64\":\"");
            line.push_str(&base64(&reject.raw));
            line.push('"');
        }
    }
    line.push('}');
    line
}

/// Standard base64 with padding (RFC 4648).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The summary of a run in plain words, one fact per line.
pub fn summary_text(ir: &Ir, summary: &Summary, run: &RunOutput) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "lines read: {}", summary.lines_read);
    let _ = writeln!(text, "valid records: {}", summary.valid);
    let _ = writeln!(text, "rejected lines: {}", summary.rejected_total());
    for reason in RejectReason::ALL {
        let n = summary.rejected(reason);
        if n > 0 {
            let _ = writeln!(text, "  {}: {n} ({})", reason.name(), reason.description());
        }
    }
    let _ = writeln!(text, "contacts: {}", run.contacts.len());
    let _ = writeln!(
        text,
        "anonymous records left out (they belong to no contact): {}",
        run.anonymous_left_out
    );
    if run.after_until > 0 {
        let _ = writeln!(
            text,
            "records after the as-of time, not applied: {}",
            run.after_until
        );
    }
    match run.as_of {
        Some(t) => {
            let _ = writeln!(text, "as of: {}", format_timestamp(t));
        }
        None => {
            let _ = writeln!(text, "as of: no valid record, so no time");
        }
    }
    if !run.actions.is_empty() {
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for a in &run.actions {
            match kinds.iter_mut().find(|(k, _)| *k == a.kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((a.kind, 1)),
            }
        }
        kinds.sort_unstable();
        let _ = writeln!(text, "actions: {}", run.actions.len());
        for (kind, n) in kinds {
            let note = if kind == "suppressed" {
                " (sends not made: no consent, quiet hours or a cap; each says why)"
            } else {
                ""
            };
            let _ = writeln!(text, "  {kind}: {n}{note}");
        }
    }
    if !ir.journeys.journeys.is_empty() {
        text.push_str(&crate::journey::summary(ir, &run.contacts));
    }
    if let Some(lifecycle) = &ir.lifecycle {
        let _ = writeln!(text, "stages:");
        for (i, stage) in lifecycle.stages.iter().enumerate() {
            let n = run
                .contacts
                .iter()
                .filter(|c| c.stage as usize == i)
                .count();
            let _ = writeln!(text, "  {stage}: {n}");
        }
    }
    let _ = writeln!(text, "segment sizes:");
    for (i, segment) in ir.segments.iter().enumerate() {
        let size = run
            .contacts
            .iter()
            .filter(|c| c.segments.get(i).copied().unwrap_or(false))
            .count();
        let _ = writeln!(text, "  {}: {size}", segment.name);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(format_number(135.0), "135");
        assert_eq!(format_number(-100.0), "-100");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(12.5), "12.5");
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xe9]), "/+k=");
    }
}

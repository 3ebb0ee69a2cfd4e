//! The decoder and identity resolution over a file of `gen_events.py`, checked against the
//! generator's own manifest: rejects per reason, valid lines, and identity figures.
//!
//! The generator lives in `shared/workload/` beside the repository; set `MACLC_WORKLOAD_DIR` to
//! use another copy. Without `python3` or the generator the test says so and passes: it cannot
//! check anything there, and the unit tests still cover every rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

use maclc_runtime::identity::{resolve_all, ContactId, IdentityResolver, Subject};
use maclc_runtime::input::{decode_lines, InputSchema, Record, RecordType, RejectReason};
use serde_json::Value as Json;

fn generator() -> Option<PathBuf> {
    let dir = match std::env::var_os("MACLC_WORKLOAD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/workload"),
    };
    let script = dir.join("gen_events.py");
    if !script.is_file() {
        eprintln!(
            "SKIPPED: no generator at {} (set MACLC_WORKLOAD_DIR)",
            script.display()
        );
        return None;
    }
    if !Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIPPED: `python3` is not installed, so the event generator cannot run");
        return None;
    }
    Some(script)
}

/// The file the task asks for: small, with 2 % bad lines of every kind.
const SMALL: [&str; 8] = [
    "--contacts",
    "200",
    "--events",
    "8000",
    "--malformed-rate",
    "0.02",
    "--seed",
    "7",
];
/// Larger, so that shared computers (several claims on one anonymousId) and several legacy
/// aliases occur.
const LARGER: [&str; 8] = [
    "--contacts",
    "1500",
    "--events",
    "60000",
    "--malformed-rate",
    "0.01",
    "--seed",
    "11",
];

/// Runs the generator with `args`; returns the file's bytes and the manifest.
fn generate(args: &[&str], extra: &[&str]) -> Option<(Vec<u8>, Json)> {
    let script = generator()?;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("events.jsonl");
    let manifest = dir.path().join("manifest.json");
    let status = Command::new("python3")
        .arg(&script)
        .args(args)
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--manifest")
        .arg(&manifest)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "gen_events.py failed: {status}");
    let events = std::fs::read(&out).expect("the generated file");
    let manifest = std::fs::read_to_string(&manifest).expect("the manifest");
    Some((
        events,
        serde_json::from_str(&manifest).expect("the manifest is JSON"),
    ))
}

fn number(manifest: &Json, path: &[&str]) -> u64 {
    let mut v = manifest;
    for key in path {
        v = &v[key];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("manifest has no number at {path:?}"))
}

/// The generator's malformed kinds, as R1 names the reason they cause.
fn reason_of_kind(kind: &str) -> RejectReason {
    match kind {
        "truncated_json" => RejectReason::InvalidJson,
        other => RejectReason::from_name(other)
            .unwrap_or_else(|| panic!("unknown malformed kind {other}")),
    }
}

/// App and browser ids are UUIDs; legacy ids are `crm-…`. An alias's previousId is an
/// anonymousId when it has the UUID shape (the manifest counts only those).
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

#[test]
fn generated_file_matches_the_manifest() {
    check_against_manifest(&SMALL);
}

#[test]
fn larger_file_with_shared_computers_matches_the_manifest() {
    if let Some(several) = check_against_manifest(&LARGER) {
        assert!(several > 0, "this file was chosen to have shared computers");
    }
}

/// Decodes a generated file and compares with its manifest; returns the number of anonymous
/// ids claimed by several contacts (`None` when skipped).
fn check_against_manifest(args: &[&str]) -> Option<u64> {
    let (events, manifest) = generate(args, &[])?;
    let schema = InputSchema::reference_r1();
    let mut lines = decode_lines(events.as_slice(), &schema);
    let records: Vec<Record> = lines.by_ref().flatten().collect();
    assert!(lines.io_error().is_none());
    let summary = lines.summary().clone();

    // Lines: read, valid, per type, per event, and rejected per reason.
    assert_eq!(summary.lines_read, number(&manifest, &["lines_total"]));
    assert_eq!(summary.valid, number(&manifest, &["lines_valid"]));
    for t in [
        RecordType::Alias,
        RecordType::Identify,
        RecordType::Page,
        RecordType::Track,
    ] {
        assert_eq!(
            summary.valid_of_type(t),
            number(&manifest, &["lines_by_type", t.wire_name()]),
            "{t:?}"
        );
    }
    let mut by_event: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &records {
        if let Some(name) = r.event_name(&schema) {
            *by_event.entry(name).or_default() += 1;
        }
    }
    for (name, count) in manifest["track_events"].as_object().expect("track_events") {
        assert_eq!(
            by_event.get(name.as_str()).copied().unwrap_or(0),
            count.as_u64().unwrap_or(u64::MAX),
            "{name}"
        );
    }
    let mut expected = BTreeMap::new();
    for (kind, count) in manifest["malformed_by_kind"]
        .as_object()
        .expect("malformed_by_kind")
    {
        *expected.entry(reason_of_kind(kind)).or_insert(0) += count.as_u64().unwrap_or(u64::MAX);
    }
    for reason in RejectReason::ALL {
        assert_eq!(
            summary.rejected(reason),
            expected.get(&reason).copied().unwrap_or(0),
            "{reason}"
        );
    }
    assert!(
        summary.rejected_total() > 0,
        "the file has malformed lines of several kinds"
    );

    // Identity, R1 §2 over the whole file.
    let whole = resolve_all(&records);
    let anonymous_ids: BTreeSet<&str> = records
        .iter()
        .flat_map(|r| {
            [
                r.anonymous_id.as_deref(),
                r.previous_id.as_deref().filter(|p| is_uuid(p)),
            ]
        })
        .flatten()
        .collect();
    assert_eq!(
        anonymous_ids.len() as u64,
        number(&manifest, &["anonymous_ids", "total"])
    );
    let identified = anonymous_ids
        .iter()
        .filter(|a| whole.owners.contains_key(**a))
        .count() as u64;
    assert_eq!(
        identified,
        number(&manifest, &["anonymous_ids", "identified"])
    );
    assert_eq!(
        anonymous_ids.len() as u64 - identified,
        number(&manifest, &["anonymous_ids", "never_identified"])
    );
    let merged_by_alias: BTreeSet<&str> = records
        .iter()
        .filter_map(|r| r.previous_id.as_deref())
        .filter(|p| is_uuid(p))
        .collect();
    assert_eq!(
        merged_by_alias.len() as u64,
        number(&manifest, &["anonymous_ids", "merged_by_alias"])
    );

    // Claimed by several contacts: the manifest counts people; ids that resolve to the same
    // contact (a legacy id and its new one) are one person.
    let mut claimants: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for r in &records {
        let claim = match r.record_type {
            RecordType::Identify => r.anonymous_id.as_deref().zip(r.user_id.as_deref()),
            RecordType::Alias => r
                .previous_id
                .as_deref()
                .filter(|p| is_uuid(p))
                .zip(r.user_id.as_deref()),
            _ => None,
        };
        if let Some((anonymous, user)) = claim {
            claimants
                .entry(anonymous)
                .or_default()
                .insert(resolves_to(&whole, user));
        }
    }
    let several = claimants.values().filter(|people| people.len() > 1).count() as u64;
    assert_eq!(
        several,
        number(&manifest, &["anonymous_ids", "claimed_by_several_contacts"])
    );

    // Records with an anonymousId and no userId: attributable when their id has an owner.
    let anonymous_only: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].user_id.is_none() && records[i].anonymous_id.is_some())
        .collect();
    let attributable = anonymous_only
        .iter()
        .filter(|&&i| whole.contact_of[i].is_some())
        .count() as u64;
    assert_eq!(
        anonymous_only.len() as u64,
        number(&manifest, &["anonymous_only_records", "total"])
    );
    assert_eq!(
        attributable,
        number(&manifest, &["anonymous_only_records", "attributable"])
    );

    // Contacts: the manifest counts people with a valid record under their own userId; R1
    // counts ids after alias resolution. They are the same number unless a legacy `crm-` id lost
    // its alias to a malformed line (then one person is two R1 contacts): count those apart.
    let legacy_without_alias = whole
        .contacts
        .iter()
        .filter(|c| c.0.starts_with("crm-"))
        .count() as u64;
    assert_eq!(
        whole.contacts.len() as u64 - legacy_without_alias,
        number(&manifest, &["contacts_in_valid_lines"]),
        "R1 contacts {} (of which {} legacy ids without a valid alias)",
        whole.contacts.len(),
        legacy_without_alias
    );

    // The streaming view ends where the whole-input view is.
    assert_streaming_agrees(&records, &whole.contact_of);
    Some(several)
}

fn resolves_to(whole: &maclc_runtime::identity::Attribution, id: &str) -> String {
    let mut current = id.to_string();
    let mut steps = 0;
    while let Some(next) = whole.alias_targets.get(&current) {
        current = next.clone();
        steps += 1;
        if steps > whole.alias_targets.len() {
            break;
        }
    }
    current
}

fn assert_streaming_agrees(records: &[Record], expected: &[Option<ContactId>]) {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| records[a].order_key().cmp(&records[b].order_key()));
    let mut resolver = IdentityResolver::new();
    let subjects: Vec<(usize, Subject)> = order
        .iter()
        .map(|&i| (i, resolver.observe(&records[i]).subject))
        .collect();
    assert_eq!(resolver.out_of_order(), 0);
    let mut streamed = vec![None; records.len()];
    for (i, subject) in subjects {
        streamed[i] = match resolver.current(&subject) {
            Subject::Contact(c) => Some(c),
            Subject::Anonymous(_) => None,
        };
    }
    let differing = (0..records.len())
        .filter(|&i| streamed[i] != expected[i])
        .count();
    assert_eq!(
        differing, 0,
        "records attributed differently by the streaming view"
    );
}

#[test]
fn shuffled_lines_give_the_same_attribution() {
    let Some((sorted, _)) = generate(&SMALL, &[]) else {
        return;
    };
    let Some((shuffled, _)) = generate(&SMALL, &["--shuffle-window", "300"]) else {
        return;
    };
    assert_ne!(sorted, shuffled, "the shuffle moved lines");
    let schema = InputSchema::reference_r1();
    let by_message = |bytes: &[u8]| -> BTreeMap<String, Option<ContactId>> {
        let records: Vec<Record> = decode_lines(bytes, &schema)
            .filter_map(Result::ok)
            .collect();
        let whole = resolve_all(&records);
        records
            .iter()
            .zip(whole.contact_of)
            .map(|(r, c)| (r.message_id.clone().unwrap_or_default(), c))
            .collect()
    };
    let a = by_message(&sorted);
    assert!(a.len() > 7000, "one entry per valid record");
    assert_eq!(a, by_message(&shuffled));
}

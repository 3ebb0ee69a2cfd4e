//! The run store: what a checkpoint commits comes back as it was, a store refuses another
//! run, and every contact's final state survives the trip through its stored bytes.

mod support;

use std::fs::File;
use std::io::BufReader;

use maclc_runtime::engine::{Engine, EventMap};
use maclc_runtime::input::{decode_lines, Position, Summary};
use maclc_runtime::program_schema::input_schema;
use maclc_runtime::store::{decode_contact, encode_contact, Batch, Checkpoint, RunStore, Status};

fn r1_output() -> maclc_runtime::engine::RunOutput {
    run_output("examples/reference-r1")
}

/// A run of an example project over its `events.sample.jsonl`, to the last event's time.
fn run_output(project: &str) -> maclc_runtime::engine::RunOutput {
    let analysis = support::load_project(project);
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .unwrap_or_else(|e| panic!("{e}"));
    let (schema, track) = input_schema(&ir);
    let path = format!(
        "{}/../{project}/events.sample.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = File::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::new(&ir, EventMap::new(&ir, track));
    for record in decode_lines(BufReader::new(file), &schema).flatten() {
        engine.push(record);
    }
    engine.finish(None)
}

#[test]
fn every_contact_state_round_trips_through_its_stored_bytes() {
    let output = r1_output();
    assert!(output.contacts.len() > 50);
    assert_states_round_trip(&output);
}

#[test]
fn journey_runs_round_trip_through_the_stored_bytes() {
    let output = run_output("examples/journeys");
    // Not vacuous: some contacts are inside a journey at the end and some runs ended.
    assert!(output.contacts.iter().any(|c| !c.journeys.runs.is_empty()));
    assert!(output.contacts.iter().any(|c| !c.journeys.ended.is_empty()));
    assert_states_round_trip(&output);
}

fn assert_states_round_trip(output: &maclc_runtime::engine::RunOutput) {
    for contact in &output.contacts {
        let bytes = encode_contact(contact);
        let back =
            decode_contact(&bytes).unwrap_or_else(|| panic!("{} does not decode", contact.id));
        // Actions are not part of the stored state (the run writes them out first).
        let mut expected = contact.clone();
        expected.actions.clear();
        assert_eq!(back, expected);
        // Cut anywhere, the bytes are refused rather than misread.
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(
                decode_contact(&bytes[..cut]),
                None,
                "{} cut at {cut}",
                contact.id
            );
        }
    }
}

#[test]
fn a_store_resumes_its_checkpoint_and_refuses_another_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fingerprint = "program: 1\nevents: a.jsonl (10 bytes)\n";
    {
        let store = RunStore::open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.begin(fingerprint), Ok(Status::New));
        let mut batch = Batch::starting_at(1);
        batch.push(true);
        batch.push(false);
        batch.hash = 7;
        let checkpoint = Checkpoint {
            position: Position {
                offset: 99,
                line: 2,
                latest: Some(5),
            },
            summary: Summary {
                lines_read: 2,
                valid: 1,
                ..Summary::default()
            },
            rejects_len: 40,
            batches: 1,
            input_done: false,
        };
        store
            .checkpoint(&checkpoint, &batch)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let store = RunStore::open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
    match store.begin(fingerprint) {
        Ok(Status::Resume(c)) => {
            assert_eq!(c.position.offset, 99);
            assert_eq!(c.rejects_len, 40);
        }
        other => panic!("{other:?}"),
    }
    let batches = store.batches().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(batches.len(), 1);
    assert!(batches[0].is_accepted(1) && !batches[0].is_accepted(2));

    let refused = store
        .begin("program: 2\nevents: a.jsonl (10 bytes)\n")
        .expect_err("another program must be refused");
    assert!(
        refused.to_string().contains("program was `1`, is now `2`"),
        "{refused}"
    );
    assert!(refused.to_string().contains("--fresh"), "{refused}");
    drop(store);

    // The finished marker, the stored contacts and the round-robin cursors.
    let output = r1_output();
    let store = RunStore::open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
    store
        .finish(&output.contacts, &[3, 0], "summary\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.begin(fingerprint),
        Ok(Status::Finished {
            summary: "summary\n".into()
        })
    );
    let first = &output.contacts[0];
    assert_eq!(store.contact(&first.id), Ok(Some(first.clone())));
    assert_eq!(store.contact("nobody"), Ok(None));
    assert_eq!(store.round_robin(), Ok(vec![3, 0]));
    drop(store);

    // `--fresh` forgets it all.
    let store = RunStore::open(dir.path(), true).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.begin(fingerprint), Ok(Status::New));
}

//! The [`InputSchema`] of a lowered program: which records and properties its input must have.
//!
//! Built from the IR so that the schema written in the language (for R1:
//! `examples/reference-r1/schema.marketing`) decides the checks of R1 §1 rules 7–10.
//! `InputSchema::reference_r1()` stays as the oracle the tests compare this with.
//!
//! Mapping: a contact field is an identify trait at its wire path (`from "company.id"` is the
//! member `id` of the object `company`); channels are the members of the `consent` object
//! (`granted`, `denied` or `unknown`); a track event's properties are its declared properties;
//! page events give the page properties (`path` must be a path; `name` is the record's own
//! `name` member, checked by the decoder, not a property). An object made only of optional
//! fields is itself optional, and its members are then required inside it (R1's `company`).
//! The language has no integer type, so `number` and `money` traits accept any JSON number
//! where R1 wants integers for `company_size` and `budget` (no generated file tells them apart).

use maclc_compiler::check::{EventId as ProgramEventId, Type};
use maclc_compiler::ir::{EventSource, Ir, Slot};

use crate::input::{EventSchema, Field, InputSchema, Kind, Presence, RecordType};

/// The input schema of `ir`, and for each of its track events (by input `EventId`) the
/// program's event id.
pub fn input_schema(ir: &Ir) -> (InputSchema, Vec<ProgramEventId>) {
    let mut events = Vec::new();
    let mut track_map = Vec::new();
    for (i, event) in ir.events.iter().enumerate() {
        if event.source == EventSource::Track {
            events.push(EventSchema {
                name: event.wire_name.clone(),
                properties: fields_of(event.properties.iter()),
            });
            track_map.push(ProgramEventId(i as u32));
        }
    }
    let mut traits = fields_of(ir.contact_slots.iter().filter(|s| !s.is_contact_id));
    // Built-in flags nobody declared must not make every identify without them a reject.
    for field in &mut traits {
        if ir
            .contact_slots
            .iter()
            .any(|s| s.builtin && s.wire.first() == Some(&field.name))
        {
            field.presence = Presence::OPTIONAL;
        }
    }
    if !ir.channels.is_empty() {
        let states = Kind::Enum(vec!["granted".into(), "denied".into(), "unknown".into()]);
        traits.push(Field::required(
            "consent",
            Kind::Object(
                ir.channels
                    .iter()
                    .map(|c| Field::required(&c.name, states.clone()))
                    .collect(),
            ),
        ));
    }
    let mut page_properties: Vec<Field> = Vec::new();
    for event in ir.events.iter().filter(|e| e.source == EventSource::Page) {
        for field in fields_of(event.properties.iter().filter(|p| p.wire != ["name"])) {
            if !page_properties.iter().any(|f| f.name == field.name) {
                page_properties.push(field);
            }
        }
    }
    for field in &mut page_properties {
        if field.name == "path" && field.kind == Kind::Text {
            field.kind = Kind::Path;
        }
    }
    let mut record_types = vec![
        RecordType::Identify,
        RecordType::Track,
        RecordType::Page,
        RecordType::Alias,
    ];
    if ir.events.iter().any(|e| e.source == EventSource::Screen) {
        record_types.push(RecordType::Screen);
    }
    (
        InputSchema::new(record_types, events, traits, page_properties),
        track_map,
    )
}

fn kind_of(slot: &Slot) -> Kind {
    match &slot.declared {
        Type::Number | Type::Money | Type::Percent | Type::Duration => Kind::Number,
        Type::Bool => Kind::Bool,
        Type::Date => Kind::Date,
        Type::Enum(_) => Kind::Enum(slot.variants.clone()),
        _ => Kind::Text,
    }
}

/// The slots under one first member of a wire path, with the rest of their paths.
type Group<'a> = (String, Vec<(Vec<String>, &'a Slot)>);

/// Groups slots by the first member of their wire path, in order of first appearance.
fn fields_of<'a>(slots: impl Iterator<Item = &'a Slot>) -> Vec<Field> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for slot in slots {
        let Some((head, rest)) = slot.wire.split_first() else {
            continue;
        };
        let entry = (rest.to_vec(), slot);
        match groups.iter_mut().find(|(name, _)| name == head) {
            Some((_, members)) => members.push(entry),
            None => groups.push((head.clone(), vec![entry])),
        }
    }
    groups
        .into_iter()
        .map(|(name, members)| build(&name, &members))
        .collect()
}

fn build(name: &str, members: &[(Vec<String>, &Slot)]) -> Field {
    if let [(rest, slot)] = members {
        if rest.is_empty() {
            return Field {
                name: name.to_string(),
                kind: kind_of(slot),
                presence: if slot.optional {
                    Presence::OPTIONAL
                } else {
                    Presence::REQUIRED
                },
            };
        }
    }
    let all_optional = members.iter().all(|(_, s)| s.optional);
    let inner: Vec<Slot> = members
        .iter()
        .filter(|(rest, _)| !rest.is_empty())
        .map(|(rest, s)| Slot {
            wire: rest.clone(),
            // The object carries the optionality when every member is optional.
            optional: s.optional && !all_optional,
            ..(*s).clone()
        })
        .collect();
    Field {
        name: name.to_string(),
        kind: Kind::Object(fields_of(inner.iter())),
        presence: if all_optional {
            Presence::OPTIONAL
        } else {
            Presence::REQUIRED
        },
    }
}

//! `InputSchema`: what the records of one program's input must look like.
//!
//! The decoder checks every record against it (rules 9 and 10 of R1 §1): which track events
//! exist, and the expected kind of every event property, identify trait and page property.
//! A later stage builds it from the checked program; [`InputSchema::reference_r1`] encodes the
//! rules of R1 for the files of `gen_events.py` until then.

use std::collections::BTreeMap;

/// The record types of the Segment spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl RecordType {
    pub const ALL: [RecordType; 6] = [
        RecordType::Identify,
        RecordType::Track,
        RecordType::Page,
        RecordType::Screen,
        RecordType::Group,
        RecordType::Alias,
    ];

    /// The name on the wire (`"type":"identify"`).
    pub fn wire_name(self) -> &'static str {
        match self {
            RecordType::Identify => "identify",
            RecordType::Track => "track",
            RecordType::Page => "page",
            RecordType::Screen => "screen",
            RecordType::Group => "group",
            RecordType::Alias => "alias",
        }
    }

    pub fn from_wire(name: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.wire_name() == name)
    }
}

/// The kind of value a property or trait must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A JSON string.
    Text,
    /// A JSON string that starts with `/` (a page path).
    Path,
    /// Any JSON number.
    Number,
    /// A JSON number written with no fraction and no exponent.
    Integer,
    Bool,
    /// One of these strings, spelled exactly.
    Enum(Vec<String>),
    /// A string `YYYY-MM-DD` naming a real day.
    Date,
    /// An object with these members (others are allowed and kept untyped).
    Object(Vec<Field>),
}

impl Kind {
    /// How the kind reads in a message: "must be {description}".
    pub fn describe(&self) -> String {
        match self {
            Kind::Text => "a text".to_string(),
            Kind::Path => "a text starting with `/`".to_string(),
            Kind::Number => "a number (such as `12.5`)".to_string(),
            Kind::Integer => {
                "a whole number (such as `250`, with no fraction or exponent)".to_string()
            }
            Kind::Bool => "`true` or `false`".to_string(),
            Kind::Enum(values) => {
                let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!("one of {}", list.join(", "))
            }
            Kind::Date => "a date written `YYYY-MM-DD`".to_string(),
            Kind::Object(fields) => {
                let names: Vec<String> = fields.iter().map(|f| format!("`{}`", f.name)).collect();
                format!("an object with {}", names.join(" and "))
            }
        }
    }
}

/// Whether a member may be left out, and whether it may be `null`. A value that is there and
/// not `null` must always be of the field's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub may_be_absent: bool,
    pub may_be_null: bool,
}

impl Presence {
    /// Always there, never `null` (every property of an R1 track event).
    pub const REQUIRED: Presence = Presence {
        may_be_absent: false,
        may_be_null: false,
    };
    /// May be absent or `null` (R1's optional traits: "when present and not null").
    pub const OPTIONAL: Presence = Presence {
        may_be_absent: true,
        may_be_null: true,
    };
    /// Always there, but may be `null`.
    pub const NULLABLE: Presence = Presence {
        may_be_absent: false,
        may_be_null: true,
    };
}

/// One expected member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub presence: Presence,
}

impl Field {
    pub fn required(name: &str, kind: Kind) -> Field {
        Field {
            name: name.to_string(),
            kind,
            presence: Presence::REQUIRED,
        }
    }

    pub fn optional(name: &str, kind: Kind) -> Field {
        Field {
            name: name.to_string(),
            kind,
            presence: Presence::OPTIONAL,
        }
    }
}

/// The number of a track event in [`InputSchema::events`], for slot-style lookups later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub u32);

/// One track event: its wire name and its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSchema {
    pub name: String,
    pub properties: Vec<Field>,
}

/// What the input records of one program must look like.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSchema {
    /// Record types accepted; any other `type` is `unknown_type`.
    pub record_types: Vec<RecordType>,
    /// Track events, by position ([`EventId`]); names are exact (case matters).
    pub events: Vec<EventSchema>,
    /// Wire name → position in `events`.
    event_index: BTreeMap<String, EventId>,
    /// The members of an identify's `traits`.
    pub identify_traits: Vec<Field>,
    /// The members of a page's (and a screen's) `properties`.
    pub page_properties: Vec<Field>,
    /// When set, a decoded record keeps only these members (all are still checked).
    pub kept: Option<KeptMembers>,
    /// By track event ([`EventId`]): the program's property slots the fast decoder fills
    /// straight from the line ([`Record::slots`](super::Record::slots)); empty: none.
    pub track_slots: Vec<Option<EventSlots>>,
    /// A page's program event's slots, filled the same way; `None`: into `properties`.
    pub page_slots: Option<EventSlots>,
}

/// A track event's (or a page's) program property slots, as the fast decoder fills them from
/// the line's bytes (no `Fields` of owned names and values in between).
#[derive(Debug, Clone, PartialEq)]
pub struct EventSlots {
    /// How many slots the program event has (those no expression reads stay missing).
    pub len: usize,
    /// The slots an expression reads, by position; each reads one top-level member.
    pub read: Vec<(usize, maclc_compiler::ir::Slot)>,
}

/// The top-level members of `properties` and `traits` a run reads: a record keeps only these,
/// so the decoder builds no value nobody reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeptMembers {
    pub properties: Vec<String>,
    pub traits: Vec<String>,
}

impl InputSchema {
    pub fn new(
        record_types: Vec<RecordType>,
        events: Vec<EventSchema>,
        identify_traits: Vec<Field>,
        page_properties: Vec<Field>,
    ) -> InputSchema {
        let event_index = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    e.name.clone(),
                    EventId(u32::try_from(i).unwrap_or(u32::MAX)),
                )
            })
            .collect();
        InputSchema {
            record_types,
            events,
            event_index,
            identify_traits,
            page_properties,
            kept: None,
            track_slots: Vec::new(),
            page_slots: None,
        }
    }

    /// Lets the fast decoder fill a track's and a page's slot values straight from the line
    /// (see [`EventSlots`]): `track` by [`EventId`]; `None` for what it decodes into
    /// `properties`.
    pub fn with_slots(
        mut self,
        track: Vec<Option<EventSlots>>,
        page: Option<EventSlots>,
    ) -> InputSchema {
        self.track_slots = track;
        self.page_slots = page;
        self
    }

    /// Keeps only `kept`'s members in decoded records (see [`InputSchema::kept`]).
    pub fn keeping_only(mut self, mut kept: KeptMembers) -> InputSchema {
        // Sorted, so that the decoder finds a name by bisection.
        kept.properties.sort();
        kept.properties.dedup();
        kept.traits.sort();
        kept.traits.dedup();
        self.kept = Some(kept);
        self
    }

    pub fn accepts(&self, t: RecordType) -> bool {
        self.record_types.contains(&t)
    }

    pub fn event_id(&self, name: &str) -> Option<EventId> {
        self.event_index.get(name).copied()
    }

    pub fn event(&self, id: EventId) -> Option<&EventSchema> {
        self.events.get(id.0 as usize)
    }

    /// The schema of R1 §1 rule 10 and the tables of the workload README: the eleven track
    /// events, the identify traits and the page properties that `gen_events.py` writes.
    pub fn reference_r1() -> InputSchema {
        fn enumeration(values: &[&str]) -> Kind {
            Kind::Enum(values.iter().map(|v| v.to_string()).collect())
        }
        let line = || enumeration(&["general", "medical"]);
        let consent = || enumeration(&["granted", "denied", "unknown"]);
        let event = |name: &str, properties: Vec<Field>| EventSchema {
            name: name.to_string(),
            properties,
        };
        let text = |name: &str| Field::required(name, Kind::Text);
        let events = vec![
            event(
                "Datasheet Downloaded",
                vec![Field::required("category", line()), text("product_id")],
            ),
            event(
                "Webinar Registered",
                vec![text("webinar_id"), text("topic")],
            ),
            event("Webinar Attended", vec![text("webinar_id"), text("topic")]),
            event(
                "Demo Requested",
                vec![Field::required("product_line", line())],
            ),
            event(
                "Form Submitted",
                vec![Field::required(
                    "form",
                    enumeration(&[
                        "contact_sales",
                        "newsletter",
                        "keyring_request",
                        "job_application",
                    ]),
                )],
            ),
            event("Email Opened", vec![text("campaign")]),
            event("Email Clicked", vec![text("campaign")]),
            event(
                "Unsubscribed",
                vec![Field::required("channel", enumeration(&["email", "sms"]))],
            ),
            event(
                "Checkout Started",
                vec![text("cart_id"), Field::required("value", Kind::Number)],
            ),
            event(
                "Order Completed",
                vec![
                    text("order_id"),
                    text("cart_id"),
                    Field::required("revenue", Kind::Number),
                ],
            ),
            event(
                "Appointment Updated",
                vec![
                    text("appointment_id"),
                    Field::required("operation", enumeration(&["CREATED", "CANCELLED"])),
                ],
            ),
        ];
        let identify_traits = vec![
            text("email"),
            text("first_name"),
            text("country"),
            text("timezone"),
            Field::required(
                "consent",
                Kind::Object(vec![
                    Field::required("email", consent()),
                    Field::required("sms", consent()),
                ]),
            ),
            Field::required("unsubscribed", Kind::Bool),
            Field::required("blocklisted", Kind::Bool),
            Field::optional("job_title", Kind::Text),
            Field::optional("industry", Kind::Text),
            Field::optional("company", Kind::Object(vec![text("id"), text("name")])),
            Field::optional("company_size", Kind::Integer),
            Field::optional("budget", Kind::Integer),
            Field::optional("birthday", Kind::Date),
            Field::optional("contract_end", Kind::Date),
        ];
        let page_properties = vec![Field::required("path", Kind::Path), text("url")];
        InputSchema::new(
            vec![
                RecordType::Identify,
                RecordType::Track,
                RecordType::Page,
                RecordType::Alias,
            ],
            events,
            identify_traits,
            page_properties,
        )
    }
}

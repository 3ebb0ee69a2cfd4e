//! The checked program: every name resolved to an id, every expression typed.
//!
//! This is what later stages (the IR, the interpreter, Cranelift) consume, so nothing here
//! needs a string lookup at run time. Ids index the vectors of [`Program`] and [`Schema`].

use crate::source::Span;
use crate::syntax::ast::{
    AccountAggregate, AggregateKind, BinaryOp, CapPolicy, ConsentMode, ScoreCheck,
};

macro_rules! ids {
    ($($name:ident),* $(,)?) => {
        $(
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[derive(serde::Serialize, serde::Deserialize)]
            pub struct $name(pub u32);
            impl $name {
                pub fn index(self) -> usize {
                    self.0 as usize
                }
            }
        )*
    };
}

ids!(
    FieldId,
    AccountId,
    EventId,
    EnumId,
    TableId,
    ChannelId,
    ConstId,
    ScoreId,
    AccountScoreId,
    SegmentId,
    QueueId,
    RouteId,
    JourneyId,
    TemplateId,
    StageId,
);

/// A value type of the language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Type {
    Text,
    Number,
    Bool,
    Date,
    Timestamp,
    Duration,
    /// A time of day.
    Time,
    Money,
    Percent,
    Enum(EnumId),
    /// A link to an account (a contact field whose type is an account).
    Account(AccountId),
    List(Box<Type>),
    /// The consent state of a channel: granted, denied or unknown.
    Consent,
    /// A lifecycle stage.
    Stage,
    /// A bad expression: never reported again, so one mistake gives one message.
    Error,
}

impl Type {
    pub fn is_error(&self) -> bool {
        match self {
            Type::Error => true,
            Type::List(inner) => inner.is_error(),
            _ => false,
        }
    }

    /// Types whose values have an order (`<`, `between`, `min`).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Type::Number
                | Type::Date
                | Type::Timestamp
                | Type::Duration
                | Type::Time
                | Type::Money
                | Type::Percent
                | Type::Stage
                | Type::Error
        )
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Type::Number | Type::Money | Type::Duration | Type::Percent | Type::Error
        )
    }
}

/// A constant value, known when the rules are compiled.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i64),
    /// Milliseconds since 1970-01-01T00:00:00Z.
    Timestamp(i64),
    Duration(i64),
    /// Minutes since midnight.
    Time(u16),
    Money {
        amount: f64,
        currency: String,
    },
    Percent(f64),
    Enum(EnumId, u32),
    Stage(StageId),
    Consent(ConsentState),
    List(Vec<Value>),
}

/// `repr(u8)`: native code reads consent slices as bytes (`codegen::layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum ConsentState {
    Granted = 0,
    Denied = 1,
    Unknown = 2,
}

/// A field of the contact, an account or an event, or a column of a table.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    /// Where the value is read from in incoming records (`traits.job_title`); the name if unset.
    pub wire_name: String,
    pub span: Span,
    /// Built in (`id`, `unsubscribed`, `blocklisted`) rather than declared.
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct AccountType {
    pub name: String,
    pub key: Option<String>,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSourceKind {
    /// `track "Wire Name"`, or the event's own name when no source is given.
    Track(String),
    Page,
    Screen,
}

#[derive(Debug, Clone)]
pub struct EventType {
    pub name: String,
    pub source: EventSourceKind,
    pub properties: Vec<Field>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub variants: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// Index of the key column in `columns`.
    pub key: Option<usize>,
    pub columns: Vec<Field>,
    pub rows: Vec<Vec<Value>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub mode: ConsentMode,
    pub span: Span,
}

/// Everything the data person declares.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub contact_fields: Vec<Field>,
    pub accounts: Vec<AccountType>,
    pub events: Vec<EventType>,
    pub enums: Vec<EnumType>,
    pub tables: Vec<Table>,
    pub channels: Vec<Channel>,
    pub default_time_zone: Option<String>,
}

impl Schema {
    pub fn contact_field(&self, id: FieldId) -> Option<&Field> {
        self.contact_fields.get(id.index())
    }

    pub fn event(&self, id: EventId) -> Option<&EventType> {
        self.events.get(id.index())
    }

    pub fn enum_type(&self, id: EnumId) -> Option<&EnumType> {
        self.enums.get(id.index())
    }
}

#[derive(Debug, Clone)]
pub struct Constant {
    pub name: String,
    pub ty: Type,
    /// `None` when the declaration had an error.
    pub value: Option<Value>,
    pub span: Span,
}

// ------------------------------------------------------------------ expressions

#[derive(Debug, Clone, PartialEq)]
pub struct TypedExpr {
    pub kind: ExprKind,
    pub ty: Type,
    /// The value may be missing (an optional field, `account.*`, `last …`).
    pub optional: bool,
    pub span: Span,
}

impl TypedExpr {
    pub fn error(span: Span) -> TypedExpr {
        TypedExpr {
            kind: ExprKind::Error,
            ty: Type::Error,
            optional: false,
            span,
        }
    }
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Function {
    Abs,
    Min,
    Max,
    Round,
    Lower,
    Upper,
    Length,
    DaysSince,
    DaysUntil,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal, or a constant or template argument inlined.
    Value(Value),
    ContactField(FieldId),
    /// `account.FIELD` through the contact field `link` (of account type).
    AccountField {
        link: FieldId,
        account: AccountId,
        field: u32,
    },
    /// A property of the event being matched (`on EVENT where …`).
    EventProperty {
        event: EventId,
        property: u32,
    },
    EventTimestamp(EventId),
    /// A property of the event that started the journey (`entry.PROP`).
    EntryProperty {
        event: EventId,
        property: u32,
    },
    EntryTimestamp(EventId),
    /// A template parameter, before instantiation binds it.
    Param(u32),
    Consent(ChannelId),
    Stage,
    Score(ScoreId),
    AccountScore(AccountScoreId),
    Segment(SegmentId),
    Now,
    Call {
        function: Function,
        args: Vec<TypedExpr>,
    },
    List(Vec<TypedExpr>),
    Lookup {
        table: TableId,
        key: Box<TypedExpr>,
        column: u32,
    },
    Aggregate(Box<TypedAggregate>),
    Not(Box<TypedExpr>),
    Negate(Box<TypedExpr>),
    Binary {
        op: BinaryOp,
        lhs: Box<TypedExpr>,
        rhs: Box<TypedExpr>,
    },
    IsKnown {
        operand: Box<TypedExpr>,
        known: bool,
    },
    InList {
        operand: Box<TypedExpr>,
        list: Box<TypedExpr>,
        negated: bool,
    },
    Between {
        operand: Box<TypedExpr>,
        low: Box<TypedExpr>,
        high: Box<TypedExpr>,
    },
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypedAggregate {
    pub kind: AggregateKind,
    /// `None`: any record of the contact.
    pub event: Option<EventId>,
    /// `None`: the record itself (its time, for `last`).
    pub property: Option<AggregateProperty>,
    pub condition: Option<TypedExpr>,
    /// Window length in milliseconds; `None` is all history.
    pub window: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateProperty {
    Property(u32),
    Timestamp,
}

// ------------------------------------------------------------------ scores

#[derive(Debug, Clone)]
pub struct Score {
    pub name: String,
    pub title: Option<String>,
    pub rules: Vec<PointsRule>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub decay: Option<Decay>,
    pub time_zone: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct PointsRule {
    pub points: f64,
    pub trigger: RuleTrigger,
    pub limit: Option<Limit>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RuleTrigger {
    Event {
        event: EventId,
        condition: Option<TypedExpr>,
    },
    Profile(TypedExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Once,
    PerDay(u32),
    PerWeek(u32),
    /// `count` per rolling window of `millis`.
    PerWindow {
        count: u32,
        millis: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    HalfLife {
        millis: i64,
    },
    Step {
        percent: f64,
        every_millis: i64,
        only_when_inactive: bool,
    },
}

#[derive(Debug, Clone)]
pub struct AccountScore {
    pub name: String,
    pub aggregate: AccountAggregate,
    pub of_score: Option<ScoreId>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub title: Option<String>,
    pub condition: TypedExpr,
    /// Segments this one reads, in the order they are first used.
    pub depends_on: Vec<SegmentId>,
    pub span: Span,
}

// ------------------------------------------------------------------ lifecycle

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// In declared order: a later stage is "greater".
    pub stages: Vec<StageDef>,
    pub transitions: Vec<LifecycleTransition>,
    pub slas: Vec<Sla>,
}

#[derive(Debug, Clone)]
pub struct StageDef {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct LifecycleTransition {
    pub back: bool,
    pub to: StageId,
    /// Empty: from any stage.
    pub from: Vec<StageId>,
    pub condition: TransitionTrigger,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TransitionTrigger {
    When(TypedExpr),
    On {
        event: EventId,
        condition: Option<TypedExpr>,
    },
}

#[derive(Debug, Clone)]
pub struct Sla {
    pub stage: StageId,
    pub within_millis: i64,
    pub action: Vec<Step>,
    pub span: Span,
}

// ------------------------------------------------------------------ routing

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub title: Option<String>,
    pub round_robin: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    /// `None` when the trigger did not check.
    pub trigger: Option<Trigger>,
    pub rules: Vec<RouteRule>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RouteRule {
    /// `None`: `otherwise`.
    pub condition: Option<TypedExpr>,
    pub target: RouteTarget,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RouteTarget {
    Queue(QueueId),
    Notify(String),
}

// ------------------------------------------------------------------ journeys

#[derive(Debug, Clone)]
pub enum Trigger {
    Event {
        event: EventId,
        condition: Option<TypedExpr>,
    },
    Segment {
        enters: bool,
        segment: SegmentId,
    },
    Stage {
        enters: bool,
        stage: StageId,
    },
    FieldChanges {
        field: FieldId,
        from: Option<TypedExpr>,
        to: Option<TypedExpr>,
    },
    ScoreCrosses {
        score: ScoreRef,
        upward: bool,
        threshold: TypedExpr,
    },
    Date {
        offset_millis: i64,
        field: FieldId,
        yearly: bool,
        at_minutes: Option<u16>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreRef {
    Contact(ScoreId),
    Account(AccountScoreId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRule {
    Once,
    AgainAfter {
        millis: i64,
    },
    OneAtATime,
    /// One run per value of this property of the triggering event.
    PerKey {
        property: u32,
    },
}

#[derive(Debug, Clone)]
pub enum Condition {
    Segment {
        enters: bool,
        segment: SegmentId,
    },
    Event {
        event: EventId,
        condition: Option<TypedExpr>,
    },
    When(TypedExpr),
}

#[derive(Debug, Clone)]
pub struct QuietHours {
    /// `None`: every channel.
    pub channel: Option<ChannelId>,
    pub from_minutes: u16,
    pub to_minutes: u16,
    pub policy: CapPolicy,
}

#[derive(Debug, Clone)]
pub struct FrequencyCap {
    pub channel: ChannelId,
    pub count: u32,
    pub per_millis: i64,
    pub policy: CapPolicy,
}

#[derive(Debug, Clone)]
pub struct Journey {
    pub name: String,
    pub title: Option<String>,
    /// The template this journey was made from, if any.
    pub template: Option<TemplateId>,
    pub trigger: Option<Trigger>,
    pub entry: Vec<EntryRule>,
    pub goals: Vec<Condition>,
    pub exits: Vec<Condition>,
    pub quiet_hours: Vec<QuietHours>,
    pub caps: Vec<FrequencyCap>,
    pub steps: Vec<Step>,
    /// Labelled steps, by their position in [`Journey::steps`] read in order (see [`StepId`]).
    pub labels: Vec<(String, StepId)>,
    pub span: Span,
}

/// A step's number in a depth-first, source-order walk of the journey: `go to` only goes to a
/// greater number, which is why journeys terminate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepId(pub u32);

#[derive(Debug, Clone)]
pub struct Step {
    pub id: StepId,
    pub label: Option<String>,
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Send {
        channel: ChannelId,
        template: String,
        params: Vec<(String, TypedExpr)>,
    },
    Wait {
        millis: i64,
    },
    WaitForEvent {
        event: EventId,
        condition: Option<TypedExpr>,
        timeout_millis: Option<i64>,
        on_timeout: Vec<Step>,
    },
    WaitForTime {
        minutes: Option<u16>,
        days: Vec<String>,
        zone: Option<String>,
    },
    If {
        condition: TypedExpr,
        then: Vec<Step>,
        otherwise: Vec<Step>,
    },
    Split {
        arms: Vec<(Option<TypedExpr>, Vec<Step>)>,
    },
    RandomSplit {
        arms: Vec<(f64, Option<String>, Vec<Step>)>,
    },
    SetField {
        field: FieldId,
        value: TypedExpr,
    },
    Points {
        score: ScoreId,
        amount: f64,
    },
    List {
        add: bool,
        list: String,
    },
    MoveToStage(StageId),
    RouteToQueue(QueueId),
    RouteWith(RouteId),
    Notify {
        queue: Option<QueueId>,
        recipient: Option<String>,
        message: String,
    },
    Webhook {
        method: String,
        url: String,
        body: Option<String>,
    },
    GoTo(StepId),
    End,
    /// A step that did not check; kept so step numbers stay stable.
    Error,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub params: Vec<TemplateParam>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TemplateParam {
    pub name: String,
    pub ty: Type,
    pub default: Option<Value>,
    pub span: Span,
}

// ------------------------------------------------------------------ tests

#[derive(Debug, Clone)]
pub struct Test {
    pub name: String,
    pub contacts: Vec<TestContact>,
    /// In time order.
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestContact {
    /// `None`: the test's single unnamed contact.
    pub name: Option<String>,
    pub fields: Vec<(TestKey, Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestKey {
    Contact(FieldId),
    /// The lifecycle stage the contact starts in.
    Stage,
    Account {
        link: FieldId,
        account: AccountId,
        field: u32,
    },
    Consent(ChannelId),
}

/// A time in a test: absolute (milliseconds since the epoch) or after the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestTime {
    Absolute(i64),
    After(i64),
}

#[derive(Debug, Clone)]
pub struct TestStep {
    pub at: Option<TestTime>,
    /// Index into [`Test::contacts`].
    pub contact: Option<usize>,
    pub kind: TestStepKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TestStepKind {
    Event {
        event: EventId,
        properties: Vec<(u32, Value)>,
    },
    /// The profile changes mid-test: these fields and consents get these values.
    Identify {
        fields: Vec<(TestKey, Value)>,
    },
    Expect(Expectation),
}

#[derive(Debug, Clone)]
pub enum Expectation {
    Score {
        score: ScoreRef,
        check: ScoreCheck,
    },
    Stage(StageId),
    InSegment {
        segment: SegmentId,
        negated: bool,
    },
    Sent {
        channel: ChannelId,
        template: String,
    },
    Suppressed {
        channel: ChannelId,
        template: String,
    },
    /// No send of this message so far; a suppressed or deferred one is not a send.
    NotSent {
        channel: ChannelId,
        template: String,
    },
    /// A notify action to this queue or address (none, when `negated`).
    NotifiedQueue {
        queue: QueueId,
        negated: bool,
    },
    NotifiedAddress {
        address: String,
        negated: bool,
    },
    /// A `list_add` (`added`) or `list_remove` action on this list.
    Listed {
        added: bool,
        list: String,
    },
    RoutedTo(QueueId),
    JourneyAt {
        journey: JourneyId,
        step: StepId,
    },
    NoActions,
}

// ------------------------------------------------------------------ symbols

/// What a name in the source stands for: the language server's go-to-definition and rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbol {
    ContactField(FieldId),
    Account(AccountId),
    AccountField(AccountId, u32),
    Event(EventId),
    EventProperty(EventId, u32),
    Enum(EnumId),
    EnumVariant(EnumId, u32),
    Table(TableId),
    TableColumn(TableId, u32),
    Channel(ChannelId),
    Constant(ConstId),
    Score(ScoreId),
    AccountScore(AccountScoreId),
    Segment(SegmentId),
    Stage(StageId),
    Queue(QueueId),
    Route(RouteId),
    Journey(JourneyId),
    Template(TemplateId),
    TemplateParam(TemplateId, u32),
    /// A step label, by the journey or template it is declared in.
    StepLabel(StepOwner, StepId),
    TestContact(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepOwner {
    Journey(JourneyId),
    Template(TemplateId),
}

/// The whole checked project.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub schema: Schema,
    pub constants: Vec<Constant>,
    pub scores: Vec<Score>,
    pub account_scores: Vec<AccountScore>,
    pub segments: Vec<Segment>,
    pub lifecycle: Option<Lifecycle>,
    pub queues: Vec<Queue>,
    pub routes: Vec<Route>,
    pub templates: Vec<Template>,
    /// Declared journeys and template instances, with template parameters bound.
    pub journeys: Vec<Journey>,
    pub quiet_hours: Vec<QuietHours>,
    pub caps: Vec<FrequencyCap>,
    pub tests: Vec<Test>,
    /// Every declaration: where it is and what it declares.
    pub definitions: Vec<(Span, Symbol)>,
    /// Every use of a name: where it is and what it refers to.
    pub references: Vec<(Span, Symbol)>,
}

impl Program {
    /// The declaration span of a symbol (go to definition).
    pub fn definition_of(&self, symbol: Symbol) -> Option<Span> {
        self.definitions
            .iter()
            .find(|(_, s)| *s == symbol)
            .map(|(span, _)| *span)
    }

    /// The score with this name (for tools and tests; compiled rules use ids).
    pub fn score_named(&self, name: &str) -> Option<ScoreId> {
        self.scores
            .iter()
            .position(|s| s.name == name)
            .map(|i| ScoreId(i as u32))
    }

    pub fn segment_named(&self, name: &str) -> Option<SegmentId> {
        self.segments
            .iter()
            .position(|s| s.name == name)
            .map(|i| SegmentId(i as u32))
    }

    pub fn journey_named(&self, name: &str) -> Option<JourneyId> {
        self.journeys
            .iter()
            .position(|j| j.name == name)
            .map(|i| JourneyId(i as u32))
    }

    pub fn event_named(&self, name: &str) -> Option<EventId> {
        self.schema
            .events
            .iter()
            .position(|e| e.name == name)
            .map(|i| EventId(i as u32))
    }

    /// Every place a symbol is used (find references, rename).
    pub fn references_to(&self, symbol: Symbol) -> impl Iterator<Item = Span> + '_ {
        self.references
            .iter()
            .filter(move |(_, s)| *s == symbol)
            .map(|(span, _)| *span)
    }

    /// The symbol at a position, declared or used there.
    pub fn symbol_at(&self, file: crate::source::FileId, offset: usize) -> Option<Symbol> {
        self.definitions
            .iter()
            .chain(self.references.iter())
            .find(|(span, _)| span.file == file && span.contains(offset))
            .map(|(_, s)| *s)
    }
}

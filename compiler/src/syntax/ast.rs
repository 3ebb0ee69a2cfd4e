//! The untyped syntax tree of one `.marketing` file, exactly as written (names unresolved).
//!
//! Every node keeps its [`Span`] so the checker, the formatter and the editor can point back at
//! the source. Statement lists keep source order: the formatter re-prints them and attaches
//! comments by position. The checked stage lives in `crate::check` and has its own types.

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A quoted text literal (escapes already applied to `value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One parsed file: its items in source order.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    Import(Import),
    Const(ConstDecl),
    Enum(EnumDecl),
    Channel(ChannelDecl),
    DefaultTimeZone(StrLit),
    Contact(RecordDecl),
    Account(AccountDecl),
    Event(EventDecl),
    Table(TableDecl),
    Score(ScoreDecl),
    AccountScore(AccountScoreDecl),
    Segment(SegmentDecl),
    Lifecycle(LifecycleDecl),
    Queue(QueueDecl),
    Route(RouteDecl),
    Journey(JourneyDecl),
    Template(TemplateDecl),
    JourneyInstance(JourneyInstance),
    QuietHours(QuietHours),
    Cap(FrequencyCap),
    Test(TestDecl),
}

impl ItemKind {
    /// The word a marketer would use for this kind of item, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ItemKind::Import(_) => "import",
            ItemKind::Const(_) => "constant",
            ItemKind::Enum(_) => "enum",
            ItemKind::Channel(_) => "channel",
            ItemKind::DefaultTimeZone(_) => "default time zone",
            ItemKind::Contact(_) => "contact schema",
            ItemKind::Account(_) => "account",
            ItemKind::Event(_) => "event",
            ItemKind::Table(_) => "table",
            ItemKind::Score(_) => "score",
            ItemKind::AccountScore(_) => "account score",
            ItemKind::Segment(_) => "segment",
            ItemKind::Lifecycle(_) => "lifecycle",
            ItemKind::Queue(_) => "queue",
            ItemKind::Route(_) => "routing",
            ItemKind::Journey(_) => "journey",
            ItemKind::Template(_) => "journey template",
            ItemKind::JourneyInstance(_) => "journey",
            ItemKind::QuietHours(_) => "quiet hours",
            ItemKind::Cap(_) => "frequency cap",
            ItemKind::Test(_) => "test",
        }
    }
}

// ------------------------------------------------------------------ schema

/// `import "path"` or `import { a, b } from "path"`.
#[derive(Debug, Clone)]
pub struct Import {
    pub names: Vec<Ident>,
    pub path: StrLit,
}

/// `const name[: type] = expr`.
#[derive(Debug, Clone)]
pub struct ConstDecl {
    pub name: Ident,
    pub declared_type: Option<TypeRef>,
    pub value: Expr,
}

/// `enum product_line { general, medical }`.
#[derive(Debug, Clone)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Ident>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentMode {
    /// Sending needs an explicit `granted`.
    OptIn,
    /// Sending is allowed unless `denied`.
    OptOut,
}

/// `channel email opt_in`.
#[derive(Debug, Clone)]
pub struct ChannelDecl {
    pub name: Ident,
    pub mode: ConsentMode,
    pub mode_span: Span,
}

/// The fields of `contact { … }`.
#[derive(Debug, Clone)]
pub struct RecordDecl {
    pub fields: Vec<FieldDecl>,
}

/// `account company key id { … }`.
#[derive(Debug, Clone)]
pub struct AccountDecl {
    pub name: Ident,
    pub key: Option<Ident>,
    pub fields: Vec<FieldDecl>,
}

/// Where the records of an event type come from in a Segment-shaped stream.
#[derive(Debug, Clone)]
pub enum EventSource {
    Page,
    Screen,
    Track(StrLit),
}

/// `event demo_requested from track "Demo Requested" { product_line: product_line }`.
#[derive(Debug, Clone)]
pub struct EventDecl {
    pub name: Ident,
    pub source: Option<EventSource>,
    pub properties: Vec<FieldDecl>,
}

/// `table products key product_id { product_id: text … row "GEN-MK1", general }`.
#[derive(Debug, Clone)]
pub struct TableDecl {
    pub name: Ident,
    pub key: Ident,
    pub columns: Vec<FieldDecl>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub values: Vec<Expr>,
    pub span: Span,
}

/// `job_title: optional text from "traits.job_title"`.
#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub name: Ident,
    pub optional: bool,
    pub ty: TypeRef,
    pub wire_name: Option<StrLit>,
    pub span: Span,
}

/// A type as written: `text`, `list of text`, an enum or an account name.
#[derive(Debug, Clone)]
pub struct TypeRef {
    pub name: Ident,
    pub is_list: bool,
    pub span: Span,
}

// ------------------------------------------------------------------ scores

#[derive(Debug, Clone)]
pub struct ScoreDecl {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub stmts: Vec<ScoreStmt>,
}

#[derive(Debug, Clone)]
pub struct ScoreStmt {
    pub kind: ScoreStmtKind,
    pub span: Span,
}

// Statements are built once per file and walked in place; boxing the big variant would only add
// an indirection on every visit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ScoreStmtKind {
    Points(PointsRule),
    /// `at least -50` (`is_upper == false`) or `at most 200`.
    Bound {
        is_upper: bool,
        value: f64,
        value_span: Span,
    },
    Decay(Decay),
    TimeZone(StrLit),
}

/// `+5 on page_view where path starts_with "/x" limit 3 per day` or `+15 when <condition>`.
#[derive(Debug, Clone)]
pub struct PointsRule {
    pub points: Points,
    pub trigger: PointsTrigger,
    pub limit: Option<Limit>,
}

/// A signed amount: a number or a constant's name.
#[derive(Debug, Clone)]
pub struct Points {
    pub negative: bool,
    pub amount: PointsAmount,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum PointsAmount {
    Number { value: f64, raw: String },
    Constant(Ident),
}

#[derive(Debug, Clone)]
pub enum PointsTrigger {
    /// `on EVENT [where COND]`: points each time a matching event happens.
    Event(EventMatch),
    /// `when COND`: points while the profile condition holds.
    Profile(Expr),
}

/// `on EVENT [where COND]`, shared by scores, lifecycle, journeys and routing.
#[derive(Debug, Clone)]
pub struct EventMatch {
    pub event: Ident,
    pub condition: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Limit {
    pub kind: LimitKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum LimitKind {
    /// `once`: at most one time ever.
    Once,
    /// `limit N per day|week|DURATION`.
    Per { count: u32, period: LimitPeriod },
}

#[derive(Debug, Clone)]
pub enum LimitPeriod {
    /// A calendar day in the score's time zone.
    Day,
    /// An ISO calendar week in the score's time zone.
    Week,
    /// A rolling window.
    Rolling(DurationLit),
}

#[derive(Debug, Clone)]
pub enum Decay {
    /// `decay half_life 60d`.
    HalfLife(DurationRef),
    /// `decay 10% every 30d of inactivity` (`only_when_inactive`) or without it.
    Step {
        percent: f64,
        every: DurationRef,
        only_when_inactive: bool,
        percent_span: Span,
    },
}

/// A duration literal or a constant's name.
#[derive(Debug, Clone)]
pub enum DurationRef {
    Literal(DurationLit),
    Constant(Ident),
}

impl DurationRef {
    pub fn span(&self) -> Span {
        match self {
            DurationRef::Literal(d) => d.span,
            DurationRef::Constant(c) => c.span,
        }
    }
}

/// `account score company_interest = sum of general_interest`.
#[derive(Debug, Clone)]
pub struct AccountScoreDecl {
    pub name: Ident,
    pub aggregate: AccountAggregate,
    pub aggregate_span: Span,
    pub of_score: Ident,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AccountAggregate {
    Sum,
    Max,
    Min,
    Average,
}

// ------------------------------------------------------------------ segments

/// `segment undecided "Interested in both lines" = <condition>`.
#[derive(Debug, Clone)]
pub struct SegmentDecl {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub condition: Expr,
}

// ------------------------------------------------------------------ lifecycle

#[derive(Debug, Clone)]
pub struct LifecycleDecl {
    pub stmts: Vec<LifecycleStmt>,
}

#[derive(Debug, Clone)]
pub struct LifecycleStmt {
    pub kind: LifecycleStmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum LifecycleStmtKind {
    /// `stages subscriber > lead > mql`.
    Stages(Vec<Ident>),
    /// `move [back] to STAGE [from A, B] when COND | on EVENT`.
    Transition(Transition),
    /// `sla sal within 48h else <step>`.
    Sla {
        stage: Ident,
        within: DurationRef,
        action: Box<Step>,
    },
}

#[derive(Debug, Clone)]
pub struct Transition {
    pub back: bool,
    pub to: Ident,
    pub from: Vec<Ident>,
    pub condition: TransitionCondition,
}

#[derive(Debug, Clone)]
pub enum TransitionCondition {
    When(Expr),
    On(EventMatch),
}

// ------------------------------------------------------------------ routing

/// `queue inside_sales "Inside sales" round_robin ["ana", "bo"]`.
#[derive(Debug, Clone)]
pub struct QueueDecl {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub round_robin: Option<Expr>,
}

/// `route handoff on enters stage mql { when … => queue x … otherwise => queue y }`.
#[derive(Debug, Clone)]
pub struct RouteDecl {
    pub name: Ident,
    pub trigger: Trigger,
    pub rules: Vec<RouteRule>,
}

#[derive(Debug, Clone)]
pub struct RouteRule {
    /// `None` for `otherwise`.
    pub condition: Option<Expr>,
    pub target: RouteTarget,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RouteTarget {
    Queue(Ident),
    Notify(StrLit),
}

// ------------------------------------------------------------------ journeys

#[derive(Debug, Clone)]
pub struct JourneyDecl {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub body: JourneyBody,
}

/// `template webinar_followup(webinar: text, reminder: duration = 2d) { … }`.
#[derive(Debug, Clone)]
pub struct TemplateDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: JourneyBody,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeRef,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `journey wbn_jan = webinar_followup("wbn-20260114", reminder: 1d)`.
#[derive(Debug, Clone)]
pub struct JourneyInstance {
    pub name: Ident,
    pub template: Ident,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct JourneyBody {
    pub stmts: Vec<JourneyStmt>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct JourneyStmt {
    pub kind: JourneyStmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum JourneyStmtKind {
    Trigger(Trigger),
    Entry(EntryRule),
    Goal(Condition),
    Exit(Condition),
    QuietHours(QuietHours),
    Cap(FrequencyCap),
    Step(Step),
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub kind: TriggerKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TriggerKind {
    /// `on EVENT [where COND]`.
    Event(EventMatch),
    /// `enters [segment] NAME` / `leaves [segment] NAME`.
    Segment { enters: bool, segment: Ident },
    /// `enters stage NAME` / `leaves stage NAME`.
    Stage { enters: bool, stage: Ident },
    /// `contact.FIELD changes [from X] [to Y]`.
    FieldChanges {
        field: Expr,
        from: Option<Expr>,
        to: Option<Expr>,
    },
    /// `SCORE crosses above|below N`.
    ScoreCrosses {
        score: Ident,
        upward: bool,
        threshold: Expr,
    },
    /// `[30d before|after|on] contact.FIELD [yearly] [at 09:00]`.
    Date {
        offset: DateOffset,
        field: Ident,
        yearly: bool,
        at: Option<TimeOfDayLit>,
    },
}

#[derive(Debug, Clone)]
pub enum DateOffset {
    On,
    Before(DurationRef),
    After(DurationRef),
}

#[derive(Debug, Clone)]
pub struct EntryRule {
    pub kind: EntryRuleKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum EntryRuleKind {
    Once,
    AgainAfter(DurationRef),
    OneAtATime,
    PerKey(Ident),
}

/// What `goal` and `exit` wait for.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `when enters|leaves [segment] NAME`.
    Segment { enters: bool, segment: Ident },
    /// `on EVENT [where COND]`.
    Event(EventMatch),
    /// `when COND`.
    When(Expr),
}

/// `quiet hours [CHANNEL] 21:00 to 08:00 [defer|skip]`.
#[derive(Debug, Clone)]
pub struct QuietHours {
    pub channel: Option<Ident>,
    pub from: TimeOfDayLit,
    pub to: TimeOfDayLit,
    pub policy: CapPolicy,
}

/// `cap email 2 per 7d [defer|skip]`.
#[derive(Debug, Clone)]
pub struct FrequencyCap {
    pub channel: Ident,
    pub count: u32,
    pub count_span: Span,
    pub per: DurationRef,
    pub policy: CapPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapPolicy {
    /// Hold the send until it is allowed (the default).
    #[default]
    Defer,
    Skip,
}

/// A journey step, optionally labelled (`reminder: send email "…"`).
#[derive(Debug, Clone)]
pub struct Step {
    pub label: Option<Ident>,
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Send {
        channel: Ident,
        template: StrLit,
        params: Vec<NamedValue>,
    },
    Wait(DurationRef),
    WaitForEvent {
        event: EventMatch,
        timeout: Option<DurationRef>,
        on_timeout: Vec<Step>,
    },
    WaitForTime {
        time: Option<TimeOfDayLit>,
        days: Vec<Ident>,
        zone: Option<StrLit>,
    },
    If {
        condition: Expr,
        then: Vec<Step>,
        otherwise: Option<Vec<Step>>,
    },
    Split {
        arms: Vec<SplitArm>,
    },
    RandomSplit {
        arms: Vec<RandomArm>,
    },
    SetField {
        field: Ident,
        value: Expr,
    },
    Points {
        add: bool,
        amount: PointsAmount,
        amount_span: Span,
        score: Ident,
    },
    List {
        add: bool,
        list: StrLit,
    },
    MoveToStage(Ident),
    RouteToQueue(Ident),
    RouteWith(Ident),
    Notify {
        queue: Option<Ident>,
        recipient: Option<StrLit>,
        message: StrLit,
    },
    Webhook {
        method: String,
        url: StrLit,
        body: Option<StrLit>,
    },
    GoTo(Ident),
    End,
}

#[derive(Debug, Clone)]
pub struct SplitArm {
    /// `None` for `otherwise`.
    pub condition: Option<Expr>,
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RandomArm {
    pub percent: f64,
    pub percent_span: Span,
    pub label: Option<Ident>,
    pub steps: Vec<Step>,
    pub span: Span,
}

/// `key: value` in `send … with { … }`, test contacts and test events.
#[derive(Debug, Clone)]
pub struct NamedValue {
    pub key: Vec<Ident>,
    pub value: Expr,
    pub span: Span,
}

// ------------------------------------------------------------------ tests

#[derive(Debug, Clone)]
pub struct TestDecl {
    pub name: StrLit,
    pub stmts: Vec<TestStmt>,
}

#[derive(Debug, Clone)]
pub struct TestStmt {
    pub kind: TestStmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TestStmtKind {
    /// `contact [NAME] { field: value, … }`.
    Contact {
        name: Option<Ident>,
        fields: Vec<NamedValue>,
    },
    /// `at TIME [NAME:] EVENT { prop: value, … }`.
    Event {
        at: TimePoint,
        contact: Option<Ident>,
        event: Ident,
        properties: Vec<NamedValue>,
    },
    /// `at TIME [NAME:] identify { field: value, … }`: the named fields (and consents) change,
    /// the others keep their values.
    Identify {
        at: TimePoint,
        contact: Option<Ident>,
        fields: Vec<NamedValue>,
        /// The `identify` keyword (the formatter finds the `{` after it).
        keyword: Span,
    },
    /// `[at TIME] expect [NAME:] …`.
    Expect {
        at: Option<TimePoint>,
        contact: Option<Ident>,
        expectation: Expectation,
    },
}

#[derive(Debug, Clone)]
pub enum TimePoint {
    Absolute {
        raw: String,
        span: Span,
    },
    /// `+2h`: after the previous time point of the test.
    Offset {
        duration: DurationLit,
    },
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub kind: ExpectationKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExpectationKind {
    Score {
        score: Ident,
        check: ScoreCheck,
    },
    Stage(Ident),
    InSegment {
        segment: Ident,
        negated: bool,
    },
    Sent {
        channel: Ident,
        template: StrLit,
    },
    Suppressed {
        channel: Ident,
        template: StrLit,
    },
    /// `not sent CHANNEL "template"`: no send of it so far (a suppressed one is not a send).
    NotSent {
        channel: Ident,
        template: StrLit,
    },
    /// `[not] notified queue NAME` / `[not] notified "address"`.
    Notified {
        target: NotifyTarget,
        negated: bool,
    },
    /// `added to list "name"` / `removed from list "name"`.
    Listed {
        added: bool,
        list: StrLit,
    },
    RoutedTo(Ident),
    JourneyAt {
        journey: Ident,
        step: Ident,
    },
    NoActions,
}

/// Whom an `expect notified …` names.
#[derive(Debug, Clone)]
pub enum NotifyTarget {
    Queue(Ident),
    Address(StrLit),
}

#[derive(Debug, Clone)]
pub enum ScoreCheck {
    Compare { op: CompareOp, value: f64 },
    Between { low: f64, high: f64 },
}

// ------------------------------------------------------------------ expressions

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Literal(Literal),
    /// `name`, `contact.job_title`, `consent.email`, `entry.cart_id`.
    Path(Vec<Ident>),
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
    List(Vec<Expr>),
    /// `products[event.product_id].line`.
    Lookup {
        table: Ident,
        key: Box<Expr>,
        column: Ident,
    },
    Aggregate(Box<Aggregate>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    IsKnown {
        operand: Box<Expr>,
        known: bool,
    },
    InList {
        operand: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
    },
    Between {
        operand: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// Produced by error recovery where an expression could not be read.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Compare(CompareOp),
    StartsWith,
    EndsWith,
    Contains,
    Matches,
    Add,
    Subtract,
    Multiply,
    Divide,
    /// `a ?? b`: `a` when known, else `b`.
    Default,
}

impl BinaryOp {
    /// The operator as written in the language.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Compare(op) => op.symbol(),
            BinaryOp::StartsWith => "starts_with",
            BinaryOp::EndsWith => "ends_with",
            BinaryOp::Contains => "contains",
            BinaryOp::Matches => "matches",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Default => "??",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// `count page_view where path == "/pricing" in the last 7d`.
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub kind: AggregateKind,
    pub kind_span: Span,
    /// `None` for `event` (any record of the contact).
    pub event: Option<Ident>,
    pub event_span: Span,
    pub property: Option<Ident>,
    pub condition: Option<Expr>,
    pub window: Option<DurationRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AggregateKind {
    Count,
    Any,
    No,
    Sum,
    Min,
    Max,
    Average,
    Last,
}

impl AggregateKind {
    pub fn keyword(self) -> &'static str {
        match self {
            AggregateKind::Count => "count",
            AggregateKind::Any => "any",
            AggregateKind::No => "no",
            AggregateKind::Sum => "sum",
            AggregateKind::Min => "min",
            AggregateKind::Max => "max",
            AggregateKind::Average => "average",
            AggregateKind::Last => "last",
        }
    }
}

/// A literal with the text it was written as (the formatter prints `raw`).
#[derive(Debug, Clone)]
pub struct Literal {
    pub value: LiteralValue,
    pub raw: String,
}

#[derive(Debug, Clone)]
pub enum LiteralValue {
    Number(f64),
    Text(String),
    Bool(bool),
    Duration(DurationLit),
    /// Days since 1970-01-01; `None` when the date does not exist (`2026-02-30`).
    Date(Option<i64>),
    /// Milliseconds since 1970-01-01T00:00:00Z; `None` when invalid.
    Timestamp(Option<i64>),
    TimeOfDay(TimeOfDayLit),
    Money {
        amount: f64,
        currency: String,
    },
    Percent(f64),
}

/// `30m`, `48h`, `7d`, `2w` (months `mo` count 30 days, years `y` 365).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationLit {
    pub millis: i64,
    pub span: Span,
}

/// `09:00`; `minutes` is `None` when out of range (`25:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDayLit {
    pub minutes: Option<u16>,
    pub span: Span,
}

//! The JIT host: compiles a program's conditions to native code and runs them for the engine.
//!
//! [`Jit::compile`] hands every condition of the IR (score rules, profile rules, segments,
//! aggregate filters, lifecycle transitions, routing rules, journey triggers, goals, exits,
//! branches and waits) to the compiler's Cranelift backend (`maclc_compiler::codegen`), all into
//! one module finalised once.
//!
//! - **Score rules** (the hot path: every event) compile to ONE function per event type
//!   (per chunk of [`RULES_PER_CHUNK`] rules) returning a bit mask of the rules that hold:
//!   the engine's `apply_events` finds the program's functions once per record
//!   (`with_score_rules`: a `Vec` by event, no hashing), builds a [`RuleCtx`] of the contact's
//!   fields without a `Scope` (a caller holding it longer, like the benchmark, sets only its
//!   event fields per event), takes the event's [`ScoreRuleChunk`]s with one lookup
//!   ([`ScoreRules::event`]), calls [`ScoreRuleChunk::may_hold`] once per chunk — the code
//!   returns the rules that may hold, its own rules found true and the others set, nothing
//!   left to mask — and applies points, limits, bounds and provenance in Rust for the set
//!   bits in rule order. A rule whose condition reads a score is left out of the mask (the
//!   rules before it in the same event may change that score): the engine evaluates it alone.
//! - **Every other condition** (and a score rule evaluated alone) gets its own function, in a
//!   `Vec` indexed by its [`ConditionId`](ir::ConditionId) (numbered when the IR is lowered):
//!   while [`Jit::run`] makes the table current on this thread, `Scope::holds` finds a
//!   condition's native function with one bounds-checked index, no hashing, and checks that
//!   the entry was compiled from that very condition (one pointer compare) before calling it.
//!
//! A condition the backend cannot compile is listed in [`Jit::fallbacks`] (reported once) and
//! runs in the interpreter, alone.
//!
//! A text native code computes (`lower`/`upper` outside a comparison) is built by a helper and
//! kept in a thread-local list until no native code runs on the thread: after each condition
//! and each record's score rules, but never while a helper that calls back into a `Scope`
//! (where native code runs again, nested) is running.
//!
//! Native code reads the interpreter's own state in place: a [`Ctx`] of raw slice pointers is
//! built from the `Scope` per call (per event for score rules), `Val` is `#[repr(C, u8)]` and `ConsentState` `#[repr(u8)]`,
//! and their layout is the one in `maclc_compiler::codegen::layout`, checked below.
//!
//! **Architecture invariant:** this is the only module of the workspace with `unsafe` code: the
//! calls into generated code, the helpers generated code calls back, and freeing the code.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::time::{Duration, Instant};

use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId};
use maclc_compiler::codegen::layout::{self, helper};
use maclc_compiler::codegen::{CodeGenerator, CodegenError, Options};
use maclc_compiler::ir::{
    self, ConditionIr, Expr, Ir, JourneyIr, JourneyTrigger, StepKindIr, TransitionTrigger,
};

use crate::eval::{Scope, Val, V};

/// The context a compiled condition reads: `maclc_compiler::codegen::layout::ctx`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    profile: *const Val,
    profile_len: usize,
    account: *const Val,
    account_len: usize,
    consent: *const u8,
    consent_len: usize,
    scores: *const f64,
    scores_len: usize,
    segments: *const bool,
    segments_len: usize,
    props: *const Val,
    props_len: usize,
    has_event: u64,
    event_ts: i64,
    now: i64,
    has_stage: u64,
    stage: u64,
    contact_id: *const u8,
    contact_id_len: usize,
    scope: *const c_void,
    entry: *const Val,
    entry_len: usize,
    has_entry: u64,
    entry_ts: i64,
}

// The layout the backend assumes, checked when this crate compiles.
const _: () = {
    use layout::ctx;
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<Val>() == layout::VAL_SIZE as usize);
    assert!(align_of::<Val>() == 8);
    assert!(size_of::<maclc_compiler::check::ConsentState>() == 1);
    assert!(size_of::<bool>() == 1);
    assert!(size_of::<Ctx>() == ctx::SIZE);
    assert!(offset_of!(Ctx, profile) == ctx::PROFILE as usize);
    assert!(offset_of!(Ctx, profile_len) == ctx::PROFILE_LEN as usize);
    assert!(offset_of!(Ctx, account) == ctx::ACCOUNT as usize);
    assert!(offset_of!(Ctx, account_len) == ctx::ACCOUNT_LEN as usize);
    assert!(offset_of!(Ctx, consent) == ctx::CONSENT as usize);
    assert!(offset_of!(Ctx, consent_len) == ctx::CONSENT_LEN as usize);
    assert!(offset_of!(Ctx, scores) == ctx::SCORES as usize);
    assert!(offset_of!(Ctx, scores_len) == ctx::SCORES_LEN as usize);
    assert!(offset_of!(Ctx, segments) == ctx::SEGMENTS as usize);
    assert!(offset_of!(Ctx, segments_len) == ctx::SEGMENTS_LEN as usize);
    assert!(offset_of!(Ctx, props) == ctx::PROPS as usize);
    assert!(offset_of!(Ctx, props_len) == ctx::PROPS_LEN as usize);
    assert!(offset_of!(Ctx, has_event) == ctx::HAS_EVENT as usize);
    assert!(offset_of!(Ctx, event_ts) == ctx::EVENT_TS as usize);
    assert!(offset_of!(Ctx, now) == ctx::NOW as usize);
    assert!(offset_of!(Ctx, has_stage) == ctx::HAS_STAGE as usize);
    assert!(offset_of!(Ctx, stage) == ctx::STAGE as usize);
    assert!(offset_of!(Ctx, contact_id) == ctx::CONTACT_ID as usize);
    assert!(offset_of!(Ctx, contact_id_len) == ctx::CONTACT_ID_LEN as usize);
    assert!(offset_of!(Ctx, scope) == ctx::SCOPE as usize);
    assert!(offset_of!(Ctx, entry) == ctx::ENTRY as usize);
    assert!(offset_of!(Ctx, entry_len) == ctx::ENTRY_LEN as usize);
    assert!(offset_of!(Ctx, has_entry) == ctx::HAS_ENTRY as usize);
    assert!(offset_of!(Ctx, entry_ts) == ctx::ENTRY_TS as usize);
};

impl Ctx {
    fn new(scope: &Scope<'_>) -> Ctx {
        let (props, props_len, has_event, event_ts) = match scope.event {
            Some((p, ts)) => (p.as_ptr(), p.len(), 1, ts),
            None => (std::ptr::null(), 0, 0, 0),
        };
        let (entry, entry_len, has_entry, entry_ts) = match scope.entry {
            Some((p, ts)) => (p.as_ptr(), p.len(), 1, ts),
            None => (std::ptr::null(), 0, 0, 0),
        };
        Ctx {
            profile: scope.profile.as_ptr(),
            profile_len: scope.profile.len(),
            account: scope.account.as_ptr(),
            account_len: scope.account.len(),
            consent: scope.consent.as_ptr().cast(),
            consent_len: scope.consent.len(),
            scores: scope.scores.as_ptr(),
            scores_len: scope.scores.len(),
            segments: scope.segments.as_ptr(),
            segments_len: scope.segments.len(),
            props,
            props_len,
            has_event,
            event_ts,
            now: scope.now,
            has_stage: u64::from(scope.stage.is_some()),
            stage: u64::from(scope.stage.unwrap_or(0)),
            contact_id: scope.contact_id.as_ptr(),
            contact_id_len: scope.contact_id.len(),
            scope: (scope as *const Scope<'_>).cast(),
            entry,
            entry_len,
            has_entry,
            entry_ts,
        }
    }
}

type ConditionFn = unsafe extern "C" fn(*const Ctx) -> u32;

/// An event's score rules (up to 64 of them) as one native function: bit `i` set when rule `i`
/// of the chunk holds (`CodeGenerator::compile_score_rules`).
type ScoreRulesFn = unsafe extern "C" fn(*const Ctx) -> u64;

/// Rules per chunk of an event's score rules: one bit each in a `u64`.
pub const RULES_PER_CHUNK: usize = 64;

/// Up to [`RULES_PER_CHUNK`] consecutive score rules of one event, as native code evaluates
/// them: what the engine's loop over an event's rules needs, found with one lookup per event
/// ([`ScoreRules::event`]).
#[derive(Debug, Clone, Copy)]
pub struct ScoreRuleChunk {
    /// The program the code was compiled from: a `Scope` handed to it must be of this IR.
    ir: *const Ir,
    /// The rules whose bit `f` computes; the others are evaluated alone, in rule order (no
    /// condition, a condition the backend could not compile, or one that reads scores, which
    /// the rules before it in the same event may change).
    native: u64,
    /// The rules that may hold when native code decides none: every rule of the chunk.
    all: u64,
    /// Whether the code may call back into the `Scope` (an aggregate, an account score, a table
    /// lookup): then the call needs one, built for it.
    needs_scope: bool,
    /// Returns the rules that may hold: the native rules that hold and every other rule of the
    /// chunk (`all & !native`, a constant of the code). `None`: no rule of the chunk is native.
    f: Option<ScoreRulesFn>,
}

/// The rules of a chunk that may hold, from [`ScoreRuleChunk::may_hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MayHold {
    /// Bit `i` set when rule `i` of the chunk may hold: native code found it true, or does not
    /// decide it.
    pub rules: u64,
    /// The rules native code decided: a rule of `rules` outside these is the caller's to
    /// evaluate, alone, in its turn.
    pub native: u64,
}

impl ScoreRuleChunk {
    /// The rules of the chunk that may hold for the event `ctx` was last set to (see
    /// [`RuleCtx::set_event`]): one call of the chunk's code, which returns them with nothing
    /// left to mask. `scope` is called only when the code calls back into a `Scope` (an
    /// aggregate, an account score, a table lookup): it must describe the same contact and
    /// event as `ctx` (one of another program gets no native answer: every rule may hold).
    #[inline]
    pub fn may_hold<'s>(&self, ctx: &RuleCtx<'_>, scope: impl FnOnce() -> Scope<'s>) -> MayHold {
        let undecided = MayHold {
            rules: self.all,
            native: 0,
        };
        let Some(f) = self.f else {
            return undecided;
        };
        let rules = if self.needs_scope {
            let scope = scope();
            if !std::ptr::eq(self.ir, scope.ir) {
                return undecided;
            }
            let mut with_scope = ctx.ctx;
            with_scope.scope = (&scope as *const Scope<'_>).cast();
            // SAFETY: as below, and `with_scope.scope` points at `scope`, alive for the call.
            unsafe { f(&with_scope) }
        } else {
            // SAFETY: `f` is the code of this chunk of its IR's rules (the table's `Jit`
            // borrows the IR). It reads `ctx`'s slices below their lengths — `RuleCtx` borrows
            // them for its lifetime — and, as it calls back into no `Scope`, never reads the
            // null `scope`.
            unsafe { f(&ctx.ctx) }
        };
        MayHold {
            rules,
            native: self.native,
        }
    }
}

/// Which score rules of one chunk hold, as far as native code answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreRuleMask {
    /// The rules native code evaluated: the bits of `holds` are meaningful only for these.
    pub native: u64,
    /// The rules whose condition holds, among `native`.
    pub holds: u64,
}

/// One condition of the program, compiled or not.
#[derive(Debug, Clone)]
pub struct Condition {
    /// What it is, in the marketer's words (`segment \`hot\``).
    pub label: String,
    /// Time to translate and compile it with Cranelift (without the final linking); for a score
    /// rule compiled into its event's function, its share of that function's time.
    pub compile_time: Duration,
    /// Why it runs in the interpreter, when it does.
    pub error: Option<CodegenError>,
}

/// Why the JIT could not start at all.
#[derive(Debug, Clone)]
pub struct JitError(pub String);

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "native code is not available here: {}", self.0)
    }
}

/// A condition's native function, with the condition it was compiled from (its code embeds
/// addresses inside that condition, so it answers for that one only).
#[derive(Debug, Clone, Copy)]
struct NativeCondition {
    condition: *const ir::Condition,
    f: ConditionFn,
}

/// The table the current thread dispatches through.
#[derive(Debug)]
struct Table {
    ir: *const Ir,
    /// By [`ConditionId`](ir::ConditionId): the conditions compiled to a function of their own
    /// (`None`: not compiled, or a score rule answered by its event's function).
    conditions: Vec<Option<NativeCondition>>,
    /// Every event's chunks of [`RULES_PER_CHUNK`] score rules, event after event
    /// ([`Ir::rules_by_event`] order), one per chunk of the event's rules.
    chunks: Vec<ScoreRuleChunk>,
    /// Event `e`'s chunks: `chunks[event_chunks[e].0..event_chunks[e].1]` (one load per event).
    event_chunks: Vec<(u32, u32)>,
}

impl Table {
    /// Event `event`'s chunks of score rules, one per chunk of [`RULES_PER_CHUNK`] of its
    /// rules (none for an unknown event).
    #[inline]
    fn event_chunks(&self, event: usize) -> &[ScoreRuleChunk] {
        let Some(&(start, end)) = self.event_chunks.get(event) else {
            return &[];
        };
        self.chunks
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// Chunk `chunk` of event `event`'s score rules, when native code decides one of them.
    #[inline]
    fn chunk(&self, event: usize, chunk: usize) -> Option<ScoreRuleChunk> {
        self.event_chunks(event)
            .get(chunk)
            .copied()
            .filter(|c| c.f.is_some())
    }

    /// The native function of `c`: an index by its id, and a pointer compare.
    #[inline]
    fn get(&self, c: &ir::Condition) -> Option<ConditionFn> {
        let native = (*self.conditions.get(c.id.index())?)?;
        std::ptr::eq(native.condition, c).then_some(native.f)
    }
}

thread_local! {
    static ACTIVE: Cell<*const Table> = const { Cell::new(std::ptr::null()) };
    /// Texts native code computed (`lower`/`upper` of a value): their addresses are in use
    /// until no native code runs on this thread, then [`reclaim_texts`] frees them.
    static TEXTS: RefCell<Vec<Box<str>>> = const { RefCell::new(Vec::new()) };
    /// How many helpers that call back into a `Scope` are running on this thread: native code
    /// can only be running (its frames below) while this is above 0.
    static CALLBACKS: Cell<u32> = const { Cell::new(0) };
}

/// Keeps `text` until no native code runs on this thread; its pointer and length.
fn keep_text(text: Box<str>) -> [usize; 2] {
    // A `Box<str>`'s bytes do not move when the `Vec` holding it grows.
    let words = [text.as_ptr() as usize, text.len()];
    TEXTS.with(|t| t.borrow_mut().push(text));
    words
}

/// Frees the texts native code computed, unless native code is running below on this thread
/// (inside a helper calling back into a `Scope`), where they may still be in use.
fn reclaim_texts() {
    if CALLBACKS.with(Cell::get) == 0 {
        TEXTS.with(|t| {
            if let Ok(mut texts) = t.try_borrow_mut() {
                texts.clear();
            }
        });
    }
}

/// Counts a helper calling back into a `Scope` (see [`CALLBACKS`]) while it lives.
struct Callback;

impl Callback {
    fn enter() -> Callback {
        CALLBACKS.with(|c| c.set(c.get().saturating_add(1)));
        Callback
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        CALLBACKS.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// A program's conditions as native code. Borrows the IR: the code embeds addresses of its
/// texts, regexes and expressions, and is found by [`ConditionId`](ir::ConditionId).
pub struct Jit<'ir> {
    ir: &'ir Ir,
    module: Option<JITModule>,
    table: Table,
    /// Every condition, in program order.
    pub conditions: Vec<Condition>,
    /// Time for the whole program: translation, compilation and linking.
    pub total_compile_time: Duration,
}

impl std::fmt::Debug for Jit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("conditions", &self.conditions)
            .field("compiled", &self.compiled_count())
            .finish()
    }
}

/// Every condition the engine evaluates through `Scope::holds`, with its label, in program
/// order (each [`ConditionId`](ir::ConditionId) of `ir` once).
pub fn conditions(ir: &Ir) -> Vec<(String, &ir::Condition)> {
    let mut out = Vec::new();
    for (event, rules) in ir.rules_by_event.iter().enumerate() {
        let event_name = ir.events.get(event).map_or("", |e| e.name.as_str());
        for rule in rules {
            if let Some(c) = &rule.condition {
                let score = ir
                    .scores
                    .get(rule.score.index())
                    .map_or("", |s| s.name.as_str());
                out.push((
                    format!("score `{score}` rule {} (on `{event_name}`)", rule.rule + 1),
                    c,
                ));
            }
        }
    }
    for score in &ir.scores {
        for rule in &score.profile_rules {
            out.push((
                format!("score `{}` profile rule {}", score.name, rule.rule + 1),
                &rule.condition,
            ));
        }
    }
    for segment in &ir.segments {
        out.push((format!("segment `{}`", segment.name), &segment.condition));
    }
    for (i, agg) in ir.aggregates.iter().enumerate() {
        if let Some(c) = &agg.condition {
            out.push((format!("the condition of aggregate {}", i + 1), c));
        }
    }
    if let Some(lifecycle) = &ir.lifecycle {
        for t in &lifecycle.transitions {
            let stage = lifecycle
                .stages
                .get(t.to as usize)
                .map_or("", String::as_str);
            let c = match &t.trigger {
                TransitionTrigger::When(c) => Some(c),
                TransitionTrigger::On { condition, .. } => condition.as_ref(),
            };
            if let Some(c) = c {
                out.push((format!("the move to stage `{stage}`"), c));
            }
        }
    }
    for route in &ir.routes {
        for (i, rule) in route.rules.iter().enumerate() {
            if let Some(c) = &rule.condition {
                out.push((format!("routing `{}` rule {}", route.name, i + 1), c));
            }
        }
    }
    for journey in &ir.journeys.journeys {
        journey_conditions(journey, &mut out);
    }
    out
}

/// The conditions of a journey: its trigger's, its goals' and exits', and its steps' branches
/// and waits.
fn journey_conditions<'ir>(journey: &'ir JourneyIr, out: &mut Vec<(String, &'ir ir::Condition)>) {
    let name = &journey.name;
    if let JourneyTrigger::Event {
        condition: Some(c), ..
    } = &journey.trigger
    {
        out.push((format!("the trigger of journey `{name}`"), c));
    }
    for (what, conditions) in [("goal", &journey.goals), ("exit", &journey.exits)] {
        for (i, condition) in conditions.iter().enumerate() {
            let c = match condition {
                ConditionIr::When(c)
                | ConditionIr::Event {
                    condition: Some(c), ..
                } => c,
                _ => continue,
            };
            out.push((format!("{what} {} of journey `{name}`", i + 1), c));
        }
    }
    for step in &journey.steps {
        let label = format!("step `{}` of journey `{name}`", step.name);
        match &step.kind {
            StepKindIr::If { condition, .. }
            | StepKindIr::WaitForEvent {
                condition: Some(condition),
                ..
            } => out.push((label, condition)),
            StepKindIr::Split { arms } => {
                for (i, (condition, _)) in arms.iter().enumerate() {
                    if let Some(c) = condition {
                        out.push((format!("{label}, branch {}", i + 1), c));
                    }
                }
            }
            _ => {}
        }
    }
}

impl<'ir> Jit<'ir> {
    /// Compiles every condition of `ir` it can; the others are listed with their reason.
    pub fn compile(ir: &'ir Ir) -> Result<Jit<'ir>, JitError> {
        Jit::compile_conditions(ir, conditions(ir))
    }

    /// Compiles the given conditions over `ir` (tests and benchmarks compile their own). Their
    /// ids must be distinct and below `ir.condition_count`; they must live as long as the
    /// `Jit`: native code may embed addresses inside them (a table lookup hands its node to the
    /// interpreter), so an entry answers for the very condition it was compiled from.
    pub fn compile_conditions(
        ir: &'ir Ir,
        list: Vec<(String, &'ir ir::Condition)>,
    ) -> Result<Jit<'ir>, JitError> {
        let started = Instant::now();
        let count = ir.condition_count as usize;
        let mut listed = vec![false; count];
        for (label, c) in &list {
            match listed.get_mut(c.id.index()) {
                Some(seen) if !*seen => *seen = true,
                Some(_) => {
                    return Err(JitError(format!(
                        "{label} has the number of another condition ({})",
                        c.id.0
                    )))
                }
                None => {
                    return Err(JitError(format!(
                        "{label} is numbered {}, but the program has {count} conditions",
                        c.id.0
                    )))
                }
            }
        }
        let mut builder = JITBuilder::with_isa(host_isa()?, default_libcall_names());
        builder.symbol(helper::VAL_TEXT, val_text as *const u8);
        builder.symbol(helper::TEXT_OP, text_op as *const u8);
        builder.symbol(helper::TEXT_LENGTH, text_length as *const u8);
        builder.symbol(helper::MATCHES, matches as *const u8);
        builder.symbol(helper::ROUND, round as *const u8);
        builder.symbol(helper::AGGREGATE, aggregate as *const u8);
        builder.symbol(helper::ACCOUNT_SCORE, account_score as *const u8);
        builder.symbol(helper::EVAL, eval as *const u8);
        builder.symbol(helper::CASE_TEXT, case_text as *const u8);
        builder.symbol(helper::EVAL_TEXT, eval_text as *const u8);
        let mut module = JITModule::new(builder);
        let options = Options {
            text_words: text_words(),
        };
        let mut codegen =
            CodeGenerator::new(&mut module, options).map_err(|e| JitError(e.to_string()))?;
        // Score rule conditions that go into their event's function instead of one of their own.
        let mut batched = vec![false; count];
        for c in ir.rules_by_event.iter().flatten() {
            if let Some(c) = &c.condition {
                let listed = listed.get(c.id.index()).copied().unwrap_or(false);
                if listed && !reads_scores(ir, &c.expr, 0) {
                    if let Some(b) = batched.get_mut(c.id.index()) {
                        *b = true;
                    }
                }
            }
        }
        let mut compiled: Vec<(&'ir ir::Condition, FuncId)> = Vec::new();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; count];
        for (_, c) in &list {
            if batched.get(c.id.index()).copied().unwrap_or(false) {
                continue;
            }
            let t = Instant::now();
            let result = codegen.compile_condition(&mut module, ir, &c.expr);
            let compile_time = t.elapsed();
            let error = match result {
                Ok(id) => {
                    compiled.push((c, id));
                    None
                }
                Err(e) => Some(e),
            };
            if let Some(o) = outcomes.get_mut(c.id.index()) {
                *o = Some((compile_time, error));
            }
        }
        let mut batch = Batch {
            codegen: &mut codegen,
            module: &mut module,
            batched: &batched,
            compiled: &mut compiled,
            outcomes: &mut outcomes,
        };
        let score_rules = batch.compile_score_rules(ir);
        let compiled_conditions: Vec<Condition> = list
            .into_iter()
            .map(|(label, c)| {
                let (compile_time, error) = outcomes
                    .get(c.id.index())
                    .cloned()
                    .flatten()
                    .unwrap_or_default();
                Condition {
                    label,
                    compile_time,
                    error,
                }
            })
            .collect();
        module
            .finalize_definitions()
            .map_err(|e| JitError(e.to_string()))?;
        let mut chunks = Vec::new();
        let mut event_chunks = Vec::new();
        let too_many = || JitError("too many score rules for one program".into());
        for (event, rules) in score_rules.into_iter().zip(&ir.rules_by_event) {
            let start = u32::try_from(chunks.len()).map_err(|_| too_many())?;
            for (chunk, rules) in event.into_iter().zip(rules.chunks(RULES_PER_CHUNK)) {
                let all = u64::MAX >> (RULES_PER_CHUNK - rules.len());
                chunks.push(match chunk {
                    Some((native, needs_scope, id)) => {
                        let code = module.get_finalized_function(id);
                        // SAFETY: `id` was defined by `compile_score_rules` with the signature
                        // `extern "C" fn(*const Ctx) -> u64` and the module is finalised, so
                        // `code` points at that function.
                        let f = unsafe { std::mem::transmute::<*const u8, ScoreRulesFn>(code) };
                        ScoreRuleChunk {
                            ir,
                            native,
                            all,
                            needs_scope,
                            f: Some(f),
                        }
                    }
                    None => ScoreRuleChunk {
                        ir,
                        native: 0,
                        all,
                        needs_scope: false,
                        f: None,
                    },
                });
            }
            let end = u32::try_from(chunks.len()).map_err(|_| too_many())?;
            event_chunks.push((start, end));
        }
        let mut natives: Vec<Option<NativeCondition>> = vec![None; count];
        for (c, id) in compiled {
            let code = module.get_finalized_function(id);
            // SAFETY: `id` was defined by `compile_condition` with the signature
            // `extern "C" fn(*const Ctx) -> u32` (one pointer in, one u32 out) and the
            // module is finalised, so `code` points at that function.
            let f = unsafe { std::mem::transmute::<*const u8, ConditionFn>(code) };
            if let Some(slot) = natives.get_mut(c.id.index()) {
                *slot = Some(NativeCondition { condition: c, f });
            }
        }
        Ok(Jit {
            ir,
            module: Some(module),
            table: Table {
                ir,
                conditions: natives,
                chunks,
                event_chunks,
            },
            conditions: compiled_conditions,
            total_compile_time: started.elapsed(),
        })
    }

    /// The conditions that run in the interpreter, with why.
    pub fn fallbacks(&self) -> impl Iterator<Item = &Condition> {
        self.conditions.iter().filter(|c| c.error.is_some())
    }

    /// Runs `f` with this program's native code serving `Scope::holds` on this thread.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(*const Table);
        struct Reclaim;
        impl Drop for Reclaim {
            fn drop(&mut self) {
                reclaim_texts();
            }
        }
        impl Drop for Restore {
            fn drop(&mut self) {
                ACTIVE.with(|a| a.set(self.0));
            }
        }
        let previous = ACTIVE.with(|a| a.replace(&self.table));
        let _restore = Restore(previous);
        let _reclaim = Reclaim;
        let _ = self.ir;
        f()
    }
}

impl Drop for Jit<'_> {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the function pointers live only in `self.table`, which is active only
            // inside `run` (which borrows `self`, so it has returned), and dies with `self`.
            unsafe { module.free_memory() };
        }
    }
}

impl Jit<'_> {
    /// The native answer for `c` in `scope`, if `c` was compiled (whether or not it runs).
    pub fn holds_native(&self, scope: &Scope<'_>, c: &ir::Condition) -> Option<bool> {
        table_holds(&self.table, scope, c)
    }

    /// Whether `c` has a native function of its own, found by its id (tests: every condition
    /// not answered by its event's score-rule function has one).
    pub fn has_native(&self, c: &ir::Condition) -> bool {
        self.table.get(c).is_some()
    }

    /// Chunk `chunk` of event `event`'s score rules as this program's native code evaluates
    /// them in `scope`, whether or not it runs (tests and benchmarks).
    pub fn score_rules_native(
        &self,
        scope: &Scope<'_>,
        event: usize,
        chunk: usize,
    ) -> Option<ScoreRuleMask> {
        let mask = table_score_rules(&self.table, scope, event, chunk);
        reclaim_texts();
        mask
    }

    /// This program's native score rules, by event (tests and benchmarks; the engine takes
    /// the active program's through `with_score_rules`).
    pub fn score_rules(&self) -> ScoreRules<'_> {
        ScoreRules { table: &self.table }
    }

    /// How many conditions run as native code.
    pub fn compiled_count(&self) -> usize {
        self.conditions.iter().filter(|c| c.error.is_none()).count()
    }
}

/// A condition's compile time and why it failed, if it did.
type Outcome = (Duration, Option<CodegenError>);

/// What compiling the score rules' functions needs and adds to.
struct Batch<'a, 'ir> {
    codegen: &'a mut CodeGenerator,
    module: &'a mut JITModule,
    /// By condition id, those that go into their event's function (listed, reading no score).
    batched: &'a [bool],
    /// Conditions compiled alone (a chunk whose function failed puts its good ones here).
    compiled: &'a mut Vec<(&'ir ir::Condition, FuncId)>,
    /// By condition id.
    outcomes: &'a mut Vec<Option<Outcome>>,
}

impl<'ir> Batch<'_, 'ir> {
    /// One function per chunk of every event's score rules (see [`ScoreRuleChunk`]), over its
    /// batched conditions; each is reported with its share of the function's compile time. When
    /// Cranelift rejects a chunk's function, each of its conditions is compiled alone, to report
    /// the ones that fail (they run in the interpreter), and the function is built again from
    /// the others. Functions are defined in the module, not yet finalised.
    fn compile_score_rules(&mut self, ir: &'ir Ir) -> Vec<Vec<Option<(u64, bool, FuncId)>>> {
        ir.rules_by_event
            .iter()
            .map(|rules| {
                rules
                    .chunks(RULES_PER_CHUNK)
                    .map(|chunk| self.compile_chunk(ir, chunk))
                    .collect()
            })
            .collect()
    }

    fn compile_chunk(
        &mut self,
        ir: &'ir Ir,
        chunk: &'ir [maclc_compiler::ir::EventRule],
    ) -> Option<(u64, bool, FuncId)> {
        let conditions: Vec<(u32, &'ir ir::Condition)> = chunk
            .iter()
            .enumerate()
            .filter_map(|(bit, rule)| {
                let c = rule.condition.as_ref()?;
                let batched = self.batched.get(c.id.index()).copied().unwrap_or(false);
                batched.then_some((bit as u32, c))
            })
            .collect();
        if conditions.is_empty() {
            return None;
        }
        let exprs = |cs: &[(u32, &'ir ir::Condition)]| -> Vec<(u32, &'ir Expr)> {
            cs.iter().map(|(bit, c)| (*bit, &c.expr)).collect()
        };
        let mask = |cs: &[(u32, &ir::Condition)]| cs.iter().fold(0u64, |m, (bit, _)| m | 1 << bit);
        // The rules the engine decides itself come back set: they may hold.
        let all = u64::MAX >> (RULES_PER_CHUNK - chunk.len());
        let t = Instant::now();
        let result = self.codegen.compile_score_rules(
            self.module,
            ir,
            &exprs(&conditions),
            all & !mask(&conditions),
        );
        let share = t.elapsed() / conditions.len() as u32;
        let scope = |cs: &[(u32, &ir::Condition)]| cs.iter().any(|(_, c)| needs_scope(&c.expr));
        if let Ok(id) = result {
            for (_, c) in &conditions {
                if let Some(o) = self.outcomes.get_mut(c.id.index()) {
                    *o = Some((share, None));
                }
            }
            return Some((mask(&conditions), scope(&conditions), id));
        }
        let mut good = Vec::new();
        for (bit, c) in conditions {
            let t = Instant::now();
            let result = self.codegen.compile_condition(self.module, ir, &c.expr);
            let error = match result {
                Ok(id) => {
                    self.compiled.push((c, id));
                    good.push((bit, c));
                    None
                }
                Err(e) => Some(e),
            };
            if let Some(o) = self.outcomes.get_mut(c.id.index()) {
                *o = Some((t.elapsed(), error));
            }
        }
        if good.is_empty() {
            return None;
        }
        // Should this fail too, the good ones still run natively, each through its own function.
        let id = self
            .codegen
            .compile_score_rules(self.module, ir, &exprs(&good), all & !mask(&good))
            .ok()?;
        Some((mask(&good), scope(&good), id))
    }
}

/// Whether `e` may read a score, itself or through an aggregate's filter: such a rule is
/// evaluated alone, after the points of the rules before it (`depth` bounds the recursion
/// through aggregates; deeper is assumed to read scores).
fn reads_scores(ir: &Ir, e: &Expr, depth: u32) -> bool {
    use maclc_compiler::ir::Node;
    if depth > 8 {
        return true;
    }
    match &e.node {
        Node::Score(_) => true,
        Node::Aggregate(a) => ir
            .aggregates
            .get(a.0 as usize)
            .and_then(|agg| agg.condition.as_ref())
            .is_some_and(|c| reads_scores(ir, &c.expr, depth + 1)),
        _ => e.children().into_iter().any(|x| reads_scores(ir, x, depth)),
    }
}

/// Whether the code of `e` may call back into its `Scope` (`call_out_with` in the backend: an
/// aggregate, an account score, a table lookup).
fn needs_scope(e: &Expr) -> bool {
    use maclc_compiler::ir::Node;
    match &e.node {
        Node::Aggregate(_) | Node::AccountScore(_) | Node::Lookup { .. } => true,
        _ => e.children().into_iter().any(needs_scope),
    }
}

/// Cranelift's target for this machine. `JITBuilder::with_flags` would panic on a machine
/// Cranelift does not support; here that is an error, and the run uses the interpreter.
fn host_isa() -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    use cranelift_codegen::settings::{self, Configurable};
    let mut flags = settings::builder();
    // The JIT's own requirements (cranelift-jit sets the same), and optimised code. Measured
    // on R1 (docs/performance.md, "Native code"): Cranelift's IR verifier is a third of the
    // compile time, so it runs in debug builds (every test) only; `single_pass` register
    // allocation and `opt_level` `none` compile faster but make the rule kernel slower.
    let verifier = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    for (name, value) in [
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        ("opt_level", "speed"),
        ("regalloc_algorithm", "backtracking"),
        ("enable_verifier", verifier),
    ] {
        flags
            .set(name, value)
            .map_err(|e| JitError(format!("cannot set `{name}`: {e}")))?;
    }
    let isa = cranelift_native::builder().map_err(|e| JitError(e.to_string()))?;
    isa.finish(settings::Flags::new(flags))
        .map_err(|e| JitError(e.to_string()))
}

/// Where a `Val::Text`'s pointer and length sit in its payload, measured on a real value
/// (Rust does not promise a `Box<str>`'s layout, but it is fixed within one build). `None`:
/// texts are read through the `val_text` helper instead.
fn text_words() -> Option<(i32, i32)> {
    let text: Box<str> = "maclc".into();
    let (ptr, len) = (text.as_ptr() as u64, text.len() as u64);
    let v = Val::Text(text);
    let payload = (&v as *const Val)
        .cast::<u8>()
        .wrapping_add(layout::VAL_PAYLOAD as usize);
    // SAFETY: `Val` is 24 bytes with its payload at 8 (checked above at compile time), so the
    // two 8-byte words at 8 and 16 are inside the live value `v`; they are read as integers.
    let words = unsafe {
        [
            payload.cast::<u64>().read_unaligned(),
            payload.wrapping_add(8).cast::<u64>().read_unaligned(),
        ]
    };
    match words {
        [p, n] if p == ptr && n == len => Some((0, 8)),
        [n, p] if p == ptr && n == len => Some((8, 0)),
        _ => None,
    }
}

/// The native answer for `c`, when the active program compiled it.
pub(crate) fn holds(scope: &Scope<'_>, c: &ir::Condition) -> Option<bool> {
    let table = ACTIVE.with(Cell::get);
    if table.is_null() {
        return None;
    }
    // SAFETY: `Jit::run` set this pointer to its own table and restores the previous one
    // before it returns (also when unwinding), and `run` borrows the `Jit`: it is alive.
    table_holds(unsafe { &*table }, scope, c)
}

fn table_score_rules(
    table: &Table,
    scope: &Scope<'_>,
    event: usize,
    chunk: usize,
) -> Option<ScoreRuleMask> {
    if !std::ptr::eq(table.ir, scope.ir) {
        return None;
    }
    let c = table.chunk(event, chunk)?;
    let f = c.f?;
    let ctx = Ctx::new(scope);
    // SAFETY: `f` is the code of this chunk of this IR's rules (the `Jit` borrows the IR);
    // like a condition's code it reads `ctx`'s slices below their lengths and calls only the
    // helpers below.
    let holds = unsafe { f(&ctx) };
    Some(ScoreRuleMask {
        native: c.native,
        holds: holds & c.native,
    })
}

/// The active program's native score rules on this thread (see [`Jit::run`]), for `f`; `None`
/// when no program is active or it is not `ir`'s. The lookup is done once, for a whole record
/// (or replay), not per event.
pub(crate) fn with_score_rules<R>(ir: &Ir, f: impl FnOnce(Option<ScoreRules<'_>>) -> R) -> R {
    let table = ACTIVE.with(Cell::get);
    if table.is_null() {
        return f(None);
    }
    // SAFETY: as in `holds`: the active table belongs to a live `Jit`, which `Jit::run` keeps
    // borrowed until it returns, after `f` (which cannot keep the reference: it is only lent).
    let table = unsafe { &*table };
    if !std::ptr::eq(table.ir, ir) {
        return f(None);
    }
    let out = f(Some(ScoreRules { table }));
    // The record's rules are done: the texts their code computed are no longer in use.
    reclaim_texts();
    out
}

/// A program's native score rules by event: what a replay holds to evaluate every event's
/// rules with one call each, from `with_score_rules` (the engine) or [`Jit::score_rules`].
#[derive(Debug, Clone, Copy)]
pub struct ScoreRules<'t> {
    table: &'t Table,
}

impl<'t> ScoreRules<'t> {
    /// Event `event`'s score rules as native code evaluates them: one [`ScoreRuleChunk`] per
    /// chunk of [`RULES_PER_CHUNK`] of its rules ([`Ir::rules_by_event`] order), found with
    /// one lookup.
    #[inline]
    pub fn event(&self, event: usize) -> &'t [ScoreRuleChunk] {
        self.table.event_chunks(event)
    }
}

/// The context of a contact's score rules, built once (per record or per replay) and updated
/// per event with [`RuleCtx::set_event`]: what native code reads, as raw pointers, with the
/// borrows that keep them valid. No scores (the rules native code answers read none), no
/// journey entry, and `now` is the event's time, as the engine evaluates score rules.
#[derive(Debug)]
pub struct RuleCtx<'a> {
    ctx: Ctx,
    _borrows: std::marker::PhantomData<&'a [Val]>,
}

impl<'a> RuleCtx<'a> {
    /// The context of one contact: `stage` is `Some` when the program has a lifecycle.
    pub fn new(
        contact_id: &'a str,
        profile: &'a [Val],
        account: &'a [Val],
        consent: &'a [maclc_compiler::check::ConsentState],
        segments: &'a [bool],
        stage: Option<u32>,
    ) -> RuleCtx<'a> {
        let no_vals: &[Val] = &[];
        RuleCtx {
            ctx: Ctx {
                profile: profile.as_ptr(),
                profile_len: profile.len(),
                account: account.as_ptr(),
                account_len: account.len(),
                consent: consent.as_ptr().cast(),
                consent_len: consent.len(),
                scores: std::ptr::NonNull::<f64>::dangling().as_ptr(),
                scores_len: 0,
                segments: segments.as_ptr(),
                segments_len: segments.len(),
                props: no_vals.as_ptr(),
                props_len: 0,
                has_event: 0,
                event_ts: 0,
                now: 0,
                has_stage: u64::from(stage.is_some()),
                stage: u64::from(stage.unwrap_or(0)),
                contact_id: contact_id.as_ptr(),
                contact_id_len: contact_id.len(),
                scope: std::ptr::null(),
                entry: no_vals.as_ptr(),
                entry_len: 0,
                has_entry: 0,
                entry_ts: 0,
            },
            _borrows: std::marker::PhantomData,
        }
    }

    /// The event the next calls evaluate: its properties and time (also `now`).
    #[inline]
    pub fn set_event(&mut self, props: &'a [Val], ts: i64) {
        self.ctx.props = props.as_ptr();
        self.ctx.props_len = props.len();
        self.ctx.has_event = 1;
        self.ctx.event_ts = ts;
        self.ctx.now = ts;
    }
}

fn table_holds(table: &Table, scope: &Scope<'_>, c: &ir::Condition) -> Option<bool> {
    if !std::ptr::eq(table.ir, scope.ir) {
        return None;
    }
    let f = table.get(c)?;
    let ctx = Ctx::new(scope);
    // SAFETY: `f` is the code of this very condition of this IR (`Table::get` compared its
    // address; the `Jit` borrows the IR, so it has not changed). It reads the slices in `ctx` only below their
    // lengths, reads `Val`s by the checked layout, and calls only the helpers below.
    let holds = unsafe { f(&ctx) } != 0;
    reclaim_texts();
    Some(holds)
}

// ---------------------------------------------------------------------- helpers

/// Rebuilds a `&str` from the pointer and length native code carries.
///
/// # Safety
/// `p`, `n` come from a live `&str` (a `Val::Text`, the contact id or an IR text).
unsafe fn text<'a>(p: *const u8, n: usize) -> &'a str {
    // SAFETY: per the contract, `p..p+n` is a live, valid UTF-8 string.
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, n)) }
}

unsafe extern "C" fn val_text(val: *const Val, out: *mut [usize; 2]) {
    // SAFETY: native code passes the address of a live `Val` in a slice of the scope.
    let (p, n) = match unsafe { &*val } {
        Val::Text(t) => (t.as_ptr() as usize, t.len()),
        _ => (std::ptr::NonNull::<u8>::dangling().as_ptr() as usize, 0),
    };
    // SAFETY: `out` is a 16-byte, 8-aligned stack slot of the caller.
    unsafe { *out = [p, n] };
}

unsafe extern "C" fn text_op(
    op: u32,
    a: *const u8,
    a_len: usize,
    b: *const u8,
    b_len: usize,
) -> i32 {
    // SAFETY: both come from live texts (see `text`).
    let (a, b) = unsafe { (text(a, a_len), text(b, b_len)) };
    let op = i64::from(op);
    let (a, b) = (
        cased(a, op >> layout::CASE_A_SHIFT & 0xf),
        cased(b, op >> layout::CASE_B_SHIFT & 0xf),
    );
    let (a, b) = (a.as_ref(), b.as_ref());
    match op & 0xf {
        layout::TEXT_CMP => a.cmp(b) as i32,
        layout::TEXT_STARTS_WITH => i32::from(a.starts_with(b)),
        layout::TEXT_ENDS_WITH => i32::from(a.ends_with(b)),
        _ => i32::from(a.contains(b)),
    }
}

/// `lower`/`upper` as the interpreter computes them.
fn cased(t: &str, case: i64) -> std::borrow::Cow<'_, str> {
    match case {
        layout::CASE_LOWER => t.to_lowercase().into(),
        layout::CASE_UPPER => t.to_uppercase().into(),
        _ => t.into(),
    }
}

unsafe extern "C" fn text_length(p: *const u8, n: usize) -> f64 {
    // SAFETY: a live text (see `text`).
    unsafe { text(p, n) }.chars().count() as f64
}

unsafe extern "C" fn matches(re: *const regex::Regex, p: *const u8, n: usize) -> i32 {
    // SAFETY: `re` is the address of a regex of the IR the code was compiled from, which the
    // `Jit` borrows; the text is live (see `text`).
    let (re, t) = unsafe { (&*re, text(p, n)) };
    i32::from(re.is_match(t))
}

extern "C" fn round(x: f64) -> f64 {
    x.round()
}

/// Writes a value as (missing, payload) for native code.
fn write_out(v: V<'_>, out: *mut [u64; 2]) {
    let pair = match v {
        V::Num(n) => [0, n.to_bits()],
        V::Bool(b) => [0, u64::from(b)],
        V::Date(d) | V::Timestamp(d) => [0, d as u64],
        V::Enum(e) => [0, u64::from(e)],
        V::Consent(c) => [0, c as u64],
        V::Missing | V::Text(_) => [1, 0],
    };
    // SAFETY: `out` is a 16-byte, 8-aligned stack slot of the calling native code.
    #[allow(unsafe_code)]
    unsafe {
        *out = pair
    };
}

unsafe extern "C" fn aggregate(scope: *const c_void, index: u32, out: *mut [u64; 2]) {
    let _callback = Callback::enter();
    // SAFETY: native code passes back the `Scope` its `Ctx` was built from, alive for the call.
    let scope = unsafe { &*scope.cast::<Scope<'_>>() };
    write_out(scope.aggregate_by_id(index), out);
}

unsafe extern "C" fn eval(scope: *const c_void, expr: *const Expr, out: *mut [u64; 2]) {
    let _callback = Callback::enter();
    // SAFETY: as in `aggregate`; `expr` is the address of a node of the IR the code was
    // compiled from, which the `Jit` borrows.
    let (scope, expr) = unsafe { (&*scope.cast::<Scope<'_>>(), &*expr) };
    write_out(scope.eval(expr), out);
}

unsafe extern "C" fn case_text(case: u32, p: *const u8, n: usize, out: *mut [usize; 2]) {
    // SAFETY: a live text (see `text`).
    let t = unsafe { text(p, n) };
    let cased = cased(t, i64::from(case)).into_owned().into_boxed_str();
    let words = keep_text(cased);
    // SAFETY: `out` is a 16-byte, 8-aligned stack slot of the calling native code.
    unsafe { *out = words };
}

unsafe extern "C" fn eval_text(scope: *const c_void, expr: *const Expr, out: *mut [u64; 3]) {
    let _callback = Callback::enter();
    // SAFETY: as in `eval`.
    let (scope, expr) = unsafe { (&*scope.cast::<Scope<'_>>(), &*expr) };
    let words = match scope.eval(expr) {
        // A table's cell: a text of the IR, which outlives the code.
        V::Text(std::borrow::Cow::Borrowed(t)) => [0, t.as_ptr() as u64, t.len() as u64],
        V::Text(std::borrow::Cow::Owned(t)) => {
            let [p, n] = keep_text(t.into_boxed_str());
            [0, p as u64, n as u64]
        }
        _ => {
            let empty = "";
            [1, empty.as_ptr() as u64, 0]
        }
    };
    // SAFETY: `out` is a 24-byte, 8-aligned stack slot of the calling native code.
    unsafe { *out = words };
}

unsafe extern "C" fn account_score(scope: *const c_void, index: u32, out: *mut [u64; 2]) {
    // SAFETY: as in `aggregate`.
    let scope = unsafe { &*scope.cast::<Scope<'_>>() };
    let v = scope
        .account_scores
        .get(index as usize)
        .copied()
        .flatten()
        .map_or(V::Missing, V::Num);
    write_out(v, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use maclc_compiler::check::ConsentState;

    /// A score rule chunk runs with a null `Scope` unless `needs_scope` says otherwise: every
    /// node the backend calls back into the `Scope` for must be seen, however deep.
    #[test]
    fn needs_scope_sees_every_callback_node() {
        use maclc_compiler::ir::{AggregateId, Const, Node, ValType};
        let e = |ty, node| Expr { ty, node };
        let not = |x: Expr| e(ValType::Bool, Node::Not(Box::new(x)));
        let and = |a: Expr, b: Expr| e(ValType::Bool, Node::And(Box::new(a), Box::new(b)));
        let yes = || e(ValType::Bool, Node::Const(Const::Bool(true)));
        let callbacks = [
            e(ValType::Bool, Node::Aggregate(AggregateId(0))),
            e(ValType::Num, Node::AccountScore(0)),
            e(
                ValType::Num,
                Node::Lookup {
                    table: 0,
                    key: Box::new(yes()),
                    column: 0,
                },
            ),
        ];
        assert!(!needs_scope(&and(yes(), not(yes()))));
        for c in callbacks {
            assert!(needs_scope(&c));
            assert!(needs_scope(&and(yes(), not(c))));
        }
    }

    /// Texts native code computed stay while a helper calling back into a `Scope` runs (the
    /// native code below it still holds their addresses) and are freed once none does.
    #[test]
    fn computed_texts_live_until_no_native_code_runs() {
        let count = || TEXTS.with(|t| t.borrow().len());
        reclaim_texts();
        let outer = keep_text("outer".into());
        {
            let _callback = Callback::enter();
            keep_text("inner".into());
            reclaim_texts();
            assert_eq!(
                count(),
                2,
                "native code below the callback may still read them"
            );
        }
        assert_eq!(TEXTS.with(|t| t.borrow()[0].as_ptr() as usize), outer[0]);
        reclaim_texts();
        assert_eq!(count(), 0);
    }

    /// The enum layout `repr(C, u8)` promises, as native code reads it.
    #[test]
    fn val_layout_is_the_one_the_backend_reads() {
        let vals = [
            Val::Missing,
            Val::Bool(true),
            Val::Num(1.5),
            Val::Text("x".into()),
            Val::Date(-3),
            Val::Timestamp(7),
            Val::Enum(9),
            Val::Consent(ConsentState::Unknown),
        ];
        for (i, v) in vals.iter().enumerate() {
            let base = (v as *const Val).cast::<u8>();
            // SAFETY: reading bytes of a live `Val` within its size.
            let tag = unsafe { *base.add(layout::VAL_TAG as usize) };
            assert_eq!(i64::from(tag), i as i64);
            // SAFETY: as above; the payload offset is 8-aligned.
            let word = unsafe { *base.add(layout::VAL_PAYLOAD as usize).cast::<u64>() };
            match v {
                Val::Num(n) => assert_eq!(word, n.to_bits()),
                Val::Date(d) | Val::Timestamp(d) => assert_eq!(word, *d as u64),
                Val::Bool(_) | Val::Consent(_) => {
                    assert_eq!(word as u8, if i == 1 { 1 } else { 2 })
                }
                Val::Enum(e) => assert_eq!(word as u32, *e),
                _ => {}
            }
        }
    }
}

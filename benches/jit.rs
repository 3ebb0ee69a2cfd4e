//! Native code against the interpreter and hand-written Rust, on R1 over 1,000,000 generated
//! events already decoded in memory; and what Cranelift costs to compile the program.
//!
//! `cargo bench --bench jit` prints one table:
//! 1. the rule kernel: for every decoded program event, every score rule of that event checks
//!    its condition and adds its points (no limits, no state: exactly the conditions the JIT
//!    compiles), three ways: `Scope::holds` in the interpreter; the engine's way with native
//!    code, one function per event type called once per event (one `RuleCtx` for the contact,
//!    only its event fields set per event, a bit mask of the rules that hold, points for the
//!    set bits visited by `trailing_zeros`); and a hand-written Rust function of R1's rules
//!    over the same decoded values (the practical limit). The three point totals are compared
//!    and must be equal;
//! 2. the whole evaluation (`Engine::push` + `finish`: identity, sort, replay, limits,
//!    history, segments) with each engine, and whether the two outputs are identical;
//! 3. Cranelift compile time per condition (a score rule: its share of its event's function),
//!    the best of five compilations of the program each, with the slowest named; and for the
//!    whole program.
//!
//! `MACLC_BENCH_KERNEL_ONLY=1` leaves out the whole evaluations (2, the long part).
//!
//! The events are the same file as `benches/run.rs` (generated once into `target/bench-run/`
//! by `../shared/workload/gen_events.py`; `MACLC_WORKLOAD_DIR` overrides the folder). It
//! measures and prints; it never asserts on time.

mod support;

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::time::{Duration, Instant};

use maclc_compiler::check::ConsentState;
use maclc_compiler::ir::Ir;
use maclc_runtime::engine::{decode_events, Engine, EventMap, RunOutput};
use maclc_runtime::eval::{Scope, Val};
use maclc_runtime::input::{decode_lines, Record};
use maclc_runtime::jit::{Jit, RuleCtx, RULES_PER_CHUNK};
use maclc_runtime::program_schema::input_schema;
use support::{events_file, load_project, manifest_dir};

/// The allocator of the `maclc` binary, so that the whole evaluation is timed as the command
/// runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 5;
/// The kernels take tens of milliseconds: more runs, so the best is less at the mercy of a
/// shared machine's other jobs.
const KERNEL_RUNS: usize = 15;
const PROJECT: &str = "examples/reference-r1";

fn load_ir() -> Result<Ir, String> {
    load_project(&manifest_dir().join(PROJECT)).map(|(_, ir)| ir)
}

/// The kernels' one contact: every field missing, consent unknown, in no segment.
struct KernelContact {
    profile: Vec<Val>,
    consent: Vec<ConsentState>,
    segments: Vec<bool>,
}

impl KernelContact {
    fn new(ir: &Ir) -> KernelContact {
        KernelContact {
            profile: ir.contact_slots.iter().map(|_| Val::Missing).collect(),
            consent: vec![ConsentState::Unknown; ir.channels.len()],
            segments: vec![false; ir.segments.len()],
        }
    }

    /// The contact with `scores`, as an event with `props` at `ts` sees it.
    fn scope<'a>(&'a self, ir: &'a Ir, scores: &'a [f64], props: &'a [Val], ts: i64) -> Scope<'a> {
        Scope {
            ir,
            contact_id: "c",
            profile: &self.profile,
            account: &[],
            account_scores: &[],
            consent: &self.consent,
            scores,
            segments: &self.segments,
            history: &[],
            event: Some((props, ts)),
            now: ts,
            stage: None,
            entry: None,
        }
    }
}

/// The rule kernel through `Scope::holds`: points per score (a sum, so nothing is skipped).
fn kernel_holds(ir: &Ir, decoded: &[(u32, Box<[Val]>, i64)]) -> Vec<f64> {
    let contact = KernelContact::new(ir);
    let scores = vec![0.0; ir.scores.len()];
    let mut points = vec![0.0; ir.scores.len()];
    for (event, props, ts) in decoded {
        let scope = contact.scope(ir, &scores, props, *ts);
        for rule in &ir.rules_by_event[*event as usize] {
            if rule.condition.as_ref().is_none_or(|c| scope.holds(c)) {
                points[rule.score.index()] += rule.points;
            }
        }
    }
    points
}

/// The rule kernel as the engine runs it with native code: the program's functions found once
/// (a `Vec` by event), one `RuleCtx` for the contact (built once: the kernel's one contact),
/// per event only its event fields set, the event's chunks found with one lookup and one call
/// per chunk, which returns the rules that may hold; then points for those, visited by their
/// bits in rule order (a rule native code does not decide, such as one with no condition, is
/// decided here as the engine decides it).
fn kernel_native(jit: &Jit<'_>, ir: &Ir, decoded: &[(u32, Box<[Val]>, i64)]) -> Vec<f64> {
    let contact = KernelContact::new(ir);
    let mut points = vec![0.0; ir.scores.len()];
    let native = jit.score_rules();
    let mut ctx = RuleCtx::new(
        "c",
        &contact.profile,
        &[],
        &contact.consent,
        &contact.segments,
        None,
    );
    for (event, props, ts) in decoded {
        let index = *event as usize;
        let Some(rules) = ir.rules_by_event.get(index) else {
            continue;
        };
        ctx.set_event(props, *ts);
        // One chunk of native code per chunk of the event's rules.
        for (c, code) in native.event(index).iter().enumerate() {
            // No scores: the rules native code answers read none (as in the engine).
            let scope = || contact.scope(ir, &[], props, *ts);
            let may_hold = code.may_hold(&ctx, scope);
            let mut todo = may_hold.rules;
            let first = c * RULES_PER_CHUNK;
            while todo != 0 {
                let i = todo.trailing_zeros() as usize;
                todo &= todo - 1;
                let Some(rule) = rules.get(first + i) else {
                    break;
                };
                if may_hold.native & 1 << i == 0 {
                    if let Some(cond) = &rule.condition {
                        if !scope().holds(cond) {
                            continue;
                        }
                    }
                }
                points[rule.score.index()] += rule.points;
            }
        }
    }
    points
}

/// R1's score rules written by hand over the same decoded values (slots found once).
struct HandWritten {
    page_view: u32,
    datasheet: u32,
    webinar_attended: u32,
    demo: u32,
    unsubscribed: u32,
    path: usize,
    category: usize,
    product_line: usize,
    general: u32,
    medical: u32,
    scores: usize,
}

impl HandWritten {
    fn new(ir: &Ir) -> Option<HandWritten> {
        let event = |name: &str| ir.events.iter().position(|e| e.name == name);
        let prop =
            |e: usize, name: &str| ir.events[e].properties.iter().position(|p| p.name == name);
        let (pv, ds, demo) = (
            event("page_view")?,
            event("datasheet_downloaded")?,
            event("demo_requested")?,
        );
        let category = prop(ds, "category")?;
        let variants = &ir.events[ds].properties[category].variants;
        let variant = |v: &str| variants.iter().position(|x| x == v).map(|i| i as u32);
        Some(HandWritten {
            page_view: pv as u32,
            datasheet: ds as u32,
            webinar_attended: event("webinar_attended")? as u32,
            demo: demo as u32,
            unsubscribed: event("unsubscribed")? as u32,
            path: prop(pv, "path")?,
            category,
            product_line: prop(demo, "product_line")?,
            general: variant("general")?,
            medical: variant("medical")?,
            scores: ir.scores.len(),
        })
    }

    fn kernel(&self, decoded: &[(u32, Box<[Val]>, i64)]) -> Vec<f64> {
        // general_interest, medical_interest (score order of the program).
        let mut points = vec![0.0; self.scores];
        fn text(v: &Val) -> Option<&str> {
            match v {
                Val::Text(t) => Some(t),
                _ => None,
            }
        }
        let variant = |v: &Val| match v {
            Val::Enum(e) => Some(*e),
            _ => None,
        };
        for (event, props, _) in decoded {
            let e = *event;
            if e == self.page_view {
                let path = props.get(self.path).and_then(text);
                if path.is_some_and(|p| p.starts_with("/products/general")) {
                    points[0] += 5.0;
                }
                if path.is_some_and(|p| p.starts_with("/jobs")) {
                    points[0] -= 10.0;
                }
                if path.is_some_and(|p| p.starts_with("/medical")) {
                    points[1] += 5.0;
                }
            } else if e == self.datasheet {
                match props.get(self.category).and_then(variant) {
                    Some(c) if c == self.general => points[0] += 25.0,
                    Some(c) if c == self.medical => points[1] += 25.0,
                    _ => {}
                }
            } else if e == self.webinar_attended {
                points[0] += 15.0;
            } else if e == self.demo {
                match props.get(self.product_line).and_then(variant) {
                    Some(c) if c == self.general => points[0] += 90.0,
                    Some(c) if c == self.medical => points[1] += 90.0,
                    _ => {}
                }
            } else if e == self.unsubscribed {
                points[0] -= 25.0;
            }
        }
        points
    }
}

/// Each condition's compile time with its label, and the whole program's, each the best of
/// [`RUNS`] compilations of the program: one compilation times its first function with
/// Cranelift's first-use costs in it, and a shared machine's other jobs land on any one.
fn compile_times(ir: &Ir) -> (Vec<(Duration, String)>, Duration) {
    let mut per_condition: Vec<(Duration, String)> = Vec::new();
    let mut whole = Duration::MAX;
    for _ in 0..RUNS {
        let Ok(jit) = Jit::compile(ir) else {
            continue;
        };
        whole = whole.min(jit.total_compile_time);
        if per_condition.is_empty() {
            per_condition = jit
                .conditions
                .iter()
                .map(|c| (c.compile_time, c.label.clone()))
                .collect();
        }
        for ((best, _), c) in per_condition.iter_mut().zip(&jit.conditions) {
            *best = (*best).min(c.compile_time);
        }
    }
    (per_condition, whole)
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let start = Instant::now();
        let r = black_box(f());
        best = best.min(start.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

/// The whole evaluation, timed without the copy of the records it consumes.
fn evaluate(
    ir: &Ir,
    track_map: &[maclc_compiler::check::EventId],
    records: &[Record],
    jit: Option<&Jit<'_>>,
) -> (Duration, RunOutput) {
    let batch = records.to_vec();
    let start = Instant::now();
    let mut engine = Engine::new(ir, EventMap::new(ir, track_map.to_vec()));
    let run = move || {
        for r in batch {
            engine.push(r);
        }
        engine.finish(None)
    };
    let out = match jit {
        Some(j) => j.run(run),
        None => run(),
    };
    (start.elapsed(), out)
}

/// The best of three whole evaluations with each engine, the two run alternately so that
/// neither always runs on the heap the other left behind; the last output of each is kept.
fn best_evaluations(
    ir: &Ir,
    track_map: &[maclc_compiler::check::EventId],
    records: &[Record],
    jit: &Jit<'_>,
) -> [(Duration, RunOutput); 2] {
    let mut interp = evaluate(ir, track_map, records, None);
    let mut native = evaluate(ir, track_map, records, Some(jit));
    for _ in 1..3 {
        let (t, out) = evaluate(ir, track_map, records, None);
        interp = (interp.0.min(t), out);
        let (t, out) = evaluate(ir, track_map, records, Some(jit));
        native = (native.0.min(t), out);
    }
    [interp, native]
}

fn main() {
    let Some(events) = events_file() else {
        return;
    };
    let ir = match load_ir() {
        Ok(ir) => ir,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let (schema, track_map) = input_schema(&ir);
    let Ok(input) = File::open(&events) else {
        println!("skipped: cannot open {}", events.display());
        return;
    };
    let records: Vec<Record> = decode_lines(BufReader::with_capacity(1 << 20, input), &schema)
        .filter_map(Result::ok)
        .collect();
    let map = EventMap::new(&ir, track_map.clone());
    let decoded: Vec<(u32, Box<[Val]>, i64)> = records
        .iter()
        .flat_map(|r| {
            decode_events(&ir, &map, r)
                .into_iter()
                .map(move |(e, p)| (e, p, r.timestamp))
        })
        .collect();
    let rule_checks: usize = decoded
        .iter()
        .map(|(e, _, _)| ir.rules_by_event[*e as usize].len())
        .sum();

    let jit = match Jit::compile(&ir) {
        Ok(jit) => jit,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let Some(hand) = HandWritten::new(&ir) else {
        println!("skipped: R1's events are not the expected ones");
        return;
    };

    let (t_interp, p_interp) = best_of(KERNEL_RUNS, || kernel_holds(&ir, &decoded));
    let (t_jit, p_jit) = best_of(KERNEL_RUNS, || {
        jit.run(|| kernel_native(&jit, &ir, &decoded))
    });
    let (t_hand, p_hand) = best_of(KERNEL_RUNS, || hand.kernel(&decoded));
    let same_points = p_interp == p_jit && p_jit[..2] == p_hand[..2];

    let (per_condition, fresh) = compile_times(&ir);
    // `MACLC_BENCH_KERNEL_ONLY=1`: the kernel and compile rows alone, in seconds rather than
    // a minute (the whole evaluations are the long part).
    let whole = std::env::var_os("MACLC_BENCH_KERNEL_ONLY")
        .is_none()
        .then(|| best_evaluations(&ir, &track_map, &records, &jit));

    let mut per_rule = per_condition;
    per_rule.sort();
    let median = per_rule
        .get(per_rule.len() / 2)
        .map(|(t, _)| *t)
        .unwrap_or_default();
    let (max, slowest) = per_rule.last().cloned().unwrap_or_default();

    let n = decoded.len() as f64;
    let ns = |d: Duration| d.as_nanos() as f64 / n;
    println!(
        "R1 over {} ({} valid records, {} program events, {} rule checks)",
        events.display(),
        records.len(),
        decoded.len(),
        rule_checks
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| rule kernel, interpreter (`Scope::holds`) | {:.1} ns/event ({:.0} ms, best of {KERNEL_RUNS}) |",
        ns(t_interp),
        t_interp.as_secs_f64() * 1e3
    );
    println!(
        "| rule kernel, native code per event (one `RuleCtx` per contact, one call, set bits) | {:.1} ns/event ({:.0} ms) |",
        ns(t_jit),
        t_jit.as_secs_f64() * 1e3
    );
    println!(
        "| rule kernel, hand-written Rust | {:.1} ns/event ({:.0} ms) |",
        ns(t_hand),
        t_hand.as_secs_f64() * 1e3
    );
    println!(
        "| interpreter / JIT per event (target ≥ 8×) | {:.2}× |",
        t_interp.as_secs_f64() / t_jit.as_secs_f64()
    );
    println!(
        "| JIT per event / hand-written (target ≤ 1.2×) | {:.2}× |",
        t_jit.as_secs_f64() / t_hand.as_secs_f64()
    );
    println!("| the three point totals are equal | {same_points} ({p_jit:?}) |");
    if let Some([(e_interp, out_interp), (e_jit, out_jit)]) = &whole {
        let same_output =
            out_interp.contacts == out_jit.contacts && out_interp.actions == out_jit.actions;
        println!(
            "| whole evaluation (push + finish), interpreter | {:.0} ns/record ({:.2} s, best of 3) |",
            e_interp.as_nanos() as f64 / records.len() as f64,
            e_interp.as_secs_f64()
        );
        println!(
            "| whole evaluation (push + finish), JIT | {:.0} ns/record ({:.2} s) |",
            e_jit.as_nanos() as f64 / records.len() as f64,
            e_jit.as_secs_f64()
        );
        println!("| the two engines' outputs are identical | {same_output} |");
    }
    println!(
        "| Cranelift compile time per condition ({} conditions, best of {RUNS} each) | median {:.0} µs, max {:.0} µs ({slowest}) |",
        per_rule.len(),
        median.as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6
    );
    println!(
        "| Cranelift compile time, whole program (translate, compile, link; best of {RUNS}) | {:.2} ms |",
        fresh.as_secs_f64() * 1e3
    );
}

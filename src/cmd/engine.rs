//! `--engine` of `run` and `test`: native code (the default) or the reference interpreter.
//!
//! With `jit`, every condition the backend can compile runs as native code and the others run
//! in the interpreter; each of those is named once on stderr, so nobody is surprised by a
//! slower rule. Both engines give the same results (tests/engines.rs, runtime/tests/jit_*.rs).

use maclc_compiler::ir::Ir;
use maclc_runtime::jit::Jit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EngineChoice {
    /// Conditions compiled to native code with Cranelift
    #[default]
    Jit,
    /// The reference interpreter (a tree walk)
    Interp,
}

/// Runs `f` with the chosen engine serving the conditions of `ir`.
pub fn run_with<R>(choice: EngineChoice, ir: &Ir, f: impl FnOnce() -> R) -> R {
    match prepare(choice, ir, true) {
        Some(jit) => jit.run(f),
        None => f(),
    }
}

/// Says once, on stderr, which conditions of `ir` the chosen engine leaves to the interpreter.
pub fn announce(choice: EngineChoice, ir: &Ir) {
    prepare(choice, ir, true);
}

/// The native code of `ir` for the chosen engine, without a word (see [`announce`]); `None`
/// when every condition runs in the interpreter.
pub fn compile(choice: EngineChoice, ir: &Ir) -> Option<Jit<'_>> {
    prepare(choice, ir, false)
}

fn prepare(choice: EngineChoice, ir: &Ir, say: bool) -> Option<Jit<'_>> {
    if choice == EngineChoice::Interp {
        return None;
    }
    match Jit::compile(ir) {
        Ok(jit) => {
            for c in jit.fallbacks() {
                if let (Some(e), true) = (&c.error, say) {
                    eprintln!("note: {} runs in the interpreter: {e}", c.label);
                }
            }
            Some(jit)
        }
        Err(e) => {
            if say {
                eprintln!("note: {e}; every rule runs in the interpreter");
            }
            None
        }
    }
}

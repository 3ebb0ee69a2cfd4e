//! The maclc runtime: state, event time, input streams, action sinks and the evaluators.
//!
//! Stages: the input decoder ([`input`]: raw JSON Lines to typed records or rejects, per R1
//! §1), identity resolution ([`identity`]: who a record belongs to, per R1 §2), the input
//! schema of a program ([`program_schema`]), the reference interpreter over the IR ([`eval`]), the host of its native code ([`jit`]),
//! the engine that replays each contact's records ([`engine`]), lifecycle, routing and actions
//! ([`lifecycle`]), journeys ([`journey`]), named time zones ([`zone`]), the outputs of a run
//! ([`output`]) and the run store of checkpoints ([`store`]). This
//! crate does all of the I/O the compiler must not.

pub mod engine;
pub mod eval;
pub mod identity;
pub mod input;
// The one module allowed `unsafe`: it calls generated code (see its header).
#[allow(unsafe_code)]
pub mod jit;
pub mod journey;
pub mod lifecycle;
pub mod output;
pub mod program_schema;
pub mod store;
pub mod testing;
pub mod zone;

//! The maclc runtime: state, event time, input streams, action sinks and the evaluators.
//!
//! Built so far: the input decoder ([`input`]: raw JSON Lines to typed records or rejects, per
//! R1 §1) and identity resolution ([`identity`]: who a record belongs to, per R1 §2, in a
//! streaming form with merge events and a whole-input form). The IR interpreter comes next; it
//! will depend on the checked program of `maclc-compiler` and this crate does all of the I/O
//! the compiler must not.

pub mod identity;
pub mod input;

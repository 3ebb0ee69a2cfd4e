//! The maclc runtime: state, event time, input streams, action sinks and the evaluators.
//!
//! Not built yet: the evaluation runtime is its own issue. It will depend on the checked
//! program and IR of `maclc-compiler` and do all of the I/O the compiler must not.

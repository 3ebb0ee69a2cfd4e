//! The editor features, each a pure function of an analysed project (`world::ProjectView`) and
//! a place in a file, returning LSP values.

pub mod completion;
pub mod describe;
pub mod diagnostics;
pub mod document;
pub mod hover;
pub mod navigate;

//! Syntax diagnostics, one constructor each.

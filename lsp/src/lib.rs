//! The maclc language server (`maclc lsp`).
//!
//! Not built yet: the language server is its own issue. **Architecture invariant:** only this
//! crate knows LSP types; it drives the same `maclc-compiler` front end as `maclc check`.

//! `maclc lsp`: the language server for `.marketing` files, over stdio.
//!
//! Built on `tower-lsp-server`; the language work is the compiler's own (`maclc_compiler`:
//! one parser, one checker). **Only this crate knows LSP types.** Layout:
//! - [`world`] — open documents, projects found as `maclc check` finds them, cached analyses;
//! - [`position`] — byte offsets ↔ LSP positions (UTF-16);
//! - [`features`] — diagnostics, completion, hover, navigation, rename, formatting, outline,
//!   folding and quick fixes, each a function of an analysed project;
//! - [`server`] — the `LanguageServer` implementation: every handler's compiler work runs
//!   under `catch_unwind`, so a bug answers one request with an error and the server goes on.

pub mod features;
pub mod position;
pub mod server;
pub mod world;

pub use server::Backend;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves the protocol over `input` / `output` until the client says `exit` (or the input ends).
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) = LspService::build(Backend::new)
        .custom_method("maclc/testPanic", Backend::test_panic)
        .finish();
    Server::new(input, output, socket).serve(service).await;
}

/// Runs the server on standard input and output (what `maclc lsp` does).
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    Ok(())
}

//! `maclc lsp`: runs the language server (crate `maclc-lsp`) on standard input and output.

use super::{EXIT_FAILURE, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Talk over standard input and output (the default and only transport; accepted because
    /// editor clients pass it)
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: &Args) -> u8 {
    match maclc_lsp::run_stdio() {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: the language server could not start: {e}");
            EXIT_FAILURE
        }
    }
}

//! `maclc`: rules as code for marketing automation — the command line.
//!
//! One module per subcommand under `cmd/`; `project` loads `.marketing` files from disk. All the
//! language work happens in `maclc-compiler`; this crate does the I/O around it.

mod cmd;
mod coverage;
mod project;
mod test_report;

/// mimalloc rather than the system allocator: a run decodes millions of records into small
/// values, most of them short-lived between long-lived ones, and glibc's malloc spent a third
/// of `maclc run` consolidating and unlinking free chunks (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "maclc",
    version,
    about = "Rules as code for marketing automation",
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check rules against the schema and report every mistake found
    Check(cmd::check::Args),
    /// Rewrite files in the one canonical layout (comments are kept)
    Fmt(cmd::fmt::Args),
    /// Explain a diagnostic code such as E0102, with an example and its fix
    Explain(cmd::explain::Args),
    /// Run a project over a JSON Lines file of events; write each contact's state and rejects
    Run(cmd::run::Args),
    /// Run the `test` blocks of a project and report the expectations that do not hold
    Test(cmd::test::Args),
    /// Check a project and write it as one compiled program file (for `run --program`)
    Compile(cmd::compile::Args),
    /// Show what a compiled program file holds: versions, content hash, files, rules, tests
    Inspect(cmd::inspect::Args),
    /// Run the language server for editors (LSP over standard input and output)
    Lsp(cmd::lsp::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => cmd::check::run(&args),
        Command::Fmt(args) => cmd::fmt::run(&args),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Run(args) => cmd::run::run(&args),
        Command::Test(args) => cmd::test::run(&args),
        Command::Compile(args) => cmd::compile::run(&args),
        Command::Inspect(args) => cmd::inspect::run(&args),
        Command::Lsp(args) => cmd::lsp::run(&args),
    };
    ExitCode::from(code)
}

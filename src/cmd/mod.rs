//! The subcommands of `maclc`, one module each.

pub mod check;
pub mod compile;
pub mod engine;
pub mod explain;
pub mod fmt;
pub mod inspect;
pub mod lsp;
pub mod run;
pub mod test;

/// Exit status: everything fine.
pub const EXIT_OK: u8 = 0;
/// Exit status: the rules have errors (or would be reformatted, for `fmt --check`).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: the command was used wrongly (unknown flag, missing file).
pub const EXIT_USAGE: u8 = 2;

/// Whether to draw colours: only on a terminal, and never when `NO_COLOR` is set.
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints diagnostics on stderr the way `maclc check` draws them (in colour on a terminal).
pub fn eprint_diagnostics(
    diagnostics: &[maclc_compiler::diagnostics::Diagnostic],
    sources: &maclc_compiler::source::Sources,
) {
    use std::io::IsTerminal;
    let options = maclc_compiler::diagnostics::RenderOptions {
        color: use_color(std::io::stderr().is_terminal()),
        ..maclc_compiler::diagnostics::RenderOptions::default()
    };
    eprint!(
        "{}",
        maclc_compiler::diagnostics::render_human(diagnostics, sources, options)
    );
}

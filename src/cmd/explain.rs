//! `maclc explain`: prints what a diagnostic code means, with an example and its fix.

use maclc_compiler::diagnostics::catalogue;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The code, such as `E0102` (or `e102`)
    #[arg(value_name = "CODE", required_unless_present = "all")]
    code: Option<String>,
    /// Print the whole catalogue as Markdown (the content of `docs/diagnostics.md`)
    #[arg(long, conflicts_with = "code")]
    all: bool,
}

pub fn run(args: &Args) -> u8 {
    if args.all {
        print!("{}", catalogue::to_markdown());
        return EXIT_OK;
    }
    let code = args.code.as_deref().unwrap_or_default();
    match catalogue::lookup(code) {
        Some(entry) => {
            print!("{}", catalogue::entry_markdown(entry).trim_start());
            EXIT_OK
        }
        None => {
            eprintln!("error: `{code}` is not a maclc diagnostic code");
            eprintln!(
                "help: codes look like `E0102` or `W0301`; `maclc explain --all` lists them all"
            );
            EXIT_USAGE
        }
    }
}

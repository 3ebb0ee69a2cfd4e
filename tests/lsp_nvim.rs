//! A real editor against `maclc lsp`: Neovim, headless, with its built-in LSP client
//! (`tests/lsp/nvim.lua`) opens `examples/mistakes/misspelled_field.marketing` (a copy), receives
//! the diagnostics, completes after `contact.` and applies the quick fix of the misspelled
//! field. Skipped, with a message, when `nvim` is not installed (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

#[test]
fn neovim_gets_diagnostics_completion_and_a_quick_fix() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `nvim` is not installed, so the editor test of `maclc lsp` did not run (`.ci/run` installs it with apt-get)");
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    for name in ["schema.marketing", "misspelled_field.marketing"] {
        std::fs::copy(
            repo.join("examples/mistakes").join(name),
            dir.path().join(name),
        )
        .expect("copying the example");
    }
    let file = dir.path().join("misspelled_field.marketing");
    let result = dir.path().join("result.txt");
    let status = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            repo.join("tests/lsp/nvim.lua").display()
        ))
        .env("MACLC_BIN", env!("CARGO_BIN_EXE_maclc"))
        .env("MACLC_FILE", &file)
        .env("MACLC_RESULT", &result)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running nvim");
    let transcript = std::fs::read_to_string(&result).unwrap_or_default();
    assert!(
        status.status.success(),
        "nvim failed: {transcript}\nstderr: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        transcript.contains("E0101 `job_tilte` is not a contact field"),
        "{transcript}"
    );
    assert!(transcript.contains("job_title"), "{transcript}");
    let completion = transcript
        .lines()
        .find(|l| l.starts_with("completion after contact.:"))
        .unwrap_or_default();
    for field in ["email", "job_title", "company_size", "budget"] {
        assert!(completion.split(' ').any(|w| w == field), "{transcript}");
    }
    assert!(
        transcript.contains("quick fix: change to `job_title`"),
        "{transcript}"
    );
    assert!(
        transcript.contains("line after the fix:   +50 when contact.job_title is known"),
        "{transcript}"
    );
    assert!(
        transcript.contains("E0101 diagnostics: 2 before the fix, 1 after"),
        "{transcript}"
    );
}

//! What the benchmarks share: the generated events file and loading an example project.

use std::path::{Path, PathBuf};
use std::process::Command;

use maclc_compiler::ir::Ir;
use maclc_compiler::source::Sources;
use maclc_compiler::syntax::parse_file;

/// The size of the generated input: `gen_events.py --contacts 25000 --events 1000000`.
pub const CONTACTS: usize = 25_000;
pub const EVENTS: usize = 1_000_000;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generates the events once: the generator takes longer than a run, and the same file keeps
/// successive benchmark runs comparable.
pub fn events_file() -> Option<PathBuf> {
    let out_dir = manifest_dir().join("target/bench-run");
    let file = out_dir.join(format!("events-{CONTACTS}c-{EVENTS}e.jsonl"));
    if file.is_file() {
        return Some(file);
    }
    let workload = std::env::var_os("MACLC_WORKLOAD_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/workload"));
    let generator = workload.join("gen_events.py");
    if !generator.is_file() {
        println!(
            "skipped: no generator at {} (set MACLC_WORKLOAD_DIR to the folder of gen_events.py)",
            generator.display()
        );
        return None;
    }
    if std::fs::create_dir_all(&out_dir).is_err() {
        println!("skipped: cannot create {}", out_dir.display());
        return None;
    }
    // Written under another name first, so an interrupted generation is never reused.
    let partial = out_dir.join("events.partial");
    println!("generating {} (once)…", file.display());
    let status = Command::new("python3")
        .arg(&generator)
        .args(["--contacts", &CONTACTS.to_string()])
        .args(["--events", &EVENTS.to_string()])
        .arg("--out")
        .arg(&partial)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            println!("skipped: the generator failed ({s})");
            return None;
        }
        Err(e) => {
            println!("skipped: cannot run python3: {e}");
            return None;
        }
    }
    if std::fs::rename(&partial, &file).is_err() {
        println!(
            "skipped: cannot move the generated events to {}",
            file.display()
        );
        return None;
    }
    Some(file)
}

/// The sources of the project in `dir` (its `.marketing` files, sorted) and its IR.
pub fn load_project(dir: &Path) -> Result<(Sources, Ir), String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "marketing"))
        .collect();
    names.sort();
    let mut sources = Sources::new();
    for name in &names {
        let text = std::fs::read_to_string(name)
            .map_err(|e| format!("cannot read {}: {e}", name.display()))?;
        sources.add(name.display().to_string(), text);
    }
    let parsed = sources.iter().map(|f| parse_file(f)).collect();
    let analysis = maclc_compiler::analyze_parsed(&sources, parsed);
    if analysis.has_errors() {
        return Err("the project has check errors".into());
    }
    let ir = maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .map_err(|e| format!("cannot lower the project: {e}"))?;
    Ok((sources, ir))
}

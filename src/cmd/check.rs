//! `maclc check`: checks a project and prints its diagnostics for people, for CI (JSON) or for
//! code-scanning tools (SARIF).

use std::io::IsTerminal;
use std::path::PathBuf;

use maclc_compiler::diagnostics::{catalogue, render_human, Diagnostic, RenderOptions, Severity};
use maclc_compiler::source::Sources;
use serde_json::{json, Value};

use super::{use_color, EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders of `.marketing` files (a folder is one project); default: this folder
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,
    /// Output for people, for CI (`json`) or for code scanning (`sarif`)
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    deny_warnings: bool,
    /// The previous version of the project: warn about journey steps it had that contacts may
    /// be waiting in and this version removes (W0420)
    #[arg(long, value_name = "OLD_DIR")]
    against: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

pub fn run(args: &Args) -> u8 {
    let projects = match project::projects_named(&args.paths) {
        Ok(projects) => projects,
        Err(error) => {
            eprintln!("error: {}", error.0);
            return EXIT_USAGE;
        }
    };
    let color = use_color(std::io::stdout().is_terminal());
    let old = match &args.against {
        None => None,
        Some(dir) => match previous_version(dir) {
            Ok(program) => Some(program),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_USAGE;
            }
        },
    };
    let mut report = Report::default();
    for files in &projects {
        let project = match project::load(files) {
            Ok(project) => project,
            Err(error) => {
                eprintln!("error: {}", error.0);
                return EXIT_USAGE;
            }
        };
        let mut analysis = maclc_compiler::analyze_parsed(&project.sources, project.parsed);
        if let Some(old) = &old {
            let removed = maclc_compiler::ir::against(old, &analysis.program);
            analysis.diagnostics.extend(removed);
        }
        report.add(&analysis.diagnostics, &project.sources, args.format, color);
    }
    match args.format {
        Format::Human => {
            print!("{}", report.human);
            println!(
                "{}",
                summary(
                    report.files.len(),
                    projects.len(),
                    report.errors,
                    report.warnings
                )
            );
        }
        Format::Json => println!(
            "{}",
            pretty(&json!({
                "version": 1,
                "files": report.files,
                "diagnostics": report.json,
                "summary": { "errors": report.errors, "warnings": report.warnings },
            }))
        ),
        Format::Sarif => println!("{}", pretty(&to_sarif(&report.codes, report.json_sarif))),
    }
    if report.errors > 0 || (args.deny_warnings && report.warnings > 0) {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

/// The checked program of `--against OLD_DIR` (one project, without errors).
fn previous_version(dir: &std::path::Path) -> Result<maclc_compiler::check::Program, String> {
    let name = project::display_name(dir);
    let projects =
        project::projects_named(std::slice::from_ref(&dir.to_path_buf())).map_err(|e| e.0)?;
    let [files] = projects.as_slice() else {
        return Err(format!(
            "`--against {name}` must be one project (one folder of `.marketing` files)"
        ));
    };
    let project = project::load(files).map_err(|e| e.0)?;
    let analysis = maclc_compiler::analyze_parsed(&project.sources, project.parsed);
    if analysis.has_errors() {
        return Err(format!(
            "the previous version `{name}` has errors; run `maclc check {name}` first"
        ));
    }
    Ok(analysis.program)
}

/// What `check` prints, gathered over every project.
#[derive(Default)]
struct Report {
    files: Vec<String>,
    errors: usize,
    warnings: usize,
    human: String,
    json: Vec<Value>,
    json_sarif: Vec<Value>,
    codes: Vec<&'static str>,
}

impl Report {
    fn add(&mut self, diagnostics: &[Diagnostic], sources: &Sources, format: Format, color: bool) {
        self.files.extend(sources.iter().map(|f| f.name.clone()));
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        self.errors += errors;
        self.warnings += diagnostics.len() - errors;
        match format {
            Format::Human => self.human.push_str(&render_human(
                diagnostics,
                sources,
                RenderOptions {
                    color,
                    ..RenderOptions::default()
                },
            )),
            Format::Json => self
                .json
                .extend(diagnostics.iter().map(|d| diagnostic_json(d, sources))),
            Format::Sarif => {
                self.json_sarif
                    .extend(diagnostics.iter().map(|d| sarif_result(d, sources)));
                self.codes
                    .extend(diagnostics.iter().map(|d| d.code().as_str()));
            }
        }
    }
}

fn summary(files: usize, projects: usize, errors: usize, warnings: usize) -> String {
    let files = if projects > 1 {
        format!("{} in {projects} projects", plural(files, "file"))
    } else {
        plural(files, "file")
    };
    match (errors, warnings) {
        (0, 0) => format!("checked {files}: no problems found"),
        (0, w) => format!("checked {files}: {}", plural(w, "warning")),
        (e, 0) => format!("checked {files}: {}", plural(e, "error")),
        (e, w) => format!(
            "checked {files}: {} and {}",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A span as file name and 1-based line/column positions.
fn location(sources: &Sources, span: maclc_compiler::source::Span) -> Value {
    let Some(file) = sources.get(span.file) else {
        return Value::Null;
    };
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    json!({
        "file": file.name,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "offset": span.start,
        "length": span.len(),
    })
}

fn diagnostic_json(d: &Diagnostic, sources: &Sources) -> Value {
    json!({
        "code": d.code().as_str(),
        "severity": d.severity().as_str(),
        "message": d.message(),
        "location": location(sources, d.span()),
        "label": d.primary().message,
        "related": d.secondary().iter().map(|l| json!({
            "message": l.message,
            "location": location(sources, l.span),
        })).collect::<Vec<_>>(),
        "help": d.help(),
        "fix": d.fix().map(|f| json!({
            "title": f.title,
            "location": location(sources, f.span),
            "replacement": f.replacement,
        })),
    })
}

fn sarif_region(sources: &Sources, span: maclc_compiler::source::Span) -> Value {
    let Some(file) = sources.get(span.file) else {
        return Value::Null;
    };
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": file.name },
            "region": { "startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column },
        }
    })
}

fn sarif_result(d: &Diagnostic, sources: &Sources) -> Value {
    let mut text = d.message().to_string();
    if let Some(help) = d.help() {
        text.push_str(&format!("\nhelp: {help}"));
    }
    json!({
        "ruleId": d.code().as_str(),
        "level": level(d.severity()),
        "message": { "text": text },
        "locations": [sarif_region(sources, d.span())],
        "relatedLocations": d.secondary().iter().enumerate().map(|(i, l)| {
            let mut region = sarif_region(sources, l.span);
            if let Value::Object(map) = &mut region {
                map.insert("id".to_string(), json!(i));
                map.insert("message".to_string(), json!({ "text": l.message }));
            }
            region
        }).collect::<Vec<_>>(),
    })
}

/// SARIF 2.1.0, the format code-scanning tools read: one run, the rules used, the results.
fn to_sarif(codes: &[&str], results: Vec<Value>) -> Value {
    let mut used: Vec<&str> = codes.to_vec();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<Value> = used
        .iter()
        .filter_map(|code| catalogue::lookup(code))
        .map(|entry| {
            json!({
                "id": entry.code.as_str(),
                "shortDescription": { "text": entry.title },
                "fullDescription": { "text": entry.explanation },
                "help": { "text": format!("{}\n\nFixed:\n{}", entry.explanation, entry.fix) },
                "defaultConfiguration": { "level": level(entry.code.severity()) },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "maclc",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

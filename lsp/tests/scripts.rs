//! LSP tests as scripts: every `lsp/tests/scripts/*.script` is a project and a list of
//! requests; the transcript of answers is snapshotted (`lsp/tests/scripts/snapshots/`).
//! Add a script and run `INSTA_UPDATE=always cargo test -p maclc-lsp --test scripts`, then read
//! the new snapshot.
//!
//! A script is made of sections, each opened by a line `=== COMMAND ARGS…`:
//! - `=== file NAME` — the body is a file of the project, written to a fresh folder;
//! - `=== open NAME` — opens the file as written; `=== change NAME` — the body is its new text;
//! - `=== completion|hover|definition|references|prepareRename|codeAction NAME MARKER`,
//!   `=== rename NAME MARKER NEW`, `=== formatting|symbols|folding NAME`, `=== panic`.
//!
//! A marker `<|m|>` in a body names a position (the marker itself is removed). Open and change
//! wait until the server has published diagnostics for every file of the project, then the
//! transcript shows them.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{uri_of, TestClient};

struct Section {
    command: Vec<String>,
    body: String,
}

fn sections(script: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in script.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("=== ") {
            out.push(Section {
                command: header.split_whitespace().map(String::from).collect(),
                body: String::new(),
            });
        } else if let Some(section) = out.last_mut() {
            section.body.push_str(line);
        }
    }
    out
}

/// Removes `<|name|>` markers, returning the text and each marker's (line, UTF-16 column).
fn take_markers(body: &str) -> (String, BTreeMap<String, (u32, u32)>) {
    let mut text = String::new();
    let mut markers = BTreeMap::new();
    let mut rest = body;
    while let Some(start) = rest.find("<|") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("|>").expect("an unclosed marker");
        let line = text.matches('\n').count() as u32;
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let column: usize = text[line_start..].chars().map(char::len_utf16).sum();
        markers.insert(after[..end].to_string(), (line, column as u32));
        rest = &after[end + 2..];
    }
    text.push_str(rest);
    (text, markers)
}

/// Turns absolute URIs of the project folder into `file:///project/…` so snapshots are stable,
/// and ranges into `line:col-line:col` so they read at a glance.
fn normalise(value: &Value, root_uri: &str) -> Value {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let value =
        serde_json::from_str(&text.replace(root_uri, "file:///project")).unwrap_or(Value::Null);
    compact_ranges(value)
}

fn compact_ranges(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let is_range = map.len() == 2
                && map.get("start").is_some_and(|p| p.get("line").is_some())
                && map.get("end").is_some_and(|p| p.get("line").is_some());
            if is_range {
                return Value::String(range_text(&Value::Object(map)));
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, compact_ranges(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(compact_ranges).collect()),
        other => other,
    }
}

fn sorted_locations(value: Value) -> Value {
    match value {
        Value::Array(mut items) => {
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        other => other,
    }
}

/// Workspace edits come as a map of URI to edits: sort the edits so the order is stable.
fn sorted_edit(mut value: Value) -> Value {
    if let Some(changes) = value
        .get_mut("result")
        .and_then(|r| r.get_mut("changes"))
        .and_then(Value::as_object_mut)
    {
        for edits in changes.values_mut() {
            let sorted = sorted_locations(edits.take());
            *edits = sorted;
        }
    }
    value
}

async fn run_script(script: &str, dir: &Path) -> String {
    let root_uri = uri_of(dir);
    let mut out = String::new();
    let mut markers: BTreeMap<String, BTreeMap<String, (u32, u32)>> = BTreeMap::new();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    let all = sections(script);
    for s in all
        .iter()
        .filter(|s| s.command.first().map(String::as_str) == Some("file"))
    {
        let name = &s.command[1];
        let (text, m) = take_markers(&s.body);
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("a folder for the file");
        }
        std::fs::write(&path, &text).expect("writing a project file");
        markers.insert(name.clone(), m);
        texts.insert(name.clone(), text);
    }
    let project_uris: BTreeSet<String> = texts.keys().map(|n| uri_of(&dir.join(n))).collect();
    let mut client = TestClient::start().await;
    for s in &all {
        let command: Vec<&str> = s.command.iter().map(String::as_str).collect();
        let uri_for = |name: &str| uri_of(&dir.join(name));
        let position = |name: &str, marker: &str| -> Value {
            let (line, character) = markers
                .get(name)
                .and_then(|m| m.get(marker))
                .copied()
                .unwrap_or_else(|| panic!("no marker `{marker}` in {name}"));
            json!({ "line": line, "character": character })
        };
        let doc = |name: &str| json!({ "uri": uri_of(&dir.join(name)) });
        let answer = match command.as_slice() {
            ["file", _] => continue,
            ["open", name] => {
                let text = texts.get(*name).cloned().unwrap_or_default();
                client.open(&uri_for(name), &text).await;
                client.wait_for_diagnostics(&project_uris).await;
                None
            }
            ["change", name] => {
                let (text, m) = take_markers(&s.body);
                markers.insert(name.to_string(), m);
                let version = versions.entry(name.to_string()).or_insert(1);
                *version += 1;
                client.change(&uri_for(name), *version, &text).await;
                client.wait_for_diagnostics(&project_uris).await;
                None
            }
            ["completion", name, m] => Some(
                client
                    .request(
                        "textDocument/completion",
                        json!({ "textDocument": doc(name), "position": position(name, m) }),
                    )
                    .await,
            ),
            ["hover", name, m] => Some(
                client
                    .request(
                        "textDocument/hover",
                        json!({ "textDocument": doc(name), "position": position(name, m) }),
                    )
                    .await,
            ),
            ["definition", name, m] => Some(
                client
                    .request(
                        "textDocument/definition",
                        json!({ "textDocument": doc(name), "position": position(name, m) }),
                    )
                    .await,
            ),
            ["references", name, m] => {
                let mut answer = client
                    .request(
                        "textDocument/references",
                        json!({ "textDocument": doc(name), "position": position(name, m), "context": { "includeDeclaration": true } }),
                    )
                    .await;
                if let Some(result) = answer.get_mut("result") {
                    *result = sorted_locations(result.take());
                }
                Some(answer)
            }
            ["prepareRename", name, m] => Some(
                client
                    .request(
                        "textDocument/prepareRename",
                        json!({ "textDocument": doc(name), "position": position(name, m) }),
                    )
                    .await,
            ),
            ["rename", name, m, new_name] => Some(sorted_edit(
                client
                    .request(
                        "textDocument/rename",
                        json!({ "textDocument": doc(name), "position": position(name, m), "newName": new_name }),
                    )
                    .await,
            )),
            ["formatting", name] => Some(
                client
                    .request(
                        "textDocument/formatting",
                        json!({ "textDocument": doc(name), "options": { "tabSize": 2, "insertSpaces": true } }),
                    )
                    .await,
            ),
            ["symbols", name] => Some(
                client
                    .request("textDocument/documentSymbol", json!({ "textDocument": doc(name) }))
                    .await,
            ),
            ["folding", name] => Some(
                client
                    .request("textDocument/foldingRange", json!({ "textDocument": doc(name) }))
                    .await,
            ),
            ["codeAction", name, m] => {
                let p = position(name, m);
                Some(
                    client
                        .request(
                            "textDocument/codeAction",
                            json!({ "textDocument": doc(name), "range": { "start": p, "end": p }, "context": { "diagnostics": [] } }),
                        )
                        .await,
                )
            }
            ["panic"] => Some(client.request("maclc/testPanic", Value::Null).await),
            other => panic!("unknown script command {other:?}"),
        };
        out.push_str(&format!("=== {}\n", s.command.join(" ")));
        match answer {
            None => {
                let diagnostics: BTreeMap<&String, &Value> = client.diagnostics.iter().collect();
                let shown = normalise(&json!(diagnostics), &root_uri);
                out.push_str(&render_diagnostics(&shown));
            }
            Some(answer) if command.first() == Some(&"completion") => {
                out.push_str(&render_completion(&answer));
            }
            Some(mut answer) => {
                if let Some(map) = answer.as_object_mut() {
                    map.remove("id");
                    map.remove("jsonrpc");
                }
                let shown = normalise(&answer, &root_uri);
                out.push_str(&serde_json::to_string_pretty(&shown).unwrap_or_default());
            }
        }
        out.push('\n');
        if command.first() == Some(&"panic") {
            out.push_str(&format!("logs: {:?}\n", client.logs.last()));
        }
    }
    client.shutdown().await;
    out
}

fn range_text(range: &Value) -> String {
    if let Some(text) = range.as_str() {
        return text.to_string();
    }
    format!(
        "{}:{}-{}:{}",
        range["start"]["line"],
        range["start"]["character"],
        range["end"]["line"],
        range["end"]["character"]
    )
}

/// One line per diagnostic: `file line:col-line:col severity code message`, related locations
/// under it.
fn render_diagnostics(all: &Value) -> String {
    let mut out = String::from("publishDiagnostics:\n");
    for (uri, list) in all.as_object().into_iter().flatten() {
        let list = list.as_array().cloned().unwrap_or_default();
        out.push_str(&format!("  {uri}: {} diagnostics\n", list.len()));
        for d in list {
            let severity = match d["severity"].as_i64() {
                Some(1) => "error",
                Some(2) => "warning",
                _ => "other",
            };
            out.push_str(&format!(
                "    {} {severity} {} {}\n",
                range_text(&d["range"]),
                d["code"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("").replace('\n', " | ")
            ));
            for r in d["relatedInformation"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "      related {} {}: {}\n",
                    r["location"]["uri"].as_str().unwrap_or(""),
                    range_text(&r["location"]["range"]),
                    r["message"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

/// One line per item, in the server's order (`sortText`): label, detail, snippet body.
fn render_completion(answer: &Value) -> String {
    let Some(items) = answer["result"].as_array() else {
        return format!("{answer}\n");
    };
    let mut items = items.clone();
    items.sort_by_key(|i| i["sortText"].as_str().unwrap_or("").to_string());
    let mut out = format!("{} items\n", items.len());
    for i in items {
        out.push_str(&format!("  {}", i["label"].as_str().unwrap_or("")));
        if let Some(detail) = i["detail"].as_str() {
            out.push_str(&format!(" — {detail}"));
        }
        if let Some(body) = i["insertText"].as_str() {
            out.push_str(&format!(" => {}", body.replace('\n', "⏎")));
        }
        out.push('\n');
    }
    out
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
}

#[tokio::test]
async fn every_script_matches_its_snapshot() {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(scripts_dir())
        .expect("the scripts folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "script"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts found");
    let mut failures = Vec::new();
    for script in &scripts {
        let text = std::fs::read_to_string(script).expect("reading a script");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let transcript = run_script(&text, dir.path()).await;
        let name = script
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let outcome = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => scripts_dir().join("snapshots"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.clone(), transcript);
            });
        });
        if outcome.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "snapshots differ for: {failures:?}");
}

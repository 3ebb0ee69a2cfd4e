//! An in-process LSP client for the tests: the server runs on a tokio task and talks to the
//! test over in-memory pipes, with the same framing (`Content-Length`) as over stdio. No
//! timing: after a notification that publishes diagnostics, the client reads until it has
//! seen them for every file it expects.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

pub struct TestClient {
    to_server: DuplexStream,
    from_server: BufReader<DuplexStream>,
    next_id: i64,
    /// Last diagnostics published per URI.
    pub diagnostics: BTreeMap<String, Value>,
    /// `window/logMessage` texts, in order.
    pub logs: Vec<String>,
    /// How many times diagnostics were published per URI, and those counts when the last open or
    /// change was sent: waiting is for publications after that edit, even if some arrived while
    /// the client was waiting for the answer to a request.
    published: BTreeMap<String, usize>,
    mark: BTreeMap<String, usize>,
}

impl TestClient {
    /// Starts a server and sends `initialize` and `initialized`.
    pub async fn start() -> TestClient {
        let (client_write, server_read) = tokio::io::duplex(1 << 20);
        let (server_write, client_read) = tokio::io::duplex(1 << 20);
        tokio::spawn(maclc_lsp::serve(server_read, server_write));
        let mut client = TestClient {
            to_server: client_write,
            from_server: BufReader::new(client_read),
            next_id: 0,
            diagnostics: BTreeMap::new(),
            logs: Vec::new(),
            published: BTreeMap::new(),
            mark: BTreeMap::new(),
        };
        let init = client
            .request("initialize", json!({ "capabilities": {} }))
            .await;
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        client.notify("initialized", json!({})).await;
        client
    }

    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        if std::env::var_os("LSP_TEST_TRACE").is_some() {
            eprintln!("-> {body}");
        }
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.to_server
            .write_all(frame.as_bytes())
            .await
            .expect("the server stopped reading");
    }

    async fn receive(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let n = self
                .from_server
                .read_line(&mut line)
                .await
                .expect("reading from the server");
            assert!(n > 0, "the server closed its output");
            if std::env::var_os("LSP_TEST_TRACE").is_some() {
                eprintln!("<-h {line:?}");
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a Content-Length header")];
        self.from_server
            .read_exact(&mut body)
            .await
            .expect("reading a message body");
        serde_json::from_slice(&body).expect("the server sent JSON")
    }

    /// Handles a message that is not the answer being waited for.
    fn note(&mut self, message: &Value) {
        match message.get("method").and_then(Value::as_str) {
            Some("textDocument/publishDiagnostics") => {
                let params = &message["params"];
                let uri = params["uri"].as_str().unwrap_or_default().to_string();
                *self.published.entry(uri.clone()).or_default() += 1;
                self.diagnostics.insert(uri, params["diagnostics"].clone());
            }
            Some("window/logMessage") => {
                self.logs.push(
                    message["params"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .into(),
                );
            }
            _ => {}
        }
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        loop {
            let message = self.receive().await;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.note(&message);
        }
    }

    /// Reads messages until diagnostics have been published for every URI of `uris` since the
    /// last open or change (the server publishes each file of the project after an edit).
    pub async fn wait_for_diagnostics(&mut self, uris: &BTreeSet<String>) {
        loop {
            let done = uris.iter().all(|u| {
                self.published.get(u).copied().unwrap_or(0) > self.mark.get(u).copied().unwrap_or(0)
            });
            if done {
                return;
            }
            let message = self.receive().await;
            if std::env::var_os("LSP_TEST_TRACE").is_some() {
                eprintln!("<- {message}");
            }
            self.note(&message);
        }
    }

    pub async fn open(&mut self, uri: &str, text: &str) {
        self.mark = self.published.clone();
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "marketing", "version": 1, "text": text } }),
        )
        .await;
    }

    pub async fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.mark = self.published.clone();
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        )
        .await;
    }

    pub async fn shutdown(mut self) {
        let answer = self.request("shutdown", Value::Null).await;
        assert!(answer.get("error").is_none(), "shutdown failed: {answer}");
        self.notify("exit", Value::Null).await;
    }
}

/// `file:///…` for a path.
pub fn uri_of(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

//! The `LanguageServer` implementation: converts requests to (file, byte offset), runs the
//! feature functions on the project's analysis under `catch_unwind`, and converts back.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use maclc_compiler::source::FileId;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::features::{completion, diagnostics, document, hover, navigate};
use crate::position::offset_of;
use crate::world::{ProjectView, World};

/// The server: the client handle (to publish diagnostics and log) and the world.
#[derive(Debug)]
pub struct Backend {
    client: Client,
    world: Mutex<World>,
}

/// A failed request, as the client will see it.
fn request_error(message: String) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}

fn refused(message: String) -> Error {
    Error {
        code: ErrorCode::InvalidRequest,
        message: message.into(),
        data: None,
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown cause".into()
    }
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            world: Mutex::new(World::new()),
        }
    }

    /// Runs `work` on the world, catching a panic: the caches are dropped (they may be half
    /// built), the panic is logged to the client and becomes an error answer.
    async fn guarded<T>(&self, what: &str, work: impl FnOnce(&mut World) -> T) -> Result<T> {
        let outcome = {
            let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
            let outcome = catch_unwind(AssertUnwindSafe(|| work(&mut world)));
            if outcome.is_err() {
                world.reset_caches();
            }
            outcome
        };
        match outcome {
            Ok(value) => Ok(value),
            Err(payload) => {
                let message = format!(
                    "maclc lsp: internal error while answering {what} ({}); the server goes on",
                    panic_text(payload.as_ref())
                );
                self.client.log_message(MessageType::ERROR, &message).await;
                Err(request_error(message))
            }
        }
    }

    /// Runs a feature on the project of `uri` at `position` (as a byte offset).
    async fn at<T>(
        &self,
        what: &str,
        uri: &Uri,
        position: Position,
        feature: impl FnOnce(&ProjectView, FileId, usize) -> T,
    ) -> Result<Option<T>> {
        self.guarded(what, |world| {
            let (view, file) = world.project_of(uri);
            let file = file?;
            let offset = offset_of(view.text(file), position);
            Some(feature(&view, file, offset))
        })
        .await
    }

    async fn whole<T>(
        &self,
        what: &str,
        uri: &Uri,
        feature: impl FnOnce(&ProjectView, FileId) -> T,
    ) -> Result<Option<T>> {
        self.guarded(what, |world| {
            let (view, file) = world.project_of(uri);
            Some(feature(&view, file?))
        })
        .await
    }

    /// Re-checks the project of `uri` and publishes the diagnostics of each of its files (an
    /// edit in the schema changes what the rule files say).
    async fn publish(&self, uri: &Uri) {
        let batches = self
            .guarded("a change", |world| {
                let (view, _) = world.project_of(uri);
                let mut batches: Vec<(Uri, Vec<Diagnostic>)> = Vec::new();
                for (index, uri) in view.uris.iter().enumerate() {
                    let Some(uri) = uri else {
                        continue;
                    };
                    let file = FileId(u32::try_from(index).unwrap_or(u32::MAX));
                    batches.push((uri.clone(), diagnostics::for_file(&view, file)));
                }
                for gone in world.note_published(&view) {
                    if let Some(uri) = world.uri_for(&gone) {
                        batches.push((uri, Vec::new()));
                    }
                }
                batches
            })
            .await;
        for (uri, diagnostics) in batches.unwrap_or_default() {
            self.client
                .publish_diagnostics(uri, diagnostics, None)
                .await;
        }
    }

    /// `maclc/testPanic`: panics inside the guard, so tests can show that a bug in a handler
    /// is answered with an error and the server goes on.
    pub async fn test_panic(&self) -> Result<()> {
        self.guarded("maclc/testPanic", |_| -> () {
            panic!("a deliberate panic for the crash test")
        })
        .await
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut folders: Vec<std::path::PathBuf> = params
            .workspace_folders
            .unwrap_or_default()
            .iter()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        #[allow(deprecated)] // older clients only send `rootUri`
        if let Some(root) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
            folders.push(root.into_owned());
        }
        let _ = self
            .guarded("initialize", |world| world.set_workspace(folders))
            .await;
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), " ".into(), "=".into()]),
                    ..CompletionOptions::default()
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "maclc".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.client
            .log_message(MessageType::INFO, "maclc language server ready")
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri;
        let text = params.text_document.text;
        let _ = self
            .guarded("didOpen", |world| world.open(uri.clone(), text))
            .await;
        self.publish(&uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        let _ = self
            .guarded("didChange", |world| world.change(&uri, change.text))
            .await;
        self.publish(&uri).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let _ = self.guarded("didSave", World::forget_disk).await;
        self.publish(&params.text_document.uri).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let _ = self.guarded("didClose", |world| world.close(&uri)).await;
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        let _ = self.guarded("a file change", World::forget_disk).await;
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let items = self
            .at(
                "completion",
                &p.text_document.uri,
                p.position,
                completion::complete,
            )
            .await?;
        Ok(items.map(CompletionResponse::Array))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        Ok(self
            .at("hover", &p.text_document.uri, p.position, hover::hover)
            .await?
            .flatten())
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        Ok(self
            .at(
                "definition",
                &p.text_document.uri,
                p.position,
                navigate::definition,
            )
            .await?
            .flatten()
            .map(GotoDefinitionResponse::Scalar))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.at("references", &p.text_document.uri, p.position, |v, f, o| {
            navigate::references(v, f, o, include)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let answer = self
            .at(
                "prepareRename",
                &params.text_document.uri,
                params.position,
                navigate::prepare_rename,
            )
            .await?;
        match answer {
            None => Ok(None),
            Some(Ok(range)) => Ok(Some(PrepareRenameResponse::Range(range))),
            Some(Err(navigate::RenameRefused(message))) => Err(refused(message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let new_name = params.new_name;
        let answer = self
            .at("rename", &p.text_document.uri, p.position, |v, f, o| {
                navigate::rename(v, f, o, &new_name)
            })
            .await?;
        match answer {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(navigate::RenameRefused(message))) => Err(refused(message)),
        }
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let answer = self
            .whole("formatting", &params.text_document.uri, document::format)
            .await?;
        match answer {
            None => Ok(None),
            Some(Ok(edits)) => Ok(Some(edits)),
            Some(Err(document::FormatRefused(message))) => Err(refused(message)),
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        Ok(self
            .whole(
                "documentSymbol",
                &params.text_document.uri,
                document::symbols,
            )
            .await?
            .map(DocumentSymbolResponse::Nested))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.whole("foldingRange", &params.text_document.uri, document::folding)
            .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let range = params.range;
        self.whole("codeAction", &params.text_document.uri, |v, f| {
            document::code_actions(v, f, range)
        })
        .await
    }
}

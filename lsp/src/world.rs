//! What the server knows: the open documents and, per project folder, the last analysis.
//!
//! A project is found the way `maclc check` finds one: the folder of the opened file (climbing
//! while the folder above also holds `.marketing` files), every `.marketing` file under it, and the
//! files they import. The editor's text of an open document wins over the disk. Parsing and
//! checking are the compiler's own functions (`syntax::parse_file`, `analyze_parsed`); a file
//! whose text did not change keeps its parse from the previous analysis.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maclc_compiler::source::{resolve_import_path, FileId, Sources};
use maclc_compiler::syntax::{parse_file, ParsedFile};
use maclc_compiler::Analysis;
use tower_lsp_server::ls_types::Uri;

/// How many folders up a project may reach from the opened file.
const MAX_CLIMB: usize = 8;
/// A folder with more `.marketing` files than this is not one project (a home folder opened by
/// mistake): the rest are left out rather than freezing the editor.
const MAX_FILES: usize = 2000;

/// The server's state: open documents and cached analyses.
#[derive(Debug, Default)]
pub struct World {
    /// Open documents by path (a non-file URI gets a path of its own text): the editor's text.
    open: BTreeMap<PathBuf, Document>,
    parse_cache: HashMap<PathBuf, CachedParse>,
    projects: HashMap<PathBuf, Arc<ProjectView>>,
    /// The files diagnostics were last published for, per project root, so a file that leaves a
    /// project gets its diagnostics cleared.
    published: HashMap<PathBuf, BTreeSet<PathBuf>>,
    /// The editor's workspace folders: a project may reach up to one of them, never above.
    workspace: Vec<PathBuf>,
}

#[derive(Debug)]
struct Document {
    uri: Uri,
    text: String,
    /// Not a `file:` URI: a project of its own, never read from disk.
    detached: bool,
}

#[derive(Debug)]
struct CachedParse {
    text: Arc<str>,
    file: FileId,
    parsed: ParsedFile,
}

/// One analysed project: its sources (named by absolute path), where each file lives, and the
/// compiler's analysis.
#[derive(Debug)]
pub struct ProjectView {
    pub root: PathBuf,
    pub sources: Sources,
    /// Indexed by `FileId`.
    pub paths: Vec<PathBuf>,
    /// Indexed by `FileId`; `None` when no URI can name the file.
    pub uris: Vec<Option<Uri>>,
    pub analysis: Analysis,
}

impl ProjectView {
    pub fn file_of(&self, path: &Path) -> Option<FileId> {
        self.paths
            .iter()
            .position(|p| p == path)
            .and_then(|i| u32::try_from(i).ok())
            .map(FileId)
    }

    pub fn text(&self, file: FileId) -> &str {
        self.sources.get(file).map_or("", |f| &f.text)
    }

    pub fn uri(&self, file: FileId) -> Option<&Uri> {
        self.uris.get(file.0 as usize).and_then(Option::as_ref)
    }

    pub fn parsed(&self, file: FileId) -> Option<&ParsedFile> {
        self.analysis.parsed.get(file.0 as usize)
    }
}

/// The path a URI stands for: its file path, or for other schemes (`untitled:`) a path made of
/// the URI itself, which is never read from disk.
pub fn path_of(uri: &Uri) -> (PathBuf, bool) {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    match uri.to_file_path() {
        Some(path) if is_file => (path.into_owned(), false),
        _ => (PathBuf::from(uri.as_str()), true),
    }
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// The workspace folders the editor opened (from `initialize`).
    pub fn set_workspace(&mut self, folders: Vec<PathBuf>) {
        self.workspace = folders;
        self.projects.clear();
    }

    pub fn open(&mut self, uri: Uri, text: String) {
        let (path, detached) = path_of(&uri);
        self.open.insert(
            path,
            Document {
                uri,
                text,
                detached,
            },
        );
        self.projects.clear();
    }

    /// A whole new text for an open document (full sync).
    pub fn change(&mut self, uri: &Uri, text: String) {
        let (path, _) = path_of(uri);
        match self.open.get_mut(&path) {
            Some(doc) => doc.text = text,
            None => return self.open(uri.clone(), text),
        }
        self.projects.clear();
    }

    pub fn close(&mut self, uri: &Uri) {
        let (path, _) = path_of(uri);
        self.open.remove(&path);
        self.projects.clear();
    }

    /// A file changed on disk (saved by another program).
    pub fn forget_disk(&mut self) {
        self.projects.clear();
    }

    /// After a panic the caches may be half built: drop them, keep the documents.
    pub fn reset_caches(&mut self) {
        self.projects.clear();
        self.parse_cache.clear();
    }

    pub fn open_text(&self, uri: &Uri) -> Option<&str> {
        self.open.get(&path_of(uri).0).map(|d| d.text.as_str())
    }

    /// The analysed project holding the document at `uri`, with its file id there.
    pub fn project_of(&mut self, uri: &Uri) -> (Arc<ProjectView>, Option<FileId>) {
        let (path, detached) = path_of(uri);
        let detached = detached || self.open.get(&path).is_some_and(|d| d.detached);
        let root = if detached {
            path.clone()
        } else {
            project_root(&path, &self.workspace)
        };
        let view = match self.projects.get(&root) {
            Some(view) => view.clone(),
            None => {
                let view = Arc::new(self.analyse(&root, &path, detached));
                self.projects.insert(root.clone(), view.clone());
                view
            }
        };
        let file = view.file_of(&path);
        (view, file)
    }

    /// Records which files of `view` got diagnostics now and returns those that had some before
    /// but are no longer in the project (their diagnostics must be cleared).
    pub fn note_published(&mut self, view: &ProjectView) -> Vec<PathBuf> {
        let now: BTreeSet<PathBuf> = view.paths.iter().cloned().collect();
        let before = self.published.insert(view.root.clone(), now.clone());
        before
            .map(|b| b.difference(&now).cloned().collect())
            .unwrap_or_default()
    }

    pub fn uri_for(&self, path: &Path) -> Option<Uri> {
        match self.open.get(path) {
            Some(doc) => Some(doc.uri.clone()),
            None => Uri::from_file_path(path),
        }
    }

    fn text_of(&self, path: &Path) -> Option<String> {
        if let Some(doc) = self.open.get(path) {
            return Some(doc.text.clone());
        }
        let bytes = fs::read(path).ok()?;
        String::from_utf8(bytes).ok()
    }

    fn analyse(&mut self, root: &Path, opened: &Path, detached: bool) -> ProjectView {
        let mut files: BTreeSet<PathBuf> = BTreeSet::new();
        if detached {
            files.insert(opened.to_path_buf());
        } else {
            walk(root, &mut files);
            for path in self.open.keys() {
                if path.starts_with(root) && is_marketing(path) {
                    files.insert(path.clone());
                }
            }
            files.insert(opened.to_path_buf());
        }
        let mut queue: Vec<PathBuf> = files.into_iter().collect();
        let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
        let mut sources = Sources::new();
        let mut parsed = Vec::new();
        let mut paths = Vec::new();
        let mut uris = Vec::new();
        let mut index = 0;
        while index < queue.len() {
            let path = queue[index].clone();
            index += 1;
            if !seen.insert(path.clone()) {
                continue;
            }
            let Some(text) = self.text_of(&path) else {
                continue;
            };
            let name = path.to_string_lossy().replace('\\', "/");
            let id = sources.add(name.clone(), text);
            let Some(source) = sources.get(id) else {
                continue;
            };
            let result = match self.parse_cache.get(&path) {
                Some(c) if c.file == id && c.text == source.text => c.parsed.clone(),
                _ => {
                    let fresh = parse_file(source);
                    self.parse_cache.insert(
                        path.clone(),
                        CachedParse {
                            text: source.text.clone(),
                            file: id,
                            parsed: fresh.clone(),
                        },
                    );
                    fresh
                }
            };
            if !detached {
                for import in result.imports() {
                    let target = PathBuf::from(resolve_import_path(&name, &import.value));
                    if !seen.contains(&target)
                        && (target.is_file() || self.open.contains_key(&target))
                    {
                        queue.push(target);
                    }
                }
            }
            parsed.push(result);
            uris.push(self.uri_for(&path));
            paths.push(path);
        }
        let analysis = maclc_compiler::analyze_parsed(&sources, parsed);
        ProjectView {
            root: root.to_path_buf(),
            sources,
            paths,
            uris,
            analysis,
        }
    }
}

fn is_marketing(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "marketing")
}

fn has_own_files(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| is_marketing(&e.path()) && e.path().is_file())
    })
}

/// The project folder of a file: its folder, or a folder above while that one also holds
/// `.marketing` files (as `maclc check FOLDER` takes a folder with its subfolders) and is still
/// inside one of the editor's workspace folders.
pub fn project_root(path: &Path, workspace: &[PathBuf]) -> PathBuf {
    let Some(mut dir) = path.parent().map(Path::to_path_buf) else {
        return path.to_path_buf();
    };
    for _ in 0..MAX_CLIMB {
        match dir.parent() {
            Some(up) if workspace.iter().any(|w| up.starts_with(w)) && has_own_files(up) => {
                dir = up.to_path_buf()
            }
            _ => break,
        }
    }
    dir
}

/// Every `.marketing` file under `dir`, skipping hidden folders, `target` and `snapshots` (as
/// the command line does).
fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        if found.len() >= MAX_FILES {
            return;
        }
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "snapshots" {
                walk(&path, found);
            }
        } else if is_marketing(&path) {
            found.insert(path);
        }
    }
}

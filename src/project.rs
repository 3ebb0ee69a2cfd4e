//! Loads a project from disk: the `.marketing` files named or found in folders, plus every file
//! they import, each parsed once.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use maclc_compiler::artefact::{content_hash, SourceText};
use maclc_compiler::source::{resolve_import_path, Sources};
use maclc_compiler::syntax::{parse_file, ParsedFile};

/// A loaded project: its sources and their parse results, in the same order.
pub struct Project {
    pub sources: Sources,
    pub parsed: Vec<ParsedFile>,
}

/// Why a project could not be loaded (a usage error, not a problem in the rules).
#[derive(Debug)]
pub struct LoadError(pub String);

/// The projects named by `paths`, each a sorted list of files. A folder with `.marketing` files
/// directly in it is one project (with its subfolders); a folder without any stands for each of its
/// subfolders separately (so `maclc check examples` checks every example on its own); files named
/// one by one form one project together.
pub fn find_projects(paths: &[PathBuf]) -> Result<Vec<Vec<PathBuf>>, LoadError> {
    let mut projects = Vec::new();
    let mut loose = Vec::new();
    for path in paths {
        if path.is_dir() {
            split_folder(path, &mut projects).map_err(|e| {
                LoadError(format!(
                    "cannot read the folder `{}`: {e}",
                    display_name(path)
                ))
            })?;
        } else if path.is_file() {
            loose.push(path.clone());
        } else {
            return Err(LoadError(format!(
                "`{}` does not exist",
                display_name(path)
            )));
        }
    }
    if !loose.is_empty() {
        loose.sort();
        loose.dedup();
        projects.insert(0, loose);
    }
    Ok(projects)
}

fn split_folder(dir: &Path, projects: &mut Vec<Vec<PathBuf>>) -> std::io::Result<()> {
    let mut children: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    children.sort();
    let has_own_files = children
        .iter()
        .any(|p| p.is_file() && p.extension().is_some_and(|e| e == "marketing"));
    if has_own_files {
        let mut found = BTreeSet::new();
        walk(dir, &mut found)?;
        projects.push(found.into_iter().collect());
        return Ok(());
    }
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if child.is_dir() && !name.starts_with('.') && name != "target" && name != "snapshots" {
            split_folder(&child, projects)?;
        }
    }
    Ok(())
}

/// The projects a command names: `paths`, or this folder when none is given; finding no
/// `.marketing` file at all is an error (a usage error for the commands).
pub fn projects_named(paths: &[PathBuf]) -> Result<Vec<Vec<PathBuf>>, LoadError> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let projects = find_projects(&paths)?;
    if projects.is_empty() {
        let named: Vec<String> = paths
            .iter()
            .map(|p| format!("`{}`", display_name(p)))
            .collect();
        return Err(LoadError(format!(
            "no `.marketing` files found in {}",
            named.join(", ")
        )));
    }
    Ok(projects)
}

/// Every `.marketing` file under `paths` (folders recursively, sorted so output never depends
/// on the order the file system lists them).
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut found = BTreeSet::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found).map_err(|e| {
                LoadError(format!("cannot read the folder `{}`: {e}", path.display()))
            })?;
        } else if path.is_file() {
            found.insert(path.clone());
        } else {
            return Err(LoadError(format!("`{}` does not exist", path.display())));
        }
    }
    Ok(found.into_iter().collect())
}

fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "snapshots" {
                walk(&path, found)?;
            }
        } else if name.ends_with(".marketing") {
            found.insert(path);
        }
    }
    Ok(())
}

/// Loads and parses `files` and, transitively, the files they import that exist on disk (a
/// missing import is reported by the checker, which knows where the `import` was written).
pub fn load(files: &[PathBuf]) -> Result<Project, LoadError> {
    let mut sources = Sources::new();
    let mut parsed = Vec::new();
    let mut queue: Vec<String> = files.iter().map(|p| display_name(p)).collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut index = 0;
    while index < queue.len() {
        let name = queue[index].clone();
        index += 1;
        if !seen.insert(name.clone()) {
            continue;
        }
        let bytes = fs::read(&name).map_err(|e| LoadError(format!("cannot read `{name}`: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            LoadError(format!(
                "`{name}` is not UTF-8 text (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let id = sources.add(name.clone(), text);
        let Some(file) = sources.get(id) else {
            continue;
        };
        let result = parse_file(file);
        for import in result.imports() {
            let target = resolve_import_path(&name, &import.value);
            if Path::new(&target).is_file() && !seen.contains(&target) {
                queue.push(target);
            }
        }
        parsed.push(result);
    }
    Ok(Project { sources, parsed })
}

/// The name a file is shown under: the path as given, with `/` separators and no leading `./`.
pub fn display_name(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.trim_start_matches("./").to_string()
}

/// Loads and parses one file alone, without its imports (for `fmt`).
pub fn load_one(path: &Path) -> Result<Project, LoadError> {
    let name = display_name(path);
    let bytes = fs::read(path).map_err(|e| LoadError(format!("cannot read `{name}`: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        LoadError(format!(
            "`{name}` is not UTF-8 text (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let parsed = sources
        .get(id)
        .map(|file| parse_file(file))
        .into_iter()
        .collect();
    Ok(Project { sources, parsed })
}

/// The files of a loaded project as a compiled program keeps them: named relative to the
/// deepest folder holding them all (imports included), so the same project checked out at
/// another path has the same names, the same content hash and the same idempotency keys.
pub fn source_texts(sources: &Sources) -> Result<Vec<SourceText>, LoadError> {
    let mut absolute = Vec::new();
    for file in sources.iter() {
        let path = fs::canonicalize(&file.name)
            .map_err(|e| LoadError(format!("cannot find `{}`: {e}", file.name)))?;
        absolute.push(path);
    }
    let mut root: Option<PathBuf> = absolute
        .first()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf);
    for path in &absolute {
        while let Some(dir) = root.clone() {
            if path.starts_with(&dir) {
                break;
            }
            root = dir.parent().map(Path::to_path_buf);
        }
    }
    Ok(sources
        .iter()
        .zip(&absolute)
        .map(|(file, path)| {
            let relative = root
                .as_deref()
                .and_then(|r| path.strip_prefix(r).ok())
                .unwrap_or(path);
            SourceText {
                name: display_name(relative),
                text: file.text.to_string(),
            }
        })
        .collect())
}

/// The program version idempotency keys carry: the first 8 bytes of the content hash of the
/// sources (the same whether the program runs from its sources or compiled).
pub fn program_hash(files: &[SourceText]) -> u64 {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let hash = content_hash(&sorted);
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first)
}

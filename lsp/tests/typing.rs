//! The typing test: the language server answers every request, without a panic, on text as it
//! is being typed. For every example file: a sample of its prefixes — 10 ending at line ends
//! spread over the file and 6 at seeded random bytes (mid-word, mid-string) — then 10 seeded
//! pseudo-random edits (insertions of language fragments, deletions, line duplications).
//! Prefixes are sampled because each step re-checks the whole example project (about 40 ms in
//! a debug build), so every byte of every example would take several minutes; two other tests
//! cover the rest: `every_position_of_every_example_gets_answers` puts the cursor at every
//! character of every whole example (completion reads the text before the cursor just as in a
//! prefix typed so far), and the parser's own test (`tests/parser_robustness.rs`) parses every
//! prefix of every file. Set `MACLC_TYPING_ALL=1` to try every line end and every 7th byte as a
//! prefix (several minutes). After each step every
//! feature runs on the project — diagnostics of each file, completion, hover, definition,
//! references, rename, formatting, outline, folding, code actions — at the cursor and at a few
//! other places. The feature functions are called directly, without the server's
//! `catch_unwind`, so a panic fails this test.

use std::path::{Path, PathBuf};

use maclc_lsp::features::{completion, diagnostics, document, hover, navigate};
use maclc_lsp::world::World;
use tower_lsp_server::ls_types::{Position, Range, Uri};

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("the examples folder") {
        let dir = dir.expect("an entry").path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("an example folder") {
            let file = file.expect("an entry").path();
            if file.extension().is_some_and(|e| e == "marketing") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

/// A small seeded generator (xorshift), so every run makes the same edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Runs every feature at `offsets` of the file at `uri`; panics are the failure.
fn exercise(world: &mut World, uri: &Uri, offsets: &[usize]) {
    let (view, file) = world.project_of(uri);
    let file = file.expect("the open file is part of its project");
    for index in 0..view.paths.len() {
        let id = maclc_compiler::source::FileId(index as u32);
        let _ = diagnostics::for_file(&view, id);
    }
    let _ = document::format(&view, file);
    let _ = document::symbols(&view, file);
    let _ = document::folding(&view, file);
    let whole = Range::new(Position::new(0, 0), Position::new(u32::MAX, 0));
    let _ = document::code_actions(&view, file, whole);
    for &offset in offsets {
        let _ = completion::complete(&view, file, offset);
        let _ = hover::hover(&view, file, offset);
        let _ = navigate::definition(&view, file, offset);
        let _ = navigate::references(&view, file, offset, true);
        let _ = navigate::prepare_rename(&view, file, offset);
        let _ = navigate::rename(&view, file, offset, "renamed_name");
    }
}

#[test]
fn prefixes_of_every_example_get_answers() {
    let mut steps = 0;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("an example file");
        let uri = Uri::from_file_path(&path).expect("a file URI");
        let mut world = World::new();
        let line_ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        let mut cuts: Vec<usize>;
        if std::env::var_os("MACLC_TYPING_ALL").is_some() {
            cuts = line_ends;
            cuts.extend((0..text.len()).step_by(7));
        } else {
            let every = (line_ends.len() / 10).max(1);
            cuts = line_ends.iter().copied().step_by(every).collect();
            cuts.extend((0..6).map(|_| rng.below(text.len() + 1)));
        }
        cuts.push(text.len());
        cuts.sort();
        cuts.dedup();
        for cut in cuts {
            let cut = boundary(&text, cut);
            let prefix = &text[..cut];
            world.change(&uri, prefix.to_string());
            exercise(&mut world, &uri, &[cut, cut / 2]);
            steps += 1;
        }
    }
    assert!(steps > 500, "only {steps} prefixes were tried");
}

const FRAGMENTS: [&str; 22] = [
    "{",
    "}",
    "contact.",
    "on ",
    " where ",
    "==",
    "\"",
    "é🎯",
    "\n",
    "score x {\n",
    "+5 on ",
    "segment s = ",
    "journey j {\n",
    "route r on enters stage ",
    "test \"t\" {\n",
    "(",
    ")",
    " and ",
    "30d",
    "// note\n",
    "/// doc\n",
    ":",
];

#[test]
fn random_edits_get_answers() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for path in examples() {
        let mut text = std::fs::read_to_string(&path).expect("an example file");
        let uri = Uri::from_file_path(&path).expect("a file URI");
        let mut world = World::new();
        for _ in 0..10 {
            let at = boundary(&text, rng.below(text.len() + 1));
            match rng.below(3) {
                0 => {
                    let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
                    text.insert_str(at, fragment);
                }
                1 => {
                    let end = boundary(&text, at + 1 + rng.below(40));
                    text.replace_range(at..end, "");
                }
                _ => {
                    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                    let line = text[start..end].to_string();
                    text.insert_str(end, &format!("\n{line}"));
                }
            }
            world.change(&uri, text.clone());
            let others: Vec<usize> = (0..3)
                .map(|_| boundary(&text, rng.below(text.len() + 1)))
                .collect();
            let mut offsets = vec![at];
            offsets.extend(others);
            exercise(&mut world, &uri, &offsets);
        }
    }
}

/// The other half of "every prefix": the cursor at every character of every whole example,
/// where completion reads the text before the cursor exactly as it would in a prefix typed so
/// far (the analysis is of the whole project, checked once per file, so this stays fast).
#[test]
fn every_position_of_every_example_gets_answers() {
    let mut positions = 0;
    for path in examples() {
        let text = std::fs::read_to_string(&path).expect("an example file");
        let uri = Uri::from_file_path(&path).expect("a file URI");
        let mut world = World::new();
        world.open(uri.clone(), text.clone());
        let (view, file) = world.project_of(&uri);
        let file = file.expect("the open file is part of its project");
        for offset in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = completion::complete(&view, file, offset);
            let _ = hover::hover(&view, file, offset);
            let _ = navigate::definition(&view, file, offset);
            let _ = navigate::prepare_rename(&view, file, offset);
            positions += 1;
        }
    }
    assert!(positions > 50_000, "only {positions} positions were tried");
}

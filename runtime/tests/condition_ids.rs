//! Conditions are found by number: every condition of every example gets its own
//! [`ConditionId`], the ids are dense (`0..Ir::condition_count`), and the JIT finds native code
//! for each of them by its id — a function of its own, or its bit in its event's score-rule
//! function — with no condition left to the interpreter.

mod support;

use std::path::Path;

use maclc_compiler::ir::{Condition, ConditionId, Ir};
use maclc_compiler::source::Sources;
use maclc_runtime::jit::{self, Jit, RULES_PER_CHUNK};

/// Every example project that checks (`examples/mistakes` is made of errors); a brand is its
/// folder with the shared files it imports.
const PROJECTS: &[&[&str]] = &[
    &["examples/reference-r1"],
    &["examples/printers"],
    &["examples/gitlab-scoring"],
    &["examples/journeys"],
    &["examples/brands/acme", "examples/brands/shared"],
    &["examples/brands/globex", "examples/brands/shared"],
];

/// The `.marketing` files of `dirs`, named so that their relative imports resolve.
fn lowered(dirs: &[&str]) -> Ir {
    let mut sources = Sources::new();
    for dir in dirs {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "marketing"))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            sources.add(path.display().to_string(), text);
        }
    }
    let analysis = maclc_compiler::analyze(&sources);
    assert!(
        !analysis.has_errors(),
        "{dirs:?}: {:#?}",
        analysis.diagnostics
    );
    maclc_compiler::ir::lower_with(&analysis.program, &maclc_runtime::zone::load_zone)
        .unwrap_or_else(|e| panic!("{dirs:?}: {e}"))
}

/// Where a score rule's condition sits: its event, chunk and bit.
fn score_rule_place(ir: &Ir, c: &Condition) -> Option<(usize, usize, usize)> {
    ir.rules_by_event
        .iter()
        .enumerate()
        .find_map(|(event, rules)| {
            let i = rules
                .iter()
                .position(|r| r.condition.as_ref().is_some_and(|rc| std::ptr::eq(rc, c)))?;
            Some((event, i / RULES_PER_CHUNK, i % RULES_PER_CHUNK))
        })
}

#[test]
fn every_condition_of_every_example_has_a_dense_id_and_native_code_by_it() {
    for dirs in PROJECTS {
        let ir = lowered(dirs);
        let conditions = jit::conditions(&ir);
        assert!(!conditions.is_empty(), "{dirs:?} has conditions");
        let mut ids: Vec<u32> = conditions.iter().map(|(_, c)| c.id.0).collect();
        ids.sort_unstable();
        let dense: Vec<u32> = (0..ir.condition_count).collect();
        assert_eq!(
            ids, dense,
            "{dirs:?}: ids are 0..{}, each once",
            ir.condition_count
        );

        let jit = Jit::compile(&ir).expect("the JIT starts");
        let fallbacks: Vec<&str> = jit.fallbacks().map(|c| c.label.as_str()).collect();
        assert!(fallbacks.is_empty(), "{dirs:?}: {fallbacks:?}");

        let blank = support::BlankContact::new(&ir);
        let scope = blank.scope(&ir);
        for (label, c) in &conditions {
            if jit.has_native(c) {
                assert_eq!(
                    jit.holds_native(&scope, c),
                    Some(scope.holds(c)),
                    "{dirs:?}: {label}"
                );
                // The entry answers for that very condition: a copy with the same id is not it.
                let copy = Condition {
                    id: c.id,
                    expr: c.expr.clone(),
                };
                assert_eq!(jit.holds_native(&scope, &copy), None, "{dirs:?}: {label}");
                continue;
            }
            // Otherwise it is a score rule answered by its event's function.
            let (event, chunk, bit) = score_rule_place(&ir, c)
                .unwrap_or_else(|| panic!("{dirs:?}: {label} has no native code"));
            let mask = jit
                .score_rules_native(&scope, event, chunk)
                .unwrap_or_else(|| panic!("{dirs:?}: {label}: no function for its event"));
            assert_eq!(mask.native >> bit & 1, 1, "{dirs:?}: {label}");
        }
    }
}

/// A list whose ids repeat or overrun the program's is refused with an error, not run wrong.
#[test]
fn ids_that_repeat_or_overrun_are_refused() {
    let ir = lowered(&["examples/reference-r1"]);
    let conditions = jit::conditions(&ir);
    let (label, first) = conditions.first().expect("R1 has conditions");
    let twice = vec![(label.clone(), *first), (label.clone(), *first)];
    let e = Jit::compile_conditions(&ir, twice).expect_err("a repeated id is refused");
    assert!(e.to_string().contains("number of another condition"), "{e}");
    let beyond = Condition {
        id: ConditionId(ir.condition_count),
        expr: first.expr.clone(),
    };
    let e = Jit::compile_conditions(&ir, vec![("beyond".into(), &beyond)])
        .expect_err("an id past the program's is refused");
    assert!(e.to_string().contains("the program has"), "{e}");
}

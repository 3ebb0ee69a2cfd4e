//! The memory layout native code reads: the runtime's `Val` and the per-call context.
//!
//! The runtime defines the types (`maclc_runtime::eval::Val`, `maclc_runtime::jit::Ctx`) and
//! checks these numbers against them at compile time (`const` asserts) and in its tests; the
//! backend only knows the numbers, so the compiler crate stays independent of the runtime.

/// `Val` is `#[repr(C, u8)]`: a one-byte tag at offset 0, the payload at offset 8.
pub const VAL_SIZE: i64 = 24;
pub const VAL_TAG: i32 = 0;
pub const VAL_PAYLOAD: i32 = 8;

/// `Val`'s tags, in declaration order (explicit discriminants in the runtime).
pub const TAG_MISSING: i64 = 0;
pub const TAG_BOOL: i64 = 1;
pub const TAG_NUM: i64 = 2;
pub const TAG_TEXT: i64 = 3;
pub const TAG_DATE: i64 = 4;
pub const TAG_TIMESTAMP: i64 = 5;
pub const TAG_ENUM: i64 = 6;
pub const TAG_CONSENT: i64 = 7;

/// `ConsentState` is `#[repr(u8)]`: `Granted = 0`, `Denied = 1`, `Unknown = 2`.
pub const CONSENT_UNKNOWN: i64 = 2;

/// The context a compiled condition receives: one pointer to this many 8-byte words, in this
/// order (the runtime's `#[repr(C)] struct Ctx`).
pub mod ctx {
    pub const PROFILE: i32 = 0;
    pub const PROFILE_LEN: i32 = 8;
    pub const ACCOUNT: i32 = 16;
    pub const ACCOUNT_LEN: i32 = 24;
    pub const CONSENT: i32 = 32;
    pub const CONSENT_LEN: i32 = 40;
    pub const SCORES: i32 = 48;
    pub const SCORES_LEN: i32 = 56;
    pub const SEGMENTS: i32 = 64;
    pub const SEGMENTS_LEN: i32 = 72;
    pub const PROPS: i32 = 80;
    pub const PROPS_LEN: i32 = 88;
    /// 1 when an event is being evaluated (`PROPS`, `EVENT_TS` are meaningful).
    pub const HAS_EVENT: i32 = 96;
    pub const EVENT_TS: i32 = 104;
    pub const NOW: i32 = 112;
    /// 1 when the program has a lifecycle (`STAGE` is meaningful).
    pub const HAS_STAGE: i32 = 120;
    pub const STAGE: i32 = 128;
    pub const CONTACT_ID: i32 = 136;
    pub const CONTACT_ID_LEN: i32 = 144;
    /// The interpreter's scope, handed back to helpers that reuse it (aggregates).
    pub const SCOPE: i32 = 152;
    /// A journey run's entry event properties (`entry.cart_id`); length 0 outside a run.
    pub const ENTRY: i32 = 160;
    pub const ENTRY_LEN: i32 = 168;
    /// 1 inside a journey run (`ENTRY_TS` is meaningful).
    pub const HAS_ENTRY: i32 = 176;
    pub const ENTRY_TS: i32 = 184;
    pub const SIZE: usize = 192;
}

/// Runtime helpers compiled code calls, by symbol name. Signatures are in `codegen::Helpers`.
pub mod helper {
    /// `(val: *const Val, out: *mut [usize; 2])`: a text value's pointer and length.
    pub const VAL_TEXT: &str = "maclc_val_text";
    /// `(op: u32, a, a_len, b, b_len) -> i32`: `op` 0 compares (-1, 0, 1), 1 starts with,
    /// 2 ends with, 3 contains (0 or 1).
    pub const TEXT_OP: &str = "maclc_text_op";
    /// `(text, len) -> f64`: the number of characters.
    pub const TEXT_LENGTH: &str = "maclc_text_length";
    /// `(regex: *const Regex, text, len) -> i32`.
    pub const MATCHES: &str = "maclc_matches";
    /// `(f64) -> f64`: Rust's `f64::round` (half away from zero), the interpreter's own call.
    pub const ROUND: &str = "maclc_round";
    /// `(scope, aggregate: u32, out: *mut [u64; 2])`: `out[0]` 1 when missing, `out[1]` the payload.
    pub const AGGREGATE: &str = "maclc_aggregate";
    /// `(scope, expr: *const Expr, out: *mut [u64; 2])`: the interpreter's value of one IR
    /// node (of a type other than text), as `AGGREGATE`: table lookups.
    pub const EVAL: &str = "maclc_eval";
    /// `(scope, account_score: u32, out: *mut [u64; 2])`, as `AGGREGATE`.
    pub const ACCOUNT_SCORE: &str = "maclc_account_score";
    /// `(case: u32, text, len, out: *mut [usize; 2])`: `lower(text)` ([`super::CASE_LOWER`])
    /// or `upper(text)` ([`super::CASE_UPPER`]) as the interpreter computes it; out: the
    /// result's pointer and length, kept by the runtime until no native code runs on the thread.
    pub const CASE_TEXT: &str = "maclc_case_text";
    /// `(scope, expr: *const Expr, out: *mut [u64; 3])`: the interpreter's value of one text
    /// node (a table lookup): `out[0]` 1 when missing, `out[1]` and `out[2]` the text's pointer and
    /// length (a text of the IR, or kept as `CASE_TEXT`'s).
    pub const EVAL_TEXT: &str = "maclc_eval_text";
}

/// Text operation codes of [`helper::TEXT_OP`].
pub const TEXT_CMP: i64 = 0;
pub const TEXT_STARTS_WITH: i64 = 1;
pub const TEXT_ENDS_WITH: i64 = 2;
pub const TEXT_CONTAINS: i64 = 3;

/// `lower(…)`/`upper(…)` of an operand of [`helper::TEXT_OP`], applied by the helper (with the
/// interpreter's own `to_lowercase`/`to_uppercase`): the case of `a` is `op >> CASE_A_SHIFT`,
/// of `b` `op >> CASE_B_SHIFT`, each 0 (as is), [`CASE_LOWER`] or [`CASE_UPPER`].
pub const CASE_LOWER: i64 = 1;
pub const CASE_UPPER: i64 = 2;
pub const CASE_A_SHIFT: u32 = 4;
pub const CASE_B_SHIFT: u32 = 8;

//! Translates one IR condition to Cranelift IR: one `translate_*` per IR node.
//!
//! Every value is a [`Tv`]: a missing flag (`i8`, 1 when missing) and a payload whose Cranelift
//! type follows the node's [`ValType`] (`i8` bools and consents, `f64` numbers, `i64` dates and
//! timestamps, `i32` enums, a pointer and a length for texts). Each node computes exactly what
//! `maclc_runtime::eval::Scope::eval` computes, with the same floating-point operations, so
//! results are bit-identical; anything with no exact native equivalent (`round`, text tests,
//! regexes, aggregates) calls the runtime's own Rust code through a helper.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I32, I64, I8};
use cranelift_codegen::ir::{
    BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::FunctionBuilder;
use cranelift_module::Module;

use super::layout::{self, ctx};
use super::{CodegenError, Helpers, Options};
use crate::check::ConsentState;
use crate::ir::{ArithOp, CmpOp, Const, Expr, Func, Ir, Node, TextOp, ValType};

const MILLIS_PER_DAY: i64 = 86_400_000;

type Result<T> = std::result::Result<T, CodegenError>;

/// The helpers, imported into the function being built.
pub(super) struct HelperRefs {
    val_text: FuncRef,
    text_op: FuncRef,
    text_length: FuncRef,
    matches: FuncRef,
    round: FuncRef,
    aggregate: FuncRef,
    account_score: FuncRef,
    eval: FuncRef,
    case_text: FuncRef,
    eval_text: FuncRef,
}

impl HelperRefs {
    pub(super) fn declare<M: Module>(module: &mut M, b: &mut FunctionBuilder, h: &Helpers) -> Self {
        let mut import = |id| module.declare_func_in_func(id, b.func);
        HelperRefs {
            val_text: import(h.val_text),
            text_op: import(h.text_op),
            text_length: import(h.text_length),
            matches: import(h.matches),
            round: import(h.round),
            aggregate: import(h.aggregate),
            account_score: import(h.account_score),
            eval: import(h.eval),
            case_text: import(h.case_text),
            eval_text: import(h.eval_text),
        }
    }
}

/// A typed value: missing flag, payload, and a length for texts.
#[derive(Debug, Clone, Copy)]
struct Tv {
    missing: Value,
    a: Value,
    len: Option<Value>,
}

/// The Cranelift type of a payload.
fn payload_type(ty: ValType) -> Type {
    match ty {
        ValType::Bool | ValType::Consent => I8,
        ValType::Num => F64,
        ValType::Text | ValType::Date | ValType::Timestamp => I64,
        ValType::Enum => I32,
    }
}

fn tv_types(ty: ValType) -> Vec<Type> {
    let mut tys = vec![I8, payload_type(ty)];
    if ty == ValType::Text {
        tys.push(I64);
    }
    tys
}

fn val_tag(ty: ValType) -> i64 {
    match ty {
        ValType::Bool => layout::TAG_BOOL,
        ValType::Num => layout::TAG_NUM,
        ValType::Text => layout::TAG_TEXT,
        ValType::Date => layout::TAG_DATE,
        ValType::Timestamp => layout::TAG_TIMESTAMP,
        ValType::Enum => layout::TAG_ENUM,
        ValType::Consent => layout::TAG_CONSENT,
    }
}

fn consent_code(c: ConsentState) -> i64 {
    match c {
        ConsentState::Granted => 0,
        ConsentState::Denied => 1,
        ConsentState::Unknown => layout::CONSENT_UNKNOWN,
    }
}

/// The integer condition of a comparison (`signed` for dates, timestamps, text order).
fn int_cc(op: CmpOp, signed: bool) -> IntCC {
    match (op, signed) {
        (CmpOp::Eq, _) => IntCC::Equal,
        (CmpOp::Ne, _) => IntCC::NotEqual,
        (CmpOp::Lt, true) => IntCC::SignedLessThan,
        (CmpOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (CmpOp::Gt, true) => IntCC::SignedGreaterThan,
        (CmpOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (CmpOp::Lt, false) => IntCC::UnsignedLessThan,
        (CmpOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (CmpOp::Gt, false) => IntCC::UnsignedGreaterThan,
        (CmpOp::Ge, false) => IntCC::UnsignedGreaterThanOrEqual,
    }
}

/// The float condition of a comparison: ordered, as `partial_cmp` is (NaN compares false,
/// `!=` included).
fn float_cc(op: CmpOp) -> FloatCC {
    match op {
        CmpOp::Eq => FloatCC::Equal,
        CmpOp::Ne => FloatCC::OrderedNotEqual,
        CmpOp::Lt => FloatCC::LessThan,
        CmpOp::Le => FloatCC::LessThanOrEqual,
        CmpOp::Gt => FloatCC::GreaterThan,
        CmpOp::Ge => FloatCC::GreaterThanOrEqual,
    }
}

/// Builds one function body.
pub(super) struct FunctionTranslator<'a> {
    b: FunctionBuilder<'a>,
    ir: &'a Ir,
    ctx: Value,
    helpers: HelperRefs,
    options: Options,
    /// How many `branch` arms the code being emitted is inside: at 0 it runs on every path
    /// through the function, so what it computes dominates all code emitted after it. Every
    /// block but the entry is made by `branch`, which keeps this count: a new `translate_*`
    /// that made its own blocks would have to keep it too (Cranelift's verifier, on in debug
    /// builds, rejects a value used where it does not dominate).
    depth: u32,
    /// Slot reads (the context word of the slice, the index, the type) emitted at depth 0:
    /// the rules of one event reading the same property share one bounds check, tag check
    /// and load.
    slot_reads: Vec<((i32, u32, ValType), Tv)>,
}

/// A word of the context: aligned, valid and unchanged for the whole call, so Cranelift may
/// load it once for every condition of a function and move the load freely.
const CTX_WORD: MemFlagsData = MemFlagsData::trusted().with_readonly().with_can_move();

/// The state the context points to (`Val`s, scores, segments, consents): aligned and unchanged
/// during the call (helpers only read it), but valid only below the slice's length, so a load
/// stays behind its bounds check (no `can_move`); identical loads may still be merged.
const STATE: MemFlagsData = MemFlagsData::trusted().with_readonly();

/// Texts compared inline against a constant up to this many bytes (longer: the helper).
const INLINE_TEXT_MAX: usize = 64;

impl<'a> FunctionTranslator<'a> {
    pub(super) fn new(
        b: FunctionBuilder<'a>,
        ir: &'a Ir,
        ctx: Value,
        helpers: HelperRefs,
        options: Options,
    ) -> Self {
        FunctionTranslator {
            b,
            ir,
            ctx,
            helpers,
            options,
            depth: 0,
            slot_reads: Vec::new(),
        }
    }

    /// The condition's truth, as an `i8` (missing is false).
    pub(super) fn translate_condition(&mut self, e: &Expr) -> Result<Value> {
        let v = self.translate_expr(e)?;
        Ok(self.truthy(v, e.ty))
    }

    /// The conditions' truths as one `i64` bit mask: bit `bit` set when its condition holds,
    /// and every bit of `always` set (the caller's rules that native code does not decide).
    /// Each condition is translated in turn into the same function, so the context's words
    /// are loaded and the function called once for all of them.
    pub(super) fn translate_rule_mask(
        &mut self,
        conditions: &[(u32, &Expr)],
        always: u64,
    ) -> Result<Value> {
        let mut mask = self.iconst(I64, always as i64);
        for (bit, condition) in conditions {
            if *bit >= 64 {
                return Err(CodegenError::Module(
                    "a rule mask wider than 64 bits".into(),
                ));
            }
            let holds = self.translate_condition(condition)?;
            let wide = self.b.ins().uextend(I64, holds);
            let shifted = self.b.ins().ishl_imm_s(wide, i64::from(*bit));
            mask = self.b.ins().bor(mask, shifted);
        }
        Ok(mask)
    }

    /// `holds` (an `i8` flag) widened to `ty`.
    pub(super) fn widen(&mut self, holds: Value, ty: Type) -> Value {
        self.b.ins().uextend(ty, holds)
    }

    /// Returns `ret` and closes the function.
    pub(super) fn finish(mut self, ret: Value, config: TargetFrontendConfig) {
        self.b.ins().return_(&[ret]);
        self.b.finalize(config);
    }

    // ------------------------------------------------------------------ building blocks

    fn iconst(&mut self, ty: Type, v: i64) -> Value {
        self.b.ins().iconst(ty, v)
    }

    fn zero(&mut self, ty: Type) -> Value {
        if ty == F64 {
            self.b.ins().f64const(0.0)
        } else {
            self.b.ins().iconst(ty, 0)
        }
    }

    fn missing_value(&mut self, ty: ValType) -> Tv {
        let missing = self.iconst(I8, 1);
        let a = self.zero(payload_type(ty));
        let len = (ty == ValType::Text).then(|| self.iconst(I64, 0));
        Tv { missing, a, len }
    }

    fn present(&mut self, a: Value) -> Tv {
        let missing = self.iconst(I8, 0);
        Tv {
            missing,
            a,
            len: None,
        }
    }

    fn is_present(&mut self, v: Tv) -> Value {
        self.b.ins().icmp_imm_s(IntCC::Equal, v.missing, 0)
    }

    fn not(&mut self, flag: Value) -> Value {
        self.b.ins().icmp_imm_s(IntCC::Equal, flag, 0)
    }

    /// `V::truthy`: a present `true`.
    fn truthy(&mut self, v: Tv, ty: ValType) -> Value {
        if ty != ValType::Bool {
            return self.iconst(I8, 0);
        }
        let present = self.is_present(v);
        self.b.ins().band(present, v.a)
    }

    fn values(v: Tv) -> Vec<Value> {
        let mut out = vec![v.missing, v.a];
        out.extend(v.len);
        out
    }

    fn from_values(vs: &[Value]) -> Result<Tv> {
        match vs {
            [missing, a] => Ok(Tv {
                missing: *missing,
                a: *a,
                len: None,
            }),
            [missing, a, len] => Ok(Tv {
                missing: *missing,
                a: *a,
                len: Some(*len),
            }),
            _ => Err(CodegenError::Module("a value lost its parts".into())),
        }
    }

    /// `if cond { then } else { els }`, each side producing values of `tys`.
    fn branch(
        &mut self,
        cond: Value,
        tys: &[Type],
        then: impl FnOnce(&mut Self) -> Result<Vec<Value>>,
        els: impl FnOnce(&mut Self) -> Result<Vec<Value>>,
    ) -> Result<Vec<Value>> {
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let merge = self.b.create_block();
        for ty in tys {
            self.b.append_block_param(merge, *ty);
        }
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.depth += 1;
        self.b.switch_to_block(then_block);
        self.b.seal_block(then_block);
        let vs = then(self)?;
        let args: Vec<BlockArg> = vs.iter().map(|v| BlockArg::Value(*v)).collect();
        self.b.ins().jump(merge, &args);
        self.b.switch_to_block(else_block);
        self.b.seal_block(else_block);
        let vs = els(self)?;
        let args: Vec<BlockArg> = vs.iter().map(|v| BlockArg::Value(*v)).collect();
        self.b.ins().jump(merge, &args);
        self.depth -= 1;
        self.b.switch_to_block(merge);
        self.b.seal_block(merge);
        Ok(self.b.block_params(merge).to_vec())
    }

    fn branch_tv(
        &mut self,
        cond: Value,
        ty: ValType,
        then: impl FnOnce(&mut Self) -> Result<Tv>,
        els: impl FnOnce(&mut Self) -> Result<Tv>,
    ) -> Result<Tv> {
        let vs = self.branch(
            cond,
            &tv_types(ty),
            |t| then(t).map(Self::values),
            |t| els(t).map(Self::values),
        )?;
        Self::from_values(&vs)
    }

    fn branch_flag(
        &mut self,
        cond: Value,
        then: impl FnOnce(&mut Self) -> Result<Value>,
        els: impl FnOnce(&mut Self) -> Result<Value>,
    ) -> Result<Value> {
        let vs = self.branch(
            cond,
            &[I8],
            |t| then(t).map(|v| vec![v]),
            |t| els(t).map(|v| vec![v]),
        )?;
        vs.first()
            .copied()
            .ok_or_else(|| CodegenError::Module("a branch lost its value".into()))
    }

    fn select_tv(&mut self, cond: Value, yes: Tv, no: Tv) -> Tv {
        let missing = self.b.ins().select(cond, yes.missing, no.missing);
        let a = self.b.ins().select(cond, yes.a, no.a);
        let len = match (yes.len, no.len) {
            (Some(y), Some(n)) => Some(self.b.ins().select(cond, y, n)),
            _ => None,
        };
        Tv { missing, a, len }
    }

    fn load_ctx(&mut self, offset: i32, ty: Type) -> Value {
        self.b.ins().load(ty, CTX_WORD, self.ctx, offset)
    }

    /// `floor(a / divisor)` for a positive constant divisor (`i64::div_euclid`).
    fn div_euclid(&mut self, a: Value, divisor: i64) -> Value {
        let q = self.b.ins().sdiv_imm_s(a, divisor);
        let r = self.b.ins().srem_imm_s(a, divisor);
        let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let one = self.iconst(I64, 1);
        let q_minus = self.b.ins().isub(q, one);
        self.b.ins().select(negative, q_minus, q)
    }

    fn stack_pair(&mut self) -> (cranelift_codegen::ir::StackSlot, Value) {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
        let addr = self.b.ins().stack_addr(I64, slot, 0);
        (slot, addr)
    }

    // ------------------------------------------------------------------ state

    /// Element `index` of a `[Val]` the context points to, as a `ty` (missing when out of
    /// range or of another kind).
    /// Read once per function when first read at depth 0 (see `slot_reads`).
    fn load_val_slot(&mut self, ptr: i32, len: i32, index: u32, ty: ValType) -> Result<Tv> {
        let key = (ptr, index, ty);
        if let Some((_, v)) = self.slot_reads.iter().find(|(k, _)| *k == key) {
            return Ok(*v);
        }
        let v = self.read_val_slot(ptr, len, index, ty)?;
        if self.depth == 0 {
            self.slot_reads.push((key, v));
        }
        Ok(v)
    }

    fn read_val_slot(&mut self, ptr: i32, len: i32, index: u32, ty: ValType) -> Result<Tv> {
        let n = self.load_ctx(len, I64);
        let in_range = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, n, i64::from(index));
        self.branch_tv(
            in_range,
            ty,
            |t| {
                let base = t.load_ctx(ptr, I64);
                let addr =
                    t.b.ins()
                        .iadd_imm_s(base, i64::from(index) * layout::VAL_SIZE);
                t.load_val_at(addr, ty)
            },
            |t| Ok(t.missing_value(ty)),
        )
    }

    fn load_val_at(&mut self, addr: Value, ty: ValType) -> Result<Tv> {
        let tag = self.b.ins().load(I8, STATE, addr, layout::VAL_TAG);
        let ok = self.b.ins().icmp_imm_s(IntCC::Equal, tag, val_tag(ty));
        if let (ValType::Text, Some((ptr_at, len_at))) = (ty, self.options.text_words) {
            let p = self
                .b
                .ins()
                .load(I64, STATE, addr, layout::VAL_PAYLOAD + ptr_at);
            let n = self
                .b
                .ins()
                .load(I64, STATE, addr, layout::VAL_PAYLOAD + len_at);
            // A text of another kind reads as an empty text at a valid address (the constant
            // text below), and is missing.
            let empty = self.text_constant("");
            let p = self.b.ins().select(ok, p, empty.a);
            let zero = self.iconst(I64, 0);
            let n = self.b.ins().select(ok, n, zero);
            let missing = self.not(ok);
            return Ok(Tv {
                missing,
                a: p,
                len: Some(n),
            });
        }
        if ty == ValType::Text {
            return self.branch_tv(
                ok,
                ty,
                |t| {
                    let (slot, out) = t.stack_pair();
                    let f = t.helpers.val_text;
                    t.b.ins().call(f, &[addr, out]);
                    let p = t.b.ins().stack_load(I64, I64, slot, 0);
                    let n = t.b.ins().stack_load(I64, I64, slot, 8);
                    let mut v = t.present(p);
                    v.len = Some(n);
                    Ok(v)
                },
                |t| Ok(t.missing_value(ty)),
            );
        }
        let cl = payload_type(ty);
        let payload = self.b.ins().load(cl, STATE, addr, layout::VAL_PAYLOAD);
        let zero = self.zero(cl);
        let a = self.b.ins().select(ok, payload, zero);
        let missing = self.not(ok);
        Ok(Tv {
            missing,
            a,
            len: None,
        })
    }

    /// A fixed-size element of a slice the context points to, or `default` out of range.
    fn load_scalar(
        &mut self,
        ptr: i32,
        len: i32,
        index: u32,
        ty: Type,
        default: Value,
    ) -> Result<Value> {
        let n = self.load_ctx(len, I64);
        let in_range = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, n, i64::from(index));
        let vs = self.branch(
            in_range,
            &[ty],
            |t| {
                let base = t.load_ctx(ptr, I64);
                let offset = i64::from(index) * i64::from(ty.bytes());
                let offset = i32::try_from(offset)
                    .map_err(|_| CodegenError::Unsupported("a program this large"))?;
                Ok(vec![t.b.ins().load(ty, STATE, base, offset)])
            },
            |_| Ok(vec![default]),
        )?;
        vs.first()
            .copied()
            .ok_or_else(|| CodegenError::Module("a load lost its value".into()))
    }

    /// A helper that writes (missing, payload) into a 16-byte out slot.
    fn call_out(&mut self, f: FuncRef, index: u32, ty: ValType) -> Result<Tv> {
        if matches!(ty, ValType::Text | ValType::Consent) {
            return Err(CodegenError::Unsupported("an aggregate of text"));
        }
        let index = self.iconst(I32, i64::from(index));
        self.call_out_with(f, index, ty)
    }

    /// The interpreter's value of `e` (not a text): for nodes whose work is a hash lookup or a
    /// scan anyway (table lookups), where native code would gain nothing.
    fn interpreted(&mut self, e: &Expr) -> Result<Tv> {
        if e.ty == ValType::Text {
            return Err(CodegenError::Unsupported("a table lookup of a text"));
        }
        // The IR outlives the code (see the module header): its node's address is stable.
        let node = self.iconst(I64, e as *const Expr as i64);
        let f = self.helpers.eval;
        self.call_out_with(f, node, e.ty)
    }

    /// Calls back into the `Scope` behind `ctx::SCOPE`. The runtime leaves that word null for
    /// score rules whose conditions need no callback (`jit::needs_scope` lists the nodes that
    /// reach here: aggregates, account scores, table lookups); a new caller must be added there.
    fn call_out_with(&mut self, f: FuncRef, arg: Value, ty: ValType) -> Result<Tv> {
        let scope = self.load_ctx(ctx::SCOPE, I64);
        let (slot, out) = self.stack_pair();
        self.b.ins().call(f, &[scope, arg, out]);
        let missing = self.b.ins().stack_load(I64, I64, slot, 0);
        let missing = self.b.ins().icmp_imm_s(IntCC::NotEqual, missing, 0);
        let a = match payload_type(ty) {
            F64 => self.b.ins().stack_load(I64, F64, slot, 8),
            I64 => self.b.ins().stack_load(I64, I64, slot, 8),
            narrow => {
                let word = self.b.ins().stack_load(I64, I64, slot, 8);
                self.b.ins().ireduce(narrow, word)
            }
        };
        Ok(Tv {
            missing,
            a,
            len: None,
        })
    }

    // ------------------------------------------------------------------ nodes

    fn translate_expr(&mut self, e: &Expr) -> Result<Tv> {
        match &e.node {
            Node::Const(c) => self.translate_const(c),
            Node::Contact(slot) => self.translate_contact(*slot, e.ty),
            Node::Lookup { .. } if e.ty == ValType::Text => self.translate_text_lookup(e),
            Node::Lookup { .. } => self.interpreted(e),
            Node::Entry(p) => self.load_val_slot(ctx::ENTRY, ctx::ENTRY_LEN, *p, e.ty),
            Node::EntryTime => self.translate_entry_time(),
            Node::AccountScore(i) => {
                let f = self.helpers.account_score;
                self.call_out(f, *i, e.ty)
            }
            Node::Account(slot) => self.load_val_slot(ctx::ACCOUNT, ctx::ACCOUNT_LEN, *slot, e.ty),
            Node::Consent(c) => self.translate_consent(*c),
            Node::Property(p) => self.load_val_slot(ctx::PROPS, ctx::PROPS_LEN, *p, e.ty),
            Node::EventTime => self.translate_event_time(),
            Node::Score(s) => {
                let zero = self.zero(F64);
                let v = self.load_scalar(ctx::SCORES, ctx::SCORES_LEN, s.0, F64, zero)?;
                Ok(self.present(v))
            }
            Node::Segment(s) => {
                let zero = self.zero(I8);
                let v = self.load_scalar(ctx::SEGMENTS, ctx::SEGMENTS_LEN, s.0, I8, zero)?;
                Ok(self.present(v))
            }
            Node::Now => {
                let now = self.load_ctx(ctx::NOW, I64);
                Ok(self.present(now))
            }
            Node::Stage => self.translate_stage(),
            Node::Aggregate(a) => {
                let f = self.helpers.aggregate;
                self.call_out(f, a.0, e.ty)
            }
            Node::Not(x) => {
                let v = self.translate_expr(x)?;
                let t = self.truthy(v, x.ty);
                let n = self.not(t);
                Ok(self.present(n))
            }
            Node::Neg(x) => self.translate_neg(x, e.ty),
            Node::And(a, b) => self.translate_and_or(a, b, true),
            Node::Or(a, b) => self.translate_and_or(a, b, false),
            Node::Cmp(op, a, b) if self.is_cased(a) || self.is_cased(b) => {
                self.translate_cased_compare(*op, a, b)
            }
            Node::Cmp(op, a, b) => {
                let (va, vb) = (self.translate_expr(a)?, self.translate_expr(b)?);
                let b_const = self.const_text(b);
                let holds = self.compare_to((va, a.ty), (vb, b.ty), *op, b_const)?;
                Ok(self.present(holds))
            }
            Node::Arith(op, a, b) => self.translate_arith(*op, a, b, e.ty),
            Node::Default(a, b) => self.translate_default(a, b, e.ty),
            Node::Text(op, a, b) => self.translate_text(*op, a, b),
            Node::Matches(a, r) => self.translate_matches(a, r.0),
            Node::IsKnown(x, known) => {
                let v = self.translate_expr(x)?;
                let cc = if *known {
                    IntCC::Equal
                } else {
                    IntCC::NotEqual
                };
                let holds = self.b.ins().icmp_imm_s(cc, v.missing, 0);
                Ok(self.present(holds))
            }
            Node::InList {
                operand,
                list,
                negated,
            } => self.translate_in_list(operand, list, *negated),
            Node::Between(x, lo, hi) => {
                let v = self.translate_expr(x)?;
                let l = self.translate_expr(lo)?;
                let h = self.translate_expr(hi)?;
                let above = self.compare((v, x.ty), (l, lo.ty), CmpOp::Ge)?;
                let below = self.compare((v, x.ty), (h, hi.ty), CmpOp::Le)?;
                let holds = self.b.ins().band(above, below);
                Ok(self.present(holds))
            }
            Node::Call(f @ (Func::Lower | Func::Upper), args) => {
                self.translate_case(*f, args, e.ty)
            }
            Node::Call(f, args) => self.translate_call(*f, args, e.ty),
        }
    }

    fn translate_const(&mut self, c: &Const) -> Result<Tv> {
        let a = match c {
            Const::Bool(b) => self.iconst(I8, i64::from(*b)),
            Const::Num(n) => self.b.ins().f64const(*n),
            Const::Text(t) => {
                let text = self.ir.text(*t);
                return Ok(self.text_constant(text));
            }
            Const::Date(d) | Const::Timestamp(d) => self.iconst(I64, *d),
            Const::Enum(v) => self.iconst(I32, i64::from(*v)),
            Const::Consent(c) => self.iconst(I8, consent_code(*c)),
        };
        Ok(self.present(a))
    }

    /// A text the IR owns: its address is embedded (the code never outlives the IR).
    fn text_constant(&mut self, text: &str) -> Tv {
        let p = self.iconst(I64, text.as_ptr() as i64);
        let n = self.iconst(I64, text.len() as i64);
        let mut v = self.present(p);
        v.len = Some(n);
        v
    }

    fn translate_contact(&mut self, slot: u32, ty: ValType) -> Result<Tv> {
        let declared = self.ir.contact_slots.get(slot as usize);
        if declared.is_some_and(|s| s.is_contact_id) {
            let p = self.load_ctx(ctx::CONTACT_ID, I64);
            let n = self.load_ctx(ctx::CONTACT_ID_LEN, I64);
            let mut v = self.present(p);
            v.len = Some(n);
            return Ok(v);
        }
        if declared.is_some_and(|s| s.ty != ty) {
            return Err(CodegenError::Unsupported("a field read as another type"));
        }
        self.load_val_slot(ctx::PROFILE, ctx::PROFILE_LEN, slot, ty)
    }

    fn translate_consent(&mut self, channel: u32) -> Result<Tv> {
        let unknown = self.iconst(I8, layout::CONSENT_UNKNOWN);
        let v = self.load_scalar(ctx::CONSENT, ctx::CONSENT_LEN, channel, I8, unknown)?;
        Ok(self.present(v))
    }

    fn translate_event_time(&mut self) -> Result<Tv> {
        let has = self.load_ctx(ctx::HAS_EVENT, I64);
        let missing = self.b.ins().icmp_imm_s(IntCC::Equal, has, 0);
        let a = self.load_ctx(ctx::EVENT_TS, I64);
        Ok(Tv {
            missing,
            a,
            len: None,
        })
    }

    fn translate_entry_time(&mut self) -> Result<Tv> {
        let has = self.load_ctx(ctx::HAS_ENTRY, I64);
        let missing = self.b.ins().icmp_imm_s(IntCC::Equal, has, 0);
        let a = self.load_ctx(ctx::ENTRY_TS, I64);
        Ok(Tv {
            missing,
            a,
            len: None,
        })
    }

    fn translate_stage(&mut self) -> Result<Tv> {
        let has = self.load_ctx(ctx::HAS_STAGE, I64);
        let missing = self.b.ins().icmp_imm_s(IntCC::Equal, has, 0);
        let word = self.load_ctx(ctx::STAGE, I64);
        let a = self.b.ins().ireduce(I32, word);
        Ok(Tv {
            missing,
            a,
            len: None,
        })
    }

    fn translate_neg(&mut self, x: &Expr, ty: ValType) -> Result<Tv> {
        if x.ty != ValType::Num || ty != ValType::Num {
            self.translate_expr(x)?;
            return Ok(self.missing_value(ty));
        }
        let v = self.translate_expr(x)?;
        let a = self.b.ins().fneg(v.a);
        Ok(Tv { a, ..v })
    }

    fn translate_and_or(&mut self, a: &Expr, b: &Expr, and: bool) -> Result<Tv> {
        let va = self.translate_expr(a)?;
        let ta = self.truthy(va, a.ty);
        let rest = |t: &mut Self| -> Result<Value> {
            let vb = t.translate_expr(b)?;
            Ok(t.truthy(vb, b.ty))
        };
        let holds = if and {
            self.branch_flag(ta, rest, |t| Ok(t.iconst(I8, 0)))?
        } else {
            self.branch_flag(ta, |t| Ok(t.iconst(I8, 1)), rest)?
        };
        Ok(self.present(holds))
    }

    /// `compare(a, b).is_some_and(|o| cmp_holds(op, o))`, as an `i8`.
    fn compare(&mut self, a: (Tv, ValType), b: (Tv, ValType), op: CmpOp) -> Result<Value> {
        self.compare_to(a, b, op, None)
    }

    /// The text constant `e` is, if it is one (compared inline).
    fn const_text(&self, e: &Expr) -> Option<&'a [u8]> {
        match &e.node {
            Node::Const(Const::Text(id)) => Some(self.ir.text(*id).as_bytes()),
            _ => None,
        }
    }

    /// [`Self::compare`], knowing that `b` is the text constant `b_const` when it is one.
    fn compare_to(
        &mut self,
        a: (Tv, ValType),
        b: (Tv, ValType),
        op: CmpOp,
        b_const: Option<&[u8]>,
    ) -> Result<Value> {
        let (va, ta) = a;
        let (vb, tb) = b;
        let pa = self.is_present(va);
        let pb = self.is_present(vb);
        let both = self.b.ins().band(pa, pb);
        if let (ValType::Text, ValType::Text, Some(needle), CmpOp::Eq | CmpOp::Ne) =
            (ta, tb, b_const, op)
        {
            if needle.len() <= INLINE_TEXT_MAX {
                let same = self.has_bytes_at(va, needle, false, true)?;
                let holds = if op == CmpOp::Eq {
                    same
                } else {
                    self.not(same)
                };
                return Ok(self.b.ins().band(both, holds));
            }
        }
        let day = MILLIS_PER_DAY;
        let holds = match (ta, tb) {
            (ValType::Num, ValType::Num) => self.b.ins().fcmp(float_cc(op), va.a, vb.a),
            (ValType::Bool, ValType::Bool) | (ValType::Enum, ValType::Enum) => {
                self.b.ins().icmp(int_cc(op, false), va.a, vb.a)
            }
            (ValType::Date, ValType::Date) | (ValType::Timestamp, ValType::Timestamp) => {
                self.b.ins().icmp(int_cc(op, true), va.a, vb.a)
            }
            (ValType::Date, ValType::Timestamp) => {
                let d = self.b.ins().imul_imm_s(va.a, day);
                self.b.ins().icmp(int_cc(op, true), d, vb.a)
            }
            (ValType::Timestamp, ValType::Date) => {
                let d = self.b.ins().imul_imm_s(vb.a, day);
                self.b.ins().icmp(int_cc(op, true), va.a, d)
            }
            // Consents are only equal or unordered.
            (ValType::Consent, ValType::Consent) => match op {
                CmpOp::Eq | CmpOp::Le | CmpOp::Ge => self.b.ins().icmp(IntCC::Equal, va.a, vb.a),
                _ => self.iconst(I8, 0),
            },
            (ValType::Text, ValType::Text) => {
                let f = self.helpers.text_op;
                return self.branch_flag(
                    both,
                    |t| {
                        let order = t.call_text_op(f, layout::TEXT_CMP, va, vb)?;
                        Ok(t.b.ins().icmp_imm_s(int_cc(op, true), order, 0))
                    },
                    |t| Ok(t.iconst(I8, 0)),
                );
            }
            _ => self.iconst(I8, 0),
        };
        Ok(self.b.ins().band(both, holds))
    }

    fn call_text_op(&mut self, f: FuncRef, code: i64, a: Tv, b: Tv) -> Result<Value> {
        let (Some(a_len), Some(b_len)) = (a.len, b.len) else {
            return Err(CodegenError::Module("a text lost its length".into()));
        };
        let code = self.iconst(I32, code);
        let call = self.b.ins().call(f, &[code, a.a, a_len, b.a, b_len]);
        self.b
            .inst_results(call)
            .first()
            .copied()
            .ok_or_else(|| CodegenError::Module("a helper returned nothing".into()))
    }

    fn translate_arith(&mut self, op: ArithOp, a: &Expr, b: &Expr, ty: ValType) -> Result<Tv> {
        let va = self.translate_expr(a)?;
        let vb = self.translate_expr(b)?;
        let pa = self.is_present(va);
        let pb = self.is_present(vb);
        let both = self.b.ins().band(pa, pb);
        let day = MILLIS_PER_DAY;
        let (out_ty, value) = match (a.ty, b.ty) {
            (ValType::Num, ValType::Num) => {
                let x = va.a;
                let y = vb.a;
                let v = match op {
                    ArithOp::Add => self.b.ins().fadd(x, y),
                    ArithOp::Sub => self.b.ins().fsub(x, y),
                    ArithOp::Mul => self.b.ins().fmul(x, y),
                    ArithOp::Div => {
                        // Division by zero is missing, as the interpreter's NaN is.
                        let q = self.b.ins().fdiv(x, y);
                        let zero = self.zero(F64);
                        let by_zero = self.b.ins().fcmp(FloatCC::Equal, y, zero);
                        let nan = self.b.ins().f64const(f64::NAN);
                        self.b.ins().select(by_zero, nan, q)
                    }
                };
                (ValType::Num, Some(v))
            }
            (ValType::Timestamp, ValType::Num) => {
                let d = self.b.ins().fcvt_to_sint_sat(I64, vb.a);
                let v = if op == ArithOp::Sub {
                    self.b.ins().isub(va.a, d)
                } else {
                    self.b.ins().iadd(va.a, d)
                };
                (ValType::Timestamp, Some(v))
            }
            (ValType::Num, ValType::Timestamp) if op == ArithOp::Add => {
                let d = self.b.ins().fcvt_to_sint_sat(I64, va.a);
                (ValType::Timestamp, Some(self.b.ins().iadd(vb.a, d)))
            }
            (ValType::Date, ValType::Num) => {
                let d = self.b.ins().fcvt_to_sint_sat(I64, vb.a);
                let days = self.div_euclid(d, day);
                let v = if op == ArithOp::Sub {
                    self.b.ins().isub(va.a, days)
                } else {
                    self.b.ins().iadd(va.a, days)
                };
                (ValType::Date, Some(v))
            }
            (ValType::Timestamp, ValType::Timestamp) if op == ArithOp::Sub => {
                let diff = self.b.ins().isub(va.a, vb.a);
                (ValType::Num, Some(self.b.ins().fcvt_from_sint(F64, diff)))
            }
            (ValType::Date, ValType::Date) if op == ArithOp::Sub => {
                let diff = self.b.ins().isub(va.a, vb.a);
                let millis = self.b.ins().imul_imm_s(diff, day);
                (ValType::Num, Some(self.b.ins().fcvt_from_sint(F64, millis)))
            }
            _ => (ty, None),
        };
        let Some(value) = value else {
            return Ok(self.missing_value(ty));
        };
        if out_ty != ty {
            return Err(CodegenError::Unsupported("arithmetic of these types"));
        }
        let mut present = both;
        if out_ty == ValType::Num {
            let is_number = self.b.ins().fcmp(FloatCC::Ordered, value, value);
            present = self.b.ins().band(present, is_number);
        }
        let missing = self.not(present);
        Ok(Tv {
            missing,
            a: value,
            len: None,
        })
    }

    fn translate_default(&mut self, a: &Expr, b: &Expr, ty: ValType) -> Result<Tv> {
        if a.ty != ty || b.ty != ty {
            return Err(CodegenError::Unsupported(
                "`??` between values of different types",
            ));
        }
        let va = self.translate_expr(a)?;
        let vb = self.translate_expr(b)?;
        let take_b = self.b.ins().icmp_imm_s(IntCC::NotEqual, va.missing, 0);
        Ok(self.select_tv(take_b, vb, va))
    }

    fn is_cased(&self, e: &Expr) -> bool {
        matches!(&e.node, Node::Call(Func::Lower | Func::Upper, args)
            if e.ty == ValType::Text && args.len() == 1 && args.iter().all(|x| x.ty == ValType::Text))
    }

    /// A text operand, possibly `lower(…)`/`upper(…)`: its value and case code.
    fn text_operand(&mut self, e: &Expr) -> Result<(Tv, i64)> {
        if let Node::Call(f @ (Func::Lower | Func::Upper), args) = &e.node {
            if let ([x], ValType::Text) = (args.as_slice(), e.ty) {
                if x.ty == ValType::Text {
                    let v = self.translate_expr(x)?;
                    let case = if *f == Func::Lower {
                        layout::CASE_LOWER
                    } else {
                        layout::CASE_UPPER
                    };
                    return Ok((v, case));
                }
            }
        }
        Ok((self.translate_expr(e)?, 0))
    }

    /// A comparison of texts where a side is `lower(…)`/`upper(…)`: through the helper.
    fn translate_cased_compare(&mut self, op: CmpOp, a: &Expr, b: &Expr) -> Result<Tv> {
        if a.ty != ValType::Text || b.ty != ValType::Text {
            return Err(CodegenError::Unsupported("`lower` or `upper` here"));
        }
        let (va, ca) = self.text_operand(a)?;
        let (vb, cb) = self.text_operand(b)?;
        let pa = self.is_present(va);
        let pb = self.is_present(vb);
        let both = self.b.ins().band(pa, pb);
        let code = layout::TEXT_CMP | ca << layout::CASE_A_SHIFT | cb << layout::CASE_B_SHIFT;
        let f = self.helpers.text_op;
        let holds = self.branch_flag(
            both,
            |t| {
                let order = t.call_text_op(f, code, va, vb)?;
                Ok(t.b.ins().icmp_imm_s(int_cc(op, true), order, 0))
            },
            |t| Ok(t.iconst(I8, 0)),
        )?;
        Ok(self.present(holds))
    }

    fn translate_text(&mut self, op: TextOp, a: &Expr, b: &Expr) -> Result<Tv> {
        if a.ty != ValType::Text || b.ty != ValType::Text {
            self.translate_expr(a)?;
            self.translate_expr(b)?;
            let f = self.iconst(I8, 0);
            return Ok(self.present(f));
        }
        let (va, ca) = self.text_operand(a)?;
        let (vb, cb) = self.text_operand(b)?;
        let pa = self.is_present(va);
        let pb = self.is_present(vb);
        let both = self.b.ins().band(pa, pb);
        let code = match op {
            TextOp::StartsWith => layout::TEXT_STARTS_WITH,
            TextOp::EndsWith => layout::TEXT_ENDS_WITH,
            TextOp::Contains => layout::TEXT_CONTAINS,
        } | ca << layout::CASE_A_SHIFT
            | cb << layout::CASE_B_SHIFT;
        let needle = match (&b.node, ca, cb) {
            (Node::Const(Const::Text(id)), 0, 0) => Some(self.ir.text(*id).as_bytes()),
            _ => None,
        };
        if let (Some(needle), TextOp::StartsWith | TextOp::EndsWith) = (needle, op) {
            if needle.len() <= INLINE_TEXT_MAX {
                let at_end = op == TextOp::EndsWith;
                let found = self.has_bytes_at(va, needle, at_end, false)?;
                let holds = self.b.ins().band(both, found);
                return Ok(self.present(holds));
            }
        }
        let f = self.helpers.text_op;
        let holds = self.branch_flag(
            both,
            |t| {
                let r = t.call_text_op(f, code, va, vb)?;
                Ok(t.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0))
            },
            |t| Ok(t.iconst(I8, 0)),
        )?;
        Ok(self.present(holds))
    }

    /// Whether text `v` starts (or ends) with `needle`, or equals it (`exact`), comparing
    /// bytes inline: a length check, then 8, 4, 2, 1-byte loads against constants.
    fn has_bytes_at(&mut self, v: Tv, needle: &[u8], at_end: bool, exact: bool) -> Result<Value> {
        let Some(len) = v.len else {
            return Err(CodegenError::Module("a text lost its length".into()));
        };
        let n = needle.len() as i64;
        let cc = if exact {
            IntCC::Equal
        } else {
            IntCC::UnsignedGreaterThanOrEqual
        };
        let long_enough = self.b.ins().icmp_imm_u(cc, len, n);
        let needle = needle.to_vec();
        self.branch_flag(
            long_enough,
            |t| {
                let start = if at_end {
                    let back = t.b.ins().iadd_imm_s(len, -n);
                    t.b.ins().iadd(v.a, back)
                } else {
                    v.a
                };
                let mut all = t.iconst(I8, 1);
                let mut offset = 0usize;
                while offset < needle.len() {
                    let left = needle.len() - offset;
                    let (ty, size) = match left {
                        8.. => (I64, 8),
                        4..=7 => (I32, 4),
                        2..=3 => (cranelift_codegen::ir::types::I16, 2),
                        _ => (I8, 1),
                    };
                    let mut word = [0u8; 8];
                    word[..size].copy_from_slice(&needle[offset..offset + size]);
                    let expected = match size {
                        8 => i64::from_ne_bytes(word),
                        4 => i64::from(u32::from_ne_bytes([word[0], word[1], word[2], word[3]])),
                        2 => i64::from(u16::from_ne_bytes([word[0], word[1]])),
                        _ => i64::from(word[0]),
                    };
                    let at = i32::try_from(offset)
                        .map_err(|_| CodegenError::Unsupported("a text this long"))?;
                    // Texts are byte strings with no alignment: plain (unaligned) loads.
                    let flags = MemFlagsData::new().with_notrap().with_readonly();
                    let got = t.b.ins().load(ty, flags, start, at);
                    let same = t.b.ins().icmp_imm_u(IntCC::Equal, got, expected);
                    all = t.b.ins().band(all, same);
                    offset += size;
                }
                Ok(all)
            },
            |t| Ok(t.iconst(I8, 0)),
        )
    }

    fn translate_matches(&mut self, a: &Expr, regex: u32) -> Result<Tv> {
        let va = self.translate_expr(a)?;
        let re = self.ir.regexes.get(regex as usize);
        let (Some(re), ValType::Text, Some(len)) = (re, a.ty, va.len) else {
            let f = self.iconst(I8, 0);
            return Ok(self.present(f));
        };
        let re = self.iconst(I64, re as *const regex::Regex as i64);
        let present = self.is_present(va);
        let f = self.helpers.matches;
        let holds = self.branch_flag(
            present,
            |t| {
                let call = t.b.ins().call(f, &[re, va.a, len]);
                let r =
                    t.b.inst_results(call)
                        .first()
                        .copied()
                        .ok_or_else(|| CodegenError::Module("a helper returned nothing".into()))?;
                Ok(t.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0))
            },
            |t| Ok(t.iconst(I8, 0)),
        )?;
        Ok(self.present(holds))
    }

    fn translate_in_list(&mut self, operand: &Expr, list: &[Expr], negated: bool) -> Result<Tv> {
        let v = self.translate_expr(operand)?;
        let mut found = self.iconst(I8, 0);
        for item in list {
            let vi = self.translate_expr(item)?;
            let item_const = self.const_text(item);
            let eq = self.compare_to((v, operand.ty), (vi, item.ty), CmpOp::Eq, item_const)?;
            found = self.b.ins().bor(found, eq);
        }
        if negated {
            found = self.not(found);
        }
        let present = self.is_present(v);
        let holds = self.b.ins().band(present, found);
        Ok(self.present(holds))
    }

    fn translate_call(&mut self, f: Func, args: &[Expr], ty: ValType) -> Result<Tv> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push((self.translate_expr(a)?, a.ty));
        }
        let Some(&(first, first_ty)) = vals.first() else {
            return Ok(self.missing_value(ty));
        };
        match f {
            Func::Abs | Func::Round => {
                if first_ty != ValType::Num || ty != ValType::Num {
                    return Err(CodegenError::Unsupported("this use of `abs` or `round`"));
                }
                let a =
                    if f == Func::Abs {
                        self.b.ins().fabs(first.a)
                    } else {
                        let round = self.helpers.round;
                        let call = self.b.ins().call(round, &[first.a]);
                        self.b.inst_results(call).first().copied().ok_or_else(|| {
                            CodegenError::Module("a helper returned nothing".into())
                        })?
                    };
                Ok(Tv { a, ..first })
            }
            Func::Min | Func::Max => {
                if vals.iter().any(|(_, t)| *t != ty)
                    || !matches!(
                        ty,
                        ValType::Num | ValType::Date | ValType::Timestamp | ValType::Enum
                    )
                {
                    return Err(CodegenError::Unsupported("`min` or `max` of these values"));
                }
                let op = if f == Func::Min { CmpOp::Lt } else { CmpOp::Gt };
                let mut best = first;
                let mut missing = first.missing;
                for &(v, _) in vals.iter().skip(1) {
                    missing = self.b.ins().bor(missing, v.missing);
                    let take = self.compare((v, ty), (best, ty), op)?;
                    best = self.select_tv(take, v, best);
                }
                Ok(Tv { missing, ..best })
            }
            Func::Lower | Func::Upper => Err(CodegenError::Unsupported("`lower` or `upper`")),
            Func::Length => {
                if first_ty != ValType::Text {
                    return Ok(self.missing_value(ty));
                }
                let Some(len) = first.len else {
                    return Err(CodegenError::Module("a text lost its length".into()));
                };
                let present = self.is_present(first);
                let helper = self.helpers.text_length;
                let vs = self.branch(
                    present,
                    &[F64],
                    |t| {
                        let call = t.b.ins().call(helper, &[first.a, len]);
                        Ok(t.b.inst_results(call).to_vec())
                    },
                    |t| Ok(vec![t.zero(F64)]),
                )?;
                let a = vs
                    .first()
                    .copied()
                    .ok_or_else(|| CodegenError::Module("a helper returned nothing".into()))?;
                Ok(Tv {
                    missing: first.missing,
                    a,
                    len: None,
                })
            }
            Func::DaysSince | Func::DaysUntil => {
                let day = match first_ty {
                    ValType::Date => first.a,
                    ValType::Timestamp => self.div_euclid(first.a, MILLIS_PER_DAY),
                    _ => return Ok(self.missing_value(ty)),
                };
                let now = self.load_ctx(ctx::NOW, I64);
                let today = self.div_euclid(now, MILLIS_PER_DAY);
                let diff = if f == Func::DaysSince {
                    self.b.ins().isub(today, day)
                } else {
                    self.b.ins().isub(day, today)
                };
                let a = self.b.ins().fcvt_from_sint(F64, diff);
                Ok(Tv {
                    missing: first.missing,
                    a,
                    len: None,
                })
            }
        }
    }

    /// `lower(x)`/`upper(x)` as a text value (a comparison or text test of one keeps it a case
    /// code for the text helper instead): the runtime computes it with the interpreter's own
    /// `to_lowercase`/`to_uppercase` and keeps the result while native code runs. Missing when
    /// `x` is missing or not a text, as in the interpreter.
    fn translate_case(&mut self, f: Func, args: &[Expr], ty: ValType) -> Result<Tv> {
        if ty != ValType::Text {
            return Err(CodegenError::Unsupported("`lower` or `upper` of this type"));
        }
        let Some(x) = args.first() else {
            return Ok(self.missing_value(ty));
        };
        if x.ty != ValType::Text {
            return Ok(self.missing_value(ty));
        }
        let v = self.translate_expr(x)?;
        let Some(len) = v.len else {
            return Err(CodegenError::Module("a text lost its length".into()));
        };
        let case = if f == Func::Lower {
            layout::CASE_LOWER
        } else {
            layout::CASE_UPPER
        };
        let present = self.is_present(v);
        let helper = self.helpers.case_text;
        self.branch_tv(
            present,
            ty,
            |t| {
                let case = t.iconst(I32, case);
                let (slot, out) = t.stack_pair();
                t.b.ins().call(helper, &[case, v.a, len, out]);
                let p = t.b.ins().stack_load(I64, I64, slot, 0);
                let n = t.b.ins().stack_load(I64, I64, slot, 8);
                let mut cased = t.present(p);
                cased.len = Some(n);
                Ok(cased)
            },
            |t| {
                // Missing, at a valid address (as a text of another kind reads).
                let mut empty = t.text_constant("");
                empty.missing = t.iconst(I8, 1);
                Ok(empty)
            },
        )
    }

    /// A table lookup whose cell is a text: the interpreter finds the row (a hash lookup of
    /// the key, as for the other lookups, see `interpreted`) and hands back the cell's text,
    /// which the IR owns.
    fn translate_text_lookup(&mut self, e: &Expr) -> Result<Tv> {
        let scope = self.load_ctx(ctx::SCOPE, I64);
        // The IR outlives the code (see the module header): its node's address is stable.
        let node = self.iconst(I64, e as *const Expr as i64);
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 24, 3));
        let out = self.b.ins().stack_addr(I64, slot, 0);
        let f = self.helpers.eval_text;
        self.b.ins().call(f, &[scope, node, out]);
        let missing = self.b.ins().stack_load(I64, I64, slot, 0);
        let missing = self.b.ins().icmp_imm_s(IntCC::NotEqual, missing, 0);
        let a = self.b.ins().stack_load(I64, I64, slot, 8);
        let len = self.b.ins().stack_load(I64, I64, slot, 16);
        Ok(Tv {
            missing,
            a,
            len: Some(len),
        })
    }
}

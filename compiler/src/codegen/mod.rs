//! The native backend: lowers IR conditions to Cranelift IR, one function per condition and
//! one per event type for its score rules.
//!
//! The style is cranelift-jit-demo's: one [`CodeGenerator`] owns the Cranelift contexts and is
//! reused for every function; a `translate::FunctionTranslator` per function has one
//! `translate_*` method per IR node. A compiled condition has the signature
//! `extern "C" fn(ctx: *const Ctx) -> u32` (1 when the condition holds); an event's score rules
//! compile to one `extern "C" fn(ctx: *const Ctx) -> u64`, a bit per rule. Both read the runtime's
//! state directly through the context's pointers at fixed offsets ([`layout`]): no name or hash
//! lookups. Texts, regular expressions, `round` and aggregates call runtime helpers
//! ([`layout::helper`]) which the module that finalises the code (the runtime's JIT host) must
//! define. The generated code embeds addresses of the IR's interned texts and regexes, so it
//! must not outlive the [`Ir`] it was compiled from (the runtime ties the two by a borrow).
//!
//! This crate stays free of I/O and of any JIT: it only emits functions into a
//! [`cranelift_module::Module`] the caller owns.

pub mod layout;
mod translate;

use cranelift_codegen::ir::{types, AbiParam, Signature, UserFuncName, Value};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use crate::ir::{Expr, Ir};

/// Why a condition could not be compiled.
#[derive(Debug, Clone, PartialEq)]
pub enum CodegenError {
    /// The condition uses something the backend does not compile yet (in plain words).
    Unsupported(&'static str),
    /// The target is not one the backend handles (only 64-bit targets are).
    Target(String),
    /// Cranelift rejected the function (a backend bug: the message is Cranelift's).
    Module(String),
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodegenError::Unsupported(what) => {
                write!(f, "{what} is not compiled to native code yet")
            }
            CodegenError::Target(t) => {
                write!(f, "native code is not supported on this machine ({t})")
            }
            CodegenError::Module(m) => write!(f, "the native code generator failed: {m}"),
        }
    }
}

impl std::error::Error for CodegenError {}

impl From<cranelift_module::ModuleError> for CodegenError {
    fn from(e: cranelift_module::ModuleError) -> Self {
        CodegenError::Module(e.to_string())
    }
}

/// The helper functions declared in the module, once.
#[derive(Debug, Clone, Copy)]
struct Helpers {
    val_text: FuncId,
    text_op: FuncId,
    text_length: FuncId,
    matches: FuncId,
    round: FuncId,
    aggregate: FuncId,
    account_score: FuncId,
    eval: FuncId,
    case_text: FuncId,
    eval_text: FuncId,
}

/// What the host knows about its own layout, beyond [`layout`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Offsets inside a `Val::Text`'s payload of the text's pointer and length, when the host
    /// has checked them on a real value (a `Box<str>`'s layout is not promised by Rust, so the
    /// host measures it): texts are then read inline instead of through a helper.
    pub text_words: Option<(i32, i32)>,
}

/// Owns the Cranelift contexts, reused across every function it compiles.
pub struct CodeGenerator {
    builder_context: FunctionBuilderContext,
    ctx: Context,
    helpers: Helpers,
    options: Options,
    next_function: u32,
}

impl std::fmt::Debug for CodeGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeGenerator")
            .field("functions", &self.next_function)
            .finish()
    }
}

fn signature<M: Module>(module: &M, params: &[types::Type], ret: Option<types::Type>) -> Signature {
    let mut sig = module.make_signature();
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns.extend(ret.map(AbiParam::new));
    sig
}

impl CodeGenerator {
    /// Declares the runtime helpers in `module` (imported by name).
    pub fn new<M: Module>(module: &mut M, options: Options) -> Result<CodeGenerator, CodegenError> {
        let ptr = module.target_config().pointer_type();
        if ptr != types::I64 {
            return Err(CodegenError::Target(format!("{}-bit pointers", ptr.bits())));
        }
        use layout::helper;
        use types::{F64, I32, I64};
        let mut import = |name: &str, params: &[types::Type], ret: Option<types::Type>| {
            let sig = signature(module, params, ret);
            module
                .declare_function(name, Linkage::Import, &sig)
                .map_err(CodegenError::from)
        };
        let helpers = Helpers {
            val_text: import(helper::VAL_TEXT, &[I64, I64], None)?,
            text_op: import(helper::TEXT_OP, &[I32, I64, I64, I64, I64], Some(I32))?,
            text_length: import(helper::TEXT_LENGTH, &[I64, I64], Some(F64))?,
            matches: import(helper::MATCHES, &[I64, I64, I64], Some(I32))?,
            round: import(helper::ROUND, &[F64], Some(F64))?,
            aggregate: import(helper::AGGREGATE, &[I64, I32, I64], None)?,
            account_score: import(helper::ACCOUNT_SCORE, &[I64, I32, I64], None)?,
            eval: import(helper::EVAL, &[I64, I64, I64], None)?,
            case_text: import(helper::CASE_TEXT, &[I32, I64, I64, I64], None)?,
            eval_text: import(helper::EVAL_TEXT, &[I64, I64, I64], None)?,
        };
        Ok(CodeGenerator {
            builder_context: FunctionBuilderContext::new(),
            ctx: module.make_context(),
            helpers,
            options,
            next_function: 0,
        })
    }

    /// Compiles `condition` (of `ir`) into a new function of `module`: it returns 1 when the
    /// condition holds, as `Scope::holds` does. Nothing is added to the module on error.
    pub fn compile_condition<M: Module>(
        &mut self,
        module: &mut M,
        ir: &Ir,
        condition: &Expr,
    ) -> Result<FuncId, CodegenError> {
        self.compile_function(module, ir, "maclc_condition", types::I32, |t| {
            let holds = t.translate_condition(condition)?;
            Ok(t.widen(holds, types::I32))
        })
    }

    /// Compiles the conditions of one event's score rules into ONE function of `module`,
    /// `extern "C" fn(ctx: *const Ctx) -> u64`: bit `bit` of the result is set when the
    /// condition paired with it holds (bits below 64; the caller chunks larger events), and
    /// every bit of `always` is set (the rules the caller decides itself: the result is then
    /// the rules that may hold, with no masking left to do). The engine builds one context
    /// per event and calls it once instead of once per rule. Nothing is added to the module
    /// on error.
    pub fn compile_score_rules<M: Module>(
        &mut self,
        module: &mut M,
        ir: &Ir,
        conditions: &[(u32, &Expr)],
        always: u64,
    ) -> Result<FuncId, CodegenError> {
        self.compile_function(module, ir, "maclc_score_rules", types::I64, |t| {
            t.translate_rule_mask(conditions, always)
        })
    }

    /// Builds one function of signature `(ctx: i64) -> ret` whose body `body` translates.
    fn compile_function<M: Module>(
        &mut self,
        module: &mut M,
        ir: &Ir,
        prefix: &str,
        ret: types::Type,
        body: impl FnOnce(&mut translate::FunctionTranslator<'_>) -> Result<Value, CodegenError>,
    ) -> Result<FuncId, CodegenError> {
        module.clear_context(&mut self.ctx);
        let sig = signature(module, &[types::I64], Some(ret));
        self.ctx.func.signature = sig.clone();
        let result = self.build(module, ir, body);
        if let Err(e) = result {
            // The half-built function is dropped: start the next one from fresh contexts.
            module.clear_context(&mut self.ctx);
            self.builder_context = FunctionBuilderContext::new();
            return Err(e);
        }
        let name = format!("{prefix}_{}", self.next_function);
        self.next_function += 1;
        let id = module.declare_function(&name, Linkage::Local, &sig)?;
        self.ctx.func.name = UserFuncName::user(0, id.as_u32());
        let defined = module.define_function(id, &mut self.ctx);
        module.clear_context(&mut self.ctx);
        defined?;
        Ok(id)
    }

    fn build<M: Module>(
        &mut self,
        module: &mut M,
        ir: &Ir,
        body: impl FnOnce(&mut translate::FunctionTranslator<'_>) -> Result<Value, CodegenError>,
    ) -> Result<(), CodegenError> {
        let mut builder = FunctionBuilder::new(&mut self.ctx.func, &mut self.builder_context);
        let refs = translate::HelperRefs::declare(module, &mut builder, &self.helpers);
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        builder.seal_block(entry);
        let ctx = builder.block_params(entry)[0];
        let config = module.target_config();
        let mut t = translate::FunctionTranslator::new(builder, ir, ctx, refs, self.options);
        let ret = body(&mut t)?;
        t.finish(ret, config);
        Ok(())
    }
}

//! Typing expressions: names resolved to ids, operators checked, optional values tracked.
//!
//! A [`Scope`] says what bare names mean at a place (the matched event's properties, the
//! journey's entry event) and which optional values are known to be present there (narrowing).

use super::errors;
use super::logic::{canon, known_if_false, known_if_true};
use super::program::*;
use super::{Checker, Global};
use crate::source::Span;
use crate::syntax::ast::{self, BinaryOp, CompareOp, ExprKind as A, LiteralValue};

/// What names mean at one place in the rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// `on EVENT where …`: bare names and `event.X` are this event's properties.
    pub event: Option<EventId>,
    /// Inside a journey: the event that started it, when the trigger is an event.
    pub entry: Option<EventId>,
    /// Optional values known to be present here (by [`canon`] key).
    pub known: Vec<String>,
    /// The journey starts on an event that is not declared: `entry.X` errors were reported there.
    pub entry_unknown: bool,
}

impl Scope {
    pub fn matching(&self, event: Option<EventId>) -> Scope {
        Scope {
            event,
            entry: self.entry,
            known: self.known.clone(),
            entry_unknown: self.entry_unknown,
        }
    }

    pub fn narrowed(&self, keys: Vec<String>) -> Scope {
        let mut scope = self.clone();
        scope.known.extend(keys);
        scope
    }
}

const FUNCTIONS: [(&str, Function); 9] = [
    ("abs", Function::Abs),
    ("min", Function::Min),
    ("max", Function::Max),
    ("round", Function::Round),
    ("lower", Function::Lower),
    ("upper", Function::Upper),
    ("length", Function::Length),
    ("days_since", Function::DaysSince),
    ("days_until", Function::DaysUntil),
];

pub(crate) fn literal_value(value: &LiteralValue) -> Option<(Value, Type)> {
    Some(match value {
        LiteralValue::Number(n) => (Value::Number(*n), Type::Number),
        LiteralValue::Text(s) => (Value::Text(s.clone()), Type::Text),
        LiteralValue::Bool(b) => (Value::Bool(*b), Type::Bool),
        LiteralValue::Duration(d) => (Value::Duration(d.millis), Type::Duration),
        LiteralValue::Date(d) => (Value::Date((*d)?), Type::Date),
        LiteralValue::Timestamp(t) => (Value::Timestamp((*t)?), Type::Timestamp),
        LiteralValue::TimeOfDay(t) => (Value::Time(t.minutes?), Type::Time),
        LiteralValue::Money { amount, currency } => (
            Value::Money {
                amount: *amount,
                currency: currency.clone(),
            },
            Type::Money,
        ),
        LiteralValue::Percent(p) => (Value::Percent(*p), Type::Percent),
    })
}

/// Whether a value of type `found` can stand where `expected` is needed.
pub(crate) fn assignable(expected: &Type, found: &Type) -> bool {
    match (expected, found) {
        (Type::Error, _) | (_, Type::Error) => true,
        (Type::List(a), Type::List(b)) => assignable(a, b),
        _ => expected == found,
    }
}

impl Checker<'_> {
    /// A condition: a yes/no value that is always known.
    pub(crate) fn condition(&mut self, expr: &ast::Expr, scope: &Scope) -> TypedExpr {
        let typed = self.type_expr(expr, scope, Some(&Type::Bool));
        let typed = self.present(typed, expr.span);
        if typed.ty != Type::Bool && !typed.ty.is_error() {
            let text = self.text(expr.span);
            let ty = self.type_name(&typed.ty);
            let op = if typed.ty.is_ordered() { ">=" } else { "==" };
            let example = self.example_of(&typed.ty).unwrap_or_else(|| "…".into());
            let suggestion = format!("{text} {op} {example}");
            self.report(errors::not_a_condition(expr.span, &text, &ty, &suggestion));
            return TypedExpr {
                ty: Type::Error,
                ..typed
            };
        }
        typed
    }

    /// Reports a possibly-missing value used where a value is needed (`whole` is the use).
    pub(crate) fn present(&mut self, mut typed: TypedExpr, whole: Span) -> TypedExpr {
        if typed.optional && !typed.ty.is_error() {
            let text = self.text(typed.span);
            let whole_text = self.text(whole);
            let whole_text = if whole_text.contains(&text) && whole_text != text {
                whole_text
            } else {
                format!("{text} == …")
            };
            let default: Option<String> = match &typed.ty {
                Type::Number => Some("0".into()),
                Type::Text => Some("\"\"".into()),
                Type::Money => Some("0 EUR".into()),
                Type::Percent => Some("0%".into()),
                Type::Duration => Some("0d".into()),
                Type::Bool => Some("false".into()),
                Type::Enum(id) => self
                    .program
                    .schema
                    .enum_type(*id)
                    .and_then(|e| e.variants.first().cloned()),
                _ => None,
            };
            let default = default.as_deref();
            let why = match &typed.kind {
                ExprKind::ContactField(_) => "this contact field is optional",
                ExprKind::AccountField { .. } => {
                    "the contact may have no account, or the field is optional"
                }
                ExprKind::EventProperty { .. } | ExprKind::EntryProperty { .. } => {
                    "this property is optional"
                }
                ExprKind::Aggregate(_) => "there may be no such event",
                ExprKind::Lookup { .. } => "the table may have no such row",
                _ => "this value may be missing",
            };
            if typed.ty == Type::Bool && whole_text.ends_with("== …") {
                let d = errors::may_be_missing(typed.span, &text, why, &text, default);
                self.report(d);
            } else {
                self.report(errors::may_be_missing(
                    typed.span,
                    &text,
                    why,
                    &whole_text,
                    default,
                ));
            }
            typed.optional = false;
        }
        typed
    }

    /// A value that must be known when the rules are compiled (arguments, test data, rows).
    pub(crate) fn fixed_value(
        &mut self,
        expr: &ast::Expr,
        expected: &Type,
        what: &str,
    ) -> Option<Value> {
        let typed = self.type_expr(expr, &Scope::default(), Some(expected));
        if typed.ty.is_error() {
            return None;
        }
        if !assignable(expected, &typed.ty) {
            let expected_name = self.type_name(expected);
            let found = self.type_name(&typed.ty);
            self.report(errors::wrong_value_type(
                expr.span,
                what,
                &expected_name,
                &found,
            ));
            return None;
        }
        match fold(&typed) {
            Some(v) => Some(v),
            None => {
                self.report(errors::not_constant(expr.span, what));
                None
            }
        }
    }

    pub(crate) fn type_expr(
        &mut self,
        expr: &ast::Expr,
        scope: &Scope,
        expected: Option<&Type>,
    ) -> TypedExpr {
        let span = expr.span;
        let mut typed = match &expr.kind {
            A::Missing => TypedExpr::error(span),
            A::Literal(lit) => match literal_value(&lit.value) {
                Some((value, ty)) => TypedExpr {
                    kind: ExprKind::Value(value),
                    ty,
                    optional: false,
                    span,
                },
                // The parser already reported the impossible date or time.
                None => TypedExpr::error(span),
            },
            A::Path(parts) => self.type_path(parts, span, scope, expected),
            A::Call { function, args } => self.type_call(function, args, span, scope),
            A::List(items) => {
                let element = match expected {
                    Some(Type::List(inner)) => Some(inner.as_ref().clone()),
                    _ => None,
                };
                self.type_list(items, span, scope, element.as_ref())
            }
            A::Lookup { table, key, column } => self.type_lookup(table, key, column, span, scope),
            A::Aggregate(aggregate) => self.type_aggregate(aggregate, span, scope),
            A::Not(inner) => {
                let operand = self.condition(inner, scope);
                TypedExpr {
                    kind: ExprKind::Not(Box::new(operand)),
                    ty: Type::Bool,
                    optional: false,
                    span,
                }
            }
            A::Negate(inner) => {
                let operand = self.type_expr(inner, scope, expected);
                let operand = self.present(operand, span);
                let ty = operand.ty.clone();
                if !ty.is_numeric() {
                    let found = self.type_name(&ty);
                    self.report(errors::bad_operand(
                        inner.span,
                        "-",
                        &found,
                        "only numbers, money, durations and percentages can be negative",
                    ));
                    TypedExpr::error(span)
                } else {
                    let negated = TypedExpr {
                        kind: ExprKind::Negate(Box::new(operand)),
                        ty,
                        optional: false,
                        span,
                    };
                    // `-60` is a fixed value, so the logic checks can compare with it.
                    match &negated.kind {
                        ExprKind::Negate(inner) if matches!(inner.kind, ExprKind::Value(_)) => {
                            match fold(&negated) {
                                Some(v) => TypedExpr {
                                    kind: ExprKind::Value(v),
                                    ..negated
                                },
                                None => negated,
                            }
                        }
                        _ => negated,
                    }
                }
            }
            A::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.type_binary(*op, *op_span, lhs, rhs, span, scope, expected),
            A::IsKnown { operand, known } => {
                let typed = self.type_expr(operand, scope, None);
                if !typed.optional && !typed.ty.is_error() && typed.ty != Type::Consent {
                    let text = self.text(operand.span);
                    self.report(errors::always_known(span, &text));
                }
                let mut inner = typed;
                inner.optional = true;
                TypedExpr {
                    kind: ExprKind::IsKnown {
                        operand: Box::new(inner),
                        known: *known,
                    },
                    ty: Type::Bool,
                    optional: false,
                    span,
                }
            }
            A::InList {
                operand,
                list,
                negated,
            } => {
                let operand_typed = if self.is_bare_unresolved(operand, scope) {
                    None
                } else {
                    Some(self.type_expr(operand, scope, None))
                };
                let element_expected = operand_typed
                    .as_ref()
                    .map(|o| Type::List(Box::new(o.ty.clone())));
                let list_typed = self.type_expr(list, scope, element_expected.as_ref());
                let operand_typed = match operand_typed {
                    Some(o) => o,
                    None => {
                        let inner = match &list_typed.ty {
                            Type::List(inner) => Some(inner.as_ref().clone()),
                            _ => None,
                        };
                        self.type_expr(operand, scope, inner.as_ref())
                    }
                };
                let operand_typed = self.present(operand_typed, span);
                let list_typed = self.present(list_typed, span);
                match &list_typed.ty {
                    Type::List(inner) if assignable(inner, &operand_typed.ty) => {}
                    Type::Error => {}
                    other => {
                        if !operand_typed.ty.is_error() {
                            let left = self.type_name(&operand_typed.ty);
                            let right = self.type_name(other);
                            self.report(errors::type_mismatch(
                                list.span,
                                &left,
                                &right,
                                operand.span,
                                None,
                            ));
                        }
                    }
                }
                TypedExpr {
                    kind: ExprKind::InList {
                        operand: Box::new(operand_typed),
                        list: Box::new(list_typed),
                        negated: *negated,
                    },
                    ty: Type::Bool,
                    optional: false,
                    span,
                }
            }
            A::Between { operand, low, high } => {
                let o = self.type_expr(operand, scope, None);
                let o = self.present(o, span);
                let l = self.type_expr(low, scope, Some(&o.ty));
                let l = self.present(l, span);
                let h = self.type_expr(high, scope, Some(&o.ty));
                let h = self.present(h, span);
                if !o.ty.is_ordered() {
                    let found = self.type_name(&o.ty);
                    self.report(errors::bad_operand(
                        operand.span,
                        "between",
                        &found,
                        "`between` works on numbers, money, dates, durations and times",
                    ));
                } else {
                    for (bound, ast_bound) in [(&l, low), (&h, high)] {
                        if !assignable(&o.ty, &bound.ty) {
                            let left = self.type_name(&o.ty);
                            let right = self.type_name(&bound.ty);
                            let help = money_help(&o.ty, bound, self);
                            self.report(errors::type_mismatch(
                                ast_bound.span,
                                &left,
                                &right,
                                operand.span,
                                help,
                            ));
                        }
                    }
                }
                TypedExpr {
                    kind: ExprKind::Between {
                        operand: Box::new(o),
                        low: Box::new(l),
                        high: Box::new(h),
                    },
                    ty: Type::Bool,
                    optional: false,
                    span,
                }
            }
        };
        if typed.optional && scope.known.contains(&canon(&typed)) {
            typed.optional = false;
        }
        typed
    }

    /// A single name that means nothing on its own here: an enum value or stage written bare,
    /// which only the other side of a comparison can explain.
    pub(crate) fn is_bare_unresolved(&self, expr: &ast::Expr, scope: &Scope) -> bool {
        let A::Path(parts) = &expr.kind else {
            return false;
        };
        let [name] = parts.as_slice() else {
            return false;
        };
        self.is_bare_unresolved_name(&name.name, scope)
    }

    fn is_bare_unresolved_name(&self, n: &str, scope: &Scope) -> bool {
        if n == "now" || n == "stage" || self.param(n).is_some() {
            return false;
        }
        if let Some(event) = scope.event.and_then(|e| self.program.schema.event(e)) {
            if event.properties.iter().any(|p| p.name == n) {
                return false;
            }
        }
        !matches!(
            self.global(n),
            Some(
                Global::Score(_) | Global::AccountScore(_) | Global::Segment(_) | Global::Const(_)
            )
        )
    }

    fn type_path(
        &mut self,
        parts: &[ast::Ident],
        span: Span,
        scope: &Scope,
        expected: Option<&Type>,
    ) -> TypedExpr {
        let Some(first) = parts.first() else {
            return TypedExpr::error(span);
        };
        let rest = parts.get(1..).unwrap_or(&[]);
        let ok = |kind, ty, optional| TypedExpr {
            kind,
            ty,
            optional,
            span,
        };
        match (first.name.as_str(), rest) {
            ("contact", [field, more @ ..]) => {
                let Some(id) = self.lookup_contact_field(field) else {
                    return TypedExpr::error(span);
                };
                let Some(f) = self.program.schema.contact_field(id).cloned() else {
                    return TypedExpr::error(span);
                };
                match (more, &f.ty) {
                    ([], _) => ok(ExprKind::ContactField(id), f.ty, f.optional),
                    ([sub], Type::Account(account)) => {
                        let account = *account;
                        match self.account_field(account, sub) {
                            Some((index, af)) => ok(
                                ExprKind::AccountField {
                                    link: id,
                                    account,
                                    field: index,
                                },
                                af.ty,
                                af.optional || f.optional,
                            ),
                            None => TypedExpr::error(span),
                        }
                    }
                    ([sub, ..], _) => {
                        self.report(errors::unknown_name(
                            sub,
                            None,
                            &format!("`contact.{}` has no parts", field.name),
                        ));
                        TypedExpr::error(span)
                    }
                }
            }
            ("account", [field]) => {
                let links: Vec<(FieldId, AccountId, String)> = self
                    .program
                    .schema
                    .contact_fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| match f.ty {
                        Type::Account(a) => Some((FieldId(i as u32), a, f.name.clone())),
                        _ => None,
                    })
                    .collect();
                let (link, account) = match links.as_slice() {
                    [] => {
                        self.report(errors::no_account_link(first.span));
                        return TypedExpr::error(span);
                    }
                    [(link, account, _)] => (*link, *account),
                    [(_, _, a), (_, _, b), ..] => {
                        self.report(errors::ambiguous_account(first.span, a, b, &field.name));
                        return TypedExpr::error(span);
                    }
                };
                match self.account_field(account, field) {
                    Some((index, af)) => ok(
                        ExprKind::AccountField {
                            link,
                            account,
                            field: index,
                        },
                        af.ty,
                        true,
                    ),
                    None => TypedExpr::error(span),
                }
            }
            ("consent", [channel]) => match self.lookup_channel(channel) {
                Some(id) => ok(ExprKind::Consent(id), Type::Consent, false),
                None => TypedExpr::error(span),
            },
            ("event", [property]) => match scope.event {
                Some(event) => self.event_property(event, property, span, false),
                None => {
                    self.report(errors::event_outside_match(first.span));
                    TypedExpr::error(span)
                }
            },
            ("entry", [property]) => match scope.entry {
                Some(event) => self.event_property(event, property, span, true),
                None => {
                    if !scope.entry_unknown {
                        self.report(errors::entry_without_event(first.span));
                    }
                    TypedExpr::error(span)
                }
            },
            (_, []) => self.type_name_ref(first, span, scope, expected),
            (_, [variant]) => {
                if let Some(Global::Enum(id)) = self.global(&first.name) {
                    self.refer(first.span, Symbol::Enum(id));
                    return self.enum_variant(id, variant, span);
                }
                let names = ["contact", "account", "consent", "event", "entry"];
                let suggestion = self.closest(&first.name, names);
                self.report(errors::unknown_name(
                    first,
                    suggestion.as_deref(),
                    "write `contact.FIELD`, `account.FIELD`, `consent.CHANNEL`, `event.PROPERTY` or `ENUM.VALUE`",
                ));
                TypedExpr::error(span)
            }
            _ => {
                let last = parts.last().unwrap_or(first);
                self.report(errors::unknown_name(
                    last,
                    None,
                    "a name has at most two parts here, e.g. `contact.job_title`",
                ));
                TypedExpr::error(span)
            }
        }
    }

    fn account_field(&mut self, account: AccountId, name: &ast::Ident) -> Option<(u32, Field)> {
        let acc = self.program.schema.accounts.get(account.index())?;
        if let Some(i) = acc.fields.iter().position(|f| f.name == name.name) {
            let field = acc.fields.get(i)?.clone();
            self.refer(name.span, Symbol::AccountField(account, i as u32));
            return Some((i as u32, field));
        }
        let account_name = acc.name.clone();
        let names: Vec<&str> = acc.fields.iter().map(|f| f.name.as_str()).collect();
        let suggestion = crate::diagnostics::closest_name(&name.name, names).map(str::to_string);
        self.report(errors::unknown_account_field(
            name,
            &account_name,
            suggestion.as_deref(),
        ));
        None
    }

    fn event_property(
        &mut self,
        event: EventId,
        name: &ast::Ident,
        span: Span,
        entry: bool,
    ) -> TypedExpr {
        if name.name == "timestamp" {
            let kind = if entry {
                ExprKind::EntryTimestamp(event)
            } else {
                ExprKind::EventTimestamp(event)
            };
            return TypedExpr {
                kind,
                ty: Type::Timestamp,
                optional: false,
                span,
            };
        }
        let Some(index) = self.lookup_event_property(event, name) else {
            return TypedExpr::error(span);
        };
        let Some(p) = self
            .program
            .schema
            .event(event)
            .and_then(|e| e.properties.get(index as usize))
            .cloned()
        else {
            return TypedExpr::error(span);
        };
        let kind = if entry {
            ExprKind::EntryProperty {
                event,
                property: index,
            }
        } else {
            ExprKind::EventProperty {
                event,
                property: index,
            }
        };
        TypedExpr {
            kind,
            ty: p.ty,
            optional: p.optional,
            span,
        }
    }

    fn enum_variant(&mut self, id: EnumId, variant: &ast::Ident, span: Span) -> TypedExpr {
        let Some(e) = self.program.schema.enum_type(id) else {
            return TypedExpr::error(span);
        };
        if let Some(i) = e.variants.iter().position(|v| *v == variant.name) {
            self.refer(variant.span, Symbol::EnumVariant(id, i as u32));
            return TypedExpr {
                kind: ExprKind::Value(Value::Enum(id, i as u32)),
                ty: Type::Enum(id),
                optional: false,
                span,
            };
        }
        let (name, variants) = (e.name.clone(), e.variants.clone());
        let suggestion =
            crate::diagnostics::closest_name(&variant.name, variants.iter().map(String::as_str))
                .map(str::to_string);
        self.report(errors::unknown_enum_value(
            variant,
            &name,
            suggestion.as_deref(),
            &variants,
        ));
        TypedExpr::error(span)
    }

    /// A bare name: a property of the matched event, a template parameter, an enum value or
    /// stage where one is expected, a score, segment or constant.
    fn type_name_ref(
        &mut self,
        name: &ast::Ident,
        span: Span,
        scope: &Scope,
        expected: Option<&Type>,
    ) -> TypedExpr {
        let n = name.name.as_str();
        // The other side of the comparison was already wrong: a second message would be noise.
        if expected == Some(&Type::Error) && self.is_bare_unresolved_name(n, scope) {
            return TypedExpr::error(span);
        }
        if let Some(event) = scope.event {
            let has = self
                .program
                .schema
                .event(event)
                .is_some_and(|e| e.properties.iter().any(|p| p.name == n));
            if has {
                return self.event_property(event, name, span, false);
            }
        }
        if let Some((index, ty, value)) = self.param(n) {
            if let Some(template) = self.params.as_ref().map(|p| p.template) {
                self.refer(span, Symbol::TemplateParam(template, index));
            }
            let kind = match value {
                Some(v) => ExprKind::Value(v),
                None => ExprKind::Param(index),
            };
            return TypedExpr {
                kind,
                ty,
                optional: false,
                span,
            };
        }
        match expected {
            Some(Type::Enum(id)) => {
                let is_variant = self
                    .program
                    .schema
                    .enum_type(*id)
                    .is_some_and(|e| e.variants.iter().any(|v| v == n));
                if is_variant || self.global(n).is_none() {
                    return self.enum_variant(*id, name, span);
                }
            }
            Some(Type::Stage) if self.stages.contains_key(n) || self.global(n).is_none() => {
                return match self.lookup_stage(name) {
                    Some(stage) => TypedExpr {
                        kind: ExprKind::Value(Value::Stage(stage)),
                        ty: Type::Stage,
                        optional: false,
                        span,
                    },
                    None => TypedExpr::error(span),
                };
            }
            Some(Type::Consent) => {
                let state = match n {
                    "granted" => Some(ConsentState::Granted),
                    "denied" => Some(ConsentState::Denied),
                    _ => None,
                };
                if let Some(state) = state {
                    return TypedExpr {
                        kind: ExprKind::Value(Value::Consent(state)),
                        ty: Type::Consent,
                        optional: false,
                        span,
                    };
                }
            }
            _ => {}
        }
        match n {
            "now" => {
                return TypedExpr {
                    kind: ExprKind::Now,
                    ty: Type::Timestamp,
                    optional: false,
                    span,
                }
            }
            "stage" => {
                if self.program.lifecycle.is_none() {
                    self.report(errors::no_lifecycle(span));
                    return TypedExpr::error(span);
                }
                return TypedExpr {
                    kind: ExprKind::Stage,
                    ty: Type::Stage,
                    optional: false,
                    span,
                };
            }
            _ => {}
        }
        match self.global(n) {
            Some(Global::Score(id)) => {
                self.refer(span, Symbol::Score(id));
                if let Some(uses) = self.uses.as_mut() {
                    uses.push((id.index(), span));
                }
                TypedExpr {
                    kind: ExprKind::Score(id),
                    ty: Type::Number,
                    optional: false,
                    span,
                }
            }
            Some(Global::AccountScore(id)) => {
                self.refer(span, Symbol::AccountScore(id));
                // A contact without an account has no account score.
                TypedExpr {
                    kind: ExprKind::AccountScore(id),
                    ty: Type::Number,
                    optional: true,
                    span,
                }
            }
            Some(Global::Segment(id)) => {
                self.refer(span, Symbol::Segment(id));
                let node = self.program.scores.len() + id.index();
                if let Some(uses) = self.uses.as_mut() {
                    uses.push((node, span));
                }
                TypedExpr {
                    kind: ExprKind::Segment(id),
                    ty: Type::Bool,
                    optional: false,
                    span,
                }
            }
            Some(Global::Const(id)) => {
                self.refer(span, Symbol::Constant(id));
                match self.const_value(id) {
                    Some(value) => {
                        let ty = self
                            .program
                            .constants
                            .get(id.index())
                            .map_or(Type::Error, |c| c.ty.clone());
                        TypedExpr {
                            kind: ExprKind::Value(value),
                            ty,
                            optional: false,
                            span,
                        }
                    }
                    None => TypedExpr::error(span),
                }
            }
            _ => {
                if let Some(Type::Enum(id)) = expected {
                    return self.enum_variant(*id, name, span);
                }
                self.unknown_bare_name(name, scope);
                TypedExpr::error(span)
            }
        }
    }

    fn unknown_bare_name(&mut self, name: &ast::Ident, scope: &Scope) {
        if self.contact_fields.contains_key(&name.name) {
            let replacement = format!("contact.{}", name.name);
            let d = errors::unknown_name(name, Some(&replacement), "");
            self.report(d);
            return;
        }
        let mut candidates: Vec<String> = self
            .global_names(|g| {
                matches!(
                    g,
                    Global::Score(_)
                        | Global::AccountScore(_)
                        | Global::Segment(_)
                        | Global::Const(_)
                )
            })
            .into_iter()
            .map(str::to_string)
            .collect();
        if let Some(event) = scope.event.and_then(|e| self.program.schema.event(e)) {
            candidates.extend(event.properties.iter().map(|p| p.name.clone()));
        }
        if let Some(params) = &self.params {
            candidates.extend(params.params.iter().map(|(n, _, _)| n.clone()));
        }
        candidates.push("now".into());
        let suggestion = self.closest(&name.name, candidates.iter().map(String::as_str));
        if let Some(event) = scope.event.and_then(|e| self.program.schema.event(e)) {
            let event_name = event.name.clone();
            self.report(errors::unknown_bare_property(
                name,
                &event_name,
                suggestion.as_deref(),
            ));
            return;
        }
        let context =
            "use `contact.FIELD` for contact fields, or the name of a score, segment or constant";
        self.report(errors::unknown_name(name, suggestion.as_deref(), context));
    }

    fn type_list(
        &mut self,
        items: &[ast::Expr],
        span: Span,
        scope: &Scope,
        element: Option<&Type>,
    ) -> TypedExpr {
        let mut typed = Vec::new();
        let mut ty: Option<Type> = element.cloned();
        for item in items {
            let t = self.type_expr(item, scope, ty.as_ref());
            let t = self.present(t, item.span);
            match &ty {
                Some(expected) if !assignable(expected, &t.ty) => {
                    let left = self.type_name(expected);
                    let right = self.type_name(&t.ty);
                    let first = items.first().map_or(item.span, |f| f.span);
                    self.report(errors::type_mismatch(
                        item.span,
                        &left,
                        &right,
                        first,
                        Some("a list holds values of one kind".into()),
                    ));
                }
                Some(Type::Error) | None => ty = Some(t.ty.clone()),
                _ => {}
            }
            typed.push(t);
        }
        let ty = Type::List(Box::new(ty.unwrap_or(Type::Error)));
        TypedExpr {
            kind: ExprKind::List(typed),
            ty,
            optional: false,
            span,
        }
    }

    fn type_lookup(
        &mut self,
        table: &ast::Ident,
        key: &ast::Expr,
        column: &ast::Ident,
        span: Span,
        scope: &Scope,
    ) -> TypedExpr {
        let Some(Global::Table(id)) = self.global(&table.name) else {
            let suggestion = self.closest(
                &table.name,
                self.global_names(|g| matches!(g, Global::Table(_))),
            );
            self.report(errors::unknown_table(table, suggestion.as_deref()));
            return TypedExpr::error(span);
        };
        self.refer(table.span, Symbol::Table(id));
        let Some(t) = self.program.schema.tables.get(id.index()).cloned() else {
            return TypedExpr::error(span);
        };
        let key_ty = t
            .key
            .and_then(|k| t.columns.get(k))
            .map_or(Type::Error, |c| c.ty.clone());
        let key_typed = self.type_expr(key, scope, Some(&key_ty));
        let key_typed = self.present(key_typed, key.span);
        if !assignable(&key_ty, &key_typed.ty) {
            let expected = self.type_name(&key_ty);
            let found = self.type_name(&key_typed.ty);
            self.report(errors::wrong_value_type(
                key.span,
                &format!("the key of `{}`", t.name),
                &expected,
                &found,
            ));
        }
        let Some(index) = t.columns.iter().position(|c| c.name == column.name) else {
            let suggestion = crate::diagnostics::closest_name(
                &column.name,
                t.columns.iter().map(|c| c.name.as_str()),
            )
            .map(str::to_string);
            self.report(errors::unknown_column(
                column,
                &t.name,
                suggestion.as_deref(),
            ));
            return TypedExpr::error(span);
        };
        self.refer(column.span, Symbol::TableColumn(id, index as u32));
        let ty = t.columns.get(index).map_or(Type::Error, |c| c.ty.clone());
        TypedExpr {
            kind: ExprKind::Lookup {
                table: id,
                key: Box::new(key_typed),
                column: index as u32,
            },
            ty,
            optional: true,
            span,
        }
    }

    fn type_aggregate(
        &mut self,
        aggregate: &ast::Aggregate,
        span: Span,
        scope: &Scope,
    ) -> TypedExpr {
        use ast::AggregateKind as K;
        let event = match &aggregate.event {
            Some(name) => match self.lookup_event(name) {
                Some(id) => Some(id),
                None => return TypedExpr::error(span),
            },
            None => None,
        };
        let mut property = None;
        let mut property_ty = Type::Timestamp;
        if let Some(p) = &aggregate.property {
            if p.name == "timestamp" {
                property = Some(AggregateProperty::Timestamp);
            } else if let Some(event) = event {
                let Some(index) = self.lookup_event_property(event, p) else {
                    return TypedExpr::error(span);
                };
                let field = self
                    .program
                    .schema
                    .event(event)
                    .and_then(|e| e.properties.get(index as usize));
                property_ty = field.map_or(Type::Error, |f| f.ty.clone());
                property = Some(AggregateProperty::Property(index));
            } else {
                self.report(errors::unknown_event_property(
                    p,
                    "event",
                    Some("timestamp"),
                ));
                return TypedExpr::error(span);
            }
        }
        let condition = aggregate.condition.as_ref().map(|c| {
            let inner = scope.matching(event);
            self.condition(c, &inner)
        });
        let window = match &aggregate.window {
            Some(d) => {
                let millis = self.duration_ref(d);
                if millis == Some(0) {
                    self.report(errors::zero_duration(d.span(), "the window"));
                }
                millis
            }
            None => None,
        };
        let kind_span = aggregate.kind_span;
        let (ty, optional) = match aggregate.kind {
            K::Count => (Type::Number, false),
            K::Any | K::No => (Type::Bool, false),
            K::Sum | K::Min | K::Max | K::Average => {
                let keyword = aggregate.kind.keyword();
                match property {
                    None => {
                        self.report(errors::aggregate_needs_property(
                            kind_span.to(aggregate.event_span),
                            keyword,
                        ));
                        return TypedExpr::error(span);
                    }
                    Some(AggregateProperty::Timestamp)
                        if aggregate.kind == K::Min || aggregate.kind == K::Max =>
                    {
                        (Type::Timestamp, true)
                    }
                    Some(_) => {
                        let numeric = matches!(
                            property_ty,
                            Type::Number
                                | Type::Money
                                | Type::Duration
                                | Type::Percent
                                | Type::Error
                        );
                        let orderable = property_ty.is_ordered();
                        let fits = if aggregate.kind == K::Min || aggregate.kind == K::Max {
                            orderable
                        } else {
                            numeric
                        };
                        if !fits {
                            let found = self.type_name(&property_ty);
                            let pspan = aggregate.property.as_ref().map_or(span, |p| p.span);
                            self.report(errors::aggregate_needs_number(pspan, keyword, &found));
                            return TypedExpr::error(span);
                        }
                        (property_ty.clone(), aggregate.kind != K::Sum)
                    }
                }
            }
            K::Last => match property {
                None | Some(AggregateProperty::Timestamp) => (Type::Timestamp, true),
                Some(_) => (property_ty.clone(), true),
            },
        };
        TypedExpr {
            kind: ExprKind::Aggregate(Box::new(TypedAggregate {
                kind: aggregate.kind,
                event,
                property,
                condition,
                window,
            })),
            ty,
            optional,
            span,
        }
    }

    fn type_call(
        &mut self,
        function: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        scope: &Scope,
    ) -> TypedExpr {
        let Some(&(_, f)) = FUNCTIONS.iter().find(|(n, _)| *n == function.name) else {
            let suggestion = self.closest(&function.name, FUNCTIONS.iter().map(|(n, _)| *n));
            self.report(errors::unknown_function(function, suggestion.as_deref()));
            for a in args {
                self.type_expr(a, scope, None);
            }
            return TypedExpr::error(span);
        };
        let mut typed = Vec::new();
        for a in args {
            let t = self.type_expr(a, scope, None);
            typed.push(self.present(t, span));
        }
        let name = function.name.as_str();
        let count_ok = match f {
            Function::Min | Function::Max => typed.len() >= 2,
            Function::Round => (1..=2).contains(&typed.len()),
            _ => typed.len() == 1,
        };
        if !count_ok {
            let expected = match f {
                Function::Min | Function::Max => "two values or more",
                Function::Round => "a number and, optionally, a number of decimals",
                _ => "one value",
            };
            self.report(errors::wrong_argument_count(
                span,
                name,
                expected,
                typed.len(),
            ));
            return TypedExpr::error(span);
        }
        let first_ty = typed.first().map_or(Type::Error, |t| t.ty.clone());
        let bad = |checker: &mut Self, index: usize, expected: &str| {
            if let (Some(t), Some(a)) = (typed.get(index), args.get(index)) {
                if !t.ty.is_error() {
                    let found = checker.type_name(&t.ty);
                    checker.report(errors::wrong_argument_type(a.span, name, expected, &found));
                }
            }
        };
        let result = match f {
            Function::Abs => {
                if !first_ty.is_numeric() {
                    bad(self, 0, "a number, money, a duration or a percentage");
                    return TypedExpr::error(span);
                }
                first_ty.clone()
            }
            Function::Min | Function::Max => {
                if !first_ty.is_ordered() {
                    bad(self, 0, "numbers, money, dates or durations");
                    return TypedExpr::error(span);
                }
                for i in 1..typed.len() {
                    if typed.get(i).is_some_and(|t| !assignable(&first_ty, &t.ty)) {
                        let expected = self.type_name(&first_ty);
                        bad(self, i, &expected);
                    }
                }
                first_ty.clone()
            }
            Function::Round => {
                for i in 0..typed.len() {
                    if typed
                        .get(i)
                        .is_some_and(|t| !assignable(&Type::Number, &t.ty))
                    {
                        bad(self, i, "a number");
                    }
                }
                Type::Number
            }
            Function::Lower | Function::Upper => {
                if !assignable(&Type::Text, &first_ty) {
                    bad(self, 0, "a text");
                }
                Type::Text
            }
            Function::Length => {
                if !matches!(first_ty, Type::Text | Type::List(_) | Type::Error) {
                    bad(self, 0, "a text or a list");
                }
                Type::Number
            }
            Function::DaysSince | Function::DaysUntil => {
                if !matches!(first_ty, Type::Date | Type::Timestamp | Type::Error) {
                    bad(self, 0, "a date or a date and time");
                }
                Type::Number
            }
        };
        TypedExpr {
            kind: ExprKind::Call {
                function: f,
                args: typed,
            },
            ty: result,
            optional: false,
            span,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn type_binary(
        &mut self,
        op: BinaryOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
        scope: &Scope,
        expected: Option<&Type>,
    ) -> TypedExpr {
        let node = |kind_op, l: TypedExpr, r: TypedExpr, ty, optional| TypedExpr {
            kind: ExprKind::Binary {
                op: kind_op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            optional,
            span,
        };
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.condition(lhs, scope);
                let keys = if op == BinaryOp::And {
                    known_if_true(&l)
                } else {
                    known_if_false(&l)
                };
                let inner = scope.narrowed(keys);
                let r = self.condition(rhs, &inner);
                node(op, l, r, Type::Bool, false)
            }
            BinaryOp::Compare(cmp) => {
                let (l, r) = if self.is_bare_unresolved(lhs, scope)
                    && !self.is_bare_unresolved(rhs, scope)
                {
                    let r = self.type_expr(rhs, scope, None);
                    let l = self.type_expr(lhs, scope, Some(&r.ty));
                    (l, r)
                } else {
                    let l = self.type_expr(lhs, scope, None);
                    let r = self.type_expr(rhs, scope, Some(&l.ty));
                    (l, r)
                };
                let l = self.present(l, span);
                let r = self.present(r, span);
                if l.ty.is_error() || r.ty.is_error() {
                    return node(op, l, r, Type::Bool, false);
                }
                if !assignable(&l.ty, &r.ty) {
                    let left = self.type_name(&l.ty);
                    let right = self.type_name(&r.ty);
                    let help = money_help(&l.ty, &r, self)
                        .or_else(|| money_help(&r.ty, &l, self))
                        .or_else(|| {
                            let example = self.example_of(&l.ty)?;
                            Some(format!(
                                "compare it with {left}, e.g. `{} == {example}`",
                                self.text(lhs.span)
                            ))
                        });
                    self.report(errors::type_mismatch(
                        rhs.span, &left, &right, lhs.span, help,
                    ));
                    return node(op, l, r, Type::Bool, false);
                }
                let ordering = !matches!(cmp, CompareOp::Eq | CompareOp::Ne);
                if ordering && !l.ty.is_ordered() {
                    let found = self.type_name(&l.ty);
                    self.report(errors::bad_operand(op_span, cmp.symbol(), &found, "compare with `==` or `!=`; only numbers, money, dates, durations, times and stages have an order"));
                }
                node(op, l, r, Type::Bool, false)
            }
            BinaryOp::StartsWith | BinaryOp::EndsWith | BinaryOp::Contains | BinaryOp::Matches => {
                let l = self.type_expr(lhs, scope, None);
                let l = self.present(l, span);
                let element = match (&op, &l.ty) {
                    (BinaryOp::Contains, Type::List(inner)) => inner.as_ref().clone(),
                    _ => Type::Text,
                };
                let r = self.type_expr(rhs, scope, Some(&element));
                let r = self.present(r, span);
                let lhs_ok = matches!(l.ty, Type::Text | Type::Error)
                    || (op == BinaryOp::Contains && matches!(l.ty, Type::List(_)));
                if !lhs_ok {
                    let found = self.type_name(&l.ty);
                    self.report(errors::bad_operand(
                        lhs.span,
                        op.symbol(),
                        &found,
                        &format!("`{}` works on text", op.symbol()),
                    ));
                } else if !assignable(&element, &r.ty) {
                    let left = self.type_name(&element);
                    let right = self.type_name(&r.ty);
                    self.report(errors::type_mismatch(
                        rhs.span, &left, &right, lhs.span, None,
                    ));
                } else if op == BinaryOp::Matches {
                    match &r.kind {
                        ExprKind::Value(Value::Text(pattern)) => {
                            if let Err(e) = regex::Regex::new(pattern) {
                                let reason = regex_reason(&e);
                                self.report(errors::invalid_regex(rhs.span, pattern, &reason));
                            }
                        }
                        ExprKind::Error | ExprKind::Param(_) => {}
                        _ => self.report(errors::pattern_not_fixed(rhs.span)),
                    }
                }
                node(op, l, r, Type::Bool, false)
            }
            BinaryOp::Default => {
                let l = self.type_expr(lhs, scope, expected);
                if !l.optional && !l.ty.is_error() {
                    let text = self.text(lhs.span);
                    self.report(errors::always_known(lhs.span, &text));
                }
                let r = self.type_expr(rhs, scope, Some(&l.ty));
                if !assignable(&l.ty, &r.ty) {
                    let left = self.type_name(&l.ty);
                    let right = self.type_name(&r.ty);
                    self.report(errors::type_mismatch(
                        rhs.span,
                        &left,
                        &right,
                        lhs.span,
                        Some("the default must be the same kind of value".into()),
                    ));
                }
                let ty = if l.ty.is_error() {
                    r.ty.clone()
                } else {
                    l.ty.clone()
                };
                let optional = r.optional;
                let mut l = l;
                l.optional = true;
                node(op, l, r, ty, optional)
            }
            BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply | BinaryOp::Divide => {
                let l = self.type_expr(lhs, scope, None);
                let l = self.present(l, span);
                let r = self.type_expr(rhs, scope, None);
                let r = self.present(r, span);
                if l.ty.is_error() || r.ty.is_error() {
                    return node(op, l, r, Type::Error, false);
                }
                match arithmetic(op, &l.ty, &r.ty) {
                    Some(ty) => node(op, l, r, ty, false),
                    None => {
                        let left = self.type_name(&l.ty);
                        let right = self.type_name(&r.ty);
                        let found = format!("{left} and {right}");
                        let help = if l.ty == Type::Money || r.ty == Type::Money {
                            "money adds to money and multiplies by a number; write amounts with their currency, e.g. `500 EUR`"
                        } else {
                            "arithmetic works on numbers, money, durations, dates and percentages of the right kinds"
                        };
                        self.report(errors::bad_operand(op_span, op.symbol(), &found, help));
                        node(op, l, r, Type::Error, false)
                    }
                }
            }
        }
    }
}

/// "write `500 EUR`" when a number meets money.
fn money_help(other: &Type, number_side: &TypedExpr, checker: &Checker<'_>) -> Option<String> {
    if *other == Type::Money && number_side.ty == Type::Number {
        let raw = checker.text(number_side.span);
        let raw = if raw.is_empty() {
            "500".to_string()
        } else {
            raw
        };
        return Some(format!("money compares only with money: write `{raw} EUR`"));
    }
    None
}

fn arithmetic(op: BinaryOp, l: &Type, r: &Type) -> Option<Type> {
    use Type as T;
    Some(match (op, l, r) {
        (_, T::Number, T::Number) => T::Number,
        (BinaryOp::Add, T::Text, T::Text) => T::Text,
        (BinaryOp::Add | BinaryOp::Subtract, T::Money, T::Money) => T::Money,
        (BinaryOp::Multiply, T::Money, T::Number | T::Percent)
        | (BinaryOp::Multiply, T::Number | T::Percent, T::Money) => T::Money,
        (BinaryOp::Divide, T::Money, T::Number) => T::Money,
        (BinaryOp::Divide, T::Money, T::Money) => T::Number,
        (BinaryOp::Add | BinaryOp::Subtract, T::Duration, T::Duration) => T::Duration,
        (BinaryOp::Multiply, T::Duration, T::Number)
        | (BinaryOp::Multiply, T::Number, T::Duration) => T::Duration,
        (BinaryOp::Divide, T::Duration, T::Number) => T::Duration,
        (BinaryOp::Divide, T::Duration, T::Duration) => T::Number,
        (BinaryOp::Add | BinaryOp::Subtract, T::Timestamp, T::Duration) => T::Timestamp,
        (BinaryOp::Add, T::Duration, T::Timestamp) => T::Timestamp,
        (BinaryOp::Add | BinaryOp::Subtract, T::Date, T::Duration) => T::Date,
        (BinaryOp::Subtract, T::Timestamp, T::Timestamp)
        | (BinaryOp::Subtract, T::Date, T::Date) => T::Duration,
        (BinaryOp::Add | BinaryOp::Subtract, T::Percent, T::Percent) => T::Percent,
        (BinaryOp::Multiply, T::Number, T::Percent)
        | (BinaryOp::Multiply, T::Percent, T::Number) => T::Number,
        _ => return None,
    })
}

/// The last line of the regex crate's message ("error: unclosed group"), without the prefix.
fn regex_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("not a valid pattern");
    last.trim().trim_start_matches("error: ").to_string()
}

/// The value of an expression made only of fixed values, or `None`.
pub(crate) fn fold(e: &TypedExpr) -> Option<Value> {
    match &e.kind {
        ExprKind::Value(v) => Some(v.clone()),
        ExprKind::List(items) => items
            .iter()
            .map(fold)
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        ExprKind::Negate(inner) => match fold(inner)? {
            Value::Number(n) => Some(Value::Number(-n)),
            Value::Money { amount, currency } => Some(Value::Money {
                amount: -amount,
                currency,
            }),
            Value::Duration(d) => Some(Value::Duration(d.saturating_neg())),
            Value::Percent(p) => Some(Value::Percent(-p)),
            _ => None,
        },
        ExprKind::Binary { op, lhs, rhs } => {
            let (l, r) = (fold(lhs)?, fold(rhs)?);
            match (op, l, r) {
                (BinaryOp::Add, Value::Number(a), Value::Number(b)) => Some(Value::Number(a + b)),
                (BinaryOp::Subtract, Value::Number(a), Value::Number(b)) => {
                    Some(Value::Number(a - b))
                }
                (BinaryOp::Multiply, Value::Number(a), Value::Number(b)) => {
                    Some(Value::Number(a * b))
                }
                (BinaryOp::Divide, Value::Number(a), Value::Number(b)) if b != 0.0 => {
                    Some(Value::Number(a / b))
                }
                (BinaryOp::Add, Value::Duration(a), Value::Duration(b)) => {
                    Some(Value::Duration(a.saturating_add(b)))
                }
                (BinaryOp::Subtract, Value::Duration(a), Value::Duration(b)) => {
                    Some(Value::Duration(a.saturating_sub(b)))
                }
                (BinaryOp::Add, Value::Text(a), Value::Text(b)) => Some(Value::Text(a + &b)),
                _ => None,
            }
        }
        _ => None,
    }
}

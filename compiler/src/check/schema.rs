//! The data schema: types, contact fields, accounts, events, enums, tables and channels; and
//! constants, whose values are worked out here once so rules can inline them.

use std::collections::HashMap;

use super::errors;
use super::expr::{assignable, fold, Scope};
use super::program::*;
use super::{Checker, ConstState, Global};
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

const BUILTIN_TYPES: [(&str, Type); 9] = [
    ("text", Type::Text),
    ("number", Type::Number),
    ("bool", Type::Bool),
    ("date", Type::Date),
    ("timestamp", Type::Timestamp),
    ("duration", Type::Duration),
    ("time", Type::Time),
    ("money", Type::Money),
    ("percent", Type::Percent),
];

impl Checker<'_> {
    pub(crate) fn resolve_type(&mut self, type_ref: &ast::TypeRef) -> Type {
        let name = &type_ref.name;
        let base = if let Some((_, ty)) = BUILTIN_TYPES.iter().find(|(n, _)| *n == name.name) {
            ty.clone()
        } else {
            match self.global(&name.name) {
                Some(Global::Enum(id)) => {
                    self.refer(name.span, Symbol::Enum(id));
                    Type::Enum(id)
                }
                Some(Global::Account(id)) => {
                    self.refer(name.span, Symbol::Account(id));
                    Type::Account(id)
                }
                _ => {
                    let mut names: Vec<&str> = BUILTIN_TYPES.iter().map(|(n, _)| *n).collect();
                    names.extend(
                        self.global_names(|g| matches!(g, Global::Enum(_) | Global::Account(_))),
                    );
                    // Words from spreadsheets and other languages map to ours before spelling.
                    let suggestion = common_type_word(&name.name)
                        .map(str::to_string)
                        .or_else(|| self.closest(&name.name, names));
                    self.report(errors::unknown_type(name, suggestion.as_deref()));
                    Type::Error
                }
            }
        };
        if type_ref.is_list {
            Type::List(Box::new(base))
        } else {
            base
        }
    }

    /// Reads a list of field declarations, reporting names declared twice.
    fn fields(
        &mut self,
        decls: &[ast::FieldDecl],
        kind: &str,
        symbol: impl Fn(u32) -> Symbol,
    ) -> Vec<Field> {
        let mut fields: Vec<Field> = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for decl in decls {
            if let Some(first) = seen.get(decl.name.name.as_str()) {
                self.report(errors::duplicate_definition(&decl.name, kind, *first, kind));
                continue;
            }
            seen.insert(&decl.name.name, decl.name.span);
            let ty = self.resolve_type(&decl.ty);
            self.define(decl.name.span, symbol(fields.len() as u32));
            fields.push(Field {
                name: decl.name.name.clone(),
                ty,
                optional: decl.optional,
                wire_name: decl
                    .wire_name
                    .as_ref()
                    .map_or_else(|| decl.name.name.clone(), |w| w.value.clone()),
                span: decl.span,
                builtin: false,
            });
        }
        fields
    }

    pub(crate) fn check_schema(&mut self) {
        let (mut account, mut event, mut table, mut enum_index) = (0u32, 0u32, 0u32, 0u32);
        let mut contact_decls: Vec<ast::FieldDecl> = Vec::new();
        let mut time_zone: Option<Span> = None;
        let mut sources_seen: Vec<(String, String, Span)> = Vec::new();
        for item in self.items() {
            match &item.kind {
                ItemKind::Enum(d) => {
                    let id = EnumId(enum_index);
                    enum_index += 1;
                    let mut seen: HashMap<&str, Span> = HashMap::new();
                    for (i, v) in d.variants.iter().enumerate() {
                        if let Some(first) = seen.get(v.name.as_str()) {
                            self.report(errors::duplicate_definition(v, "value", *first, "value"));
                        } else {
                            seen.insert(&v.name, v.span);
                            self.define(v.span, Symbol::EnumVariant(id, i as u32));
                        }
                    }
                }
                ItemKind::Account(d) => {
                    let id = AccountId(account);
                    account += 1;
                    let fields =
                        self.fields(&d.fields, "account field", |i| Symbol::AccountField(id, i));
                    if let Some(key) = &d.key {
                        match fields.iter().position(|f| f.name == key.name) {
                            Some(i) => self.refer(key.span, Symbol::AccountField(id, i as u32)),
                            None => {
                                let suggestion = crate::diagnostics::closest_name(
                                    &key.name,
                                    fields.iter().map(|f| f.name.as_str()),
                                )
                                .map(str::to_string);
                                self.report(errors::unknown_account_field(
                                    key,
                                    &d.name.name,
                                    suggestion.as_deref(),
                                ));
                            }
                        }
                    }
                    if let Some(a) = self.program.schema.accounts.get_mut(id.index()) {
                        a.fields = fields;
                    }
                }
                ItemKind::Event(d) => {
                    let id = EventId(event);
                    event += 1;
                    // Two event types fed by the same records would make every record ambiguous.
                    let source = match &d.source {
                        Some(ast::EventSource::Page) => "page".to_string(),
                        Some(ast::EventSource::Screen) => "screen".to_string(),
                        Some(ast::EventSource::Track(s)) => format!("track {}", s.value),
                        None => format!("track {}", d.name.name),
                    };
                    match sources_seen.iter().find(|(s, _, _)| *s == source) {
                        Some((_, first, first_span)) => {
                            let (first, first_span) = (first.clone(), *first_span);
                            self.report(errors::same_event_source(&d.name, &first, first_span));
                        }
                        None => sources_seen.push((source, d.name.name.clone(), d.name.span)),
                    }
                    for p in d.properties.iter().filter(|p| p.name.name == "timestamp") {
                        self.report(errors::builtin_timestamp(&p.name));
                    }
                    let properties =
                        self.fields(&d.properties, "property", |i| Symbol::EventProperty(id, i));
                    if let Some(e) = self.program.schema.events.get_mut(id.index()) {
                        e.properties = properties;
                    }
                }
                ItemKind::Contact(d) => contact_decls.extend(d.fields.iter().cloned()),
                ItemKind::DefaultTimeZone(zone) => {
                    if let Some(first) = time_zone {
                        let name = ast::Ident {
                            name: zone.value.clone(),
                            span: zone.span,
                        };
                        self.report(errors::duplicate_definition(
                            &name,
                            "default time zone",
                            first,
                            "default time zone",
                        ));
                    } else {
                        time_zone = Some(zone.span);
                        self.program.schema.default_time_zone = Some(zone.value.clone());
                    }
                }
                _ => {}
            }
        }
        let mut fields = self.fields(&contact_decls, "contact field", |i| {
            Symbol::ContactField(FieldId(i))
        });
        for (name, ty) in [
            ("id", Type::Text),
            ("unsubscribed", Type::Bool),
            ("blocklisted", Type::Bool),
        ] {
            if !fields.iter().any(|f| f.name == name) {
                fields.push(Field {
                    name: name.to_string(),
                    ty,
                    optional: false,
                    wire_name: name.to_string(),
                    span: Span::default(),
                    builtin: true,
                });
            }
        }
        for (i, f) in fields.iter().enumerate() {
            self.contact_fields
                .insert(f.name.clone(), FieldId(i as u32));
        }
        self.program.schema.contact_fields = fields;
        // Tables last: their rows may use enums and constants.
        for item in self.items() {
            if let ItemKind::Table(d) = &item.kind {
                let id = TableId(table);
                table += 1;
                self.check_table(id, d);
            }
        }
    }

    fn check_table(&mut self, id: TableId, d: &ast::TableDecl) {
        let columns = self.fields(&d.columns, "column", |i| Symbol::TableColumn(id, i));
        let key = columns.iter().position(|c| c.name == d.key.name);
        match key {
            Some(i) => self.refer(d.key.span, Symbol::TableColumn(id, i as u32)),
            None => self.report(errors::table_key_unknown(&d.key, &d.name.name)),
        }
        if let Some(t) = self.program.schema.tables.get_mut(id.index()) {
            t.columns = columns.clone();
            t.key = key;
        }
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut row_spans: Vec<Span> = Vec::new();
        for row in &d.rows {
            if row.values.len() != columns.len() {
                self.report(errors::table_row_width(
                    row.span,
                    columns.len(),
                    row.values.len(),
                ));
                continue;
            }
            let mut values = Vec::new();
            for (value, column) in row.values.iter().zip(&columns) {
                let what = format!("column `{}`", column.name);
                if let Some(v) = self.fixed_value(value, &column.ty, &what) {
                    values.push(v);
                }
            }
            if values.len() == columns.len() {
                let key_value = key.and_then(|k| values.get(k));
                let repeated = key_value.and_then(|v| {
                    rows.iter()
                        .zip(&row_spans)
                        .find(|(r, _): &(&Vec<Value>, &Span)| key.and_then(|k| r.get(k)) == Some(v))
                });
                if let Some((_, first)) = repeated {
                    self.report(errors::table_key_twice(row.span, *first, &d.key.name));
                    continue;
                }
                rows.push(values);
                row_spans.push(row.span);
            }
        }
        if let Some(t) = self.program.schema.tables.get_mut(id.index()) {
            t.rows = rows;
        }
    }

    pub(crate) fn check_constants(&mut self) {
        for i in 0..self.consts.len() {
            self.const_value(ConstId(i as u32));
        }
    }

    /// The value of a constant, worked out on first use (constants may use later constants).
    pub(crate) fn const_value(&mut self, id: ConstId) -> Option<Value> {
        let (decl, state) = *self.consts.get(id.index())?;
        match state {
            ConstState::Done => {
                return self
                    .program
                    .constants
                    .get(id.index())
                    .and_then(|c| c.value.clone())
            }
            ConstState::InProgress => {
                self.report(errors::constant_cycle(&decl.name));
                return None;
            }
            ConstState::Pending => {}
        }
        if let Some(entry) = self.consts.get_mut(id.index()) {
            entry.1 = ConstState::InProgress;
        }
        let declared = decl.declared_type.as_ref().map(|t| self.resolve_type(t));
        // Constants are global: no template parameters or event in scope.
        let saved = self.params.take();
        let typed = self.type_expr(&decl.value, &Scope::default(), declared.as_ref());
        self.params = saved;
        let mut ty = typed.ty.clone();
        let mut value = None;
        if !typed.ty.is_error() {
            if let Some(declared) = &declared {
                if !assignable(declared, &typed.ty) {
                    let expected = self.type_name(declared);
                    let found = self.type_name(&typed.ty);
                    self.report(errors::wrong_value_type(
                        decl.value.span,
                        &format!("`{}`", decl.name.name),
                        &expected,
                        &found,
                    ));
                }
            }
            value = fold(&typed);
            if value.is_none() {
                self.report(errors::not_constant(
                    decl.value.span,
                    &format!("the value of `{}`", decl.name.name),
                ));
            }
        }
        if let Some(declared) = declared {
            if !declared.is_error() {
                ty = declared;
            }
        }
        if let Some(c) = self.program.constants.get_mut(id.index()) {
            c.ty = ty;
            c.value = value.clone();
        }
        if let Some(entry) = self.consts.get_mut(id.index()) {
            entry.1 = ConstState::Done;
        }
        value
    }
}

/// The language's type for a type name people bring from elsewhere (`boolean`, `string`, `int`).
fn common_type_word(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().as_str() {
        "boolean" | "yes_no" | "flag" => Some("bool"),
        "string" | "str" | "varchar" => Some("text"),
        "int" | "integer" | "float" | "decimal" | "double" | "numeric" => Some("number"),
        "datetime" | "instant" => Some("timestamp"),
        "currency" | "amount" => Some("money"),
        "percentage" => Some("percent"),
        _ => None,
    }
}

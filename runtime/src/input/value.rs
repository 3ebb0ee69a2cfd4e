//! Typed values of decoded records: what a property or trait holds once it passed the schema.
//!
//! A value checked by the schema gets the type the schema says (an `integer` trait is an
//! [`Value::Integer`], a `date` is a [`Value::Date`]); a member the schema does not list keeps
//! the closest type its JSON has, so nothing a later stage may want is lost.

use super::json::Json;
use super::time::Date;

/// One property or trait value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A whole number (written without fraction or exponent) that fits in 64 bits.
    Integer(i64),
    /// Any other number.
    Number(f64),
    Text(String),
    /// A `YYYY-MM-DD` text the schema declares as a date.
    Date(Date),
    List(Vec<Value>),
    Object(Fields),
}

/// Named values in the order they were written. Records carry a handful of members, so a
/// vector with a linear lookup is both smaller and faster than a map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub Vec<(String, Value)>);

impl Fields {
    /// The value of `name` (the last one if the name was repeated in the line).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Integer(n) => Some(*n as f64),
            Value::Number(x) => Some(*x),
            _ => None,
        }
    }

    /// The value of a JSON member the schema does not describe: the closest plain type.
    pub(crate) fn untyped(json: &Json<'_>) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(text) => number_value(text),
            Json::String(s) => Value::Text(s.to_string()),
            Json::Array(items) => Value::List(items.iter().map(Value::untyped).collect()),
            Json::Object(members) => Value::Object(Fields(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::untyped(v)))
                    .collect(),
            )),
        }
    }
}

/// Whether a JSON number is written as an integer: no fraction and no exponent.
pub(crate) fn is_integer_lexeme(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

pub(crate) fn number_value(text: &str) -> Value {
    if is_integer_lexeme(text) {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Integer(n);
        }
    }
    // The JSON number grammar is a subset of what `f64::from_str` reads; huge values become
    // infinity, which only an untyped member can hold (typed ones are checked).
    Value::Number(text.parse::<f64>().unwrap_or(f64::NAN))
}

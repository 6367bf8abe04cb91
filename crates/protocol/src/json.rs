//! A JSON tree that keeps every number exactly as it was written, with a strict parser and the
//! two writers the protocol needs: the canonical form that signatures cover, and the compact form
//! that goes on the wire.
//!
//! We keep our own small tree instead of `serde_json::Value` because the signature covers numbers
//! as the client wrote them (`500.00` stays `500.00`). `serde_json` can only do that with its
//! `arbitrary_precision` feature, which Cargo would switch on for every crate in the build and
//! which changes how other crates deserialize numbers.

use std::collections::HashSet;
use std::fmt::Write as _;

/// Deepest nesting a request may have; deeper input is refused rather than risk the stack.
pub const MAX_DEPTH: usize = 64;

/// A JSON value. Numbers keep their source text; objects keep their members in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, exactly as written (`500.00`, `-1e5`).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in source (or insertion) order.
    Object(Map),
}

/// The members of a JSON object, in order, without duplicate keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Map {
    members: Vec<(String, Json)>,
}

impl Map {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an earlier value in place or appending.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) {
        let key = key.into();
        let value = value.into();
        match self.members.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.members.push((key, value)),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let pos = self.members.iter().position(|(k, _)| k == key)?;
        Some(self.members.remove(pos).1)
    }

    /// The members in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl FromIterator<(String, Json)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Json)>>(iter: I) -> Self {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::String(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::String(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Self {
        Json::Number(n.to_string())
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Json::Number(n.to_string())
    }
}

impl From<Map> for Json {
    fn from(m: Map) -> Self {
        Json::Object(m)
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Self {
        Json::Array(items)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s),
            serde_json::Value::Array(items) => {
                Json::Array(items.into_iter().map(Json::from).collect())
            }
            serde_json::Value::Object(members) => Json::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, Json::from(v)))
                    .collect(),
            ),
        }
    }
}

impl Json {
    /// The object's members, if this is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// Canonical form (docs/api.md): members sorted by key bytes at every level, object members
    /// whose value is `null` left out, no whitespace, UTF-8 unescaped, numbers as written.
    pub fn to_canonical_string(&self) -> String {
        let mut out = String::new();
        write_canonical(self, &mut out);
        out
    }

    /// Compact form for the wire: members in their order, `null` kept, no whitespace.
    pub fn to_compact_string(&self) -> String {
        let mut out = String::new();
        write_compact(self, &mut out);
        out
    }
}

/// Writes `value` in canonical form onto `out`.
pub fn write_canonical(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => write_canonical_object(map, None, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => write_scalar(scalar, out),
    }
}

/// Writes `map` in canonical form onto `out`, leaving out the top-level member `except`
/// (how a signature leaves out `sign` without copying the body).
pub fn write_canonical_object(map: &Map, except: Option<&str>, out: &mut String) {
    let mut members: Vec<&(String, Json)> = map
        .members
        .iter()
        .filter(|(k, v)| !matches!(v, Json::Null) && Some(k.as_str()) != except)
        .collect();
    members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push('{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(k, out);
        out.push(':');
        write_canonical(v, out);
    }
    out.push('}');
}

fn write_compact(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_compact(v, out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(item, out);
            }
            out.push(']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Json, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_string(s, out),
        Json::Array(_) | Json::Object(_) => write_compact(value, out),
    }
}

/// Writes a JSON string literal: `"` and `\` escaped, control characters as `\b \f \n \r \t` or
/// `\u00xx` (lowercase hex); everything else, non-ASCII included, as raw UTF-8.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{08}' => "\\b",
            '\u{0c}' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            // Writing into a String cannot fail.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {reason}")]
pub struct ParseError {
    /// Byte offset where the problem was found.
    pub offset: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

/// Members an object may have before duplicate names are looked up in a set.
const SMALL_OBJECT: usize = 16;

/// Parses one JSON value (RFC 8259), refusing duplicate keys, lone surrogates, raw control
/// characters in strings, nesting deeper than [`MAX_DEPTH`] and anything after the value.
pub fn parse(input: &[u8]) -> Result<Json, ParseError> {
    let text = std::str::from_utf8(input).map_err(|e| ParseError {
        offset: e.valid_up_to(),
        reason: "not UTF-8",
    })?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    // A UTF-8 byte order mark is tolerated, as many HTTP clients send one.
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("unexpected content after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> ParseError {
        ParseError {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, lit: &'static [u8], value: Json) -> Result<Json, ParseError> {
        if self.s[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(value)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.expect_literal(b"true", Json::Bool(true)),
            Some(b'f') => self.expect_literal(b"false", Json::Bool(false)),
            Some(b'n') => self.expect_literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.pos += 1;
        let mut map = Map::new();
        // Duplicate names are found by a scan while the object is small and by a set once it is
        // not: linear time whatever an unauthenticated body holds (20,000 keys cost 0.57 s of
        // CPU when every member was checked against every other).
        let mut seen: Option<HashSet<String>> = None;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a member name"));
            }
            let key_at = self.pos;
            let key = self.string()?;
            if seen.is_none() && map.members.len() >= SMALL_OBJECT {
                seen = Some(map.members.iter().map(|(k, _)| k.clone()).collect());
            }
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => map.members.iter().any(|(k, _)| *k == key),
            };
            if duplicate {
                return Err(ParseError {
                    offset: key_at,
                    reason: "duplicate member name",
                });
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            map.members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(map));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            self.digits();
        }
        Ok(Json::Number(self.text[start..self.pos].to_owned()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match b {
                b'"' => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..=0x1f => return Err(self.err("control character in string")),
                _ => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(b) = self.peek() else {
            return Err(self.err("unterminated escape"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{08}',
            b'f' => '\u{0c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    if !self.s[self.pos..].starts_with(b"\\u") {
                        return Err(self.err("lone surrogate"));
                    }
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.err("lone surrogate"));
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(self.err("lone surrogate"));
                } else {
                    hi
                };
                char::from_u32(code).ok_or_else(|| self.err("invalid escape"))?
            }
            _ => return Err(self.err("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        parse(text.as_bytes()).unwrap().to_canonical_string()
    }

    #[test]
    fn sorts_members_at_every_level_and_drops_null_members() {
        assert_eq!(
            canon(r#"{"b":1,"a":{"z":null,"y":[{"d":2,"c":null}],"x":"v"},"n":null}"#),
            r#"{"a":{"x":"v","y":[{"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn keeps_nulls_inside_arrays() {
        assert_eq!(canon("[null,1]"), "[null,1]");
    }

    #[test]
    fn keeps_numbers_as_written() {
        assert_eq!(
            canon(r#"{"a":500.00,"b":-0,"c":1E+5,"d":12345678901234567890123}"#),
            r#"{"a":500.00,"b":-0,"c":1E+5,"d":12345678901234567890123}"#
        );
    }

    #[test]
    fn writes_utf8_unescaped_and_escapes_what_json_requires() {
        assert_eq!(
            canon(r#"{"k":"\u5f20\u67d0 \"q\" \\ \/ \n\t\u0001\u001f\u007f"}"#),
            "{\"k\":\"张某 \\\"q\\\" \\\\ / \\n\\t\\u0001\\u001f\u{7f}\"}"
        );
    }

    #[test]
    fn sorts_by_utf8_bytes() {
        // 'Z' (0x5A) < '_' (0x5F) < 'a' (0x61) < '中' (0xE4...)
        assert_eq!(
            canon(r#"{"中":1,"a":2,"_":3,"Z":4}"#),
            r#"{"Z":4,"_":3,"a":2,"中":1}"#
        );
    }

    #[test]
    fn decodes_surrogate_pairs() {
        assert_eq!(canon(r#""\ud83d\ude00""#), "\"😀\"");
        assert!(parse(br#""\ud83d""#).is_err());
        assert!(parse(br#""\ude00""#).is_err());
    }

    #[test]
    fn refuses_malformed_input() {
        for bad in [
            "",
            "{",
            "{\"a\":1,}",
            "[1,]",
            "{\"a\":1}x",
            "01",
            "1.",
            "-",
            ".5",
            "+1",
            "{\"a\":1,\"a\":2}",
            "\"a\u{1}\"",
            "{'a':1}",
            "tru",
            "nul",
            "\"\\x\"",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "accepted {bad:?}");
        }
        assert!(parse(&[0x22, 0xff, 0x22]).is_err());
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn compact_form_keeps_order_and_nulls() {
        let v = parse(br#" { "b" : null , "a" : [ 1 , "x" ] } "#).unwrap();
        assert_eq!(v.to_compact_string(), r#"{"b":null,"a":[1,"x"]}"#);
    }

    #[test]
    fn tolerates_a_byte_order_mark() {
        assert!(parse("\u{feff}{}".as_bytes()).is_ok());
    }

    #[test]
    fn converts_from_serde_json() {
        let v: Json = serde_json::json!({"b": [1, null], "a": "x", "c": 2.5}).into();
        assert_eq!(v.to_canonical_string(), r#"{"a":"x","b":[1,null],"c":2.5}"#);
    }
}

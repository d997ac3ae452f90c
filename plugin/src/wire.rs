//! Ivanti's JSON answers, read with serde into the few members the plugin
//! uses. Every other member is skipped without being built, so a full
//! 180-field record costs what its five useful fields cost.
//!
//! Members are read as [`Scalar`]s rather than typed fields: a wrong type
//! then becomes a `bad-response` naming the field (the caller checks),
//! not a serde message about a column.

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Rows of one page past which the answer is refused: the plugin never asks
/// for more than 100, and each row kept costs memory inside the component.
pub const MAX_ROWS: usize = 1_000;

/// One JSON value as the plugin sees it: a scalar it may read, or a
/// compound it skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar {
    /// Absent or `null`.
    #[default]
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
    /// An array or object (skipped, not built).
    Compound,
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

/// The visits of a visitor for the scalars it does not want: each is
/// taken (so the document stays in step) and becomes `$other`.
macro_rules! other_scalars {
    ($value:ty, $other:expr) => {
        fn visit_unit<E>(self) -> Result<$value, E> {
            Ok($other)
        }

        fn visit_bool<E>(self, _: bool) -> Result<$value, E> {
            Ok($other)
        }

        fn visit_u64<E>(self, _: u64) -> Result<$value, E> {
            Ok($other)
        }

        fn visit_i64<E>(self, _: i64) -> Result<$value, E> {
            Ok($other)
        }

        fn visit_f64<E>(self, _: f64) -> Result<$value, E> {
            Ok($other)
        }
    };
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Unsigned(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Signed(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Compound)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// The members of an incident record the plugin reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Record {
    #[serde(rename = "IncidentNumber")]
    pub incident_number: Scalar,
    #[serde(rename = "RecId")]
    pub rec_id: Scalar,
    #[serde(rename = "Status")]
    pub status: Scalar,
    #[serde(rename = "Owner")]
    pub owner: Scalar,
    #[serde(rename = "Symptom")]
    pub symptom: Scalar,
}

/// A collection answer: `{"value": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Page {
    pub value: Rows,
}

/// What a page's `value` held.
#[derive(Debug, Default)]
pub enum Rows {
    #[default]
    Absent,
    Records(Vec<Record>),
    /// A string where rows were expected, e.g. `"No instances found."`.
    Text(String),
    /// Any other type.
    Other,
}

struct RowsVisitor;

impl<'de> Visitor<'de> for RowsVisitor {
    type Value = Rows;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows, A::Error> {
        let mut rows = Vec::new();
        while let Some(Row(row)) = seq.next_element::<Row>()? {
            if rows.len() == MAX_ROWS {
                return Err(serde::de::Error::custom(format_args!(
                    "more than {MAX_ROWS} rows"
                )));
            }
            rows.push(row);
        }
        Ok(Rows::Records(rows))
    }

    fn visit_str<E>(self, v: &str) -> Result<Rows, E> {
        Ok(Rows::Text(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rows, A::Error> {
        ScalarVisitor.visit_map(map).map(|_| Rows::Other)
    }

    other_scalars!(Rows, Rows::Other);
}

/// A row of a page: a record, or (any other type) an empty one, which
/// then fails the caller's checks by naming the field it lacks.
struct Row(Record);

struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = Row;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Row, A::Error> {
        Record::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Row)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Row, A::Error> {
        ScalarVisitor.visit_seq(seq).map(|_| Row(Record::default()))
    }

    other_scalars!(Row, Row(Record::default()));

    fn visit_str<E>(self, _: &str) -> Result<Row, E> {
        Ok(Row(Record::default()))
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowVisitor)
    }
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowsVisitor)
    }
}

/// Ivanti's error body: `{"code":"ISM_4000","description":"...","message":["..."]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub code: Scalar,
    pub description: Scalar,
    pub message: Messages,
}

/// `message`: a string or a list, of which the strings are kept.
#[derive(Debug, Default)]
pub struct Messages(pub Vec<String>);

struct MessagesVisitor;

impl<'de> Visitor<'de> for MessagesVisitor {
    type Value = Messages;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a message or a list of messages")
    }

    fn visit_str<E>(self, v: &str) -> Result<Messages, E> {
        Ok(Messages(vec![v.to_owned()]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Messages, A::Error> {
        let mut texts = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            if let Scalar::Text(t) = item {
                texts.push(t);
            }
        }
        Ok(Messages(texts))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Messages, A::Error> {
        ScalarVisitor.visit_map(map).map(|_| Messages::default())
    }

    other_scalars!(Messages, Messages::default());
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MessagesVisitor)
    }
}

/// Reads `T` from an answer's body.
pub fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    // JSON is UTF-8 throughout. serde_json checks only what it reads, and
    // skips the members the plugin does not keep without decoding them, so
    // the whole answer is checked here (about 1 % of a create's CPU).
    if let Err(bad) = std::str::from_utf8(body) {
        return Err(format!(
            "not JSON: invalid UTF-8 at byte {}",
            bad.valid_up_to()
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde_json says "EOF while parsing" for an empty or cut body.
        let why = e.to_string();
        if e.is_syntax() || e.is_eof() {
            format!("not JSON: {why}")
        } else {
            why
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_only_what_the_plugin_reads() {
        let page: Page = read(br#"{"@odata.count":1,"value":[{"IncidentNumber":10001,"RecId":"A","Status":"Active","Owner":null,"Deep":[[{"x":1}]],"Cost":"0.4000","TotalTimeSpent":0.00}]}"#).unwrap();
        let Rows::Records(rows) = page.value else {
            panic!("rows")
        };
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].incident_number, Scalar::Unsigned(10001));
        assert_eq!(rows[0].status.as_str(), Some("Active"));
        assert!(rows[0].owner.is_null());
        assert!(rows[0].symptom.is_null());
    }

    #[test]
    fn value_may_be_text_or_absent() {
        let page: Page = read(br#"{"value":"No instances found."}"#).unwrap();
        assert!(matches!(page.value, Rows::Text(t) if t == "No instances found."));
        let page: Page = read(br#"{"values":[]}"#).unwrap();
        assert!(matches!(page.value, Rows::Absent));
        let page: Page = read(br#"{"value":{"a":[1]}}"#).unwrap();
        assert!(matches!(page.value, Rows::Other));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let body = format!(r#"{{"value":[{}{{}}]}}"#, "{},".repeat(MAX_ROWS));
        let e = read::<Page>(body.as_bytes()).unwrap_err();
        assert!(e.contains("more than 1000 rows"), "{e}");
        let body = format!(r#"{{"value":[{}{{}}]}}"#, "{},".repeat(MAX_ROWS - 1));
        assert!(read::<Page>(body.as_bytes()).is_ok());
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        // Only a few levels are ever built; below them serde_json skips
        // iteratively, so a deep member costs neither stack nor a tree.
        for depth in [200, 1_000_000] {
            let deep = format!(
                r#"{{"value":[{{"Status":{}{},"x":{}0{}}}]}}"#,
                "[".repeat(depth),
                "]".repeat(depth),
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            let Rows::Records(rows) = read::<Page>(deep.as_bytes()).unwrap().value else {
                panic!("rows")
            };
            assert_eq!(rows[0].status, Scalar::Compound);
        }
    }

    #[test]
    fn error_bodies_keep_text_messages() {
        let e: ErrorBody =
            read(br#"{"code":"ISM_4000","message":["Invalid key",3,null]}"#).unwrap();
        assert_eq!(e.code.as_str(), Some("ISM_4000"));
        assert_eq!(e.message.0, vec!["Invalid key".to_owned()]);
        let e: ErrorBody = read(br#"{"message":"one"}"#).unwrap();
        assert_eq!(e.message.0, vec!["one".to_owned()]);
    }

    #[test]
    fn invalid_utf8_is_refused_even_where_nothing_is_read() {
        let e = read::<Record>(b"{\"value\":\"\xff\xfe\"}").unwrap_err();
        assert!(e.contains("invalid UTF-8 at byte 10"), "{e}");
    }

    #[test]
    fn bad_bodies_say_not_json() {
        for body in [
            &b""[..],
            b"<html>",
            b"{\"value\":[",
            b"\xef\xbb\xbf{}",
            b"{} x",
        ] {
            let e = read::<Page>(body).unwrap_err();
            assert!(e.starts_with("not JSON"), "{e}");
        }
    }
}

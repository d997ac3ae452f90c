//! Ivanti's JSON answers, read with serde into the few members the plugin
//! uses. Every other member is skipped without being built, so a full
//! 180-field record costs what its five useful fields cost.
//!
//! Members are read as [`Scalar`]s rather than typed fields: a wrong type
//! then becomes a `bad-response` naming the field (the caller checks),
//! not a serde message about a column. A member that may hold any JSON
//! value is taken as raw text first (skipped iteratively, at any depth,
//! with no tree built) and read once its type is known: serde's untagged
//! enums would build the whole value, and refuse it past 128 levels.

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::marker::PhantomData;

/// Rows of one page past which the answer is refused: the plugin never asks
/// for more than 100, and each row kept costs memory inside the component.
pub const MAX_ROWS: usize = 1_000;

/// One JSON value as the plugin sees it: a scalar it may read, or a
/// compound it skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Scalar<'a> {
    /// Absent or `null`.
    #[default]
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    /// Borrowed from the answer unless it had escapes.
    Text(Cow<'a, str>),
    /// An array or object (skipped, not built).
    Compound,
}

impl Scalar<'_> {
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

/// A member's raw JSON text: `{`, `[`, `"`, `n`, `t`, `f` or a number's
/// first character tells its type.
fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<&'de str, D::Error> {
    <&RawValue>::deserialize(d).map(RawValue::get)
}

/// Reads `T` from a member's raw text, as part of the answer it came from.
fn inner<'de, T: Deserialize<'de>, E: serde::de::Error>(text: &'de str) -> Result<T, E> {
    serde_json::from_slice(text.as_bytes()).map_err(E::custom)
}

/// A string member's text, borrowed from the answer unless it has escapes
/// (serde's `Cow<str>` is always owned outside a `#[serde(borrow)]` field).
fn text<E: serde::de::Error>(raw: &str) -> Result<Cow<'_, str>, E> {
    if raw.contains('\\') {
        inner::<String, E>(raw).map(Cow::Owned)
    } else {
        // serde_json checked the string while taking it as raw text.
        Ok(Cow::Borrowed(&raw[1..raw.len() - 1]))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = raw(d)?;
        Ok(match json.as_bytes()[0] {
            b'{' | b'[' => Scalar::Compound,
            b'"' => Scalar::Text(text(json)?),
            b'n' => Scalar::Null,
            b't' => Scalar::Bool(true),
            b'f' => Scalar::Bool(false),
            // A valid JSON number (serde_json checked it), read as
            // serde_json reads one: whole numbers where they fit (`-0` is
            // a float), else a float.
            _ => match (json.parse::<u64>(), json.parse::<i64>()) {
                (Ok(u), _) => Scalar::Unsigned(u),
                (_, Ok(i)) if i < 0 => Scalar::Signed(i),
                _ => Scalar::Float(inner::<f64, D::Error>(json)?),
            },
        })
    }
}

/// The members of an incident record the plugin reads. A member given
/// twice keeps its last value, as serde_json's own maps do (a derived
/// reader would refuse the record).
#[derive(Debug, Default)]
pub struct Record<'a> {
    pub incident_number: Scalar<'a>,
    pub rec_id: Scalar<'a>,
    pub status: Scalar<'a>,
    pub owner: Scalar<'a>,
    pub symptom: Scalar<'a>,
}

/// The member names of [`Record`].
#[derive(Deserialize)]
#[serde(field_identifier)]
enum RecordMember {
    IncidentNumber,
    RecId,
    Status,
    Owner,
    Symptom,
    #[serde(other)]
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor(PhantomData))
    }
}

struct RecordVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for RecordVisitor<'a> {
    type Value = Record<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an incident record")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Record<'a>, A::Error> {
        let mut r = Record::default();
        while let Some(member) = map.next_key::<RecordMember>()? {
            let slot = match member {
                RecordMember::IncidentNumber => &mut r.incident_number,
                RecordMember::RecId => &mut r.rec_id,
                RecordMember::Status => &mut r.status,
                RecordMember::Owner => &mut r.owner,
                RecordMember::Symptom => &mut r.symptom,
                RecordMember::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value()?;
        }
        Ok(r)
    }
}

/// A collection answer: `{"value": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Page<'a> {
    #[serde(borrow)]
    pub value: Rows<'a>,
}

/// What a page's `value` held.
#[derive(Debug, Default)]
pub enum Rows<'a> {
    #[default]
    Absent,
    /// Rows that are not objects are empty records, which then fail the
    /// caller's checks by naming the field they lack.
    Records(Vec<Record<'a>>),
    /// A string where rows were expected, e.g. `"No instances found."`.
    Text(Cow<'a, str>),
    /// Any other type.
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Rows<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = raw(d)?;
        Ok(match json.as_bytes()[0] {
            b'"' => Rows::Text(text(json)?),
            b'[' => serde_json::Deserializer::from_slice(json.as_bytes())
                .deserialize_seq(RowsVisitor(PhantomData))
                .map_err(D::Error::custom)?,
            _ => Rows::Other,
        })
    }
}

/// The rows of a page, read in one pass and refused past `MAX_ROWS`
/// before they are kept. Hand-written because it measurably matters
/// (`examples/wire_bench.rs`, a 100-row sync page of 10.9 kB, native
/// release): 133 µs a page with it, 185-198 µs without, where the rows
/// must be counted in a pass of their own first (taken as raw texts
/// uncounted, a 16 MiB page of `{}` would need 90 MB, past the
/// component's 64 MiB); the four visitors before took 89-120 µs.
struct RowsVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for RowsVisitor<'a> {
    type Value = Rows<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Rows<'a>, A::Error> {
        let mut rows = Vec::new();
        while let Some(row) = seq.next_element::<&RawValue>()? {
            if rows.len() == MAX_ROWS {
                return Err(A::Error::custom(format_args!("more than {MAX_ROWS} rows")));
            }
            rows.push(if row.get().starts_with('{') {
                inner(row.get())?
            } else {
                Record::default()
            });
        }
        Ok(Rows::Records(rows))
    }
}

/// Ivanti's error body: `{"code":"ISM_4000","description":"...","message":["..."]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody<'a> {
    #[serde(borrow)]
    pub code: Scalar<'a>,
    #[serde(borrow)]
    pub description: Scalar<'a>,
    #[serde(borrow)]
    pub message: Messages<'a>,
}

/// `message`: a string or a list, of which the strings are kept.
#[derive(Debug, Default)]
pub struct Messages<'a>(pub Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Messages<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let json = raw(d)?;
        let items: Vec<Scalar> = match json.as_bytes()[0] {
            b'"' => return Ok(Messages(vec![text(json)?])),
            b'[' => inner(json)?,
            _ => Vec::new(),
        };
        let texts = items.into_iter().filter_map(|item| match item {
            Scalar::Text(t) => Some(t),
            _ => None,
        });
        Ok(Messages(texts.collect()))
    }
}

/// The body without a leading UTF-8 byte-order mark (some proxies and
/// .NET writers add one; JSON readers may ignore it, RFC 8259 8.1).
pub fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body)
}

/// Reads `T` from an answer's body.
pub fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    let body = strip_bom(body);
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
    fn members_of_every_type_are_read_as_serde_json_reads_them() {
        for n in [
            "7",
            "-7",
            "-0",
            "0",
            "2.5e1",
            "99999999999999999999",
            "-1e-3",
        ] {
            let theirs: serde_json::Number = serde_json::from_str(n).unwrap();
            let read_as = match (theirs.as_u64(), theirs.as_i64()) {
                (Some(u), _) => Scalar::Unsigned(u),
                (_, Some(i)) => Scalar::Signed(i),
                _ => Scalar::Float(theirs.as_f64().unwrap()),
            };
            let body = format!(r#"{{"Status":{n}}}"#);
            assert_eq!(
                read::<Record>(body.as_bytes()).unwrap().status,
                read_as,
                "{n}"
            );
        }
        assert!(read::<Record>(br#"{"Status":1e999}"#).is_err());
        let r: Record =
            read(br#"{"Status":"a\u00e9","Owner":"b","RecId":true,"Symptom":{}}"#).unwrap();
        assert_eq!(r.status.as_str(), Some("a\u{e9}"));
        assert!(matches!(r.owner, Scalar::Text(Cow::Borrowed("b"))));
        assert_eq!(
            (r.rec_id, r.symptom),
            (Scalar::Bool(true), Scalar::Compound)
        );
    }

    #[test]
    fn a_bom_is_skipped_and_a_member_given_twice_keeps_its_last_value() {
        let r: Record =
            read(b"\xef\xbb\xbf{\"RecId\":\"A\",\"x\":1,\"RecId\":\"B\",\"Status\":\"S\"}")
                .unwrap();
        assert_eq!(
            (r.rec_id.as_str(), r.status.as_str()),
            (Some("B"), Some("S"))
        );
        let page: Page = read(b"\xef\xbb\xbf{\"value\":[]}").unwrap();
        assert!(matches!(page.value, Rows::Records(rows) if rows.is_empty()));
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
        assert_eq!(e.message.0, ["Invalid key"]);
        let e: ErrorBody = read(br#"{"message":"one"}"#).unwrap();
        assert_eq!(e.message.0, ["one"]);
    }

    #[test]
    fn invalid_utf8_is_refused_even_where_nothing_is_read() {
        let e = read::<Record>(b"{\"value\":\"\xff\xfe\"}").unwrap_err();
        assert!(e.contains("invalid UTF-8 at byte 10"), "{e}");
    }

    #[test]
    fn bad_bodies_say_not_json() {
        for body in [&b""[..], b"<html>", b"{\"value\":[", b"{} x"] {
            let e = read::<Page>(body).unwrap_err();
            assert!(e.starts_with("not JSON"), "{e}");
        }
    }
}

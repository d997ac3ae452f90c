//! Values typed and cut as the tenant's `$metadata` says: live tenants
//! refuse `"true"` for a Boolean field, and a text longer than its
//! `MaxLength` is cut (or refused) by Ivanti where no one sees it.

use crate::errors::invalid_input;
use crate::wit::{Error, MappingField, Warning};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A value as it is sent: text, or what `$metadata` types it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A decimal as it was written (checked as a JSON number, never turned
    /// into a float, so `0.4000` goes as `0.4000`).
    Decimal(String),
    Text(String),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) => s.serialize_i64(*n),
            Value::Decimal(d) => match RawValue::from_string(d.clone()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.serialize_str(d),
            },
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// Whether `s` is a JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// The incident's fields as `$metadata` describes them, by name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    fields: Vec<MappingField>,
    /// Lower-cased names and their place in `fields`, sorted: a create
    /// looks up each of its fields here.
    index: Vec<(String, usize)>,
}

/// A schema that knows no field: values go as text.
pub static UNTYPED: Schema = Schema {
    fields: Vec::new(),
    index: Vec::new(),
};

impl Schema {
    pub fn new(fields: Vec<MappingField>) -> Self {
        let mut index: Vec<(String, usize)> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        crate::sort::sort(&mut index);
        Schema { fields, index }
    }

    pub fn fields(&self) -> &[MappingField] {
        &self.fields
    }

    /// The field named `name` (Ivanti matches names without case; an
    /// exact match wins over one that differs in case).
    pub fn field(&self, name: &str) -> Option<&MappingField> {
        let lower = name.to_ascii_lowercase();
        let start = self.index.partition_point(|(n, _)| *n < lower);
        let mut same = self.index[start..]
            .iter()
            .take_while(|(n, _)| *n == lower)
            .map(|&(_, i)| &self.fields[i]);
        let first = same.next()?;
        Some(
            std::iter::once(first)
                .chain(same)
                .find(|f| f.name == name)
                .unwrap_or(first),
        )
    }

    /// The JSON value Ivanti expects for `text` in field `name`, and a
    /// warning when the text had to be cut to `MaxLength - reserve`.
    pub fn convert(
        &self,
        name: &str,
        text: &str,
        reserve: usize,
    ) -> Result<(Value, Option<Warning>), Error> {
        let Some(field) = self.field(name) else {
            return Ok((Value::Text(text.to_owned()), None));
        };
        let ty = field.value_type.as_str();
        let trimmed = text.trim();
        let wrong = |what: &str| {
            invalid_input(
                "mapping",
                name,
                format!(
                    "{name} is {what} in Ivanti ({ty}), and '{}' is not: map a value of that type",
                    crate::errors::excerpt(text.as_bytes())
                ),
            )
        };
        let typed = match ty {
            "Edm.Boolean" | "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte"
            | "Edm.SByte" | "Edm.Decimal" | "Edm.Double" | "Edm.Single" | "Edm.DateTimeOffset"
            | "Edm.DateTime" | "Edm.Date"
                if trimmed.is_empty() =>
            {
                // An empty rendering leaves the field unset.
                Some(Value::Null)
            }
            "Edm.Boolean" => Some(Value::Bool(
                boolean(trimmed).ok_or_else(|| wrong("true or false"))?,
            )),
            "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte" | "Edm.SByte" => Some(
                trimmed
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| wrong("a whole number"))?,
            ),
            "Edm.Decimal" | "Edm.Double" | "Edm.Single" if is_json_number(trimmed) => {
                Some(Value::Decimal(trimmed.to_owned()))
            }
            "Edm.Decimal" | "Edm.Double" | "Edm.Single" => return Err(wrong("a number")),
            "Edm.DateTimeOffset" | "Edm.DateTime" | "Edm.Date" => Some(Value::Text(
                date_time(trimmed).ok_or_else(|| wrong("a date and time (ISO 8601, e.g. 2024-04-05T08:29:07Z, or seconds since 1970)"))?,
            )),
            _ => None,
        };
        if let Some(v) = typed {
            return Ok((v, None));
        }
        match field
            .max_length
            .map(|m| (m as usize).saturating_sub(reserve))
        {
            Some(max) if text.chars().count() > max => {
                let cut: String = text.chars().take(max).collect();
                let warning = Warning {
                    field: name.to_owned(),
                    message: format!(
                        "{name} had {} characters and was cut to {max} (Ivanti's MaxLength for it is {})",
                        text.chars().count(),
                        field.max_length.unwrap_or_default()
                    ),
                };
                Ok((Value::Text(cut), Some(warning)))
            }
            _ => Ok((Value::Text(text.to_owned()), None)),
        }
    }
}

fn boolean(s: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "1", "yes", "on"];
    const FALSE: [&str; 4] = ["false", "0", "no", "off"];
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| s.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// An ISO 8601 date-time as Ivanti writes them (`2024-04-05T08:29:07Z`,
/// with fractions or an offset, or a date alone), or seconds since 1970,
/// written as UTC.
pub fn date_time(s: &str) -> Option<String> {
    if !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(from_unix(s.parse().ok()?));
    }
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let date_ok = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    if !date_ok {
        return None;
    }
    let month: u32 = s[5..7].parse().ok()?;
    let day: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if b.len() == 10 {
        return Some(format!("{s}T00:00:00Z"));
    }
    let time = &s[11..];
    let tb = time.as_bytes();
    let tdig = |r: std::ops::Range<usize>| {
        tb.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let head_ok =
        matches!(b[10], b'T' | b't' | b' ') && tdig(0..2) && tb.get(2) == Some(&b':') && tdig(3..5);
    if !head_ok {
        return None;
    }
    let mut at = 5;
    if tb.get(at) == Some(&b':') {
        if !tdig(at + 1..at + 3) {
            return None;
        }
        at += 3;
        if tb.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while tb.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return None;
            }
        }
    }
    let zone = &time[at..];
    let zb = zone.as_bytes();
    let zone_ok = zone.is_empty()
        || zone.eq_ignore_ascii_case("z")
        || (zb.len() == 6
            && matches!(zb[0], b'+' | b'-')
            && zb[1..3].iter().all(u8::is_ascii_digit)
            && zb[3] == b':'
            && zb[4..6].iter().all(u8::is_ascii_digit));
    let hour: u32 = time[..2].parse().ok()?;
    let minute: u32 = time[3..5].parse().ok()?;
    (zone_ok && hour < 24 && minute < 60).then(|| format!("{}T{time}", &s[..10]))
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil date).
fn from_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: &str, max: Option<u32>) -> MappingField {
        MappingField {
            name: name.into(),
            label: name.into(),
            value_type: ty.into(),
            max_length: max,
            updatable: true,
        }
    }

    fn schema() -> Schema {
        Schema::new(vec![
            field("Subject", "Edm.String", Some(10)),
            field("IsVip", "Edm.Boolean", None),
            field("Count", "Edm.Int32", None),
            field("Cost", "Edm.Decimal", None),
            field("SeenAt", "Edm.DateTimeOffset", None),
        ])
    }

    #[test]
    fn values_take_their_edm_type() {
        let s = schema();
        assert_eq!(
            s.convert("isvip", " TRUE ", 0).unwrap().0,
            Value::Bool(true)
        );
        assert_eq!(s.convert("IsVip", "0", 0).unwrap().0, Value::Bool(false));
        assert_eq!(s.convert("Count", "42", 0).unwrap().0, Value::Int(42));
        assert_eq!(
            s.convert("Cost", "0.4000", 0).unwrap().0,
            Value::Decimal("0.4000".into())
        );
        assert_eq!(
            serde_json::to_string(&[
                Value::Decimal("0.4000".into()),
                Value::Bool(true),
                Value::Null
            ])
            .unwrap(),
            "[0.4000,true,null]"
        );
        assert_eq!(s.convert("Count", "", 0).unwrap().0, Value::Null);
        assert_eq!(
            s.convert("SeenAt", "1712565416", 0).unwrap().0,
            Value::Text("2024-04-08T08:36:56Z".into())
        );
        assert_eq!(
            s.convert("SeenAt", "2024-03-13T19:26:17.76Z", 0).unwrap().0,
            Value::Text("2024-03-13T19:26:17.76Z".into())
        );
        assert_eq!(
            s.convert("Other", "true", 0).unwrap().0,
            Value::Text("true".into())
        );
    }

    #[test]
    fn a_value_that_does_not_convert_names_the_field() {
        let s = schema();
        for (name, value) in [
            ("IsVip", "maybe"),
            ("Count", "4.5"),
            ("Cost", "NaN"),
            ("SeenAt", "yesterday"),
            ("SeenAt", "2024-13-01"),
        ] {
            match s.convert(name, value, 0) {
                Err(Error::InvalidInput(p)) => {
                    assert_eq!(p.field, name);
                    assert!(p.message.contains(value), "{}", p.message);
                }
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_with_a_warning() {
        let s = schema();
        let (v, w) = s.convert("Subject", "ééééééééééééé", 0).unwrap();
        assert_eq!(v, Value::Text("éééééééééé".into()));
        let w = w.unwrap();
        assert_eq!(w.field, "Subject");
        assert!(
            w.message.contains("had 13 characters and was cut to 10"),
            "{}",
            w.message
        );
        let (v, w) = s.convert("Subject", "abcdefghij", 3).unwrap();
        assert_eq!(v, Value::Text("abcdefg".into()));
        assert!(w.is_some());
        assert!(s.convert("Subject", "short", 0).unwrap().1.is_none());
    }

    #[test]
    fn unix_dates() {
        assert_eq!(from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(from_unix(-1), "1969-12-31T23:59:59Z");
    }
}

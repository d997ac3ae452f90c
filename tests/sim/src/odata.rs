//! The OData subset Ivanti supports: URL decoding, `$filter` (eq ne lt le gt
//! ge, and/or, parentheses), value comparison for `$filter` and `$orderby`.

use serde_json::Value;
use std::cmp::Ordering;

/// Percent-decodes `s`; with `plus_as_space`, '+' is a space (query strings).
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits and decodes a query string into (name, value) pairs.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    /// A quoted string or an unquoted ISO date/time.
    Str(String),
}

/// A parsed `$filter`. And/Or are flattened, so nesting depth is bounded by
/// the parenthesis depth (itself limited), never by the number of terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp { field: usize, op: Op, lit: Lit },
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Deepest parenthesis nesting accepted.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons accepted in one filter.
pub const MAX_TERMS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Ident(String),
    Str(String),
    Bare(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            toks.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            toks.push(Tok::RParen);
            i += 1;
        } else if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        v.push(ch);
                        i += 1;
                    }
                }
            }
            toks.push(Tok::Str(v));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | '+' | ':' | '.'))
            {
                i += 1;
            }
            toks.push(Tok::Bare(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character '{c}' in $filter"));
        }
    }
    Ok(toks)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    terms: usize,
    resolve: &'a dyn Fn(&str) -> Option<usize>,
}

impl Parser<'_> {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(i)) if i.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, String> {
        let mut terms = vec![self.and(depth)?];
        while self.peek_kw("or") {
            self.pos += 1;
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Expr::Or(Vec::new()))
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, String> {
        let mut terms = vec![self.primary(depth)?];
        while self.peek_kw("and") {
            self.pos += 1;
            terms.push(self.primary(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(terms)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                if depth >= MAX_DEPTH {
                    return Err("$filter is nested too deeply".into());
                }
                self.pos += 1;
                let e = self.or(depth + 1)?;
                if self.toks.get(self.pos) != Some(&Tok::RParen) {
                    return Err("missing ')' in $filter".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.toks.get(self.pos) == Some(&Tok::LParen) {
                    return Err(format!("The function '{name}' is not supported in $filter"));
                }
                if name.eq_ignore_ascii_case("not") {
                    return Err("The operator 'not' is not supported in $filter".into());
                }
                let field = (self.resolve)(&name).ok_or_else(|| {
                    format!("Could not find a property named '{name}' on type 'incident'")
                })?;
                let op = match self.toks.get(self.pos) {
                    Some(Tok::Ident(o)) => match o.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        other => {
                            return Err(format!(
                                "The operator '{other}' is not supported in $filter"
                            ))
                        }
                    },
                    _ => return Err(format!("expected an operator after '{name}'")),
                };
                self.pos += 1;
                let lit = self.literal()?;
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return Err("$filter has too many terms".into());
                }
                Ok(Expr::Cmp { field, op, lit })
            }
            Some(t) => Err(format!("unexpected {t:?} in $filter")),
            None => Err("unexpected end of $filter".into()),
        }
    }

    fn literal(&mut self) -> Result<Lit, String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Ident(i)) if i.eq_ignore_ascii_case("null") => Ok(Lit::Null),
            Some(Tok::Ident(i)) if i.eq_ignore_ascii_case("true") => Ok(Lit::Bool(true)),
            Some(Tok::Ident(i)) if i.eq_ignore_ascii_case("false") => Ok(Lit::Bool(false)),
            Some(Tok::Bare(b)) => {
                if let Ok(n) = b.parse::<f64>() {
                    if n.is_finite() && !b.contains(['T', 't', ':']) {
                        return Ok(Lit::Num(n));
                    }
                }
                let bytes = b.as_bytes();
                let is_date = bytes.len() >= 10
                    && bytes[..4].iter().all(u8::is_ascii_digit)
                    && bytes[4] == b'-'
                    && bytes[7] == b'-';
                if is_date {
                    Ok(Lit::Str(b))
                } else {
                    Err(format!("invalid literal '{b}' in $filter"))
                }
            }
            Some(t) => Err(format!("expected a literal, found {t:?}")),
            None => Err("expected a literal at the end of $filter".into()),
        }
    }
}

/// Parses a `$filter`; `resolve` maps a property name to its column.
pub fn parse_filter(s: &str, resolve: &dyn Fn(&str) -> Option<usize>) -> Result<Expr, String> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err("empty $filter".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        terms: 0,
        resolve,
    };
    let e = p.or(0)?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?} in $filter", p.toks[p.pos]));
    }
    Ok(e)
}

fn cmp_str(a: &str, b: &str) -> Ordering {
    // Ivanti runs on SQL Server with a case-insensitive collation.
    a.to_lowercase().cmp(&b.to_lowercase())
}

fn as_num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compare_lit(v: &Value, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::Null, Lit::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Lit::Null) => None,
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Lit::Str(s)) => Some(cmp_str(&a.to_string(), s)),
        (_, Lit::Num(n)) => as_num(v).and_then(|x| x.partial_cmp(n)),
        (Value::String(a), Lit::Str(s)) => Some(cmp_str(a, s)),
        (Value::Number(_), Lit::Str(s)) => {
            let n: f64 = s.trim().parse().ok()?;
            as_num(v)?.partial_cmp(&n)
        }
        _ => None,
    }
}

/// Evaluates a filter against a record's columns.
pub fn eval(e: &Expr, row: &[Value]) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|x| eval(x, row)),
        Expr::Or(v) => v.iter().any(|x| eval(x, row)),
        Expr::Cmp { field, op, lit } => {
            let v = row.get(*field).unwrap_or(&Value::Null);
            let ord = compare_lit(v, lit);
            match op {
                Op::Eq => ord == Some(Ordering::Equal),
                Op::Ne => ord != Some(Ordering::Equal),
                Op::Lt => ord == Some(Ordering::Less),
                Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                Op::Gt => ord == Some(Ordering::Greater),
                Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            }
        }
    }
}

/// Total order for `$orderby`: null < booleans < numbers < strings (case-insensitive).
pub fn order_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => cmp_str(x, y).then_with(|| x.cmp(y)),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(n: &str) -> Option<usize> {
        ["IncidentNumber", "Status", "Subject", "Owner"]
            .iter()
            .position(|f| f.eq_ignore_ascii_case(n))
    }

    #[test]
    fn percent_decoding_optionally_reads_plus_as_space() {
        assert_eq!(percent_decode("a+b%20c%27", true), "a b c'");
        assert_eq!(percent_decode("a+b%2", false), "a+b%2");
        assert_eq!(percent_decode("%24filter", true), "$filter");
    }

    #[test]
    fn parses_and_evaluates() {
        let row = vec![json!(10002), json!("Logged"), json!("it's"), Value::Null];
        let t = |f: &str| eval(&parse_filter(f, &res).unwrap(), &row);
        assert!(t("IncidentNumber eq 10002"));
        assert!(t("IncidentNumber gt 10001 and IncidentNumber lt 10003"));
        assert!(t(
            "Status eq 'Closed' or (Status eq 'logged' and Owner eq null)"
        ));
        assert!(t("Subject eq 'it''s'"));
        assert!(!t("Owner ne null"));
        assert!(parse_filter("contains(Subject,'x')", &res).is_err());
        assert!(parse_filter("Nope eq 1", &res).is_err());
        assert!(parse_filter("Status eq", &res).is_err());
    }

    #[test]
    fn hostile_nesting_is_rejected_not_overflowing() {
        let deep = "(".repeat(100_000) + "Status eq 'x'" + &")".repeat(100_000);
        assert!(parse_filter(&deep, &res).is_err());
        let long = vec!["Status eq 'x'"; 5000].join(" and ");
        assert!(parse_filter(&long, &res).is_err());
        let ok = vec!["Status eq 'x'"; 500].join(" or ");
        assert!(parse_filter(&ok, &res).is_ok());
    }
}

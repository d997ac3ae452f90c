//! Collection queries (`GET incidents?$filter=&$top=&$skip=&$select=&$orderby=`): the
//! options, the matching rows, and the answer, with or without rows.

use super::{Incident, Shared};
use crate::http::{Request, Response};
use crate::model::{RecordOut, Schema};
use crate::odata;
use crate::switches::NoRows;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};

const COLLECTION_CONTEXT: &str = "/api/odata/$metadata#incidents";

fn bad_request(description: &str) -> Response {
    Response::ivanti_error(400, "ISM_4000", description)
}

/// A query's options, as parsed.
struct Options {
    filter: Option<odata::Expr>,
    top: usize,
    skip: usize,
    select: Option<Vec<usize>>,
    /// Columns, descending or not.
    order: Vec<(usize, bool)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filter: None,
            top: 25,
            skip: 0,
            select: None,
            order: Vec::new(),
        }
    }
}

fn parse_top(v: &str) -> Result<usize, Response> {
    match v.trim().parse::<usize>() {
        Ok(n) if n <= 100 => Ok(n),
        Ok(_) => Err(bad_request(
            "The limit for $top query has been exceeded. Please specify a value less than or equal to 100",
        )),
        Err(_) => Err(bad_request(&format!("Invalid value '{v}' for $top"))),
    }
}

fn parse_skip(v: &str) -> Result<usize, Response> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| bad_request(&format!("Invalid value '{v}' for $skip")))
}

fn parse_select(schema: &Schema, v: &str) -> Result<Vec<usize>, Response> {
    let mut cols = Vec::new();
    for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match schema.index(name) {
            Some(i) => cols.push(i),
            None => {
                return Err(bad_request(&format!(
                    "Invalid $select: could not find a property named '{name}' on type 'incident'"
                )))
            }
        }
    }
    Ok(cols)
}

/// Appends the clauses of one `$orderby` to `order`.
fn parse_orderby(schema: &Schema, v: &str, order: &mut Vec<(usize, bool)>) -> Result<(), Response> {
    let bad = bad_request;
    for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        let Some(i) = schema.index(name) else {
            return Err(bad(&format!(
                "Invalid $orderby: could not find a property named '{name}' on type 'incident'"
            )));
        };
        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(o) => return Err(bad(&format!("Invalid $orderby direction '{o}'"))),
        };
        if words.next().is_some() {
            return Err(bad(&format!("Invalid $orderby clause '{part}'")));
        }
        order.push((i, desc));
    }
    Ok(())
}

impl Shared {
    pub(super) fn query(&self, req: &Request) -> Response {
        let opts = match self.query_options(&req.query) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let (count, rows) = self.matching_rows(&opts);
        if rows.is_empty() {
            match self.switches().no_rows {
                NoRows::EmptyBody => return Response::empty(200),
                NoRows::NoContent => return Response::empty(204),
                NoRows::NoInstances => {
                    return Response::json(200, &json!({"value": "No instances found."}))
                }
                NoRows::EmptyArray => {}
            }
        }
        let out = QueryOut {
            schema: &self.schema,
            count,
            rows: &rows,
            select: opts.select.as_deref(),
        };
        Response::json_bytes(200, serde_json::to_vec(&out).unwrap_or_default())
    }

    /// The options of a query string, in order; the first bad one answers 400.
    fn query_options(&self, query: &str) -> Result<Options, Response> {
        let mut o = Options::default();
        let resolve = |n: &str| self.schema.index(n);
        for (k, v) in odata::parse_query(query) {
            match k.as_str() {
                "$filter" => match odata::parse_filter(&v, &resolve) {
                    Ok(e) => o.filter = Some(e),
                    Err(e) => return Err(bad_request(&format!("Invalid $filter: {e}"))),
                },
                "$top" => o.top = parse_top(&v)?,
                "$skip" => o.skip = parse_skip(&v)?,
                "$select" => o.select = Some(parse_select(&self.schema, &v)?),
                "$orderby" => parse_orderby(&self.schema, &v, &mut o.order)?,
                "$count" | "$format" => {}
                other if other.starts_with('$') => {
                    return Err(bad_request(&format!(
                        "The query option '{other}' is not supported"
                    )))
                }
                _ => {}
            }
        }
        Ok(o)
    }

    /// The number of matches (before `$skip`/`$top`) and the page's rows.
    fn matching_rows(&self, o: &Options) -> (usize, Vec<Vec<Value>>) {
        let st = self.lock();
        let mut matched: Vec<&Incident> = st
            .incidents
            .iter()
            .flatten()
            .filter(|inc| {
                o.filter
                    .as_ref()
                    .is_none_or(|f| odata::eval(f, &inc.values))
            })
            .collect();
        if !o.order.is_empty() {
            matched.sort_by(|a, b| {
                for &(col, desc) in &o.order {
                    let ord = odata::order_values(&a.values[col], &b.values[col]);
                    let ord = if desc { ord.reverse() } else { ord };
                    if ord.is_ne() {
                        return ord;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let rows: Vec<Vec<Value>> = matched
            .iter()
            .skip(o.skip)
            .take(o.top)
            .map(|inc| match &o.select {
                // Keep only the selected columns to copy less under the lock.
                Some(cols) => {
                    let mut v = vec![Value::Null; inc.values.len()];
                    for &c in cols {
                        v[c] = inc.values[c].clone();
                    }
                    v
                }
                None => inc.values.clone(),
            })
            .collect();
        (matched.len(), rows)
    }
}

/// The collection answer of a query, keys in Ivanti's order.
struct QueryOut<'a> {
    schema: &'a Schema,
    count: usize,
    rows: &'a [Vec<Value>],
    select: Option<&'a [usize]>,
}

impl Serialize for QueryOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Rows<'b>(&'b QueryOut<'b>);
        impl Serialize for Rows<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.rows.iter().map(|r| RecordOut {
                    schema: self.0.schema,
                    values: r,
                    context: None,
                    select: self.0.select,
                }))
            }
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("@odata.context", COLLECTION_CONTEXT)?;
        m.serialize_entry("@odata.count", &self.count)?;
        m.serialize_entry("value", &Rows(self))?;
        m.end()
    }
}

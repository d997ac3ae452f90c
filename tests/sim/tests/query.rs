//! Collection queries: `$filter`, URL decoding, `$top`/`$skip`/`@odata.count`, `$select`,
//! `$orderby`, and the syntax and sizes that are refused.

use crate::common::*;
use ivanti_sim::{Dialect, Sim};
use serde_json::{json, Value};

/// 30 incidents 10001..=10030; every third one Resolved; subjects "Alert <i>".
fn seeded() -> Sim {
    let sim = start();
    for i in 1..=30u64 {
        create(&sim, &format!("Alert {i}"));
        if i % 3 == 0 {
            sim.set_status(10000 + i, "Resolved");
        }
    }
    sim
}

fn numbers(v: &Value) -> Vec<u64> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["IncidentNumber"].as_u64().unwrap())
        .collect()
}

/// The page as JSON; the live answer to no rows (an empty body) reads as an empty page.
fn filter(sim: &Sim, f: &str, extra: &str) -> Value {
    let r = query(sim, &format!("$filter={}{extra}", enc(f)));
    assert_eq!(r.status, 200, "{f}: {}", r.text());
    if r.body.is_empty() {
        assert_eq!(r.header("content-type"), None);
        return json!({"@odata.count": 0, "value": []});
    }
    r.json()
}

#[test]
fn filters_compare_combine_and_nest() {
    let sim = seeded();
    let n = |f: &str| numbers(&filter(&sim, f, ""));
    assert_eq!(n("IncidentNumber eq 10005"), [10005]);
    assert_eq!(n("IncidentNumber gt 10027"), [10028, 10029, 10030]);
    assert_eq!(n("IncidentNumber ge 10029"), [10029, 10030]);
    assert_eq!(n("IncidentNumber lt 10003"), [10001, 10002]);
    assert_eq!(n("IncidentNumber le 10002"), [10001, 10002]);
    assert_eq!(
        n("IncidentNumber gt 10020 and Status eq 'Resolved'"),
        [10021, 10024, 10027, 10030]
    );
    assert_eq!(
        n("IncidentNumber eq 10001 or IncidentNumber eq 10030"),
        [10001, 10030]
    );
    assert_eq!(
        n("(IncidentNumber eq 10001 or IncidentNumber eq 10003) and Status ne 'Logged'"),
        [10003]
    );
    assert_eq!(
        n("Status eq 'Resolved' and (IncidentNumber lt 10004 or IncidentNumber gt 10028)"),
        [10003, 10030]
    );
    assert_eq!(n("Subject eq 'Alert 7'"), [10007]);
    assert_eq!(n("Owner eq null and IncidentNumber lt 10002"), [10001]);
    assert_eq!(n("Owner ne null"), Vec::<u64>::new());
    assert_eq!(n("IsVIP eq false and IncidentNumber eq 10002"), [10002]);
    let rec = sim.incidents()[9].rec_id.clone();
    assert_eq!(n(&format!("RecId eq '{rec}'")), [10010]);
    assert_eq!(
        n(&format!(
            "ProfileLink_RecID eq '{EMPLOYEE}' and IncidentNumber eq 10004"
        )),
        [10004]
    );
    // Unquoted ISO date-times compare as strings.
    assert_eq!(
        filter(&sim, "CreatedDateTime gt 2000-01-01T00:00:00Z", "")["@odata.count"],
        30
    );
    assert_eq!(
        filter(&sim, "CreatedDateTime lt 2000-01-01T00:00:00Z", "")["@odata.count"],
        0
    );
    // Quotes inside strings.
    create(&sim, "it's broken");
    assert_eq!(n("Subject eq 'it''s broken'"), [10031]);
}

#[test]
fn query_options_are_url_decoded() {
    let sim = seeded();
    // '+' as space, %XX, encoded '$'.
    let r = query(
        &sim,
        "%24filter=IncidentNumber+eq+10002&%24select=Subject%2CIncidentNumber",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["value"][0]["Subject"], "Alert 2");
    let r = query(&sim, "$filter=Subject%20eq%20%27Alert%2012%27");
    assert_eq!(numbers(&r.json()), [10012]);
}

#[test]
fn top_and_skip_page_and_count_counts_every_match() {
    let sim = seeded();
    let v = query(&sim, "").json();
    assert_eq!(v["@odata.count"], 30);
    assert_eq!(
        v["value"].as_array().unwrap().len(),
        25,
        "default $top is 25"
    );
    let v = query(&sim, "$top=100").json();
    assert_eq!(v["value"].as_array().unwrap().len(), 30);
    let v = query(&sim, "$top=5&$skip=10").json();
    assert_eq!(numbers(&v), [10011, 10012, 10013, 10014, 10015]);
    assert_eq!(v["@odata.count"], 30);
    let v = filter(&sim, "Status eq 'Resolved'", "&$top=2&$skip=1");
    assert_eq!(numbers(&v), [10006, 10009]);
    assert_eq!(v["@odata.count"], 10);
    // A page without rows: live, an empty body; the guide's dialect keeps the count.
    for qs in ["$skip=100", "$top=0"] {
        let r = query(&sim, qs);
        assert_eq!((r.status, r.body.len()), (200, 0), "{qs}");
    }
    sim.set_dialect(Dialect::Guide);
    let v = query(&sim, "$skip=100").json();
    assert_eq!(v["value"].as_array().unwrap().len(), 0);
    assert_eq!(v["@odata.count"], 30);
    let v = query(&sim, "$top=0").json();
    assert!(v["value"].as_array().unwrap().is_empty());
    let r = query(&sim, "$top=101");
    assert_ivanti_error(&r, 400, "ISM_4000");
    for bad in ["$top=abc", "$skip=-1", "$top=-5"] {
        assert_ivanti_error(&query(&sim, bad), 400, "ISM_4000");
    }
}

#[test]
fn select_keeps_the_named_fields_and_orderby_sorts() {
    let sim = seeded();
    let v = query(&sim, "$select=IncidentNumber,Status&$top=3").json();
    for row in v["value"].as_array().unwrap() {
        let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["IncidentNumber", "Status"]);
    }
    let v = query(
        &sim,
        &format!("$orderby={}&$top=3", enc("IncidentNumber desc")),
    )
    .json();
    assert_eq!(numbers(&v), [10030, 10029, 10028]);
    let v = query(
        &sim,
        &format!("$orderby={}&$top=3", enc("IncidentNumber asc")),
    )
    .json();
    assert_eq!(numbers(&v), [10001, 10002, 10003]);
    // Strings, two keys.
    let v = query(
        &sim,
        &format!(
            "$orderby={}&$top=4",
            enc("Status desc, IncidentNumber desc")
        ),
    )
    .json();
    assert_eq!(numbers(&v), [10030, 10027, 10024, 10021]);
    let v = filter(
        &sim,
        "IncidentNumber le 10012",
        &format!("&$orderby={}", enc("Subject")),
    );
    // "Alert 1" < "Alert 10" < "Alert 11" < "Alert 12" < "Alert 2" ...
    assert_eq!(&numbers(&v)[..5], [10001, 10010, 10011, 10012, 10002]);
    assert_ivanti_error(&query(&sim, "$select=Nope"), 400, "ISM_4000");
    assert_ivanti_error(&query(&sim, "$orderby=Nope"), 400, "ISM_4000");
    assert_ivanti_error(&query(&sim, "$orderby=Subject+sideways"), 400, "ISM_4000");
}

#[test]
fn unsupported_syntax_is_400() {
    let sim = seeded();
    for f in [
        "contains(Subject,'Alert')",
        "substringof('a',Subject)",
        "not Status eq 'Logged'",
        "Subject has 'x'",
        "NoSuchField eq 1",
        "Status eq",
        "Status eq 'unterminated",
        "(Status eq 'Logged'",
        "Status eq 'Logged')",
        "IncidentNumber eq 1 xor IncidentNumber eq 2",
        "IncidentNumber eq 10001 and",
    ] {
        let r = query(&sim, &format!("$filter={}", enc(f)));
        assert_ivanti_error(&r, 400, "ISM_4000");
    }
    assert_ivanti_error(&query(&sim, "$expand=Journal"), 400, "ISM_4000");
}

#[test]
fn hostile_filters_do_not_crash() {
    let sim = start();
    // Too deep for the parser (but within the request size limit)...
    let deep = format!("{}Status eq 'x'{}", "(".repeat(5_000), ")".repeat(5_000));
    let r = query(&sim, &format!("$filter={}", enc(&deep)));
    let d = assert_ivanti_error(&r, 400, "ISM_4000");
    assert!(d.contains("nested too deeply"), "{d}");
    // ...and beyond the request size limit (raw: a client library refuses
    // a URI over 64 KiB before sending it).
    let deeper = format!("{}Status eq 'x'{}", "(".repeat(50_000), ")".repeat(50_000));
    let request = format!(
        "GET /api/odata/businessobject/incidents?$filter={} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        enc(&deeper),
        api_key_auth()
    );
    let r = raw(&sim.url(), request.as_bytes());
    assert_ivanti_error(&r, 400, "ISM_4000");
    let many = vec!["Status eq 'x'"; 2000].join(" or ");
    let r = query(&sim, &format!("$filter={}", enc(&many)));
    assert_ivanti_error(&r, 400, "ISM_4000");
    // Still serving.
    assert_eq!(query(&sim, "").status, 200);
}

//! Property tests ("fuzzing") of the plugin's parsers: arbitrary and mutated
//! inputs never panic, and what can be written is read back the same.
//! Every test is named `fuzz_*`; more cases than proptest's default 256:
//! `PROPTEST_CASES=100000 cargo test -p ivanti-plugin --test fuzz`.
//! `fuzz_corpus_*` run every parser over the committed inputs in
//! `testdata/fuzz/` (see the README's "Fuzzing" section).

use ivanti_plugin::errors::{self, IvantiError};
use ivanti_plugin::wit::{Error, TaskState};
use ivanti_plugin::{auth, config, metadata, status, task_id, wire};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::PathBuf;

// ---------------------------------------------------------------- helpers

/// What the plugin does with a JSON answer: the typed readers of a page,
/// a record and an error body never panic, and a page is refused only for
/// a reason the plugin gives (not JSON, a limit, a repeated member).
fn check_answer(bytes: &[u8]) {
    let page = wire::read::<wire::Page>(bytes);
    let _ = wire::read::<wire::Record>(bytes);
    let _ = IvantiError::parse(bytes).text();
    // A leading byte-order mark is skipped by the plugin (RFC 8259 8.1).
    let theirs = serde_json::from_slice::<serde_json::Value>(wire::strip_bom(bytes));
    match (&page, &theirs) {
        // What the plugin skips is skipped at any depth, and its escapes
        // are never decoded.
        (Ok(_), Err(e)) => assert!(
            [
                "recursion limit",
                "unicode code point",
                "surrogate",
                "escape"
            ]
            .iter()
            .any(|why| e.to_string().contains(why)),
            "only the plugin reads it: {e}"
        ),
        (Err(e), Ok(serde_json::Value::Object(_))) => assert!(
            e.contains("more than") || e.contains("duplicate field"),
            "only serde_json reads it: {e}"
        ),
        _ => {}
    }
}

fn guide(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name),
    )
    .expect("a test document")
}

/// Applies edits (replace a byte, insert a token, delete a range,
/// truncate, repeat a range) at positions picked by `Index`.
fn mutate(mut doc: Vec<u8>, edits: &[(u8, Index, Index, u8)], tokens: &[&str]) -> Vec<u8> {
    for (kind, at, other, byte) in edits {
        let len = doc.len();
        let i = if len == 0 { 0 } else { at.index(len + 1) };
        match kind % 6 {
            0 if i < len => doc[i] = *byte,
            1 => doc.insert(i, *byte),
            2 => {
                let t = tokens[other.index(tokens.len())].as_bytes();
                doc.splice(i..i, t.iter().copied());
            }
            3 if i < len => {
                let end = (i + 1 + other.index(16)).min(len);
                doc.drain(i..end);
            }
            4 => doc.truncate(i),
            5 if i < len => {
                let end = (i + 1 + other.index(64)).min(len);
                let copy = doc[i..end].to_vec();
                doc.splice(i..i, copy);
            }
            _ => {}
        }
    }
    doc
}

fn edits() -> impl Strategy<Value = Vec<(u8, Index, Index, u8)>> {
    prop::collection::vec(
        (any::<u8>(), any::<Index>(), any::<Index>(), any::<u8>()),
        1..8,
    )
}

const JSON_TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "\\udc00",
    ",",
    ":",
    "1e999",
    "-",
    "0",
    "null",
    "true",
    "\u{0}",
    "\u{feff}",
    "é",
    "😀",
    "\u{202e}",
    "\"value\":",
    "[[[[[[[[",
];

const XML_TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "\"",
    "'",
    "&",
    "&amp;",
    "&lol;",
    "&#0;",
    "&#x41;",
    "&#xD800;",
    "</EntityType>",
    "</Schema>",
    "<EntityType Name=\"incident\">",
    "<Property Name=\"X\"/>",
    "<Property/>",
    "<PropertyRef Name=\"X\"/>",
    "<!DOCTYPE x [<!ENTITY lol \"lol\">]>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?pi?>",
    "xmlns=\"http://docs.oasis-open.org/odata/ns/edm\"",
    "edm:",
    "\u{0}",
    "é",
    "😀",
];

/// Text made mostly of JSON's own characters, so that it is often nearly JSON.
fn jsonish() -> impl Strategy<Value = String> {
    "[\\[\\]{}\",:0-9.eE+\\-nultrfas\\\\ /\\t\\n\u{e9}\u{1F600}]{0,64}"
}

fn property_name() -> impl Strategy<Value = String> {
    "[A-Z][A-Za-z0-9]{0,12}(_[A-Za-z0-9]{1,6})?"
}

// ---------------------------------------------------------------- JSON

proptest! {
    #[test]
    fn fuzz_json_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_answer(&bytes);
    }

    #[test]
    fn fuzz_json_nearly_json_text(s in jsonish()) {
        check_answer(s.as_bytes());
    }

    #[test]
    fn fuzz_json_mutated_documents(
        seed in prop_oneof![
            Just(guide("create-guide.json")),
            Just(guide("update-guide.json")),
            Just(guide("employee-guide.json")),
            Just(br#"{"value":[{"IncidentNumber":10001,"RecId":"54894F23A7CD33C3A55535F7FFDD1A7A","Status":"Logged","Owner":null}]}"#.to_vec()),
            Just(br#"{"code":"ISM_4000","description":"Invalid key","message":["Invalid key"]}"#.to_vec()),
        ],
        edits in edits(),
    ) {
        check_answer(&mutate(seed, &edits, JSON_TOKENS));
    }
}

// ---------------------------------------------------------------- $metadata

fn edmx(properties: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="MetaData" xmlns="http://docs.oasis-open.org/odata/ns/edm"><EntityType Name="incident"><Key><PropertyRef Name="RecId"/></Key><Property Name="RecId" Type="Edm.String" MaxLength="32"/>{properties}</EntityType></Schema></edmx:DataServices></edmx:Edmx>"#
    )
}

proptest! {
    #[test]
    fn fuzz_metadata_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = metadata::parse(&bytes);
    }

    #[test]
    fn fuzz_metadata_mutated_guide(edits in edits()) {
        let doc = mutate(guide("metadata-guide.xml"), &edits, XML_TOKENS);
        if let Ok(fields) = metadata::parse(&doc) {
            // Only what the document names comes out.
            let count = doc.windows(9).filter(|w| w == b"<Property").count();
            prop_assert!(fields.len() <= count);
        }
    }

    #[test]
    fn fuzz_metadata_properties_round_trip(
        props in prop::collection::vec((property_name(), prop::option::of(any::<u32>()), prop::option::of("Edm\\.[A-Z][a-z]{1,10}")), 0..24),
    ) {
        let mut seen = std::collections::HashSet::new();
        let props: Vec<_> = props.into_iter().filter(|(n, _, _)| n != "RecId" && seen.insert(n.clone())).collect();
        let xml: String = props.iter().map(|(name, max, ty)| {
            let mut p = format!(r#"<Property Name="{name}""#);
            if let Some(t) = ty { p.push_str(&format!(r#" Type="{t}""#)); }
            if let Some(m) = max { p.push_str(&format!(r#" MaxLength="{m}""#)); }
            p + "/>"
        }).collect();
        let fields = metadata::parse(edmx(&xml).as_bytes()).expect("a well-formed EDMX");
        let is_twin = |name: &str| name.strip_suffix("_Valid").is_some_and(|base| props.iter().any(|(n, _, _)| n == base));
        let expected: Vec<_> = props.iter().filter(|(n, _, _)| !is_twin(n)).collect();
        prop_assert_eq!(fields.len(), expected.len());
        for (f, (name, max, ty)) in fields.iter().zip(expected) {
            prop_assert_eq!(&f.name, name);
            prop_assert_eq!(f.max_length, *max);
            prop_assert_eq!(&f.value_type, ty.as_deref().unwrap_or("Edm.String"));
            prop_assert!(!f.label.is_empty());
        }
    }
}

// ---------------------------------------------------------------- errors

proptest! {
    #[test]
    fn fuzz_errors_classify_arbitrary_bodies(
        body in prop::collection::vec(any::<u8>(), 0..512),
        status in 100u16..600,
        retry in prop::option::of(any::<u32>()),
        action in prop::sample::select(errors::Action::ALL.to_vec()),
    ) {
        let _ = IvantiError::parse(&body);
        let _ = errors::is_record_not_found(status, &body);
        let e = errors::excerpt(&body);
        prop_assert!(e.chars().count() <= 161 && !e.chars().any(char::is_control));
        let _ = errors::is_prompt_refusal(status, &body);
        let _ = errors::is_too_long(status, &body);
        match errors::classify(action, status, &body, retry) {
            Error::Rejected(r) => {
                prop_assert_eq!(r.status, status);
                let said = format!("answered {status}");
                prop_assert!(r.message.contains(&said));
            }
            Error::RateLimited(r) => prop_assert_eq!(r.retry_after_seconds, retry),
            Error::Unauthorized(m) | Error::Forbidden(m) | Error::NotFound(m) => prop_assert!(m.contains(action.text())),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn fuzz_errors_ivanti_bodies_round_trip(
        code in prop::option::of(any::<String>()),
        description in prop::option::of(any::<String>()),
        messages in prop::collection::vec(any::<String>(), 0..4),
        edits in edits(),
    ) {
        let body = serde_json::json!({"code": code, "description": description, "message": messages});
        let bytes = serde_json::to_vec(&body).unwrap();
        let parsed = IvantiError::parse(&bytes);
        prop_assert_eq!(&parsed.code, &code);
        prop_assert_eq!(&parsed.description, &description);
        prop_assert_eq!(&parsed.messages, &messages);
        if let Some(t) = parsed.text() {
            prop_assert!(t.chars().count() <= 161);
        }
        let _ = errors::classify(errors::Action::Create, 400, &mutate(bytes, &edits, JSON_TOKENS), None);
    }
}

// ---------------------------------------------------------------- ids, login, settings

proptest! {
    #[test]
    fn fuzz_task_ids(id in ".{0,80}") {
        if let Ok((n, rec)) = task_id::parse_task_id(&id) {
            prop_assert!(task_id::is_rec_id(&rec) && rec == rec.to_ascii_uppercase());
            prop_assert_eq!(task_id::parse_task_id(&task_id::task_id(n, &rec)), Ok((n, rec)));
        }
    }

    #[test]
    fn fuzz_task_ids_round_trip(n in any::<u64>(), rec in "[0-9a-fA-F]{32}", pad in "[ \t]{0,2}") {
        let id = format!("{pad}{n}{pad}|{pad}{rec}{pad}");
        prop_assert_eq!(task_id::parse_task_id(&id), Ok((n, rec.to_ascii_uppercase())));
    }

    #[test]
    fn fuzz_login_answers(answer in prop::collection::vec(any::<u8>(), 0..256), host in ".{0,20}") {
        if let Ok(header) = auth::header_from_login(&answer, &host) {
            prop_assert!(!header.is_empty() && !header.chars().any(char::is_control));
        }
    }

    #[test]
    fn fuzz_login_tokens_round_trip(token in "[!-~]{1,64}", pad in " {0,2}", host in "[a-z0-9.]{1,20}") {
        let answer = serde_json::to_string(&format!("{pad}{token}{pad}")).unwrap();
        let header = auth::header_from_login(answer.as_bytes(), &host).unwrap();
        if token.to_ascii_lowercase().contains(&host) {
            prop_assert_eq!(header, token);
        } else {
            prop_assert_eq!(header, format!("Bearer {token}"));
        }
    }

    #[test]
    fn fuzz_status_overrides(text in ".{0,120}") {
        if let Ok(o) = status::parse_overrides(&text) {
            for (name, _) in &o.0 {
                prop_assert!(!name.is_empty() && name.trim() == name);
            }
        }
    }

    #[test]
    fn fuzz_status_overrides_round_trip(
        pairs in prop::collection::vec(("[A-Za-z][A-Za-z0-9 ]{0,20}[A-Za-z0-9]", 0usize..6), 0..6),
        separator in prop_oneof![Just(", "), Just(";"), Just("\n")],
    ) {
        const STATES: [(&str, TaskState); 6] = [
            ("new", TaskState::New), ("In Progress", TaskState::InProgress), ("on_hold", TaskState::OnHold),
            ("CLOSED", TaskState::Closed), ("deleted", TaskState::Deleted), ("other", TaskState::Other),
        ];
        let written: Vec<String> = pairs.iter().map(|(s, i)| format!("{s} = {}", STATES[*i].0)).collect();
        let parsed = status::parse_overrides(&written.join(separator)).unwrap();
        let expected: Vec<(String, TaskState)> = pairs.iter().map(|(s, i)| (s.clone(), STATES[*i].1)).collect();
        prop_assert_eq!(parsed.0, expected);
    }

    #[test]
    fn fuzz_tenant_urls(raw in ".{0,80}") {
        if let Ok(url) = config::parse_tenant_url(&raw) {
            prop_assert!(url.base.starts_with("https://") || url.base.starts_with("http://"));
            prop_assert!(!url.base.ends_with('/') && !url.host.is_empty());
            // What was read reads again the same.
            prop_assert_eq!(config::parse_tenant_url(&url.base), Ok(url));
        }
    }

    #[test]
    fn fuzz_tenant_urls_round_trip(
        host in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,3}",
        port in prop::option::of(1u16..),
        https in any::<bool>(),
        slashes in "/{0,3}",
    ) {
        let scheme = if https { "https" } else { "http" };
        let authority = port.map_or(host.clone(), |p| format!("{host}:{p}"));
        let raw = format!(" {}://{}{slashes} ", scheme.to_ascii_uppercase(), authority.to_ascii_uppercase());
        let url = config::parse_tenant_url(&raw).unwrap();
        prop_assert_eq!(url.base, format!("{scheme}://{}", authority.to_ascii_uppercase()));
        prop_assert_eq!(url.host, host);
    }
}

// ---------------------------------------------------------------- the corpus

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/fuzz")
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    files
}

/// Every parser over every corpus file, whole and line by line: no panic.
/// Files named `json-ok-*` / `json-bad-*` must be read / refused as JSON
/// (serde_json, as the plugin configures it; `json-deep-*` are skipped at
/// any depth, so only "no panic" holds for them), `xml-ok-*` / `xml-bad-*` by the `$metadata` parser.
#[test]
fn fuzz_corpus_never_panics() {
    for (name, bytes) in corpus() {
        let json = serde_json::from_slice::<serde_json::Value>(&bytes);
        let fields = metadata::parse(&bytes);
        let _ = IvantiError::parse(&bytes).text();
        let _ = errors::is_record_not_found(400, &bytes);
        for status in [400, 401, 429, 500, 503] {
            let _ = errors::classify(errors::Action::Sync, status, &bytes, Some(1));
        }
        let _ = errors::excerpt(&bytes);
        let _ = auth::header_from_login(&bytes, "127.0.0.1");
        let text = String::from_utf8_lossy(&bytes);
        for piece in std::iter::once(text.as_ref()).chain(text.lines()) {
            let _ = task_id::parse_task_id(piece);
            let _ = status::parse_overrides(piece);
            let _ = config::parse_tenant_url(piece);
        }
        if name.starts_with("json-ok-") {
            assert!(json.is_ok(), "{name}: {json:?}");
        }
        if name.starts_with("json-bad-") {
            assert!(json.is_err(), "{name} was read");
        }
        if name.starts_with("xml-ok-") {
            assert!(fields.is_ok(), "{name}: {:?}", fields.err());
        }
        if name.starts_with("xml-bad-") {
            assert!(fields.is_err(), "{name} was read");
        }
        if name.starts_with("json-") {
            check_answer(&bytes);
        }
    }
}

/// The corpus's text files hold what each line parser must accept or refuse.
#[test]
fn fuzz_corpus_lines() {
    let files = corpus();
    let lines = |name: &str| -> Vec<String> {
        let (_, bytes) = files.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(bytes.clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let ids = lines("text-task-ids.txt");
    let ok: Vec<bool> = ids
        .iter()
        .map(|l| task_id::parse_task_id(l).is_ok())
        .collect();
    assert_eq!(&ok[..5], [true, true, false, false, true], "{ids:?}");
    assert!(ok[5..].iter().all(|ok| !ok), "{ids:?} {ok:?}");
    let urls = lines("text-tenant-urls.txt");
    let read: Vec<&String> = urls
        .iter()
        .filter(|u| config::parse_tenant_url(u).is_ok())
        .collect();
    assert_eq!(
        read,
        [
            "https://tenant.example.com",
            " HTTPS://Tenant.Example.com// ",
            "http://127.0.0.1:8080",
            "https://[::1]:8443/",
            "https://h/path/prefix/",
        ]
    );
    let overrides = lines("text-status-overrides.txt");
    let read: Vec<&String> = overrides
        .iter()
        .filter(|o| status::parse_overrides(o).is_ok())
        .collect();
    assert_eq!(
        read,
        [
            "Resolved=closed; Cancelled=closed",
            "Triage = in_progress",
            "; ; ,,",
            "Café=on hold",
            "😀=other",
            "x=NEW",
            "x=in-progress,y=ON_HOLD",
            "z=Deleted",
        ]
    );
}

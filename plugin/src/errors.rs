//! Turns Ivanti's answers into the contract's typed errors, each saying
//! what went wrong and what to check (modelled on the guide's
//! troubleshooting section).

use crate::retry::MAX_INLINE_WAIT_SECS;
use crate::text::{contains_ignore_ascii_case, join};
use crate::transport::{Response, TransportError};
use crate::wire::Scalar;
use crate::wit::{Error, FieldProblem, RateLimit, Rejection};
use cto_redact::Redactor;
use std::borrow::Cow;

/// Longest excerpt of a tenant answer quoted in an error.
const EXCERPT_CHARS: usize = 160;
/// Bytes of an unsuccessful answer kept and redacted before any error quotes
/// it: far past the excerpt, so a secret the excerpt cuts is still seen whole.
const REDACTED_BODY_BYTES: usize = 64 * 1024;

/// A redactor of `secrets` and of Ivanti's internal fields.
pub fn redactor<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
    Redactor::new(secrets).with_fields(cto_redact::SESSION_FIELDS)
}

/// A redactor of a raw configuration's secret-looking values (before a
/// session, whose client holds its own, exists).
pub fn config_redactor(config: &crate::wit::Configuration) -> Redactor {
    redactor(config.iter().flat_map(|s| {
        s.values
            .iter()
            .filter(|(k, _)| cto_redact::is_secret_key(k))
            .map(|(_, v)| v.as_str())
    }))
}

/// Redacts a session's `Authorization` value from now on, and the inner
/// token of a `<host>#<token>#2` key alone: that is what ASMX answers echo.
pub fn learn_session_key(r: &mut Redactor, authorization: &str) {
    // `trim_start_matches("Bearer ")`, without linking the substring searcher.
    let mut key = authorization;
    while let Some(rest) = key.strip_prefix("Bearer ") {
        key = rest;
    }
    r.learn(key);
    for part in key.split('#').filter(|p| p.len() >= 16 && *p != key) {
        r.learn(part);
    }
}

/// An unsuccessful answer's body redacted before any error quotes an
/// excerpt of it: the excerpt's cut could otherwise leave half a secret
/// that no later pass recognises. Only the beginning is kept: that bounds
/// the memory redaction takes, and errors quote less than that.
pub fn redact_body(r: &Redactor, body: &[u8]) -> Vec<u8> {
    let head = &body[..body.len().min(REDACTED_BODY_BYTES)];
    match r.redact_str(&String::from_utf8_lossy(head)) {
        Cow::Borrowed(_) => head.to_vec(),
        Cow::Owned(text) => text.into_bytes(),
    }
}

/// `e` with every text in it redacted: the component's last line before
/// its answers leave.
pub fn redacted(e: Error, r: &Redactor) -> Error {
    let text = |s: String| r.redact_str(&s).into_owned();
    match e {
        Error::InvalidConfiguration(mut p) => {
            p.message = text(p.message);
            Error::InvalidConfiguration(p)
        }
        Error::InvalidInput(mut p) => {
            p.message = text(p.message);
            Error::InvalidInput(p)
        }
        Error::Unauthorized(m) => Error::Unauthorized(text(m)),
        Error::Forbidden(m) => Error::Forbidden(text(m)),
        Error::NotFound(m) => Error::NotFound(text(m)),
        Error::RateLimited(mut l) => {
            l.message = text(l.message);
            Error::RateLimited(l)
        }
        Error::Rejected(mut j) => {
            j.message = text(j.message);
            j.code = j.code.map(text);
            Error::Rejected(j)
        }
        Error::Transport(m) => Error::Transport(text(m)),
        Error::BadResponse(m) => Error::BadResponse(text(m)),
    }
}

/// Ivanti's error body: `{"code":"ISM_4000","description":"...","message":["..."]}`.
#[derive(Debug, Default)]
pub struct IvantiError {
    pub code: Option<String>,
    pub description: Option<String>,
    /// `message`, a string or a list (of which the strings are kept).
    pub messages: Vec<String>,
}

impl IvantiError {
    /// Parses Ivanti's error body; anything else yields an empty one.
    pub fn parse(body: &[u8]) -> Self {
        let Ok(doc) = crate::wire::read::<crate::wire::ErrorBody>(body) else {
            return Self::default();
        };
        // `code` and `description` are text when present: any other
        // type means this is not Ivanti's error body.
        let text = |s: Scalar| match s {
            Scalar::Null => Ok(None),
            Scalar::Text(t) => Ok(Some(t.into_owned())),
            _ => Err(()),
        };
        let (Ok(code), Ok(description)) = (text(doc.code), text(doc.description)) else {
            return Self::default();
        };
        IvantiError {
            code,
            description,
            messages: doc.message.0.into_iter().map(Cow::into_owned).collect(),
        }
    }

    /// The most useful text Ivanti gave: the messages, else the description.
    pub fn text(&self) -> Option<String> {
        let joined = join(&self.messages, "; ");
        if !joined.trim().is_empty() {
            return Some(excerpt(joined.as_bytes()));
        }
        self.description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| excerpt(d.as_bytes()))
    }
}

/// A short, printable excerpt of a body for error messages. Bodies of
/// unsuccessful answers are redacted before (`redact_body`), every error's
/// text once more at the component's boundary (`redacted`).
pub fn excerpt(body: &[u8]) -> String {
    // Only the beginning is decoded: a character takes at most 4 bytes, so
    // this prefix holds the excerpt and the character after it. (Decoding a
    // whole 16 MiB body of invalid bytes tripled it past the memory cap.)
    let prefix = &body[..body.len().min(4 * (EXCERPT_CHARS + 1))];
    let text = normalise_space(&String::from_utf8_lossy(prefix));
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Runs of whitespace and control characters as one space, trimmed.
fn normalise_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// What the plugin was doing when Ivanti answered: named in every error,
/// and it decides the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Login,
    Employee,
    Fields,
    Lookup,
    Create,
    Update,
    Sync,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Login,
        Action::Employee,
        Action::Fields,
        Action::Lookup,
        Action::Create,
        Action::Update,
        Action::Sync,
    ];

    pub fn text(self) -> &'static str {
        match self {
            Action::Login => "log in",
            Action::Employee => "look up the employee",
            Action::Fields => "read the incident fields ($metadata)",
            Action::Lookup => "look for an incident whose create got no answer",
            Action::Create => "create the incident",
            Action::Update => "update the incident",
            Action::Sync => "sync incident states",
        }
    }

    /// What to do about a 500 to this action.
    fn hint_500(self) -> &'static str {
        match self {
            // The guide: a deleted custom field makes creates fail with 500.
            Action::Create | Action::Update => "a custom field used by the incident object may have been deleted in Business Objects: create it again or contact Ivanti support",
            _ => "Ivanti failed on its side: try again later, and contact Ivanti support if it persists",
        }
    }
}

/// The texts Ivanti gave: description, messages and their excerpt.
fn texts(body: &[u8]) -> Vec<String> {
    let err = IvantiError::parse(body);
    let mut texts = vec![err.description.clone().unwrap_or_default()];
    texts.extend(err.messages);
    if texts.iter().all(|t| t.trim().is_empty()) {
        texts.push(String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned());
    }
    texts
}

/// Whether a 400 carries Ivanti's workflow refusal (`DataLayer.PromptException`):
/// the record and the value are valid, but the workflow does not allow the step.
pub fn is_prompt_refusal(status: u16, body: &[u8]) -> bool {
    status == 400
        && texts(body)
            .iter()
            .any(|t| contains_ignore_ascii_case(t, "PromptException"))
}

/// Whether a 400 answer says the record is gone: "Invalid key" (live
/// tenants), "cannot be found" (the update docs), "not found", "does not
/// exist". Validation errors and workflow refusals are not deletions.
pub fn is_record_not_found(status: u16, body: &[u8]) -> bool {
    if status != 400 || is_prompt_refusal(status, body) {
        return false;
    }
    const GONE: [&str; 4] = [
        "invalid key",
        "cannot be found",
        "not found",
        "does not exist",
    ];
    texts(body)
        .iter()
        .any(|t| GONE.iter().any(|g| contains_ignore_ascii_case(t, g)))
}

/// Whether a refusal is about the request's length rather than its content:
/// 414, or IIS's 404.15 / HTTP.sys's 400 page saying the query string or
/// URL is too long.
pub fn is_too_long(status: u16, body: &[u8]) -> bool {
    if status == 414 {
        return true;
    }
    if status != 400 && status != 404 {
        return false;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
    contains_ignore_ascii_case(&text, "too long")
        && ["query string", "url", "request"]
            .iter()
            .any(|w| contains_ignore_ascii_case(&text, w))
}

/// Classifies an unsuccessful answer to `action`.
pub fn classify(action: Action, status: u16, body: &[u8], retry_after: Option<u32>) -> Error {
    let parsed = IvantiError::parse(body);
    let said = parsed.text().unwrap_or_else(|| {
        if body.is_empty() {
            "no details given".to_owned()
        } else {
            excerpt(body)
        }
    });
    let action_text = action.text();
    match status {
        401 => Error::Unauthorized(format!(
            "Ivanti answered 401 to {action_text} ({said}): the session or API key was not accepted; check the credentials in the plugin configuration"
        )),
        403 => Error::Forbidden(format!(
            "Ivanti answered 403 to {action_text} ({said}): the role lacks a permission; give it the object permissions listed in the plugin guide (Incident, Employee, Journal...)"
        )),
        404 => Error::NotFound(format!(
            "Ivanti answered 404 to {action_text} ({said}): check the tenant URL (on-premises tenants serve the API under /HEAT) and that the record exists"
        )),
        429 if retry_after.is_some_and(|w| w > MAX_INLINE_WAIT_SECS) => {
            Error::RateLimited(RateLimit {
                retry_after_seconds: retry_after,
                message: format!(
                    "Ivanti's API rate limit was hit on {action_text} ({said}), and Ivanti asked to wait {} s (Retry-After) before another call: longer than the plugin waits within one call ({MAX_INLINE_WAIT_SECS} s), so it stopped there; run again once that wait has passed",
                    retry_after.unwrap_or_default()
                ),
            })
        }
        429 => Error::RateLimited(RateLimit {
            retry_after_seconds: retry_after,
            message: format!(
                "Ivanti's API rate limit was hit on {action_text} ({said}); the plugin's retries are used up. Ivanti allows 100,000 calls per 24 hours: wait{} and run again",
                retry_after.map(|s| format!(" {s} s")).unwrap_or_default()
            ),
        }),
        _ => {
            let hint = match status {
                400 if is_prompt_refusal(status, body) => "Ivanti's workflow refused the change (PromptException): the incident's current status does not allow this step; change it in Ivanti or map another value",
                400 => "check the queue's field mappings and their values (custom mandatory fields must be mapped; incidents are created only with Status Logged)",
                500 => action.hint_500(),
                502..=504 => "the tenant is unavailable: try again later",
                _ => "see Ivanti's message",
            };
            Error::Rejected(Rejection {
                status,
                code: parsed.code.filter(|c| !c.is_empty()),
                message: format!("Ivanti answered {status} to {action_text}: {said}; {hint}"),
            })
        }
    }
}

/// What an answer means, as `classify`, with the headers it may need: a
/// redirect names where it points (`Location`, without credentials or
/// query), as the plugin follows none.
pub fn classify_response(action: Action, resp: &Response) -> Error {
    if (300..400).contains(&resp.status) {
        let to = resp
            .header("location")
            .map(safe_location)
            .unwrap_or_else(|| "no Location given".into());
        return Error::Rejected(Rejection {
            status: resp.status,
            code: None,
            message: format!(
                "Ivanti answered {} to {}, redirecting to {to}; the plugin follows no redirects: set the tenant URL to the address the API answers at (check https, /HEAT, and any proxy or single sign-on page in front of the tenant)",
                resp.status,
                action.text()
            ),
        });
    }
    classify(action, resp.status, &resp.body, resp.retry_after())
}

/// A `Location` fit to quote: no user or password, no query or fragment
/// (either may carry a token), no control characters, and short.
pub fn safe_location(location: &str) -> String {
    let mut text = location.trim();
    let mut cut = false;
    if let Some(i) = text.find(['?', '#']) {
        text = &text[..i];
        cut = true;
    }
    let mut out = String::new();
    // `find("://")`, without linking the substring searcher.
    let rest = match text.as_bytes().windows(3).position(|w| w == b"://") {
        Some(i) => {
            out.push_str(&text[..i + 3]);
            &text[i + 3..]
        }
        None => text,
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    out.push_str(authority.rsplit('@').next().unwrap_or_default());
    out.push_str(path);
    let clean: String = out.chars().filter(|c| !c.is_control()).collect();
    let mut quoted = excerpt(clean.as_bytes());
    if cut {
        quoted.push_str("?…");
    }
    format!("\"{quoted}\"")
}

/// An answer that could not be understood.
pub fn bad_response(action: Action, why: &str, body: &[u8]) -> Error {
    Error::BadResponse(format!(
        "Ivanti's answer to {} could not be read ({why}); it began: \"{}\". Check that the tenant URL points at Ivanti Neurons for ITSM",
        action.text(),
        excerpt(body)
    ))
}

/// A wrong input of a call.
pub fn invalid_input(step: &str, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput(FieldProblem {
        step: step.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    })
}

/// A wrong configuration field.
pub fn invalid_config(step: &str, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidConfiguration(FieldProblem {
        step: step.to_owned(),
        field: field.to_owned(),
        message: message.into(),
    })
}

/// A request that got no usable answer; only a `Lost` one may have
/// reached the tenant.
pub fn transport(action: Action, e: TransportError) -> Error {
    let action = action.text();
    match e {
        TransportError::TooLarge => Error::BadResponse(format!(
            "Ivanti's answer to {action} was larger than {} MiB and was not read; check the tenant URL, or narrow what is asked",
            crate::transport::MAX_BODY_BYTES >> 20
        )),
        TransportError::NotSent(why) => Error::Transport(format!("could not reach Ivanti to {action}: {why}; check the tenant URL and the network path (proxy, firewall)")),
        TransportError::Lost(why) => Error::Transport(format!("no answer from Ivanti to {action}: {why}; Ivanti or the network may be slow, try again later")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_FOUND: &[u8] = br#"{"code":"ISM_4000","description":"Record '0123' cannot be found","message":["Record '0123' cannot be found"]}"#;

    #[test]
    fn only_a_missing_record_400_is_a_deletion() {
        assert!(is_record_not_found(400, NOT_FOUND));
        assert!(!is_record_not_found(404, NOT_FOUND));
        for gone in [
            &br#"{"code":"ISM_4000","message":["Invalid key"]}"#[..],
            br#"{"code":"ISM_4000","description":"Record not found"}"#,
            br#"{"message":"The record does not exist"}"#,
        ] {
            assert!(is_record_not_found(400, gone));
        }
        let validation = br#"{"code":"ISM_4000","description":"Validation failed","message":["Field Category is mandatory"]}"#;
        assert!(!is_record_not_found(400, validation));
        assert!(!is_record_not_found(400, b"not json"));
        let prompt = br#"{"code":"ISM_4000","description":"DataLayer.PromptException","message":["Record not found in prompt"]}"#;
        assert!(!is_record_not_found(400, prompt));
        match classify(Action::Update, 400, prompt, None) {
            Error::Rejected(r) => assert!(r.message.contains("workflow refused"), "{}", r.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn too_long_requests_are_recognised() {
        let iis = b"<html><head><title>404 - File or directory not found.</title></head><body><h2>HTTP Error 404.15 - Not Found</h2><p>The request filtering module is configured to deny a request where the query string is too long.</p></body></html>";
        assert!(is_too_long(404, iis));
        assert!(is_too_long(414, b""));
        assert!(is_too_long(400, b"Bad Request - Request Too Long"));
        assert!(!is_too_long(
            404,
            br#"{"code":"ISM_4004","message":["Requested resource not found"]}"#
        ));
        assert!(!is_too_long(500, iis));
    }

    #[test]
    fn rejection_keeps_status_code_and_message() {
        let body =
            br#"{"code":"ISM_4000","description":"x","message":["Field Urgency is required"]}"#;
        match classify(Action::Create, 400, body, None) {
            Error::Rejected(r) => {
                assert_eq!(r.status, 400);
                assert_eq!(r.code.as_deref(), Some("ISM_4000"));
                assert!(
                    r.message.contains("Field Urgency is required"),
                    "{}",
                    r.message
                );
                assert!(r.message.contains("mandatory"), "{}", r.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_map_to_variants() {
        assert!(matches!(
            classify(Action::Sync, 401, b"", None),
            Error::Unauthorized(_)
        ));
        assert!(matches!(
            classify(Action::Sync, 403, b"", None),
            Error::Forbidden(_)
        ));
        assert!(matches!(
            classify(Action::Sync, 404, b"", None),
            Error::NotFound(_)
        ));
        match classify(Action::Sync, 429, b"", Some(7)) {
            Error::RateLimited(r) => {
                assert_eq!(r.retry_after_seconds, Some(7));
                assert!(r.message.contains("100,000"));
            }
            other => panic!("{other:?}"),
        }
        match classify(Action::Create, 500, b"", None) {
            Error::Rejected(r) => assert!(r.message.contains("custom field")),
            other => panic!("{other:?}"),
        }
        match classify(Action::Fields, 500, b"", None) {
            Error::Rejected(r) => assert!(!r.message.contains("custom field"), "{}", r.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_secret_the_excerpt_would_cut_is_redacted_before() {
        let r = redactor(["hunter two@x!"]);
        for echo in ["hunter\\ttwo@x!", "hunter\\n two&#64;x&#33;"] {
            let body = format!(
                r#"{{"message":["{}Invalid password '{echo}'"]}}"#,
                "x".repeat(135)
            );
            let e = classify(Action::Login, 400, &redact_body(&r, body.as_bytes()), None);
            let text = format!("{:?}", redacted(e, &r));
            assert!(
                !text.contains("hunt") && text.contains("[redac"),
                "{echo}: {text}"
            );
        }
    }

    #[test]
    fn session_keys_and_their_inner_token_are_learned() {
        let mut r = redactor([]);
        learn_session_key(&mut r, "t.example.com#2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1#2");
        let out = r.redact_str("SessionToken 2RGH742EKKELQ7LA1BDQUGBUTOEAG9G1 expired");
        assert_eq!(out, "SessionToken [redacted] expired");
    }

    #[test]
    fn excerpt_is_short_and_printable() {
        let long = "x\n".repeat(500);
        let e = excerpt(long.as_bytes());
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
        assert!(!e.contains('\n'));
        assert_eq!(excerpt(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
        // Only the beginning of a huge body is decoded, with the same result.
        let huge = vec![0xff; 16 << 20];
        let e = excerpt(&huge);
        assert_eq!(e, format!("{}…", "\u{fffd}".repeat(EXCERPT_CHARS)));
        let emoji = "😀".repeat(EXCERPT_CHARS + 1);
        assert_eq!(
            excerpt(emoji.as_bytes()),
            format!("{}…", "😀".repeat(EXCERPT_CHARS))
        );
        let exact = "😀".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(exact.as_bytes()), exact);
    }

    #[test]
    fn a_long_retry_after_says_the_tenant_asked_to_wait() {
        match classify(Action::Create, 429, b"", Some(1_000_000_000)) {
            Error::RateLimited(r) => {
                assert!(
                    r.message.contains("asked to wait 1000000000 s"),
                    "{}",
                    r.message
                );
                assert!(!r.message.contains("used up"), "{}", r.message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_redirect_names_its_location_without_secrets() {
        let resp = Response {
            status: 302,
            headers: vec![(
                "Location".into(),
                "https://user:s3cret@sso.example.com/login?token=abc#x".into(),
            )],
            body: vec![],
        };
        match classify_response(Action::Login, &resp) {
            Error::Rejected(r) => {
                assert!(
                    r.message.contains("\"https://sso.example.com/login?…\""),
                    "{}",
                    r.message
                );
                assert!(!r.message.contains("s3cret") && !r.message.contains("abc"));
                assert_eq!(r.status, 302);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(safe_location("/HEAT/api"), "\"/HEAT/api\"");
    }
}

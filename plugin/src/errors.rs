//! Turns Ivanti's answers into the contract's typed errors, each saying
//! what went wrong and what to check (modelled on the guide's
//! troubleshooting section).

use crate::text::{contains_ignore_ascii_case, join};
use crate::wire::Scalar;
use crate::wit::{Error, FieldProblem, RateLimit, Rejection};

/// Longest excerpt of a tenant answer quoted in an error.
const EXCERPT_CHARS: usize = 160;

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
            Scalar::Text(t) => Ok(Some(t)),
            _ => Err(()),
        };
        let (Ok(code), Ok(description)) = (text(doc.code), text(doc.description)) else {
            return Self::default();
        };
        IvantiError {
            code,
            description,
            messages: doc.message.0,
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

/// A short, printable excerpt of a body for error messages.
pub fn excerpt(body: &[u8]) -> String {
    // Only the beginning is decoded: a character takes at most 4 bytes, so
    // this prefix holds the excerpt and the character after it. (Decoding a
    // whole 16 MiB body of invalid bytes tripled it past the memory cap.)
    let prefix = &body[..body.len().min(4 * (EXCERPT_CHARS + 1))];
    let text = String::from_utf8_lossy(prefix);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Whether a 400 answer says the record is gone (the only 400 that means
/// "deleted"; validation errors and prompts are not deletions).
pub fn is_record_not_found(status: u16, body: &[u8]) -> bool {
    if status != 400 {
        return false;
    }
    let err = IvantiError::parse(body);
    let mut texts = vec![err.description.clone().unwrap_or_default()];
    if let Some(t) = err.text() {
        texts.push(t);
    }
    texts
        .iter()
        .any(|t| contains_ignore_ascii_case(t, "cannot be found"))
}

/// Classifies an unsuccessful answer to `action` (e.g. "create the incident").
pub fn classify(action: &str, status: u16, body: &[u8], retry_after: Option<u32>) -> Error {
    let parsed = IvantiError::parse(body);
    let said = parsed.text().unwrap_or_else(|| {
        if body.is_empty() {
            "no details given".to_owned()
        } else {
            excerpt(body)
        }
    });
    match status {
        401 => Error::Unauthorized(format!(
            "Ivanti answered 401 to {action} ({said}): the session or API key was not accepted; check the credentials in the plugin configuration"
        )),
        403 => Error::Forbidden(format!(
            "Ivanti answered 403 to {action} ({said}): the role lacks a permission; give it the object permissions listed in the plugin guide (Incident, Employee, Journal...)"
        )),
        404 => Error::NotFound(format!(
            "Ivanti answered 404 to {action} ({said}): check the tenant URL and that the record exists"
        )),
        429 => Error::RateLimited(RateLimit {
            retry_after_seconds: retry_after,
            message: format!(
                "Ivanti's API rate limit was hit on {action} ({said}); the plugin's retries are used up. Ivanti allows 100,000 calls per 24 hours: wait{} and run again",
                retry_after.map(|s| format!(" {s} s")).unwrap_or_default()
            ),
        }),
        _ => {
            let hint = match status {
                400 => "check the queue's field mappings and their values (custom mandatory fields must be mapped; incidents are created only with Status Logged)",
                500 => "a custom field used by the incident object may have been deleted in Business Objects: create it again or contact Ivanti support",
                502..=504 => "the tenant is unavailable: try again later",
                _ => "see Ivanti's message",
            };
            Error::Rejected(Rejection {
                status,
                code: parsed.code.filter(|c| !c.is_empty()),
                message: format!("Ivanti answered {status} to {action}: {said}; {hint}"),
            })
        }
    }
}

/// An answer that could not be understood.
pub fn bad_response(action: &str, why: &str, body: &[u8]) -> Error {
    Error::BadResponse(format!(
        "Ivanti's answer to {action} could not be read ({why}); it began: \"{}\". Check that the tenant URL points at Ivanti Neurons for ITSM",
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_FOUND: &[u8] = br#"{"code":"ISM_4000","description":"Record '0123' cannot be found","message":["Record '0123' cannot be found"]}"#;

    #[test]
    fn only_cannot_be_found_400_is_a_deletion() {
        assert!(is_record_not_found(400, NOT_FOUND));
        assert!(!is_record_not_found(404, NOT_FOUND));
        let validation = br#"{"code":"ISM_4000","description":"Validation failed","message":["Field Category is mandatory"]}"#;
        assert!(!is_record_not_found(400, validation));
        assert!(!is_record_not_found(400, b"not json"));
    }

    #[test]
    fn rejection_keeps_status_code_and_message() {
        let body =
            br#"{"code":"ISM_4000","description":"x","message":["Field Urgency is required"]}"#;
        match classify("create the incident", 400, body, None) {
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
            classify("a", 401, b"", None),
            Error::Unauthorized(_)
        ));
        assert!(matches!(classify("a", 403, b"", None), Error::Forbidden(_)));
        assert!(matches!(classify("a", 404, b"", None), Error::NotFound(_)));
        match classify("a", 429, b"", Some(7)) {
            Error::RateLimited(r) => {
                assert_eq!(r.retry_after_seconds, Some(7));
                assert!(r.message.contains("100,000"));
            }
            other => panic!("{other:?}"),
        }
        match classify("create the incident", 500, b"", None) {
            Error::Rejected(r) => assert!(r.message.contains("custom field")),
            other => panic!("{other:?}"),
        }
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
}

//! Answers only live tenants give: their error texts, the incident workflow that
//! raises `DataLayer.PromptException`, typed-field checks and the echoing 500s.

use crate::faults::EchoShape;
use crate::model::Field;
use serde_json::Value;

/// The body of `GET …/$metadata` with `Accept: application/json` (HTTP 500, 592 bytes).
/// Only its start and length are measured (ivanti-live-notes.md, TT/TN); the rest is
/// a plausible OData error with HTML-escaped quotes.
pub const METADATA_JSON_500: &str = r#"Unhandled system exception: {&quot;error&quot;:{&quot;code&quot;:&quot;&quot;,&quot;message&quot;:&quot;The requested resource is not available in JSON format.&quot;,&quot;innererror&quot;:{&quot;message&quot;:&quot;The metadata document can only be written as application/xml.&quot;,&quot;type&quot;:&quot;System.Runtime.Serialization.SerializationException&quot;,&quot;stacktrace&quot;:&quot;   at System.Web.OData.Formatter.ODataMediaTypeFormatter.WriteToStreamAsync(Type type, Object value, Stream writeStream)\r\n   at System.Net.Http.HttpContent.CopyToAsync(Stream destination)&quot;}}}"#;

/// IIS request filtering's answer to a query string over `maxQueryString` (HTTP 404.15):
/// the remote-client page IIS sends with detailed errors off, followed by the
/// detailed 404.15 text, so clients can match either.
pub const IIS_404_15: &str = r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>404 - File or directory not found.</title>
<style type="text/css">
<!--
body{margin:0;font-size:.7em;font-family:Verdana, Arial, Helvetica, sans-serif;background:#EEEEEE;}
fieldset{padding:0 15px 10px 15px;}
h1{font-size:2.4em;margin:0;color:#FFF;}
h2{font-size:1.7em;margin:0;color:#CC0000;}
h3{font-size:1.2em;margin:10px 0 0 0;color:#000000;}
#header{width:96%;margin:0 0 0 0;padding:6px 2% 6px 2%;font-family:"trebuchet MS", Verdana, sans-serif;color:#FFF;
background-color:#555555;}
#content{margin:0 0 0 2%;position:relative;}
.content-container{background:#FFF;width:96%;margin-top:8px;padding:10px;position:relative;}
-->
</style>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>404 - File or directory not found.</h2>
  <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3>
 </fieldset></div>
 <div class="content-container"><fieldset>
  <h2>HTTP Error 404.15 - Not Found</h2>
  <h3>The request filtering module is configured to deny a request where the query string is too long.</h3>
  <h4>Things you can try:</h4>
  <ul><li>Verify the configuration/system.webServer/security/requestFiltering/requestLimits@maxQueryString setting in the applicationhost.config or web.config file.</li></ul>
 </fieldset></div>
</div>
</body>
</html>
"#;

/// `Hostname` echoed by the echoing 500s (the tenant's application server).
pub const ECHO_HOSTNAME: &str = "ISMSIM-APP-07";
/// `ServiceName` echoed by the echoing 500s.
pub const ECHO_SERVICE_NAME: &str = "ISMSim.FRS.ObjectService";
/// `ClientIpAddress` echoed by the echoing 500s (the simulator listens on loopback only).
pub const ECHO_CLIENT_IP: &str = "127.0.0.1";

const WAITING: [&str; 3] = [
    "Waiting for Customer",
    "Waiting for Resolution",
    "Waiting for 3rd Party",
];

/// Whether the incident workflow lets Status go from `from` to `to` in one step.
/// Statuses outside the workflow (set through the control API) restrict nothing.
pub fn status_step_allowed(from: &str, to: &str) -> bool {
    if from.eq_ignore_ascii_case(to) {
        return true;
    }
    let from_lower = from.to_ascii_lowercase();
    let next: &[&str] = match from_lower.as_str() {
        "logged" => &["Active", "Cancelled"],
        "active" => &[WAITING[0], WAITING[1], WAITING[2], "Resolved", "Cancelled"],
        s if WAITING.iter().any(|w| w.eq_ignore_ascii_case(s)) => {
            &["Active", "Resolved", "Cancelled"]
        }
        "resolved" => &["Active", "Closed"],
        "closed" | "cancelled" => &[],
        _ => return true,
    };
    next.iter().any(|s| s.eq_ignore_ascii_case(to))
}

fn digits(b: &[u8], from: usize, n: usize, max: u32) -> Option<u32> {
    let s = b.get(from..from + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s.iter().fold(0u32, |a, d| a * 10 + (d - b'0') as u32);
    (v <= max).then_some(v)
}

/// `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff…]]` and then `Z` or `±HH:MM`.
pub fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    let date_ok = digits(b, 0, 4, 9999).is_some()
        && b.get(4) == Some(&b'-')
        && digits(b, 5, 2, 12).is_some_and(|m| m >= 1)
        && b.get(7) == Some(&b'-')
        && digits(b, 8, 2, 31).is_some_and(|d| d >= 1);
    if !date_ok {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || digits(b, 11, 2, 23).is_none() {
        return false;
    }
    if b.get(13) != Some(&b':') || digits(b, 14, 2, 59).is_none() {
        return false;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        if digits(b, i + 1, 2, 59).is_none() {
            return false;
        }
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            b.len() == i + 6
                && digits(b, i + 1, 2, 23).is_some()
                && b[i + 3] == b':'
                && digits(b, i + 4, 2, 59).is_some()
        }
        _ => false,
    }
}

/// Why a value does not fit a typed field, as live tenants refuse it (None: it fits).
/// Live tenants bind JSON to the field's EDM type, so `"true"` is not a Boolean.
pub fn typed_value_error(field: &Field, v: &Value) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let int_range = |lo: i64, hi: i64| v.as_i64().is_some_and(|n| (lo..=hi).contains(&n));
    let ok = match field.edm_type.as_str() {
        "Edm.Boolean" => v.is_boolean(),
        "Edm.Byte" => int_range(0, 255),
        "Edm.SByte" => int_range(-128, 127),
        "Edm.Int16" => int_range(i16::MIN as i64, i16::MAX as i64),
        "Edm.Int32" => int_range(i32::MIN as i64, i32::MAX as i64),
        "Edm.Int64" => int_range(i64::MIN, i64::MAX),
        "Edm.Decimal" | "Edm.Double" | "Edm.Single" => v.is_number(),
        "Edm.DateTimeOffset" | "Edm.Date" | "Edm.DateTime" => v.as_str().is_some_and(is_iso8601),
        _ => true,
    };
    (!ok).then(|| {
        format!(
            "Invalid value {v} for field '{}' of type {}",
            field.name, field.edm_type
        )
    })
}

/// Who called, as an echoing 500 repeats it.
pub struct EchoContext<'a> {
    /// The raw `Authorization` header value ("" when there was none).
    pub authorization: &'a str,
    pub tenant: &'a str,
    pub login_id: &'a str,
    /// The submitted password, for a login.
    pub password: Option<&'a str>,
    /// The failing internal operation, e.g. `SaveObject`.
    pub action: &'a str,
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A password as the echoing login 400s spell it, twice: whitespace as a
/// tab; then a line break before each whitespace, with every other
/// character but letters and digits as an HTML decimal reference (`@` as
/// `&#64;`), two spellings mixed in one echo.
pub(crate) fn mangled_password(pw: &str) -> String {
    let tab: String = pw
        .chars()
        .map(|c| if c.is_whitespace() { '\t' } else { c })
        .collect();
    let mixed: String = pw
        .chars()
        .map(|c| match c {
            c if c.is_whitespace() => format!("\n{c}"),
            c if c.is_alphanumeric() => c.to_string(),
            c => format!("&#{};", u32::from(c)),
        })
        .collect();
    format!("{tab} / {mixed}")
}

/// The `description` of an echoing 500 ("Unhandled system exception: …").
pub fn echo_description(shape: EchoShape, c: &EchoContext) -> String {
    let (message, kind) = match c.password {
        Some(pw) => (
            format!("Invalid password '{pw}'"),
            "System.UnauthorizedAccessException",
        ),
        None => (
            "Object reference not set to an instance of an object.".to_string(),
            "System.NullReferenceException",
        ),
    };
    let pairs = [
        ("SessionId", c.authorization),
        ("SessionKey", c.authorization),
        ("TenantId", c.tenant),
        ("LoginId", c.login_id),
        ("Hostname", ECHO_HOSTNAME),
        ("ServiceName", ECHO_SERVICE_NAME),
        ("ClientIpAddress", ECHO_CLIENT_IP),
        ("ActionName", c.action),
    ];
    let context_json = || {
        let fields: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("\"{k}\":{}", js(v)))
            .collect();
        format!("{{{}}}", fields.join(","))
    };
    let text = match shape {
        EchoShape::LogEntry => format!(
            "{{\"Message\":{},\"ExceptionType\":\"{kind}\",\"LogEntryId\":{}}}",
            js(&message),
            js(&context_json())
        ),
        EchoShape::HtmlQuot => {
            let inner = context_json();
            let json = format!(
                "{{\"error\":{{\"code\":\"\",\"message\":{},\"innererror\":{{\"type\":\"{kind}\",\"context\":{inner}}}}}}}",
                js(&message)
            );
            json.replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        }
        EchoShape::Xml => {
            let mut x = format!(
                "<LogEntry><Message>{}</Message><ExceptionType>{kind}</ExceptionType>",
                xml_escape(&message)
            );
            for (k, v) in pairs {
                x.push_str(&format!("<{k}>{}</{k}>", xml_escape(v)));
            }
            x.push_str("</LogEntry>");
            x
        }
        EchoShape::Unicode => format!(
            "{{\"Message\":{},\"ExceptionType\":\"{kind}\",\"Context\":{}}}",
            js(&message),
            context_json()
        )
        .replace('"', "\\u0022"),
    };
    format!("Unhandled system exception: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_body_is_as_long_as_measured() {
        assert_eq!(METADATA_JSON_500.len(), 592);
        assert!(METADATA_JSON_500.starts_with("Unhandled system exception: {&quot;error&quot;"));
    }

    #[test]
    fn status_steps_follow_the_workflow() {
        assert!(status_step_allowed("Logged", "Active"));
        assert!(status_step_allowed("Logged", "logged"));
        assert!(!status_step_allowed("Logged", "Resolved"));
        assert!(status_step_allowed("Active", "Waiting for 3rd Party"));
        assert!(status_step_allowed("waiting for customer", "Resolved"));
        assert!(!status_step_allowed("Active", "Closed"));
        assert!(status_step_allowed("Resolved", "Closed"));
        assert!(!status_step_allowed("Closed", "Active"));
        assert!(status_step_allowed("Triage", "Closed"));
    }

    #[test]
    fn passwords_are_mangled_two_ways() {
        assert_eq!(
            mangled_password("hunter two@x!"),
            "hunter\ttwo@x! / hunter\n two&#64;x&#33;"
        );
    }

    #[test]
    fn iso8601_dates_and_date_times_are_recognised() {
        for ok in [
            "2026-01-01",
            "2026-01-01T00:00Z",
            "2024-04-09T06:21:22Z",
            "2024-04-09T06:21:17.76Z",
            "2024-04-09T06:21:22-08:00",
            "2024-04-09T06:21:22+05:30",
            "2024-04-09T06:21:22",
        ] {
            assert!(is_iso8601(ok), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-04-09T25:00:00Z",
            "2024-04-09T06:21:22ZZ",
            "2024-04-09T06:21:22+0530",
            "04/09/2024",
            "2024-04-09T06:21:22.Z",
        ] {
            assert!(!is_iso8601(bad), "{bad}");
        }
    }

    #[test]
    fn typed_values_need_their_json_types() {
        let f = |t: &str| Field {
            name: "X".into(),
            edm_type: t.into(),
            max_length: None,
            ascii: false,
        };
        let err = |t: &str, v: Value| typed_value_error(&f(t), &v);
        assert!(err("Edm.Boolean", json!(true)).is_none());
        assert!(err("Edm.Boolean", Value::Null).is_none());
        let e = err("Edm.Boolean", json!("true")).unwrap();
        assert_eq!(
            e,
            "Invalid value \"true\" for field 'X' of type Edm.Boolean"
        );
        assert!(err("Edm.Int32", json!(7)).is_none());
        assert!(err("Edm.Int32", json!("7")).is_some());
        assert!(err("Edm.Int32", json!(1.5)).is_some());
        assert!(err("Edm.Int32", json!(1u64 << 40)).is_some());
        assert!(err("Edm.Int64", json!(1u64 << 40)).is_none());
        assert!(err("Edm.Decimal", json!(1.25)).is_none());
        assert!(err("Edm.Double", json!("1.25")).is_some());
        assert!(err("Edm.DateTimeOffset", json!("2026-01-01T00:00:00Z")).is_none());
        assert!(err("Edm.DateTimeOffset", json!("soon")).is_some());
        assert!(err("Edm.DateTimeOffset", json!(0)).is_some());
        assert!(err("Edm.String", json!(5)).is_none());
    }

    #[test]
    fn echo_shapes_carry_every_internal() {
        let c = EchoContext {
            authorization: "127.0.0.1#KEY#2",
            tenant: "127.0.0.1",
            login_id: "someone",
            password: Some("pw\"&<"),
            action: "Login",
        };
        for shape in EchoShape::ALL {
            let d = echo_description(shape, &c);
            assert!(d.starts_with("Unhandled system exception: "), "{d}");
            for v in [
                "127.0.0.1#KEY#2",
                "someone",
                ECHO_HOSTNAME,
                ECHO_SERVICE_NAME,
            ] {
                assert!(d.contains(v), "{shape:?}: {d}");
            }
            for k in ["SessionId", "SessionKey", "TenantId", "ClientIpAddress"] {
                assert!(d.contains(k), "{shape:?}: {d}");
            }
            assert!(d.contains("Invalid password 'pw"), "{shape:?}: {d}");
        }
        let d = echo_description(EchoShape::LogEntry, &c);
        assert!(d.contains(r#"\"SessionKey\":\"127.0.0.1#KEY#2\""#), "{d}");
        let d = echo_description(EchoShape::HtmlQuot, &c);
        assert!(
            d.contains("&quot;SessionKey&quot;:&quot;127.0.0.1#KEY#2&quot;"),
            "{d}"
        );
        let d = echo_description(EchoShape::Xml, &c);
        assert!(
            d.contains("<SessionKey>127.0.0.1#KEY#2</SessionKey>"),
            "{d}"
        );
        let d = echo_description(EchoShape::Unicode, &c);
        assert!(
            d.contains(r"\u0022SessionKey\u0022:\u0022127.0.0.1#KEY#2\u0022"),
            "{d}"
        );
    }
}

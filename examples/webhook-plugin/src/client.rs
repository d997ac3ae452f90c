//! What the plugin posts and how it reads the answer. The network is a
//! `Transport`: `wasi_http` in the component, a script in the tests.

use crate::config::{host_of, problem, Config, USER_AGENT};
use crate::wit::{Alert, Error, FieldValue, RateLimit, Rejection, Task, TaskState};

/// What a webhook answered: status, `Retry-After` in seconds, the start of the body.
pub struct Response {
    pub status: u16,
    pub retry_after: Option<u32>,
    pub body: String,
}

pub trait Transport {
    /// POSTs `body`; `Err` says why no answer came.
    fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Response, String>;
}

/// Longest message posted (Slack's limit for `text`).
const MAX_TEXT: usize = 40_000;

pub struct Client<T> {
    config: Config,
    transport: T,
    calls: u64,
}

/// `$name` placeholders of the alert's own fields; `$$` is `$`; unknown
/// names stay visible.
pub fn render(template: &str, alert: &Alert) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let placeholder = &rest[i..];
        rest = &rest[i + 1..];
        let n = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let (name, after) = match rest.strip_prefix('$') {
            Some(after) => ("$", after),
            None => rest.split_at(n),
        };
        let ts = alert.timestamp.to_string();
        out.push_str(match name {
            "$" => "$",
            "id" => &alert.id,
            "alertName" => &alert.alert_name,
            "alertType" => &alert.alert_type,
            "app" => &alert.app,
            "appCategory" => &alert.app_category,
            "user" => &alert.user,
            "type" => &alert.type_,
            "timestamp" => &ts,
            _ => &placeholder[..=name.len()],
        });
        rest = after;
    }
    out + rest
}

impl<T: Transport> Client<T> {
    pub fn new(config: Config, transport: T) -> Self {
        Client { config, transport, calls: 0 }
    }

    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The message: the queue's `text` mapping as the host rendered it,
    /// else the configured template.
    pub fn text(&self, alert: &Alert, values: &[FieldValue]) -> Result<String, Error> {
        if let Some((name, _)) = values.iter().find(|(k, _)| k != "text") {
            return Err(Error::InvalidInput(problem(
                "mapping",
                name,
                "a webhook message has one field, `text`: map into `text`",
            )));
        }
        let text = match values.iter().find(|(k, _)| k == "text") {
            Some((_, v)) => v.clone(),
            None => render(&self.config.template, alert),
        };
        match text.trim() {
            "" => Err(Error::InvalidInput(problem("mapping", "text", "the message is empty"))),
            t if t.len() > MAX_TEXT => Err(Error::InvalidInput(problem(
                "mapping",
                "text",
                format!("the message is {} bytes, longer than {MAX_TEXT}", t.len()),
            ))),
            t => Ok(t.into()),
        }
    }

    /// Posts `{"text": ...}`.
    pub fn post(&mut self, text: &str) -> Result<(), Error> {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            text: &'a str,
        }
        let body = serde_json::to_vec(&Message { text })
            .map_err(|e| Error::InvalidInput(problem("mapping", "text", e.to_string())))?;
        let mut headers =
            vec![("content-type".into(), "application/json".into()), ("user-agent".into(), USER_AGENT.into())];
        headers.extend(self.config.header.clone());
        let host = host_of(&self.config.url).to_string();
        let answer = self.transport.post(&self.config.url, &headers, &body);
        let r = answer.map_err(|why| {
            Error::Transport(self.redact(format!("the webhook at {host} could not be reached: {why}")))
        })?;
        self.calls += 1;
        if (200..300).contains(&r.status) {
            return Ok(());
        }
        let excerpt: String = r.body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
        let said = self.redact(if excerpt.is_empty() { String::new() } else { format!(" ({excerpt})") });
        let at = format!("the webhook at {host} answered {}{said}", r.status);
        Err(match r.status {
            401 => Error::Unauthorized(format!("{at}: check the secret header's name and value")),
            403 => Error::Forbidden(format!(
                "{at}: the receiver refuses this sender; check the secret header and that the webhook is enabled"
            )),
            404 | 410 => Error::NotFound(format!("{at}: the webhook does not exist (deleted, or a mistyped URL)")),
            429 => Error::RateLimited(RateLimit {
                retry_after_seconds: r.retry_after,
                message: format!("{at}: its rate limit was hit; send later"),
            }),
            status => Error::Rejected(Rejection {
                status,
                code: None,
                message: format!("{at}: check the URL and the message"),
            }),
        })
    }

    fn redact(&self, text: String) -> String {
        match &self.config.header {
            Some((_, secret)) => text.replace(secret.as_str(), "***"),
            None => text,
        }
    }

    /// Posts the create message; the task is `<alert id>|<unix seconds>`.
    pub fn create(&mut self, alert: &Alert, values: &[FieldValue], now_secs: u64) -> Result<Task, Error> {
        if alert.id.trim().is_empty() {
            return Err(Error::InvalidInput(problem("alert", "id", "the alert has no id")));
        }
        let text = self.text(alert, values)?;
        self.post(&text)?;
        let id = format!("{}|{now_secs}", alert.id);
        Ok(Task { id, state: TaskState::New, status: "posted".into(), assignee: None, link: None })
    }

    /// Posts a follow-up; the task is unchanged (a webhook has no state).
    pub fn update(&mut self, task: Task, alert: &Alert, values: &[FieldValue]) -> Result<Task, Error> {
        let text = self.text(alert, values)?;
        self.post(&text)?;
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{cfg, parse};
    use std::collections::VecDeque;

    type Sent = (String, Vec<(String, String)>, String);

    /// Answers from a script; records what was posted.
    #[derive(Default)]
    struct Script {
        answers: VecDeque<Result<Response, String>>,
        /// URL, headers, body of each post.
        sent: Vec<Sent>,
    }

    impl Transport for &mut Script {
        fn post(&mut self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Response, String> {
            self.sent.push((url.into(), headers.to_vec(), String::from_utf8(body.to_vec()).unwrap()));
            self.answers.pop_front().expect("an answer is scripted")
        }
    }

    fn answer(status: u16, retry_after: Option<u32>, body: &str) -> Result<Response, String> {
        Ok(Response { status, retry_after, body: body.into() })
    }

    fn alert() -> Alert {
        Alert {
            id: "a1".into(),
            alert_name: "Upload".into(),
            alert_type: "DLP".into(),
            app: "Box".into(),
            app_category: "Storage".into(),
            user: "u@x".into(),
            type_: "alert".into(),
            timestamp: 7,
            raw_data: "{}".into(),
        }
    }

    fn client(script: &mut Script) -> Client<&mut Script> {
        let c = cfg(&[
            ("webhook", "tenant_url", "https://hooks.example/T/SECRETPATH"),
            ("webhook", "header_name", "X-Token"),
            ("webhook", "header_secret", "s3cr3t"),
        ]);
        Client::new(parse(&c).unwrap(), script)
    }

    #[test]
    fn create_posts_the_text_and_returns_a_new_task() {
        let mut s = Script { answers: [answer(200, None, "ok")].into(), ..Default::default() };
        let task = client(&mut s).create(&alert(), &[("text".into(), "hi \"there\"".into())], 1_700_000_000).unwrap();
        assert_eq!((task.id.as_str(), task.state), ("a1|1700000000", TaskState::New));
        let (url, headers, body) = &s.sent[0];
        assert_eq!(url, "https://hooks.example/T/SECRETPATH");
        assert_eq!(body, r#"{"text":"hi \"there\""}"#);
        assert!(headers.contains(&("X-Token".into(), "s3cr3t".into())));
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
    }

    #[test]
    fn without_a_text_mapping_the_configured_template_is_rendered() {
        let mut s = Script { answers: [answer(202, None, "")].into(), ..Default::default() };
        let mut c = client(&mut s);
        assert_eq!(c.text(&alert(), &[]).unwrap(), "[DLP] Upload on Box by u@x (alert a1)");
        assert_eq!(render("$$5 $severity $timestamp$", &alert()), "$5 $severity 7$");
        let e = c.create(&alert(), &[("Subject".into(), "x".into())], 1).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(p) if p.field == "Subject"));
        assert!(matches!(c.create(&alert(), &[("text".into(), "  ".into())], 1), Err(Error::InvalidInput(_))));
        let task = c.create(&alert(), &[], 1).unwrap();
        s.answers.push_back(answer(200, None, "ok"));
        let mut c = client(&mut s);
        let again = c.update(task.clone(), &alert(), &[("text".into(), "again".into())]).unwrap();
        assert_eq!((again.id, again.state), (task.id, task.state));
        assert_eq!(s.sent.last().unwrap().2, r#"{"text":"again"}"#);
    }

    #[test]
    fn statuses_map_to_typed_errors_without_the_secret() {
        let echo = "bad token s3cr3t for /T/SECRETPATH";
        let mut s = Script {
            answers: [401, 403, 404, 429, 500].map(|st| answer(st, Some(30), echo)).into(),
            ..Default::default()
        };
        let mut c = client(&mut s);
        let errs: Vec<Error> = (0..5).map(|_| c.create(&alert(), &[], 1).unwrap_err()).collect();
        assert!(matches!(&errs[0], Error::Unauthorized(m) if m.contains("answered 401")));
        assert!(matches!(&errs[1], Error::Forbidden(_)));
        assert!(matches!(&errs[2], Error::NotFound(_)));
        assert!(matches!(&errs[3], Error::RateLimited(RateLimit { retry_after_seconds: Some(30), .. })));
        assert!(matches!(&errs[4], Error::Rejected(Rejection { status: 500, .. })));
        assert_eq!(c.calls(), 5);
        for e in &errs {
            let text = format!("{e:?}");
            assert!(!text.contains("s3cr3t") && text.contains("***") && text.contains("hooks.example"), "{text}");
        }
    }

    #[test]
    fn transport_failures_are_transport_errors() {
        let mut s = Script { answers: [Err("connection refused (s3cr3t)".to_string())].into(), ..Default::default() };
        let mut c = client(&mut s);
        match c.create(&alert(), &[], 1) {
            Err(Error::Transport(m)) => {
                assert!(m.contains("connection refused") && !m.contains("s3cr3t") && !m.contains("SECRETPATH"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.calls(), 0);
    }
}

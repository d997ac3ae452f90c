//! `wasi:http/incoming-handler`: reads the request, answers with `routes::handle`.

use crate::exports::wasi::http::incoming_handler::Guest;
use crate::json::Answer;
use crate::request::MAX_BODY;
use crate::routes;
use crate::wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::wasi::io::streams::StreamError;

struct Front;

impl Guest for Front {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Patch => "PATCH".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Options => "OPTIONS".to_string(),
            Method::Connect => "CONNECT".to_string(),
            Method::Trace => "TRACE".to_string(),
            Method::Other(m) => m,
        };
        let path = request.path_with_query().unwrap_or_default();
        let answer = match read_body(&request) {
            Ok(body) => routes::handle(&method, &path, &body),
            Err(a) => a,
        };
        respond(out, answer);
    }
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, Answer> {
    let fail = |status: u16, m: &str| {
        let problem = cto_contract::FieldProblem {
            step: "request".into(),
            field: "body".into(),
            message: m.into(),
        };
        let error = cto_contract::Failure::InvalidInput(problem).to_json();
        Answer {
            status,
            headers: Vec::new(),
            body: cto_contract::failure::envelope(error).to_string(),
        }
    };
    let Ok(body) = request.consume() else {
        return Ok(Vec::new());
    };
    let mut data = Vec::new();
    {
        let Ok(stream) = body.stream() else {
            return Ok(Vec::new());
        };
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => {
                    data.extend_from_slice(&chunk);
                    if data.len() > MAX_BODY {
                        return Err(fail(413, "the body is larger than 16 MiB"));
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(_)) => {
                    return Err(fail(400, "the body could not be read"))
                }
            }
        }
    }
    drop(body);
    Ok(data)
}

fn respond(out: ResponseOutparam, answer: Answer) {
    let headers = Fields::new();
    let _ = headers.append("content-type", b"application/json");
    for (k, v) in &answer.headers {
        let _ = headers.append(k, v.as_bytes());
    }
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(answer.status);
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    {
        let Ok(stream) = body.write() else { return };
        for chunk in answer.body.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}

crate::export!(Front with_types_in crate);

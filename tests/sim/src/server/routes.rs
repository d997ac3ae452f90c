//! Where a request goes: the base path, the API paths and methods, and the 404/405 answers.

use crate::faults::Endpoint;
use crate::http::Response;

/// Where a request goes.
#[derive(Debug)]
pub(super) enum Route {
    Login,
    Employee(String),
    Metadata,
    Create,
    Update(String),
    GetOne(String),
    Query,
    MethodNotAllowed,
    NotFound,
}

impl Route {
    pub(super) fn endpoint(&self) -> Endpoint {
        match self {
            Route::Login => Endpoint::Login,
            Route::Employee(_) => Endpoint::Employee,
            Route::Metadata => Endpoint::Metadata,
            Route::Create => Endpoint::Create,
            Route::Update(_) => Endpoint::Update,
            Route::GetOne(_) => Endpoint::GetOne,
            Route::Query => Endpoint::Query,
            Route::MethodNotAllowed | Route::NotFound => Endpoint::Other,
        }
    }
}

pub(super) fn route_error(route: &Route) -> Response {
    match route {
        Route::MethodNotAllowed => {
            Response::ivanti_error(405, "ISM_4005", "The requested method is not allowed")
        }
        _ => Response::ivanti_error(404, "ISM_4004", "Requested resource not found"),
    }
}

/// `name('id')`, `name(id)` -> id.
fn key_of<'a>(segment: &'a str, name: &str) -> Option<&'a str> {
    let (n, rest) = segment.split_at_checked(name.len())?;
    if !n.eq_ignore_ascii_case(name) {
        return None;
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?.trim();
    let inner = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(inner);
    Some(inner)
}

/// `cfg.base_path` as routes compare it: "" or "/HEAT" (leading slash, none trailing).
pub(super) fn normalize_base_path(p: &str) -> String {
    let p = p.trim().trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("/{p}")
    }
}

/// The path below the base path; None when the path lies outside it.
/// IIS matches paths case-insensitively, so `/heat/api/...` is served too.
pub(super) fn strip_base<'a>(base: &str, path: &'a str) -> Option<&'a str> {
    if base.is_empty() {
        return Some(path);
    }
    let head = path.get(..base.len())?;
    let rest = &path[base.len()..];
    (head.eq_ignore_ascii_case(base) && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

pub(super) fn route(method: &str, path: &str) -> Route {
    let p = path.trim_end_matches('/');
    let lower = p.to_ascii_lowercase();
    let m = method.to_ascii_uppercase();
    let only = |want: &[&str], r: Route| {
        if want.contains(&m.as_str()) {
            r
        } else {
            Route::MethodNotAllowed
        }
    };
    if lower == "/api/rest/authentication/login" {
        return only(&["POST"], Route::Login);
    }
    if lower == "/api/odata/incidents/$metadata" {
        return only(&["GET"], Route::Metadata);
    }
    if lower == "/api/odata/businessobject/incidents" {
        return match m.as_str() {
            "POST" => Route::Create,
            "GET" => Route::Query,
            _ => Route::MethodNotAllowed,
        };
    }
    if let Some(seg) = p
        .get(..26)
        .filter(|s| s.eq_ignore_ascii_case("/api/odata/businessobject/"))
        .map(|_| &p[26..])
    {
        if let Some(id) = key_of(seg, "employees") {
            return only(&["GET"], Route::Employee(id.to_string()));
        }
        if let Some(id) = key_of(seg, "incidents") {
            return match m.as_str() {
                "PATCH" | "PUT" => Route::Update(id.to_string()),
                "GET" => Route::GetOne(id.to_string()),
                _ => Route::MethodNotAllowed,
            };
        }
    }
    Route::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_paths_route_to_their_handlers() {
        assert!(matches!(
            route("GET", "/api/odata/businessobject/incidents('ABC')"),
            Route::GetOne(id) if id == "ABC"
        ));
        assert!(matches!(
            route("PATCH", "/api/odata/businessobject/incidents(ABC)"),
            Route::Update(id) if id == "ABC"
        ));
        assert!(matches!(
            route("GET", "/api/odata/businessobject/employees('X')"),
            Route::Employee(id) if id == "X"
        ));
        assert!(matches!(route("GET", "/nope"), Route::NotFound));
        assert!(matches!(
            route("DELETE", "/api/odata/businessobject/incidents"),
            Route::MethodNotAllowed
        ));
    }

    #[test]
    fn base_paths_are_normalized_and_matched_case_insensitively() {
        assert_eq!(normalize_base_path(""), "");
        assert_eq!(normalize_base_path("/"), "");
        assert_eq!(normalize_base_path("HEAT/"), "/HEAT");
        assert_eq!(strip_base("", "/api/x"), Some("/api/x"));
        assert_eq!(strip_base("/HEAT", "/heat/api/x"), Some("/api/x"));
        assert_eq!(strip_base("/HEAT", "/HEAT"), Some(""));
        assert_eq!(strip_base("/HEAT", "/HEATX/api/x"), None);
        assert_eq!(strip_base("/HEAT", "/api/x"), None);
        assert_eq!(strip_base("/HEAT", "/é"), None);
    }
}

//! The employee lookup (`employees('<RecID>')`) and the incidents' `$metadata` (EDMX).

use super::incidents::invalid_key;
use super::Shared;
use crate::http::{Request, Response};
use crate::live;
use crate::switches::Dialect;

impl Shared {
    pub(super) fn employee(&self, id: &str) -> Response {
        let sw = self.switches();
        if sw.employee_forbidden {
            return Response::ivanti_error(
                403,
                "ISM_4003",
                "Access denied: the role does not have View permission on business object Employee",
            );
        }
        if id.eq_ignore_ascii_case(&self.cfg.employee_rec_id) {
            Response::json_bytes(200, self.employee_body.clone().into_bytes())
        } else if sw.dialect == Dialect::Live {
            invalid_key()
        } else {
            Response::ivanti_error(
                404,
                "ISM_4004",
                &format!("Employee record '{id}' not found"),
            )
        }
    }

    pub(super) fn metadata(&self, req: &Request) -> Response {
        let sw = self.switches();
        let accept = req
            .header("accept")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if sw.dialect == Dialect::Live
            && accept.contains("application/json")
            && !accept.contains("xml")
        {
            // Live tenants try to negotiate CSDL into JSON and throw.
            return Response {
                status: 500,
                content_type: Some("text/html; charset=utf-8"),
                headers: Vec::new(),
                body: live::METADATA_JSON_500.as_bytes().to_vec(),
            };
        }
        if sw.metadata_no_content {
            return Response::empty(204);
        }
        Response {
            status: 200,
            content_type: Some("application/xml; charset=utf-8"),
            headers: Vec::new(),
            body: self.metadata.clone().into_bytes(),
        }
    }
}

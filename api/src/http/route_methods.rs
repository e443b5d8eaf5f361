//! Which methods each path answers, and the fallback for requests no route took: a path the
//! route table knows answers 405 with `Allow` (whatever the method, even one made up), any
//! other path 404.
//!
//! Each `#[get]`/`#[post]` handler is a resource of its own guarded by its method, so actix
//! alone cannot tell "no such path" from "not with this method". The table is read from the
//! OpenAPI document, which is collected from the very route table the server runs, plus the
//! few routes served outside it.
use crate::error::ApiError;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

/// Path templates with the methods each answers.
pub struct RouteMethods {
    routes: Vec<(ResourceDef, Vec<Method>)>,
}

impl RouteMethods {
    /// The table of every operation in `spec`, plus `extra` routes served outside it.
    pub fn new(spec: &OpenApi, extra: &[(&str, Method)]) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = Vec::new();
        let mut add = |template: &str, method: Method| match routes
            .iter_mut()
            .find(|(def, _)| def.pattern() == Some(template))
        {
            Some((_, methods)) if methods.contains(&method) => {}
            Some((_, methods)) => methods.push(method),
            None => routes.push((ResourceDef::new(template), vec![method])),
        };
        for (template, item) in &spec.paths.paths {
            let operations = [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
                (Method::HEAD, item.head.is_some()),
                (Method::OPTIONS, item.options.is_some()),
            ];
            for (method, present) in operations {
                if present {
                    add(template, method);
                }
            }
        }
        for (template, method) in extra {
            add(template, method.clone());
        }
        Self { routes }
    }

    /// The methods some route answers for `path` (several templates may match one path, e.g.
    /// `/tickets/bulk` and `/tickets/{id}`), in a stable order; empty for an unknown path.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        const ORDER: [Method; 7] = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ];
        // HEAD is answered wherever GET is (see [`head_as_get`]).
        let answers = |method: &Method| {
            self.routes
                .iter()
                .any(|(def, methods)| methods.contains(method) && def.is_match(path))
        };
        ORDER
            .into_iter()
            .filter(|method| answers(method) || (*method == Method::HEAD && answers(&Method::GET)))
            .collect()
    }
}

/// Answers HEAD wherever GET is answered, as RFC 9110 (9.1) asks of every server: the request
/// is routed as the GET it mirrors and the connection sends the answer's headers without its
/// body. A streamed answer (the event stream) is replaced by no body at all, so a HEAD holds no
/// stream open.
///
/// # Errors
/// Whatever the rest of the chain fails with.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let res = next.call(req).await?.map_into_boxed_body();
    if head && matches!(res.response().body().size(), BodySize::Stream) {
        return Ok(res.map_body(|_, _| BoxBody::new(actix_web::body::None::new())));
    }
    Ok(res)
}

/// The default service: 405 with `Allow` for a known path, 404 otherwise.
///
/// # Errors
/// Always: that is what it is for.
pub async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteMethods>,
) -> Result<HttpResponse, ApiError> {
    let allowed = table.allowed(req.path());
    if allowed.is_empty() || allowed.contains(req.method()) {
        return Err(ApiError::NotFound("route"));
    }
    Err(ApiError::MethodNotAllowed {
        allow: allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteMethods {
        let spec: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/tickets": {"get": {"responses": {}}, "post": {"responses": {}}},
                "/api/v1/tickets/{id}": {"get": {"responses": {}}, "patch": {"responses": {}}},
                "/api/v1/tickets/bulk": {"post": {"responses": {}}}
            }
        }))
        .unwrap();
        RouteMethods::new(&spec, &[("/metrics", Method::GET)])
    }

    #[test]
    fn a_path_lists_the_methods_of_every_template_it_matches() {
        let table = table();
        assert_eq!(
            table.allowed("/api/v1/tickets"),
            vec![Method::GET, Method::HEAD, Method::POST]
        );
        assert_eq!(
            table.allowed("/api/v1/tickets/bulk"),
            vec![Method::GET, Method::HEAD, Method::POST, Method::PATCH]
        );
        assert_eq!(table.allowed("/metrics"), vec![Method::GET, Method::HEAD]);
        assert!(table.allowed("/api/v1/nothing").is_empty());
        assert!(table.allowed("/api/v1/tickets/1/2").is_empty());
    }
}

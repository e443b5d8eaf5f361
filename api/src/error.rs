//! One error type for the whole API, rendered as RFC 9457 problem+json with a stable `code`.
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every stable code a problem document can carry, one per kind of problem. Clients match on
/// these; the OpenAPI document lists them as the `code` enum.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// A problem's stable, machine-readable code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// The code as it is written in problem documents and job items.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    ActorRevoked => "actor_revoked",
    AlreadyAssigned => "already_assigned",
    AlreadyExists => "already_exists",
    AlreadyLinked => "already_linked",
    ApiKeyExpired => "api_key_expired",
    ApiKeyRevoked => "api_key_revoked",
    AttachmentSent => "attachment_sent",
    CalendarInUse => "calendar_in_use",
    CalendarNameTaken => "calendar_name_taken",
    ChannelAddressTaken => "channel_address_taken",
    ChannelNameTaken => "channel_name_taken",
    CompanyNameTaken => "company_name_taken",
    ContactExists => "contact_exists",
    DependencyUnavailable => "dependency_unavailable",
    EditConflict => "edit_conflict",
    EmailTaken => "email_taken",
    FieldKeyTaken => "field_key_taken",
    Forbidden => "forbidden",
    ForceNotAllowed => "force_not_allowed",
    GroupNameTaken => "group_name_taken",
    IdempotencyKeyInUse => "idempotency_key_in_use",
    IdempotencyKeyReused => "idempotency_key_reused",
    InsufficientRole => "insufficient_role",
    InsufficientScope => "insufficient_scope",
    InternalError => "internal_error",
    InvalidApiKey => "invalid_api_key",
    InvalidCredentials => "invalid_credentials",
    InvalidCursor => "invalid_cursor",
    InvalidIfMatch => "invalid_if_match",
    InvalidQuery => "invalid_query",
    InvalidRefreshToken => "invalid_refresh_token",
    InvalidResetToken => "invalid_reset_token",
    InvalidToken => "invalid_token",
    MalformedBody => "malformed_body",
    MalformedJson => "malformed_json",
    MalformedMultipart => "malformed_multipart",
    MethodNotAllowed => "method_not_allowed",
    MissingCredentials => "missing_credentials",
    MissingFile => "missing_file",
    NotFound => "not_found",
    NotRetryable => "not_retryable",
    NotViewOwner => "not_view_owner",
    PayloadTooLarge => "payload_too_large",
    PortalDomainTaken => "portal_domain_taken",
    PreconditionFailed => "precondition_failed",
    RateLimited => "rate_limited",
    RefreshTokenExpired => "refresh_token_expired",
    RefreshTokenReused => "refresh_token_reused",
    RefreshTokenRevoked => "refresh_token_revoked",
    TenantRequired => "tenant_required",
    TenantSuspended => "tenant_suspended",
    TicketMerged => "ticket_merged",
    TokenExpired => "token_expired",
    TokenNotYetValid => "token_not_yet_valid",
    TokenRevoked => "token_revoked",
    TooManyStreams => "too_many_streams",
    TooManyTickets => "too_many_tickets",
    Unavailable => "unavailable",
    UnknownParameter => "unknown_parameter",
    UnsupportedMediaType => "unsupported_media_type",
    UserDeactivated => "user_deactivated",
    UserRequired => "user_required",
    ValidationFailed => "validation_failed",
    ViewNameTaken => "view_name_taken",
    WeakPassword => "weak_password",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One field that failed validation.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name as sent (dotted for nested fields).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the problem kind, `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human summary of the problem kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: ErrorCode,
    /// Field errors, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Everything a handler can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed.
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: ErrorCode,
        /// Detail for this occurrence.
        detail: String,
    },
    /// 401: no valid credentials.
    #[error("{detail}")]
    Unauthorized {
        /// Stable code.
        code: ErrorCode,
        /// Detail for this occurrence.
        detail: String,
    },
    /// 403: authenticated, but not allowed.
    #[error("{detail}")]
    Forbidden {
        /// Stable code.
        code: ErrorCode,
        /// Detail for this occurrence.
        detail: String,
    },
    /// 404: no such resource in the caller's scope.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path exists, but not with this method.
    #[error("this path does not answer this method; it answers {allow}")]
    MethodNotAllowed {
        /// The methods the path answers, as the `Allow` header lists them.
        allow: String,
    },
    /// 409: the request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: ErrorCode,
        /// Detail for this occurrence.
        detail: String,
    },
    /// 412: `If-Match` names a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: the body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not JSON.
    #[error("request body must be application/json")]
    UnsupportedMediaType,
    /// 415: an uploaded file's type is not accepted.
    #[error("{0}")]
    UnsupportedFileType(String),
    /// 422: well-formed, but fields are invalid.
    #[error("{detail}")]
    Validation {
        /// Stable code (`validation_failed` unless more specific).
        code: ErrorCode,
        /// Summary.
        detail: String,
        /// The fields at fault.
        errors: Vec<FieldError>,
    },
    /// 429: too many requests.
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
        /// The limit of the window.
        limit: u64,
    },
    /// 429: the caller already holds as many event streams as one principal may.
    #[error("at most {limit} event streams may be open per user or API key; close one first")]
    TooManyStreams {
        /// Streams allowed per principal.
        limit: usize,
        /// Seconds after which trying again makes sense.
        retry_after: u64,
    },
    /// 503: a dependency is down.
    #[error("{0}")]
    Unavailable(String),
    /// 503: a dependency this request needs (the database, Redis) did not answer within its
    /// deadline; trying again after `Retry-After` seconds makes sense.
    #[error("a dependency is down ({dependency}); try again in {retry_after} s")]
    DependencyUnavailable {
        /// What is down, as `/ready` names it: `database` or `redis`.
        dependency: &'static str,
        /// Seconds after which trying again makes sense.
        retry_after: u64,
    },
    /// 500: a bug or an outage; the cause is logged, never sent.
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait before retrying a request refused for a dependency.
pub const DEPENDENCY_RETRY_AFTER_SECS: u64 = 2;

/// A dependency call that failed or missed its deadline because the dependency is down (as
/// opposed to refusing the request): carried in an `anyhow` chain, it turns into a 503.
#[derive(Debug, thiserror::Error)]
#[error("{0} is unavailable")]
pub struct DependencyDown(pub &'static str);

/// Whether a database error means the database could not be reached (no connection, a pool
/// that timed out, a connection lost mid-query, a server shutting down), not a refused query.
pub fn is_connection_failure(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => true,
        // Connection exceptions (class 08) and a server shutting down or starting up (57P0x).
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

impl ApiError {
    /// A 503 `dependency_unavailable` naming `dependency`.
    pub fn dependency_unavailable(dependency: &'static str) -> Self {
        ApiError::DependencyUnavailable {
            dependency,
            retry_after: DEPENDENCY_RETRY_AFTER_SECS,
        }
    }
}

impl From<anyhow::Error> for ApiError {
    /// A dependency that is down anywhere in the cause chain answers 503; anything else is a
    /// 500 whose cause is logged.
    fn from(err: anyhow::Error) -> Self {
        for cause in err.chain() {
            if let Some(down) = cause.downcast_ref::<DependencyDown>() {
                return ApiError::dependency_unavailable(down.0);
            }
            if let Some(db) = cause.downcast_ref::<sea_orm::DbErr>()
                && is_connection_failure(db)
            {
                tracing::warn!(error = %db, "database unreachable");
                return ApiError::dependency_unavailable("database");
            }
        }
        ApiError::Internal(err)
    }
}

impl ApiError {
    /// A 422 for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        ApiError::Validation {
            code: ErrorCode::ValidationFailed,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field, message }],
        }
    }

    /// A 401 with a stable code.
    pub fn unauthorized(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            detail: detail.into(),
        }
    }

    /// A 403 with a stable code.
    pub fn forbidden(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            detail: detail.into(),
        }
    }

    /// A 409 with a stable code.
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 400 with a stable code.
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// The stable code of this error, as its problem document names it.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Validation { code, .. } => *code,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::TooManyStreams { .. } => ErrorCode::TooManyStreams,
            ApiError::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            ApiError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType | ApiError::UnsupportedFileType(_) => {
                ErrorCode::UnsupportedMediaType
            }
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::DependencyUnavailable { .. } => ErrorCode::DependencyUnavailable,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(_) => {
                "the server failed to handle the request; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            kind: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code(),
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyStreams { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType | ApiError::UnsupportedFileType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::DependencyUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::RateLimited { retry_after, limit } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                response.insert_header(("RateLimit-Limit", limit.to_string()));
                response.insert_header(("RateLimit-Remaining", "0"));
                response.insert_header(("RateLimit-Reset", retry_after.to_string()));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::TooManyStreams { retry_after, .. }
            | ApiError::DependencyUnavailable { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
                ErrorCode::AlreadyExists,
                "a resource with the same unique value already exists",
            ),
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                ApiError::invalid("id", "refers to a resource that does not exist")
            }
            _ if is_connection_failure(&err) => {
                tracing::warn!(error = %err, "database unreachable");
                ApiError::dependency_unavailable("database")
            }
            _ => ApiError::Internal(err.into()),
        }
    }
}

impl From<tenants::TenancyError> for ApiError {
    fn from(err: tenants::TenancyError) -> Self {
        match err {
            tenants::TenancyError::NotFound => ApiError::NotFound("tenant"),
            tenants::TenancyError::Forbidden(why) => ApiError::forbidden(ErrorCode::Forbidden, why),
            tenants::TenancyError::Invalid { field, message } => ApiError::invalid(field, message),
            tenants::TenancyError::Db(db) => db.into(),
        }
    }
}

/// Turns a JSON body error into 400 (malformed), 413 (too large), 415 (not JSON) or 422
/// (well-formed JSON of the wrong shape: wrong types, unknown enum values, missing fields).
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge { limit: *limit },
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(inner) if inner.is_data() => ApiError::Validation {
            code: ErrorCode::ValidationFailed,
            detail: format!("the body does not match the expected shape: {inner}"),
            errors: vec![FieldError {
                field: "body".into(),
                message: inner.to_string(),
            }],
        },
        JsonPayloadError::Deserialize(inner) => ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {inner}"),
        ),
        other => ApiError::bad_request(ErrorCode::MalformedBody, other.to_string()),
    };
    api.into()
}

/// Turns an unparsable path segment (e.g. a malformed id) into a 404: no such resource.
pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound("resource").into()
}

/// Turns bad query parameters into a 400 naming the problem.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(ErrorCode::InvalidQuery, err.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_written_the_same_in_json_as_in_text() {
        for code in [
            ErrorCode::InsufficientScope,
            ErrorCode::WeakPassword,
            ErrorCode::TokenNotYetValid,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
        let problem = ApiError::forbidden(ErrorCode::InsufficientScope, "no").problem();
        assert_eq!(problem.kind, "/problems/insufficient_scope");
        assert_eq!(problem.code, "insufficient_scope");
    }

    #[test]
    fn an_unreachable_dependency_is_a_503_with_retry_after_and_a_refused_query_is_not() {
        let timed_out = ApiError::from(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        assert_eq!(timed_out.code(), ErrorCode::DependencyUnavailable);
        let response = timed_out.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let wrapped = anyhow::Error::new(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(
            "refused".into(),
        )))
        .context("reading tenant facts");
        assert_eq!(
            ApiError::from(wrapped).code(),
            ErrorCode::DependencyUnavailable
        );
        let redis = ApiError::from(anyhow::Error::new(DependencyDown("redis")));
        assert_eq!(
            redis.to_string(),
            "a dependency is down (redis); try again in 2 s"
        );
        let refused = ApiError::from(sea_orm::DbErr::Custom("bad query".into()));
        assert_eq!(refused.code(), ErrorCode::InternalError);
    }
}

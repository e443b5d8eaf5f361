//! Query-string extractors that refuse what the operation does not declare: a misspelt filter
//! (`?stauts=pending`) is a 400 naming it, not a silently unfiltered list. The declared names
//! are the ones the OpenAPI document lists (the types' `IntoParams`), so the two cannot drift.
use super::pagination::PageQuery;
use crate::error::ApiError;
use crate::error::ErrorCode;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use std::any::TypeId;
use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::{Arc, LazyLock, RwLock};
use utoipa::IntoParams;
use utoipa::openapi::path::ParameterIn;

/// The query parameters of an operation that takes exactly the fields of `T`.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parsed parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + IntoParams + 'static> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        ready(
            refuse_undeclared(query, &[&names::<T>()])
                .and_then(|()| parse(query))
                .map(Query)
                .map_err(Into::into),
        )
    }
}

/// The query parameters of a list: paging (`limit`, `cursor`) and the list's filters `F`.
#[derive(Debug)]
pub struct ListQuery<F> {
    /// `limit` and `cursor`.
    pub page: PageQuery,
    /// The list's own filters.
    pub filter: F,
}

impl<F: DeserializeOwned + IntoParams + 'static> FromRequest for ListQuery<F> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        let parsed =
            refuse_undeclared(query, &[&names::<PageQuery>(), &names::<F>()]).and_then(|()| {
                Ok(ListQuery {
                    page: parse(query)?,
                    filter: parse(query)?,
                })
            });
        ready(parsed.map_err(Into::into))
    }
}

/// Filters of a list that has none besides paging.
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoFilter {}

/// The parameter names `T` declares. Building them means building `T`'s whole OpenAPI
/// parameter list, so each type's names are built once per process, not on every request.
fn names<T: IntoParams + 'static>() -> Arc<[String]> {
    static NAMES: LazyLock<RwLock<HashMap<TypeId, Arc<[String]>>>> =
        LazyLock::new(Default::default);
    let key = TypeId::of::<T>();
    if let Some(known) = NAMES
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
    {
        return Arc::clone(known);
    }
    let built: Arc<[String]> = T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect();
    NAMES
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key, Arc::clone(&built));
    built
}

/// 400 naming every parameter of `query` that none of the `declared` lists holds.
fn refuse_undeclared(query: &str, declared: &[&[String]]) -> Result<(), ApiError> {
    if query.is_empty() {
        return Ok(());
    }
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|err| ApiError::bad_request(ErrorCode::InvalidQuery, err.to_string()))?;
    let mut unknown: Vec<&str> = Vec::new();
    for (name, _) in pairs.iter() {
        let known = declared.iter().any(|names| names.contains(name));
        if !known && !unknown.contains(&name.as_str()) {
            unknown.push(name);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let listed = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let accepted: Vec<&str> = declared
        .iter()
        .flat_map(|names| names.iter().map(String::as_str))
        .collect();
    let accepted = if accepted.is_empty() {
        "none".to_owned()
    } else {
        listed(&accepted)
    };
    Err(ApiError::bad_request(
        ErrorCode::UnknownParameter,
        format!(
            "unknown query parameter {}; this operation accepts {accepted}",
            listed(&unknown)
        ),
    ))
}

fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    web::Query::<T>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|err| ApiError::bad_request(ErrorCode::InvalidQuery, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Filter {
        status: Option<String>,
    }

    #[test]
    fn undeclared_names_are_named() {
        let declared = names::<Filter>();
        assert!(refuse_undeclared("status=open", &[&declared]).is_ok());
        let err = refuse_undeclared("stauts=open&x=1&x=2", &[&declared]).unwrap_err();
        assert_eq!(err.code(), "unknown_parameter");
        let detail = err.to_string();
        assert!(detail.contains("`stauts`, `x`"), "{detail}");
        assert!(detail.contains("accepts `status`"), "{detail}");
    }
}

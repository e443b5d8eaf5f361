//! Creating tenants and changing their status: who may create what, and where.
use crate::scope::{child_path, root_path};
use crate::{Scope, Scoped, TenancyError, TenantKind, TenantStatus};
use chrono::{DateTime, Utc};
use entity::tenant;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

/// The fields of a tenant to create.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// Tenant kind; the parent decides which kinds are allowed.
    pub kind: TenantKind,
    /// A client served directly by the platform with its own portal, KB and channel.
    pub dedicated: bool,
    /// Unique URL-safe name.
    pub slug: String,
    /// Human name.
    pub name: String,
    /// Free-form region label (e.g. `europe`).
    pub region: Option<String>,
    /// Supported locales; the first is used when `default_locale` is absent.
    pub locales: Vec<String>,
    /// Default locale, one of `locales`.
    pub default_locale: Option<String>,
    /// IANA time zone name.
    pub time_zone: String,
}

/// Checks the fields of a new tenant, naming the first bad field.
///
/// # Errors
/// [`TenancyError::Invalid`] for a malformed slug, name, locale or time zone.
pub fn validate(new: &NewTenant) -> Result<String, TenancyError> {
    validate_slug(&new.slug)?;
    validate_name(&new.name)?;
    validate_locales(&new.locales)?;
    validate_time_zone(&new.time_zone)?;
    let default_locale = match &new.default_locale {
        Some(locale) if new.locales.contains(locale) => locale.clone(),
        Some(_) => {
            return Err(TenancyError::Invalid {
                field: "default_locale",
                message: "must be one of `locales`".into(),
            });
        }
        None => new.locales.first().cloned().unwrap_or_else(|| "en".into()),
    };
    Ok(default_locale)
}

/// Checks a slug: 2-64 characters of `a-z`, `0-9` and inner `-`.
///
/// # Errors
/// [`TenancyError::Invalid`] naming `slug`.
pub fn validate_slug(slug: &str) -> Result<(), TenancyError> {
    let ok = (2..=64).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(TenancyError::Invalid {
            field: "slug",
            message: "2-64 characters of a-z, 0-9 and inner hyphens".into(),
        })
    }
}

/// Checks a display name: 1-200 characters after trimming.
///
/// # Errors
/// [`TenancyError::Invalid`] naming `name`.
pub fn validate_name(name: &str) -> Result<(), TenancyError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(TenancyError::Invalid {
            field: "name",
            message: "must be 1-200 characters".into(),
        });
    }
    Ok(())
}

/// Checks locales: 1-20 tags shaped like `en`, `pt-BR` or `es-419`.
///
/// # Errors
/// [`TenancyError::Invalid`] naming `locales`.
pub fn validate_locales(locales: &[String]) -> Result<(), TenancyError> {
    let tag_ok = |tag: &String| {
        let mut parts = tag.split('-');
        let language = parts.next().unwrap_or_default();
        let language_ok =
            (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase());
        language_ok
            && parts
                .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if locales.is_empty() || locales.len() > 20 || !locales.iter().all(tag_ok) {
        return Err(TenancyError::Invalid {
            field: "locales",
            message: "1-20 language tags such as `en`, `ru` or `pt-BR`".into(),
        });
    }
    Ok(())
}

/// Checks an IANA time zone name.
///
/// # Errors
/// [`TenancyError::Invalid`] naming `time_zone`.
pub fn validate_time_zone(zone: &str) -> Result<(), TenancyError> {
    zone.parse::<chrono_tz::Tz>()
        .map(|_| ())
        .map_err(|_| TenancyError::Invalid {
            field: "time_zone",
            message: format!("unknown IANA time zone `{zone}`"),
        })
}

/// Whether a child of `kind` (and `dedicated`) may hang below `parent`.
///
/// # Errors
/// [`TenancyError::Forbidden`] when the tree shape does not allow it.
pub fn check_child_allowed(
    parent: &tenant::Model,
    kind: TenantKind,
    dedicated: bool,
) -> Result<(), TenancyError> {
    let parent_kind: TenantKind = parent
        .kind
        .parse()
        .map_err(|_| TenancyError::Forbidden("the parent tenant has an unknown kind"))?;
    match (parent_kind, kind, dedicated) {
        (TenantKind::Platform, TenantKind::Partner, false) => Ok(()),
        (TenantKind::Platform, TenantKind::Client, true) => Ok(()),
        (TenantKind::Platform, TenantKind::Client, false) => Err(TenancyError::Forbidden(
            "a client directly below the platform must be dedicated",
        )),
        (TenantKind::Partner, TenantKind::Client, false) => Ok(()),
        (TenantKind::Partner, TenantKind::Client, true) => Err(TenancyError::Forbidden(
            "dedicated clients belong directly to the platform",
        )),
        (_, TenantKind::Platform, _) => {
            Err(TenancyError::Forbidden("there is only one platform tenant"))
        }
        (TenantKind::Client, _, _) => Err(TenancyError::Forbidden(
            "a client tenant has no child tenants",
        )),
        _ => Err(TenancyError::Forbidden(
            "this kind of tenant cannot be created here",
        )),
    }
}

/// Creates a tenant below `parent_id`, which must lie inside `scope`, as of `now`.
///
/// # Errors
/// [`TenancyError::NotFound`] when the parent is outside the scope, `Forbidden` when the tree
/// shape or the parent's status forbids it, `Invalid` for bad fields, `Db` otherwise (a taken
/// slug surfaces as a unique violation).
pub async fn create_child(
    db: &impl ConnectionTrait,
    scope: &Scope,
    parent_id: Uuid,
    new: NewTenant,
    now: DateTime<Utc>,
) -> Result<tenant::Model, TenancyError> {
    let default_locale = validate(&new)?;
    let parent = tenant::Entity::scoped_by_id(scope, parent_id)
        .one(db)
        .await?
        .ok_or(TenancyError::NotFound)?;
    check_child_allowed(&parent, new.kind, new.dedicated)?;
    if crate::tree::is_blocked(db, &parent.path).await? {
        return Err(TenancyError::Forbidden("the parent tenant is suspended"));
    }
    let id = Uuid::now_v7();
    insert(db, id, Some(&parent), new, default_locale, now).await
}

/// Creates the platform tenant of a fresh deployment, as of `now`.
///
/// # Errors
/// `Invalid` for bad fields, `Forbidden` when a tenant already exists, `Db` otherwise.
pub async fn create_platform(
    db: &impl ConnectionTrait,
    new: NewTenant,
    now: DateTime<Utc>,
) -> Result<tenant::Model, TenancyError> {
    let default_locale = validate(&new)?;
    if !crate::tree::is_empty(db).await? {
        return Err(TenancyError::Forbidden(
            "the platform tenant already exists",
        ));
    }
    insert(
        db,
        Uuid::now_v7(),
        None,
        NewTenant {
            kind: TenantKind::Platform,
            dedicated: false,
            ..new
        },
        default_locale,
        now,
    )
    .await
}

async fn insert(
    db: &impl ConnectionTrait,
    id: Uuid,
    parent: Option<&tenant::Model>,
    new: NewTenant,
    default_locale: String,
    now: DateTime<Utc>,
) -> Result<tenant::Model, TenancyError> {
    let (path, depth) = match parent {
        Some(parent) => (child_path(&parent.path, id), parent.depth + 1),
        None => (root_path(id), 0),
    };
    let model = tenant::ActiveModel {
        id: Set(id),
        parent_id: Set(parent.map(|p| p.id)),
        kind: Set(new.kind.as_str().to_owned()),
        dedicated: Set(new.dedicated),
        slug: Set(new.slug),
        name: Set(new.name.trim().to_owned()),
        region: Set(new.region),
        locales: Set(serde_json::Value::from(new.locales)),
        default_locale: Set(default_locale),
        time_zone: Set(new.time_zone),
        status: Set(TenantStatus::Active.as_str().to_owned()),
        path: Set(path),
        depth: Set(depth),
        suspended_at: Set(None),
        intake_group_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(model.insert(db).await?)
}

/// Sets a tenant's status as of `now`; a principal may change only tenants strictly below its
/// own.
///
/// # Errors
/// `NotFound` outside the scope, `Forbidden` for the caller's own tenant or an ancestor.
pub async fn set_status(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    status: TenantStatus,
    now: DateTime<Utc>,
) -> Result<tenant::Model, TenancyError> {
    let found = tenant::Entity::scoped_by_id(scope, tenant_id)
        .one(db)
        .await?
        .ok_or(TenancyError::NotFound)?;
    if found.id == scope.tenant_id() {
        return Err(TenancyError::Forbidden(
            "a tenant cannot change its own status",
        ));
    }
    if found.status == status.as_str() {
        return Ok(found);
    }
    let mut active: tenant::ActiveModel = found.into();
    active.status = Set(status.as_str().to_owned());
    active.suspended_at = Set(matches!(status, TenantStatus::Suspended).then_some(now));
    active.updated_at = Set(now);
    Ok(active.update(db).await?)
}

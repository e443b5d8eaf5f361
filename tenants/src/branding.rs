//! Branding: each field is taken from the nearest tenant on the path (self first) that sets it.
#![allow(clippy::disallowed_methods)] // ancestors' branding is read along the tenant's own path

use crate::TenancyError;
use crate::scope::path_ids;
use entity::tenant_branding;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

/// One branding field as it applies to a tenant, and the tenant that set it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Inherited {
    /// The effective value, if any tenant on the path sets it.
    pub value: Option<String>,
    /// The tenant whose own branding supplied the value.
    pub source_tenant_id: Option<Uuid>,
}

/// The effective branding of a tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EffectiveBranding {
    /// Name shown in the portal and e-mails.
    pub display_name: Inherited,
    /// Logo image address.
    pub logo_url: Inherited,
    /// Main colour, `#RRGGBB`.
    pub primary_color: Inherited,
    /// Accent colour, `#RRGGBB`.
    pub accent_color: Inherited,
    /// Sender name on outgoing e-mail.
    pub email_sender_name: Inherited,
    /// Signature appended to outgoing e-mail.
    pub email_signature: Inherited,
    /// Host name of the tenant's portal.
    pub portal_domain: Inherited,
}

/// Resolves the effective branding of the tenant whose materialised path is `path`.
///
/// # Errors
/// Fails when the database does.
pub async fn effective(
    db: &impl ConnectionTrait,
    path: &str,
) -> Result<EffectiveBranding, TenancyError> {
    let ids = path_ids(path);
    let rows = tenant_branding::Entity::find()
        .filter(tenant_branding::Column::TenantId.is_in(ids.clone()))
        .all(db)
        .await?;
    let mut effective = EffectiveBranding::default();
    // Nearest first: walk from the tenant itself up to the root.
    for id in ids.iter().rev() {
        let Some(row) = rows.iter().find(|row| row.tenant_id == *id) else {
            continue;
        };
        take(&mut effective.display_name, &row.display_name, *id);
        take(&mut effective.logo_url, &row.logo_url, *id);
        take(&mut effective.primary_color, &row.primary_color, *id);
        take(&mut effective.accent_color, &row.accent_color, *id);
        take(
            &mut effective.email_sender_name,
            &row.email_sender_name,
            *id,
        );
        take(&mut effective.email_signature, &row.email_signature, *id);
        // A portal domain names one tenant's portal: it is never inherited.
        if *id == ids.last().copied().unwrap_or_default() {
            take(&mut effective.portal_domain, &row.portal_domain, *id);
        }
    }
    Ok(effective)
}

fn take(slot: &mut Inherited, value: &Option<String>, source: Uuid) {
    if let (None, Some(value)) = (&slot.value, value) {
        *slot = Inherited {
            value: Some(value.clone()),
            source_tenant_id: Some(source),
        };
    }
}

/// Checks a colour is `#RRGGBB`.
///
/// # Errors
/// Names the field when the colour is malformed.
pub fn validate_color(field: &'static str, value: &str) -> Result<(), TenancyError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(TenancyError::Invalid {
            field,
            message: "must be a colour written as #RRGGBB".into(),
        })
    }
}

/// Checks a logo address is an absolute http(s) URL of sane length.
///
/// # Errors
/// Names the field when the address is malformed.
pub fn validate_url(field: &'static str, value: &str) -> Result<(), TenancyError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && value.len() <= 2048
                && !value.chars().any(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(TenancyError::Invalid {
            field,
            message: "must be an absolute http(s) URL".into(),
        }),
    }
}

/// Checks a portal domain is a lower-case DNS host name.
///
/// # Errors
/// Names the field when the name is malformed.
pub fn validate_domain(field: &'static str, value: &str) -> Result<(), TenancyError> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if value.len() <= 253 && value.contains('.') && value.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(TenancyError::Invalid {
            field,
            message: "must be a lower-case host name such as help.example.org".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_accept_good_and_refuse_bad_values() {
        assert!(validate_color("c", "#1a2B3c").is_ok());
        assert!(validate_color("c", "1a2b3c").is_err());
        assert!(validate_color("c", "#12345g").is_err());
        assert!(validate_url("u", "https://cdn.example.org/logo.png").is_ok());
        assert!(validate_url("u", "javascript:alert(1)").is_err());
        assert!(validate_domain("d", "help.uni.example").is_ok());
        assert!(validate_domain("d", "Help.Example").is_err());
        assert!(validate_domain("d", "localhost").is_err());
    }
}

//! Request and response bodies of the auth endpoints.
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

crate::http::api_enum::api_enum!(
    /// What kind of caller a token or key is.
    PrincipalType {
        /// A signed-in user.
        User => "user",
        /// An integrator's API key.
        ApiKey => "api_key",
    }
);

/// Credentials for `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's e-mail.
    pub email: String,
    /// The account's password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Tenant slug, needed only when the e-mail and password fit accounts in several tenants.
    pub tenant: Option<String>,
}

/// A token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque token for `POST /auth/refresh`; single use.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Body of `POST /auth/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    #[schema(value_type = String)]
    pub refresh_token: SecretString,
}

/// Optional body of `POST /auth/logout`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// Also end the session of this refresh token, when it is another session of the same
    /// user (the access token's own session always ends).
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretString>,
}

/// Body of `POST /auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    /// The new password: 10-128 characters and not easy to guess (common passwords, words,
    /// names, dates, keyboard patterns and the account's own e-mail or name are refused).
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Body of `POST /auth/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The one-time token an admin issued.
    #[schema(value_type = String)]
    pub token: SecretString,
    /// The new password: 10-128 characters and not easy to guess (common passwords, words,
    /// names, dates, keyboard patterns and the account's own e-mail or name are refused).
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// The caller as the server sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// `user` or `api_key`.
    #[schema(value_type = PrincipalType)]
    pub principal_type: &'static str,
    /// The user's id (users only).
    pub user_id: Option<Uuid>,
    /// The API key's id (keys only).
    pub api_key_id: Option<Uuid>,
    /// E-mail (users only).
    pub email: Option<String>,
    /// Name of the user or the key.
    pub name: String,
    /// Role (users only).
    #[schema(value_type = Option<crate::users::dto::RoleDto>)]
    pub role: Option<String>,
    /// The caller's tenant.
    pub tenant_id: Uuid,
    /// Its slug.
    pub tenant_slug: String,
    /// Its kind.
    #[schema(value_type = crate::tenancy::dto::TenantKindDto)]
    pub tenant_kind: String,
    /// Permission scopes held.
    pub scopes: Vec<String>,
}

/// Answer of a signing-key rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    /// Id of the new signing key (the `kid` of tokens issued from now on).
    pub kid: String,
}

/// The public keys that verify access tokens (RFC 7517 JWK Set): the current signing key and
/// retired keys whose tokens may still be alive.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    /// The keys; a token's `kid` header names the one that verifies it.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key as a JWK (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// Key type: an octet key pair.
    pub kty: JwkKeyType,
    /// Curve.
    pub crv: JwkCurve,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id, matched against the token's `kid` header.
    pub kid: String,
    /// What the key is for: signatures.
    #[serde(rename = "use")]
    #[schema(rename = "use")]
    pub key_use: JwkUse,
    /// The JWS algorithm of the tokens it verifies.
    pub alg: JwkAlgorithm,
}

/// JWK key types in use.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum JwkKeyType {
    /// Octet key pair (Ed25519).
    #[serde(rename = "OKP")]
    Okp,
}

/// JWK curves in use.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum JwkCurve {
    /// Edwards curve 25519.
    Ed25519,
}

/// JWK uses in use.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum JwkUse {
    /// Signature verification.
    #[serde(rename = "sig")]
    Sig,
}

/// JWS algorithms in use.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum JwkAlgorithm {
    /// EdDSA over Ed25519.
    EdDSA,
}

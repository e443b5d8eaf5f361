//! Authentication: login, token refresh and rotation, logout, the current principal, password
//! changes and resets, signing-key rotation; and the request guards every endpoint uses.
pub mod dto;
pub mod jwt;
pub mod key_encryption;
pub mod password;
pub mod principal;
pub mod revocation;
pub mod routes;
pub mod service;

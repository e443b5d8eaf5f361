//! PATCH bodies: a field left out stays as it is, a field sent as `null` is cleared.

use serde::{Deserialize, Deserializer};

/// Deserialises a present field (even `null`) as `Some(value)`; with `#[serde(default)]` an
/// absent field stays `None`.
///
/// # Errors
/// Whatever the inner type's deserialisation refuses.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

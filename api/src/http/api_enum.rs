//! Enumerations the API reads and writes as snake_case names.
//!
//! Serde's derived enum deserializer makes `serde_json` report a number or an object where a
//! name belongs as malformed JSON (a 400), although the body is valid JSON of the wrong shape.
//! Enums declared with [`api_enum!`] read a string and name the accepted values otherwise, so
//! such a body is a 422 like every other wrong type.

/// Declares a `Copy` enum written as snake_case names, with `as_str` (the stored name), `ALL`
/// (every value, in order) and a deserializer that accepts only those names.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The value whose stored name is `text`, if any.
            pub fn from_stored(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Names;
                impl serde::de::Visitor<'_> for Names {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("one of: ")?;
                        f.write_str(&[$($text),+].join(", "))
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        match text {
                            $($text => Ok($name::$variant),)+
                            _ => Err(E::unknown_variant(text, &[$($text),+])),
                        }
                    }
                }
                deserializer.deserialize_str(Names)
            }
        }
    };
}

pub(crate) use api_enum;

#[cfg(test)]
mod tests {
    use serde::{Serialize, de::DeserializeOwned};

    /// Each value serializes to its stored name and reads back from it.
    fn round_trips<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for value in all {
            let name = as_str(*value);
            assert_eq!(serde_json::to_value(value).ok(), Some(name.into()));
            assert_eq!(serde_json::from_value::<T>(name.into()).ok(), Some(*value));
        }
    }

    #[test]
    fn every_api_enum_writes_and_reads_its_stored_names() {
        use crate::tickets::domain::{TicketPriority, TicketSource, TicketStatus};
        round_trips(TicketStatus::ALL, TicketStatus::as_str);
        round_trips(TicketPriority::ALL, TicketPriority::as_str);
        round_trips(TicketSource::ALL, TicketSource::as_str);
        round_trips(
            crate::agents::dto::Availability::ALL,
            crate::agents::dto::Availability::as_str,
        );
        round_trips(
            crate::companies::dto::CompanyTier::ALL,
            crate::companies::dto::CompanyTier::as_str,
        );
        round_trips(
            crate::groups::dto::GroupKind::ALL,
            crate::groups::dto::GroupKind::as_str,
        );
        round_trips(
            crate::groups::dto::AssignmentMode::ALL,
            crate::groups::dto::AssignmentMode::as_str,
        );
        round_trips(
            crate::reports::dto::CountBy::ALL,
            crate::reports::dto::CountBy::as_str,
        );
        round_trips(
            crate::tenancy::dto::TenantKindDto::ALL,
            crate::tenancy::dto::TenantKindDto::as_str,
        );
        round_trips(
            crate::ticket_fields::dto::FieldType::ALL,
            crate::ticket_fields::dto::FieldType::as_str,
        );
        round_trips(
            crate::users::dto::RoleDto::ALL,
            crate::users::dto::RoleDto::as_str,
        );
    }

    #[test]
    fn a_number_or_an_unknown_name_is_a_data_error() {
        use crate::tickets::domain::TicketPriority;
        for bad in ["5", "{\"low\": null}", "\"lowest\""] {
            let err = serde_json::from_str::<TicketPriority>(bad).err();
            assert!(
                err.as_ref().is_some_and(serde_json::Error::is_data),
                "{bad}: {err:?}"
            );
        }
    }
}

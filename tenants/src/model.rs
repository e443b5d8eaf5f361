//! The closed vocabularies of the tenant tree: kinds, statuses and roles.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The stored and serialised name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!("unknown {} `{other}`", stringify!($name))),
                }
            }
        }
    };
}

string_enum!(
    /// Where a tenant stands in the tree.
    TenantKind { Platform => "platform", Partner => "partner", Client => "client" }
);

string_enum!(
    /// Whether a tenant's principals may act.
    TenantStatus { Active => "active", Suspended => "suspended" }
);

string_enum!(
    /// What a user may do; the role decides the reach of the user's scope.
    Role {
        PlatformAdmin => "platform_admin",
        TenantAdmin => "tenant_admin",
        Supervisor => "supervisor",
        Agent => "agent",
        ClientAdmin => "client_admin",
    }
);

impl Role {
    /// The permission scopes a user of this role holds.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Role::PlatformAdmin | Role::TenantAdmin => &["admin"],
            Role::Supervisor => &[
                "tickets:read",
                "tickets:write",
                "kb:read",
                "kb:write",
                "reports:read",
                "users:read",
                "tenants:read",
            ],
            Role::Agent => &[
                "tickets:read",
                "tickets:write",
                "kb:read",
                "users:read",
                "tenants:read",
            ],
            Role::ClientAdmin => &[
                "tickets:read",
                "kb:read",
                "reports:read",
                "users:read",
                "tenants:read",
            ],
        }
    }

    /// Whether a user of this role works only its own tenant (a client organisation's staff)
    /// or its tenant and every descendant (a partner's agents work their clients' tickets).
    pub fn reach(self) -> crate::Reach {
        match self {
            Role::ClientAdmin => crate::Reach::Own,
            _ => crate::Reach::Subtree,
        }
    }

    /// Whether this role may exist in a tenant of `kind`.
    pub fn fits(self, kind: TenantKind) -> bool {
        match self {
            Role::PlatformAdmin => kind == TenantKind::Platform,
            Role::ClientAdmin => kind == TenantKind::Client,
            Role::TenantAdmin | Role::Supervisor | Role::Agent => true,
        }
    }
}

/// Every permission scope an API key or a role can hold; `admin` implies all the others.
pub const SCOPES: &[&str] = &[
    "admin",
    "tickets:read",
    "tickets:write",
    "kb:read",
    "kb:write",
    "reports:read",
    "users:read",
    "tenants:read",
];

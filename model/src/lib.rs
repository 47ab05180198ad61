//! The console's vocabulary: values that appear in forms, URLs, the REST API, the database and
//! the cloud's tags, each an enum that prints as its stored string and parses only from one.
//! An unknown value is an error, never a default. Wasm-safe (no server dependency), so the
//! browser, the server functions, the REST API and `backend` use the same lists.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod filters;
pub mod prices;
pub use filters::{AuditFilters, BoardFilters, CatalogFilters};

/// A string that names none of a vocabulary's values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {what}: choose {}", choices.join(", "))]
pub struct Unknown {
    pub what: &'static str,
    pub value: String,
    pub choices: Vec<&'static str>,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order forms offer them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string it is stored and sent as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Every value's string, in order (for forms and documentation).
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "sqlx")]
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        /// A stored value outside the vocabulary is a decoding error, never a default.
        #[cfg(feature = "sqlx")]
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?.parse::<$name>()?)
            }
        }

        #[cfg(feature = "sqlx")]
        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl FromStr for $name {
            type Err = Unknown;

            fn from_str(raw: &str) -> Result<Self, Unknown> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw).ok_or_else(|| Unknown {
                    what: $what,
                    value: raw.to_owned(),
                    choices: Self::names(),
                })
            }
        }
    };
}

vocabulary!(
    /// What an account may do; the server checks it on every action.
    Role, "role", {
        /// The platform team: everything.
        Admin = "admin",
        /// Their own and their teams' functions.
        Developer = "developer",
        /// Their own lab functions only.
        Learner = "learner",
    }
);

vocabulary!(
    /// Where a function is in its life, as the catalog and the `lambdaport:lifecycle` tag say.
    Lifecycle, "lifecycle", {
        Experimental = "experimental",
        Production = "production",
        Deprecated = "deprecated",
    }
);

/// A new catalog entry's lifecycle.
impl Default for Lifecycle {
    fn default() -> Self {
        Self::Experimental
    }
}

vocabulary!(
    /// Which environment a function serves (`lambdaport:environment`).
    Stage, "environment", {
        Dev = "dev",
        Staging = "staging",
        Prod = "prod",
    }
);

/// A new catalog entry's environment.
impl Default for Stage {
    fn default() -> Self {
        Self::Dev
    }
}

vocabulary!(
    /// Who may call a Function URL: anyone (with the resource policy's two statements), or
    /// callers signing with SigV4.
    UrlAuthType, "URL auth type", {
        None = "NONE",
        AwsIam = "AWS_IAM",
    }
);

vocabulary!(
    /// How a test event is sent: waiting for the answer, queued, or only checked.
    InvocationType, "invocation type", {
        RequestResponse = "RequestResponse",
        Event = "Event",
        DryRun = "DryRun",
    }
);

vocabulary!(
    /// Where a lab run is: being worked through, validated, or cleaned up (and kept as history).
    RunStatus, "run status", {
        InProgress = "in_progress",
        Completed = "completed",
        CleanedUp = "cleaned_up",
    }
);

vocabulary!(
    /// A ledger entry's resource: being created (the intent, before the cloud answered), there, or
    /// deleted and verified gone.
    LedgerState, "ledger state", {
        Creating = "creating",
        Present = "present",
        Deleted = "deleted",
    }
);

vocabulary!(
    /// How much a broken governance rule matters: an `error` is refused before creation (and
    /// at each lab step), a `warning` is shown and counted, `info` is only listed.
    Severity, "severity", {
        Error = "error",
        Warning = "warning",
        Info = "info",
    }
);

vocabulary!(
    /// What a governance rule checks. Each mirrors a check platform teams already run (the
    /// rule's help names it); its parameters are in the rule's `params`.
    RuleKind, "rule kind", {
        /// A tag key every function carries, optionally from a list of values or a pattern.
        RequiredTag = "required_tag",
        /// Function names match a pattern.
        Naming = "naming",
        /// Only these runtimes.
        AllowedRuntimes = "allowed_runtimes",
        /// No runtime on AWS's deprecation path (the calendar on the Governance page).
        DeprecatedRuntime = "deprecated_runtime",
        /// Only these instruction set architectures.
        Architectures = "architectures",
        /// Memory size bounds, in MB.
        Memory = "memory",
        /// Timeout bounds, in seconds.
        Timeout = "timeout",
        /// Ephemeral storage (`/tmp`) bounds, in MB.
        EphemeralStorage = "ephemeral_storage",
        /// Reserved concurrency set, within bounds.
        ReservedConcurrency = "reserved_concurrency",
        /// Public Function URLs (auth type `NONE`): forbidden, outside production only, with an
        /// expiry, or with an approval.
        PublicUrl = "public_url",
        /// A Function URL's CORS allowing every origin.
        UrlCorsWildcard = "url_cors_wildcard",
        /// A resource-policy statement letting anyone invoke the function other than through
        /// its URL.
        PublicInvoke = "public_invoke",
        /// A URL's public statements left behind after the URL was deleted.
        OrphanUrlStatement = "orphan_url_statement",
        /// Environment variables that look like secrets.
        EnvironmentSecrets = "environment_secrets",
        /// An administrator-like managed policy on the function's role.
        AdminRole = "admin_role",
        /// One role shared by several functions.
        SharedRole = "shared_role",
        /// A log group that keeps its logs forever.
        LogRetention = "log_retention",
    }
);

impl RuleKind {
    /// The kind as the Governance page offers it.
    pub fn label(self) -> &'static str {
        match self {
            Self::RequiredTag => "Required tag",
            Self::Naming => "Naming pattern",
            Self::AllowedRuntimes => "Allowed runtimes",
            Self::DeprecatedRuntime => "No deprecated runtimes",
            Self::Architectures => "Allowed architectures",
            Self::Memory => "Memory bounds",
            Self::Timeout => "Timeout bounds",
            Self::EphemeralStorage => "Ephemeral storage bounds",
            Self::ReservedConcurrency => "Reserved concurrency",
            Self::PublicUrl => "Public Function URLs",
            Self::UrlCorsWildcard => "CORS allowing every origin",
            Self::PublicInvoke => "Public invoke outside the URL",
            Self::OrphanUrlStatement => "Statements left by a deleted URL",
            Self::EnvironmentSecrets => "Secrets in environment variables",
            Self::AdminRole => "Administrator-like roles",
            Self::SharedRole => "Roles shared by several functions",
            Self::LogRetention => "Log groups without retention",
        }
    }

    /// The rule form's parameter fields this kind reads (`key`, `values`, `pattern`, `min`,
    /// `max`, `policy`, `max_hours`, `on_expiry`).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::RequiredTag => &["key", "values", "pattern"],
            Self::Naming => &["pattern"],
            Self::AllowedRuntimes | Self::Architectures => &["values"],
            Self::Memory | Self::Timeout | Self::EphemeralStorage | Self::ReservedConcurrency => {
                &["min", "max"]
            }
            Self::PublicUrl => &["policy", "max_hours", "on_expiry"],
            _ => &[],
        }
    }
}

vocabulary!(
    /// What a `public_url` rule allows.
    UrlPolicy, "public URL policy", {
        Forbidden = "forbidden",
        OutsideProduction = "outside_production",
        Expiry = "expiry",
        Approval = "approval",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_unknown_ones_are_errors() {
        for l in Lifecycle::ALL {
            assert_eq!(l.as_str().parse::<Lifecycle>(), Ok(*l));
        }
        for s in Stage::ALL {
            assert_eq!(s.to_string().parse::<Stage>(), Ok(*s));
        }
        for a in UrlAuthType::ALL {
            assert_eq!(a.as_str().parse::<UrlAuthType>(), Ok(*a));
        }
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(*s));
        }
        for s in LedgerState::ALL {
            assert_eq!(s.as_str().parse::<LedgerState>(), Ok(*s));
        }
        for k in RuleKind::ALL {
            assert_eq!(k.as_str().parse::<RuleKind>(), Ok(*k));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(*s));
        }
        for p in UrlPolicy::ALL {
            assert_eq!(p.as_str().parse::<UrlPolicy>(), Ok(*p));
        }
        assert!("failed".parse::<LedgerState>().is_err(), "an outcome is not a stored state");
        let unknown = "Production".parse::<Lifecycle>().expect_err("case matters");
        assert_eq!(
            unknown.to_string(),
            r#""Production" is not a lifecycle: choose experimental, production, deprecated"#
        );
        assert!("".parse::<Stage>().is_err());
    }
}

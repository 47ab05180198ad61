//! The lab's vocabulary: its steps, what a run remembers, what a call returned, the doctor's
//! findings and fixes, and the kinds of resources the ledger records.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use ::model::{LedgerState, RunStatus};

use crate::error::{Error, Result};

/// The lab's steps, in order.
pub const CONNECTION: i16 = 1;

pub const FUNCTION: i16 = 2;

pub const CODE: i16 = 3;

pub const SETTINGS: i16 = 4;

pub const URL: i16 = 5;

pub const CALL: i16 = 6;

pub const LOGS: i16 = 7;

pub const VALIDATE: i16 = 8;

pub const CLEANUP: i16 = 9;

/// How long a step may be pending before it counts as interrupted (its longest wait is a minute
/// for the function to become ready, plus up to half a minute for a new role to be assumable).
pub const STALE_AFTER: Duration = Duration::from_secs(180);

/// The managed policy "basic Lambda permissions" means: write logs to CloudWatch.
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

pub use crate::urls::doctor::{Call, Diagnosis, Fix};
pub use crate::urls::policy::{INVOKE_STATEMENT, URL_STATEMENT};

/// What the learner chose so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    pub runtime: String,
    pub architecture: String,
    pub role_arn: String,
    /// True when the console created the role (it is then in the ledger).
    pub role_created: bool,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    pub tags: BTreeMap<String, String>,
    /// The handler file's source as last deployed from the editor.
    pub source: String,
    pub timeout_s: i32,
    pub memory_mb: i32,
    pub auth_type: String,
    pub cors_origins: Vec<String>,
    /// How long a public URL lives, in hours, when chosen (the Create form); a lab's URL
    /// otherwise lives as long as its run.
    pub url_expires_in_hours: Option<i64>,
    pub url: String,
    pub last_call: Option<Call>,
    /// What the doctor said about the last call, when it was not 200 `ok`.
    pub last_diagnosis: Option<Diagnosis>,
    /// The last validation's checklist and the doctor's word on it.
    pub last_checks: Vec<Check>,
    pub last_checks_diagnosis: Option<Diagnosis>,
}

/// One lab run.
#[derive(Clone, Debug)]
pub struct Run {
    pub lab_run_id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub connection_id: Uuid,
    pub connection: String,
    pub region: String,
    pub function_name: Option<String>,
    pub function_id: Option<Uuid>,
    /// The furthest step reached (earlier ones can be revisited).
    pub step: i16,
    pub settings: Settings,
    pub status: RunStatus,
    pub pending_step: Option<i16>,
    pub pending_since: Option<OffsetDateTime>,
    pub failures: i32,
    pub last_failure: Option<String>,
    /// The step of the last problem passed since.
    pub failure_resolved: bool,
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Call {
    /// What the lab expects: 200 with the body `ok`.
    pub fn passed(&self) -> bool {
        self.status == 200 && self.body.trim() == "ok"
    }
}

/// Runtimes the wizard offers, newest first within each family.
pub const RUNTIMES: &[&str] =
    &["python3.13", "python3.12", "python3.11", "nodejs22.x", "nodejs20.x", "provided.al2023"];

/// A kind of resource the console creates, in the order cleanup deletes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    UrlConfig,
    Permission,
    Function,
    LogGroup,
    RolePolicy,
    Role,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UrlConfig => "url_config",
            Self::Permission => "permission",
            Self::Function => "function",
            Self::LogGroup => "log_group",
            Self::RolePolicy => "role_policy",
            Self::Role => "role",
        }
    }

    pub const ALL: [Kind; 6] = [
        Self::UrlConfig,
        Self::Permission,
        Self::Function,
        Self::LogGroup,
        Self::RolePolicy,
        Self::Role,
    ];

    /// How people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::UrlConfig => "Function URL",
            Self::Permission => "Permission statement",
            Self::Function => "Function",
            Self::LogGroup => "Log group",
            Self::RolePolicy => "Role policy attachment",
            Self::Role => "IAM role",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = Error;

    /// A kind as stored; anything else is an error, never a guess (cleanup deletes by kind).
    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("a ledger entry has an unknown kind {raw:?}"))
        })
    }
}

/// One resource in the ledger.
#[derive(Clone, Debug)]
pub struct Entry {
    pub ledger_entry_id: Uuid,
    pub lab_run_id: Option<Uuid>,
    pub function_id: Option<Uuid>,
    pub connection_id: Uuid,
    pub region: String,
    /// The run id the resource (or, for a URL, statement or log group, its function; for a
    /// policy attachment, its role) was tagged with at creation: `lambdaport:lab-run`.
    pub mark: Option<Uuid>,
    pub kind: Kind,
    pub name: String,
    pub parent: Option<String>,
    pub state: LedgerState,
    pub owner: Option<String>,
    pub error: Option<String>,
    pub created_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

/// Which part of the ledger: one lab run's resources or one function's.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    Run(Uuid),
    Function(Uuid),
}

/// What step 2 asks for.
#[derive(Clone, Debug, Default)]
pub struct FunctionInput {
    pub name: String,
    pub runtime: String,
    pub architecture: String,
    /// `new` for a new role with basic Lambda permissions, or an existing role's ARN.
    pub role: String,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    pub tags: BTreeMap<String, String>,
}

/// The tag a lab puts on the function and role it creates: the run's id. Cleanup deletes them
/// only while the tag still says so.
pub const RUN_TAG: &str = "lambdaport:lab-run";

/// The trust policy that lets Lambda assume a role.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The newest log stream of the function and its lines.
#[derive(Clone, Debug, Default)]
pub struct Logs {
    pub group: String,
    pub stream: Option<String>,
    pub events: Vec<(i64, String)>,
}

/// One line of the lab's checklist.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Check {
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

/// What happened to one ledger resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted, and the cloud confirms it is gone.
    Deleted,
    /// Was already gone.
    AlreadyGone,
    /// Deliberately kept (a role another function still uses).
    Kept(String),
    /// Ours is gone; what the cloud has under the name now is someone else's, left alone.
    NotOurs(String),
    /// Could not be deleted.
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_kinds_and_fixes_round_trip_and_unknown_ones_are_errors() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().ok(), Some(kind));
        }
        for fix in Fix::ALL {
            assert_eq!(fix.as_str().parse::<Fix>().ok(), Some(fix));
        }
        // Cleanup deletes by kind: an unknown one must never become a role (or anything).
        assert!(matches!("bucket".parse::<Kind>(), Err(Error::Internal(_))));
        assert!(matches!("Role".parse::<Kind>(), Err(Error::Internal(_))));
        assert!(matches!(
            "UseAuthNone".parse::<Fix>(),
            Err(Error::Validation { field: "fix", .. })
        ));
    }
}

//! The one error type of the console's domain. The web layer maps it to a status code and a safe
//! message; internal variants never reach a client verbatim.

/// Everything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist (or the caller may not know it does).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is signed in but their role does not allow this.
    #[error("you do not have permission to do that")]
    Forbidden,
    /// Not allowed for this caller; the message says what would allow it.
    #[error("{0}")]
    Refused(String),
    /// The caller is not signed in, or their credentials are wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// One input field is wrong; `message` says how to fix it.
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    /// The change clashes with existing state (a duplicate name, the last admin).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts from here; try again in {} minute(s)", retry_after_secs.div_ceil(60))]
    RateLimited { retry_after_secs: u64 },
    /// A call to the cloud failed; `message` names the call and quotes the cloud in one line,
    /// `detail` is the SDK's whole account of it, for the server log only.
    #[error("{message}")]
    Cloud { failure: CloudFailure, message: String, detail: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The console is saturated: no database connection came free while the request waited.
    /// Not a fault: the same request can be sent again.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::PoolTimedOut))
    }
}

/// How a call to the cloud failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudFailure {
    /// The resource does not exist (404).
    NotFound,
    /// The cloud asked the console to slow down (429).
    Throttled,
    /// The cloud understood the call and said no: a conflict, an invalid value, a missing
    /// permission (409).
    Refused,
    /// No answer that says anything about the request: a timeout, a dropped connection, the
    /// cloud's own 5xx (502).
    Unavailable,
}

/// Result with the domain error as default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation error for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation { field, message: message.into() }
    }

    /// A validation error for `field` from a value outside the console's vocabulary.
    pub fn unknown(field: &'static str, error: &model::Unknown) -> Self {
        Self::invalid(field, error.to_string())
    }

    /// True for failures that are the server's fault, which are logged and hidden from clients.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Database(_) | Self::Internal(_))
    }
}

/// Turns unique and check violations of named constraints into domain errors.
pub trait ResultExt<T> {
    /// Maps a violation of `constraint` to the error `map` returns; other errors pass through.
    fn on_constraint(self, constraint: &str, map: impl FnOnce() -> Error) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn on_constraint(self, constraint: &str, map: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|error| match error.into() {
            Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(constraint) => {
                map()
            }
            other => other,
        })
    }
}

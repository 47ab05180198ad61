//! The cloud's answers in the console's words, for every SDK client (Lambda, IAM, CloudWatch Logs,
//! STS). A missing resource, a throttled call, a refusal and a cloud that did not answer are told
//! apart here, once; each becomes an [`Error::Cloud`] that the web layer sends as 404, 429, 409 or
//! 502 with the cloud's own words.

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

pub use crate::error::CloudFailure;
use crate::error::{Error, Result};

/// Lambda's, CloudWatch Logs' and IAM's codes for "no such resource".
const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException"];

/// The codes AWS services use for "slow down".
const THROTTLED: &[&str] = &[
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
];

impl CloudFailure {
    /// Classifies a failed SDK call by the cloud's error code and HTTP status.
    pub fn of<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Self {
        let SdkError::ServiceError(service) = error else {
            return Self::Unavailable;
        };
        let code = service.err().code().unwrap_or_default();
        let status = service.raw().status().as_u16();
        if NOT_FOUND.contains(&code) {
            Self::NotFound
        } else if THROTTLED.contains(&code) || status == 429 {
            Self::Throttled
        } else if status >= 500 {
            Self::Unavailable
        } else {
            Self::Refused
        }
    }

    /// The HTTP status the console answers this failure with.
    pub fn status(self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Throttled => 429,
            Self::Refused => 409,
            Self::Unavailable => 502,
        }
    }
}

/// The cloud's words for a failed call, in one line: its error code and message, or — when there
/// was no answer — what went wrong on the way, in plain words (never the SDK's debug dump).
pub fn said<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(message) = error.message() {
        return format!("{}: {message}", error.code().unwrap_or("Error"));
    }
    if lacks_credentials(error) {
        return "no credentials (the connection has no access key, and its profile or this \
                host's credential chain gave none)"
            .to_owned();
    }
    match error {
        SdkError::TimeoutError(_) => "no answer in time (the call timed out)".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            "no answer in time (the connection timed out)".to_owned()
        }
        SdkError::DispatchFailure(failure) if failure.is_io() => {
            format!("could not connect ({})", innermost(error))
        }
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            format!("the call could not be sent ({})", innermost(error))
        }
        SdkError::ResponseError(_) => {
            format!("an answer that could not be read ({})", innermost(error))
        }
        SdkError::ServiceError(service) => {
            format!("{} with no message", service.raw().status().as_u16())
        }
        _ => innermost(error),
    }
}

/// Whether the call was never sent because no credentials could be loaded to sign it (the SDK
/// then reports the last provider it tried, such as the instance metadata service, which says
/// nothing to someone who configured a profile).
fn lacks_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<aws_credential_types::provider::error::CredentialsError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The deepest cause of an error (e.g. "Connection refused (os error 111)"), one line.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string().lines().next().unwrap_or_default().to_owned()
}

/// Only the cloud's message (no code), for errors shown next to the input it is about.
pub fn message<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error.message() {
        Some(message) => message.to_owned(),
        None => said(error),
    }
}

/// A failed call as the console's error: `context` (what was being done, e.g. "ListFunctions
/// failed") and the cloud's words, classified.
pub fn error<E>(context: impl std::fmt::Display, error: &SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = CloudFailure::of(error);
    let next = match failure {
        _ if lacks_credentials(error) => {
            "; add an access key to the connection on the Admin page (or a profile this host has)"
        }
        CloudFailure::Throttled => "; try again in a moment",
        CloudFailure::Unavailable => {
            "; try again, and if it keeps failing, check the connection on the Admin page"
        }
        CloudFailure::NotFound | CloudFailure::Refused => "",
    };
    Error::Cloud {
        failure,
        message: format!("{context}: {}{next}", said(error)),
        detail: aws_sdk_lambda::error::DisplayErrorContext(error).to_string(),
    }
}

/// Maps a failed call to an error that names the call and quotes the cloud.
pub fn failed<E>(call: &str) -> impl FnOnce(SdkError<E, HttpResponse>) -> Error + '_
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| error(format_args!("{call} failed"), &e)
}

pub type SdkResult<T, E> = std::result::Result<T, SdkError<E, HttpResponse>>;

/// The answer of a call about one resource: `Some` when it is there, `None` when the cloud says it
/// does not exist, the cloud's words otherwise.
pub fn found<T, E>(result: SdkResult<T, E>) -> std::result::Result<Option<T>, String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if CloudFailure::of(&e) == CloudFailure::NotFound => Ok(None),
        Err(e) => Err(said(&e)),
    }
}

/// [`found`], with any other failure as the console's error naming the call.
pub fn lookup<T, E>(call: &str, result: SdkResult<T, E>) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if CloudFailure::of(&e) == CloudFailure::NotFound => Ok(None),
        Err(e) => Err(failed(call)(e)),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::error::ErrorMetadata;
    use aws_sdk_lambda::operation::get_function::GetFunctionError;
    use aws_sdk_lambda::primitives::SdkBody;

    use super::*;

    /// What the SDK hands back when the cloud answers `status` with the error `code`.
    fn answered(status: u16, code: &str) -> SdkError<GetFunctionError, HttpResponse> {
        let metadata = ErrorMetadata::builder().code(code).message("the cloud's words").build();
        let response =
            HttpResponse::new(status.try_into().expect("a status code"), SdkBody::empty());
        SdkError::service_error(GetFunctionError::generic(metadata), response)
    }

    #[test]
    fn failures_are_told_apart_by_code_and_status() {
        let cases = [
            (404, "ResourceNotFoundException", CloudFailure::NotFound, 404),
            (404, "NoSuchEntity", CloudFailure::NotFound, 404),
            (429, "TooManyRequestsException", CloudFailure::Throttled, 429),
            (400, "Throttling", CloudFailure::Throttled, 429),
            (409, "ResourceConflictException", CloudFailure::Refused, 409),
            (400, "InvalidParameterValueException", CloudFailure::Refused, 409),
            (500, "ServiceException", CloudFailure::Unavailable, 502),
        ];
        for (status, code, failure, answer) in cases {
            let error = answered(status, code);
            assert_eq!(CloudFailure::of(&error), failure, "{code}");
            assert_eq!(CloudFailure::of(&error).status(), answer, "{code}");
        }
        let timeout =
            SdkError::<GetFunctionError, HttpResponse>::timeout_error("no answer in 60 s");
        assert_eq!(CloudFailure::of(&timeout), CloudFailure::Unavailable);
        assert_eq!(said(&timeout), "no answer in time (the call timed out)");
    }

    #[test]
    fn the_error_quotes_the_cloud_and_names_the_call() {
        let error = failed("GetFunction")(answered(429, "TooManyRequestsException"));
        assert!(
            matches!(&error, Error::Cloud { failure: CloudFailure::Throttled, message, .. }
                if message == "GetFunction failed: TooManyRequestsException: the cloud's words; try again in a moment"),
            "{error}"
        );
        let missing =
            lookup("GetFunction", Err::<(), _>(answered(404, "ResourceNotFoundException")));
        assert!(matches!(missing, Ok(None)));
    }
}

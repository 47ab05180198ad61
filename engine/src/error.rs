//! Lambda's error responses: the status, `x-amzn-ErrorType` header and JSON body AWS sends, so SDKs
//! raise the same exception types against the engine as against AWS.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The modeled error shapes the engine answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    InvalidParameterValue,
    InvalidRequestContent,
    PreconditionFailed,
    ResourceNotFound,
    ResourceConflict,
    RequestTooLarge,
    PolicyLengthExceeded,
    TooManyRequests,
    Service,
}

impl ErrorType {
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidParameterValue => "InvalidParameterValueException",
            Self::InvalidRequestContent => "InvalidRequestContentException",
            Self::PreconditionFailed => "PreconditionFailedException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceConflict => "ResourceConflictException",
            Self::RequestTooLarge => "RequestTooLargeException",
            Self::PolicyLengthExceeded => "PolicyLengthExceededException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::Service => "ServiceException",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidParameterValue
            | Self::InvalidRequestContent
            | Self::PolicyLengthExceeded => StatusCode::BAD_REQUEST,
            Self::ResourceNotFound => StatusCode::NOT_FOUND,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::ResourceConflict => StatusCode::CONFLICT,
            Self::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Service => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as Lambda reports it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct LambdaError {
    pub kind: ErrorType,
    pub message: String,
    /// `Reason` of a `TooManyRequestsException`.
    pub reason: Option<&'static str>,
}

impl LambdaError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), reason: None }
    }

    /// A throttle, with Lambda's `Reason`.
    pub fn throttled(reason: &'static str) -> Self {
        Self {
            kind: ErrorType::TooManyRequests,
            message: "Rate Exceeded.".to_owned(),
            reason: Some(reason),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidParameterValue, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceConflict, message)
    }

    /// An internal failure; the cause is logged, the client gets a generic message.
    pub fn service(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "engine internal error");
        Self::new(ErrorType::Service, "An internal error occurred in the engine; see its log.")
    }
}

impl IntoResponse for LambdaError {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        let kind = if status.is_server_error() { "Service" } else { "User" };
        // Lambda's shapes disagree on `message` vs `Message`; send both so every client finds it.
        let mut body =
            serde_json::json!({ "Type": kind, "Message": self.message, "message": self.message });
        if let Some(reason) = self.reason {
            body["Reason"] = serde_json::json!(reason);
        }
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind.name()));
        if self.kind == ErrorType::TooManyRequests {
            headers.insert("Retry-After", HeaderValue::from_static("1"));
        }
        response
    }
}

pub type Result<T, E = LambdaError> = std::result::Result<T, E>;

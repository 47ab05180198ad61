//! The doctor: why a call to a Function URL did not get what it wanted, read from the real state —
//! a 403 (the auth type, or which public statement is missing), a 429 (throttled at reserved
//! concurrency N), a 502 or no answer (what the function raised, returned or how long it ran,
//! found by invoking it once directly with the same event). The lab's step 6 and the URL tab's
//! tester both ask it.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use serde::{Deserialize, Serialize};

use crate::cloud::failed;
use crate::error::{Error, Result};

use super::policy::{missing_statements, statements};

/// The raw HTTP exchange of a call to a URL.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Call {
    pub url: String,
    /// `HTTP/1.1 200 OK`, or empty when no response came.
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub millis: u64,
    /// Why no response came (connection refused, timed out).
    pub error: Option<String>,
}

/// A fix the console can apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    /// Switch the URL to `NONE` (with both statements).
    UseAuthNone,
    /// Add the missing public statements.
    AddStatements,
    /// Attach AWSLambdaBasicExecutionRole to the role.
    AttachLogging,
}

impl Fix {
    pub const ALL: [Fix; 3] = [Self::UseAuthNone, Self::AddStatements, Self::AttachLogging];

    /// The name a form sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UseAuthNone => "use_auth_none",
            Self::AddStatements => "add_statements",
            Self::AttachLogging => "attach_logging",
        }
    }
}

impl std::str::FromStr for Fix {
    type Err = Error;

    fn from_str(raw: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw)
            .ok_or_else(|| Error::invalid("fix", "unknown fix; reload the page"))
    }
}

/// Why a call failed, from the actual state, and what to do.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Diagnosis {
    pub problem: String,
    pub details: Vec<String>,
    pub advice: String,
    pub fix: Option<Fix>,
}

/// What the doctor needs to know about the call besides its answer.
#[derive(Debug)]
pub struct Context<'a> {
    /// The function's name or ARN.
    pub function: &'a str,
    /// The function's configured timeout.
    pub timeout_s: i32,
    /// The Function URL event the request became, for a direct invoke.
    pub event: serde_json::Value,
    /// Whether the request was signed with SigV4.
    pub signed: bool,
}

/// The tab's doctor: a diagnosis for a 403, a 429, a 5xx or no answer; nothing for the rest,
/// which are the function's own answers.
pub async fn diagnose(
    lambda: &aws_sdk_lambda::Client,
    context: &Context<'_>,
    call: &Call,
) -> Result<Option<Diagnosis>> {
    Ok(match call.status {
        403 => Some(forbidden(lambda, context).await?),
        429 => Some(throttled(lambda, context.function).await?),
        status if status >= 500 || call.error.is_some() => {
            Some(failure(lambda, context, call).await?)
        }
        _ => None,
    })
}

/// A 403: the auth type, or the statements a public URL needs.
pub async fn forbidden(
    lambda: &aws_sdk_lambda::Client,
    context: &Context<'_>,
) -> Result<Diagnosis> {
    let name = context.function;
    let config = lambda
        .get_function_url_config()
        .function_name(name)
        .send()
        .await
        .map_err(failed("GetFunctionUrlConfig"))?;
    if config.auth_type().as_str() == "AWS_IAM" {
        if context.signed {
            return Ok(Diagnosis {
                problem: "403: the request was signed, but the signature or the signer was refused.".into(),
                details: vec!["AWS_IAM URLs accept SigV4 signatures (service lambda, the function's region) from identities allowed lambda:InvokeFunctionUrl by their own policy or the function's.".into()],
                advice: "Check the connection's credentials and that they may call lambda:InvokeFunctionUrl on this function; the clock must be within 5 minutes.".into(),
                fix: None,
            });
        }
        return Ok(Diagnosis {
            problem: "403: the URL's auth type is AWS_IAM, so unsigned requests such as curl's are refused."
                .into(),
            details: vec!["AWS_IAM URLs need a SigV4-signed request (service lambda) from someone the policy allows.".into()],
            advice: "Sign the request (the URL tab's tester does, and its curl uses --aws-sigv4), or set the auth type to NONE; the console adds both permission statements."
                .into(),
            fix: Some(Fix::UseAuthNone),
        });
    }
    let present = statements(lambda, name).await?;
    let missing = missing_statements(&present);
    if missing.is_empty() {
        return Ok(Diagnosis {
            problem: "403 although the auth type is NONE and both statements are there.".into(),
            details: present.iter().map(ToString::to_string).collect(),
            advice: "Check the statements' conditions, or call again: policy changes can take a few seconds."
                .into(),
            fix: None,
        });
    }
    Ok(Diagnosis {
        problem: format!("403: the function's resource policy is missing {}.", missing.join(" and ")),
        details: vec![
            "Since October 2025 a public URL needs two statements: lambda:InvokeFunctionUrl (for the URL) and lambda:InvokeFunction (with InvokedViaFunctionUrl).".into(),
            format!("The policy has {} statement(s): {}", present.len(),
                present.iter().map(|s| s["Sid"].as_str().unwrap_or("?").to_owned()).collect::<Vec<_>>().join(", ")),
        ],
        advice: "Add the missing statement(s); the console can do it for you.".into(),
        fix: Some(Fix::AddStatements),
    })
}

/// A 429: the function's reserved concurrency.
pub async fn throttled(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<Diagnosis> {
    let reserved = lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .map_err(failed("GetFunctionConcurrency"))?
        .reserved_concurrent_executions();
    Ok(match reserved {
        Some(0) => Diagnosis {
            problem: "429: the function's reserved concurrency is 0, which turns its URL off: every request is throttled.".into(),
            details: vec![],
            advice: "Raise the reserved concurrency (Configuration tab), or remove it.".into(),
            fix: None,
        },
        Some(n) => Diagnosis {
            problem: format!("429: throttled at the function's reserved concurrency of {n}."),
            details: vec![format!("At most {n} invocations run at once, and a URL accepts at most {} requests per second.", 10 * n)],
            advice: "Send fewer requests at once, or raise the reserved concurrency (Configuration tab).".into(),
            fix: None,
        },
        None => Diagnosis {
            problem: "429: throttled by the account's concurrency limit (the function has no reserved concurrency).".into(),
            details: vec![],
            advice: "Other functions use the account's concurrency: reserve some for this one, or ask for a higher account limit.".into(),
            fix: None,
        },
    })
}

/// A 5xx or no answer: invokes the function once directly with the same event to see what the
/// handler does.
pub async fn failure(
    lambda: &aws_sdk_lambda::Client,
    context: &Context<'_>,
    call: &Call,
) -> Result<Diagnosis> {
    use base64::Engine as _;
    // The call waits for the function: its timeout, plus time to start it.
    let wait = Duration::from_secs(u64::try_from(context.timeout_s.max(1)).unwrap_or(900) + 30);
    let timeouts = aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(wait)
        .operation_timeout(wait)
        .build();
    let invoked = lambda
        .invoke()
        .function_name(context.function)
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .payload(Blob::new(context.event.to_string()))
        .customize()
        .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(timeouts))
        .send()
        .await
        .map_err(failed("Invoke"))?;
    let tail = invoked
        .log_result()
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let payload = invoked
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    let report = tail.lines().find(|l| l.starts_with("REPORT")).unwrap_or_default().to_owned();
    let timeout = context.timeout_s.max(1);
    if tail.contains("Task timed out") || payload.contains("Task timed out") {
        let duration = report
            .split('\t')
            .find_map(|f| f.trim().strip_prefix("Duration: "))
            .unwrap_or("?")
            .to_owned();
        return Ok(Diagnosis {
            problem: format!(
                "The function timed out: the configured timeout is {timeout} s and the invocation ran {duration}."
            ),
            details: vec![report],
            advice: "Make the handler return sooner, or raise the timeout (Configuration) if the work really takes longer."
                .into(),
            fix: None,
        });
    }
    if let Some(kind) = invoked.function_error() {
        let error: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
        let mut details = vec![format!(
            "{}: {}",
            error["errorType"].as_str().unwrap_or(kind),
            error["errorMessage"].as_str().unwrap_or(&payload)
        )];
        if let Some(trace) = error["stackTrace"].as_array() {
            details
                .extend(trace.iter().filter_map(|l| l.as_str()).map(|l| l.trim_end().to_owned()));
        }
        let status =
            if call.status == 0 { "No response".to_owned() } else { call.status.to_string() };
        // A return value JSON cannot hold fails in the runtime, not in the handler's code.
        let (what, advice) = if error["errorType"] == "Runtime.MarshalError" {
            (
                "the handler returned, but the runtime could not turn what it returned into JSON (Runtime.MarshalError)",
                "Return only what JSON holds — strings, numbers, booleans, None, lists and dicts: turn a datetime into text (value.isoformat()), a set into a list, bytes into text.",
            )
        } else {
            (
                "the handler raised an error",
                "Fix the error in the handler: a URL's handler returns {\"statusCode\": 200, \"body\": \"…\"}.",
            )
        };
        return Ok(Diagnosis {
            problem: format!("{status}: {what}, so the URL answered 502."),
            details,
            advice: advice.into(),
            fix: None,
        });
    }
    let returned: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
    let problem = match &returned["statusCode"] {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) if n.is_u64() => None,
        other => Some(format!("statusCode is {other}, not a number")),
    };
    if let Some(problem) = problem {
        return Ok(Diagnosis {
            problem: format!("502: the handler's response cannot be mapped to HTTP: {problem}."),
            details: vec![format!("The handler returned: {payload}")],
            advice: "Function URLs expect a proxy-style response: {\"statusCode\": 200, \"body\": \"ok\\n\"} with statusCode an integer."
                .into(),
            fix: None,
        });
    }
    Ok(Diagnosis {
        problem: match &call.error {
            Some(error) => format!("The request did not complete: {error}."),
            None => format!("The URL answered {}.", call.status_line),
        },
        details: vec![format!("A direct invoke returned: {payload}"), report],
        advice: "The function itself works when invoked directly: check the URL and call again."
            .into(),
        fix: None,
    })
}

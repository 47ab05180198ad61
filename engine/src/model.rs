//! Functions as Lambda describes them: names, runtimes, the configuration a client sends, and the
//! `FunctionConfiguration` the API returns. Validation follows Lambda's model and messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LambdaError, Result};

/// A function name: `[a-zA-Z0-9-_]{1,64}`, taken from a bare name, `name:qualifier`, a partial ARN
/// (`123456789012:function:name`) or a full ARN.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FunctionName(String);

impl FunctionName {
    /// Parses what a client may put in `FunctionName` or a path label; returns the name and the
    /// qualifier if one was given.
    pub fn parse(raw: &str) -> Result<(Self, Option<String>)> {
        let invalid = || {
            LambdaError::invalid(format!(
                "1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: \
                 (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            ))
        };
        if raw.is_empty() || raw.len() > 140 {
            return Err(invalid());
        }
        let parts: Vec<&str> = raw.split(':').collect();
        let (name, qualifier) = match parts.as_slice() {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            [account, "function", name] if is_account(account) => (*name, None),
            [account, "function", name, qualifier] if is_account(account) => {
                (*name, Some(*qualifier))
            }
            ["arn", partition, "lambda", _region, account, "function", name, rest @ ..]
                if partition.starts_with("aws") && is_account(account) && rest.len() <= 1 =>
            {
                (*name, rest.first().copied())
            }
            _ => return Err(invalid()),
        };
        if !is_name(name) || qualifier.is_some_and(|q| !is_qualifier(q)) {
            return Err(invalid());
        }
        Ok((Self(name.to_owned()), qualifier.map(str::to_owned)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_qualifier(s: &str) -> bool {
    s == "$LATEST"
        || ((1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The runtimes the engine runs, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeFamily {
    Python,
    Node,
    Provided,
}

/// Runtime identifiers Lambda accepts that the engine can run.
pub const RUNTIMES: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided.al2",
    "provided.al2023",
];

pub fn runtime_family(runtime: &str) -> Option<RuntimeFamily> {
    if !RUNTIMES.contains(&runtime) {
        return None;
    }
    Some(if runtime.starts_with("python") {
        RuntimeFamily::Python
    } else if runtime.starts_with("nodejs") {
        RuntimeFamily::Node
    } else {
        RuntimeFamily::Provided
    })
}

/// Environment variables a function may not set: Lambda sets them itself.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// `Environment` in requests and responses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// The settings of a function that `UpdateFunctionConfiguration` can change, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub description: String,
    pub timeout: u32,
    pub memory_size: u32,
    pub environment: BTreeMap<String, String>,
    pub architecture: String,
    pub ephemeral_storage: u32,
}

/// Checks settings as Lambda does, with its messages.
pub fn validate(settings: &Settings) -> Result<()> {
    if runtime_family(&settings.runtime).is_none() {
        return Err(LambdaError::invalid(format!(
            "Value {} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            settings.runtime,
            RUNTIMES.join(", ")
        )));
    }
    if settings.handler.is_empty()
        || settings.handler.len() > 128
        || settings.handler.chars().any(char::is_whitespace)
    {
        return Err(LambdaError::invalid(format!(
            "Value '{}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+",
            settings.handler
        )));
    }
    if !is_role(&settings.role) {
        return Err(LambdaError::invalid(format!(
            "Value '{}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
            settings.role
        )));
    }
    if settings.description.chars().count() > 256 {
        return Err(LambdaError::invalid(
            "Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256",
        ));
    }
    if !(1..=900).contains(&settings.timeout) {
        return Err(LambdaError::invalid(format!(
            "Value {} at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900",
            settings.timeout
        )));
    }
    if !(128..=10240).contains(&settings.memory_size) {
        return Err(LambdaError::invalid(format!(
            "Value {} at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240",
            settings.memory_size
        )));
    }
    if !(512..=10240).contains(&settings.ephemeral_storage) {
        return Err(LambdaError::invalid(format!(
            "Value {} at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240",
            settings.ephemeral_storage
        )));
    }
    if !matches!(settings.architecture.as_str(), "x86_64" | "arm64") {
        return Err(LambdaError::invalid(format!(
            "Value '[{}]' at 'architectures' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
            settings.architecture
        )));
    }
    let reserved: Vec<&str> = settings
        .environment
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_ENV.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in settings.environment.keys() {
        let valid = key.len() >= 2
            && key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(LambdaError::invalid(format!(
                "Value '{key}' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
            )));
        }
    }
    let measured = serde_json::to_string(&settings.environment).unwrap_or_default();
    if measured.len() > 4096 {
        return Err(LambdaError::invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

fn is_role(role: &str) -> bool {
    let Some(rest) = role.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(":iam::") else {
        return false;
    };
    let Some((account, path)) = rest.split_once(":role") else {
        return false;
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    (partition.is_empty() || partition.starts_with("aws"))
        && is_account(account)
        && !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            runtime: "python3.12".into(),
            handler: "lambda_function.lambda_handler".into(),
            role: "arn:aws:iam::000000000000:role/lambda-role".into(),
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            environment: BTreeMap::new(),
            architecture: "x86_64".into(),
            ephemeral_storage: 512,
        }
    }

    #[test]
    fn names_parse_from_every_form_lambda_accepts() {
        let name = |raw: &str| FunctionName::parse(raw).map(|(n, q)| (n.0, q)).ok();
        assert_eq!(name("my-fn"), Some(("my-fn".into(), None)));
        assert_eq!(name("my-fn:prod"), Some(("my-fn".into(), Some("prod".into()))));
        assert_eq!(name("123456789012:function:my-fn"), Some(("my-fn".into(), None)));
        assert_eq!(
            name("arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST"),
            Some(("my-fn".into(), Some("$LATEST".into())))
        );
        for bad in ["", "has space", "a/b", "x".repeat(65).as_str(), "arn:aws:s3:::bucket", "a:b:c"]
        {
            assert!(FunctionName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_are_checked_like_lambda() {
        assert!(validate(&settings()).is_ok());
        let cases: Vec<(Settings, &str)> = vec![
            (Settings { runtime: "python2.7".into(), ..settings() }, "runtime"),
            (Settings { handler: "a b".into(), ..settings() }, "handler"),
            (Settings { role: "not-a-role".into(), ..settings() }, "role"),
            (Settings { timeout: 0, ..settings() }, "timeout"),
            (Settings { timeout: 901, ..settings() }, "timeout"),
            (Settings { memory_size: 127, ..settings() }, "memorySize"),
            (Settings { memory_size: 10241, ..settings() }, "memorySize"),
            (Settings { architecture: "sparc".into(), ..settings() }, "architectures"),
            (
                Settings { environment: [("AWS_REGION".into(), "x".into())].into(), ..settings() },
                "reserved keys",
            ),
            (
                Settings { environment: [("1BAD".into(), "x".into())].into(), ..settings() },
                "environment.variables",
            ),
            (
                Settings { environment: [("BIG".into(), "x".repeat(5000))].into(), ..settings() },
                "4KB",
            ),
        ];
        for (bad, says) in cases {
            let error = validate(&bad).expect_err(says);
            assert!(error.message.contains(says), "{says}: {}", error.message);
        }
    }
}

/// A function URL as the engine keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UrlConfig {
    /// 32 lowercase alphanumerics: the host's first label.
    pub id: String,
    pub auth_type: String,
    pub cors: Option<Cors>,
    pub invoke_mode: String,
    pub created: String,
    pub last_modified: String,
}

/// `Cors`, with AWS's member names.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// Synchronous payload limit, request and response (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;

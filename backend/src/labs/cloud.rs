//! The lab's side of the cloud: its code as a zip, waiting for a function to be ready. The failure
//! helpers are [`crate::cloud`]'s; a function's policy statements are [`crate::urls::policy`]'s.

use std::io::Write as _;
use std::time::Duration;

use crate::error::{Error, Result};

/// The handler file, the handler setting and the lab's code for a runtime.
pub fn lab_code(runtime: &str) -> (&'static str, &'static str, &'static str) {
    if runtime.starts_with("nodejs") {
        ("index.mjs", "index.handler", NODE_HANDLER)
    } else if runtime.starts_with("provided") {
        ("bootstrap", "bootstrap", BOOTSTRAP)
    } else {
        ("lambda_function.py", "lambda_function.lambda_handler", PYTHON_HANDLER)
    }
}

pub(super) const PYTHON_HANDLER: &str = r#"def lambda_handler(event, context):
    # Keep the response simple and text-based so it's easy to validate with curl.
    # For Function URLs, a "proxy-style" response with statusCode/body is expected.
    return {
        "statusCode": 200,
        "headers": {
            "content-type": "text/plain; charset=utf-8"
        },
        "body": "ok\n"
    }
"#;

pub(super) const NODE_HANDLER: &str = r#"// Keep the response simple and text-based so it's easy to validate with curl.
export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body: "ok\n",
});
"#;

pub(super) const BOOTSTRAP: &str = r#"#!/bin/sh
# A custom runtime: ask the Runtime API for the next event, answer it, repeat.
set -eu
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  headers=$(mktemp)
  curl -sS -D "$headers" -o /dev/null "$api/next"
  id=$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | tr -d '\r' | cut -d' ' -f2)
  curl -sS -o /dev/null -X POST "$api/$id/response" \
    -d '{"statusCode": 200, "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "ok\n"}'
done
"#;

pub(super) use crate::cloud::{failed, found, lookup, said as cloud_said};

/// A zip with one file (executable when it is a `bootstrap`).
pub(super) fn one_file_zip(path: &str, text: &str) -> Result<Vec<u8>> {
    let zipped = |e: zip::result::ZipError| Error::Internal(e.into());
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mode = if path == "bootstrap" { 0o755 } else { 0o644 };
    writer
        .start_file(
            path,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(mode),
        )
        .map_err(zipped)?;
    writer.write_all(text.as_bytes()).map_err(|e| Error::Internal(e.into()))?;
    Ok(writer.finish().map_err(zipped)?.into_inner())
}

/// Waits until the function is Active and no update is in progress (what the SDK waiters
/// `function_active_v2` and `function_updated_v2` check).
pub(super) async fn wait_ready(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<()> {
    use aws_sdk_lambda::types::{LastUpdateStatus, State};
    for _ in 0..240 {
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(failed("GetFunctionConfiguration"))?;
        match (config.state(), config.last_update_status()) {
            (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => {
                return Err(Error::Conflict(format!(
                    "the function failed to become ready: {}",
                    config
                        .state_reason()
                        .or(config.last_update_status_reason())
                        .unwrap_or("no reason given")
                )));
            }
            (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            _ => return Ok(()),
        }
    }
    Err(Error::Conflict("the function was still not ready after a minute; try again".into()))
}

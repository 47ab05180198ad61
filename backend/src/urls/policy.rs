//! A function's resource policy as it concerns its URL: the statements read (GetPolicy), said in
//! plain words, and a linter. A `NONE` URL needs two public statements since October 2025, each
//! with its condition — `lambda:InvokeFunctionUrl` only while the auth type is `NONE`, and
//! `lambda:InvokeFunction` only when invoked through the URL. Anything wider, or left behind by a
//! deleted URL, is a finding with the fix.

use serde_json::Value;

use crate::cloud::{failed, lookup};
use crate::error::Result;

/// The statement ids AWS's console uses for a public (`NONE`) Function URL.
pub const URL_STATEMENT: &str = "FunctionURLAllowPublicAccess";

pub const INVOKE_STATEMENT: &str = "FunctionURLAllowInvokeAction";

/// The function's policy statements; none when it has no policy.
pub async fn statements(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<Vec<Value>> {
    let Some(out) = lookup("GetPolicy", lambda.get_policy().function_name(name).send().await)?
    else {
        return Ok(Vec::new());
    };
    let policy: Value = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or_default();
    Ok(policy["Statement"].as_array().cloned().unwrap_or_default())
}

/// The statements a public URL needs, as AddPermission would write them, for showing.
pub fn public_statements(function_arn: &str) -> [Value; 2] {
    [
        serde_json::json!({
            "Sid": URL_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl", "Resource": function_arn,
            "Condition": { "StringEquals": { "lambda:FunctionUrlAuthType": "NONE" } }
        }),
        serde_json::json!({
            "Sid": INVOKE_STATEMENT, "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunction", "Resource": function_arn,
            "Condition": { "Bool": { "lambda:InvokedViaFunctionUrl": "true" } }
        }),
    ]
}

/// Whether a statement allows anyone (`"*"` or `{"AWS": "*"}`).
fn public(statement: &Value) -> bool {
    statement["Effect"] == "Allow"
        && (statement["Principal"] == "*" || statement["Principal"]["AWS"] == "*")
}

/// Whether a statement allows `action` (a string, a list, or a `lambda:*` wildcard).
fn allows(statement: &Value, action: &str) -> bool {
    let matches = |a: &Value| a == action || a == "lambda:*" || a == "*";
    match &statement["Action"] {
        Value::Array(actions) => actions.iter().any(matches),
        other => matches(other),
    }
}

/// The value of a condition key under any operator (`StringEquals`, `Bool`, …).
fn condition<'a>(statement: &'a Value, key: &str) -> Option<&'a Value> {
    statement["Condition"].as_object()?.values().find_map(|keys| keys.get(key))
}

fn sid(statement: &Value) -> &str {
    statement["Sid"].as_str().unwrap_or("(no Sid)")
}

/// Which of the two public statements are missing from a policy.
pub fn missing_statements(statements: &[Value]) -> Vec<&'static str> {
    let present = |action: &str| statements.iter().any(|s| public(s) && allows(s, action));
    let mut missing = Vec::new();
    if !present("lambda:InvokeFunctionUrl") {
        missing.push(URL_STATEMENT);
    }
    if !present("lambda:InvokeFunction") {
        missing.push(INVOKE_STATEMENT);
    }
    missing
}

/// Adds one of the two public statements.
pub async fn add_statement(lambda: &aws_sdk_lambda::Client, name: &str, sid: &str) -> Result<()> {
    use aws_sdk_lambda::types::FunctionUrlAuthType;
    let request = lambda.add_permission().function_name(name).statement_id(sid).principal("*");
    let request = if sid == URL_STATEMENT {
        request.action("lambda:InvokeFunctionUrl").function_url_auth_type(FunctionUrlAuthType::None)
    } else {
        request.action("lambda:InvokeFunction").invoked_via_function_url(true)
    };
    request.send().await.map_err(failed(&format!("AddPermission {sid}")))?;
    Ok(())
}

/// A statement in plain words: who may do what, and when.
pub fn describe(statement: &Value) -> String {
    let who = match &statement["Principal"] {
        Value::String(p) if p == "*" => "Anyone".to_owned(),
        p if p["AWS"] == "*" => "Anyone".to_owned(),
        p => {
            let named = [&p["AWS"], &p["Service"]]
                .into_iter()
                .flat_map(|v| match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(list) => {
                        list.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()
                    }
                    _ => vec![],
                })
                .collect::<Vec<_>>();
            if named.is_empty() { p.to_string() } else { named.join(", ") }
        }
    };
    let verb = if statement["Effect"] == "Deny" { "may not" } else { "may" };
    let what = match &statement["Action"] {
        Value::String(a) if a == "lambda:InvokeFunctionUrl" => "call the function's URL".to_owned(),
        Value::String(a) if a == "lambda:InvokeFunction" => "invoke the function".to_owned(),
        Value::String(a) => format!("use {a}"),
        other => format!("use {other}"),
    };
    let mut when = Vec::new();
    if let Some(auth) = condition(statement, "lambda:FunctionUrlAuthType").and_then(Value::as_str) {
        when.push(format!("while the URL's auth type is {auth}"));
    }
    if via_url(statement) {
        when.push("only through the Function URL".to_owned());
    }
    if let Some(account) = condition(statement, "AWS:SourceAccount").and_then(Value::as_str) {
        when.push(format!("from account {account}"));
    }
    if let Some(arn) = condition(statement, "AWS:SourceArn").and_then(Value::as_str) {
        when.push(format!("from {arn}"));
    }
    let when = if when.is_empty() { String::new() } else { format!(", {}", when.join(", ")) };
    format!("{who} {verb} {what}{when}.")
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The URL does not work, or the function is open wider than the URL.
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// A fix the console can apply to the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyFix {
    /// Add whichever of the two public statements are missing.
    AddStatements,
    /// Remove the statement with this Sid.
    Remove(String),
}

impl PolicyFix {
    /// The value a form sends: `add_statements` or `remove:<sid>`.
    pub fn encode(&self) -> String {
        match self {
            Self::AddStatements => "add_statements".to_owned(),
            Self::Remove(sid) => format!("remove:{sid}"),
        }
    }

    pub fn decode(raw: &str) -> Option<Self> {
        match raw.split_once(':') {
            None if raw == "add_statements" => Some(Self::AddStatements),
            Some(("remove", sid)) if !sid.is_empty() => Some(Self::Remove(sid.to_owned())),
            _ => None,
        }
    }
}

/// What the linter found, why it matters, and the fix.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    pub fix: Option<PolicyFix>,
}

/// What the linter needs to know about the URL (none when the function has none).
#[derive(Clone, Debug, Default)]
pub struct UrlFacts {
    pub auth_type: String,
    pub cors_origins: Vec<String>,
    pub cors_credentials: bool,
}

/// Whether a statement is limited to calls through the function's URL.
fn via_url(statement: &Value) -> bool {
    condition(statement, "lambda:InvokedViaFunctionUrl").is_some_and(|v| v == "true" || v == true)
}

/// The public statements a URL puts in a policy: `lambda:InvokeFunctionUrl` for everyone, and
/// `lambda:InvokeFunction` for everyone through the URL.
fn url_statements(statements: &[Value]) -> impl Iterator<Item = &Value> {
    statements.iter().filter(|s| {
        public(s)
            && (allows(s, "lambda:InvokeFunctionUrl")
                || (allows(s, "lambda:InvokeFunction") && via_url(s)))
    })
}

/// The Sids of statements that let anyone invoke the function other than through its URL
/// (Security Hub Lambda.1): every AWS account may call Invoke on it.
pub fn open_invoke_sids(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .filter(|s| public(s) && allows(s, "lambda:InvokeFunction") && !via_url(s))
        .map(|s| sid(s).to_owned())
        .collect()
}

/// The Sids of a URL's public statements when the function has no URL: left behind by a
/// deleted one, they make a new URL public at once.
pub fn orphan_url_sids(has_url: bool, statements: &[Value]) -> Vec<String> {
    if has_url {
        return Vec::new();
    }
    url_statements(statements).map(|s| sid(s).to_owned()).collect()
}

/// Lints the policy against the URL's configuration.
pub fn lint(url: Option<&UrlFacts>, statements: &[Value]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let url_statements: Vec<&Value> =
        statements.iter().filter(|s| public(s) && allows(s, "lambda:InvokeFunctionUrl")).collect();
    let invoke_statements: Vec<&Value> =
        statements.iter().filter(|s| public(s) && allows(s, "lambda:InvokeFunction")).collect();
    // A public InvokeFunction without the URL condition opens the function to every AWS account.
    for statement in invoke_statements.iter().filter(|s| !via_url(s)) {
        findings.push(Finding {
            severity: Severity::Error,
            message: format!(
                "{}: anyone with an AWS account may invoke the function directly, not only through its URL (Security Hub Lambda.1). Limit it with the condition lambda:InvokedViaFunctionUrl = true, or remove it.",
                sid(statement)
            ),
            fix: Some(PolicyFix::Remove(sid(statement).to_owned())),
        });
    }
    for statement in url_statements
        .iter()
        .filter(|s| condition(s, "lambda:FunctionUrlAuthType").is_none_or(|v| v != "NONE"))
    {
        findings.push(Finding {
            severity: Severity::Warning,
            message: format!(
                "{}: allows lambda:InvokeFunctionUrl without the condition lambda:FunctionUrlAuthType = NONE, which AWS's console always adds.",
                sid(statement)
            ),
            fix: None,
        });
    }
    match url {
        Some(url) if url.auth_type == "NONE" => {
            if url_statements.is_empty() {
                findings.push(Finding {
                    severity: Severity::Error,
                    message: format!(
                        "The URL's auth type is NONE but no statement allows lambda:InvokeFunctionUrl to everyone, so every request gets 403. Add {URL_STATEMENT}."
                    ),
                    fix: Some(PolicyFix::AddStatements),
                });
            }
            if !invoke_statements.iter().any(|s| via_url(s)) {
                findings.push(Finding {
                    severity: Severity::Error,
                    message: format!(
                        "Since October 2025 a public URL also needs lambda:InvokeFunction for everyone with the condition lambda:InvokedViaFunctionUrl = true; without it requests get 403. Add {INVOKE_STATEMENT}."
                    ),
                    fix: Some(PolicyFix::AddStatements),
                });
            }
            if url.cors_origins.iter().any(|o| o == "*") {
                findings.push(Finding {
                    severity: if url.cors_credentials { Severity::Warning } else { Severity::Info },
                    message: if url.cors_credentials {
                        "CORS allows every origin with credentials: any web site can read responses made with its visitors' cookies. Name the origins that need it.".to_owned()
                    } else {
                        "CORS allows every origin (*): any web site can call this public URL from a browser. Name the origins if only your sites should.".to_owned()
                    },
                    fix: None,
                });
            }
        }
        Some(_) => {
            for statement in
                url_statements.iter().chain(invoke_statements.iter().filter(|s| via_url(s)))
            {
                findings.push(Finding {
                    severity: Severity::Info,
                    message: format!(
                        "{}: a public statement is unused while the auth type is AWS_IAM, and makes the URL public again if someone switches it to NONE. Remove it unless that is the plan.",
                        sid(statement)
                    ),
                    fix: Some(PolicyFix::Remove(sid(statement).to_owned())),
                });
            }
        }
        None => {
            for sid in orphan_url_sids(false, statements) {
                findings.push(Finding {
                    severity: Severity::Warning,
                    message: format!(
                        "{sid}: the function has no URL, so this public statement was left behind by a deleted one; a new URL would be public at once. Remove it."
                    ),
                    fix: Some(PolicyFix::Remove(sid)),
                });
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(auth: &str) -> UrlFacts {
        UrlFacts { auth_type: auth.to_owned(), ..UrlFacts::default() }
    }

    #[test]
    fn both_statements_with_their_conditions_pass_for_a_public_url() {
        let statements = public_statements("arn:aws:lambda:us-east-1:000000000000:function:f");
        assert_eq!(lint(Some(&facts("NONE")), &statements), vec![]);
        assert_eq!(
            describe(&statements[0]),
            "Anyone may call the function's URL, while the URL's auth type is NONE."
        );
        assert_eq!(
            describe(&statements[1]),
            "Anyone may invoke the function, only through the Function URL."
        );
    }

    #[test]
    fn a_missing_or_unconditioned_statement_is_named_with_its_fix() {
        let [url, _] = public_statements("arn");
        let findings = lint(Some(&facts("NONE")), std::slice::from_ref(&url));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].message.contains(INVOKE_STATEMENT));
        assert_eq!(findings[0].fix, Some(PolicyFix::AddStatements));

        let open = serde_json::json!({ "Sid": "open", "Effect": "Allow", "Principal": { "AWS": "*" },
                                       "Action": "lambda:InvokeFunction", "Resource": "arn" });
        let findings = lint(Some(&facts("NONE")), &[url, open]);
        assert!(findings.iter().any(|f| f.severity == Severity::Error
            && f.message.starts_with("open: anyone with an AWS account")
            && f.fix == Some(PolicyFix::Remove("open".into()))));
    }

    #[test]
    fn statements_left_by_a_deleted_url_are_flagged() {
        let statements = public_statements("arn");
        let findings = lint(None, &statements);
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.message.contains("left behind")));
        assert_eq!(findings[0].fix, Some(PolicyFix::Remove(URL_STATEMENT.into())));
        assert_eq!(lint(Some(&facts("AWS_IAM")), &statements).len(), 2);
        assert_eq!(
            PolicyFix::decode(&PolicyFix::Remove("a:b".into()).encode()),
            Some(PolicyFix::Remove("a:b".into()))
        );
        assert_eq!(PolicyFix::decode("add_statements"), Some(PolicyFix::AddStatements));
        assert_eq!(PolicyFix::decode("remove:"), None);
    }
}

//! Whether a role's identity policies allow an action on a resource, as IAM decides it: an
//! explicit `Deny` wins, otherwise any `Allow` allows, otherwise the action is denied. Actions
//! match case-insensitively and resources exactly, both with IAM's `*` and `?` wildcards;
//! `NotAction` and `NotResource` are honoured.
//!
//! The engine has no request context, so a statement with a `Condition` is not applied at all:
//! an `Allow` under a condition does not allow and a `Deny` under one does not deny.

use serde_json::Value;

/// Whether the policy documents (JSON text; unreadable ones count for nothing) allow `action`
/// on `resource`.
pub fn allows<'a>(
    documents: impl IntoIterator<Item = &'a str>,
    action: &str,
    resource: &str,
) -> bool {
    let action = action.to_ascii_lowercase();
    let mut allowed = false;
    for document in documents {
        let Ok(policy) = serde_json::from_str::<Value>(document) else { continue };
        let statements = match &policy["Statement"] {
            Value::Array(list) => list.iter().collect(),
            one @ Value::Object(_) => vec![one],
            _ => Vec::new(),
        };
        for statement in statements {
            if statement.get("Condition").is_some() || !applies(statement, &action, resource) {
                continue;
            }
            match statement["Effect"].as_str() {
                Some("Deny") => return false,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    allowed
}

/// Whether a statement speaks of the action (lower-cased) and the resource.
fn applies(statement: &Value, action: &str, resource: &str) -> bool {
    let names_action = |patterns: &Value| {
        any_pattern(patterns, |pattern| wildcard_match(&pattern.to_ascii_lowercase(), action))
    };
    let names_resource =
        |patterns: &Value| any_pattern(patterns, |pattern| wildcard_match(pattern, resource));
    let action_applies = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(listed), None) => names_action(listed),
        (None, Some(excluded)) => !names_action(excluded),
        _ => false,
    };
    let resource_applies = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(listed), None) => names_resource(listed),
        (None, Some(excluded)) => !names_resource(excluded),
        _ => false,
    };
    action_applies && resource_applies
}

/// Whether a policy element (a string or a list of strings) has a pattern that passes `test`.
fn any_pattern(value: &Value, test: impl Fn(&str) -> bool) -> bool {
    match value {
        Value::String(one) => test(one),
        Value::Array(list) => list.iter().filter_map(Value::as_str).any(test),
        _ => false,
    }
}

/// IAM's wildcards: `*` is any run of characters (none included), `?` any one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it has been stretched to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            // Let the last `*` take one more character and try again after it.
            star = Some((star_p, star_t + 1));
            p = star_p + 1;
            t = star_t + 1;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/hello";

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("logs:*", "logs:putlogevents"));
        assert!(wildcard_match("logs:put*", "logs:putlogevents"));
        assert!(wildcard_match("logs:?utLogEvents", "logs:PutLogEvents"));
        assert!(wildcard_match(&format!("{GROUP}:*"), &format!("{GROUP}:log-stream:2026/12/07/x")));
        assert!(wildcard_match("a*b*c", "aXXbYYbc"));
        assert!(!wildcard_match("logs:put*", "logs:createlogstream"));
        assert!(
            !wildcard_match(&format!("{GROUP}:*"), GROUP),
            "the group alone has no ':' after it"
        );
        assert!(!wildcard_match("abc", "abcd"));
    }

    #[test]
    fn statements_allow_deny_and_exclude_as_iam_evaluates_them() {
        let basic = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#;
        assert!(allows([basic], "logs:PutLogEvents", GROUP));
        assert!(allows([basic], "LOGS:putlogevents", GROUP), "actions ignore case");
        assert!(!allows([basic], "logs:DeleteLogGroup", GROUP));
        assert!(!allows([], "logs:PutLogEvents", GROUP), "nothing allows: denied");

        // The console's own policy: the group's streams only, groups anywhere in the account.
        let scoped = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"arn:aws:logs:us-east-1:000000000000:*"}},{{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":["{GROUP}:*"]}}]}}"#
        );
        assert!(allows([scoped.as_str()], "logs:CreateLogGroup", GROUP));
        assert!(allows([scoped.as_str()], "logs:PutLogEvents", &format!("{GROUP}:log-stream:s")));
        let other = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/other:log-stream:s";
        assert!(!allows([scoped.as_str()], "logs:PutLogEvents", other));

        let deny = r#"{"Statement":{"Effect":"Deny","Action":"logs:PutLogEvents","Resource":"*"}}"#;
        assert!(!allows([basic, deny], "logs:PutLogEvents", GROUP), "an explicit deny wins");
        assert!(allows([basic, deny], "logs:CreateLogStream", GROUP));

        let all_but =
            r#"{"Statement":{"Effect":"Allow","NotAction":"logs:PutLogEvents","Resource":"*"}}"#;
        assert!(allows([all_but], "logs:CreateLogStream", GROUP));
        assert!(!allows([all_but], "logs:PutLogEvents", GROUP));
        let elsewhere = format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"logs:*","NotResource":"{GROUP}"}}}}"#
        );
        assert!(!allows([elsewhere.as_str()], "logs:CreateLogGroup", GROUP));

        let conditional = r#"{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}"#;
        assert!(!allows([conditional], "logs:PutLogEvents", GROUP), "conditions are not met");
        assert!(!allows(["not json"], "logs:PutLogEvents", GROUP));
    }
}

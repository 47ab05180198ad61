//! The CORS preflight simulator: sends the preflight a browser would send (`OPTIONS` with
//! `Origin`, `Access-Control-Request-Method` and `-Headers`) to the real URL, then decides as the
//! browser would from the answer's headers (the Fetch standard's CORS check), and says which of
//! the URL's CORS settings to change when the browser would refuse.

use std::time::Duration;

use super::doctor::Call;
use super::tester::{HttpRequest, send_unsigned};
use crate::error::{Error, Result};

/// What the page in the browser is about to send.
#[derive(Clone, Debug, Default)]
pub struct Preflight {
    pub origin: String,
    pub method: String,
    /// Request header names the page sets.
    pub headers: Vec<String>,
    /// Whether the page sends cookies (`credentials: "include"`).
    pub credentials: bool,
}

/// The URL's CORS settings, as configured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<i32>,
}

/// One check the browser makes and how it went.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub passed: bool,
    pub what: String,
}

/// What the browser would decide, why, and what to change.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub allowed: bool,
    pub checks: Vec<Check>,
    /// The settings to change, in words; empty when allowed.
    pub changes: Vec<String>,
    /// The preflight exchange itself.
    pub call: Call,
}

/// Methods a browser sends without asking (CORS-safelisted).
const SIMPLE_METHODS: &[&str] = &["GET", "HEAD", "POST"];

/// Headers a browser sends without asking (content-type only with its three simple values, which
/// the simulator cannot see: it asks for content-type like any other header named).
const SIMPLE_HEADERS: &[&str] = &["accept", "accept-language", "content-language"];

impl Preflight {
    pub fn validate(&self) -> Result<()> {
        let origin = self.origin.trim();
        if !(origin.starts_with("http://") || origin.starts_with("https://"))
            || origin.trim_start_matches("http://").trim_start_matches("https://").contains('/')
        {
            return Err(Error::invalid(
                "origin",
                "an origin: scheme and host, such as https://app.example.com (no path)",
            ));
        }
        if self.method.is_empty() || !self.method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(Error::invalid("method", "a method such as PUT"));
        }
        for header in &self.headers {
            if header.is_empty()
                || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(Error::invalid("headers", format!("{header:?} is not a header name")));
            }
        }
        Ok(())
    }

    /// The headers the page sets that need the server's permission, lower-cased.
    fn asked_headers(&self) -> Vec<String> {
        let mut asked: Vec<String> = self
            .headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .filter(|h| !SIMPLE_HEADERS.contains(&h.as_str()))
            .collect();
        asked.sort();
        asked.dedup();
        asked
    }
}

fn header<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
    call.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Decides as a browser would from the preflight's answer; `cors` (the URL's settings) only
/// shapes the advice.
pub fn decide(preflight: &Preflight, call: &Call, cors: Option<&Cors>) -> Verdict {
    let mut checks = Vec::new();
    let mut changes = Vec::new();
    let origin = preflight.origin.trim();
    let method = preflight.method.to_ascii_uppercase();
    let ok = (200..300).contains(&call.status);
    checks.push(Check {
        passed: ok,
        what: if call.status == 0 {
            format!("The preflight got no answer: {}", call.error.clone().unwrap_or_default())
        } else {
            format!("The preflight answered {} (a browser needs 2xx)", call.status)
        },
    });
    if cors.is_none() {
        changes.push("Configure CORS on the URL: without it the function itself answers the preflight, and it must set every Access-Control-Allow-* header.".to_owned());
    }
    let allow_origin = header(call, "access-control-allow-origin");
    let origin_ok = match allow_origin {
        Some("*") => !preflight.credentials,
        Some(allowed) => allowed == origin,
        None => false,
    };
    checks.push(Check {
        passed: origin_ok,
        what: match allow_origin {
            None => format!("No Access-Control-Allow-Origin for {origin}"),
            Some("*") if preflight.credentials => {
                "Access-Control-Allow-Origin is *, which a request with credentials may not use"
                    .to_owned()
            }
            Some(allowed) => format!("Access-Control-Allow-Origin: {allowed}"),
        },
    });
    if !origin_ok && let Some(cors) = cors {
        if allow_origin == Some("*") {
            changes.push(format!(
                "Replace * in AllowOrigins with {origin}: a request with credentials needs its origin named."
            ));
        } else {
            changes.push(format!(
                "Add {origin} to AllowOrigins (now: {}).",
                if cors.allow_origins.is_empty() {
                    "none".to_owned()
                } else {
                    cors.allow_origins.join(", ")
                }
            ));
        }
    }
    if preflight.credentials {
        let credentials = header(call, "access-control-allow-credentials") == Some("true");
        checks.push(Check {
            passed: credentials,
            what: format!(
                "Access-Control-Allow-Credentials: {}",
                header(call, "access-control-allow-credentials").unwrap_or("(absent)")
            ),
        });
        if !credentials && cors.is_some() {
            changes.push("Turn on AllowCredentials.".to_owned());
        }
    }
    let methods = list(header(call, "access-control-allow-methods"));
    let wildcard = |values: &[String]| !preflight.credentials && values.iter().any(|m| m == "*");
    let method_ok = SIMPLE_METHODS.contains(&method.as_str())
        || wildcard(&methods)
        || methods.contains(&method);
    checks.push(Check {
        passed: method_ok,
        what: if SIMPLE_METHODS.contains(&method.as_str()) {
            format!("{method} needs no permission")
        } else {
            format!(
                "Access-Control-Allow-Methods: {}",
                if methods.is_empty() { "(absent)".to_owned() } else { methods.join(", ") }
            )
        },
    });
    if !method_ok && cors.is_some() {
        changes.push(format!("Add {method} to AllowMethods."));
    }
    let allowed_headers: Vec<String> = list(header(call, "access-control-allow-headers"))
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for asked in preflight.asked_headers() {
        // `*` never covers Authorization.
        let passed = allowed_headers.contains(&asked)
            || (asked != "authorization" && wildcard(&allowed_headers));
        checks.push(Check {
            passed,
            what: format!(
                "Header {asked}: {}",
                if passed { "allowed" } else { "not in Access-Control-Allow-Headers" }
            ),
        });
        if !passed && cors.is_some() {
            changes.push(format!("Add {asked} to AllowHeaders."));
        }
    }
    let allowed = checks.iter().all(|c| c.passed);
    if allowed {
        changes.clear();
    }
    Verdict { allowed, checks, changes, call: call.clone() }
}

/// Sends the preflight to the URL's root and decides.
pub async fn simulate(url: &str, preflight: &Preflight, cors: Option<&Cors>) -> Result<Verdict> {
    preflight.validate()?;
    let mut headers = vec![
        ("origin".to_owned(), preflight.origin.trim().to_owned()),
        ("access-control-request-method".to_owned(), preflight.method.to_ascii_uppercase()),
    ];
    let asked = preflight.asked_headers();
    if !asked.is_empty() {
        headers.push(("access-control-request-headers".to_owned(), asked.join(",")));
    }
    let request = HttpRequest {
        method: "OPTIONS".to_owned(),
        path: "/".to_owned(),
        headers,
        ..HttpRequest::default()
    };
    let call = send_unsigned(url, &request, Duration::from_secs(10)).await;
    Ok(decide(preflight, &call, cors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> Call {
        Call {
            status: 200,
            headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Call::default()
        }
    }

    fn asking(origin: &str, method: &str, headers: &[&str]) -> Preflight {
        Preflight {
            origin: origin.into(),
            method: method.into(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            credentials: false,
        }
    }

    #[test]
    fn an_allowed_origin_method_and_header_pass() {
        let call = answer(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "GET,PUT"),
            ("access-control-allow-headers", "content-type,x-trace"),
        ]);
        let verdict = decide(
            &asking("https://app.example.com", "put", &["Content-Type", "Accept"]),
            &call,
            None,
        );
        assert!(verdict.allowed, "{:?}", verdict.checks);
        assert!(verdict.changes.is_empty());
    }

    #[test]
    fn a_refused_origin_names_the_setting_to_change() {
        let cors =
            Cors { allow_origins: vec!["https://app.example.com".into()], ..Cors::default() };
        let call = answer(&[("access-control-allow-methods", "*")]);
        let verdict = decide(
            &asking("https://evil.example", "DELETE", &["authorization"]),
            &call,
            Some(&cors),
        );
        assert!(!verdict.allowed);
        assert_eq!(
            verdict.changes,
            vec![
                "Add https://evil.example to AllowOrigins (now: https://app.example.com)."
                    .to_owned(),
                "Add authorization to AllowHeaders.".to_owned(),
            ]
        );
    }

    #[test]
    fn credentials_rule_out_wildcards() {
        let cors = Cors { allow_origins: vec!["*".into()], ..Cors::default() };
        let call =
            answer(&[("access-control-allow-origin", "*"), ("access-control-allow-methods", "*")]);
        let mut preflight = asking("https://app.example.com", "PUT", &[]);
        assert!(decide(&preflight, &call, Some(&cors)).allowed);
        preflight.credentials = true;
        let verdict = decide(&preflight, &call, Some(&cors));
        assert!(!verdict.allowed);
        assert!(verdict.changes[0].starts_with("Replace * in AllowOrigins"));
        assert!(verdict.changes.contains(&"Turn on AllowCredentials.".to_owned()));
        assert!(verdict.changes.contains(&"Add PUT to AllowMethods.".to_owned()));
        assert!(asking("app.example.com", "PUT", &[]).validate().is_err());
    }
}

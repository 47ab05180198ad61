//! Evaluating a function against the rules: a pure function of the rules, the deprecation
//! calendar and what is known about the function. What is not known (a policy not read, a role
//! not looked at) is not guessed: the rules that need it are skipped, never passed or failed.

use std::collections::BTreeMap;

use model::{Lifecycle, RuleKind, Severity, Stage, UrlPolicy};
use serde_json::Value;
use time::Date;
use uuid::Uuid;

use super::rules::{Bounds, Check, Rule, mirrors};
use super::runtimes::{Deprecation, Phase};
use super::secrets::looks_secret;

/// What is being asked: may this function be created, may it be changed like this, or how does
/// an existing function stand. The deprecation calendar's phases and a URL's expiry depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Existing,
}

/// A Function URL as far as the rules care.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlCandidate {
    /// `NONE` (public) or `AWS_IAM`.
    pub auth_type: String,
    pub cors_allow_origins: Vec<String>,
    /// For a public URL: how long it lives, in minutes, or `None` for ever.
    pub expires_in_minutes: Option<i64>,
}

impl UrlCandidate {
    pub fn is_public(&self) -> bool {
        self.auth_type == "NONE"
    }
}

/// What is known about a function. `None` in an `Option<…>` that is itself a fact (the URL, the
/// reserved concurrency) means "not set"; the outer `Option` of the facts the console may not
/// have read (`policy`, `role_policies`, …) means "not known", and the rules that need them skip.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    pub name: String,
    /// `None` for a container image (no runtime).
    pub runtime: Option<String>,
    pub architecture: Option<String>,
    pub memory_mb: Option<i64>,
    pub timeout_s: Option<i64>,
    pub ephemeral_storage_mb: Option<i64>,
    /// Outer: known; inner: set.
    pub reserved_concurrency: Option<Option<i64>>,
    /// Names and values; `None` when not known.
    pub environment_variables: Option<BTreeMap<String, String>>,
    /// When the values are not at hand (the catalog never keeps them): the variables the last
    /// sync found looking like secrets, by name, with why; `None` when not known.
    pub secret_variables: Option<BTreeMap<String, String>>,
    pub tags: BTreeMap<String, String>,
    pub team_id: Option<Uuid>,
    pub environment: Stage,
    pub lifecycle: Lifecycle,
    pub connection_id: Option<Uuid>,
    pub url: Option<UrlCandidate>,
    /// The resource policy's statements.
    pub policy: Option<Vec<Value>>,
    /// The managed policy ARNs attached to the function's role.
    pub role_policies: Option<Vec<String>>,
    /// The other functions using the function's role.
    pub role_shared_with: Option<Vec<String>>,
    /// Outer: known; inner: the log group's retention in days, `None` for "never expire".
    pub log_retention_days: Option<Option<i32>>,
}

impl Candidate {
    /// Production is the `prod` environment or the `production` lifecycle.
    pub fn is_production(&self) -> bool {
        self.environment == Stage::Prod || self.lifecycle == Lifecycle::Production
    }
}

/// One rule a function breaks: which, how much it matters, what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: Uuid,
    pub kind: RuleKind,
    pub severity: Severity,
    /// The input the finding is about, as the Create form names it (`tags`, `name`, `runtime`,
    /// `memory_mb`, `url`, …).
    pub field: &'static str,
    pub message: String,
    pub fix: String,
    /// The check platform teams know it as.
    pub mirrors: &'static str,
    /// Why the platform team has the rule, in its words.
    pub note: String,
    /// An approved exception covers it: shown, not enforced.
    pub excepted: bool,
}

/// Whether a function may go ahead: no error-level finding without an exception.
pub fn passes(findings: &[Finding]) -> bool {
    !findings.iter().any(|f| f.severity == Severity::Error && !f.excepted)
}

pub(super) fn applies(rule: &Rule, candidate: &Candidate) -> bool {
    rule.enabled
        && rule.team_id.is_none_or(|t| candidate.team_id == Some(t))
        && rule.environment.is_none_or(|e| candidate.environment == e)
        && rule.lifecycle.is_none_or(|l| candidate.lifecycle == l)
        && rule.connection_id.is_none_or(|c| candidate.connection_id == Some(c))
}

/// Which managed policies make a role administrator-like.
const ADMIN_POLICIES: [&str; 3] = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// Every finding for `candidate` under the enabled rules that apply to it, in the rules' order.
/// `excepted` holds the rules an approved, unexpired exception covers for this function.
pub fn evaluate(
    rules: &[Rule],
    calendar: &[Deprecation],
    candidate: &Candidate,
    action: Action,
    today: Date,
    excepted: &[Uuid],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in rules.iter().filter(|r| applies(r, candidate)) {
        let mut found = |field: &'static str, message: String, fix: String| {
            findings.push(Finding {
                rule_id: rule.rule_id,
                kind: rule.check.kind(),
                severity: rule.severity,
                field,
                message,
                fix,
                mirrors: mirrors(rule.check.kind()),
                note: rule.note.clone(),
                excepted: excepted.contains(&rule.rule_id),
            })
        };
        let bounded = |found: &mut dyn FnMut(&'static str, String, String),
                       field: &'static str,
                       what: &str,
                       unit: &str,
                       value: Option<i64>,
                       bounds: Bounds| {
            if let Some(value) = value
                && !bounds.contains(value)
            {
                found(
                    field,
                    format!(
                        "{what} is {value} {unit}; the rule asks for {}.",
                        bounds.describe(unit)
                    ),
                    format!("Set {what} {}.", bounds.describe(unit)),
                );
            }
        };
        match &rule.check {
            Check::RequiredTag { key, values, pattern } => match candidate.tags.get(key) {
                None => found(
                    "tags",
                    format!("The tag {key} is missing."),
                    if values.is_empty() {
                        format!("Add the tag {key}.")
                    } else {
                        format!("Add the tag {key} with one of: {}.", values.join(", "))
                    },
                ),
                Some(value) if !values.is_empty() && !values.contains(value) => found(
                    "tags",
                    format!("The tag {key} is '{value}', which is not one of the allowed values."),
                    format!("Set {key} to one of: {}.", values.join(", ")),
                ),
                Some(value) if pattern.as_ref().is_some_and(|p| !p.matches(value)) => found(
                    "tags",
                    format!("The tag {key} is '{value}', which does not match the pattern."),
                    format!(
                        "Set {key} to a value matching {}.",
                        pattern.as_ref().map(|p| p.as_str()).unwrap_or_default()
                    ),
                ),
                Some(_) => {}
            },
            Check::Naming { pattern } => {
                if !pattern.matches(&candidate.name) {
                    found(
                        "name",
                        format!("The name '{}' does not match the naming pattern.", candidate.name),
                        format!("Choose a name matching {}.", pattern.as_str()),
                    );
                }
            }
            Check::AllowedRuntimes { runtimes } => {
                if let Some(runtime) = &candidate.runtime
                    && !runtimes.contains(runtime)
                {
                    found(
                        "runtime",
                        format!("The runtime {runtime} is not on the allowed list."),
                        format!("Use one of: {}.", runtimes.join(", ")),
                    );
                }
            }
            Check::DeprecatedRuntime => {
                let Some(runtime) = &candidate.runtime else { continue };
                let Some(entry) = calendar.iter().find(|d| &d.runtime == runtime) else { continue };
                let newer = newest_of_family(calendar, runtime, today);
                let fix = match &newer {
                    Some(newer) => format!("Move to {newer}."),
                    None => "Move to a supported runtime.".to_owned(),
                };
                let message = match entry.phase(today) {
                    Phase::Announced => continue,
                    Phase::Deprecated => format!(
                        "{runtime} has been deprecated since {}: it gets no security patches.",
                        entry.deprecated_on
                    ),
                    Phase::NoCreate if action == Action::Create => format!(
                        "AWS refuses new functions on {runtime} since {}.",
                        entry.block_create_on.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    Phase::NoCreate => format!(
                        "{runtime} is deprecated, and AWS refuses new functions on it since {}.",
                        entry.block_create_on.map(|d| d.to_string()).unwrap_or_default()
                    ),
                    Phase::NoUpdate => format!(
                        "AWS refuses new functions and updates on {runtime} since {}; the function still runs but can no longer be changed.",
                        entry.block_update_on.map(|d| d.to_string()).unwrap_or_default()
                    ),
                };
                found("runtime", message, fix);
            }
            Check::Architectures { allowed } => {
                if let Some(arch) = &candidate.architecture
                    && !allowed.contains(arch)
                {
                    found(
                        "architecture",
                        format!("The architecture {arch} is not allowed."),
                        format!("Use {}.", allowed.join(" or ")),
                    );
                }
            }
            Check::Memory(b) => {
                bounded(&mut found, "memory_mb", "memory", "MB", candidate.memory_mb, *b)
            }
            Check::Timeout(b) => {
                bounded(&mut found, "timeout_s", "the timeout", "seconds", candidate.timeout_s, *b)
            }
            Check::EphemeralStorage(b) => bounded(
                &mut found,
                "ephemeral_storage_mb",
                "ephemeral storage",
                "MB",
                candidate.ephemeral_storage_mb,
                *b,
            ),
            Check::ReservedConcurrency(b) => match candidate.reserved_concurrency {
                None => {}
                Some(None) => found(
                    "reserved_concurrency",
                    "Reserved concurrency is not set: one function can take the account's whole concurrency.".to_owned(),
                    format!("Reserve concurrency, {}.", b.describe("concurrent executions")),
                ),
                Some(Some(n)) => bounded(
                    &mut found,
                    "reserved_concurrency",
                    "reserved concurrency",
                    "concurrent executions",
                    Some(n),
                    *b,
                ),
            },
            Check::PublicUrl { policy, max_hours, .. } => {
                let Some(url) = candidate.url.as_ref().filter(|u| u.is_public()) else { continue };
                match policy {
                    UrlPolicy::Forbidden => found(
                        "url",
                        "Public Function URLs (auth type NONE) are not allowed.".to_owned(),
                        "Use auth type AWS_IAM, or no URL.".to_owned(),
                    ),
                    UrlPolicy::OutsideProduction if candidate.is_production() => found(
                        "url",
                        "Public Function URLs are not allowed in production (environment prod or lifecycle production).".to_owned(),
                        "Use auth type AWS_IAM for a production function.".to_owned(),
                    ),
                    UrlPolicy::OutsideProduction => {}
                    UrlPolicy::Expiry => {
                        let max = max_hours.unwrap_or(0);
                        match url.expires_in_minutes {
                            Some(m) if m <= max * 60 => {}
                            Some(m) => found(
                                "url",
                                format!(
                                    "The public URL would live {} hours; the rule allows {max}.",
                                    (m + 59) / 60
                                ),
                                format!("Set the URL to expire within {max} hours."),
                            ),
                            None => found(
                                "url",
                                "A public URL needs an expiry.".to_owned(),
                                format!(
                                    "Set the URL to expire within {max} hours; it is then switched off for you."
                                ),
                            ),
                        }
                    }
                    UrlPolicy::Approval => found(
                        "url",
                        "A public URL needs an approved exception.".to_owned(),
                        "Request an exception for this rule, or use auth type AWS_IAM.".to_owned(),
                    ),
                }
            }
            Check::UrlCorsWildcard => {
                if candidate.url.as_ref().is_some_and(|u| u.cors_allow_origins.iter().any(|o| o == "*")) {
                    found(
                        "cors",
                        "The URL's CORS allows every origin (*): any web site can call it from a browser.".to_owned(),
                        "List the origins that need it.".to_owned(),
                    );
                }
            }
            Check::PublicInvoke => {
                let Some(policy) = &candidate.policy else { continue };
                for sid in crate::urls::policy::open_invoke_sids(policy) {
                    found(
                        "policy",
                        format!("The statement {sid} lets anyone with an AWS account invoke the function, not only through its URL."),
                        format!("Remove {sid}, or limit it with the condition lambda:InvokedViaFunctionUrl = true."),
                    );
                }
            }
            Check::OrphanUrlStatement => {
                let Some(policy) = &candidate.policy else { continue };
                for sid in crate::urls::policy::orphan_url_sids(candidate.url.is_some(), policy) {
                    found(
                        "policy",
                        format!("The public statement {sid} was left behind by a deleted URL: a new URL would be public at once."),
                        format!("Remove {sid}."),
                    );
                }
            }
            Check::EnvironmentSecrets => {
                let secrets: Vec<(&str, &str)> = match (
                    &candidate.environment_variables,
                    &candidate.secret_variables,
                ) {
                    (Some(variables), _) => variables
                        .iter()
                        .filter_map(|(name, value)| Some((name.as_str(), looks_secret(name, value)?)))
                        .collect(),
                    (None, Some(found)) => {
                        found.iter().map(|(name, why)| (name.as_str(), why.as_str())).collect()
                    }
                    (None, None) => continue,
                };
                for (name, why) in secrets {
                    found(
                        "environment",
                        format!("The environment variable {name} looks like a secret: {why}. Anyone who may read the function's configuration can read it."),
                        "Keep it in Secrets Manager or Parameter Store and put its ARN in the variable.".to_owned(),
                    );
                }
            }
            Check::AdminRole => {
                let Some(policies) = &candidate.role_policies else { continue };
                for arn in policies {
                    let name = arn.rsplit('/').next().unwrap_or(arn);
                    if ADMIN_POLICIES.contains(&name) {
                        found(
                            "role",
                            format!("The function's role has {name}: code running in it can change the account."),
                            "Give the role only what the function needs (AWSLambdaBasicExecutionRole plus its own resources).".to_owned(),
                        );
                    }
                }
            }
            Check::SharedRole => {
                if let Some(others) = &candidate.role_shared_with
                    && !others.is_empty()
                {
                    found(
                        "role",
                        format!("The function's role is also used by {}.", others.join(", ")),
                        "Give each function its own role, so each has only the permissions it needs.".to_owned(),
                    );
                }
            }
            Check::LogRetention => {
                if let Some(None) = candidate.log_retention_days {
                    found(
                        "logs",
                        "The function's log group keeps its logs for ever.".to_owned(),
                        "Set a retention period on /aws/lambda/<name> (e.g. 30 days).".to_owned(),
                    );
                }
            }
        }
    }
    findings
}

/// The newest runtime of the same language (`python3.9` → `python3.13`) that is not deprecated
/// on `today`, for a finding's fix.
fn newest_of_family(calendar: &[Deprecation], runtime: &str, today: Date) -> Option<String> {
    let family: String = runtime.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    calendar
        .iter()
        .filter(|d| {
            d.runtime != runtime
                && d.runtime.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>()
                    == family
                && d.phase(today) == Phase::Announced
        })
        .max_by_key(|d| d.deprecated_on)
        .map(|d| d.runtime.clone())
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::governance::rules::{Check, RuleInput};
    use crate::governance::runtimes::tests::date;

    fn rule(kind: RuleKind, severity: Severity, input: RuleInput) -> Rule {
        Rule {
            rule_id: Uuid::new_v4(),
            check: Check::parse(kind, &input).expect("valid rule"),
            severity,
            team_id: None,
            environment: None,
            lifecycle: None,
            connection_id: None,
            note: String::new(),
            enabled: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn function() -> Candidate {
        Candidate {
            name: "orders-api".into(),
            runtime: Some("python3.12".into()),
            architecture: Some("x86_64".into()),
            memory_mb: Some(128),
            timeout_s: Some(3),
            ephemeral_storage_mb: Some(512),
            environment: Stage::Dev,
            lifecycle: Lifecycle::Experimental,
            ..Candidate::default()
        }
    }

    fn calendar() -> Vec<Deprecation> {
        let entry =
            |runtime: &str, dep: Date, create: Option<Date>, update: Option<Date>| Deprecation {
                runtime: runtime.into(),
                deprecated_on: dep,
                block_create_on: create,
                block_update_on: update,
                source: "test".into(),
                checked_on: date(2026, 7, 15),
            };
        vec![
            entry(
                "python3.9",
                date(2025, 12, 15),
                Some(date(2026, 8, 31)),
                Some(date(2026, 9, 30)),
            ),
            entry(
                "python3.10",
                date(2026, 10, 31),
                Some(date(2026, 11, 30)),
                Some(date(2027, 1, 15)),
            ),
            entry("python3.12", date(2028, 10, 31), Some(date(2028, 11, 30)), None),
            entry("python3.13", date(2029, 6, 30), None, None),
        ]
    }

    const TODAY: Date = match Date::from_calendar_date(2026, time::Month::December, 1) {
        Ok(d) => d,
        Err(_) => panic!("a date"),
    };

    fn run(rules: &[Rule], candidate: &Candidate, action: Action) -> Vec<Finding> {
        evaluate(rules, &calendar(), candidate, action, TODAY, &[])
    }

    #[test]
    fn a_required_tag_is_missing_then_wrong_then_right() {
        let rules = [rule(
            RuleKind::RequiredTag,
            Severity::Error,
            RuleInput {
                key: "cost-center".into(),
                values: "cc-1, cc-2".into(),
                ..Default::default()
            },
        )];
        let mut f = function();
        let findings = run(&rules, &f, Action::Create);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].message, "The tag cost-center is missing.");
        assert_eq!(findings[0].fix, "Add the tag cost-center with one of: cc-1, cc-2.");
        assert_eq!(findings[0].field, "tags");
        assert!(findings[0].mirrors.contains("Lambda.6"));
        assert!(!passes(&findings));
        f.tags.insert("cost-center".into(), "cc-9".into());
        assert!(run(&rules, &f, Action::Create)[0].message.contains("'cc-9'"));
        f.tags.insert("cost-center".into(), "cc-2".into());
        assert_eq!(run(&rules, &f, Action::Create), vec![]);
    }

    #[test]
    fn scope_narrows_a_rule_and_disabled_rules_are_silent() {
        let mut prod_only = rule(
            RuleKind::PublicUrl,
            Severity::Error,
            RuleInput { policy: "forbidden".into(), ..Default::default() },
        );
        prod_only.environment = Some(Stage::Prod);
        let mut f = function();
        f.url = Some(UrlCandidate { auth_type: "NONE".into(), ..Default::default() });
        assert!(
            passes(&run(std::slice::from_ref(&prod_only), &f, Action::Create)),
            "dev is out of scope"
        );
        f.environment = Stage::Prod;
        assert!(!passes(&run(std::slice::from_ref(&prod_only), &f, Action::Create)));
        prod_only.enabled = false;
        assert_eq!(run(&[prod_only], &f, Action::Create), vec![]);
    }

    #[test]
    fn public_urls_follow_the_rules_policy() {
        let url_rule = |policy: &str, hours: &str| {
            rule(
                RuleKind::PublicUrl,
                Severity::Error,
                RuleInput { policy: policy.into(), max_hours: hours.into(), ..Default::default() },
            )
        };
        let mut f = function();
        f.url = Some(UrlCandidate { auth_type: "AWS_IAM".into(), ..Default::default() });
        assert_eq!(
            run(&[url_rule("forbidden", "")], &f, Action::Create),
            vec![],
            "IAM URLs are fine"
        );
        f.url = Some(UrlCandidate { auth_type: "NONE".into(), ..Default::default() });
        assert!(!passes(&run(&[url_rule("forbidden", "")], &f, Action::Create)));
        assert!(passes(&run(&[url_rule("outside_production", "")], &f, Action::Create)));
        f.lifecycle = Lifecycle::Production;
        assert!(!passes(&run(&[url_rule("outside_production", "")], &f, Action::Create)));
        let expiry = [url_rule("expiry", "24")];
        assert_eq!(run(&expiry, &f, Action::Create)[0].message, "A public URL needs an expiry.");
        f.url.as_mut().expect("a URL").expires_in_minutes = Some(48 * 60);
        assert!(run(&expiry, &f, Action::Create)[0].message.contains("48 hours"));
        f.url.as_mut().expect("a URL").expires_in_minutes = Some(24 * 60);
        assert!(passes(&run(&expiry, &f, Action::Create)));
        let approval = [url_rule("approval", "")];
        let findings = run(&approval, &f, Action::Create);
        assert!(!passes(&findings));
        let excepted =
            evaluate(&approval, &calendar(), &f, Action::Create, TODAY, &[approval[0].rule_id]);
        assert!(excepted[0].excepted && passes(&excepted), "an approved exception lets it through");
    }

    #[test]
    fn the_runtime_calendar_speaks_in_phases() {
        let rules = [rule(RuleKind::DeprecatedRuntime, Severity::Error, RuleInput::default())];
        let mut f = function();
        assert_eq!(run(&rules, &f, Action::Create), vec![], "python3.12 is only announced");
        f.runtime = Some("python3.10".into());
        let findings = run(&rules, &f, Action::Create);
        assert_eq!(
            findings[0].message,
            "AWS refuses new functions on python3.10 since 2026-11-30."
        );
        assert_eq!(findings[0].fix, "Move to python3.13.");
        f.runtime = Some("python3.9".into());
        assert!(run(&rules, &f, Action::Existing)[0].message.contains("can no longer be changed"));
        f.runtime = None;
        assert_eq!(run(&rules, &f, Action::Existing), vec![], "images have no runtime");
    }

    #[test]
    fn bounds_names_runtimes_and_architectures() {
        let rules = [
            rule(
                RuleKind::Memory,
                Severity::Warning,
                RuleInput { max: "1024".into(), ..Default::default() },
            ),
            rule(
                RuleKind::Timeout,
                Severity::Error,
                RuleInput { min: "5".into(), ..Default::default() },
            ),
            rule(
                RuleKind::Naming,
                Severity::Error,
                RuleInput { pattern: "team-.+".into(), ..Default::default() },
            ),
            rule(
                RuleKind::AllowedRuntimes,
                Severity::Error,
                RuleInput { values: "nodejs22.x".into(), ..Default::default() },
            ),
            rule(
                RuleKind::Architectures,
                Severity::Info,
                RuleInput { values: "arm64".into(), ..Default::default() },
            ),
        ];
        let mut f = function();
        f.memory_mb = Some(2048);
        let findings = run(&rules, &f, Action::Create);
        let fields: Vec<&str> = findings.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["memory_mb", "timeout_s", "name", "runtime", "architecture"]);
        assert_eq!(
            findings[1].message,
            "the timeout is 3 seconds; the rule asks for at least 5 seconds."
        );
        let only_warnings = [rules[0].clone(), rules[4].clone()];
        assert!(passes(&run(&only_warnings, &f, Action::Create)), "warnings do not block");
    }

    #[test]
    fn what_is_not_known_is_not_judged() {
        let rules: Vec<Rule> = [
            RuleKind::PublicInvoke,
            RuleKind::OrphanUrlStatement,
            RuleKind::EnvironmentSecrets,
            RuleKind::AdminRole,
            RuleKind::SharedRole,
            RuleKind::LogRetention,
        ]
        .into_iter()
        .map(|k| rule(k, Severity::Error, RuleInput::default()))
        .chain([rule(
            RuleKind::ReservedConcurrency,
            Severity::Error,
            RuleInput { max: "10".into(), ..Default::default() },
        )])
        .collect();
        let mut f = function();
        assert_eq!(run(&rules, &f, Action::Existing), vec![]);

        f.policy = Some(crate::urls::policy::public_statements("arn").to_vec());
        f.environment_variables =
            Some(BTreeMap::from([("DB_PASSWORD".to_owned(), "hunter2hunter2".to_owned())]));
        f.role_policies = Some(vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()]);
        f.role_shared_with = Some(vec!["billing-api".into()]);
        f.log_retention_days = Some(None);
        f.reserved_concurrency = Some(None);
        let findings = run(&rules, &f, Action::Existing);
        let kinds: Vec<RuleKind> = findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                RuleKind::OrphanUrlStatement,
                RuleKind::OrphanUrlStatement,
                RuleKind::EnvironmentSecrets,
                RuleKind::AdminRole,
                RuleKind::SharedRole,
                RuleKind::LogRetention,
                RuleKind::ReservedConcurrency,
            ]
        );
        assert!(findings.iter().all(|f| !f.message.contains("hunter2")), "values are never shown");
        let open = serde_json::json!({ "Sid": "open", "Effect": "Allow", "Principal": "*",
                                       "Action": "lambda:InvokeFunction", "Resource": "arn" });
        f.policy = Some(vec![open]);
        f.url = Some(UrlCandidate { auth_type: "NONE".into(), ..Default::default() });
        let findings = run(&rules[..2], &f, Action::Existing);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.starts_with("The statement open lets anyone"));
    }
}

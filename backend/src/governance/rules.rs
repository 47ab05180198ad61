//! Rules as data: what a rule checks ([`Check`], its kind and parameters), how much it matters,
//! and whom it applies to (a team, an environment, a lifecycle, a connection; none means all).
//! Admins add, switch off and delete rules on the Governance page; every change is audited.

use model::{Lifecycle, RuleKind, Severity, Stage, UrlPolicy};
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result};

/// A pattern a name or tag value must match whole (`^(?:…)$`), in the `regex` crate's syntax
/// (linear time whatever the input, so a hostile pattern cannot stall the evaluator).
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    compiled: regex::Regex,
}

impl Pattern {
    pub fn parse(field: &'static str, source: &str) -> Result<Self> {
        let source = source.trim();
        if source.is_empty() || source.chars().count() > 200 {
            return Err(Error::invalid(
                field,
                "a pattern of 1–200 characters, e.g. ^team-[a-z]+-.+$",
            ));
        }
        let compiled = regex::RegexBuilder::new(&format!("^(?:{source})$"))
            .size_limit(1 << 16)
            .build()
            .map_err(|e| {
                let why = e.to_string();
                let why = why.lines().last().unwrap_or("invalid").trim();
                let why = why.strip_prefix("error: ").unwrap_or(why).to_owned();
                Error::invalid(field, format!("not a valid pattern: {why}"))
            })?;
        Ok(Self { source: source.to_owned(), compiled })
    }

    pub fn matches(&self, text: &str) -> bool {
        self.compiled.is_match(text)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Lower and upper bounds, inclusive; either may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Bounds {
    pub fn contains(self, value: i64) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }

    /// "between 128 and 1024", "at least 128", "at most 1024".
    pub fn describe(self, unit: &str) -> String {
        match (self.min, self.max) {
            (Some(min), Some(max)) => format!("between {min} and {max} {unit}"),
            (Some(min), None) => format!("at least {min} {unit}"),
            (None, Some(max)) => format!("at most {max} {unit}"),
            (None, None) => "any value".to_owned(),
        }
    }
}

/// What a rule checks, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    RequiredTag {
        key: String,
        values: Vec<String>,
        pattern: Option<Pattern>,
    },
    Naming {
        pattern: Pattern,
    },
    AllowedRuntimes {
        runtimes: Vec<String>,
    },
    DeprecatedRuntime,
    Architectures {
        allowed: Vec<String>,
    },
    Memory(Bounds),
    Timeout(Bounds),
    EphemeralStorage(Bounds),
    ReservedConcurrency(Bounds),
    /// `max_hours` only for [`UrlPolicy::Expiry`]; `delete_on_expiry`: at expiry the URL is
    /// deleted with its public statements, rather than switched to `AWS_IAM`.
    PublicUrl {
        policy: UrlPolicy,
        max_hours: Option<i64>,
        delete_on_expiry: bool,
    },
    UrlCorsWildcard,
    PublicInvoke,
    OrphanUrlStatement,
    EnvironmentSecrets,
    AdminRole,
    SharedRole,
    LogRetention,
}

/// A rule's parameters as a form sends them: every field a string, those the kind does not use
/// left empty. Lists are comma- or newline-separated.
#[derive(Clone, Debug, Default)]
pub struct RuleInput {
    pub kind: String,
    pub severity: String,
    pub team_id: Option<Uuid>,
    pub environment: String,
    pub lifecycle: String,
    pub connection_id: Option<Uuid>,
    pub note: String,
    /// The tag key (required_tag).
    pub key: String,
    /// Allowed values (required_tag), runtimes (allowed_runtimes), architectures.
    pub values: String,
    /// A tag value's or a name's pattern.
    pub pattern: String,
    pub min: String,
    pub max: String,
    /// The URL policy (public_url) and its maximum hours (expiry).
    pub policy: String,
    pub max_hours: String,
    /// What happens at expiry (public_url): `switch` (to AWS_IAM, the default) or `delete`.
    pub on_expiry: String,
}

fn list(raw: &str) -> Vec<String> {
    let mut items: Vec<String> = raw
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    items.dedup();
    items
}

fn number(field: &'static str, raw: &str) -> Result<Option<i64>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| Error::invalid(field, format!("'{raw}' is not a whole number")))
}

fn bounds(input: &RuleInput, limit: i64, unit: &str) -> Result<Bounds> {
    let bounds = Bounds { min: number("min", &input.min)?, max: number("max", &input.max)? };
    if bounds.min.is_none() && bounds.max.is_none() {
        return Err(Error::invalid("min", "give a minimum, a maximum or both"));
    }
    if let (Some(min), Some(max)) = (bounds.min, bounds.max)
        && min > max
    {
        return Err(Error::invalid("max", "the maximum is below the minimum"));
    }
    if [bounds.min, bounds.max].into_iter().flatten().any(|n| n > limit) {
        return Err(Error::invalid("max", format!("Lambda allows at most {limit} {unit}")));
    }
    Ok(bounds)
}

impl Check {
    pub fn kind(&self) -> RuleKind {
        match self {
            Self::RequiredTag { .. } => RuleKind::RequiredTag,
            Self::Naming { .. } => RuleKind::Naming,
            Self::AllowedRuntimes { .. } => RuleKind::AllowedRuntimes,
            Self::DeprecatedRuntime => RuleKind::DeprecatedRuntime,
            Self::Architectures { .. } => RuleKind::Architectures,
            Self::Memory(_) => RuleKind::Memory,
            Self::Timeout(_) => RuleKind::Timeout,
            Self::EphemeralStorage(_) => RuleKind::EphemeralStorage,
            Self::ReservedConcurrency(_) => RuleKind::ReservedConcurrency,
            Self::PublicUrl { .. } => RuleKind::PublicUrl,
            Self::UrlCorsWildcard => RuleKind::UrlCorsWildcard,
            Self::PublicInvoke => RuleKind::PublicInvoke,
            Self::OrphanUrlStatement => RuleKind::OrphanUrlStatement,
            Self::EnvironmentSecrets => RuleKind::EnvironmentSecrets,
            Self::AdminRole => RuleKind::AdminRole,
            Self::SharedRole => RuleKind::SharedRole,
            Self::LogRetention => RuleKind::LogRetention,
        }
    }

    /// A check from a form's fields, each checked with a message that says what to enter.
    pub fn parse(kind: RuleKind, input: &RuleInput) -> Result<Self> {
        Ok(match kind {
            RuleKind::RequiredTag => {
                let key = input.key.trim();
                if key.is_empty() || key.chars().count() > 128 {
                    return Err(Error::invalid("key", "the tag key to require, 1–128 characters"));
                }
                if key.starts_with("aws:") {
                    return Err(Error::invalid(
                        "key",
                        "aws: tags are AWS's own; require another key",
                    ));
                }
                let pattern = match input.pattern.trim() {
                    "" => None,
                    p => Some(Pattern::parse("pattern", p)?),
                };
                Self::RequiredTag { key: key.to_owned(), values: list(&input.values), pattern }
            }
            RuleKind::Naming => {
                Self::Naming { pattern: Pattern::parse("pattern", &input.pattern)? }
            }
            RuleKind::AllowedRuntimes => {
                let runtimes = list(&input.values);
                if runtimes.is_empty() {
                    return Err(Error::invalid(
                        "values",
                        "list the runtimes to allow, e.g. python3.12, nodejs22.x",
                    ));
                }
                Self::AllowedRuntimes { runtimes }
            }
            RuleKind::Architectures => {
                let allowed = list(&input.values);
                if allowed.is_empty() || allowed.iter().any(|a| a != "x86_64" && a != "arm64") {
                    return Err(Error::invalid("values", "list x86_64, arm64 or both"));
                }
                Self::Architectures { allowed }
            }
            RuleKind::Memory => Self::Memory(bounds(input, 10_240, "MB")?),
            RuleKind::Timeout => Self::Timeout(bounds(input, 900, "seconds")?),
            RuleKind::EphemeralStorage => Self::EphemeralStorage(bounds(input, 10_240, "MB")?),
            RuleKind::ReservedConcurrency => {
                Self::ReservedConcurrency(bounds(input, 1_000_000, "concurrent executions")?)
            }
            RuleKind::PublicUrl => {
                let policy: UrlPolicy =
                    input.policy.trim().parse().map_err(|e| Error::unknown("policy", &e))?;
                let max_hours = number("max_hours", &input.max_hours)?;
                let max_hours = match policy {
                    UrlPolicy::Expiry => match max_hours {
                        Some(h) if (1..=8760).contains(&h) => Some(h),
                        _ => {
                            return Err(Error::invalid(
                                "max_hours",
                                "how long a public URL may live, 1–8760 hours",
                            ));
                        }
                    },
                    _ => None,
                };
                let delete_on_expiry = match input.on_expiry.trim() {
                    "" | "switch" => false,
                    "delete" => true,
                    _ => {
                        return Err(Error::invalid(
                            "on_expiry",
                            "switch (to AWS_IAM) or delete (the URL and its statements)",
                        ));
                    }
                };
                Self::PublicUrl { policy, max_hours, delete_on_expiry }
            }
            RuleKind::DeprecatedRuntime => Self::DeprecatedRuntime,
            RuleKind::UrlCorsWildcard => Self::UrlCorsWildcard,
            RuleKind::PublicInvoke => Self::PublicInvoke,
            RuleKind::OrphanUrlStatement => Self::OrphanUrlStatement,
            RuleKind::EnvironmentSecrets => Self::EnvironmentSecrets,
            RuleKind::AdminRole => Self::AdminRole,
            RuleKind::SharedRole => Self::SharedRole,
            RuleKind::LogRetention => Self::LogRetention,
        })
    }

    /// The parameters as stored (`governance_rule.params`).
    pub fn params(&self) -> Value {
        let bounds = |b: &Bounds| json!({ "min": b.min, "max": b.max });
        match self {
            Self::RequiredTag { key, values, pattern } => {
                json!({ "key": key, "values": values, "pattern": pattern.as_ref().map(Pattern::as_str) })
            }
            Self::Naming { pattern } => json!({ "pattern": pattern.as_str() }),
            Self::AllowedRuntimes { runtimes } => json!({ "runtimes": runtimes }),
            Self::Architectures { allowed } => json!({ "allowed": allowed }),
            Self::Memory(b)
            | Self::Timeout(b)
            | Self::EphemeralStorage(b)
            | Self::ReservedConcurrency(b) => bounds(b),
            Self::PublicUrl { policy, max_hours, delete_on_expiry } => json!({
                "policy": policy.as_str(), "max_hours": max_hours,
                "on_expiry": if *delete_on_expiry { "delete" } else { "switch" },
            }),
            _ => json!({}),
        }
    }

    /// A check read back from its stored kind and parameters (through the same parsing as a form).
    pub fn from_stored(kind: RuleKind, params: &Value) -> Result<Self> {
        let text = |key: &str| params[key].as_str().unwrap_or_default().to_owned();
        let joined = |key: &str| {
            params[key]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                .unwrap_or_default()
        };
        let num = |key: &str| params[key].as_i64().map(|n| n.to_string()).unwrap_or_default();
        let input = RuleInput {
            key: text("key"),
            values: match kind {
                RuleKind::AllowedRuntimes => joined("runtimes"),
                RuleKind::Architectures => joined("allowed"),
                _ => joined("values"),
            },
            pattern: text("pattern"),
            min: num("min"),
            max: num("max"),
            policy: text("policy"),
            max_hours: num("max_hours"),
            on_expiry: text("on_expiry"),
            ..RuleInput::default()
        };
        Self::parse(kind, &input)
    }

    /// What the rule asks, in one sentence.
    pub fn describe(&self) -> String {
        match self {
            Self::RequiredTag { key, values, pattern } => {
                let mut text = format!("Every function has the tag {key}");
                if !values.is_empty() {
                    text.push_str(&format!(", one of {}", values.join(", ")));
                }
                if let Some(p) = pattern {
                    text.push_str(&format!(", matching {}", p.as_str()));
                }
                text + "."
            }
            Self::Naming { pattern } => format!("Function names match {}.", pattern.as_str()),
            Self::AllowedRuntimes { runtimes } => format!("Runtimes: {} only.", runtimes.join(", ")),
            Self::DeprecatedRuntime => "No runtime AWS has deprecated (see the calendar).".to_owned(),
            Self::Architectures { allowed } => format!("Architectures: {} only.", allowed.join(", ")),
            Self::Memory(b) => format!("Memory {}.", b.describe("MB")),
            Self::Timeout(b) => format!("Timeout {}.", b.describe("seconds")),
            Self::EphemeralStorage(b) => format!("Ephemeral storage {}.", b.describe("MB")),
            Self::ReservedConcurrency(b) => {
                format!("Reserved concurrency set, {}.", b.describe("concurrent executions"))
            }
            Self::PublicUrl { policy, max_hours, delete_on_expiry } => match policy {
                UrlPolicy::Forbidden => "No public Function URLs (auth type NONE).".to_owned(),
                UrlPolicy::OutsideProduction => {
                    "Public Function URLs only outside production (not environment prod nor lifecycle production).".to_owned()
                }
                UrlPolicy::Expiry => format!(
                    "Public Function URLs only with an expiry of at most {} hours ({} at expiry).",
                    max_hours.unwrap_or_default(),
                    if *delete_on_expiry { "deleted" } else { "switched to AWS_IAM" }
                ),
                UrlPolicy::Approval => "Public Function URLs only with an approved exception.".to_owned(),
            },
            Self::UrlCorsWildcard => "A Function URL's CORS names its origins (not *).".to_owned(),
            Self::PublicInvoke => {
                "No resource-policy statement lets anyone invoke the function outside its URL.".to_owned()
            }
            Self::OrphanUrlStatement => "No public URL statements without a URL.".to_owned(),
            Self::EnvironmentSecrets => "No secrets in environment variables.".to_owned(),
            Self::AdminRole => "No administrator-like managed policy on a function's role.".to_owned(),
            Self::SharedRole => "A role per function: no role shared by several.".to_owned(),
            Self::LogRetention => "Every log group has a retention period.".to_owned(),
        }
    }
}

/// The check platform teams already know that a kind mirrors, for the rule's help text.
pub fn mirrors(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::RequiredTag => "Security Hub Lambda.6 (tagged-lambda-function, requiredTagKeys)",
        RuleKind::Naming => "a naming convention (AWS Config custom rule)",
        RuleKind::AllowedRuntimes => "AWS Config lambda-function-settings-check (runtime)",
        RuleKind::DeprecatedRuntime => {
            "Security Hub Lambda.2; Prowler awslambda_function_using_supported_runtimes"
        }
        RuleKind::Architectures => "AWS Config lambda-function-settings-check",
        RuleKind::Memory | RuleKind::Timeout => {
            "AWS Config lambda-function-settings-check (memorySize, timeout)"
        }
        RuleKind::EphemeralStorage => "a cost bound on /tmp (billed per GB-second above 512 MB)",
        RuleKind::ReservedConcurrency => "AWS Config lambda-concurrency-check",
        RuleKind::PublicUrl => "Security Hub Lambda.1; Prowler awslambda_function_url_public",
        RuleKind::UrlCorsWildcard => "Prowler awslambda_function_url_cors_policy",
        RuleKind::PublicInvoke => {
            "Security Hub Lambda.1; AWS Config lambda-function-public-access-prohibited"
        }
        RuleKind::OrphanUrlStatement => {
            "statements a deleted URL left behind (terraform-provider-aws #38260)"
        }
        RuleKind::EnvironmentSecrets => {
            "Prowler awslambda_function_no_secrets_in_variables (critical)"
        }
        RuleKind::AdminRole => "Security Hub exposure finding: function with an admin-policy role",
        RuleKind::SharedRole => "least privilege: one execution role per function",
        RuleKind::LogRetention => "CloudWatch Logs retention (cost and compliance)",
    }
}

/// A rule as stored.
#[derive(Clone, Debug)]
pub struct Rule {
    pub rule_id: Uuid,
    pub check: Check,
    pub severity: Severity,
    pub team_id: Option<Uuid>,
    pub environment: Option<Stage>,
    pub lifecycle: Option<Lifecycle>,
    pub connection_id: Option<Uuid>,
    pub note: String,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
}

/// Every rule, oldest first.
pub async fn list_rules(pool: &PgPool) -> Result<Vec<Rule>> {
    let rows = sqlx::query!(
        r#"select rule_id, kind as "kind: RuleKind", severity as "severity: Severity", params,
                  team_id, environment as "environment: Stage", lifecycle as "lifecycle: Lifecycle",
                  connection_id, note, enabled, created_at
           from governance_rule order by created_at, rule_id"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Rule {
                rule_id: r.rule_id,
                check: Check::from_stored(r.kind, &r.params)?,
                severity: r.severity,
                team_id: r.team_id,
                environment: r.environment,
                lifecycle: r.lifecycle,
                connection_id: r.connection_id,
                note: r.note,
                enabled: r.enabled,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// Adds a rule from a form's fields (an admin's action, audited).
pub async fn create_rule(pool: &PgPool, actor: &Actor, input: &RuleInput) -> Result<Rule> {
    let kind: RuleKind = input.kind.trim().parse().map_err(|e| Error::unknown("kind", &e))?;
    let severity: Severity =
        input.severity.trim().parse().map_err(|e| Error::unknown("severity", &e))?;
    fn optional(raw: &str) -> Option<&str> {
        Some(raw.trim()).filter(|s| !s.is_empty())
    }
    let environment = optional(&input.environment)
        .map(str::parse::<Stage>)
        .transpose()
        .map_err(|e| Error::unknown("environment", &e))?;
    let lifecycle = optional(&input.lifecycle)
        .map(str::parse::<Lifecycle>)
        .transpose()
        .map_err(|e| Error::unknown("lifecycle", &e))?;
    let note = input.note.trim();
    if note.chars().count() > 500 {
        return Err(Error::invalid("note", "at most 500 characters"));
    }
    let check = Check::parse(kind, input)?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "insert into governance_rule
             (kind, severity, params, team_id, environment, lifecycle, connection_id, note, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         returning rule_id, created_at",
        kind as RuleKind,
        severity as Severity,
        check.params(),
        input.team_id,
        environment as Option<Stage>,
        lifecycle as Option<Lifecycle>,
        input.connection_id,
        note,
        actor.account_id,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            Error::invalid("team_id", "that team or connection does not exist")
        }
        _ => Error::Database(e),
    })?;
    audit::record(
        &mut tx,
        actor,
        "create_rule",
        &format!("rule:{}", row.rule_id),
        json!({ "kind": kind.as_str(), "severity": severity.as_str(), "params": check.params(),
                "team_id": input.team_id, "environment": environment, "lifecycle": lifecycle,
                "connection_id": input.connection_id }),
    )
    .await?;
    tx.commit().await?;
    super::violations::refresh_all_later(pool);
    Ok(Rule {
        rule_id: row.rule_id,
        check,
        severity,
        team_id: input.team_id,
        environment,
        lifecycle,
        connection_id: input.connection_id,
        note: note.to_owned(),
        enabled: true,
        created_at: row.created_at,
    })
}

/// Switches a rule on or off (an admin's action, audited).
pub async fn set_rule_enabled(
    pool: &PgPool,
    actor: &Actor,
    rule_id: Uuid,
    enabled: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let kind = sqlx::query_scalar!(
        "update governance_rule set enabled = $2 where rule_id = $1 returning kind",
        rule_id,
        enabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("rule"))?;
    let action = if enabled { "enable_rule" } else { "disable_rule" };
    audit::record(&mut tx, actor, action, &format!("rule:{rule_id}"), json!({ "kind": kind }))
        .await?;
    tx.commit().await?;
    super::violations::refresh_all_later(pool);
    Ok(())
}

/// Deletes a rule (an admin's action, audited with what it checked).
pub async fn delete_rule(pool: &PgPool, actor: &Actor, rule_id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "delete from governance_rule where rule_id = $1 returning kind, severity, params",
        rule_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("rule"))?;
    audit::record(
        &mut tx,
        actor,
        "delete_rule",
        &format!("rule:{rule_id}"),
        json!({ "kind": row.kind, "severity": row.severity, "params": row.params }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str) -> RuleInput {
        RuleInput { kind: kind.into(), severity: "error".into(), ..RuleInput::default() }
    }

    #[test]
    fn every_kind_round_trips_through_its_stored_params() {
        let mut cases = Vec::new();
        for kind in RuleKind::ALL {
            let mut i = input(kind.as_str());
            i.key = "cost-center".into();
            i.values = match kind {
                RuleKind::Architectures => "arm64".into(),
                _ => "python3.12, nodejs22.x".into(),
            };
            i.pattern = "[a-z]+-[0-9]+".into();
            i.min = "128".into();
            i.max = "512".into();
            i.policy = "expiry".into();
            i.max_hours = "24".into();
            i.on_expiry = "delete".into();
            let check = Check::parse(*kind, &i).expect("valid input");
            assert_eq!(check.kind(), *kind);
            assert_eq!(Check::from_stored(*kind, &check.params()).expect("reads back"), check);
            cases.push(check.describe());
        }
        assert!(cases.contains(&"Memory between 128 and 512 MB.".to_owned()), "{cases:?}");
    }

    #[test]
    fn bad_parameters_say_what_to_enter() {
        let field = |kind: RuleKind, i: RuleInput| match Check::parse(kind, &i) {
            Err(Error::Validation { field, message }) => format!("{field}: {message}"),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(RuleKind::RequiredTag, input("")),
            "key: the tag key to require, 1–128 characters"
        );
        let bad = RuleInput { pattern: "team-(".into(), ..input("") };
        assert!(field(RuleKind::Naming, bad).starts_with("pattern: not a valid pattern"));
        let upside_down = RuleInput { min: "512".into(), max: "128".into(), ..input("") };
        assert_eq!(field(RuleKind::Memory, upside_down), "max: the maximum is below the minimum");
        let too_long = RuleInput { max: "901".into(), ..input("") };
        assert_eq!(field(RuleKind::Timeout, too_long), "max: Lambda allows at most 900 seconds");
        let no_hours = RuleInput { policy: "expiry".into(), ..input("") };
        assert!(field(RuleKind::PublicUrl, no_hours).starts_with("max_hours:"));
        let policy = RuleInput { policy: "sometimes".into(), ..input("") };
        assert!(
            field(RuleKind::PublicUrl, policy)
                .starts_with("policy: \"sometimes\" is not a public URL policy")
        );
        let arch = RuleInput { values: "x86".into(), ..input("") };
        assert_eq!(field(RuleKind::Architectures, arch), "values: list x86_64, arm64 or both");
    }

    #[test]
    fn patterns_match_whole_names() {
        let p = Pattern::parse("pattern", "team-[a-z]+").expect("valid");
        assert!(p.matches("team-orders"));
        assert!(!p.matches("my-team-orders"), "anchored at the start");
        assert!(!p.matches("team-orders-2"), "anchored at the end");
        let alternation = Pattern::parse("pattern", "a|b").expect("valid");
        assert!(!alternation.matches("ab"), "the anchors hold around an alternation");
    }
}

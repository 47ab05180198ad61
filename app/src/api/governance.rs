//! The Governance page: the platform team's rules and AWS's runtime deprecation calendar. Every
//! function here is admin-only, checked on the server; every change is audited.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::forms::RuleForm;
use crate::types::{GovernanceView, ScopeChoices};

/// The rules (their scopes by name), the calendar and the hygiene reports.
#[server(endpoint = "governance")]
pub async fn governance() -> Result<GovernanceView, ApiError> {
    use super::ssr::*;
    use crate::types::{DeprecationView, RuleView};
    use backend::governance::{rules, runtimes};
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let all = rules::list_rules(pool).await.map_err(fail)?;
        let calendar = runtimes::list(pool).await.map_err(fail)?;
        let ScopeChoices { teams, connections } = scopes(pool).await?;
        let name_of = |list: &[(String, String)], id: uuid::Uuid| {
            let id = id.to_string();
            list.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or(id)
        };
        let today = time::OffsetDateTime::now_utc().date();
        let deprecations = backend::governance::hygiene::deprecation_report(pool)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|r| crate::types::RuntimeReportView {
                runtime: r.runtime,
                phase: r.phase.describe().to_owned(),
                next: r.next.map(|(what, on)| format!("{what} on {on}")),
                functions: r.functions,
            })
            .collect();
        let (unowned, first) = backend::governance::hygiene::unowned(pool).await.map_err(fail)?;
        Ok(GovernanceView {
            deprecations,
            unowned,
            unowned_first: first.into_iter().map(|(id, name)| (id.to_string(), name)).collect(),
            rules: all
                .into_iter()
                .map(|r| {
                    let mut scope = Vec::new();
                    if let Some(t) = r.team_id {
                        scope.push(format!("team {}", name_of(&teams, t)));
                    }
                    if let Some(e) = r.environment {
                        scope.push(format!("environment {e}"));
                    }
                    if let Some(l) = r.lifecycle {
                        scope.push(format!("lifecycle {l}"));
                    }
                    if let Some(c) = r.connection_id {
                        scope.push(format!("connection {}", name_of(&connections, c)));
                    }
                    RuleView {
                        rule_id: r.rule_id.to_string(),
                        kind: r.check.kind().to_string(),
                        severity: r.severity.to_string(),
                        summary: r.check.describe(),
                        scope: if scope.is_empty() {
                            "every function".to_owned()
                        } else {
                            scope.join(", ")
                        },
                        mirrors: rules::mirrors(r.check.kind()).to_owned(),
                        note: r.note,
                        enabled: r.enabled,
                    }
                })
                .collect(),
            calendar: calendar
                .into_iter()
                .map(|d| DeprecationView {
                    phase: d.phase(today).describe().to_owned(),
                    runtime: d.runtime,
                    deprecated_on: d.deprecated_on.to_string(),
                    block_create_on: d.block_create_on.map(|d| d.to_string()),
                    block_update_on: d.block_update_on.map(|d| d.to_string()),
                    source: d.source,
                    checked_on: d.checked_on.to_string(),
                })
                .collect(),
        })
    }
    .await;
    settle(result, |_| None).await
}

/// The teams and connections a rule can be scoped to, as (id, name), for the rule form.
#[server(endpoint = "rule_scopes")]
pub async fn rule_scopes() -> Result<ScopeChoices, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        scopes(&context()?.pool).await
    }
    .await;
    settle(result, |_| None).await
}

#[cfg(feature = "ssr")]
async fn scopes(pool: &backend::PgPool) -> Result<ScopeChoices, ApiError> {
    use super::ssr::fail;
    let teams: Vec<(String, String)> = backend::teams::list_teams(pool)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|t| (t.team_id.to_string(), t.name))
        .collect();
    let connections: Vec<(String, String)> = backend::connections::list(pool)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|c| (c.connection_id.to_string(), c.name))
        .collect();
    Ok(ScopeChoices { teams, connections })
}

/// Adds a rule. Fields a kind does not use may be left out.
#[server(endpoint = "create_rule")]
pub async fn create_rule(#[server(flatten)] form: RuleForm) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let input = backend::governance::RuleInput::try_from(form).map_err(fail)?;
        let rule =
            backend::governance::rules::create_rule(&context()?.pool, &actor(&admin), &input)
                .await
                .map_err(fail)?;
        Ok(rule.check.describe())
    }
    .await;
    settle(result, |summary| Some(rule_added_message(summary))).await
}

pub fn rule_added_message(summary: &String) -> String {
    format!("Rule added: {summary}")
}

/// Switches a rule on or off.
#[server(endpoint = "set_rule_enabled")]
pub async fn set_rule_enabled(rule_id: String, enabled: Option<String>) -> Result<bool, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let id = backend::input::id("rule_id", &rule_id).map_err(fail)?;
        let enabled = backend::input::ticked(enabled.as_deref());
        backend::governance::rules::set_rule_enabled(&context()?.pool, &actor(&admin), id, enabled)
            .await
            .map_err(fail)?;
        Ok(enabled)
    }
    .await;
    settle(result, |on| Some(switched_message(*on))).await
}

pub fn switched_message(on: bool) -> String {
    if on { "Rule switched on".to_owned() } else { "Rule switched off".to_owned() }
}

/// Deletes a rule, once confirmed.
#[server(endpoint = "delete_rule")]
pub async fn delete_rule(rule_id: String, confirm: Option<String>) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        confirmed(confirm.as_deref(), "deleting the rule")?;
        let id = backend::input::id("rule_id", &rule_id).map_err(fail)?;
        backend::governance::rules::delete_rule(&context()?.pool, &actor(&admin), id)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Rule deleted".to_owned())).await
}

/// Adds a runtime to the deprecation calendar or moves its dates (`YYYY-MM-DD`; the two block
/// dates may be empty when AWS has not announced them).
#[server(endpoint = "save_runtime_deprecation")]
pub async fn save_runtime_deprecation(
    runtime: String,
    deprecated_on: String,
    block_create_on: Option<String>,
    block_update_on: Option<String>,
    source: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let day = |field: &'static str, raw: &str| {
            time::Date::parse(raw.trim(), &format)
                .map_err(|_| fail(backend::Error::invalid(field, "a date as YYYY-MM-DD")))
        };
        let optional_day = |field: &'static str, raw: Option<String>| {
            raw.filter(|s| !s.trim().is_empty()).map(|s| day(field, &s)).transpose()
        };
        let entry = backend::governance::Deprecation {
            runtime,
            deprecated_on: day("deprecated_on", &deprecated_on)?,
            block_create_on: optional_day("block_create_on", block_create_on)?,
            block_update_on: optional_day("block_update_on", block_update_on)?,
            source,
            checked_on: time::OffsetDateTime::now_utc().date(),
        };
        backend::governance::runtimes::save(&context()?.pool, &actor(&admin), &entry)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Calendar saved".to_owned())).await
}

/// How many functions break each rule, by team and owner, and a page of those functions (50,
/// by name; only those breaking `rule` when given).
#[server(endpoint = "list_violations")]
pub async fn list_violations(
    rule: Option<String>,
    after: Option<String>,
) -> Result<crate::types::ViolationsView, ApiError> {
    use super::ssr::*;
    use crate::types::{RecordedFinding, ViolatingView, ViolationCount, ViolationsView};
    use backend::governance::{rules, violations};
    const PAGE: i64 = 50;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let rule_id = rule
            .filter(|r| !r.trim().is_empty())
            .map(|r| backend::input::id("rule", &r))
            .transpose()
            .map_err(fail)?;
        let after = match after.filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => {
                let (name, id) = a.rsplit_once('|').ok_or_else(|| {
                    fail(backend::Error::invalid("after", "not a page; start from the first"))
                })?;
                Some((name.to_owned(), backend::input::id("after", id).map_err(fail)?))
            }
        };
        let all_rules = rules::list_rules(pool).await.map_err(fail)?;
        let summary = violations::summary(pool).await.map_err(fail)?;
        let mut page =
            violations::list_violating(pool, rule_id, after, PAGE + 1).await.map_err(fail)?;
        let next = (page.len() as i64 > PAGE).then(|| {
            page.truncate(PAGE as usize);
            page.last().map(|v| format!("{}|{}", v.name, v.function_id)).unwrap_or_default()
        });
        let describe = |id: uuid::Uuid| {
            all_rules
                .iter()
                .find(|r| r.rule_id == id)
                .map(|r| (r.check.describe(), r.severity.to_string()))
                .unwrap_or_default()
        };
        let count = |label: Option<String>, none: &str, functions: i64| ViolationCount {
            rule_id: String::new(),
            label: label.unwrap_or_else(|| none.to_owned()),
            severity: String::new(),
            functions,
            change: None,
        };
        let days = violations::trend(pool, TREND_DAYS).await.map_err(fail)?;
        let week_ago = days
            .iter()
            .find(|d| d.day >= time::OffsetDateTime::now_utc().date() - time::Duration::days(7));
        let trend = trend_days(&days, summary.functions);
        Ok(ViolationsView {
            functions: summary.functions,
            by_rule: summary
                .by_rule
                .into_iter()
                .map(|(id, functions)| {
                    let (label, severity) = describe(id);
                    let change = week_ago
                        .map(|d| functions - d.by_rule.get(&id).copied().unwrap_or_default());
                    ViolationCount { rule_id: id.to_string(), label, severity, functions, change }
                })
                .collect(),
            by_team: summary.by_team.into_iter().map(|(t, n)| count(t, "no team", n)).collect(),
            by_owner: summary.by_owner.into_iter().map(|(o, n)| count(o, "no owner", n)).collect(),
            exceptions: exception_views(
                backend::governance::exceptions::list(pool, true, None).await.map_err(fail)?,
                &all_rules,
            ),
            approvers: backend::governance::exceptions::approvers(pool)
                .await
                .map_err(fail)?
                .as_str()
                .to_owned(),
            rule: rule_id.map(|id| describe(id).0),
            page: page
                .into_iter()
                .map(|v| ViolatingView {
                    function_id: v.function_id.to_string(),
                    name: v.name,
                    connection: v.connection,
                    region: v.region,
                    owner: v.owner,
                    team: v.team,
                    shadow: v.shadow,
                    ghost: v.ghost,
                    findings: v
                        .findings
                        .into_iter()
                        .map(|f| RecordedFinding {
                            rule_id: f.rule_id.to_string(),
                            severity: f.severity,
                            message: f.message,
                            fix: f.fix,
                            excepted: f.excepted,
                        })
                        .collect(),
                })
                .collect(),
            next,
            trend,
        })
    }
    .await;
    settle(result, |_| None).await
}

/// How far back the Violations view's trend goes.
#[cfg(feature = "ssr")]
const TREND_DAYS: i32 = 13;

/// The recorded days, then today at `today` functions, each with its change from the one before.
#[cfg(feature = "ssr")]
fn trend_days(
    days: &[backend::governance::violations::Day],
    today: i64,
) -> Vec<crate::types::TrendDay> {
    let today_date = time::OffsetDateTime::now_utc().date();
    let points =
        days.iter().map(|d| (d.day, d.functions)).chain(std::iter::once((today_date, today)));
    let mut before: Option<i64> = None;
    points
        .map(|(day, functions)| {
            let change = before.map(|b| functions - b);
            before = Some(functions);
            crate::types::TrendDay { day: day.to_string(), functions, change }
        })
        .collect()
}

/// Exceptions as the pages show them, each rule in words.
#[cfg(feature = "ssr")]
pub(crate) fn exception_views(
    list: Vec<backend::governance::exceptions::Exception>,
    rules: &[backend::governance::Rule],
) -> Vec<crate::types::ExceptionView> {
    list.into_iter()
        .map(|e| crate::types::ExceptionView {
            exception_id: e.exception_id.to_string(),
            function_id: e.function_id.to_string(),
            function_name: e.function_name,
            rule: rules
                .iter()
                .find(|r| r.rule_id == e.rule_id)
                .map(|r| r.check.describe())
                .unwrap_or_default(),
            requested_by: e.requested_by.unwrap_or_else(|| "a removed account".to_owned()),
            reason: e.reason,
            hours: e.hours,
            status: e.status,
            decided_by: e.decided_by,
            comment: e.comment,
            expires_at: e.expires_at.map(super::ssr::rfc3339),
        })
        .collect()
}

/// Asks for an exception to a rule for a function the caller may change.
#[server(endpoint = "request_exception")]
pub async fn request_exception(
    function_id: String,
    rule_id: String,
    reason: String,
    hours: String,
) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let account =
            require(&[backend::accounts::Role::Admin, backend::accounts::Role::Developer])?;
        let function_id = backend::input::id("function_id", &function_id).map_err(fail)?;
        let rule_id = backend::input::id("rule_id", &rule_id).map_err(fail)?;
        let hours = backend::input::whole_number("hours", &hours).map_err(fail)?;
        backend::governance::exceptions::request(
            &context()?.pool,
            &actor(&account),
            &account,
            function_id,
            rule_id,
            &reason,
            hours,
        )
        .await
        .map_err(fail)?;
        Ok(())
    }
    .await;
    settle(result, |()| Some("Exception requested: an approver decides".to_owned())).await
}

/// Approves (`decision=approve`) or rejects a pending request, with a comment.
#[server(endpoint = "decide_exception")]
pub async fn decide_exception(
    exception_id: String,
    decision: String,
    comment: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let account =
            require(&[backend::accounts::Role::Admin, backend::accounts::Role::Developer])?;
        let id = backend::input::id("exception_id", &exception_id).map_err(fail)?;
        let approve = match decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => return Err(fail(backend::Error::invalid("decision", "approve or reject"))),
        };
        backend::governance::exceptions::decide(
            &context()?.pool,
            &actor(&account),
            &account,
            id,
            approve,
            comment.as_deref().unwrap_or_default(),
        )
        .await
        .map_err(fail)?;
        Ok(if approve { "Exception approved".to_owned() } else { "Exception rejected".to_owned() })
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}

/// Sets who may approve exceptions: `admins`, or `team` (admins and the function's team).
#[server(endpoint = "set_exception_approvers")]
pub async fn set_exception_approvers(approvers: String) -> Result<(), ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        let approvers =
            backend::governance::exceptions::Approvers::parse(approvers.trim()).map_err(fail)?;
        backend::governance::exceptions::set_approvers(&context()?.pool, &actor(&admin), approvers)
            .await
            .map_err(fail)
    }
    .await;
    settle(result, |()| Some("Approvers saved".to_owned())).await
}

/// Log groups whose function is gone, in every connection and region, and roles the console made
/// that no function uses (asked of the cloud).
#[server(endpoint = "orphans")]
pub async fn orphans() -> Result<crate::types::OrphansView, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        let pool = &context()?.pool;
        let groups = backend::governance::orphans::orphan_log_groups(pool).await.map_err(fail)?;
        let roles = backend::labs::orphan_roles(pool).await.map_err(fail)?;
        Ok((groups, roles))
    }
    .await;
    let (report, roles) = settle(result, |_| None).await?;
    Ok(crate::types::OrphansView {
        roles: roles
            .into_iter()
            .map(|r| crate::types::OrphanRoleView {
                ledger_entry_id: r.ledger_entry_id.to_string(),
                connection: r.connection,
                name: r.name,
                owner: r.owner,
                created: rfc3339(r.created_at),
            })
            .collect(),
        groups: report
            .groups
            .into_iter()
            .map(|g| crate::types::OrphanLogGroupView {
                connection_id: g.connection_id.to_string(),
                connection: g.connection,
                region: g.region,
                name: g.name,
                stored_bytes: g.stored_bytes,
            })
            .collect(),
        unreachable: report.unreachable,
    })
}

/// Deletes one orphan log group (its function checked to be gone again), with the cloud's
/// confirmation. Admins only; audited.
#[server(endpoint = "delete_orphan_log_group")]
pub async fn delete_orphan_log_group(
    connection_id: String,
    region: String,
    name: String,
    confirm: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        confirmed(confirm.as_deref(), &format!("deleting {name}"))?;
        let connection_id = connection_id.trim().parse().map_err(|_| ApiError::Validation {
            field: "connection_id".into(),
            message: "choose a connection".into(),
        })?;
        backend::governance::orphans::delete_orphan_log_group(
            &context()?.pool,
            &actor(&admin),
            connection_id,
            &region,
            &name,
        )
        .await
        .map_err(fail)?;
        Ok(name)
    }
    .await;
    settle(result, |name| Some(format!("Deleted {name}; the cloud no longer lists it"))).await
}

/// Deletes a role the console made that no function uses, through its ledger entries (its policy
/// attachments, then the role) by a cleanup's rules. Admins only; audited.
#[server(endpoint = "delete_orphan_role")]
pub async fn delete_orphan_role(
    ledger_entry_id: String,
    confirm: Option<String>,
) -> Result<String, ApiError> {
    use super::ssr::*;
    use backend::labs::Outcome;
    let result = async {
        let admin = require(&[backend::accounts::Role::Admin])?;
        confirmed(confirm.as_deref(), "deleting the role")?;
        let id = ledger_entry_id.trim().parse().map_err(|_| ApiError::NotFound("role".into()))?;
        let results = backend::labs::clean_up_orphan_role(&context()?.pool, &actor(&admin), id)
            .await
            .map_err(fail)?;
        let role = results.iter().find(|(e, _)| e.kind == backend::labs::Kind::Role);
        match role {
            Some((e, Outcome::Deleted | Outcome::AlreadyGone)) => {
                Ok(format!("Deleted the role {}; the cloud no longer lists it", e.name))
            }
            Some((_, Outcome::Kept(why) | Outcome::NotOurs(why) | Outcome::Failed(why))) => {
                Err(ApiError::Refused(why.clone()))
            }
            None => Err(ApiError::NotFound("role".into())),
        }
    }
    .await;
    settle(result, |message| Some(message.clone())).await
}

/// What the catalogued functions cost over the last 30 days and the 30 before, per function and
/// per team (from the cloud's metrics; admins only).
#[server(endpoint = "cost_report", input = leptos::server_fn::codec::GetUrl)]
pub async fn cost_report() -> Result<crate::types::CostReportView, ApiError> {
    use super::ssr::*;
    let result = async {
        require(&[backend::accounts::Role::Admin])?;
        backend::governance::cost::report(&context()?.pool).await.map_err(fail)
    }
    .await;
    let report = settle(result, |_| None).await?;
    Ok(crate::types::CostReportView {
        functions: report
            .functions
            .into_iter()
            .map(|f| crate::types::FunctionCostView {
                function_id: f.function_id.to_string(),
                name: f.name,
                team: f.team,
                connection: format!("{} · {}", f.connection, f.region),
                architecture: f.architecture,
                memory_mb: f.memory_mb,
                requests: f.requests,
                gb_seconds: f.gb_seconds,
                cost: f.cost,
                previous_cost: f.previous_cost,
                init_cost: f.looked_at.as_ref().map(|l| l.init_cost),
                smaller: f.looked_at.as_ref().and_then(|l| {
                    l.memory.map(|(size, used, suggested)| (size, used, suggested, l.saving))
                }),
            })
            .collect(),
        teams: report
            .teams
            .into_iter()
            .map(|t| crate::types::TeamCostView {
                team: t.team,
                functions: t.functions,
                requests: t.requests,
                gb_seconds: t.gb_seconds,
                cost: t.cost,
                previous_cost: t.previous_cost,
            })
            .collect(),
        total: report.total,
        previous_total: report.previous_total,
        free_tier: report.free_tier,
        monthly: report.monthly,
        unread: report.unread,
        looked_at: backend::governance::cost::LOOKED_AT,
        prices_as_of: model::prices::AS_OF.to_owned(),
        prices_source: model::prices::SOURCE.to_owned(),
    })
}

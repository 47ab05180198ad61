//! Teams and their members. A function's team decides who besides its owner may change it.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result, ResultExt};

/// A team name: 1 to 64 characters, letters, digits, spaces, `-`, `_` and `.`, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "enter a team name"));
        }
        if name.chars().count() > 64 {
            return Err(Error::invalid("name", "use at most 64 characters"));
        }
        if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')) {
            return Err(Error::invalid("name", "use letters, digits, spaces, '-', '_' or '.'"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team with its members' emails.
#[derive(Clone, Debug)]
pub struct Team {
    pub team_id: Uuid,
    pub name: String,
    pub members: Vec<String>,
}

/// Every team, by name, with members.
pub async fn list_teams(pool: &PgPool) -> Result<Vec<Team>> {
    Ok(sqlx::query_as!(
        Team,
        r#"select t.team_id, t.name,
                  coalesce(array_agg(a.email order by a.email) filter (where a.email is not null), '{}')
                      as "members!"
           from team t
           left join team_member m on m.team_id = t.team_id
           left join account a on a.account_id = m.account_id
           group by t.team_id
           order by t.name"#
    )
    .fetch_all(pool)
    .await?)
}

/// The id of the team with this name.
pub async fn find_by_name(pool: &PgPool, name: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar!("select team_id from team where name = $1", name.trim())
        .fetch_optional(pool)
        .await?)
}

/// How many teams exist.
pub async fn count_teams(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(r#"select count(*) as "count!" from team"#).fetch_one(pool).await?)
}

/// The names of the teams an account belongs to.
pub async fn list_teams_of(pool: &PgPool, account_id: Uuid) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        "select t.name from team t join team_member m on m.team_id = t.team_id
         where m.account_id = $1 order by t.name",
        account_id
    )
    .fetch_all(pool)
    .await?)
}

pub async fn create_team(pool: &PgPool, actor: &Actor, name: &TeamName) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let team_id =
        sqlx::query_scalar!("insert into team (name) values ($1) returning team_id", name.as_str())
            .fetch_one(&mut *tx)
            .await
            .on_constraint("team_name_key", || {
                Error::Conflict(format!("a team named {:?} already exists", name.as_str()))
            })?;
    audit::record(
        &mut tx,
        actor,
        "create_team",
        &format!("team:{}", name.as_str()),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(team_id)
}

/// Adds an account to a team. Adding someone who is already a member is a conflict, said plainly.
pub async fn add_member(
    pool: &PgPool,
    actor: &Actor,
    team_id: Uuid,
    account_id: Uuid,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let team = sqlx::query_scalar!("select name from team where team_id = $1", team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let email = sqlx::query_scalar!("select email from account where account_id = $1", account_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("account"))?;
    sqlx::query!(
        "insert into team_member (team_id, account_id) values ($1, $2)",
        team_id,
        account_id
    )
    .execute(&mut *tx)
    .await
    .on_constraint("team_member_pkey", || {
        Error::Conflict(format!("{email} is already a member of {team}"))
    })?;
    audit::record(
        &mut tx,
        actor,
        "add_team_member",
        &format!("team:{team}"),
        serde_json::json!({ "member": email }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names_are_trimmed_and_checked() {
        assert_eq!(
            TeamName::parse("  Platform team ").ok().map(|n| n.0),
            Some("Platform team".into())
        );
        assert!(TeamName::parse("   ").is_err());
        assert!(TeamName::parse(&"x".repeat(65)).is_err());
        assert!(TeamName::parse("ops<script>").is_err());
    }
}

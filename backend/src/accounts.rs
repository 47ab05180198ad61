//! Accounts: who can sign in, with which role, and how their passwords are kept (argon2id).
//!
//! About 550 lines, a third of them tests: accounts, passwords and the checks a session or token
//! makes on each request belong together.

use std::fmt;
use std::sync::LazyLock;

use rand::distributions::{Alphanumeric, DistString};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result, ResultExt};

pub use model::Role;

mod passwords;

/// An email address, trimmed and lower-cased. Only the shape is checked: one `@`, something on
/// both sides, a dot in the domain, no spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self> {
        let email = raw.trim().to_lowercase();
        let invalid = || Error::invalid("email", "enter an email address like name@example.com");
        if email.is_empty() {
            return Err(Error::invalid("email", "enter an email address"));
        }
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || domain.contains('@') || !domain.contains('.') {
            return Err(invalid());
        }
        if domain.starts_with('.') || domain.ends_with('.') {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password chosen by a person. Long enough to resist guessing, short enough to hash cheaply.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 256;

    pub fn parse(raw: String) -> Result<Self> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(Error::invalid(
                "password",
                format!("use at least {} characters", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(Error::invalid(
                "password",
                format!("use at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(raw))
    }

    /// A random 20-character password, for accounts created by an admin or at first start.
    pub fn generate() -> Self {
        Self(Alphanumeric.sample_string(&mut rand::thread_rng(), 20))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// A signed-up person.
#[derive(Clone, Debug)]
pub struct Account {
    pub account_id: Uuid,
    pub email: String,
    pub role: Role,
    pub created_at: OffsetDateTime,
}

/// An account with the names of the teams it belongs to, for the admin page.
#[derive(Clone, Debug)]
pub struct AccountWithTeams {
    pub account: Account,
    pub teams: Vec<String>,
    pub disabled: bool,
}

struct AccountRow {
    account_id: Uuid,
    email: String,
    role: String,
    created_at: OffsetDateTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = Error;

    fn try_from(row: AccountRow) -> Result<Self> {
        Ok(Self {
            account_id: row.account_id,
            email: row.email,
            role: row.role.parse().map_err(|e| Error::unknown("role", &e))?,
            created_at: row.created_at,
        })
    }
}

/// Hashes with argon2id off the async threads: a hash takes tens of milliseconds of CPU.
async fn hash_password(password: &NewPassword) -> Result<String> {
    let password = password.0.clone();
    passwords::hashing(move || passwords::hash(password.as_bytes())).await?
}

/// A hash of a password nobody has, verified when the email is unknown so that a wrong email and a
/// wrong password take the same time.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    passwords::hash(b"not a password anyone has")
        .expect("argon2 with default parameters hashes any input")
});

async fn verify_password(password: String, hash: String) -> Result<bool> {
    passwords::hashing(move || passwords::verify(password.as_bytes(), &hash)).await?
}

/// How many accounts exist; used once at start-up to decide whether to create the first admin.
pub async fn count_accounts(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(r#"select count(*) as "count!" from account"#).fetch_one(pool).await?)
}

/// Creates an account and audits it, in one transaction.
pub async fn create_account(
    pool: &PgPool,
    actor: &Actor,
    email: &EmailAddress,
    password: &NewPassword,
    role: Role,
) -> Result<Account> {
    let password_hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query_as!(
        AccountRow,
        r#"insert into account (email, password_hash, role) values ($1, $2, $3)
           returning account_id, email, role, created_at"#,
        email.as_str(),
        password_hash,
        role.as_str(),
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("account_email_key", || {
        Error::Conflict(format!("an account with the email {email} already exists"))
    })?;
    let account = Account::try_from(row)?;
    audit::record(
        &mut tx,
        actor,
        "create_account",
        &format!("account:{}", account.email),
        serde_json::json!({ "role": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Checks an email and password. `Ok(None)` when either is wrong: the caller cannot tell which.
/// A disabled account is refused (said only to someone who knows its password).
pub async fn authenticate(pool: &PgPool, email: &str, password: &str) -> Result<Option<Account>> {
    let email = email.trim().to_lowercase();
    let row = sqlx::query!(
        r#"select account_id, email, role, created_at, password_hash,
                  disabled_at is not null as "disabled!"
           from account where email = $1"#,
        email
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        verify_password(password.to_owned(), DUMMY_HASH.clone()).await?;
        return Ok(None);
    };
    if !verify_password(password.to_owned(), row.password_hash).await? {
        return Ok(None);
    }
    if row.disabled {
        return Err(Error::Refused("this account is disabled; ask an admin".into()));
    }
    Account::try_from(AccountRow {
        account_id: row.account_id,
        email: row.email,
        role: row.role,
        created_at: row.created_at,
    })
    .map(Some)
}

/// The account with this id, if it still exists and is not disabled.
pub async fn get_account(pool: &PgPool, account_id: Uuid) -> Result<Option<Account>> {
    sqlx::query_as!(
        AccountRow,
        "select account_id, email, role, created_at from account
         where account_id = $1 and disabled_at is null",
        account_id
    )
    .fetch_optional(pool)
    .await?
    .map(Account::try_from)
    .transpose()
}

/// The account a session signed in at `signed_in_at` belongs to: `None` once the account is
/// gone or disabled, or its password was reset or changed since (the session then ends).
pub async fn session_account(
    pool: &PgPool,
    account_id: Uuid,
    signed_in_at: OffsetDateTime,
) -> Result<Option<Account>> {
    sqlx::query_as!(
        AccountRow,
        "select account_id, email, role, created_at from account
         where account_id = $1 and disabled_at is null
           and (credentials_changed_at is null or credentials_changed_at <= $2)",
        account_id,
        signed_in_at
    )
    .fetch_optional(pool)
    .await?
    .map(Account::try_from)
    .transpose()
}

/// Every account, oldest first, with its teams.
/// The account with this (lower-cased) email.
pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<Account>> {
    sqlx::query_as!(
        AccountRow,
        "select account_id, email, role, created_at from account where email = $1",
        email.trim().to_lowercase()
    )
    .fetch_optional(pool)
    .await?
    .map(Account::try_from)
    .transpose()
}

pub async fn list_accounts(pool: &PgPool) -> Result<Vec<AccountWithTeams>> {
    let rows = sqlx::query!(
        r#"select a.account_id, a.email, a.role, a.created_at, a.disabled_at is not null as "disabled!",
                  coalesce(array_agg(t.name order by t.name) filter (where t.name is not null), '{}')
                      as "teams!"
           from account a
           left join team_member m on m.account_id = a.account_id
           left join team t on t.team_id = m.team_id
           group by a.account_id
           order by a.created_at, a.email"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let account = Account::try_from(AccountRow {
                account_id: row.account_id,
                email: row.email,
                role: row.role,
                created_at: row.created_at,
            })?;
            Ok(AccountWithTeams { account, teams: row.teams, disabled: row.disabled })
        })
        .collect()
}

/// Changes an account's role. The last admin cannot be demoted: someone must be able to govern.
pub async fn set_role(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    role: Role,
) -> Result<Account> {
    let mut tx = pool.begin().await?;
    // Lock every admin row so two concurrent demotions cannot both see "another admin remains".
    let admins =
        sqlx::query_scalar!("select account_id from account where role = 'admin' for update")
            .fetch_all(&mut *tx)
            .await?;
    let before = sqlx::query_scalar!(
        "select role from account where account_id = $1 for update",
        account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("account"))?;
    if role != Role::Admin && admins == [account_id] {
        return Err(Error::Conflict(
            "this is the only admin; make another account admin first".to_owned(),
        ));
    }
    let row = sqlx::query_as!(
        AccountRow,
        "update account set role = $2 where account_id = $1
         returning account_id, email, role, created_at",
        account_id,
        role.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    let account = Account::try_from(row)?;
    audit::record(
        &mut tx,
        actor,
        "set_role",
        &format!("account:{}", account.email),
        serde_json::json!({ "before": before, "after": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// Disables an account (its sessions and API tokens stop at its next request) or enables it
/// again. Nobody disables themselves, and the last enabled admin stays.
pub async fn set_disabled(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    disabled: bool,
) -> Result<()> {
    if disabled && actor.account_id == Some(account_id) {
        return Err(Error::Conflict("you cannot disable your own account".to_owned()));
    }
    let mut tx = pool.begin().await?;
    let admins = sqlx::query_scalar!(
        "select account_id from account where role = 'admin' and disabled_at is null for update"
    )
    .fetch_all(&mut *tx)
    .await?;
    if disabled && admins == [account_id] {
        return Err(Error::Conflict(
            "this is the only enabled admin; make another account admin first".to_owned(),
        ));
    }
    let email = sqlx::query_scalar!(
        "update account set disabled_at = case when $2 then coalesce(disabled_at, now()) end
         where account_id = $1 returning email",
        account_id,
        disabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("account"))?;
    audit::record(
        &mut tx,
        actor,
        if disabled { "disable_account" } else { "enable_account" },
        &format!("account:{email}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password (an admin's reset: a generated one, shown once), ending the account's
/// sessions; audited, without the password.
pub async fn reset_password(pool: &PgPool, actor: &Actor, account_id: Uuid) -> Result<NewPassword> {
    let password = NewPassword::generate();
    store_password(pool, actor, account_id, &password, "reset_password").await?;
    Ok(password)
}

/// Changes one's own password after checking the current one. The caller's other sessions end;
/// the caller starts a fresh session for the one in use.
pub async fn change_password(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    current: &str,
    new: &NewPassword,
) -> Result<()> {
    let hash =
        sqlx::query_scalar!("select password_hash from account where account_id = $1", account_id)
            .fetch_optional(pool)
            .await?
            .ok_or(Error::NotFound("account"))?;
    if !verify_password(current.to_owned(), hash).await? {
        return Err(Error::invalid("current_password", "that is not your current password"));
    }
    store_password(pool, actor, account_id, new, "change_password").await
}

async fn store_password(
    pool: &PgPool,
    actor: &Actor,
    account_id: Uuid,
    password: &NewPassword,
    action: &str,
) -> Result<()> {
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let email = sqlx::query_scalar!(
        "update account set password_hash = $2, credentials_changed_at = now()
         where account_id = $1 returning email",
        account_id,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("account"))?;
    audit::record(&mut tx, actor, action, &format!("account:{email}"), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Ada@Example.COM ").map(|e| e.0).ok(),
            Some("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn roles_round_trip_and_unknown_roles_are_refused() {
        for &role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_have_bounds_and_generated_ones_meet_them() {
        assert!(NewPassword::parse("short".into()).is_err());
        assert!(NewPassword::parse("x".repeat(257)).is_err());
        assert!(NewPassword::parse("long enough pass".into()).is_ok());
        let generated = NewPassword::generate();
        assert!(NewPassword::parse(generated.expose().to_owned()).is_ok());
        assert_ne!(generated.expose(), NewPassword::generate().expose());
    }
}

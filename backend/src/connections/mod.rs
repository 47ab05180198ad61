//! Connections: where functions live. The embedded engine (the default, named "Local"), a real
//! AWS account (the standard credential chain or a named profile), or any Lambda-compatible
//! endpoint with keys. Every cloud call is made by an AWS SDK client built here from one: the
//! engine is just another endpoint.
//!
//! Here: a connection's checks, create, edit and archive (editing reuses the checks of creating,
//! beside them); `removal` — what removing one takes, and removing it; `sdk` — its SDK clients,
//! their shared configurations, and the Test.

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{Error, Result, ResultExt};

mod removal;
mod sdk;

pub use removal::*;
pub use sdk::*;

/// What kind of place a connection points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The engine embedded in this console.
    Engine,
    /// A real AWS account through the standard credential chain.
    Aws,
    /// Any endpoint that speaks Lambda's API (LocalStack, moto, another Lambdaport engine).
    Endpoint,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Engine => "engine",
            Self::Aws => "aws",
            Self::Endpoint => "endpoint",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "engine" => Ok(Self::Engine),
            "aws" => Ok(Self::Aws),
            "endpoint" => Ok(Self::Endpoint),
            _ => Err(Error::invalid("kind", "choose the engine, an AWS account or an endpoint")),
        }
    }
}

/// A connection as the console keeps it (the secret key never leaves the server).
#[derive(Clone, Debug)]
pub struct Connection {
    pub connection_id: Uuid,
    pub name: String,
    pub kind: Kind,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub access_key_id: Option<String>,
    secret_access_key: Option<String>,
    pub cloud_account_id: Option<String>,
    pub is_default: bool,
    /// Whether an admin lets learners run labs here (the embedded engine by default).
    pub learners: bool,
    /// The existing roles (names or ARNs) a lab may use here; empty: any role that trusts Lambda.
    pub allowed_roles: Vec<String>,
    /// Archived: kept with its ledger and history, offered for nothing new.
    pub archived: bool,
    /// Why the last Test failed (`None` when it passed, or was never run).
    pub test_error: Option<String>,
    /// How long one cloud call may take, retries included ([`OPERATION_TIMEOUT`]).
    pub operation_timeout: std::time::Duration,
}

/// How long connecting to a cloud endpoint may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one cloud call may take, retries included: a hanging endpoint costs a request this
/// much at most, never a database connection (none is held across a cloud call). An Invoke
/// waits for its function instead (see `labs`).
pub const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What an admin enters to add a connection.
#[derive(Clone, Debug, Default)]
pub struct NewConnection {
    pub name: String,
    pub kind: String,
    pub endpoint_url: String,
    pub profile: String,
    pub regions: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The embedded engine's keys: it accepts any signature by them.
const ENGINE_KEY: (&str, &str) = ("test", "test");

/// Whether `region` is shaped like a region AWS names (and LocalStack and the engine accept):
/// a geography, an optional partition, a direction and a number — `us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-northwest-1`. Typos such as `us-esat-1`, `useast1` or `us-east` are not.
fn valid_region(region: &str) -> bool {
    const GEOGRAPHIES: [&str; 10] = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn"];
    const DIRECTIONS: [&str; 9] = [
        "east",
        "west",
        "north",
        "south",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = region.split('-').collect();
    let (geography, partition, direction, number) = match parts.as_slice() {
        [g, d, n] => (*g, None, *d, *n),
        [g, p, d, n] => (*g, Some(*p), *d, *n),
        _ => return false,
    };
    GEOGRAPHIES.contains(&geography)
        && partition.is_none_or(|p| p == "gov" || (p.starts_with("iso") && p.len() <= 6))
        && DIRECTIONS.contains(&direction)
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

impl NewConnection {
    /// Checks every field, with a message that says how to fix it.
    fn validate(&self) -> Result<(Kind, Vec<String>)> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::invalid("name", "enter a name of 1 to 64 characters"));
        }
        let kind = Kind::parse(&self.kind)?;
        let regions: Vec<String> = self
            .regions
            .split([',', ' '])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        if regions.is_empty() {
            return Err(Error::invalid("regions", "enter at least one region, e.g. us-east-1"));
        }
        if let Some(bad) = regions.iter().find(|r| !valid_region(r)) {
            return Err(Error::invalid(
                "regions",
                format!(
                    "'{bad}' is not a region name; write them as AWS does, e.g. us-east-1, eu-west-2"
                ),
            ));
        }
        if kind != Kind::Aws {
            let url = self.endpoint_url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(Error::invalid(
                    "endpoint_url",
                    "enter the endpoint's URL, e.g. http://127.0.0.1:4566",
                ));
            }
        }
        // An endpoint or another engine has no credential chain of its own to fall back on.
        if kind != Kind::Aws && self.access_key_id.trim().is_empty() {
            return Err(Error::invalid(
                "access_key_id",
                "an endpoint needs an access key id and its secret (LocalStack takes test / test)",
            ));
        }
        if kind == Kind::Aws
            && !self
                .profile
                .trim()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(Error::invalid(
                "profile",
                "a profile name is letters, digits, '-', '_' and '.', as in ~/.aws/config",
            ));
        }
        if self.access_key_id.trim().is_empty() != self.secret_access_key.is_empty() {
            return Err(Error::invalid(
                "secret_access_key",
                "enter both the access key id and its secret, or neither",
            ));
        }
        Ok((kind, regions))
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

struct Row {
    connection_id: Uuid,
    name: String,
    kind: String,
    endpoint_url: Option<String>,
    profile: Option<String>,
    regions: Vec<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    cloud_account_id: Option<String>,
    is_default: bool,
    learners: bool,
    allowed_roles: Vec<String>,
    archived: bool,
    test_error: Option<String>,
}

impl TryFrom<Row> for Connection {
    type Error = Error;

    fn try_from(row: Row) -> Result<Self> {
        Ok(Self {
            connection_id: row.connection_id,
            name: row.name,
            kind: Kind::parse(&row.kind)?,
            endpoint_url: row.endpoint_url,
            profile: row.profile,
            regions: row.regions,
            access_key_id: row.access_key_id,
            secret_access_key: row.secret_access_key,
            cloud_account_id: row.cloud_account_id,
            is_default: row.is_default,
            learners: row.learners,
            allowed_roles: row.allowed_roles,
            archived: row.archived,
            test_error: row.test_error,
            operation_timeout: OPERATION_TIMEOUT,
        })
    }
}

/// Every connection not removed, the default first.
pub async fn list(pool: &PgPool) -> Result<Vec<Connection>> {
    let rows = sqlx::query_as!(
        Row,
        r#"select connection_id, name, kind, endpoint_url, profile, regions, access_key_id,
                secret_access_key, cloud_account_id, is_default, learners, allowed_roles,
                archived_at is not null as "archived!", test_error
         from connection where removed_at is null
         order by archived_at is not null, is_default desc, name"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Connection::try_from).collect()
}

pub async fn get(pool: &PgPool, connection_id: Uuid) -> Result<Connection> {
    let row = sqlx::query_as!(
        Row,
        r#"select connection_id, name, kind, endpoint_url, profile, regions, access_key_id,
                secret_access_key, cloud_account_id, is_default, learners, allowed_roles,
                archived_at is not null as "archived!", test_error
         from connection where connection_id = $1"#,
        connection_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound("connection"))?;
    row.try_into()
}

/// Makes sure the default connection "Local" points at the embedded engine at `endpoint_url`
/// (its address can change between starts), signing with the engine's default key. Returns its id.
pub async fn ensure_local(pool: &PgPool, endpoint_url: &str, region: &str) -> Result<Uuid> {
    ensure_local_signed_by(pool, endpoint_url, region, ENGINE_KEY).await
}

/// [`ensure_local`] for an engine started with its own access keys: Local signs with `key`.
pub async fn ensure_local_signed_by(
    pool: &PgPool,
    endpoint_url: &str,
    region: &str,
    key: (&str, &str),
) -> Result<Uuid> {
    let mut tx = pool.begin().await?;
    let existing = sqlx::query_scalar!(
        "select connection_id from connection where kind = 'engine' and name = 'Local'"
    )
    .fetch_optional(&mut *tx)
    .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query!(
                "update connection set endpoint_url = $2, access_key_id = $3, secret_access_key = $4
                 where connection_id = $1
                   and (endpoint_url, access_key_id, secret_access_key) is distinct from ($2, $3, $4)",
                id,
                endpoint_url,
                key.0,
                key.1
            )
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let has_default = sqlx::query_scalar!(
                r#"select exists(select 1 from connection where is_default) as "exists!""#
            )
            .fetch_one(&mut *tx)
            .await?;
            let id = sqlx::query_scalar!(
                "insert into connection (name, kind, endpoint_url, regions, access_key_id, secret_access_key, is_default, learners)
                 values ('Local', 'engine', $1, array[$2], $3, $4, $5, true) returning connection_id",
                endpoint_url,
                region,
                key.0,
                key.1,
                !has_default
            )
            .fetch_one(&mut *tx)
            .await?;
            audit::record(
                &mut tx,
                &Actor::system(),
                "connection.create",
                &format!("connection:{id}"),
                serde_json::json!({ "name": "Local", "kind": "engine", "endpoint_url": endpoint_url }),
            )
            .await?;
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Adds a connection (admins only; the caller checks the role).
pub async fn create(pool: &PgPool, actor: &Actor, new: &NewConnection) -> Result<Uuid> {
    let (kind, regions) = new.validate()?;
    let mut tx = pool.begin().await?;
    let endpoint = (kind != Kind::Aws).then(|| new.endpoint_url.trim().to_owned());
    let id = sqlx::query_scalar!(
        "insert into connection (name, kind, endpoint_url, profile, regions, access_key_id, secret_access_key)
         values ($1, $2, $3, $4, $5, $6, $7) returning connection_id",
        new.name.trim(),
        kind.as_str(),
        endpoint,
        non_empty(&new.profile),
        &regions,
        non_empty(&new.access_key_id),
        (!new.secret_access_key.is_empty()).then_some(new.secret_access_key.as_str()),
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("connection_name_key", || {
        Error::invalid("name", "a connection with this name exists; choose another")
    })?;
    audit::record(
        &mut tx,
        actor,
        "connection.create",
        &format!("connection:{id}"),
        serde_json::json!({ "name": new.name.trim(), "kind": kind.as_str(), "endpoint_url": endpoint, "regions": regions }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What an admin changes on a connection. An empty secret keeps the current one, so rotating
/// keys means entering the new key id with its secret. The Local engine's address and keys are
/// the console's to set at each start, so only its learner flag and roles change here.
#[derive(Clone, Debug, Default)]
pub struct ConnectionEdit {
    pub name: String,
    pub endpoint_url: String,
    pub profile: String,
    pub regions: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub learners: bool,
    /// Role names or ARNs, separated by commas, spaces or lines.
    pub allowed_roles: String,
}

/// Changes a connection (admins only; the caller checks the role), audited without secrets.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    connection_id: Uuid,
    edit: &ConnectionEdit,
) -> Result<()> {
    let current = get(pool, connection_id).await?;
    let allowed_roles: Vec<String> = edit
        .allowed_roles
        .split([',', ' ', '\n', '\r'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = allowed_roles.iter().find(|r| {
        !(r.starts_with("arn:") && r.contains(":role/")
            || r.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)))
    }) {
        return Err(Error::invalid("allowed_roles", format!("'{bad}' is not a role name or ARN")));
    }
    let local = current.kind == Kind::Engine && current.name == "Local";
    let key_id = edit.access_key_id.trim();
    let secret = match (edit.secret_access_key.is_empty(), &current.secret_access_key) {
        (false, _) => Some(edit.secret_access_key.clone()),
        (true, Some(kept)) if current.access_key_id.as_deref() == Some(key_id) => {
            Some(kept.clone())
        }
        (true, _) if key_id.is_empty() => None,
        (true, _) => {
            return Err(Error::invalid(
                "secret_access_key",
                "a new access key id needs its secret access key",
            ));
        }
    };
    let checked = NewConnection {
        name: edit.name.clone(),
        kind: current.kind.as_str().to_owned(),
        endpoint_url: edit.endpoint_url.clone(),
        profile: edit.profile.clone(),
        regions: edit.regions.clone(),
        access_key_id: key_id.to_owned(),
        secret_access_key: secret.clone().unwrap_or_default(),
    };
    let (name, endpoint, profile, regions, key_id, secret) = if local {
        let c = current.clone();
        (c.name, c.endpoint_url, c.profile, c.regions, c.access_key_id, c.secret_access_key)
    } else {
        let (kind, regions) = checked.validate()?;
        (
            checked.name.trim().to_owned(),
            (kind != Kind::Aws).then(|| checked.endpoint_url.trim().to_owned()),
            non_empty(&checked.profile),
            regions,
            non_empty(key_id),
            secret,
        )
    };
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update connection set name = $2, endpoint_url = $3, profile = $4, regions = $5,
                access_key_id = $6, secret_access_key = $7, learners = $8, allowed_roles = $9
         where connection_id = $1",
        connection_id,
        name,
        endpoint,
        profile,
        &regions,
        key_id,
        secret,
        edit.learners,
        &allowed_roles
    )
    .execute(&mut *tx)
    .await
    .on_constraint("connection_name_key", || {
        Error::invalid("name", "a connection with this name exists; choose another")
    })?;
    let rotated = key_id != current.access_key_id
        || secret.as_deref() != current.secret_access_key.as_deref();
    audit::record(
        &mut tx,
        actor,
        "connection.update",
        &format!("connection:{connection_id}"),
        serde_json::json!({
            "name": name, "endpoint_url": endpoint, "profile": profile, "regions": regions,
            "access_key_id": key_id, "keys_rotated": rotated,
            "learners": edit.learners, "allowed_roles": allowed_roles,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Archives a connection (or brings it back): kept with its ledger, lab runs and catalog
/// history, offered for nothing new. This is what to do with one that still has resources.
pub async fn set_archived(
    pool: &PgPool,
    actor: &Actor,
    connection_id: Uuid,
    archived: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update connection set archived_at = case when $2 then coalesce(archived_at, now()) end
         where connection_id = $1 and not (is_default and $2) returning name",
        connection_id,
        archived
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        Error::Conflict("the default connection cannot be archived (or it does not exist)".into())
    })?;
    audit::record(
        &mut tx,
        actor,
        if archived { "connection.archive" } else { "connection.restore" },
        &format!("connection:{connection_id}"),
        serde_json::json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_connections_are_checked_field_by_field() {
        let good = NewConnection {
            name: "LocalStack".into(),
            kind: "endpoint".into(),
            endpoint_url: "http://127.0.0.1:4566".into(),
            regions: "us-east-1, eu-west-1".into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            ..NewConnection::default()
        };
        let (kind, regions) = good.validate().expect("valid");
        assert_eq!((kind, regions.len()), (Kind::Endpoint, 2));
        let field = |c: NewConnection| match c.validate() {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(field(NewConnection { regions: "moon-1".into(), ..good.clone() }), "regions");
        assert_eq!(
            field(NewConnection { endpoint_url: "ftp://x".into(), ..good.clone() }),
            "endpoint_url"
        );
        assert_eq!(
            field(NewConnection { secret_access_key: String::new(), ..good.clone() }),
            "secret_access_key"
        );
        assert_eq!(field(NewConnection { kind: "gcp".into(), ..good.clone() }), "kind");
        assert_eq!(field(NewConnection { name: " ".into(), ..good.clone() }), "name");
        // Each kind asks for what it needs: an endpoint its keys, an AWS account a profile name.
        let keyless = NewConnection {
            access_key_id: String::new(),
            secret_access_key: String::new(),
            ..good.clone()
        };
        assert_eq!(field(keyless.clone()), "access_key_id");
        let aws = NewConnection { kind: "aws".into(), endpoint_url: String::new(), ..keyless };
        assert_eq!(aws.validate().expect("the credential chain").0, Kind::Aws);
        assert_eq!(field(NewConnection { profile: "my profile".into(), ..aws }), "profile");
        for typo in ["us-esat-1", "useast1", "us-east", "us-east-1a", "EU-west-1", "moon-east-1"] {
            assert_eq!(field(NewConnection { regions: typo.into(), ..good.clone() }), "regions");
        }
    }

    #[test]
    fn regions_are_shaped_as_aws_names_them() {
        for region in
            ["us-east-1", "eu-central-2", "ap-southeast-5", "us-gov-west-1", "cn-northwest-1"]
        {
            assert!(valid_region(region), "{region}");
        }
        for region in ["us-esat-1", "us-east-", "us--east-1", "us-east-100", "xx-east-1", "us"] {
            assert!(!valid_region(region), "{region}");
        }
    }
}

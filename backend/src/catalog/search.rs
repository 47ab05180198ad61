//! Finding functions: the catalog page's filters, full-text search, keyset pages and facets.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// One row of the catalog page.
#[derive(Clone, Debug)]
pub struct CatalogEntry {
    pub function_id: Uuid,
    pub name: String,
    pub connection: String,
    pub region: String,
    pub runtime: Option<String>,
    pub state: Option<String>,
    pub description: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub lifecycle: String,
    pub environment: String,
    pub url_auth_type: Option<String>,
    pub tags: serde_json::Value,
    pub tracked: bool,
    pub gone: bool,
    pub drift: bool,
    /// How many error-level governance findings it has (enabled rules, as last evaluated).
    pub violations: i64,
    pub updated_at: OffsetDateTime,
    /// For a shadow: the owner its `lambdaport:owner` tag names, to offer at import.
    pub suggested_owner: Option<String>,
    /// For a shadow: what import would adopt from its `lambdaport:*` tags.
    pub adoption: Vec<Adopted>,
}

/// One `lambdaport:*` tag of a shadow, as import would take it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adopted {
    /// `owner`, `team`, `lifecycle` or `environment`.
    pub field: &'static str,
    pub value: String,
    /// Why import would leave it out, when it would.
    pub problem: Option<&'static str>,
}

impl Adopted {
    /// What a shadow's tags say, from the row's `adoption` object (see `page`'s select).
    fn all(adoption: Option<serde_json::Value>) -> Vec<Adopted> {
        let Some(a) = adoption else { return Vec::new() };
        let text = |key: &str| a.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let known = |key: &str| a.get(key).and_then(serde_json::Value::as_bool).unwrap_or(false);
        let mut all = Vec::new();
        if let Some(value) = text("owner") {
            let problem = (!known("owner_known"))
                .then_some("no account has this email: the importer names the owner");
            all.push(Adopted { field: "owner", value, problem });
        }
        if let Some(value) = text("team") {
            let problem = (!known("team_known")).then_some("no team has this name: left out");
            all.push(Adopted { field: "team", value, problem });
        }
        if let Some(value) = text("lifecycle") {
            let problem = value
                .parse::<model::Lifecycle>()
                .is_err()
                .then_some("not a lifecycle (experimental, production or deprecated): left out");
            all.push(Adopted { field: "lifecycle", value, problem });
        }
        if let Some(value) = text("environment") {
            let problem = value
                .parse::<model::Stage>()
                .is_err()
                .then_some("not an environment (dev, staging or prod): left out");
            all.push(Adopted { field: "environment", value, problem });
        }
        all
    }
}

impl CatalogEntry {
    /// The tags as text (a tag that is not a string reads as empty).
    pub fn tag_map(&self) -> std::collections::BTreeMap<String, String> {
        self.tags
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    }
}

/// What the catalog page asks for; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub text: Option<String>,
    pub owner: Option<Uuid>,
    pub team: Option<Uuid>,
    pub runtime: Option<String>,
    pub state: Option<String>,
    pub lifecycle: Option<String>,
    pub environment: Option<String>,
    pub connection: Option<Uuid>,
    pub region: Option<String>,
    /// `key=value`: functions with that tag.
    pub tag: Option<(String, String)>,
    pub has_public_url: bool,
    /// Shadows (found in the cloud, not imported) instead of the catalog.
    /// Only functions whose cloud tags disagree with the catalog.
    pub drifted: bool,
    /// Only functions that break an enabled governance rule (of a kind, or one rule).
    pub violates: Option<Violates>,
    pub shadows: bool,
    pub sort: Sort,
    /// Keyset cursor: the last row of the previous page, as (name, id) by name, or (updated_at
    /// in microseconds since the epoch, id) by update.
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
    /// When the catalog is restricted: only functions this account or its teams own.
    pub visible_to: Option<Uuid>,
}

/// Which governance rules a `violates` filter means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violates {
    Any,
    Kind(model::RuleKind),
    Rule(Uuid),
}

impl Violates {
    fn parse(raw: &str) -> crate::Result<Self> {
        if raw == "any" || raw == "1" {
            return Ok(Self::Any);
        }
        if let Ok(id) = raw.parse() {
            return Ok(Self::Rule(id));
        }
        raw.parse().map(Self::Kind).map_err(|_| {
            crate::Error::invalid(
                "violates",
                "any, a rule kind such as required_tag, or a rule's id",
            )
        })
    }
}

/// The order of a catalog page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name, A to Z.
    #[default]
    Name,
    /// Most recently changed first.
    Updated,
}

/// How the text filter matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Text {
    /// Plain words (letters and digits): each one a word or the start of one, so `order` finds
    /// `orders-api`. The `to_tsquery` text, e.g. `order:* & api:*`.
    Prefixes(String),
    /// Anything else (`or`, `-word`, quotes, hyphens): Postgres's web search syntax, whole words.
    Web(String),
    /// When no word matched: names that contain the text anywhere, as an `ilike` pattern.
    NameContains(String),
}

impl Text {
    fn of(text: &str) -> Self {
        let words: Vec<&str> = text.split_whitespace().collect();
        let plain =
            words.iter().all(|w| plain_lexeme(w).is_some() && !w.eq_ignore_ascii_case("or"));
        if plain {
            let query = words
                .iter()
                .map(|w| format!("{}:*", w.to_ascii_lowercase()))
                .collect::<Vec<_>>()
                .join(" & ");
            Text::Prefixes(query)
        } else {
            Text::Web(text.to_owned())
        }
    }

    /// The fallback when nothing matched `text` by words: names containing it.
    fn name_contains(text: &str) -> Self {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        Text::NameContains(format!("%{escaped}%"))
    }

    fn push(&self, sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>) {
        match self {
            Text::Prefixes(query) => sql
                .push(" and f.search @@ to_tsquery('simple', ")
                .push_bind(query.clone())
                .push(")"),
            Text::Web(text) => sql
                .push(" and f.search @@ websearch_to_tsquery('simple', ")
                .push_bind(text.clone())
                .push(")"),
            Text::NameContains(pattern) => {
                sql.push(" and f.name ilike ").push_bind(pattern.clone())
            }
        };
    }
}

/// The `catalog_key` range that drives a filtered page (see the migration that makes the table):
/// the tag filter's key, or a word the text query requires.
pub(super) struct Driver {
    pub(super) key: String,
    /// The key alone decides the text filter (a one-word query): no need to check the vector.
    pub(super) covers_text: bool,
}

/// The lexeme Postgres's `simple` configuration makes of a plain word (ASCII letters and digits,
/// lower-cased), without asking it; `None` for anything its parser might split or change.
pub(super) fn plain_lexeme(text: &str) -> Option<String> {
    (!text.is_empty() && text.len() <= 200 && text.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| text.to_ascii_lowercase())
}

impl Driver {
    async fn of(pool: &PgPool, query: &Query, text: Option<&Text>) -> Result<Option<Self>> {
        // An owner or the public-URL filter is narrower still, and has its own ordered index.
        if query.owner.is_some() || query.has_public_url {
            return Ok(None);
        }
        if let Some((key, value)) = &query.tag {
            return Ok(Some(Driver { key: format!("t:{key}={value}"), covers_text: false }));
        }
        match text {
            None | Some(Text::NameContains(_)) => Ok(None),
            Some(Text::Prefixes(tsquery)) => {
                let words: Vec<&str> =
                    tsquery.split(" & ").map(|w| w.trim_end_matches(":*")).collect();
                // The longest word is likely the rarest. When exactly one lexeme starts with it,
                // that lexeme's range is the word's range; with more, the ranges interleave by
                // name and cannot drive a page in order.
                let Some(word) = words.iter().max_by_key(|w| w.len()) else { return Ok(None) };
                let keys = lexemes_starting_with(pool, word).await?;
                Ok(match keys.as_slice() {
                    [key] => Some(Driver { key: key.clone(), covers_text: words.len() == 1 }),
                    // No lexeme starts with it: nothing matches, and the empty range says so.
                    [] => Some(Driver { key: format!("w:{word}"), covers_text: words.len() == 1 }),
                    _ => None,
                })
            }
            Some(Text::Web(text)) => {
                // `or`, `-word` and long words do not give a word every match must contain.
                let required = text.split_whitespace().all(|word| {
                    !word.eq_ignore_ascii_case("or") && !word.starts_with('-') && word.len() <= 200
                });
                if !required {
                    return Ok(None);
                }
                // Every lexeme of an AND or phrase query is required; the longest is likely the
                // rarest.
                let word = sqlx::query!(
                    r#"select w as "word!", count(*) over () as "lexemes!"
                       from unnest(tsvector_to_array(to_tsvector('simple', $1))) w
                       order by length(w) desc, w limit 1"#,
                    text.as_str()
                )
                .fetch_optional(pool)
                .await?;
                Ok(word
                    .map(|w| Driver { key: format!("w:{}", w.word), covers_text: w.lexemes == 1 }))
            }
        }
    }
}

/// Up to two distinct `w:` keys that start with `word` (a plain lower-case word), found by
/// skipping through the key index (a probe per key, however many functions each has).
async fn lexemes_starting_with(pool: &PgPool, word: &str) -> Result<Vec<String>> {
    let low = format!("w:{word}");
    // The first string after every one that starts with `low` (its last letter or digit + 1).
    let mut high = low.clone().into_bytes();
    if let Some(last) = high.last_mut() {
        *last += 1;
    }
    let high = String::from_utf8(high).unwrap_or_default();
    Ok(sqlx::query_scalar!(
        r#"with recursive k(key) as (
               (select key from catalog_key where key >= $1 and key < $2 order by key limit 1)
               union all
               select (select c.key from catalog_key c where c.key > k.key and c.key < $2
                       order by c.key limit 1)
               from k where k.key is not null)
           select key as "key!" from k where key is not null limit 2"#,
        low,
        high
    )
    .fetch_all(pool)
    .await?)
}

/// Appends every filter of `query` but the text and the cursor to a `where` clause.
fn push_filters(sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, query: &Query) {
    if let Some(owner) = query.owner {
        sql.push(" and f.owner_id = ").push_bind(owner);
    }
    if let Some(team) = query.team {
        sql.push(" and f.team_id = ").push_bind(team);
    }
    let exact = [
        ("f.runtime", &query.runtime),
        ("f.state", &query.state),
        ("f.lifecycle", &query.lifecycle),
        ("f.environment", &query.environment),
        ("f.region", &query.region),
    ];
    for (column, value) in exact {
        if let Some(value) = value {
            sql.push(format!(" and {column} = ")).push_bind(value.clone());
        }
    }
    if let Some(connection) = query.connection {
        sql.push(" and f.connection_id = ").push_bind(connection);
    }
    if let Some((key, value)) = &query.tag {
        sql.push(" and f.tags @> ").push_bind(serde_json::json!({ key: value }));
    }
    if query.has_public_url {
        sql.push(" and f.url_auth_type = 'NONE'");
    }
    if query.drifted {
        sql.push(" and jsonb_array_length(f.drift) > 0");
    }
    if let Some(violates) = &query.violates {
        sql.push(
            " and exists (select 1 from rule_violation v join governance_rule r using (rule_id)
                          where v.function_id = f.function_id and r.enabled and not v.excepted",
        );
        match violates {
            Violates::Any => {}
            Violates::Kind(kind) => {
                sql.push(" and r.kind = ").push_bind(kind.as_str());
            }
            Violates::Rule(id) => {
                sql.push(" and r.rule_id = ").push_bind(*id);
            }
        }
        sql.push(")");
    }
    if let Some(reader) = query.visible_to {
        sql.push(" and (f.owner_id = ").push_bind(reader);
        sql.push(" or f.team_id in (select team_id from team_member where account_id = ");
        sql.push_bind(reader).push("))");
    }
}

/// One page of the catalog.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub entries: Vec<CatalogEntry>,
    /// The keyset cursor of the next page, if there is one.
    pub next: Option<(String, Uuid)>,
    /// No word matched the text: these are the functions whose name contains it.
    pub by_name: bool,
}

/// One page of the catalog, and the cursor of the next page if there is one. Plain words match
/// words or their starts; when nothing does, names that contain the text. A text or tag filter
/// reads its `catalog_key` range in name order (the page costs the same however many functions
/// match); other filters use their `(column, name)` index or the name index.
pub async fn search(pool: &PgPool, query: &Query) -> Result<Found> {
    let Some(text) = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return page(pool, query, None).await.map(|(entries, next)| Found {
            entries,
            next,
            by_name: false,
        });
    };
    let (entries, next) = page(pool, query, Some(&Text::of(text))).await?;
    // A later page of a name-substring result matches no word either, and falls back again.
    if !entries.is_empty() {
        return Ok(Found { entries, next, by_name: false });
    }
    let (entries, next) = page(pool, query, Some(&Text::name_contains(text))).await?;
    Ok(Found { by_name: !entries.is_empty(), entries, next })
}

async fn page(
    pool: &PgPool,
    query: &Query,
    text: Option<&Text>,
) -> Result<(Vec<CatalogEntry>, Option<(String, Uuid)>)> {
    // Key ranges are in name order: they drive only pages sorted by name.
    let driver = match query.sort {
        Sort::Name => Driver::of(pool, query, text).await?,
        Sort::Updated => None,
    };
    // The ordered columns: the key's copy of the name when a key drives, else the function's.
    let order = if driver.is_some() { "k" } else { "f" };
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "select f.function_id, f.name, c.name as connection, f.region, f.runtime, f.state,
                f.description, a.email as owner, t.name as team, f.lifecycle, f.environment,
                f.url_auth_type, f.tags, f.tracked, (f.gone_at is not null) as gone,
                (jsonb_array_length(f.drift) > 0) as drift, f.updated_at,
                (select count(*) from rule_violation v join governance_rule r using (rule_id)
                 where v.function_id = f.function_id and r.enabled and v.severity = 'error'
                   and not v.excepted) as violations,
                f.cloud_config->'tags'->>'lambdaport:owner' as suggested_owner,
                case when not f.tracked then jsonb_build_object(
                    'owner', f.cloud_config->'tags'->>'lambdaport:owner',
                    'owner_known', exists(select from account o
                        where o.email = lower(f.cloud_config->'tags'->>'lambdaport:owner')),
                    'team', f.cloud_config->'tags'->>'lambdaport:team',
                    'team_known', exists(select from team m
                        where m.name = f.cloud_config->'tags'->>'lambdaport:team'),
                    'lifecycle', f.cloud_config->'tags'->>'lambdaport:lifecycle',
                    'environment', f.cloud_config->'tags'->>'lambdaport:environment') end as adoption
         from ",
    );
    if driver.is_some() {
        sql.push("catalog_key k join catalog_function f on f.function_id = k.function_id");
    } else {
        sql.push("catalog_function f");
    }
    sql.push(
        " join connection c on c.connection_id = f.connection_id
         left join account a on a.account_id = f.owner_id
         left join team t on t.team_id = f.team_id
         where f.archived_at is null and f.tracked = ",
    );
    sql.push_bind(!query.shadows);
    if let Some(driver) = &driver {
        sql.push(" and k.key = ").push_bind(driver.key.clone());
    }
    if let Some(text) = text.filter(|_| !driver.as_ref().is_some_and(|d| d.covers_text)) {
        text.push(&mut sql);
    }
    push_filters(&mut sql, query);
    match (query.sort, &query.after) {
        (Sort::Name, Some((name, id))) => {
            sql.push(format!(" and ({order}.name, {order}.function_id) > ("));
            sql.push_bind(name.clone()).push(", ").push_bind(*id).push(")");
        }
        (Sort::Updated, Some((micros, id))) => {
            // A cursor that is not a number is a stale or edited URL: start from the top.
            if let Ok(micros) = micros.parse::<i64>() {
                sql.push(" and (f.updated_at, f.function_id) < (timestamptz 'epoch' + ");
                sql.push_bind(micros).push(" * interval '1 microsecond', ");
                sql.push_bind(*id).push(")");
            }
        }
        (_, None) => {}
    }
    let limit = query.limit.clamp(1, 200);
    match query.sort {
        Sort::Name => sql.push(format!(" order by {order}.name, {order}.function_id limit ")),
        Sort::Updated => sql.push(" order by f.updated_at desc, f.function_id desc limit "),
    };
    sql.push_bind(limit + 1);
    // A key range and nothing else to check: the planner reads it in order by itself. With more
    // filters it may misjudge how many rows pass them (they correlate with names) and sort.
    let only_key = driver.as_ref().is_some_and(|d| d.covers_text || text.is_none())
        && [&query.runtime, &query.state, &query.lifecycle, &query.environment, &query.region]
            .iter()
            .all(|f| f.is_none())
        && query.team.is_none()
        && query.connection.is_none()
        && query.visible_to.is_none();
    let mut rows = if driver.is_some() && !only_key {
        in_key_order(pool, &mut sql).await?
    } else {
        sql.build_query_as::<CatalogRow>().fetch_all(pool).await?
    };
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| {
            rows.last().map(|r| match query.sort {
                Sort::Name => (r.name.clone(), r.function_id),
                Sort::Updated => {
                    ((r.updated_at.unix_timestamp_nanos() / 1000).to_string(), r.function_id)
                }
            })
        })
        .flatten();
    Ok((rows.into_iter().map(CatalogEntry::from).collect(), next))
}

/// Runs a key-driven page query so that it reads the key range in order and stops at the page's
/// end. Left to itself the planner may fetch every match and sort (it cannot know how the matches
/// fall in name order), or start a parallel worker, which alone costs more than the page.
pub(super) async fn in_key_order(
    pool: &PgPool,
    sql: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
) -> Result<Vec<CatalogRow>> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        r#"select set_config('enable_sort', 'off', true) as "sort",
                  set_config('enable_bitmapscan', 'off', true) as "bitmap",
                  set_config('max_parallel_workers_per_gather', '0', true) as "parallel""#
    )
    .fetch_one(&mut *tx)
    .await?;
    let rows = sql.build_query_as::<CatalogRow>().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

#[derive(sqlx::FromRow)]
pub(super) struct CatalogRow {
    pub(super) function_id: Uuid,
    pub(super) name: String,
    pub(super) connection: String,
    pub(super) region: String,
    pub(super) runtime: Option<String>,
    pub(super) state: Option<String>,
    pub(super) description: String,
    pub(super) owner: Option<String>,
    pub(super) team: Option<String>,
    pub(super) lifecycle: String,
    pub(super) environment: String,
    pub(super) url_auth_type: Option<String>,
    pub(super) tags: serde_json::Value,
    pub(super) tracked: bool,
    pub(super) gone: bool,
    pub(super) drift: bool,
    pub(super) violations: i64,
    pub(super) updated_at: OffsetDateTime,
    pub(super) suggested_owner: Option<String>,
    pub(super) adoption: Option<serde_json::Value>,
}

impl From<CatalogRow> for CatalogEntry {
    fn from(r: CatalogRow) -> Self {
        Self {
            function_id: r.function_id,
            name: r.name,
            connection: r.connection,
            region: r.region,
            runtime: r.runtime,
            state: r.state,
            description: r.description,
            owner: r.owner,
            team: r.team,
            lifecycle: r.lifecycle,
            environment: r.environment,
            url_auth_type: r.url_auth_type,
            tags: r.tags,
            tracked: r.tracked,
            gone: r.gone,
            drift: r.drift,
            violations: r.violations,
            updated_at: r.updated_at,
            suggested_owner: r.suggested_owner,
            adoption: Adopted::all(r.adoption),
        }
    }
}

/// Facet counts of the result of `query` (its text matched as `search` matched it: by name when
/// `by_name`), as (facet, value to filter on, label, count). The unfiltered catalog's counts are
/// kept by trigger (no counting per request); a filtered result is counted. Owners are filtered
/// on by email and teams by name; connections by id, labelled with their name. Values whose
/// account, team or connection is gone are left out.
pub async fn facets(
    pool: &PgPool,
    query: &Query,
    by_name: bool,
) -> Result<Vec<(String, String, String, i64)>> {
    let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new("with counted as (");
    if !query.narrows() {
        // The counts are sums of deltas (folded every minute).
        sql.push(
            "select facet, value, sum(count)::bigint as count from catalog_facet group by facet, value",
        );
    } else {
        sql.push(
            "select v.facet, v.value, count(*) as count
             from catalog_function f
             cross join lateral (values ('runtime', coalesce(f.runtime, '')),
                                        ('lifecycle', f.lifecycle),
                                        ('environment', f.environment),
                                        ('state', coalesce(f.state, '')),
                                        ('region', f.region),
                                        ('connection', f.connection_id::text),
                                        ('owner', coalesce(f.owner_id::text, '')),
                                        ('team', coalesce(f.team_id::text, ''))) as v(facet, value)
             where f.archived_at is null and f.tracked = ",
        );
        sql.push_bind(!query.shadows);
        if let Some(text) = text {
            let text = if by_name { Text::name_contains(text) } else { Text::of(text) };
            text.push(&mut sql);
        }
        push_filters(&mut sql, query);
        sql.push(" group by v.facet, v.value");
    }
    sql.push(
        ") select f.facet, v.value, coalesce(c.name, v.value) as label, f.count
           from counted f
           left join account a on f.facet = 'owner' and a.account_id::text = f.value
           left join team t on f.facet = 'team' and t.team_id::text = f.value
           left join connection c on f.facet = 'connection' and c.connection_id::text = f.value
           cross join lateral (select case f.facet when 'owner' then a.email
                                                   when 'team' then t.name
                                                   when 'connection' then c.connection_id::text
                                                   else f.value end as value) v
           where f.count > 0 and f.value <> '' and v.value is not null
           order by f.facet, f.count desc, f.value",
    );
    Ok(sql.build_query_as::<(String, String, String, i64)>().fetch_all(pool).await?)
}

impl Query {
    /// Whether anything but the order and the cursor narrows the catalog.
    fn narrows(&self) -> bool {
        let values = [&self.runtime, &self.state, &self.lifecycle, &self.environment, &self.region];
        self.text.as_deref().is_some_and(|t| !t.trim().is_empty())
            || values.iter().any(|v| v.is_some())
            || self.owner.is_some()
            || self.team.is_some()
            || self.connection.is_some()
            || self.tag.is_some()
            || self.has_public_url
            || self.drifted
            || self.violates.is_some()
            || self.shadows
            || self.visible_to.is_some()
    }
}

/// How many functions found in the cloud are not in the catalog yet (shadows).
pub async fn shadow_count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from catalog_function
           where not tracked and archived_at is null and gone_at is null"#
    )
    .fetch_one(pool)
    .await?)
}

fn present(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The query for a page's (or the REST API's) filters, as `account` may see the catalog: owners
/// by email and teams by name (an unknown one matches nothing), a tag as `key=value`, the keyset
/// cursor of the previous page.
pub async fn query_for(
    pool: &PgPool,
    account: &crate::accounts::Account,
    f: &model::CatalogFilters,
) -> Result<Query> {
    let owner = match present(f.owner.as_ref()) {
        Some(email) => Some(
            crate::accounts::find_by_email(pool, &email.to_lowercase())
                .await?
                .map_or(Uuid::nil(), |a| a.account_id),
        ),
        None => None,
    };
    let team = match present(f.team.as_ref()) {
        Some(name) => Some(crate::teams::find_by_name(pool, &name).await?.unwrap_or(Uuid::nil())),
        None => None,
    };
    let tag = match present(f.tag.as_ref()) {
        None => None,
        Some(tag) => match tag.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Some((k.trim().to_owned(), v.trim().to_owned()))
            }
            _ => {
                return Err(crate::Error::invalid(
                    "tag",
                    "write a tag filter as key=value, e.g. team=payments",
                ));
            }
        },
    };
    let after = present(f.after.as_ref()).and_then(|a| {
        let (name, id) = a.rsplit_once('|')?;
        Some((name.to_owned(), id.parse().ok()?))
    });
    Ok(Query {
        text: present(f.q.as_ref()),
        owner,
        team,
        runtime: present(f.runtime.as_ref()),
        state: present(f.state.as_ref()),
        lifecycle: present(f.lifecycle.as_ref()),
        environment: present(f.environment.as_ref()),
        connection: present(f.connection.as_ref()).and_then(|c| c.parse().ok()),
        region: present(f.region.as_ref()),
        tag,
        has_public_url: present(f.public.as_ref()).is_some(),
        drifted: present(f.drift.as_ref()).is_some(),
        violates: present(f.violates.as_ref()).as_deref().map(Violates::parse).transpose()?,
        shadows: present(f.view.as_ref()).as_deref() == Some("shadows"),
        sort: match present(f.sort.as_ref()).as_deref() {
            Some("updated") => Sort::Updated,
            _ => Sort::Name,
        },
        after,
        limit: 50,
        visible_to: super::reader_scope(pool, account).await?,
    })
}

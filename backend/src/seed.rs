//! Sample data for development and benchmarks: `lambdaport dev seed --functions N` fills the
//! catalog with realistic functions (teams, owners, runtimes, lifecycles, tags) under a
//! connection named "Sample data", in one statement per table, with the facet counts recomputed
//! once at the end instead of row by row. Attributes are spread by hashing the row number, so
//! filters combine as they would on real data (names still start with their team, as many real
//! naming schemes do).

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Result;

const TEAMS: [&str; 8] =
    ["payments", "orders", "media", "search", "identity", "growth", "platform", "data"];

/// Adds `functions` functions (and the teams and owners they need); returns how many exist now.
pub async fn seed(pool: &PgPool, functions: i64) -> Result<i64> {
    let mut tx = pool.begin().await?;
    // Archived: it points nowhere, so it is never synced (the reconciler skips archived
    // connections) and never offered for a lab; its functions still fill the catalog.
    let connection = sqlx::query_scalar!(
        "insert into connection (name, kind, endpoint_url, regions, archived_at)
         values ('Sample data', 'endpoint', 'http://127.0.0.1:9', '{us-east-1,eu-west-1,ap-southeast-2}', now())
         on conflict (name) do update set archived_at = coalesce(connection.archived_at, now())
         returning connection_id"
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut teams: Vec<Uuid> = Vec::new();
    for team in TEAMS {
        let id = sqlx::query_scalar!(
            "insert into team (name) values ($1) on conflict (name) do update set name = excluded.name
             returning team_id",
            team
        )
        .fetch_one(&mut *tx)
        .await?;
        teams.push(id);
    }
    // Owners: five per team, sample accounts that cannot sign in (no usable password hash).
    let owners: Vec<Uuid> = sqlx::query_scalar!(
        r#"insert into account (email, password_hash, role)
           select format('%s.dev%s@example.com', t, n), '!', 'developer'
           from unnest($1::text[]) t, generate_series(1, 5) n
           on conflict (email) do update set email = excluded.email
           returning account_id"#,
        &TEAMS.map(str::to_owned)
    )
    .fetch_all(&mut *tx)
    .await?;
    // Bulk load: the facet counts and lookup keys are computed once afterwards, not per row.
    sqlx::query!(
        "alter table catalog_function disable trigger catalog_function_facets, disable trigger catalog_function_keys"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"insert into catalog_function
               (connection_id, region, name, arn, runtime, handler, memory_mb, timeout_s,
                architecture, state, description, url, url_auth_type, owner_id, team_id,
                lifecycle, environment, tags, tracked, last_seen_at)
           select $1,
                  region,
                  name,
                  format('arn:aws:lambda:%s:000000000000:function:%s', region, name),
                  (array['python3.12','python3.13','nodejs22.x','nodejs20.x','python3.11','provided.al2023'])[1 + abs(hashint8(i * 7 + 1)) % 6],
                  'index.handler',
                  (array[128, 256, 512, 1024])[1 + abs(hashint8(i * 3 + 2)) % 4],
                  (array[3, 10, 30, 60])[1 + abs(hashint8(i * 5 + 3)) % 4],
                  case when i % 4 = 0 then 'arm64' else 'x86_64' end,
                  case when i % 97 = 0 then 'Failed' else 'Active' end,
                  format('%s %s for the %s team', initcap(verb), noun, team),
                  case when i % 9 = 0 then format('https://%s.lambda-url.%s.on.aws/', md5(name), region) end,
                  case when i % 9 = 0 then (case when i % 2 = 0 then 'NONE' else 'AWS_IAM' end) end,
                  ($2::uuid[])[1 + abs(hashint8(i * 17 + 4)) % cardinality($2::uuid[])],
                  ($3::uuid[])[1 + t],
                  (array['experimental','production','deprecated'])[1 + abs(hashint8(i * 11 + 5)) % 3],
                  (array['dev','staging','prod'])[1 + abs(hashint8(i * 13 + 6)) % 3],
                  jsonb_build_object('team', team, 'app', noun, 'cost-center', format('cc-%s', 100 + i % 40)),
                  true,
                  now()
           from (
               select i,
                      t,
                      (array['us-east-1','eu-west-1','ap-southeast-2'])[1 + i % 3] as region,
                      team,
                      verb,
                      noun,
                      format('%s-%s-%s-%s', team, noun, verb, i) as name
               from (
                   select i,
                          abs(hashint8(i)) % cardinality($4::text[]) as t,
                          ($4::text[])[1 + abs(hashint8(i)) % cardinality($4::text[])] as team,
                          (array['process','resize','notify','sync','export','validate','index','render'])[1 + (i / 8) % 8] as verb,
                          (array['orders','images','invoices','users','events','reports','carts','emails'])[1 + (i / 64) % 8] as noun
                   from generate_series(coalesce((select count(*) from catalog_function), 0) + 1,
                                        coalesce((select count(*) from catalog_function), 0) + $5) as i
               ) picked
           ) f
           on conflict (connection_id, region, name) do nothing"#,
        connection,
        &owners,
        &teams,
        &TEAMS.map(str::to_owned),
        functions
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "alter table catalog_function enable trigger catalog_function_facets, enable trigger catalog_function_keys"
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into catalog_key (key, name, function_id)
         select k, f.name, f.function_id
         from catalog_function f, catalog_keys(f.search, f.tags) k
         where not exists (select 1 from catalog_key e where e.function_id = f.function_id)
         on conflict do nothing"
    )
    .execute(&mut *tx)
    .await?;
    recount_facets(&mut tx).await?;
    let total = sqlx::query_scalar!(r#"select count(*) as "n!" from catalog_function"#)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query!("analyze catalog_function, catalog_key").execute(pool).await?;
    Ok(total)
}

/// Rebuilds the facet counts from the catalog (after a bulk load that bypassed the trigger).
pub async fn recount_facets(conn: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query!("delete from catalog_facet").execute(&mut *conn).await?;
    sqlx::query!(
        "insert into catalog_facet (facet, value, count)
         select v.facet, v.value, count(*)
         from catalog_function f, catalog_facet_values(f) v
         group by v.facet, v.value"
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

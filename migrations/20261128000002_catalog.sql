-- Connections (where functions live) and the catalog of functions with their owners, teams,
-- lifecycle and tags. The catalog records intent; the cloud is the truth about the resources,
-- and reconciliation keeps the two side by side (last_seen_at, gone_at, drift).

-- The embedded engine, a real AWS account (default credential chain or a named profile), or any
-- Lambda-compatible endpoint with keys. Every cloud call goes through the AWS SDK built from one.
create table connection
(
    connection_id     uuid primary key     default gen_random_uuid(),
    name              text        not null,
    kind              text        not null,
    endpoint_url      text,
    profile           text,
    regions           text[]      not null default '{us-east-1}',
    access_key_id     text,
    secret_access_key text,
    -- The account STS reported at the last successful test or sync.
    cloud_account_id  text,
    is_default        boolean     not null default false,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint connection_name_key unique (name),
    constraint connection_name_length check (length(name) between 1 and 64),
    constraint connection_kind_check check (kind in ('engine', 'aws', 'endpoint')),
    constraint connection_endpoint_check check ((kind = 'aws') = (endpoint_url is null)),
    constraint connection_regions_check check (cardinality(regions) between 1 and 32),
    constraint connection_keys_check check ((access_key_id is null) = (secret_access_key is null))
);

-- At most one default connection.
create unique index connection_default_key on connection (is_default) where is_default;

create trigger connection_updated_at
    before update on connection
    for each row execute function set_updated_at();

create table catalog_function
(
    function_id   uuid primary key     default gen_random_uuid(),
    connection_id uuid        not null,
    region        text        not null,
    name          text        not null,
    arn           text        not null,
    runtime       text,
    handler       text,
    memory_mb     integer,
    timeout_s     integer,
    architecture  text,
    state         text,
    description   text        not null default '',
    url           text,
    url_auth_type text,
    owner_id      uuid,
    team_id       uuid,
    lifecycle     text        not null default 'experimental',
    environment   text        not null default 'dev',
    tags          jsonb       not null default '{}'::jsonb,
    -- False for a shadow: found in the cloud by a sync, not (yet) imported into the catalog.
    tracked       boolean     not null default true,
    -- What the cloud said at the last sync, and how it differs from what the catalog holds.
    cloud_config  jsonb,
    drift         jsonb       not null default '[]'::jsonb,
    last_seen_at  timestamptz,
    -- Set when a sync no longer finds the function in the cloud (a ghost).
    gone_at       timestamptz,
    archived_at   timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    search        tsvector generated always as (
        setweight(to_tsvector('simple', replace(replace(name, '-', ' '), '_', ' ')), 'A') ||
        setweight(to_tsvector('simple', name), 'A') ||
        setweight(to_tsvector('simple', description), 'B') ||
        setweight(jsonb_to_tsvector('simple', tags, '["string", "key"]'), 'C')
        ) stored,
    constraint catalog_function_connection_fkey foreign key (connection_id)
        references connection (connection_id) on delete cascade,
    constraint catalog_function_owner_fkey foreign key (owner_id)
        references account (account_id) on delete set null,
    constraint catalog_function_team_fkey foreign key (team_id)
        references team (team_id) on delete set null,
    constraint catalog_function_name_key unique (connection_id, region, name),
    constraint catalog_function_lifecycle_check
        check (lifecycle in ('experimental', 'production', 'deprecated')),
    constraint catalog_function_environment_check check (environment in ('dev', 'staging', 'prod')),
    constraint catalog_function_tags_object check (jsonb_typeof(tags) = 'object')
);

create trigger catalog_function_updated_at
    before update on catalog_function
    for each row execute function set_updated_at();

-- Keyset pagination in each sort order the catalog page offers, plus the filters.
create index catalog_function_name_idx on catalog_function (name, function_id);
create index catalog_function_updated_idx on catalog_function (updated_at desc, function_id);
create index catalog_function_search_idx on catalog_function using gin (search);
create index catalog_function_tags_idx on catalog_function using gin (tags jsonb_path_ops);
create index catalog_function_owner_idx on catalog_function (owner_id, name);
create index catalog_function_team_idx on catalog_function (team_id, name);
create index catalog_function_runtime_idx on catalog_function (runtime, name);
create index catalog_function_connection_idx on catalog_function (connection_id, region, name);

-- Facet counts kept up to date by trigger, so the catalog page never counts rows per request.
create table catalog_facet
(
    facet   text   not null,
    value   text   not null,
    count   bigint not null default 0,
    constraint catalog_facet_pkey primary key (facet, value)
);

create or replace function catalog_facet_values(f catalog_function) returns table (facet text, value text)
language sql immutable as
$$
select *
from (values ('runtime', coalesce(f.runtime, '')),
             ('lifecycle', f.lifecycle),
             ('environment', f.environment),
             ('state', coalesce(f.state, '')),
             ('region', f.region),
             ('connection', f.connection_id::text),
             ('owner', coalesce(f.owner_id::text, '')),
             ('team', coalesce(f.team_id::text, ''))) as v(facet, value)
where f.archived_at is null and f.tracked
$$;

create or replace function catalog_facet_count() returns trigger
language plpgsql as
$$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        update catalog_facet c set count = c.count - 1
        from catalog_facet_values(old) o
        where c.facet = o.facet and c.value = o.value;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into catalog_facet (facet, value, count)
        select n.facet, n.value, 1 from catalog_facet_values(new) n
        on conflict (facet, value) do update set count = catalog_facet.count + 1;
    end if;
    return null;
end;
$$;

create trigger catalog_function_facets
    after insert or delete or update of runtime, lifecycle, environment, state, region,
        connection_id, owner_id, team_id, archived_at, tracked
    on catalog_function
    for each row execute function catalog_facet_count();

-- Reconciliation runs: progress while one runs, the outcome after. One running run per connection.
create table sync_run
(
    sync_run_id   uuid primary key     default gen_random_uuid(),
    connection_id uuid        not null,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    seen          integer     not null default 0,
    shadows       integer     not null default 0,
    ghosts        integer     not null default 0,
    error         text,
    constraint sync_run_connection_fkey foreign key (connection_id)
        references connection (connection_id) on delete cascade
);

create unique index sync_run_running_key on sync_run (connection_id) where finished_at is null;
create index sync_run_connection_idx on sync_run (connection_id, started_at desc);

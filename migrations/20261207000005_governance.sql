-- Governance: the platform team's rules as data, and AWS's runtime deprecation calendar, shipped
-- here and updatable by admins. A rule applies to every function unless its scope narrows it
-- (a team, an environment, a lifecycle, a connection: each null means any).

create table governance_rule
(
    rule_id       uuid primary key     default gen_random_uuid(),
    kind          text        not null,
    severity      text        not null,
    -- The kind's parameters (allowed values, bounds, a pattern, a URL policy), as the kind reads them.
    params        jsonb       not null default '{}'::jsonb,
    team_id       uuid,
    environment   text,
    lifecycle     text,
    connection_id uuid,
    -- Why the platform team has the rule, in its own words (shown with every finding).
    note          text        not null default '',
    enabled       boolean     not null default true,
    created_by    uuid,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint governance_rule_team_fkey foreign key (team_id)
        references team (team_id) on delete cascade,
    constraint governance_rule_connection_fkey foreign key (connection_id)
        references connection (connection_id) on delete cascade,
    constraint governance_rule_created_by_fkey foreign key (created_by)
        references account (account_id) on delete set null,
    constraint governance_rule_kind_check check (kind in (
        'required_tag', 'naming', 'allowed_runtimes', 'deprecated_runtime', 'architectures',
        'memory', 'timeout', 'ephemeral_storage', 'reserved_concurrency', 'public_url',
        'url_cors_wildcard', 'public_invoke', 'orphan_url_statement', 'environment_secrets',
        'admin_role', 'shared_role', 'log_retention')),
    constraint governance_rule_severity_check check (severity in ('error', 'warning', 'info')),
    constraint governance_rule_environment_check check (environment in ('dev', 'staging', 'prod')),
    constraint governance_rule_lifecycle_check
        check (lifecycle in ('experimental', 'production', 'deprecated')),
    constraint governance_rule_params_object check (jsonb_typeof(params) = 'object'),
    constraint governance_rule_note_length check (length(note) <= 500)
);

create trigger governance_rule_updated_at
    before update on governance_rule
    for each row execute function set_updated_at();

create index governance_rule_kind_idx on governance_rule (kind, created_at);

-- AWS's runtime deprecation calendar: deprecation (no more security patches; the console stops
-- offering the runtime), then phase 1 (no new functions), then phase 2 (no updates). Invocations
-- are never blocked. Each row says where its dates come from and when they were last checked.
create table runtime_deprecation
(
    runtime         text primary key,
    deprecated_on   date        not null,
    block_create_on date,
    block_update_on date,
    source          text        not null,
    checked_on      date        not null,
    updated_at      timestamptz not null default now(),
    constraint runtime_deprecation_runtime_length check (length(runtime) between 1 and 40),
    constraint runtime_deprecation_order check (
        (block_create_on is null or block_create_on >= deprecated_on) and
        (block_update_on is null or block_update_on >= coalesce(block_create_on, deprecated_on)))
);

create trigger runtime_deprecation_updated_at
    before update on runtime_deprecation
    for each row execute function set_updated_at();

-- The calendar as published on https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
-- (read from mirrors of that page, July 2026; see reference/anchors-2026.md §4.6). Where two
-- mirrors disagreed, the newer one is used.
insert into runtime_deprecation (runtime, deprecated_on, block_create_on, block_update_on, source, checked_on)
values ('nodejs18.x', '2025-09-01', '2025-10-01', '2025-11-11', 'AWS Lambda runtimes page', '2026-07-15'),
       ('nodejs20.x', '2026-04-30', '2026-06-01', '2026-07-01', 'AWS Lambda runtimes page', '2026-07-15'),
       ('nodejs22.x', '2027-04-30', '2027-06-01', '2027-07-01', 'AWS Lambda runtimes page', '2026-07-15'),
       ('nodejs24.x', '2028-04-30', '2028-06-01', '2028-07-01', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.8', '2024-10-14', '2026-08-31', '2026-09-30', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.9', '2025-12-15', '2026-08-31', '2026-09-30', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.10', '2026-10-31', '2026-11-30', '2027-01-15', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.11', '2027-06-30', '2027-07-31', '2027-08-31', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.12', '2028-10-31', '2028-11-30', '2029-01-10', 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.13', '2029-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('python3.14', '2029-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('ruby3.2', '2026-03-31', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('ruby3.3', '2027-03-31', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('ruby3.4', '2028-03-31', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('java8.al2', '2027-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('java11', '2027-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('java17', '2027-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('java21', '2029-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('dotnet8', '2026-11-10', null, null, 'AWS Lambda runtimes page', '2026-07-15'),
       ('provided.al2', '2026-06-30', null, null, 'tflint runtime table (AL2 end of life)', '2026-07-15'),
       ('provided.al2023', '2029-06-30', null, null, 'AWS Lambda runtimes page', '2026-07-15');

-- What each catalogued function (tracked, shadow or ghost) breaks, as of its last evaluation:
-- after each sync of its connection, each change made through the console, each rule change.
create table rule_violation
(
    function_id uuid        not null,
    rule_id     uuid        not null,
    severity    text        not null,
    field       text        not null,
    message     text        not null,
    fix         text        not null,
    found_at    timestamptz not null default now(),
    constraint rule_violation_pkey primary key (function_id, rule_id, message),
    constraint rule_violation_function_fkey foreign key (function_id)
        references catalog_function (function_id) on delete cascade,
    constraint rule_violation_rule_fkey foreign key (rule_id)
        references governance_rule (rule_id) on delete cascade,
    constraint rule_violation_severity_check check (severity in ('error', 'warning', 'info'))
);

create index rule_violation_rule_idx on rule_violation (rule_id, function_id);

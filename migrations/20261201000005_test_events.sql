-- Test events: saved inputs for a function's Test tab, private to their owner or shared with
-- everyone who may read the function. Each change keeps the previous version.
create table test_event
(
    test_event_id   uuid primary key     default gen_random_uuid(),
    function_id     uuid        not null references catalog_function (function_id) on delete cascade,
    owner_id        uuid        not null references account (account_id) on delete cascade,
    name            text        not null check (name ~ '^[A-Za-z0-9_-]{1,25}$'),
    shared          boolean     not null default false,
    invocation_type text        not null default 'RequestResponse'
        check (invocation_type in ('RequestResponse', 'Event', 'DryRun')),
    qualifier       text,
    payload         text        not null,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

-- One name per owner and function (a shared event's name is unique among the function's shared ones).
create unique index test_event_name_idx on test_event (function_id, owner_id, name);
create unique index test_event_shared_name_idx on test_event (function_id, name) where shared;

create table test_event_version
(
    test_event_id   uuid        not null references test_event (test_event_id) on delete cascade,
    payload         text        not null,
    invocation_type text        not null,
    qualifier       text,
    replaced_at     timestamptz not null default now(),
    replaced_by     uuid references account (account_id) on delete set null
);

create index test_event_version_idx on test_event_version (test_event_id, replaced_at desc);

-- Every invocation made from the Test tab: who, when, what was sent, what came back.
create table test_invocation
(
    test_invocation_id uuid primary key     default gen_random_uuid(),
    function_id        uuid        not null references catalog_function (function_id) on delete cascade,
    account_id         uuid references account (account_id) on delete set null,
    test_event_id      uuid references test_event (test_event_id) on delete set null,
    event_name         text,
    invocation_type    text        not null,
    qualifier          text,
    payload            text        not null,
    status             integer     not null,
    function_error     text,
    response           text        not null default '',
    log_tail           text        not null default '',
    request_id         text,
    executed_version   text,
    duration_ms        double precision,
    billed_ms          bigint,
    init_ms            double precision,
    memory_used_mb     integer,
    memory_size_mb     integer,
    invoked_at         timestamptz not null default now()
);

create index test_invocation_function_idx on test_invocation (function_id, invoked_at desc);

-- Guided lab runs and the ledger of everything the console creates in a cloud.

-- One learner's pass through the lab. `step` is the step they are on (1–9); `settings` holds what
-- they chose so far. A step whose cloud action started but was not recorded as finished keeps
-- `pending_step`: on the next open (or at startup) it is reconciled with the cloud.
create table lab_run
(
    lab_run_id    uuid primary key     default gen_random_uuid(),
    account_id    uuid        not null,
    connection_id uuid        not null,
    region        text        not null,
    function_name text,
    function_id   uuid,
    step          smallint    not null default 1,
    settings      jsonb       not null default '{}'::jsonb,
    status        text        not null default 'in_progress',
    pending_step  smallint,
    pending_since timestamptz,
    failures      integer     not null default 0,
    last_failure  text,
    expires_at    timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    completed_at  timestamptz,
    cleaned_at    timestamptz,
    constraint lab_run_account_fkey foreign key (account_id) references account (account_id) on delete cascade,
    constraint lab_run_connection_fkey foreign key (connection_id) references connection (connection_id) on delete cascade,
    constraint lab_run_function_fkey foreign key (function_id) references catalog_function (function_id) on delete set null,
    constraint lab_run_step_check check (step between 1 and 9),
    constraint lab_run_status_check check (status in ('in_progress', 'completed', 'cleaned_up'))
);

create index lab_run_account_idx on lab_run (account_id, created_at desc);
create index lab_run_expiry_idx on lab_run (expires_at) where status <> 'cleaned_up' and expires_at is not null;
create index lab_run_pending_idx on lab_run (pending_since) where pending_step is not null;

create trigger lab_run_updated_at
    before update on lab_run
    for each row execute function set_updated_at();

-- One resource the console created. Written as 'creating' before the cloud call (in the same
-- transaction that marks the step pending) and as 'present' in the transaction that records the
-- step, so a crash in between leaves a row to reconcile, never an unknown resource.
create table ledger_entry
(
    ledger_entry_id uuid primary key     default gen_random_uuid(),
    lab_run_id      uuid,
    function_id     uuid,
    connection_id   uuid        not null,
    region          text        not null,
    owner_id        uuid,
    kind            text        not null,
    -- Role name, policy ARN, function name, statement id or log group name.
    name            text        not null,
    -- What it belongs to: the role a policy is attached to, the function of a URL or statement.
    parent          text,
    state           text        not null default 'creating',
    error           text,
    created_at      timestamptz not null default now(),
    deleted_at      timestamptz,
    constraint ledger_entry_run_fkey foreign key (lab_run_id) references lab_run (lab_run_id) on delete set null,
    constraint ledger_entry_function_fkey foreign key (function_id) references catalog_function (function_id) on delete set null,
    constraint ledger_entry_connection_fkey foreign key (connection_id) references connection (connection_id) on delete cascade,
    constraint ledger_entry_owner_fkey foreign key (owner_id) references account (account_id) on delete set null,
    constraint ledger_entry_kind_check check (kind in ('role', 'role_policy', 'function', 'url_config', 'permission', 'log_group')),
    constraint ledger_entry_state_check check (state in ('creating', 'present', 'deleted'))
);

create index ledger_entry_run_idx on ledger_entry (lab_run_id);
create index ledger_entry_function_idx on ledger_entry (function_id);
-- Who else uses a role: the live functions the ledger knows with it as their role.
create index ledger_entry_live_idx on ledger_entry (connection_id, kind, name) where state <> 'deleted';

-- Accounts, teams and the audit trail: the ground every other table stands on.

create or replace function set_updated_at() returns trigger
language plpgsql as
$$
begin
    new.updated_at = now();
    return new;
end;
$$;

-- Someone who signs in to the console. Emails are stored lower-cased so lookups and uniqueness are
-- case-insensitive without an extension.
create table account
(
    account_id    uuid primary key     default gen_random_uuid(),
    email         text        not null,
    password_hash text        not null,
    role          text        not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint account_email_key unique (email),
    constraint account_email_lower check (email = lower(email)),
    constraint account_role_check check (role in ('admin', 'developer', 'learner'))
);

create trigger account_updated_at
    before update on account
    for each row execute function set_updated_at();

create table team
(
    team_id    uuid primary key     default gen_random_uuid(),
    name       text        not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint team_name_key unique (name),
    constraint team_name_length check (length(name) between 1 and 64)
);

create trigger team_updated_at
    before update on team
    for each row execute function set_updated_at();

create table team_member
(
    team_id    uuid        not null,
    account_id uuid        not null,
    created_at timestamptz not null default now(),
    constraint team_member_pkey primary key (team_id, account_id),
    constraint team_member_team_fkey foreign key (team_id) references team (team_id) on delete cascade,
    constraint team_member_account_fkey foreign key (account_id) references account (account_id) on delete cascade
);

create index team_member_account_idx on team_member (account_id);

-- Every change made through the console, written in the same transaction as the change.
create table audit_event
(
    audit_event_id bigint generated always as identity primary key,
    actor_id       uuid,
    action         text        not null,
    target         text        not null,
    detail         jsonb       not null default '{}'::jsonb,
    source_ip      inet,
    created_at     timestamptz not null default now(),
    constraint audit_event_actor_fkey foreign key (actor_id) references account (account_id) on delete set null
);

create index audit_event_created_at_idx on audit_event (created_at desc);

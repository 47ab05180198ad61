-- Personal access tokens for the REST API, and console-wide settings an admin changes.

-- A token is shown once, when it is made; only its SHA-256 is kept (tokens are 160 random bits, so
-- a fast hash is enough: there is nothing to guess). The prefix identifies a token in lists.
create table api_token
(
    api_token_id uuid primary key     default gen_random_uuid(),
    account_id   uuid        not null,
    name         text        not null,
    prefix       text        not null,
    token_hash   bytea       not null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    constraint api_token_account_fkey foreign key (account_id) references account (account_id) on delete cascade,
    constraint api_token_hash_key unique (token_hash),
    constraint api_token_name_length check (length(name) between 1 and 64)
);

create index api_token_account_idx on api_token (account_id, created_at desc);

-- One row per setting; absent means the default.
create table console_setting
(
    key        text primary key,
    value      jsonb       not null,
    updated_at timestamptz not null default now()
);

-- The URL tab's HTTP tester: each request a user sent to a function's URL (for their history and
-- replay), with the answer's status and time. Private to the user; the last 50 per function kept.
create table url_request
(
    url_request_id uuid primary key     default gen_random_uuid(),
    function_id    uuid        not null references catalog_function (function_id) on delete cascade,
    account_id     uuid        not null references account (account_id) on delete cascade,
    request        jsonb       not null,
    -- 0 when no answer came.
    status         integer     not null,
    millis         bigint      not null,
    sent_at        timestamptz not null default now()
);

create index url_request_idx on url_request (function_id, account_id, sent_at desc);

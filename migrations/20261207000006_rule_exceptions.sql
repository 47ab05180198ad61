-- Exceptions to governance rules: a developer asks for one (a rule, a function, a reason, how
-- long); an approver approves or rejects it with a comment; an approved exception lasts its hours
-- and then expires. While it lasts, the rule's findings on that function are shown as excepted
-- and refuse nothing. Who may approve is the console setting `exception_approvers`.

create table rule_exception
(
    exception_id   uuid primary key     default gen_random_uuid(),
    rule_id        uuid        not null,
    function_id    uuid        not null,
    requested_by   uuid,
    reason         text        not null,
    hours          integer     not null,
    status         text        not null default 'pending',
    decided_by     uuid,
    decided_at     timestamptz,
    comment        text        not null default '',
    expires_at     timestamptz,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint rule_exception_rule_fkey foreign key (rule_id)
        references governance_rule (rule_id) on delete cascade,
    constraint rule_exception_function_fkey foreign key (function_id)
        references catalog_function (function_id) on delete cascade,
    constraint rule_exception_requested_by_fkey foreign key (requested_by)
        references account (account_id) on delete set null,
    constraint rule_exception_decided_by_fkey foreign key (decided_by)
        references account (account_id) on delete set null,
    constraint rule_exception_status_check
        check (status in ('pending', 'approved', 'rejected', 'expired', 'withdrawn')),
    constraint rule_exception_reason_length check (length(reason) between 1 and 500),
    constraint rule_exception_comment_length check (length(comment) <= 500),
    constraint rule_exception_hours_check check (hours between 1 and 2160),
    constraint rule_exception_approved_expires check (status <> 'approved' or expires_at is not null)
);

create trigger rule_exception_updated_at
    before update on rule_exception
    for each row execute function set_updated_at();

-- One open request or live exception per rule and function.
create unique index rule_exception_open_key on rule_exception (rule_id, function_id)
    where status in ('pending', 'approved');
create index rule_exception_status_idx on rule_exception (status, created_at desc);

-- A finding an approved exception covers is kept, marked, and refuses nothing.
alter table rule_violation add column excepted boolean not null default false;

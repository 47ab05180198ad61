-- Expiring public Function URLs: a public URL made with an expiry is, when it passes, switched to
-- AWS_IAM or deleted with its public statements (the public-URL rule's setting; switched when no
-- rule says), by the sweeper, and its owner is told on their dashboard.
alter table catalog_function
    add column url_expires_at timestamptz,
    add column url_expired_at timestamptz,
    add column url_expired_action text,
    add constraint catalog_function_url_expired_action_check
        check (url_expired_action in ('switched', 'deleted'));

create index catalog_function_url_expires_idx on catalog_function (url_expires_at)
    where url_expires_at is not null;

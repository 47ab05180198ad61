-- A connection's last Test: when, and why it failed (null when it passed), so a failed Test does
-- not read "not tested".
alter table connection
    add column tested_at  timestamptz,
    add column test_error text;

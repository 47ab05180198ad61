-- The tenant a test event is sent for: a tenant-isolated function (TenancyConfig PER_TENANT)
-- needs one on every invoke, any other refuses one.
alter table test_event
    add column tenant_id text check (tenant_id ~ '^[!-~]{1,256}$');
alter table test_event_version
    add column tenant_id text;
alter table test_invocation
    add column tenant_id text;

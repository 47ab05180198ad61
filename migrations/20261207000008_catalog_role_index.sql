-- Who else uses a role (the shared-role rule): one function's evaluation looks up its role's
-- users, not every catalogued function.
create index catalog_function_role_idx on catalog_function ((cloud_config->>'role'))
    where archived_at is null and gone_at is null;

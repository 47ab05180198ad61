-- The Violations view's trend: for each day, how many functions broke at least one rule and how
-- many broke each rule, as last counted that day (the sweeper records it every minute or so).
create table violation_day
(
    day       date   not null,
    functions bigint not null,
    -- rule id (text) -> functions breaking it
    by_rule   jsonb  not null default '{}',
    constraint violation_day_pkey primary key (day)
);

-- Which evaluation the recorded violations are from: every evaluation adds one, in the same
-- transaction as the findings it writes (and under the lock evaluations already take), so a
-- reader that sees a generation sees exactly its findings. The Violations view's counts are
-- computed once per generation instead of on every request.
create table violation_generation (
    only_row boolean primary key default true check (only_row),
    generation bigint not null default 0
);
insert into violation_generation default values;

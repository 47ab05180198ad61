-- A run made by the one-page Create form (the lab's steps 2 to 5 at once) rather than a learner's
-- pass through the lab: the ledger, rollback and cleanup treat both alike; lists of lab runs and
-- the instructor board show only the lab's.
alter table lab_run
    add column kind text not null default 'lab',
    add constraint lab_run_kind_check check (kind in ('lab', 'create'));

-- The instructor board reads every learner's runs newest first, filtered by course tag, learner and
-- status: one index on the order it reads them in.
create index lab_run_created_idx on lab_run (created_at desc);

-- Whether a run's last problem was put right: its step passed after it (the header and the
-- instructor board say "resolved" rather than showing a stale failure).
alter table lab_run
    add column failure_resolved boolean not null default false;

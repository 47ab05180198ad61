-- Role boundaries (issue 13).

-- Which connections learners may run labs on: the embedded engine by default (and, in the
-- console, only while it sandboxes code). `allowed_roles` lists the existing roles (names or
-- ARNs) a lab may use there; empty means any role in the account that trusts Lambda. A connection
-- whose ledger still holds live resources is archived, not deleted.
alter table connection
    add column learners      boolean not null default false,
    add column allowed_roles text[]  not null default '{}',
    add column archived_at   timestamptz;
update connection set learners = true where kind = 'engine';

-- Offboarding: a disabled account cannot sign in, and its sessions and API tokens stop at once
-- (every request loads the account). A session started before `credentials_changed_at` (a
-- password reset or change) ends at its next request.
alter table account
    add column disabled_at            timestamptz,
    add column credentials_changed_at timestamptz;

-- Leases: a background job (or the recovery of one run) is done by one console process at a
-- time. A holder renews before `expires_at`; anyone may take a lease that has expired.
create table lease
(
    name       text primary key,
    holder     uuid        not null,
    expires_at timestamptz not null
);

-- Proof of creation: the run id the console tagged a resource with (`lambdaport:lab-run`) when
-- it made it. Cleanup deletes a function or role only when the cloud's tag still says so; the
-- mark survives the run's deletion.
alter table ledger_entry add column mark uuid;
update ledger_entry set mark = lab_run_id;

-- Which console process is running a run's pending step (its `process:<id>` lease says whether
-- it is alive): others leave the step alone while it is.
alter table lab_run add column pending_holder uuid;

-- Where a process lease's holder runs: `<boot id>:<pid namespace>:<pid>:<start time>`. A console
-- starting on the same machine and pid namespace ends the leases of processes that are no longer
-- running at once, instead of waiting for them to expire.
alter table lease add column local_process text;

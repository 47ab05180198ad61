-- Removing a connection keeps it (and its catalog entries, archived) for the record: the row stays
-- with its removal time, out of every list, and its name is freed for a new connection.
alter table connection
    add column removed_at timestamptz;

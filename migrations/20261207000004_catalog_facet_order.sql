-- Facet counts as deltas. A catalog write used to update the shared count rows (runtime
-- python3.12, region us-east-1, the connection...) and hold them until it committed: concurrent
-- writers queued on them, and two transactions of two statements each took them in different
-- orders and deadlocked (a class creating a hundred functions at once). Now each write appends
-- its net changes — plain inserts, which never wait for one another — a facet's count is the sum
-- of its rows, and the sweeper folds the rows into one per value every minute
-- (`catalog_facet_fold`).
alter table catalog_facet drop constraint catalog_facet_pkey;
create index catalog_facet_value_idx on catalog_facet (facet, value);

create or replace function catalog_facet_count() returns trigger
language plpgsql as
$$
begin
    insert into catalog_facet (facet, value, count)
    select d.facet, d.value, sum(d.delta)
    from (select o.facet, o.value, -1 as delta
          from catalog_facet_values(old) o
          where tg_op in ('UPDATE', 'DELETE')
          union all
          select n.facet, n.value, 1
          from catalog_facet_values(new) n
          where tg_op in ('INSERT', 'UPDATE')) d
    group by d.facet, d.value
    having sum(d.delta) <> 0;
    return null;
end;
$$;

-- Folds the deltas into one row per value (rows appended meanwhile by others stay as they are).
create function catalog_facet_fold() returns void
language sql as
$$
with folded as (delete from catalog_facet returning facet, value, count)
insert into catalog_facet (facet, value, count)
select facet, value, sum(count)
from folded
group by facet, value
having sum(count) <> 0;
$$;

select catalog_facet_fold();

-- Lookup keys for the catalog's text and tag filters, each stored with the function's name, so a
-- filtered catalog page is read in name order from one index range and costs the same whether a
-- filter matches ten functions or fifty thousand. (Walking the name index and filtering, or
-- fetching every match and sorting, both grow with the data: 80-140 ms at 100k functions.)
--   w:<lexeme>       every lexeme of the function's search vector (name, description, tags)
--   t:<key>=<value>  every user tag
create table catalog_key
(
    key         text not null,
    name        text not null,
    function_id uuid not null,
    constraint catalog_key_pkey primary key (key, name, function_id),
    constraint catalog_key_function_fkey foreign key (function_id)
        references catalog_function (function_id) on delete cascade
);

create index catalog_key_function_idx on catalog_key (function_id);

-- The keys of one function. Lexemes longer than 200 characters are left out (the search then
-- falls back to scanning); btree entries must stay small.
create function catalog_keys(search tsvector, tags jsonb) returns setof text
    language sql immutable as
$$
select 'w:' || w from unnest(tsvector_to_array(search)) w where length(w) <= 200
union
select 't:' || k || '=' || v from jsonb_each_text(tags) as t(k, v) where length(k) + length(v) <= 400
$$;

create function catalog_key_sync() returns trigger
    language plpgsql as
$$
begin
    if tg_op = 'UPDATE' then
        if new.name = old.name and new.search = old.search and new.tags = old.tags then
            return null;
        end if;
        delete from catalog_key where function_id = old.function_id;
    end if;
    insert into catalog_key (key, name, function_id)
    select k, new.name, new.function_id from catalog_keys(new.search, new.tags) k
    on conflict do nothing;
    return null;
end;
$$;

create trigger catalog_function_keys
    after insert or update on catalog_function
    for each row execute function catalog_key_sync();

insert into catalog_key (key, name, function_id)
select k, f.name, f.function_id from catalog_function f, catalog_keys(f.search, f.tags) k
on conflict do nothing;

-- "Has a public URL" is a narrow filter: its functions in name order.
create index catalog_function_public_idx on catalog_function (name, function_id)
    where url_auth_type = 'NONE';

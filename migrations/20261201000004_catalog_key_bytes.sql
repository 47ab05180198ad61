-- Prefix search reads the lexeme keys that start with a word as one range of catalog_key
-- ('w:order' up to 'w:ordes'). That range holds exactly the keys with the prefix only in byte
-- order, whatever collation the database was created with.
alter table catalog_key alter column key type text collate "C";

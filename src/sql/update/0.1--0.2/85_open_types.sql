-- ---------------------------------------------------------------------------
-- Open views with honest types, masked in C (issue 12).
--
-- A column that is not masked keeps its type (a domain's built-in base type)
-- instead of numeric, date, timestamp or text; a column of a type created in
-- the database is text, converted by the table owner's read; masked columns
-- are text.  pubdata.open_dataset_rows reads the table once, as its owner,
-- and masks in C (src/open_rows.c, src/mask.c): the SQL masks
-- (_open_mask_expr) and casts (_open_plain, _open_plain_type) go, and
-- pubdata.mask_value() uses the C masks too.  Comments say each thing once,
-- in Chinese.  The functions are those of 80_open.sql (run after this part);
-- the open views made before the update are rebuilt by 91_open_types.sql.
-- ---------------------------------------------------------------------------

-- 0.1's SQL masks and casts (mask_value becomes C in place)
DROP FUNCTION pubdata._open_mask_expr(pubdata.mask_rule, text);
DROP FUNCTION pubdata._open_plain(oid, text);

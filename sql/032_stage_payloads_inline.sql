-- 032_stage_payloads_inline.sql: the scratch slots keep a payload in the row, compressed,
-- rather than in their TOAST tables (a 2.5 KB payload compresses to about 2.1 KB, past the
-- 2 KB at which PostgreSQL moves a value out of the row): the COPY wrote two TOAST chunks and
-- two TOAST index entries per payload, the batch's upsert read them back, and the VACUUM at
-- the slot's reuse cleaned them. The raw table itself is unchanged: the upsert stores the
-- same compressed bytes there as before.
ALTER TABLE load_stage_raw_0 SET (toast_tuple_target = 8160);
ALTER TABLE load_stage_raw_1 SET (toast_tuple_target = 8160);

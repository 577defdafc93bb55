-- 019: the W&I and TRT loads find a case's or a batch's rows through the case index however
-- small the table was when their plans were made.
--
-- The upsert and delete of silver_upsert_wi / silver_upsert_trt (018, shared by the per-case and
-- the batch loaders) and the batch loaders' own lookups select existing rows with
-- `case_id = ANY (cases)` (`bronze_id = ANY (ids)`). Inside the promotion their plans are generic
-- (012) and cached for the session, made the first time they run. When that is on a small table
-- (a fresh database, a bench's warm-up, the first cases of a long session), the planner fairly
-- prefers a sequential scan for `= ANY` of an array it cannot see (it assumes 10 elements), and
-- the session keeps that plan as the table grows, until an ANALYZE invalidates it: every later
-- load then read all of income_documents (and trt_records), e.g. 23,000 rows per 100-case batch
-- with 600 cases stored (docs/05 section 8). (`case_id = $1`, which the per-case loaders used
-- before 018, gets the index even on a small table; `= ANY ($1)` does not.) The statement is one
-- plan for both paths, so whichever path plans it first decides for both: the setting goes on the
-- functions that run these statements. With sequential scans priced out while they plan, their
-- lookups use the natural-key / case / bronze indexes at any size. Same rows, same results. The
-- attribute costs a setting saved and restored per call: under a microsecond (PG 15), once per W&I
-- or TRT load (per case on the per-case path, per bronze statement on the batch path). The
-- per-case loaders themselves still carry no setting (012).
--
-- Not chosen: `plan_cache_mode = force_custom_plan` on the batch loaders (each statement planned
-- with the real array). A function's setting holds for everything it calls, so every statement of
-- the parsing functions the batch runs per document (md_form_code's alias lookup, md_field_index)
-- was planned again on every call: the 100-case W&I statement took 40-70% longer; and without fresh
-- statistics the custom plan still chose a sequential scan for a 20-case array. On the batch
-- loaders it does not reach the per-case path (generic plans there), which shares the statement
-- since 018; on the shared functions it would re-plan every case's statements, nested ones too.
ALTER FUNCTION public.silver_upsert_wi(text[], uuid[], jsonb[]) SET enable_seqscan = off;
ALTER FUNCTION public.silver_upsert_trt(text[], uuid[], jsonb[]) SET enable_seqscan = off;
ALTER FUNCTION public.silver_load_wi_batch(uuid[]) SET enable_seqscan = off;
ALTER FUNCTION public.silver_load_trt_batch(uuid[]) SET enable_seqscan = off;

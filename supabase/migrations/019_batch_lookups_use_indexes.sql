-- 019: the batch loaders of 018 find a batch's rows through the case index however small the
-- table was when their plans were made.
--
-- silver_load_wi_batch and silver_load_trt_batch select the batch's existing rows with
-- `case_id = ANY (cases)`. Inside the promotion their plans are generic (012) and cached for the
-- session, made when the function first runs. When that is on a small table (a fresh database,
-- a bench's warm-up, the first cases of a long session), the planner fairly prefers a sequential
-- scan, and the session keeps that plan as the table grows: every later batch then read all of
-- income_documents (and trt_records) twice, e.g. 23,000 rows per 100-case batch with 600 cases
-- stored (docs/05 section 8). The per-case loaders' `case_id = $1` gets the index even on a
-- small table; `= ANY ($1)` does not. With sequential scans priced out while these two functions
-- plan (a function attribute, applied once per bronze statement), the batch's lookups use the
-- natural-key / case indexes at any size. Same rows, same results.
ALTER FUNCTION public.silver_load_wi_batch(uuid[]) SET enable_seqscan = off;
ALTER FUNCTION public.silver_load_trt_batch(uuid[]) SET enable_seqscan = off;

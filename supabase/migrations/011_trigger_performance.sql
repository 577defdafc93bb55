-- 011: bronze -> silver -> gold trigger performance, second pass (docs/05_TRIGGER_PERFORMANCE.md).
-- Behaviour is unchanged: every function keeps its signature and its results.

-- ---------------------------------------------------------------------------------------
-- 1. No JIT inside the promotion machinery.
--
-- The loaders' statements are small (one case), but the planner's cost estimates for them are
-- large: a set-returning function is assumed to return 1000 rows, and the CSED and activity
-- queries join several of them. On a server built with LLVM (jit = on by default, e.g. the
-- system Postgres 15 here) csed_events' query alone was JIT-compiled on every AT load, ~2 s
-- each time; bulk ingest fell to ~1 case/s and a single case took ~1 s. The rule lookups return
-- at most one row (LIMIT 1), so they say so, and the entry points run with jit off (a SET
-- clause: it applies to everything they call and is restored when they return; other settings
-- made inside, e.g. the gold deferral notes, are not affected).
ALTER FUNCTION public.at_match_action_code(text, text, text) ROWS 1;
ALTER FUNCTION public.at_match_closing_code(text, text) ROWS 1;

ALTER FUNCTION public.trg_bronze_promote() SET jit = off;
ALTER FUNCTION public.rebuild_from_bronze(text) SET jit = off;
ALTER FUNCTION public.silver_load_at(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_wi(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_trt(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_interview(uuid) SET jit = off;
ALTER FUNCTION public.csed_refresh(text, date) SET jit = off;
ALTER FUNCTION public.gold_refresh_case(text, text, uuid, text[]) SET jit = off;
ALTER FUNCTION public.trg_silver_refresh_gold() SET jit = off;
ALTER FUNCTION public.trg_tax_years_refresh_gold() SET jit = off;

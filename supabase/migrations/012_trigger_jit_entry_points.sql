-- 012: `SET jit = off` (011) only where a promotion or a rebuild starts.
--
-- A function-level SET costs something on every call (the setting is applied and restored around
-- the call). On the functions that run several times per case (the silver -> gold trigger
-- functions fire on every silver statement, gold_refresh_case and the loaders once per case and
-- bronze statement) it made single-case ingestion 10-20% slower on Postgres 18, which has no JIT
-- to avoid. The setting is inherited by everything a function calls, so the entry points are
-- enough: trg_bronze_promote (every bronze statement: all loaders, silver triggers and gold
-- refreshes run inside it), rebuild_from_bronze, and csed_refresh (also called on its own, e.g.
-- daily). Called directly outside those (a manual silver edit, SELECT silver_load_at(...)), the
-- other functions run with the session's jit setting, as before 011.
ALTER FUNCTION public.silver_load_at(uuid) RESET jit;
ALTER FUNCTION public.silver_load_wi(uuid) RESET jit;
ALTER FUNCTION public.silver_load_trt(uuid) RESET jit;
ALTER FUNCTION public.silver_load_interview(uuid) RESET jit;
ALTER FUNCTION public.gold_refresh_case(text, text, uuid, text[]) RESET jit;
ALTER FUNCTION public.trg_silver_refresh_gold() RESET jit;
ALTER FUNCTION public.trg_tax_years_refresh_gold() RESET jit;
ALTER FUNCTION public.trg_logiqs_raw_data_update_refresh_gold() RESET jit;

-- Generic plans inside a promotion: every loader, silver trigger and gold refresh statement runs
-- with a plan made once per session instead of a custom plan for its parameter values (the
-- plan cache makes custom plans for the first five executions of each statement and keeps
-- making them whenever the generic plan's estimate is higher: planning the large inlined loader
-- queries again on every call). Inherited by everything the entry point calls, like jit.
ALTER FUNCTION public.trg_bronze_promote() SET plan_cache_mode = force_generic_plan;

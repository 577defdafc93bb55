-- Case search at scale (GET /api/cases?q=..., services/case_data.list_cases):
--   c.case_id LIKE '<digits>%'                       -- a case id prefix
--   OR lower(c.case_number) LIKE '%<text>%'          -- text anywhere in the case number
--   OR lower(c.client_name) LIKE '%<text>%'          -- or in the client's name
-- A leading wildcard cannot use a btree: trigram GIN indexes (pg_trgm) on the lowered columns
-- serve the two '%...%' terms (3 characters or more), a text_pattern_ops btree the prefix, and
-- Postgres ORs the three bitmaps instead of reading every case.
--
-- pg_trgm ships with Postgres (contrib; Debian's postgresql-15, the embedded server, Supabase),
-- and is a trusted extension (PG 13+), so the database owner may create it. Supabase keeps
-- extensions in the `extensions` schema, so the operator class is named through the schema the
-- extension actually lives in. Where it is not available, the trigram indexes are skipped with a
-- warning (search still works, as a sequential scan) rather than failing the migration.

CREATE INDEX IF NOT EXISTS cases_case_id_pattern_idx ON public.cases (case_id text_pattern_ops);

DO $$
DECLARE
    trgm_schema text;
BEGIN
    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
            RAISE WARNING 'pg_trgm is not available on this server: case search by number or name reads every case';
            RETURN;
        END IF;
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'extensions') THEN
                CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;
            ELSE
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'not allowed to create pg_trgm (%): case search by number or name reads every case', SQLERRM;
            RETURN;
        END;
        SELECT n.nspname INTO trgm_schema
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_trgm';
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS cases_case_number_trgm_idx ON public.cases'
                   ' USING gin (lower(case_number) %I.gin_trgm_ops)', trgm_schema);
    EXECUTE format('CREATE INDEX IF NOT EXISTS cases_client_name_trgm_idx ON public.cases'
                   ' USING gin (lower(client_name) %I.gin_trgm_ops)', trgm_schema);
END
$$;

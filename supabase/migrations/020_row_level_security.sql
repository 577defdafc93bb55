-- Row-level security on every table of the public schema: the pipeline writes as
-- service_role, signed-in users (authenticated) read, anonymous sessions (anon) see nothing.
-- Views run with the caller's rights (security_invoker), so they cannot leak past RLS.
-- Later migrations that add tables end with `SELECT public.apply_row_level_security();`.
CREATE OR REPLACE FUNCTION public.apply_row_level_security()
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    rel record;
    secured integer := 0;
BEGIN
    FOR rel IN
        SELECT c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')
    LOOP
        IF rel.relkind = 'v' THEN
            EXECUTE format('ALTER VIEW public.%I SET (security_invoker = true)', rel.relname);
            EXECUTE format('REVOKE ALL ON public.%I FROM anon', rel.relname);
            EXECUTE format('GRANT SELECT ON public.%I TO authenticated, service_role', rel.relname);
            CONTINUE;
        END IF;
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', rel.relname);
        EXECUTE format('REVOKE ALL ON public.%I FROM anon', rel.relname);
        EXECUTE format('GRANT SELECT ON public.%I TO authenticated', rel.relname);
        EXECUTE format('GRANT ALL ON public.%I TO service_role', rel.relname);
        EXECUTE format('DROP POLICY IF EXISTS authenticated_read ON public.%I', rel.relname);
        EXECUTE format('CREATE POLICY authenticated_read ON public.%I FOR SELECT TO authenticated USING (true)',
                       rel.relname);
        EXECUTE format('DROP POLICY IF EXISTS service_role_all ON public.%I', rel.relname);
        EXECUTE format('CREATE POLICY service_role_all ON public.%I FOR ALL TO service_role USING (true) WITH CHECK (true)',
                       rel.relname);
        secured := secured + 1;
    END LOOP;
    EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO service_role';
    -- Supabase grants anon everything in public by default; take it back for what exists and
    -- for what later migrations create.
    EXECUTE 'REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM anon';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon';
    RETURN secured;
END
$$;

SELECT public.apply_row_level_security();

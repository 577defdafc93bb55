-- Supabase's API roles. A real Supabase project already has them; plain Postgres (the
-- embedded server, CI) gets minimal stand-ins so grants and row-level security apply the
-- same way everywhere. Roles are cluster-wide, so another database may have made them.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object THEN
                NULL;  -- created concurrently by another database's migration
            END;
        END IF;
    END LOOP;
    -- On Supabase service_role bypasses RLS; mirror that on plain Postgres.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role' AND rolbypassrls) THEN
        BEGIN
            ALTER ROLE service_role BYPASSRLS;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'service_role cannot be given BYPASSRLS here; policies grant it access instead';
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

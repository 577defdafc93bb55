-- The private `case-pdfs` bucket for transcript PDFs (Supabase Storage). On plain Postgres
-- there is no `storage` schema: the pipeline then keeps PDFs in a local folder, and this file
-- does nothing.
DO $$
BEGIN
    IF to_regclass('storage.buckets') IS NULL THEN
        RAISE NOTICE 'storage.buckets not found (not a Supabase database): skipping the case-pdfs bucket';
        RETURN;
    END IF;

    INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
    VALUES ('case-pdfs', 'case-pdfs', false, 52428800, ARRAY['application/pdf'])
    ON CONFLICT (id) DO UPDATE
        SET public = false, file_size_limit = excluded.file_size_limit,
            allowed_mime_types = excluded.allowed_mime_types;

    -- Signed-in users may read; only the pipeline (service_role) writes.
    EXECUTE 'DROP POLICY IF EXISTS "case-pdfs read for authenticated" ON storage.objects';
    EXECUTE $p$CREATE POLICY "case-pdfs read for authenticated" ON storage.objects
                 FOR SELECT TO authenticated USING (bucket_id = 'case-pdfs')$p$;
    EXECUTE 'DROP POLICY IF EXISTS "case-pdfs all for service_role" ON storage.objects';
    EXECUTE $p$CREATE POLICY "case-pdfs all for service_role" ON storage.objects
                 FOR ALL TO service_role USING (bucket_id = 'case-pdfs') WITH CHECK (bucket_id = 'case-pdfs')$p$;
END
$$;

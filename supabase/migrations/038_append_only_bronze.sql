-- 038: bronze is append-only, enforced; the lineage foreign keys it makes redundant are dropped.
--
-- 1. The four payload tables and bronze_rejected_payloads (bodies that were not JSON, kept
--    verbatim) refuse UPDATE, TRUNCATE and a DELETE of a row whose case still exists. A bronze
--    row leaves only with its case (DELETE FROM cases cascades: by the time the cascade deletes
--    the bronze rows the case row is gone). docs/06 already said bronze was append-only; nothing
--    enforced it, and raw data already received must never be lost.
-- 2. With bronze rows unable to disappear, the lineage keys (bronze_id -> bronze_*_raw, ON DELETE
--    SET NULL) of tax_years, account_activity, at_unplaced_records, csed_tolling_events,
--    csed_assessments and trt_records could never act: a loader writes the id of the bronze row it
--    is promoting. Each was a query per inserted row (a lookup and a row lock on the bronze row):
--    ~24,000 per 500 cases, 5-7% of a bulk promotion's server CPU (docs/05 section 14).
--    income_documents and logiqs_raw_data never had one; all silver lineage is now alike.
-- The case keys (and the (case_id, tax_year) keys to tax_years) stay: they carry the cascade.
-- tests/schema/test_append_only_bronze_038.py.

CREATE OR REPLACE FUNCTION public.trg_bronze_append_only()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- allowed only as part of deleting the case (the cascade runs after the case row is gone)
        IF EXISTS (SELECT 1 FROM public.cases AS c WHERE c.case_id = OLD.case_id) THEN
            RAISE EXCEPTION '% is append-only: a row of case % cannot be deleted on its own',
                TG_TABLE_NAME::text, OLD.case_id
                USING ERRCODE = 'restrict_violation',
                      HINT = 'To erase a case''s data delete the case (DELETE FROM cases), which removes '
                             'its bronze, silver and gold rows together.';
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME::text, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Ingest the corrected payload as a new bronze row; the triggers replace the case''s '
                     'silver and gold rows from it.';
END
$$;

DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['bronze_at_raw', 'bronze_wi_raw', 'bronze_trt_raw', 'bronze_interview_raw',
                                 'bronze_rejected_payloads'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS trg_%1$s_append_only ON public.%1$I', tbl);
        EXECUTE format('CREATE TRIGGER trg_%1$s_append_only BEFORE UPDATE OR DELETE ON public.%1$I'
                       ' FOR EACH ROW EXECUTE FUNCTION public.trg_bronze_append_only()', tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS trg_%1$s_no_truncate ON public.%1$I', tbl);
        EXECUTE format('CREATE TRIGGER trg_%1$s_no_truncate BEFORE TRUNCATE ON public.%1$I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION public.trg_bronze_append_only()', tbl);
    END LOOP;
END
$$;

ALTER TABLE public.tax_years DROP CONSTRAINT IF EXISTS tax_years_bronze_id_fkey;
ALTER TABLE public.account_activity DROP CONSTRAINT IF EXISTS account_activity_bronze_id_fkey;
ALTER TABLE public.at_unplaced_records DROP CONSTRAINT IF EXISTS at_unplaced_records_bronze_id_fkey;
ALTER TABLE public.csed_tolling_events DROP CONSTRAINT IF EXISTS csed_tolling_events_bronze_id_fkey;
ALTER TABLE public.csed_assessments DROP CONSTRAINT IF EXISTS csed_assessments_bronze_id_fkey;
ALTER TABLE public.trt_records DROP CONSTRAINT IF EXISTS trt_records_bronze_id_fkey;

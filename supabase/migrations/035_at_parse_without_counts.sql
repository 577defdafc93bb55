-- 035: the AT parse of a whole statement: no transaction count per record, sorts of one element.
--
-- 027's silver_load_at_set parsed each payload into records (at_parsed_records) and lines
-- (at_record_lines), then flattened both into arrays ordered by payload and position. Two costs
-- in it were not parsing (docs/05 section 13):
--   * at_parsed_records counts each record's transactions by calling at_record_transactions, a
--     plpgsql set-returning function, which at_record_lines then calls again for the lines:
--     ~11-17 us a record, ~25-41 ms for the ~2,400 records of 500 cases. The count is stored only for
--     a record whose year is unreadable (at_unplaced_records). The records are now built without
--     it (the planner drops the unused subquery), and at_load_unplaced_set counts the
--     transactions of the unplaced records alone;
--   * from Postgres 16 on, each array_agg(p.recs[i] ORDER BY p.n, i) is fed by a Sort of the
--     rows it reads, and those rows carried the payload's whole array, not the one element:
--     15 MB (records) and 35 MB (lines) of sort input for 500 cases, spilled to disk at the
--     default work_mem (Postgres 15 sorted the aggregate's argument). The element is now taken
--     out first (OFFSET 0 keeps that projection below the sort), so the sorts run in memory.
-- silver_load_at (one case) calls silver_load_at_set too (024); at_parsed_records itself, and so
-- the inspection function at_parsed_transactions, still count. What a load writes is unchanged:
-- bench/diff_triggers compares every silver and gold row, and tests/schema/test_at_parse_035.py
-- checks the counts of unplaced records and that the flattening writes no temporary file.

CREATE OR REPLACE FUNCTION public.silver_load_at_set(p_cases text[], p_bronze_ids uuid[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    v_record_cases text[];
    v_records public.at_record[];
    v_line_cases text[];
    v_lines public.at_line[];
BEGIN
    -- parse each payload once (records, then their lines), flattened with each element's case;
    -- a payload shape the parsers cannot read RAISEs here, before any write.
    -- transaction_count is left NULL: only an unplaced record stores it (at_load_unplaced_set).
    WITH parsed AS MATERIALIZED (
        SELECT x.case_id, x.n, pr.recs, ARRAY(SELECT l FROM public.at_record_lines(pr.recs) AS l) AS lines
        FROM unnest(p_cases, p_payloads) WITH ORDINALITY AS x(case_id, p, n)
        CROSS JOIN LATERAL (
            SELECT ARRAY(SELECT ROW(r.record_ord, r.tax_year, r.raw_tax_year, r.owner, r.source_file,
                                    r.filing_status_raw, r.filed_flag, r.return_filed_date, r.processing_date,
                                    r.adjusted_gross_income, r.taxable_income, r.tax_per_return, r.total_se_tax,
                                    r.account_balance, r.accrued_interest, r.accrued_penalty, r.total_balance,
                                    NULL, r.rec)::public.at_record
                         FROM public.at_parsed_records(x.p) AS r) AS recs
            OFFSET 0) AS pr
    )
    -- OFFSET 0: each element is taken out of its payload's array before the sort, which then
    -- orders one element per row instead of the whole array (it spilled to disk)
    SELECT r.cases, r.elems, l.cases, l.elems INTO v_record_cases, v_records, v_line_cases, v_lines
    FROM (SELECT coalesce(array_agg(e.case_id ORDER BY e.n, e.i), '{}') AS cases,
                 coalesce(array_agg(e.elem ORDER BY e.n, e.i), '{}') AS elems
          FROM (SELECT p.case_id, p.n, i, p.recs[i] AS elem
                FROM parsed AS p, generate_subscripts(p.recs, 1) AS i OFFSET 0) AS e) AS r,
         (SELECT coalesce(array_agg(e.case_id ORDER BY e.n, e.i), '{}') AS cases,
                 coalesce(array_agg(e.elem ORDER BY e.n, e.i), '{}') AS elems
          FROM (SELECT p.case_id, p.n, i, p.lines[i] AS elem
                FROM parsed AS p, generate_subscripts(p.lines, 1) AS i OFFSET 0) AS e) AS l;
    PERFORM public.at_load_tax_years_set(p_cases, p_bronze_ids, v_record_cases, v_records, v_line_cases, v_lines);
    PERFORM public.at_load_activity_set(p_cases, p_bronze_ids, v_line_cases, v_lines);
    PERFORM public.at_load_unplaced_set(p_cases, p_bronze_ids, v_record_cases, v_records);
    PERFORM public.csed_refresh_set(p_cases);
END
$$;

-- 024's unplaced-record load; the count of transactions is taken here, for these records only.
CREATE OR REPLACE FUNCTION public.at_load_unplaced_set(p_cases text[], p_bronze_ids uuid[],
    p_record_cases text[], p_records public.at_record[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH bronze AS (
        SELECT b.case_id, b.bronze_id FROM unnest(p_cases, p_bronze_ids) AS b(case_id, bronze_id)
    ), unplaced AS (
        SELECT x.unnest AS case_id, x.* FROM unnest(p_record_cases, p_records) AS x WHERE x.tax_year IS NULL
    ), upserted AS (
        INSERT INTO public.at_unplaced_records AS u (case_id, record_index, raw_tax_year, owner, source_file,
                                                     transaction_count, reason, record, bronze_id)
        SELECT x.case_id, x.record_ord, x.raw_tax_year, x.owner, x.source_file,
               (SELECT count(*)::integer FROM public.at_record_transactions(x.rec)),
               'tax year unreadable: ' || coalesce(quote_literal(x.raw_tax_year), 'missing'), x.rec, b.bronze_id
        FROM unplaced AS x JOIN bronze AS b USING (case_id)
        ON CONFLICT (case_id, record_index) DO UPDATE SET
            raw_tax_year = EXCLUDED.raw_tax_year, owner = EXCLUDED.owner, source_file = EXCLUDED.source_file,
            transaction_count = EXCLUDED.transaction_count, reason = EXCLUDED.reason, record = EXCLUDED.record,
            bronze_id = EXCLUDED.bronze_id
        WHERE (u.raw_tax_year, u.owner, u.source_file, u.transaction_count, u.reason, u.record)
              IS DISTINCT FROM (EXCLUDED.raw_tax_year, EXCLUDED.owner, EXCLUDED.source_file,
                                EXCLUDED.transaction_count, EXCLUDED.reason, EXCLUDED.record)
        RETURNING 1
    )
    DELETE FROM public.at_unplaced_records AS u
    WHERE u.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM unplaced AS x WHERE x.case_id = u.case_id AND x.record_ord = u.record_index);
END
$$;

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

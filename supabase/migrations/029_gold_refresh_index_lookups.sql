-- 029: two gold refreshes read a whole table for every case they refresh (docs/05 section 11).
--
-- 023's gold_refresh_projections_batch and gold_refresh_employment_batch first keep the cases that
-- have something to sync: "case in unnest(cases) WHERE EXISTS (documents) OR EXISTS (projections)".
-- Under the generic plan these functions run with (023), Postgres evaluates an EXISTS inside an
-- OR as a hashed subplan: it reads every row of tax_projections (and of logiqs_raw_data and
-- employment_information) to build the hash, whatever the number of cases asked for. A single
-- case's W&I or interview load therefore cost time in proportion to the number of cases stored:
-- ~1 ms per refresh with 250 cases, and it would be seconds with a production table. The same
-- check is now a union of two index lookups by case (case_id = ANY (...)): the same cases, in the
-- same order; the rest of both functions is 023's, unchanged.
--
-- tests/schema_gold/test_gold_refresh_scales_029.py checks the plan reads only the asked cases.

CREATE OR REPLACE FUNCTION public.gold_refresh_projections_batch(p_cases text[])
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_cases text[];
    v_pair_cases text[];
    v_pair_years integer[];
BEGIN
    SELECT array_agg(c.case_id ORDER BY c.case_id) INTO v_cases
    FROM (SELECT d.case_id FROM public.income_documents AS d WHERE d.case_id = ANY (p_cases) AND d.tax_year IS NOT NULL
          UNION
          SELECT t.case_id FROM public.tax_projections AS t WHERE t.case_id = ANY (p_cases)) AS c;
    IF v_cases IS NULL THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(y.case_id), '{}'), coalesce(array_agg(y.tax_year), '{}')
      INTO v_pair_cases, v_pair_years
    FROM (SELECT DISTINCT d.case_id, d.tax_year FROM public.income_documents AS d
          WHERE d.case_id = ANY (v_cases) AND d.tax_year IS NOT NULL) AS y;
    PERFORM public.gold_sync_tax_projections_batch(v_cases, (
        SELECT coalesce(jsonb_agg(to_jsonb(p) - 'created_at' - 'updated_at' ORDER BY p.case_id, p.tax_year), '[]')
        FROM public.tax_projection_rows(v_pair_cases, v_pair_years) AS p));
END
$$;

CREATE OR REPLACE FUNCTION public.gold_refresh_employment_batch(p_cases text[])
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_cases text[];
BEGIN
    -- no interview and no employment rows: the sync would write and delete nothing
    -- (a W&I load before the interview arrives)
    SELECT array_agg(c.case_id ORDER BY c.case_id) INTO v_cases
    FROM (SELECT l.case_id FROM public.logiqs_raw_data AS l WHERE l.case_id = ANY (p_cases)
          UNION
          SELECT e.case_id FROM public.employment_information AS e WHERE e.case_id = ANY (p_cases)) AS c;
    IF v_cases IS NULL THEN
        RETURN;
    END IF;
    PERFORM public.gold_sync_employment_information_batch(v_cases, (
        WITH interview AS (
            SELECT * FROM public.logiqs_raw_data WHERE case_id = ANY (v_cases)
        ), se_evidence AS (
            -- Self-employment evidence: an SE income document in the case's latest W&I year, or
            -- an employer the interview calls self-employment (business-rules.md 4.1, Gen-A OR rule).
            SELECT r.case_id,
                   coalesce(bool_or(d.is_self_employment) FILTER (WHERE d.owner = 'TP'), false) AS tp_se,
                   coalesce(bool_or(d.is_self_employment) FILTER (WHERE d.owner = 'S'), false) AS sp_se
            FROM interview AS r
            LEFT JOIN public.income_documents AS d
                   ON d.case_id = r.case_id
                  AND d.tax_year = (SELECT max(m.tax_year) FROM public.income_documents AS m WHERE m.case_id = r.case_id)
            GROUP BY r.case_id
        )
        SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.case_id, e.person_type DESC), '[]') FROM (
            SELECT r.case_id AS case_id, 'taxpayer' AS person_type, r.b3 AS employer_name,
                   r.tp_employer_address AS employer_address, r.tp_occupation AS job_title,
                   r.b4 AS employment_start_date, public.md_pay_frequency(r.b7) AS pay_frequency,
                   r.b7 AS pay_frequency_raw, r.b5 AS gross_annual_income, r.b6 AS net_annual_income,
                   coalesce(r.al7, round(r.b5 / 12, 2)) AS gross_monthly_income,
                   CASE WHEN r.b6 > 0 THEN round(r.b6 / 12, 2) END AS net_monthly_income,
                   (se.tp_se OR coalesce(r.b3 ~* '\mself[- ]?employ', false)) AS is_self_employed,
                   jsonb_build_object('employer_name', 'b3', 'employment_start_date', 'b4',
                                      'gross_annual_income', 'b5', 'net_annual_income', 'b6',
                                      'pay_frequency', 'b7', 'gross_monthly_income', 'al7') AS excel_reference_map
            FROM interview AS r CROSS JOIN LATERAL (SELECT tp_se FROM se_evidence AS s WHERE s.case_id = r.case_id) AS se
            UNION ALL
            SELECT r.case_id, 'spouse', r.c3, r.sp_employer_address, r.sp_occupation, r.c4,
                   public.md_pay_frequency(r.c7), r.c7, r.c5, r.c6,
                   coalesce(r.al8, round(r.c5 / 12, 2)),
                   CASE WHEN r.c6 > 0 THEN round(r.c6 / 12, 2) END,
                   (se.sp_se OR coalesce(r.c3 ~* '\mself[- ]?employ', false)),
                   jsonb_build_object('employer_name', 'c3', 'employment_start_date', 'c4',
                                      'gross_annual_income', 'c5', 'net_annual_income', 'c6',
                                      'pay_frequency', 'c7', 'gross_monthly_income', 'al8')
            FROM interview AS r CROSS JOIN LATERAL (SELECT sp_se FROM se_evidence AS s WHERE s.case_id = r.case_id) AS se
            WHERE num_nonnulls(r.c3, r.c4, nullif(r.c5, 0), nullif(r.c6, 0), r.c7, nullif(r.al8, 0),
                               r.sp_employer_address, r.sp_occupation) > 0
        ) e));
END
$$;

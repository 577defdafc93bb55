-- 015: an interview insert or update refreshes the projections only when it changes what
-- compute_tax_projection takes from it (docs/05_TRIGGER_PERFORMANCE.md section 6).
--
-- compute_tax_projection reads two things from the interview row (logiqs_raw_data):
--   * the filing status md_filing_status(coalesce(filing_status_raw, b11)), used for a year only
--     when tax_years has no valid filing status for that year (a missing row, and a status that
--     is not one of the five, both give the 'single' default);
--   * whether the employer cells b3 / c3 name self-employment (k_confirmed), which matters only
--     for income documents that need that confirmation and are otherwise included.
-- So a change moves a projection only if (a) the effective status changes and some projection
-- year (a tax year of the case's income documents) has no valid tax_years status, or (b) the
-- confirmation changes and the case has such a document. Otherwise every projection year
-- computes the same row as before, and the projections are left alone; the interview gold tables
-- are refreshed as always. A new case's interview usually arrives after its transcripts, which
-- give every year a status: its insert then no longer recomputes the projections (~4.5 years)
-- a second time. 011's update trigger compared the four raw cells; this test is finer and exact.

-- the interview inputs of compute_tax_projection, computed the way it computes them
CREATE OR REPLACE FUNCTION public.interview_projection_status(p_found boolean, p_status_raw text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v text;
BEGIN
    IF NOT coalesce(p_found, false) THEN
        RETURN NULL;
    END IF;
    v := public.md_filing_status(p_status_raw);
    RETURN CASE WHEN public.md_is_filing_status(v) THEN v END;  -- NULL: the 'single' default
END
$$;

CREATE OR REPLACE FUNCTION public.interview_projection_confirmed(p_found boolean, p_b3 text, p_c3 text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_found AND coalesce(p_b3, '') || ' ' || coalesce(p_c3, '') ~* '\mself[- ]?employ', false);
$$;

-- Can a change of the interview inputs from (old status, old confirmation) to (new ...) move a
-- projection of the case, given its current income documents and tax_years?
CREATE OR REPLACE FUNCTION public.interview_moves_projection(p_case_id text, p_old_status text, p_new_status text,
                                                             p_old_confirmed boolean, p_new_confirmed boolean)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_old_status IS DISTINCT FROM p_new_status THEN
        IF to_regclass('public.tax_years') IS NULL THEN
            -- no tax_years table: every projection year reads the interview's status
            IF EXISTS (SELECT 1 FROM public.income_documents d
                       WHERE d.case_id = p_case_id AND d.tax_year IS NOT NULL) THEN
                RETURN true;
            END IF;
        ELSIF EXISTS (SELECT 1 FROM public.income_documents d
                      WHERE d.case_id = p_case_id AND d.tax_year IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM public.tax_years t
                                        WHERE t.case_id = d.case_id AND t.tax_year = d.tax_year
                                          AND public.md_is_filing_status(t.filing_status))) THEN
            RETURN true;
        END IF;
    END IF;
    IF p_old_confirmed IS DISTINCT FROM p_new_confirmed THEN
        RETURN EXISTS (SELECT 1 FROM public.income_documents d
                       WHERE d.case_id = p_case_id AND d.tax_year IS NOT NULL
                         AND d.requires_confirmation AND d.include_in_projection);
    END IF;
    RETURN false;
END
$$;

-- INSERT and UPDATE of logiqs_raw_data (DELETE keeps 003's trigger: both parts).
CREATE OR REPLACE FUNCTION public.trg_logiqs_raw_data_update_refresh_gold()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- before the insert the case had no interview row (case_id is the primary key)
        FOR c IN SELECT x.case_id, (array_agg(x.bronze_id))[1] AS bronze_id,
                        bool_or(public.interview_moves_projection(x.case_id, NULL, x.status, false, x.confirmed))
                            AS moves_projection
                 FROM (SELECT n.case_id, n.bronze_id,
                              public.interview_projection_status(true, coalesce(n.filing_status_raw, n.b11)) AS status,
                              public.interview_projection_confirmed(true, n.b3, n.c3) AS confirmed
                       FROM new_rows AS n) AS x
                 GROUP BY x.case_id ORDER BY x.case_id LOOP
            PERFORM public.gold_refresh_or_defer_parts(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id,
                CASE WHEN c.moves_projection THEN ARRAY['interview', 'projections'] ELSE ARRAY['interview'] END);
        END LOOP;
    ELSE
        FOR c IN SELECT x.case_id, (array_agg(x.bronze_id))[1] AS bronze_id,
                        bool_or(public.interview_moves_projection(x.case_id, x.old_status, x.new_status,
                                                                  x.old_confirmed, x.new_confirmed)) AS moves_projection
                 FROM (SELECT coalesce(n.case_id, o.case_id) AS case_id, n.bronze_id,
                              public.interview_projection_status(o.case_id IS NOT NULL,
                                                                 coalesce(o.filing_status_raw, o.b11)) AS old_status,
                              public.interview_projection_status(n.case_id IS NOT NULL,
                                                                 coalesce(n.filing_status_raw, n.b11)) AS new_status,
                              public.interview_projection_confirmed(o.case_id IS NOT NULL, o.b3, o.c3) AS old_confirmed,
                              public.interview_projection_confirmed(n.case_id IS NOT NULL, n.b3, n.c3) AS new_confirmed
                       FROM new_rows AS n FULL JOIN old_rows AS o ON o.case_id = n.case_id) AS x
                 GROUP BY x.case_id ORDER BY x.case_id LOOP
            PERFORM public.gold_refresh_or_defer_parts(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id,
                CASE WHEN c.moves_projection THEN ARRAY['interview', 'projections'] ELSE ARRAY['interview'] END);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS trg_logiqs_raw_data_gold_ins ON public.logiqs_raw_data;
CREATE TRIGGER trg_logiqs_raw_data_gold_ins AFTER INSERT ON public.logiqs_raw_data
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.trg_logiqs_raw_data_update_refresh_gold();

-- 023: the projections of every case of a bronze statement computed and stored in one pass.
--
-- Gold was about a quarter of bulk promotion time, and most of it the projections: for each
-- case, compute_tax_projection ran its ~8 queries once per W&I year, then the rows went through
-- one sync statement per case (docs/05 section 10). Now:
--
--   * tax_projection_rows(cases[], years[]) computes the projections of any set of (case, year)
--     pairs in one query: 022's arithmetic step for step, the same rounding at the same
--     points. It is the one place for that arithmetic: compute_tax_projection(case, year) is now
--     this query for one pair.
--   * gold_sync_tax_projections_batch(cases[], rows): the gold sync statement for several cases
--     at once, written by 003's generator (gold_sync_functions, redefined here to write it);
--     gold_refresh_projections_batch(cases[]) computes and syncs the projections of all of
--     them, and gold_refresh_projections(case) is that with one case.
--   * trg_bronze_promote (018's, otherwise unchanged) refreshes the projections of all the
--     statement's noted cases with one gold_refresh_projections_batch call, inside a
--     sub-transaction; the other gold parts stay per case. If the batch raises, the
--     projections are refreshed case by case as before (each case's failure recorded as a
--     transformation error for that case only) and a server-log line says so.
--
-- Nothing a projection says changes: bench/diff_triggers compares every silver and gold row
-- against 022's functions, and tests/schema_gold checks the published-table arithmetic.

-- The projections of the given (case, year) pairs. Steps as numbered in 011/022's
-- compute_tax_projection (docs/04 section 5).
CREATE OR REPLACE FUNCTION public.tax_projection_rows(p_cases text[], p_years integer[])
RETURNS SETOF public.tax_projections LANGUAGE plpgsql STABLE
-- The query's plan is made once per session and kept: planning it costs ~10 ms, several times
-- what it takes to run for one case (a SQL function, or a custom plan per call, planned it
-- every time).
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- MATERIALIZED: each step's values are used several times by the next; inlined, the planner
    -- would copy (and re-evaluate) their expressions at every use.
    RETURN QUERY
    WITH pair AS (
        SELECT DISTINCT x.case_id, x.tax_year FROM unnest(p_cases, p_years) AS x(case_id, tax_year)
    ), status AS (
        -- 1. Filing status: tax_years for the year, else the interview, else single (SFR default).
        SELECT p.case_id, p.tax_year, s.filing_status, s.filing_status_source,
               s.filing_status = 'married_filing_jointly' AS joint,
               -- 1099-K counts as Schedule C only when the interview confirms business activity
               coalesce(l.found AND coalesce(l.b3, '') || ' ' || coalesce(l.c3, '') ~* '\mself[- ]?employ', false)
                   AS k_confirmed
        FROM pair AS p
        LEFT JOIN public.tax_years AS ty ON ty.case_id = p.case_id AND ty.tax_year = p.tax_year
        LEFT JOIN LATERAL (SELECT true AS found, coalesce(li.filing_status_raw, li.b11) AS status_raw, li.b3, li.c3
                           FROM public.logiqs_raw_data AS li WHERE li.case_id = p.case_id) AS l ON true
        CROSS JOIN LATERAL (
            SELECT CASE WHEN public.md_is_filing_status(ty.filing_status) THEN NULL
                        WHEN l.found THEN public.md_filing_status(l.status_raw) END AS interview_status
            OFFSET 0) AS iv
        CROSS JOIN LATERAL (
            SELECT CASE WHEN public.md_is_filing_status(ty.filing_status) THEN ty.filing_status
                        WHEN public.md_is_filing_status(iv.interview_status) THEN iv.interview_status
                        ELSE 'single' END AS filing_status,
                   CASE WHEN public.md_is_filing_status(ty.filing_status) THEN 'tax_years'
                        WHEN public.md_is_filing_status(iv.interview_status) THEN 'interview'
                        ELSE 'default' END AS filing_status_source) AS s
    ), owner_sums AS (
        -- 2. Per owner: the year's documents (SE tax is per person: each has his own wage base).
        SELECT st.case_id, st.tax_year, o.*,
               o.owner <> 'S' OR st.joint AS counted,
               CASE WHEN se.tax_year IS NOT NULL AND o.se_gross > 0 THEN o.se_gross * se.net_earnings_factor END AS nese,
               se.minimum_net_earnings, se.ss_rate, se.medicare_rate, se.ss_wage_base
        FROM status AS st
        CROSS JOIN LATERAL (
            SELECT d.owner,
                   count(*) AS docs,
                   coalesce(sum(d.gross_amount - d.se_amount) FILTER (WHERE inc AND d.income_kind = 'wages'), 0) AS wages,
                   coalesce(sum(d.se_amount) FILTER (WHERE inc), 0) AS se_gross,
                   coalesce(sum(d.gross_amount - d.se_amount)
                            FILTER (WHERE inc AND d.income_kind NOT IN ('wages', 'social_security')), 0) AS other,
                   coalesce(sum(d.gross_amount) FILTER (WHERE inc AND d.income_kind = 'social_security'), 0) AS ssb,
                   coalesce(sum(d.preferential_amount) FILTER (WHERE inc), 0) AS pref,
                   coalesce(sum(d.early_distribution_amount) FILTER (WHERE inc), 0) AS early,
                   coalesce(sum(d.gross_amount - d.se_amount)
                            FILTER (WHERE inc AND d.income_kind IN ('interest', 'dividends', 'capital_gain')), 0) AS nii,
                   coalesce(sum(d.ss_wages), 0) AS ss_wages,
                   coalesce(sum(d.medicare_wages), 0) AS medicare_wages,
                   coalesce(sum(d.federal_withholding), 0) AS withholding,
                   coalesce(sum(d.gross_amount) FILTER (WHERE inc), 0) AS income,
                   coalesce(bool_or(d.requires_confirmation AND d.include_in_projection AND NOT st.k_confirmed), false)
                       AS k_unconfirmed,
                   (SELECT array_agg(DISTINCT f) FROM public.income_documents AS d2 CROSS JOIN LATERAL unnest(d2.flags) AS f
                    WHERE d2.case_id = st.case_id AND d2.tax_year = st.tax_year AND d2.owner = d.owner) AS doc_flags
            FROM public.income_documents AS d
            CROSS JOIN LATERAL (SELECT d.include_in_projection AND (NOT d.requires_confirmation OR st.k_confirmed) AS inc) AS i
            WHERE d.case_id = st.case_id AND d.tax_year = st.tax_year
            GROUP BY d.owner) AS o
        LEFT JOIN public.se_tax_constants AS se ON se.tax_year = st.tax_year
    ), owners AS (
        -- net earnings count from $400 (IRC 1402(b)); SS part up to the wage base left after W-2 SS wages
        SELECT os.*, os.nese >= os.minimum_net_earnings AS se_taxed,
               CASE WHEN os.nese >= os.minimum_net_earnings
                    THEN os.ss_rate * least(os.nese, greatest(os.ss_wage_base - os.ss_wages, 0)) END AS se_ss,
               CASE WHEN os.nese >= os.minimum_net_earnings THEN os.medicare_rate * os.nese END AS se_med
        FROM owner_sums AS os
    ), totals AS (
        SELECT st.*,
               coalesce(o.docs, 0) AS docs, coalesce(o.wages, 0) AS wages, coalesce(o.se_gross, 0) AS se_gross,
               coalesce(o.other, 0) AS other, coalesce(o.ssb, 0) AS ssb, coalesce(o.pref, 0) AS pref,
               coalesce(o.early, 0) AS early, coalesce(o.nii, 0) AS nii,
               coalesce(o.medicare_wages, 0) AS medicare_wages, coalesce(o.nese_total, 0) AS nese_total,
               coalesce(o.se_ss, 0) AS se_ss, coalesce(o.se_med, 0) AS se_med,
               coalesce(o.tp_income, 0) AS tp_income, coalesce(o.spouse_income, 0) AS spouse_income,
               coalesce(o.tp_withholding, 0) AS tp_withholding, coalesce(o.spouse_withholding, 0) AS spouse_withholding,
               coalesce(fl.owner_flags, '{}') AS owner_flags
        FROM status AS st
        -- grouped and hash-joined, not a LATERAL per pair: that would rescan the whole CTE each time
        LEFT JOIN (
            SELECT ow.case_id, ow.tax_year,
                   sum(ow.docs) FILTER (WHERE ow.counted) AS docs,
                   sum(ow.wages) FILTER (WHERE ow.counted) AS wages,
                   sum(ow.se_gross) FILTER (WHERE ow.counted) AS se_gross,
                   sum(ow.other) FILTER (WHERE ow.counted) AS other,
                   sum(ow.ssb) FILTER (WHERE ow.counted) AS ssb,
                   sum(ow.pref) FILTER (WHERE ow.counted) AS pref,
                   sum(ow.early) FILTER (WHERE ow.counted) AS early,
                   sum(ow.nii) FILTER (WHERE ow.counted) AS nii,
                   sum(ow.medicare_wages) FILTER (WHERE ow.counted) AS medicare_wages,
                   sum(ow.nese) FILTER (WHERE ow.counted AND ow.se_taxed) AS nese_total,
                   sum(ow.se_ss) FILTER (WHERE ow.counted) AS se_ss,
                   sum(ow.se_med) FILTER (WHERE ow.counted) AS se_med,
                   round(sum(ow.income) FILTER (WHERE ow.counted AND ow.owner <> 'S'), 2) AS tp_income,
                   round(sum(ow.income) FILTER (WHERE ow.counted AND ow.owner = 'S'), 2) AS spouse_income,
                   round(sum(ow.withholding) FILTER (WHERE ow.counted AND ow.owner <> 'S'), 2) AS tp_withholding,
                   round(sum(ow.withholding) FILTER (WHERE ow.counted AND ow.owner = 'S'), 2) AS spouse_withholding
            FROM owners AS ow
            GROUP BY ow.case_id, ow.tax_year) AS o ON o.case_id = st.case_id AND o.tax_year = st.tax_year
        LEFT JOIN (
            SELECT fo.case_id, fo.tax_year, array_agg(f.flag) AS owner_flags
            FROM owners AS fo
            CROSS JOIN LATERAL unnest(CASE
                WHEN NOT fo.counted THEN ARRAY['spouse_documents_excluded']
                ELSE coalesce(fo.doc_flags, '{}')
                     || CASE WHEN fo.k_unconfirmed THEN ARRAY['form_1099k_unconfirmed_excluded'] ELSE '{}' END
                     || CASE WHEN fo.nese < fo.minimum_net_earnings THEN ARRAY['se_earnings_under_400'] ELSE '{}' END
                END) AS f(flag)
            GROUP BY fo.case_id, fo.tax_year) AS fl ON fl.case_id = st.case_id AND fl.tax_year = st.tax_year
    ), refs AS MATERIALIZED (
        SELECT t.*,
               -- payments credited to the year (022): TC 430/610/660 less 611/612/661, unsigned;
               -- the spouse's account only on a joint projection
               (SELECT coalesce(sum(CASE WHEN a.transaction_code IN ('430', '610', '660') THEN abs(a.amount)
                                         ELSE -abs(a.amount) END), 0)
                FROM public.account_activity AS a
                WHERE a.case_id = t.case_id AND a.tax_year = t.tax_year
                  AND a.transaction_code IN ('430', '610', '611', '612', '660', '661')
                  AND (a.owner <> 'S' OR t.joint)) AS payments,
               se.tax_year AS se_year, se.deductible_share, se.additional_medicare_rate,
               sd.amount AS std,
               EXISTS (SELECT 1 FROM public.tax_brackets AS b
                       WHERE b.tax_year = t.tax_year AND b.filing_status = t.filing_status) AS has_brackets,
               am.amount AS thr, sb.amount AS ss_base, sa.amount AS ss_adj, ni.amount AS niit_thr, ni.rate AS niit_rate,
               ed.value AS early_rate
        FROM totals AS t
        LEFT JOIN public.se_tax_constants AS se ON se.tax_year = t.tax_year
        LEFT JOIN public.standard_deductions AS sd ON sd.tax_year = t.tax_year AND sd.filing_status = t.filing_status
        LEFT JOIN public.filing_status_thresholds AS am
               ON am.threshold_kind = 'additional_medicare' AND am.filing_status = t.filing_status
        LEFT JOIN public.filing_status_thresholds AS sb
               ON sb.threshold_kind = 'ss_base_amount' AND sb.filing_status = t.filing_status
        LEFT JOIN public.filing_status_thresholds AS sa
               ON sa.threshold_kind = 'ss_adjusted_base' AND sa.filing_status = t.filing_status
        LEFT JOIN public.filing_status_thresholds AS ni ON ni.threshold_kind = 'niit' AND ni.filing_status = t.filing_status
        LEFT JOIN public.tax_constants AS ed ON ed.name = 'early_distribution_rate'
    ), taxed AS MATERIALIZED (
        SELECT r.*, tables_ok,
               -- 3. SE tax and half of it as an adjustment
               se_tax, se_ded,
               -- 4. additional Medicare 0.9 %: wages above the threshold, then SE earnings above
               --    the threshold reduced by Medicare wages (Form 8959 parts I-II)
               round(r.additional_medicare_rate * (greatest(r.medicare_wages - r.thr, 0)
                     + greatest(r.nese_total - greatest(r.thr - r.medicare_wages, 0), 0)), 2) AS addl,
               -- 5. taxable social security (benefits worksheet); total income adds it unrounded
               CASE WHEN r.ssb > 0 AND pi.l10 > 0
                    THEN least(0.85 * greatest(pi.l10 - (r.ss_adj - r.ss_base), 0)
                               + least(0.5 * least(pi.l10, r.ss_adj - r.ss_base), 0.5 * r.ssb), 0.85 * r.ssb)
                    ELSE 0 END AS taxable_ss
        FROM refs AS r
        CROSS JOIN LATERAL (SELECT r.se_year IS NOT NULL AND r.std IS NOT NULL AND r.has_brackets AS tables_ok,
                                   round(r.se_ss + r.se_med, 2) AS se_tax) AS s1
        CROSS JOIN LATERAL (SELECT round(s1.se_tax * r.deductible_share, 2) AS se_ded) AS s2
        CROSS JOIN LATERAL (SELECT r.wages + r.se_gross + r.other - s2.se_ded + 0.5 * r.ssb - r.ss_base AS l10) AS pi
    ), incomes AS MATERIALIZED (
        -- 6. AGI, standard deduction, taxable income
        SELECT x.*, ti.total_income, ti.total_income - x.se_ded AS agi,
               round(greatest(ti.total_income - x.se_ded - x.std, 0), 2) AS taxable
        FROM taxed AS x
        CROSS JOIN LATERAL (SELECT round(x.wages + x.se_gross + x.other + x.taxable_ss, 2) AS total_income) AS ti
    ), income_tax AS MATERIALIZED (
        -- 7. brackets on the ordinary part, 0/15/20 % on the preferential part, never more than all-ordinary
        SELECT i.*, pt.pref_ti, bt.full_tax,
               round(CASE WHEN pt.pref_ti > 0
                          THEN least(bt.ord_tax + 0.15 * sp.p15 + 0.20 * (pt.pref_ti - sp.p0 - sp.p15), bt.full_tax)
                          ELSE bt.full_tax END, 2) AS income_tax,
               round(coalesce(i.early_rate, 0) * i.early, 2) AS early_tax,
               CASE WHEN niit.raw < 0 THEN 0 ELSE niit.raw END AS niit
        FROM incomes AS i
        CROSS JOIN LATERAL (SELECT least(i.pref, i.taxable) AS pref_ti) AS pt
        CROSS JOIN LATERAL (SELECT round(i.niit_rate * least(i.nii, greatest(i.agi - i.niit_thr, 0)), 2) AS raw) AS niit
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(b.rate * greatest(least(i.taxable - pt.pref_ti, coalesce(b.income_max, 'Infinity'))
                                                  - b.income_min, 0)), 0) AS ord_tax,
                   coalesce(sum(b.rate * greatest(least(i.taxable, coalesce(b.income_max, 'Infinity')) - b.income_min, 0)), 0)
                       AS full_tax
            FROM public.tax_brackets AS b WHERE b.tax_year = i.tax_year AND b.filing_status = i.filing_status) AS bt
        LEFT JOIN LATERAL (
            -- the preferential slice occupies [ordinary, taxable]; split it at the two thresholds
            SELECT greatest(least(i.taxable, cg.zero_rate_max) - (i.taxable - pt.pref_ti), 0) AS p0,
                   greatest(least(i.taxable, cg.fifteen_rate_max) - greatest(i.taxable - pt.pref_ti, cg.zero_rate_max), 0)
                       AS p15
            FROM (SELECT 1) AS one
            LEFT JOIN public.capital_gain_thresholds AS cg
                   ON cg.tax_year = i.tax_year AND cg.filing_status = i.filing_status
            WHERE pt.pref_ti > 0) AS sp ON true
    )
    SELECT t.case_id, t.tax_year, t.filing_status, t.filing_status_source, t.joint,
           t.docs::integer,
           round(t.wages, 2)::numeric(15,2), round(t.se_gross, 2)::numeric(15,2), round(t.other, 2)::numeric(15,2),
           round(t.ssb, 2)::numeric(15,2),
           CASE WHEN t.tables_ok THEN round(t.taxable_ss, 2) ELSE 0 END::numeric(15,2),
           round(CASE WHEN t.tables_ok THEN t.pref_ti ELSE t.pref END, 2)::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.total_income
                ELSE round(t.wages + t.se_gross + t.other + t.ssb, 2) END::numeric(15,2),
           t.tp_income::numeric(15,2), t.spouse_income::numeric(15,2),
           t.tp_withholding::numeric(15,2), t.spouse_withholding::numeric(15,2),
           round(t.nese_total, 2)::numeric(15,2),
           CASE WHEN t.tables_ok THEN round(t.se_ss, 2) END::numeric(15,2),
           CASE WHEN t.tables_ok THEN round(t.se_med, 2) END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.se_tax END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.se_ded END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.addl END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.niit END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.early_tax END::numeric(15,2),
           CASE WHEN t.tables_ok THEN round(t.agi, 2) END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.std END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.taxable END::numeric(15,2),
           CASE WHEN t.tables_ok THEN t.income_tax END::numeric(15,2),
           CASE WHEN t.tables_ok THEN tot.total_tax END::numeric(15,2),
           (t.tp_withholding + t.spouse_withholding)::numeric(15,2),
           -- 9. balance: + owed / - refund
           CASE WHEN t.tables_ok
                THEN tot.total_tax - (t.tp_withholding + t.spouse_withholding) - round(t.payments, 2) END::numeric(15,2),
           ARRAY(SELECT DISTINCT x FROM unnest(t.owner_flags || ARRAY[
                     CASE WHEN t.filing_status_source = 'default' THEN 'filing_status_unknown' END,
                     CASE WHEN t.se_gross > 0 THEN 'se_income_without_expenses' END,
                     CASE WHEN NOT t.tables_ok THEN 'no_tax_tables_for_year' END,
                     CASE WHEN t.tables_ok AND t.addl > 0 AND t.medicare_wages > t.thr
                          THEN 'additional_medicare_withheld_by_employer_not_credited' END]) AS x
                 WHERE x IS NOT NULL ORDER BY 1),
           NULL::timestamptz, NULL::timestamptz,
           round(t.payments, 2)::numeric(15,2)
    FROM income_tax AS t
    CROSS JOIN LATERAL (SELECT t.income_tax + t.se_tax + t.addl + t.niit + t.early_tax AS total_tax) AS tot;
END
$$;


-- One projection: the set query for one pair (the arithmetic stays in one place).
CREATE OR REPLACE FUNCTION public.compute_tax_projection(p_case_id text, p_tax_year integer)
RETURNS public.tax_projections LANGUAGE sql STABLE AS $$
    SELECT * FROM public.tax_projection_rows(ARRAY[p_case_id], ARRAY[p_tax_year]);
$$;

-- 003's generator of the gold sync functions, now also writing the several-cases variant that
-- the projections use: gold_sync_<table>_batch(cases, rows) makes those cases' rows exactly
-- the given rows (the same statement, `case_id = ANY (cases)`). Still the one place that builds
-- sync statements; call it again when a gold table's columns change.
CREATE OR REPLACE FUNCTION public.gold_sync_functions()
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('employment_information', ARRAY['case_id', 'person_type']),
            ('household_information', ARRAY['case_id']),
            ('financial_accounts', ARRAY['case_id', 'source_key']),
            ('vehicles', ARRAY['case_id', 'source_key']),
            ('real_property', ARRAY['case_id', 'source_key']),
            ('income_sources', ARRAY['case_id', 'source_key']),
            ('monthly_expenses', ARRAY['case_id', 'source_key']),
            ('tax_projections', ARRAY['case_id', 'tax_year'])) AS g(tbl, keys)
    LOOP
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION public.%I(p_case_id text, p_rows jsonb)
            RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                %s;
            END
            $body$ $f$, 'gold_sync_' || t.tbl, public.gold_sync_statement(t.tbl, t.keys, 'p_rows', 'p_case_id'));
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION public.%I(p_cases text[], p_rows jsonb)
            RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                %s;
            END
            $body$ $f$, 'gold_sync_' || t.tbl || '_batch',
            public.gold_sync_statement(t.tbl, t.keys, 'p_rows', 'ANY (p_cases)'));
    END LOOP;
END
$fn$;
SELECT public.gold_sync_functions();

-- The projections of several cases: one row per case and W&I year, computed and synced in one
-- pass. A case with neither documents nor projection rows has nothing to sync (011).
-- Generic plans (as inside a promotion, 012), so that a refresh outside one (a silver edit)
-- does not plan the large statements again each time; enable_seqscan off: a generic
-- case_id = ANY (...) plan made while a table was small would keep scanning it (019).
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
    FROM (SELECT DISTINCT x AS case_id FROM unnest(p_cases) AS x) AS c
    WHERE EXISTS (SELECT 1 FROM public.income_documents AS d WHERE d.case_id = c.case_id AND d.tax_year IS NOT NULL)
       OR EXISTS (SELECT 1 FROM public.tax_projections AS t WHERE t.case_id = c.case_id);
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

-- One case (gold_refresh_case, the per-case fallback): the same pass for one case.
CREATE OR REPLACE FUNCTION public.gold_refresh_projections(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.gold_refresh_projections_batch(ARRAY[p_case_id]);
END
$$;

-- 011's gold_refresh_employment for several cases: one row set, one sync.
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
    FROM (SELECT DISTINCT x AS case_id FROM unnest(p_cases) AS x) AS c
    WHERE EXISTS (SELECT 1 FROM public.logiqs_raw_data AS l WHERE l.case_id = c.case_id)
       OR EXISTS (SELECT 1 FROM public.employment_information AS e WHERE e.case_id = c.case_id);
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

-- 011's gold_refresh_interview for several cases: employment, then one row set and one sync
-- per table for all of them (the rows each case's interview gives; a case without one keeps none).
CREATE OR REPLACE FUNCTION public.gold_refresh_interview_batch(p_cases text[])
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_monthly_factor numeric;
BEGIN
    PERFORM public.gold_refresh_employment_batch(p_cases);

    -- normalize_to_monthly(amount, 'monthly') (008) is round(amount * factor, 2): the factor once
    v_monthly_factor := coalesce((SELECT f.monthly_factor FROM public.pay_frequency_factors AS f
                                WHERE f.frequency = coalesce(public.md_pay_frequency('monthly'), 'monthly')), 1);

    PERFORM public.gold_sync_household_information_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
            'case_id', r.case_id,
            'total_household_members', coalesce(r.b10, nullif(coalesce(r.b50, 0) + coalesce(r.b51, 0), 0), 1),
            'members_under_65', coalesce(r.b50, 0),
            'members_over_65', coalesce(r.b51, 0),
            'filing_status', public.md_filing_status(coalesce(r.filing_status_raw, r.b11)),
            'filing_status_raw', coalesce(r.filing_status_raw, r.b11),
            'number_of_dependents', r.number_of_dependents,
            'taxpayer_next_tax_return', r.b11, 'taxpayer_spouse_claim', r.b12,
            'spouse_next_tax_return', r.c11, 'spouse_spouse_claim', r.c12,
            'taxpayer_length_of_residency', r.b13, 'taxpayer_occupancy_status', r.b14,
            'spouse_length_of_residency', r.c13, 'spouse_occupancy_status', r.c14,
            'state', r.b52, 'county', r.b53, 'zip_code', r.zip_code) ORDER BY r.case_id), '[]')
        FROM public.logiqs_raw_data AS r WHERE r.case_id = ANY (p_cases)));

    PERFORM public.gold_sync_financial_accounts_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', r.case_id, 'source_key', v.k, 'account_type', v.t, 'description', v.d,
                   'current_balance', v.bal, 'loan_balance', coalesce(v.loan, 0), 'is_primary', v.prim)
                   ORDER BY r.case_id, v.k), '[]')
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (VALUES ('b18', 'checking', 'Bank accounts (total)', r.b18, NULL::numeric, true),
                     ('b19', 'other', 'Cash on hand', r.b19, NULL, false),
                     ('b20', 'investment', 'Investments', r.b20, r.d20, false),
                     ('b21', 'other', 'Life insurance (cash value)', r.b21, r.d21, false),
                     ('b22', 'retirement', 'Retirement accounts', r.b22, r.d22, false))
             AS v(k, t, d, bal, loan, prim)
        WHERE r.case_id = ANY (p_cases) AND v.bal > 0));

    PERFORM public.gold_sync_vehicles_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', r.case_id, 'source_key', 'vehicle' || v.n, 'vehicle_type', 'car',
                   'year', public.md_year(g -> 'year'), 'make', public.md_text(g -> 'make'),
                   'model', public.md_text(g -> 'model'), 'mileage', round(public.md_numeric(g -> 'mileage'))::integer,
                   'current_value', v.val, 'loan_balance', coalesce(v.loan, 0),
                   'monthly_payment', public.md_numeric(g -> 'monthlyPayment'),
                   'final_payment_date', public.md_date(g -> 'finalPaymentDate')) ORDER BY r.case_id, v.n), '[]')
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (VALUES (1, r.b24, r.d24), (2, r.b25, r.d25), (3, r.b26, r.d26), (4, r.b27, r.d27)) AS v(n, val, loan)
        LEFT JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(r.assets -> 'vehicles' -> 'vehiclesGrid') = 'array'
                                       THEN r.assets -> 'vehicles' -> 'vehiclesGrid' -> (v.n - 1) END AS g) AS grid ON true
        WHERE r.case_id = ANY (p_cases) AND v.val > 0));

    PERFORM public.gold_sync_real_property_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', r.case_id, 'source_key', 'b23', 'property_type', 'primary_residence',
                   'address', public.md_text(g -> 'propertyAddress'), 'current_market_value', r.b23,
                   'mortgage_balance', coalesce(r.d23, 0), 'monthly_payment', public.md_numeric(g -> 'monthlyPayment'),
                   'purchase_date', public.md_date(g -> 'purchasedDate'),
                   'purchase_price', public.md_numeric(g -> 'purchasedPrice'),
                   'final_payment_date', public.md_date(g -> 'finalPaymentDate')) ORDER BY r.case_id), '[]')
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(r.assets -> 'realProperty' -> 'propertyGrid') = 'array'
                                        THEN r.assets -> 'realProperty' -> 'propertyGrid' -> 0 END AS g) AS grid
        WHERE r.case_id = ANY (p_cases) AND coalesce(r.b23 > 0, false)));

    -- Income cells b33-b47 are monthly amounts (upstream-apis.md 3.3 labels them monthly; the
    -- template's 5,200 wages = 62,400 / 12) - the `annual` reading of one original migration
    -- is the conflict business-rules.md 6.4 flags, resolved here as monthly.
    PERFORM public.gold_sync_income_sources_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', r.case_id, 'source_key', v.k, 'person_type', v.p, 'income_type', v.t,
                   'description', v.d, 'amount', v.amt, 'frequency', 'monthly',
                   'normalized_monthly_amount', round(v.amt * v_monthly_factor, 2)) ORDER BY r.case_id, v.k), '[]')
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (VALUES ('b33', 'taxpayer', 'wages', 'Taxpayer wages', r.b33),
                     ('b34', 'taxpayer', 'social_security', 'Taxpayer social security', r.b34),
                     ('b35', 'taxpayer', 'pension', 'Taxpayer pension', r.b35),
                     ('b36', 'spouse', 'wages', 'Spouse wages', r.b36),
                     ('b37', 'spouse', 'social_security', 'Spouse social security', r.b37),
                     ('b38', 'spouse', 'pension', 'Spouse pension', r.b38),
                     ('b39', 'joint', 'dividends_interest', 'Dividends and interest', r.b39),
                     ('b40', 'joint', 'rental_gross', 'Rental income (gross)', r.b40),
                     ('b41', 'joint', 'rental_expenses', 'Rental expenses', r.b41),
                     ('b42', 'joint', 'distributions', 'Distributions', r.b42),
                     ('b43', 'joint', 'alimony', 'Alimony received', r.b43),
                     ('b44', 'joint', 'child_support', 'Child support received', r.b44),
                     ('b45', 'joint', 'other', 'Other income', r.b45),
                     ('b46', 'joint', 'additional_1', 'Additional income 1', r.b46),
                     ('b47', 'joint', 'additional_2', 'Additional income 2', r.b47)) AS v(k, p, t, d, amt)
        WHERE r.case_id = ANY (p_cases) AND v.amt > 0));

    -- Expense cells (business-rules.md 6.5). Not mapped on purpose: ak2 (vehicle count, not
    -- money) and ak5 (auto total, overlaps ak7/ak8) - medallion-schema.md 8.7, business-rules 8.
    PERFORM public.gold_sync_monthly_expenses_batch(p_cases, (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', r.case_id, 'source_key', v.k, 'expense_category', v.c, 'expense_subcategory', v.s,
                   'description', v.d, 'amount', v.amt, 'frequency', 'monthly',
                   'normalized_monthly_amount', round(v.amt * v_monthly_factor, 2),
                   'is_irs_standard', v.std IS NOT NULL, 'irs_standard_amount', v.std) ORDER BY r.case_id, v.k), '[]')
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (VALUES ('b56', 'food', NULL, 'Food', r.b56, r.c56),
                     ('b57', 'housekeeping', NULL, 'Housekeeping supplies', r.b57, r.c57),
                     ('b58', 'apparel', NULL, 'Apparel and services', r.b58, r.c58),
                     ('b59', 'personal_care', NULL, 'Personal care', r.b59, r.c59),
                     ('b60', 'misc', NULL, 'Miscellaneous', r.b60, r.c60),
                     ('b64', 'housing', 'mortgage_lien_1', 'Mortgage / lien 1', r.b64, NULL::numeric),
                     ('b65', 'housing', 'mortgage_lien_2', 'Mortgage / lien 2', r.b65, NULL),
                     ('b66', 'housing', 'rent', 'Rent', r.b66, NULL),
                     ('b67', 'housing', 'insurance', 'Homeowner / renter insurance', r.b67, NULL),
                     ('b68', 'housing', 'property_tax', 'Property tax', r.b68, NULL),
                     ('b69', 'utilities', 'gas', 'Gas', r.b69, NULL),
                     ('b70', 'utilities', 'electricity', 'Electricity', r.b70, NULL),
                     ('b71', 'utilities', 'water', 'Water', r.b71, NULL),
                     ('b72', 'utilities', 'sewer', 'Sewer', r.b72, NULL),
                     ('b73', 'utilities', 'cable', 'Cable / internet', r.b73, NULL),
                     ('b74', 'utilities', 'trash', 'Trash', r.b74, NULL),
                     ('b75', 'utilities', 'phone', 'Phone', r.b75, NULL),
                     ('b79', 'healthcare', 'insurance', 'Health insurance', r.b79, NULL),
                     ('b80', 'healthcare', 'prescriptions', 'Prescriptions', r.b80, NULL),
                     ('b81', 'healthcare', 'copays', 'Copays', r.b81, NULL),
                     ('b84', 'taxes', NULL, 'Current taxes', r.b84, NULL),
                     ('b87', 'court_payments', NULL, 'Court-ordered payments', r.b87, NULL),
                     ('b88', 'child_care', NULL, 'Child / dependent care', r.b88, NULL),
                     ('b89', 'insurance', 'whole_life', 'Whole life insurance', r.b89, NULL),
                     ('b90', 'insurance', 'term_life', 'Term life insurance', r.b90, NULL),
                     ('ak4', 'transportation', 'public_transportation', 'Public transportation', r.ak4, r.al4),
                     ('ak6', 'transportation', 'auto_insurance', 'Auto insurance', r.ak6, NULL),
                     ('ak7', 'transportation', 'auto_payment_1', 'Auto payment 1', r.ak7, NULL),
                     ('ak8', 'transportation', 'auto_payment_2', 'Auto payment 2', r.ak8, NULL)) AS v(k, c, s, d, amt, std)
        WHERE r.case_id = ANY (p_cases) AND v.amt > 0));
END
$$;

-- One case (gold_refresh_case, the per-case fallback, a silver edit): the same with one case.
CREATE OR REPLACE FUNCTION public.gold_refresh_employment(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.gold_refresh_employment_batch(ARRAY[p_case_id]);
END
$$;

CREATE OR REPLACE FUNCTION public.gold_refresh_interview(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.gold_refresh_interview_batch(ARRAY[p_case_id]);
END
$$;

-- 018's trigger; after the silver path, each gold part of the statement's noted cases in one
-- pass (falling back to case by case), then what is left per case as before.
CREATE OR REPLACE FUNCTION public.trg_bronze_promote()
 RETURNS trigger
 LANGUAGE plpgsql
 SET jit TO 'off'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    row_to_promote record;
    refresh record;
    outer_deferred text := coalesce(current_setting('medallion.gold_deferred', true), '');
    outer_pending text := coalesce(current_setting('medallion.gold_pending', true), '');
    pending text[];
    batch_ids uuid[];
    batched boolean := false;
    gold_part text;
    part_cases text[];
    batched_parts text[] := '{}';
BEGIN
    PERFORM set_config('medallion.gold_deferred', 'on', true);
    PERFORM set_config('medallion.gold_pending', '', true);
    -- the latest bronze row of each case, in case order (the per-case path's order)
    SELECT array_agg(l.bronze_id ORDER BY l.case_id) INTO batch_ids
    FROM (SELECT DISTINCT ON (case_id) bronze_id, case_id
          FROM new_rows
          ORDER BY case_id, ingest_seq DESC) AS l;
    IF cardinality(batch_ids) >= 2 THEN
        BEGIN
            PERFORM public.silver_load_batch(TG_ARGV[0], batch_ids);
            batched := true;
        EXCEPTION WHEN OTHERS THEN
            batched := false;  -- rolled back (rows and gold notes); promote case by case below
            -- The per-case path records a payload's own error; this line shows a batch-only failure.
            RAISE LOG 'bronze promotion of % cases (%) fell back to case by case: % (%)',
                cardinality(batch_ids), TG_ARGV[0], SQLERRM, SQLSTATE;
        END;
    END IF;
    PERFORM set_config('medallion.promotion_path',
                       CASE WHEN batched THEN 'batch:' ELSE 'per_case:' END || TG_ARGV[0] || ':'
                       || coalesce(cardinality(batch_ids), 0), true);
    IF NOT batched THEN
        FOR row_to_promote IN
            SELECT DISTINCT ON (case_id) bronze_id, case_id
            FROM new_rows
            ORDER BY case_id, ingest_seq DESC
        LOOP
            PERFORM public.promote_bronze_row(TG_ARGV[0], row_to_promote.bronze_id, row_to_promote.case_id);
        END LOOP;
    END IF;
    pending := string_to_array(nullif(current_setting('medallion.gold_pending'), ''), ',');
    PERFORM set_config('medallion.gold_deferred', outer_deferred, true);
    IF outer_deferred = 'on' THEN  -- nested promotion: hand the notes to the outer one
        PERFORM set_config('medallion.gold_pending', concat_ws(',', nullif(outer_pending, ''),
                                                               array_to_string(pending, ',')), true);
        RETURN NULL;
    END IF;
    PERFORM set_config('medallion.gold_pending', outer_pending, true);
    -- Each gold part for all the noted cases at once (023), in its own sub-transaction; a part
    -- whose pass raises is refreshed case by case below (a case's own failure is recorded there).
    -- 'employment' is part of 'interview' (gold_refresh_case), so counted only without it.
    FOREACH gold_part IN ARRAY ARRAY['interview', 'employment', 'projections'] LOOP
        EXIT WHEN coalesce(cardinality(batch_ids), 0) < 2;  -- a one-case statement: nothing to batch
        SELECT array_agg(noted.case_id ORDER BY noted.case_id) INTO part_cases
        FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(split_part(token, ':', 2)) AS parts
              FROM unnest(pending) AS token GROUP BY 1) AS noted
        WHERE gold_part = ANY (noted.parts)
          AND NOT (gold_part = 'employment' AND 'interview' = ANY (noted.parts))
          AND noted.case_id IN (SELECT n.case_id FROM new_rows AS n);  -- as the per-case loop below
        CONTINUE WHEN coalesce(cardinality(part_cases), 0) < 2;
        BEGIN
            IF gold_part = 'interview' THEN
                PERFORM public.gold_refresh_interview_batch(part_cases);
            ELSIF gold_part = 'employment' THEN
                PERFORM public.gold_refresh_employment_batch(part_cases);
            ELSE
                PERFORM public.gold_refresh_projections_batch(part_cases);
            END IF;
            batched_parts := batched_parts || gold_part;
        EXCEPTION WHEN OTHERS THEN
            RAISE LOG 'gold % of % cases (%) fell back to case by case: % (%)',
                gold_part, cardinality(part_cases), TG_ARGV[0], SQLERRM, SQLSTATE;
        END;
    END LOOP;
    PERFORM set_config('medallion.gold_path', coalesce(array_to_string(batched_parts, ','), ''), true);
    FOR refresh IN
        SELECT latest.case_id, latest.bronze_id, noted.parts
        FROM (SELECT t.case_id, array_agg(DISTINCT t.part) AS parts
              FROM (SELECT split_part(token, ':', 1) AS case_id, split_part(token, ':', 2) AS part,
                           bool_or(split_part(token, ':', 2) = 'interview')
                               OVER (PARTITION BY split_part(token, ':', 1)) AS with_interview
                    FROM unnest(pending) AS token) AS t
              -- the parts done above; a case's 'employment' too when its 'interview' was
              WHERE t.part <> ALL (batched_parts)
                AND NOT (t.part = 'employment' AND t.with_interview AND 'interview' = ANY (batched_parts))
              GROUP BY t.case_id) AS noted
        JOIN (SELECT DISTINCT ON (n.case_id) n.case_id, n.bronze_id FROM new_rows AS n
              ORDER BY n.case_id, n.ingest_seq DESC) AS latest USING (case_id)
        ORDER BY latest.case_id
    LOOP
        PERFORM public.gold_refresh_case(refresh.case_id, TG_TABLE_NAME::text COLLATE "default", refresh.bronze_id, refresh.parts);
    END LOOP;
    RETURN NULL;
END
$function$;

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

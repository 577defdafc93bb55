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
            ('employment_information', ARRAY['case_id', 'person_type'], false),
            ('household_information', ARRAY['case_id'], false),
            ('financial_accounts', ARRAY['case_id', 'source_key'], false),
            ('vehicles', ARRAY['case_id', 'source_key'], false),
            ('real_property', ARRAY['case_id', 'source_key'], false),
            ('income_sources', ARRAY['case_id', 'source_key'], false),
            ('monthly_expenses', ARRAY['case_id', 'source_key'], false),
            ('tax_projections', ARRAY['case_id', 'tax_year'], true)) AS g(tbl, keys, batched)
    LOOP
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION public.%I(p_case_id text, p_rows jsonb)
            RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                %s;
            END
            $body$ $f$, 'gold_sync_' || t.tbl, public.gold_sync_statement(t.tbl, t.keys, 'p_rows', 'p_case_id'));
        CONTINUE WHEN NOT t.batched;
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

-- 018's trigger; after the silver path, the projections of the statement's noted cases in one
-- pass (falling back to case by case), then the other gold parts per case as before.
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
    projection_cases text[];
    projections_batched boolean := false;
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
    -- The projections of every noted case in one pass (023); the other parts case by case below.
    SELECT array_agg(DISTINCT split_part(token, ':', 1) ORDER BY split_part(token, ':', 1)) INTO projection_cases
    FROM unnest(pending) AS token
    WHERE split_part(token, ':', 2) = 'projections'
      AND split_part(token, ':', 1) IN (SELECT n.case_id FROM new_rows AS n);  -- as the loop below
    IF cardinality(projection_cases) >= 2 THEN
        BEGIN
            PERFORM public.gold_refresh_projections_batch(projection_cases);
            projections_batched := true;
        EXCEPTION WHEN OTHERS THEN
            -- rolled back; gold_refresh_case below refreshes each case's projections and records
            -- a case's own failure. This line shows a batch-only failure.
            RAISE LOG 'projections of % cases (%) fell back to case by case: % (%)',
                cardinality(projection_cases), TG_ARGV[0], SQLERRM, SQLSTATE;
        END;
    END IF;
    PERFORM set_config('medallion.projection_path',
                       CASE WHEN projections_batched THEN 'batch:' ELSE 'per_case:' END
                       || coalesce(cardinality(projection_cases), 0), true);
    FOR refresh IN
        SELECT latest.case_id, latest.bronze_id, noted.parts
        FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(DISTINCT split_part(token, ':', 2)) AS parts
              FROM unnest(pending) AS token
              WHERE NOT (projections_batched AND split_part(token, ':', 2) = 'projections')
              GROUP BY 1) AS noted
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

-- 037: the interview's financial accounts, income sources and monthly expenses are synced as rows.
--
-- 034 synced the projections as an array of table rows instead of a jsonb array (each row built
-- with jsonb_build_object, aggregated with jsonb_agg, parsed back by jsonb_populate_recordset).
-- gold_refresh_interview_batch (023) still sent its three one-row-per-cell tables through
-- jsonb: ~10,000 monthly expenses, ~1,500 income sources and ~1,500 financial accounts for 500
-- interviews. For the monthly expenses of 500 cases, build and sync took ~240 ms through jsonb
-- and ~155 ms as rows (docs/05 section 13). Now:
--   * gold_sync_functions writes gold_sync_<table>_rows(cases[], rows <table>[]) for these three
--     tables and the projections, from the same gold_sync_statement (its typed form, 034), and
--     the jsonb batch syncs for the four other interview tables, which build one row per case
--     or per vehicle from several cells; the three tables' jsonb batch syncs have no caller
--     left and are dropped;
--   * gold_refresh_interview_batch builds those rows with ROW(...)::<table>, in table column
--     order, in the same order as before. Columns the refresh does not set are NULL: the sync
--     never writes id or the timestamps, and gives a NOT NULL column its default (as a key
--     missing from a jsonb row did).
-- A column added to one of these tables must be added to its ROW(...) here: the cast fails
-- (and the gold tests with it) until it is. bench/diff_triggers finds every silver and gold row
-- identical; tests/schema_gold/test_interview_sync_as_rows_037.py checks the three tables.

-- 034's generator with the three tables moved to the typed list, one loop for both kinds: a
-- table built as table rows takes them as an array of its type (`_rows`), the others as a jsonb
-- array (`_batch`).
CREATE OR REPLACE FUNCTION public.gold_sync_functions()
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('employment_information', ARRAY['case_id', 'person_type'], false),
            ('household_information', ARRAY['case_id'], false),
            ('vehicles', ARRAY['case_id', 'source_key'], false),
            ('real_property', ARRAY['case_id', 'source_key'], false),
            ('tax_projections', ARRAY['case_id', 'tax_year'], true),        -- 034
            ('financial_accounts', ARRAY['case_id', 'source_key'], true),   -- 037: one row per cell
            ('income_sources', ARRAY['case_id', 'source_key'], true),
            ('monthly_expenses', ARRAY['case_id', 'source_key'], true)) AS g(tbl, keys, typed)
    LOOP
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION public.%I(p_cases text[], p_rows %s)
            RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                %s;
            END
            $body$ $f$, 'gold_sync_' || t.tbl || CASE WHEN t.typed THEN '_rows' ELSE '_batch' END,
            CASE WHEN t.typed THEN format('public.%I[]', t.tbl) ELSE 'jsonb' END,
            public.gold_sync_statement(t.tbl, t.keys, 'p_rows', 'ANY (p_cases)', t.typed));
    END LOOP;
END
$fn$;
SELECT public.gold_sync_functions();

-- 023's interview refresh; the three tables' rows are now built as table rows.
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

    PERFORM public.gold_sync_financial_accounts_rows(p_cases, ARRAY(
        SELECT ROW(NULL, r.case_id, v.k, v.t, v.d, NULL, v.bal, coalesce(v.loan, 0), v.prim, NULL, NULL,
                   NULL)::public.financial_accounts
        FROM public.logiqs_raw_data AS r
        CROSS JOIN LATERAL (VALUES ('b18', 'checking', 'Bank accounts (total)', r.b18, NULL::numeric, true),
                     ('b19', 'other', 'Cash on hand', r.b19, NULL, false),
                     ('b20', 'investment', 'Investments', r.b20, r.d20, false),
                     ('b21', 'other', 'Life insurance (cash value)', r.b21, r.d21, false),
                     ('b22', 'retirement', 'Retirement accounts', r.b22, r.d22, false))
             AS v(k, t, d, bal, loan, prim)
        WHERE r.case_id = ANY (p_cases) AND v.bal > 0
        ORDER BY r.case_id, v.k));

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
    PERFORM public.gold_sync_income_sources_rows(p_cases, ARRAY(
        SELECT ROW(NULL, r.case_id, v.k, v.p, v.t, v.d, v.amt, 'monthly', round(v.amt * v_monthly_factor, 2), NULL,
                   NULL)::public.income_sources
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
        WHERE r.case_id = ANY (p_cases) AND v.amt > 0
        ORDER BY r.case_id, v.k));

    -- Expense cells (business-rules.md 6.5). Not mapped on purpose: ak2 (vehicle count, not
    -- money) and ak5 (auto total, overlaps ak7/ak8) - medallion-schema.md 8.7, business-rules 8.
    PERFORM public.gold_sync_monthly_expenses_rows(p_cases, ARRAY(
        SELECT ROW(NULL, r.case_id, v.k, v.c, v.s, v.d, v.amt, 'monthly', round(v.amt * v_monthly_factor, 2),
                   v.std IS NOT NULL, v.std, NULL, NULL, NULL)::public.monthly_expenses
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
        WHERE r.case_id = ANY (p_cases) AND v.amt > 0
        ORDER BY r.case_id, v.k));
END
$$;

-- Nothing calls the jsonb batch syncs of these three tables any more.
DROP FUNCTION IF EXISTS public.gold_sync_financial_accounts_batch(text[], jsonb);
DROP FUNCTION IF EXISTS public.gold_sync_income_sources_batch(text[], jsonb);
DROP FUNCTION IF EXISTS public.gold_sync_monthly_expenses_batch(text[], jsonb);

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

-- 011: bronze -> silver -> gold trigger performance, second pass (docs/05_TRIGGER_PERFORMANCE.md).
-- Behaviour is unchanged: every function keeps its signature and its results.

-- ---------------------------------------------------------------------------------------
-- 1. No JIT inside the promotion machinery.
--
-- The loaders' statements are small (one case), but the planner's cost estimates for them are
-- large: a set-returning function is assumed to return 1000 rows, and the CSED and activity
-- queries join several of them. On a server built with LLVM (jit = on by default, e.g. the
-- system Postgres 15 here) csed_events' query alone was JIT-compiled on every AT load, ~2 s
-- each time; bulk ingest fell to ~1 case/s and a single case took ~1 s. The rule lookups return
-- at most one row (LIMIT 1), so they say so, and the entry points run with jit off (a SET
-- clause: it applies to everything they call and is restored when they return; other settings
-- made inside, e.g. the gold deferral notes, are not affected).
ALTER FUNCTION public.at_match_action_code(text, text, text) ROWS 1;
ALTER FUNCTION public.at_match_closing_code(text, text) ROWS 1;

ALTER FUNCTION public.trg_bronze_promote() SET jit = off;
ALTER FUNCTION public.rebuild_from_bronze(text) SET jit = off;
ALTER FUNCTION public.silver_load_at(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_wi(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_trt(uuid) SET jit = off;
ALTER FUNCTION public.silver_load_interview(uuid) SET jit = off;
ALTER FUNCTION public.csed_refresh(text, date) SET jit = off;
ALTER FUNCTION public.gold_refresh_case(text, text, uuid, text[]) SET jit = off;
ALTER FUNCTION public.trg_silver_refresh_gold() SET jit = off;
ALTER FUNCTION public.trg_tax_years_refresh_gold() SET jit = off;

-- ---------------------------------------------------------------------------------------
-- 2. Gold: only the parts a change can move, and fewer queries per projection year.
--
-- employment_information is the only interview gold table that reads income_documents (the
-- self-employment evidence of the latest W&I year). A W&I change now refreshes that table
-- (part 'employment') and the projections, not all seven interview tables, whose only input,
-- logiqs_raw_data, it did not touch. gold_refresh_interview is employment + the other six, as
-- before (same statements, same order).
CREATE OR REPLACE FUNCTION public.gold_refresh_employment(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r public.logiqs_raw_data%ROWTYPE;
    found_row boolean;
    latest_year integer;
    tp_se boolean;
    sp_se boolean;
BEGIN
    SELECT * INTO r FROM public.logiqs_raw_data WHERE case_id = p_case_id;
    found_row := FOUND;
    -- no interview and no employment rows: the sync below would write and delete nothing
    -- (a W&I load before the interview arrives)
    IF NOT found_row AND NOT EXISTS (SELECT 1 FROM public.employment_information WHERE case_id = p_case_id) THEN
        RETURN;
    END IF;

    -- Self-employment evidence: an SE income document in the case's latest W&I year, or an
    -- employer the interview calls self-employment (business-rules.md 4.1, Gen-A OR rule).
    SELECT max(tax_year) INTO latest_year FROM public.income_documents WHERE case_id = p_case_id;
    SELECT coalesce(bool_or(is_self_employment) FILTER (WHERE owner = 'TP'), false),
           coalesce(bool_or(is_self_employment) FILTER (WHERE owner = 'S'), false)
      INTO tp_se, sp_se
    FROM public.income_documents WHERE case_id = p_case_id AND tax_year = latest_year;

    PERFORM public.gold_sync_employment_information(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE (
        SELECT coalesce(jsonb_agg(to_jsonb(e)), '[]') FROM (
            SELECT p_case_id AS case_id, 'taxpayer' AS person_type, r.b3 AS employer_name,
                   r.tp_employer_address AS employer_address, r.tp_occupation AS job_title,
                   r.b4 AS employment_start_date, public.md_pay_frequency(r.b7) AS pay_frequency,
                   r.b7 AS pay_frequency_raw, r.b5 AS gross_annual_income, r.b6 AS net_annual_income,
                   coalesce(r.al7, round(r.b5 / 12, 2)) AS gross_monthly_income,
                   CASE WHEN r.b6 > 0 THEN round(r.b6 / 12, 2) END AS net_monthly_income,
                   (tp_se OR coalesce(r.b3 ~* '\mself[- ]?employ', false)) AS is_self_employed,
                   jsonb_build_object('employer_name', 'b3', 'employment_start_date', 'b4',
                                      'gross_annual_income', 'b5', 'net_annual_income', 'b6',
                                      'pay_frequency', 'b7', 'gross_monthly_income', 'al7') AS excel_reference_map
            UNION ALL
            SELECT p_case_id, 'spouse', r.c3, r.sp_employer_address, r.sp_occupation, r.c4,
                   public.md_pay_frequency(r.c7), r.c7, r.c5, r.c6,
                   coalesce(r.al8, round(r.c5 / 12, 2)),
                   CASE WHEN r.c6 > 0 THEN round(r.c6 / 12, 2) END,
                   (sp_se OR coalesce(r.c3 ~* '\mself[- ]?employ', false)),
                   jsonb_build_object('employer_name', 'c3', 'employment_start_date', 'c4',
                                      'gross_annual_income', 'c5', 'net_annual_income', 'c6',
                                      'pay_frequency', 'c7', 'gross_monthly_income', 'al8')
            WHERE num_nonnulls(r.c3, r.c4, nullif(r.c5, 0), nullif(r.c6, 0), r.c7, nullif(r.al8, 0),
                               r.sp_employer_address, r.sp_occupation) > 0
        ) e) END);
END
$$;

CREATE OR REPLACE FUNCTION public.gold_refresh_interview(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r public.logiqs_raw_data%ROWTYPE;
    found_row boolean;
    v_monthly_factor numeric;
BEGIN
    PERFORM public.gold_refresh_employment(p_case_id);

    SELECT * INTO r FROM public.logiqs_raw_data WHERE case_id = p_case_id;
    found_row := FOUND;
    -- normalize_to_monthly(amount, 'monthly') (008) is round(amount * factor, 2), the factor
    -- looked up with two queries on every call (~23 per case); looked up once here instead
    v_monthly_factor := coalesce((SELECT f.monthly_factor FROM public.pay_frequency_factors AS f
                                WHERE f.frequency = coalesce(public.md_pay_frequency('monthly'), 'monthly')), 1);

    PERFORM public.gold_sync_household_information(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object(
            'case_id', p_case_id,
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
            'state', r.b52, 'county', r.b53, 'zip_code', r.zip_code)) END);

    PERFORM public.gold_sync_financial_accounts(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', p_case_id, 'source_key', v.k, 'account_type', v.t, 'description', v.d,
                   'current_balance', v.bal, 'loan_balance', coalesce(v.loan, 0), 'is_primary', v.prim)
                   ORDER BY v.k), '[]')
        FROM (VALUES ('b18', 'checking', 'Bank accounts (total)', r.b18, NULL::numeric, true),
                     ('b19', 'other', 'Cash on hand', r.b19, NULL, false),
                     ('b20', 'investment', 'Investments', r.b20, r.d20, false),
                     ('b21', 'other', 'Life insurance (cash value)', r.b21, r.d21, false),
                     ('b22', 'retirement', 'Retirement accounts', r.b22, r.d22, false))
             AS v(k, t, d, bal, loan, prim)
        WHERE v.bal > 0) END);

    PERFORM public.gold_sync_vehicles(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', p_case_id, 'source_key', 'vehicle' || v.n, 'vehicle_type', 'car',
                   'year', public.md_year(g -> 'year'), 'make', public.md_text(g -> 'make'),
                   'model', public.md_text(g -> 'model'), 'mileage', round(public.md_numeric(g -> 'mileage'))::integer,
                   'current_value', v.val, 'loan_balance', coalesce(v.loan, 0),
                   'monthly_payment', public.md_numeric(g -> 'monthlyPayment'),
                   'final_payment_date', public.md_date(g -> 'finalPaymentDate')) ORDER BY v.n), '[]')
        FROM (VALUES (1, r.b24, r.d24), (2, r.b25, r.d25), (3, r.b26, r.d26), (4, r.b27, r.d27)) AS v(n, val, loan)
        LEFT JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(r.assets -> 'vehicles' -> 'vehiclesGrid') = 'array'
                                       THEN r.assets -> 'vehicles' -> 'vehiclesGrid' -> (v.n - 1) END AS g) AS grid ON true
        WHERE v.val > 0) END);

    PERFORM public.gold_sync_real_property(p_case_id,
        CASE WHEN NOT found_row OR NOT coalesce(r.b23 > 0, false) THEN '[]'::jsonb ELSE (
        SELECT jsonb_build_array(jsonb_build_object(
                   'case_id', p_case_id, 'source_key', 'b23', 'property_type', 'primary_residence',
                   'address', public.md_text(g -> 'propertyAddress'), 'current_market_value', r.b23,
                   'mortgage_balance', coalesce(r.d23, 0), 'monthly_payment', public.md_numeric(g -> 'monthlyPayment'),
                   'purchase_date', public.md_date(g -> 'purchasedDate'),
                   'purchase_price', public.md_numeric(g -> 'purchasedPrice'),
                   'final_payment_date', public.md_date(g -> 'finalPaymentDate')))
        FROM (SELECT CASE WHEN jsonb_typeof(r.assets -> 'realProperty' -> 'propertyGrid') = 'array'
                          THEN r.assets -> 'realProperty' -> 'propertyGrid' -> 0 END AS g) AS grid) END);

    -- Income cells b33-b47 are monthly amounts (upstream-apis.md 3.3 labels them monthly; the
    -- template's 5,200 wages = 62,400 / 12) - the `annual` reading of one original migration
    -- is the conflict business-rules.md 6.4 flags, resolved here as monthly.
    PERFORM public.gold_sync_income_sources(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', p_case_id, 'source_key', v.k, 'person_type', v.p, 'income_type', v.t,
                   'description', v.d, 'amount', v.amt, 'frequency', 'monthly',
                   'normalized_monthly_amount', round(v.amt * v_monthly_factor, 2)) ORDER BY v.k), '[]')
        FROM (VALUES ('b33', 'taxpayer', 'wages', 'Taxpayer wages', r.b33),
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
        WHERE v.amt > 0) END);

    -- Expense cells (business-rules.md 6.5). Not mapped on purpose: ak2 (vehicle count, not
    -- money) and ak5 (auto total, overlaps ak7/ak8) - medallion-schema.md 8.7, business-rules 8.
    PERFORM public.gold_sync_monthly_expenses(p_case_id,
        CASE WHEN NOT found_row THEN '[]'::jsonb ELSE (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'case_id', p_case_id, 'source_key', v.k, 'expense_category', v.c, 'expense_subcategory', v.s,
                   'description', v.d, 'amount', v.amt, 'frequency', 'monthly',
                   'normalized_monthly_amount', round(v.amt * v_monthly_factor, 2),
                   'is_irs_standard', v.std IS NOT NULL, 'irs_standard_amount', v.std) ORDER BY v.k), '[]')
        FROM (VALUES ('b56', 'food', NULL, 'Food', r.b56, r.c56),
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
        WHERE v.amt > 0) END);
END
$$;

-- The projection of one case and year: the same arithmetic as 003's, with the reference values
-- read in one query instead of eight and the interview row read once instead of twice
-- (~14 queries per year -> ~7).
CREATE OR REPLACE FUNCTION public.compute_tax_projection(p_case_id text, p_tax_year integer)
RETURNS public.tax_projections LANGUAGE plpgsql STABLE AS $$
DECLARE
    res public.tax_projections;
    v_status text;
    v_source text;
    v_joint boolean;
    k_confirmed boolean;
    se public.se_tax_constants%ROWTYPE;
    o record;
    flags text[] := '{}';
    v_wages numeric := 0; v_se_gross numeric := 0; v_other numeric := 0; v_ssb numeric := 0;
    v_pref numeric := 0; v_early numeric := 0; v_nii numeric := 0;
    v_medicare_wages numeric := 0; v_nese_total numeric := 0;
    v_se_ss numeric := 0; v_se_med numeric := 0; v_nese numeric;
    v_se_tax numeric; v_se_ded numeric; v_addl numeric; v_thr numeric;
    v_pi numeric; v_base numeric; v_adj numeric; v_l10 numeric; v_l11 numeric; v_taxable_ss numeric;
    v_agi numeric; v_std numeric; v_ti numeric; v_pref_ti numeric; v_ord_tax numeric; v_full_tax numeric;
    v_z numeric; v_f numeric; v_p0 numeric; v_p15 numeric; v_p20 numeric; v_income_tax numeric;
    v_niit numeric; v_niit_thr numeric; v_early_tax numeric; v_docs integer := 0;
    l_found boolean; l_status_raw text; l_b3 text; l_c3 text;
    v_brackets boolean; v_ss_base numeric; v_ss_adj numeric;
BEGIN
    res.case_id := p_case_id;
    res.tax_year := p_tax_year;

    -- 1. Filing status: tax_years for that year, else the interview, else single (SFR default,
    --    irs-domain.md 4.5 step 5). tax_years belongs to the AT loader; read it only if present.
    IF to_regclass('public.tax_years') IS NOT NULL THEN
        -- static SQL (plan cached); plpgsql resolves the table only when this line runs
        SELECT t.filing_status INTO v_status FROM public.tax_years AS t
        WHERE t.case_id = p_case_id AND t.tax_year = p_tax_year LIMIT 1;
    END IF;
    -- the interview row once, for the status fallback and the 1099-K confirmation below
    SELECT true, coalesce(l.filing_status_raw, l.b11), l.b3, l.c3 INTO l_found, l_status_raw, l_b3, l_c3
    FROM public.logiqs_raw_data l WHERE l.case_id = p_case_id;
    IF public.md_is_filing_status(v_status) THEN
        v_source := 'tax_years';
    ELSE
        v_status := CASE WHEN l_found THEN public.md_filing_status(l_status_raw) END;
        IF public.md_is_filing_status(v_status) THEN
            v_source := 'interview';
        ELSE
            v_status := 'single';
            v_source := 'default';
            flags := array_append(flags, 'filing_status_unknown');
        END IF;
    END IF;
    res.filing_status := v_status;
    res.filing_status_source := v_source;
    v_joint := v_status = 'married_filing_jointly';
    res.includes_spouse := v_joint;

    -- 1099-K counts as Schedule C only when the interview confirms business activity
    -- (irs-domain.md 3, 1099-K row): an employer entry naming self-employment.
    k_confirmed := coalesce(l_found AND coalesce(l_b3, '') || ' ' || coalesce(l_c3, '') ~* '\mself[- ]?employ', false);

    SELECT * INTO se FROM public.se_tax_constants WHERE tax_year = p_tax_year;

    -- 2. Per owner (SE tax is per person: each has his own wage base, IRC 1402(b)).
    FOR o IN
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
               bool_or(d.requires_confirmation AND d.include_in_projection AND NOT k_confirmed) AS k_unconfirmed,
               (SELECT array_agg(DISTINCT f) FROM public.income_documents d2 CROSS JOIN LATERAL unnest(d2.flags) AS f
                WHERE d2.case_id = p_case_id AND d2.tax_year = p_tax_year AND d2.owner = d.owner) AS doc_flags
        FROM public.income_documents d
        CROSS JOIN LATERAL (SELECT d.include_in_projection AND (NOT d.requires_confirmation OR k_confirmed) AS inc) AS i
        WHERE d.case_id = p_case_id AND d.tax_year = p_tax_year
        GROUP BY d.owner
    LOOP
        IF o.owner = 'S' AND NOT v_joint THEN
            flags := array_append(flags, 'spouse_documents_excluded');
            CONTINUE;
        END IF;
        v_docs := v_docs + o.docs;
        flags := flags || coalesce(o.doc_flags, '{}');
        IF o.k_unconfirmed THEN flags := array_append(flags, 'form_1099k_unconfirmed_excluded'); END IF;
        v_wages := v_wages + o.wages;
        v_se_gross := v_se_gross + o.se_gross;
        v_other := v_other + o.other;
        v_ssb := v_ssb + o.ssb;
        v_pref := v_pref + o.pref;
        v_early := v_early + o.early;
        v_nii := v_nii + o.nii;
        v_medicare_wages := v_medicare_wages + o.medicare_wages;
        IF o.owner = 'S' THEN
            res.spouse_income := round(o.income, 2);
            res.spouse_withholding := round(o.withholding, 2);
        ELSE
            res.tp_income := round(o.income, 2);
            res.tp_withholding := round(o.withholding, 2);
        END IF;
        IF se.tax_year IS NOT NULL AND o.se_gross > 0 THEN
            -- net earnings = 92.35 % of net profit (SFR-style: no expenses known); none under $400
            v_nese := o.se_gross * se.net_earnings_factor;
            IF v_nese >= se.minimum_net_earnings THEN
                v_se_ss := v_se_ss + se.ss_rate * least(v_nese, greatest(se.ss_wage_base - o.ss_wages, 0));
                v_se_med := v_se_med + se.medicare_rate * v_nese;
                v_nese_total := v_nese_total + v_nese;
            ELSE
                flags := array_append(flags, 'se_earnings_under_400');
            END IF;
        END IF;
    END LOOP;

    res.document_count := v_docs;
    res.wages := round(v_wages, 2);
    res.se_income := round(v_se_gross, 2);
    res.other_income := round(v_other, 2);
    res.social_security_benefits := round(v_ssb, 2);
    res.se_net_earnings := round(v_nese_total, 2);
    res.tp_income := coalesce(res.tp_income, 0);
    res.spouse_income := coalesce(res.spouse_income, 0);
    res.tp_withholding := coalesce(res.tp_withholding, 0);
    res.spouse_withholding := coalesce(res.spouse_withholding, 0);
    res.total_withholding := res.tp_withholding + res.spouse_withholding;
    IF v_se_gross > 0 THEN flags := array_append(flags, 'se_income_without_expenses'); END IF;

    -- the year's and status's reference values in one query (each is a primary-key lookup)
    SELECT (SELECT s.amount FROM public.standard_deductions s WHERE s.tax_year = p_tax_year AND s.filing_status = v_status),
           EXISTS (SELECT 1 FROM public.tax_brackets b WHERE b.tax_year = p_tax_year AND b.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'additional_medicare' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'ss_base_amount' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'ss_adjusted_base' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t WHERE t.threshold_kind = 'niit' AND t.filing_status = v_status),
           (SELECT t.rate FROM public.filing_status_thresholds t WHERE t.threshold_kind = 'niit' AND t.filing_status = v_status),
           (SELECT c.value FROM public.tax_constants c WHERE c.name = 'early_distribution_rate')
      INTO v_std, v_brackets, v_thr, v_ss_base, v_ss_adj, v_niit_thr, v_niit, v_early_tax;
    IF se.tax_year IS NULL OR v_std IS NULL OR NOT v_brackets THEN
        -- No published tables for this year: income only, no tax figures.
        res.taxable_social_security := 0;
        res.preferential_income := round(v_pref, 2);
        res.total_income := round(v_wages + v_se_gross + v_other + v_ssb, 2);
        res.flags := ARRAY(SELECT DISTINCT x FROM unnest(array_append(flags, 'no_tax_tables_for_year')) x ORDER BY 1);
        RETURN res;
    END IF;

    -- 3. SE tax (12.4 % up to the wage base left after W-2 SS wages + 2.9 % uncapped) and
    --    half of it as an adjustment (irs-domain.md 4.4).
    v_se_tax := round(v_se_ss + v_se_med, 2);
    v_se_ded := round(v_se_tax * se.deductible_share, 2);
    res.se_social_security := round(v_se_ss, 2);
    res.se_medicare := round(v_se_med, 2);
    res.se_tax := v_se_tax;
    res.se_deduction := v_se_ded;

    -- 4. Additional Medicare tax 0.9 %: wages above the threshold, then SE earnings above the
    --    threshold reduced by Medicare wages (IRC 1401(b)(2); Form 8959 parts I-II).
    v_addl := se.additional_medicare_rate * (greatest(v_medicare_wages - v_thr, 0)
              + greatest(v_nese_total - greatest(v_thr - v_medicare_wages, 0), 0));
    res.additional_medicare_tax := round(v_addl, 2);

    -- 5. Taxable social security (benefits worksheet, irs-domain.md 3 SSA-1099).
    v_taxable_ss := 0;
    IF v_ssb > 0 THEN
        v_base := v_ss_base;
        v_adj := v_ss_adj;
        v_pi := v_wages + v_se_gross + v_other - v_se_ded + 0.5 * v_ssb;     -- provisional income
        v_l10 := v_pi - v_base;
        IF v_l10 > 0 THEN
            v_l11 := v_adj - v_base;
            v_taxable_ss := least(0.85 * greatest(v_l10 - v_l11, 0) + least(0.5 * least(v_l10, v_l11), 0.5 * v_ssb),
                                  0.85 * v_ssb);
        END IF;
    END IF;
    res.taxable_social_security := round(v_taxable_ss, 2);

    -- 6. AGI, standard deduction, taxable income (irs-domain.md 4.5 steps 4-5).
    res.total_income := round(v_wages + v_se_gross + v_other + v_taxable_ss, 2);
    v_agi := res.total_income - v_se_ded;
    res.estimated_agi := round(v_agi, 2);
    res.standard_deduction := v_std;
    v_ti := greatest(v_agi - v_std, 0);
    res.taxable_income := round(v_ti, 2);

    -- 7. Income tax: brackets on the ordinary part, 0/15/20 % on qualified dividends and
    --    capital-gain distributions (irs-domain.md 4.2, 4.3), never more than all-ordinary.
    v_pref_ti := least(v_pref, res.taxable_income);
    res.preferential_income := round(v_pref_ti, 2);
    SELECT coalesce(sum(b.rate * greatest(least(res.taxable_income - v_pref_ti, coalesce(b.income_max, 'Infinity'))
                                          - b.income_min, 0)), 0),
           coalesce(sum(b.rate * greatest(least(res.taxable_income, coalesce(b.income_max, 'Infinity')) - b.income_min, 0)), 0)
      INTO v_ord_tax, v_full_tax
    FROM public.tax_brackets b WHERE b.tax_year = p_tax_year AND b.filing_status = v_status;
    IF v_pref_ti > 0 THEN
        SELECT zero_rate_max, fifteen_rate_max INTO v_z, v_f FROM public.capital_gain_thresholds
        WHERE tax_year = p_tax_year AND filing_status = v_status;
        -- the preferential slice occupies [ordinary, taxable]; split it at the two thresholds
        v_p0 := greatest(least(res.taxable_income, v_z) - (res.taxable_income - v_pref_ti), 0);
        v_p15 := greatest(least(res.taxable_income, v_f) - greatest(res.taxable_income - v_pref_ti, v_z), 0);
        v_p20 := v_pref_ti - v_p0 - v_p15;
        v_income_tax := least(v_ord_tax + 0.15 * v_p15 + 0.20 * v_p20, v_full_tax);
    ELSE
        v_income_tax := v_full_tax;
    END IF;
    res.income_tax := round(v_income_tax, 2);

    -- 8. Other taxes: 10 % on early distributions (1099-R code 1), net investment income tax.
    res.early_distribution_tax := round(coalesce(v_early_tax, 0) * v_early, 2);
    res.net_investment_income_tax := round(v_niit * least(v_nii, greatest(v_agi - v_niit_thr, 0)), 2);
    IF res.net_investment_income_tax < 0 THEN res.net_investment_income_tax := 0; END IF;

    -- 9. Total, withholding, balance (+ owed / - refund).
    res.total_tax := res.income_tax + res.se_tax + res.additional_medicare_tax + res.net_investment_income_tax
                     + res.early_distribution_tax;
    res.projected_balance := res.total_tax - res.total_withholding;
    IF res.additional_medicare_tax > 0 AND v_medicare_wages > v_thr THEN
        flags := array_append(flags, 'additional_medicare_withheld_by_employer_not_credited');
    END IF;
    res.flags := ARRAY(SELECT DISTINCT x FROM unnest(flags) x ORDER BY 1);
    RETURN res;
END
$$;


-- A case with no income documents and no projection rows has nothing to sync: return before
-- building an empty row set and running the sync statement (the AT statement of a new case).
CREATE OR REPLACE FUNCTION public.gold_refresh_projections(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.income_documents WHERE case_id = p_case_id AND tax_year IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM public.tax_projections WHERE case_id = p_case_id) THEN
        RETURN;
    END IF;
    PERFORM public.gold_sync_tax_projections(p_case_id, (
        SELECT coalesce(jsonb_agg(to_jsonb(p) - 'created_at' - 'updated_at' ORDER BY y.tax_year), '[]')
        FROM (SELECT DISTINCT tax_year FROM public.income_documents
              WHERE case_id = p_case_id AND tax_year IS NOT NULL) AS y
        CROSS JOIN LATERAL public.compute_tax_projection(p_case_id, y.tax_year) AS p));
END
$$;

-- 003's gold_refresh_case plus the part 'employment' (employment_information alone; covered by
-- 'interview' when both are noted). Failures are recorded as before: table
-- 'interview_gold_tables' for either interview part, 'tax_projections' for the projections.
CREATE OR REPLACE FUNCTION public.gold_refresh_case(p_case_id text, p_source_table text DEFAULT NULL,
                                                    p_bronze_id uuid DEFAULT NULL,
                                                    p_parts text[] DEFAULT ARRAY['interview', 'projections'])
RETURNS boolean LANGUAGE plpgsql
SET jit = off
AS $$
DECLARE
    part text;
    ok boolean := true;
    err_state text;
    err_message text;
    err_context text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.cases WHERE case_id = p_case_id) THEN
        RETURN true;  -- case deleted: ON DELETE CASCADE already removed its gold rows
    END IF;
    FOREACH part IN ARRAY ARRAY['interview', 'employment', 'projections'] LOOP
        CONTINUE WHEN part <> ALL (p_parts);
        CONTINUE WHEN part = 'employment' AND 'interview' = ANY (p_parts);
        BEGIN
            IF part = 'interview' THEN
                PERFORM public.gold_refresh_interview(p_case_id);
            ELSIF part = 'employment' THEN
                PERFORM public.gold_refresh_employment(p_case_id);
            ELSE
                PERFORM public.gold_refresh_projections(p_case_id);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                    err_context = PG_EXCEPTION_CONTEXT;
            PERFORM public.record_transformation_error(
                'gold', CASE WHEN part = 'projections' THEN 'tax_projections' ELSE 'interview_gold_tables' END,
                p_bronze_id, p_case_id, err_state, err_message,
                'gold_refresh_' || part || ' after change to ' || coalesce(p_source_table, '?') || E'\n' || err_context);
            ok := false;
        END;
    END LOOP;
    RETURN ok;
END
$$;

-- Refresh (or, inside a bronze promotion, note) the named gold parts of a case.
CREATE OR REPLACE FUNCTION public.gold_refresh_or_defer_parts(p_case_id text, p_source_table text, p_bronze_id uuid,
                                                              p_parts text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF public.gold_deferred() THEN
        PERFORM public.gold_defer(p_case_id, p_parts);
    ELSE
        PERFORM public.gold_refresh_case(p_case_id, p_source_table, p_bronze_id, p_parts);
    END IF;
END
$$;

-- The parts a silver table's change can move: tax_years -> the projections (filing status);
-- income_documents -> the projections and employment_information; logiqs_raw_data -> every
-- interview table and the projections.
CREATE OR REPLACE FUNCTION public.gold_refresh_or_defer(p_case_id text, p_source_table text, p_bronze_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.gold_refresh_or_defer_parts(p_case_id, p_source_table, p_bronze_id,
        CASE p_source_table WHEN 'tax_years' THEN ARRAY['projections']
                            WHEN 'income_documents' THEN ARRAY['employment', 'projections']
                            ELSE ARRAY['interview', 'projections'] END);
END
$$;

-- UPDATE of logiqs_raw_data: the projections read only the filing status cells
-- (filing_status_raw, b11) and the employer cells (b3, c3: 1099-K confirmation) of the
-- interview; an update that leaves those four alone refreshes the interview tables only.
CREATE OR REPLACE FUNCTION public.trg_logiqs_raw_data_update_refresh_gold()
RETURNS trigger LANGUAGE plpgsql
SET jit = off
AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT x.case_id, (array_agg(x.bronze_id))[1] AS bronze_id,
                    bool_or(x.moves_projection) AS moves_projection
             FROM (SELECT coalesce(n.case_id, o.case_id) AS case_id, n.bronze_id,
                          (n.case_id IS NULL OR o.case_id IS NULL
                           OR (n.filing_status_raw, n.b11, n.b3, n.c3) IS DISTINCT FROM (o.filing_status_raw, o.b11, o.b3, o.c3))
                              AS moves_projection
                   FROM new_rows AS n FULL JOIN old_rows AS o ON o.case_id = n.case_id) AS x
             GROUP BY x.case_id ORDER BY x.case_id LOOP
        PERFORM public.gold_refresh_or_defer_parts(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id,
            CASE WHEN c.moves_projection THEN ARRAY['interview', 'projections'] ELSE ARRAY['interview'] END);
    END LOOP;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS trg_logiqs_raw_data_gold_upd ON public.logiqs_raw_data;
CREATE TRIGGER trg_logiqs_raw_data_gold_upd AFTER UPDATE ON public.logiqs_raw_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.trg_logiqs_raw_data_update_refresh_gold();

-- ---------------------------------------------------------------------------------------
-- 3. Per-row and per-case overheads.

-- The BEFORE INSERT trigger creates the case with its own INSERT instead of calling
-- ensure_case(): a SQL function holding an INSERT is planned again on every call before
-- Postgres 18 (plpgsql keeps the statement's plan). Same statement, same effect.
CREATE OR REPLACE FUNCTION public.trg_bronze_before_insert()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest_hash text;
BEGIN
    IF NEW.case_id IS NULL OR NEW.case_id !~ '^[0-9]{1,12}$' THEN
        RAISE EXCEPTION 'case_id must be 1 to 12 digits, got %', coalesce(quote_literal(NEW.case_id), 'NULL')
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME), hashtext(NEW.case_id));
    INSERT INTO public.cases (case_id) VALUES (NEW.case_id) ON CONFLICT (case_id) DO NOTHING;
    NEW.payload_hash := encode(sha256(convert_to(NEW.raw_response::text, 'UTF8')), 'hex');
    latest_hash := public.bronze_latest_hash(TG_TABLE_NAME::text COLLATE "default", NEW.case_id);
    IF latest_hash = NEW.payload_hash THEN
        RETURN NULL;  -- already have exactly this payload as the case's current state
    END IF;
    RETURN NEW;
END
$$;

-- gold_defer in plpgsql (plan kept; the SQL version was planned on every call before PG 18).
CREATE OR REPLACE FUNCTION public.gold_defer(p_case_id text, p_parts text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('medallion.gold_pending',
                       concat_ws(',', nullif(current_setting('medallion.gold_pending', true), ''),
                                 (SELECT string_agg(p_case_id || ':' || part, ',') FROM unnest(p_parts) AS part)),
                       true);
END
$$;

-- Bronze payloads compressed with lz4 where the server has it (PG >= 14 built with lz4, e.g.
-- the system Postgres 15 here; the embedded 18 is built without it and keeps pglz): several
-- times faster than pglz to compress on insert and to decompress when a loader reads the
-- payload. Storage only; rows already stored keep their compression.
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['bronze_at_raw', 'bronze_wi_raw', 'bronze_trt_raw', 'bronze_interview_raw'] LOOP
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN raw_response SET COMPRESSION lz4', tbl);
    END LOOP;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 not available on this server: bronze payloads stay pglz-compressed';
END
$$;

-- md_pick: the first key of the list answered inline. md_pick runs ~750 times per case (every
-- parser reads its field through it) and a plpgsql call costs a few microseconds; most calls
-- are answered by the first key. md_pick is now a SQL expression the planner inlines into the
-- caller: when obj is an object and its first key (or dotted path) holds a non-empty value,
-- that value; otherwise the loop over every key, as before (md_pick_loop, 001's md_pick).
CREATE OR REPLACE FUNCTION public.md_pick_loop(obj jsonb, keys text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    key text;
    value jsonb;
BEGIN
    IF jsonb_typeof(obj) IS DISTINCT FROM 'object' THEN
        RETURN NULL;
    END IF;
    FOREACH key IN ARRAY keys LOOP
        IF strpos(key, '.') > 0 THEN
            value := obj #> string_to_array(key, '.');
        ELSE
            value := obj -> key;
        END IF;
        IF value IS NOT NULL AND jsonb_typeof(value) <> 'null'
           AND NOT (jsonb_typeof(value) = 'string' AND btrim(value #>> '{}') = '') THEN
            RETURN value;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.md_pick(obj jsonb, keys text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(obj) = 'object' AND strpos(keys[1], '.') = 0
             AND (jsonb_typeof(obj -> keys[1]) IN ('number', 'boolean', 'object', 'array')
                  OR (jsonb_typeof(obj -> keys[1]) = 'string' AND btrim(obj ->> keys[1]) <> ''))
            THEN obj -> keys[1]
        WHEN jsonb_typeof(obj) = 'object' AND strpos(keys[1], '.') > 0
             AND (jsonb_typeof(obj #> string_to_array(keys[1], '.')) IN ('number', 'boolean', 'object', 'array')
                  OR (jsonb_typeof(obj #> string_to_array(keys[1], '.')) = 'string'
                      AND btrim(obj #>> string_to_array(keys[1], '.')) <> ''))
            THEN obj #> string_to_array(keys[1], '.')
        ELSE public.md_pick_loop(obj, keys)
    END;
$$;

-- One place for monthly disposable income (irs-domain.md section 5.1-5.3).
--
-- Until now MDI was computed twice: calculate_disposable_income (009) read the interview's
-- silver cells, and the API recomputed it in Python from the gold tables with its own copy of
-- the standards. The two disagreed on every sandbox case. This migration makes the database
-- the one place:
--
--   disposable_income_lines(case_id)  every income line (per person and type) and every
--       expense line (per category: actual, standard, allowed, the rule applied, where the
--       standard came from), read from the gold tables; standards from the interview's
--       Result cells when the case carries them, else from irs_collection_standards (008).
--   calculate_total_monthly_income(case_id)  and  calculate_disposable_income(case_id)
--       the same result shapes as 009, now sums of those lines.
--
-- Rules (irs-domain.md 5.1), one line each:
--   national standards (food, housekeeping, apparel, personal care, misc): the full standard;
--     more only with substantiation. Standard per category: a stated one (gold row, else the
--     interview's c56-c60), else the published table for min(size, 4) plus a pro-rata share of
--     the per-person amount beyond 4; when all five come from the table a last line brings the
--     sum to the IRS's published total (IRS rounding: 1 person 839, the items sum to 838).
--   out-of-pocket health care: the full standard per person (c80, else the table by age band),
--     in addition to health-insurance premiums (which are an other necessary expense, at actual).
--     Prescriptions and co-pays are out-of-pocket costs: covered by the standard.
--   housing and utilities: one local standard, the lesser of actual (mortgage/rent, insurance,
--     property tax, utilities, phone, internet) and standard; actual when no standard is known.
--   vehicle ownership: lesser of each loan/lease payment and the per-vehicle standard, up to 2.
--   vehicle operating (insurance, fuel, maintenance ...): lesser of actual and standard x vehicles.
--   public transportation: the full standard with no vehicle, else actual up to the standard.
--   other necessary: health insurance, current taxes, court-ordered payments, child care,
--     term life insurance, at actual. Whole life insurance and uncategorised 'other' expenses
--     are not allowed (shown with allowed 0 so the practitioner sees and can review them).
--
-- Differences this settles (old SQL reading silver cells only): a gold expense the interview
-- did not write (taxes 400 on a hand-built case) was ignored, and a standard stated on a gold
-- row (housing 1,500) was ignored; partial national standards in the interview counted the
-- missing categories as 0 instead of the table amount.

CREATE OR REPLACE FUNCTION public.disposable_income_lines(p_case_id text)
RETURNS TABLE (
    sort_order integer, section text, grp text, person_type text, category text,
    actual numeric, standard numeric, allowed numeric, rule text, standard_source text)
LANGUAGE sql STABLE AS $$
    WITH l AS (
        SELECT * FROM public.logiqs_raw_data WHERE case_id = p_case_id
    ), hi AS (
        SELECT * FROM public.household_information WHERE case_id = p_case_id
    ), h AS (
        SELECT greatest(coalesce((SELECT total_household_members FROM hi),
                                 (SELECT coalesce(b10, nullif(coalesce(b50, 0) + coalesce(b51, 0), 0)) FROM l), 1),
                        1) AS size,
               greatest(coalesce((SELECT members_over_65 FROM hi), 0), 0) AS over65
    ), ref AS (
        -- the set in force for each standard (the same choice irs_national_standard /
        -- irs_flat_standard make), for the line's source
        SELECT DISTINCT ON (category, age_band, region) category, age_band, region, effective_date, confidence
        FROM public.irs_collection_standards
        WHERE effective_date <= greatest(current_date, DATE '2024-04-22')
        ORDER BY category, age_band, region, effective_date DESC
    ), ex AS (
        SELECT expense_category AS cat, coalesce(expense_subcategory, '') AS sub, source_key,
               normalized_monthly_amount AS amt, irs_standard_amount AS std
        FROM public.monthly_expenses WHERE case_id = p_case_id
    ), v AS (
        SELECT greatest(least(coalesce((SELECT ak2 FROM l),
                                       (SELECT count(*) FROM public.vehicles WHERE case_id = p_case_id))::int,
                              coalesce((SELECT value FROM public.tax_constants WHERE name = 'max_vehicles_allowed'),
                                       2)::int), 0) AS n
    ),
    -- ---------------------------------------------------------------- income (5.3)
    src AS (
        SELECT person_type AS person, income_type AS kind,
               CASE WHEN income_type = 'rental_expenses' THEN -abs(normalized_monthly_amount)
                    ELSE normalized_monthly_amount END AS monthly
        FROM public.income_sources WHERE case_id = p_case_id
    ), income AS (
        SELECT CASE person WHEN 'taxpayer' THEN 1 WHEN 'spouse' THEN 2 WHEN 'joint' THEN 3 ELSE 4 END * 100
                   + row_number() OVER (PARTITION BY person ORDER BY min(kind))::int AS ord,
               person, kind, sum(monthly) AS monthly, 'income' AS rule
        FROM src GROUP BY person, kind
        UNION ALL
        -- a person with no wage row: the employment record's gross monthly income
        SELECT CASE e.person_type WHEN 'taxpayer' THEN 150 ELSE 250 END, e.person_type, 'wages (employment)',
               coalesce(e.gross_monthly_income, round(e.gross_annual_income / 12, 2)),
               'employment_information gross monthly income (no wage line in the interview income)'
        FROM public.employment_information e
        WHERE e.case_id = p_case_id AND e.person_type IN ('taxpayer', 'spouse')
          AND NOT EXISTS (SELECT 1 FROM src WHERE src.person = e.person_type AND src.kind = 'wages')
          AND coalesce(e.gross_monthly_income, e.gross_annual_income / 12, 0) <> 0
    ),
    -- ---------------------------------------------------------------- national standards (5.1)
    nat_cat (ord, cat, interview_std) AS (
        VALUES (1, 'food', (SELECT c56 FROM l)), (2, 'housekeeping', (SELECT c57 FROM l)),
               (3, 'apparel', (SELECT c58 FROM l)), (4, 'personal_care', (SELECT c59 FROM l)),
               (5, 'misc', (SELECT c60 FROM l))
    ), nat_tab AS (
        SELECT c.ord, c.cat,
               (SELECT sum(amt) FROM ex WHERE ex.cat = c.cat) AS actual,
               (SELECT max(std) FROM ex WHERE ex.cat = c.cat) AS row_std,
               c.interview_std,
               public.irs_national_standard(c.cat, least(h.size, 4)) AS table4,
               public.irs_national_standard('national_total', 4) AS total4,
               public.irs_national_standard('national_total', h.size) - public.irs_national_standard('national_total', 4)
                   AS extra
        FROM nat_cat c, h
    ), nat AS (
        SELECT ord, cat, coalesce(actual, 0) AS actual,
               coalesce(row_std, interview_std,
                        table4 + CASE WHEN extra > 0 THEN round(extra * table4 / nullif(total4, 0), 2) ELSE 0 END)
                   AS std,
               CASE WHEN interview_std IS NOT NULL AND coalesce(row_std = interview_std, true) THEN 'interview (Result)'
                    WHEN row_std IS NOT NULL THEN 'monthly_expenses.irs_standard_amount'
                    ELSE 'irs_collection_standards ' || (SELECT effective_date || ' [' || confidence || ']' FROM ref
                                                        WHERE ref.category = nat_tab.cat AND region = 'national'
                                                          AND age_band = 'all') END AS std_source,
               (row_std IS NULL AND interview_std IS NULL) AS from_table
        FROM nat_tab
    ), nat_adjust AS (
        SELECT public.irs_national_standard('national_total', h.size) - (SELECT sum(std) FROM nat) AS amount
        FROM h WHERE (SELECT bool_and(from_table) FROM nat)
    ),
    -- ---------------------------------------------------------------- health (5.1)
    health AS (
        SELECT coalesce((SELECT sum(amt) FROM ex WHERE cat = 'healthcare' AND sub <> 'insurance'), 0) AS oop_actual,
               (SELECT max(std) FROM ex WHERE cat = 'healthcare' AND sub <> 'insurance') AS row_std,
               (SELECT c80 FROM l) AS interview_std,
               (h.size - least(h.over65, h.size)) * public.irs_flat_standard('health_out_of_pocket', 'under_65')
                   + least(h.over65, h.size) * public.irs_flat_standard('health_out_of_pocket', '65_plus') AS table_std,
               (SELECT sum(amt) FROM ex WHERE cat = 'healthcare' AND sub = 'insurance') AS premiums,
               h.size - least(h.over65, h.size) AS under65, least(h.over65, h.size) AS over65
        FROM h
    ),
    -- ---------------------------------------------------------------- housing & utilities (5.1)
    housing AS (
        SELECT coalesce((SELECT sum(amt) FROM ex WHERE cat IN ('housing', 'utilities')), 0) AS actual,
               (SELECT max(std) FROM ex WHERE cat IN ('housing', 'utilities')) AS row_std,
               (SELECT irs_housing FROM l) AS interview_std
    ),
    -- ---------------------------------------------------------------- transportation (5.1)
    payments AS (
        SELECT amt, std, row_number() OVER (ORDER BY sub, source_key) AS k
        FROM ex WHERE cat = 'transportation' AND sub LIKE 'auto\_payment%'
    ), ownership AS (
        SELECT coalesce((SELECT sum(amt) FROM payments), 0) AS actual,
               (SELECT sum(coalesce(std, public.irs_flat_standard('vehicle_ownership')))
                FROM payments WHERE k <= greatest(v.n, 1)) AS std_total,
               (SELECT sum(least(amt, coalesce(std, public.irs_flat_standard('vehicle_ownership'), amt)))
                FROM payments WHERE k <= greatest(v.n, 1)) AS allowed,
               (SELECT bool_or(std IS NOT NULL) FROM payments) AS stated
        FROM v
    ), operating AS (
        SELECT coalesce((SELECT sum(amt) FROM ex WHERE cat = 'transportation' AND sub NOT LIKE 'auto\_payment%'
                                                   AND sub <> 'public_transportation'), 0) AS actual,
               (SELECT max(std) FROM ex WHERE cat = 'transportation' AND sub NOT LIKE 'auto\_payment%'
                                          AND sub <> 'public_transportation') AS row_std,
               (SELECT irs_operating_cost_car FROM l) AS interview_std
    ), public_tr AS (
        SELECT coalesce((SELECT sum(amt) FROM ex WHERE cat = 'transportation' AND sub = 'public_transportation'), 0)
                   AS actual,
               (SELECT max(std) FROM ex WHERE cat = 'transportation' AND sub = 'public_transportation') AS row_std,
               (SELECT al4 FROM l) AS interview_std,
               public.irs_flat_standard('public_transportation') AS table_std
    ),
    -- ---------------------------------------------------------------- other necessary (5.1)
    other_cat (ord, name, label, cond_cat, cond_sub, is_allowed) AS (
        VALUES (710, 'taxes', 'current taxes', 'taxes', NULL, true),
               (720, 'court_payments', 'court-ordered payments', 'court_payments', NULL, true),
               (730, 'child_care', 'child / dependent care', 'child_care', NULL, true),
               (740, 'term_life_insurance', 'term life insurance', 'insurance', 'term_life', true)
    ), other_lines AS (
        SELECT o.ord, o.name, o.label, sum(ex.amt) AS actual
        FROM other_cat o JOIN ex ON ex.cat = o.cond_cat AND (o.cond_sub IS NULL OR ex.sub = o.cond_sub)
        GROUP BY o.ord, o.name, o.label
    ), not_allowed AS (
        SELECT CASE WHEN ex.cat = 'insurance' THEN 810 ELSE 820 END AS ord,
               CASE WHEN ex.cat = 'insurance' AND ex.sub = 'whole_life' THEN 'whole_life_insurance'
                    WHEN ex.cat = 'insurance' THEN 'insurance_' || coalesce(nullif(ex.sub, ''), 'other')
                    ELSE 'other' END AS name,
               sum(ex.amt) AS actual
        FROM ex
        WHERE (ex.cat = 'insurance' AND ex.sub <> 'term_life') OR ex.cat = 'other'
        GROUP BY 1, 2
    )
    -- ---------------------------------------------------------------- the lines
    SELECT ord, 'income', 'income', person, kind, round(monthly, 2), NULL::numeric, round(monthly, 2), rule, NULL
    FROM income WHERE monthly <> 0
    UNION ALL
    SELECT 500 + ord, 'expense', 'national_standards', NULL, cat, round(actual, 2), round(std, 2), round(std, 2),
           'national standard, allowed in full'
               || CASE WHEN actual > std THEN '; the actual above it needs substantiation' ELSE '' END,
           std_source
    FROM nat
    UNION ALL
    SELECT 506, 'expense', 'national_standards', NULL, 'national_standards_published_total', 0, round(amount, 2),
           round(amount, 2),
           'IRS published national-standards total for ' || (SELECT size FROM h) || ' person(s) '
               || CASE WHEN (SELECT size FROM h) > 4 THEN '(4-person total + each additional person) ' ELSE '' END
               || 'less the five items above',
           'irs_collection_standards ' || (SELECT effective_date || ' [' || confidence || ']' FROM ref
                                          WHERE category = 'national_total' AND region = 'national' AND age_band = 'all')
    FROM nat_adjust WHERE amount <> 0
    UNION ALL
    SELECT 510, 'expense', 'health_out_of_pocket', NULL, 'health_out_of_pocket', round(oop_actual, 2),
           round(coalesce(row_std, interview_std, table_std, 0), 2), round(coalesce(row_std, interview_std, table_std, 0), 2),
           'out-of-pocket health care: full standard per person, allowed in full (prescriptions and co-pays are '
               || 'covered by it)' || CASE WHEN oop_actual > coalesce(row_std, interview_std, table_std, 0)
                                          THEN '; the actual above it needs substantiation' ELSE '' END,
           CASE WHEN row_std IS NOT NULL THEN 'monthly_expenses.irs_standard_amount'
                WHEN interview_std IS NOT NULL THEN 'interview (Result)'
                ELSE 'irs_collection_standards ' || under65 || ' x under 65 '
                     || coalesce((SELECT effective_date || ' [' || confidence || ']' FROM ref
                                  WHERE category = 'health_out_of_pocket' AND age_band = 'under_65'), '(not on file)')
                     || ', ' || over65 || ' x 65 and older '
                     || coalesce((SELECT effective_date || ' [' || confidence || ']' FROM ref
                                  WHERE category = 'health_out_of_pocket' AND age_band = '65_plus'), '(not on file)')
           END
    FROM health
    UNION ALL
    SELECT 520, 'expense', 'housing_utilities', NULL, 'housing_utilities', round(actual, 2),
           round(coalesce(row_std, interview_std), 2),
           round(CASE WHEN coalesce(row_std, interview_std) IS NULL THEN actual
                      ELSE least(actual, coalesce(row_std, interview_std)) END, 2),
           CASE WHEN coalesce(row_std, interview_std) IS NULL
                THEN 'local standard not known for this county: actual used (review against the IRS table)'
                ELSE 'local standard: lesser of actual (housing and utilities together) and standard' END,
           CASE WHEN row_std IS NOT NULL THEN 'monthly_expenses.irs_standard_amount'
                WHEN interview_std IS NOT NULL THEN 'interview (Result)' END
    FROM housing
    UNION ALL
    SELECT 530, 'expense', 'vehicle_ownership', NULL, 'vehicle_ownership', round(actual, 2),
           round(std_total, 2),
           round(coalesce(allowed, 0), 2),
           'local standard: lesser of each loan/lease payment and the per-vehicle standard, up to '
               || (SELECT n FROM v) || ' vehicle(s); $0 with no payment',
           CASE WHEN std_total IS NULL THEN NULL
                WHEN stated THEN 'monthly_expenses.irs_standard_amount'
                ELSE 'irs_collection_standards ' || (SELECT effective_date || ' [' || confidence || ']' FROM ref
                                                    WHERE category = 'vehicle_ownership' AND age_band = 'all'
                                                      AND region = 'national') END
    FROM ownership WHERE actual <> 0 OR (SELECT n FROM v) > 0
    UNION ALL
    SELECT 540, 'expense', 'vehicle_operating', NULL, 'vehicle_operating', round(actual, 2),
           round(coalesce(row_std, interview_std) * (SELECT n FROM v), 2),
           round(CASE WHEN coalesce(row_std, interview_std) IS NULL THEN actual
                      ELSE least(actual, coalesce(row_std, interview_std) * (SELECT n FROM v)) END, 2),
           CASE WHEN coalesce(row_std, interview_std) IS NULL
                THEN 'local standard not known for this region: actual used (review against the IRS table)'
                ELSE 'local standard: lesser of actual and standard x ' || (SELECT n FROM v) || ' vehicle(s)' END,
           CASE WHEN row_std IS NOT NULL THEN 'monthly_expenses.irs_standard_amount'
                WHEN interview_std IS NOT NULL THEN 'interview (Result)' END
    FROM operating WHERE actual <> 0 OR (SELECT n FROM v) > 0
    UNION ALL
    SELECT 550, 'expense', 'public_transportation', NULL, 'public_transportation', round(actual, 2),
           round(coalesce(row_std, interview_std, table_std), 2),
           round(CASE WHEN (SELECT n FROM v) = 0 THEN coalesce(row_std, interview_std, table_std, 0)
                      ELSE least(actual, coalesce(row_std, interview_std, table_std, 0)) END, 2),
           CASE WHEN (SELECT n FROM v) = 0 THEN 'local standard: full standard (no vehicle)'
                ELSE 'local standard: actual up to the standard (alongside a vehicle)' END,
           CASE WHEN row_std IS NOT NULL THEN 'monthly_expenses.irs_standard_amount'
                WHEN interview_std IS NOT NULL THEN 'interview (Result)'
                ELSE 'irs_collection_standards ' || (SELECT effective_date || ' [' || confidence || ']' FROM ref
                                                    WHERE category = 'public_transportation' AND age_band = 'all'
                                                      AND region = 'national') END
    FROM public_tr WHERE actual <> 0 OR (SELECT n FROM v) = 0
    UNION ALL
    SELECT 700, 'expense', 'other_necessary', NULL, 'health_insurance', round(premiums, 2), NULL, round(premiums, 2),
           'other necessary expense: health-insurance premiums, actual (in addition to the out-of-pocket standard)',
           NULL
    FROM health WHERE premiums IS NOT NULL
    UNION ALL
    SELECT ord, 'expense', 'other_necessary', NULL, name, round(actual, 2), NULL, round(actual, 2),
           'other necessary expense: ' || label || ', actual', NULL
    FROM other_lines
    UNION ALL
    SELECT ord, 'expense', 'not_allowed', NULL, name, round(actual, 2), NULL, 0,
           CASE WHEN name = 'other' THEN 'not a listed necessary expense: not allowed unless shown to be necessary '
                                         || '(review)'
                ELSE 'not a necessary expense (only term life insurance is)' END,
           NULL
    FROM not_allowed
    ORDER BY 1, 5;
$$;

COMMENT ON FUNCTION public.disposable_income_lines(text) IS
    'Income and allowable-expense lines behind calculate_disposable_income (irs-domain.md 5.1-5.3); migration 016.';

-- Total monthly income (irs-domain.md 5.3): the income lines, per person.
CREATE OR REPLACE FUNCTION public.calculate_total_monthly_income(p_case_id text)
RETURNS TABLE (taxpayer_monthly numeric, spouse_monthly numeric, other_monthly numeric, total_monthly numeric)
LANGUAGE sql STABLE AS $$
    SELECT round(coalesce(sum(allowed) FILTER (WHERE person_type = 'taxpayer'), 0), 2),
           round(coalesce(sum(allowed) FILTER (WHERE person_type = 'spouse'), 0), 2),
           round(coalesce(sum(allowed) FILTER (WHERE person_type NOT IN ('taxpayer', 'spouse')), 0), 2),
           round(coalesce(sum(allowed), 0), 2)
    FROM public.disposable_income_lines(p_case_id) WHERE section = 'income';
$$;

-- Monthly disposable income: the lines summed per group (same result shape as 009).
-- MDI = total monthly income - total allowable; future income for an offer: MDI x 12
-- (lump sum) / x 24 (periodic) (irs-domain.md 5.4; months from tax_constants).
CREATE OR REPLACE FUNCTION public.calculate_disposable_income(p_case_id text)
RETURNS TABLE (
    total_monthly_income numeric, national_standards numeric, health_out_of_pocket numeric,
    housing_utilities numeric, vehicle_ownership numeric, vehicle_operating numeric,
    public_transportation numeric, other_necessary numeric, total_allowable_expenses numeric,
    disposable_income numeric, future_income_lump_sum numeric, future_income_periodic numeric,
    household_size integer, standards_source text, notes text[])
LANGUAGE sql STABLE AS $$
    WITH lines AS (
        SELECT * FROM public.disposable_income_lines(p_case_id)
    ), g AS (
        SELECT coalesce(sum(allowed) FILTER (WHERE section = 'income'), 0) AS income,
               coalesce(sum(allowed) FILTER (WHERE grp = 'national_standards'), 0) AS national,
               coalesce(sum(allowed) FILTER (WHERE grp = 'health_out_of_pocket'), 0) AS health,
               coalesce(sum(allowed) FILTER (WHERE grp = 'housing_utilities'), 0) AS housing,
               coalesce(sum(allowed) FILTER (WHERE grp = 'vehicle_ownership'), 0) AS ownership,
               coalesce(sum(allowed) FILTER (WHERE grp = 'vehicle_operating'), 0) AS operating,
               coalesce(sum(allowed) FILTER (WHERE grp = 'public_transportation'), 0) AS public_trans,
               coalesce(sum(allowed) FILTER (WHERE grp = 'other_necessary'), 0) AS other_necessary,
               coalesce(sum(allowed) FILTER (WHERE section = 'expense'), 0) AS allowable,
               bool_or(grp = 'national_standards' AND standard_source = 'interview (Result)') AS interview_national,
               bool_or(grp = 'housing_utilities' AND standard IS NULL) AS housing_unknown,
               bool_or(grp = 'vehicle_operating' AND standard IS NULL) AS operating_unknown,
               bool_or(grp = 'not_allowed' AND category = 'other') AS other_review
        FROM lines
    ), h AS (
        SELECT greatest(coalesce((SELECT total_household_members FROM public.household_information WHERE case_id = p_case_id),
                                 (SELECT coalesce(b10, nullif(coalesce(b50, 0) + coalesce(b51, 0), 0))
                                  FROM public.logiqs_raw_data WHERE case_id = p_case_id), 1), 1) AS size
    )
    SELECT round(income, 2), round(national, 2), round(health, 2), round(housing, 2), round(ownership, 2),
           round(operating, 2), round(public_trans, 2), round(other_necessary, 2), round(allowable, 2),
           round(income - allowable, 2),
           round(greatest(income - allowable, 0) * coalesce((SELECT value FROM public.tax_constants
                                                             WHERE name = 'rcp_lump_sum_months'), 12), 2),
           round(greatest(income - allowable, 0) * coalesce((SELECT value FROM public.tax_constants
                                                             WHERE name = 'rcp_periodic_months'), 24), 2),
           h.size::integer,
           CASE WHEN coalesce(interview_national, false) THEN 'interview' ELSE 'irs_collection_standards' END,
           ARRAY(SELECT x FROM unnest(ARRAY[
               CASE WHEN coalesce(housing_unknown, true) THEN 'housing_standard_unknown_actual_used' END,
               CASE WHEN operating_unknown THEN 'operating_standard_unknown_actual_used' END,
               CASE WHEN other_review THEN 'other_expenses_not_allowed_review' END,
               CASE WHEN NOT EXISTS (SELECT 1 FROM public.logiqs_raw_data WHERE case_id = p_case_id)
                    THEN 'no_interview' END]) AS x WHERE x IS NOT NULL)
    FROM g, h;
$$;

-- 020 took EXECUTE back from anon for the functions that existed then; a database that applied
-- 020 before this file gets the same for the new function (CREATE OR REPLACE keeps the grants
-- of the two replaced ones).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        REVOKE ALL ON FUNCTION public.disposable_income_lines(text) FROM anon;
    END IF;
END
$$;

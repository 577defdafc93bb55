-- Monitoring views and the business functions the Dagster monitoring assets and the API call:
--   bronze_silver_health, silver_gold_health (views);
--   calculate_total_monthly_income(case_id), calculate_disposable_income(case_id),
--   get_case_summary(case_id).
-- They read only columns that exist (the original's health views depended on columns the
-- live tables never had, medallion-schema.md 8.17) and take the text case id everywhere.

-- ---------------------------------------------------------------------------------------
-- Bronze -> silver, one row per source.
--   bronze_rows_without_silver: bronze rows whose case has no silver row from that source
--   (a W&I payload with no forms legitimately lands here too).
CREATE OR REPLACE VIEW public.bronze_silver_health AS
WITH bronze AS (
    SELECT 'at' AS source, case_id, inserted_at FROM public.bronze_at_raw
    UNION ALL SELECT 'wi', case_id, inserted_at FROM public.bronze_wi_raw
    UNION ALL SELECT 'trt', case_id, inserted_at FROM public.bronze_trt_raw
    UNION ALL SELECT 'interview', case_id, inserted_at FROM public.bronze_interview_raw
), silver AS (
    SELECT 'at' AS source, case_id FROM public.tax_years
    UNION ALL SELECT 'at', case_id FROM public.account_activity
    UNION ALL SELECT 'wi', case_id FROM public.income_documents
    UNION ALL SELECT 'trt', case_id FROM public.trt_records
    UNION ALL SELECT 'interview', case_id FROM public.logiqs_raw_data
), sources (source, silver_tables, ord) AS (VALUES
    ('at', 'tax_years, account_activity', 1), ('wi', 'income_documents', 2), ('trt', 'trt_records', 3),
    ('interview', 'logiqs_raw_data', 4)
)
SELECT s.source,
       s.silver_tables,
       (SELECT count(*) FROM bronze b WHERE b.source = s.source) AS bronze_rows,
       (SELECT count(DISTINCT b.case_id) FROM bronze b WHERE b.source = s.source) AS bronze_cases,
       (SELECT max(b.inserted_at) FROM bronze b WHERE b.source = s.source) AS latest_bronze_at,
       (SELECT count(*) FROM silver v WHERE v.source = s.source) AS silver_rows,
       (SELECT count(DISTINCT v.case_id) FROM silver v WHERE v.source = s.source) AS silver_cases,
       (SELECT count(*) FROM bronze b WHERE b.source = s.source
          AND NOT EXISTS (SELECT 1 FROM silver v WHERE v.source = s.source AND v.case_id = b.case_id))
           AS bronze_rows_without_silver,
       (SELECT count(*) FROM public.transformation_errors e
        WHERE e.layer = 'silver' AND e.table_name = 'bronze_' || s.source || '_raw') AS transformation_errors,
       (SELECT max(e.created_at) FROM public.transformation_errors e
        WHERE e.layer = 'silver' AND e.table_name = 'bronze_' || s.source || '_raw') AS latest_error_at
FROM sources s
ORDER BY s.ord;

-- ---------------------------------------------------------------------------------------
-- Silver -> gold, one row per gold table. silver_cases = cases whose silver input exists;
-- silver_cases_without_gold = of those, cases with no row in this gold table (for the
-- interview-derived asset tables an empty result can be legitimate, e.g. no vehicles).
CREATE OR REPLACE VIEW public.silver_gold_health AS
WITH interview_cases AS (
    SELECT case_id FROM public.logiqs_raw_data
), wi_cases AS (
    SELECT DISTINCT case_id FROM public.income_documents WHERE tax_year IS NOT NULL
), gold AS (
    SELECT 'employment_information' AS gold_table, case_id FROM public.employment_information
    UNION ALL SELECT 'household_information', case_id FROM public.household_information
    UNION ALL SELECT 'financial_accounts', case_id FROM public.financial_accounts
    UNION ALL SELECT 'income_sources', case_id FROM public.income_sources
    UNION ALL SELECT 'monthly_expenses', case_id FROM public.monthly_expenses
    UNION ALL SELECT 'vehicles', case_id FROM public.vehicles
    UNION ALL SELECT 'real_property', case_id FROM public.real_property
    UNION ALL SELECT 'tax_projections', case_id FROM public.tax_projections
), tables (gold_table, silver_source, error_table, ord) AS (VALUES
    ('employment_information', 'logiqs_raw_data', 'interview_gold_tables', 1),
    ('household_information', 'logiqs_raw_data', 'interview_gold_tables', 2),
    ('financial_accounts', 'logiqs_raw_data', 'interview_gold_tables', 3),
    ('income_sources', 'logiqs_raw_data', 'interview_gold_tables', 4),
    ('monthly_expenses', 'logiqs_raw_data', 'interview_gold_tables', 5),
    ('vehicles', 'logiqs_raw_data', 'interview_gold_tables', 6),
    ('real_property', 'logiqs_raw_data', 'interview_gold_tables', 7),
    ('tax_projections', 'income_documents', 'tax_projections', 8)
)
SELECT t.gold_table,
       t.silver_source,
       CASE t.silver_source WHEN 'logiqs_raw_data' THEN (SELECT count(*) FROM interview_cases)
                            ELSE (SELECT count(*) FROM wi_cases) END AS silver_cases,
       (SELECT count(*) FROM gold g WHERE g.gold_table = t.gold_table) AS gold_rows,
       (SELECT count(DISTINCT g.case_id) FROM gold g WHERE g.gold_table = t.gold_table) AS gold_cases,
       CASE t.silver_source
           WHEN 'logiqs_raw_data' THEN (SELECT count(*) FROM interview_cases c WHERE NOT EXISTS
               (SELECT 1 FROM gold g WHERE g.gold_table = t.gold_table AND g.case_id = c.case_id))
           ELSE (SELECT count(*) FROM wi_cases c WHERE NOT EXISTS
               (SELECT 1 FROM gold g WHERE g.gold_table = t.gold_table AND g.case_id = c.case_id))
       END AS silver_cases_without_gold,
       (SELECT count(*) FROM public.transformation_errors e
        WHERE e.layer = 'gold' AND e.table_name = t.error_table) AS gold_errors
FROM tables t
ORDER BY t.ord;

-- ---------------------------------------------------------------------------------------
-- Total monthly income (irs-domain.md 5.3: wages, SE net, SS/pensions, rental net,
-- alimony/child support received, other). From gold income_sources (monthly amounts); a
-- person with no wage row falls back to employment_information.gross_monthly_income.
CREATE OR REPLACE FUNCTION public.calculate_total_monthly_income(p_case_id text)
RETURNS TABLE (taxpayer_monthly numeric, spouse_monthly numeric, other_monthly numeric, total_monthly numeric)
LANGUAGE sql STABLE AS $$
    WITH src AS (
        SELECT person_type, income_type,
               CASE WHEN income_type = 'rental_expenses' THEN -normalized_monthly_amount
                    ELSE normalized_monthly_amount END AS monthly
        FROM public.income_sources WHERE case_id = p_case_id
    ), emp AS (
        SELECT person_type, gross_monthly_income FROM public.employment_information WHERE case_id = p_case_id
    ), people AS (
        SELECT p.person_type,
               coalesce((SELECT sum(monthly) FROM src WHERE src.person_type = p.person_type), 0)
               + CASE WHEN EXISTS (SELECT 1 FROM src WHERE src.person_type = p.person_type AND src.income_type = 'wages')
                      THEN 0
                      ELSE coalesce((SELECT gross_monthly_income FROM emp WHERE emp.person_type = p.person_type), 0)
                 END AS monthly
        FROM (VALUES ('taxpayer'), ('spouse')) AS p(person_type)
    )
    SELECT round(tp.monthly, 2), round(sp.monthly, 2), round(o.monthly, 2), round(tp.monthly + sp.monthly + o.monthly, 2)
    FROM (SELECT monthly FROM people WHERE person_type = 'taxpayer') AS tp,
         (SELECT monthly FROM people WHERE person_type = 'spouse') AS sp,
         (SELECT coalesce(sum(monthly), 0) AS monthly FROM src WHERE person_type IN ('joint', 'other')) AS o;
$$;

-- Monthly disposable income (irs-domain.md 5.1-5.3; IRS Collection Financial Standards):
--   national standards (food, housekeeping, apparel, personal care, misc): the full standard,
--     from the interview's Result cells c56-c60 when present, else the published table by
--     household size;
--   out-of-pocket health care: full standard per person (c80, else 2024 per-person amounts);
--   housing & utilities: lesser of actual and standard (actual when no standard is known);
--   vehicle ownership: lesser of actual payment and standard, per vehicle, up to 2, $0 if no payment;
--   vehicle operating: lesser of actual and standard, up to 2 vehicles;
--   public transportation: full standard with no vehicle, else actual up to the standard;
--   other necessary expenses: actual health insurance, current taxes, court-ordered
--     payments, child care, term life (whole life is not a necessary expense).
-- MDI = total monthly income - total allowable; future income for an offer: MDI x 12
-- (lump sum) / x 24 (periodic) (irs-domain.md 5.4).
CREATE OR REPLACE FUNCTION public.calculate_disposable_income(p_case_id text)
RETURNS TABLE (
    total_monthly_income numeric, national_standards numeric, health_out_of_pocket numeric,
    housing_utilities numeric, vehicle_ownership numeric, vehicle_operating numeric,
    public_transportation numeric, other_necessary numeric, total_allowable_expenses numeric,
    disposable_income numeric, future_income_lump_sum numeric, future_income_periodic numeric,
    household_size integer, standards_source text, notes text[])
LANGUAGE sql STABLE AS $$
    WITH l AS (
        SELECT * FROM public.logiqs_raw_data WHERE case_id = p_case_id
    ), h AS (
        SELECT coalesce((SELECT total_household_members FROM public.household_information WHERE case_id = p_case_id),
                        (SELECT coalesce(b10, nullif(coalesce(b50, 0) + coalesce(b51, 0), 0)) FROM l), 1) AS size,
               coalesce((SELECT members_over_65 FROM public.household_information WHERE case_id = p_case_id), 0) AS over65
    ), e AS (
        SELECT coalesce(sum(normalized_monthly_amount) FILTER (WHERE expense_category IN ('housing', 'utilities')), 0)
                   AS housing_actual
        FROM public.monthly_expenses WHERE case_id = p_case_id
    ), v AS (
        SELECT least(coalesce((SELECT ak2 FROM l), (SELECT count(*) FROM public.vehicles WHERE case_id = p_case_id))::int,
                     coalesce((SELECT value FROM public.tax_constants WHERE name = 'max_vehicles_allowed'), 2)::int) AS n
    ), std AS (
        SELECT (SELECT c61_irs_calculated FROM l) AS national_interview,
               public.irs_national_standard('national_total', (SELECT size FROM h)) AS national_table,
               (SELECT c80 FROM l) AS health_interview,
               ((SELECT size FROM h) - least((SELECT over65 FROM h), (SELECT size FROM h)))
                   * public.irs_flat_standard('health_out_of_pocket', 'under_65')
               + least((SELECT over65 FROM h), (SELECT size FROM h)) * public.irs_flat_standard('health_out_of_pocket', '65_plus')
                   AS health_table,
               (SELECT irs_housing FROM l) AS housing_std,
               public.irs_flat_standard('vehicle_ownership') AS ownership_std,
               (SELECT irs_operating_cost_car FROM l) AS operating_std,
               coalesce((SELECT al4 FROM l), public.irs_flat_standard('public_transportation')) AS public_std
    ), parts AS (
        SELECT coalesce(std.national_interview, std.national_table, 0) AS national,
               coalesce(std.health_interview, std.health_table, 0) AS health,
               CASE WHEN std.housing_std IS NOT NULL THEN least(e.housing_actual, std.housing_std)
                    ELSE e.housing_actual END AS housing,
               least(coalesce((SELECT ak7 FROM l), 0), coalesce(std.ownership_std, 0))
                   + CASE WHEN v.n >= 2 THEN least(coalesce((SELECT ak8 FROM l), 0), coalesce(std.ownership_std, 0)) ELSE 0 END
                   AS ownership,
               CASE WHEN std.operating_std IS NOT NULL
                    THEN least(coalesce((SELECT ak6 FROM l), 0), std.operating_std * v.n)
                    ELSE coalesce((SELECT ak6 FROM l), 0) END AS operating,
               CASE WHEN v.n = 0 THEN coalesce(std.public_std, 0)
                    ELSE least(coalesce((SELECT ak4 FROM l), 0), coalesce(std.public_std, 0)) END AS public_trans,
               coalesce((SELECT coalesce(b79, 0) + coalesce(b84, 0) + coalesce(b87, 0) + coalesce(b88, 0)
                                + coalesce(b90, 0) FROM l), 0) AS other_necessary,
               CASE WHEN std.national_interview IS NOT NULL THEN 'interview' ELSE 'irs_collection_standards' END AS src,
               ARRAY(SELECT x FROM unnest(ARRAY[
                   CASE WHEN std.housing_std IS NULL THEN 'housing_standard_unknown_actual_used' END,
                   CASE WHEN std.operating_std IS NULL AND v.n > 0 THEN 'operating_standard_unknown_actual_used' END,
                   CASE WHEN NOT EXISTS (SELECT 1 FROM l) THEN 'no_interview' END]) AS x WHERE x IS NOT NULL) AS notes
        FROM std, e, v
    ), inc AS (
        SELECT coalesce((SELECT total_monthly FROM public.calculate_total_monthly_income(p_case_id)), 0) AS total
    ), tot AS (
        SELECT parts.*, inc.total,
               round(national + health + housing + ownership + operating + public_trans + other_necessary, 2) AS allowable
        FROM parts, inc
    )
    SELECT round(total, 2), round(national, 2), round(health, 2), round(housing, 2), round(ownership, 2),
           round(operating, 2), round(public_trans, 2), round(other_necessary, 2), allowable,
           round(total - allowable, 2),
           round(greatest(total - allowable, 0) * coalesce((SELECT value FROM public.tax_constants
                                                           WHERE name = 'rcp_lump_sum_months'), 12), 2),
           round(greatest(total - allowable, 0) * coalesce((SELECT value FROM public.tax_constants
                                                           WHERE name = 'rcp_periodic_months'), 24), 2),
           (SELECT size FROM h)::integer, src, notes
    FROM tot;
$$;

-- Case summary: counts per layer, tax years, CSED range, total balance, pipeline status
-- (business-rules.md 11: not_started / bronze_only / silver_only / complete).
CREATE OR REPLACE FUNCTION public.get_case_summary(p_case_id text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH b AS (
        SELECT jsonb_build_object(
            'at', (SELECT count(*) FROM public.bronze_at_raw WHERE case_id = p_case_id),
            'wi', (SELECT count(*) FROM public.bronze_wi_raw WHERE case_id = p_case_id),
            'trt', (SELECT count(*) FROM public.bronze_trt_raw WHERE case_id = p_case_id),
            'interview', (SELECT count(*) FROM public.bronze_interview_raw WHERE case_id = p_case_id)) AS j
    ), s AS (
        SELECT jsonb_build_object(
            'tax_years', (SELECT count(*) FROM public.tax_years WHERE case_id = p_case_id),
            'account_activity', (SELECT count(*) FROM public.account_activity WHERE case_id = p_case_id),
            'income_documents', (SELECT count(*) FROM public.income_documents WHERE case_id = p_case_id),
            'trt_records', (SELECT count(*) FROM public.trt_records WHERE case_id = p_case_id),
            'logiqs_raw_data', (SELECT count(*) FROM public.logiqs_raw_data WHERE case_id = p_case_id)) AS j
    ), g AS (
        SELECT jsonb_build_object(
            'employment_information', (SELECT count(*) FROM public.employment_information WHERE case_id = p_case_id),
            'household_information', (SELECT count(*) FROM public.household_information WHERE case_id = p_case_id),
            'financial_accounts', (SELECT count(*) FROM public.financial_accounts WHERE case_id = p_case_id),
            'income_sources', (SELECT count(*) FROM public.income_sources WHERE case_id = p_case_id),
            'monthly_expenses', (SELECT count(*) FROM public.monthly_expenses WHERE case_id = p_case_id),
            'vehicles', (SELECT count(*) FROM public.vehicles WHERE case_id = p_case_id),
            'real_property', (SELECT count(*) FROM public.real_property WHERE case_id = p_case_id),
            'tax_projections', (SELECT count(*) FROM public.tax_projections WHERE case_id = p_case_id)) AS j
    ), totals AS (
        SELECT (SELECT sum(value::bigint) FROM b, jsonb_each_text(b.j)) AS bronze,
               (SELECT sum(value::bigint) FROM s, jsonb_each_text(s.j)) AS silver,
               (SELECT sum(value::bigint) FROM g, jsonb_each_text(g.j)) AS gold
    )
    SELECT jsonb_build_object(
        'case_id', p_case_id,
        'case_exists', EXISTS (SELECT 1 FROM public.cases WHERE case_id = p_case_id),
        'status', CASE WHEN t.bronze = 0 THEN 'not_started' WHEN t.silver = 0 THEN 'bronze_only'
                       WHEN t.gold = 0 THEN 'silver_only' ELSE 'complete' END,
        'bronze', b.j || jsonb_build_object('total', t.bronze),
        'silver', s.j || jsonb_build_object('total', t.silver),
        'gold', g.j || jsonb_build_object('total', t.gold),
        'tax_years', coalesce((SELECT jsonb_agg(y ORDER BY y) FROM (
                        SELECT tax_year AS y FROM public.tax_years WHERE case_id = p_case_id
                        UNION SELECT tax_year FROM public.income_documents WHERE case_id = p_case_id AND tax_year IS NOT NULL
                     ) AS years), '[]'::jsonb),
        'csed_earliest', (SELECT min(csed_date) FROM public.csed_assessments WHERE case_id = p_case_id),
        'csed_latest', (SELECT max(csed_date) FROM public.csed_assessments WHERE case_id = p_case_id),
        'total_balance', (SELECT sum(coalesce(total_balance, account_balance)) FROM public.tax_years WHERE case_id = p_case_id),
        'projected_balance', (SELECT sum(projected_balance) FROM public.tax_projections WHERE case_id = p_case_id),
        'transformation_errors', (SELECT count(*) FROM public.transformation_errors WHERE case_id = p_case_id))
    FROM b, s, g, totals t;
$$;

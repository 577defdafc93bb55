-- Gold layer: the tables the resolution work reads, and the functions that recompute them
-- from silver (income_documents, logiqs_raw_data, tax_years) for one case at a time.
--
-- Ordering note: this file runs before the silver tables it reads (007) and the reference
-- tables (008). Function bodies are therefore resolved when they run, not now
-- (check_function_bodies is off for this file), and the statement-level triggers that call
-- them are created in 007, right after the silver tables exist.
--
-- Rules (medallion-schema.md sections 8-9):
--   * a gold failure never vetoes the silver write: each case is recomputed inside its own
--     BEGIN/EXCEPTION block and a failure becomes a transformation_errors row (layer 'gold');
--   * recomputation is idempotent: rows are upserted on a natural key only when a value
--     differs (IS DISTINCT FROM), and rows the case no longer yields are deleted;
--   * money is numeric(15,2), dates are date, frequencies are one of six canonical values.
SET LOCAL check_function_bodies = off;

-- ---------------------------------------------------------------------------------------
-- Shared helpers used by 007 / 008 / 009.

-- Lower case, every non-alphanumeric removed: 'Bi-Weekly ' -> 'biweekly', 'Box 1a' -> 'box1a'.
CREATE OR REPLACE FUNCTION public.md_synonym_key(p text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(lower(p), '[^a-z0-9]', '', 'g'), '');
$$;

-- The five canonical filing statuses (the AT loader's contract for tax_years.filing_status).
CREATE OR REPLACE FUNCTION public.md_is_filing_status(p text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p IN ('single', 'married_filing_jointly', 'married_filing_separately',
                          'head_of_household', 'qualifying_surviving_spouse'), false);
$$;

-- ---------------------------------------------------------------------------------------
-- Gold tables (medallion-schema.md section 4, Gen C shapes keyed by the text case id, with
-- the breakages of section 8 fixed: no phantom columns, nullable address, typed cells,
-- canonical frequencies, natural keys).

CREATE TABLE IF NOT EXISTS public.employment_information (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id                text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    person_type            text NOT NULL CONSTRAINT employment_information_person_type_check
                               CHECK (person_type IN ('taxpayer', 'spouse')),
    employer_name          text,
    employer_address       text,
    job_title              text,
    employment_start_date  date,
    pay_frequency          text CONSTRAINT employment_information_pay_frequency_check
                               CHECK (pay_frequency IN ('weekly', 'biweekly', 'semimonthly', 'monthly', 'quarterly', 'annual')),
    pay_frequency_raw      text,
    gross_annual_income    numeric(15,2),
    net_annual_income      numeric(15,2),
    gross_monthly_income   numeric(15,2),
    net_monthly_income     numeric(15,2),
    is_self_employed       boolean NOT NULL DEFAULT false,
    excel_reference_map    jsonb NOT NULL DEFAULT '{}',
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT employment_information_case_person_key UNIQUE (case_id, person_type)
);

CREATE TABLE IF NOT EXISTS public.household_information (
    case_id                       text PRIMARY KEY REFERENCES public.cases (case_id) ON DELETE CASCADE,
    total_household_members       integer NOT NULL DEFAULT 1,
    members_under_65              integer NOT NULL DEFAULT 0,
    members_over_65               integer NOT NULL DEFAULT 0,
    filing_status                 text CONSTRAINT household_information_filing_status_check
                                      CHECK (filing_status IS NULL OR public.md_is_filing_status(filing_status)),
    filing_status_raw             text,
    number_of_dependents          integer,
    taxpayer_next_tax_return      text,
    taxpayer_spouse_claim         text,
    spouse_next_tax_return        text,
    spouse_spouse_claim           text,
    taxpayer_length_of_residency  text,
    taxpayer_occupancy_status     text,
    spouse_length_of_residency    text,
    spouse_occupancy_status       text,
    state                         text,
    county                        text,
    zip_code                      text,
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS public.financial_accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source_key       text NOT NULL,          -- interview cell (b18 ...)
    account_type     text NOT NULL CONSTRAINT financial_accounts_account_type_check
                         CHECK (account_type IN ('checking', 'savings', 'investment', 'retirement', 'crypto', 'other')),
    description      text,
    institution_name text,
    current_balance  numeric(15,2) NOT NULL DEFAULT 0,
    loan_balance     numeric(15,2) NOT NULL DEFAULT 0,
    is_primary       boolean NOT NULL DEFAULT false,
    is_joint         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT financial_accounts_case_source_key UNIQUE (case_id, source_key)
);

CREATE TABLE IF NOT EXISTS public.income_sources (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id                    text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source_key                 text NOT NULL,   -- interview cell (b33 ...)
    person_type                text NOT NULL CONSTRAINT income_sources_person_type_check
                                   CHECK (person_type IN ('taxpayer', 'spouse', 'joint', 'other')),
    income_type                text NOT NULL CONSTRAINT income_sources_income_type_check
                                   CHECK (income_type IN ('wages', 'social_security', 'pension', 'dividends_interest',
                                          'rental_gross', 'rental_expenses', 'distributions', 'alimony',
                                          'child_support', 'other', 'additional_1', 'additional_2')),
    description                text,
    amount                     numeric(15,2) NOT NULL DEFAULT 0,
    frequency                  text NOT NULL DEFAULT 'monthly' CONSTRAINT income_sources_frequency_check
                                   CHECK (frequency IN ('weekly', 'biweekly', 'semimonthly', 'monthly', 'quarterly', 'annual')),
    normalized_monthly_amount  numeric(15,2) NOT NULL DEFAULT 0,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT income_sources_case_source_key UNIQUE (case_id, source_key)
);

CREATE TABLE IF NOT EXISTS public.monthly_expenses (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id                    text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source_key                 text NOT NULL,   -- interview cell (b56 ...)
    expense_category           text NOT NULL CONSTRAINT monthly_expenses_category_check
                                   CHECK (expense_category IN ('food', 'housekeeping', 'apparel', 'personal_care', 'misc',
                                          'housing', 'utilities', 'transportation', 'healthcare', 'taxes', 'insurance',
                                          'child_care', 'court_payments', 'other')),
    expense_subcategory        text,
    description                text,
    amount                     numeric(15,2) NOT NULL DEFAULT 0,
    frequency                  text NOT NULL DEFAULT 'monthly' CONSTRAINT monthly_expenses_frequency_check
                                   CHECK (frequency IN ('weekly', 'biweekly', 'semimonthly', 'monthly', 'quarterly', 'annual')),
    normalized_monthly_amount  numeric(15,2) NOT NULL DEFAULT 0,
    is_irs_standard            boolean NOT NULL DEFAULT false,
    irs_standard_amount        numeric(15,2),
    use_irs_standard           boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT monthly_expenses_case_source_key UNIQUE (case_id, source_key)
);

CREATE TABLE IF NOT EXISTS public.vehicles (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id             text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source_key          text NOT NULL,          -- vehicle1 .. vehicle4 (cells b24-b27 / d24-d27)
    vehicle_type        text NOT NULL DEFAULT 'car' CONSTRAINT vehicles_vehicle_type_check
                            CHECK (vehicle_type IN ('car', 'truck', 'motorcycle', 'rv', 'boat', 'aircraft', 'other')),
    year                integer,
    make                text,
    model               text,
    mileage             integer,
    current_value       numeric(15,2) NOT NULL DEFAULT 0,
    loan_balance        numeric(15,2) NOT NULL DEFAULT 0,
    monthly_payment     numeric(15,2),
    final_payment_date  date,
    equity              numeric(15,2) GENERATED ALWAYS AS (current_value - loan_balance) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vehicles_case_source_key UNIQUE (case_id, source_key)
);

CREATE TABLE IF NOT EXISTS public.real_property (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id               text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    source_key            text NOT NULL,        -- b23 / d23
    property_type         text NOT NULL DEFAULT 'primary_residence' CONSTRAINT real_property_property_type_check
                              CHECK (property_type IN ('primary_residence', 'rental', 'vacation', 'commercial', 'land', 'other')),
    address               text,                 -- nullable: NOT NULL aborted the original chain (medallion-schema 8.4)
    current_market_value  numeric(15,2) NOT NULL DEFAULT 0,
    mortgage_balance      numeric(15,2) NOT NULL DEFAULT 0,
    monthly_payment       numeric(15,2),
    purchase_date         date,
    purchase_price        numeric(15,2),
    final_payment_date    date,
    equity                numeric(15,2) GENERATED ALWAYS AS (current_market_value - mortgage_balance) STORED,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT real_property_case_source_key UNIQUE (case_id, source_key)
);

-- One projection per case and tax year (irs-domain.md 4.5). Positive balance = owed.
CREATE TABLE IF NOT EXISTS public.tax_projections (
    case_id                  text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year                 integer NOT NULL,
    filing_status            text NOT NULL CONSTRAINT tax_projections_filing_status_check
                                 CHECK (public.md_is_filing_status(filing_status)),
    filing_status_source     text NOT NULL CONSTRAINT tax_projections_filing_status_source_check
                                 CHECK (filing_status_source IN ('tax_years', 'interview', 'default')),
    includes_spouse          boolean NOT NULL DEFAULT false,
    document_count           integer NOT NULL DEFAULT 0,
    wages                    numeric(15,2) NOT NULL DEFAULT 0,
    se_income                numeric(15,2) NOT NULL DEFAULT 0,
    other_income             numeric(15,2) NOT NULL DEFAULT 0,
    social_security_benefits numeric(15,2) NOT NULL DEFAULT 0,
    taxable_social_security  numeric(15,2) NOT NULL DEFAULT 0,
    preferential_income      numeric(15,2) NOT NULL DEFAULT 0,
    total_income             numeric(15,2) NOT NULL DEFAULT 0,
    tp_income                numeric(15,2) NOT NULL DEFAULT 0,
    spouse_income            numeric(15,2) NOT NULL DEFAULT 0,
    tp_withholding           numeric(15,2) NOT NULL DEFAULT 0,
    spouse_withholding       numeric(15,2) NOT NULL DEFAULT 0,
    se_net_earnings          numeric(15,2) NOT NULL DEFAULT 0,
    se_social_security       numeric(15,2),
    se_medicare              numeric(15,2),
    se_tax                   numeric(15,2),
    se_deduction             numeric(15,2),
    additional_medicare_tax  numeric(15,2),
    net_investment_income_tax numeric(15,2),
    early_distribution_tax   numeric(15,2),
    estimated_agi            numeric(15,2),
    standard_deduction       numeric(15,2),
    taxable_income           numeric(15,2),
    income_tax               numeric(15,2),
    total_tax                numeric(15,2),
    total_withholding        numeric(15,2) NOT NULL DEFAULT 0,
    projected_balance        numeric(15,2),
    flags                    text[] NOT NULL DEFAULT '{}',
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tax_projections_pkey PRIMARY KEY (case_id, tax_year)
);

-- ---------------------------------------------------------------------------------------
-- Generic idempotent sync: make the case's rows of p_table exactly the rows of a jsonb array
-- of row objects, matching on p_keys. Rows whose values are unchanged are not touched
-- (no updated_at churn); rows the case no longer yields are deleted. One statement.
-- gold_sync_statement builds that statement from the catalog; p_rows_expr / p_case_expr are
-- the SQL expressions giving the rows and the case id ($1/$2, or plpgsql parameter names).
CREATE OR REPLACE FUNCTION public.gold_sync_statement(p_table text, p_keys text[], p_rows_expr text, p_case_expr text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    sel_cols text;
    all_cols text;
    val_cols text;
    excl_cols text;
    tgt_cols text;
    key_cols text;
    key_match text;
BEGIN
    -- a key missing from a row object takes the column default (NOT NULL DEFAULT columns)
    SELECT string_agg(CASE WHEN a.attnotnull AND d.adbin IS NOT NULL
                           THEN format('coalesce(%1$I, %2$s) AS %1$I', a.attname, pg_get_expr(d.adbin, d.adrelid))
                           ELSE quote_ident(a.attname) END, ', ' ORDER BY a.attnum),
           string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attname <> ALL (p_keys)),
           string_agg('excluded.' || quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attname <> ALL (p_keys)),
           string_agg('t.' || quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attname <> ALL (p_keys))
      INTO sel_cols, all_cols, val_cols, excl_cols, tgt_cols
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = format('public.%I', p_table)::regclass
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
      AND a.attname NOT IN ('created_at', 'updated_at');

    SELECT string_agg(quote_ident(k), ', '), string_agg(format('w.%1$I = d.%1$I', k), ' AND ')
      INTO key_cols, key_match
    FROM unnest(p_keys) AS k;

    RETURN format($q$
        WITH wanted AS (
            SELECT %8$s FROM jsonb_populate_recordset(NULL::public.%2$I, coalesce(%9$s, '[]'::jsonb))
        ), upserted AS (
            INSERT INTO public.%2$I AS t (%1$s)
            SELECT %1$s FROM wanted
            ON CONFLICT (%3$s) DO UPDATE SET (%4$s, updated_at) = ROW(%5$s, now())
            WHERE (%6$s) IS DISTINCT FROM (%5$s)
            RETURNING 1
        )
        DELETE FROM public.%2$I d
        WHERE d.case_id = %10$s AND NOT EXISTS (SELECT 1 FROM wanted w WHERE %7$s)$q$,
        all_cols, p_table, key_cols, val_cols, excl_cols, tgt_cols, key_match, sel_cols, p_rows_expr, p_case_expr);
END
$$;

-- The same statement compiled once per gold table as gold_sync_<table>(case_id, rows): static
-- SQL, so its plan is cached instead of rebuilt from the catalog on every call (the generic
-- EXECUTE cost ~0.7 ms a call, eight calls per case refresh). Generated after the tables exist;
-- gold_sync_functions() regenerates them if a gold table's columns change.
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
    END LOOP;
END
$fn$;
SELECT public.gold_sync_functions();

-- ---------------------------------------------------------------------------------------
-- Interview (logiqs_raw_data) -> employment, household, accounts, income, expenses,
-- vehicles, real property. Cell meanings: business-rules.md section 6 (with the fixes of
-- medallion-schema.md 8.4-8.8 listed in docs/04_SCHEMA_WI_INTERVIEW_GOLD.md).
CREATE OR REPLACE FUNCTION public.gold_refresh_interview(p_case_id text)
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
                   'normalized_monthly_amount', public.normalize_to_monthly(v.amt, 'monthly')) ORDER BY v.k), '[]')
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
                   'normalized_monthly_amount', public.normalize_to_monthly(v.amt, 'monthly'),
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

-- ---------------------------------------------------------------------------------------
-- Tax projection for one case and tax year, from income_documents and the tax tables
-- (irs-domain.md 4.1-4.5; SE tax per irs-domain.md 7 / IRC 1401, 1402). Plain function:
-- call it directly, e.g. SELECT * FROM compute_tax_projection('1295022', 2023).
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
    IF public.md_is_filing_status(v_status) THEN
        v_source := 'tax_years';
    ELSE
        SELECT public.md_filing_status(coalesce(l.filing_status_raw, l.b11)) INTO v_status
        FROM public.logiqs_raw_data l WHERE l.case_id = p_case_id;
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
    SELECT coalesce(bool_or(coalesce(l.b3, '') || ' ' || coalesce(l.c3, '') ~* '\mself[- ]?employ'), false)
      INTO k_confirmed FROM public.logiqs_raw_data l WHERE l.case_id = p_case_id;
    k_confirmed := coalesce(k_confirmed, false);

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

    SELECT amount INTO v_std FROM public.standard_deductions WHERE tax_year = p_tax_year AND filing_status = v_status;
    IF se.tax_year IS NULL OR v_std IS NULL
       OR NOT EXISTS (SELECT 1 FROM public.tax_brackets WHERE tax_year = p_tax_year AND filing_status = v_status) THEN
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
    SELECT amount INTO v_thr FROM public.filing_status_thresholds
    WHERE threshold_kind = 'additional_medicare' AND filing_status = v_status;
    v_addl := se.additional_medicare_rate * (greatest(v_medicare_wages - v_thr, 0)
              + greatest(v_nese_total - greatest(v_thr - v_medicare_wages, 0), 0));
    res.additional_medicare_tax := round(v_addl, 2);

    -- 5. Taxable social security (benefits worksheet, irs-domain.md 3 SSA-1099).
    v_taxable_ss := 0;
    IF v_ssb > 0 THEN
        SELECT amount INTO v_base FROM public.filing_status_thresholds
        WHERE threshold_kind = 'ss_base_amount' AND filing_status = v_status;
        SELECT amount INTO v_adj FROM public.filing_status_thresholds
        WHERE threshold_kind = 'ss_adjusted_base' AND filing_status = v_status;
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
                                          - b.income_min, 0)), 0)
      INTO v_ord_tax
    FROM public.tax_brackets b WHERE b.tax_year = p_tax_year AND b.filing_status = v_status;
    SELECT coalesce(sum(b.rate * greatest(least(res.taxable_income, coalesce(b.income_max, 'Infinity')) - b.income_min, 0)), 0)
      INTO v_full_tax
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
    SELECT value INTO v_early_tax FROM public.tax_constants WHERE name = 'early_distribution_rate';
    res.early_distribution_tax := round(coalesce(v_early_tax, 0) * v_early, 2);
    SELECT amount, rate INTO v_niit_thr, v_niit FROM public.filing_status_thresholds
    WHERE threshold_kind = 'niit' AND filing_status = v_status;
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

CREATE OR REPLACE FUNCTION public.gold_refresh_projections(p_case_id text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.gold_sync_tax_projections(p_case_id, (
        SELECT coalesce(jsonb_agg(to_jsonb(p) - 'created_at' - 'updated_at' ORDER BY y.tax_year), '[]')
        FROM (SELECT DISTINCT tax_year FROM public.income_documents
              WHERE case_id = p_case_id AND tax_year IS NOT NULL) AS y
        CROSS JOIN LATERAL public.compute_tax_projection(p_case_id, y.tax_year) AS p));
END
$$;

-- Everything gold holds for one case (or the parts named: 'interview', 'projections'), each
-- part isolated: a failure is recorded (layer 'gold') and never raised, so the silver write
-- that triggered it stands.
CREATE OR REPLACE FUNCTION public.gold_refresh_case(p_case_id text, p_source_table text DEFAULT NULL,
                                                    p_bronze_id uuid DEFAULT NULL,
                                                    p_parts text[] DEFAULT ARRAY['interview', 'projections'])
RETURNS boolean LANGUAGE plpgsql AS $$
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
    FOREACH part IN ARRAY ARRAY['interview', 'projections'] LOOP
        CONTINUE WHEN part <> ALL (p_parts);
        BEGIN
            IF part = 'interview' THEN
                PERFORM public.gold_refresh_interview(p_case_id);
            ELSE
                PERFORM public.gold_refresh_projections(p_case_id);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                    err_context = PG_EXCEPTION_CONTEXT;
            PERFORM public.record_transformation_error(
                'gold', CASE part WHEN 'interview' THEN 'interview_gold_tables' ELSE 'tax_projections' END,
                p_bronze_id, p_case_id, err_state, err_message,
                'gold_refresh_' || part || ' after change to ' || coalesce(p_source_table, '?') || E'\n' || err_context);
            ok := false;
        END;
    END LOOP;
    RETURN ok;
END
$$;

-- A silver change of one case: refresh the gold parts it affects now, or, inside a bronze
-- promotion (001's gold_deferred), note them so the promotion refreshes the case once when all
-- its loaders are done. tax_years feeds only the projections (filing status); income_documents
-- and logiqs_raw_data feed both parts.
CREATE OR REPLACE FUNCTION public.gold_refresh_or_defer(p_case_id text, p_source_table text, p_bronze_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    parts text[] := CASE WHEN p_source_table = 'tax_years' THEN ARRAY['projections']
                         ELSE ARRAY['interview', 'projections'] END;
BEGIN
    IF public.gold_deferred() THEN
        PERFORM public.gold_defer(p_case_id, parts);
    ELSE
        PERFORM public.gold_refresh_case(p_case_id, p_source_table, p_bronze_id, parts);
    END IF;
END
$$;

-- Statement-level trigger body shared by the silver tables (attached in 007): recompute the
-- gold rows of every case the statement touched. TG_ARGV[0] = 'new', 'old' or 'both' says
-- which transition tables this trigger has.
CREATE OR REPLACE FUNCTION public.trg_silver_refresh_gold()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id FROM new_rows GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, c.bronze_id);
        END LOOP;
    ELSIF TG_OP = 'UPDATE' THEN
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id
                 FROM (SELECT case_id, bronze_id FROM new_rows UNION ALL SELECT case_id, NULL::uuid FROM old_rows) AS x
                 GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, c.bronze_id);
        END LOOP;
    ELSE
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id FROM old_rows GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, c.bronze_id);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

-- tax_years (the AT loader's table) has no bronze_id contract: refresh with no lineage.
CREATE OR REPLACE FUNCTION public.trg_tax_years_refresh_gold()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR c IN SELECT DISTINCT case_id FROM new_rows ORDER BY 1 LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, NULL);
        END LOOP;
    ELSIF TG_OP = 'UPDATE' THEN
        -- the AT loader and the CSED refresh update tax_years often; only a filing-status (or
        -- key) change moves a projection
        FOR c IN SELECT n.case_id FROM new_rows n
                 LEFT JOIN old_rows o ON o.case_id = n.case_id AND o.tax_year = n.tax_year
                 WHERE o.case_id IS NULL OR n.filing_status IS DISTINCT FROM o.filing_status
                 UNION
                 SELECT o.case_id FROM old_rows o
                 LEFT JOIN new_rows n ON n.case_id = o.case_id AND n.tax_year = o.tax_year
                 WHERE n.case_id IS NULL
                 ORDER BY 1 LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, NULL);
        END LOOP;
    ELSE
        FOR c IN SELECT DISTINCT case_id FROM old_rows ORDER BY 1 LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME, NULL);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

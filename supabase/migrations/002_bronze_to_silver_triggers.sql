-- Silver layer for account transcripts (AT) and tax-return transcripts (TRT), and the
-- collection statute expiration date (CSED). Documentation: docs/03_SCHEMA_AT_CSED.md.
--
--   bronze_at_raw  --silver_load_at-->  tax_years, account_activity, at_unplaced_records
--                                       --csed_refresh-->  csed_tolling_events, csed_assessments,
--                                                          tax_years.csed_* columns
--   bronze_trt_raw --silver_load_trt--> trt_records
--
-- 001's statement trigger calls silver_load_<src>(bronze_id) per case inside a sub-transaction;
-- a RAISE here becomes a transformation_errors row and the bronze row stays.
-- Rule tables (at_transaction_rules, tc971_action_codes, tc520_closing_codes,
-- csed_event_types) come from 006; every function that reads them is plpgsql, so the names
-- resolve at run time and this file can be applied before 006.
--
-- Loads are idempotent: rows are upserted on natural keys with
-- ON CONFLICT ... DO UPDATE ... WHERE (...) IS DISTINCT FROM (...) (unchanged rows are not
-- touched), and rows the payload no longer holds are deleted, in the same statement.

-- ---------------------------------------------------------------------------------------
-- Parsers added on top of 001's md_* family (they never raise).

-- Tax years: everything md_year reads, plus a 6-digit period "202312".
CREATE OR REPLACE FUNCTION public.md_tax_year(v jsonb)
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce(public.md_year(v),
                    CASE WHEN public.md_text(v) ~ '^(19|20)\d{2}(0[1-9]|1[0-2])$'
                         THEN left(public.md_text(v), 4)::int END);
END
$$;

-- Money as numeric(15,2); values that do not fit become NULL instead of aborting the load.
-- (plpgsql: called per transcript line, and a SQL function with FROM is not inlined.)
CREATE OR REPLACE FUNCTION public.md_money(v jsonb)
RETURNS numeric(15, 2) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    n numeric := public.md_numeric(v);
BEGIN
    RETURN CASE WHEN abs(n) < 1e13 THEN round(n, 2) END;
END
$$;

-- Filing status normalised to five values (NULL when unknown). Accepts the words in any
-- case/punctuation, the usual abbreviations and the IRS status digits 1-5.
CREATE OR REPLACE FUNCTION public.at_filing_status(raw text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN s ~ '^(1|s|sgl|single)$' THEN 'single'
        WHEN s ~ '^(2|mfj|mj)$' OR s ~ 'married.*joint' OR s = 'joint' THEN 'married_filing_jointly'
        WHEN s ~ '^(3|mfs|ms)$' OR s ~ 'married.*separate' THEN 'married_filing_separately'
        WHEN s ~ '^(4|hoh|hh)$' OR s ~ 'head of (the )?household' THEN 'head_of_household'
        WHEN s ~ '^(5|qw|qss|qw er|qssw)$' OR s ~ 'qualifying (widow|surviving)' THEN 'qualifying_surviving_spouse'
    END
    FROM (SELECT btrim(lower(regexp_replace(coalesce(raw, ''), '[^a-zA-Z0-9]+', ' ', 'g'))) AS s) AS cleaned;
$$;

-- A transaction code as 3 digits ("150", 150, "TC 150", "0150" -> "150"); anything else NULL.
CREATE OR REPLACE FUNCTION public.md_tc(v jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    t text := regexp_replace(public.md_text(v), '\.0+$', '');
BEGIN
    RETURN CASE
        WHEN t ~ '^0*[0-9]{1,3}$' THEN lpad(ltrim(t, '0'), 3, '0')
        WHEN t ~* '^TC\s*[0-9]{3}$' THEN right(t, 3)
    END;
END
$$;

-- A numeric code (action / closing code) as text zero-padded to p_width digits.
CREATE OR REPLACE FUNCTION public.md_code(v jsonb, p_width integer)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    t text := regexp_replace(public.md_text(v), '\.0+$', '');
BEGIN
    RETURN CASE WHEN t ~ '^[0-9]{1,3}$' THEN lpad(t, p_width, '0') END;
END
$$;

-- "today" for CSED status: the GUC medallion.as_of_date when set (tests, back-dated
-- reports: SET LOCAL medallion.as_of_date = '2025-01-01'), else current_date.
CREATE OR REPLACE FUNCTION public.csed_as_of()
RETURNS date LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('medallion.as_of_date', true), '')::date, current_date);
$$;

-- ---------------------------------------------------------------------------------------
-- Silver tables.

-- One row per (case, tax year) that the case's account transcripts show.
CREATE TABLE IF NOT EXISTS public.tax_years (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id               text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year              integer NOT NULL CHECK (tax_year BETWEEN 1950 AND 2100),
    filing_status         text CHECK (filing_status IN ('single', 'married_filing_jointly',
                              'married_filing_separately', 'head_of_household', 'qualifying_surviving_spouse')),
    filing_status_raw     text,
    return_filed          boolean,
    return_filed_source   text CHECK (return_filed_source IN ('payload', 'transactions')),
    is_sfr                boolean NOT NULL DEFAULT false,
    return_filed_date     date,
    processing_date       date,
    adjusted_gross_income numeric(15, 2),
    taxable_income        numeric(15, 2),
    tax_per_return        numeric(15, 2),
    total_se_tax          numeric(15, 2),
    account_balance       numeric(15, 2),
    accrued_interest      numeric(15, 2),
    accrued_penalty       numeric(15, 2),
    total_balance         numeric(15, 2),
    owner                 text,
    source_file           text,
    at_record_count       integer NOT NULL DEFAULT 1,
    base_csed_date        date,
    csed_date             date,
    earliest_csed_date    date,
    minimum_csed_date     date,
    csed_status           text CHECK (csed_status IN ('running', 'expired', 'suspended_open', 'no_assessment')),
    csed_review_notes     text[] NOT NULL DEFAULT '{}',
    bronze_id             uuid REFERENCES public.bronze_at_raw (bronze_id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tax_years_case_year_key UNIQUE (case_id, tax_year)
);

-- One row per transcript line. Natural key: the line's year, owner, code, date and amount plus
-- its occurrence number among identical lines of one transcript record.
CREATE TABLE IF NOT EXISTS public.account_activity (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id                     text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year                    integer NOT NULL,
    owner                       text NOT NULL DEFAULT 'TP',
    activity_date               date,
    transaction_code            text,
    transaction_code_raw        text,
    explanation                 text,
    explanation_source          text CHECK (explanation_source IN ('transcript', 'rule')),
    amount                      numeric(15, 2),
    running_balance             numeric(15, 2),
    action_code                 text,
    closing_code                text,
    transaction_type            text NOT NULL,
    affects_balance             boolean NOT NULL,
    is_assessment               boolean NOT NULL,
    indicates_collection_action boolean NOT NULL,
    rule_confidence             text,
    occurrence                  integer NOT NULL,
    line_number                 integer,
    bronze_id                   uuid REFERENCES public.bronze_at_raw (bronze_id) ON DELETE SET NULL,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_activity_tax_year_fk FOREIGN KEY (case_id, tax_year)
        REFERENCES public.tax_years (case_id, tax_year) ON DELETE CASCADE,
    CONSTRAINT account_activity_natural_key UNIQUE NULLS NOT DISTINCT
        (case_id, tax_year, owner, transaction_code, activity_date, amount, occurrence)
);
CREATE INDEX IF NOT EXISTS account_activity_code_idx ON public.account_activity (case_id, transaction_code);

-- AT records whose tax year cannot be read ("Unknown"): kept whole for review, never in
-- tax_years / account_activity (their unique keys need a year).
CREATE TABLE IF NOT EXISTS public.at_unplaced_records (
    case_id           text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    record_index      integer NOT NULL,
    raw_tax_year      text,
    owner             text,
    source_file       text,
    transaction_count integer NOT NULL,
    reason            text NOT NULL,
    record            jsonb NOT NULL,
    bronze_id         uuid REFERENCES public.bronze_at_raw (bronze_id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, record_index)
);

-- One row per merged suspension interval of a tax period (and owner).
CREATE TABLE IF NOT EXISTS public.csed_tolling_events (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year     integer NOT NULL,
    owner        text NOT NULL DEFAULT 'TP',
    event_type   text NOT NULL,          -- one event type, or several joined by '+' when merged
    start_date   date NOT NULL,
    end_date     date,                   -- NULL: still open
    days         integer,                -- (end - start) + 1; NULL while open
    rule         text NOT NULL,
    citation     text NOT NULL,
    source_codes text NOT NULL,          -- e.g. '520 cc 67 (2019-01-10) / 521 (2019-08-01)'
    confidence   text NOT NULL,
    bronze_id    uuid REFERENCES public.bronze_at_raw (bronze_id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT csed_tolling_events_tax_year_fk FOREIGN KEY (case_id, tax_year)
        REFERENCES public.tax_years (case_id, tax_year) ON DELETE CASCADE,
    CONSTRAINT csed_tolling_events_natural_key UNIQUE (case_id, tax_year, owner, start_date),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

-- One row per assessment (an assessment code with an amount > 0 and a date).
CREATE TABLE IF NOT EXISTS public.csed_assessments (
    activity_id       uuid PRIMARY KEY REFERENCES public.account_activity (id) ON DELETE CASCADE,
    case_id           text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year          integer NOT NULL,
    owner             text NOT NULL,
    transaction_code  text NOT NULL,
    assessment_date   date NOT NULL,
    amount            numeric(15, 2) NOT NULL,
    base_csed_date    date NOT NULL,
    suspended_days    integer NOT NULL,
    floor_date        date,              -- CDP floor that raised the CSED, if any
    override_date     date,              -- TC 550 printed CSED, if any
    csed_date         date,              -- NULL while suspended_open
    minimum_csed_date date NOT NULL,     -- = csed_date, or the CSED if the open event closed today
    csed_status       text NOT NULL CHECK (csed_status IN ('running', 'expired', 'suspended_open')),
    bronze_id         uuid REFERENCES public.bronze_at_raw (bronze_id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT csed_assessments_tax_year_fk FOREIGN KEY (case_id, tax_year)
        REFERENCES public.tax_years (case_id, tax_year) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS csed_assessments_case_idx ON public.csed_assessments (case_id, tax_year);

-- Tax-return transcript lines (both upstream mapping generations, upstream-apis.md 2.7).
-- SSNs are reduced to their last four digits.
CREATE TABLE IF NOT EXISTS public.trt_records (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id           text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year          integer,
    response_date     date,
    form_number       text,
    tax_period_ending date,
    primary_ssn_last4 text,
    spouse_ssn_last4  text,
    type              text,
    category          text,
    sub_category      text,
    line_number       text,
    description       text,
    data              text,
    numeric_value     numeric(15, 2),
    occurrence        integer NOT NULL,
    record_index      integer NOT NULL,
    bronze_id         uuid REFERENCES public.bronze_trt_raw (bronze_id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trt_records_natural_key UNIQUE NULLS NOT DISTINCT
        (case_id, tax_year, tax_period_ending, form_number, line_number, sub_category, description, occurrence)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.tax_years, public.account_activity, public.at_unplaced_records,
    public.csed_tolling_events, public.csed_assessments, public.trt_records TO service_role;

-- ---------------------------------------------------------------------------------------
-- AT payload shape (upstream-apis.md 2.4). Unknown shapes RAISE with a clear message.

-- A payload's records, for AT and TRT alike: the first of `array_keys` present (an array, or one
-- record object), a bare array, or the whole body as one record when it has any of
-- `record_keys`. Anything else raises a clear error naming `label` (the caller records it).
CREATE OR REPLACE FUNCTION public.md_payload_records(p jsonb, label text, array_keys text[], record_keys text[])
RETURNS TABLE (record_ord integer, rec jsonb) LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    arr jsonb;
    found_key text;
    bad_kind text;
BEGIN
    IF jsonb_typeof(p) = 'array' THEN
        arr := p;
    ELSIF jsonb_typeof(p) = 'object' THEN
        SELECT k INTO found_key FROM unnest(array_keys) WITH ORDINALITY AS u(k, o)
        WHERE p ? k AND jsonb_typeof(p -> k) <> 'null' ORDER BY o LIMIT 1;
        IF found_key IS NOT NULL THEN
            arr := p -> found_key;
            IF jsonb_typeof(arr) = 'object' THEN
                arr := jsonb_build_array(arr);
            ELSIF jsonb_typeof(arr) <> 'array' THEN
                RAISE EXCEPTION '% payload: "%" must be an array of records (or one record object), got a %',
                    label, found_key, jsonb_typeof(arr) USING ERRCODE = 'data_exception';
            END IF;
        ELSIF p ?| record_keys THEN
            arr := jsonb_build_array(p);
        ELSE
            RAISE EXCEPTION '% payload: no record array (%) and not a single record; top-level keys: %',
                label, array_to_string(array_keys, '/'),
                coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(p) AS k), '(none)')
                USING ERRCODE = 'data_exception';
        END IF;
    ELSE
        RAISE EXCEPTION '% payload must be a JSON object or array, got a %', label, jsonb_typeof(p)
            USING ERRCODE = 'data_exception';
    END IF;
    SELECT jsonb_typeof(e) INTO bad_kind FROM jsonb_array_elements(arr) AS e WHERE jsonb_typeof(e) <> 'object' LIMIT 1;
    IF bad_kind IS NOT NULL THEN
        RAISE EXCEPTION '% payload: every record must be an object, found a %', label, bad_kind
            USING ERRCODE = 'data_exception';
    END IF;
    RETURN QUERY SELECT x.o::integer, x.e FROM jsonb_array_elements(arr) WITH ORDINALITY AS x(e, o);
END
$$;

-- AT records: at_records | records | data, or the body itself when it has a year or transactions.
CREATE OR REPLACE FUNCTION public.at_payload_records(p jsonb)
RETURNS TABLE (record_ord integer, rec jsonb) LANGUAGE sql IMMUTABLE AS $$
    SELECT * FROM public.md_payload_records(p, 'AT', ARRAY['at_records', 'records', 'data'],
        ARRAY['tax_year', 'taxYear', 'year', 'period', 'transactions', 'activity', 'account_activity']);
$$;

-- A record's transaction array: transactions | activity | account_activity | data (array only).
CREATE OR REPLACE FUNCTION public.at_record_transactions(rec jsonb)
RETURNS TABLE (txn_ord integer, txn jsonb) LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    arr jsonb;
    found_key text;
    bad_kind text;
BEGIN
    SELECT k INTO found_key FROM unnest(ARRAY['transactions', 'activity', 'account_activity', 'data']) WITH ORDINALITY AS u(k, o)
    WHERE rec ? k AND jsonb_typeof(rec -> k) <> 'null'
      AND (k <> 'data' OR jsonb_typeof(rec -> k) = 'array')
    ORDER BY o LIMIT 1;
    IF found_key IS NULL THEN
        RETURN;
    END IF;
    arr := rec -> found_key;
    IF jsonb_typeof(arr) = 'object' THEN
        arr := jsonb_build_array(arr);
    ELSIF jsonb_typeof(arr) <> 'array' THEN
        RAISE EXCEPTION 'AT record (tax year %): "%" must be an array of transactions, got a %',
            coalesce(public.md_text(public.md_pick(rec, ARRAY['tax_year', 'taxYear', 'year', 'period'])), '?'),
            found_key, jsonb_typeof(arr) USING ERRCODE = 'data_exception';
    END IF;
    SELECT jsonb_typeof(e) INTO bad_kind FROM jsonb_array_elements(arr) AS e WHERE jsonb_typeof(e) <> 'object' LIMIT 1;
    IF bad_kind IS NOT NULL THEN
        RAISE EXCEPTION 'AT record (tax year %): every transaction must be an object, found a %',
            coalesce(public.md_text(public.md_pick(rec, ARRAY['tax_year', 'taxYear', 'year', 'period'])), '?'),
            bad_kind USING ERRCODE = 'data_exception';
    END IF;
    RETURN QUERY SELECT x.o::integer, x.e FROM jsonb_array_elements(arr) WITH ORDINALITY AS x(e, o);
END
$$;

-- A parsed AT record and a parsed transcript line as named types: silver_load_at parses a
-- payload once into arrays of these and hands them to each load step (parsing, ~10 value
-- parsers per line, was most of the AT load; each step used to parse the payload again).
DO $$
BEGIN
    IF to_regtype('public.at_record') IS NULL THEN
        CREATE TYPE public.at_record AS (
            record_ord integer, tax_year integer, raw_tax_year text, owner text, source_file text,
            filing_status_raw text, filed_flag boolean, return_filed_date date, processing_date date,
            adjusted_gross_income numeric, taxable_income numeric, tax_per_return numeric, total_se_tax numeric,
            account_balance numeric, accrued_interest numeric, accrued_penalty numeric, total_balance numeric,
            transaction_count integer, rec jsonb);
    END IF;
    IF to_regtype('public.at_line') IS NULL THEN
        CREATE TYPE public.at_line AS (
            record_ord integer, txn_ord integer, tax_year integer, owner text, activity_date date,
            transaction_code text, transaction_code_raw text, explanation text, amount numeric,
            running_balance numeric, action_code text, closing_code text);
    END IF;
END
$$;

-- One row per AT record with its summary values parsed (tax_year NULL = unreadable year).
CREATE OR REPLACE FUNCTION public.at_parsed_records(p jsonb)
RETURNS TABLE (record_ord integer, tax_year integer, raw_tax_year text, owner text, source_file text,
               filing_status_raw text, filed_flag boolean, return_filed_date date, processing_date date,
               adjusted_gross_income numeric, taxable_income numeric, tax_per_return numeric,
               total_se_tax numeric, account_balance numeric, accrued_interest numeric,
               accrued_penalty numeric, total_balance numeric, transaction_count integer, rec jsonb)
LANGUAGE sql IMMUTABLE AS $$
    SELECT r.record_ord,
           public.md_tax_year(y),
           public.md_text(y),
           CASE WHEN o IS NULL OR o IN ('TP', 'TAXPAYER', 'PRIMARY') THEN 'TP'
                WHEN o IN ('S', 'SP', 'SPOUSE') THEN 'S' ELSE o END,
           public.md_text(public.md_pick(r.rec, ARRAY['source_file', 'sourceFile', 'file_name', 'fileName'])),
           public.md_text(public.md_pick(r.rec, ARRAY['filing_status', 'filingStatus', 'FilingStatus'])),
           public.md_bool(public.md_pick(r.rec, ARRAY['return_filed', 'filed', 'returnFiled', 'status'])),
           public.md_date(public.md_pick(r.rec, ARRAY['return_filed_date', 'returnFiledDate'])),
           public.md_date(public.md_pick(r.rec, ARRAY['processing_date', 'processingDate'])),
           public.md_money(public.md_pick(r.rec, ARRAY['adjusted_gross_income', 'adjustedGrossIncome', 'agi', 'AGI'])),
           public.md_money(public.md_pick(r.rec, ARRAY['taxable_income', 'taxableIncome'])),
           public.md_money(public.md_pick(r.rec, ARRAY['tax_per_return', 'TaxPerReturn', 'taxPerReturn', 'total_tax', 'totalTax'])),
           public.md_money(public.md_pick(r.rec, ARRAY['total_se_tax', 'totalSeTax'])),
           public.md_money(public.md_pick(r.rec, ARRAY['account_balance', 'accountBalance', 'total_balance', 'totalBalance'])),
           public.md_money(public.md_pick(r.rec, ARRAY['accrued_interest', 'accruedInterest'])),
           public.md_money(public.md_pick(r.rec, ARRAY['accrued_penalty', 'accruedPenalty'])),
           public.md_money(public.md_pick(r.rec, ARRAY['total_balance', 'totalBalance'])),
           (SELECT count(*)::integer FROM public.at_record_transactions(r.rec)),
           r.rec
    FROM public.at_payload_records(p) AS r
    -- OFFSET 0: pick once per record, not once per use below
    CROSS JOIN LATERAL (SELECT public.md_pick(r.rec, ARRAY['tax_year', 'taxYear', 'year', 'period', 'TaxYear']) AS y,
                               upper(public.md_text(public.md_pick(r.rec, ARRAY['owner', 'Owner']))) AS o OFFSET 0) AS k;
$$;

-- One row per transaction line of parsed records, parsed (year/owner from its record).
CREATE OR REPLACE FUNCTION public.at_record_lines(p_records public.at_record[])
RETURNS SETOF public.at_line LANGUAGE sql IMMUTABLE AS $$
    SELECT r.record_ord, t.txn_ord, r.tax_year, r.owner,
           public.md_date(public.md_pick(t.txn, ARRAY['date', 'Date', 'transaction_date', 'posted_date', 'activity_date',
                                                      'transactionDate', 'postedDate', 'activityDate'])),
           public.md_tc(c),
           public.md_text(c),
           x.expl,
           public.md_money(public.md_pick(t.txn, ARRAY['amount', 'Amount', 'transaction_amount', 'transactionAmount', 'data'])),
           public.md_money(public.md_pick(t.txn, ARRAY['balance', 'balance_after', 'ending_balance', 'running_balance'])),
           coalesce(public.md_code(public.md_pick(t.txn, ARRAY['action_code', 'actionCode', 'ac', 'AC']), 3),
                    lpad(substring(x.expl FROM '(?i)(?:action code|\mAC)\s*#?:?\s*([0-9]{2,3})\M'), 3, '0')),
           coalesce(public.md_code(public.md_pick(t.txn, ARRAY['closing_code', 'closingCode', 'cc', 'CC']), 2),
                    substring(x.expl FROM '(?i)(?:closing code|\mcc)\s*#?:?\s*([0-9]{2})\M'))
    FROM unnest(p_records) AS r
    CROSS JOIN LATERAL public.at_record_transactions(r.rec) AS t
    -- OFFSET 0: pick once per line, not once per use above
    CROSS JOIN LATERAL (SELECT public.md_pick(t.txn, ARRAY['code', 'Code', 'transaction_code', 'tc', 'transactionCode', 'TC']) AS c,
                               public.md_text(public.md_pick(t.txn, ARRAY['description', 'explanation', 'Explanation',
                                                                          'Description', 'meaning'])) AS expl OFFSET 0) AS x;
$$;

-- The same straight from a payload (for inspection: SELECT * FROM at_parsed_transactions(payload)).
CREATE OR REPLACE FUNCTION public.at_parsed_transactions(p jsonb)
RETURNS SETOF public.at_line LANGUAGE sql IMMUTABLE AS $$
    SELECT * FROM public.at_record_lines(ARRAY(SELECT r::public.at_record FROM public.at_parsed_records(p) AS r));
$$;

-- ---------------------------------------------------------------------------------------
-- Rule lookups (read 006's tables at run time).

-- The TC 971/972 action-code row for a line: by printed AC, else by description pattern.
CREATE OR REPLACE FUNCTION public.at_match_action_code(p_tc text, p_ac text, p_explanation text)
RETURNS TABLE (action_code text, csed_event text, csed_role text, window_length interval,
               indicates_collection_action boolean, csed_effect text, confidence text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF p_tc IS NULL OR p_tc NOT IN ('971', '972') THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT a.action_code, a.csed_event, a.csed_role, a.window_length, a.indicates_collection_action,
               a.csed_effect, a.confidence
        FROM public.tc971_action_codes AS a
        WHERE a.transaction_code = p_tc
          AND ((p_ac IS NOT NULL AND a.action_code = p_ac)
               OR (p_ac IS NULL AND a.description_pattern IS NOT NULL AND coalesce(p_explanation, '') ~* a.description_pattern))
        ORDER BY a.match_priority, a.action_code
        LIMIT 1;
END
$$;

-- The TC 520 closing-code row: by code range, else by description pattern, else the
-- "no closing code printed" default.
CREATE OR REPLACE FUNCTION public.at_match_closing_code(p_cc text, p_explanation text)
RETURNS TABLE (id integer, csed_event text, needs_review boolean, confidence text, meaning text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT c.id, c.csed_event, c.needs_review, c.confidence, c.meaning
        FROM public.tc520_closing_codes AS c
        WHERE (p_cc ~ '^[0-9]+$' AND c.closing_code_from IS NOT NULL AND p_cc::int BETWEEN c.closing_code_from AND c.closing_code_to)
           OR (p_cc IS NULL AND c.closing_code_from IS NULL
               AND (c.description_pattern IS NULL OR coalesce(p_explanation, '') ~* c.description_pattern))
        ORDER BY (c.closing_code_from IS NOT NULL) DESC, (c.description_pattern IS NOT NULL) DESC, c.id
        LIMIT 1;
END
$$;

-- ---------------------------------------------------------------------------------------
-- AT loader: tax_years, account_activity, at_unplaced_records, then the CSED.

CREATE OR REPLACE FUNCTION public.at_load_tax_years(p_case_id text, p_bronze_id uuid, p_records public.at_record[],
                                                    p_lines public.at_line[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH rec AS (
        SELECT * FROM unnest(p_records) WHERE tax_year IS NOT NULL
    ), txn AS (
        SELECT t.tax_year, t.activity_date, t.transaction_code, coalesce(t.explanation, '') AS expl
        FROM unnest(p_lines) AS t WHERE t.tax_year IS NOT NULL
    ), primary_rec AS (  -- the record that supplies the year's summary: taxpayer's first
        SELECT DISTINCT ON (rec.tax_year) rec.*, count(*) OVER (PARTITION BY rec.tax_year) AS n_records,
               bool_or(rec.filed_flag) OVER (PARTITION BY rec.tax_year) AS any_filed_flag
        FROM rec ORDER BY rec.tax_year, (rec.owner = 'TP') DESC, rec.record_ord
    ), from_lines AS (   -- TC 150 text rule (business-rules.md 2.3, 2.7)
        SELECT tax_year,
               bool_or(transaction_code = '150' AND expl !~* 'substitute|\mSFR\M|not filed|no return filed|unfiled|missing return') AS filed_150,
               bool_or(transaction_code = '150' AND expl ~* 'substitute|\mSFR\M') AS is_sfr,
               min(activity_date) FILTER (WHERE transaction_code = '150'
                   AND expl !~* 'substitute|\mSFR\M|not filed|no return filed|unfiled|missing return') AS filed_date
        FROM txn GROUP BY tax_year
    ), upserted AS (
        INSERT INTO public.tax_years AS ty (
            case_id, tax_year, filing_status, filing_status_raw, return_filed, return_filed_source, is_sfr,
            return_filed_date, processing_date, adjusted_gross_income, taxable_income, tax_per_return, total_se_tax,
            account_balance, accrued_interest, accrued_penalty, total_balance, owner, source_file, at_record_count, bronze_id)
        SELECT p_case_id, pr.tax_year, public.at_filing_status(pr.filing_status_raw), pr.filing_status_raw,
               coalesce(pr.filed_flag, pr.any_filed_flag, coalesce(fl.filed_150, false)),
               CASE WHEN coalesce(pr.filed_flag, pr.any_filed_flag) IS NOT NULL THEN 'payload' ELSE 'transactions' END,
               coalesce(fl.is_sfr, false),
               coalesce(pr.return_filed_date, fl.filed_date), pr.processing_date,
               pr.adjusted_gross_income, pr.taxable_income, pr.tax_per_return, pr.total_se_tax,
               pr.account_balance, pr.accrued_interest, pr.accrued_penalty, pr.total_balance,
               pr.owner, pr.source_file, pr.n_records, p_bronze_id
        FROM primary_rec AS pr LEFT JOIN from_lines AS fl USING (tax_year)
        ON CONFLICT (case_id, tax_year) DO UPDATE SET
            filing_status = EXCLUDED.filing_status, filing_status_raw = EXCLUDED.filing_status_raw,
            return_filed = EXCLUDED.return_filed, return_filed_source = EXCLUDED.return_filed_source,
            is_sfr = EXCLUDED.is_sfr, return_filed_date = EXCLUDED.return_filed_date,
            processing_date = EXCLUDED.processing_date, adjusted_gross_income = EXCLUDED.adjusted_gross_income,
            taxable_income = EXCLUDED.taxable_income, tax_per_return = EXCLUDED.tax_per_return,
            total_se_tax = EXCLUDED.total_se_tax, account_balance = EXCLUDED.account_balance,
            accrued_interest = EXCLUDED.accrued_interest, accrued_penalty = EXCLUDED.accrued_penalty,
            total_balance = EXCLUDED.total_balance, owner = EXCLUDED.owner, source_file = EXCLUDED.source_file,
            at_record_count = EXCLUDED.at_record_count, bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (ty.filing_status, ty.filing_status_raw, ty.return_filed, ty.return_filed_source, ty.is_sfr,
               ty.return_filed_date, ty.processing_date, ty.adjusted_gross_income, ty.taxable_income, ty.tax_per_return,
               ty.total_se_tax, ty.account_balance, ty.accrued_interest, ty.accrued_penalty, ty.total_balance, ty.owner,
               ty.source_file, ty.at_record_count)
              IS DISTINCT FROM
              (EXCLUDED.filing_status, EXCLUDED.filing_status_raw, EXCLUDED.return_filed, EXCLUDED.return_filed_source,
               EXCLUDED.is_sfr, EXCLUDED.return_filed_date, EXCLUDED.processing_date, EXCLUDED.adjusted_gross_income,
               EXCLUDED.taxable_income, EXCLUDED.tax_per_return, EXCLUDED.total_se_tax, EXCLUDED.account_balance,
               EXCLUDED.accrued_interest, EXCLUDED.accrued_penalty, EXCLUDED.total_balance, EXCLUDED.owner,
               EXCLUDED.source_file, EXCLUDED.at_record_count)
        -- (bronze_id is lineage, not content: a re-ingested identical year keeps its row untouched.)
        RETURNING 1
    )
    -- Years this AT no longer shows (their lines and CSED rows go with them by cascade).
    DELETE FROM public.tax_years AS ty
    WHERE ty.case_id = p_case_id AND ty.bronze_id IS NOT NULL
      AND ty.tax_year NOT IN (SELECT rec.tax_year FROM rec);
END
$$;

CREATE OR REPLACE FUNCTION public.at_load_activity(p_case_id text, p_bronze_id uuid, p_lines public.at_line[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH numbered AS (
        SELECT t.*, row_number() OVER (PARTITION BY t.tax_year, t.owner, t.record_ord, t.transaction_code,
                                                    t.activity_date, t.amount ORDER BY t.txn_ord)::integer AS occurrence
        FROM unnest(p_lines) AS t WHERE t.tax_year IS NOT NULL
    ), lines AS (  -- a line repeated in a second record of the same year and owner (same PDF twice) counts once
        SELECT DISTINCT ON (tax_year, owner, transaction_code, activity_date, amount, occurrence) *
        FROM numbered ORDER BY tax_year, owner, transaction_code, activity_date, amount, occurrence, record_ord
    ), enriched AS (
        SELECT l.*, r.meaning, r.transaction_type AS rule_type, r.affects_balance AS rule_balance,
               r.is_assessment AS rule_assessment, r.confidence AS rule_conf,
               coalesce(r.indicates_collection_action, false)
                   OR coalesce(l.explanation ~* r.collection_pattern, false)
                   OR coalesce(ac.indicates_collection_action, false) AS collection
        FROM lines AS l
        LEFT JOIN public.at_transaction_rules AS r ON r.code = l.transaction_code
        -- the WHERE skips the lookup call on lines that cannot have an action code (not TC 971/972);
        -- OFFSET 0 keeps the subquery (and so that skip) from being flattened away
        LEFT JOIN LATERAL (SELECT * FROM public.at_match_action_code(l.transaction_code, l.action_code, l.explanation)
                           WHERE l.transaction_code IN ('971', '972') OFFSET 0) AS ac ON true
    ), upserted AS (
        INSERT INTO public.account_activity AS aa (
            case_id, tax_year, owner, activity_date, transaction_code, transaction_code_raw, explanation,
            explanation_source, amount, running_balance, action_code, closing_code, transaction_type, affects_balance, is_assessment,
            indicates_collection_action, rule_confidence, occurrence, line_number, bronze_id)
        SELECT p_case_id, e.tax_year, e.owner, e.activity_date, e.transaction_code, e.transaction_code_raw,
               coalesce(e.explanation, e.meaning),
               CASE WHEN e.explanation IS NOT NULL THEN 'transcript' WHEN e.meaning IS NOT NULL THEN 'rule' END, e.amount, e.running_balance, e.action_code, e.closing_code,
               coalesce(e.rule_type, CASE WHEN e.transaction_code IS NULL THEN 'informational' ELSE 'unknown' END),
               coalesce(e.rule_balance, false), coalesce(e.rule_assessment, false), e.collection, e.rule_conf,
               e.occurrence, e.txn_ord, p_bronze_id
        FROM enriched AS e
        ON CONFLICT ON CONSTRAINT account_activity_natural_key DO UPDATE SET
            transaction_code_raw = EXCLUDED.transaction_code_raw, explanation = EXCLUDED.explanation,
            explanation_source = EXCLUDED.explanation_source, running_balance = EXCLUDED.running_balance, action_code = EXCLUDED.action_code,
            closing_code = EXCLUDED.closing_code, transaction_type = EXCLUDED.transaction_type,
            affects_balance = EXCLUDED.affects_balance, is_assessment = EXCLUDED.is_assessment,
            indicates_collection_action = EXCLUDED.indicates_collection_action,
            rule_confidence = EXCLUDED.rule_confidence, line_number = EXCLUDED.line_number,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (aa.transaction_code_raw, aa.explanation, aa.explanation_source, aa.running_balance, aa.action_code, aa.closing_code,
               aa.transaction_type, aa.affects_balance, aa.is_assessment, aa.indicates_collection_action,
               aa.rule_confidence, aa.line_number)
              IS DISTINCT FROM
              (EXCLUDED.transaction_code_raw, EXCLUDED.explanation, EXCLUDED.explanation_source, EXCLUDED.running_balance, EXCLUDED.action_code,
               EXCLUDED.closing_code, EXCLUDED.transaction_type, EXCLUDED.affects_balance, EXCLUDED.is_assessment,
               EXCLUDED.indicates_collection_action, EXCLUDED.rule_confidence, EXCLUDED.line_number)
        RETURNING 1
    )
    DELETE FROM public.account_activity AS aa
    WHERE aa.case_id = p_case_id
      AND NOT EXISTS (SELECT 1 FROM lines AS l
                      WHERE l.tax_year = aa.tax_year AND l.owner = aa.owner
                        AND l.transaction_code IS NOT DISTINCT FROM aa.transaction_code
                        AND l.activity_date IS NOT DISTINCT FROM aa.activity_date
                        AND l.amount IS NOT DISTINCT FROM aa.amount AND l.occurrence = aa.occurrence);
END
$$;

CREATE OR REPLACE FUNCTION public.at_load_unplaced(p_case_id text, p_bronze_id uuid, p_records public.at_record[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH unplaced AS (
        SELECT * FROM unnest(p_records) WHERE tax_year IS NULL
    ), upserted AS (
        INSERT INTO public.at_unplaced_records AS u (case_id, record_index, raw_tax_year, owner, source_file,
                                                     transaction_count, reason, record, bronze_id)
        SELECT p_case_id, x.record_ord, x.raw_tax_year, x.owner, x.source_file, x.transaction_count,
               'tax year unreadable: ' || coalesce(quote_literal(x.raw_tax_year), 'missing'), x.rec, p_bronze_id
        FROM unplaced AS x
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
    WHERE u.case_id = p_case_id AND u.record_index NOT IN (SELECT record_ord FROM unplaced);
END
$$;

-- Called by 001's promotion machinery with the bronze row to promote.
CREATE OR REPLACE FUNCTION public.silver_load_at(p_bronze_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_case_id text;
    v_payload jsonb;
    v_records public.at_record[];
    v_lines public.at_line[];
BEGIN
    SELECT b.case_id, public.md_detoast(b.raw_response) INTO v_case_id, v_payload
    FROM public.bronze_at_raw AS b WHERE b.bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_at_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    -- parse once; a payload shape the parsers cannot read RAISEs here, before any write
    v_records := ARRAY(SELECT r::public.at_record FROM public.at_parsed_records(v_payload) AS r);
    v_lines := ARRAY(SELECT l FROM public.at_record_lines(v_records) AS l);
    PERFORM public.at_load_tax_years(v_case_id, p_bronze_id, v_records, v_lines);
    PERFORM public.at_load_activity(v_case_id, p_bronze_id, v_lines);
    PERFORM public.at_load_unplaced(v_case_id, p_bronze_id, v_records);
    PERFORM public.csed_refresh(v_case_id);
END
$$;

-- ---------------------------------------------------------------------------------------
-- CSED (irs-domain.md section 1; it governs business-rules.md section 3).

-- Base CSED: assessment date + 10 calendar years; Feb 29 -> Feb 28 (irs-domain 1.1 convention,
-- Postgres date + interval clamps to the month's last day like relativedelta).
CREATE OR REPLACE FUNCTION public.csed_base_date(p_assessment_date date)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_assessment_date + interval '10 years')::date;
$$;

-- Union of date ranges: overlapping or touching ranges merged (IRM 5.1.19.3.7.4(4)b).
-- Closed intervals [s, e] are passed as daterange(s, e, '[]').
CREATE OR REPLACE FUNCTION public.merge_intervals(p_ranges daterange[])
RETURNS SETOF daterange LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT m FROM unnest((SELECT range_agg(r) FROM unnest(p_ranges) AS r WHERE r IS NOT NULL AND NOT isempty(r))) AS m
    ORDER BY lower(m);
$$;

-- One assessment's CSED (irs-domain 1.4):
--   running = assessment + 10 years
--   for each merged suspension [s, e] in date order:
--       s = max(s, assessment + 1); skip if e < s; stop if s > running (no revival);
--       running += e - s + 1
--   floors: each p_floors element daterange(event_start, floor_date, '[]') raises the CSED to
--   floor_date when the event began on/before the running CSED (CDP: TC 521 + 90 days);
--   p_override (TC 550 printed CSED) replaces the result.
-- Open suspensions must be passed closed (the caller ends them "today").
CREATE OR REPLACE FUNCTION public.csed_compute(
    p_assessment_date date, p_suspensions daterange[], p_floors daterange[] DEFAULT '{}', p_override date DEFAULT NULL,
    OUT base_csed_date date, OUT suspended_days integer, OUT suspended_csed_date date,
    OUT floor_date date, OUT csed_date date)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    r daterange;
    s date;
    e date;
BEGIN
    IF p_assessment_date IS NULL THEN
        RETURN;
    END IF;
    base_csed_date := public.csed_base_date(p_assessment_date);
    suspended_csed_date := base_csed_date;
    suspended_days := 0;
    FOR r IN SELECT m FROM public.merge_intervals(p_suspensions) AS m LOOP
        IF lower_inf(r) OR upper_inf(r) THEN
            RAISE EXCEPTION 'csed_compute: suspension % is unbounded; close open intervals first', r;
        END IF;
        s := greatest(lower(r), p_assessment_date + 1);
        e := upper(r) - 1;
        CONTINUE WHEN e < s;
        EXIT WHEN s > suspended_csed_date;
        suspended_csed_date := suspended_csed_date + (e - s + 1);
        suspended_days := suspended_days + (e - s + 1);
    END LOOP;
    SELECT max(upper(f) - 1) INTO floor_date FROM unnest(p_floors) AS f
    WHERE f IS NOT NULL AND NOT isempty(f) AND lower(f) <= suspended_csed_date AND upper(f) - 1 > suspended_csed_date;
    csed_date := coalesce(p_override, floor_date, suspended_csed_date);
END
$$;

-- A CSED event and a suspension interval as named types: csed_refresh computes a case's events
-- and intervals once and hands them to each refresh step (each step used to recompute them:
-- four event classifications and two interval pairings per refresh).
DO $$
BEGIN
    IF to_regtype('public.csed_event') IS NULL THEN
        CREATE TYPE public.csed_event AS (
            activity_id uuid, tax_year integer, owner text, pos bigint, activity_date date, transaction_code text,
            action_code text, closing_code text, family text, event_type text, role text, rule_tail interval,
            window_length interval, printed_date date, confidence text, review_note text);
    END IF;
    IF to_regtype('public.csed_interval') IS NULL THEN
        CREATE TYPE public.csed_interval AS (
            tax_year integer, owner text, event_type text, start_date date, close_date date, end_date date,
            open_end_date date, floor_date date, suspends boolean, rule text, citation text, source_codes text,
            confidence text);
    END IF;
END
$$;

-- CSED-relevant events of a case's transcript lines, classified by the rule tables.
-- family groups codes that open/close each other; role: open, close, cancel, window, review, extend.
CREATE OR REPLACE FUNCTION public.csed_events(p_case_id text)
RETURNS TABLE (activity_id uuid, tax_year integer, owner text, pos bigint, activity_date date,
               transaction_code text, action_code text, closing_code text, family text, event_type text,
               role text, rule_tail interval, window_length interval, printed_date date,
               confidence text, review_note text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH lines AS (
        SELECT a.*, r.csed_event AS r_event, r.csed_role AS r_role, r.close_tail, r.close_tail_unless,
               r.confidence AS r_conf,
               CASE WHEN a.explanation_source = 'transcript' THEN a.explanation END AS printed
        FROM public.account_activity AS a
        JOIN public.at_transaction_rules AS r ON r.code = a.transaction_code
        WHERE a.case_id = p_case_id AND r.csed_role IS NOT NULL AND r.csed_role <> 'expired'
    ), classified AS (
        SELECT l.id, l.tax_year, l.owner, l.activity_date, l.line_number, l.transaction_code,
               coalesce(l.action_code, ac.action_code) AS action_code, l.closing_code,
               CASE WHEN l.r_role = 'by_closing_code' THEN 'legal'
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_event
                    WHEN l.r_role = 'extend' THEN 'extension'
                    ELSE l.r_event END AS family,
               CASE WHEN l.r_role = 'by_closing_code' AND (l.transaction_code = '520' OR l.closing_code IS NOT NULL)
                        THEN cc.csed_event
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_event
                    WHEN l.r_role IN ('open', 'close', 'cancel') THEN l.r_event END AS event_type,
               CASE WHEN l.r_role = 'by_closing_code'
                        THEN CASE l.transaction_code WHEN '520' THEN 'open' WHEN '521' THEN 'close' WHEN '522' THEN 'cancel' END
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_role
                    ELSE l.r_role END AS role,
               CASE WHEN l.r_role = 'close' AND l.close_tail IS NOT NULL
                         AND NOT (l.explanation_source = 'transcript' AND coalesce(l.explanation ~* l.close_tail_unless, false))
                        THEN l.close_tail END AS rule_tail,
               ac.window_length,
               CASE WHEN l.r_role = 'extend' THEN public.md_date(to_jsonb(substring(l.explanation
                    FROM '([0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})'))) END AS printed_date,
               CASE WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' THEN cc.confidence
                    WHEN l.r_role = 'by_action_code' THEN ac.confidence ELSE l.r_conf END AS confidence,
               CASE WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' AND cc.id IS NULL
                        THEN format('TC 520 closing code %s is not in tc520_closing_codes: not tolled', l.closing_code)
                    WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' AND cc.needs_review
                        THEN format('TC 520 %s on %s read as %s (%s): %s', coalesce('cc ' || l.closing_code, 'without closing code'),
                                    l.activity_date, cc.csed_event, cc.confidence || ' confidence', cc.meaning)
                    WHEN l.r_role = 'by_action_code' AND ac.csed_role = 'review'
                        THEN format('TC %s AC %s on %s: %s', l.transaction_code, ac.action_code, l.activity_date, ac.csed_effect)
                    WHEN l.r_role = 'extend' AND public.md_date(to_jsonb(substring(l.explanation
                             FROM '([0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})'))) IS NULL
                        THEN format('TC 550 on %s prints no readable CSED: computed CSED kept', l.activity_date)
                    WHEN l.activity_date IS NULL
                        THEN format('TC %s without a date: ignored for the CSED', l.transaction_code)
               END AS review_note
        FROM lines AS l
        -- each WHERE skips a lookup call whose result the line cannot use (OFFSET 0: see at_load_activity)
        LEFT JOIN LATERAL (SELECT * FROM public.at_match_action_code(l.transaction_code, l.action_code, l.printed)
                           WHERE l.transaction_code IN ('971', '972') OFFSET 0) AS ac ON true
        LEFT JOIN LATERAL (SELECT * FROM public.at_match_closing_code(l.closing_code, l.printed)
                           WHERE l.r_role = 'by_closing_code' OFFSET 0) AS cc ON true
    )
    SELECT c.id, c.tax_year, c.owner,
           row_number() OVER (PARTITION BY c.tax_year, c.owner ORDER BY c.activity_date, c.line_number, c.id),
           c.activity_date, c.transaction_code, c.action_code, c.closing_code, c.family, c.event_type, c.role,
           c.rule_tail, c.window_length, c.printed_date, c.confidence, c.review_note
    FROM classified AS c
    WHERE c.role IS NOT NULL OR c.review_note IS NOT NULL;
END
$$;

-- Suspension intervals of a case before merging: each open event paired with the first
-- closing event of its family after it (a TC 521/522 without a closing code closes/cancels
-- any legal action); a cancel (TC 483/522) removes the nearest open before it.
-- end_date NULL = still open; open_end_date = its end "if it closed today" (as_of + tail).
CREATE OR REPLACE FUNCTION public.csed_intervals_of(p_events public.csed_event[], p_as_of date)
RETURNS SETOF public.csed_interval
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH ev AS (
        SELECT * FROM unnest(p_events) WHERE activity_date IS NOT NULL AND role IS NOT NULL
    ), opens AS (
        SELECT o.* FROM ev AS o
        WHERE o.role IN ('open', 'review')
          AND NOT EXISTS (
              SELECT 1 FROM ev AS x
              WHERE x.role = 'cancel' AND x.tax_year = o.tax_year AND x.owner = o.owner AND x.family = o.family
                AND (x.event_type IS NULL OR x.event_type = o.event_type) AND x.pos > o.pos
                AND NOT EXISTS (SELECT 1 FROM ev AS o2
                                WHERE o2.role = 'open' AND o2.tax_year = o.tax_year AND o2.owner = o.owner
                                  AND o2.family = o.family AND (x.event_type IS NULL OR x.event_type = o2.event_type)
                                  AND o2.pos > o.pos AND o2.pos < x.pos))
    ), paired AS (
        SELECT o.tax_year, o.owner, o.event_type, o.activity_date AS start_date, c.activity_date AS close_date,
               c.rule_tail, o.confidence,
               format('%s%s%s (%s)', o.transaction_code, ' AC ' || o.action_code,
                      ' cc ' || o.closing_code, o.activity_date)
               || CASE WHEN c.activity_date IS NOT NULL
                       THEN format(' / %s%s (%s)', c.transaction_code, ' AC ' || c.action_code, c.activity_date) ELSE '' END
                   AS source_codes
        FROM opens AS o
        LEFT JOIN LATERAL (
            SELECT c.* FROM ev AS c
            WHERE c.role = 'close' AND c.tax_year = o.tax_year AND c.owner = o.owner AND c.family = o.family
              AND (c.event_type IS NULL OR c.event_type = o.event_type) AND c.pos > o.pos
            ORDER BY c.pos LIMIT 1) AS c ON o.role = 'open'
        UNION ALL
        SELECT w.tax_year, w.owner, w.event_type, w.activity_date, w.activity_date, w.window_length, w.confidence,
               format('%s%s (%s)', w.transaction_code, ' AC ' || w.action_code, w.activity_date)
        FROM ev AS w WHERE w.role = 'window'
    )
    SELECT p.tax_year, p.owner, p.event_type, p.start_date, p.close_date,
           (p.close_date + coalesce(p.rule_tail, interval '0 days') + et.close_tail)::date,
           greatest(p.start_date, (p_as_of + et.close_tail)::date),
           (coalesce(p.close_date, greatest(p.start_date, p_as_of)) + et.floor_after_close)::date,
           et.suspends, et.rule, et.citation, p.source_codes, p.confidence
    FROM paired AS p JOIN public.csed_event_types AS et ON et.event_type = p.event_type;
END
$$;

-- Recompute a case's CSED rows from its account_activity (no bronze re-read). silver_load_at
-- calls it; call it again (e.g. daily) to move 'running' to 'expired' as time passes.
-- The same for a case (for inspection: SELECT * FROM csed_intervals(case_id)).
CREATE OR REPLACE FUNCTION public.csed_intervals(p_case_id text, p_as_of date DEFAULT public.csed_as_of())
RETURNS SETOF public.csed_interval LANGUAGE sql STABLE AS $$
    SELECT * FROM public.csed_intervals_of(ARRAY(SELECT e::public.csed_event FROM public.csed_events(p_case_id) AS e),
                                           p_as_of);
$$;

CREATE OR REPLACE FUNCTION public.csed_refresh(p_case_id text, p_as_of date DEFAULT public.csed_as_of())
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_events public.csed_event[] := ARRAY(SELECT e::public.csed_event FROM public.csed_events(p_case_id) AS e);
    v_suspensions public.csed_interval[] := ARRAY(SELECT i FROM public.csed_intervals_of(v_events, p_as_of) AS i
                                                  WHERE i.suspends);
BEGIN
    PERFORM public.csed_refresh_tolling(p_case_id, v_suspensions);
    PERFORM public.csed_refresh_assessments(p_case_id, p_as_of, v_suspensions, v_events);
    PERFORM public.csed_refresh_tax_years(p_case_id, p_as_of, v_events);
END
$$;

CREATE OR REPLACE FUNCTION public.csed_refresh_tolling(p_case_id text, p_suspensions public.csed_interval[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH iv AS (
        SELECT * FROM unnest(p_suspensions)
    ), merged AS (
        SELECT m.tax_year, m.owner, unnest(range_agg(daterange(m.start_date, m.end_date, '[]'))) AS r
        FROM iv AS m GROUP BY m.tax_year, m.owner
    ), labelled AS (
        SELECT m.tax_year, m.owner, lower(m.r) AS start_date,
               CASE WHEN upper_inf(m.r) THEN NULL ELSE upper(m.r) - 1 END AS end_date,
               string_agg(DISTINCT i.event_type, '+') AS event_type,
               string_agg(DISTINCT i.rule, ' | ') AS rule,
               string_agg(DISTINCT i.citation, ' | ') AS citation,
               string_agg(i.source_codes, ', ' ORDER BY i.start_date, i.source_codes) AS source_codes,
               CASE min(CASE i.confidence WHEN 'unverified' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)
                    WHEN 0 THEN 'unverified' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' ELSE 'high' END AS confidence
        FROM merged AS m
        JOIN iv AS i ON i.tax_year = m.tax_year AND i.owner = m.owner
                    AND daterange(i.start_date, i.end_date, '[]') && m.r
        GROUP BY m.tax_year, m.owner, m.r
    ), upserted AS (
        INSERT INTO public.csed_tolling_events AS t (case_id, tax_year, owner, event_type, start_date, end_date, days,
                                                     rule, citation, source_codes, confidence, bronze_id)
        SELECT p_case_id, l.tax_year, l.owner, l.event_type, l.start_date, l.end_date, l.end_date - l.start_date + 1,
               l.rule, l.citation, l.source_codes, l.confidence,
               (SELECT ty.bronze_id FROM public.tax_years AS ty WHERE ty.case_id = p_case_id AND ty.tax_year = l.tax_year)
        FROM labelled AS l
        ON CONFLICT ON CONSTRAINT csed_tolling_events_natural_key DO UPDATE SET
            event_type = EXCLUDED.event_type, end_date = EXCLUDED.end_date, days = EXCLUDED.days, rule = EXCLUDED.rule,
            citation = EXCLUDED.citation, source_codes = EXCLUDED.source_codes, confidence = EXCLUDED.confidence,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (t.event_type, t.end_date, t.days, t.rule, t.citation, t.source_codes, t.confidence)
              IS DISTINCT FROM (EXCLUDED.event_type, EXCLUDED.end_date, EXCLUDED.days, EXCLUDED.rule,
                                EXCLUDED.citation, EXCLUDED.source_codes, EXCLUDED.confidence)
        RETURNING 1
    )
    DELETE FROM public.csed_tolling_events AS t
    WHERE t.case_id = p_case_id
      AND NOT EXISTS (SELECT 1 FROM labelled AS l
                      WHERE l.tax_year = t.tax_year AND l.owner = t.owner AND l.start_date = t.start_date);
END
$$;

CREATE OR REPLACE FUNCTION public.csed_refresh_assessments(p_case_id text, p_as_of date,
                                                           p_suspensions public.csed_interval[],
                                                           p_events public.csed_event[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH iv AS (
        SELECT * FROM unnest(p_suspensions)
    ), ext AS (
        SELECT * FROM unnest(p_events) WHERE role = 'extend' AND printed_date IS NOT NULL
    ), calc AS (
        SELECT a.id, a.tax_year, a.owner, a.transaction_code, a.activity_date, a.amount, a.bronze_id, ov.printed_date, c.*,
               EXISTS (SELECT 1 FROM iv
                       WHERE iv.tax_year = a.tax_year AND iv.owner = a.owner AND iv.end_date IS NULL
                         AND greatest(iv.start_date, a.activity_date + 1) <= c.suspended_csed_date) AS is_open
        FROM public.account_activity AS a
        LEFT JOIN LATERAL (SELECT x.printed_date FROM ext AS x
                           WHERE x.tax_year = a.tax_year AND x.owner = a.owner AND x.activity_date >= a.activity_date
                           ORDER BY x.pos DESC LIMIT 1) AS ov ON true
        CROSS JOIN LATERAL public.csed_compute(
            a.activity_date,
            ARRAY(SELECT daterange(iv.start_date, coalesce(iv.end_date, iv.open_end_date), '[]') FROM iv
                  WHERE iv.tax_year = a.tax_year AND iv.owner = a.owner),
            ARRAY(SELECT daterange(iv.start_date, iv.floor_date, '[]') FROM iv
                  WHERE iv.tax_year = a.tax_year AND iv.owner = a.owner AND iv.floor_date IS NOT NULL),
            ov.printed_date) AS c
        WHERE a.case_id = p_case_id AND a.is_assessment AND a.amount > 0 AND a.activity_date IS NOT NULL
    ), upserted AS (
        INSERT INTO public.csed_assessments AS ca (activity_id, case_id, tax_year, owner, transaction_code, assessment_date,
            amount, base_csed_date, suspended_days, floor_date, override_date, csed_date, minimum_csed_date,
            csed_status, bronze_id)
        SELECT x.id, p_case_id, x.tax_year, x.owner, x.transaction_code, x.activity_date, x.amount, x.base_csed_date,
               x.suspended_days, x.floor_date, x.printed_date,
               CASE WHEN x.is_open THEN NULL ELSE x.csed_date END, x.csed_date,
               CASE WHEN x.is_open THEN 'suspended_open' WHEN x.csed_date < p_as_of THEN 'expired' ELSE 'running' END,
               x.bronze_id
        FROM calc AS x
        ON CONFLICT (activity_id) DO UPDATE SET
            tax_year = EXCLUDED.tax_year, owner = EXCLUDED.owner, transaction_code = EXCLUDED.transaction_code,
            assessment_date = EXCLUDED.assessment_date, amount = EXCLUDED.amount,
            base_csed_date = EXCLUDED.base_csed_date, suspended_days = EXCLUDED.suspended_days,
            floor_date = EXCLUDED.floor_date, override_date = EXCLUDED.override_date, csed_date = EXCLUDED.csed_date,
            minimum_csed_date = EXCLUDED.minimum_csed_date, csed_status = EXCLUDED.csed_status,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (ca.tax_year, ca.owner, ca.transaction_code, ca.assessment_date, ca.amount, ca.base_csed_date,
               ca.suspended_days, ca.floor_date, ca.override_date, ca.csed_date, ca.minimum_csed_date, ca.csed_status)
              IS DISTINCT FROM
              (EXCLUDED.tax_year, EXCLUDED.owner, EXCLUDED.transaction_code, EXCLUDED.assessment_date, EXCLUDED.amount,
               EXCLUDED.base_csed_date, EXCLUDED.suspended_days, EXCLUDED.floor_date, EXCLUDED.override_date,
               EXCLUDED.csed_date, EXCLUDED.minimum_csed_date, EXCLUDED.csed_status)
        RETURNING 1
    )
    DELETE FROM public.csed_assessments AS ca
    WHERE ca.case_id = p_case_id AND ca.activity_id NOT IN (SELECT id FROM calc);
END
$$;

-- The period summary. csed_date = the LATEST assessment CSED of the year (irs-domain 1.2: the
-- module's reported CSED is the latest among assessments with an unpaid balance; per-assessment
-- unpaid balances are not on the AT, so every assessment counts). earliest_csed_date keeps
-- the earliest one (payments apply to the earliest-CSED assessment first, IRM 5.1.19.4).
CREATE OR REPLACE FUNCTION public.csed_refresh_tax_years(p_case_id text, p_as_of date, p_events public.csed_event[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH agg AS (
        SELECT ty.id, count(ca.activity_id) AS n,
               bool_or(ca.csed_status = 'suspended_open') AS any_open,
               max(ca.base_csed_date) AS base_csed, max(ca.csed_date) AS latest_csed,
               min(ca.minimum_csed_date) AS earliest_csed, max(ca.minimum_csed_date) AS latest_min
        FROM public.tax_years AS ty
        LEFT JOIN public.csed_assessments AS ca ON ca.case_id = ty.case_id AND ca.tax_year = ty.tax_year
        WHERE ty.case_id = p_case_id
        GROUP BY ty.id
    ), notes AS (
        SELECT e.tax_year, array_agg(DISTINCT e.review_note ORDER BY e.review_note) AS review_notes
        FROM (SELECT tax_year, review_note FROM unnest(p_events) WHERE review_note IS NOT NULL
              UNION ALL
              SELECT a.tax_year, format('TC %s assessment of %s without a date: no CSED computed', a.transaction_code, a.amount)
              FROM public.account_activity AS a
              WHERE a.case_id = p_case_id AND a.is_assessment AND a.amount > 0 AND a.activity_date IS NULL) AS e
        GROUP BY e.tax_year
    ), summary AS (
        SELECT ty.id,
               agg.base_csed,
               CASE WHEN agg.any_open THEN NULL ELSE agg.latest_csed END AS csed_date,
               agg.earliest_csed,
               agg.latest_min AS minimum_csed,
               CASE WHEN agg.n = 0 THEN 'no_assessment' WHEN agg.any_open THEN 'suspended_open'
                    WHEN agg.latest_csed < p_as_of THEN 'expired' ELSE 'running' END AS status,
               coalesce(notes.review_notes, '{}') AS review_notes
        FROM public.tax_years AS ty JOIN agg ON agg.id = ty.id LEFT JOIN notes ON notes.tax_year = ty.tax_year
    )
    UPDATE public.tax_years AS ty SET
        base_csed_date = s.base_csed, csed_date = s.csed_date, earliest_csed_date = s.earliest_csed,
        minimum_csed_date = s.minimum_csed, csed_status = s.status, csed_review_notes = s.review_notes,
        updated_at = now()
    FROM summary AS s
    WHERE ty.id = s.id
      AND (ty.base_csed_date, ty.csed_date, ty.earliest_csed_date, ty.minimum_csed_date, ty.csed_status, ty.csed_review_notes)
          IS DISTINCT FROM (s.base_csed, s.csed_date, s.earliest_csed, s.minimum_csed, s.status, s.review_notes);
END
$$;

-- ---------------------------------------------------------------------------------------
-- TRT loader (upstream-apis.md 2.7, both mapping generations).

-- TRT records: records | trt_records | data | documents, or the body itself when it looks like
-- one record.
CREATE OR REPLACE FUNCTION public.trt_payload_records(p jsonb)
RETURNS TABLE (record_ord integer, rec jsonb) LANGUAGE sql IMMUTABLE AS $$
    SELECT * FROM public.md_payload_records(p, 'TRT', ARRAY['records', 'trt_records', 'data', 'documents'],
        ARRAY['form_number', 'formNumber', 'Form Number', 'form', 'tax_period_ending', 'taxPeriodEnding']);
$$;

CREATE OR REPLACE FUNCTION public.trt_parsed_records(p jsonb)
RETURNS TABLE (record_ord integer, tax_year integer, response_date date, form_number text, tax_period_ending date,
               primary_ssn_last4 text, spouse_ssn_last4 text, type text, category text, sub_category text,
               line_number text, description text, data text, numeric_value numeric)
LANGUAGE sql IMMUTABLE AS $$
    SELECT r.record_ord,
           coalesce(public.md_tax_year(public.md_pick(r.rec, ARRAY['year', 'Year', 'tax_year', 'taxYear', 'Tax Year'])),
                    extract(year FROM f.tpe)::integer),
           public.md_date(public.md_pick(r.rec, ARRAY['response_date', 'responseDate', 'Response Date'])),
           public.md_text(public.md_pick(r.rec, ARRAY['form_number', 'formNumber', 'Form Number', 'form', 'schedule'])),
           f.tpe,
           right(regexp_replace(public.md_text(public.md_pick(r.rec, ARRAY['primary_ssn', 'primarySSN', 'Primary SSN'])), '[^0-9]', '', 'g'), 4),
           right(regexp_replace(public.md_text(public.md_pick(r.rec, ARRAY['spouse_ssn', 'spouseSSN', 'Spouse SSN'])), '[^0-9]', '', 'g'), 4),
           public.md_text(public.md_pick(r.rec, ARRAY['type', 'Type'])),
           public.md_text(public.md_pick(r.rec, ARRAY['category', 'Category'])),
           public.md_text(public.md_pick(r.rec, ARRAY['sub_category', 'subCategory', 'Sub Category', 'subcategory'])),
           public.md_text(public.md_pick(r.rec, ARRAY['line_number', 'lineNumber', 'line', 'Line Number'])),
           public.md_text(public.md_pick(r.rec, ARRAY['description', 'Description', 'label'])),
           public.md_text(f.val),
           public.md_money(f.val)
    FROM public.trt_payload_records(p) AS r
    CROSS JOIN LATERAL (SELECT public.md_date(public.md_pick(r.rec, ARRAY['tax_period_ending', 'taxPeriodEnding',
                                                                          'Tax Period Ending'])) AS tpe,
                               public.md_pick(r.rec, ARRAY['data', 'Data', 'amount', 'Amount', 'value', 'Value']) AS val
                        OFFSET 0) AS f;  -- once per record, not once per use
$$;

CREATE OR REPLACE FUNCTION public.silver_load_trt(p_bronze_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_case_id text;
    v_payload jsonb;
BEGIN
    SELECT b.case_id, public.md_detoast(b.raw_response) INTO v_case_id, v_payload
    FROM public.bronze_trt_raw AS b WHERE b.bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_trt_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    WITH parsed AS (
        SELECT t.*, row_number() OVER (PARTITION BY t.tax_year, t.tax_period_ending, t.form_number, t.line_number,
                                                    t.sub_category, t.description ORDER BY t.record_ord)::integer AS occurrence
        FROM public.trt_parsed_records(v_payload) AS t
    ), upserted AS (
        INSERT INTO public.trt_records AS tr (case_id, tax_year, response_date, form_number, tax_period_ending,
            primary_ssn_last4, spouse_ssn_last4, type, category, sub_category, line_number, description, data,
            numeric_value, occurrence, record_index, bronze_id)
        SELECT v_case_id, x.tax_year, x.response_date, x.form_number, x.tax_period_ending,
               nullif(x.primary_ssn_last4, ''), nullif(x.spouse_ssn_last4, ''), x.type, x.category, x.sub_category,
               x.line_number, x.description, x.data, x.numeric_value, x.occurrence, x.record_ord, p_bronze_id
        FROM parsed AS x
        ON CONFLICT ON CONSTRAINT trt_records_natural_key DO UPDATE SET
            response_date = EXCLUDED.response_date, primary_ssn_last4 = EXCLUDED.primary_ssn_last4,
            spouse_ssn_last4 = EXCLUDED.spouse_ssn_last4, type = EXCLUDED.type, category = EXCLUDED.category,
            data = EXCLUDED.data, numeric_value = EXCLUDED.numeric_value, record_index = EXCLUDED.record_index,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (tr.response_date, tr.primary_ssn_last4, tr.spouse_ssn_last4, tr.type, tr.category, tr.data,
               tr.numeric_value, tr.record_index)
              IS DISTINCT FROM (EXCLUDED.response_date, EXCLUDED.primary_ssn_last4, EXCLUDED.spouse_ssn_last4,
                                EXCLUDED.type, EXCLUDED.category, EXCLUDED.data, EXCLUDED.numeric_value,
                                EXCLUDED.record_index)
        RETURNING 1
    )
    DELETE FROM public.trt_records AS tr
    WHERE tr.case_id = v_case_id
      AND NOT EXISTS (SELECT 1 FROM parsed AS x
                      WHERE x.tax_year IS NOT DISTINCT FROM tr.tax_year
                        AND x.tax_period_ending IS NOT DISTINCT FROM tr.tax_period_ending
                        AND x.form_number IS NOT DISTINCT FROM tr.form_number
                        AND x.line_number IS NOT DISTINCT FROM tr.line_number
                        AND x.sub_category IS NOT DISTINCT FROM tr.sub_category
                        AND x.description IS NOT DISTINCT FROM tr.description
                        AND x.occurrence = tr.occurrence);
END
$$;

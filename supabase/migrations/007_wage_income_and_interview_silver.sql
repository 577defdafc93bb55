-- Silver for W&I (income_documents) and the interview (logiqs_raw_data), their loaders
-- silver_load_wi(bronze_id) / silver_load_interview(bronze_id) called by 001's promotion
-- trigger, and the statement-level silver -> gold triggers (functions in 003).
--
-- Loader contract (001): replace everything the case holds from this source with what the
-- given bronze row says; loading the same row twice changes nothing; an unreadable payload
-- RAISEs with a clear message (the caller records it and the bronze row stays).
-- Shapes tolerated: upstream-apis.md 2.5 (W&I: years_data{year: [forms]} and
-- {year: {forms}}, flat forms/data/wi_forms/documents/income_documents, every form-level key
-- variant, "Unknown" years) and 3.3 (interview variants A-D, numbers as numeric strings).
-- Reference tables (wi_type_rules ...) come from 008; bodies resolve at run time.
SET LOCAL check_function_bodies = off;

-- ---------------------------------------------------------------------------------------
-- Value helpers

-- Field-label key: case and punctuation insensitive ('Wages, Tips, and Other Compensation').
CREATE OR REPLACE FUNCTION public.md_label_key(p text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT public.md_synonym_key(p);
$$;

-- A form's box values as one object. Accepts Fields / fields / FormFields as an object, or an
-- array of {Name|Label|name|label|key, Value|Amount|value|amount} pairs.
-- (plpgsql: the object case returns at once; a SQL function with FROM is not inlined.)
CREATE OR REPLACE FUNCTION public.md_fields(form jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    f jsonb := public.md_pick(form, ARRAY['Fields', 'fields', 'FormFields', 'form_fields']);
BEGIN
    CASE jsonb_typeof(f)
        WHEN 'object' THEN RETURN f;
        WHEN 'array' THEN RETURN coalesce((
            SELECT jsonb_object_agg(k, v)
            FROM (SELECT public.md_text(public.md_pick(e, ARRAY['Name', 'Label', 'name', 'label', 'key', 'Key'])) AS k,
                         public.md_pick(e, ARRAY['Value', 'Amount', 'value', 'amount']) AS v
                  FROM jsonb_array_elements(f) AS e WHERE jsonb_typeof(e) = 'object') AS pairs
            WHERE k IS NOT NULL AND v IS NOT NULL), '{}'::jsonb);
        ELSE RETURN '{}'::jsonb;
    END CASE;
END
$$;

-- A form's fields indexed by label key: {md_label_key(label): value}, scalar values only; of
-- two labels with one key the first in label order wins. Built once per form, so each box
-- lookup below is one jsonb key access instead of a scan of every field (the scan, run per box
-- group, was most of the W&I load time).
CREATE OR REPLACE FUNCTION public.md_field_index(fields jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF jsonb_typeof(fields) IS DISTINCT FROM 'object' THEN
        RETURN '{}'::jsonb;
    END IF;
    -- jsonb keeps the last of duplicate keys: aggregate in descending label order
    RETURN coalesce((
        SELECT jsonb_object_agg(lk.k, f.value ORDER BY f.key DESC)
        FROM jsonb_each(fields) AS f
        CROSS JOIN LATERAL (SELECT public.md_label_key(f.key) AS k) AS lk
        WHERE lk.k IS NOT NULL AND jsonb_typeof(f.value) NOT IN ('null', 'object', 'array')), '{}'::jsonb);
END
$$;

-- The value of the first label of a synonym group ('A|B|C') present in an md_field_index.
CREATE OR REPLACE FUNCTION public.md_indexed_value(field_index jsonb, label_group text)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    label text;
    value jsonb;
BEGIN
    IF label_group IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH label IN ARRAY string_to_array(ltrim(label_group, '-'), '|') LOOP
        value := field_index -> public.md_label_key(label);
        IF value IS NOT NULL THEN
            RETURN value;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Sum over box groups of an md_field_index (a leading '-' subtracts). NULL when no group is
-- present at all, so a caller can tell "no breakdown" from "zero".
CREATE OR REPLACE FUNCTION public.md_indexed_sum(field_index jsonb, label_groups text[])
RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    grp text;
    value numeric;
    total numeric;
BEGIN
    FOREACH grp IN ARRAY coalesce(label_groups, '{}') LOOP
        value := public.md_numeric(public.md_indexed_value(field_index, grp));
        IF value IS NOT NULL THEN
            total := coalesce(total, 0) + CASE WHEN left(grp, 1) = '-' THEN -value ELSE value END;
        END IF;
    END LOOP;
    RETURN total;
END
$$;

-- The same two on a fields object (for callers holding one form's fields).
CREATE OR REPLACE FUNCTION public.md_field_value(fields jsonb, label_group text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT public.md_indexed_value(public.md_field_index(fields), label_group);
$$;

CREATE OR REPLACE FUNCTION public.md_field_sum(fields jsonb, label_groups text[])
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT public.md_indexed_sum(public.md_field_index(fields), label_groups);
$$;

-- Normalised form code: 'FORM W2' -> 'W-2', '1099nec' -> '1099-NEC', 'K-1 (Form 1065)' -> 'K-1 1065'.
CREATE OR REPLACE FUNCTION public.md_form_code(p text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    s1 text := regexp_replace(upper(btrim(regexp_replace(p, '\s+', ' ', 'g'))), '^(IRS )?FORM ', '');
    c text := replace(s1, ' ', '');
    alias_code text;
BEGIN
    IF s1 IS NULL OR s1 = '' THEN
        RETURN NULL;
    END IF;
    SELECT a.form_code INTO alias_code FROM public.wi_form_aliases a WHERE a.alias IN (s1, c) LIMIT 1;
    RETURN coalesce(alias_code, CASE
        WHEN c ~ '^W-?2$' THEN 'W-2'
        WHEN c ~ '^W-?2-?G$' THEN 'W-2G'
        WHEN c ~ 'K-?1' AND c ~ '1065' THEN 'K-1 1065'
        WHEN c ~ 'K-?1' AND c ~ '1120' THEN 'K-1 1120-S'
        WHEN c ~ 'K-?1' AND c ~ '1041' THEN 'K-1 1041'
        WHEN c ~ '^SSA-?1099$' THEN 'SSA-1099'
        WHEN c ~ '^RRB-?1099-?R$' THEN 'RRB-1099-R'
        WHEN c ~ '^RRB-?1099$' THEN 'RRB-1099'
        WHEN c ~ '^\d{4}-?[A-Z]{1,4}(-[A-Z]{1,2})?$' THEN regexp_replace(c, '^(\d{4})-?', '\1-')
        ELSE s1
    END);
END
$$;

-- ---------------------------------------------------------------------------------------
-- income_documents: one row per information return (form) per case. Natural key: case,
-- year, owner, form type, fingerprint of the form as received, and its ordinal among
-- identical forms - so re-ingestion cannot duplicate and two identical forms both count.
CREATE TABLE IF NOT EXISTS public.income_documents (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id                   text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
    tax_year                  integer,                      -- NULL: year "Unknown" upstream
    tax_year_raw              text,
    form_type                 text NOT NULL,                -- normalised ('UNKNOWN' if unreadable)
    form_type_raw             text,
    owner                     text NOT NULL CONSTRAINT income_documents_owner_check CHECK (owner IN ('TP', 'S')),
    gross_amount              numeric(15,2) NOT NULL DEFAULT 0,   -- taxable income amount per the form rule
    federal_withholding       numeric(15,2) NOT NULL DEFAULT 0,
    se_amount                 numeric(15,2) NOT NULL DEFAULT 0,   -- part of gross that is SE income
    ss_wages                  numeric(15,2),                      -- W-2 box 3 (+ SS tips)
    medicare_wages            numeric(15,2),                      -- W-2 box 5
    preferential_amount       numeric(15,2) NOT NULL DEFAULT 0,   -- qualified dividends + cap-gain distributions
    early_distribution_amount numeric(15,2) NOT NULL DEFAULT 0,   -- 1099-R code 1
    category                  text NOT NULL CONSTRAINT income_documents_category_check
                                  CHECK (category IN ('SE', 'Non-SE', 'Neither', 'Unknown')),
    income_kind               text NOT NULL DEFAULT 'other',
    is_self_employment        boolean NOT NULL DEFAULT false,
    include_in_projection     boolean NOT NULL DEFAULT true,
    requires_confirmation     boolean NOT NULL DEFAULT false,
    rule_id                   bigint,                             -- wi_type_rules.id applied
    amount_source             text NOT NULL CONSTRAINT income_documents_amount_source_check
                                  CHECK (amount_source IN ('fields', 'form', 'none')),
    upstream_income           numeric(15,2),                      -- the form's own Income, as sent
    upstream_category         text,
    issuer_name               text,
    issuer_id                 text,
    issuer_address            text,
    recipient_name            text,
    recipient_id              text,
    recipient_address         text,
    fields                    jsonb NOT NULL DEFAULT '{}',
    flags                     text[] NOT NULL DEFAULT '{}',
    doc_fingerprint           text NOT NULL,
    doc_seq                   integer NOT NULL DEFAULT 1,
    bronze_id                 uuid NOT NULL,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT income_documents_natural_key UNIQUE NULLS NOT DISTINCT
        (case_id, tax_year, owner, form_type, doc_fingerprint, doc_seq)
);
CREATE INDEX IF NOT EXISTS income_documents_case_year_idx ON public.income_documents (case_id, tax_year);
CREATE INDEX IF NOT EXISTS income_documents_bronze_idx ON public.income_documents (bronze_id);

-- Every form of a W&I payload with its year hint, in payload order.
CREATE OR REPLACE FUNCTION public.wi_form_entries(p jsonb)
RETURNS TABLE (year_raw text, form jsonb, ord bigint) LANGUAGE sql IMMUTABLE AS $$
    WITH body AS (
        -- unwrap {"data": {...}} / {"result": {...}} when the top level holds no known key
        SELECT CASE
            WHEN jsonb_typeof(p) = 'object'
                 AND NOT (p ?| ARRAY['years_data', 'forms', 'wi_forms', 'documents', 'income_documents'])
                 AND jsonb_typeof(p -> 'data') = 'object' THEN p -> 'data'
            WHEN jsonb_typeof(p) = 'object'
                 AND NOT (p ?| ARRAY['years_data', 'forms', 'data', 'wi_forms', 'documents', 'income_documents'])
                 AND jsonb_typeof(coalesce(p -> 'result', p -> 'Result')) = 'object' THEN coalesce(p -> 'result', p -> 'Result')
            ELSE p END AS b
    ), year_buckets AS (
        -- years_data as an object {year: [...] | {forms: [...]}} or as a list of {year, forms}
        SELECT e.key AS year_raw, e.value AS bucket, e.ord
        FROM body, jsonb_each(CASE WHEN jsonb_typeof(b -> 'years_data') = 'object' THEN b -> 'years_data' END)
             WITH ORDINALITY AS e(key, value, ord)
        UNION ALL
        SELECT public.md_text(public.md_pick(e.value, ARRAY['Year', 'year', 'tax_year', 'taxYear', 'TaxYear'])),
               e.value, e.ord
        FROM body, jsonb_array_elements(CASE WHEN jsonb_typeof(b -> 'years_data') = 'array' THEN b -> 'years_data' END)
             WITH ORDINALITY AS e(value, ord)
        WHERE e.value ?| ARRAY['forms', 'Forms', 'data', 'documents']
    ), bucket_forms AS (
        SELECT y.year_raw, f.value AS form, y.ord * 1000000 + f.ord AS ord
        FROM year_buckets y
        CROSS JOIN LATERAL jsonb_array_elements(CASE
            WHEN jsonb_typeof(y.bucket) = 'array' THEN y.bucket
            WHEN jsonb_typeof(y.bucket) = 'object' THEN coalesce(
                CASE WHEN jsonb_typeof(y.bucket -> 'forms') = 'array' THEN y.bucket -> 'forms' END,
                CASE WHEN jsonb_typeof(y.bucket -> 'Forms') = 'array' THEN y.bucket -> 'Forms' END,
                CASE WHEN jsonb_typeof(y.bucket -> 'data') = 'array' THEN y.bucket -> 'data' END,
                CASE WHEN jsonb_typeof(y.bucket -> 'documents') = 'array' THEN y.bucket -> 'documents' END,
                '[]'::jsonb)
            ELSE '[]'::jsonb END) WITH ORDINALITY AS f(value, ord)
    ), years_list_forms AS (
        -- years_data list whose elements are forms themselves
        SELECT NULL::text AS year_raw, e.value AS form, 500000000000 + e.ord AS ord
        FROM body, jsonb_array_elements(CASE WHEN jsonb_typeof(b -> 'years_data') = 'array' THEN b -> 'years_data' END)
             WITH ORDINALITY AS e(value, ord)
        WHERE NOT (e.value ?| ARRAY['forms', 'Forms', 'data', 'documents'])
    ), flat_forms AS (
        SELECT NULL::text AS year_raw, f.value AS form, 900000000000 + k.ord * 1000000 + f.ord AS ord
        FROM body
        CROSS JOIN LATERAL unnest(ARRAY['forms', 'data', 'wi_forms', 'documents', 'income_documents'])
             WITH ORDINALITY AS k(key, ord)
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(b -> k.key) = 'array' THEN b -> k.key END)
             WITH ORDINALITY AS f(value, ord)
        UNION ALL
        SELECT NULL, f.value, 990000000000 + f.ord
        FROM body, jsonb_array_elements(CASE WHEN jsonb_typeof(b) = 'array' THEN b END) WITH ORDINALITY AS f(value, ord)
    )
    SELECT * FROM bucket_forms
    UNION ALL SELECT * FROM years_list_forms
    UNION ALL SELECT * FROM flat_forms;
$$;

-- Does the payload have any container the W&I loader knows (even an empty one), at the top
-- level or one wrapper ({"data": ...} / {"result": ...}) down?
CREATE OR REPLACE FUNCTION public.wi_payload_has_container(p jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_typeof(p) = 'array'
        OR (jsonb_typeof(p) = 'object' AND (
               jsonb_typeof(p -> 'years_data') IN ('object', 'array')
            OR EXISTS (SELECT 1 FROM unnest(ARRAY['forms', 'data', 'wi_forms', 'documents', 'income_documents']) k
                       WHERE jsonb_typeof(p -> k) = 'array'))), false);
$$;

CREATE OR REPLACE FUNCTION public.wi_payload_recognised(p jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT public.wi_payload_has_container(p)
        OR (jsonb_typeof(p) = 'object' AND (public.wi_payload_has_container(p -> 'data')
                                            OR public.wi_payload_has_container(coalesce(p -> 'result', p -> 'Result'))));
$$;

-- The parsed documents of a payload (no writes): what silver_load_wi stores. Testable alone.
CREATE OR REPLACE FUNCTION public.wi_documents(p jsonb)
RETURNS TABLE (
    tax_year integer, tax_year_raw text, form_type text, form_type_raw text, owner text,
    gross_amount numeric, federal_withholding numeric, se_amount numeric, ss_wages numeric, medicare_wages numeric,
    preferential_amount numeric, early_distribution_amount numeric, category text, income_kind text,
    is_self_employment boolean, include_in_projection boolean, requires_confirmation boolean, rule_id bigint,
    amount_source text, upstream_income numeric, upstream_category text,
    issuer_name text, issuer_id text, issuer_address text, recipient_name text, recipient_id text,
    recipient_address text, fields jsonb, flags text[], doc_fingerprint text, doc_seq integer)
LANGUAGE sql STABLE AS $$
    WITH entries AS (
        SELECT e.year_raw, e.form, e.ord FROM public.wi_form_entries(p) e
        WHERE jsonb_typeof(e.form) = 'object' AND e.form <> '{}'::jsonb
    ), parsed AS MATERIALIZED (  -- materialised: each form's expressions are evaluated once
        SELECT e.*, ft.form_type_raw, public.md_form_code(ft.form_type_raw) AS form_type_norm, y.tax_year,
               fl.flds, public.md_field_index(fl.flds) AS fidx,
               public.md_numeric(public.md_pick(e.form, ARRAY['Income', 'income', 'gross_amount', 'GrossAmount',
                   'gross_income', 'Amount', 'amount', 'Gross', 'gross', 'Wages', 'wages', 'Total', 'total'])) AS form_income,
               public.md_numeric(public.md_pick(e.form, ARRAY['Withholding', 'withholding', 'federal_withholding',
                   'FederalWithholding', 'Federal', 'federal', 'FederalTaxWithheld', 'WithholdingAmount'])) AS form_withholding,
               public.md_text(public.md_pick(e.form, ARRAY['Issuer.Name', 'Issuer.name', 'issuer.Name', 'issuer.name',
                   'Issuer.company', 'Issuer.Company', 'IssuerName', 'issuer_name', 'Employer', 'employer_name',
                   'EmployerName', 'Fields.PayerName', 'Fields.EmployerName', 'Fields.payer_name'])) AS issuer_name,
               public.md_text(public.md_pick(e.form, ARRAY['Issuer.EIN', 'Issuer.ein', 'Issuer.ID', 'Issuer.id',
                   'issuer.EIN', 'issuer.ein', 'issuer.ID', 'issuer.id', 'IssuerEIN', 'issuer_ein', 'EIN', 'ein',
                   'EmployerEIN', 'Fields.PayerEIN', 'Fields.EmployerEIN', 'Fields.ein'])) AS issuer_id,
               public.md_text(public.md_pick(e.form, ARRAY['Issuer.Address', 'Issuer.address', 'issuer.Address',
                   'issuer.address', 'IssuerAddress'])) AS issuer_address,
               public.md_text(public.md_pick(e.form, ARRAY['Recipient.Name', 'Recipient.name', 'recipient.Name',
                   'recipient.name', 'RecipientName', 'recipient_name', 'Employee', 'employee_name', 'EmployeeName',
                   'Fields.RecipientName', 'Fields.EmployeeName', 'Fields.recipient_name'])) AS recipient_name,
               public.md_text(public.md_pick(e.form, ARRAY['Recipient.SSN', 'Recipient.ssn', 'Recipient.ID',
                   'Recipient.id', 'recipient.SSN', 'recipient.ssn', 'recipient.id', 'RecipientSSN', 'recipient_ssn',
                   'SSN', 'ssn', 'EmployeeSSN', 'Fields.RecipientSSN', 'Fields.EmployeeSSN', 'Fields.ssn'])) AS recipient_id,
               public.md_text(public.md_pick(e.form, ARRAY['Recipient.Address', 'Recipient.address',
                   'recipient.Address', 'recipient.address', 'RecipientAddress'])) AS recipient_address,
               public.md_text(public.md_pick(e.form, ARRAY['Category', 'category'])) AS upstream_category,
               CASE
                   WHEN upper(coalesce(public.md_text(public.md_pick(e.form, ARRAY['Owner', 'owner'])), ''))
                        IN ('S', 'SP', 'SPOUSE') THEN 'S'
                   WHEN lower(coalesce(public.md_text(public.md_pick(e.form, ARRAY['Recipient.TaxpayerType',
                        'Recipient.taxpayer_type', 'recipient.TaxpayerType', 'recipient.taxpayer_type', 'taxpayer_type',
                        'taxpayerType', 'TaxpayerType'])), '')) = 'spouse' THEN 'S'
                   WHEN concat_ws(' ', public.md_text(public.md_pick(e.form, ARRAY['Recipient.Name', 'recipient.name',
                        'RecipientName', 'recipient_name'])), public.md_text(e.form -> 'Label'),
                        public.md_text(e.form -> 'owner')) ~* 'spouse' THEN 'S'
                   ELSE 'TP'
               END AS owner
        FROM entries e
        -- OFFSET 0 keeps the planner from copying md_fields into each place flds is used
        CROSS JOIN LATERAL (SELECT public.md_fields(e.form) AS flds OFFSET 0) AS fl
        CROSS JOIN LATERAL (
            SELECT coalesce(
                CASE WHEN jsonb_typeof(e.form -> 'Form') = 'object'
                     THEN public.md_text(public.md_pick(e.form -> 'Form', ARRAY['Type', 'Code', 'type', 'code', 'Name', 'name'])) END,
                public.md_text(public.md_pick(e.form, ARRAY['Form', 'form', 'form_type', 'FormType', 'document_type',
                    'type', 'formCode', 'FormCode', 'Code', 'code'])),
                -- last resort: a string value that names a form ("W2 wage statement", "Form 1099-NEC ...")
                (SELECT coalesce(substring(v.value FROM '(?i)(W-?2G?|SSA-?1099|RRB-?1099(?:-?R)?|1099-?[A-Z]{1,4})'), v.value)
                 FROM jsonb_each_text(e.form) AS v
                 WHERE jsonb_typeof(e.form -> v.key) = 'string' AND v.value ~* '(W-?2|1099|wage)'
                 ORDER BY v.key LIMIT 1)) AS form_type_raw
        ) AS ft
        CROSS JOIN LATERAL (
            SELECT coalesce(public.md_year(to_jsonb(e.year_raw)),
                            CASE WHEN e.year_raw ~ '^\s*\d{2}\s*$' THEN 2000 + btrim(e.year_raw)::int END,
                            public.md_year(public.md_pick(e.form, ARRAY['Year', 'year', 'tax_year', 'taxYear', 'TaxYear'])))
                   AS tax_year
        ) AS y
    ), ruled AS MATERIALIZED (
        SELECT pr.*, coalesce(pr.form_type_norm, 'UNKNOWN') AS ftype, r.id AS r_id, r.category AS r_category,
               r.income_kind AS r_kind, r.is_self_employment AS r_se, r.include_in_projection AS r_include,
               r.requires_confirmation AS r_confirm, r.review_flag,
               r.income_fields, r.se_fields, r.se_flag_fields, r.withholding_fields, r.ss_wage_fields,
               r.medicare_wage_fields, r.preferential_fields, r.code_field, r.nontaxable_codes, r.penalty_codes,
               public.md_indexed_sum(pr.fidx, r.income_fields) AS f_income,
               public.md_indexed_sum(pr.fidx, r.se_fields) AS f_se,
               public.md_indexed_sum(pr.fidx, r.withholding_fields) AS f_withholding,
               public.md_indexed_sum(pr.fidx, ARRAY(SELECT g FROM unnest(r.income_fields) g WHERE left(g, 1) = '-'))
                   AS f_subtracted,
               EXISTS (SELECT 1 FROM unnest(r.se_flag_fields) g
                       WHERE public.md_bool(public.md_indexed_value(pr.fidx, g))) AS se_flagged,
               regexp_split_to_array(upper(regexp_replace(coalesce(
                   public.md_text(public.md_indexed_value(pr.fidx, r.code_field)), ''), '[^A-Za-z0-9]', '', 'g')), '')
                   AS codes
        FROM parsed pr
        LEFT JOIN LATERAL (
            SELECT * FROM public.wi_type_rules w
            WHERE w.form_code = pr.form_type_norm AND coalesce(pr.tax_year, 9999) BETWEEN w.valid_from_year AND w.valid_to_year
            ORDER BY w.valid_from_year DESC LIMIT 1
        ) AS r ON true
    ), amounts AS (
        SELECT ru.*,
               CASE WHEN ru.codes && ru.nontaxable_codes THEN 0
                    ELSE coalesce(ru.f_income, ru.form_income, 0) END AS gross,
               CASE WHEN ru.codes && ru.nontaxable_codes THEN 'fields'
                    WHEN ru.f_income IS NOT NULL THEN 'fields'
                    WHEN ru.form_income IS NOT NULL THEN 'form' ELSE 'none' END AS amount_src
        FROM ruled ru
    ), classified AS (
        SELECT a.*,
               CASE WHEN a.r_id IS NULL THEN 0
                    WHEN a.se_flagged THEN a.gross
                    WHEN a.f_se IS NOT NULL THEN least(a.f_se, greatest(a.gross, 0))
                    WHEN a.f_income IS NOT NULL THEN 0          -- a box breakdown without SE boxes
                    WHEN a.r_se THEN a.gross
                    ELSE 0 END AS se_amt
        FROM amounts a
    ), final AS (
        SELECT c.*,
               (c.se_amt > 0 OR (coalesce(c.r_se, false) AND c.gross = 0 AND c.f_income IS NULL)) AS is_se
        FROM classified c
    ), numbered AS (
        SELECT f.*,
               md5(f.form::text) AS fingerprint,
               row_number() OVER (PARTITION BY f.tax_year, f.owner, f.ftype, md5(f.form::text) ORDER BY f.ord)::int AS seq
        FROM final f
    )
    SELECT n.tax_year, n.year_raw, n.ftype, n.form_type_raw, n.owner,
           round(n.gross, 2), round(coalesce(n.f_withholding, n.form_withholding, 0), 2), round(n.se_amt, 2),
           CASE WHEN cardinality(n.ss_wage_fields) > 0
                THEN round(coalesce(public.md_indexed_sum(n.fidx, n.ss_wage_fields), n.gross), 2) END,
           CASE WHEN cardinality(n.medicare_wage_fields) > 0
                THEN round(coalesce(public.md_indexed_sum(n.fidx, n.medicare_wage_fields), n.gross), 2) END,
           round(least(greatest(coalesce(public.md_indexed_sum(n.fidx, n.preferential_fields), 0), 0), greatest(n.gross, 0)), 2),
           CASE WHEN n.codes && n.penalty_codes THEN round(n.gross, 2) ELSE 0 END,
           CASE WHEN n.r_id IS NULL THEN 'Unknown'
                WHEN n.is_se THEN 'SE'
                WHEN n.r_category = 'SE' THEN 'Non-SE'
                ELSE n.r_category END,
           coalesce(n.r_kind, 'other'),
           n.is_se,
           coalesce(n.r_include, true),
           coalesce(n.r_confirm, false),
           n.r_id,
           n.amount_src,
           round(n.form_income, 2),
           n.upstream_category,
           n.issuer_name, n.issuer_id, n.issuer_address, n.recipient_name, n.recipient_id, n.recipient_address,
           n.flds,
           ARRAY(SELECT x FROM unnest(ARRAY[
               n.review_flag,
               CASE WHEN n.r_id IS NULL THEN 'unknown_form_type' END,
               CASE WHEN n.tax_year IS NULL THEN 'unknown_tax_year' END,
               CASE WHEN n.amount_src = 'none' AND n.r_id IS NOT NULL AND cardinality(n.income_fields) > 0
                    THEN 'amount_missing' END,
               CASE WHEN n.f_income IS NOT NULL AND n.f_subtracted IS NULL
                         AND EXISTS (SELECT 1 FROM unnest(n.income_fields) g WHERE left(g, 1) = '-')
                    THEN 'basis_missing' END,
               CASE WHEN n.se_flagged THEN 'statutory_employee' END]) AS x WHERE x IS NOT NULL ORDER BY 1),
           n.fingerprint, n.seq
    FROM numbered n;
$$;

CREATE OR REPLACE FUNCTION public.silver_load_wi(p_bronze_id uuid)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_case text;
    v_payload jsonb;
    v_count integer;
BEGIN
    SELECT case_id, public.md_detoast(raw_response) INTO v_case, v_payload
    FROM public.bronze_wi_raw WHERE bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_wi_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT public.wi_payload_recognised(v_payload) THEN
        RAISE EXCEPTION 'W&I payload not recognised: expected years_data or a forms/data/wi_forms/documents/income_documents array; got % with keys %',
            jsonb_typeof(v_payload),
            coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(
                CASE WHEN jsonb_typeof(v_payload) = 'object' THEN v_payload ELSE '{}'::jsonb END) AS k), '(none)')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'upstream-apis.md 2.5 lists the shapes the loader reads';
    END IF;

    SELECT count(*) INTO v_count FROM public.wi_form_entries(v_payload);
    IF v_count > 0 AND NOT EXISTS (SELECT 1 FROM public.wi_form_entries(v_payload) e
                                   WHERE jsonb_typeof(e.form) = 'object' AND e.form <> '{}'::jsonb) THEN
        RAISE EXCEPTION 'W&I payload has % form entries but none is an object', v_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- One statement: upsert what the payload says (only rows whose values differ are
    -- rewritten), delete what the case held that the payload no longer says.
    WITH docs AS (
        SELECT * FROM public.wi_documents(v_payload)
    ), upserted AS (
        INSERT INTO public.income_documents AS t (
            case_id, tax_year, tax_year_raw, form_type, form_type_raw, owner, gross_amount, federal_withholding,
            se_amount, ss_wages, medicare_wages, preferential_amount, early_distribution_amount, category, income_kind,
            is_self_employment, include_in_projection, requires_confirmation, rule_id, amount_source, upstream_income,
            upstream_category, issuer_name, issuer_id, issuer_address, recipient_name, recipient_id, recipient_address,
            fields, flags, doc_fingerprint, doc_seq, bronze_id)
        SELECT v_case, d.tax_year, d.tax_year_raw, d.form_type, d.form_type_raw, d.owner, d.gross_amount,
               d.federal_withholding, d.se_amount, d.ss_wages, d.medicare_wages, d.preferential_amount,
               d.early_distribution_amount, d.category, d.income_kind, d.is_self_employment, d.include_in_projection,
               d.requires_confirmation, d.rule_id, d.amount_source, d.upstream_income, d.upstream_category,
               d.issuer_name, d.issuer_id, d.issuer_address, d.recipient_name, d.recipient_id, d.recipient_address,
               d.fields, d.flags, d.doc_fingerprint, d.doc_seq, p_bronze_id
        FROM docs d
        ON CONFLICT ON CONSTRAINT income_documents_natural_key DO UPDATE SET
            (tax_year_raw, form_type_raw, gross_amount, federal_withholding, se_amount, ss_wages, medicare_wages,
             preferential_amount, early_distribution_amount, category, income_kind, is_self_employment,
             include_in_projection, requires_confirmation, rule_id, amount_source, upstream_income, upstream_category,
             issuer_name, issuer_id, issuer_address, recipient_name, recipient_id, recipient_address, fields, flags,
             bronze_id, updated_at)
          = (excluded.tax_year_raw, excluded.form_type_raw, excluded.gross_amount, excluded.federal_withholding,
             excluded.se_amount, excluded.ss_wages, excluded.medicare_wages, excluded.preferential_amount,
             excluded.early_distribution_amount, excluded.category, excluded.income_kind, excluded.is_self_employment,
             excluded.include_in_projection, excluded.requires_confirmation, excluded.rule_id, excluded.amount_source,
             excluded.upstream_income, excluded.upstream_category, excluded.issuer_name, excluded.issuer_id,
             excluded.issuer_address, excluded.recipient_name, excluded.recipient_id, excluded.recipient_address,
             excluded.fields, excluded.flags, excluded.bronze_id, now())
        WHERE (t.tax_year_raw, t.form_type_raw, t.gross_amount, t.federal_withholding, t.se_amount, t.ss_wages,
               t.medicare_wages, t.preferential_amount, t.early_distribution_amount, t.category, t.income_kind,
               t.is_self_employment, t.include_in_projection, t.requires_confirmation, t.rule_id, t.amount_source,
               t.upstream_income, t.upstream_category, t.issuer_name, t.issuer_id, t.issuer_address, t.recipient_name,
               t.recipient_id, t.recipient_address, t.fields, t.flags, t.bronze_id)
              IS DISTINCT FROM
              (excluded.tax_year_raw, excluded.form_type_raw, excluded.gross_amount, excluded.federal_withholding,
               excluded.se_amount, excluded.ss_wages, excluded.medicare_wages, excluded.preferential_amount,
               excluded.early_distribution_amount, excluded.category, excluded.income_kind, excluded.is_self_employment,
               excluded.include_in_projection, excluded.requires_confirmation, excluded.rule_id, excluded.amount_source,
               excluded.upstream_income, excluded.upstream_category, excluded.issuer_name, excluded.issuer_id,
               excluded.issuer_address, excluded.recipient_name, excluded.recipient_id, excluded.recipient_address,
               excluded.fields, excluded.flags, excluded.bronze_id)
        RETURNING 1
    )
    DELETE FROM public.income_documents t
    WHERE t.case_id = v_case
      AND NOT EXISTS (SELECT 1 FROM docs d
                      WHERE d.tax_year IS NOT DISTINCT FROM t.tax_year AND d.owner = t.owner
                        AND d.form_type = t.form_type AND d.doc_fingerprint = t.doc_fingerprint AND d.doc_seq = t.doc_seq);

    SELECT count(*) INTO v_count FROM public.income_documents WHERE case_id = v_case;
    RETURN v_count;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Interview cell map: one row per spreadsheet cell (business-rules.md 6) with the JSON
-- paths of every variant (upstream-apis.md 3.3) in order of preference. The typed columns of
-- logiqs_raw_data are created from this table, and the loader reads it: one source of truth.
-- Variant C (cell-keyed sections) needs no path: the cell name is looked up in every section.
CREATE TABLE IF NOT EXISTS public.interview_cell_map (
    cell        text PRIMARY KEY CONSTRAINT interview_cell_map_cell_check CHECK (cell ~ '^[a-z][a-z0-9_]*$'),
    value_type  text NOT NULL CONSTRAINT interview_cell_map_type_check
                    CHECK (value_type IN ('text', 'numeric', 'integer', 'date')),
    paths       text[] NOT NULL,
    meaning     text NOT NULL,
    gold_target text,
    source      text NOT NULL
);

INSERT INTO public.interview_cell_map (cell, value_type, paths, meaning, gold_target, source) VALUES
    ('b3', 'text', '{employment.clientEmployer,employment.taxpayer_employer,employment.clientEmployerName,employment.employer_name}', 'taxpayer employer', 'employment_information.employer_name (taxpayer)', 'business-rules 6.1; variants A, D'),
    ('c3', 'text', '{employment.spouseEmployer,employment.spouse_employer,employment.spouseEmployerName}', 'spouse employer', 'employment_information.employer_name (spouse)', 'business-rules 6.1; variants A, D'),
    ('b4', 'date', '{employment.clientStartWorkingDate,employment.clientEmploymentStartDate,employment.start_date}', 'taxpayer employment start', 'employment_information.employment_start_date', 'business-rules 6.1; variants A, D'),
    ('c4', 'date', '{employment.spouseStartWorkingDate,employment.spouseEmploymentStartDate,employment.spouse_start_date}', 'spouse employment start', 'employment_information.employment_start_date', 'business-rules 6.1'),
    ('b5', 'numeric', '{employment.clientGrossIncome,employment.taxpayer_gross_income}', 'taxpayer gross annual income', 'employment_information.gross_annual_income', 'business-rules 6.1; variants A, D'),
    ('c5', 'numeric', '{employment.spouseGrossIncome,employment.spouse_gross_income}', 'spouse gross annual income', 'employment_information.gross_annual_income', 'business-rules 6.1'),
    ('b6', 'numeric', '{employment.clientNetIncome,employment.taxpayer_net_income}', 'taxpayer net annual income', 'employment_information.net_annual_income; net_monthly = b6 / 12', 'business-rules 6.1'),
    ('c6', 'numeric', '{employment.spouseNetIncome,employment.spouse_net_income}', 'spouse net annual income', 'employment_information.net_annual_income', 'business-rules 6.1'),
    ('b7', 'text', '{employment.clientFrequentlyPaid,employment.clientPayFrequency,employment.pay_frequency}', 'taxpayer pay frequency (raw)', 'employment_information.pay_frequency (normalised)', 'business-rules 6.1, 7; variants A, D'),
    ('c7', 'text', '{employment.spouseFrequentlyPaid,employment.spousePayFrequency,employment.spouse_pay_frequency}', 'spouse pay frequency (raw)', 'employment_information.pay_frequency (normalised)', 'business-rules 6.1, 7'),
    ('tp_employer_address', 'text', '{employment.clientEmployerAddress,employment.employer_address}', 'taxpayer employer address', 'employment_information.employer_address', 'upstream-apis 3.3 variant D'),
    ('sp_employer_address', 'text', '{employment.spouseEmployerAddress,employment.spouse_employer_address}', 'spouse employer address', 'employment_information.employer_address', 'upstream-apis 3.3 variant D'),
    ('tp_occupation', 'text', '{employment.clientOccupation,employment.occupation}', 'taxpayer occupation', 'employment_information.job_title', 'upstream-apis 3.3 variant D'),
    ('sp_occupation', 'text', '{employment.spouseOccupation,employment.spouse_occupation}', 'spouse occupation', 'employment_information.job_title', 'upstream-apis 3.3 variant D'),
    ('b10', 'integer', '{employment.clientHouseMembers,household.clientHouseMembers,household.householdSize,household.household_size}', 'household members', 'household_information.total_household_members', 'business-rules 6.2; variants A, B, D'),
    ('c10', 'integer', '{employment.spouseHouseMembers,household.spouseHouseMembers}', 'household members (spouse answer)', NULL, 'business-rules 6.2'),
    ('b11', 'text', '{employment.clientNextTaxReturn,household.clientNextTaxReturn}', 'taxpayer next tax return (filing status)', 'household_information.taxpayer_next_tax_return; filing status fallback', 'business-rules 6.2'),
    ('c11', 'text', '{employment.spouseNextTaxReturn,household.spouseNextTaxReturn}', 'spouse next tax return', 'household_information.spouse_next_tax_return', 'business-rules 6.2'),
    ('b12', 'text', '{employment.clientSpouseClaim,household.clientSpouseClaim}', 'taxpayer spouse claim', 'household_information.taxpayer_spouse_claim', 'business-rules 6.2'),
    ('c12', 'text', '{employment.spouseSpouseClaim,household.spouseSpouseClaim}', 'spouse spouse claim', 'household_information.spouse_spouse_claim', 'business-rules 6.2'),
    ('b13', 'text', '{employment.clientLengthofresidency,employment.clientLengthOfResidency,household.clientLengthofresidency,household.clientLengthOfResidency}', 'taxpayer length of residency', 'household_information.taxpayer_length_of_residency', 'business-rules 6.2'),
    ('c13', 'text', '{employment.spouseLengthofresidency,employment.spouseLengthOfResidency,household.spouseLengthofresidency,household.spouseLengthOfResidency}', 'spouse length of residency', 'household_information.spouse_length_of_residency', 'business-rules 6.2'),
    ('b14', 'text', '{employment.clientOccupancyStatus,household.clientOccupancyStatus}', 'taxpayer occupancy status', 'household_information.taxpayer_occupancy_status', 'business-rules 6.2'),
    ('c14', 'text', '{employment.spouseOccupancyStatus,household.spouseOccupancyStatus}', 'spouse occupancy status', 'household_information.spouse_occupancy_status', 'business-rules 6.2'),
    ('b50', 'integer', '{expenses.familySize.under65,household.under65}', 'members under 65', 'household_information.members_under_65', 'business-rules 6.2; variants A, B'),
    ('b51', 'integer', '{expenses.familySize.over65,household.over65}', 'members 65 and over', 'household_information.members_over_65', 'business-rules 6.2; variants A, B'),
    ('b52', 'text', '{expenses.location.state,household.state}', 'state', 'household_information.state', 'business-rules 6.2; variants A, B, D'),
    ('b53', 'text', '{expenses.location.county,household.county}', 'county', 'household_information.county', 'business-rules 6.2; variants A, B'),
    ('zip_code', 'text', '{household.zipCode,household.zip,expenses.location.zipCode,expenses.location.zip}', 'zip code', 'household_information.zip_code', 'upstream-apis 3.3 variant D'),
    ('filing_status_raw', 'text', '{household.filingStatus,household.filing_status,employment.filingStatus}', 'filing status as entered', 'household_information.filing_status; projection fallback', 'upstream-apis 3.3 variant D'),
    ('number_of_dependents', 'integer', '{household.numberOfDependents,household.dependents}', 'dependents', 'household_information.number_of_dependents', 'upstream-apis 3.3 variant D'),
    ('b18', 'numeric', '{assets.bankAccounts.accountsData,assets.checkingAccounts,assets.bankAccounts}', 'bank accounts total', 'financial_accounts checking (primary)', 'business-rules 6.3; variants A, B'),
    ('b19', 'numeric', '{assets.cashOnHand}', 'cash on hand', 'financial_accounts other', 'business-rules 6.3'),
    ('b20', 'numeric', '{assets.investments.investmentMarketValue,assets.investments}', 'investments market value', 'financial_accounts investment', 'business-rules 6.3; variants A, B'),
    ('d20', 'numeric', '{assets.investments.investmentLoan}', 'investments loan', 'financial_accounts.loan_balance', 'business-rules 6.3'),
    ('b21', 'numeric', '{assets.lifeInsurance.insuranceMarketValue,assets.lifeInsurance}', 'life insurance cash value', 'financial_accounts other', 'business-rules 6.3; variants A, B'),
    ('d21', 'numeric', '{assets.lifeInsurance.insuranceLoan}', 'life insurance loan', 'financial_accounts.loan_balance', 'business-rules 6.3'),
    ('b22', 'numeric', '{assets.retirement.retirementMarketValue,assets.retirement}', 'retirement market value', 'financial_accounts retirement', 'business-rules 6.3; variants A, B'),
    ('d22', 'numeric', '{assets.retirement.retirementLoan}', 'retirement loan', 'financial_accounts.loan_balance', 'business-rules 6.3'),
    ('b23', 'numeric', '{assets.realProperty.realEstateMarketValue,assets.realEstateValue}', 'real estate market value', 'real_property.current_market_value', 'business-rules 6.3; variants A, B'),
    ('d23', 'numeric', '{assets.realProperty.realEstateLoan,assets.realEstateLoan}', 'real estate loan', 'real_property.mortgage_balance', 'business-rules 6.3; variants A, B'),
    ('b24', 'numeric', '{assets.vehicles.vehicle1MarketValue,assets.vehicle1Value}', 'vehicle 1 value', 'vehicles vehicle1', 'business-rules 6.3; variants A, B'),
    ('b25', 'numeric', '{assets.vehicles.vehicle2MarketValue,assets.vehicle2Value}', 'vehicle 2 value', 'vehicles vehicle2', 'business-rules 6.3'),
    ('b26', 'numeric', '{assets.vehicles.vehicle3MarketValue,assets.vehicle3Value}', 'vehicle 3 value', 'vehicles vehicle3', 'business-rules 6.3'),
    ('b27', 'numeric', '{assets.vehicles.vehicle4MarketValue,assets.vehicle4Value}', 'vehicle 4 value', 'vehicles vehicle4', 'business-rules 6.3'),
    ('d24', 'numeric', '{assets.vehicles.vehicle1Loan,assets.vehicle1Loan}', 'vehicle 1 loan', 'vehicles.loan_balance', 'business-rules 6.3'),
    ('d25', 'numeric', '{assets.vehicles.vehicle2Loan,assets.vehicle2Loan}', 'vehicle 2 loan', 'vehicles.loan_balance', 'business-rules 6.3'),
    ('d26', 'numeric', '{assets.vehicles.vehicle3Loan,assets.vehicle3Loan}', 'vehicle 3 loan', 'vehicles.loan_balance', 'business-rules 6.3'),
    ('d27', 'numeric', '{assets.vehicles.vehicle4Loan,assets.vehicle4Loan}', 'vehicle 4 loan', 'vehicles.loan_balance', 'business-rules 6.3'),
    ('b28', 'numeric', '{assets.personalEffects.personalEffectsMarketValue}', 'personal effects value', NULL, 'business-rules 6.3'),
    ('d28', 'numeric', '{assets.personalEffects.personalEffectsLoan}', 'personal effects loan', NULL, 'business-rules 6.3'),
    ('b29', 'numeric', '{assets.otherAssets.otherAssetsMarketValue}', 'other assets value', NULL, 'business-rules 6.3'),
    ('d29', 'numeric', '{assets.otherAssets.otherAssetsLoan}', 'other assets loan', NULL, 'business-rules 6.3'),
    ('b33', 'numeric', '{income.taxpayerIncome.wages,income.clientWages}', 'taxpayer wages (monthly)', 'income_sources taxpayer wages', 'business-rules 6.4; variants A, B'),
    ('b34', 'numeric', '{income.taxpayerIncome.socialSecurity,income.clientSocialSecurity}', 'taxpayer social security (monthly)', 'income_sources taxpayer social_security', 'business-rules 6.4'),
    ('b35', 'numeric', '{income.taxpayerIncome.pension,income.clientPension}', 'taxpayer pension (monthly)', 'income_sources taxpayer pension', 'business-rules 6.4'),
    ('b36', 'numeric', '{income.spouseIncome.wages,income.spouseWages}', 'spouse wages (monthly)', 'income_sources spouse wages', 'business-rules 6.4'),
    ('b37', 'numeric', '{income.spouseIncome.socialSecurity,income.spouseSocialSecurity}', 'spouse social security (monthly)', 'income_sources spouse social_security', 'business-rules 6.4'),
    ('b38', 'numeric', '{income.spouseIncome.pension,income.spousePension}', 'spouse pension (monthly)', 'income_sources spouse pension', 'business-rules 6.4'),
    ('b39', 'numeric', '{income.otherIncome.dividendsInterest,income.dividendsInterest}', 'dividends / interest (monthly)', 'income_sources joint dividends_interest', 'business-rules 6.4'),
    ('b40', 'numeric', '{income.otherIncome.rentalGross,income.rentalGross}', 'rental gross (monthly)', 'income_sources joint rental_gross', 'business-rules 6.4'),
    ('b41', 'numeric', '{income.otherIncome.rentalExpenses,income.rentalExpenses}', 'rental expenses (monthly)', 'income_sources joint rental_expenses', 'business-rules 6.4'),
    ('b42', 'numeric', '{income.otherIncome.distributions,income.distributions}', 'distributions (monthly)', 'income_sources joint distributions', 'business-rules 6.4'),
    ('b43', 'numeric', '{income.otherIncome.alimony,income.alimony}', 'alimony received (monthly)', 'income_sources joint alimony', 'business-rules 6.4'),
    ('b44', 'numeric', '{income.otherIncome.childSupport,income.childSupport}', 'child support received (monthly)', 'income_sources joint child_support', 'business-rules 6.4'),
    ('b45', 'numeric', '{income.otherIncome.other,income.otherIncome}', 'other income (monthly)', 'income_sources joint other', 'business-rules 6.4; variants A, B'),
    ('b46', 'numeric', '{raw_data.IncomeAdditional1,income.additional1}', 'additional income 1', 'income_sources joint additional_1', 'business-rules 6.4'),
    ('b47', 'numeric', '{raw_data.IncomeAdditional2,income.additional2}', 'additional income 2', 'income_sources joint additional_2', 'business-rules 6.4'),
    ('al7', 'numeric', '{income.taxpayerIncome.wages,employment.clientMonthlyIncome,income.clientWages}', 'taxpayer monthly income (D186 part)', 'employment_information.gross_monthly_income (taxpayer)', 'business-rules 6.1, 8'),
    ('al8', 'numeric', '{income.spouseIncome.wages,employment.spouseMonthlyIncome,income.spouseWages}', 'spouse monthly income (D186 part)', 'employment_information.gross_monthly_income (spouse)', 'business-rules 6.1, 8'),
    ('b56', 'numeric', '{expenses.foodClothingMisc.food,expenses.food}', 'food', 'monthly_expenses food', 'business-rules 6.5; variants A, B'),
    ('b57', 'numeric', '{expenses.foodClothingMisc.housekeeping,expenses.housekeeping}', 'housekeeping supplies', 'monthly_expenses housekeeping', 'business-rules 6.5'),
    ('b58', 'numeric', '{expenses.foodClothingMisc.apparel,expenses.apparel}', 'apparel', 'monthly_expenses apparel', 'business-rules 6.5'),
    ('b59', 'numeric', '{expenses.foodClothingMisc.personalCare,expenses.personalCare}', 'personal care', 'monthly_expenses personal_care', 'business-rules 6.5'),
    ('b60', 'numeric', '{expenses.foodClothingMisc.misc,expenses.misc}', 'miscellaneous', 'monthly_expenses misc', 'business-rules 6.5'),
    ('b64', 'numeric', '{expenses.housing.mortgageLien1,expenses.mortgageLien1}', 'mortgage / lien 1', 'monthly_expenses housing', 'business-rules 6.5'),
    ('b65', 'numeric', '{expenses.housing.mortgageLien2,expenses.mortgageLien2}', 'mortgage / lien 2', 'monthly_expenses housing', 'business-rules 6.5'),
    ('b66', 'numeric', '{expenses.housing.rent,expenses.rent}', 'rent', 'monthly_expenses housing', 'business-rules 6.5'),
    ('b67', 'numeric', '{expenses.housing.insurance,expenses.insurance}', 'housing insurance', 'monthly_expenses housing', 'business-rules 6.5'),
    ('b68', 'numeric', '{expenses.housing.propertyTax,expenses.propertyTax}', 'property tax', 'monthly_expenses housing', 'business-rules 6.5'),
    ('b69', 'numeric', '{expenses.housing.utilities.gas,expenses.gas}', 'gas', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b70', 'numeric', '{expenses.housing.utilities.electricity,expenses.electricity}', 'electricity', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b71', 'numeric', '{expenses.housing.utilities.water,expenses.water}', 'water', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b72', 'numeric', '{expenses.housing.utilities.sewer,expenses.sewer}', 'sewer', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b73', 'numeric', '{expenses.housing.utilities.cable,expenses.cable}', 'cable / internet', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b74', 'numeric', '{expenses.housing.utilities.trash,expenses.trash}', 'trash', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b75', 'numeric', '{expenses.housing.utilities.phone,expenses.phone}', 'phone', 'monthly_expenses utilities', 'business-rules 6.5'),
    ('b79', 'numeric', '{expenses.healthcare.healthInsurance,expenses.healthInsurance}', 'health insurance', 'monthly_expenses healthcare', 'business-rules 6.5 (numeric here: text cells broke the original, medallion-schema 8.5)'),
    ('b80', 'numeric', '{expenses.healthcare.prescriptions,expenses.prescriptions}', 'prescriptions', 'monthly_expenses healthcare', 'business-rules 6.5'),
    ('b81', 'numeric', '{expenses.healthcare.copays,expenses.copays}', 'copays', 'monthly_expenses healthcare', 'business-rules 6.5'),
    ('b84', 'numeric', '{expenses.taxes}', 'current taxes', 'monthly_expenses taxes', 'business-rules 6.5'),
    ('b87', 'numeric', '{raw_data.ExpenseCourtPayments,expenses.courtPayments}', 'court-ordered payments', 'monthly_expenses court_payments', 'business-rules 6.5'),
    ('b88', 'numeric', '{raw_data.ExpenseChildCare,expenses.childCare}', 'child care', 'monthly_expenses child_care', 'business-rules 6.5'),
    ('b89', 'numeric', '{raw_data.ExpenseWholeLifeInsurance,expenses.wholeLifeInsurance}', 'whole life insurance', 'monthly_expenses insurance', 'business-rules 6.5'),
    ('b90', 'numeric', '{raw_data.ExpenseTermLifeInsurance,expenses.termLifeInsurance}', 'term life insurance', 'monthly_expenses insurance', 'business-rules 6.5'),
    ('ak2', 'integer', '{expenses.transportation.vehicleCount,expenses.vehicleCount}', 'vehicle count (not money)', NULL, 'business-rules 6.5'),
    ('ak4', 'numeric', '{expenses.transportation.publicTransportation,expenses.publicTransportation}', 'public transportation', 'monthly_expenses transportation', 'business-rules 6.5'),
    ('ak5', 'numeric', '{raw_data.ExpenseAutoTotal}', 'auto total (overlaps ak7/ak8; not summed)', NULL, 'business-rules 6.5, 8'),
    ('ak6', 'numeric', '{expenses.transportation.autoInsurance,expenses.autoInsurance}', 'auto insurance', 'monthly_expenses transportation', 'business-rules 6.5'),
    ('ak7', 'numeric', '{expenses.transportation.autoPayment1,expenses.autoPayment1}', 'auto payment 1', 'monthly_expenses transportation', 'business-rules 6.5'),
    ('ak8', 'numeric', '{expenses.transportation.autoPayment2,expenses.autoPayment2}', 'auto payment 2', 'monthly_expenses transportation', 'business-rules 6.5'),
    ('c56', 'numeric', '{Result.Food,result.Food,result.food,irs_standards.food}', 'IRS standard food', 'monthly_expenses.irs_standard_amount', 'business-rules 6.6; variants A, B'),
    ('c57', 'numeric', '{Result.Housekeeping,result.Housekeeping,result.housekeeping,irs_standards.housekeeping}', 'IRS standard housekeeping', 'monthly_expenses.irs_standard_amount', 'business-rules 6.6'),
    ('c58', 'numeric', '{Result.Apparel,result.Apparel,result.apparel,irs_standards.apparel}', 'IRS standard apparel', 'monthly_expenses.irs_standard_amount', 'business-rules 6.6'),
    ('c59', 'numeric', '{Result.PersonalCare,result.PersonalCare,result.personalCare,irs_standards.personalCare}', 'IRS standard personal care', 'monthly_expenses.irs_standard_amount', 'business-rules 6.6'),
    ('c60', 'numeric', '{Result.Misc,result.Misc,result.misc,irs_standards.misc}', 'IRS standard misc', 'monthly_expenses.irs_standard_amount', 'business-rules 6.6'),
    ('c61_irs', 'numeric', '{Result.FoodClothingMiscTotal,result.FoodClothingMiscTotal,irs_standards.total}', 'IRS standard food/clothing/misc total', NULL, 'business-rules 6.6'),
    ('c80', 'numeric', '{Result.HealthOutOfPocket,result.HealthOutOfPocket,result.healthOutOfPocket,irs_standards.healthOutOfPocket}', 'IRS out-of-pocket health standard', 'disposable income', 'business-rules 6.6'),
    ('al4', 'numeric', '{Result.PublicTrans,result.PublicTrans,result.publicTrans,irs_standards.publicTransportation,irs_standards.publicTrans}', 'IRS public transportation standard', 'monthly_expenses.irs_standard_amount (ak4)', 'business-rules 6.6'),
    ('al5', 'numeric', '{expenses.foodClothingMisc.food,expenses.food}', 'food expense copy (D187)', NULL, 'business-rules 6.6, 8'),
    ('irs_housing', 'numeric', '{Result.Housing,result.Housing,result.housing,irs_standards.housing}', 'IRS housing and utilities standard', 'disposable income', 'upstream-apis 3.3 / 4'),
    ('irs_operating_cost_car', 'numeric', '{Result.OperatingCostCar,result.OperatingCostCar,result.operatingCostCar,irs_standards.transportation}', 'IRS vehicle operating standard', 'disposable income', 'upstream-apis 3.3 / 4')
ON CONFLICT (cell) DO UPDATE SET value_type = excluded.value_type, paths = excluded.paths, meaning = excluded.meaning,
                                 gold_target = excluded.gold_target, source = excluded.source;

CREATE TABLE IF NOT EXISTS public.logiqs_raw_data (
    case_id        text PRIMARY KEY REFERENCES public.cases (case_id) ON DELETE CASCADE,
    bronze_id      uuid NOT NULL,
    employment     jsonb NOT NULL DEFAULT '{}',
    household      jsonb NOT NULL DEFAULT '{}',
    assets         jsonb NOT NULL DEFAULT '{}',
    income         jsonb NOT NULL DEFAULT '{}',
    expenses       jsonb NOT NULL DEFAULT '{}',
    raw_data       jsonb NOT NULL DEFAULT '{}',
    irs_standards  jsonb NOT NULL DEFAULT '{}',
    other_sections jsonb NOT NULL DEFAULT '{}',
    cells_found    integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Typed cell columns from the map.
DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT cell, value_type FROM public.interview_cell_map ORDER BY cell LOOP
        EXECUTE format('ALTER TABLE public.logiqs_raw_data ADD COLUMN IF NOT EXISTS %I %s', m.cell,
                       CASE m.value_type WHEN 'numeric' THEN 'numeric(15,2)' ELSE m.value_type END);
    END LOOP;
END
$$;

ALTER TABLE public.logiqs_raw_data ADD COLUMN IF NOT EXISTS c61_irs_calculated numeric(15,2)
    GENERATED ALWAYS AS (CASE WHEN num_nonnulls(c56, c57, c58, c59, c60) > 0
                              THEN coalesce(c56, 0) + coalesce(c57, 0) + coalesce(c58, 0) + coalesce(c59, 0)
                                   + coalesce(c60, 0) END) STORED;

-- Upsert of one logiqs_raw_data row given as a jsonb object of column values: only a row whose
-- values differ is rewritten. Compiled from the table's columns (which come from the cell map)
-- into logiqs_raw_data_upsert(row): static SQL, so its plan is cached instead of rebuilt from
-- the catalog on every interview load. Re-run this after adding cells to the map.
CREATE OR REPLACE FUNCTION public.logiqs_raw_data_upsert_function()
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    ins_cols text;
    upd_cols text;
    excl_cols text;
    tgt_cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id'),
           string_agg('excluded.' || quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id'),
           string_agg('t.' || quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id')
      INTO ins_cols, upd_cols, excl_cols, tgt_cols
    FROM pg_attribute
    WHERE attrelid = 'public.logiqs_raw_data'::regclass AND attnum > 0 AND NOT attisdropped
      AND attgenerated = '' AND attname NOT IN ('created_at', 'updated_at');
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION public.logiqs_raw_data_upsert(p_row jsonb)
        RETURNS void LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO public.logiqs_raw_data AS t (%1$s)
            SELECT %1$s FROM jsonb_populate_record(NULL::public.logiqs_raw_data, p_row)
            ON CONFLICT (case_id) DO UPDATE SET (%2$s, updated_at) = ROW(%3$s, now())
            WHERE (%4$s) IS DISTINCT FROM (%3$s);
        END
        $body$ $f$, ins_cols, upd_cols, excl_cols, tgt_cols);
END
$fn$;
SELECT public.logiqs_raw_data_upsert_function();

-- The cells of an interview payload as a jsonb object of typed values (no writes).
-- Per cell: its JSON paths (variants A, B, D), else the cell name as a key in a section
-- (variant C: the first section by name; 'b3' before 'B3'), else a top-level key.
CREATE OR REPLACE FUNCTION public.interview_cells(p jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH named_keys AS MATERIALIZED (
        -- every cell-like key (all lower or all upper case) of every section and of the top
        -- level, read once per payload instead of probing each of the ~110 cells in turn
        SELECT DISTINCT ON (lower(k.key)) lower(k.key) AS cell, k.value
        FROM (SELECT 1 AS rank, s.key AS section, c.key, c.value
              FROM jsonb_each(CASE WHEN jsonb_typeof(p) = 'object' THEN p ELSE '{}' END) AS s
              CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.value) = 'object' THEN s.value ELSE '{}' END) AS c
              UNION ALL
              SELECT 2, NULL, t.key, t.value
              FROM jsonb_each(CASE WHEN jsonb_typeof(p) = 'object' THEN p ELSE '{}' END) AS t) AS k
        WHERE k.key IN (lower(k.key), upper(lower(k.key)))
          AND jsonb_typeof(k.value) <> 'null'
          AND NOT (jsonb_typeof(k.value) = 'string' AND btrim(k.value #>> '{}') = '')
        ORDER BY lower(k.key), k.rank, k.section, k.key = lower(k.key) DESC
    )
    SELECT coalesce(jsonb_object_agg(m.cell, typed.v) FILTER (WHERE typed.v IS NOT NULL
                                                              AND jsonb_typeof(typed.v) <> 'null'), '{}'::jsonb)
    FROM public.interview_cell_map m
    LEFT JOIN named_keys AS nk ON nk.cell = m.cell
    CROSS JOIN LATERAL (SELECT coalesce(public.md_pick(p, m.paths), nk.value) AS raw) AS picked
    CROSS JOIN LATERAL (  -- OFFSET 0: typed once per cell, not once per use in the aggregate
        SELECT CASE m.value_type
            WHEN 'numeric' THEN to_jsonb(round(public.md_numeric(picked.raw), 2))
            WHEN 'integer' THEN to_jsonb(round(public.md_numeric(picked.raw))::integer)
            WHEN 'date' THEN to_jsonb(public.md_date(picked.raw))
            ELSE to_jsonb(public.md_text(picked.raw))
        END AS v
        OFFSET 0
    ) AS typed;
$$;

CREATE OR REPLACE FUNCTION public.silver_load_interview(p_bronze_id uuid)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_case text;
    p jsonb;
    v_cells jsonb;
    v_sections text[] := ARRAY['employment', 'household', 'assets', 'income', 'expenses', 'raw_data',
                               'Result', 'result', 'irs_standards'];
    v_rec jsonb;
BEGIN
    SELECT case_id, public.md_detoast(raw_response) INTO v_case, p
    FROM public.bronze_interview_raw WHERE bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_interview_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    IF jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'interview payload must be a JSON object, got %', coalesce(jsonb_typeof(p), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- {"data": {...}} / {"interview": {...}} wrappers
    IF NOT (p ?| v_sections) THEN
        IF jsonb_typeof(p -> 'data') = 'object' AND (p -> 'data') ?| v_sections THEN
            p := p -> 'data';
        ELSIF jsonb_typeof(p -> 'interview') = 'object' AND (p -> 'interview') ?| v_sections THEN
            p := p -> 'interview';
        END IF;
    END IF;

    v_cells := public.interview_cells(p);
    IF NOT (p ?| v_sections) AND v_cells = '{}'::jsonb THEN
        RAISE EXCEPTION 'interview payload not recognised: no known section (%) and no cell key; top-level keys: %',
            array_to_string(v_sections, ', '),
            coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(p) AS k), '(none)')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'upstream-apis.md 3.3 lists variants A-D';
    END IF;

    v_rec := v_cells || jsonb_build_object(
        'case_id', v_case,
        'bronze_id', p_bronze_id,
        'employment', CASE WHEN jsonb_typeof(p -> 'employment') = 'object' THEN p -> 'employment' ELSE '{}' END,
        'household', CASE WHEN jsonb_typeof(p -> 'household') = 'object' THEN p -> 'household' ELSE '{}' END,
        'assets', CASE WHEN jsonb_typeof(p -> 'assets') = 'object' THEN p -> 'assets' ELSE '{}' END,
        'income', CASE WHEN jsonb_typeof(p -> 'income') = 'object' THEN p -> 'income' ELSE '{}' END,
        'expenses', CASE WHEN jsonb_typeof(p -> 'expenses') = 'object' THEN p -> 'expenses' ELSE '{}' END,
        'raw_data', CASE WHEN jsonb_typeof(p -> 'raw_data') = 'object' THEN p -> 'raw_data' ELSE '{}' END,
        'irs_standards', coalesce(
            CASE WHEN jsonb_typeof(p -> 'Result') = 'object' THEN p -> 'Result' END,
            CASE WHEN jsonb_typeof(p -> 'result') = 'object' THEN p -> 'result' END,
            CASE WHEN jsonb_typeof(p -> 'irs_standards') = 'object' THEN p -> 'irs_standards' END, '{}'),
        'other_sections', coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(p)
                                    WHERE key <> ALL (v_sections)), '{}'),
        'cells_found', (SELECT count(*) FROM jsonb_object_keys(v_cells)));

    PERFORM public.logiqs_raw_data_upsert(v_rec);
    RETURN (v_rec ->> 'cells_found')::integer;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Silver -> gold: statement-level triggers (functions in 003). One trigger per event so each
-- has exactly the transition tables it can see.
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['income_documents', 'logiqs_raw_data'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'trg_' || tbl || '_gold_ins', tbl);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON public.%I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION public.trg_silver_refresh_gold()', 'trg_' || tbl || '_gold_ins', tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'trg_' || tbl || '_gold_upd', tbl);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON public.%I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION public.trg_silver_refresh_gold()', 'trg_' || tbl || '_gold_upd', tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'trg_' || tbl || '_gold_del', tbl);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON public.%I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION public.trg_silver_refresh_gold()', 'trg_' || tbl || '_gold_del', tbl);
    END LOOP;
    -- tax_years (AT loader, 002/006) carries the filing status the projection uses.
    IF to_regclass('public.tax_years') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS trg_tax_years_gold_ins ON public.tax_years;
        CREATE TRIGGER trg_tax_years_gold_ins AFTER INSERT ON public.tax_years REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION public.trg_tax_years_refresh_gold();
        DROP TRIGGER IF EXISTS trg_tax_years_gold_upd ON public.tax_years;
        CREATE TRIGGER trg_tax_years_gold_upd AFTER UPDATE ON public.tax_years
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION public.trg_tax_years_refresh_gold();
        DROP TRIGGER IF EXISTS trg_tax_years_gold_del ON public.tax_years;
        CREATE TRIGGER trg_tax_years_gold_del AFTER DELETE ON public.tax_years REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION public.trg_tax_years_refresh_gold();
    END IF;
END
$$;

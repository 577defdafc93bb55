-- 036: the W&I set parse carries less through its steps.
--
-- Three costs in 025's wi_documents_set that were not parsing (docs/05 section 13; 500 cases,
-- 9,100 forms):
--   * each form's whole jsonb (~800 bytes) rode through every materialised step (entries,
--     parsed, with_rule and those after it) only to be hashed at the end, twice: as
--     doc_fingerprint and again in the row_number partition. The fingerprint is now computed
--     once, in `parsed`, from the same text (md5(form::text)), and `parsed` lists the entry
--     columns it keeps instead of e.*, so the form goes no further;
--   * the repeat number (doc_seq) was a window over the final rows, whose sort held every column
--     and spilled to disk; it is now computed over the five columns it needs (`seqs`) and joined
--     back by form;
--   * the owner test looked the taxpayer-type keys up with md_pick, which for the usual form
--     (none of them present, four of them dotted paths) ran the plpgsql loop md_pick_loop over
--     all seven (~4 us a form). The paths are now tested for presence first, with the same
--     md_pick call when any is there.
-- Every other expression is 025's. bench/diff_triggers finds every silver and gold row
-- identical; tests/schema_gold/test_set_based_wi_parse_025.py compares the set parse with the
-- per-form rules (fingerprints and repeat numbers included), and
-- tests/schema_gold/test_wi_parse_narrow_steps_036.py checks the three changes.

CREATE OR REPLACE FUNCTION public.wi_documents_set(p_payloads jsonb[])
RETURNS TABLE (
    payload_no integer,
    tax_year integer, tax_year_raw text, form_type text, form_type_raw text, owner text,
    gross_amount numeric, federal_withholding numeric, se_amount numeric, ss_wages numeric, medicare_wages numeric,
    preferential_amount numeric, early_distribution_amount numeric, category text, income_kind text,
    is_self_employment boolean, include_in_projection boolean, requires_confirmation boolean, rule_id bigint,
    amount_source text, upstream_income numeric, upstream_category text,
    issuer_name text, issuer_id text, issuer_address text, recipient_name text, recipient_id text,
    recipient_address text, fields jsonb, flags text[], doc_fingerprint text, doc_seq integer)
LANGUAGE sql STABLE AS $$
    WITH entries AS MATERIALIZED (
        SELECT x.n::integer AS payload_no, e.year_raw, e.form, e.ord,
               row_number() OVER () AS form_id
        FROM unnest(p_payloads) WITH ORDINALITY AS x(p, n)
        CROSS JOIN LATERAL public.wi_form_entries(x.p) AS e
        WHERE jsonb_typeof(e.form) = 'object' AND e.form <> '{}'::jsonb
    ), parsed AS MATERIALIZED (  -- materialised: each form's expressions are evaluated once
        SELECT e.payload_no, e.year_raw, e.ord, e.form_id, md5(e.form::text) AS fingerprint,
               ft.form_type_raw, y.tax_year, fl.flds,
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
                   -- (the paths are looked up first: most forms have none, and md_pick would loop through
                   -- them all to say so)
                   WHEN (e.form #> '{Recipient,TaxpayerType}' IS NOT NULL OR e.form #> '{Recipient,taxpayer_type}' IS NOT NULL
                         OR e.form #> '{recipient,TaxpayerType}' IS NOT NULL OR e.form #> '{recipient,taxpayer_type}' IS NOT NULL
                         OR e.form ?| ARRAY['taxpayer_type', 'taxpayerType', 'TaxpayerType'])
                        AND lower(coalesce(public.md_text(public.md_pick(e.form, ARRAY['Recipient.TaxpayerType',
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
    ), form_codes AS MATERIALIZED (  -- md_form_code once per distinct form name
        SELECT d.form_type_raw, public.md_form_code(d.form_type_raw) AS form_type_norm
        FROM (SELECT DISTINCT pr.form_type_raw FROM parsed pr WHERE pr.form_type_raw IS NOT NULL) AS d
    ), with_rule AS MATERIALIZED (
        SELECT pr.*, fc.form_type_norm, r.id AS r_id, r.category AS r_category,
               r.income_kind AS r_kind, r.is_self_employment AS r_se, r.include_in_projection AS r_include,
               r.requires_confirmation AS r_confirm, r.review_flag, r.income_fields, r.ss_wage_fields,
               r.medicare_wage_fields, r.nontaxable_codes, r.penalty_codes
        FROM parsed pr
        LEFT JOIN form_codes fc ON fc.form_type_raw = pr.form_type_raw
        LEFT JOIN LATERAL (
            SELECT * FROM public.wi_type_rules w
            WHERE w.form_code = fc.form_type_norm AND coalesce(pr.tax_year, 9999) BETWEEN w.valid_from_year AND w.valid_to_year
            ORDER BY w.valid_from_year DESC LIMIT 1
        ) AS r ON true
    ), field_rows AS MATERIALIZED (  -- md_field_index's entries: scalar values only
        SELECT wr.form_id, f.key, f.value
        FROM with_rule wr
        CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(wr.flds) = 'object' THEN wr.flds END) AS f
        WHERE jsonb_typeof(f.value) NOT IN ('null', 'object', 'array')
          AND wr.r_id IS NOT NULL  -- only a ruled form's boxes are looked up
    ), label_keys AS MATERIALIZED (
        SELECT d.key, public.md_label_key(d.key) AS label_key
        FROM (SELECT DISTINCT fr.key FROM field_rows fr) AS d
    ), field_index AS (  -- of two labels with one key the first in label order wins
        SELECT DISTINCT ON (fr.form_id, lk.label_key) fr.form_id, lk.label_key, fr.value
        FROM field_rows fr JOIN label_keys lk ON lk.key = fr.key
        WHERE lk.label_key IS NOT NULL
        ORDER BY fr.form_id, lk.label_key, fr.key
    ), rule_labels AS MATERIALIZED (  -- each box group of the rules in use: its labels, in order
        SELECT r.id AS rule_id, g.kind, g.group_no, left(g.label_group, 1) = '-' AS subtracts, l.label_no,
               public.md_label_key(l.label) AS label_key
        FROM (SELECT DISTINCT wr.r_id FROM with_rule wr WHERE wr.r_id IS NOT NULL) AS u
        JOIN public.wi_type_rules r ON r.id = u.r_id
        CROSS JOIN LATERAL (
                  SELECT 'income' AS kind, a.label_group, a.group_no FROM unnest(r.income_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'se', a.label_group, a.group_no FROM unnest(r.se_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'withholding', a.label_group, a.group_no FROM unnest(r.withholding_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'ss_wages', a.label_group, a.group_no FROM unnest(r.ss_wage_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'medicare_wages', a.label_group, a.group_no FROM unnest(r.medicare_wage_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'preferential', a.label_group, a.group_no FROM unnest(r.preferential_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'se_flag', a.label_group, a.group_no FROM unnest(r.se_flag_fields) WITH ORDINALITY AS a(label_group, group_no)
        UNION ALL SELECT 'code', r.code_field, 1
        ) AS g
        CROSS JOIN LATERAL unnest(string_to_array(ltrim(g.label_group, '-'), '|')) WITH ORDINALITY AS l(label, label_no)
    ), group_values AS (  -- md_indexed_value: each group's first label present on the form
        SELECT DISTINCT ON (wr.form_id, rl.kind, rl.group_no) wr.form_id, rl.kind, rl.subtracts, fi.value
        FROM with_rule wr
        JOIN rule_labels rl ON rl.rule_id = wr.r_id
        JOIN field_index fi ON fi.form_id = wr.form_id AND fi.label_key = rl.label_key
        ORDER BY wr.form_id, rl.kind, rl.group_no, rl.label_no
    ), box_sums AS (  -- md_indexed_sum per kind
        SELECT gv.form_id,
               sum(gv.signed) FILTER (WHERE gv.kind = 'income') AS f_income,
               sum(gv.signed) FILTER (WHERE gv.kind = 'income' AND gv.subtracts) AS f_subtracted,
               sum(gv.signed) FILTER (WHERE gv.kind = 'se') AS f_se,
               sum(gv.signed) FILTER (WHERE gv.kind = 'withholding') AS f_withholding,
               sum(gv.signed) FILTER (WHERE gv.kind = 'ss_wages') AS f_ss_wages,
               sum(gv.signed) FILTER (WHERE gv.kind = 'medicare_wages') AS f_medicare_wages,
               sum(gv.signed) FILTER (WHERE gv.kind = 'preferential') AS f_preferential,
               coalesce(bool_or(public.md_bool(gv.value)) FILTER (WHERE gv.kind = 'se_flag'), false) AS se_flagged,
               (array_agg(gv.value) FILTER (WHERE gv.kind = 'code'))[1] AS code_value
        FROM (SELECT v.*, CASE WHEN v.kind NOT IN ('se_flag', 'code') THEN
                              CASE WHEN v.subtracts THEN -public.md_numeric(v.value) ELSE public.md_numeric(v.value) END
                          END AS signed
              FROM group_values v) AS gv
        GROUP BY gv.form_id
    ), ruled AS (
        SELECT wr.*, coalesce(wr.form_type_norm, 'UNKNOWN') AS ftype,
               bs.f_income, bs.f_se, bs.f_withholding, bs.f_subtracted, bs.f_ss_wages, bs.f_medicare_wages,
               bs.f_preferential, coalesce(bs.se_flagged, false) AS se_flagged,
               regexp_split_to_array(upper(regexp_replace(coalesce(public.md_text(bs.code_value), ''),
                   '[^A-Za-z0-9]', '', 'g')), '') AS codes
        FROM with_rule wr
        LEFT JOIN box_sums bs ON bs.form_id = wr.form_id
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
    ), seqs AS (  -- the repeat number, sorting only the columns it needs (whole rows spilled to disk)
        SELECT wr.form_id,
               row_number() OVER (PARTITION BY wr.payload_no, wr.tax_year, wr.owner,
                                               coalesce(wr.form_type_norm, 'UNKNOWN'), wr.fingerprint
                                  ORDER BY wr.ord)::int AS seq
        FROM with_rule wr
    ), numbered AS (
        SELECT f.*, s.seq FROM final f JOIN seqs s ON s.form_id = f.form_id
    )
    SELECT n.payload_no, n.tax_year, n.year_raw, n.ftype, n.form_type_raw, n.owner,
           round(n.gross, 2), round(coalesce(n.f_withholding, n.form_withholding, 0), 2), round(n.se_amt, 2),
           CASE WHEN cardinality(n.ss_wage_fields) > 0 THEN round(coalesce(n.f_ss_wages, n.gross), 2) END,
           CASE WHEN cardinality(n.medicare_wage_fields) > 0 THEN round(coalesce(n.f_medicare_wages, n.gross), 2) END,
           round(least(greatest(coalesce(n.f_preferential, 0), 0), greatest(n.gross, 0)), 2),
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

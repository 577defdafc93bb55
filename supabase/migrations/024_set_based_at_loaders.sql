-- 024: the AT loaders set-based: a bronze statement's cases in one statement per silver table.
--
-- 018 ran the AT loader case by case inside a batch: per case, its parse, then one upsert and
-- delete each for tax_years, account_activity and at_unplaced_records (with the tax_years
-- statement triggers firing three times), then the CSED. Now the three load statements take
-- the cases of the whole statement at once (the `_set` functions below: 002's statements with
-- the case id carried along, grouped and matched by it), and silver_load_at_set drives them:
-- each payload parsed once, the three statements, then each case's csed_refresh.
--
--   * silver_load_at(bronze_id), the per-case loader (and the fallback path), calls it with one
--     case, so the rule is written once; its existence check and messages are unchanged.
--   * silver_load_at_batch(bronze_ids) is the batch path's AT loader (as silver_load_wi_batch);
--     silver_load_batch (018) calls it instead of silver_load_at per case.
--   * 002's per-case at_load_tax_years / at_load_activity / at_load_unplaced are dropped: the
--     `_set` functions replace them (nothing else called them).
--
-- Nothing a load writes changes: bench/diff_triggers compares every silver and gold row, and
-- the AT and CSED suites (tests/schema) run unchanged.

-- 002's three AT load statements for several cases: each row carries its case id, and every
-- partition, grouping, match and delete is per case as well. The parsed rows come as two
-- parallel arrays (case ids, rows); unnest(case_ids, rows) names the first column `unnest` and
-- expands each row's fields into columns.
CREATE OR REPLACE FUNCTION public.at_load_tax_years_set(p_cases text[], p_bronze_ids uuid[],
    p_record_cases text[], p_records public.at_record[], p_line_cases text[], p_lines public.at_line[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH bronze AS (
        SELECT b.case_id, b.bronze_id FROM unnest(p_cases, p_bronze_ids) AS b(case_id, bronze_id)
    ), rec AS (
        SELECT x.unnest AS case_id, x.* FROM unnest(p_record_cases, p_records) AS x WHERE x.tax_year IS NOT NULL
    ), txn AS (
        SELECT t.unnest AS case_id, t.tax_year, t.activity_date, t.transaction_code, coalesce(t.explanation, '') AS expl
        FROM unnest(p_line_cases, p_lines) AS t WHERE t.tax_year IS NOT NULL
    ), primary_rec AS (  -- the record that supplies the year's summary: taxpayer's first
        SELECT DISTINCT ON (rec.case_id, rec.tax_year) rec.*,
               count(*) OVER (PARTITION BY rec.case_id, rec.tax_year) AS n_records,
               bool_or(rec.filed_flag) OVER (PARTITION BY rec.case_id, rec.tax_year) AS any_filed_flag
        FROM rec ORDER BY rec.case_id, rec.tax_year, (rec.owner = 'TP') DESC, rec.record_ord
    ), from_lines AS (   -- TC 150 text rule (business-rules.md 2.3, 2.7)
        SELECT case_id, tax_year,
               bool_or(transaction_code = '150' AND expl !~* 'substitute|\mSFR\M|not filed|no return filed|unfiled|missing return') AS filed_150,
               bool_or(transaction_code = '150' AND expl ~* 'substitute|\mSFR\M') AS is_sfr,
               min(activity_date) FILTER (WHERE transaction_code = '150'
                   AND expl !~* 'substitute|\mSFR\M|not filed|no return filed|unfiled|missing return') AS filed_date
        FROM txn GROUP BY case_id, tax_year
    ), upserted AS (
        INSERT INTO public.tax_years AS ty (
            case_id, tax_year, filing_status, filing_status_raw, return_filed, return_filed_source, is_sfr,
            return_filed_date, processing_date, adjusted_gross_income, taxable_income, tax_per_return, total_se_tax,
            account_balance, accrued_interest, accrued_penalty, total_balance, owner, source_file, at_record_count, bronze_id)
        SELECT pr.case_id, pr.tax_year, public.at_filing_status(pr.filing_status_raw), pr.filing_status_raw,
               coalesce(pr.filed_flag, pr.any_filed_flag, coalesce(fl.filed_150, false)),
               CASE WHEN coalesce(pr.filed_flag, pr.any_filed_flag) IS NOT NULL THEN 'payload' ELSE 'transactions' END,
               coalesce(fl.is_sfr, false),
               coalesce(pr.return_filed_date, fl.filed_date), pr.processing_date,
               pr.adjusted_gross_income, pr.taxable_income, pr.tax_per_return, pr.total_se_tax,
               pr.account_balance, pr.accrued_interest, pr.accrued_penalty, pr.total_balance,
               pr.owner, pr.source_file, pr.n_records, b.bronze_id
        FROM primary_rec AS pr LEFT JOIN from_lines AS fl USING (case_id, tax_year) JOIN bronze AS b USING (case_id)
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
    WHERE ty.case_id = ANY (p_cases) AND ty.bronze_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM rec WHERE rec.case_id = ty.case_id AND rec.tax_year = ty.tax_year);
END
$$;

CREATE OR REPLACE FUNCTION public.at_load_activity_set(p_cases text[], p_bronze_ids uuid[],
    p_line_cases text[], p_lines public.at_line[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH bronze AS (
        SELECT b.case_id, b.bronze_id FROM unnest(p_cases, p_bronze_ids) AS b(case_id, bronze_id)
    ), numbered AS (
        SELECT t.unnest AS case_id, t.*,
               row_number() OVER (PARTITION BY t.unnest, t.tax_year, t.owner, t.record_ord, t.transaction_code,
                                               t.activity_date, t.amount ORDER BY t.txn_ord)::integer AS occurrence
        FROM unnest(p_line_cases, p_lines) AS t WHERE t.tax_year IS NOT NULL
    ), lines AS (  -- a line repeated in a second record of the same year and owner (same PDF twice) counts once
        SELECT DISTINCT ON (case_id, tax_year, owner, transaction_code, activity_date, amount, occurrence) *
        FROM numbered ORDER BY case_id, tax_year, owner, transaction_code, activity_date, amount, occurrence, record_ord
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
        SELECT e.case_id, e.tax_year, e.owner, e.activity_date, e.transaction_code, e.transaction_code_raw,
               coalesce(e.explanation, e.meaning),
               CASE WHEN e.explanation IS NOT NULL THEN 'transcript' WHEN e.meaning IS NOT NULL THEN 'rule' END, e.amount, e.running_balance, e.action_code, e.closing_code,
               coalesce(e.rule_type, CASE WHEN e.transaction_code IS NULL THEN 'informational' ELSE 'unknown' END),
               coalesce(e.rule_balance, false), coalesce(e.rule_assessment, false), e.collection, e.rule_conf,
               e.occurrence, e.txn_ord, b.bronze_id
        FROM enriched AS e JOIN bronze AS b USING (case_id)
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
    WHERE aa.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM lines AS l
                      WHERE l.case_id = aa.case_id AND l.tax_year = aa.tax_year AND l.owner = aa.owner
                        AND l.transaction_code IS NOT DISTINCT FROM aa.transaction_code
                        AND l.activity_date IS NOT DISTINCT FROM aa.activity_date
                        AND l.amount IS NOT DISTINCT FROM aa.amount AND l.occurrence = aa.occurrence);
END
$$;

CREATE OR REPLACE FUNCTION public.at_load_unplaced_set(p_cases text[], p_bronze_ids uuid[],
    p_record_cases text[], p_records public.at_record[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH bronze AS (
        SELECT b.case_id, b.bronze_id FROM unnest(p_cases, p_bronze_ids) AS b(case_id, bronze_id)
    ), unplaced AS (
        SELECT x.unnest AS case_id, x.* FROM unnest(p_record_cases, p_records) AS x WHERE x.tax_year IS NULL
    ), upserted AS (
        INSERT INTO public.at_unplaced_records AS u (case_id, record_index, raw_tax_year, owner, source_file,
                                                     transaction_count, reason, record, bronze_id)
        SELECT x.case_id, x.record_ord, x.raw_tax_year, x.owner, x.source_file, x.transaction_count,
               'tax year unreadable: ' || coalesce(quote_literal(x.raw_tax_year), 'missing'), x.rec, b.bronze_id
        FROM unplaced AS x JOIN bronze AS b USING (case_id)
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
    WHERE u.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM unplaced AS x WHERE x.case_id = u.case_id AND x.record_ord = u.record_index);
END
$$;

-- An AT load for the given cases (one bronze row and payload each, distinct cases).
-- enable_seqscan off: the case_id = ANY (...) statements run with generic plans inside a
-- promotion; a plan made while a table was small would keep scanning it (019).
CREATE OR REPLACE FUNCTION public.silver_load_at_set(p_cases text[], p_bronze_ids uuid[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    v_record_cases text[];
    v_records public.at_record[];
    v_line_cases text[];
    v_lines public.at_line[];
    v_case text;
BEGIN
    -- parse each payload once (records, then their lines), flattened with each element's case;
    -- a payload shape the parsers cannot read RAISEs here, before any write
    WITH parsed AS MATERIALIZED (
        SELECT x.case_id, x.n, pr.recs, ARRAY(SELECT l FROM public.at_record_lines(pr.recs) AS l) AS lines
        FROM unnest(p_cases, p_payloads) WITH ORDINALITY AS x(case_id, p, n)
        CROSS JOIN LATERAL (SELECT ARRAY(SELECT r::public.at_record FROM public.at_parsed_records(x.p) AS r) AS recs
                            OFFSET 0) AS pr
    )
    SELECT r.cases, r.elems, l.cases, l.elems INTO v_record_cases, v_records, v_line_cases, v_lines
    FROM (SELECT coalesce(array_agg(p.case_id ORDER BY p.n, i), '{}') AS cases,
                 coalesce(array_agg(p.recs[i] ORDER BY p.n, i), '{}') AS elems
          FROM parsed AS p, generate_subscripts(p.recs, 1) AS i) AS r,
         (SELECT coalesce(array_agg(p.case_id ORDER BY p.n, i), '{}') AS cases,
                 coalesce(array_agg(p.lines[i] ORDER BY p.n, i), '{}') AS elems
          FROM parsed AS p, generate_subscripts(p.lines, 1) AS i) AS l;
    PERFORM public.at_load_tax_years_set(p_cases, p_bronze_ids, v_record_cases, v_records, v_line_cases, v_lines);
    PERFORM public.at_load_activity_set(p_cases, p_bronze_ids, v_line_cases, v_lines);
    PERFORM public.at_load_unplaced_set(p_cases, p_bronze_ids, v_record_cases, v_records);
    FOREACH v_case IN ARRAY p_cases LOOP
        PERFORM public.csed_refresh(v_case);
    END LOOP;
END
$$;

-- 002's per-case loader: its existence check unchanged, then the set load for its one case.
CREATE OR REPLACE FUNCTION public.silver_load_at(p_bronze_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_case_id text;
    v_payload jsonb;
BEGIN
    SELECT b.case_id, public.md_detoast(b.raw_response) INTO v_case_id, v_payload
    FROM public.bronze_at_raw AS b WHERE b.bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_at_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM public.silver_load_at_set(ARRAY[v_case_id], ARRAY[p_bronze_id], ARRAY[v_payload]);
END
$$;

-- AT for many bronze rows (one per case), as silver_load_wi_batch (018).
CREATE OR REPLACE FUNCTION public.silver_load_at_batch(p_bronze_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cases text[];
    v_ids uuid[];
    v_payloads jsonb[];
BEGIN
    SELECT array_agg(b.case_id ORDER BY b.case_id), array_agg(b.bronze_id ORDER BY b.case_id),
           array_agg(public.md_detoast(b.raw_response) ORDER BY b.case_id)
    INTO v_cases, v_ids, v_payloads
    FROM public.bronze_at_raw AS b WHERE b.bronze_id = ANY (p_bronze_ids);
    IF coalesce(cardinality(v_ids), 0) <> cardinality(p_bronze_ids)
       OR cardinality(v_cases) <> (SELECT count(DISTINCT c) FROM unnest(v_cases) AS c) THEN
        RAISE EXCEPTION 'silver_load_at_batch: expected one existing bronze row per case';
    END IF;
    PERFORM public.silver_load_at_set(v_cases, v_ids, v_payloads);
END
$$;
ALTER FUNCTION public.silver_load_at_batch(uuid[]) SET enable_seqscan = off;

-- 018's batch dispatcher with the AT branch set-based.
CREATE OR REPLACE FUNCTION public.silver_load_batch(p_source text, p_bronze_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_source = 'wi' THEN
        PERFORM public.silver_load_wi_batch(p_bronze_ids);
    ELSIF p_source = 'trt' THEN
        PERFORM public.silver_load_trt_batch(p_bronze_ids);
    ELSIF p_source = 'at' THEN
        PERFORM public.silver_load_at_batch(p_bronze_ids);
    ELSIF p_source = 'interview' THEN
        FOREACH v_id IN ARRAY p_bronze_ids LOOP
            PERFORM public.silver_load_interview(v_id);
        END LOOP;
    ELSE
        RAISE EXCEPTION 'silver_load_batch: unknown source %', p_source;
    END IF;
END
$$;

DROP FUNCTION IF EXISTS public.at_load_tax_years(text, uuid, public.at_record[], public.at_line[]);
DROP FUNCTION IF EXISTS public.at_load_activity(text, uuid, public.at_line[]);
DROP FUNCTION IF EXISTS public.at_load_unplaced(text, uuid, public.at_record[]);

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

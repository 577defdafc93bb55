-- 018: a bronze statement that brings several cases is promoted as one batch.
--
-- Before, trg_bronze_promote promoted each case of the statement on its own: one
-- sub-transaction, one dynamic `EXECUTE 'SELECT silver_load_<src>($1)'` (parsed and planned
-- each time) and the loader's statements, per case. Now, when the statement brings two or more
-- cases, it first tries them all at once, inside one sub-transaction:
--
--   * W&I and TRT: one INSERT ... ON CONFLICT and one DELETE for all the statement's cases
--     (silver_load_wi_batch, silver_load_trt_batch), the same per-payload parse (wi_documents,
--     trt_parsed_records) applied LATERAL to each payload. That statement is written once, in
--     silver_upsert_wi / silver_upsert_trt (arrays of cases, bronze ids, payloads); the per-case
--     loaders silver_load_wi / silver_load_trt are redefined here to keep their own checks and
--     messages and call it with one case;
--   * AT and the interview: the per-case loaders called in turn, without a sub-transaction each.
--
-- If the batch raises (a malformed payload, anything), its sub-transaction rolls back (its
-- silver rows and its gold notes with it) and the statement is promoted case by case as before,
-- so a bad payload still becomes one transformation_errors row for its case only, and every
-- bronze row still commits. A statement with one case takes the per-case path directly.
-- Gold is refreshed after either path exactly as before (once per noted case, noted parts).
--
-- medallion.promotion_path (transaction-local) says which path the last bronze statement took:
-- 'batch:<source>:<cases>' or 'per_case:<source>:<cases>' (tests and benches read it).

-- The W&I rule, in one place: upsert what each payload says (only rows whose values differ are
-- rewritten), delete what each case held that its payload no longer says; one statement for all
-- the cases given (one bronze row and payload each, distinct cases). silver_load_wi passes its one
-- case, silver_load_wi_batch a statement's cases. No checks here: each caller makes its own.
CREATE OR REPLACE FUNCTION public.silver_upsert_wi(p_cases text[], p_bronze_ids uuid[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH docs AS (
        SELECT x.case_id, x.bronze_id, d.*
        FROM unnest(p_cases, p_bronze_ids, p_payloads) AS x(case_id, bronze_id, p)
        CROSS JOIN LATERAL public.wi_documents(x.p) AS d
    ), upserted AS (
        INSERT INTO public.income_documents AS t (
            case_id, tax_year, tax_year_raw, form_type, form_type_raw, owner, gross_amount, federal_withholding,
            se_amount, ss_wages, medicare_wages, preferential_amount, early_distribution_amount, category, income_kind,
            is_self_employment, include_in_projection, requires_confirmation, rule_id, amount_source, upstream_income,
            upstream_category, issuer_name, issuer_id, issuer_address, recipient_name, recipient_id, recipient_address,
            fields, flags, doc_fingerprint, doc_seq, bronze_id)
        SELECT d.case_id, d.tax_year, d.tax_year_raw, d.form_type, d.form_type_raw, d.owner, d.gross_amount,
               d.federal_withholding, d.se_amount, d.ss_wages, d.medicare_wages, d.preferential_amount,
               d.early_distribution_amount, d.category, d.income_kind, d.is_self_employment, d.include_in_projection,
               d.requires_confirmation, d.rule_id, d.amount_source, d.upstream_income, d.upstream_category,
               d.issuer_name, d.issuer_id, d.issuer_address, d.recipient_name, d.recipient_id, d.recipient_address,
               d.fields, d.flags, d.doc_fingerprint, d.doc_seq, d.bronze_id
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
    WHERE t.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM docs d
                      WHERE d.case_id = t.case_id
                        AND d.tax_year IS NOT DISTINCT FROM t.tax_year AND d.owner = t.owner
                        AND d.form_type = t.form_type AND d.doc_fingerprint = t.doc_fingerprint AND d.doc_seq = t.doc_seq);
END
$$;

-- The TRT rule, in one place (silver_load_trt: one case; silver_load_trt_batch: a statement's);
-- occurrence numbers records with the same natural key within each case's payload.
CREATE OR REPLACE FUNCTION public.silver_upsert_trt(p_cases text[], p_bronze_ids uuid[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH parsed AS (
        SELECT x.case_id, x.bronze_id, t.*,
               row_number() OVER (PARTITION BY x.case_id, t.tax_year, t.tax_period_ending, t.form_number,
                                               t.line_number, t.sub_category, t.description
                                  ORDER BY t.record_ord)::integer AS occurrence
        FROM unnest(p_cases, p_bronze_ids, p_payloads) AS x(case_id, bronze_id, p)
        CROSS JOIN LATERAL public.trt_parsed_records(x.p) AS t
    ), upserted AS (
        INSERT INTO public.trt_records AS tr (case_id, tax_year, response_date, form_number, tax_period_ending,
            primary_ssn_last4, spouse_ssn_last4, type, category, sub_category, line_number, description, data,
            numeric_value, occurrence, record_index, bronze_id)
        SELECT x.case_id, x.tax_year, x.response_date, x.form_number, x.tax_period_ending,
               nullif(x.primary_ssn_last4, ''), nullif(x.spouse_ssn_last4, ''), x.type, x.category, x.sub_category,
               x.line_number, x.description, x.data, x.numeric_value, x.occurrence, x.record_ord, x.bronze_id
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
    WHERE tr.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM parsed AS x
                      WHERE x.case_id = tr.case_id
                        AND x.tax_year IS NOT DISTINCT FROM tr.tax_year
                        AND x.tax_period_ending IS NOT DISTINCT FROM tr.tax_period_ending
                        AND x.form_number IS NOT DISTINCT FROM tr.form_number
                        AND x.line_number IS NOT DISTINCT FROM tr.line_number
                        AND x.sub_category IS NOT DISTINCT FROM tr.sub_category
                        AND x.description IS NOT DISTINCT FROM tr.description
                        AND x.occurrence = tr.occurrence);
END
$$;

-- 007's per-case W&I loader: its checks and error messages unchanged, then the shared statement.
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

    PERFORM public.silver_upsert_wi(ARRAY[v_case], ARRAY[p_bronze_id], ARRAY[v_payload]);

    SELECT count(*) INTO v_count FROM public.income_documents WHERE case_id = v_case;
    RETURN v_count;
END
$$;

-- W&I for many bronze rows (one per case). RAISEs if any payload would fail its per-case load's
-- checks; the caller then falls back to the per-case path, which records the error.
CREATE OR REPLACE FUNCTION public.silver_load_wi_batch(p_bronze_ids uuid[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_cases text[];
    v_ids uuid[];
    v_payloads jsonb[];
    v_bad uuid;
    v_count integer;
BEGIN
    SELECT array_agg(b.case_id ORDER BY b.case_id), array_agg(b.bronze_id ORDER BY b.case_id),
           array_agg(public.md_detoast(b.raw_response) ORDER BY b.case_id)
    INTO v_cases, v_ids, v_payloads
    FROM public.bronze_wi_raw AS b WHERE b.bronze_id = ANY (p_bronze_ids);
    IF coalesce(cardinality(v_ids), 0) <> cardinality(p_bronze_ids)
       OR cardinality(v_cases) <> (SELECT count(DISTINCT c) FROM unnest(v_cases) AS c) THEN
        RAISE EXCEPTION 'silver_load_wi_batch: expected one existing bronze row per case';
    END IF;
    -- the per-case loader's checks (silver_load_wi), for every payload at once
    SELECT x.bronze_id INTO v_bad
    FROM unnest(v_ids, v_payloads) AS x(bronze_id, p)
    WHERE NOT public.wi_payload_recognised(x.p)
       OR (EXISTS (SELECT 1 FROM public.wi_form_entries(x.p))
           AND NOT EXISTS (SELECT 1 FROM public.wi_form_entries(x.p) AS e
                           WHERE jsonb_typeof(e.form) = 'object' AND e.form <> '{}'::jsonb))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'silver_load_wi_batch: bronze_wi_raw row % fails the W&I checks', v_bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    PERFORM public.silver_upsert_wi(v_cases, v_ids, v_payloads);

    SELECT count(*) INTO v_count FROM public.income_documents WHERE case_id = ANY (v_cases);
    RETURN v_count;
END
$$;

-- 002's per-case TRT loader: its existence check unchanged, then the shared statement.
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
    PERFORM public.silver_upsert_trt(ARRAY[v_case_id], ARRAY[p_bronze_id], ARRAY[v_payload]);
END
$$;

-- TRT for many bronze rows (one per case): the shared statement for all of them.
CREATE OR REPLACE FUNCTION public.silver_load_trt_batch(p_bronze_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cases text[];
    v_ids uuid[];
    v_payloads jsonb[];
BEGIN
    SELECT array_agg(b.case_id ORDER BY b.case_id), array_agg(b.bronze_id ORDER BY b.case_id),
           array_agg(public.md_detoast(b.raw_response) ORDER BY b.case_id)
    INTO v_cases, v_ids, v_payloads
    FROM public.bronze_trt_raw AS b WHERE b.bronze_id = ANY (p_bronze_ids);
    IF coalesce(cardinality(v_ids), 0) <> cardinality(p_bronze_ids)
       OR cardinality(v_cases) <> (SELECT count(DISTINCT c) FROM unnest(v_cases) AS c) THEN
        RAISE EXCEPTION 'silver_load_trt_batch: expected one existing bronze row per case';
    END IF;
    PERFORM public.silver_upsert_trt(v_cases, v_ids, v_payloads);
END
$$;

-- The batch for one source: set-based where a batch loader exists, else the per-case loaders in
-- turn (in case order, like the per-case path). Raises on the first failure.
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
        FOREACH v_id IN ARRAY p_bronze_ids LOOP
            PERFORM public.silver_load_at(v_id);
        END LOOP;
    ELSIF p_source = 'interview' THEN
        FOREACH v_id IN ARRAY p_bronze_ids LOOP
            PERFORM public.silver_load_interview(v_id);
        END LOOP;
    ELSE
        RAISE EXCEPTION 'silver_load_batch: unknown source %', p_source;
    END IF;
END
$$;

-- 017's trigger with the batch in front of the per-case loop (the rest unchanged).
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
    FOR refresh IN
        SELECT latest.case_id, latest.bronze_id, noted.parts
        FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(DISTINCT split_part(token, ':', 2)) AS parts
              FROM unnest(pending) AS token GROUP BY 1) AS noted
        JOIN (SELECT DISTINCT ON (n.case_id) n.case_id, n.bronze_id FROM new_rows AS n
              ORDER BY n.case_id, n.ingest_seq DESC) AS latest USING (case_id)
        ORDER BY latest.case_id
    LOOP
        PERFORM public.gold_refresh_case(refresh.case_id, TG_TABLE_NAME::text COLLATE "default", refresh.bronze_id, refresh.parts);
    END LOOP;
    RETURN NULL;
END
$function$;

-- Functions created after 020 need its grants (anon may execute nothing). On a fresh database
-- 018 runs before 020, which does this itself.
DO $$
BEGIN
    IF to_regprocedure('public.apply_row_level_security()') IS NOT NULL THEN
        PERFORM public.apply_row_level_security();
    END IF;
END
$$;

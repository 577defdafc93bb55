-- 028: an interview bronze statement writes logiqs_raw_data with one statement for all its cases
-- (docs/05 section 11).
--
-- The batch path (018) still ran the interview loader case by case: per case one upsert of the
-- logiqs_raw_data row, and with it both of that table's statement triggers (insert and update),
-- each deciding which gold parts the case needs. Now:
--
--   * interview_record(case_id, bronze_id, payload) is 007's loader without the write: the
--     wrappers unwrapped, the cells read, the payload checked (the same messages), the row built;
--   * logiqs_raw_data_upsert_batch(rows[]) upserts many rows in one statement (the generator
--     logiqs_raw_data_upsert_function() now writes it, and logiqs_raw_data_upsert(row) calls it
--     with one row);
--   * silver_load_interview(bronze_id) is the two for one case; silver_load_interview_batch(
--     bronze_ids) builds every row first (a payload that fails a check RAISEs before any write, and
--     the caller falls back to the per-case path, which records the error, as for W&I) and
--     upserts them at once; silver_load_batch calls it.
--
-- Nothing a load writes changes (bench/diff_triggers); the interview suites run unchanged.

CREATE OR REPLACE FUNCTION public.interview_record(p_case_id text, p_bronze_id uuid, p jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_cells jsonb;
    v_sections text[] := ARRAY['employment', 'household', 'assets', 'income', 'expenses', 'raw_data',
                               'Result', 'result', 'irs_standards'];
BEGIN
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

    RETURN v_cells || jsonb_build_object(
        'case_id', p_case_id,
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
END
$$;

-- 007's generator, now writing the many-row upsert (rows given as jsonb objects of column values;
-- one row per case) and the one-row upsert that calls it. Re-run it after adding cells to the map.
CREATE OR REPLACE FUNCTION public.logiqs_raw_data_upsert_function()
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    ins_cols text;
    sel_cols text;
    upd_cols text;
    excl_cols text;
    tgt_cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg('x.' || quote_ident(attname), ', ' ORDER BY attnum),
           string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id'),
           string_agg('excluded.' || quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id'),
           string_agg('t.' || quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname <> 'case_id')
      INTO ins_cols, sel_cols, upd_cols, excl_cols, tgt_cols
    FROM pg_attribute
    WHERE attrelid = 'public.logiqs_raw_data'::regclass AND attnum > 0 AND NOT attisdropped
      AND attgenerated = '' AND attname NOT IN ('created_at', 'updated_at');
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION public.logiqs_raw_data_upsert_batch(p_rows jsonb[])
        RETURNS void LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO public.logiqs_raw_data AS t (%1$s)
            SELECT %2$s FROM unnest(p_rows) AS r(row_value)
            CROSS JOIN LATERAL jsonb_populate_record(NULL::public.logiqs_raw_data, r.row_value) AS x
            ON CONFLICT (case_id) DO UPDATE SET (%3$s, updated_at) = ROW(%4$s, now())
            WHERE (%5$s) IS DISTINCT FROM (%4$s);
        END
        $body$ $f$, ins_cols, sel_cols, upd_cols, excl_cols, tgt_cols);
    CREATE OR REPLACE FUNCTION public.logiqs_raw_data_upsert(p_row jsonb)
    RETURNS void LANGUAGE sql AS $body$
        SELECT public.logiqs_raw_data_upsert_batch(ARRAY[p_row]);
    $body$;
END
$fn$;
SELECT public.logiqs_raw_data_upsert_function();

-- One case: 007's loader (its existence check and messages unchanged).
CREATE OR REPLACE FUNCTION public.silver_load_interview(p_bronze_id uuid)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_case text;
    v_payload jsonb;
    v_rec jsonb;
BEGIN
    SELECT case_id, public.md_detoast(raw_response) INTO v_case, v_payload
    FROM public.bronze_interview_raw WHERE bronze_id = p_bronze_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bronze_interview_raw row % does not exist', p_bronze_id USING ERRCODE = 'no_data_found';
    END IF;
    v_rec := public.interview_record(v_case, p_bronze_id, v_payload);
    PERFORM public.logiqs_raw_data_upsert_batch(ARRAY[v_rec]);
    RETURN (v_rec ->> 'cells_found')::integer;
END
$$;

-- Many bronze rows (one per case): every row built (and checked) first, then one upsert.
CREATE OR REPLACE FUNCTION public.silver_load_interview_batch(p_bronze_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_rows jsonb[];
BEGIN
    SELECT array_agg(public.interview_record(b.case_id, b.bronze_id, public.md_detoast(b.raw_response))
                     ORDER BY b.case_id)
    INTO v_rows
    FROM public.bronze_interview_raw AS b WHERE b.bronze_id = ANY (p_bronze_ids);
    IF coalesce(cardinality(v_rows), 0) <> cardinality(p_bronze_ids)
       OR cardinality(v_rows) <> (SELECT count(DISTINCT r ->> 'case_id') FROM unnest(v_rows) AS r) THEN
        RAISE EXCEPTION 'silver_load_interview_batch: expected one existing bronze row per case';
    END IF;
    PERFORM public.logiqs_raw_data_upsert_batch(v_rows);
END
$$;

-- 024's batch dispatcher with the interview branch set-based too.
CREATE OR REPLACE FUNCTION public.silver_load_batch(p_source text, p_bronze_ids uuid[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_source = 'wi' THEN
        PERFORM public.silver_load_wi_batch(p_bronze_ids);
    ELSIF p_source = 'trt' THEN
        PERFORM public.silver_load_trt_batch(p_bronze_ids);
    ELSIF p_source = 'at' THEN
        PERFORM public.silver_load_at_batch(p_bronze_ids);
    ELSIF p_source = 'interview' THEN
        PERFORM public.silver_load_interview_batch(p_bronze_ids);
    ELSE
        RAISE EXCEPTION 'silver_load_batch: unknown source %', p_source;
    END IF;
END
$$;

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

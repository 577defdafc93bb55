-- 034: the projections are synced as table rows, not through jsonb.
--
-- 023's gold_refresh_projections_batch computes the projections as tax_projections rows, turns
-- each into jsonb (to_jsonb minus the two timestamps), aggregates them into one jsonb array, and
-- hands that to gold_sync_tax_projections_batch, which parses it back into rows with
-- jsonb_populate_recordset. For the ~2,300 projections of a 500-case W&I statement the round
-- trip cost ~60-85 ms (~30 us a row, docs/05 section 12) against ~5 ms for array_agg and unnest
-- of the same rows. The sync statement is unchanged apart from its source of rows:
--   * gold_sync_statement gets a fifth argument, p_rows_typed: the rows expression is then an
--     array of the table's row type, read with unnest(...) instead of jsonb_populate_recordset
--     (003's four-argument form calls it with false, so every other generated function is
--     the same text as before);
--   * gold_sync_functions writes gold_sync_tax_projections_rows(cases[], rows
--     tax_projections[]) from it, and only the functions something calls: the several-cases
--     jsonb sync of each interview gold table. The per-case jsonb syncs (003) have had no caller
--     since 023 sent every refresh through the batch ones, and the projections' jsonb batch has
--     none after this migration: dropped;
--   * gold_refresh_projections_batch passes the projection rows as an array, in the same order.
-- Columns missing from a row still take their defaults through the statement's coalesce (the
-- timestamps are not among the synced columns either way). bench/diff_triggers finds every row
-- identical.

-- The sync statement of 003, reading its rows from jsonb (p_rows_typed false) or from an array
-- of the table's row type (true).
CREATE OR REPLACE FUNCTION public.gold_sync_statement(p_table text, p_keys text[], p_rows_expr text, p_case_expr text,
                                                     p_rows_typed boolean)
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
            SELECT %8$s FROM %9$s
        ), upserted AS (
            INSERT INTO public.%2$I AS t (%1$s)
            SELECT %1$s FROM wanted
            ON CONFLICT (%3$s) DO UPDATE SET (%4$s, updated_at) = ROW(%5$s, now())
            WHERE (%6$s) IS DISTINCT FROM (%5$s)
            RETURNING 1
        )
        DELETE FROM public.%2$I d
        WHERE d.case_id = %10$s AND NOT EXISTS (SELECT 1 FROM wanted w WHERE %7$s)$q$,
        all_cols, p_table, key_cols, val_cols, excl_cols, tgt_cols, key_match, sel_cols,
        CASE WHEN p_rows_typed THEN format('unnest(%s)', p_rows_expr)
             ELSE format('jsonb_populate_recordset(NULL::public.%I, coalesce(%s, ''[]''::jsonb))', p_table, p_rows_expr) END,
        p_case_expr);
END
$$;

-- 003's form: jsonb rows.
CREATE OR REPLACE FUNCTION public.gold_sync_statement(p_table text, p_keys text[], p_rows_expr text, p_case_expr text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT public.gold_sync_statement(p_table, p_keys, p_rows_expr, p_case_expr, false);
$$;

-- 023's generator: the jsonb batch sync of each interview gold table, the typed projections sync.
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
            ('monthly_expenses', ARRAY['case_id', 'source_key'])) AS g(tbl, keys)
    LOOP
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION public.%I(p_cases text[], p_rows jsonb)
            RETURNS void LANGUAGE plpgsql AS $body$
            BEGIN
                %s;
            END
            $body$ $f$, 'gold_sync_' || t.tbl || '_batch',
            public.gold_sync_statement(t.tbl, t.keys, 'p_rows', 'ANY (p_cases)'));
    END LOOP;
    -- the projections' rows come from a query as table rows: synced as such (034)
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION public.gold_sync_tax_projections_rows(p_cases text[], p_rows public.tax_projections[])
        RETURNS void LANGUAGE plpgsql AS $body$
        BEGIN
            %s;
        END
        $body$ $f$, public.gold_sync_statement('tax_projections', ARRAY['case_id', 'tax_year'], 'p_rows',
                                               'ANY (p_cases)', true));
END
$fn$;
SELECT public.gold_sync_functions();
DROP FUNCTION IF EXISTS public.gold_sync_tax_projections_batch(text[], jsonb);
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['employment_information', 'household_information', 'financial_accounts', 'vehicles',
                               'real_property', 'income_sources', 'monthly_expenses', 'tax_projections'] LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS public.%I(text, jsonb)', 'gold_sync_' || tbl);
    END LOOP;
END
$$;

-- 029's refresh, syncing the projection rows as rows.
CREATE OR REPLACE FUNCTION public.gold_refresh_projections_batch(p_cases text[])
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_cases text[];
    v_pair_cases text[];
    v_pair_years integer[];
BEGIN
    SELECT array_agg(c.case_id ORDER BY c.case_id) INTO v_cases
    FROM (SELECT d.case_id FROM public.income_documents AS d WHERE d.case_id = ANY (p_cases) AND d.tax_year IS NOT NULL
          UNION
          SELECT t.case_id FROM public.tax_projections AS t WHERE t.case_id = ANY (p_cases)) AS c;
    IF v_cases IS NULL THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(y.case_id), '{}'), coalesce(array_agg(y.tax_year), '{}')
      INTO v_pair_cases, v_pair_years
    FROM (SELECT DISTINCT d.case_id, d.tax_year FROM public.income_documents AS d
          WHERE d.case_id = ANY (v_cases) AND d.tax_year IS NOT NULL) AS y;
    PERFORM public.gold_sync_tax_projections_rows(v_cases, ARRAY(
        SELECT p FROM public.tax_projection_rows(v_pair_cases, v_pair_years) AS p ORDER BY p.case_id, p.tax_year));
END
$$;

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

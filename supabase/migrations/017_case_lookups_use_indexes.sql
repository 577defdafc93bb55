-- 017: case-id lookups inside the promotion use their indexes again.
--
-- A PL/pgSQL function takes the collation of its call from its arguments, and the database
-- default collation loses to any other implicit one. The triggers passed TG_TABLE_NAME (type
-- name, collation "C") next to the case id, e.g. gold_refresh_case(case_id, TG_TABLE_NAME, ...),
-- so inside the callee every `case_id = p_case_id` compared in "C", which the default-collation
-- indexes cannot serve: each lookup by case in bronze_latest_hash and in the gold refreshes was a
-- sequential scan, and a case's promotion grew with the data stored (26.6 ms with 20 cases stored,
-- 128.5 ms with 1,020: docs/05 section 7). Each call now passes the table name as
-- `TG_TABLE_NAME::text COLLATE "default"`. The triggers defined by the migrations that had
-- already shipped (001, 003) are redefined here, their bodies otherwise the current definitions
-- (with 012's settings) unchanged; 011's and 015's triggers carry the cast in their own files.
-- Keep the cast in any new trigger that passes TG_TABLE_NAME beside a case id
-- (tests/schema_gold/test_case_lookups_use_indexes.py checks it).

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
BEGIN
    PERFORM set_config('medallion.gold_deferred', 'on', true);
    PERFORM set_config('medallion.gold_pending', '', true);
    FOR row_to_promote IN
        SELECT DISTINCT ON (case_id) bronze_id, case_id
        FROM new_rows
        ORDER BY case_id, ingest_seq DESC
    LOOP
        PERFORM public.promote_bronze_row(TG_ARGV[0], row_to_promote.bronze_id, row_to_promote.case_id);
    END LOOP;
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

CREATE OR REPLACE FUNCTION public.trg_silver_refresh_gold()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id FROM new_rows GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id);
        END LOOP;
    ELSIF TG_OP = 'UPDATE' THEN
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id
                 FROM (SELECT case_id, bronze_id FROM new_rows UNION ALL SELECT case_id, NULL::uuid FROM old_rows) AS x
                 GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id);
        END LOOP;
    ELSE
        FOR c IN SELECT case_id, (array_agg(bronze_id))[1] AS bronze_id FROM old_rows GROUP BY case_id ORDER BY case_id LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id);
        END LOOP;
    END IF;
    RETURN NULL;
END
$function$;

CREATE OR REPLACE FUNCTION public.trg_tax_years_refresh_gold()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR c IN SELECT DISTINCT case_id FROM new_rows ORDER BY 1 LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", NULL);
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
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", NULL);
        END LOOP;
    ELSE
        FOR c IN SELECT DISTINCT case_id FROM old_rows ORDER BY 1 LOOP
            PERFORM public.gold_refresh_or_defer(c.case_id, TG_TABLE_NAME::text COLLATE "default", NULL);
        END LOOP;
    END IF;
    RETURN NULL;
END
$function$;

-- 017: case-id lookups inside the promotion use their indexes again.
--
-- A PL/pgSQL function takes the collation of its call from its arguments, and the database
-- default collation loses to any other implicit one. The triggers passed TG_TABLE_NAME (type
-- name, collation "C") next to the case id, e.g. gold_refresh_case(case_id, TG_TABLE_NAME, ...),
-- so inside the callee every `case_id = p_case_id` compared in "C", which the default-collation
-- indexes cannot serve: each lookup by case in bronze_latest_hash and in the gold refreshes was a
-- sequential scan, and a case's promotion grew with the data stored (26.6 ms with 20 cases stored,
-- 128.5 ms with 1,020: docs/05 section 7). Each call now passes the table name as
-- `TG_TABLE_NAME::text COLLATE "default"`; the bodies are otherwise the current definitions
-- (001/003/011/012/015) unchanged. Keep the cast in any new trigger that passes TG_TABLE_NAME
-- beside a case id (tests/schema_gold/test_case_lookups_use_indexes.py checks it).

CREATE OR REPLACE FUNCTION public.trg_bronze_before_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    latest_hash text;
BEGIN
    IF NEW.case_id IS NULL OR NEW.case_id !~ '^[0-9]{1,12}$' THEN
        RAISE EXCEPTION 'case_id must be 1 to 12 digits, got %', coalesce(quote_literal(NEW.case_id), 'NULL')
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME), hashtext(NEW.case_id));
    INSERT INTO public.cases (case_id) VALUES (NEW.case_id) ON CONFLICT (case_id) DO NOTHING;
    NEW.payload_hash := encode(sha256(convert_to(NEW.raw_response::text, 'UTF8')), 'hex');
    latest_hash := public.bronze_latest_hash(TG_TABLE_NAME::text COLLATE "default", NEW.case_id);
    IF latest_hash = NEW.payload_hash THEN
        RETURN NULL;  -- already have exactly this payload as the case's current state
    END IF;
    RETURN NEW;
END
$function$;

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

CREATE OR REPLACE FUNCTION public.trg_logiqs_raw_data_update_refresh_gold()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- before the insert the case had no interview row (case_id is the primary key)
        FOR c IN SELECT x.case_id, (array_agg(x.bronze_id))[1] AS bronze_id,
                        bool_or(public.interview_moves_projection(x.case_id, NULL, x.status, false, x.confirmed))
                            AS moves_projection
                 FROM (SELECT n.case_id, n.bronze_id,
                              public.interview_projection_status(true, coalesce(n.filing_status_raw, n.b11)) AS status,
                              public.interview_projection_confirmed(true, n.b3, n.c3) AS confirmed
                       FROM new_rows AS n) AS x
                 GROUP BY x.case_id ORDER BY x.case_id LOOP
            PERFORM public.gold_refresh_or_defer_parts(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id,
                CASE WHEN c.moves_projection THEN ARRAY['interview', 'projections'] ELSE ARRAY['interview'] END);
        END LOOP;
    ELSE
        FOR c IN SELECT x.case_id, (array_agg(x.bronze_id))[1] AS bronze_id,
                        bool_or(public.interview_moves_projection(x.case_id, x.old_status, x.new_status,
                                                                  x.old_confirmed, x.new_confirmed)) AS moves_projection
                 FROM (SELECT coalesce(n.case_id, o.case_id) AS case_id, n.bronze_id,
                              public.interview_projection_status(o.case_id IS NOT NULL,
                                                                 coalesce(o.filing_status_raw, o.b11)) AS old_status,
                              public.interview_projection_status(n.case_id IS NOT NULL,
                                                                 coalesce(n.filing_status_raw, n.b11)) AS new_status,
                              public.interview_projection_confirmed(o.case_id IS NOT NULL, o.b3, o.c3) AS old_confirmed,
                              public.interview_projection_confirmed(n.case_id IS NOT NULL, n.b3, n.c3) AS new_confirmed
                       FROM new_rows AS n FULL JOIN old_rows AS o ON o.case_id = n.case_id) AS x
                 GROUP BY x.case_id ORDER BY x.case_id LOOP
            PERFORM public.gold_refresh_or_defer_parts(c.case_id, TG_TABLE_NAME::text COLLATE "default", c.bronze_id,
                CASE WHEN c.moves_projection THEN ARRAY['interview', 'projections'] ELSE ARRAY['interview'] END);
        END LOOP;
    END IF;
    RETURN NULL;
END
$function$;

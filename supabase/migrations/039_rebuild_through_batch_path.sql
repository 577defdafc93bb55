-- 039: rebuild_from_bronze() promotes through the set-based path, 500 cases per batch.
--
-- 001's rebuild_from_bronze promotes case by case, and each silver load refreshes gold at once:
-- a full rebuild ran at ~53 cases/s (docs/05 section 3.1), while the same cases inserted in bulk
-- are promoted at ~160 cases/s on one connection. The body of 031's trg_bronze_promote becomes
-- promote_bronze_set(source, table, case ids, bronze ids): the trigger calls it with its
-- statement's latest row per case, rebuild_from_bronze with the latest bronze row of up to 500
-- cases at a time. What it does is the trigger's, unchanged: the batch, case by case when the
-- batch raises (each case's own error recorded), gold once per part for all the cases.

-- p_case_ids in case order, one bronze row each (the latest). Returns, per case, whether its
-- silver load succeeded (promote_bronze_row's answer; true for every case of a batch that ran).
-- No SET here: its two callers carry jit = off and generic plans, as entry points do (012).
CREATE OR REPLACE FUNCTION public.promote_bronze_set(p_source text, p_table text, p_case_ids text[],
                                                     p_bronze_ids uuid[])
 RETURNS boolean[]
 LANGUAGE plpgsql
AS $function$
DECLARE
    refresh record;
    outer_deferred text := coalesce(current_setting('medallion.gold_deferred', true), '');
    outer_pending text := coalesce(current_setting('medallion.gold_pending', true), '');
    pending text[];
    n integer := coalesce(cardinality(p_case_ids), 0);
    loaded boolean[] := array_fill(true, ARRAY[n]);
    batched boolean := false;
    gold_part text;
    part_cases text[];
    batched_parts text[] := '{}';
BEGIN
    PERFORM set_config('medallion.gold_deferred', 'on', true);
    PERFORM set_config('medallion.gold_pending', '', true);
    IF n >= 2 THEN
        BEGIN
            PERFORM public.silver_load_batch(p_source, p_bronze_ids);
            batched := true;
        EXCEPTION WHEN OTHERS THEN
            batched := false;  -- rolled back (rows and gold notes); promote case by case below
            -- The per-case path records a payload's own error; this line shows a batch-only failure.
            RAISE LOG 'bronze promotion of % cases (%) fell back to case by case: % (%)',
                n, p_source, SQLERRM, SQLSTATE;
        END;
    END IF;
    PERFORM set_config('medallion.promotion_path',
                       CASE WHEN batched THEN 'batch:' ELSE 'per_case:' END || p_source || ':' || n, true);
    IF NOT batched THEN
        FOR i IN 1 .. n LOOP
            loaded[i] := public.promote_bronze_row(p_source, p_bronze_ids[i], p_case_ids[i]);
        END LOOP;
    END IF;
    pending := string_to_array(nullif(current_setting('medallion.gold_pending'), ''), ',');
    PERFORM set_config('medallion.gold_deferred', outer_deferred, true);
    IF outer_deferred = 'on' THEN  -- nested promotion: hand the notes to the outer one
        PERFORM set_config('medallion.gold_pending', concat_ws(',', nullif(outer_pending, ''),
                                                               array_to_string(pending, ',')), true);
        RETURN loaded;
    END IF;
    PERFORM set_config('medallion.gold_pending', outer_pending, true);
    -- Each gold part for all the noted cases at once (023), in its own sub-transaction; a part
    -- whose pass raises is refreshed case by case below (a case's own failure is recorded there).
    -- 'employment' is part of 'interview' (gold_refresh_case), so counted only without it.
    FOREACH gold_part IN ARRAY ARRAY['interview', 'employment', 'projections'] LOOP
        EXIT WHEN n < 2;  -- one case: nothing to batch
        -- the cases noted for this part that are among p_case_ids (INTERSECT: see 031)
        SELECT array_agg(c.case_id ORDER BY c.case_id) INTO part_cases
        FROM (SELECT noted.case_id
              FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(split_part(token, ':', 2)) AS parts
                    FROM unnest(pending) AS token GROUP BY 1) AS noted
              WHERE gold_part = ANY (noted.parts)
                AND NOT (gold_part = 'employment' AND 'interview' = ANY (noted.parts))
              INTERSECT
              SELECT unnest(p_case_ids)) AS c;
        CONTINUE WHEN coalesce(cardinality(part_cases), 0) < 2;
        BEGIN
            IF gold_part = 'interview' THEN
                PERFORM public.gold_refresh_interview_batch(part_cases);
            ELSIF gold_part = 'employment' THEN
                PERFORM public.gold_refresh_employment_batch(part_cases);
            ELSE
                PERFORM public.gold_refresh_projections_batch(part_cases);
            END IF;
            batched_parts := batched_parts || gold_part;
        EXCEPTION WHEN OTHERS THEN
            RAISE LOG 'gold % of % cases (%) fell back to case by case: % (%)',
                gold_part, cardinality(part_cases), p_source, SQLERRM, SQLSTATE;
        END;
    END LOOP;
    PERFORM set_config('medallion.gold_path', coalesce(array_to_string(batched_parts, ','), ''), true);
    FOR refresh IN
        SELECT latest.case_id, latest.bronze_id, noted.parts
        FROM (SELECT t.case_id, array_agg(DISTINCT t.part) AS parts
              FROM (SELECT split_part(token, ':', 1) AS case_id, split_part(token, ':', 2) AS part,
                           bool_or(split_part(token, ':', 2) = 'interview')
                               OVER (PARTITION BY split_part(token, ':', 1)) AS with_interview
                    FROM unnest(pending) AS token) AS t
              -- the parts done above; a case's 'employment' too when its 'interview' was
              WHERE t.part <> ALL (batched_parts)
                AND NOT (t.part = 'employment' AND t.with_interview AND 'interview' = ANY (batched_parts))
              GROUP BY t.case_id) AS noted
        JOIN unnest(p_case_ids, p_bronze_ids) AS latest(case_id, bronze_id) USING (case_id)
        ORDER BY latest.case_id
    LOOP
        PERFORM public.gold_refresh_case(refresh.case_id, p_table, refresh.bronze_id, refresh.parts);
    END LOOP;
    RETURN loaded;
END
$function$;

-- The trigger: the latest row of each case in the statement, in case order (the per-case path's
-- order), promoted as one set.
CREATE OR REPLACE FUNCTION public.trg_bronze_promote()
 RETURNS trigger
 LANGUAGE plpgsql
 SET jit TO 'off'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    case_ids text[];
    bronze_ids uuid[];
BEGIN
    SELECT array_agg(l.case_id ORDER BY l.case_id), array_agg(l.bronze_id ORDER BY l.case_id)
      INTO case_ids, bronze_ids
    FROM (SELECT DISTINCT ON (case_id) bronze_id, case_id
          FROM new_rows
          ORDER BY case_id, ingest_seq DESC) AS l;
    PERFORM public.promote_bronze_set(TG_ARGV[0], TG_TABLE_NAME::text COLLATE "default", case_ids, bronze_ids);
    RETURN NULL;
END
$function$;

-- Every case's latest bronze row per source (or one case's), 500 cases per promote_bronze_set.
-- Each case is locked as an ingestion of it locks it (011's trg_bronze_before_insert), in case
-- order, and its latest row is read after the lock: a payload whose ingestion committed while the
-- rebuild waited is the one promoted. (001 chose the row before taking the lock, so a rebuild
-- could promote the payload an ingestion had just replaced, and leave silver on it.)
CREATE OR REPLACE FUNCTION public.rebuild_from_bronze(p_case_id text DEFAULT NULL)
RETURNS TABLE (source text, case_id text, bronze_id uuid, ok boolean)
LANGUAGE plpgsql
SET jit TO 'off'
SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    src text;
    chunk_cases text[];
    chunk_ids uuid[];
    loaded boolean[];
BEGIN
    FOREACH src IN ARRAY ARRAY['at', 'wi', 'trt', 'interview'] LOOP
        FOR chunk_cases IN
            EXECUTE format('SELECT array_agg(l.case_id ORDER BY l.case_id)
                            FROM (SELECT c.case_id, (row_number() OVER (ORDER BY c.case_id) - 1) / 500 AS chunk
                                  FROM (SELECT DISTINCT b.case_id FROM public.%I AS b
                                        WHERE $1 IS NULL OR b.case_id = $1) AS c) AS l
                            GROUP BY l.chunk ORDER BY l.chunk', 'bronze_' || src || '_raw')
            USING p_case_id
        LOOP
            PERFORM pg_advisory_xact_lock(hashtext('bronze_' || src || '_raw'), hashtext(c.id))
            FROM unnest(chunk_cases) WITH ORDINALITY AS c(id, n) ORDER BY c.n;
            -- (a case deleted meanwhile has no bronze rows left and drops out)
            EXECUTE format('SELECT array_agg(l.case_id ORDER BY l.case_id), array_agg(l.bronze_id ORDER BY l.case_id)
                            FROM (SELECT DISTINCT ON (b.case_id) b.case_id, b.bronze_id FROM public.%I AS b
                                  WHERE b.case_id = ANY ($1)
                                  ORDER BY b.case_id, b.ingest_seq DESC) AS l', 'bronze_' || src || '_raw')
            INTO chunk_cases, chunk_ids USING chunk_cases;
            CONTINUE WHEN chunk_cases IS NULL;
            loaded := public.promote_bronze_set(src, 'bronze_' || src || '_raw', chunk_cases, chunk_ids);
            RETURN QUERY SELECT src, u.c, u.b, u.ok FROM unnest(chunk_cases, chunk_ids, loaded) AS u(c, b, ok);
        END LOOP;
    END LOOP;
END
$function$;

-- The new function gets 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

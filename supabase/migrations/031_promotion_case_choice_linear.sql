-- 031: the promotion trigger's choice of cases per gold part was quadratic in the statement.
--
-- 023's trg_bronze_promote picks, for each gold part, the noted cases that belong to the
-- statement with `noted.case_id IN (SELECT n.case_id FROM new_rows AS n)`. The trigger runs with
-- plan_cache_mode = force_generic_plan (012), a generic plan estimates a transition table at one
-- row, and the semi-join became a nested loop that scans new_rows once per noted case: N x N
-- comparisons per gold part, ~1 ms per part at 150 cases, ~11 ms at 500, ~0.2 s at 2,000
-- (docs/05 section 11.2, the plan left there). The same cases are now found with INTERSECT,
-- which Postgres runs by hashing or sorting, linear in the cases (noted.case_id is unique per
-- group, so INTERSECT's duplicate removal changes nothing). The rest of the body is 023's.

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
    gold_part text;
    part_cases text[];
    batched_parts text[] := '{}';
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
    -- Each gold part for all the noted cases at once (023), in its own sub-transaction; a part
    -- whose pass raises is refreshed case by case below (a case's own failure is recorded there).
    -- 'employment' is part of 'interview' (gold_refresh_case), so counted only without it.
    FOREACH gold_part IN ARRAY ARRAY['interview', 'employment', 'projections'] LOOP
        EXIT WHEN coalesce(cardinality(batch_ids), 0) < 2;  -- a one-case statement: nothing to batch
        -- the statement's cases noted for this part (as the per-case loop below); INTERSECT,
        -- not IN (SELECT ... FROM new_rows): see this migration's header
        SELECT array_agg(c.case_id ORDER BY c.case_id) INTO part_cases
        FROM (SELECT noted.case_id
              FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(split_part(token, ':', 2)) AS parts
                    FROM unnest(pending) AS token GROUP BY 1) AS noted
              WHERE gold_part = ANY (noted.parts)
                AND NOT (gold_part = 'employment' AND 'interview' = ANY (noted.parts))
              INTERSECT
              SELECT n.case_id FROM new_rows AS n) AS c;
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
                gold_part, cardinality(part_cases), TG_ARGV[0], SQLERRM, SQLSTATE;
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
        JOIN (SELECT DISTINCT ON (n.case_id) n.case_id, n.bronze_id FROM new_rows AS n
              ORDER BY n.case_id, n.ingest_seq DESC) AS latest USING (case_id)
        ORDER BY latest.case_id
    LOOP
        PERFORM public.gold_refresh_case(refresh.case_id, TG_TABLE_NAME::text COLLATE "default", refresh.bronze_id, refresh.parts);
    END LOOP;
    RETURN NULL;
END
$function$;

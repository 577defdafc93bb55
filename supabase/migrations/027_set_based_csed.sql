-- 027: the CSED refresh for a whole statement's cases at once (docs/05 section 11).
--
-- 024 made the AT load statements set-based but still ran csed_refresh once per case: five
-- functions and about eight statements each, ~2 ms per case in bulk, the largest per-case block
-- left in an AT statement. The same statements now take all of the cases: 002's queries with
-- the case id carried along, and every partition, grouping, match and delete keyed by case too.
-- The rules (irs-domain.md section 1: per-assessment CSED, merged suspensions, floors, open
-- events) and csed_compute, which applies them to one assessment, are unchanged.
--
--   * csed_refresh_set(case_ids[], as_of) drives them: the events of all the cases, their
--     suspension intervals, then the tolling events, the assessments and the tax-year summary,
--     one statement each. silver_load_at_set calls it once per AT statement.
--   * csed_refresh(case_id, as_of) (the daily status refresh, tests) calls it with one case, so
--     the rules are written once. csed_events(case_id) and csed_intervals_of(events, as_of)
--     (behind csed_intervals(case_id), for inspection) are the set queries for one case.
--   * 002's per-case csed_refresh_tolling / _assessments / _tax_years are dropped: the `_set`
--     functions replace them (nothing else called them).
--   * The events and intervals travel as parallel arrays (case ids, rows), as in 024: the
--     csed_event and csed_interval types have no case column.
--
-- Nothing a load writes changes: bench/diff_triggers compares every silver and gold row, and the
-- CSED suite (tests/schema/test_csed.py) runs unchanged; tests/schema/test_set_based_csed_027.py
-- shows a many-case refresh equals one refresh per case.

-- CSED-relevant events of the cases' transcript lines, classified by the rule tables (002's
-- csed_events with the case id; pos numbers each case's (year, owner) lines).
CREATE OR REPLACE FUNCTION public.csed_events_set(p_cases text[])
RETURNS TABLE (case_id text, activity_id uuid, tax_year integer, owner text, pos bigint, activity_date date,
               transaction_code text, action_code text, closing_code text, family text, event_type text,
               role text, rule_tail interval, window_length interval, printed_date date,
               confidence text, review_note text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH lines AS (
        SELECT a.*, r.csed_event AS r_event, r.csed_role AS r_role, r.close_tail, r.close_tail_unless,
               r.confidence AS r_conf,
               CASE WHEN a.explanation_source = 'transcript' THEN a.explanation END AS printed
        FROM public.account_activity AS a
        JOIN public.at_transaction_rules AS r ON r.code = a.transaction_code
        WHERE a.case_id = ANY (p_cases) AND r.csed_role IS NOT NULL AND r.csed_role <> 'expired'
    ), classified AS (
        SELECT l.case_id, l.id, l.tax_year, l.owner, l.activity_date, l.line_number, l.transaction_code,
               coalesce(l.action_code, ac.action_code) AS action_code, l.closing_code,
               CASE WHEN l.r_role = 'by_closing_code' THEN 'legal'
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_event
                    WHEN l.r_role = 'extend' THEN 'extension'
                    ELSE l.r_event END AS family,
               CASE WHEN l.r_role = 'by_closing_code' AND (l.transaction_code = '520' OR l.closing_code IS NOT NULL)
                        THEN cc.csed_event
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_event
                    WHEN l.r_role IN ('open', 'close', 'cancel') THEN l.r_event END AS event_type,
               CASE WHEN l.r_role = 'by_closing_code'
                        THEN CASE l.transaction_code WHEN '520' THEN 'open' WHEN '521' THEN 'close' WHEN '522' THEN 'cancel' END
                    WHEN l.r_role = 'by_action_code' THEN ac.csed_role
                    ELSE l.r_role END AS role,
               CASE WHEN l.r_role = 'close' AND l.close_tail IS NOT NULL
                         AND NOT (l.explanation_source = 'transcript' AND coalesce(l.explanation ~* l.close_tail_unless, false))
                        THEN l.close_tail END AS rule_tail,
               ac.window_length,
               CASE WHEN l.r_role = 'extend' THEN public.md_date(to_jsonb(substring(l.explanation
                    FROM '([0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})'))) END AS printed_date,
               CASE WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' THEN cc.confidence
                    WHEN l.r_role = 'by_action_code' THEN ac.confidence ELSE l.r_conf END AS confidence,
               CASE WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' AND cc.id IS NULL
                        THEN format('TC 520 closing code %s is not in tc520_closing_codes: not tolled', l.closing_code)
                    WHEN l.r_role = 'by_closing_code' AND l.transaction_code = '520' AND cc.needs_review
                        THEN format('TC 520 %s on %s read as %s (%s): %s', coalesce('cc ' || l.closing_code, 'without closing code'),
                                    l.activity_date, cc.csed_event, cc.confidence || ' confidence', cc.meaning)
                    WHEN l.r_role = 'by_action_code' AND ac.csed_role = 'review'
                        THEN format('TC %s AC %s on %s: %s', l.transaction_code, ac.action_code, l.activity_date, ac.csed_effect)
                    WHEN l.r_role = 'extend' AND public.md_date(to_jsonb(substring(l.explanation
                             FROM '([0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})'))) IS NULL
                        THEN format('TC 550 on %s prints no readable CSED: computed CSED kept', l.activity_date)
                    WHEN l.activity_date IS NULL
                        THEN format('TC %s without a date: ignored for the CSED', l.transaction_code)
               END AS review_note
        FROM lines AS l
        -- each WHERE skips a lookup whose result the line cannot use (OFFSET 0: see at_load_activity)
        LEFT JOIN LATERAL (SELECT * FROM public.at_match_action_code(l.transaction_code, l.action_code, l.printed)
                           WHERE l.transaction_code IN ('971', '972') OFFSET 0) AS ac ON true
        LEFT JOIN LATERAL (SELECT * FROM public.at_match_closing_code(l.closing_code, l.printed)
                           WHERE l.r_role = 'by_closing_code' OFFSET 0) AS cc ON true
    )
    SELECT c.case_id, c.id, c.tax_year, c.owner,
           row_number() OVER (PARTITION BY c.case_id, c.tax_year, c.owner ORDER BY c.activity_date, c.line_number, c.id),
           c.activity_date, c.transaction_code, c.action_code, c.closing_code, c.family, c.event_type, c.role,
           c.rule_tail, c.window_length, c.printed_date, c.confidence, c.review_note
    FROM classified AS c
    WHERE c.role IS NOT NULL OR c.review_note IS NOT NULL;
END
$$;

CREATE OR REPLACE FUNCTION public.csed_events(p_case_id text)
RETURNS TABLE (activity_id uuid, tax_year integer, owner text, pos bigint, activity_date date,
               transaction_code text, action_code text, closing_code text, family text, event_type text,
               role text, rule_tail interval, window_length interval, printed_date date,
               confidence text, review_note text)
LANGUAGE sql STABLE AS $$
    SELECT e.activity_id, e.tax_year, e.owner, e.pos, e.activity_date, e.transaction_code, e.action_code,
           e.closing_code, e.family, e.event_type, e.role, e.rule_tail, e.window_length, e.printed_date,
           e.confidence, e.review_note
    FROM public.csed_events_set(ARRAY[p_case_id]) AS e;
$$;

-- Suspension intervals before merging (002's csed_intervals_of, each match within one case):
-- each open event paired with the first closing event of its family after it; a cancel removes
-- the nearest open before it. The events come as parallel arrays: p_events[i] is p_event_cases[i]'s.
CREATE OR REPLACE FUNCTION public.csed_intervals_set(p_event_cases text[], p_events public.csed_event[], p_as_of date)
RETURNS TABLE (case_id text, tax_year integer, owner text, event_type text, start_date date, close_date date,
               end_date date, open_end_date date, floor_date date, suspends boolean, rule text, citation text,
               source_codes text, confidence text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH ev AS (
        SELECT e.unnest AS case_id, e.* FROM unnest(p_event_cases, p_events) AS e
        WHERE e.activity_date IS NOT NULL AND e.role IS NOT NULL
    ), opens AS (
        SELECT o.* FROM ev AS o
        WHERE o.role IN ('open', 'review')
          AND NOT EXISTS (
              SELECT 1 FROM ev AS x
              WHERE x.role = 'cancel' AND x.case_id = o.case_id AND x.tax_year = o.tax_year AND x.owner = o.owner
                AND x.family = o.family AND (x.event_type IS NULL OR x.event_type = o.event_type) AND x.pos > o.pos
                AND NOT EXISTS (SELECT 1 FROM ev AS o2
                                WHERE o2.role = 'open' AND o2.case_id = o.case_id AND o2.tax_year = o.tax_year
                                  AND o2.owner = o.owner AND o2.family = o.family
                                  AND (x.event_type IS NULL OR x.event_type = o2.event_type)
                                  AND o2.pos > o.pos AND o2.pos < x.pos))
    ), first_close AS (  -- each open's first closing event of its family after it
        SELECT DISTINCT ON (o.case_id, o.tax_year, o.owner, o.pos)
               o.case_id, o.tax_year, o.owner, o.pos, c.activity_date, c.transaction_code, c.action_code, c.rule_tail
        FROM opens AS o
        JOIN ev AS c ON c.role = 'close' AND c.case_id = o.case_id AND c.tax_year = o.tax_year AND c.owner = o.owner
                    AND c.family = o.family AND (c.event_type IS NULL OR c.event_type = o.event_type) AND c.pos > o.pos
        WHERE o.role = 'open'
        ORDER BY o.case_id, o.tax_year, o.owner, o.pos, c.pos
    ), paired AS (
        SELECT o.case_id, o.tax_year, o.owner, o.event_type, o.activity_date AS start_date, c.activity_date AS close_date,
               c.rule_tail, o.confidence,
               format('%s%s%s (%s)', o.transaction_code, ' AC ' || o.action_code,
                      ' cc ' || o.closing_code, o.activity_date)
               || CASE WHEN c.activity_date IS NOT NULL
                       THEN format(' / %s%s (%s)', c.transaction_code, ' AC ' || c.action_code, c.activity_date) ELSE '' END
                   AS source_codes
        FROM opens AS o
        LEFT JOIN first_close AS c ON c.case_id = o.case_id AND c.tax_year = o.tax_year AND c.owner = o.owner
                                  AND c.pos = o.pos
        UNION ALL
        SELECT w.case_id, w.tax_year, w.owner, w.event_type, w.activity_date, w.activity_date, w.window_length,
               w.confidence, format('%s%s (%s)', w.transaction_code, ' AC ' || w.action_code, w.activity_date)
        FROM ev AS w WHERE w.role = 'window'
    )
    SELECT p.case_id, p.tax_year, p.owner, p.event_type, p.start_date, p.close_date,
           (p.close_date + coalesce(p.rule_tail, interval '0 days') + et.close_tail)::date,
           greatest(p.start_date, (p_as_of + et.close_tail)::date),
           (coalesce(p.close_date, greatest(p.start_date, p_as_of)) + et.floor_after_close)::date,
           et.suspends, et.rule, et.citation, p.source_codes, p.confidence
    FROM paired AS p JOIN public.csed_event_types AS et ON et.event_type = p.event_type;
END
$$;

CREATE OR REPLACE FUNCTION public.csed_intervals_of(p_events public.csed_event[], p_as_of date)
RETURNS SETOF public.csed_interval LANGUAGE sql STABLE AS $$
    SELECT ROW(i.tax_year, i.owner, i.event_type, i.start_date, i.close_date, i.end_date, i.open_end_date,
               i.floor_date, i.suspends, i.rule, i.citation, i.source_codes, i.confidence)::public.csed_interval
    FROM public.csed_intervals_set(array_fill(''::text, ARRAY[coalesce(cardinality(p_events), 0)]), p_events, p_as_of) AS i;
$$;

-- Merged suspension intervals per (case, year, owner): 002's csed_refresh_tolling for many cases.
CREATE OR REPLACE FUNCTION public.csed_refresh_tolling_set(p_cases text[], p_susp_cases text[],
                                                           p_suspensions public.csed_interval[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH iv AS (
        SELECT s.unnest AS case_id, s.* FROM unnest(p_susp_cases, p_suspensions) AS s
    ), merged AS (
        SELECT m.case_id, m.tax_year, m.owner, unnest(range_agg(daterange(m.start_date, m.end_date, '[]'))) AS r
        FROM iv AS m GROUP BY m.case_id, m.tax_year, m.owner
    ), labelled AS (
        SELECT m.case_id, m.tax_year, m.owner, lower(m.r) AS start_date,
               CASE WHEN upper_inf(m.r) THEN NULL ELSE upper(m.r) - 1 END AS end_date,
               string_agg(DISTINCT i.event_type, '+') AS event_type,
               string_agg(DISTINCT i.rule, ' | ') AS rule,
               string_agg(DISTINCT i.citation, ' | ') AS citation,
               string_agg(i.source_codes, ', ' ORDER BY i.start_date, i.source_codes) AS source_codes,
               CASE min(CASE i.confidence WHEN 'unverified' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)
                    WHEN 0 THEN 'unverified' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' ELSE 'high' END AS confidence
        FROM merged AS m
        JOIN iv AS i ON i.case_id = m.case_id AND i.tax_year = m.tax_year AND i.owner = m.owner
                    AND daterange(i.start_date, i.end_date, '[]') && m.r
        GROUP BY m.case_id, m.tax_year, m.owner, m.r
    ), upserted AS (
        INSERT INTO public.csed_tolling_events AS t (case_id, tax_year, owner, event_type, start_date, end_date, days,
                                                     rule, citation, source_codes, confidence, bronze_id)
        SELECT l.case_id, l.tax_year, l.owner, l.event_type, l.start_date, l.end_date, l.end_date - l.start_date + 1,
               l.rule, l.citation, l.source_codes, l.confidence, ty.bronze_id
        FROM labelled AS l
        LEFT JOIN public.tax_years AS ty ON ty.case_id = l.case_id AND ty.tax_year = l.tax_year
        ON CONFLICT ON CONSTRAINT csed_tolling_events_natural_key DO UPDATE SET
            event_type = EXCLUDED.event_type, end_date = EXCLUDED.end_date, days = EXCLUDED.days, rule = EXCLUDED.rule,
            citation = EXCLUDED.citation, source_codes = EXCLUDED.source_codes, confidence = EXCLUDED.confidence,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (t.event_type, t.end_date, t.days, t.rule, t.citation, t.source_codes, t.confidence)
              IS DISTINCT FROM (EXCLUDED.event_type, EXCLUDED.end_date, EXCLUDED.days, EXCLUDED.rule,
                                EXCLUDED.citation, EXCLUDED.source_codes, EXCLUDED.confidence)
        RETURNING 1
    )
    DELETE FROM public.csed_tolling_events AS t
    WHERE t.case_id = ANY (p_cases)
      AND NOT EXISTS (SELECT 1 FROM labelled AS l
                      WHERE l.case_id = t.case_id AND l.tax_year = t.tax_year AND l.owner = t.owner
                        AND l.start_date = t.start_date);
END
$$;

-- One CSED per assessment: 002's csed_refresh_assessments for many cases. Each assessment's
-- suspensions, floors and open starts are gathered per (case, year, owner) first and joined.
CREATE OR REPLACE FUNCTION public.csed_refresh_assessments_set(p_cases text[], p_as_of date,
    p_susp_cases text[], p_suspensions public.csed_interval[], p_event_cases text[], p_events public.csed_event[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH iv AS (
        SELECT s.unnest AS case_id, s.* FROM unnest(p_susp_cases, p_suspensions) AS s
    ), by_owner AS (
        SELECT iv.case_id, iv.tax_year, iv.owner,
               array_agg(daterange(iv.start_date, coalesce(iv.end_date, iv.open_end_date), '[]')) AS ranges,
               coalesce(array_agg(daterange(iv.start_date, iv.floor_date, '[]')) FILTER (WHERE iv.floor_date IS NOT NULL),
                        '{}') AS floors,
               array_agg(iv.start_date) FILTER (WHERE iv.end_date IS NULL) AS open_starts
        FROM iv GROUP BY iv.case_id, iv.tax_year, iv.owner
    ), ext AS (
        SELECT e.unnest AS case_id, e.* FROM unnest(p_event_cases, p_events) AS e
        WHERE e.role = 'extend' AND e.printed_date IS NOT NULL
    ), calc AS (
        SELECT a.id, a.case_id, a.tax_year, a.owner, a.transaction_code, a.activity_date, a.amount, a.bronze_id,
               ov.printed_date, c.*,
               EXISTS (SELECT 1 FROM unnest(bo.open_starts) AS st
                       WHERE greatest(st, a.activity_date + 1) <= c.suspended_csed_date) AS is_open
        FROM public.account_activity AS a
        LEFT JOIN by_owner AS bo ON bo.case_id = a.case_id AND bo.tax_year = a.tax_year AND bo.owner = a.owner
        LEFT JOIN LATERAL (SELECT x.printed_date FROM ext AS x
                           WHERE x.case_id = a.case_id AND x.tax_year = a.tax_year AND x.owner = a.owner
                             AND x.activity_date >= a.activity_date
                           ORDER BY x.pos DESC LIMIT 1) AS ov ON true
        CROSS JOIN LATERAL public.csed_compute(a.activity_date, coalesce(bo.ranges, '{}'), coalesce(bo.floors, '{}'),
                                               ov.printed_date) AS c
        WHERE a.case_id = ANY (p_cases) AND a.is_assessment AND a.amount > 0 AND a.activity_date IS NOT NULL
    ), upserted AS (
        INSERT INTO public.csed_assessments AS ca (activity_id, case_id, tax_year, owner, transaction_code, assessment_date,
            amount, base_csed_date, suspended_days, floor_date, override_date, csed_date, minimum_csed_date,
            csed_status, bronze_id)
        SELECT x.id, x.case_id, x.tax_year, x.owner, x.transaction_code, x.activity_date, x.amount, x.base_csed_date,
               x.suspended_days, x.floor_date, x.printed_date,
               CASE WHEN x.is_open THEN NULL ELSE x.csed_date END, x.csed_date,
               CASE WHEN x.is_open THEN 'suspended_open' WHEN x.csed_date < p_as_of THEN 'expired' ELSE 'running' END,
               x.bronze_id
        FROM calc AS x
        ON CONFLICT (activity_id) DO UPDATE SET
            tax_year = EXCLUDED.tax_year, owner = EXCLUDED.owner, transaction_code = EXCLUDED.transaction_code,
            assessment_date = EXCLUDED.assessment_date, amount = EXCLUDED.amount,
            base_csed_date = EXCLUDED.base_csed_date, suspended_days = EXCLUDED.suspended_days,
            floor_date = EXCLUDED.floor_date, override_date = EXCLUDED.override_date, csed_date = EXCLUDED.csed_date,
            minimum_csed_date = EXCLUDED.minimum_csed_date, csed_status = EXCLUDED.csed_status,
            bronze_id = EXCLUDED.bronze_id, updated_at = now()
        WHERE (ca.tax_year, ca.owner, ca.transaction_code, ca.assessment_date, ca.amount, ca.base_csed_date,
               ca.suspended_days, ca.floor_date, ca.override_date, ca.csed_date, ca.minimum_csed_date, ca.csed_status)
              IS DISTINCT FROM
              (EXCLUDED.tax_year, EXCLUDED.owner, EXCLUDED.transaction_code, EXCLUDED.assessment_date, EXCLUDED.amount,
               EXCLUDED.base_csed_date, EXCLUDED.suspended_days, EXCLUDED.floor_date, EXCLUDED.override_date,
               EXCLUDED.csed_date, EXCLUDED.minimum_csed_date, EXCLUDED.csed_status)
        RETURNING 1
    )
    DELETE FROM public.csed_assessments AS ca
    WHERE ca.case_id = ANY (p_cases) AND ca.activity_id NOT IN (SELECT id FROM calc);
END
$$;

-- The period summary (002's csed_refresh_tax_years for many cases). csed_date = the LATEST
-- assessment CSED of the year; earliest_csed_date keeps the earliest one.
CREATE OR REPLACE FUNCTION public.csed_refresh_tax_years_set(p_cases text[], p_as_of date,
                                                             p_event_cases text[], p_events public.csed_event[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH agg AS (
        SELECT ty.id, count(ca.activity_id) AS n,
               bool_or(ca.csed_status = 'suspended_open') AS any_open,
               max(ca.base_csed_date) AS base_csed, max(ca.csed_date) AS latest_csed,
               min(ca.minimum_csed_date) AS earliest_csed, max(ca.minimum_csed_date) AS latest_min
        FROM public.tax_years AS ty
        LEFT JOIN public.csed_assessments AS ca ON ca.case_id = ty.case_id AND ca.tax_year = ty.tax_year
        WHERE ty.case_id = ANY (p_cases)
        GROUP BY ty.id
    ), notes AS (
        SELECT e.case_id, e.tax_year, array_agg(DISTINCT e.review_note ORDER BY e.review_note) AS review_notes
        FROM (SELECT x.unnest AS case_id, x.tax_year, x.review_note FROM unnest(p_event_cases, p_events) AS x
              WHERE x.review_note IS NOT NULL
              UNION ALL
              SELECT a.case_id, a.tax_year,
                     format('TC %s assessment of %s without a date: no CSED computed', a.transaction_code, a.amount)
              FROM public.account_activity AS a
              WHERE a.case_id = ANY (p_cases) AND a.is_assessment AND a.amount > 0 AND a.activity_date IS NULL) AS e
        GROUP BY e.case_id, e.tax_year
    ), summary AS (
        SELECT ty.id,
               agg.base_csed,
               CASE WHEN agg.any_open THEN NULL ELSE agg.latest_csed END AS csed_date,
               agg.earliest_csed,
               agg.latest_min AS minimum_csed,
               CASE WHEN agg.n = 0 THEN 'no_assessment' WHEN agg.any_open THEN 'suspended_open'
                    WHEN agg.latest_csed < p_as_of THEN 'expired' ELSE 'running' END AS status,
               coalesce(notes.review_notes, '{}') AS review_notes
        FROM public.tax_years AS ty JOIN agg ON agg.id = ty.id
        LEFT JOIN notes ON notes.case_id = ty.case_id AND notes.tax_year = ty.tax_year
    )
    UPDATE public.tax_years AS ty SET
        base_csed_date = s.base_csed, csed_date = s.csed_date, earliest_csed_date = s.earliest_csed,
        minimum_csed_date = s.minimum_csed, csed_status = s.status, csed_review_notes = s.review_notes,
        updated_at = now()
    FROM summary AS s
    WHERE ty.id = s.id
      AND (ty.base_csed_date, ty.csed_date, ty.earliest_csed_date, ty.minimum_csed_date, ty.csed_status, ty.csed_review_notes)
          IS DISTINCT FROM (s.base_csed, s.csed_date, s.earliest_csed, s.minimum_csed, s.status, s.review_notes);
END
$$;

-- Recompute the given cases' CSED rows from their account_activity (no bronze re-read).
-- jit off (an entry point: also called on its own, 011); seqscan off: the case_id = ANY (...)
-- statements run with generic plans, and a plan made while a table was small would keep
-- scanning it (019).
CREATE OR REPLACE FUNCTION public.csed_refresh_set(p_cases text[], p_as_of date DEFAULT public.csed_as_of())
RETURNS void LANGUAGE plpgsql
SET jit = off
SET enable_seqscan = off
AS $$
DECLARE
    v_event_cases text[];
    v_events public.csed_event[];
    v_susp_cases text[];
    v_suspensions public.csed_interval[];
BEGIN
    SELECT coalesce(array_agg(e.case_id), '{}'),
           coalesce(array_agg(ROW(e.activity_id, e.tax_year, e.owner, e.pos, e.activity_date, e.transaction_code,
                                  e.action_code, e.closing_code, e.family, e.event_type, e.role, e.rule_tail,
                                  e.window_length, e.printed_date, e.confidence, e.review_note)::public.csed_event), '{}')
    INTO v_event_cases, v_events
    FROM public.csed_events_set(p_cases) AS e;

    SELECT coalesce(array_agg(i.case_id), '{}'),
           coalesce(array_agg(ROW(i.tax_year, i.owner, i.event_type, i.start_date, i.close_date, i.end_date,
                                  i.open_end_date, i.floor_date, i.suspends, i.rule, i.citation, i.source_codes,
                                  i.confidence)::public.csed_interval), '{}')
    INTO v_susp_cases, v_suspensions
    FROM public.csed_intervals_set(v_event_cases, v_events, p_as_of) AS i
    WHERE i.suspends;

    PERFORM public.csed_refresh_tolling_set(p_cases, v_susp_cases, v_suspensions);
    PERFORM public.csed_refresh_assessments_set(p_cases, p_as_of, v_susp_cases, v_suspensions, v_event_cases, v_events);
    PERFORM public.csed_refresh_tax_years_set(p_cases, p_as_of, v_event_cases, v_events);
END
$$;

-- 024's AT load (unchanged) with one CSED refresh for all its cases instead of one per case.
-- enable_seqscan off: see 024.
CREATE OR REPLACE FUNCTION public.silver_load_at_set(p_cases text[], p_bronze_ids uuid[], p_payloads jsonb[])
RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    v_record_cases text[];
    v_records public.at_record[];
    v_line_cases text[];
    v_lines public.at_line[];
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
    PERFORM public.csed_refresh_set(p_cases);
END
$$;

-- One case (the daily status refresh and tests call it directly).
CREATE OR REPLACE FUNCTION public.csed_refresh(p_case_id text, p_as_of date DEFAULT public.csed_as_of())
RETURNS void LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM public.csed_refresh_set(ARRAY[p_case_id], p_as_of);
END
$$;

DROP FUNCTION IF EXISTS public.csed_refresh_tolling(text, public.csed_interval[]);
DROP FUNCTION IF EXISTS public.csed_refresh_assessments(text, date, public.csed_interval[], public.csed_event[]);
DROP FUNCTION IF EXISTS public.csed_refresh_tax_years(text, date, public.csed_event[]);

-- The new functions get 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

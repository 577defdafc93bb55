-- 026: two per-row costs of an AT load that bought nothing (docs/05 section 11).
--
-- 1. Redundant foreign keys. account_activity, csed_tolling_events and csed_assessments each
--    referenced cases (case_id) and tax_years (case_id, tax_year); tax_year is NOT NULL in all
--    three and tax_years itself references cases, so the second key already guarantees the
--    first, and deleting a case still cascades through tax_years to all three. Each key is a
--    query per inserted row (a lookup plus a row lock on the parent): about 45 account_activity
--    rows per case, three checks each, were 60% of the foreign-key work of a whole promotion.
--    The lineage keys (bronze_id, ON DELETE SET NULL) stay.
-- 2. The TC 971/972 action-code and TC 520 closing-code lookups (002) were plpgsql set-returning
--    functions: each call built a result store and ran its query through SPI (~55 us a call,
--    about 8 calls per case). As SQL functions they are inlined into the statements that call
--    them (the AT activity load and csed_events), with the same WHERE and ORDER BY.
--
-- Nothing a load writes changes (bench/diff_triggers); tests/schema/test_csed.py covers the
-- action and closing codes, tests/schema/test_at_silver.py the cascade.

ALTER TABLE public.account_activity DROP CONSTRAINT IF EXISTS account_activity_case_id_fkey;
ALTER TABLE public.csed_tolling_events DROP CONSTRAINT IF EXISTS csed_tolling_events_case_id_fkey;
ALTER TABLE public.csed_assessments DROP CONSTRAINT IF EXISTS csed_assessments_case_id_fkey;

-- The TC 971/972 action-code row for a line: by printed AC, else by description pattern.
CREATE OR REPLACE FUNCTION public.at_match_action_code(p_tc text, p_ac text, p_explanation text)
RETURNS TABLE (action_code text, csed_event text, csed_role text, window_length interval,
               indicates_collection_action boolean, csed_effect text, confidence text)
LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT a.action_code, a.csed_event, a.csed_role, a.window_length, a.indicates_collection_action,
           a.csed_effect, a.confidence
    FROM public.tc971_action_codes AS a
    WHERE p_tc IN ('971', '972')
      AND a.transaction_code = p_tc
      AND ((p_ac IS NOT NULL AND a.action_code = p_ac)
           OR (p_ac IS NULL AND a.description_pattern IS NOT NULL AND coalesce(p_explanation, '') ~* a.description_pattern))
    ORDER BY a.match_priority, a.action_code
    LIMIT 1;
$$;

-- The TC 520 closing-code row: by code range, else by description pattern, else the
-- "no closing code printed" default.
CREATE OR REPLACE FUNCTION public.at_match_closing_code(p_cc text, p_explanation text)
RETURNS TABLE (id integer, csed_event text, needs_review boolean, confidence text, meaning text)
LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT c.id, c.csed_event, c.needs_review, c.confidence, c.meaning
    FROM public.tc520_closing_codes AS c
    WHERE (p_cc ~ '^[0-9]+$' AND c.closing_code_from IS NOT NULL AND p_cc::int BETWEEN c.closing_code_from AND c.closing_code_to)
       OR (p_cc IS NULL AND c.closing_code_from IS NULL
           AND (c.description_pattern IS NULL OR coalesce(p_explanation, '') ~* c.description_pattern))
    ORDER BY (c.closing_code_from IS NOT NULL) DESC, (c.description_pattern IS NOT NULL) DESC, c.id
    LIMIT 1;
$$;

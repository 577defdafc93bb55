-- 032: md_pick answers "none of these keys" inline.
--
-- 011 made md_pick an expression the planner inlines, answering at once when the first key
-- holds a value, and calling the plpgsql loop (md_pick_loop, ~2.5-3.5 us a call) otherwise. Most
-- of those loop calls look for keys the object does not have at all: an AT transcript line has
-- no balance, action-code or closing-code key in most spellings, so three of its ~8 picks loop
-- through every key to return NULL (~80 loop calls per case, docs/05 section 12).
--
-- When no key is a dotted path and the object has none of the keys at the top level
-- (jsonb ?| text[], one C call), the answer is NULL without the loop. The "no dotted path" test
-- is written per element (up to 16 keys; a longer list always loops) so that, with the key list
-- a constant as at every call site, the planner folds it to true or false when it plans the
-- caller: nothing of it runs per row. Every other case still reaches md_pick_loop, so the result
-- is 011's for every input (tests/schema_gold/test_md_pick_absent_keys_032.py).
CREATE OR REPLACE FUNCTION public.md_pick(obj jsonb, keys text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN jsonb_typeof(obj) = 'object' AND strpos(keys[1], '.') = 0
             AND (jsonb_typeof(obj -> keys[1]) IN ('number', 'boolean', 'object', 'array')
                  OR (jsonb_typeof(obj -> keys[1]) = 'string' AND btrim(obj ->> keys[1]) <> ''))
            THEN obj -> keys[1]
        WHEN jsonb_typeof(obj) = 'object' AND strpos(keys[1], '.') > 0
             AND (jsonb_typeof(obj #> string_to_array(keys[1], '.')) IN ('number', 'boolean', 'object', 'array')
                  OR (jsonb_typeof(obj #> string_to_array(keys[1], '.')) = 'string'
                      AND btrim(obj #>> string_to_array(keys[1], '.')) <> ''))
            THEN obj #> string_to_array(keys[1], '.')
        WHEN cardinality(keys) <= 16
             AND strpos(coalesce(keys[1], ''), '.') = 0 AND strpos(coalesce(keys[2], ''), '.') = 0 AND strpos(coalesce(keys[3], ''), '.') = 0 AND strpos(coalesce(keys[4], ''), '.') = 0
             AND strpos(coalesce(keys[5], ''), '.') = 0 AND strpos(coalesce(keys[6], ''), '.') = 0 AND strpos(coalesce(keys[7], ''), '.') = 0 AND strpos(coalesce(keys[8], ''), '.') = 0
             AND strpos(coalesce(keys[9], ''), '.') = 0 AND strpos(coalesce(keys[10], ''), '.') = 0 AND strpos(coalesce(keys[11], ''), '.') = 0 AND strpos(coalesce(keys[12], ''), '.') = 0
             AND strpos(coalesce(keys[13], ''), '.') = 0 AND strpos(coalesce(keys[14], ''), '.') = 0 AND strpos(coalesce(keys[15], ''), '.') = 0 AND strpos(coalesce(keys[16], ''), '.') = 0
             AND NOT coalesce(obj ?| keys, false)
            THEN NULL
        ELSE public.md_pick_loop(obj, keys)
    END;
$$;

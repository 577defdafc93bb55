-- 033: md_text as an expression the planner inlines into its caller.
--
-- md_text runs ~625 times per case (every text field the parsers read) and as plpgsql each call
-- costs ~1 us more than the expression it evaluates. 001 kept it plpgsql because a SQL function
-- is inlined only when each parameter is used once or its argument is cheap, and md_text is
-- mostly called on md_pick(...) results (an expression that may call md_pick_loop): a SQL body
-- using v three times was called, not inlined, at ~5x the cost. This body uses v once, so it is
-- always inlined (docs/05 section 12):
--   * the strict jsonpath filter keeps v only when it is a string, a number or a boolean (strict:
--     an array is not unwrapped), so containers, JSON null and SQL NULL give NULL;
--   * #>> '{}' is the scalar's text; btrim and nullif turn a blank string into NULL as 001 did,
--     and change nothing in a number's or a boolean's text.
-- Same value as 001's for every input (tests/test_value_parsers.py compares them).
CREATE OR REPLACE FUNCTION public.md_text(v jsonb)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(btrim(jsonb_path_query_first(
        v, 'strict $ ? (@.type() == "string" || @.type() == "number" || @.type() == "boolean")') #>> '{}'), '');
$$;

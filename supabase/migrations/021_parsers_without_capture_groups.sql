-- 021: md_date and md_year without capture-group regular expressions.
--
-- regexp_match / substring(... FROM pattern) with capture groups make the regex engine dissect
-- the match (cdissect / longest), the largest part of the regex time in a promotion (docs/05
-- 8.4, 9). A plain `~` test only runs the matcher. Each spelling is now recognised by the same
-- pattern without its groups, and its parts are cut out with split_part / substr; the values
-- are assigned to integers exactly as before (text -> int), and the range checks are unchanged,
-- so every input gives the same date, year, NULL or error as in 001.
-- Signatures, volatility and (absent) proconfig SETs are kept.

-- Dates: ISO (with or without a time), MM-DD-YYYY, MM/DD/YYYY, YYYYMMDD. Impossible dates give NULL.
CREATE OR REPLACE FUNCTION public.md_date(v jsonb)
RETURNS date LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := public.md_text(v);
    p text;
    y int;
    m int;
    d int;
BEGIN
    IF s IS NULL THEN
        RETURN NULL;
    END IF;
    IF s ~ '^\d{4}-\d{1,2}-\d{1,2}' THEN
        -- 4 digits '-' 1-2 digits '-' 1-2 digits (greedy), then anything
        y := substr(s, 1, 4);
        m := split_part(s, '-', 2);
        p := split_part(s, '-', 3);
        d := CASE WHEN p ~ '^\d\d' THEN left(p, 2) ELSE left(p, 1) END;
    ELSIF s ~ '^\d{1,2}[-/]\d{1,2}[-/]\d{4}$' THEN
        p := translate(s, '/', '-');
        m := split_part(p, '-', 1);
        d := split_part(p, '-', 2);
        y := right(s, 4);
    ELSIF s ~ '^\d{8}$' THEN
        y := substr(s, 1, 4); m := substr(s, 5, 2); d := substr(s, 7, 2);
    ELSE
        RETURN NULL;
    END IF;
    IF y BETWEEN 1900 AND 2200 AND m BETWEEN 1 AND 12
       AND d BETWEEN 1 AND extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
        RETURN make_date(y, m, d);
    END IF;
    RETURN NULL;
END
$$;

-- Tax years: 2023, "2023", "Tax Year 2023", "TY2023", "12/31/2023". "Unknown" gives NULL.
-- A bare four-digit 19xx / 20xx string (the common spelling) skips the capture-group search.
CREATE OR REPLACE FUNCTION public.md_year(v jsonb)
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    y int;
BEGIN
    IF jsonb_typeof(v) = 'number' AND (v #>> '{}') ~ '^\d{4}(\.0+)?$' THEN
        y := floor((v #>> '{}')::numeric);
    ELSIF jsonb_typeof(v) = 'string' THEN
        IF (v #>> '{}') ~ '^(?:19|20)\d{2}$' THEN
            y := v #>> '{}';
        ELSE
            y := substring(v #>> '{}' FROM '(?:^|\D)((?:19|20)\d{2})(?:\D|$)');
        END IF;
    END IF;
    IF y BETWEEN 1950 AND 2100 THEN
        RETURN y;
    END IF;
    RETURN NULL;
END
$$;

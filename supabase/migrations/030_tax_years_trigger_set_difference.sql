-- 030: the tax_years update trigger compared its transition tables in quadratic time
-- (docs/05 section 11).
--
-- 017's trg_tax_years_refresh_gold finds the cases whose projections an UPDATE of tax_years can
-- move (a year added, removed or with another filing status) by joining new_rows to old_rows.
-- Its plan is cached with the function and kept whatever the size of the statement: made for a
-- one-case update, it is a nested loop, and an AT statement of 150 cases (~660 years, updated by
-- the AT load and again by the CSED refresh) compared every new year with every old one: ~30 ms
-- a statement, ~0.5 ms per case. The same cases are now found with set differences (EXCEPT),
-- which Postgres runs by hashing or sorting, linear in the rows: (case_id, tax_year) is unique in
-- both tables, and EXCEPT treats NULLs as equal, as IS DISTINCT FROM did. The INSERT and DELETE
-- branches are 017's.

CREATE OR REPLACE FUNCTION public.trg_tax_years_refresh_gold()
RETURNS trigger LANGUAGE plpgsql AS $$
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
        FOR c IN SELECT changed.case_id FROM (
                     SELECT case_id, tax_year, filing_status FROM new_rows
                     EXCEPT
                     SELECT case_id, tax_year, filing_status FROM old_rows) AS changed
                 UNION
                 SELECT gone.case_id FROM (
                     SELECT case_id, tax_year FROM old_rows
                     EXCEPT
                     SELECT case_id, tax_year FROM new_rows) AS gone
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
$$;

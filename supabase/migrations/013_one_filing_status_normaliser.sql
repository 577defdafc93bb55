-- 013: one filing-status normaliser.
--
-- Until now two functions normalised filing status and disagreed on some spellings:
-- at_filing_status (002, regex, for tax_years) and md_filing_status (008, synonym table, for the
-- interview and the projections). md_filing_status is now the only one; at_filing_status is a
-- thin alias so the AT loader keeps its call.
--
-- Rules, in order:
--   1. exact lookup of the spelling's key (lower case, letters and digits only) in
--      filing_status_synonyms (data, with its source);
--   2. otherwise the phrase patterns ("Married Filing Joint Return", "Head of the Household",
--      "Qualifying Widow(er) with dependent child", ...);
--   3. otherwise NULL: unknown. The projections then flag filing_status_unknown and use the SFR
--      default (irs-domain.md 4.5 step 5) rather than guess.
-- "Married" and "Widow" alone are deliberately unknown: married can be joint or separate, and a
-- widow(er) qualifies as a surviving spouse only for two years with a dependent child
-- (IRC 2(a)). Guessing either changes the projected tax by thousands.

DELETE FROM public.filing_status_synonyms WHERE synonym_key IN ('married', 'widow');

INSERT INTO public.filing_status_synonyms (synonym_key, filing_status, source)
SELECT DISTINCT ON (public.md_synonym_key(s)) public.md_synonym_key(s), f, 'transcript abbreviations'
FROM (VALUES
    ('sgl', 'single'),
    ('mj', 'married_filing_jointly'), ('married filing joint return', 'married_filing_jointly'),
    ('ms', 'married_filing_separately'), ('married filing separate return', 'married_filing_separately'),
    ('hh', 'head_of_household'),
    ('qw er', 'qualifying_surviving_spouse'), ('qssw', 'qualifying_surviving_spouse')
) AS v(s, f)
ON CONFLICT (synonym_key) DO UPDATE SET filing_status = excluded.filing_status, source = excluded.source;

CREATE OR REPLACE FUNCTION public.md_filing_status(p text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    v_status text;
    v_words  text;
BEGIN
    SELECT s.filing_status INTO v_status
    FROM public.filing_status_synonyms AS s WHERE s.synonym_key = public.md_synonym_key(p);
    IF v_status IS NOT NULL THEN
        RETURN v_status;
    END IF;
    v_words := btrim(lower(regexp_replace(coalesce(p, ''), '[^a-zA-Z0-9]+', ' ', 'g')));
    RETURN CASE
        WHEN v_words ~ 'married.*joint' THEN 'married_filing_jointly'
        WHEN v_words ~ 'married.*separate' THEN 'married_filing_separately'
        WHEN v_words ~ 'head of (the )?household' THEN 'head_of_household'
        WHEN v_words ~ 'qualifying (widow|surviving)' THEN 'qualifying_surviving_spouse'
    END;
END
$$;

CREATE OR REPLACE FUNCTION public.at_filing_status(raw text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT public.md_filing_status(raw);
$$;

-- Existing rows were normalised by the old rules: re-derive what changed. The tax_years update
-- refreshes that case's projections through its trigger; the interview-fed gold is refreshed
-- for the cases whose household filing status now reads differently.
UPDATE public.tax_years
SET filing_status = public.md_filing_status(filing_status_raw)
WHERE filing_status IS DISTINCT FROM public.md_filing_status(filing_status_raw);

SELECT public.gold_refresh_case(l.case_id)
FROM public.logiqs_raw_data AS l
JOIN public.household_information AS h ON h.case_id = l.case_id
WHERE h.filing_status IS DISTINCT FROM public.md_filing_status(coalesce(l.filing_status_raw, l.b11));

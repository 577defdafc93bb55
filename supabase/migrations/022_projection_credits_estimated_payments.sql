-- 022: the projected balance credits the payments the account transcript shows for the year.
--
-- irs-domain.md 4.5 step 6: tax - credits - withholding - estimated payments (TC 610/660/430 on
-- the AT). 011's compute_tax_projection subtracted withholding only, so a client who had paid
-- estimated tax was projected to owe that much more. Now:
--
--   * tax_projections.estimated_payments: TC 430 / 610 / 660 of the year, less 611 / 612 / 661
--     (dishonored / corrected), unsigned; the spouse's account only on a joint projection;
--   * projected_balance = total_tax - total_withholding - estimated_payments;
--   * an AT load that adds, removes or changes such a line refreshes the case's projections
--     (row triggers with a WHEN on the code: other lines queue nothing);
--   * existing projections are re-derived.
--
-- compute_tax_projection below is 011's, unchanged but for the payments query and the balance.

ALTER TABLE public.tax_projections
    ADD COLUMN IF NOT EXISTS estimated_payments numeric(15,2) NOT NULL DEFAULT 0;
COMMENT ON COLUMN public.tax_projections.estimated_payments IS
    'TC 430/610/660 of the year less 611/612/661 (account_activity); subtracted from projected_balance';

CREATE OR REPLACE FUNCTION public.compute_tax_projection(p_case_id text, p_tax_year integer)
RETURNS public.tax_projections LANGUAGE plpgsql STABLE AS $$
DECLARE
    res public.tax_projections;
    v_status text;
    v_source text;
    v_joint boolean;
    k_confirmed boolean;
    se public.se_tax_constants%ROWTYPE;
    o record;
    flags text[] := '{}';
    v_wages numeric := 0; v_se_gross numeric := 0; v_other numeric := 0; v_ssb numeric := 0;
    v_pref numeric := 0; v_early numeric := 0; v_nii numeric := 0;
    v_medicare_wages numeric := 0; v_nese_total numeric := 0;
    v_se_ss numeric := 0; v_se_med numeric := 0; v_nese numeric;
    v_se_tax numeric; v_se_ded numeric; v_addl numeric; v_thr numeric;
    v_pi numeric; v_base numeric; v_adj numeric; v_l10 numeric; v_l11 numeric; v_taxable_ss numeric;
    v_agi numeric; v_std numeric; v_ti numeric; v_pref_ti numeric; v_ord_tax numeric; v_full_tax numeric;
    v_z numeric; v_f numeric; v_p0 numeric; v_p15 numeric; v_p20 numeric; v_income_tax numeric;
    v_niit numeric; v_niit_thr numeric; v_early_tax numeric; v_docs integer := 0;
    l_found boolean; l_status_raw text; l_b3 text; l_c3 text;
    v_brackets boolean; v_ss_base numeric; v_ss_adj numeric; v_payments numeric;
BEGIN
    res.case_id := p_case_id;
    res.tax_year := p_tax_year;

    -- 1. Filing status: tax_years for that year, else the interview, else single (SFR default,
    --    irs-domain.md 4.5 step 5). tax_years belongs to the AT loader; read it only if present.
    IF to_regclass('public.tax_years') IS NOT NULL THEN
        -- static SQL (plan cached); plpgsql resolves the table only when this line runs
        SELECT t.filing_status INTO v_status FROM public.tax_years AS t
        WHERE t.case_id = p_case_id AND t.tax_year = p_tax_year LIMIT 1;
    END IF;
    -- the interview row once, for the status fallback and the 1099-K confirmation below
    SELECT true, coalesce(l.filing_status_raw, l.b11), l.b3, l.c3 INTO l_found, l_status_raw, l_b3, l_c3
    FROM public.logiqs_raw_data l WHERE l.case_id = p_case_id;
    IF public.md_is_filing_status(v_status) THEN
        v_source := 'tax_years';
    ELSE
        v_status := CASE WHEN l_found THEN public.md_filing_status(l_status_raw) END;
        IF public.md_is_filing_status(v_status) THEN
            v_source := 'interview';
        ELSE
            v_status := 'single';
            v_source := 'default';
            flags := array_append(flags, 'filing_status_unknown');
        END IF;
    END IF;
    res.filing_status := v_status;
    res.filing_status_source := v_source;
    v_joint := v_status = 'married_filing_jointly';
    res.includes_spouse := v_joint;

    -- Payments credited to the year (irs-domain.md 4.5 step 6): TC 430 / 610 / 660, less their
    -- dishonored or corrected postings (611 / 612 / 661). Taken unsigned: transcripts print
    -- credits negative, not every source does. The spouse's account counts only on a joint
    -- projection, as the spouse's W&I documents do.
    SELECT coalesce(sum(CASE WHEN a.transaction_code IN ('430', '610', '660') THEN abs(a.amount)
                             ELSE -abs(a.amount) END), 0)
      INTO v_payments
    FROM public.account_activity a
    WHERE a.case_id = p_case_id AND a.tax_year = p_tax_year
      AND a.transaction_code IN ('430', '610', '611', '612', '660', '661')
      AND (a.owner <> 'S' OR v_joint);
    res.estimated_payments := round(v_payments, 2);

    -- 1099-K counts as Schedule C only when the interview confirms business activity
    -- (irs-domain.md 3, 1099-K row): an employer entry naming self-employment.
    k_confirmed := coalesce(l_found AND coalesce(l_b3, '') || ' ' || coalesce(l_c3, '') ~* '\mself[- ]?employ', false);

    SELECT * INTO se FROM public.se_tax_constants WHERE tax_year = p_tax_year;

    -- 2. Per owner (SE tax is per person: each has his own wage base, IRC 1402(b)).
    FOR o IN
        SELECT d.owner,
               count(*) AS docs,
               coalesce(sum(d.gross_amount - d.se_amount) FILTER (WHERE inc AND d.income_kind = 'wages'), 0) AS wages,
               coalesce(sum(d.se_amount) FILTER (WHERE inc), 0) AS se_gross,
               coalesce(sum(d.gross_amount - d.se_amount)
                        FILTER (WHERE inc AND d.income_kind NOT IN ('wages', 'social_security')), 0) AS other,
               coalesce(sum(d.gross_amount) FILTER (WHERE inc AND d.income_kind = 'social_security'), 0) AS ssb,
               coalesce(sum(d.preferential_amount) FILTER (WHERE inc), 0) AS pref,
               coalesce(sum(d.early_distribution_amount) FILTER (WHERE inc), 0) AS early,
               coalesce(sum(d.gross_amount - d.se_amount)
                        FILTER (WHERE inc AND d.income_kind IN ('interest', 'dividends', 'capital_gain')), 0) AS nii,
               coalesce(sum(d.ss_wages), 0) AS ss_wages,
               coalesce(sum(d.medicare_wages), 0) AS medicare_wages,
               coalesce(sum(d.federal_withholding), 0) AS withholding,
               coalesce(sum(d.gross_amount) FILTER (WHERE inc), 0) AS income,
               bool_or(d.requires_confirmation AND d.include_in_projection AND NOT k_confirmed) AS k_unconfirmed,
               (SELECT array_agg(DISTINCT f) FROM public.income_documents d2 CROSS JOIN LATERAL unnest(d2.flags) AS f
                WHERE d2.case_id = p_case_id AND d2.tax_year = p_tax_year AND d2.owner = d.owner) AS doc_flags
        FROM public.income_documents d
        CROSS JOIN LATERAL (SELECT d.include_in_projection AND (NOT d.requires_confirmation OR k_confirmed) AS inc) AS i
        WHERE d.case_id = p_case_id AND d.tax_year = p_tax_year
        GROUP BY d.owner
    LOOP
        IF o.owner = 'S' AND NOT v_joint THEN
            flags := array_append(flags, 'spouse_documents_excluded');
            CONTINUE;
        END IF;
        v_docs := v_docs + o.docs;
        flags := flags || coalesce(o.doc_flags, '{}');
        IF o.k_unconfirmed THEN flags := array_append(flags, 'form_1099k_unconfirmed_excluded'); END IF;
        v_wages := v_wages + o.wages;
        v_se_gross := v_se_gross + o.se_gross;
        v_other := v_other + o.other;
        v_ssb := v_ssb + o.ssb;
        v_pref := v_pref + o.pref;
        v_early := v_early + o.early;
        v_nii := v_nii + o.nii;
        v_medicare_wages := v_medicare_wages + o.medicare_wages;
        IF o.owner = 'S' THEN
            res.spouse_income := round(o.income, 2);
            res.spouse_withholding := round(o.withholding, 2);
        ELSE
            res.tp_income := round(o.income, 2);
            res.tp_withholding := round(o.withholding, 2);
        END IF;
        IF se.tax_year IS NOT NULL AND o.se_gross > 0 THEN
            -- net earnings = 92.35 % of net profit (SFR-style: no expenses known); none under $400
            v_nese := o.se_gross * se.net_earnings_factor;
            IF v_nese >= se.minimum_net_earnings THEN
                v_se_ss := v_se_ss + se.ss_rate * least(v_nese, greatest(se.ss_wage_base - o.ss_wages, 0));
                v_se_med := v_se_med + se.medicare_rate * v_nese;
                v_nese_total := v_nese_total + v_nese;
            ELSE
                flags := array_append(flags, 'se_earnings_under_400');
            END IF;
        END IF;
    END LOOP;

    res.document_count := v_docs;
    res.wages := round(v_wages, 2);
    res.se_income := round(v_se_gross, 2);
    res.other_income := round(v_other, 2);
    res.social_security_benefits := round(v_ssb, 2);
    res.se_net_earnings := round(v_nese_total, 2);
    res.tp_income := coalesce(res.tp_income, 0);
    res.spouse_income := coalesce(res.spouse_income, 0);
    res.tp_withholding := coalesce(res.tp_withholding, 0);
    res.spouse_withholding := coalesce(res.spouse_withholding, 0);
    res.total_withholding := res.tp_withholding + res.spouse_withholding;
    IF v_se_gross > 0 THEN flags := array_append(flags, 'se_income_without_expenses'); END IF;

    -- the year's and status's reference values in one query (each is a primary-key lookup)
    SELECT (SELECT s.amount FROM public.standard_deductions s WHERE s.tax_year = p_tax_year AND s.filing_status = v_status),
           EXISTS (SELECT 1 FROM public.tax_brackets b WHERE b.tax_year = p_tax_year AND b.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'additional_medicare' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'ss_base_amount' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t
            WHERE t.threshold_kind = 'ss_adjusted_base' AND t.filing_status = v_status),
           (SELECT t.amount FROM public.filing_status_thresholds t WHERE t.threshold_kind = 'niit' AND t.filing_status = v_status),
           (SELECT t.rate FROM public.filing_status_thresholds t WHERE t.threshold_kind = 'niit' AND t.filing_status = v_status),
           (SELECT c.value FROM public.tax_constants c WHERE c.name = 'early_distribution_rate')
      INTO v_std, v_brackets, v_thr, v_ss_base, v_ss_adj, v_niit_thr, v_niit, v_early_tax;
    IF se.tax_year IS NULL OR v_std IS NULL OR NOT v_brackets THEN
        -- No published tables for this year: income only, no tax figures.
        res.taxable_social_security := 0;
        res.preferential_income := round(v_pref, 2);
        res.total_income := round(v_wages + v_se_gross + v_other + v_ssb, 2);
        res.flags := ARRAY(SELECT DISTINCT x FROM unnest(array_append(flags, 'no_tax_tables_for_year')) x ORDER BY 1);
        RETURN res;
    END IF;

    -- 3. SE tax (12.4 % up to the wage base left after W-2 SS wages + 2.9 % uncapped) and
    --    half of it as an adjustment (irs-domain.md 4.4).
    v_se_tax := round(v_se_ss + v_se_med, 2);
    v_se_ded := round(v_se_tax * se.deductible_share, 2);
    res.se_social_security := round(v_se_ss, 2);
    res.se_medicare := round(v_se_med, 2);
    res.se_tax := v_se_tax;
    res.se_deduction := v_se_ded;

    -- 4. Additional Medicare tax 0.9 %: wages above the threshold, then SE earnings above the
    --    threshold reduced by Medicare wages (IRC 1401(b)(2); Form 8959 parts I-II).
    v_addl := se.additional_medicare_rate * (greatest(v_medicare_wages - v_thr, 0)
              + greatest(v_nese_total - greatest(v_thr - v_medicare_wages, 0), 0));
    res.additional_medicare_tax := round(v_addl, 2);

    -- 5. Taxable social security (benefits worksheet, irs-domain.md 3 SSA-1099).
    v_taxable_ss := 0;
    IF v_ssb > 0 THEN
        v_base := v_ss_base;
        v_adj := v_ss_adj;
        v_pi := v_wages + v_se_gross + v_other - v_se_ded + 0.5 * v_ssb;     -- provisional income
        v_l10 := v_pi - v_base;
        IF v_l10 > 0 THEN
            v_l11 := v_adj - v_base;
            v_taxable_ss := least(0.85 * greatest(v_l10 - v_l11, 0) + least(0.5 * least(v_l10, v_l11), 0.5 * v_ssb),
                                  0.85 * v_ssb);
        END IF;
    END IF;
    res.taxable_social_security := round(v_taxable_ss, 2);

    -- 6. AGI, standard deduction, taxable income (irs-domain.md 4.5 steps 4-5).
    res.total_income := round(v_wages + v_se_gross + v_other + v_taxable_ss, 2);
    v_agi := res.total_income - v_se_ded;
    res.estimated_agi := round(v_agi, 2);
    res.standard_deduction := v_std;
    v_ti := greatest(v_agi - v_std, 0);
    res.taxable_income := round(v_ti, 2);

    -- 7. Income tax: brackets on the ordinary part, 0/15/20 % on qualified dividends and
    --    capital-gain distributions (irs-domain.md 4.2, 4.3), never more than all-ordinary.
    v_pref_ti := least(v_pref, res.taxable_income);
    res.preferential_income := round(v_pref_ti, 2);
    SELECT coalesce(sum(b.rate * greatest(least(res.taxable_income - v_pref_ti, coalesce(b.income_max, 'Infinity'))
                                          - b.income_min, 0)), 0),
           coalesce(sum(b.rate * greatest(least(res.taxable_income, coalesce(b.income_max, 'Infinity')) - b.income_min, 0)), 0)
      INTO v_ord_tax, v_full_tax
    FROM public.tax_brackets b WHERE b.tax_year = p_tax_year AND b.filing_status = v_status;
    IF v_pref_ti > 0 THEN
        SELECT zero_rate_max, fifteen_rate_max INTO v_z, v_f FROM public.capital_gain_thresholds
        WHERE tax_year = p_tax_year AND filing_status = v_status;
        -- the preferential slice occupies [ordinary, taxable]; split it at the two thresholds
        v_p0 := greatest(least(res.taxable_income, v_z) - (res.taxable_income - v_pref_ti), 0);
        v_p15 := greatest(least(res.taxable_income, v_f) - greatest(res.taxable_income - v_pref_ti, v_z), 0);
        v_p20 := v_pref_ti - v_p0 - v_p15;
        v_income_tax := least(v_ord_tax + 0.15 * v_p15 + 0.20 * v_p20, v_full_tax);
    ELSE
        v_income_tax := v_full_tax;
    END IF;
    res.income_tax := round(v_income_tax, 2);

    -- 8. Other taxes: 10 % on early distributions (1099-R code 1), net investment income tax.
    res.early_distribution_tax := round(coalesce(v_early_tax, 0) * v_early, 2);
    res.net_investment_income_tax := round(v_niit * least(v_nii, greatest(v_agi - v_niit_thr, 0)), 2);
    IF res.net_investment_income_tax < 0 THEN res.net_investment_income_tax := 0; END IF;

    -- 9. Total, withholding and payments, balance (+ owed / - refund).
    res.total_tax := res.income_tax + res.se_tax + res.additional_medicare_tax + res.net_investment_income_tax
                     + res.early_distribution_tax;
    res.projected_balance := res.total_tax - res.total_withholding - res.estimated_payments;
    IF res.additional_medicare_tax > 0 AND v_medicare_wages > v_thr THEN
        flags := array_append(flags, 'additional_medicare_withheld_by_employer_not_credited');
    END IF;
    res.flags := ARRAY(SELECT DISTINCT x FROM unnest(flags) x ORDER BY 1);
    RETURN res;
END
$$;

-- The sync statement lists the table's columns: regenerate it for the new one.
SELECT public.gold_sync_functions();

-- A payment line of account_activity moves the year's projection.
CREATE OR REPLACE FUNCTION public.trg_account_activity_payment_refresh_gold()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_case_id text := CASE WHEN TG_OP = 'DELETE' THEN OLD.case_id ELSE NEW.case_id END;
BEGIN
    PERFORM public.gold_refresh_or_defer_parts(v_case_id, TG_TABLE_NAME::text COLLATE "default", NULL,
                                               ARRAY['projections']);
    IF TG_OP = 'UPDATE' AND OLD.case_id IS DISTINCT FROM NEW.case_id THEN
        PERFORM public.gold_refresh_or_defer_parts(OLD.case_id, TG_TABLE_NAME::text COLLATE "default", NULL,
                                                   ARRAY['projections']);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS trg_account_activity_payment_ins ON public.account_activity;
CREATE TRIGGER trg_account_activity_payment_ins AFTER INSERT ON public.account_activity
    FOR EACH ROW WHEN (NEW.transaction_code IN ('430', '610', '611', '612', '660', '661'))
    EXECUTE FUNCTION public.trg_account_activity_payment_refresh_gold();
DROP TRIGGER IF EXISTS trg_account_activity_payment_upd ON public.account_activity;
CREATE TRIGGER trg_account_activity_payment_upd
    AFTER UPDATE OF case_id, tax_year, owner, transaction_code, amount ON public.account_activity
    FOR EACH ROW WHEN (OLD.transaction_code IN ('430', '610', '611', '612', '660', '661')
                       OR NEW.transaction_code IN ('430', '610', '611', '612', '660', '661'))
    EXECUTE FUNCTION public.trg_account_activity_payment_refresh_gold();
DROP TRIGGER IF EXISTS trg_account_activity_payment_del ON public.account_activity;
CREATE TRIGGER trg_account_activity_payment_del AFTER DELETE ON public.account_activity
    FOR EACH ROW WHEN (OLD.transaction_code IN ('430', '610', '611', '612', '660', '661'))
    EXECUTE FUNCTION public.trg_account_activity_payment_refresh_gold();

-- Re-derive the projections already stored (the same refresh a W&I load runs).
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT DISTINCT case_id FROM public.tax_projections ORDER BY 1 LOOP
        PERFORM public.gold_refresh_projections(c.case_id);
    END LOOP;
END
$$;

-- The new trigger function gets 020's grants (anon may execute nothing).
SELECT public.apply_row_level_security();

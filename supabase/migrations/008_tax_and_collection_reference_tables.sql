-- Reference data: rules as data, every row with `source` and `confidence`.
--
-- Confidence tags are those of irs-domain.md section 0:
--   S = statute text, I = IRS page / IRS-published figure, R = published IRS inflation figure
--   cross-checked twice, K = practitioner knowledge (kept in data so it can be corrected),
--   ? = not established (not auto-applied; surfaced for review).
-- Code reads these tables; no tax figure is embedded in a function.
--
-- Tables: wi_type_rules, wi_form_aliases, tax_brackets, standard_deductions,
-- capital_gain_thresholds, se_tax_constants, filing_status_thresholds, tax_constants,
-- irs_collection_standards, pay_frequency_factors, pay_frequency_synonyms,
-- filing_status_synonyms.

-- md_is_filing_status() and md_synonym_key() are defined in 003 (the first file of this family).

-- ---------------------------------------------------------------------------------------
-- W&I form rules (irs-domain.md section 3, corrected per section 7).
--
-- Field lists are label groups matched against the form's `Fields` object (labels, not box
-- numbers; irs-domain.md section 3 intro). Each array element is one box: 'Label A|Label B'
-- lists synonyms (the first label present wins), a leading '-' subtracts the box.
-- Labels are compared case- and punctuation-insensitively (md_label_key).
CREATE TABLE IF NOT EXISTS public.wi_type_rules (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_code               text NOT NULL,
    valid_from_year         integer NOT NULL DEFAULT 1900,
    valid_to_year           integer NOT NULL DEFAULT 9999,
    form_name               text NOT NULL,
    category                text NOT NULL CONSTRAINT wi_type_rules_category_check
                                CHECK (category IN ('SE', 'Non-SE', 'Neither')),
    irs_categories          text NOT NULL,           -- INC / SE / WH / DED / ASSET / INFO (irs-domain 3)
    income_kind             text NOT NULL CONSTRAINT wi_type_rules_income_kind_check
                                CHECK (income_kind IN ('wages', 'self_employment', 'interest', 'dividends',
                                       'capital_gain', 'retirement', 'social_security', 'unemployment',
                                       'gambling', 'debt_cancellation', 'rents_royalties', 'other', 'none')),
    is_self_employment      boolean NOT NULL DEFAULT false,  -- default when the form has no box breakdown
    include_in_projection   boolean NOT NULL DEFAULT true,
    requires_confirmation   boolean NOT NULL DEFAULT false,  -- 1099-K: only with interview confirmation
    income_box              text,                    -- human-readable: which box is income
    withholding_box         text,
    income_fields           text[] NOT NULL DEFAULT '{}',
    se_fields               text[] NOT NULL DEFAULT '{}',   -- part of income that is SE (Schedule C/F)
    se_flag_fields          text[] NOT NULL DEFAULT '{}',   -- checkbox making the whole form SE
    withholding_fields      text[] NOT NULL DEFAULT '{}',
    ss_wage_fields          text[] NOT NULL DEFAULT '{}',   -- count against the SS wage base
    medicare_wage_fields    text[] NOT NULL DEFAULT '{}',
    preferential_fields     text[] NOT NULL DEFAULT '{}',   -- taxed at the 0/15/20 % rates
    code_field              text,                            -- e.g. 1099-R distribution code
    nontaxable_codes        text[] NOT NULL DEFAULT '{}',
    penalty_codes           text[] NOT NULL DEFAULT '{}',   -- 10 % additional tax
    review_flag             text,                            -- raised on every document of this type
    projection_rule         text,
    notes                   text,
    source                  text NOT NULL,
    confidence              text NOT NULL CONSTRAINT wi_type_rules_confidence_check
                                CHECK (confidence IN ('S', 'I', 'R', 'K', '?')),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wi_type_rules_form_year_key UNIQUE (form_code, valid_from_year),
    CONSTRAINT wi_type_rules_year_range_check CHECK (valid_from_year <= valid_to_year)
);

-- Spellings seen upstream mapped to the rule's form_code (after md_form_code's generic clean-up).
CREATE TABLE IF NOT EXISTS public.wi_form_aliases (
    alias       text PRIMARY KEY,
    form_code   text NOT NULL,
    source      text NOT NULL,
    confidence  text NOT NULL
);

INSERT INTO public.wi_form_aliases (alias, form_code, source, confidence) VALUES
    ('W2', 'W-2', 'upstream-apis 2.5 (form type last resort W-2/W2)', 'I'),
    ('W2G', 'W-2G', 'spelling variant', 'I'),
    ('W-2C', 'W-2', 'corrected W-2 (medallion-schema 6.1 recommended additions)', 'K'),
    ('W2C', 'W-2', 'corrected W-2', 'K'),
    ('WAGE', 'W-2', 'upstream-apis 2.5 (WAGE as last resort)', 'K'),
    ('WAGES', 'W-2', 'upstream-apis 2.5 (WAGE as last resort)', 'K'),
    ('SSA1099', 'SSA-1099', 'spelling variant', 'I'),
    ('RRB1099', 'RRB-1099', 'spelling variant', 'I'),
    ('RRB1099R', 'RRB-1099-R', 'spelling variant', 'I'),
    ('K-1', 'K-1 1065', 'K-1 without the entity form: partnership assumed [?] (flagged)', '?'),
    ('K-1 (FORM 1065)', 'K-1 1065', 'business-rules 4.3 upstream label', 'I'),
    ('K-1 (FORM 1041)', 'K-1 1041', 'business-rules 4.3 upstream label', 'I'),
    ('K-1 1120S', 'K-1 1120-S', 'business-rules 4.3 upstream label', 'I'),
    ('K-1 (FORM 1120S)', 'K-1 1120-S', 'spelling variant', 'I'),
    ('K-1 (FORM 1120-S)', 'K-1 1120-S', 'spelling variant', 'I'),
    ('SCHEDULE K-1 (FORM 1065)', 'K-1 1065', 'spelling variant', 'I'),
    ('SCHEDULE K-1 (FORM 1120-S)', 'K-1 1120-S', 'spelling variant', 'I'),
    ('SCHEDULE K-1 (FORM 1041)', 'K-1 1041', 'spelling variant', 'I')
ON CONFLICT (alias) DO UPDATE SET form_code = excluded.form_code, source = excluded.source,
                                  confidence = excluded.confidence;

-- Upsert helper so the seed below stays readable and re-runnable.
INSERT INTO public.wi_type_rules AS r (
    form_code, valid_from_year, valid_to_year, form_name, category, irs_categories, income_kind,
    is_self_employment, include_in_projection, requires_confirmation, income_box, withholding_box,
    income_fields, se_fields, se_flag_fields, withholding_fields, ss_wage_fields, medicare_wage_fields,
    preferential_fields, code_field, nontaxable_codes, penalty_codes, review_flag, projection_rule, notes,
    source, confidence)
VALUES
    ('W-2', 1900, 9999, 'Wage and Tax Statement', 'Non-SE', 'INC,WH', 'wages', false, true, false,
     'box 1 wages, tips, other compensation', 'box 2 federal income tax withheld',
     '{"Wages, Tips, and Other Compensation|Wages, Tips and Other Compensation|Wages Tips Other Compensation|Wages|Box 1"}',
     '{}', '{"Statutory Employee"}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 2"}',
     '{"Social Security Wages|Box 3","Social Security Tips|Box 7"}',
     '{"Medicare Wages and Tips|Medicare Wages|Box 5"}',
     '{}', NULL, '{}', '{}', NULL,
     'box 1 -> wages; box 2 -> withholding; box 3 (+ SS tips) counts against the SS wage base for SE tax; statutory employee -> Schedule C (SE)',
     'Correction (irs-domain 7): SE tax coordinates with W-2 SS wages.', 'irs-domain.md 3; IRC 1402(b)', 'I'),
    ('W-2G', 1900, 9999, 'Certain Gambling Winnings', 'Non-SE', 'INC,WH', 'gambling', false, true, false,
     'box 1 gross winnings', 'box 4 federal income tax withheld',
     '{"Gross Winnings|Reportable Winnings|Winnings|Box 1"}', '{}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 4"}', '{}', '{}', '{}',
     NULL, '{}', '{}', NULL, 'other income; losses only if itemizing', NULL, 'irs-domain.md 3', 'I'),
    ('1099-NEC', 2020, 9999, 'Nonemployee Compensation', 'SE', 'SE,WH', 'self_employment', true, true, false,
     'box 1 nonemployee compensation', 'box 4 federal income tax withheld',
     '{"Non-Employee Compensation|Nonemployee Compensation|Box 1"}',
     '{"Non-Employee Compensation|Nonemployee Compensation|Box 1"}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 4"}', '{}', '{}', '{}',
     NULL, '{}', '{}', NULL, 'Schedule C gross receipts -> SE tax', 'Form exists from TY 2020.',
     'irs-domain.md 3', 'I'),
    ('1099-NEC', 1900, 2019, 'Nonemployee Compensation (pre-2020 filing treated as NEC)', 'SE', 'SE,WH',
     'self_employment', true, true, false,
     'box 1 nonemployee compensation', 'box 4 federal income tax withheld',
     '{"Non-Employee Compensation|Nonemployee Compensation|Box 1"}',
     '{"Non-Employee Compensation|Nonemployee Compensation|Box 1"}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 4"}', '{}', '{}', '{}',
     NULL, '{}', '{}', 'form_type_year_mismatch', 'Schedule C gross receipts -> SE tax',
     '1099-NEC did not exist before TY 2020; treated as NEC and flagged.', 'irs-domain.md 3', 'K'),
    ('1099-MISC', 2020, 9999, 'Miscellaneous Information', 'Non-SE', 'INC,SE,WH', 'other', false, true, false,
     'rents (1), royalties (2), other income (3), fishing boat (5), medical (6), substitute payments (8), crop insurance (9), attorney proceeds (10), fish (11), 409A (12), golden parachute (13), NQDC (14)',
     'box 4 federal income tax withheld',
     '{"Rents|Box 1","Royalties|Box 2","Other Income|Box 3","Fishing Boat Proceeds|Fishing Income|Box 5","Medical and Health Care Payments|Medical Payments|Box 6","Substitute Payments in Lieu of Dividends or Interest|Substitute for Dividends|Substitute Payments|Box 8","Crop Insurance Proceeds|Crop Insurance|Box 9","Gross Proceeds Paid to an Attorney|Attorney Fees|Box 10","Fish Purchased for Resale|Box 11","Excess Golden Parachute Payments|Box 13","Nonqualified Deferred Compensation|Box 14","Non-Employee Compensation|Nonemployee Compensation"}',
     '{"Fishing Boat Proceeds|Fishing Income|Box 5","Medical and Health Care Payments|Medical Payments|Box 6","Crop Insurance Proceeds|Crop Insurance|Box 9","Non-Employee Compensation|Nonemployee Compensation"}',
     '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 4","Tax Withheld"}',
     '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'rents/royalties -> Schedule E (no SE); other income -> Schedule 1 (no SE); boxes 5/6/9 -> SE',
     'Without a box breakdown the whole amount is other income (no SE). A legacy NEC label is still SE.',
     'irs-domain.md 3 (1099-MISC TY 2020+)', 'I'),
    ('1099-MISC', 1900, 2019, 'Miscellaneous Income (nonemployee compensation in box 7)', 'SE', 'SE,INC,WH',
     'self_employment', true, true, false,
     'box 7 nonemployee compensation; rents (1), royalties (2), other income (3), fishing (5), medical (6)',
     'box 4 federal income tax withheld',
     '{"Rents|Box 1","Royalties|Box 2","Other Income|Box 3","Fishing Boat Proceeds|Fishing Income|Box 5","Medical and Health Care Payments|Medical Payments|Box 6","Non-Employee Compensation|Nonemployee Compensation|Box 7","Substitute Payments in Lieu of Dividends or Interest|Substitute for Dividends|Box 8","Crop Insurance Proceeds|Crop Insurance|Box 10","Gross Proceeds Paid to an Attorney|Attorney Fees|Box 14"}',
     '{"Non-Employee Compensation|Nonemployee Compensation|Box 7","Fishing Boat Proceeds|Fishing Income|Box 5","Medical and Health Care Payments|Medical Payments|Box 6","Crop Insurance Proceeds|Crop Insurance|Box 10"}',
     '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Federal Tax Withheld|Box 4","Tax Withheld"}',
     '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'box 7 -> Schedule C / SE tax',
     'Correction: nonemployee compensation was box 7 until TY 2019 (moved to 1099-NEC from 2020).',
     'irs-domain.md 3 (1099-MISC TY <= 2019)', 'I'),
    ('1099-K', 1900, 9999, 'Payment Card and Third Party Network Transactions', 'SE', 'SE,WH',
     'self_employment', true, true, true,
     'gross amount of payment card / third-party network transactions', 'federal income tax withheld',
     '{"Gross Amount|Gross Amount of Payment Card/Third Party Network Transactions|Gross Payments|Box 1a"}',
     '{"Gross Amount|Gross Amount of Payment Card/Third Party Network Transactions|Gross Payments|Box 1a"}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}',
     'form_1099k_requires_confirmation',
     'gross receipts, not profit: Schedule C only when interview data confirms business activity; otherwise flagged and left out',
     'Reporting threshold changed several times [?].', 'irs-domain.md 3', 'I'),
    ('1099-INT', 1900, 9999, 'Interest Income', 'Non-SE', 'INC,ASSET', 'interest', false, true, false,
     'box 1 interest income + box 3 U.S. savings bond / Treasury interest', 'box 4 federal income tax withheld',
     '{"Interest Income|Interest|Box 1","Interest on U.S. Savings Bonds and Treasury Obligations|U.S. Savings Bonds and Treasury Obligations|Savings Bonds|Box 3"}',
     '{}', '{}', '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}',
     NULL, 'interest -> income; payer = evidence of a bank account for 433-A',
     'Correction: the upstream parser counted savings-bond interest only when >= 1,000; it is income in full.',
     'irs-domain.md 3', 'I'),
    ('1099-DIV', 1900, 9999, 'Dividends and Distributions', 'Non-SE', 'INC,ASSET', 'dividends', false, true, false,
     'box 1a total ordinary dividends + box 2a capital gain distributions (1b and 2a at capital-gain rates)',
     'box 4 federal income tax withheld',
     '{"Total Ordinary Dividends|Ordinary Dividends|Box 1a|Qualified Dividends","Total Capital Gain Distributions|Capital Gain Distributions|Capital Gains|Box 2a"}',
     '{}', '{}', '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}',
     '{"Qualified Dividends|Box 1b","Total Capital Gain Distributions|Capital Gain Distributions|Capital Gains|Box 2a"}',
     NULL, '{}', '{}', NULL, '1b and 2a at capital-gain rates; payer = brokerage asset',
     'Correction: upstream summed qualified dividends (a subset of 1a) instead of total ordinary dividends.',
     'irs-domain.md 3, 4.3', 'I'),
    ('1099-B', 1900, 9999, 'Proceeds From Broker and Barter Exchange Transactions', 'Non-SE', 'INC,ASSET',
     'capital_gain', false, true, false,
     'gain = proceeds - cost basis (missing basis -> full proceeds, flagged)', 'federal income tax withheld',
     '{"Proceeds|Gross Proceeds|Box 1d","-Cost or Other Basis|Cost or Basis|Cost Basis|Box 1e"}',
     '{}', '{}', '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}',
     NULL, 'gain = proceeds - basis; if basis missing, flag (IRS AUR/SFR treats full proceeds as gain); taxed as ordinary income here (holding period unknown)',
     NULL, 'irs-domain.md 3', 'I'),
    ('1099-R', 1900, 9999, 'Distributions From Pensions, Annuities, Retirement Plans, IRAs', 'Non-SE', 'INC,WH,ASSET',
     'retirement', false, true, false,
     'box 2a taxable amount (else box 1 gross distribution); code G/H rollover not taxable',
     'box 4 federal income tax withheld',
     '{"Taxable Amount|Box 2a|Gross Distribution|Box 1"}', '{}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}',
     'Distribution Code|Distribution Codes|Code|Box 7', '{G,H}', '{1}', NULL,
     'taxable amount -> income; code 1 -> extra 10% tax; code G/H -> not taxable; 7 normal; 2/3/4 early with exception',
     NULL, 'irs-domain.md 3', 'I'),
    ('1099-G', 1900, 9999, 'Certain Government Payments', 'Non-SE', 'INC,WH', 'unemployment', false, true, false,
     'box 1 unemployment + box 6 taxable grants + box 7 agriculture payments (box 2 state refund excluded: standard deduction assumed)',
     'box 4 federal income tax withheld',
     '{"Unemployment Compensation|Box 1","Taxable Grants|Box 6","Agriculture Payments|Agricultural Subsidies|Box 7"}',
     '{}', '{}', '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}',
     NULL, 'unemployment taxable; state refund taxable only if itemized the prior year', NULL, 'irs-domain.md 3', 'I'),
    ('SSA-1099', 1900, 9999, 'Social Security Benefit Statement', 'Non-SE', 'INC,WH', 'social_security', false, true, false,
     'box 5 net benefits (taxable part via the benefits worksheet)', 'box 6 voluntary federal income tax withheld',
     '{"Net Benefits|Net Benefits Paid|Total Benefits Paid|Benefits Paid|Box 5"}', '{}', '{}',
     '{"Voluntary Federal Income Tax Withheld|Federal Withholding|Federal Income Tax Withheld|Tax Withheld|Box 6"}',
     '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'taxable part <= 85% via the benefits worksheet (thresholds in filing_status_thresholds)',
     'Correction: the upstream rule (85% or nothing) is replaced by the worksheet.', 'irs-domain.md 3', 'I'),
    ('RRB-1099', 1900, 9999, 'Payments by the Railroad Retirement Board (tier 1)', 'Non-SE', 'INC,WH',
     'social_security', false, true, false, 'net tier-1 SS-equivalent benefit', 'federal income tax withheld',
     '{"Net Social Security Equivalent Benefit|Net Benefits|Tier 1|Box 5"}', '{}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Box 10"}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'as SSA-1099', NULL, 'irs-domain.md 3', 'I'),
    ('RRB-1099-R', 1900, 9999, 'Annuities or Pensions by the Railroad Retirement Board (tier 2)', 'Non-SE',
     'INC,WH', 'retirement', false, true, false, 'taxable tier-2 / pension amount', 'federal income tax withheld',
     '{"Taxable Amount|Gross Distribution|Box 7"}', '{}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Box 9"}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'as 1099-R', NULL, 'irs-domain.md 3', 'I'),
    ('1099-S', 1900, 9999, 'Proceeds From Real Estate Transactions', 'Neither', 'INC,ASSET', 'capital_gain',
     false, false, false, 'box 2 gross proceeds (basis unknown)', NULL,
     '{"Gross Proceeds|Box 2"}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', 'basis_unknown_review',
     'potential capital gain (basis unknown; possible home-sale exclusion); evidence of real property',
     'Not projected: gain cannot be computed without basis; flagged for review.', 'irs-domain.md 3', 'I'),
    ('1099-C', 1900, 9999, 'Cancellation of Debt', 'Non-SE', 'INC', 'debt_cancellation', false, true, false,
     'box 2 amount of debt discharged', NULL,
     '{"Amount of Debt Discharged|Debt Discharged|Box 2"}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}',
     'debt_cancellation_review', 'income unless excluded (insolvency/bankruptcy - Form 982); flag for review',
     NULL, 'irs-domain.md 3', 'I'),
    ('1099-SA', 1900, 9999, 'Distributions From an HSA, Archer MSA, or Medicare Advantage MSA', 'Neither', 'INC',
     'none', false, false, false, 'gross distribution (usually non-taxable)', NULL,
     '{"Gross Distribution|Box 1"}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', 'taxability_review',
     'usually non-taxable when used for qualified expenses; flag', NULL, 'irs-domain.md 3', 'I'),
    ('1099-Q', 1900, 9999, 'Payments From Qualified Education Programs', 'Neither', 'INC', 'none', false, false, false,
     'gross distribution (usually non-taxable)', NULL,
     '{"Gross Distribution|Box 1"}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', 'taxability_review',
     'usually non-taxable when used for qualified expenses; flag', NULL, 'irs-domain.md 3', 'I'),
    ('1099-LTC', 1900, 9999, 'Long-Term Care and Accelerated Death Benefits', 'Neither', 'INC', 'none', false, false,
     false, 'gross benefits (usually non-taxable)', NULL,
     '{"Gross Long-Term Care Benefits Paid|Box 1","Accelerated Death Benefits Paid|Box 2"}', '{}', '{}', '{}', '{}',
     '{}', '{}', NULL, '{}', '{}', 'taxability_review', 'usually non-taxable; flag', NULL, 'irs-domain.md 3', 'I'),
    ('1099-OID', 1900, 9999, 'Original Issue Discount', 'Non-SE', 'INC', 'interest', false, true, false,
     'original issue discount + other periodic interest', 'federal income tax withheld',
     '{"Original Issue Discount|Box 1","Other Periodic Interest|Interest|Box 2"}', '{}', '{}',
     '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'interest income', NULL, 'irs-domain.md 3', 'I'),
    ('1098', 1900, 9999, 'Mortgage Interest Statement', 'Neither', 'DED,ASSET', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'itemized deduction input; evidence of home ownership and mortgage balance for 433-A',
     'Not income. Standard deduction is assumed by the projection.', 'irs-domain.md 3', 'I'),
    ('1098-E', 1900, 9999, 'Student Loan Interest Statement', 'Neither', 'DED', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'above-the-line deduction, max $2,500 (phase-out) - not applied by the projection', NULL, 'irs-domain.md 3', 'I'),
    ('1098-T', 1900, 9999, 'Tuition Statement', 'Neither', 'DED', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'education credits; excess scholarship may be income - not applied', NULL, 'irs-domain.md 3', 'I'),
    ('5498', 1900, 9999, 'IRA Contribution Information', 'Neither', 'DED,ASSET', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'possible IRA deduction; FMV (box 5) = retirement asset for RCP', NULL, 'irs-domain.md 3', 'I'),
    ('5498-SA', 1900, 9999, 'HSA, Archer MSA, or Medicare Advantage MSA Information', 'Neither', 'DED,ASSET', 'none',
     false, false, false, NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'HSA deduction; asset', NULL, 'irs-domain.md 3', 'I'),
    ('1095-A', 1900, 9999, 'Health Insurance Marketplace Statement', 'Neither', 'DED', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', 'premium_tax_credit_review',
     'Form 8962 reconciliation; excess APTC repayment increases tax - not applied, flagged', NULL,
     'irs-domain.md 3', 'I'),
    ('1095-B', 1900, 9999, 'Health Coverage', 'Neither', 'INFO', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL, 'none for current years', NULL,
     'irs-domain.md 3', 'I'),
    ('1095-C', 1900, 9999, 'Employer-Provided Health Insurance Offer and Coverage', 'Neither', 'INFO', 'none',
     false, false, false, NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'none for current years', NULL, 'irs-domain.md 3', 'I'),
    ('K-1 1065', 1900, 9999, 'Schedule K-1 (Form 1065) Partner''s Share of Income', 'SE', 'INC,SE',
     'self_employment', true, true, false,
     'ordinary business income + guaranteed payments (SE for general partners) + rental/interest/dividends/royalties',
     NULL,
     '{"Ordinary Income K-1|Ordinary Business Income|Box 1","Guaranteed Payments|Box 4","Net Rental Real Estate Income|Real Estate|Box 2","Other Net Rental Income|Other Rental|Box 3","Interest Income|Box 5","Ordinary Dividends|Box 6a","Royalties|Box 7"}',
     '{"Ordinary Income K-1|Ordinary Business Income|Box 1","Guaranteed Payments|Box 4"}', '{}', '{}', '{}', '{}',
     '{}', NULL, '{}', '{}', 'k1_partner_type_review',
     '1065 ordinary income & guaranteed payments of general partners -> SE', 'Limited partners: review.',
     'irs-domain.md 3', 'I'),
    ('K-1 1120-S', 1900, 9999, 'Schedule K-1 (Form 1120-S) Shareholder''s Share of Income', 'Non-SE', 'INC', 'other',
     false, true, false, 'ordinary business income + rental + interest + dividends + royalties', NULL,
     '{"Ordinary Income K-1|Ordinary Business Income|Box 1","Net Rental Real Estate Income|Real Estate|Box 2","Other Net Rental Income|Other Rental|Box 3","Interest Income|Interest|Box 4","Ordinary Dividends|Dividends|Box 5a","Royalties|Box 6"}',
     '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL, '1120-S -> no SE', NULL, 'irs-domain.md 3', 'I'),
    ('K-1 1041', 1900, 9999, 'Schedule K-1 (Form 1041) Beneficiary''s Share of Income', 'Non-SE', 'INC', 'other',
     false, true, false, 'interest + dividends + net rental + other rental + business income', NULL,
     '{"Interest Income|Box 1","Ordinary Dividends|Box 2a","Net Rental Real Estate Income|Box 7","Other Rental Income|Other Rental|Box 8","Ordinary Business Income|Box 6"}',
     '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL, 'no SE', NULL, 'irs-domain.md 3; business-rules 4.3', 'K'),
    -- Types the upstream parser knows (business-rules.md 4.3) that irs-domain.md section 3 does not list.
    ('1099-PATR', 1900, 9999, 'Taxable Distributions Received From Cooperatives', 'Non-SE', 'INC', 'other',
     false, true, false, 'patronage dividends + nonpatronage distributions + retained allocations + redemptions',
     'federal income tax withheld',
     '{"Patronage Dividends|Box 1","Non-Patronage Distribution|Nonpatronage Distributions|Box 2","Retained Allocations|Box 3","Redemption Amount|Redeemed Nonqualified Notices|Box 4"}',
     '{}', '{}', '{"Federal Withholding|Federal Income Tax Withheld|Box 4"}', '{}', '{}', '{}', NULL, '{}', '{}',
     'se_status_review',
     'income; SE only when from a trade or business (Schedule C/F) - not established, so not SE here',
     'The original marked it SE; that is not established [?].', 'business-rules.md 4.3', '?'),
    ('1042-S', 1900, 9999, 'Foreign Person''s U.S. Source Income Subject to Withholding', 'Non-SE', 'INC,WH', 'other',
     false, true, false, 'gross income', 'federal tax withheld',
     '{"Gross Income|Box 2"}', '{}', '{}', '{"Federal Withholding|Federal Tax Withheld|Box 7a"}', '{}', '{}', '{}',
     NULL, '{}', '{}', NULL, 'other income', NULL, 'business-rules.md 4.3', 'K'),
    ('1099-A', 1900, 9999, 'Acquisition or Abandonment of Secured Property', 'Neither', 'INFO', 'none', false, false,
     false, NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL,
     'informational (may precede a 1099-C)', NULL, 'medallion-schema.md 6.1', 'K'),
    ('3922', 1900, 9999, 'Transfer of Stock Acquired Through an ESPP', 'Neither', 'INFO', 'none', false, false, false,
     NULL, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', '{}', NULL, 'not income at transfer', NULL,
     'business-rules.md 4.3', 'K')
ON CONFLICT (form_code, valid_from_year) DO UPDATE SET
    valid_to_year = excluded.valid_to_year, form_name = excluded.form_name, category = excluded.category,
    irs_categories = excluded.irs_categories, income_kind = excluded.income_kind,
    is_self_employment = excluded.is_self_employment, include_in_projection = excluded.include_in_projection,
    requires_confirmation = excluded.requires_confirmation, income_box = excluded.income_box,
    withholding_box = excluded.withholding_box, income_fields = excluded.income_fields,
    se_fields = excluded.se_fields, se_flag_fields = excluded.se_flag_fields,
    withholding_fields = excluded.withholding_fields, ss_wage_fields = excluded.ss_wage_fields,
    medicare_wage_fields = excluded.medicare_wage_fields, preferential_fields = excluded.preferential_fields,
    code_field = excluded.code_field, nontaxable_codes = excluded.nontaxable_codes,
    penalty_codes = excluded.penalty_codes, review_flag = excluded.review_flag,
    projection_rule = excluded.projection_rule, notes = excluded.notes, source = excluded.source,
    confidence = excluded.confidence, updated_at = now();

-- ---------------------------------------------------------------------------------------
-- Tax tables 2019-2025 (irs-domain.md section 4; Rev. Procs. 2018-57, 2019-44, 2020-45,
-- 2021-45, 2022-38, 2023-34, 2024-40; OBBBA P.L. 119-21 for 2025).
CREATE TABLE IF NOT EXISTS public.standard_deductions (
    tax_year                 integer NOT NULL,
    filing_status            text NOT NULL CONSTRAINT standard_deductions_status_check
                                 CHECK (public.md_is_filing_status(filing_status)),
    amount                   numeric(15,2) NOT NULL,
    additional_aged_blind    numeric(15,2) NOT NULL,   -- per condition (65+ / blind)
    dependent_minimum        numeric(15,2) NOT NULL,
    source                   text NOT NULL,
    confidence               text NOT NULL,
    CONSTRAINT standard_deductions_pkey PRIMARY KEY (tax_year, filing_status)
);

INSERT INTO public.standard_deductions (tax_year, filing_status, amount, additional_aged_blind, dependent_minimum,
                                        source, confidence)
SELECT y.tax_year, s.status,
       CASE s.grp WHEN 'single' THEN y.single WHEN 'joint' THEN y.joint ELSE y.hoh END,
       CASE WHEN s.status IN ('married_filing_jointly', 'married_filing_separately', 'qualifying_surviving_spouse')
            THEN y.add_married ELSE y.add_unmarried END,
       y.dep_min, y.source, 'R'
FROM (VALUES
    (2019, 12200, 24400, 18350, 1300, 1650, 1100, 'irs-domain.md 4.1; Rev. Proc. 2018-57'),
    (2020, 12400, 24800, 18650, 1300, 1650, 1100, 'irs-domain.md 4.1; Rev. Proc. 2019-44'),
    (2021, 12550, 25100, 18800, 1350, 1700, 1100, 'irs-domain.md 4.1; Rev. Proc. 2020-45'),
    (2022, 12950, 25900, 19400, 1400, 1750, 1150, 'irs-domain.md 4.1; Rev. Proc. 2021-45'),
    (2023, 13850, 27700, 20800, 1500, 1850, 1250, 'irs-domain.md 4.1; Rev. Proc. 2022-38 (1,850 additional: Tax-Calculator''s 1,800 is wrong)'),
    (2024, 14600, 29200, 21900, 1550, 1950, 1300, 'irs-domain.md 4.1; Rev. Proc. 2023-34'),
    (2025, 15750, 31500, 23625, 1600, 2000, 1350, 'irs-domain.md 4.1; OBBBA P.L. 119-21 (was 15,000 / 30,000 / 22,500 per Rev. Proc. 2024-40)')
) AS y(tax_year, single, joint, hoh, add_married, add_unmarried, dep_min, source)
CROSS JOIN (VALUES ('single', 'single'), ('married_filing_separately', 'single'),
                   ('married_filing_jointly', 'joint'), ('qualifying_surviving_spouse', 'joint'),
                   ('head_of_household', 'hoh')) AS s(status, grp)
ON CONFLICT (tax_year, filing_status) DO UPDATE SET
    amount = excluded.amount, additional_aged_blind = excluded.additional_aged_blind,
    dependent_minimum = excluded.dependent_minimum, source = excluded.source, confidence = excluded.confidence;

-- Brackets: rows per (year, status, rate); income_min = taxable income over which the rate
-- starts, income_max = where the next one starts (NULL for 37 %).
CREATE TABLE IF NOT EXISTS public.tax_brackets (
    tax_year       integer NOT NULL,
    filing_status  text NOT NULL CONSTRAINT tax_brackets_status_check CHECK (public.md_is_filing_status(filing_status)),
    rate           numeric(6,4) NOT NULL,
    income_min     numeric(15,2) NOT NULL,
    income_max     numeric(15,2),
    source         text NOT NULL,
    confidence     text NOT NULL,
    CONSTRAINT tax_brackets_pkey PRIMARY KEY (tax_year, filing_status, income_min),
    CONSTRAINT tax_brackets_range_check CHECK (income_max IS NULL OR income_max > income_min)
);

WITH starts (tax_year, grp, t12, t22, t24, t32, t35, t37) AS (VALUES
    (2019, 'single', 9700, 39475, 84200, 160725, 204100, 510300),
    (2019, 'joint', 19400, 78950, 168400, 321450, 408200, 612350),
    (2019, 'mfs', 9700, 39475, 84200, 160725, 204100, 306175),
    (2019, 'hoh', 13850, 52850, 84200, 160700, 204100, 510300),
    (2020, 'single', 9875, 40125, 85525, 163300, 207350, 518400),
    (2020, 'joint', 19750, 80250, 171050, 326600, 414700, 622050),
    (2020, 'mfs', 9875, 40125, 85525, 163300, 207350, 311025),
    (2020, 'hoh', 14100, 53700, 85500, 163300, 207350, 518400),
    (2021, 'single', 9950, 40525, 86375, 164925, 209425, 523600),
    (2021, 'joint', 19900, 81050, 172750, 329850, 418850, 628300),
    (2021, 'mfs', 9950, 40525, 86375, 164925, 209425, 314150),
    (2021, 'hoh', 14200, 54200, 86350, 164900, 209400, 523600),
    (2022, 'single', 10275, 41775, 89075, 170050, 215950, 539900),
    (2022, 'joint', 20550, 83550, 178150, 340100, 431900, 647850),
    (2022, 'mfs', 10275, 41775, 89075, 170050, 215950, 323925),
    (2022, 'hoh', 14650, 55900, 89050, 170050, 215950, 539900),
    (2023, 'single', 11000, 44725, 95375, 182100, 231250, 578125),
    (2023, 'joint', 22000, 89450, 190750, 364200, 462500, 693750),
    (2023, 'mfs', 11000, 44725, 95375, 182100, 231250, 346875),
    (2023, 'hoh', 15700, 59850, 95350, 182100, 231250, 578100),
    (2024, 'single', 11600, 47150, 100525, 191950, 243725, 609350),
    (2024, 'joint', 23200, 94300, 201050, 383900, 487450, 731200),
    (2024, 'mfs', 11600, 47150, 100525, 191950, 243725, 365600),
    (2024, 'hoh', 16550, 63100, 100500, 191950, 243700, 609350),
    (2025, 'single', 11925, 48475, 103350, 197300, 250525, 626350),
    (2025, 'joint', 23850, 96950, 206700, 394600, 501050, 751600),
    (2025, 'mfs', 11925, 48475, 103350, 197300, 250525, 375800),
    (2025, 'hoh', 17000, 64850, 103350, 197300, 250500, 626350)
), statuses (status, grp) AS (VALUES
    ('single', 'single'), ('married_filing_jointly', 'joint'), ('qualifying_surviving_spouse', 'joint'),
    ('married_filing_separately', 'mfs'), ('head_of_household', 'hoh')
), bands AS (
    SELECT s.tax_year, st.status, b.rate, b.lo, b.hi
    FROM starts s
    JOIN statuses st USING (grp)
    CROSS JOIN LATERAL (VALUES
        (0.10, 0::numeric, s.t12::numeric), (0.12, s.t12, s.t22), (0.22, s.t22, s.t24), (0.24, s.t24, s.t32),
        (0.32, s.t32, s.t35), (0.35, s.t35, s.t37), (0.37, s.t37, NULL::numeric)) AS b(rate, lo, hi)
)
INSERT INTO public.tax_brackets (tax_year, filing_status, rate, income_min, income_max, source, confidence)
SELECT tax_year, status, rate, lo, hi,
       'irs-domain.md 4.2; Rev. Proc. ' || CASE tax_year WHEN 2019 THEN '2018-57' WHEN 2020 THEN '2019-44'
           WHEN 2021 THEN '2020-45' WHEN 2022 THEN '2021-45' WHEN 2023 THEN '2022-38' WHEN 2024 THEN '2023-34'
           ELSE '2024-40' END
       || CASE WHEN tax_year = 2023 AND status = 'married_filing_separately' AND rate = 0.37
               THEN ' (346,875; Tax-Calculator''s 578,125 is wrong)' ELSE '' END,
       'R'
FROM bands
ON CONFLICT (tax_year, filing_status, income_min) DO UPDATE SET
    rate = excluded.rate, income_max = excluded.income_max, source = excluded.source, confidence = excluded.confidence;

-- Qualified dividends / long-term capital gains: 0 % up to zero_rate_max, 15 % up to
-- fifteen_rate_max, 20 % above (irs-domain.md 4.3).
CREATE TABLE IF NOT EXISTS public.capital_gain_thresholds (
    tax_year          integer NOT NULL,
    filing_status     text NOT NULL CONSTRAINT capital_gain_thresholds_status_check
                          CHECK (public.md_is_filing_status(filing_status)),
    zero_rate_max     numeric(15,2) NOT NULL,
    fifteen_rate_max  numeric(15,2) NOT NULL,
    source            text NOT NULL,
    confidence        text NOT NULL,
    CONSTRAINT capital_gain_thresholds_pkey PRIMARY KEY (tax_year, filing_status)
);

WITH t (tax_year, s0, s15, j0, j15, m0, m15, h0, h15) AS (VALUES
    (2019, 39375, 434550, 78750, 488850, 39375, 244425, 52750, 461700),
    (2020, 40000, 441450, 80000, 496600, 40000, 248300, 53600, 469050),
    (2021, 40400, 445850, 80800, 501600, 40400, 250800, 54100, 473750),
    (2022, 41675, 459750, 83350, 517200, 41675, 258600, 55800, 488500),
    (2023, 44625, 492300, 89250, 553850, 44625, 276900, 59750, 523050),
    (2024, 47025, 518900, 94050, 583750, 47025, 291850, 63000, 551350),
    (2025, 48350, 533400, 96700, 600050, 48350, 300000, 64750, 566700)
)
INSERT INTO public.capital_gain_thresholds (tax_year, filing_status, zero_rate_max, fifteen_rate_max, source, confidence)
SELECT tax_year, v.status, v.z, v.f, 'irs-domain.md 4.3', 'R'
FROM t CROSS JOIN LATERAL (VALUES
    ('single', s0, s15), ('married_filing_jointly', j0, j15), ('qualifying_surviving_spouse', j0, j15),
    ('married_filing_separately', m0, m15), ('head_of_household', h0, h15)) AS v(status, z, f)
ON CONFLICT (tax_year, filing_status) DO UPDATE SET
    zero_rate_max = excluded.zero_rate_max, fifteen_rate_max = excluded.fifteen_rate_max,
    source = excluded.source, confidence = excluded.confidence;

-- Self-employment tax constants per year (irs-domain.md 4.4; IRC 1401(a)/(b), 1402(a)(12)).
CREATE TABLE IF NOT EXISTS public.se_tax_constants (
    tax_year                 integer PRIMARY KEY,
    ss_wage_base             numeric(15,2) NOT NULL,
    net_earnings_factor      numeric(8,6) NOT NULL,     -- 92.35 %
    ss_rate                  numeric(8,6) NOT NULL,     -- 12.4 % up to the wage base
    medicare_rate            numeric(8,6) NOT NULL,     -- 2.9 % uncapped
    additional_medicare_rate numeric(8,6) NOT NULL,     -- 0.9 % above the threshold
    deductible_share         numeric(8,6) NOT NULL,     -- half of SE tax (excl. 0.9 %)
    minimum_net_earnings     numeric(15,2) NOT NULL,    -- no SE tax under $400
    source                   text NOT NULL,
    confidence               text NOT NULL
);

INSERT INTO public.se_tax_constants (tax_year, ss_wage_base, net_earnings_factor, ss_rate, medicare_rate,
                                     additional_medicare_rate, deductible_share, minimum_net_earnings, source, confidence)
SELECT y, base, 0.9235, 0.124, 0.029, 0.009, 0.5, 400,
       'irs-domain.md 4.4: wage base [R]; rates IRC 1401(a),(b) and 92.35 % IRC 1402(a)(12) [S]', 'R'
FROM (VALUES (2019, 132900), (2020, 137700), (2021, 142800), (2022, 147000), (2023, 160200), (2024, 168600),
             (2025, 176100)) AS v(y, base)
ON CONFLICT (tax_year) DO UPDATE SET
    ss_wage_base = excluded.ss_wage_base, net_earnings_factor = excluded.net_earnings_factor,
    ss_rate = excluded.ss_rate, medicare_rate = excluded.medicare_rate,
    additional_medicare_rate = excluded.additional_medicare_rate, deductible_share = excluded.deductible_share,
    minimum_net_earnings = excluded.minimum_net_earnings, source = excluded.source, confidence = excluded.confidence;

-- Thresholds by filing status that are not indexed (same every year).
CREATE TABLE IF NOT EXISTS public.filing_status_thresholds (
    threshold_kind  text NOT NULL CONSTRAINT filing_status_thresholds_kind_check
                        CHECK (threshold_kind IN ('additional_medicare', 'niit', 'ss_base_amount', 'ss_adjusted_base')),
    filing_status   text NOT NULL CONSTRAINT filing_status_thresholds_status_check
                        CHECK (public.md_is_filing_status(filing_status)),
    amount          numeric(15,2) NOT NULL,
    rate            numeric(8,6),
    source          text NOT NULL,
    confidence      text NOT NULL,
    CONSTRAINT filing_status_thresholds_pkey PRIMARY KEY (threshold_kind, filing_status)
);

INSERT INTO public.filing_status_thresholds (threshold_kind, filing_status, amount, rate, source, confidence) VALUES
    ('additional_medicare', 'single', 200000, 0.009, 'irs-domain.md 4.4; IRC 1401(b)(2)', 'S'),
    ('additional_medicare', 'head_of_household', 200000, 0.009, 'irs-domain.md 4.4; IRC 1401(b)(2)', 'S'),
    ('additional_medicare', 'qualifying_surviving_spouse', 200000, 0.009, 'irs-domain.md 4.4; IRC 1401(b)(2)', 'S'),
    ('additional_medicare', 'married_filing_jointly', 250000, 0.009, 'irs-domain.md 4.4; IRC 1401(b)(2)', 'S'),
    ('additional_medicare', 'married_filing_separately', 125000, 0.009, 'irs-domain.md 4.4; IRC 1401(b)(2)', 'S'),
    ('niit', 'single', 200000, 0.038, 'irs-domain.md 4.4 (IRC 1411)', 'K'),
    ('niit', 'head_of_household', 200000, 0.038, 'irs-domain.md 4.4 (IRC 1411)', 'K'),
    ('niit', 'qualifying_surviving_spouse', 250000, 0.038, 'irs-domain.md 4.4 (IRC 1411)', 'K'),
    ('niit', 'married_filing_jointly', 250000, 0.038, 'irs-domain.md 4.4 (IRC 1411)', 'K'),
    ('niit', 'married_filing_separately', 125000, 0.038, 'irs-domain.md 4.4 (IRC 1411)', 'K'),
    -- Social-security benefits worksheet (irs-domain.md 3, SSA-1099): 50 % tier above the base
    -- amount, 85 % tier above the adjusted base; MFS assumed living together ($0).
    ('ss_base_amount', 'single', 25000, 0.50, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_base_amount', 'head_of_household', 25000, 0.50, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_base_amount', 'qualifying_surviving_spouse', 25000, 0.50, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_base_amount', 'married_filing_jointly', 32000, 0.50, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_base_amount', 'married_filing_separately', 0, 0.50, 'irs-domain.md 3 (SSA-1099, living together)', 'I'),
    ('ss_adjusted_base', 'single', 34000, 0.85, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_adjusted_base', 'head_of_household', 34000, 0.85, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_adjusted_base', 'qualifying_surviving_spouse', 34000, 0.85, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_adjusted_base', 'married_filing_jointly', 44000, 0.85, 'irs-domain.md 3 (SSA-1099)', 'I'),
    ('ss_adjusted_base', 'married_filing_separately', 0, 0.85, 'irs-domain.md 3 (SSA-1099, living together)', 'I')
ON CONFLICT (threshold_kind, filing_status) DO UPDATE SET
    amount = excluded.amount, rate = excluded.rate, source = excluded.source, confidence = excluded.confidence;

-- Other scalar constants.
CREATE TABLE IF NOT EXISTS public.tax_constants (
    name        text PRIMARY KEY,
    value       numeric NOT NULL,
    description text NOT NULL,
    source      text NOT NULL,
    confidence  text NOT NULL
);

INSERT INTO public.tax_constants (name, value, description, source, confidence) VALUES
    ('early_distribution_rate', 0.10, '1099-R code 1: additional tax on early distributions', 'irs-domain.md 3 (1099-R)', 'I'),
    ('rcp_lump_sum_months', 12, 'OIC lump-sum: future income = MDI x 12', 'irs-domain.md 5.4', 'K'),
    ('rcp_periodic_months', 24, 'OIC periodic: future income = MDI x 24', 'irs-domain.md 5.4', 'K'),
    ('max_vehicles_allowed', 2, 'vehicle ownership/operating standards apply to up to 2 vehicles', 'irs-domain.md 5.1', 'I')
ON CONFLICT (name) DO UPDATE SET value = excluded.value, description = excluded.description,
                                 source = excluded.source, confidence = excluded.confidence;

-- ---------------------------------------------------------------------------------------
-- IRS Collection Financial Standards (irs-domain.md section 5.2). Monthly amounts.
-- scope: 'national' (by household size; size 0 row = each additional person beyond 4),
-- 'health' (per person by age band), 'vehicle' / 'transport' (per vehicle / household).
CREATE TABLE IF NOT EXISTS public.irs_collection_standards (
    effective_date   date NOT NULL,
    category         text NOT NULL,
    household_size   integer NOT NULL DEFAULT 0,     -- 0 = not by size / additional person
    age_band         text NOT NULL DEFAULT 'all',    -- 'under_65' / '65_plus' for health care
    region           text NOT NULL DEFAULT 'national',
    monthly_amount   numeric(15,2) NOT NULL,
    source           text NOT NULL,
    confidence       text NOT NULL,
    CONSTRAINT irs_collection_standards_pkey PRIMARY KEY (effective_date, category, household_size, age_band, region)
);

INSERT INTO public.irs_collection_standards (effective_date, category, household_size, monthly_amount, source, confidence)
SELECT DATE '2025-04-21', c.category, c.size, c.amount, 'irs-domain.md 5.2 (National Standards effective 2025-04-21)', 'I'
FROM (VALUES
    ('food', 1, 497), ('food', 2, 863), ('food', 3, 1068), ('food', 4, 1255),
    ('housekeeping', 1, 44), ('housekeeping', 2, 75), ('housekeeping', 3, 82), ('housekeeping', 4, 91),
    ('apparel', 1, 93), ('apparel', 2, 181), ('apparel', 3, 188), ('apparel', 4, 276),
    ('personal_care', 1, 50), ('personal_care', 2, 91), ('personal_care', 3, 94), ('personal_care', 4, 117),
    ('misc', 1, 154), ('misc', 2, 271), ('misc', 3, 321), ('misc', 4, 390),
    -- published totals (IRS rounding: the 1-person items sum to 838, the table says 839)
    ('national_total', 1, 839), ('national_total', 2, 1481), ('national_total', 3, 1753), ('national_total', 4, 2129),
    ('national_total_additional_person', 0, 394)
) AS c(category, size, amount)
ON CONFLICT (effective_date, category, household_size, age_band, region) DO UPDATE SET
    monthly_amount = excluded.monthly_amount, source = excluded.source, confidence = excluded.confidence;

INSERT INTO public.irs_collection_standards (effective_date, category, household_size, age_band, monthly_amount,
                                             source, confidence) VALUES
    (DATE '2024-04-22', 'national_total', 1, 'all', 808, 'irs-domain.md 5.2 (2024 set, secondary source)', 'K'),
    (DATE '2024-04-22', 'national_total', 2, 'all', 1411, 'irs-domain.md 5.2 (2024 set, secondary source)', 'K'),
    (DATE '2024-04-22', 'national_total', 3, 'all', 1677, 'irs-domain.md 5.2 (2024 set, secondary source)', 'K'),
    (DATE '2024-04-22', 'national_total', 4, 'all', 2027, 'irs-domain.md 5.2 (2024 set, secondary source)', 'K'),
    (DATE '2024-04-22', 'national_total_additional_person', 0, 'all', 386, 'irs-domain.md 5.2 (2024 set, secondary source)', 'K'),
    -- 2025 health / transportation / housing amounts could not be read (irs-domain.md 5.2): the
    -- 2024 figures are the newest on file.
    (DATE '2024-04-22', 'health_out_of_pocket', 0, 'under_65', 83, 'irs-domain.md 5.2 (2024 IRS page)', 'I'),
    (DATE '2024-04-22', 'health_out_of_pocket', 0, '65_plus', 158, 'irs-domain.md 5.2 (2024 IRS page)', 'I'),
    (DATE '2024-04-22', 'vehicle_ownership', 0, 'all', 619, 'irs-domain.md 5.2 (2024, secondary source; per vehicle, up to 2)', 'K'),
    (DATE '2024-04-22', 'public_transportation', 0, 'all', 215, 'irs-domain.md 5.2 (2024, secondary source; per household)', 'K')
ON CONFLICT (effective_date, category, household_size, age_band, region) DO UPDATE SET
    monthly_amount = excluded.monthly_amount, source = excluded.source, confidence = excluded.confidence;

INSERT INTO public.irs_collection_standards (effective_date, category, household_size, age_band, region,
                                             monthly_amount, source, confidence) VALUES
    (DATE '2024-04-22', 'vehicle_operating', 0, 'all', 'south', 260,
     'irs-domain.md 5.2 (2024 South region, secondary source; per vehicle, up to 2)', 'K')
ON CONFLICT (effective_date, category, household_size, age_band, region) DO UPDATE SET
    monthly_amount = excluded.monthly_amount, source = excluded.source, confidence = excluded.confidence;

-- National-standard amount for a household size on a date (latest set in force; sizes over 4
-- add the per-person amount). NULL when no set is on file.
CREATE OR REPLACE FUNCTION public.irs_national_standard(p_category text, p_household_size integer,
                                                        p_as_of date DEFAULT current_date)
RETURNS numeric LANGUAGE sql STABLE AS $$
    WITH eff AS (
        SELECT max(effective_date) AS d FROM public.irs_collection_standards
        WHERE category = p_category AND effective_date <= greatest(p_as_of, DATE '2024-04-22')
    ), base AS (
        SELECT monthly_amount FROM public.irs_collection_standards, eff
        WHERE category = p_category AND effective_date = eff.d
          AND household_size = least(greatest(coalesce(p_household_size, 1), 1), 4)
    ), extra AS (
        SELECT monthly_amount FROM public.irs_collection_standards, eff
        WHERE category = p_category || '_additional_person' AND effective_date = eff.d AND household_size = 0
    )
    SELECT (SELECT monthly_amount FROM base)
           + greatest(coalesce(p_household_size, 1) - 4, 0) * coalesce((SELECT monthly_amount FROM extra), 0);
$$;

-- A per-person / per-vehicle / per-household standard (latest set in force).
CREATE OR REPLACE FUNCTION public.irs_flat_standard(p_category text, p_age_band text DEFAULT 'all',
                                                    p_region text DEFAULT 'national', p_as_of date DEFAULT current_date)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT monthly_amount FROM public.irs_collection_standards
    WHERE category = p_category AND age_band = p_age_band AND region = p_region
      AND effective_date <= greatest(p_as_of, DATE '2024-04-22')
    ORDER BY effective_date DESC LIMIT 1;
$$;

-- ---------------------------------------------------------------------------------------
-- Pay frequency: canonical values, their monthly factors and the synonyms seen upstream.
-- Factors: exact 52/12 and 26/12 (business-rules.md 7: "Exact factors would be 52/12 ~ 4.333
-- and 26/12 ~ 2.167"); the original's 4.33 / 2.17 are those rounded. Kept as data so a
-- different convention is one UPDATE.
CREATE TABLE IF NOT EXISTS public.pay_frequency_factors (
    frequency       text PRIMARY KEY CONSTRAINT pay_frequency_factors_value_check
                        CHECK (frequency IN ('weekly', 'biweekly', 'semimonthly', 'monthly', 'quarterly', 'annual')),
    periods_per_year numeric NOT NULL,
    monthly_factor  numeric NOT NULL,
    source          text NOT NULL,
    confidence      text NOT NULL
);

INSERT INTO public.pay_frequency_factors (frequency, periods_per_year, monthly_factor, source, confidence) VALUES
    ('weekly', 52, 52 / 12.0, 'business-rules.md 7 (exact 52/12; original rounded to 4.33)', 'I'),
    ('biweekly', 26, 26 / 12.0, 'business-rules.md 7 (exact 26/12; original rounded to 2.17)', 'I'),
    ('semimonthly', 24, 2, 'business-rules.md 7', 'I'),
    ('monthly', 12, 1, 'business-rules.md 7', 'I'),
    ('quarterly', 4, 1 / 3.0, 'business-rules.md 7', 'I'),
    ('annual', 1, 1 / 12.0, 'business-rules.md 7', 'I')
ON CONFLICT (frequency) DO UPDATE SET periods_per_year = excluded.periods_per_year,
    monthly_factor = excluded.monthly_factor, source = excluded.source, confidence = excluded.confidence;

-- Keys are compared after md_synonym_key: lower case, every non-alphanumeric removed.
CREATE TABLE IF NOT EXISTS public.pay_frequency_synonyms (
    synonym_key text PRIMARY KEY,
    frequency   text NOT NULL REFERENCES public.pay_frequency_factors (frequency),
    source      text NOT NULL
);

INSERT INTO public.pay_frequency_synonyms (synonym_key, frequency, source)
SELECT DISTINCT ON (public.md_synonym_key(s)) public.md_synonym_key(s), f, 'business-rules.md 7 synonym map'
FROM (VALUES
    ('week', 'weekly'), ('weekly', 'weekly'), ('every week', 'weekly'), ('once a week', 'weekly'), ('wk', 'weekly'),
    ('bi-weekly', 'biweekly'), ('biweekly', 'biweekly'), ('bi weekly', 'biweekly'), ('every 2 weeks', 'biweekly'),
    ('every two weeks', 'biweekly'), ('every other week', 'biweekly'), ('fortnightly', 'biweekly'),
    ('fortnight', 'biweekly'), ('2 weeks', 'biweekly'),
    ('semi-monthly', 'semimonthly'), ('semimonthly', 'semimonthly'), ('semi monthly', 'semimonthly'),
    ('twice a month', 'semimonthly'), ('twice monthly', 'semimonthly'), ('bimonthly (twice a month)', 'semimonthly'),
    ('month', 'monthly'), ('monthly', 'monthly'), ('per month', 'monthly'), ('once a month', 'monthly'), ('mo', 'monthly'),
    ('quarter', 'quarterly'), ('quarterly', 'quarterly'), ('per quarter', 'quarterly'),
    ('annual', 'annual'), ('annually', 'annual'), ('yearly', 'annual'), ('year', 'annual'), ('per year', 'annual'),
    ('yr', 'annual')
) AS v(s, f)
ON CONFLICT (synonym_key) DO UPDATE SET frequency = excluded.frequency, source = excluded.source;

-- Any spelling -> canonical frequency, or NULL (the raw text is kept next to it by callers).
-- (plpgsql, like the other lookups here: called per gold row, and a SQL function with FROM
-- is not inlined, so each call would pay the SQL-function executor.)
CREATE OR REPLACE FUNCTION public.md_pay_frequency(p text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT frequency FROM public.pay_frequency_synonyms WHERE synonym_key = public.md_synonym_key(p));
END
$$;

-- amount per period -> amount per month (unknown / NULL frequency: the amount as given).
CREATE OR REPLACE FUNCTION public.normalize_to_monthly(p_amount numeric, p_frequency text)
RETURNS numeric LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN round(p_amount * coalesce((SELECT monthly_factor FROM public.pay_frequency_factors
                                      WHERE frequency = coalesce(public.md_pay_frequency(p_frequency), p_frequency)), 1), 2);
END
$$;

-- Filing-status spellings (interview, upstream) -> the five canonical values.
CREATE TABLE IF NOT EXISTS public.filing_status_synonyms (
    synonym_key   text PRIMARY KEY,
    filing_status text NOT NULL CONSTRAINT filing_status_synonyms_status_check
                      CHECK (public.md_is_filing_status(filing_status)),
    source        text NOT NULL
);

INSERT INTO public.filing_status_synonyms (synonym_key, filing_status, source)
SELECT DISTINCT ON (public.md_synonym_key(s)) public.md_synonym_key(s), f, 'common spellings'
FROM (VALUES
    ('single', 'single'), ('s', 'single'), ('1', 'single'),
    ('married filing jointly', 'married_filing_jointly'), ('married_filing_jointly', 'married_filing_jointly'),
    ('mfj', 'married_filing_jointly'), ('joint', 'married_filing_jointly'), ('jointly', 'married_filing_jointly'),
    ('married joint', 'married_filing_jointly'), ('married filing joint', 'married_filing_jointly'),
    ('married', 'married_filing_jointly'), ('2', 'married_filing_jointly'),
    ('married filing separately', 'married_filing_separately'), ('married_filing_separately', 'married_filing_separately'),
    ('married filing separate', 'married_filing_separately'), ('mfs', 'married_filing_separately'),
    ('separate', 'married_filing_separately'), ('3', 'married_filing_separately'),
    ('head of household', 'head_of_household'), ('head_of_household', 'head_of_household'), ('hoh', 'head_of_household'),
    ('4', 'head_of_household'),
    ('qualifying surviving spouse', 'qualifying_surviving_spouse'), ('qualifying_surviving_spouse', 'qualifying_surviving_spouse'),
    ('qualifying widow', 'qualifying_surviving_spouse'), ('qualifying widower', 'qualifying_surviving_spouse'),
    ('qualifying widow(er)', 'qualifying_surviving_spouse'), ('qw', 'qualifying_surviving_spouse'),
    ('qss', 'qualifying_surviving_spouse'), ('widow', 'qualifying_surviving_spouse'), ('5', 'qualifying_surviving_spouse')
) AS v(s, f)
ON CONFLICT (synonym_key) DO UPDATE SET filing_status = excluded.filing_status, source = excluded.source;

CREATE OR REPLACE FUNCTION public.md_filing_status(p text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT filing_status FROM public.filing_status_synonyms WHERE synonym_key = public.md_synonym_key(p));
END
$$;

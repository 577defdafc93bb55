-- Transaction-code rules as data: what each IRS account-transcript (AT) transaction code means,
-- how it moves the balance, whether it is an assessment that starts its own CSED, and which
-- collection-statute suspension it opens, closes or cancels. Source of every row:
-- /work/shared/reference/irs-domain.md sections 1-2 and 7 (which corrects the seed the earlier
-- implementation used: TC 196 is interest, TC 276 the failure-to-pay penalty, and neither
-- suspends anything).
--
-- 002's plpgsql bodies read these tables at run time, so a corrected row plus
-- rebuild_from_bronze(case_id) re-derives silver without a code change.
--
-- `basis` keeps irs-domain.md's tag: S statute, I IRS page/IRM heading, K practitioner
-- knowledge (Document 6209 / IRM content not re-read), ? not established.
-- `confidence` is the operational reading of it: high (S/I), medium (K), low (K flagged as
-- medium/low in irs-domain), unverified (?).

-- ---------------------------------------------------------------------------------------
-- Suspension (tolling) kinds the CSED computation knows. One row per event_type.
CREATE TABLE IF NOT EXISTS public.csed_event_types (
    event_type        text PRIMARY KEY,
    suspends          boolean NOT NULL,           -- false: recorded for review, never auto-tolled
    close_tail        interval NOT NULL DEFAULT '0 days',
                                                  -- added after the close (bankruptcy: 6 months); an open
                                                  -- interval "closed today" ends at as_of + this
    floor_after_close interval,                   -- csed >= close date + this (CDP 90 days)
    rule              text NOT NULL,
    citation          text NOT NULL,
    source            text NOT NULL,
    basis             text NOT NULL CHECK (basis IN ('S', 'I', 'K', '?')),
    confidence        text NOT NULL CHECK (confidence IN ('high', 'medium', 'low', 'unverified'))
);

INSERT INTO public.csed_event_types
    (event_type, suspends, close_tail, floor_after_close, rule, citation, source, basis, confidence)
VALUES
    ('bankruptcy', true, '6 months', NULL,
     '[TC 520 date, TC 521 date + 6 months]; TC 522 cancels the TC 520; no TC 521 yet = open',
     'IRC 6503(h)(2); IRM 5.1.19.3.1', 'irs-domain.md 1.3', 'S', 'high'),
    ('collection_due_process', true, '0 days', '90 days',
     '[TC 520 cc 76/77 date, TC 521 date], then csed >= TC 521 date + 90 days',
     'IRC 6330(e)(1); IRM 5.1.19.3.3; IRM 25.3.7.7.7', 'irs-domain.md 1.3', 'S', 'high'),
    ('offer_in_compromise', true, '0 days', NULL,
     '[TC 480, TC 481 + 30 days] rejected; [TC 480, TC 482] withdrawn; [TC 480, TC 481] returned; '
     '[TC 480, TC 780] accepted; TC 483 cancels; no closing code yet = open',
     'IRC 6331(k)(1), 6331(k)(3)(B), 6331(i)(5); IRM 5.1.19.3.4, 5.8.10.7', 'irs-domain.md 1.3', 'S', 'high'),
    ('installment_agreement_pending', true, '0 days', NULL,
     '[TC 971 AC 043, TC 971 AC 063] approved; [TC 971 AC 043, TC 972 AC 043] rejected/withdrawn '
     '(the reversal is input 30 days after rejection, so no further 30 days); none while in effect',
     'IRC 6331(k)(2)(A)-(B), 6331(k)(3)(B); IRM 5.1.19.3.5, 5.14.1', 'irs-domain.md 1.3', 'S', 'high'),
    ('installment_agreement_terminated', true, '0 days', NULL,
     '[TC 971 AC 163 date, + 30 days]',
     'IRC 6331(k)(2)(D); IRM 5.14.11', 'irs-domain.md 1.3', 'S', 'medium'),
    ('innocent_spouse', false, '0 days', NULL,
     'requesting spouse: [claim, final determination + 90 + 60 days]; the end comes from case data, '
     'not the AT, so the claim is flagged for review and not auto-tolled',
     'IRC 6015(e)(2); IRM 5.1.19.3.6', 'irs-domain.md 1.3', 'S', 'medium'),
    ('litigation', false, '0 days', NULL,
     'TC 520 litigation/other closing codes: only some proceedings suspend (6503(b), 6331(i)); '
     'flagged for review, not auto-tolled',
     'IRC 6503(b), 6331(i)(5); IRM 25.3.7.7', 'irs-domain.md 2.4', 'K', 'medium')
ON CONFLICT (event_type) DO NOTHING;

-- ---------------------------------------------------------------------------------------
-- Transaction codes. csed_event names the suspension family; csed_role says what the code
-- does to it: open (starts an interval), close (ends every still-open interval of that family
-- opened before it), cancel
-- (posted-in-error reversal of the open code), extend (TC 550: printed CSED overrides),
-- by_action_code (TC 971/972: tc971_action_codes decides), by_closing_code (TC 520: the
-- closing code decides the family via tc520_closing_codes).
-- close_tail is added to the close date (TC 481 rejection +30 days); close_tail_unless is a
-- description pattern under which the tail does not apply (a *returned* offer, TC 481).
CREATE TABLE IF NOT EXISTS public.at_transaction_rules (
    code                        text PRIMARY KEY CHECK (code ~ '^[0-9]{3}$'),
    meaning                     text NOT NULL,
    transaction_type            text NOT NULL,
    balance_effect              text NOT NULL CHECK (balance_effect IN ('D', 'C', '0')),
    affects_balance             boolean GENERATED ALWAYS AS (balance_effect <> '0') STORED,
    is_assessment               boolean NOT NULL DEFAULT false,  -- starts its own CSED when amount > 0
    csed_event                  text REFERENCES public.csed_event_types (event_type),
    csed_role                   text CHECK (csed_role IN ('open', 'close', 'cancel', 'extend', 'expired',
                                                          'by_action_code', 'by_closing_code')),
    close_tail                  interval,
    close_tail_unless           text,
    indicates_collection_action boolean NOT NULL DEFAULT false,
    collection_pattern          text,    -- description regex that makes this line a collection action
    source                      text NOT NULL,
    basis                       text NOT NULL CHECK (basis IN ('S', 'I', 'K', '?')),
    confidence                  text NOT NULL CHECK (confidence IN ('high', 'medium', 'low', 'unverified')),
    CONSTRAINT at_transaction_rules_role_needs_event
        CHECK (csed_role NOT IN ('open', 'close', 'cancel') OR csed_event IS NOT NULL)
);

INSERT INTO public.at_transaction_rules
    (code, meaning, transaction_type, balance_effect, is_assessment, csed_event, csed_role, close_tail,
     close_tail_unless, indicates_collection_action, collection_pattern, source, basis, confidence)
VALUES
    -- 2.1 returns, assessments, penalties, interest
    ('140', 'IRP-based inquiry for an unfiled return (delinquency check)', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('142', 'Delinquency investigation (TDI) issued', 'compliance', '0', false, NULL, NULL, NULL, NULL, true, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('150', 'Return filed and tax assessed (or substitute return prepared by IRS)', 'return_filed', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'IRM 5.1.19.2.1; Document 6209 sec 8A', 'K', 'medium'),
    ('160', 'Failure-to-file penalty (manual)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('161', 'Failure-to-file penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('166', 'Failure-to-file penalty (systemic, with return)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('167', 'Failure-to-file penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('170', 'Estimated-tax penalty (manual)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('171', 'Estimated-tax penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('176', 'Estimated-tax penalty (systemic)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('177', 'Estimated-tax penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('180', 'Deposit (FTD) penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('181', 'Deposit (FTD) penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('186', 'Deposit (FTD) penalty (systemic)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('187', 'Deposit (FTD) penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('196', 'Interest charged', 'interest', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'IRC 6601(g); Document 6209 sec 8A', 'S', 'high'),
    ('197', 'Interest abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('234', 'Daily delinquency penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('235', 'Daily delinquency penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('238', 'Daily delinquency penalty (systemic)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('239', 'Daily delinquency penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('240', 'Miscellaneous civil penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('241', 'Miscellaneous civil penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('246', 'Partnership or S-corp late-filing penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('247', 'Partnership or S-corp late-filing penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('270', 'Failure-to-pay penalty (manual); follows the tax''s CSED', 'penalty', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'irs-domain.md 1.2; Document 6209 sec 8A', 'K', 'medium'),
    ('271', 'Failure-to-pay penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('276', 'Failure-to-pay penalty (systemic); follows the tax''s CSED', 'penalty', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'irs-domain.md 1.2, 7; Document 6209 sec 8A', 'K', 'medium'),
    ('277', 'Failure-to-pay penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('280', 'Bad-check (dishonored payment) penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('281', 'Bad-check penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('286', 'Bad-check penalty (systemic)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('287', 'Bad-check penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('290', 'Additional tax assessed', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'IRM 5.1.19.2.1; Document 6209 sec 8A', 'K', 'medium'),
    ('291', 'Abatement of prior tax', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('294', 'Additional tax assessed with interest computation date', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('295', 'Abatement of tax with interest computation date', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('298', 'Additional tax assessed with interest computation date', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('299', 'Abatement of tax with interest computation date', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('300', 'Additional tax or deficiency assessed by examination', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'IRM 5.1.19.2.1; Document 6209 sec 8A', 'K', 'medium'),
    ('301', 'Abatement of tax by examination', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('304', 'Examination assessment with interest computation date', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('305', 'Abatement by examination with interest computation date', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('308', 'Examination assessment with interest computation date', 'assessment', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('309', 'Abatement by examination with interest computation date', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('320', 'Fraud penalty', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('321', 'Fraud penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('336', 'Interest on additional assessment', 'interest', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'IRC 6601(g); Document 6209 sec 8A', 'K', 'medium'),
    ('337', 'Interest on additional assessment abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('340', 'Restricted interest assessed', 'interest', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'IRC 6601(g); Document 6209 sec 8A', 'K', 'medium'),
    ('341', 'Restricted interest abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('350', 'Negligence penalty (older years)', 'penalty', 'D', true, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('351', 'Negligence penalty abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('360', 'Fees and collection costs (e.g. lien fees)', 'fee', 'D', true, NULL, NULL, NULL, NULL, true, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('361', 'Fees and collection costs abated', 'abatement', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('370', 'Account transferred in (keeps the original assessment dates)', 'transfer', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('400', 'Account transferred out', 'transfer', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    -- 2.2 status, holds, collection and legal actions
    ('420', 'Return selected for examination', 'examination', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('421', 'Examination closed', 'examination', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('424', 'Examination request indicator', 'examination', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('460', 'Extension of time to file (Form 4868)', 'status', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('470', 'Taxpayer claim pending (notices held); does not suspend the CSED', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'irs-domain.md 1.3; Document 6209 sec 8A', 'K', 'medium'),
    ('471', 'Taxpayer claim pending reversed', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('472', 'Taxpayer claim pending reversed', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('480', 'Offer in compromise pending (accepted for processing)', 'offer_in_compromise', '0', false, 'offer_in_compromise', 'open', NULL, NULL, false, NULL, 'IRC 6331(k)(1); IRM 5.1.19.3.4; Document 6209 sec 8A', 'K', 'medium'),
    ('481', 'Offer in compromise rejected (also used for returned offers)', 'offer_in_compromise', '0', false, 'offer_in_compromise', 'close', '30 days', '\mreturn', false, NULL, 'IRC 6331(k)(1), 6331(i)(5); IRM 5.8.10.7; Document 6209 sec 8A', 'K', 'medium'),
    ('482', 'Offer in compromise withdrawn', 'offer_in_compromise', '0', false, 'offer_in_compromise', 'close', NULL, NULL, false, NULL, 'IRM 5.1.19.3.4; Document 6209 sec 8A', 'K', 'medium'),
    ('483', 'TC 480 posted in error (cancels the pending offer)', 'offer_in_compromise', '0', false, 'offer_in_compromise', 'cancel', NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('494', 'Notice of deficiency issued (assessment statute only)', 'examination', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'IRC 6503(a); Document 6209 sec 8A', 'K', 'medium'),
    ('495', 'Notice of deficiency closed', 'examination', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('500', 'Military deferment or combat-zone indicator (needs service dates; flagged, not auto-tolled)', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'IRC 7508; IRM 5.1.19.3.8-9; Document 6209 sec 8A', 'K', 'medium'),
    ('502', 'Military deferment / combat-zone indicator reversed', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('520', 'Bankruptcy or other legal action filed (closing code decides the kind)', 'legal_action', '0', false, NULL, 'by_closing_code', NULL, NULL, false, NULL, 'IRC 6503(h), 6330(e); IRM 25.3.7.7-8; Document 6209 sec 8A', 'K', 'medium'),
    ('521', 'Bankruptcy or other legal action removed (stay lifted / determination final)', 'legal_action', '0', false, NULL, 'by_closing_code', NULL, NULL, false, NULL, 'IRM 5.1.19.3.1.1; Document 6209 sec 8A', 'K', 'medium'),
    ('522', 'TC 520 posted in error (cancels it)', 'legal_action', '0', false, NULL, 'by_closing_code', NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('530', 'Currently not collectible; does not suspend the CSED', 'collection_status', '0', false, NULL, NULL, NULL, NULL, true, NULL, 'IRM 5.16.1; Document 6209 sec 8A', 'K', 'medium'),
    ('531', 'Currently not collectible reversed', 'collection_status', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('540', 'Deceased taxpayer', 'status', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('542', 'Deceased taxpayer correction', 'status', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('550', 'Collection statute extended (waiver/definer code; the printed CSED overrides)', 'statute', '0', false, NULL, 'extend', NULL, NULL, false, NULL, 'IRC 6502(a)(2); IRM 5.1.19.2.3', 'S', 'high'),
    ('560', 'Assessment statute extended (Form 872; assessment statute only)', 'statute', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('570', 'Additional account action pending (freeze)', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('571', 'Additional account action pending released', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('572', 'Additional account action pending released', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('582', 'Federal tax lien filed', 'lien', '0', false, NULL, NULL, NULL, NULL, true, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('583', 'Federal tax lien released or reversed', 'lien', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('590', 'Not liable for this period', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('591', 'No longer liable (filing requirement)', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('594', 'Taxpayer says return already filed', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('599', 'Return secured (delinquency closed)', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('608', 'Balance written off because the collection statute expired', 'statute', 'C', false, NULL, 'expired', NULL, NULL, false, NULL, 'IRC 6502(a); Document 6209 sec 8A', 'K', 'medium'),
    ('609', 'Statute write-off reversed', 'statute', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('780', 'Account compromised (offer in compromise accepted)', 'offer_in_compromise', '0', false, 'offer_in_compromise', 'close', NULL, NULL, false, NULL, 'IRM 5.1.19.3.4; Document 6209 sec 8A', 'K', 'medium'),
    ('781', 'Compromise defaulted', 'offer_in_compromise', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('782', 'TC 780 reversed', 'offer_in_compromise', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('788', 'Offer terms fulfilled', 'offer_in_compromise', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('810', 'Refund freeze', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('811', 'Refund freeze released', 'hold', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('914', 'Active criminal investigation freeze', 'hold', '0', false, NULL, NULL, NULL, NULL, true, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('922', 'Under-reporter (AUR/CP2000) review in process', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('930', 'Return required suspense', 'compliance', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('960', 'Representative (CAF) added', 'representative', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('961', 'Representative (CAF) removed', 'representative', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('962', 'Representative (CAF) updated', 'representative', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('971', 'Miscellaneous action (the action code decides)', 'misc_action', '0', false, NULL, 'by_action_code', NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('972', 'Miscellaneous action reversed (the action code decides)', 'misc_action', '0', false, NULL, 'by_action_code', NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('976', 'Duplicate return posted', 'return_filed', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('977', 'Amended return posted', 'return_filed', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('986', 'Not established', 'unknown', '0', false, NULL, NULL, NULL, NULL, false, NULL, 'irs-domain.md 2.2', '?', 'unverified'),
    -- 2.3 payments, credits, refunds, offsets
    ('430', 'Estimated-tax payment with declaration voucher', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('610', 'Payment with return', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('611', 'Payment with return dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('612', 'Payment with return corrected', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('640', 'Advance payment of determined deficiency', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('641', 'Advance payment dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('650', 'Federal tax deposit', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('651', 'Federal tax deposit dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('660', 'Estimated-tax payment', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('661', 'Estimated-tax payment dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('670', 'Subsequent payment (levy proceeds also post here)', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, 'levy|FPLP|garnish', 'Document 6209 sec 8A', 'K', 'medium'),
    ('671', 'Subsequent payment dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('680', 'Designated payment of interest', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('681', 'Designated payment of interest dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('690', 'Designated payment of penalty', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('691', 'Designated payment of penalty dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('694', 'Designated payment of fees and collection costs', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('695', 'Designated payment of fees reversed', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('700', 'Credit transferred in', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('702', 'Credit transferred in corrected', 'credit_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('706', 'Overpayment from another period applied (offset in)', 'credit', 'C', false, NULL, NULL, NULL, NULL, true, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('710', 'Credit elect: prior-year overpayment applied', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('716', 'Credit elect: prior-year overpayment applied', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('720', 'Refund repayment', 'payment', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('721', 'Refund repayment dishonored', 'payment_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('740', 'Undelivered refund check returned to the account', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('764', 'Earned income credit (adjustment)', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('765', 'Earned income credit reversed', 'credit_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('766', 'Refundable credit allowed', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('767', 'Refundable credit reduced', 'credit_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('768', 'Earned income credit with return', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('770', 'Interest allowed on overpayment', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('771', 'Interest allowed on overpayment reversed', 'credit_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('776', 'Interest allowed on overpayment', 'credit', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('777', 'Interest allowed on overpayment reversed', 'credit_reversal', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('800', 'Credit for withheld taxes', 'withholding', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('801', 'Credit for withheld taxes reversed', 'withholding', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('806', 'W-2 or 1099 federal withholding credit', 'withholding', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('807', 'W-2 or 1099 withholding credit reversed', 'withholding', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('820', 'Credit transferred out', 'transfer', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('821', 'Credit transferred out reversed', 'transfer', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('826', 'Overpayment transferred out to another period (offset out)', 'transfer', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('830', 'Overpayment carried forward as credit elect', 'transfer', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('836', 'Overpayment carried forward as credit elect', 'transfer', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('840', 'Manual refund', 'refund', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('841', 'Manual refund cancelled', 'refund', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('846', 'Refund issued', 'refund', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('896', 'Overpayment offset to non-IRS debt (older DMF)', 'offset', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('897', 'Non-IRS debt offset reversed', 'offset', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('898', 'Refund applied to non-IRS debt (Treasury Offset Program)', 'offset', 'D', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium'),
    ('899', 'Treasury Offset Program offset reversed', 'offset', 'C', false, NULL, NULL, NULL, NULL, false, NULL, 'Document 6209 sec 8A', 'K', 'medium')
ON CONFLICT (code) DO NOTHING;

-- ---------------------------------------------------------------------------------------
-- TC 971 / 972 action codes (irs-domain.md 2.5). ATs often omit the AC number, so each row
-- also carries a description pattern (case-insensitive regex) used when no AC is printed.
-- csed_role: open / close (of csed_event) / window (opens and closes itself after window) /
-- review (recorded, flagged, not auto-tolled) / NULL (no CSED effect).
CREATE TABLE IF NOT EXISTS public.tc971_action_codes (
    transaction_code            text NOT NULL CHECK (transaction_code IN ('971', '972')),
    action_code                 text NOT NULL CHECK (action_code ~ '^[0-9]{3}$'),
    meaning                     text NOT NULL,
    csed_effect                 text NOT NULL,   -- prose, shown to reviewers
    csed_event                  text REFERENCES public.csed_event_types (event_type),
    csed_role                   text CHECK (csed_role IN ('open', 'close', 'window', 'review')),
    window_length               interval,
    indicates_collection_action boolean NOT NULL DEFAULT false,
    description_pattern         text,
    match_priority              integer NOT NULL DEFAULT 100,  -- lower wins when several patterns match
    source                      text NOT NULL,
    basis                       text NOT NULL CHECK (basis IN ('S', 'I', 'K', '?')),
    confidence                  text NOT NULL CHECK (confidence IN ('high', 'medium', 'low', 'unverified')),
    PRIMARY KEY (transaction_code, action_code)
);

INSERT INTO public.tc971_action_codes
    (transaction_code, action_code, meaning, csed_effect, csed_event, csed_role, window_length,
     indicates_collection_action, description_pattern, match_priority, source, basis, confidence)
VALUES
    ('971', '043', 'Installment agreement pending', 'starts the IA-pending suspension',
     'installment_agreement_pending', 'open', NULL, false, 'pending installment agreement|installment agreement pending', 10,
     'IRC 6331(k)(2); IRM 5.1.19.3.5; Document 6209 sec 8A', 'K', 'medium'),
    ('972', '043', 'Pending installment agreement status removed (rejected / withdrawn)', 'ends the IA-pending suspension, no extra 30 days (input 30 days after rejection)',
     'installment_agreement_pending', 'close', NULL, false, 'pending installment agreement|installment agreement pending', 10,
     'IRM 5.14.1; Document 6209 sec 8A', 'K', 'medium'),
    ('971', '063', 'Installment agreement established', 'ends the pending suspension; no suspension while the IA is in effect',
     'installment_agreement_pending', 'close', NULL, false, 'installment agreement established|installment agreement (approved|accepted)', 20,
     'IRC 6331(k)(3)(B); IRM 5.1.19.3.5; Document 6209 sec 8A', 'K', 'medium'),
    ('971', '163', 'Installment agreement terminated', '30-day suspension from the termination',
     'installment_agreement_terminated', 'window', '30 days', true, 'installment agreement terminat|terminat\w* installment agreement|defaulted installment', 20,
     'IRC 6331(k)(2)(D); IRM 5.14.11; Document 6209 sec 8A', 'K', 'low'),
    ('971', '065', 'Innocent-spouse claim received (Form 8857)', 'starts the 6015 suspension for the requesting spouse (end from case data: flagged for review)',
     'innocent_spouse', 'review', NULL, false, 'innocent spouse|form 8857', 30,
     'IRC 6015(e)(2); IRM 5.1.19.3.6; Document 6209 sec 8A', 'K', 'medium'),
    ('971', '069', 'Collection Due Process levy notice (LT11 / Letter 1058) issued', 'none (starts only the 30-day window to request a hearing)',
     NULL, NULL, NULL, true, 'intent to levy|collection due process|LT ?11|letter 1058|L ?1058', 40,
     'IRC 6330(a); Document 6209 sec 8A', 'K', 'medium'),
    ('971', '275', 'CDP-related indicator (not established)', 'not used for the CSED until verified',
     NULL, NULL, NULL, false, NULL, 100, 'irs-domain.md 2.5', '?', 'unverified'),
    ('971', '010', 'Amended return / claim forwarded for processing', 'none',
     NULL, NULL, NULL, false, 'amended return|claim forwarded', 60, 'Document 6209 sec 8A', 'K', 'low'),
    ('971', '013', 'Not established', 'none until verified', NULL, NULL, NULL, false, NULL, 100, 'irs-domain.md 2.5', '?', 'unverified'),
    ('971', '086', 'Not established', 'none until verified', NULL, NULL, NULL, false, NULL, 100, 'irs-domain.md 2.5', '?', 'unverified'),
    ('971', '600', 'Not established', 'none until verified', NULL, NULL, NULL, false, NULL, 100, 'irs-domain.md 2.5', '?', 'unverified'),
    -- Balance-due notice stream: printed without an AC ("Notice issued CP 0014 / 0501 / 0503 / 0504").
    -- 000 is this table's placeholder for "no action code printed".
    ('971', '000', 'Notice issued (CP 14 / 501 / 503 / 504 balance-due stream; CP 504 = intent to levy under 6331(d))', 'collection = yes; no suspension',
     NULL, NULL, NULL, true, 'notice issued|CP ?0*(14|501|503|504)\M', 50, 'irs-domain.md 2.5', 'K', 'medium')
ON CONFLICT (transaction_code, action_code) DO NOTHING;

-- ---------------------------------------------------------------------------------------
-- TC 520 closing codes (irs-domain.md 2.4), as inclusive ranges. The row with no range is the
-- "no closing code printed" default (AT often prints only "Bankruptcy or other legal action
-- filed"): treated as bankruptcy with low confidence and flagged for review. Rows with a
-- description_pattern classify a TC 520 that has no closing code by its text first.
CREATE TABLE IF NOT EXISTS public.tc520_closing_codes (
    id                 serial PRIMARY KEY,
    closing_code_from  integer,
    closing_code_to    integer,
    category           text NOT NULL CHECK (category IN ('bankruptcy', 'cdp', 'litigation', 'other')),
    csed_event         text NOT NULL REFERENCES public.csed_event_types (event_type),
    meaning            text NOT NULL,
    description_pattern text,
    needs_review       boolean NOT NULL DEFAULT false,
    source             text NOT NULL,
    basis              text NOT NULL CHECK (basis IN ('S', 'I', 'K', '?')),
    confidence         text NOT NULL CHECK (confidence IN ('high', 'medium', 'low', 'unverified')),
    CHECK ((closing_code_from IS NULL) = (closing_code_to IS NULL)),
    CHECK (closing_code_from <= closing_code_to),
    UNIQUE NULLS NOT DISTINCT (closing_code_from, closing_code_to, description_pattern)
);

INSERT INTO public.tc520_closing_codes
    (closing_code_from, closing_code_to, category, csed_event, meaning, description_pattern, needs_review, source, basis, confidence)
VALUES
    (60, 67, 'bankruptcy', 'bankruptcy', 'Bankruptcy (various chapters / insolvency controls)', NULL, false, 'IRM 25.3.7.8; IRC 6503(h)', 'K', 'medium'),
    (81, 81, 'bankruptcy', 'bankruptcy', 'Bankruptcy (insolvency control)', NULL, false, 'IRM 25.3.7.8; IRC 6503(h)', 'K', 'medium'),
    (83, 89, 'bankruptcy', 'bankruptcy', 'Bankruptcy (various chapters / insolvency controls)', NULL, false, 'IRM 25.3.7.8; IRC 6503(h)', 'K', 'medium'),
    (76, 77, 'cdp', 'collection_due_process', 'Collection Due Process hearing requested', NULL, false, 'IRM 25.3.7.7.7; IRC 6330(e)(1)', 'I', 'medium'),
    (70, 75, 'litigation', 'litigation', 'Litigation / other legal action (only some suspend)', NULL, true, 'IRM 25.3.7.7.1-.9', 'I', 'medium'),
    (78, 80, 'litigation', 'litigation', 'Litigation / other legal action (only some suspend)', NULL, true, 'IRM 25.3.7.7', 'I', 'medium'),
    (82, 82, 'litigation', 'litigation', 'Litigation / other legal action (only some suspend)', NULL, true, 'IRM 25.3.7.7', 'I', 'medium'),
    (NULL, NULL, 'cdp', 'collection_due_process', 'No closing code printed; text names a CDP hearing', 'due process|\mCDP\M', true, 'irs-domain.md 2.4', 'K', 'low'),
    (NULL, NULL, 'bankruptcy', 'bankruptcy', 'No closing code printed ("Bankruptcy or other legal action filed"): treated as bankruptcy', NULL, true, 'irs-domain.md 2.4', 'K', 'low')
ON CONFLICT DO NOTHING;

GRANT SELECT ON public.csed_event_types, public.at_transaction_rules, public.tc971_action_codes,
    public.tc520_closing_codes TO authenticated, service_role;

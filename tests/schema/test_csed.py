"""CSED rules (irs-domain.md section 1, which governs business-rules.md section 3).

Every expected date below is derived by hand in the test's docstring from irs-domain.md 1.3-1.4:
base = assessment date + 10 calendar years; a suspension [s, e] counts (e - s) + 1 days, only
from the day after the assessment, merged (union) with overlapping/touching suspensions; a
suspension that starts after the running CSED has no effect. "Today" is injected through the
GUC medallion.as_of_date (tests.schema.AS_OF = 2025-06-01 unless stated).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.schema import (
    AS_OF,
    assessments,
    errors,
    ingest,
    new_case_id,
    record,
    set_as_of,
    tolling,
    tx,
    year_row,
)

D = dt.date.fromisoformat


def load(db, *records) -> str:
    case = new_case_id()
    set_as_of(db)
    ingest(db, case, {"at_records": list(records)})
    assert errors(db, case) == []
    return case


# --------------------------------------------------------------------------------------------
# csed_compute / merge_intervals called directly


def compute(
    db, assessed: str, ranges: list[tuple[str, str]], floors: list[tuple[str, str]] = (), override=None
):
    return db.execute(
        "SELECT base_csed_date, suspended_days, floor_date, csed_date FROM csed_compute(%s::date,"
        " ARRAY(SELECT daterange(s::date, e::date, '[]') FROM unnest(%s::text[], %s::text[]) AS u(s, e)),"
        " ARRAY(SELECT daterange(s::date, e::date, '[]') FROM unnest(%s::text[], %s::text[])"
        " AS u(s, e)), %s::date)",
        (
            assessed,
            [s for s, _ in ranges],
            [e for _, e in ranges],
            [s for s, _ in floors],
            [e for _, e in floors],
            override,
        ),
    ).fetchone()


def test_base_is_ten_calendar_years_not_3652_days(db):
    """irs-domain 7: 2019-06-01 + 10 years = 2029-06-01 (3,652 days would give 2029-05-31,
    the decade holds three leap days: 2020, 2024, 2028)."""
    assert compute(db, "2019-06-01", []) == (D("2029-06-01"), 0, None, D("2029-06-01"))
    assert D("2019-06-01") + dt.timedelta(days=3652) == D("2029-05-31")  # the earlier, wrong rule


def test_leap_day_assessment_maps_to_feb_28(db):
    """irs-domain 1.1 convention: an assessment on Feb 29 maps to Feb 28 of the target year.
    2016-02-29 -> 2026-02-28; 2020-02-29 -> 2030-02-28 (neither 2026 nor 2030 is a leap year)."""
    assert compute(db, "2016-02-29", [])[3] == D("2026-02-28")
    assert compute(db, "2020-02-29", [])[3] == D("2030-02-28")
    case = load(db, record(2015, [tx("150", "2016-02-29", 4200.00)]))
    assert assessments(db, case, 2015) == [
        ("150", "2016-02-29", "2026-02-28", 0, "2026-02-28", "2026-02-28", "running")
    ]


def test_merge_intervals_unions_overlapping_and_touching_ranges(db):
    """[Jan 1, Jan 5] and [Jan 6, Jan 10] touch -> one [Jan 1, Jan 10]; [Jan 8, Feb 1] overlaps
    it -> [Jan 1, Feb 1]; [Mar 1, Mar 2] stays apart."""
    rows = db.execute(
        "SELECT lower(m)::text, (upper(m) - 1)::text FROM merge_intervals(ARRAY["
        "daterange('2020-03-01','2020-03-02','[]'), daterange('2020-01-06','2020-01-10','[]'),"
        "daterange('2020-01-01','2020-01-05','[]'), daterange('2020-01-08','2020-02-01','[]')]) AS m"
    ).fetchall()
    assert rows == [("2020-01-01", "2020-02-01"), ("2020-03-01", "2020-03-02")]


def test_suspension_on_the_csed_date_counts_but_not_after_it(db):
    """Assessed 2010-05-03 -> base 2020-05-03. A 10-day suspension starting ON 2020-05-03 counts
    (2020-05-03 + 10 = 2020-05-13); one starting 2020-05-04 begins after the statute expired and
    is ignored (no revival)."""
    assert compute(db, "2010-05-03", [("2020-05-03", "2020-05-12")])[3] == D("2020-05-13")
    assert compute(db, "2010-05-03", [("2020-05-04", "2020-05-13")])[1:] == (0, None, D("2020-05-03"))


def test_floor_and_override_in_compute(db):
    """Assessed 2014-06-02 -> base 2024-06-02; 5 suspended days -> 2024-06-07; a CDP event that
    began 2024-05-20 (on/before the running CSED) with floor TC 521 2024-05-24 + 90 = 2024-08-22
    raises it; a TC 550 override (2030-01-31) replaces everything."""
    assert compute(db, "2014-06-02", [("2024-05-20", "2024-05-24")], [("2024-05-20", "2024-08-22")]) == (
        D("2024-06-02"),
        5,
        D("2024-08-22"),
        D("2024-08-22"),
    )
    assert compute(db, "2014-06-02", [], [], "2030-01-31")[3] == D("2030-01-31")


# --------------------------------------------------------------------------------------------
# Through the AT loader


def test_every_assessment_has_its_own_csed_and_the_year_reports_the_latest(db):
    """TY2019: TC 150 2020-07-15 $5,000 -> 2030-07-15; TC 290 2022-03-14 $1,860 -> 2032-03-14.
    TC 196 interest and TC 276 FTP penalty follow the tax (no own CSED, irs-domain 1.2), a $0 TC 290
    starts nothing. tax_years.csed_date = latest (2032-03-14), earliest_csed_date = 2030-07-15."""
    case = load(
        db,
        record(
            2019,
            [
                tx("150", "2020-07-15", 5000.00),
                tx("276", "2020-07-15", 50.00),
                tx("196", "2022-03-14", 120.00),
                tx("290", "2021-01-04", 0.00),
                tx("290", "2022-03-14", 1860.00),
            ],
        ),
    )
    assert assessments(db, case, 2019) == [
        ("150", "2020-07-15", "2030-07-15", 0, "2030-07-15", "2030-07-15", "running"),
        ("290", "2022-03-14", "2032-03-14", 0, "2032-03-14", "2032-03-14", "running"),
    ]
    ty = year_row(db, case, 2019)
    assert (ty["csed_date"], ty["earliest_csed_date"], ty["base_csed_date"], ty["csed_status"]) == (
        D("2032-03-14"),
        D("2030-07-15"),
        D("2032-03-14"),
        "running",
    )


def test_interest_and_ftp_penalty_never_suspend(db):
    """irs-domain 7: TC 196 / TC 276 toll nothing (the earlier rule added 30 days each).
    TC 150 2019-04-15 -> 2029-04-15 exactly, with no tolling rows, even with 196/276 posted later."""
    case = load(
        db,
        record(
            2018,
            [
                tx("150", "2019-04-15", 3000.00),
                tx("276", "2020-05-18", 45.00),
                tx("196", "2020-05-18", 80.00),
                tx("276", "2021-05-17", 60.00),
                tx("196", "2021-05-17", 95.00),
            ],
        ),
    )
    assert tolling(db, case, 2018) == []
    assert assessments(db, case, 2018) == [
        ("150", "2019-04-15", "2029-04-15", 0, "2029-04-15", "2029-04-15", "running")
    ]


def test_overlapping_suspensions_are_merged_not_summed_or_maxed(db):
    """TY2017: TC 150 2018-04-16 -> base 2028-04-16.
    Bankruptcy TC 520 cc 65 2020-01-06 -> TC 521 2020-03-02 + 6 months = [2020-01-06, 2020-09-02]
    (241 days); offer TC 480 2020-06-01 -> TC 482 (withdrawn, no +30) 2020-12-01 =
    [2020-06-01, 2020-12-01] (184 days). Union [2020-01-06, 2020-12-01]: 2020 is a leap year,
    Jan 6 is day 6 and Dec 1 day 336 -> 331 days (sum would be 425, max 241).
    CSED = 2028-04-16 + 331 days = 2029-03-13."""
    case = load(
        db,
        record(
            2017,
            [
                tx("150", "2018-04-16", 6000.00),
                tx(
                    "520",
                    "2020-01-06",
                    description="Bankruptcy or other legal action filed",
                    closing_code="65",
                ),
                tx("480", "2020-06-01", description="Offer in compromise pending"),
                tx("521", "2020-03-02", description="Removed bankruptcy or other legal action"),
                tx("482", "2020-12-01", description="Offer in compromise withdrawn"),
            ],
        ),
    )
    assert tolling(db, case, 2017) == [("bankruptcy+offer_in_compromise", "2020-01-06", "2020-12-01", 331)]
    assert assessments(db, case, 2017) == [
        ("150", "2018-04-16", "2028-04-16", 331, "2029-03-13", "2029-03-13", "running")
    ]


def test_open_bankruptcy_is_suspended_open_with_a_minimum_csed(db):
    """TY2018: TC 150 2019-06-03 -> base 2029-06-03; TC 520 cc 65 2023-03-06, no TC 521.
    csed_date NULL, status suspended_open. Minimum CSED if the stay ended today (2025-06-01):
    interval [2023-03-06, 2025-06-01 + 6 months = 2025-12-01] = 731 + 270 + 1 = 1002 days ->
    2029-06-03 + 1002 = 2032-03-01. With today = 2025-07-01 the interval ends 2026-01-01,
    31 days more -> 2032-04-01."""
    case = load(
        db,
        record(
            2018,
            [
                tx("150", "2019-06-03", 4000.00),
                tx(
                    "520",
                    "2023-03-06",
                    description="Bankruptcy or other legal action filed (closing code 65)",
                ),
            ],
        ),
    )
    ty = year_row(db, case, 2018)
    assert (ty["csed_status"], ty["csed_date"], ty["minimum_csed_date"]) == (
        "suspended_open",
        None,
        D("2032-03-01"),
    )
    assert assessments(db, case, 2018) == [
        ("150", "2019-06-03", "2029-06-03", 1002, None, "2032-03-01", "suspended_open")
    ]
    assert tolling(db, case, 2018) == [("bankruptcy", "2023-03-06", None, None)]
    db.execute("SELECT csed_refresh(%s, '2025-07-01')", (case,))
    assert year_row(db, case, 2018)["minimum_csed_date"] == D("2032-04-01")


def test_open_offer_is_suspended_open_without_the_30_days(db):
    """TY2017: TC 150 2018-05-21 -> base 2028-05-21; TC 480 2024-12-02 still pending.
    Minimum CSED with today 2025-06-01: [2024-12-02, 2025-06-01] (the +30 days applies only after a
    rejection, irs-domain 1.4) = 30 + 31 + 28 + 31 + 30 + 31 + 1 = 182 days -> 2028-11-19."""
    case = load(db, record(2017, [tx("150", "2018-05-21", 4000.00), tx("480", "2024-12-02")]))
    ty = year_row(db, case, 2017)
    assert (ty["csed_status"], ty["csed_date"], ty["minimum_csed_date"]) == (
        "suspended_open",
        None,
        D("2028-11-19"),
    )


@pytest.mark.parametrize(
    ("closing", "description", "expected_days", "expected_csed"),
    [
        ("481", "Offer in compromise rejected", 255, "2029-01-31"),
        ("481", "Offer in compromise returned", 225, "2029-01-01"),
        ("482", "Offer in compromise withdrawn", 155, "2028-10-23"),
        ("780", "Account compromised", 155, "2028-10-23"),
    ],
)
def test_offer_rejected_vs_withdrawn(db, closing, description, expected_days, expected_csed):
    """TY2017: TC 150 2018-05-21 -> base 2028-05-21; TC 480 2022-02-14.
    Rejected (TC 481 2022-09-26): +30 days -> [2022-02-14, 2022-10-26] = 255 days -> 2029-01-31.
    Returned (TC 481 printed "returned"): no +30 -> [2022-02-14, 2022-09-26] = 225 -> 2029-01-01.
    Withdrawn (TC 482 2022-07-18): no +30 -> [2022-02-14, 2022-07-18] = 155 -> 2028-10-23.
    Accepted (TC 780 2022-07-18): [TC 480, TC 780] = 155 -> 2028-10-23."""
    when = "2022-09-26" if closing == "481" else "2022-07-18"
    case = load(
        db,
        record(
            2017,
            [tx("150", "2018-05-21", 4000.00), tx("480", "2022-02-14"), tx(closing, when, 0, description)],
        ),
    )
    assert assessments(db, case, 2017) == [
        ("150", "2018-05-21", "2028-05-21", expected_days, expected_csed, expected_csed, "running")
    ]


def test_offer_posted_in_error_cancels(db):
    """TC 483 = TC 480 posted in error (irs-domain 7, not "rejected/withdrawn"): the pending offer
    is cancelled entirely, CSED stays at base 2028-05-21 and nothing is open."""
    case = load(
        db, record(2017, [tx("150", "2018-05-21", 4000.00), tx("480", "2022-02-14"), tx("483", "2022-03-01")])
    )
    assert tolling(db, case, 2017) == []
    assert year_row(db, case, 2017)["csed_date"] == D("2028-05-21")


def test_installment_agreement_rejected_in_effect_and_terminated(db):
    """TY2018: TC 150 2019-04-15 -> base 2029-04-15.
    Rejected: TC 971 AC 043 2021-03-01 -> TC 972 AC 043 2021-05-10 = 71 days, no extra 30 (the
    reversal is input 30 days after the rejection) -> 2029-06-25.
    Approved: AC 043 2021-03-01 -> TC 971 AC 063 2021-04-12 = 43 days -> 2029-05-28; the IA in
    effect afterwards tolls nothing (monthly TC 670 payments change nothing).
    Terminated later: TC 971 AC 163 2023-01-09 -> [2023-01-09, +30 days = 2023-02-08] = 31 days,
    43 + 31 = 74 -> 2029-06-28."""
    rejected = load(
        db,
        record(
            2018,
            [
                tx("150", "2019-04-15", 5000.00),
                tx("971", "2021-03-01", description="Pending installment agreement"),
                tx("972", "2021-05-10", description="Reversed pending installment agreement"),
            ],
        ),
    )
    assert year_row(db, rejected, 2018)["csed_date"] == D("2029-06-25")
    approved_lines = [
        tx("150", "2019-04-15", 5000.00),
        tx("971", "2021-03-01", action_code="043"),
        tx("971", "2021-04-12", description="Installment agreement established"),
        tx("670", "2021-05-15", -200.00, "Payment - installment agreement"),
        tx("670", "2021-06-15", -200.00, "Payment - installment agreement"),
    ]
    approved = load(db, record(2018, approved_lines))
    assert tolling(db, approved, 2018) == [("installment_agreement_pending", "2021-03-01", "2021-04-12", 43)]
    assert year_row(db, approved, 2018)["csed_date"] == D("2029-05-28")
    terminated = load(
        db,
        record(
            2018, approved_lines + [tx("971", "2023-01-09", description="Installment agreement terminated")]
        ),
    )
    assert tolling(db, terminated, 2018)[1] == (
        "installment_agreement_terminated",
        "2023-01-09",
        "2023-02-08",
        31,
    )
    assert year_row(db, terminated, 2018)["csed_date"] == D("2029-06-28")


def test_cdp_ninety_day_floor(db):
    """TY2013: TC 150 2014-06-02 -> base 2024-06-02; TC 520 cc 76 2024-05-20 -> TC 521 2024-05-24
    = 5 days -> 2024-06-07; IRC 6330(e)(1) floor: TC 521 + 90 days = 2024-08-22 binds.
    Today 2025-06-01 > 2024-08-22 -> expired.
    TY2017 (no floor binding): TC 150 2018-04-17 -> base 2028-04-17; the levy notice TC 971 AC 069
    2022-03-21 starts nothing; TC 520 cc 76 2022-05-02 -> TC 521 2022-11-14 = 197 days ->
    2028-10-31 (floor 2023-02-12 is earlier)."""
    case = load(
        db,
        record(
            2013,
            [
                tx("150", "2014-06-02", 2500.00),
                tx("520", "2024-05-20", closing_code=76),
                tx("521", "2024-05-24"),
            ],
        ),
        record(
            2017,
            [
                tx("150", "2018-04-17", 3500.00),
                tx("971", "2022-03-21", description="Intent to levy collection due process notice"),
                tx(
                    "520",
                    "2022-05-02",
                    description="Bankruptcy or other legal action filed (closing code 76)",
                ),
                tx("521", "2022-11-14"),
            ],
        ),
    )
    ty13 = year_row(db, case, 2013)
    assert (ty13["csed_date"], ty13["csed_status"]) == (D("2024-08-22"), "expired")
    assert db.execute(
        "SELECT floor_date::text FROM csed_assessments WHERE case_id = %s AND tax_year = 2013", (case,)
    ).fetchone() == ("2024-08-22",)
    assert tolling(db, case, 2017) == [("collection_due_process", "2022-05-02", "2022-11-14", 197)]
    assert year_row(db, case, 2017)["csed_date"] == D("2028-10-31")


def test_suspension_counts_only_after_each_assessment(db):
    """TY2017: TC 150 2018-04-16 (base 2028-04-16) and TC 290 2019-09-09 (base 2029-09-09), a
    bankruptcy TC 520 cc 65 2019-01-07 -> TC 521 2019-07-01 + 6 months = [2019-01-07, 2020-01-01].
    TC 150: all 360 days (359 in 2019 + 1) -> 2029-04-11.
    TC 290: only from 2019-09-10: 21 + 31 + 30 + 31 + 1 = 114 days -> 2030-01-01.
    Year: csed_date = latest = 2030-01-01, earliest 2029-04-11."""
    case = load(
        db,
        record(
            2017,
            [
                tx("150", "2018-04-16", 3000.00),
                tx("520", "2019-01-07", closing_code="65"),
                tx("521", "2019-07-01"),
                tx("290", "2019-09-09", 1200.00),
            ],
        ),
    )
    assert assessments(db, case, 2017) == [
        ("150", "2018-04-16", "2028-04-16", 360, "2029-04-11", "2029-04-11", "running"),
        ("290", "2019-09-09", "2029-09-09", 114, "2030-01-01", "2030-01-01", "running"),
    ]
    ty = year_row(db, case, 2017)
    assert (ty["csed_date"], ty["earliest_csed_date"]) == (D("2030-01-01"), D("2029-04-11"))


def test_expired_statute_is_not_revived(db):
    """TY2009: TC 150 2010-05-03 -> base 2020-05-03; a bankruptcy filed 2021-01-04 (after expiry)
    changes nothing: csed 2020-05-03, expired as of 2025-06-01."""
    case = load(
        db,
        record(
            2009,
            [
                tx("150", "2010-05-03", 900.00),
                tx("520", "2021-01-04", closing_code="65"),
                tx("521", "2021-06-01"),
            ],
        ),
    )
    assert assessments(db, case, 2009) == [
        ("150", "2010-05-03", "2020-05-03", 0, "2020-05-03", "2020-05-03", "expired")
    ]
    assert year_row(db, case, 2009)["csed_status"] == "expired"


def test_no_assessment_gives_no_csed(db):
    """irs-domain 7: no assessment -> no CSED (the earlier code used today + 10 years).
    An unfiled year (synthetic 'n/a' line) and an SFR year with only TC 150 $0 so far."""
    case = load(
        db,
        record(2022, [{"code": "n/a", "date": "", "amount": 0.0, "description": "No tax return filed"}]),
        record(2021, [tx("150", "2023-09-11", 0.0, "Substitute tax return prepared by IRS")]),
    )
    for year in (2021, 2022):
        ty = year_row(db, case, year)
        assert (ty["csed_status"], ty["csed_date"], ty["minimum_csed_date"], ty["return_filed"]) == (
            "no_assessment",
            None,
            None,
            False,
        )
    assert year_row(db, case, 2021)["is_sfr"] is True


def test_legal_action_without_closing_code_is_bankruptcy_flagged_and_litigation_not_tolled(db):
    """irs-domain 2.4: a TC 520 with no closing code is treated as bankruptcy at low confidence and
    flagged; litigation closing codes (70-75, 78-80, 82) are flagged but not auto-tolled.
    TY2018 TC 150 2019-04-15; TC 520 2020-02-03 (no cc) -> TC 521 2020-02-28 + 6 months =
    [2020-02-03, 2020-08-28] = 208 days -> 2029-04-15 + 208 = 2029-11-09."""
    case = load(
        db,
        record(
            2018,
            [
                tx("150", "2019-04-15", 1000.00),
                tx("520", "2020-02-03", 0, "Bankruptcy or other legal action filed"),
                tx("521", "2020-02-28"),
            ],
        ),
        record(
            2019,
            [
                tx("150", "2020-07-15", 1000.00),
                tx("520", "2021-02-01", closing_code="72"),
                tx("521", "2021-05-03"),
            ],
        ),
    )
    ty18 = year_row(db, case, 2018)
    assert ty18["csed_date"] == D("2029-11-09")
    assert any("without closing code" in n and "low confidence" in n for n in ty18["csed_review_notes"])
    assert db.execute(
        "SELECT confidence FROM csed_tolling_events WHERE case_id = %s AND tax_year = 2018", (case,)
    ).fetchone() == ("low",)
    ty19 = year_row(db, case, 2019)
    assert ty19["csed_date"] == D("2030-07-15")
    assert tolling(db, case, 2019) == []
    assert any("cc 72" in n for n in ty19["csed_review_notes"])


def test_tc550_printed_csed_overrides(db):
    """IRC 6502(a)(2) / irs-domain 1.3: a TC 550 prints the extended CSED, which replaces the
    computed one for the assessments before it: TC 150 2015-04-13 -> 2025-04-13, TC 550 2019-08-05
    'Collection statute expiration extended to 10-31-2027' -> 2027-10-31."""
    case = load(
        db,
        record(
            2014,
            [
                tx("150", "2015-04-13", 7000.00),
                tx("550", "2019-08-05", 0, "Collection statute expiration extended to 10-31-2027"),
            ],
        ),
    )
    ty = year_row(db, case, 2014)
    assert (ty["csed_date"], ty["csed_status"]) == (D("2027-10-31"), "running")


def test_csed_status_follows_injected_today(db):
    """TC 150 2015-06-01 -> 2025-06-01. On 2025-06-01 still running (expired only when csed < today);
    csed_refresh with today 2025-06-02 -> expired."""
    case = load(db, record(2014, [tx("150", "2015-06-01", 100.00)]))
    assert year_row(db, case, 2014)["csed_status"] == "running"
    db.execute("SELECT csed_refresh(%s, '2025-06-02')", (case,))
    assert year_row(db, case, 2014)["csed_status"] == "expired"
    assert AS_OF == "2025-06-01"


def test_rule_change_plus_rebuild_changes_derived_values(db):
    """Rules are data: with TC 290 no longer an assessment, the 2022-03-14 assessment
    (CSED 2032-03-14) disappears and the year falls back to TC 150's 2030-07-15; making a TC 481
    rejection add no days turns 255 suspended days into 225 (2029-01-31 -> 2029-01-01)."""
    case = load(
        db,
        record(2019, [tx("150", "2020-07-15", 5000.00), tx("290", "2022-03-14", 1860.00)]),
        record(2017, [tx("150", "2018-05-21", 4000.00), tx("480", "2022-02-14"), tx("481", "2022-09-26")]),
    )
    assert year_row(db, case, 2019)["csed_date"] == D("2032-03-14")
    assert year_row(db, case, 2017)["csed_date"] == D("2029-01-31")
    db.execute("UPDATE at_transaction_rules SET is_assessment = false WHERE code = '290'")
    db.execute("UPDATE at_transaction_rules SET close_tail = NULL WHERE code = '481'")
    assert db.execute("SELECT bool_and(ok) FROM rebuild_from_bronze(%s)", (case,)).fetchone() == (True,)
    assert year_row(db, case, 2019)["csed_date"] == D("2030-07-15")
    assert db.execute(
        "SELECT is_assessment FROM account_activity WHERE case_id = %s AND transaction_code = '290'", (case,)
    ).fetchone() == (False,)
    assert year_row(db, case, 2017)["csed_date"] == D("2029-01-01")

"""Deterministic sandbox data for TiParser (AT / WI / TRT / PDFs) and CaseHelper (interview).

Everything here is a pure function of the case id: every random choice comes from a
random.Random seeded with sha256(stream + case id), never from hash() (which is salted per
process), so the same case id gives byte-identical payloads in every process.

Case behaviours (faults, drifted shapes, CSED scenarios) live in ONE table: BEHAVIOURS.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

CASE_ID_RE = re.compile(r"^\d{1,12}$")

# --------------------------------------------------------------------------------------------
# The behaviour table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseBehaviour:
    case_id: str
    label: str
    description: str = ""
    trt: bool = False  # False => GET /analysis/trt answers 404
    interview: bool = True  # False => CaseHelper interview answers 404
    tiparser_fault: str | None = None  # fault name (sandbox.settings.FAULTS) on TiParser data calls
    casehelper_fault: str | None = None  # fault name on CaseHelper case calls
    at_drift: str | None = None  # None | "alt_keys" | "data_array"
    wi_drift: str | None = None  # None | "forms_object" | "flat"
    interview_drift: str | None = None  # None | "strings"
    csed_scenario: str | None = None  # key of _CSED_SCENARIOS
    expected: str = ""  # hand-derived expectation (CSED scenarios), see README


DEMO_CASE = "1295022"

_ROWS = [
    CaseBehaviour(
        DEMO_CASE,
        "demo",
        "Main demo case: full AT 2018-2023 (150/290/300, 610/670/806, "
        "160/166/276/196, IA pending->established, lien, offset 826/706), W&I with many forms "
        "incl. SE (1099-NEC/1099-K), interview present, TRT 404 (as the real service did).",
        trt=False,
    ),
    CaseBehaviour("1000001", "normal-trt", "Normal case with a TRT.", trt=True),
    CaseBehaviour("1000002", "normal-no-trt", "Normal case, TRT 404.", trt=False),
    # --- CSED scenarios: the focus tax year carries the events; other years are paid in full.
    CaseBehaviour(
        "2000001",
        "csed-multi-assessment",
        trt=True,
        csed_scenario="multi_assessment",
        expected="TY2017: TC150 2018-04-16 -> CSED 2028-04-16; TC290 2020-06-08 -> CSED "
        "2030-06-08. Module CSED (latest) 2030-06-08, earliest 2028-04-16.",
    ),
    CaseBehaviour(
        "2000002",
        "csed-ia-rejected",
        csed_scenario="ia_rejected",
        expected="TY2018: TC150 2019-04-15, base 2029-04-15; IA pending TC971 AC043 2021-03-01 "
        "-> TC972 AC043 2021-05-10 = 71 days (no +30) -> CSED 2029-06-25.",
    ),
    CaseBehaviour(
        "2000003",
        "csed-oic-rejected",
        csed_scenario="oic_rejected",
        expected="TY2017: TC150 2018-05-21, base 2028-05-21; OIC TC480 2022-02-14 -> TC481 "
        "2022-09-26 + 30 d = 2022-10-26, 255 days -> CSED 2029-01-31.",
    ),
    CaseBehaviour(
        "2000004",
        "csed-oic-withdrawn",
        csed_scenario="oic_withdrawn",
        expected="TY2017: TC150 2018-05-21, base 2028-05-21; OIC TC480 2022-02-14 -> TC482 "
        "2022-07-18 (no +30) = 155 days -> CSED 2028-10-23.",
    ),
    CaseBehaviour(
        "2000005",
        "csed-bankruptcy-closed",
        csed_scenario="bankruptcy_closed",
        expected="TY2018: TC150 2019-06-03, base 2029-06-03; TC520 cc65 2021-08-09 -> TC521 "
        "2022-01-18 + 6 months = 2022-07-18, 344 days -> CSED 2030-05-13.",
    ),
    CaseBehaviour(
        "2000006",
        "csed-bankruptcy-open",
        csed_scenario="bankruptcy_open",
        expected="TY2018: TC150 2019-06-03, base 2029-06-03; TC520 cc65 2023-03-06, no TC521 "
        "-> CSED NULL, status suspended_open.",
    ),
    CaseBehaviour(
        "2000007",
        "csed-cdp-hearing",
        csed_scenario="cdp",
        expected="TY2017: TC150 2018-04-17, base 2028-04-17; TC971 AC069 2022-03-21 (levy notice, "
        "no toll); TC520 cc76 2022-05-02 -> TC521 2022-11-14 = 197 days -> CSED "
        "2028-10-31 (90-day floor 2023-02-12 does not bind).",
    ),
    CaseBehaviour(
        "2000008",
        "csed-overlapping",
        csed_scenario="overlapping",
        expected="TY2017: TC150 2018-04-16, base 2028-04-16; OIC TC480 2021-01-11 -> TC481 "
        "2021-06-14 + 30 d = 2021-07-14 and IA pending TC971 AC043 2021-06-01 -> TC972 "
        "AC043 2021-09-20 overlap: union [2021-01-11, 2021-09-20] = 253 days (concurrent, "
        "not 185 + 112) -> CSED 2028-12-25.",
    ),
    CaseBehaviour(
        "2000009",
        "csed-leap-day",
        csed_scenario="leap_day",
        expected="TY2015: TC150 2016-02-29 -> CSED 2026-02-28 (Feb 29 maps to Feb 28).",
    ),
    CaseBehaviour(
        "2000010",
        "csed-ia-approved",
        csed_scenario="ia_approved",
        expected="TY2018: TC150 2019-04-15, base 2029-04-15; TC971 AC043 2021-03-01 -> TC971 "
        "AC063 2021-04-12 = 43 days -> CSED 2029-05-28 (IA in effect: no toll).",
    ),
    CaseBehaviour(
        "2000011",
        "csed-cdp-floor",
        csed_scenario="cdp_floor",
        expected="TY2013: TC150 2014-06-02, base 2024-06-02; TC520 cc76 2024-05-20 -> TC521 "
        "2024-05-24 = 5 days -> 2024-06-07, raised by the CDP floor to TC521 + 90 d = "
        "2024-08-22.",
    ),
    # --- Drift: the same kind of data in the other shapes the real upstream produced.
    CaseBehaviour(
        "3000001",
        "drift-keys",
        "AT under `records` with camelCase/alt keys, amounts as "
        "'$1,234.56'/'(500.00)', years 'Tax Year 2023' and 'Unknown', MM-DD-YYYY dates, filed "
        "flags 'YES'/'Filed'/'true'; WI years_data[year] = {'forms': [...]} (+ 'Unknown' year); "
        "interview numbers all as strings.",
        trt=True,
        at_drift="alt_keys",
        wi_drift="forms_object",
        interview_drift="strings",
    ),
    CaseBehaviour(
        "3000002",
        "drift-flat",
        "AT under `data` with year/tc/transaction_amount/"
        "account_activity keys; WI flat legacy `forms` array, each form with its own Year and "
        "alternative key names.",
        at_drift="data_array",
        wi_drift="flat",
    ),
    # --- Faults (TiParser data endpoints; some also on CaseHelper case endpoints).
    CaseBehaviour(
        "4000403", "fault-403", "Every TiParser call: 403 'Invalid or expired API Key'.", tiparser_fault="403"
    ),
    CaseBehaviour(
        "4000401",
        "fault-401",
        "TiParser's own session expired: first call per endpoint 401 "
        "{'detail': 'Authentication required.'}, later calls succeed.",
        trt=True,
        tiparser_fault="401",
    ),
    CaseBehaviour(
        "4000404",
        "fault-404",
        "No files: AT '404: No AT files found for this case.', WI "
        "likewise, TRT 404, transcript lists 404; CaseHelper interview 404.",
        interview=False,
        tiparser_fault="404",
        casehelper_fault="404",
    ),
    CaseBehaviour(
        "4000429",
        "fault-429",
        "First 2 calls per endpoint: 429 with Retry-After: 1, then success (both services).",
        trt=True,
        tiparser_fault="429",
        casehelper_fault="429",
    ),
    CaseBehaviour(
        "4000500",
        "fault-500-transient",
        "First 2 calls per endpoint: 500, then success (both services).",
        trt=True,
        tiparser_fault="500",
        casehelper_fault="500",
    ),
    CaseBehaviour(
        "4000599",
        "fault-500-always",
        "Every call: 500 (both services).",
        tiparser_fault="500-always",
        casehelper_fault="500-always",
    ),
    CaseBehaviour(
        "4000408",
        "fault-slow",
        "First call per endpoint sleeps SANDBOX_SLOW_SECONDS (longer "
        "than a client timeout), later calls fast (both services).",
        trt=True,
        tiparser_fault="slow",
        casehelper_fault="slow",
    ),
    CaseBehaviour(
        "4000405",
        "fault-405",
        "TiParser /analysis/* answers 405 to GET; POST with {} works.",
        trt=True,
        tiparser_fault="405",
    ),
    CaseBehaviour(
        "4000206",
        "fault-truncated",
        "200, content-type application/json, body cut in half (both services).",
        trt=True,
        tiparser_fault="truncated",
        casehelper_fault="truncated",
    ),
    CaseBehaviour(
        "4000207",
        "fault-malformed",
        "200, content-type application/json, invalid JSON (both services).",
        trt=True,
        tiparser_fault="malformed",
        casehelper_fault="malformed",
    ),
    CaseBehaviour("5000404", "no-interview", "CaseHelper interview 404 (TiParser normal).", interview=False),
    CaseBehaviour(
        "5000500",
        "interview-500",
        "CaseHelper interview always 500 (TiParser normal).",
        casehelper_fault="500-always",
    ),
]
BEHAVIOURS: dict[str, CaseBehaviour] = {row.case_id: row for row in _ROWS}


def check_case_id(case_id: str) -> str:
    if not isinstance(case_id, str) or not CASE_ID_RE.match(case_id):
        raise ValueError(f"case id must be 1-12 digits, got {case_id!r}")
    return case_id


def behaviour(case_id: str) -> CaseBehaviour:
    """The table row, or the default: a normal case whose TRT exists when the id is odd."""
    check_case_id(case_id)
    if case_id in BEHAVIOURS:
        return BEHAVIOURS[case_id]
    return CaseBehaviour(case_id, "normal", "Normal case (not in the table).", trt=int(case_id) % 2 == 1)


def _rng(case_id: str, stream: str) -> random.Random:
    digest = hashlib.sha256(f"{stream}:{case_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _money(x: float) -> float:
    return round(x + 0.0, 2)


# --------------------------------------------------------------------------------------------
# People, employers, payers (stable per case across years)
# --------------------------------------------------------------------------------------------

_FIRST = [
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Michael",
    "Patricia",
    "David",
    "Jennifer",
    "Carlos",
    "Aisha",
    "Thomas",
    "Karen",
    "Daniel",
    "Nancy",
    "Kevin",
    "Angela",
]
_LAST = ["Walker", "Garcia", "Nguyen", "Johnson", "Patel", "Robinson", "Martinez", "Clark", "Lewis", "Young"]
_EMPLOYERS = [
    "Harbor Freight Lines LLC",
    "Lone Star Medical Group",
    "Bayou Logistics Inc",
    "Summit Retail Corp",
    "Gulf Coast Plumbing Co",
    "Northside ISD",
    "Brightway Home Health",
    "Cedar Park Auto Body",
    "Metro Transit Authority",
    "Pinnacle Staffing Services",
]
_BANKS = [
    "Local Federal Credit Union",
    "First National Bank of Texas",
    "Chase Bank USA NA",
    "Ally Bank",
    "Wells Fargo Bank NA",
]
_BROKERS = ["Fidelity Brokerage Services", "Charles Schwab & Co", "Robinhood Securities LLC"]
_PLATFORMS = ["Uber Technologies Inc", "DoorDash Inc", "PayPal Inc", "Square Inc", "Etsy Inc"]
_CLIENTS = ["Acme Consulting Partners", "Riverbend Properties LLC", "Delta Events Co", "Oakline Media"]
_MORTGAGE = ["Rocket Mortgage LLC", "Mr. Cooper", "PennyMac Loan Services"]
_STATES = [
    ("TX", "Harris"),
    ("TX", "Travis"),
    ("FL", "Miami-Dade"),
    ("CA", "Los Angeles"),
    ("GA", "Fulton"),
    ("AZ", "Maricopa"),
    ("NY", "Kings"),
    ("IL", "Cook"),
]
_STREETS = ["OAK", "ELM", "MAIN", "CEDAR", "PINE"]
_FILING_STATUSES = ["Single", "Married Filing Joint", "Head of Household", "Married Filing Separate"]
PAY_FREQUENCIES = ["biweekly", "Bi-Weekly", "BIWEEKLY ", "semi-monthly", "Monthly", "weekly"]


def _ein(rng: random.Random) -> str:
    return f"XX-XXX{rng.randint(1000, 9999)}"


def _people(case_id: str) -> dict[str, Any]:
    rng = _rng(case_id, "people")
    last = rng.choice(_LAST)
    status = "Married Filing Joint" if case_id == DEMO_CASE else rng.choice(_FILING_STATUSES)
    state, county = rng.choice(_STATES)
    return {
        "tp_name": f"{rng.choice(_FIRST)} {last}".upper(),
        "sp_name": f"{rng.choice(_FIRST)} {last}".upper(),
        "tp_ssn": f"XXX-XX-{rng.randint(1000, 9999)}",
        "sp_ssn": f"XXX-XX-{rng.randint(1000, 9999)}",
        "address": f"{rng.randint(100, 9999)} {rng.choice(_STREETS)} ST, {state}",
        "state": state,
        "county": county,
        "filing_status": status,
        "married": status.startswith("Married"),
        "employer": rng.choice(_EMPLOYERS),
        "sp_employer": rng.choice(_EMPLOYERS),
        "bank": rng.choice(_BANKS),
        "broker": rng.choice(_BROKERS),
        "platform": rng.choice(_PLATFORMS),
        "client": rng.choice(_CLIENTS),
        "mortgage": rng.choice(_MORTGAGE),
        "wage_base": rng.randint(28, 95) * 1000,
        "sp_wage_base": rng.randint(20, 70) * 1000,
        "pay_frequency": rng.choice(PAY_FREQUENCIES),
        "sp_pay_frequency": rng.choice(PAY_FREQUENCIES),
    }


# --------------------------------------------------------------------------------------------
# Wage & Income forms (business-rules.md §4.3 derivation of Income / Withholding / Category)
# --------------------------------------------------------------------------------------------

_SE_FORMS = {"1099-MISC", "1099-NEC", "1099-K", "1099-PATR"}
_NON_SE_FORMS = {"W-2", "W-2G", "1099-R", "SSA-1099"}


def _category(form: str) -> str:
    return "SE" if form in _SE_FORMS else "Non-SE" if form in _NON_SE_FORMS else "Neither"


def _form(
    form: str,
    fields: dict[str, Any],
    income: float,
    withholding: float,
    *,
    owner: str,
    year: int,
    issuer: str,
    issuer_ein: str,
    people: dict[str, Any],
) -> dict[str, Any]:
    spouse = owner == "S"
    return {
        "Form": form,
        "UniqueID": "UNKNOWN",
        "Label": "E" if form == "W-2" else "P",
        "Income": _money(income),
        "Withholding": _money(withholding),
        "Category": _category(form),
        "Fields": fields,
        "PayerBlurb": "",
        "Owner": owner,
        "SourceFile": f"WI S {year % 100:02d}.pdf" if spouse else f"WI {year % 100:02d}.pdf",
        "Issuer": {"Name": issuer, "EIN": issuer_ein, "Address": "PO BOX 1000, ANYTOWN US"},
        "Recipient": {
            "Name": people["sp_name" if spouse else "tp_name"],
            "SSN": people["sp_ssn" if spouse else "tp_ssn"],
            "Address": people["address"],
        },
    }


def _build_form(
    kind: str, rng: random.Random, year: int, owner: str, people: dict[str, Any], amount: float | None = None
) -> dict[str, Any]:
    """One W&I form with upstream-style Fields; Income/Withholding derived as the upstream parser does."""
    spouse = owner == "S"

    def amt(lo: int, hi: int) -> float:
        return _money(amount if amount is not None else rng.uniform(lo, hi))

    common = {"owner": owner, "year": year, "people": people}
    if kind == "W-2":
        wages = (
            amt(0, 0)
            if amount is not None
            else _money(people["sp_wage_base" if spouse else "wage_base"] * rng.uniform(0.9, 1.15))
        )
        fw = _money(wages * rng.uniform(0.04, 0.12))
        fields = {
            "Wages, Tips, and Other Compensation": wages,
            "Federal Withholding": fw,
            "Social Security Wages": wages,
            "Social Security Tax Withheld": _money(wages * 0.062),
            "Medicare Wages and Tips": wages,
            "Medicare Tax Withheld": _money(wages * 0.0145),
        }
        employer = people["sp_employer" if spouse else "employer"]
        return _form("W-2", fields, wages, fw, issuer=employer, issuer_ein=_ein(rng), **common)
    if kind == "1099-NEC" and year < 2020:
        kind = "1099-MISC-NEC"  # before TY2020 nonemployee compensation was 1099-MISC box 7
    if kind == "1099-NEC":
        nec = amt(3000, 30000)
        fields = {"Non-Employee Compensation": nec, "Federal Withholding": 0.0}
        return _form("1099-NEC", fields, nec, 0.0, issuer=people["client"], issuer_ein=_ein(rng), **common)
    if kind in ("1099-MISC", "1099-MISC-NEC"):
        nec = amt(3000, 40000) if kind == "1099-MISC-NEC" else 0.0
        rents = 0.0 if nec else _money(rng.uniform(2000, 18000))
        other = _money(rng.choice([0, 0, rng.uniform(300, 3000)]))
        fields = {
            "Non-Employee Compensation": nec,
            "Medical Payments": 0.0,
            "Fishing Income": 0.0,
            "Rents": rents,
            "Royalties": 0.0,
            "Attorney Fees": 0.0,
            "Other Income": other,
            "Substitute for Dividends": 0.0,
            "Federal Withholding": 0.0,
            "Tax Withheld": 0.0,
        }
        payer = people["client"] if nec else "Riverbend Property Management"
        return _form(
            "1099-MISC", fields, nec + rents + other, 0.0, issuer=payer, issuer_ein=_ein(rng), **common
        )
    if kind == "1099-K":
        gross = amt(2500, 25000)
        fields = {
            "Gross Amount": gross,
            "Card Not Present Transactions": _money(gross * 0.8),
            "Number of Payment Transactions": rng.randint(40, 900),
            "Federal Withholding": 0.0,
        }
        return _form("1099-K", fields, gross, 0.0, issuer=people["platform"], issuer_ein=_ein(rng), **common)
    if kind == "1099-INT":
        interest = amt(12, 900)
        fields = {
            "Interest": interest,
            "Early Withdrawal Penalty": 0.0,
            "Savings Bonds": 0.0,
            "Federal Withholding": 0.0,
            "Tax-Exempt Interest": 0.0,
        }
        return _form("1099-INT", fields, interest, 0.0, issuer=people["bank"], issuer_ein=_ein(rng), **common)
    if kind == "1099-DIV":
        ordinary = amt(50, 4000)
        qualified = _money(ordinary * 0.7)
        gains = _money(rng.uniform(0, 1500))
        fields = {
            "Ordinary Dividends": ordinary,
            "Qualified Dividends": qualified,
            "Capital Gains": gains,
            "Cash Liquidation Distribution": 0.0,
            "Federal Withholding": 0.0,
        }
        return _form(
            "1099-DIV",
            fields,
            qualified + gains,
            0.0,
            issuer=people["broker"],
            issuer_ein=_ein(rng),
            **common,
        )
    if kind == "1099-B":
        proceeds = amt(1000, 25000)
        basis = _money(proceeds * rng.uniform(0.6, 1.1))
        fields = {
            "Proceeds": proceeds,
            "Cost or Basis": basis,
            "Wash Sale Loss Disallowed": 0.0,
            "Federal Withholding": 0.0,
        }
        return _form(
            "1099-B", fields, proceeds - basis, 0.0, issuer=people["broker"], issuer_ein=_ein(rng), **common
        )
    if kind == "1099-R":
        gross = amt(2000, 30000)
        code = rng.choice(["7", "7", "1", "G"])
        taxable = 0.0 if code == "G" else gross
        fw = _money(gross * 0.2) if code != "G" else 0.0
        fields = {
            "Gross Distribution": gross,
            "Taxable Amount": taxable,
            "Federal Withholding": fw,
            "Distribution Code": code,
            "Employee Contributions": 0.0,
        }
        return _form(
            "1099-R",
            fields,
            taxable,
            fw,
            issuer="Vanguard Fiduciary Trust Co",
            issuer_ein=_ein(rng),
            **common,
        )
    if kind == "SSA-1099":
        benefits = amt(9000, 26000)
        fw = _money(rng.choice([0.0, benefits * 0.07]))
        fields = {"Total Benefits Paid": benefits, "Federal Withholding": fw}
        # Income filled in later (§4.4 needs the year's other income); placeholder for now.
        return _form(
            "SSA-1099",
            fields,
            0.0,
            fw,
            issuer="Social Security Administration",
            issuer_ein="XX-XXX0001",
            **common,
        )
    if kind == "1099-G":
        unemployment = amt(1500, 14000)
        fw = _money(unemployment * rng.choice([0.0, 0.1]))
        fields = {
            "Unemployment Compensation": unemployment,
            "State or Local Income Tax Refunds": 0.0,
            "Agricultural Subsidies": 0.0,
            "Taxable Grants": 0.0,
            "Federal Withholding": fw,
        }
        return _form(
            "1099-G",
            fields,
            unemployment,
            fw,
            issuer=f"{people['state']} Workforce Commission",
            issuer_ein=_ein(rng),
            **common,
        )
    if kind == "W-2G":
        winnings = amt(1200, 9000)
        fw = _money(winnings * 0.24)
        fields = {"Gross Winnings": winnings, "Federal Withholding": fw, "Type of Wager": "Slot machine"}
        return _form(
            "W-2G", fields, winnings, fw, issuer="Golden Nugget Casino", issuer_ein=_ein(rng), **common
        )
    if kind == "1098":
        interest = amt(2500, 14000)
        fields = {
            "Mortgage Interest": interest,
            "Outstanding Mortgage Principal": _money(interest * 28),
            "Points Paid": 0.0,
            "Mortgage Insurance Premiums": 0.0,
        }
        return _form("1098", fields, 0.0, 0.0, issuer=people["mortgage"], issuer_ein=_ein(rng), **common)
    raise ValueError(kind)


_EXTRA_FORMS = [
    "1099-INT",
    "1099-DIV",
    "1099-K",
    "1099-MISC",
    "1099-R",
    "SSA-1099",
    "1099-G",
    "1099-B",
    "W-2G",
    "1098",
]
_DEMO_FORMS = {
    2018: ["W-2", "W-2:S", "1099-NEC", "1099-INT", "1098"],
    2019: ["W-2", "W-2:S", "1099-NEC", "1099-K", "1099-INT", "1099-DIV", "1098"],
    2020: ["W-2", "1099-G", "1099-G:S", "1099-NEC", "1099-K", "1099-INT", "1098"],
    2021: ["W-2", "W-2:S", "1099-NEC", "1099-K", "1099-DIV", "1099-B", "1098"],
    2022: ["W-2", "W-2:S", "1099-NEC", "1099-K", "1099-MISC", "1099-INT", "1099-R:S", "W-2G", "1098"],
    2023: ["W-2", "W-2:S", "1099-NEC", "1099-K", "1099-INT", "1099-DIV", "1098"],
}


def _wi_forms(case_id: str, year: int) -> list[dict[str, Any]]:
    """The W&I forms of one tax year (upstream shape), deterministic per (case, year)."""
    people = _people(case_id)
    rng = _rng(case_id, f"wi:{year}")
    if case_id == DEMO_CASE:
        kinds = _DEMO_FORMS.get(year, ["W-2", "1099-NEC", "1099-INT"])
    else:
        kinds = ["W-2"] if rng.random() < 0.75 else ["1099-NEC"]
        if people["married"]:
            kinds.append("W-2:S")
        kinds += rng.sample(_EXTRA_FORMS, rng.randint(1, 4))
    forms = []
    for kind in kinds:
        form, _, who = kind.partition(":")
        forms.append(_build_form(form, rng, year, "S" if who == "S" else "TP", people))
    # SSA-1099 taxable part: upstream §4.4 rule, using the other income of the year as C.
    combined = sum(f["Income"] for f in forms if f["Form"] != "SSA-1099")
    joint = people["filing_status"] in ("Married Filing Joint", "Married Filing Separate")
    for f in forms:
        if f["Form"] == "SSA-1099":
            benefits = f["Fields"]["Total Benefits Paid"]
            taxable = combined > (34000 if joint else 25000) or combined == 0
            f["Income"] = _money(0.85 * benefits) if taxable else 0.0
    return forms


def _wi_summary(years_data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The upstream summary, quirk included: SE only when Category == 'Self-Employment' (never)."""
    by_year = {}
    for year, forms in years_data.items():
        t = dict.fromkeys(
            [
                "se_income",
                "se_withholding",
                "non_se_income",
                "non_se_withholding",
                "other_income",
                "other_withholding",
            ],
            0.0,
        )
        for f in forms:
            if f["Form"] == "W-2":
                bucket = "non_se"
            elif f["Form"] in ("1099-MISC", "1099-NEC") and f["Category"] == "Self-Employment":
                bucket = "se"
            else:
                bucket = "other"
            t[f"{bucket}_income"] += f["Income"]
            t[f"{bucket}_withholding"] += f["Withholding"]
        t = {k: _money(v) for k, v in t.items()}
        total = _money(t["se_income"] + t["non_se_income"] + t["other_income"])
        by_year[year] = {
            "number_of_forms": len(forms),
            **t,
            "total_income": total,
            "total_withholding": _money(
                t["se_withholding"] + t["non_se_withholding"] + t["other_withholding"]
            ),
            "estimated_agi": total,
        }
    overall = {
        key: _money(sum(y[src] for y in by_year.values()))
        for key, src in [
            ("total_se_income", "se_income"),
            ("total_non_se_income", "non_se_income"),
            ("total_other_income", "other_income"),
            ("total_income", "total_income"),
            ("estimated_agi", "estimated_agi"),
        ]
    }
    return {
        "total_years": len(years_data),
        "years_analyzed": list(years_data),
        "total_forms": sum(len(f) for f in years_data.values()),
        "by_year": by_year,
        "overall_totals": overall,
    }


# --------------------------------------------------------------------------------------------
# Account transcripts
# --------------------------------------------------------------------------------------------

# Transaction explanations as account transcripts print them (irs-domain.md §2).
_DESC = {
    "150": "Tax return filed",
    "150-SFR": "Substitute tax return prepared by IRS",
    "160": "Penalty for filing tax return after the due date",
    "166": "Penalty for filing tax return after the due date",
    "196": "Interest charged for late payment",
    "276": "Penalty for late payment of tax",
    "290": "Additional tax assessed",
    "300": "Additional tax or deficiency assessment by examination",
    "460": "Extension of time to file tax return",
    "480": "Offer in compromise pending",
    "481": "Offer in compromise rejected",
    "482": "Offer in compromise withdrawn",
    "520-65": "Bankruptcy or other legal action filed (closing code 65)",
    "520-76": "Bankruptcy or other legal action filed (closing code 76)",
    "521": "Removed bankruptcy or other legal action",
    "582": "Lien placed on assets due to balance owed",
    "610": "Payment with return",
    "670": "Payment",
    "670-IA": "Payment - installment agreement",
    "670-LEVY": "Levy",
    "706": "Credit transferred in from 1040",
    "806": "W-2 or 1099 withholding",
    "826": "Overpaid credit applied to 1040",
    "846": "Refund issued",
    "922": "Review of unreported income",
    "971-043": "Pending installment agreement",
    "971-063": "Installment agreement established",
    "972-043": "Reversed pending installment agreement",
    "971-069": "Intent to levy collection due process notice",
    "971-CP14": "Notice issued CP 0014",
    "971-CP504": "Notice issued CP 0504",
    "n/a": "No tax return filed",
}


def _tx(key: str, when: date | str, amount: float = 0.0, suffix: str = "") -> dict[str, Any]:
    code = key.split("-")[0]
    day = when if isinstance(when, str) else when.isoformat()
    return {"code": code, "date": day, "amount": _money(amount), "description": _DESC[key] + suffix}


def _d(s: str) -> date:
    return date.fromisoformat(s)


def _monday(d: date) -> date:
    """Assessment (23C) dates fall on weekdays; move weekends to the next Monday."""
    return d + timedelta(days=(7 - d.weekday()) % 7) if d.weekday() >= 5 else d


_STD_DEDUCTION = {
    2013: 6100,
    2014: 6200,
    2015: 6300,
    2016: 6300,
    2017: 6350,
    2018: 12000,
    2019: 12200,
    2020: 12400,
    2021: 12550,
    2022: 12950,
    2023: 13850,
    2024: 14600,
}


def _tax(taxable: float, status: str) -> float:
    """A rough 10/12/22/24 % bracket tax (2021 single thresholds, doubled for joint)."""
    scale = 2 if status == "Married Filing Joint" else 1.5 if status == "Head of Household" else 1
    tax, lower = 0.0, 0.0
    for upper, rate in [(9950, 0.10), (40525, 0.12), (86375, 0.22), (10**9, 0.24)]:
        upper *= scale
        if taxable > lower:
            tax += (min(taxable, upper) - lower) * rate
        lower = upper
    return _money(tax)


def _return_figures(case_id: str, year: int, status: str) -> dict[str, float]:
    forms = _wi_forms(case_id, year)
    se = sum(f["Income"] for f in forms if f["Category"] == "SE")
    se_tax = _money(se * 0.9235 * 0.153) if se > 400 else 0.0
    agi = _money(sum(f["Income"] for f in forms) - se_tax / 2)
    deduction = _STD_DEDUCTION.get(year, 12550) * (
        2 if status == "Married Filing Joint" else 1.5 if status == "Head of Household" else 1
    )
    taxable = _money(max(0.0, agi - deduction))
    withholding = _money(sum(f["Withholding"] for f in forms))
    return {
        "agi": agi,
        "taxable": taxable,
        "tax": _money(_tax(taxable, status) + se_tax),
        "se_tax": se_tax,
        "withholding": withholding,
    }


def _record(
    year: int | str,
    txs: list[dict[str, Any]],
    *,
    status: str,
    owner: str = "TP",
    figures: dict[str, float] | None = None,
    accrued: tuple[float, float] = (0.0, 0.0),
    processing: str | None = None,
) -> dict[str, Any]:
    txs = sorted(txs, key=lambda t: (t["date"], t["code"]))
    balance = _money(sum(t["amount"] for t in txs))
    interest, penalty = (_money(accrued[0]), _money(accrued[1])) if balance > 0 else (0.0, 0.0)
    fig = figures or {}
    yy = int(year) % 100
    filed = [t for t in txs if t["code"] == "150"]
    proc = processing or (filed[0]["date"] if filed else None)
    return {
        "tax_year": str(year),
        "account_balance": balance,
        "accrued_interest": interest,
        "accrued_penalty": penalty,
        "total_balance": _money(balance + interest + penalty),
        "adjusted_gross_income": fig.get("agi", 0.0),
        "taxable_income": fig.get("taxable", 0.0),
        "tax_per_return": fig.get("tax", 0.0),
        "se_tax_taxpayer": fig.get("se_tax", 0.0),
        "se_tax_spouse": 0.0,
        "total_se_tax": fig.get("se_tax", 0.0),
        "filing_status": status if filed else "Unknown",
        # The transcript prints MM-DD-YYYY; the upstream parser passes this one through unchanged.
        "processing_date": f"{proc[5:7]}-{proc[8:10]}-{proc[:4]}" if proc else None,
        "owner": owner,
        "source_file": f"AT {yy:02d} E.pdf" if owner == "S" else f"AT {yy:02d}.pdf",
        "transactions": txs,
    }


def _normal_year(
    case_id: str,
    year: int,
    status: str,
    rng: random.Random,
    *,
    late: bool | None = None,
    settle: str | None = None,
    filed_on: str | None = None,
    extra: list[dict[str, Any]] | None = None,
    owner: str = "TP",
) -> dict[str, Any]:
    """A filed year: TC 150 / 806, then penalties, interest, notices and payments by chance."""
    fig = _return_figures(case_id, year, status)
    due = date(year + 1, 7, 15) if year == 2019 else date(year + 1, 4, 15)
    if late is None:
        late = rng.random() < 0.3
    if filed_on:
        filed = _d(filed_on)
    elif late:
        filed = _monday(due + timedelta(days=rng.randint(40, 230)))
    else:
        filed = _monday(due - timedelta(days=rng.randint(3, 60)))
    txs = [_tx("150", filed, fig["tax"]), _tx("806", date(year + 1, 4, 15), -fig["withholding"])]
    owed = fig["tax"] - fig["withholding"]
    if owed <= 0:
        if owed < 0:
            txs.append(_tx("846", filed + timedelta(days=14), -owed))
        return _record(year, txs + (extra or []), status=status, owner=owner, figures=fig)
    if late:
        months = max(1, (filed - due).days // 30)
        txs.append(_tx("166", filed, owed * min(0.25, 0.045 * months)))
    txs.append(_tx("276", filed, owed * 0.005 * max(1, (filed - due).days // 30 + 1)))
    txs.append(_tx("196", filed, owed * 0.02))
    txs.append(_tx("971-CP14", filed, 0.0))
    settle = settle or rng.choice(["full", "full", "partial", "none"])
    if settle == "full":
        so_far = sum(t["amount"] for t in txs)
        txs.append(_tx("670", _monday(filed + timedelta(days=rng.randint(20, 120))), -so_far))
    elif settle == "partial":
        txs.append(_tx("670", _monday(filed + timedelta(days=rng.randint(20, 120))), -owed * 0.3))
    txs += extra or []
    return _record(year, txs, status=status, owner=owner, figures=fig, accrued=(owed * 0.04, owed * 0.03))


def _unfiled_year(year: int) -> dict[str, Any]:
    return _record(
        year, [{"code": "n/a", "date": "", "amount": 0.0, "description": _DESC["n/a"]}], status="Unknown"
    )


def _demo_records() -> list[dict[str, Any]]:
    """Case 1295022: hand-placed events on top of generated returns (MFJ, 2018-2023)."""
    cid, status = DEMO_CASE, "Married Filing Joint"
    rng = _rng(cid, "at")
    ia = [_tx("971-043", "2022-09-06"), _tx("971-063", "2022-10-17")]
    # 2018: no return -> IRS substitute for return (TC 150 $0), exam assessment TC 300, penalties, lien, levy.
    f18 = _return_figures(cid, 2018, status)
    sfr = (
        [
            _tx("150-SFR", "2020-09-14", 0.0),
            _tx("300", "2021-02-01", f18["tax"]),
            _tx("806", "2019-04-15", -f18["withholding"]),
            _tx("160", "2021-02-01", (f18["tax"] - f18["withholding"]) * 0.25),
            _tx("276", "2021-02-01", (f18["tax"] - f18["withholding"]) * 0.1),
            _tx("196", "2021-02-01", (f18["tax"] - f18["withholding"]) * 0.09),
            _tx("971-CP504", "2021-06-14"),
            _tx("582", "2021-09-13"),
            _tx("670-LEVY", "2022-01-10", -1250.00),
        ]
        + ia
        + [
            _tx("670-IA", f"{y}-{m:02d}-15", -350.00)
            for y, m in [(2022, 11), (2022, 12)] + [(2023, m) for m in range(1, 11)]
        ]
    )
    r18 = _record(
        2018,
        sfr,
        status=status,
        figures={**f18, "tax": 0.0},
        accrued=(612.40, 388.15),
        processing="2021-02-01",
    )
    r18["filing_status"] = status
    # 2019: filed on time (COVID due date), AUR review then TC 290, IA, credit offset in from 2023.
    r19 = _normal_year(
        cid,
        2019,
        status,
        rng,
        late=False,
        settle="none",
        filed_on="2020-07-13",
        extra=[
            _tx("922", "2021-11-08"),
            _tx("290", "2022-03-14", 1860.00),
            _tx("706", "2024-03-18", -412.00, " 2023"),
        ]
        + ia,
    )
    r20 = _normal_year(
        cid,
        2020,
        status,
        rng,
        late=True,
        settle="none",
        filed_on="2021-08-23",
        extra=[_tx("610", "2021-08-23", -500.00)] + ia,
    )
    r21 = _normal_year(cid, 2021, status, rng, late=False, settle="none", filed_on="2022-04-11", extra=ia)
    r22 = _normal_year(cid, 2022, status, rng, late=False, settle="full", filed_on="2023-04-10")
    # 2023: overpaid; the overpayment is offset to 2019 (TC 826 here, TC 706 there), rest refunded.
    f23 = _return_figures(cid, 2023, status)
    over = _money(412.00 + 263.57)
    txs23 = [
        _tx("150", "2024-03-18", f23["withholding"] - over),
        _tx("806", "2024-04-15", -f23["withholding"]),
        _tx("826", "2024-03-18", 412.00, " 2019"),
        _tx("846", "2024-04-01", 263.57),
    ]
    r23 = _record(2023, txs23, status=status, figures={**f23, "tax": _money(f23["withholding"] - over)})
    return [r18, r19, r20, r21, r22, r23]


# CSED scenarios: (focus year, return filed date, events on the focus module). Dates chosen so the
# expected CSED can be derived by hand with irs-domain.md §1.3-1.4 (see `expected` in the table).
_CSED_SCENARIOS: dict[str, tuple[list[tuple[int, str]], list[tuple[str, str, float]]]] = {
    "multi_assessment": ([(2017, "2018-04-16")], [("922", "2019-11-04", 0), ("290", "2020-06-08", 2400.00)]),
    "ia_rejected": ([(2018, "2019-04-15")], [("971-043", "2021-03-01", 0), ("972-043", "2021-05-10", 0)]),
    "oic_rejected": ([(2017, "2018-05-21")], [("480", "2022-02-14", 0), ("481", "2022-09-26", 0)]),
    "oic_withdrawn": ([(2017, "2018-05-21")], [("480", "2022-02-14", 0), ("482", "2022-07-18", 0)]),
    "bankruptcy_closed": ([(2018, "2019-06-03")], [("520-65", "2021-08-09", 0), ("521", "2022-01-18", 0)]),
    "bankruptcy_open": ([(2018, "2019-06-03")], [("520-65", "2023-03-06", 0)]),
    "cdp": (
        [(2017, "2018-04-17")],
        [("971-069", "2022-03-21", 0), ("520-76", "2022-05-02", 0), ("521", "2022-11-14", 0)],
    ),
    "overlapping": (
        [(2017, "2018-04-16")],
        [
            ("480", "2021-01-11", 0),
            ("481", "2021-06-14", 0),
            ("971-043", "2021-06-01", 0),
            ("972-043", "2021-09-20", 0),
        ],
    ),
    "leap_day": ([(2015, "2016-02-29")], []),
    "ia_approved": ([(2018, "2019-04-15")], [("971-043", "2021-03-01", 0), ("971-063", "2021-04-12", 0)]),
    "cdp_floor": ([(2013, "2014-06-02")], [("520-76", "2024-05-20", 0), ("521", "2024-05-24", 0)]),
}


def _csed_records(case_id: str, scenario: str, status: str) -> list[dict[str, Any]]:
    rng = _rng(case_id, "at")
    focus, events = _CSED_SCENARIOS[scenario]
    records = []
    for i, (year, filed_on) in enumerate(focus):
        fig = _return_figures(case_id, year, status)
        # A balance due that nothing pays off, so the CSED matters; no late-filing penalty (own CSED).
        tax = max(fig["tax"], fig["withholding"] + 3000.00)
        txs = [
            _tx("150", filed_on, tax),
            _tx("806", f"{year + 1}-04-15", -fig["withholding"]),
            _tx("276", filed_on, (tax - fig["withholding"]) * 0.01),
            _tx("196", filed_on, (tax - fig["withholding"]) * 0.005),
        ]
        if i == 0:
            txs += [_tx(key, day, amount) for key, day, amount in events]
        records.append(_record(year, txs, status=status, figures={**fig, "tax": tax}, accrued=(250.0, 120.0)))
    last = max(y for y, _ in focus)
    for year in (last + 1, last + 2):  # background years, paid in full
        records.append(_normal_year(case_id, year, status, rng, late=False, settle="full"))
    return records


def _at_records(case_id: str) -> list[dict[str, Any]]:
    beh = behaviour(case_id)
    status = _people(case_id)["filing_status"]
    if case_id == DEMO_CASE:
        return _demo_records()
    if beh.csed_scenario:
        return _csed_records(case_id, beh.csed_scenario, status)
    rng = _rng(case_id, "at")
    count = rng.randint(3, 6)
    start = rng.randint(2016, 2024 - count + 1)
    unfiled = rng.choice([None, None, start + count - 1])  # sometimes the latest year is unfiled
    records = [
        _unfiled_year(y) if y == unfiled else _normal_year(case_id, y, status, rng)
        for y in range(start, start + count)
    ]
    if status == "Married Filing Separate":  # the spouse's own module for the last filed year
        last = max(y for y in range(start, start + count) if y != unfiled)
        records.append(_normal_year(case_id, last, status, rng, owner="S"))
    return records


def _years(case_id: str) -> list[int]:
    return sorted({int(r["tax_year"]) for r in _at_records(case_id)})


# --------------------------------------------------------------------------------------------
# Drifted shapes (the same data, spelled the other ways upstream-apis.md lists)
# --------------------------------------------------------------------------------------------


def money_text(x: float) -> str:
    """'$1,234.56' for debits, '(500.00)' for credits, as some transcript parsers emit."""
    return f"({abs(x):,.2f})" if x < 0 else f"${x:,.2f}"


def _mdy(iso: str) -> str:
    return f"{iso[5:7]}-{iso[8:10]}-{iso[:4]}" if iso else ""


def _drift_at_alt_keys(records: list[dict[str, Any]]) -> dict[str, Any]:
    flags = ["YES", "Filed", "true", True]
    out = []
    for i, r in enumerate(records):
        filed = any(t["code"] == "150" for t in r["transactions"])
        out.append(
            {
                "taxYear": f"Tax Year {r['tax_year']}" if i % 2 == 0 else int(r["tax_year"]),
                "filingStatus": r["filing_status"],
                "adjustedGrossIncome": money_text(r["adjusted_gross_income"]),
                "taxableIncome": money_text(r["taxable_income"]),
                "TaxPerReturn": money_text(r["tax_per_return"]),
                "accountBalance": money_text(r["account_balance"]),
                "totalBalance": money_text(r["total_balance"]),
                "returnFiled": flags[i % len(flags)] if filed else "NO",
                "returnFiledDate": _mdy(
                    next((t["date"] for t in r["transactions"] if t["code"] == "150"), "")
                ),
                "processingDate": r["processing_date"],
                "owner": r["owner"],
                "sourceFile": r["source_file"],
                "activity": [
                    {
                        "transaction_code": t["code"],
                        "Date": _mdy(t["date"]),
                        "Amount": money_text(t["amount"]),
                        "explanation": t["description"],
                    }
                    for t in r["transactions"]
                ],
            }
        )
    # A transcript whose year the parser could not read.
    out.append(
        {
            "taxYear": "Unknown",
            "filingStatus": "Unknown",
            "accountBalance": "$0.00",
            "returnFiled": "NO",
            "owner": "TP",
            "sourceFile": "AT.pdf",
            "activity": [],
        }
    )
    return {"records": out}


def _drift_at_data_array(records: list[dict[str, Any]]) -> dict[str, Any]:
    out = []
    for r in records:
        running, activity = 0.0, []
        for j, t in enumerate(r["transactions"]):
            running = _money(running + t["amount"])
            amount: Any = money_text(t["amount"]) if j % 2 else t["amount"]
            activity.append(
                {
                    "tc": t["code"],
                    "posted_date": t["date"],
                    "transaction_amount": amount,
                    "Explanation": t["description"],
                    "balance_after": running,
                }
            )
        filed = any(t["code"] == "150" for t in r["transactions"])
        out.append(
            {
                "year": int(r["tax_year"]),
                "FilingStatus": r["filing_status"],
                "agi": r["adjusted_gross_income"],
                "total_tax": r["tax_per_return"],
                "total_balance": r["total_balance"],
                "filed": filed,
                "status": "Filed" if filed else "Unfiled",
                "owner": r["owner"],
                "account_activity": activity,
            }
        )
    return {"data": out}


def _flat_form(form: dict[str, Any], year: str, variant: int) -> dict[str, Any]:
    if variant == 0:
        return {**form, "Year": year}
    issuer, recipient = form["Issuer"], form["Recipient"]
    if variant == 1:
        return {
            "form_type": form["Form"],
            "tax_year": year,
            "gross_amount": form["Income"],
            "federal_withholding": form["Withholding"],
            "category": form["Category"],
            "IssuerName": issuer["Name"],
            "IssuerEIN": issuer["EIN"],
            "RecipientName": recipient["Name"],
            "recipient_ssn": recipient["SSN"],
            "taxpayer_type": "spouse" if form["Owner"] == "S" else "taxpayer",
            "Fields": form["Fields"],
        }
    return {
        "FormType": form["Form"],
        "TaxYear": int(year),
        "Amount": money_text(form["Income"]),
        "FederalTaxWithheld": money_text(form["Withholding"]),
        "Issuer": issuer,
        "Recipient": recipient,
        "Owner": form["Owner"],
        "Fields": form["Fields"],
    }


# --------------------------------------------------------------------------------------------
# Public payload functions
# --------------------------------------------------------------------------------------------


def at_payload(case_id: str) -> dict[str, Any]:
    """TiParser /analysis/at body."""
    records = _at_records(case_id)
    drift = behaviour(case_id).at_drift
    if drift == "alt_keys":
        return _drift_at_alt_keys(records)
    if drift == "data_array":
        return _drift_at_data_array(records)
    return {"at_records": records}


def wi_payload(case_id: str) -> dict[str, Any]:
    """TiParser /analysis/wi body."""
    years_data = {str(y): _wi_forms(case_id, y) for y in _years(case_id)}
    drift = behaviour(case_id).wi_drift
    if drift == "forms_object":
        shaped: dict[str, Any] = {y: {"forms": forms} for y, forms in years_data.items()}
        shaped["Unknown"] = {
            "forms": [_build_form("1099-INT", _rng(case_id, "wi:unknown"), 2020, "TP", _people(case_id))]
        }
        return {"summary": _wi_summary(years_data), "years_data": shaped}
    if drift == "flat":
        flat = [_flat_form(f, y, i % 3) for y, forms in years_data.items() for i, f in enumerate(forms)]
        return {"forms": flat}
    return {"summary": _wi_summary(years_data), "years_data": years_data}


def trt_payload(case_id: str) -> dict[str, Any] | None:
    """TiParser /analysis/trt body, or None (=> 404) for cases without a TRT."""
    if not behaviour(case_id).trt:
        return None
    people = _people(case_id)
    records = []
    for r in _at_records(case_id):
        txs = r["transactions"]
        filed = next((t for t in txs if t["code"] == "150" and "Substitute" not in t["description"]), None)
        if not filed or r["owner"] != "TP":
            continue
        year = int(r["tax_year"])
        forms = _wi_forms(case_id, year)
        wages = sum(f["Income"] for f in forms if f["Form"] == "W-2")
        se = sum(f["Income"] for f in forms if f["Category"] == "SE")
        base = {
            "response_date": filed["date"],
            "tax_period_ending": f"{year}-12-31",
            "primary_ssn": people["tp_ssn"],
            "spouse_ssn": people["sp_ssn"] if people["married"] else "",
            "year": str(year),
        }
        lines = [
            ("1040", "Form", "Income", "Wages", "1a", "Wages, salaries, tips", f"${wages:,.0f}"),
            (
                "1040",
                "Form",
                "Income",
                "Adjusted gross income",
                "11",
                "Adjusted gross income",
                f"${r['adjusted_gross_income']:,.0f}",
            ),
            ("1040", "Form", "Tax", "Taxable income", "15", "Taxable income", f"${r['taxable_income']:,.0f}"),
            ("1040", "Form", "Tax", "Total tax", "24", "Total tax", f"${r['tax_per_return']:,.0f}"),
        ]
        if se:
            lines += [
                (
                    "Schedule C",
                    "Schedule",
                    "Income",
                    "Gross receipts",
                    "1",
                    "Gross receipts or sales",
                    f"${se:,.0f}",
                ),
                (
                    "Schedule C",
                    "Schedule",
                    "Expenses",
                    "Car and truck expenses",
                    "9",
                    "Car and truck expenses",
                    f"({se * 0.08:,.0f})",
                ),
                (
                    "Schedule SE",
                    "Schedule",
                    "Tax",
                    "Self-employment tax",
                    "12",
                    "Self-employment tax",
                    f"${r['se_tax_taxpayer']:,.0f}",
                ),
            ]
        for form, typ, cat, sub, line, desc, data in lines:
            records.append(
                {
                    **base,
                    "form_number": form,
                    "type": typ,
                    "category": cat,
                    "sub_category": sub,
                    "line_number": line,
                    "description": desc,
                    "data": data,
                }
            )
    return {"records": records}


def _stringify(value: Any) -> Any:
    """Every number as a numeric string (interview drift)."""
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    return value


def interview_payload(case_id: str) -> dict[str, Any] | None:
    """CaseHelper /api/cases/{id}/interview body (variant A, nested camelCase), or None (=> 404)."""
    beh = behaviour(case_id)
    if not beh.interview:
        return None
    p = _people(case_id)
    rng = _rng(case_id, "interview")
    married = p["married"]
    gross = float(p["wage_base"])
    sp_gross = float(p["sp_wage_base"]) if married else 0.0
    members = 1 + int(married) + rng.randint(0, 3)
    vehicle_value = float(rng.randint(4, 30) * 500)
    vehicle_loan = float(rng.choice([0, rng.randint(2, 20) * 500]))
    home = rng.random() < 0.4
    home_value = float(rng.randint(150, 450) * 1000) if home else 0.0
    home_loan = _money(home_value * rng.uniform(0.3, 0.9)) if home else 0.0
    checking = _money(rng.uniform(100, 6000))
    savings = _money(rng.uniform(0, 4000))
    food = float(rng.randint(40, 110) * 10)
    result = {
        "Food": 458.0 + 250 * (members - 1),
        "Housekeeping": 40.0 + 12 * members,
        "Apparel": 99.0 + 40 * (members - 1),
        "PersonalCare": 45.0 + 15 * members,
        "Misc": 170.0 + 40 * members,
    }
    result["FoodClothingMiscTotal"] = sum(result.values())
    result.update(
        {
            "HealthOutOfPocket": 84.0 * members,
            "PublicTrans": 244.0,
            "Housing": 1800.0 + 150 * members,
            "OperatingCostCar": 308.0,
        }
    )
    body: dict[str, Any] = {
        "employment": {
            "clientEmployer": p["employer"],
            "clientStartWorkingDate": f"{rng.randint(2008, 2022)}-0{rng.randint(1, 9)}-01",
            "clientGrossIncome": gross,
            "clientNetIncome": _money(gross * 0.78),
            "clientFrequentlyPaid": p["pay_frequency"],
            "spouseEmployer": p["sp_employer"] if married else "",
            "spouseStartWorkingDate": f"{rng.randint(2010, 2022)}-0{rng.randint(1, 9)}-15" if married else "",
            "spouseGrossIncome": sp_gross,
            "spouseNetIncome": _money(sp_gross * 0.8),
            "spouseFrequentlyPaid": p["sp_pay_frequency"] if married else "",
            # Household fields live under employment in variant A; counts as numeric strings.
            "clientHouseMembers": str(members),
            "clientNextTaxReturn": "MFJ" if married else "Single",
            "clientSpouseClaim": "yes" if married else "no",
            "clientLengthofresidency": f"{rng.randint(1, 15)} years",
            "clientOccupancyStatus": "own" if home else "rent",
            "spouseHouseMembers": str(members) if married else "",
            "spouseNextTaxReturn": "MFJ" if married else "",
            "spouseSpouseClaim": "yes" if married else "",
            "spouseLengthofresidency": "",
            "spouseOccupancyStatus": ("own" if home else "rent") if married else "",
        },
        "assets": {
            "bankAccounts": {
                "accountsData": _money(checking + savings),
                "accountsGrid": [
                    {"type": "Checking", "fullName": p["bank"], "balance": checking},
                    {"type": "Savings", "fullName": p["bank"], "balance": savings},
                ],
            },
            "cashOnHand": float(rng.randint(0, 40) * 10),
            "investments": {
                "investmentMarketValue": float(rng.choice([0, rng.randint(1, 40) * 250])),
                "investmentLoan": 0.0,
            },
            "lifeInsurance": {"insuranceMarketValue": 0.0, "insuranceLoan": 0.0},
            "retirement": {
                "retirementMarketValue": float(rng.choice([0, rng.randint(1, 60) * 500])),
                "retirementLoan": 0.0,
            },
            "realProperty": {
                "realEstateMarketValue": home_value,
                "realEstateLoan": home_loan,
                "propertyGrid": [
                    {
                        "propertyAddress": p["address"],
                        "currentValue": home_value,
                        "purchasedDate": "2015-06-30",
                        "purchasedPrice": _money(home_value * 0.8),
                        "monthlyPayment": _money(home_loan / 240),
                        "loanBalance": home_loan,
                        "finalPaymentDate": "2045-07-01",
                    }
                ]
                if home
                else [],
            },
            "vehicles": {
                "vehicle1MarketValue": vehicle_value,
                "vehicle1Loan": vehicle_loan,
                "vehicle2MarketValue": 0.0,
                "vehicle2Loan": 0.0,
                "vehicle3MarketValue": 0.0,
                "vehicle3Loan": 0.0,
                "vehicle4MarketValue": 0.0,
                "vehicle4Loan": 0.0,
                "vehiclesGrid": [
                    {
                        "year": str(rng.randint(2008, 2022)),
                        "make": rng.choice(["Ford", "Toyota", "Honda", "Chevrolet"]),
                        "model": rng.choice(["F-150", "Camry", "Civic", "Silverado"]),
                        "currentValue": vehicle_value,
                        "mileage": str(rng.randint(20, 180) * 1000),
                        "monthlyPayment": _money(vehicle_loan / 36),
                        "loanBalance": vehicle_loan,
                        "finalPaymentDate": "2027-06-01" if vehicle_loan else "",
                    }
                ],
            },
            "personalEffects": {"personalEffectsMarketValue": 1500.0, "personalEffectsLoan": 0.0},
            "otherAssets": {"otherAssetsMarketValue": 0.0, "otherAssetsLoan": 0.0},
        },
        "income": {
            "taxpayerIncome": {"wages": _money(gross / 12), "socialSecurity": 0.0, "pension": 0.0},
            "spouseIncome": {"wages": _money(sp_gross / 12), "socialSecurity": 0.0, "pension": 0.0},
            "otherIncome": {
                "dividendsInterest": float(rng.randint(0, 50)),
                "rentalGross": 0.0,
                "rentalExpenses": 0.0,
                "distributions": 0.0,
                "alimony": 0.0,
                "childSupport": float(rng.choice([0, 350])),
                "other": 0.0,
            },
        },
        "expenses": {
            "familySize": {"under65": str(members), "over65": "0"},
            "location": {"state": p["state"], "county": p["county"]},
            "foodClothingMisc": {
                "food": food,
                "housekeeping": 60.0,
                "apparel": 120.0,
                "personalCare": 70.0,
                "misc": 150.0,
            },
            "housing": {
                "mortgageLien1": _money(home_loan / 240),
                "mortgageLien2": 0.0,
                "rent": 0.0 if home else float(rng.randint(90, 220) * 10),
                "insurance": 95.0 if home else 0.0,
                "propertyTax": _money(home_value * 0.02 / 12),
                "utilities": {
                    "gas": 45.0,
                    "electricity": float(rng.randint(9, 25) * 10),
                    "water": 60.0,
                    "sewer": 25.0,
                    "cable": 80.0,
                    "trash": 20.0,
                    "phone": 90.0,
                },
            },
            "healthcare": {
                "healthInsurance": float(rng.randint(0, 60) * 10),
                "prescriptions": 40.0,
                "copays": 25.0,
            },
            "taxes": 0.0,
            "transportation": {
                "vehicleCount": "1",
                "publicTransportation": 0.0,
                "autoInsurance": 140.0,
                "autoPayment1": _money(vehicle_loan / 36),
                "autoPayment2": 0.0,
            },
            "otherExpenses": [{"name": "Student loan", "amount": 180.0}] if rng.random() < 0.5 else [],
        },
        "raw_data": {
            "IncomeAdditional1": 0.0,
            "IncomeAdditional2": 0.0,
            "ExpenseCourtPayments": 0.0,
            "ExpenseChildCare": float(rng.choice([0, 300, 650])),
            "ExpenseWholeLifeInsurance": 0.0,
            "ExpenseTermLifeInsurance": 35.0,
            "ExpenseAutoTotal": _money(vehicle_loan / 36 + 140),
        },
        "Result": result,
    }
    # Real forms often carry some money amounts as numeric strings, too.
    body["assets"]["cashOnHand"] = f"{body['assets']['cashOnHand']:.2f}"
    body["expenses"]["foodClothingMisc"]["food"] = str(int(food))
    if beh.interview_drift == "strings":
        body = _stringify(body)
    return body


# --------------------------------------------------------------------------------------------
# Transcript files and PDFs
# --------------------------------------------------------------------------------------------


def _doc_id(case_id: str, kind: str, filename: str) -> str:
    digest = hashlib.sha256(f"{case_id}:{kind}:{filename}".encode()).hexdigest()
    return str(10_000_000 + int(digest[:12], 16) % 90_000_000)


def transcript_files(case_id: str, kind: str) -> list[dict[str, Any]]:
    """The file list of GET /transcripts/{at|wi}/{case_id} ('files' entries)."""
    check_case_id(case_id)
    if kind == "at":
        names = [(r["source_file"], r["owner"]) for r in _at_records(case_id)]
    elif kind == "wi":
        names = []
        for year in _years(case_id):
            for owner in sorted({f["Owner"] for f in _wi_forms(case_id, year)}, reverse=True):  # TP first
                names.append(
                    (f"WI S {year % 100:02d}.pdf" if owner == "S" else f"WI {year % 100:02d}.pdf", owner)
                )
    else:
        raise ValueError(f"kind must be 'at' or 'wi', got {kind!r}")
    return [
        {"index": i, "filename": name, "case_document_id": _doc_id(case_id, kind, name), "owner": owner}
        for i, (name, owner) in enumerate(names, 1)
    ]


def _pdf_text(case_id: str, kind: str, entry: dict[str, Any]) -> list[str]:
    name = entry["filename"]
    yy = int(re.search(r"(\d\d)\.pdf$", name).group(1))  # type: ignore[union-attr]
    year = 2000 + yy
    head = [
        f"Case {case_id}   Document {entry['case_document_id']}   File {name}",
        "SANDBOX - NOT AN IRS DOCUMENT",
        "",
    ]
    if kind == "at":
        rec = next(r for r in _at_records(case_id) if r["source_file"] == name)
        lines = [
            "Account Transcript",
            "FORM NUMBER: 1040",
            f"TAX PERIOD: Dec. 31, {year}",
            *head,
            f"ACCOUNT BALANCE: {rec['account_balance']:,.2f}",
            f"ACCRUED INTEREST: {rec['accrued_interest']:,.2f}",
            f"ACCRUED PENALTY: {rec['accrued_penalty']:,.2f}",
            f"FILING STATUS: {rec['filing_status']}",
            f"ADJUSTED GROSS INCOME: {rec['adjusted_gross_income']:,.2f}",
            f"TAXABLE INCOME: {rec['taxable_income']:,.2f}",
            f"TAX PER RETURN: {rec['tax_per_return']:,.2f}",
            "",
            "CODE  EXPLANATION OF TRANSACTION                          DATE          AMOUNT",
        ]
        for t in rec["transactions"]:
            lines.append(
                f"{t['code']:<5} {t['description'][:50]:<50} {_mdy(t['date']):<10} {t['amount']:>12,.2f}"
            )
        return lines
    owner = entry["owner"]
    lines = ["Wage and Income Transcript", f"TAX PERIOD REQUESTED: December, {year}", *head]
    for f in _wi_forms(case_id, year):
        if f["Owner"] != owner:
            continue
        lines += [
            "",
            f"Form {f['Form']} Wage and Income Statement",
            f"Payer: {f['Issuer']['Name']} {f['Issuer']['EIN']}",
        ]
        lines += [f"  {box}: {value}" for box, value in list(f["Fields"].items())[:4]]
    return lines[:58]


def build_pdf(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF 1.4 (Courier text) with a correct xref table."""

    def esc(s: str) -> str:
        s = s.encode("latin-1", "replace").decode("latin-1")
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 9 Tf", "12 TL", "40 760 Td"] + [f"({esc(line)}) Tj T*" for line in lines] + ["ET"]
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf_bytes(case_id: str, kind: str, case_document_id: str) -> bytes | None:
    """The transcript PDF for a listed document id, else None (=> 404 'PDF file not found or empty')."""
    entry = next(
        (f for f in transcript_files(case_id, kind) if f["case_document_id"] == str(case_document_id)), None
    )
    if entry is None:
        return None
    return build_pdf(_pdf_text(case_id, kind, entry))

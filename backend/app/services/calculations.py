"""Calculations the case worker reads: CSED summary, projections, ability to pay.

The CSED arithmetic itself lives in the SQL triggers (tax_years / csed_assessments /
csed_tolling_events); here it is summarised per tax year and per assessment. Ability to pay
follows ../shared/reference/irs-domain.md section 5 (IRS Collection Financial Standards). The
monthly disposable income - income per person and type, allowable expenses per category with
the standards of migration 008's tables - is the database's: `calculate_disposable_income` and
`disposable_income_lines` (migration 016), one place for that arithmetic. Here the installment
agreement, currently-not-collectible and reasonable-collection-potential decisions are built on
top of it (RCP's asset equity: Form 433-A (OIC) allowances below).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import psycopg

from backend.app.database import fetch_one
from backend.app.services.case_data import read_rows, tax_years_with_cseds, year_of

QUICK_SALE = 0.80
VEHICLE_ALLOWANCE = 3450.0  # per vehicle, up to 2 (Form 433-A (OIC))
BANK_ALLOWANCE = 1000.0
BALANCE_COLUMNS = ("total_balance", "current_balance", "balance_due", "account_balance", "calculated_account_balance",
                   "balance")
SIX_YEARS_MONTHS = 72


def _num(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (negative when end is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return months


def _balance(row: dict[str, Any]) -> float:
    for col in BALANCE_COLUMNS:
        if row.get(col) is not None:
            return _num(row[col])
    return 0.0


# ------------------------------------------------------------------------------ CSED
def csed_summary(conn: psycopg.Connection, case_id: str, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    data = tax_years_with_cseds(conn, case_id)
    years = []
    for row in data["items"]:
        assessments = []
        for a in row.get("assessments", []):
            csed = _date(a.get("csed_date"))
            assessments.append({
                "transaction_code": a.get("transaction_code"),
                "assessment_date": _date(a.get("assessment_date")),
                "amount": a.get("amount"),
                "base_csed_date": _date(a.get("base_csed_date")),
                "suspended_days": a.get("suspended_days"),
                "csed_date": csed,
                "days_until_csed": (csed - today).days if csed else None,
            })
        suspensions = [{
            "event_type": s.get("event_type") or s.get("tolling_type"),
            "start_date": _date(s.get("start_date")),
            "end_date": _date(s.get("end_date")),
            "days": s.get("days") if s.get("days") is not None else s.get("total_toll_days"),
            "rule": s.get("rule"),
            "citation": s.get("citation"),
            "open": s.get("end_date") is None,
        } for s in row.get("suspensions", [])]
        csed = _date(row.get("csed_date")) or max((a["csed_date"] for a in assessments if a["csed_date"]), default=None)
        status = row.get("csed_status") or ("no_assessment" if not assessments and not csed else
                                            "expired" if csed and csed < today else "running" if csed else None)
        years.append({
            "tax_year": year_of(row),
            "csed_status": status,
            "csed_date": csed,
            "minimum_csed_date": _date(row.get("minimum_csed_date")),
            "base_csed_date": _date(row.get("base_csed_date")),
            "return_filed_date": _date(row.get("return_filed_date")),
            "balance": _balance(row),
            "days_until_csed": (csed - today).days if csed else None,
            "months_until_csed": months_between(today, csed) if csed else None,
            "expiring_within_year": bool(csed and today <= csed < today + dt.timedelta(days=365)),
            "assessments": assessments,
            "suspensions": suspensions,
            "total_suspended_days": sum(int(s["days"] or 0) for s in suspensions),
        })
    running = [y for y in years if y["csed_status"] == "running" and y["csed_date"]]
    return {
        "case_id": case_id,
        "as_of": today,
        "available": data["available"],
        "summary": {
            "tax_years": len(years),
            "running": len(running),
            "expired": sum(1 for y in years if y["csed_status"] == "expired"),
            "suspended_open": sum(1 for y in years if y["csed_status"] == "suspended_open"),
            "no_assessment": sum(1 for y in years if y["csed_status"] == "no_assessment"),
            "earliest_csed": min((y["csed_date"] for y in running), default=None),
            "latest_csed": max((y["csed_date"] for y in running), default=None),
            "expiring_within_year": sum(1 for y in years if y["expiring_within_year"]),
            "total_balance": round(sum(y["balance"] for y in years), 2),
        },
        "tax_years": years,
    }


# ------------------------------------------------------------------------------ projections
def projections(conn: psycopg.Connection, case_id: str) -> dict[str, Any]:
    rows = read_rows(conn, "tax_projections", case_id, order=("tax_year",))
    items = rows["items"]
    owed_key = next((k for k in ("projected_balance", "projected_refund_or_owed", "balance_due")
                     if any(k in r for r in items)), None)
    total = round(sum(_num(r.get(owed_key)) for r in items), 2) if owed_key else None
    return {"case_id": case_id, "available": rows["available"], "count": len(items),
            "total_projected_balance": total, "balance_column": owed_key, "items": items}


# ------------------------------------------------------------------------------ ability to pay
# One statement, one snapshot: the totals, the lines they are summed from, and the RCP months.
DISPOSABLE_INCOME_SQL = """
SELECT to_jsonb(d) AS totals,
       (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.sort_order, x.category), '[]'::jsonb)
        FROM public.disposable_income_lines(%(case_id)s) x) AS lines,
       (SELECT jsonb_object_agg(name, value) FROM public.tax_constants
        WHERE name IN ('rcp_lump_sum_months', 'rcp_periodic_months')) AS rcp_months
FROM public.calculate_disposable_income(%(case_id)s) d
"""

NOTE_TEXT = {
    "housing_standard_unknown_actual_used": "Housing and utilities: no local standard for this county on file; "
                                            "the actual is allowed (review against the IRS table).",
    "operating_standard_unknown_actual_used": "Vehicle operating: no local standard for this region on file; "
                                              "the actual is allowed (review against the IRS table).",
    "other_expenses_not_allowed_review": "Expenses in the 'other' category are not allowed unless shown to be "
                                         "necessary (review).",
}


def disposable_income(conn: psycopg.Connection, case_id: str) -> dict[str, Any]:
    """The database's MDI for the case: totals per group, the lines, notes (migration 016)."""
    row = fetch_one(conn, DISPOSABLE_INCOME_SQL, {"case_id": case_id})
    if row is None:  # the function always returns one row; defensive
        raise RuntimeError("calculate_disposable_income returned no row")
    return row


def ability_to_pay(conn: psycopg.Connection, case_id: str, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    notes: list[str] = []

    def rows(table: str) -> list[dict[str, Any]]:
        return read_rows(conn, table, case_id)["items"]

    accounts = rows("financial_accounts")
    vehicles = rows("vehicles")
    properties = rows("real_property")

    # --- MDI (irs-domain 5.1-5.3): the database's arithmetic, read as is
    db = disposable_income(conn, case_id)
    totals, lines = db["totals"], db["lines"]
    income_lines = [{"person": line["person_type"], "type": line["category"], "monthly": line["allowed"]}
                    for line in lines if line["section"] == "income"]
    expense_lines = [{"category": line["category"], "group": line["grp"], "actual": line["actual"],
                      "standard": line["standard"], "allowed": line["allowed"], "rule": line["rule"],
                      "standard_source": line["standard_source"]}
                     for line in lines if line["section"] == "expense"]
    total_income = _num(totals["total_monthly_income"])
    total_allowable = _num(totals["total_allowable_expenses"])
    mdi = _num(totals["disposable_income"])
    size = int(totals["household_size"])

    # --- debt and time left (CSED)
    cseds = csed_summary(conn, case_id, today)
    total_debt = cseds["summary"]["total_balance"]
    open_years = [y for y in cseds["tax_years"] if y["balance"] > 0 and y["csed_date"] and y["csed_date"] >= today]
    months_left = min((y["months_until_csed"] for y in open_years), default=None)
    if months_left is None and total_debt > 0:
        notes.append("No running CSED on a year with a balance: time left to collect is unknown.")

    # --- installment agreement
    payment = max(0.0, mdi)
    if total_debt <= 0:
        payoff_months: int | None = 0
    else:
        payoff_months = math.ceil(total_debt / payment) if payment > 0 else None
    ia_eligible = bool(payment > 0 and payoff_months is not None and
                       (months_left is None or payoff_months <= months_left))
    # --- CNC
    cnc_eligible = mdi <= 0

    # --- RCP (irs-domain 5.4)
    asset_lines: list[dict[str, Any]] = []
    bank_total = sum(_num(a.get("current_balance")) for a in accounts
                     if a.get("account_type") in ("checking", "savings"))
    if bank_total:
        asset_lines.append({"asset": "bank accounts", "value": bank_total,
                            "equity": max(0.0, bank_total - BANK_ALLOWANCE), "rule": "balance - $1,000 allowance"})
    for acct in accounts:
        kind = acct.get("account_type")
        if kind in ("checking", "savings"):
            continue
        value, loan = _num(acct.get("current_balance")), _num(acct.get("loan_balance"))
        if kind == "retirement":
            factor, rule = QUICK_SALE, "80% of value (stand-in for tax and early-withdrawal penalty; review) - loan"
        elif kind in ("investment", "crypto"):
            factor, rule = QUICK_SALE, "quick-sale value (80%) - loan"
        else:
            factor, rule = 1.0, "value - loan (cash, cash-value life insurance, other)"
        if value:
            label = acct.get("description") or f"{kind} account"
            asset_lines.append({"asset": label, "value": value, "equity": max(0.0, value * factor - loan),
                                "rule": rule})
    for i, car in enumerate(vehicles):
        value, loan = _num(car.get("current_value")), _num(car.get("loan_balance"))
        allowance = VEHICLE_ALLOWANCE if i < 2 else 0.0
        asset_lines.append({"asset": f"vehicle {i + 1}", "value": value,
                            "equity": max(0.0, value * QUICK_SALE - loan - allowance),
                            "rule": "80% quick sale - loan - $3,450 allowance (first two vehicles)"})
    for prop in properties:
        value, loan = _num(prop.get("current_market_value")), _num(prop.get("mortgage_balance"))
        asset_lines.append({"asset": prop.get("property_type") or "real property", "value": value,
                            "equity": max(0.0, value * QUICK_SALE - loan), "rule": "80% quick sale - mortgage"})
    equity = round(sum(line["equity"] for line in asset_lines), 2)
    rcp_months = db["rcp_months"] or {}
    lump_cap = int(rcp_months.get("rcp_lump_sum_months", 12))
    periodic_cap = int(rcp_months.get("rcp_periodic_months", 24))
    lump_months = lump_cap if months_left is None else max(0, min(lump_cap, months_left))
    periodic_months = periodic_cap if months_left is None else max(0, min(periodic_cap, months_left))
    future_lump = round(max(mdi, 0) * lump_months, 2)
    future_periodic = round(max(mdi, 0) * periodic_months, 2)
    rcp_lump = round(equity + future_lump, 2)
    rcp_periodic = round(equity + future_periodic, 2)

    codes = totals.get("notes") or []
    if "no_interview" in codes:
        notes.append("No interview data (income, expenses) for this case yet: the figures use standards only."
                     if not income_lines and not any(line["actual"] for line in expense_lines) else
                     "No interview on file: the figures use the case's gold rows as entered.")
    notes.extend(NOTE_TEXT.get(code, code) for code in codes if code != "no_interview")
    sources = sorted({line["standard_source"] for line in expense_lines if line["standard_source"]})
    if sources:
        notes.append("Standards from: " + "; ".join(sources) + ".")
    return {
        "case_id": case_id,
        "as_of": today,
        "household_size": size,
        "monthly_income": {"total": total_income, "lines": income_lines},
        "allowable_expenses": {"total": total_allowable, "lines": expense_lines},
        "monthly_disposable_income": mdi,
        "total_debt": total_debt,
        "months_until_earliest_csed": months_left,
        "installment_agreement": {
            "eligible": ia_eligible,
            "monthly_payment": round(payment, 2),
            "payoff_months": payoff_months,
            "within_six_years": bool(payoff_months is not None and payoff_months <= SIX_YEARS_MONTHS),
            "reason": ("Balance paid before the CSED at the disposable income." if ia_eligible else
                       "No disposable income to pay with." if payment <= 0 else
                       "The balance cannot be paid before the CSED at this payment."),
        },
        "currently_not_collectible": {
            "eligible": cnc_eligible,
            "reason": "Allowable expenses meet or exceed income (MDI <= 0)." if cnc_eligible
            else "There is disposable income each month.",
        },
        "reasonable_collection_potential": {
            "asset_equity": equity,
            "assets": asset_lines,
            "future_income_lump_sum": future_lump,
            "future_income_periodic": future_periodic,
            "future_months_lump_sum": lump_months,
            "future_months_periodic": periodic_months,
            "rcp_lump_sum": rcp_lump,
            "rcp_periodic": rcp_periodic,
            "offer_may_be_considered": bool(total_debt > 0 and rcp_lump < total_debt),
            "reason": ("RCP is below the balance owed: an offer in compromise (doubt as to collectibility) "
                       "is worth considering at or above the RCP." if total_debt > 0 and rcp_lump < total_debt
                       else "RCP covers the balance owed: the IRS would expect full payment."),
        },
        "notes": notes,
    }


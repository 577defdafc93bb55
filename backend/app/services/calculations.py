"""Calculations the case worker reads: CSED summary, projections, ability to pay.

The CSED arithmetic itself lives in the SQL triggers (tax_years / csed_assessments /
csed_tolling_events); here it is summarised per tax year and per assessment. Ability to pay
follows ../shared/reference/irs-domain.md section 5 (IRS Collection Financial Standards):
national standards allowed in full, local standards the lesser of actual and standard, other
necessary expenses as actual; MDI = income - allowable; RCP = equity + future income.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import psycopg

from backend.app.database import fetch_one
from backend.app.services.case_data import read_rows, tax_years_with_cseds, year_of

# National Standards effective 2025-04-21 (irs-domain.md 5.2), monthly, by household size 1..4.
NATIONAL_STANDARDS_2025: dict[str, tuple[float, float, float, float]] = {
    "food": (497, 863, 1068, 1255),
    "housekeeping": (44, 75, 82, 91),
    "apparel": (93, 181, 188, 276),
    "personal_care": (50, 91, 94, 117),
    "misc": (154, 271, 321, 390),
}
NATIONAL_TOTAL_EXTRA_PERSON_2025 = 394.0
HEALTH_OUT_OF_POCKET_2024 = {"under_65": 83.0, "over_65": 158.0}  # 2025 amounts not loaded (irs-domain 5.2)
NATIONAL = tuple(NATIONAL_STANDARDS_2025)
LOCAL_LESSER_OF = ("housing", "utilities", "transportation")
FREQUENCY_FACTORS = {"weekly": 4.33, "biweekly": 2.17, "semimonthly": 2.0, "monthly": 1.0,
                     "quarterly": 1 / 3, "annual": 1 / 12}
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
def _monthly(row: dict[str, Any]) -> float:
    if row.get("normalized_monthly_amount") is not None:
        return _num(row["normalized_monthly_amount"])
    factor = FREQUENCY_FACTORS.get(str(row.get("frequency") or "monthly").strip().lower(), 1.0)
    return _num(row.get("amount")) * factor


def national_standard(category: str, household_size: int) -> float:
    amounts = NATIONAL_STANDARDS_2025[category]
    if household_size <= 4:
        return float(amounts[max(household_size, 1) - 1])
    # Beyond four persons the IRS publishes one total per extra person; spread it pro rata.
    share = amounts[3] / sum(a[3] for a in NATIONAL_STANDARDS_2025.values())
    return round(amounts[3] + share * NATIONAL_TOTAL_EXTRA_PERSON_2025 * (household_size - 4), 2)


def ability_to_pay(conn: psycopg.Connection, case_id: str, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    notes: list[str] = []

    def rows(table: str) -> list[dict[str, Any]]:
        return read_rows(conn, table, case_id)["items"]

    employment = rows("employment_information")
    sources = rows("income_sources")
    expenses = rows("monthly_expenses")
    household = (rows("household_information") or [{}])[0]
    accounts = rows("financial_accounts")
    vehicles = rows("vehicles")
    properties = rows("real_property")

    # --- income (irs-domain 5.3): wages per person from the interview's income, else employment
    income_lines: list[dict[str, Any]] = []
    wage_people = set()
    for src in sources:
        amount = _monthly(src)
        kind = src.get("income_type") or src.get("source_type") or "other"
        if kind == "rental_expenses":
            amount = -abs(amount)
        if kind == "wages":
            wage_people.add(src.get("person_type"))
        if amount:
            income_lines.append({"person": src.get("person_type"), "type": kind, "monthly": round(amount, 2)})
    for job in employment:
        if job.get("person_type") in wage_people:
            continue
        gross = _num(job.get("gross_monthly_income")) or _num(job.get("gross_annual_income")) / 12
        if gross:
            income_lines.append({"person": job.get("person_type"), "type": "wages (employment)",
                                 "monthly": round(gross, 2)})
    total_income = round(sum(line["monthly"] for line in income_lines), 2)

    # --- allowable expenses (irs-domain 5.1)
    size = int(_num(household.get("total_household_members")) or 0) or max(
        1, int(_num(household.get("members_under_65")) + _num(household.get("members_over_65"))))
    over_65 = int(_num(household.get("members_over_65")))
    under_65 = max(size - over_65, 0)
    by_category: dict[str, list[dict[str, Any]]] = {}
    for exp in expenses:
        by_category.setdefault(str(exp.get("expense_category") or "other"), []).append(exp)
    expense_lines: list[dict[str, Any]] = []
    for category in NATIONAL:
        items = by_category.pop(category, [])
        actual = round(sum(_monthly(e) for e in items), 2)
        stated = next((_num(e["irs_standard_amount"]) for e in items if e.get("irs_standard_amount")), None)
        standard = stated if stated else national_standard(category, size)
        line = {"category": category, "actual": actual, "standard": standard, "allowed": standard,
                "rule": "national standard, allowed in full"}
        if actual > standard:
            line["rule"] += "; the actual above it needs substantiation"
        expense_lines.append(line)
    health_items = by_category.pop("healthcare", [])
    health_actual = round(sum(_monthly(e) for e in health_items), 2)
    health_standard = (under_65 * HEALTH_OUT_OF_POCKET_2024["under_65"]
                       + over_65 * HEALTH_OUT_OF_POCKET_2024["over_65"])
    expense_lines.append({"category": "healthcare", "actual": health_actual, "standard": health_standard,
                          "allowed": max(health_actual, health_standard),
                          "rule": "out-of-pocket standard per person (2024 amounts) or actual premiums and costs, "
                                  "whichever is larger"})
    for category, items in sorted(by_category.items()):
        actual = round(sum(_monthly(e) for e in items), 2)
        standards = [_num(e["irs_standard_amount"]) for e in items if e.get("irs_standard_amount")]
        if category in LOCAL_LESSER_OF and standards:
            standard = sum(standards)
            allowed, rule = min(actual, standard), "local standard: lesser of actual and standard"
        elif category in LOCAL_LESSER_OF:
            standard, allowed = None, actual
            rule = "local standard not loaded for this county; actual used (review against the IRS table)"
        else:
            standard, allowed, rule = None, actual, "other necessary expense, actual"
        expense_lines.append({"category": category, "actual": actual, "standard": standard,
                              "allowed": round(allowed, 2), "rule": rule})
    total_allowable = round(sum(line["allowed"] for line in expense_lines), 2)
    mdi = round(total_income - total_allowable, 2)

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
    lump_months = 12 if months_left is None else max(0, min(12, months_left))
    periodic_months = 24 if months_left is None else max(0, min(24, months_left))
    future_lump = round(max(mdi, 0) * lump_months, 2)
    future_periodic = round(max(mdi, 0) * periodic_months, 2)
    rcp_lump = round(equity + future_lump, 2)
    rcp_periodic = round(equity + future_periodic, 2)

    if not expenses and not sources and not employment:
        notes.append("No interview data (income, expenses) for this case yet: the figures use standards only.")
    notes.append("National Standards effective 2025-04-21; health out-of-pocket uses the 2024 amounts.")

    database_check = _database_disposable_income(conn, case_id)
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
        "database_check": database_check,
        "notes": notes,
    }


def _database_disposable_income(conn: psycopg.Connection, case_id: str) -> dict[str, Any] | None:
    """The SQL function's own answer (migration 009), shown beside ours. A failure inside the
    function is reported in the answer; a missing function is an error like a missing table."""
    try:
        with conn.transaction():
            row = fetch_one(conn, "SELECT to_jsonb(t) AS result FROM public.calculate_disposable_income(%s) t",
                            (case_id,))
    except (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable):
        raise
    except psycopg.Error as exc:
        return {"error": f"calculate_disposable_income failed: {type(exc).__name__}"}
    return row["result"] if row else None

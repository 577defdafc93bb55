"""Calculation responses: CSED summary, projections, ability to pay."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class CsedAssessment(BaseModel):
    transaction_code: str | None = None
    assessment_date: dt.date | None = None
    amount: float | None = None
    base_csed_date: dt.date | None = None
    suspended_days: int | None = None
    csed_date: dt.date | None = None
    days_until_csed: int | None = None


class CsedSuspension(BaseModel):
    event_type: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    days: int | None = None
    rule: str | None = None
    citation: str | None = None
    open: bool = False


class CsedTaxYear(BaseModel):
    tax_year: str | None
    csed_status: str | None = Field(None, description="running, expired, suspended_open, no_assessment")
    csed_date: dt.date | None = Field(None, description="Latest CSED of the year's assessments; null while a "
                                                        "suspension is open.")
    minimum_csed_date: dt.date | None = Field(None, description="The CSED if the open suspension closed today.")
    base_csed_date: dt.date | None = None
    return_filed_date: dt.date | None = None
    balance: float = 0
    days_until_csed: int | None = None
    months_until_csed: int | None = None
    expiring_within_year: bool = False
    assessments: list[CsedAssessment]
    suspensions: list[CsedSuspension] = Field(description="The suspension ledger: merged intervals.")
    total_suspended_days: int = 0


class CsedTotals(BaseModel):
    tax_years: int
    running: int
    expired: int
    suspended_open: int
    no_assessment: int
    earliest_csed: dt.date | None
    latest_csed: dt.date | None
    expiring_within_year: int
    total_balance: float


class CsedSummary(BaseModel):
    case_id: str
    as_of: dt.date
    available: bool
    summary: CsedTotals
    tax_years: list[CsedTaxYear]


class ProjectionList(BaseModel):
    case_id: str
    available: bool
    count: int
    total_projected_balance: float | None
    balance_column: str | None
    items: list[dict[str, Any]]


class MoneyLines(BaseModel):
    total: float
    lines: list[dict[str, Any]]


class InstallmentAgreement(BaseModel):
    eligible: bool
    monthly_payment: float
    payoff_months: int | None
    within_six_years: bool
    reason: str


class Cnc(BaseModel):
    eligible: bool
    reason: str


class Rcp(BaseModel):
    asset_equity: float
    assets: list[dict[str, Any]]
    future_income_lump_sum: float
    future_income_periodic: float
    future_months_lump_sum: int
    future_months_periodic: int
    rcp_lump_sum: float
    rcp_periodic: float
    offer_may_be_considered: bool
    reason: str


class AbilityToPay(BaseModel):
    case_id: str
    as_of: dt.date
    household_size: int
    monthly_income: MoneyLines = Field(description="Lines {person, type, monthly} from the database's "
                                                   "disposable_income_lines(case_id).")
    allowable_expenses: MoneyLines = Field(description="Lines {category, group, actual, standard, allowed, rule, "
                                                       "standard_source} from disposable_income_lines(case_id); "
                                                       "group is the calculate_disposable_income column summed.")
    monthly_disposable_income: float = Field(description="MDI = monthly income - allowable expenses: "
                                                         "calculate_disposable_income(case_id).disposable_income")
    total_debt: float
    months_until_earliest_csed: int | None
    installment_agreement: InstallmentAgreement
    currently_not_collectible: Cnc
    reasonable_collection_potential: Rcp
    notes: list[str]

"""/api/calculations/{case_id}/...: CSED summary, projections, ability to pay."""

from __future__ import annotations

from fastapi import APIRouter

from backend.app.deps import DbDep, ExistingCaseId
from backend.app.schemas.calculations import AbilityToPay, CsedSummary, ProjectionList
from backend.app.schemas.common import CASE_ERRORS
from backend.app.services import calculations

router = APIRouter(prefix="/api/calculations", tags=["calculations"])


@router.get("/{case_id}/csed", response_model=CsedSummary, summary="CSED per tax year and assessment",
            responses=CASE_ERRORS)
def csed(case_id: ExistingCaseId, conn: DbDep) -> CsedSummary:
    """Each tax year's CSED status and date, the minimum CSED while a suspension is open, one
    CSED per assessment, and the suspension ledger (merged intervals with rule and citation)."""
    return CsedSummary.model_validate(calculations.csed_summary(conn, case_id))


@router.get("/{case_id}/projections", response_model=ProjectionList, summary="Tax projections",
            responses=CASE_ERRORS)
def projections(case_id: ExistingCaseId, conn: DbDep) -> ProjectionList:
    return ProjectionList.model_validate(calculations.projections(conn, case_id))


@router.get("/{case_id}/ability-to-pay", response_model=AbilityToPay, summary="MDI, RCP, IA and CNC",
            responses=CASE_ERRORS)
def ability_to_pay(case_id: ExistingCaseId, conn: DbDep) -> AbilityToPay:
    """Monthly disposable income (income - allowable expenses per the IRS Collection Financial
    Standards), installment-agreement and currently-not-collectible eligibility, and reasonable
    collection potential (asset equity + future income) for an offer in compromise."""
    return AbilityToPay.model_validate(calculations.ability_to_pay(conn, case_id))

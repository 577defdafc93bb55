"""Cases: create, list (paging, search), get, update, delete; and the per-case grid reads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from backend.app.deps import DbDep, ExistingCaseId, ValidCaseId
from backend.app.schemas.cases import CaseCreate, CaseList, CaseOut, CaseRows, CaseUpdate, TaxYearRows
from backend.app.schemas.common import AUTH_ERRORS, CASE_ERRORS, error_responses
from backend.app.services import case_data

router = APIRouter(prefix="/api/cases", tags=["cases"])

TaxYearQ = Annotated[int | None, Query(ge=1950, le=2100, description="Only rows of this tax year.")]
LimitQ = Annotated[int, Query(ge=1, le=5000)]
OffsetQ = Annotated[int, Query(ge=0)]


@router.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED, summary="Create a case",
             responses=error_responses(401, 409, 422, 503))
def create_case(body: CaseCreate, conn: DbDep) -> CaseOut:
    """Register a case by its upstream (Logiqs) case id. `409` if it exists. Triggering an
    extraction also creates the case, so this is optional."""
    return CaseOut.model_validate(case_data.create_case(conn, body.case_id, body.case_number, body.client_name,
                                                        body.status_code))


@router.get("", response_model=CaseList, summary="List and search cases", responses=AUTH_ERRORS)
def list_cases(
    conn: DbDep,
    q: Annotated[str | None, Query(max_length=100, description="Case id prefix, or text in the case number "
                                                               "or client name.")] = None,
    status_code: Annotated[str | None, Query(max_length=40)] = None,
    sort: Literal["updated_desc", "created_desc", "case_id", "client_name"] = "updated_desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQ = 0,
) -> CaseList:
    rows, total = case_data.list_cases(conn, q, limit, offset, sort, status_code)
    return CaseList(items=[CaseOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset, q=q)


@router.get("/{case_id}", response_model=CaseOut, summary="Get a case", responses=CASE_ERRORS)
def get_case(case_id: ValidCaseId, conn: DbDep) -> CaseOut:
    return CaseOut.model_validate(case_data.get_case(conn, case_id))


@router.patch("/{case_id}", response_model=CaseOut, summary="Update a case", responses=CASE_ERRORS)
def update_case(case_id: ValidCaseId, body: CaseUpdate, conn: DbDep) -> CaseOut:
    """Change the case number, client name or status code (only the fields sent)."""
    return CaseOut.model_validate(case_data.update_case(conn, case_id, body.model_dump(exclude_unset=True)))


@router.delete("/{case_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a case and all its data", responses=CASE_ERRORS)
def delete_case(case_id: ValidCaseId, conn: DbDep, request: Request) -> Response:
    """Deletes the case with its bronze, silver and gold rows and its extraction history."""
    case_data.delete_case(conn, case_id)
    conn.commit()  # before the status cache forgets the case, so no poll can re-cache the old state
    request.app.state.status_cache.invalidate(case_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _rows(conn: DbDep, case_id: str, table: str, order: tuple[str, ...], **kwargs: object) -> CaseRows:
    return CaseRows.model_validate(case_data.read_rows(conn, table, case_id, order=order, **kwargs))


@router.get("/{case_id}/tax-years", response_model=TaxYearRows, summary="Tax years with CSEDs",
            responses=CASE_ERRORS)
def tax_years(case_id: ExistingCaseId, conn: DbDep) -> TaxYearRows:
    """One item per tax year (filing, balances, `csed_date`, `csed_status`, `minimum_csed_date`)
    with its `assessments` (one CSED each) and `suspensions` (merged tolling intervals)."""
    return TaxYearRows.model_validate(case_data.tax_years_with_cseds(conn, case_id))


@router.get("/{case_id}/account-activity", response_model=CaseRows, summary="Account transcript activity",
            responses=CASE_ERRORS)
def account_activity(case_id: ExistingCaseId, conn: DbDep, tax_year: TaxYearQ = None,
                     limit: LimitQ = 1000, offset: OffsetQ = 0) -> CaseRows:
    return _rows(conn, case_id, "account_activity", ("tax_year", "activity_date", "line_number", "id"),
                 tax_year=tax_year, limit=limit, offset=offset)


@router.get("/{case_id}/income-documents", response_model=CaseRows, summary="Wage & income documents",
            responses=CASE_ERRORS)
def income_documents(case_id: ExistingCaseId, conn: DbDep, tax_year: TaxYearQ = None,
                     limit: LimitQ = 1000, offset: OffsetQ = 0) -> CaseRows:
    return _rows(conn, case_id, "income_documents", ("tax_year", "issuer_name", "id"),
                 tax_year=tax_year, limit=limit, offset=offset)


@router.get("/{case_id}/trt", response_model=CaseRows, summary="Tax return transcript lines", responses=CASE_ERRORS)
def trt_records(case_id: ExistingCaseId, conn: DbDep, tax_year: TaxYearQ = None,
                limit: LimitQ = 1000, offset: OffsetQ = 0) -> CaseRows:
    return _rows(conn, case_id, "trt_records", ("tax_year", "form_number", "category", "id"),
                 tax_year=tax_year, limit=limit, offset=offset)


@router.get("/{case_id}/employment", response_model=CaseRows, summary="Employment (taxpayer, spouse)",
            responses=CASE_ERRORS)
def employment(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "employment_information", ("person_type",))


@router.get("/{case_id}/household", response_model=CaseRows, summary="Household", responses=CASE_ERRORS)
def household(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "household_information", ())


@router.get("/{case_id}/financial-accounts", response_model=CaseRows, summary="Bank and other accounts",
            responses=CASE_ERRORS)
def financial_accounts(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "financial_accounts", ("account_type", "institution_name"))


@router.get("/{case_id}/income-sources", response_model=CaseRows, summary="Income sources (interview)",
            responses=CASE_ERRORS)
def income_sources(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "income_sources", ("person_type", "income_type"))


@router.get("/{case_id}/expenses", response_model=CaseRows, summary="Monthly expenses (interview)",
            responses=CASE_ERRORS)
def monthly_expenses(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "monthly_expenses", ("expense_category",))


@router.get("/{case_id}/vehicles", response_model=CaseRows, summary="Vehicles", responses=CASE_ERRORS)
def vehicles(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "vehicles", ("year", "make"))


@router.get("/{case_id}/real-property", response_model=CaseRows, summary="Real property", responses=CASE_ERRORS)
def real_property(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "real_property", ("property_type",))


@router.get("/{case_id}/projections", response_model=CaseRows, summary="Tax projections per year",
            responses=CASE_ERRORS)
def projections(case_id: ExistingCaseId, conn: DbDep) -> CaseRows:
    return _rows(conn, case_id, "tax_projections", ("tax_year",))

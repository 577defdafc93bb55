"""Silver and gold tables as AssetSpecs: built by the SQL promotion triggers on every bronze
INSERT, declared here only so the UI shows the lineage from the APIs to gold."""

from __future__ import annotations

import dagster as dg

_TRIGGER_NOTE = "Built by SQL triggers on INSERT into bronze (supabase/migrations); not computed by Dagster."

SILVER: dict[str, tuple[list[str], str]] = {
    "tax_years": (["bronze_at_data", "bronze_wi_data"], "One row per case, tax year and owner (AT + WI)."),
    "account_activity": (["bronze_at_data"], "AT transactions with transaction-code meaning."),
    "csed_assessments": (["bronze_at_data", "account_activity"], "CSED per assessment (TC150/290/300 ...)."),
    "csed_tolling_events": (
        ["bronze_at_data", "account_activity"],
        "Events that toll the CSED (IA, OIC, bankruptcy, CDP).",
    ),
    "trt_records": (["bronze_trt_data"], "Tax Return Transcript lines."),
    "income_documents": (["bronze_wi_data"], "W&I forms (W-2, 1099-*) per year."),
    "logiqs_raw_data": (["bronze_interview_data"], "The CaseHelper interview, flattened."),
}
GOLD: dict[str, tuple[list[str], str]] = {
    "employment_information": (["logiqs_raw_data"], "Employer, pay, frequency per taxpayer/spouse."),
    "household_information": (["logiqs_raw_data"], "Household size, residency, filing intent."),
    "financial_accounts": (["logiqs_raw_data"], "Bank, investment, retirement accounts."),
    "income_sources": (["logiqs_raw_data", "income_documents"], "Monthly income by source."),
    "monthly_expenses": (["logiqs_raw_data"], "Monthly expenses vs IRS collection standards."),
    "vehicles": (["logiqs_raw_data"], "Vehicles, value and loans."),
    "real_property": (["logiqs_raw_data"], "Real estate, value and mortgages."),
    "tax_projections": (["tax_years", "income_documents"], "Projected tax per year and owner."),
}


def _spec(name: str, deps: list[str], description: str, layer: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        name,
        deps=deps,
        group_name=layer,
        kinds={"postgres", "sql"},
        description=f"{description} {_TRIGGER_NOTE}",
        metadata={"table": f"public.{name}", "layer": layer, "built_by": "SQL trigger"},
    )


silver_specs = [_spec(n, d, desc, "silver") for n, (d, desc) in SILVER.items()]
gold_specs = [_spec(n, d, desc, "gold") for n, (d, desc) in GOLD.items()]
layer_specs = silver_specs + gold_specs

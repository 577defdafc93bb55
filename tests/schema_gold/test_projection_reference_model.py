"""Tax projections of random W&I years against an independent model of irs-domain.md section 4.

test_projections.py checks one hand-derived example per rule. This test draws random mixes of
W-2s, 1099-NECs, 1099-INTs, 1099-DIVs and SSA-1099s for a taxpayer and a spouse, in every year of
the tables (2019-2025) and every filing status, half of them with an account transcript (its filing
status, estimated payments and a dishonored one), and compares the stored projection with
`reference_projection` below: a plain-Python reading of irs-domain 4.1-4.5 (the tables are copied
from the document, not read from the database) and of Pub. 915's taxable-benefits worksheet.
Amounts must agree within 5 cents: the model rounds each form line to the cent, the SQL rounds some
sums once (the SE tax's two parts, total income with the unrounded taxable benefits), which moves a
figure by a cent or two; a rule that is wrong moves it by dollars. A second test compares the
document's tables with the rows the migrations loaded, edge by edge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from tests.schema_gold import D, form, ingest, projection, wi

CASES = 200
SEED = 20261127
CENT = D("0.01")
TOLERANCE = D("0.05")

# irs-domain 4.1: standard deduction (single/MFS, MFJ/QSS, HoH)
STANDARD = {
    2019: (12200, 24400, 18350), 2020: (12400, 24800, 18650), 2021: (12550, 25100, 18800),
    2022: (12950, 25900, 19400), 2023: (13850, 27700, 20800), 2024: (14600, 29200, 21900),
    2025: (15750, 31500, 23625),
}
# irs-domain 4.2: where 12, 22, 24, 32, 35 and 37 % start
BRACKETS = {
    (2019, "single"): (9700, 39475, 84200, 160725, 204100, 510300),
    (2019, "mfj"): (19400, 78950, 168400, 321450, 408200, 612350),
    (2019, "mfs"): (9700, 39475, 84200, 160725, 204100, 306175),
    (2019, "hoh"): (13850, 52850, 84200, 160700, 204100, 510300),
    (2020, "single"): (9875, 40125, 85525, 163300, 207350, 518400),
    (2020, "mfj"): (19750, 80250, 171050, 326600, 414700, 622050),
    (2020, "mfs"): (9875, 40125, 85525, 163300, 207350, 311025),
    (2020, "hoh"): (14100, 53700, 85500, 163300, 207350, 518400),
    (2021, "single"): (9950, 40525, 86375, 164925, 209425, 523600),
    (2021, "mfj"): (19900, 81050, 172750, 329850, 418850, 628300),
    (2021, "mfs"): (9950, 40525, 86375, 164925, 209425, 314150),
    (2021, "hoh"): (14200, 54200, 86350, 164900, 209400, 523600),
    (2022, "single"): (10275, 41775, 89075, 170050, 215950, 539900),
    (2022, "mfj"): (20550, 83550, 178150, 340100, 431900, 647850),
    (2022, "mfs"): (10275, 41775, 89075, 170050, 215950, 323925),
    (2022, "hoh"): (14650, 55900, 89050, 170050, 215950, 539900),
    (2023, "single"): (11000, 44725, 95375, 182100, 231250, 578125),
    (2023, "mfj"): (22000, 89450, 190750, 364200, 462500, 693750),
    (2023, "mfs"): (11000, 44725, 95375, 182100, 231250, 346875),
    (2023, "hoh"): (15700, 59850, 95350, 182100, 231250, 578100),
    (2024, "single"): (11600, 47150, 100525, 191950, 243725, 609350),
    (2024, "mfj"): (23200, 94300, 201050, 383900, 487450, 731200),
    (2024, "mfs"): (11600, 47150, 100525, 191950, 243725, 365600),
    (2024, "hoh"): (16550, 63100, 100500, 191950, 243700, 609350),
    (2025, "single"): (11925, 48475, 103350, 197300, 250525, 626350),
    (2025, "mfj"): (23850, 96950, 206700, 394600, 501050, 751600),
    (2025, "mfs"): (11925, 48475, 103350, 197300, 250525, 375800),
    (2025, "hoh"): (17000, 64850, 103350, 197300, 250500, 626350),
}
RATES = (D("0.10"), D("0.12"), D("0.22"), D("0.24"), D("0.32"), D("0.35"), D("0.37"))
# irs-domain 4.3: the 0 % and 15 % ceilings of qualified dividends / long-term gains
PREFERENTIAL = {
    2019: {"single": (39375, 434550), "mfj": (78750, 488850), "mfs": (39375, 244425), "hoh": (52750, 461700)},
    2020: {"single": (40000, 441450), "mfj": (80000, 496600), "mfs": (40000, 248300), "hoh": (53600, 469050)},
    2021: {"single": (40400, 445850), "mfj": (80800, 501600), "mfs": (40400, 250800), "hoh": (54100, 473750)},
    2022: {"single": (41675, 459750), "mfj": (83350, 517200), "mfs": (41675, 258600), "hoh": (55800, 488500)},
    2023: {"single": (44625, 492300), "mfj": (89250, 553850), "mfs": (44625, 276900), "hoh": (59750, 523050)},
    2024: {"single": (47025, 518900), "mfj": (94050, 583750), "mfs": (47025, 291850), "hoh": (63000, 551350)},
    2025: {"single": (48350, 533400), "mfj": (96700, 600050), "mfs": (48350, 300000), "hoh": (64750, 566700)},
}
WAGE_BASE = {2019: 132900, 2020: 137700, 2021: 142800, 2022: 147000, 2023: 160200, 2024: 168600, 2025: 176100}
# irs-domain 4.4: additional Medicare (IRC 1401(b)(2): a surviving spouse files no joint return, so
# $200,000) and NIIT thresholds (IRC 1411(b): a surviving spouse has the joint $250,000); not indexed
THRESHOLD = {"single": 200000, "hoh": 200000, "qss": 200000, "mfj": 250000, "mfs": 125000}
NIIT_THRESHOLD = {"single": 200000, "hoh": 200000, "qss": 250000, "mfj": 250000, "mfs": 125000}
# Pub. 915: base and adjusted base amounts of the taxable-benefits worksheet
SS_BASE = {"single": (25000, 34000), "hoh": (25000, 34000), "qss": (25000, 34000), "mfj": (32000, 44000),
           "mfs": (0, 0)}

INTERVIEW_STATUS = {"single": "Single", "mfj": "Married Filing Jointly", "mfs": "Married Filing Separately",
                    "hoh": "Head of Household", "qss": "Qualifying Surviving Spouse"}
AT_STATUS = {"single": "Single", "mfj": "Married Filing Joint", "mfs": "Married Filing Separate",
             "hoh": "Head of Household", "qss": "Qualifying Widow(er)"}
STORED_STATUS = {"single": "single", "mfj": "married_filing_jointly", "mfs": "married_filing_separately",
                 "hoh": "head_of_household", "qss": "qualifying_surviving_spouse"}


@dataclass
class Person:
    wages: Decimal = D(0)
    withholding: Decimal = D(0)
    ss_wages: Decimal = D(0)
    medicare_wages: Decimal = D(0)
    se_gross: Decimal = D(0)
    interest: Decimal = D(0)
    ordinary_dividends: Decimal = D(0)
    qualified_dividends: Decimal = D(0)
    capital_gains: Decimal = D(0)
    benefits: Decimal = D(0)
    payments: Decimal = D(0)  # estimated payments on the account transcript (docs/04 section 5 step 9)
    forms: list[dict] = field(default_factory=list)
    transactions: list[dict] = field(default_factory=list)


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def bracket_tax(taxable: Decimal, starts: tuple[int, ...]) -> Decimal:
    tax, edges = D(0), (0, *starts)
    for i, rate in enumerate(RATES):
        top = D(edges[i + 1]) if i + 1 < len(edges) else taxable
        if taxable > edges[i]:
            tax += (min(taxable, top) - edges[i]) * rate
    return tax


def reference_projection(year: int, status: str, tp: Person, spouse: Person) -> dict[str, Decimal]:
    table = "mfj" if status == "qss" else status  # QSS uses the joint tables
    people = [tp, spouse] if status == "mfj" else [tp]

    def total(name: str) -> Decimal:
        return sum((getattr(p, name) for p in people), D(0))

    se_tax = D(0)
    net_se_total = D(0)
    for p in people:  # SE tax per person (irs-domain 4.4)
        net = D("0.9235") * p.se_gross
        if net < 400:
            continue
        net_se_total += net
        room = max(D(WAGE_BASE[year]) - p.ss_wages, D(0))
        se_tax += cents(D("0.124") * min(net, room)) + cents(D("0.029") * net)
    t = D(THRESHOLD[status])
    medicare_wages = total("medicare_wages")
    additional_medicare = D("0.009") * (max(medicare_wages - t, D(0))
                                        + max(net_se_total - max(t - medicare_wages, D(0)), D(0)))
    investment = total("interest") + total("ordinary_dividends") + total("capital_gains")
    non_benefit_income = total("wages") + total("se_gross") + investment
    benefits = total("benefits")
    base, adjusted = SS_BASE[status]
    se_deduction = cents(se_tax / 2)
    provisional = non_benefit_income - se_deduction + benefits / 2
    if benefits == 0 or provisional <= base:
        taxable_ss = D(0)
    elif provisional <= adjusted:
        taxable_ss = min(D("0.5") * (provisional - base), D("0.5") * benefits)
    else:
        taxable_ss = min(D("0.85") * benefits,
                         D("0.85") * (provisional - adjusted)
                         + min(D("0.5") * benefits, D("0.5") * (adjusted - base)))
    taxable_ss = cents(taxable_ss)
    total_income = non_benefit_income + taxable_ss
    agi = total_income - se_deduction
    std = D(STANDARD[year][{"single": 0, "mfs": 0, "mfj": 1, "hoh": 2}[table]])
    taxable = max(agi - std, D(0))
    starts = BRACKETS[(year, table)]
    preferential = min(total("qualified_dividends") + total("capital_gains"), taxable)
    ordinary = taxable - preferential
    zero_top, fifteen_top = (D(x) for x in PREFERENTIAL[year][table])
    at_zero = max(min(taxable, zero_top) - ordinary, D(0))
    at_fifteen = max(min(taxable, fifteen_top) - ordinary - at_zero, D(0))
    at_twenty = preferential - at_zero - at_fifteen
    income_tax = min(bracket_tax(ordinary, starts) + D("0.15") * at_fifteen + D("0.20") * at_twenty,
                     bracket_tax(taxable, starts))
    niit = D("0.038") * max(min(investment, agi - NIIT_THRESHOLD[status]), D(0))
    # each tax is a line of its own form, in cents, before they are added up
    total_tax = cents(income_tax) + se_tax + cents(additional_medicare) + cents(niit)
    return {
        "standard_deduction": std,
        "taxable_social_security": taxable_ss,
        "total_income": total_income,
        "se_tax": se_tax,
        "additional_medicare_tax": additional_medicare,
        "net_investment_income_tax": niit,
        "estimated_agi": agi,
        "taxable_income": taxable,
        "income_tax": income_tax,
        "total_tax": total_tax,
        "estimated_payments": total("payments"),
        "projected_balance": total_tax - total("withholding") - total("payments"),
    }


def random_person(rng: random.Random, owner: str) -> Person:
    p = Person()

    def money(low: int, high: int) -> Decimal:
        return D(rng.randint(low * 100, high * 100)) / 100

    if rng.random() < 0.2:  # a retiree: benefits and a little interest, where the worksheet's bases matter
        p.benefits, p.interest = money(12000, 45000), money(0, 25000)
        p.forms += [form("SSA-1099", {"Total Benefits Paid": str(p.benefits)}, Owner=owner),
                    form("1099-INT", {"Interest Income": str(p.interest)}, Owner=owner)]
        return p
    for _ in range(rng.choice([0, 1, 1, 2])):
        wages = money(5000, rng.choice([60000, 150000, 260000, 700000]))
        withholding = cents(wages * D(rng.choice(["0", "0.08", "0.15"])))
        ss_wages = min(wages, D(rng.choice([132900, 300000])))  # box 3 stops at the wage base
        p.wages += wages
        p.withholding += withholding
        p.ss_wages += ss_wages
        p.medicare_wages += wages
        p.forms.append(form("W-2", {"Wages, Tips, and Other Compensation": str(wages),
                                    "Federal Withholding": str(withholding), "Social Security Wages": str(ss_wages),
                                    "Medicare Wages and Tips": str(wages)}, Owner=owner))
    for _ in range(rng.choice([0, 0, 1, 2])):
        amount = money(100, rng.choice([430, 3000, 40000, 220000]))  # some under the $400 threshold
        p.se_gross += amount
        p.forms.append(form("1099-NEC", {"Non-Employee Compensation": str(amount)}, Owner=owner))
    if rng.random() < 0.4:
        amount = money(10, 30000)
        p.interest += amount
        p.forms.append(form("1099-INT", {"Interest Income": str(amount)}, Owner=owner))
    if rng.random() < 0.4:
        ordinary, gains = money(100, 60000), money(0, 80000)
        qualified = cents(ordinary * D(rng.choice(["0", "0.5", "1"])))
        p.ordinary_dividends += ordinary
        p.qualified_dividends += qualified
        p.capital_gains += gains
        p.forms.append(form("1099-DIV", {"Ordinary Dividends": str(ordinary), "Qualified Dividends": str(qualified),
                                         "Capital Gains": str(gains)}, Owner=owner))
    if rng.random() < 0.3:
        amount = money(6000, 45000)
        p.benefits += amount
        p.forms.append(form("SSA-1099", {"Total Benefits Paid": str(amount)}, Owner=owner))
    return p


def random_payments(rng: random.Random, p: Person, year: int) -> None:
    """Account-transcript lines of the year: TC 430 / 610 / 660 pay toward the tax, a TC 611 takes a
    TC 610 back (dishonored), TC 806 (withholding, already on the W&I) and 670 (paid after the
    return) are not estimated payments. Credits print negative; irs-domain 4.5 step 6."""
    for _ in range(rng.choice([0, 1, 2, 3])):
        code = rng.choice(["430", "610", "660", "660", "806", "670"])
        amount = D(rng.randint(50, 4000))
        p.transactions.append({"code": code, "date": f"{year + 1}-04-15", "amount": float(-amount),
                               "description": "Payment"})
        if code in ("430", "610", "660"):
            p.payments += amount
            if code == "610" and rng.random() < 0.3:
                p.transactions.append({"code": "611", "date": f"{year + 1}-05-20", "amount": float(amount),
                                       "description": "Payment with return dishonored"})
                p.payments -= amount


def test_random_years_match_the_reference_model(db):
    rng = random.Random(SEED)
    mismatches, seen = [], set()
    for n in range(CASES):
        case, year = str(730_000_000 + n), rng.choice(sorted(STANDARD))
        status = rng.choice(sorted(INTERVIEW_STATUS))
        tp, spouse = random_person(rng, "TP"), random_person(rng, "S")
        if not tp.forms:
            tp = random_person(rng, "TP")
        ingest(db, "interview", case, {"household": {"filingStatus": INTERVIEW_STATUS[status]}})
        source = "interview"
        if rng.random() < 0.5:  # an account transcript for the year: its filing status wins when it has one
            at_status = rng.choice([AT_STATUS[status], "Unknown"])
            source = "interview" if at_status == "Unknown" else "tax_years"
            random_payments(rng, tp, year)
            random_payments(rng, spouse, year)
            records = [{"tax_year": year, "owner": owner, "filing_status": at_status, "transactions": p.transactions}
                       for owner, p in (("TP", tp), ("S", spouse)) if owner == "TP" or p.transactions]
            ingest(db, "at", case, {"at_records": records})
            if tp.payments or spouse.payments:
                seen.add("payments")
        ingest(db, "wi", case, wi(year, *tp.forms, *spouse.forms))
        got = projection(db, case, year)
        assert (got["filing_status"], got["filing_status_source"]) == (STORED_STATUS[status], source)
        expected = reference_projection(year, status, tp, spouse)
        differ = {k: (got[k], cents(v)) for k, v in expected.items() if abs(got[k] - v) > TOLERANCE}
        if differ:
            mismatches.append(f"{year} {status}: {differ}\n  TP {tp}\n  S {spouse}")
        seen.add(status)
        seen.update(k for k in ("se_tax", "additional_medicare_tax", "net_investment_income_tax",
                                "taxable_social_security") if expected[k] > 0)
        benefits = tp.benefits + (spouse.benefits if status == "mfj" else 0)
        if 0 < expected["taxable_social_security"] < D("0.85") * benefits:
            seen.add(f"benefits_partly_taxed_{'mfj' if status == 'mfj' else 'other'}")
        if any(0 < p.se_gross * D("0.9235") < 400 for p in ([tp, spouse] if status == "mfj" else [tp])):
            seen.add("se_under_400")
        if expected["taxable_income"] > BRACKETS[(year, "mfj" if status == "qss" else status)][-1]:
            seen.add(f"top_bracket_{status}")
    # the draw must reach every status, every tax and both ends of the tables, or the comparison
    # proves less than it says
    assert seen >= set(INTERVIEW_STATUS) | {"se_tax", "additional_medicare_tax", "net_investment_income_tax",
                                            "taxable_social_security", "se_under_400", "top_bracket_mfs", "payments",
                                            "benefits_partly_taxed_mfj", "benefits_partly_taxed_other",
                                            "top_bracket_single"}, seen
    assert not mismatches, f"{len(mismatches)} of {CASES} projections differ:\n" + "\n".join(mismatches[:4])


def test_the_rule_tables_hold_the_documents_figures(db):
    """Every figure the model above uses, against the rows the migrations loaded: a $25 slip in one
    bracket edge changes a few dollars on few returns, which a random draw can miss."""
    for (year, status), starts in BRACKETS.items():
        rows = db.execute("SELECT rate, income_min FROM tax_brackets WHERE tax_year = %s AND filing_status = %s"
                          " ORDER BY income_min", (year, STORED_STATUS[status])).fetchall()
        assert rows == list(zip(RATES, (0, *starts), strict=True)), (year, status)
        if status == "mfj":  # QSS uses the joint brackets
            assert rows == db.execute("SELECT rate, income_min FROM tax_brackets WHERE tax_year = %s"
                                      " AND filing_status = 'qualifying_surviving_spouse' ORDER BY income_min",
                                      (year,)).fetchall(), year
    for year, (single, joint, hoh) in STANDARD.items():
        assert dict(db.execute("SELECT filing_status, amount FROM standard_deductions WHERE tax_year = %s",
                               (year,)).fetchall()) == {
            "single": single, "married_filing_separately": single, "married_filing_jointly": joint,
            "qualifying_surviving_spouse": joint, "head_of_household": hoh}, year
        assert db.execute("SELECT ss_wage_base FROM se_tax_constants WHERE tax_year = %s",
                          (year,)).fetchone() == (WAGE_BASE[year],), year
        thresholds = {s: (z, f) for s, z, f in db.execute(
            "SELECT filing_status, zero_rate_max, fifteen_rate_max FROM capital_gain_thresholds WHERE tax_year = %s",
            (year,)).fetchall()}
        assert thresholds == {STORED_STATUS[s]: t for s, t in PREFERENTIAL[year].items()} | {
            "qualifying_surviving_spouse": PREFERENTIAL[year]["mfj"]}, year
    for kind, table in (("additional_medicare", THRESHOLD), ("niit", NIIT_THRESHOLD)):
        rows = dict(db.execute("SELECT filing_status, amount FROM filing_status_thresholds WHERE threshold_kind = %s",
                               (kind,)).fetchall())
        assert rows == {STORED_STATUS[s]: amount for s, amount in table.items()}, kind

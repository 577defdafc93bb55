"""sandbox.data: determinism, the behaviour table, realistic content, drifted shapes, valid PDFs."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sandbox import data
from sandbox.settings import FAULTS

SAMPLE_IDS = ["1295022", "1000001", "2000005", "3000001", "3000002", "4000500", "7", "987654321012"]


def _digest(case_id: str) -> str:
    parts = [
        data.at_payload(case_id),
        data.wi_payload(case_id),
        data.trt_payload(case_id),
        data.interview_payload(case_id),
        data.transcript_files(case_id, "at"),
        data.transcript_files(case_id, "wi"),
    ]
    raw = json.dumps(parts).encode()
    for f in data.transcript_files(case_id, "at")[:2]:
        raw += data.pdf_bytes(case_id, "at", f["case_document_id"]) or b""
    return hashlib.sha256(raw).hexdigest()


def check_pdf(raw: bytes) -> None:
    """Structural PDF check: header, trailer, startxref and every xref offset point at their objects."""
    assert raw.startswith(b"%PDF-1.")
    assert raw.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF", raw).group(1))
    assert raw[startxref : startxref + 4] == b"xref"
    header = re.match(rb"xref\n0 (\d+)\n", raw[startxref:])
    size = int(header.group(1))
    table = raw[startxref + header.end() : startxref + header.end() + 20 * size]
    entries = [table[i * 20 : (i + 1) * 20] for i in range(size)]
    assert entries[0] == b"0000000000 65535 f \n"
    for number, entry in enumerate(entries[1:], 1):
        offset = int(entry[:10])
        assert entry[10:] == b" 00000 n \n"
        assert raw[offset:].startswith(f"{number} 0 obj".encode()), number
    assert re.search(rb"/Size %d\b" % size, raw)
    stream = re.search(rb"/Length (\d+) >>\nstream\n", raw)
    length = int(stream.group(1))
    assert raw[stream.end() + length : stream.end() + length + 10] == b"\nendstream"


def test_same_payload_twice() -> None:
    for case_id in SAMPLE_IDS:
        assert json.dumps(data.at_payload(case_id)) == json.dumps(data.at_payload(case_id))
        assert _digest(case_id) == _digest(case_id)


def test_same_payload_in_another_process() -> None:
    """No hash() seeding: a fresh interpreter (different hash salt) produces identical bytes."""
    code = (
        "import sys; sys.path.insert(0, '.'); from tests.test_sandbox_data import _digest, SAMPLE_IDS; "
        "print(' '.join(_digest(c) for c in SAMPLE_IDS))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=str(data.__file__).rsplit("/sandbox/", 1)[0],
    )
    assert out.stdout.split() == [_digest(c) for c in SAMPLE_IDS]


def test_different_cases_differ() -> None:
    assert data.at_payload("1000001") != data.at_payload("1000003")
    assert data.wi_payload("1000001") != data.wi_payload("1000003")


def test_behaviour_table_is_consistent() -> None:
    assert "1295022" in data.BEHAVIOURS
    for case_id, beh in data.BEHAVIOURS.items():
        assert re.fullmatch(r"\d{1,12}", case_id) and beh.case_id == case_id
        for fault in (beh.tiparser_fault, beh.casehelper_fault):
            assert fault is None or fault in FAULTS
        if beh.csed_scenario:
            assert beh.csed_scenario in data._CSED_SCENARIOS and beh.expected
    labels = [b.label for b in data.BEHAVIOURS.values()]
    assert len(labels) == len(set(labels))


def test_default_behaviour_and_trt_parity() -> None:
    assert data.behaviour("1295022").trt is False
    assert data.behaviour("1000001").trt is True
    assert data.behaviour("555").label == "normal" and data.behaviour("555").trt is True
    assert data.behaviour("556").trt is False
    assert data.trt_payload("556") is None
    assert data.trt_payload("555")["records"]
    with pytest.raises(ValueError):
        data.behaviour("12a")
    with pytest.raises(ValueError):
        data.at_payload("1234567890123")


def test_normal_case_shape() -> None:
    for case_id in ("7", "1000001", "424242"):
        records = data.at_payload(case_id)["at_records"]
        years = {int(r["tax_year"]) for r in records}
        assert 3 <= len(years) <= 6 and min(years) >= 2016 and max(years) <= 2024
        for r in records:
            assert set(r) >= {
                "tax_year",
                "account_balance",
                "accrued_interest",
                "accrued_penalty",
                "total_balance",
                "adjusted_gross_income",
                "taxable_income",
                "tax_per_return",
                "filing_status",
                "processing_date",
                "owner",
                "source_file",
                "transactions",
            }
            assert r["owner"] in ("TP", "S")
            assert r["total_balance"] == round(
                r["account_balance"] + r["accrued_interest"] + r["accrued_penalty"], 2
            )
            assert r["account_balance"] == round(sum(t["amount"] for t in r["transactions"]), 2)
            for t in r["transactions"]:
                assert set(t) == {"code", "date", "amount", "description"}
                assert re.fullmatch(r"\d{3}|n/a", t["code"])
                assert t["date"] == "" or date.fromisoformat(t["date"])


def _codes(record: dict) -> list[str]:
    return [t["code"] for t in record["transactions"]]


def test_demo_case_is_full() -> None:
    records = data.at_payload("1295022")["at_records"]
    assert [r["tax_year"] for r in records] == ["2018", "2019", "2020", "2021", "2022", "2023"]
    codes = {c for r in records for c in _codes(r)}
    assert codes >= {
        "150",
        "290",
        "300",
        "610",
        "670",
        "806",
        "166",
        "276",
        "196",
        "971",
        "582",
        "706",
        "826",
    }
    descriptions = {t["description"] for r in records for t in r["transactions"]}
    assert {
        "Pending installment agreement",
        "Installment agreement established",
        "Substitute tax return prepared by IRS",
    } <= descriptions
    assert data.trt_payload("1295022") is None
    assert data.interview_payload("1295022") is not None
    wi = data.wi_payload("1295022")
    forms = [f for forms in wi["years_data"].values() for f in forms]
    kinds = {f["Form"] for f in forms}
    assert kinds >= {
        "W-2",
        "1099-NEC",
        "1099-K",
        "1099-INT",
        "1099-DIV",
        "1099-MISC",
        "1099-G",
        "1099-B",
        "1099-R",
        "W-2G",
        "1098",
    }
    assert any(f["Category"] == "SE" and f["Income"] > 0 for f in forms)
    assert {f["Owner"] for f in forms} == {"TP", "S"}
    # Upstream quirk: summary never counts SE income.
    assert wi["summary"]["overall_totals"]["total_se_income"] == 0
    assert all(y["se_income"] == 0 for y in wi["summary"]["by_year"].values())


def test_wi_forms_follow_upstream_rules() -> None:
    for case_id in ("1295022", "1000001", "31337"):
        wi = data.wi_payload(case_id)
        for year, forms in wi["years_data"].items():
            assert wi["summary"]["by_year"][year]["number_of_forms"] == len(forms)
            for f in forms:
                assert f["Label"] == ("E" if f["Form"] == "W-2" else "P")
                assert f["SourceFile"] in (f"WI {year[2:]}.pdf", f"WI S {year[2:]}.pdf")
                fields = f["Fields"]
                if f["Form"] == "W-2":
                    assert f["Income"] == fields["Wages, Tips, and Other Compensation"]
                    assert f["Withholding"] == fields["Federal Withholding"]
                if f["Form"] == "1099-NEC":
                    assert int(year) >= 2020 and f["Category"] == "SE"
                if f["Form"] == "1099-B":
                    assert f["Income"] == round(fields["Proceeds"] - fields["Cost or Basis"], 2)
                assert f["Issuer"]["Name"] and f["Recipient"]["SSN"].startswith("XXX-XX-")


def _focus(case_id: str) -> dict:
    return data.at_payload(case_id)["at_records"][0]


@pytest.mark.parametrize(
    ("case_id", "expected"),
    [
        ("2000001", [("150", "2018-04-16"), ("290", "2020-06-08")]),
        ("2000002", [("150", "2019-04-15"), ("971", "2021-03-01"), ("972", "2021-05-10")]),
        ("2000003", [("150", "2018-05-21"), ("480", "2022-02-14"), ("481", "2022-09-26")]),
        ("2000004", [("150", "2018-05-21"), ("480", "2022-02-14"), ("482", "2022-07-18")]),
        ("2000005", [("150", "2019-06-03"), ("520", "2021-08-09"), ("521", "2022-01-18")]),
        ("2000006", [("150", "2019-06-03"), ("520", "2023-03-06")]),
        (
            "2000007",
            [("150", "2018-04-17"), ("971", "2022-03-21"), ("520", "2022-05-02"), ("521", "2022-11-14")],
        ),
        (
            "2000008",
            [
                ("150", "2018-04-16"),
                ("480", "2021-01-11"),
                ("971", "2021-06-01"),
                ("481", "2021-06-14"),
                ("972", "2021-09-20"),
            ],
        ),
        ("2000009", [("150", "2016-02-29")]),
        ("2000010", [("150", "2019-04-15"), ("971", "2021-03-01"), ("971", "2021-04-12")]),
        ("2000011", [("150", "2014-06-02"), ("520", "2024-05-20"), ("521", "2024-05-24")]),
    ],
)
def test_csed_scenarios(case_id: str, expected: list[tuple[str, str]]) -> None:
    record = _focus(case_id)
    events = [
        (t["code"], t["date"])
        for t in record["transactions"]
        if t["code"] in {"150", "290", "480", "481", "482", "520", "521", "971", "972"}
        and not t["description"].startswith("Notice issued")
    ]
    assert events == expected
    assert record["account_balance"] > 0  # an unpaid balance, so the CSED matters
    # No other assessment that starts its own CSED in the focus module.
    assert not {"160", "166", "300"} & set(_codes(record))
    # Later modules are paid in full.
    assert all(r["account_balance"] == 0 for r in data.at_payload(case_id)["at_records"][1:])


def test_csed_descriptions_identify_the_events() -> None:
    def desc(case_id: str, code: str) -> list[str]:
        return [t["description"] for t in _focus(case_id)["transactions"] if t["code"] == code]

    assert desc("2000002", "971") == ["Pending installment agreement"]
    assert desc("2000002", "972") == ["Reversed pending installment agreement"]
    assert desc("2000005", "520") == ["Bankruptcy or other legal action filed (closing code 65)"]
    assert desc("2000007", "520") == ["Bankruptcy or other legal action filed (closing code 76)"]
    assert desc("2000007", "971") == ["Intent to levy collection due process notice"]
    assert desc("2000010", "971") == ["Pending installment agreement", "Installment agreement established"]
    assert "521" not in _codes(_focus("2000006"))


def test_at_drift_alt_keys() -> None:
    body = data.at_payload("3000001")
    assert set(body) == {"records"}
    records = body["records"]
    years = [r["taxYear"] for r in records]
    assert any(isinstance(y, str) and y.startswith("Tax Year ") for y in years)
    assert any(isinstance(y, int) for y in years) and "Unknown" in years
    flags = {r["returnFiled"] for r in records}
    assert {"YES", "Filed", "true"} <= flags
    tx = [t for r in records for t in r["activity"]]
    assert all(set(t) == {"transaction_code", "Date", "Amount", "explanation"} for t in tx)
    assert all(re.fullmatch(r"\d\d-\d\d-\d{4}|", t["Date"]) for t in tx)
    assert any(re.fullmatch(r"\$[\d,]+\.\d\d", t["Amount"]) and "," in t["Amount"] for t in tx)
    assert any(re.fullmatch(r"\([\d,]+\.\d\d\)", t["Amount"]) for t in tx)


def test_at_drift_data_array() -> None:
    body = data.at_payload("3000002")
    assert set(body) == {"data"}
    tx = [t for r in body["data"] for t in r["account_activity"]]
    assert all(
        {"tc", "posted_date", "transaction_amount", "Explanation", "balance_after"} == set(t) for t in tx
    )
    assert any(isinstance(t["transaction_amount"], str) for t in tx)
    assert any(isinstance(t["transaction_amount"], float) for t in tx)
    assert all(isinstance(r["year"], int) and r["status"] in ("Filed", "Unfiled") for r in body["data"])


def test_wi_drift_shapes() -> None:
    nested = data.wi_payload("3000001")["years_data"]
    assert "Unknown" in nested and all(set(v) == {"forms"} for v in nested.values())
    flat = data.wi_payload("3000002")
    assert set(flat) == {"forms"}
    keys = {k for f in flat["forms"] for k in f}
    assert {
        "Year",
        "tax_year",
        "TaxYear",
        "form_type",
        "FormType",
        "gross_amount",
        "Amount",
        "federal_withholding",
        "FederalTaxWithheld",
        "IssuerName",
        "taxpayer_type",
    } <= keys
    assert any(isinstance(f.get("Amount"), str) and f["Amount"].startswith("$") for f in flat["forms"])


def test_interview_shapes() -> None:
    body = data.interview_payload("1295022")
    assert set(body) == {"employment", "assets", "income", "expenses", "raw_data", "Result"}
    assert body["employment"]["clientFrequentlyPaid"] in data.PAY_FREQUENCIES
    assert "accountsGrid" in body["assets"]["bankAccounts"]
    assert "vehiclesGrid" in body["assets"]["vehicles"] and "propertyGrid" in body["assets"]["realProperty"]
    assert isinstance(body["employment"]["clientHouseMembers"], str)  # numeric strings occur normally
    spellings = {data.interview_payload(str(i))["employment"]["clientFrequentlyPaid"] for i in range(1, 60)}
    assert spellings == set(data.PAY_FREQUENCIES)
    drifted = data.interview_payload("3000001")
    assert isinstance(drifted["employment"]["clientGrossIncome"], str)
    float(drifted["employment"]["clientGrossIncome"])
    assert isinstance(drifted["assets"]["bankAccounts"]["accountsGrid"][0]["balance"], str)
    assert data.interview_payload("5000404") is None and data.interview_payload("4000404") is None


def test_transcript_files_and_pdfs() -> None:
    for kind in ("at", "wi"):
        files = data.transcript_files("1295022", kind)
        assert [f["index"] for f in files] == list(range(1, len(files) + 1))
        for f in files:
            assert re.fullmatch(rf"{kind.upper()}( S)? \d\d( E)?\.pdf", f["filename"])
            raw = data.pdf_bytes("1295022", kind, f["case_document_id"])
            check_pdf(raw)
            assert b"Case 1295022" in raw and f["case_document_id"].encode() in raw
    assert data.pdf_bytes("1295022", "at", "999") is None
    at_names = {r["source_file"] for r in data.at_payload("1295022")["at_records"]}
    assert at_names == {f["filename"] for f in data.transcript_files("1295022", "at")}
    spouse = data.transcript_files("1000001", "at")
    assert any(f["filename"].endswith(" E.pdf") and f["owner"] == "S" for f in spouse)


def test_pdf_escapes_text() -> None:
    raw = data.build_pdf(["a (b) c\\d", "plain"])
    check_pdf(raw)
    assert rb"(a \(b\) c\\d) Tj" in raw


def test_readme_documents_every_case_and_setting() -> None:
    readme = (Path(data.__file__).parent / "README.md").read_text()
    for case_id, beh in data.BEHAVIOURS.items():
        assert f"| `{case_id}` | {beh.label} |" in readme, case_id
    settings_src = (Path(data.__file__).parent / "settings.py").read_text()
    for name in set(re.findall(r"SANDBOX_[A-Z_]+", settings_src)):
        assert f"`{name}`" in readme, name
    for fault in FAULTS:
        assert f"| `{fault}` |" in readme, fault

"""課税・所得証明書: a TaxCertificate in, PDF bytes out.

The fiscal year under the title; who (住所 on 1 January of the fiscal year, 氏名,
生年月日); then a ruled table: income and deductions on the left, the fiscal year's
taxes on the right, every amount in 円 with thousands separators, right-aligned so the
digits line up.
"""
from __future__ import annotations

from contract.documents import DOCUMENT_TITLES
from printouts.certificate_page import BODY_W, RenderedPdf, render_certificate_pdf
from printouts.fonts import mincho
from printouts.japanese_era import wareki, wareki_year
from printouts.page_flow import Block, spacer
from printouts.records import TaxCertificate
from printouts.ruled_rows import Cell, label, labelled_row, row

CERTIFYING_SENTENCE = "上記のとおり証明する。"

_PREFECTURAL_TAXES = (("東京都", "都民税"), ("北海道", "道民税"), ("京都府", "府民税"), ("大阪府", "府民税"))

TABLE_LABEL_W = 110.0
TABLE_ROW_H = 28.0


def render_tax_certificate(record: TaxCertificate, verification_code: str) -> RenderedPdf:
    font = mincho()
    fiscal_year = wareki_year(record.fiscal_year)
    income_year = wareki_year(record.fiscal_year - 1)
    municipal_tax, prefectural_tax = tax_names(record.certification.municipality)
    income = (
        ("給与収入", yen(record.salary_revenue_yen)),
        ("総所得金額", yen(record.income_yen)),
        ("所得控除額合計", yen(record.deductions_yen)),
        ("課税標準額", yen(record.taxable_income_yen)),
    )
    taxes = (
        (municipal_tax, yen(record.municipal_tax_yen)),
        (prefectural_tax, yen(record.prefectural_tax_yen)),
        ("税額合計", yen(record.municipal_tax_yen + record.prefectural_tax_yen)),
        ("扶養人数", f"{record.dependants}人"),
    )
    body = [
        labelled_row(font, "住所\n1月1日現在", record.address, min_height=36),
        labelled_row(font, "氏名", record.name),
        labelled_row(font, "生年月日", wareki(record.birth_date)),
        spacer(14),
        _two_sided_row(font, ("所得・控除", ""), ("税額等", ""), heading=True),
        *(_two_sided_row(font, left, right) for left, right in zip(income, taxes)),
    ]
    return render_certificate_pdf(record.certification, title=DOCUMENT_TITLES["tax_certificate"],
                                  certifying_sentence=CERTIFYING_SENTENCE, verification_code=verification_code,
                                  body=body, title_note=f"{fiscal_year}度（{income_year}分の所得）")


def _two_sided_row(font: str, left: tuple[str, str], right: tuple[str, str], heading: bool = False) -> Block:
    half = BODY_W / 2
    if heading:
        return row(font, [label(half, left[0]), label(half, right[0])], height=22)
    cells = []
    for name, amount in (left, right):
        cells += [label(TABLE_LABEL_W, name, size=10), Cell(half - TABLE_LABEL_W, amount, size=12, align="right")]
    return row(font, cells, height=TABLE_ROW_H)


def yen(amount: int) -> str:
    """4560000 -> "4,560,000円"."""
    return f"{amount:,}円"


def tax_names(municipality: str) -> tuple[str, str]:
    """The municipal and prefectural tax as the municipality's certificate names them:
    "架空県みどり市" -> ("市民税", "県民税"); a Tokyo ward -> ("特別区民税", "都民税")."""
    municipal = {"市": "市民税", "町": "町民税", "村": "村民税", "区": "特別区民税"}.get(municipality[-1:], "市町村民税")
    prefectural = next((tax for prefix, tax in _PREFECTURAL_TAXES if municipality.startswith(prefix)), "県民税")
    return municipal, prefectural

"""印鑑登録証明書: a SealCertificate in, PDF bytes out.

The registered impression (印影) large in its own box, 氏名 / 生年月日 / 性別 beside it,
住所 across underneath, as municipal forms lay it out.
"""
from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from contract.documents import DOCUMENT_TITLES
from printouts.certificate_page import BODY_W, LEFT, RenderedPdf, render_certificate_pdf
from printouts.fonts import mincho
from printouts.japanese_era import wareki
from printouts.page_flow import Block, stack
from printouts.records import SealCertificate
from printouts.ruled_rows import LABEL_W, Cell, label, labelled_row, row
from printouts.seals import draw_personal_seal

CERTIFYING_SENTENCE = "この写しは、登録されている印影と相違ないことを証明する。"

IMPRESSION_BOX = 150.0  # the square the impression is printed in
IMPRESSION_DIAMETER = 110.0
FACT_LABEL_W = 70.0


def render_seal_certificate(record: SealCertificate, verification_code: str) -> RenderedPdf:
    font = mincho()
    body = [_impression_and_facts(font, record), labelled_row(font, "住所", record.address, min_height=40)]
    return render_certificate_pdf(record.certification, title=DOCUMENT_TITLES["seal_certificate"],
                                  certifying_sentence=CERTIFYING_SENTENCE, verification_code=verification_code,
                                  body=body)


def _impression_and_facts(font: str, record: SealCertificate) -> Block:
    box = row(font, [label(LABEL_W, "印影"), Cell(IMPRESSION_BOX)], height=IMPRESSION_BOX)
    facts_left = LEFT + LABEL_W + IMPRESSION_BOX
    facts_w = BODY_W - LABEL_W - IMPRESSION_BOX
    fact_h = IMPRESSION_BOX / 3
    facts = stack([
        row(font, [label(FACT_LABEL_W, name), Cell(facts_w - FACT_LABEL_W, value, size=size)],
            height=fact_h, left=facts_left)
        for name, value, size in (
            ("氏名", record.name, 14.0),
            ("生年月日", wareki(record.birth_date), 12.0),
            ("性別", record.sex, 12.0),
        )
    ])

    def draw(canvas: Canvas, top: float) -> None:
        box.draw(canvas, top)
        facts.draw(canvas, top)
        draw_personal_seal(canvas, font, record.impression, cx=LEFT + LABEL_W + IMPRESSION_BOX / 2,
                           cy=top - IMPRESSION_BOX / 2, diameter=IMPRESSION_DIAMETER)

    return Block(IMPRESSION_BOX, draw)

"""The page furniture every certificate shares, and the assembly of a certificate PDF.

Every front page: the copy-evident background (anti_copy), the municipality, the
spaced-out title, 証明書番号 and "x / y" (fronts counted, not backs), and at the bottom a
microtext rule over the verification code as text and as a QR code. The last front:
the certifying sentence, the issue date in the Japanese era, the mayor's name and the
official seal. Each front is followed by its back (back_page), so the PDF is printed
duplex: front 1, back 1, front 2, back 2... A renderer only supplies its title,
sentence and body blocks (page_flow.Block).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import BytesIO
from typing import Sequence

from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from printouts.anti_copy import Rect, background
from printouts.back_page import draw_back
from printouts.fonts import mincho
from printouts.japanese_era import wareki
from printouts.page_flow import Block, paginate
from printouts.page_frame import (
    BODY_W,
    LEFT,
    MICROTEXT_CLEARANCE,
    PAGE_H,
    PAGE_W,
    RIGHT,
    draw_identity,
    draw_microtext_rule,
)
from printouts.records import Certification
from printouts.seals import draw_official_seal, official_seal_text
from printouts.text_fit import LEADING, draw_lines, draw_string, fitted_size
from printouts.verification_qr import QrSymbol, draw_qr, qr_symbol

# Page streams stay Flate-compressed binary, not also ASCII85-armoured: without
# reportlab's optional C accelerator the armour is encoded in Python, at ~0.15 ms per
# KiB of compressed stream, which a page's drawing does not otherwise cost.
rl_config.useA85 = 0

# Header, from the top edge down, under the identity line (page_frame).
TITLE_BASELINE = PAGE_H - 100
TITLE_SIZE, TITLE_MAX_SPACING = 22.0, 10.0
TITLE_NOTE_BASELINE = PAGE_H - 120
BODY_TOP = PAGE_H - 135

# Footer, from the bottom edge up: the QR code (and its quiet zone) and the code as
# text to its left, under the microtext rule; nothing else, not even the background,
# is drawn below the rule.
QR_SIDE = 74.0  # a version-6 code (~130 characters) gets 1.8 pt = 0.63 mm modules
QR_X, QR_Y = RIGHT - QR_SIDE, 36.0
FOOTER_RULE_Y = 122.0
CODE_TEXT_WIDTH = QR_X - 14.0 - LEFT  # stops short of the QR's quiet zone
CODE_TEXT_SIZE = 7.0
FRONT_KNOCKOUTS = (Rect(0.0, 0.0, PAGE_W, FOOTER_RULE_Y + MICROTEXT_CLEARANCE),)

# The certifying block sits right above the footer on the last page.
CERT_BOTTOM = FOOTER_RULE_Y + 8.0
CERT_TOP = CERT_BOTTOM + 120.0
SEAL_SIZE = 58.0
MARK_H = 18.0  # the line "以下余白" or "（次頁に続く）" under the last block of a page
CERT_GAP = 10.0  # between "以下余白" and the certifying sentence

BODY_BOTTOM = CERT_BOTTOM + MARK_H  # the lowest a block reaches on a page not the last
LAST_PAGE_RESERVE = CERT_TOP + CERT_GAP + MARK_H - BODY_BOTTOM

END_OF_CONTENT = "以下余白"
CONTINUED = "（次頁に続く）"
KIOSK_NOTE = "この証明書はキオスク端末で交付されたものです。内容の照会は交付した市区町村へお問い合わせください。"


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    # SHA-256 of each page's content stream as it was compressed, which is what a PDF
    # reader decodes (pdf_pages.page_digests gives the same, from the PDF alone): the
    # issuance center binds every page without parsing the PDF it has just written.
    page_sha256: tuple[str, ...]


def render_certificate_pdf(certification: Certification, *, title: str, certifying_sentence: str,
                           verification_code: str, body: Sequence[Block], title_note: str | None = None
                           ) -> RenderedPdf:
    """The certificate's pages as A4 PDF bytes; the same arguments give the same bytes."""
    font = mincho()
    pages = paginate(body, BODY_TOP - BODY_BOTTOM, LAST_PAGE_RESERVE)
    qr = qr_symbol(verification_code)

    buffer = BytesIO()
    # invariant: no timestamps or random ids, so the same record gives the same bytes;
    # initialFontName: otherwise every page references an unembedded Helvetica.
    canvas = Canvas(buffer, pagesize=(PAGE_W, PAGE_H), invariant=True, initialFontName=font)
    canvas.setTitle(f"{title} {certification.serial}")
    canvas.setAuthor(certification.municipality)
    canvas.setViewerPreference("Duplex", "DuplexFlipLongEdge")  # a print dialog's default

    for number, blocks in enumerate(pages, start=1):
        is_last = number == len(pages)
        page_label = f"{number} / {len(pages)}"
        canvas.addLiteral(background(FRONT_KNOCKOUTS))  # first: everything else is drawn over it
        draw_identity(canvas, font, certification, page_label)
        _draw_title(canvas, font, title, title_note)
        bottom = _draw_blocks(canvas, blocks)
        draw_string(canvas, font, 10, LEFT + 4 if is_last else RIGHT, bottom - 13,
                   END_OF_CONTENT if is_last else CONTINUED, align="left" if is_last else "right")
        if is_last:
            _draw_certification(canvas, font, certification, certifying_sentence)
        _draw_footer(canvas, font, certification, verification_code, qr)
        canvas.showPage()
        draw_back(canvas, font, certification, page_label, verification_code, qr)
        canvas.showPage()
    canvas.save()
    # The page objects the canvas wrote, each holding its content as one string; the
    # Flate filter (printouts.flate) encodes it as UTF-8 before compressing.
    pages_written = canvas._doc.Pages.pages
    return RenderedPdf(buffer.getvalue(), tuple(hashlib.sha256(page.stream.encode("utf8")).hexdigest()
                                                for page in pages_written))


def _draw_title(canvas: Canvas, font: str, title: str, title_note: str | None) -> None:
    _draw_spaced_title(canvas, font, title)
    if title_note:
        draw_string(canvas, font, 10.5, PAGE_W / 2, TITLE_NOTE_BASELINE, title_note, align="centre")


def _draw_spaced_title(canvas: Canvas, font: str, title: str) -> None:
    """Centred, letter-spaced as the printed forms are; tighter if the title is long."""
    max_w = BODY_W - 2 * QR_SIDE
    size = fitted_size(title, font, TITLE_SIZE, max_w)
    plain_w = stringWidth(title, font, size)
    spacing = max(0.0, min(TITLE_MAX_SPACING, (max_w - plain_w) / max(len(title) - 1, 1)))
    width = plain_w + spacing * (len(title) - 1)
    text = canvas.beginText((PAGE_W - width) / 2, TITLE_BASELINE)
    text.setFont(font, size)
    text.setCharSpace(spacing)
    text.textOut(title)
    text.setCharSpace(0)  # Tc is page text state: it would outlive this text object
    canvas.drawText(text)


def _draw_blocks(canvas: Canvas, blocks: list[Block]) -> float:
    """The page's body from BODY_TOP down; returns where the last block ends."""
    top = BODY_TOP
    for block in blocks:
        block.draw(canvas, top)
        top -= block.height
    return top


def _draw_certification(canvas: Canvas, font: str, certification: Certification, sentence: str) -> None:
    sentence_baseline = CERT_TOP - 14
    draw_string(canvas, font, fitted_size(sentence, font, 12, BODY_W - 12), LEFT + 12, sentence_baseline, sentence)
    date_baseline = sentence_baseline - 30
    draw_string(canvas, font, 12, LEFT + 24, date_baseline, wareki(certification.issued_on))

    mayor_baseline = date_baseline - 38
    name_right = RIGHT - SEAL_SIZE
    mayor_size = fitted_size(certification.mayor, font, 14, BODY_W / 2)
    draw_string(canvas, font, mayor_size, name_right, mayor_baseline, certification.mayor, align="right")
    # The seal follows the name where a personal 印 would go, leaving the name legible.
    draw_official_seal(canvas, font, official_seal_text(certification.mayor), x=name_right + 4,
                       y=mayor_baseline - 22, size=SEAL_SIZE)


def _draw_footer(canvas: Canvas, font: str, certification: Certification, verification_code: str,
                 qr: QrSymbol) -> None:
    draw_microtext_rule(canvas, font, certification, FOOTER_RULE_Y)
    draw_string(canvas, font, 8, LEFT, QR_Y + QR_SIDE - 8, "検証コード")
    draw_lines(canvas, font, verification_code, CODE_TEXT_SIZE, LEFT, QR_Y + QR_SIDE - 13, CODE_TEXT_WIDTH,
               3 * CODE_TEXT_SIZE * LEADING)
    draw_string(canvas, font, fitted_size(KIOSK_NOTE, font, 7, CODE_TEXT_WIDTH), LEFT, QR_Y, KIOSK_NOTE)
    draw_qr(canvas, qr, QR_X, QR_Y, QR_SIDE)

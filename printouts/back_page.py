"""The back of each sheet (printed duplex): the verification code as a QR code large
enough to scan from across a counter, the code as text, and how a recipient checks
the certificate. It carries the identity line too ("裏面 1 / 2"), so its page digest
is this certificate's and this sheet's, like the front's.
"""
from __future__ import annotations

from reportlab.pdfgen.canvas import Canvas

from printouts.anti_copy import Rect, background
from printouts.page_frame import BODY_W, LEFT, PAGE_H, PAGE_W, draw_identity, draw_microtext_rule
from printouts.records import Certification
from printouts.text_fit import draw_lines, draw_string
from printouts.verification_qr import QrSymbol, draw_qr

BACK_LABEL = "裏面"
HEADING = "証明書の照会について"
INSTRUCTIONS = (
    "この証明書の内容は、交付した市区町村の照会サイトで確認できます。"
    "上のコードを読み取るか検証コードを入力し、表示される内容とこの証明書の記載が一致することをお確かめください。\n"
    "この用紙は複写すると「複写」の文字が浮き出ます。表面下部の線は微小文字です。"
)

# A framed panel kept clear of the background, from its top down: the heading, the QR
# code (its 4-module quiet zone, ~17 pt, left blank), the code, the instructions and a
# microtext rule.
PANEL_TOP = PAGE_H - 80
HEADING_BASELINE = PANEL_TOP - 26
QR_SIDE = 170.0  # ~4 pt modules: scans from a phone held well away
QR_X, QR_Y = (PAGE_W - QR_SIDE) / 2, PANEL_TOP - 50 - QR_SIDE
CODE_LABEL_BASELINE = QR_Y - 28
CODE_TOP, CODE_H, CODE_W, CODE_SIZE = CODE_LABEL_BASELINE - 6, 34.0, 330.0, 9.0
TEXT_LEFT, TEXT_W = LEFT + 16, BODY_W - 32
TEXT_TOP, TEXT_H, TEXT_SIZE = CODE_TOP - CODE_H - 10, 52.0, 10.0
MICROTEXT_Y = TEXT_TOP - TEXT_H - 10
PANEL = Rect(LEFT - 8, MICROTEXT_Y - 10, BODY_W + 16, PANEL_TOP - (MICROTEXT_Y - 10))
KNOCKOUTS = (PANEL,)


def draw_back(canvas: Canvas, font: str, certification: Certification, page_label: str, verification_code: str,
              qr: QrSymbol) -> None:
    canvas.addLiteral(background(KNOCKOUTS))
    draw_identity(canvas, font, certification, f"{BACK_LABEL}　{page_label}")
    canvas.setLineWidth(0.4)
    canvas.rect(PANEL.x, PANEL.y, PANEL.w, PANEL.h)
    draw_string(canvas, font, 14, PAGE_W / 2, HEADING_BASELINE, HEADING, align="centre")
    draw_qr(canvas, qr, QR_X, QR_Y, QR_SIDE)
    draw_string(canvas, font, 9, PAGE_W / 2, CODE_LABEL_BASELINE, "検証コード", align="centre")
    draw_lines(canvas, font, verification_code, CODE_SIZE, (PAGE_W - CODE_W) / 2, CODE_TOP, CODE_W, CODE_H,
               align="centre")
    draw_lines(canvas, font, INSTRUCTIONS, TEXT_SIZE, TEXT_LEFT, TEXT_TOP, TEXT_W, TEXT_H)
    draw_microtext_rule(canvas, font, certification, MICROTEXT_Y)

"""The cash collection slip: what the kiosk took in since the last collection, by coin
and note, for the clerk to count against and file.

Laid out once as rows, then either as lines for the thermal receipt printer (42
columns, Shift_JIS) or as an A4 PDF for the document printer when there is no
receipt printer. It holds the terminal, time, staff identifier and amounts only.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from printouts.receipt import COLUMNS, JST, ReceiptLine, cells, yen
from kiosk.maintenance.text import translate

_WEEKDAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


@dataclass(frozen=True)
class CollectionSlip:
    terminal_id: str
    collected_at: dt.datetime  # timezone-aware; printed in JST
    who: str
    counts: dict[int, int]  # yen value -> coins or notes taken since the last collection

    @property
    def total(self) -> int:
        return sum(value * count for value, count in self.counts.items())


def slip_rows(slip: CollectionSlip, language: str) -> tuple[str, list[tuple[str, str]]]:
    """The title and (label, value) rows; ("", "") is a rule."""
    def _(text, **values):
        return translate(language, text, **values)

    at = slip.collected_at.astimezone(JST)
    day = _WEEKDAYS[language][at.weekday()]
    rows = [(_("Terminal"), slip.terminal_id),
            (_("Collected"), f"{at:%Y-%m-%d} ({day}) {at:%H:%M}"),
            (_("Staff"), slip.who),
            ("", "")]
    for value in sorted(slip.counts, reverse=True):
        count = slip.counts[value]
        rows.append((f"{yen(value)} × {count}", yen(value * count)))
    if not slip.counts:
        rows.append((_("Nothing taken in"), yen(0)))
    rows += [("", ""), (_("Total"), yen(slip.total))]
    return _("Cash collection slip"), rows


def slip_receipt_lines(slip: CollectionSlip, language: str) -> list[ReceiptLine]:
    title, rows = slip_rows(slip, language)
    lines = [ReceiptLine(title, bold=True, align="center"), ReceiptLine("")]
    for label, value in rows:
        if not label and not value:
            lines.append(ReceiptLine("-" * COLUMNS))
            continue
        gap = COLUMNS - cells(label) - cells(value)
        lines += ([ReceiptLine(label + " " * gap + value)] if gap >= 1
                  else [ReceiptLine(label), ReceiptLine(value, align="right")])
    return lines + [ReceiptLine(""), ReceiptLine(translate(language, "Signature") + ": " + "_" * 20)]


def slip_pdf(slip: CollectionSlip, language: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from printouts.fonts import mincho
    title, rows = slip_rows(slip, language)
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    width, height = A4
    left, right, y = 90, width - 90, height - 110
    page.setTitle(title)
    page.setFont(mincho(), 22)
    page.drawCentredString(width / 2, y, title)
    y -= 50
    page.setFont(mincho(), 13)
    for label, value in rows:
        if not label and not value:
            page.line(left, y + 8, right, y + 8)
        else:
            page.drawString(left, y, label)
            page.drawRightString(right, y, value)
        y -= 24
    page.drawString(left, y - 30, translate(language, "Signature") + ":")
    page.line(left + 80, y - 32, right, y - 32)
    page.showPage()
    page.save()
    return buffer.getvalue()

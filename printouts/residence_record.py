"""住民票の写し as a one-page A4 PDF: a ResidenceRecord in, PDF bytes out.

Drawn straight on a reportlab canvas (no platypus) so the layout is fixed the way a
municipal form is: label column, ruled boxes, the certifying block at the bottom.
"""
from __future__ import annotations

from io import BytesIO

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from printouts.fonts import mincho
from printouts.japanese_era import wareki
from printouts.records import HouseholdMember, ResidenceRecord

PAGE_W, PAGE_H = A4
LEFT, RIGHT = 50.0, PAGE_W - 50.0
LABEL_W = 80.0  # the shaded label column of the 住所 / 世帯主 / 備考 boxes
ROW_H = 30.0
MEMBER_ROW_H = 34.0
MAX_MEMBERS = 8  # what fits above the certifying block, with a 備考 box too

LABEL_SHADE = Color(0.92, 0.92, 0.92)
SEAL_RED = Color(0.82, 0.1, 0.1)

CERTIFYING_SENTENCE = "この写しは、住民票の原本と相違ないことを証明する。"

# 氏名 | 生年月日 | 性別 | 続柄 | 住民となった年月日, summing to RIGHT - LEFT.
MEMBER_COLUMNS: tuple[tuple[str, float], ...] = (
    ("氏名", 165.0),
    ("生年月日", 105.0),
    ("性別", 40.0),
    ("続柄", 65.0),
    ("住民となった年月日", 120.0),
)


def render_residence_record(record: ResidenceRecord) -> bytes:
    if not record.members:
        raise ValueError("a 住民票の写し needs at least one household member")
    if len(record.members) > MAX_MEMBERS:
        raise ValueError(f"{len(record.members)} members do not fit one page (max {MAX_MEMBERS})")

    buffer = BytesIO()
    font = mincho()
    # invariant: no timestamps or random ids, so the same record gives the same bytes;
    # initialFontName: otherwise every page references an unembedded Helvetica.
    canvas = Canvas(buffer, pagesize=A4, invariant=True, initialFontName=font)
    canvas.setTitle(f"住民票の写し {record.serial}")
    canvas.setAuthor(record.municipality)

    _draw_header(canvas, font, record)
    y = _draw_household_box(canvas, font, record, top=PAGE_H - 160)
    y = _draw_members_table(canvas, font, record.members, top=y - 18)
    if record.notes:
        y = _draw_labelled_box(canvas, font, "備考", "　".join(record.notes), top=y - 12)
    _draw_text(canvas, font, 10, LEFT + 4, y - 16, "以下余白")
    _draw_certification(canvas, font, record)
    _draw_footer(canvas, font, record)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_header(canvas: Canvas, font: str, record: ResidenceRecord) -> None:
    _draw_text(canvas, font, 10, RIGHT, PAGE_H - 45, f"証明書番号　{record.serial}", align="right")
    _draw_text(canvas, font, 13, LEFT, PAGE_H - 70, record.municipality)
    title, size, spacing = "住民票の写し", 24, 8  # spaced-out title, as on the printed forms
    width = stringWidth(title, font, size) + spacing * (len(title) - 1)
    text = canvas.beginText((PAGE_W - width) / 2, PAGE_H - 115)
    text.setFont(font, size)
    text.setCharSpace(spacing)
    text.textOut(title)
    text.setCharSpace(0)  # Tc is page text state: it would outlive this text object
    canvas.drawText(text)


def _draw_household_box(canvas: Canvas, font: str, record: ResidenceRecord, top: float) -> float:
    y = _draw_labelled_box(canvas, font, "住所", record.address, top)
    return _draw_labelled_box(canvas, font, "世帯主", record.head_of_household, y)


def _draw_labelled_box(canvas: Canvas, font: str, label: str, value: str, top: float) -> float:
    """One ruled row: shaded label cell, then the value. Returns the row's bottom."""
    bottom = top - ROW_H
    canvas.setFillColor(LABEL_SHADE)
    canvas.rect(LEFT, bottom, LABEL_W, ROW_H, stroke=0, fill=1)
    canvas.setFillColor(black)
    canvas.setLineWidth(0.8)
    canvas.rect(LEFT, bottom, RIGHT - LEFT, ROW_H)
    canvas.line(LEFT + LABEL_W, bottom, LEFT + LABEL_W, top)
    _draw_text(canvas, font, 11, LEFT + LABEL_W / 2, bottom + 10, label, align="centre")
    value_width = RIGHT - LEFT - LABEL_W - 16
    _draw_text(canvas, font, _fit(value, font, 12, value_width), LEFT + LABEL_W + 8, bottom + 10, value)
    return bottom


def _draw_members_table(canvas: Canvas, font: str, members: tuple[HouseholdMember, ...], top: float) -> float:
    header_bottom = top - 22
    canvas.setFillColor(LABEL_SHADE)
    canvas.rect(LEFT, header_bottom, RIGHT - LEFT, 22, stroke=0, fill=1)
    canvas.setFillColor(black)
    x = LEFT
    for heading, width in MEMBER_COLUMNS:
        size = _fit(heading, font, 10, width - 6)
        _draw_text(canvas, font, size, x + width / 2, header_bottom + 7, heading, align="centre")
        x += width

    row_top = header_bottom
    for member in members:
        _draw_member_row(canvas, font, member, row_top)
        row_top -= MEMBER_ROW_H

    canvas.setLineWidth(0.8)
    canvas.rect(LEFT, row_top, RIGHT - LEFT, top - row_top)
    x = LEFT
    for _, width in MEMBER_COLUMNS[:-1]:
        x += width
        canvas.line(x, row_top, x, top)
    canvas.line(LEFT, header_bottom, RIGHT, header_bottom)
    return row_top


def _draw_member_row(canvas: Canvas, font: str, member: HouseholdMember, top: float) -> None:
    bottom = top - MEMBER_ROW_H
    canvas.setLineWidth(0.4)
    canvas.line(LEFT, bottom, RIGHT, bottom)
    name_w, birth_w, sex_w, rel_w, resident_w = (w for _, w in MEMBER_COLUMNS)

    x = LEFT + 6
    _draw_text(canvas, font, _fit(member.name_kana, font, 7, name_w - 12), x, bottom + 22, member.name_kana)
    _draw_text(canvas, font, _fit(member.name, font, 13, name_w - 12), x, bottom + 7, member.name)

    cells = (
        (wareki(member.birth_date), birth_w),
        (member.sex, sex_w),
        (member.relationship, rel_w),
        (wareki(member.became_resident_on), resident_w),
    )
    x = LEFT + name_w
    for text, width in cells:
        size = _fit(text, font, 10.5, width - 8)
        _draw_text(canvas, font, size, x + width / 2, bottom + 12, text, align="centre")
        x += width


def _draw_certification(canvas: Canvas, font: str, record: ResidenceRecord) -> None:
    y = 215.0
    _draw_text(canvas, font, 12, LEFT + 12, y, CERTIFYING_SENTENCE)
    _draw_text(canvas, font, 12, LEFT + 24, y - 32, wareki(record.issued_on))
    seal_size = 58
    name_right = RIGHT - seal_size
    _draw_text(canvas, font, 14, name_right, y - 72, record.mayor, align="right")
    # The seal follows the name where a personal 印 would go, leaving the name legible.
    _draw_seal(canvas, font, _seal_text(record.mayor), x=name_right + 4, y=y - 94, size=seal_size)


def _seal_text(mayor: str) -> str:
    """"みどり市長　青木 一郎" -> "みどり市長之印": the office title, then 之印."""
    return mayor.split()[0] + "之印"


def _draw_seal(canvas: Canvas, font: str, text: str, x: float, y: float, size: float) -> None:
    """A fictional square official seal: red border, characters in vertical columns
    read right to left, spread as evenly as the character count allows."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2.4)
    canvas.rect(x, y, size, size)
    canvas.setLineWidth(0.8)
    canvas.rect(x + 3, y + 3, size - 6, size - 6)

    columns = _split_columns(text)
    inner = size - 10
    col_w = inner / len(columns)
    for i, column in enumerate(columns):
        cx = x + size - 5 - col_w * (i + 0.5)
        row_h = inner / len(column)
        char_size = min(col_w, row_h) * 0.9
        for j, char in enumerate(column):
            cy = y + size - 5 - row_h * (j + 0.5) - char_size * 0.36
            canvas.setFont(font, char_size)
            canvas.drawCentredString(cx, cy, char)
    canvas.restoreState()


def _split_columns(text: str) -> list[str]:
    """Split into about √n columns, longer columns first: 7 chars -> 3, 2, 2."""
    count = 1
    while count * count < len(text):
        count += 1
    base, extra = divmod(len(text), count)
    columns, start = [], 0
    for i in range(count):
        length = base + (1 if i < extra else 0)
        columns.append(text[start:start + length])
        start += length
    return [c for c in columns if c]


def _draw_footer(canvas: Canvas, font: str, record: ResidenceRecord) -> None:
    canvas.setLineWidth(0.4)
    canvas.line(LEFT, 60, RIGHT, 60)
    footer = f"{record.municipality}　住民票の写し（コンビニ交付）　証明書番号 {record.serial}　1/1"
    _draw_text(canvas, font, 7.5, PAGE_W / 2, 48, footer, align="centre")
    _draw_text(canvas, font, 7.5, PAGE_W / 2, 37,
               "この証明書はキオスク端末で交付されたものです。内容の照会は交付した市区町村へお問い合わせください。",
               align="centre")


def _draw_text(canvas: Canvas, font: str, size: float, x: float, y: float, text: str,
               align: str = "left") -> None:
    canvas.setFont(font, size)
    if align == "centre":
        canvas.drawCentredString(x, y, text)
    elif align == "right":
        canvas.drawRightString(x, y, text)
    else:
        canvas.drawString(x, y, text)


def _fit(text: str, font: str, size: float, max_width: float) -> float:
    """The font size at most `size` at which `text` fits `max_width` (long addresses)."""
    width = stringWidth(text, font, size)
    return size if width <= max_width else size * max_width / width

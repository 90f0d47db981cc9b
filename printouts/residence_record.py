"""住民票の写し and 住民票記載事項証明書: a ResidenceRecord in, PDF bytes out.

The household's 住所 (and 世帯主, when chosen), then one ruled block per member: the
main row (氏名 with its reading, 生年月日, 性別, 続柄 when chosen, 住民となった年月日) and,
under it, a line for each option the resident chose. An option not chosen arrives as
None and leaves no trace: no heading, no empty box that looks like a blank to fill.
Members run onto further pages, the column headings repeated on each.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from contract.documents import DOCUMENT_TITLES
from printouts.certificate_page import BODY_W, RenderedPdf, render_certificate_pdf
from printouts.fonts import mincho
from printouts.japanese_era import seireki, wareki
from printouts.page_flow import Block, spacer, stack
from printouts.records import HouseholdMember, ResidenceRecord
from printouts.ruled_rows import Cell, label, labelled_row, row, ruled_above

TITLES = {"copy": DOCUMENT_TITLES["residence_record"], "items": DOCUMENT_TITLES["residence_record_items"]}
CERTIFYING_SENTENCES = {
    "copy": "この写しは、住民票の原本と相違ないことを証明する。",
    "items": "上記の事項は、住民票の記載事項と相違ないことを証明する。",
}

MAIN_ROW_H = 36.0
OPTION_ROW_H = 20.0
OPTION_LABEL_W = 88.0  # fits 在留カード等の番号
FIRST_OF_TWO = 0.6  # a line of two options gives the first value (本籍, 国籍) this share


def render_residence_record(record: ResidenceRecord, verification_code: str) -> RenderedPdf:
    if not record.members:
        raise ValueError("a 住民票 needs at least one household member")
    font = mincho()
    columns = _member_columns(show_relationship=any(m.relationship is not None for m in record.members))
    headings = row(font, [label(width, heading, size=9) for heading, width in columns], height=20)

    body: list[Block] = [labelled_row(font, "住所", record.address)]
    if record.head_of_household is not None:
        body.append(labelled_row(font, "世帯主", record.head_of_household))
    body += [spacer(12), replace(headings, keep_with_next=True)]
    body += [_member_block(font, member, columns, headings) for member in record.members]
    return render_certificate_pdf(
        record.certification,
        title=TITLES[record.kind],
        certifying_sentence=CERTIFYING_SENTENCES[record.kind],
        verification_code=verification_code,
        body=body,
        title_note="（世帯全員）" if record.whole_household else "（世帯一部）",
    )


def _member_columns(show_relationship: bool) -> tuple[tuple[str, float], ...]:
    """(heading, width) of the main row, summing to the body's width."""
    birth, sex, relationship = 100.0, 40.0, 65.0
    resident_on = 120.0
    name = BODY_W - birth - sex - resident_on - (relationship if show_relationship else 0.0)
    columns = [("氏名", name), ("生年月日", birth), ("性別", sex)]
    if show_relationship:
        columns.append(("続柄", relationship))
    columns.append(("住民となった年月日", resident_on))
    return tuple(columns)


def _member_block(font: str, member: HouseholdMember, columns: tuple[tuple[str, float], ...],
                  headings: Block) -> Block:
    widths = dict(columns)
    # a foreign resident's own dates are Western-calendar, as on the residence card
    birth = seireki(member.birth_date) if member.foreign else wareki(member.birth_date)
    main = [
        Cell(widths["氏名"], member.name, size=12.5, ruby=member.name_kana),
        Cell(widths["生年月日"], birth, size=10, align="centre"),
        Cell(widths["性別"], member.sex, size=10, align="centre"),
    ]
    if "続柄" in widths:
        main.append(Cell(widths["続柄"], member.relationship or "（省略）", size=10, align="centre"))
    main.append(Cell(widths["住民となった年月日"], wareki(member.became_resident_on), size=10, align="centre"))

    rows = [row(font, main, min_height=MAIN_ROW_H)]
    rows += [_option_row(font, pairs) for pairs in _option_lines(member)]
    return ruled_above(stack(rows, heading_on_new_page=headings))


def _option_lines(member: HouseholdMember) -> list[list[tuple[str, str]]]:
    """The chosen options, as lines of (label, value) pairs; a None is left out."""
    lines: list[list[tuple[str, str | None]]] = [
        [("本籍", member.domicile), ("筆頭者", member.domicile_head)],
        [("個人番号", member.my_number)],
    ]
    facts = member.foreign
    if facts is not None:
        lines += [
            [("国籍・地域", facts.nationality), ("在留カード等の番号", facts.residence_card_number)],
            [("在留資格", facts.status_of_residence)],
            [("在留期間", facts.period_of_stay), ("在留期間の満了の日", _date_or_none(facts.period_expires_on))],
        ]
    chosen = [[(name, value) for name, value in line if value is not None] for line in lines]
    return [line for line in chosen if line]


def _date_or_none(day: date | None) -> str | None:
    return None if day is None else seireki(day)


def _option_row(font: str, pairs: list[tuple[str, str]]) -> Block:
    values_w = BODY_W - OPTION_LABEL_W * len(pairs)
    shares = [1.0] if len(pairs) == 1 else [FIRST_OF_TWO, 1.0 - FIRST_OF_TWO]
    cells: list[Cell] = []
    for (name, value), share in zip(pairs, shares):
        cells += [label(OPTION_LABEL_W, name, size=8), Cell(values_w * share, value, size=9.5)]
    return row(font, cells, min_height=OPTION_ROW_H)

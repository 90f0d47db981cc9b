"""戸籍全部事項証明書 / 戸籍個人事項証明書: a FamilyRegister in, PDF bytes out.

本籍 and 氏名 (the 筆頭者), the register's own events (戸籍事項), then each person
(戸籍に記録されている者) with their 身分事項, one ruled row per event. A person's
heading never ends a page; when their events run onto the next page, it opens with a
"（続き）" row naming them.
"""
from __future__ import annotations

from dataclasses import replace

from contract.documents import DOCUMENT_TITLES
from printouts.certificate_page import BODY_W, RenderedPdf, render_certificate_pdf
from printouts.fonts import mincho
from printouts.japanese_era import wareki
from printouts.page_flow import Block, spacer
from printouts.records import FamilyRegister, RegisterEvent, RegisterPerson
from printouts.ruled_rows import LABEL_W, Cell, label, labelled_row, row, ruled_above

TITLES = {"full": DOCUMENT_TITLES["family_register_full"],
          "individual": DOCUMENT_TITLES["family_register_individual"]}
CERTIFYING_SENTENCES = {
    "full": "これは、戸籍に記録されている事項の全部を証明した書面である。",
    "individual": "これは、戸籍に記録されている事項の一部を証明した書面である。",
}

EVENT_LABEL_W = 72.0
ENTRY_SIZE = 10.0
ROW_MIN_H = 24.0


def render_family_register(record: FamilyRegister, verification_code: str) -> RenderedPdf:
    font = mincho()
    body: list[Block] = [
        labelled_row(font, "本籍", record.domicile),
        labelled_row(font, "氏名", record.head),
        spacer(10),
    ]
    body += _events(font, "戸籍事項", record.register_events, continued=None)
    for person in record.persons:
        body += [spacer(10), _person_heading(font, person)]
        body += _events(font, "身分事項", person.events, continued=_continued(font, person))
    return render_certificate_pdf(record.certification, title=TITLES[record.kind],
                                  certifying_sentence=CERTIFYING_SENTENCES[record.kind],
                                  verification_code=verification_code, body=body)


def _person_heading(font: str, person: RegisterPerson) -> Block:
    entry = "\n".join((
        f"【氏名】{person.name}",
        f"【生年月日】{wareki(person.birth_date)}　【続柄】{person.relationship}",
        f"【父】{person.father}",
        f"【母】{person.mother}",
    ))
    heading = row(font, [label(LABEL_W, "戸籍に記録されている者"), Cell(BODY_W - LABEL_W, entry, size=ENTRY_SIZE)])
    return replace(ruled_above(heading), keep_with_next=True)


def _continued(font: str, person: RegisterPerson) -> Block:
    return row(font, [label(LABEL_W, "（続き）"), Cell(BODY_W - LABEL_W, person.name, size=9)], height=20)


def _events(font: str, section: str, events: tuple[RegisterEvent, ...], continued: Block | None) -> list[Block]:
    """One row per event; the section's name labels the first."""
    rows = []
    for index, event in enumerate(events):
        entry = f"【{event.label}日】{wareki(event.on)}\n{event.detail}"
        cells = [
            label(LABEL_W, section if index == 0 else ""),
            Cell(EVENT_LABEL_W, event.label, size=ENTRY_SIZE, align="centre"),
            Cell(BODY_W - LABEL_W - EVENT_LABEL_W, entry, size=ENTRY_SIZE),
        ]
        rows.append(replace(row(font, cells, min_height=ROW_MIN_H), heading_on_new_page=continued))
    return rows

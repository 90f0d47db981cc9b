"""戸籍の附票の写し: a RegisterAnnex in, PDF bytes out.

本籍 and 筆頭者, then a ruled table of the people in the register with their current
address only (the store never prints address histories) and the day it was set.
Entries run onto further pages, the column headings repeated on each.
"""
from __future__ import annotations

from dataclasses import replace

from contract.documents import DOCUMENT_TITLES
from printouts.certificate_page import BODY_W, RenderedPdf, render_certificate_pdf
from printouts.fonts import mincho
from printouts.japanese_era import wareki
from printouts.page_flow import Block, spacer
from printouts.records import AnnexEntry, RegisterAnnex
from printouts.ruled_rows import Cell, label, labelled_row, row

CERTIFYING_SENTENCE = "この写しは、戸籍の附票の原本と相違ないことを証明する。"

NAME_W, SET_ON_W = 120.0, 105.0
COLUMNS = (("氏名", NAME_W), ("住所", BODY_W - NAME_W - SET_ON_W), ("住所を定めた年月日", SET_ON_W))


def render_register_annex(record: RegisterAnnex, verification_code: str) -> RenderedPdf:
    font = mincho()
    headings = row(font, [label(width, heading, size=9) for heading, width in COLUMNS], height=20)
    body: list[Block] = [
        labelled_row(font, "本籍", record.domicile),
        labelled_row(font, "筆頭者", record.head),
        spacer(12),
        replace(headings, keep_with_next=True),
    ]
    body += [_entry_row(font, entry, headings) for entry in record.entries]
    return render_certificate_pdf(record.certification, title=DOCUMENT_TITLES["family_register_annex"],
                                  certifying_sentence=CERTIFYING_SENTENCE, verification_code=verification_code,
                                  body=body)


def _entry_row(font: str, entry: AnnexEntry, headings: Block) -> Block:
    (_, name_w), (_, address_w), (_, set_on_w) = COLUMNS
    cells = [
        Cell(name_w, entry.name, size=12),
        Cell(address_w, entry.address, size=10.5),
        Cell(set_on_w, wareki(entry.address_set_on), size=10, align="centre"),
    ]
    return replace(row(font, cells, min_height=34), heading_on_new_page=headings)

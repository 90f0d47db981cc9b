"""Turns registry rows into the printed document a municipality would issue."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from municipal.registry import member_from_row
from municipal.verification import Refused
from printouts.pdf_pages import count_pages
from printouts.records import ResidenceRecord
from printouts.residence_record import render_residence_record

JST = dt.timezone(dt.timedelta(hours=9))


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    pages: int
    serial: str
    municipality: str


def render_document(conn, document_type: str, resident_id: str) -> RenderedDocument:
    if document_type != "residence_record":
        raise Refused("document_not_offered", f"{document_type} is not issued by this stub yet")
    household = conn.execute(
        "SELECT h.id, h.address, m.code, m.name, m.mayor FROM residents r JOIN households h ON h.id = r.household"
        " JOIN municipalities m ON m.code = h.municipality WHERE r.id = ?", (resident_id,)).fetchone()
    members = conn.execute("SELECT * FROM residents WHERE household = ? ORDER BY position",
                           (household["id"],)).fetchall()
    today = dt.datetime.now(JST).date()
    serial = f"{household['code']}-{today:%Y%m%d}-{secrets.token_hex(4).upper()}"
    head = next((m["name"] for m in members if m["relationship"] == "世帯主"), members[0]["name"])
    record = ResidenceRecord(municipality=household["name"], mayor=household["mayor"],
                             address=household["address"], head_of_household=head,
                             members=tuple(member_from_row(m) for m in members),
                             serial=serial, issued_on=today)
    pdf = render_residence_record(record)
    return RenderedDocument(pdf=pdf, pages=count_pages(pdf), serial=serial,
                            municipality=household["code"])

"""Turns registry rows into the certificate a municipality would issue: the record
(only what the resident chose, nothing the store never prints) and its printed
verification code, ready to render (municipal.rendering).

Everything here reads from one connection and returns values: two requests never
share anything but the database.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from contract.issuance import DocumentOptions
from municipal.rules import RESIDENCE_DOCUMENTS, active_seal, household_members, shown_to_others, tax_record
from municipal.verification import Refused
from municipal.verification_code import certified_content, content_sha256, make_code
from printouts.records import (AnnexEntry, Certificate, Certification, FamilyRegister, ForeignResidentFacts,
                               HouseholdMember, RegisterAnnex, RegisterEvent, RegisterPerson, ResidenceRecord,
                               SealCertificate, TaxCertificate)


@dataclass(frozen=True)
class PreparedDocument:
    """A certificate ready to render: its record and printed code, and what the
    issuance keeps of it."""
    record: Certificate
    serial: str
    municipality: str  # code of the certifying municipality
    content: dict  # what the verification code's digest covers
    code: str


def prepare_document(conn: sqlite3.Connection, document_type: str, resident_id: str, options: DocumentOptions,
                     today: dt.date, signers: Mapping[str, ec.EllipticCurvePrivateKey]) -> PreparedDocument:
    """signers: each municipality's document-signing key, by code (it signs only its own)."""
    resident = conn.execute("SELECT * FROM residents WHERE id = ?", (resident_id,)).fetchone()
    municipality = _certifying_municipality(conn, document_type, resident)
    if municipality is None:  # e.g. a family-register document for someone without a register
        raise Refused("document_not_offered", f"{document_type} is not kept for this resident")
    serial = f"{municipality['code']}-{today:%Y%m%d}-{secrets.token_hex(5).upper()}"
    certification = Certification(municipality=municipality["name"], mayor=municipality["mayor"],
                                  serial=serial, issued_on=today)
    record = _build_record(conn, document_type, resident, options, certification, today)
    content = certified_content(record)
    code = make_code(serial, content_sha256(content), signers[municipality["code"]])
    return PreparedDocument(record=record, serial=serial, municipality=municipality["code"], content=content,
                            code=code)


def _certifying_municipality(conn, document_type: str, resident: sqlite3.Row) -> sqlite3.Row:
    """Family-register documents are certified by the municipality of the 本籍; the
    rest by the municipality the resident lives in."""
    if document_type.startswith("family_register"):
        return conn.execute("SELECT m.* FROM municipalities m JOIN family_registers f ON f.municipality = m.code"
                            " WHERE f.id = ?", (resident["family_register"],)).fetchone()
    return conn.execute("SELECT m.* FROM municipalities m JOIN households h ON h.municipality = m.code"
                        " WHERE h.id = ?", (resident["household"],)).fetchone()


def _build_record(conn, document_type, resident, options, certification, today) -> Certificate:
    if document_type in RESIDENCE_DOCUMENTS:
        return _residence_record(conn, document_type, resident, options, certification, today)
    if document_type == "seal_certificate":
        seal = active_seal(conn, resident["id"])
        return SealCertificate(certification=certification, name=resident["name"],
                               birth_date=_day(resident["birth_date"]), sex=resident["sex"],
                               address=_address(conn, resident), impression=seal["impression"])
    if document_type == "tax_certificate":
        tax = tax_record(conn, resident["id"], today)
        if tax is None:
            raise Refused("tax_record_unavailable", "no tax record for the current fiscal year")
        return TaxCertificate(certification=certification, fiscal_year=tax["fiscal_year"], name=resident["name"],
                              address=tax["address"], birth_date=_day(resident["birth_date"]),
                              **{k: tax[k] for k in ("income_yen", "salary_revenue_yen", "deductions_yen",
                                                     "taxable_income_yen", "municipal_tax_yen",
                                                     "prefectural_tax_yen", "dependants")})
    return _family_register_document(conn, document_type, resident, certification)


def _residence_record(conn, document_type, resident, options: DocumentOptions, certification, today):
    household = conn.execute("SELECT * FROM households WHERE id = ?", (resident["household"],)).fetchone()
    everyone = household_members(conn, household["id"], today)
    # No members chosen means all the offer listed: never a protected member, and then
    # the paper says 世帯一部, never a whole household with someone silently left out.
    shown = shown_to_others(everyone)
    chosen = shown if options.members is None else [m for m in shown if m["id"] in options.members]
    include = set(options.include)
    head = next((m["name"] for m in shown if m["relationship"] == "世帯主"), None)
    return ResidenceRecord(
        certification=certification, address=household["address"],
        head_of_household=head if "relationship" in include else None,
        members=tuple(_member(conn, m, include) for m in chosen),
        whole_household=len(chosen) == len(everyone),
        kind="copy" if document_type == "residence_record" else "items")


def _member(conn, row: sqlite3.Row, include: set[str]) -> HouseholdMember:
    domicile = domicile_head = None
    if "domicile" in include and row["nationality"] is None and row["family_register"]:
        register = conn.execute("SELECT domicile, head FROM family_registers WHERE id = ?",
                                (row["family_register"],)).fetchone()
        domicile, domicile_head = register["domicile"], register["head"]
    foreign = None
    if row["nationality"] is not None:
        foreign = ForeignResidentFacts(
            nationality=row["nationality"] if "nationality" in include else None,
            residence_card_number=row["residence_card_number"] if "residence_card" in include else None,
            status_of_residence=row["status_of_residence"] if "residence_status" in include else None,
            period_of_stay=row["period_of_stay"] if "residence_status" in include else None,
            period_expires_on=_day(row["period_expires_on"]) if "residence_status" in include else None)
    return HouseholdMember(
        name=row["name"], name_kana=row["name_kana"], birth_date=_day(row["birth_date"]), sex=row["sex"],
        relationship=row["relationship"] if "relationship" in include else None,
        became_resident_on=_day(row["became_resident_on"]), domicile=domicile, domicile_head=domicile_head,
        my_number=row["my_number"] if "my_number" in include else None, foreign=foreign)


def _family_register_document(conn, document_type, resident, certification):
    register = conn.execute("SELECT * FROM family_registers WHERE id = ?", (resident["family_register"],)).fetchone()
    persons = conn.execute("SELECT * FROM register_persons WHERE register = ? ORDER BY position",
                           (register["id"],)).fetchall()
    if document_type == "family_register_annex":
        return RegisterAnnex(certification=certification, domicile=register["domicile"], head=register["head"],
                             entries=tuple(_annex_entry(conn, p) for p in persons if p["resident"]))
    if document_type == "family_register_individual":
        persons = [p for p in persons if p["resident"] == resident["id"]]
    return FamilyRegister(
        certification=certification, domicile=register["domicile"], head=register["head"],
        register_events=_events(register["events"]),
        persons=tuple(RegisterPerson(name=p["name"], birth_date=_day(p["birth_date"]), father=p["father"],
                                     mother=p["mother"], relationship=p["relationship"], events=_events(p["events"]))
                      for p in persons),
        kind="individual" if document_type == "family_register_individual" else "full")


def _annex_entry(conn, person: sqlite3.Row) -> AnnexEntry:
    """The 附票 records where each person of the register lives now: their household's
    address and the day they became resident there."""
    row = conn.execute("SELECT r.became_resident_on, h.address FROM residents r JOIN households h"
                       " ON h.id = r.household WHERE r.id = ?", (person["resident"],)).fetchone()
    return AnnexEntry(name=person["name"], address=row["address"], address_set_on=_day(row["became_resident_on"]))


def _address(conn, resident: sqlite3.Row) -> str:
    return conn.execute("SELECT address FROM households WHERE id = ?", (resident["household"],)).fetchone()["address"]


def _events(text: str) -> tuple[RegisterEvent, ...]:
    return tuple(RegisterEvent(label=e["label"], on=_day(e["on"]), detail=e["detail"]) for e in json.loads(text))


def _day(iso: str | None) -> dt.date | None:
    return None if iso is None else dt.date.fromisoformat(iso)

"""What a resident may get at a store terminal right now: the municipalities' rules
(hours, closed days, age limit, character limits, My Number policy) applied to one
resident's rows. Pure functions of the rows and the Japan-time clock.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from contract.issuance import DocumentOffer, MemberChoice
from municipal.verification import Refused

RESIDENCE_DOCUMENTS = ("residence_record", "residence_record_items")
FAMILY_REGISTER_DOCUMENTS = ("family_register_full", "family_register_individual", "family_register_annex")
WHOLE_REGISTER_DOCUMENTS = ("family_register_full", "family_register_annex")  # every person of the register
MAX_COPIES = 10


class ServiceClosed(Refused):
    def __init__(self, document_type: str, opening_hours: str):
        super().__init__("service_closed", f"{document_type} is not issued at this hour or day")
        self.opening_hours = opening_hours


@dataclass(frozen=True)
class OpeningHours:
    opens: dt.time
    closes: dt.time
    weekdays_only: bool = False

    @classmethod
    def parse(cls, text: str, *, weekdays_only: bool = False) -> "OpeningHours":
        opens, closes = (dt.time.fromisoformat(part) for part in text.split("-"))
        return cls(opens, closes, weekdays_only)

    def text(self) -> str:
        """As the kiosk shows it: "06:30-23:00", or "mon-fri 09:00-17:00"."""
        span = f"{self.opens:%H:%M}-{self.closes:%H:%M}"
        return f"mon-fri {span}" if self.weekdays_only else span

    def covers(self, now: dt.datetime) -> bool:
        if self.weekdays_only and now.weekday() >= 5:
            return False
        return self.opens <= now.time() < self.closes


def _closed_on(day: dt.date, closed_month_days: list[str], closed_dates: list[str] = ()) -> bool:
    return f"{day:%m-%d}" in closed_month_days or day.isoformat() in closed_dates


def service_hours(municipality: sqlite3.Row) -> OpeningHours:
    return OpeningHours.parse(municipality["hours"])


def family_register_hours(municipality: sqlite3.Row) -> OpeningHours:
    return OpeningHours.parse(municipality["family_register_hours"], weekdays_only=True)


def service_open(municipality: sqlite3.Row, now: dt.datetime) -> bool:
    day = now.date()
    return (not _closed_on(day, json.loads(municipality["closed"]), json.loads(municipality["maintenance_days"]))
            and service_hours(municipality).covers(now))


def family_register_open(municipality: sqlite3.Row, now: dt.datetime) -> bool:
    return (service_open(municipality, now)
            and not _closed_on(now.date(), json.loads(municipality["family_register_closed"]))
            and family_register_hours(municipality).covers(now))


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _on_or_before(iso_day: str | None, day: dt.date) -> bool:
    return iso_day is not None and dt.date.fromisoformat(iso_day) <= day


def check_resident(resident: sqlite3.Row, household: sqlite3.Row, municipality: sqlite3.Row,
                   card_issued_on: str, today: dt.date) -> None:
    """Refuse a resident the store terminal may not serve at all. A protection
    measure answers counter_only, the same code as names and addresses the printing
    system cannot hold, so the answer reveals nothing."""
    if _on_or_before(resident["moved_out_on"], today) or resident["removed_on"] is not None:
        raise Refused("moved_out", "the resident has moved out of the municipality")
    if resident["protected"] or len(resident["name"]) > municipality["name_limit"] \
            or len(household["address"]) > municipality["address_limit"]:
        raise Refused("counter_only", "this resident's certificates are issued at the municipal counter only")
    if age_on(dt.date.fromisoformat(resident["birth_date"]), today) < municipality["age_limit"]:
        raise Refused("age_limit", "the resident is under the municipality's age limit")
    if card_issued_on == today.isoformat():
        raise Refused("not_yet_usable", "a card cannot be used at a store on the day it was issued")


def current_fiscal_year(today: dt.date) -> int:
    """A fiscal year's tax is assessed in June: until then the latest is last year's."""
    return today.year if today.month >= 6 else today.year - 1


def household_members(conn: sqlite3.Connection, household: str, today: dt.date) -> list[sqlite3.Row]:
    """The household today: never anyone removed or moved out."""
    rows = conn.execute("SELECT * FROM residents WHERE household = ? AND removed_on IS NULL ORDER BY position",
                        (household,)).fetchall()
    return [r for r in rows if not _on_or_before(r["moved_out_on"], today)]


def shown_to_others(members: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """Members another resident's 住民票 may show: a protection measure keeps a person
    off every document but her own, and hers are issued at the counter only."""
    return [m for m in members if not m["protected"]]


def protected_head(members: list[sqlite3.Row]) -> bool:
    """世帯主・続柄 would name a protected head of household on everyone's 住民票."""
    return any(m["protected"] and m["relationship"] == "世帯主" for m in members)


def document_offers(conn: sqlite3.Connection, resident: sqlite3.Row, now: dt.datetime) -> list[DocumentOffer]:
    """Every document this resident's municipalities offer, each marked available now
    or not, with the reason and the hours."""
    today = now.date()
    municipality = conn.execute("SELECT m.* FROM municipalities m JOIN households h ON h.municipality = m.code"
                                " WHERE h.id = ?", (resident["household"],)).fetchone()
    fees = _fees(conn, municipality["code"])
    open_now = service_open(municipality, now)
    hours = service_hours(municipality).text()
    offers = []
    for kind in (*RESIDENCE_DOCUMENTS, "seal_certificate", "tax_certificate"):
        if kind not in fees:
            continue
        refusal = None if open_now else "service_closed"
        if refusal is None and kind == "seal_certificate" and _active_seal(conn, resident["id"]) is None:
            refusal = "seal_not_registered"
        if refusal is None and kind == "tax_certificate" and tax_record(conn, resident["id"], today) is None:
            refusal = "tax_record_unavailable"
        options, members = ((), ())
        if kind in RESIDENCE_DOCUMENTS:
            options, members = _residence_choices(conn, resident, municipality, today)
        offers.append(DocumentOffer(type=kind, municipality=municipality["code"], fee_yen=fees[kind],
                                    available=refusal is None, refusal=refusal, opening_hours=hours, options=options,
                                    members=members, max_copies=MAX_COPIES))
    offers += _family_register_offers(conn, resident, now)
    return offers


def _fees(conn: sqlite3.Connection, municipality: str) -> dict[str, int]:
    return {row["type"]: row["fee_yen"] for row in conn.execute(
        "SELECT type, fee_yen FROM offered_documents WHERE municipality = ?", (municipality,))}


def _active_seal(conn: sqlite3.Connection, resident: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM seals WHERE resident = ? AND cancelled_on IS NULL", (resident,)).fetchone()


def active_seal(conn: sqlite3.Connection, resident: str) -> sqlite3.Row:
    seal = _active_seal(conn, resident)
    if seal is None:
        raise Refused("seal_not_registered", "the resident has no registered seal")
    return seal


def tax_record(conn: sqlite3.Connection, resident: str, today: dt.date) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM tax_records WHERE resident = ? AND fiscal_year = ?",
                        (resident, current_fiscal_year(today))).fetchone()


def _residence_choices(conn, resident, municipality, today):
    """The members and options offered are those the document may show: a protected
    member is left out of both, so even her nationality does not add an option."""
    everyone = household_members(conn, resident["household"], today)
    members = shown_to_others(everyone)
    options = [] if protected_head(everyone) else ["relationship"]
    if any(m["nationality"] is None and m["family_register"] for m in members):
        options.append("domicile")
    if municipality["my_number_allowed"]:
        options.append("my_number")
    if any(m["nationality"] is not None for m in members):
        options += ["nationality", "residence_card", "residence_status"]
    choices = tuple(MemberChoice(id=m["id"], name=m["name"], is_cardholder=m["id"] == resident["id"])
                    for m in members)
    return tuple(options), choices


def _family_register_offers(conn, resident, now) -> list[DocumentOffer]:
    """Family-register documents come from the municipality holding the register,
    at its fees and hours; a register elsewhere needs the resident's registration.
    A document of the whole register would show a protected person (the 附票 her
    address) to someone else: counter_only, whatever the hour, as for any resident
    the store may not serve, so the answer reveals nothing more."""
    if resident["family_register"] is None:
        return []
    register_municipality = conn.execute(
        "SELECT m.* FROM municipalities m JOIN family_registers f ON f.municipality = m.code WHERE f.id = ?",
        (resident["family_register"],)).fetchone()
    home = conn.execute("SELECT municipality FROM households WHERE id = ?", (resident["household"],)).fetchone()
    fees = _fees(conn, register_municipality["code"])
    not_enrolled = register_municipality["code"] != home["municipality"] and not resident["family_register_enrolled"]
    shows_protected = _register_holds_someone_protected(conn, resident)
    open_now = family_register_open(register_municipality, now)
    hours = family_register_hours(register_municipality).text()
    offers = []
    for kind in (k for k in FAMILY_REGISTER_DOCUMENTS if k in fees):
        if not_enrolled:
            refusal = "family_register_not_enrolled"
        elif shows_protected and kind in WHOLE_REGISTER_DOCUMENTS:
            refusal = "counter_only"
        else:
            refusal = None if open_now else "service_closed"
        offers.append(DocumentOffer(type=kind, municipality=register_municipality["code"], fee_yen=fees[kind],
                                    available=refusal is None, refusal=refusal, opening_hours=hours,
                                    max_copies=MAX_COPIES))
    return offers


def _register_holds_someone_protected(conn, resident) -> bool:
    """Whether the resident's family register holds anyone else under a protection measure."""
    return conn.execute("SELECT 1 FROM register_persons p JOIN residents r ON r.id = p.resident"
                        " WHERE p.register = ? AND r.protected AND r.id != ?",
                        (resident["family_register"], resident["id"])).fetchone() is not None


def check_request(offers: list[DocumentOffer], document_type: str, copies: int, options) -> DocumentOffer:
    """The offer a request is for, if the request fits it; else the reason it does not."""
    offer = next((o for o in offers if o.type == document_type), None)
    if offer is None:
        raise Refused("document_not_offered", f"{document_type} is not offered to this resident")
    if offer.refusal == "service_closed":
        raise ServiceClosed(document_type, offer.opening_hours)
    if not offer.available:
        raise Refused(offer.refusal, f"{document_type} is not available to this resident")
    if not 1 <= copies <= offer.max_copies:
        raise Refused("copies_out_of_range", f"copies must be 1 to {offer.max_copies}", 400)
    if not set(options.include) <= set(offer.options):
        raise Refused("option_not_allowed", "an option is not allowed for this document or resident", 400)
    if options.members is not None:
        if document_type not in RESIDENCE_DOCUMENTS:
            raise Refused("option_not_allowed", "members are chosen on residence records only", 400)
        if not options.members or not set(options.members) <= {m.id for m in offer.members}:
            raise Refused("member_not_in_household", "a chosen member is not in the household", 400)
    return offer

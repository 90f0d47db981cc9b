"""A protection measure (支援措置) protects the person, not only her own card.

R1101 (protected) moved away from R1001 to あおば町 with their daughter R1102, and
stays in his family register FR005. No document another resident can get at a store
shows her: the 附票 and 戸籍全部事項証明書 of her register go to the counter
(counter_only, the code an over-long name gets), and a 住民票 of her household
leaves her out and says so (世帯一部)."""
from __future__ import annotations

import sqlite3

import pytest

from devices.card.cardfile import CardFile
from kiosk.issuance_client import ServiceRefused
from municipal.cli import card_path
from tests.kiosk_runs import pdf_text_of_bytes
from tests.test_issuance_rules import issue, offers_at, refusal, session_for
from tests.test_issuance_service import client_for, open_session

# As the PDFs' text shows them (whitespace dropped), and as the registry stores them.
HER_ADDRESS = "架空県あおば町東町二丁目9番4号"
HER_DETAILS = ("石川由紀", "いしかわゆき", "昭和53年2月20日", "223606797744")
HER_STORED_DETAILS = ("石川 由紀", "いしかわ ゆき", "1978-02-20", "223606797744")
# The daughter's own register entry names her mother: her own record, not her mother's.
AS_HER_DAUGHTERS_MOTHER = ("【母】石川由紀", '"mother": "石川 由紀"')
WHOLE_REGISTER = ("family_register_annex", "family_register_full")


def shows_her(text: str, details=HER_DETAILS) -> bool:
    for mention in AS_HER_DAUGHTERS_MOTHER:
        text = text.replace(mention, "")
    return any(value in text for value in details)


def every_option(offer) -> dict:
    return {"include": offer.options} if offer.options else {}


def stored_contents(data) -> list[str]:
    """What the center keeps of each issued document (and the verification site shows)."""
    with sqlite3.connect(data / "registry.sqlite") as db:
        return [content for (content,) in db.execute("SELECT content FROM issuances")]


@pytest.mark.parametrize("resident", ["R1001", "R1102"])
def test_her_registers_annex_and_full_certificate_are_counter_only_for_anyone_else(stub, resident):
    client, session = session_for(stub, resident)
    offers = {d.type: d for d in session.documents}
    for kind in WHOLE_REGISTER:
        assert (offers[kind].available, offers[kind].refusal) == (False, "counter_only"), kind
        assert refusal(lambda: issue(client, session, kind)) == "counter_only", kind
    # a certificate of the requester's own entry does not show her
    assert offers["family_register_individual"].available
    text = pdf_text_of_bytes(issue(client, session, "family_register_individual").pdf)
    assert "戸籍個人事項証明書" in text and not shows_her(text)


def test_out_of_hours_the_husband_is_not_told_to_come_back_for_her_annex(stub_template):
    """On a Saturday the register's documents are closed, but her 附票 would still not be
    issued in hours: the offer says counter_only, not the hours."""
    offers = offers_at(stub_template, "R1001", "2026-11-28T10:00")
    assert [offers[kind].refusal for kind in WHOLE_REGISTER] == ["counter_only", "counter_only"]
    assert offers["family_register_individual"].refusal == "service_closed"


def test_nothing_her_husband_can_get_shows_her_address_or_details(stub):
    _, data = stub
    client, session = session_for(stub, "R1001")
    available = [d for d in session.documents if d.available]
    assert {d.type for d in available} >= {"residence_record", "family_register_individual"}
    for offer in available:
        text = pdf_text_of_bytes(issue(client, session, offer.type, **every_option(offer)).pdf)
        assert HER_ADDRESS not in text and not shows_her(text), offer.type
    # asked for anyway, nothing is issued, and nothing kept shows her either
    for kind in WHOLE_REGISTER:
        refusal(lambda: issue(client, session, kind))
    contents = stored_contents(data)
    assert len(contents) == len(available)
    assert not any(shows_her(content, (HER_ADDRESS, *HER_STORED_DETAILS)) for content in contents)


def test_the_household_residence_record_offered_to_her_daughter_leaves_her_out(stub):
    client, session = session_for(stub, "R1102")
    record = next(d for d in session.documents if d.type == "residence_record")
    assert [(m.id, m.is_cardholder) for m in record.members] == [("R1102", True)]
    assert "relationship" not in record.options  # 世帯主 would print her name
    # members left out: what the kiosk sends when everyone offered is ticked
    text = pdf_text_of_bytes(issue(client, session, "residence_record", **every_option(record)).pdf)
    assert "石川葵" in text and not shows_her(text)
    assert "（世帯一部）" in text and "世帯全員" not in text  # never a whole household without her
    for members in (("R1101",), ("R1102", "R1101")):
        assert refusal(lambda: issue(client, session, "residence_record", members=members)) \
            == "member_not_in_household"
    assert refusal(lambda: issue(client, session, "residence_record", include=("relationship",))) \
        == "option_not_allowed"


def test_nothing_her_daughter_can_get_shows_her_details(stub):
    """The daughter's own address is her mother's: her documents show it as hers, and
    her mother only as the mother on her own register entry."""
    _, data = stub
    client, session = session_for(stub, "R1102")
    for offer in (d for d in session.documents if d.available):
        text = pdf_text_of_bytes(issue(client, session, offer.type, **every_option(offer)).pdf)
        assert not shows_her(text), offer.type
    assert not any(shows_her(content, HER_STORED_DETAILS) for content in stored_contents(data))


def test_her_own_card_and_her_husbands_request_get_the_same_answer_and_audit(stub):
    """Her card is refused as before; the refusal of his request for her 附票 says
    counter_only too, and the audit no more than that."""
    url, data = stub
    with pytest.raises(ServiceRefused) as refused:
        open_session(client_for(url, data), CardFile.load(card_path(data, "R1101")))
    assert refused.value.code == "counter_only"
    client, session = session_for(stub, "R1001")
    with pytest.raises(ServiceRefused) as refused:
        issue(client, session, "family_register_annex")
    assert refused.value.code == "counter_only"
    with sqlite3.connect(data / "registry.sqlite") as db:
        outcomes = [row for row in db.execute("SELECT event, outcome FROM audit WHERE event IN ('session', 'issuance')"
                                              " AND outcome NOT IN ('opened', 'issued')")]
    assert outcomes == [("session", "counter_only"), ("issuance", "counter_only")]

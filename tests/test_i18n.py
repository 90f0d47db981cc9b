"""Every message on a screen reads in every language, and changing language loses nothing."""
from __future__ import annotations

import string

import pytest
from babel.messages.pofile import read_po

from kiosk.events import Authenticated, CardPresence, CardReady, Tap
from kiosk.i18n import LANGUAGES, translate
from kiosk.screens import build_view
from kiosk.states import Machine, State
from kiosk.translations import extract, po_path
from tests.fixtures.stub import TEST_CLOCK
from contract.issuance import DocumentOffer, MemberChoice

TRANSLATED = [code for code in LANGUAGES if code != "en"]


@pytest.fixture(scope="module")
def messages() -> list[str]:
    return [m.id for m in extract() if m.id]


def read(language: str):
    with open(po_path(language), "rb") as f:
        return read_po(f, locale=language.split("_")[0])


def fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_extraction_finds_the_screens_messages(messages):
    """Tables marked with N_() and calls of _() are both found, so the test below sees every message."""
    assert "Your PIN is locked" in messages  # a PROBLEMS table entry
    assert "Enter your PIN" in messages  # a _() call in a screen
    assert "Copy of residence record" in messages  # DOCUMENT_NAMES


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation(messages, language):
    catalog = read(language)
    missing = [m for m in messages if catalog.get(m) is None or not catalog.get(m).string]
    fuzzy = [m for m in messages if catalog.get(m) is not None and catalog.get(m).fuzzy]
    assert not missing, f"{language}: untranslated (run python -m kiosk.translations, then translate): {missing}"
    assert not fuzzy, f"{language}: marked fuzzy, needs checking: {fuzzy}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_match_the_message(messages, language):
    catalog = read(language)
    wrong = {m: catalog.get(m).string for m in messages
             if catalog.get(m) is not None and catalog.get(m).string
             and fields(catalog.get(m).string) != fields(m)}
    assert not wrong, f"{language}: placeholders differ from the message: {wrong}"


def test_each_language_is_named_in_itself():
    assert LANGUAGES == {"ja": "日本語", "ja_easy": "やさしい にほんご", "en": "English", "zh_Hans": "简体中文",
                         "ko": "한국어", "vi": "Tiếng Việt", "pt_BR": "Português"}
    assert all(po_path(code).exists() for code in TRANSLATED)


def test_screens_read_in_the_chosen_language():
    assert translate("ko", "Tries left before the PIN locks: {n}", n=2) == "잠금까지 남은 횟수: 2회"
    assert translate("ja_easy", "Start") == "はじめる"
    assert translate("en", "Start") == "Start"


class Orders:
    """A worker that only records what it was asked."""

    def __init__(self):
        self.asked = []

    def __getattr__(self, name):
        return lambda *args: self.asked.append(name)


def test_switching_language_keeps_the_visit():
    household = (MemberChoice(id="m1", name="山田　太郎", is_cardholder=True),
                 MemberChoice(id="m2", name="山田　花子", is_cardholder=False))
    offer = DocumentOffer(type="residence_record", municipality="999001", fee_yen=300, available=True,
                          members=household)
    worker = Orders()
    m = Machine(worker, language="ja", inactivity_timeout_s=60, now=0.0, clock=TEST_CLOCK)
    m.handle(Tap("start"), 1.0)
    m.handle(CardPresence(True), 1.0)
    m.handle(CardReady(m.visit.number, tries_left=3), 1.0)
    for action in ("digit:1", "digit:2", "digit:3", "digit:4", "ok"):
        m.handle(Tap(action), 2.0)
    m.handle(Authenticated(m.visit.number, (offer,)), 3.0)
    m.handle(Tap("doc:residence_record"), 4.0)
    m.handle(Tap("member:m2"), 4.0)
    assert m.state is State.MEMBERS
    visit, asked = m.visit, list(worker.asked)
    chosen = set(visit.members)

    m.handle(Tap("lang:menu"), 5.0)
    assert build_view(m, 5.0).name == "language"
    m.handle(Tap("lang:ko"), 6.0)

    assert m.state is State.MEMBERS and m.visit is visit
    assert visit.document == offer and visit.members == chosen == {"m1", "m2"}
    assert worker.asked == asked  # nothing was cancelled or restarted
    view = build_view(m, 6.0)
    assert view.name == "members" and view.title == translate("ko", "Who should be on it?")
    assert any(b.action == "lang:menu" and b.label == "한국어" for b in view.buttons)

"""Every refusal the issuance center can give ends on a screen that says what happened
and what to do, in Japanese as well as English; none reveals a protection measure."""
from __future__ import annotations

import pytest

from kiosk.i18n import catalog
from kiosk.screens import problem_text
from contract.issuance import REFUSAL_CODES


@pytest.mark.parametrize("code", sorted(REFUSAL_CODES))
def test_every_refusal_code_has_a_screen_in_japanese(code):
    title, lines = problem_text(code)
    japanese = catalog("ja")
    assert lines, "a problem screen says what to do next"
    for message in (title, *lines):
        assert japanese.get(message), f"{code}: no Japanese for {message!r}"


def test_a_protection_measure_reads_like_any_other_counter_only_case():
    assert problem_text("counter_only") == problem_text("document_not_offered")
    title, lines = problem_text("counter_only")
    assert not any(word in " ".join((title, *lines)).lower() for word in ("protect", "violence", "stalk"))

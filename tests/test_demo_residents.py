"""Every resident of the seed in `kiosk demo`: each card on the reader in turn, driven by
the autopilot to the outcome the seed documents for it (`demo_outcome` in [[cards]]),
which is also what the README's "Demo residents" table says.

One stub serves the whole walk; each visit runs the kiosk in this process, at the
suite's played Tuesday morning (TEST_CLOCK), so no outcome depends on the hour."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from kiosk.cli import EXIT_NOT_PRINTED, EXIT_PRINTED, run_kiosk
from kiosk.embedded import embedded_config, ensure_stub_data, free_port, running_stub, seeded_cards
from municipal.cli import SEED, card_path
from municipal.registry import load_seed
from tests.fixtures.stub import TEST_CLOCK
from tests.kiosk_runs import ROOT, KioskRun
from tests.kiosk_runs import run_kiosk as run_kiosk_command

RESIDENTS = [member["id"] for household in load_seed(SEED)["households"] for member in household["members"]]
CARDS = seeded_cards()


def exit_status(outcome: str) -> int:
    return EXIT_PRINTED if outcome == "printed" else EXIT_NOT_PRINTED


@pytest.fixture(scope="module")
def center(stub_template, tmp_path_factory):
    """One running stub for every resident: (base URL, data folder)."""
    data = tmp_path_factory.mktemp("residents") / "stub"
    shutil.copytree(stub_template, data)
    with running_stub(data, free_port(), clock=TEST_CLOCK) as url:
        yield url, data


def visit(center, resident: str, out: Path, capsys) -> tuple[int, str, KioskRun]:
    """The autopilot's visit with the resident's seeded card: exit status, outcome, transcript."""
    url, data = center
    card = CARDS[resident]
    config = embedded_config(data, url, resident, out / "printed")
    status = run_kiosk(config, headless=True, autopilot_pin=card.pin, out_dir=out, documents=card.documents,
                       clock=TEST_CLOCK)
    said = re.search(r"^autopilot: (\S+);", capsys.readouterr().out, re.MULTILINE)
    return status, said and said.group(1), KioskRun(status, out, "")


@pytest.mark.parametrize("resident", RESIDENTS)
def test_every_seed_resident_ends_as_documented(resident, center, tmp_path, capsys):
    card = CARDS.get(resident)
    assert card is not None and card.outcome, f"give {resident} a card with a demo_outcome in {SEED.name}"
    status, outcome, run = visit(center, resident, tmp_path, capsys)
    assert (outcome, status) == (card.outcome, exit_status(card.outcome)), run.screen_names
    assert bool(run.printed()) == (card.outcome == "printed")
    if card.outcome.startswith("problem:"):
        assert f"problem-{card.outcome.removeprefix('problem:')}" in run.screen_names


def test_a_household_of_eleven_is_paged_through_and_printed_in_full(center, tmp_path, capsys):
    status, outcome, run = visit(center, "R0900", tmp_path, capsys)
    assert (status, outcome) == (0, "printed")
    member_pages = [s for s in run.screens if s["screen"] == "members"]
    assert len({tuple(s["buttons"]) for s in member_pages}) >= 2, "the member list has more than one page"
    [pdf] = run.printed()
    assert len(PdfReader(pdf).pages) > 2  # two sheets, fronts and backs: the whole household


def test_the_readme_table_is_the_seeds():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Demo residents", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (R\d{4}) \|.*\| `([a-z_:]+)` \| (\d) \|$", section, re.MULTILINE)
    assert [r for r, _, _ in rows] == sorted(RESIDENTS)
    for resident, outcome, status in rows:
        assert (outcome, int(status)) == (CARDS[resident].outcome, exit_status(CARDS[resident].outcome)), resident


def test_a_resident_without_a_card_gets_one_line_naming_those_with_one(stub_data, tmp_path):
    run = run_kiosk_command("demo", "--headless", "--autopilot", "--data", str(stub_data), "--resident", "R9999",
                            out=tmp_path / "out")
    assert run.returncode == 3
    [line] = run.output.strip().splitlines()
    assert line.startswith("kiosk: R9999 has no card in the demo; residents with a card: R0001, ")
    assert "R1102" in line


def test_demo_data_made_before_a_card_was_added_is_made_again(stub_data, capsys):
    card_path(stub_data, "R0302").unlink()  # as data made before R0302 had a card
    ensure_stub_data(stub_data)
    assert "recreating" in capsys.readouterr().out
    assert card_path(stub_data, "R0302").exists()

"""住民票の写し rendering and 和暦 dates. All people and places are fictional."""
from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from printouts import fonts
from printouts.japanese_era import wareki
from printouts.records import HouseholdMember, ResidenceRecord
from printouts.residence_record import CERTIFYING_SENTENCE, MAX_MEMBERS, render_residence_record


def fictional_record(**changes) -> ResidenceRecord:
    record = ResidenceRecord(
        municipality="架空県みどり市",
        mayor="みどり市長　青木 一郎",
        address="架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
        head_of_household="架空 太郎",
        members=(
            HouseholdMember("架空 太郎", "かくう たろう", date(1978, 4, 2), "男", "世帯主", date(2012, 6, 1)),
            HouseholdMember("架空 花子", "かくう はなこ", date(1989, 1, 8), "女", "妻", date(2012, 6, 1)),
            HouseholdMember("架空 一葉", "かくう かずは", date(2019, 5, 1), "女", "子", date(2019, 5, 1)),
        ),
        serial="MD-2026-000123",
        issued_on=date(2026, 11, 23),
    )
    return ResidenceRecord(**{**record.__dict__, **changes})


def squeeze(text: str) -> str:
    """Drop all whitespace: extractors split and space Japanese runs unpredictably."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_residence_record(fictional_record())


@pytest.fixture(scope="module")
def page_text(pdf) -> str:
    return squeeze(PdfReader(BytesIO(pdf)).pages[0].extract_text())


@pytest.mark.parametrize("expected", [
    "住民票の写し",
    "架空県みどり市",
    "架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
    "架空太郎", "架空花子", "架空一葉",
    "かくうはなこ",
    "昭和53年4月2日", "平成元年1月8日", "令和元年5月1日",  # birth dates
    "世帯主", "妻", "子",
    "令和8年11月23日",  # issue date
    "MD-2026-000123",
    CERTIFYING_SENTENCE,
    "みどり市長　青木 一郎",
])
def test_page_shows(page_text, expected):
    assert squeeze(expected) in page_text


def test_one_a4_page(pdf):
    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) == 1
    box = pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)


def test_every_font_is_embedded_truetype(pdf):
    used = PdfReader(BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    assert used, "no fonts on the page"
    for font in used.values():
        font = font.get_object()
        assert "IPAexMincho" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_same_record_gives_same_bytes(pdf):
    assert render_residence_record(fictional_record()) == pdf


def test_notes_are_printed():
    pdf = render_residence_record(fictional_record(notes=("架空の備考です",)))
    text = squeeze(PdfReader(BytesIO(pdf)).pages[0].extract_text())
    assert "備考" in text and "架空の備考です" in text


def test_household_that_does_not_fit_one_page_is_refused():
    member = fictional_record().members[0]
    with pytest.raises(ValueError, match="do not fit"):
        render_residence_record(fictional_record(members=(member,) * (MAX_MEMBERS + 1)))


def test_largest_household_with_notes_ends_above_the_certification():
    member = fictional_record().members[0]
    record = fictional_record(members=(member,) * MAX_MEMBERS, notes=("架空の備考です",))
    baselines: dict[str, float] = {}

    def remember(text, cm, tm, font, size):
        baselines.setdefault(squeeze(text), tm[5] * cm[3] + cm[5])

    PdfReader(BytesIO(render_residence_record(record))).pages[0].extract_text(visitor_text=remember)
    assert baselines["以下余白"] > baselines[CERTIFYING_SENTENCE] + 20


def test_missing_font_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "MINCHO_PATH", tmp_path / "missing.ttf")
    fonts.mincho.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing, match="fonts-ipaexfont-mincho"):
            fonts.mincho()
    finally:
        fonts.mincho.cache_clear()


@pytest.mark.parametrize("day, expected", [
    (date(2026, 11, 23), "令和8年11月23日"),
    (date(2020, 1, 1), "令和2年1月1日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(1990, 1, 1), "平成2年1月1日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1927, 1, 1), "昭和2年1月1日"),
    (date(1926, 12, 25), "昭和元年12月25日"),
])
def test_wareki(day, expected):
    assert wareki(day) == expected


def test_wareki_before_showa_is_refused():
    with pytest.raises(ValueError):
        wareki(date(1926, 12, 24))

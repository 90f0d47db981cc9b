"""住民票の写し / 住民票記載事項証明書 rendering and 和暦 dates. All people and places are
fictional."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from printouts import fictional_records as fictional
from printouts import fonts
from printouts.japanese_era import seireki, wareki, wareki_year
from printouts.records import ForeignResidentFacts
from printouts.residence_record import CERTIFYING_SENTENCES, render_residence_record
from tests.test_certificates_render import (
    CODE,
    assert_every_page_is_bound,
    assert_font_embedded,
    assert_within_margins,
    front_texts,
    page_texts,
    squeeze,
    text_runs,
)

TWELVE_DIGITS = re.compile(r"\d{12}")


def render(record=None) -> bytes:
    return render_residence_record(record or fictional.residence_record(), CODE).pdf


def text_of(record) -> str:
    return "".join(page_texts(render(record)))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render()


@pytest.fixture(scope="module")
def page_text(pdf) -> str:
    return page_texts(pdf)[0]


@pytest.mark.parametrize("expected", [
    "住民票の写し",
    "（世帯全員）",
    "架空県みどり市",
    "架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
    "山田 太郎", "山田 花子", "山田 一葉",
    "やまだ はなこ",
    "昭和53年4月2日", "平成元年1月8日", "令和元年5月1日",  # birth dates
    "世帯主", "続柄", "妻", "子",
    "住民となった年月日", "平成24年6月1日",
    "令和8年11月23日",  # issue date
    "999001-20261123-3F9A02C1",
    CERTIFYING_SENTENCES["copy"],
    "みどり市長　青木 一郎",
])
def test_page_shows(page_text, expected):
    assert squeeze(expected) in page_text


def test_one_bound_sheet_with_embedded_font(pdf):
    assert len(PdfReader(BytesIO(pdf)).pages) == 2  # the front and its back
    assert_every_page_is_bound(pdf)
    assert_font_embedded(pdf)


def test_same_record_gives_same_bytes(pdf):
    assert render() == pdf


def test_items_certificate_of_part_of_the_household():
    text = text_of(fictional.residence_record(kind="items", whole_household=False, members=(fictional.TARO,)))
    assert "住民票記載事項証明書" in text and squeeze(CERTIFYING_SENTENCES["items"]) in text
    assert "（世帯一部）" in text and "世帯全員" not in text
    assert "住民票の写し" not in text and squeeze(CERTIFYING_SENTENCES["copy"]) not in text


def test_no_members_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        render(fictional.residence_record(members=()))


# --- options: printed only when chosen ---------------------------------------------

def test_relationship_not_chosen_leaves_no_head_or_relationship():
    members = tuple(replace(m, relationship=None) for m in fictional.residence_record().members)
    text = text_of(fictional.residence_record(head_of_household=None, members=members))
    assert "世帯主" not in text and "続柄" not in text and "妻" not in text
    assert "山田太郎" in text  # still listed as a member


def test_no_my_number_prints_no_twelve_digit_number(page_text):
    assert "個人番号" not in page_text
    assert not TWELVE_DIGITS.search(page_text)


def test_my_number_when_chosen():
    text = text_of(fictional.residence_record(members=(replace(fictional.TARO, my_number="123456789018"),)))
    assert "個人番号123456789018" in text
    assert TWELVE_DIGITS.findall(text) == ["123456789018"]


def test_no_domicile_prints_no_domicile(page_text):
    assert "本籍" not in page_text and "筆頭者" not in page_text and "本町" not in page_text


def test_domicile_and_its_head_when_chosen():
    member = replace(fictional.TARO, domicile="架空県みどり市本町一丁目1番地", domicile_head="山田 一郎")
    text = text_of(fictional.residence_record(members=(member,)))
    assert "本籍架空県みどり市本町一丁目1番地" in text and "筆頭者山田一郎" in text


def test_foreign_member_lines_in_a_mixed_household():
    pdf = render(fictional.residence_record(members=(fictional.TARO, fictional.AN)))
    text = "".join(page_texts(pdf))
    for expected in ("NGUYENVANAN", "グエンヴァンアン", "国籍・地域ベトナム", "在留カード等の番号AB12345678CD",
                     "在留資格技術・人文知識・国際業務", "在留期間3年", "在留期間の満了の日2029年3月31日",
                     "1995年9月2日",  # a foreign resident's birth date, in the Western calendar
                     "山田太郎", "昭和53年4月2日"):
        assert expected in text
    assert_within_margins(pdf)


def test_foreign_lines_not_chosen_are_left_out():
    facts = ForeignResidentFacts("ベトナム", None, None, None, None)
    text = text_of(fictional.residence_record(members=(replace(fictional.AN, foreign=facts),)))
    assert "国籍・地域ベトナム" in text
    for absent in ("在留カード", "AB12345678CD", "在留資格", "在留期間", "満了"):
        assert absent not in text


def test_japanese_household_has_no_foreign_lines(page_text):
    assert "国籍" not in page_text and "在留" not in page_text


# --- pagination and long values ----------------------------------------------------

def test_household_of_twelve_runs_over_pages_with_each_member_once():
    members = fictional.large_household(12)
    pdf = render(fictional.residence_record(members=members))
    texts = front_texts(pdf)
    assert len(texts) >= 2
    assert_every_page_is_bound(pdf)
    assert all("住民となった年月日" in text for text in texts)  # column headings on each page
    whole = "".join(texts)
    for member in members:
        assert whole.count(squeeze(member.name)) == 1, member.name
        assert whole.count(member.my_number) == 1
    # and in household order
    positions = [whole.index(squeeze(m.name)) for m in members]
    assert positions == sorted(positions)


def test_long_address_and_name_stay_in_their_boxes():
    long_name = fictional.LONG_ALPHABET_NAME
    member = replace(fictional.AN, name=long_name)
    pdf = render(fictional.residence_record(address=fictional.LONG_ADDRESS, members=(fictional.TARO, member)))
    assert_within_margins(pdf)
    birth_column = min(x for _, text, x, _, _ in text_runs(pdf) if text == "生年月日")
    name_runs = [(x, width) for _, text, x, _, width in text_runs(pdf) if text and text in long_name]
    assert name_runs and all(x + width < birth_column for x, width in name_runs)
    assert squeeze(fictional.LONG_ADDRESS) in "".join(page_texts(pdf))


# --- font and dates ------------------------------------------------------------------

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


@pytest.mark.parametrize("year, expected", [(2026, "令和8年"), (2019, "令和元年"), (2018, "平成30年"),
                                            (1989, "平成元年")])
def test_wareki_year(year, expected):
    assert wareki_year(year) == expected


def test_seireki():
    assert seireki(date(1995, 9, 2)) == "1995年9月2日"

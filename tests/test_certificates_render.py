"""Every certificate type, read back the way a resident or a recipient would see it:
the text on each page (pypdf), where it sits, the embedded font, and the QR code's
modules in a 300 dpi rasterisation. Pages come as sheets printed duplex: each front
is followed by its back. All people and places are fictional."""
from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth

from printouts import back_page
from printouts import fictional_records as fictional
from printouts.certificate_page import BODY_TOP, LEFT, PAGE_H, QR_SIDE, QR_X, QR_Y, RIGHT
from printouts.certificates import render_certificate, render_certificate_pages
from printouts.family_register import CERTIFYING_SENTENCES as REGISTER_SENTENCES
from printouts.fonts import mincho
from printouts.page_flow import Block, BlockTooTall, paginate
from printouts.pdf_pages import page_digests
from printouts.records import RegisterEvent
from printouts.register_annex import CERTIFYING_SENTENCE as ANNEX_SENTENCE
from printouts.seal_certificate import CERTIFYING_SENTENCE as SEAL_SENTENCE
from printouts.tax_certificate import CERTIFYING_SENTENCE as TAX_SENTENCE
from printouts.tax_certificate import tax_names, yen
from printouts.text_fit import LEADING, fit_lines, wrap
from printouts.verification_qr import ERROR_LEVEL, QUIET_ZONE_MODULES

CODE = fictional.verification_code()
SERIAL = fictional.CERTIFICATION.serial


# --- reading a PDF back ----------------------------------------------------------

def squeeze(text: str) -> str:
    """Drop all whitespace: extractors split and space Japanese runs unpredictably."""
    return "".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    return [squeeze(page.extract_text()) for page in PdfReader(BytesIO(pdf)).pages]


def front_texts(pdf: bytes) -> list[str]:
    return page_texts(pdf)[0::2]


def text_runs(pdf: bytes) -> list[tuple[int, str, float, float, float]]:
    """(page index, text, x, baseline, width) of every string drawn, in page space."""
    font = mincho()
    runs = []
    for index, page in enumerate(PdfReader(BytesIO(pdf)).pages):
        def visit(text, cm, tm, font_dict, size, index=index):
            if not text.strip():
                return
            a, b, c, d, e, f = _multiply(tm, cm)
            scale = (a * a + b * b) ** 0.5
            text = text.strip()
            runs.append((index, text, e, f, stringWidth(text, font, size * scale)))
        page.extract_text(visitor_text=visit)
    return runs


def _multiply(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def assert_within_margins(pdf: bytes) -> None:
    for page, text, x, _, width in text_runs(pdf):
        assert LEFT - 0.5 <= x and x + width <= RIGHT + 0.5, f"page {page + 1}: {text!r} runs outside the margins"


def assert_every_page_is_bound(pdf: bytes) -> None:
    """Fronts and backs alternate, each with the serial. A front says "x / y" (fronts
    counted), its back "裏面 x / y" and the code; certification and 以下余白 on the last
    front only."""
    texts = page_texts(pdf)
    assert len(texts) % 2 == 0
    fronts, backs = texts[0::2], texts[1::2]
    for number, (front, back) in enumerate(zip(fronts, backs), start=1):
        is_last = number == len(fronts)
        assert f"証明書番号{SERIAL}" in front and f"証明書番号{SERIAL}" in back
        assert f"{number}/{len(fronts)}" in front and "裏面" not in front
        assert f"裏面{number}/{len(fronts)}" in back and squeeze(CODE) in back
        assert ("以下余白" in front) == is_last
        assert ("（次頁に続く）" in front) == (not is_last)
        assert ("みどり市長青木一郎" in front) == is_last
        assert "以下余白" not in back and "みどり市長青木一郎" not in back


def assert_font_embedded(pdf: bytes) -> None:
    assert b"Helvetica" not in pdf
    for page in PdfReader(BytesIO(pdf)).pages:
        fonts = page["/Resources"]["/Font"]
        assert fonts, "no fonts on the page"
        for font in fonts.values():
            font = font.get_object()
            assert "IPAexMincho" in font["/BaseFont"]
            assert "/FontFile2" in font["/FontDescriptor"].get_object()


FRONT_QR = (QR_X, QR_Y, QR_SIDE)  # lower-left corner and side, in points
BACK_QR = (back_page.QR_X, back_page.QR_Y, back_page.QR_SIDE)


def drawn_qr(pdf: bytes, page: int, tmp_path: Path, where=FRONT_QR) -> tuple[list[list[bool]], bool]:
    """The QR region of `page` (1-based) rasterised at 300 dpi: each module's centre
    read as dark or light, and whether the quiet zone around the symbol is blank."""
    dpi = 300
    px = dpi / 72
    modules = len(segno.make(CODE, error=ERROR_LEVEL, micro=False).matrix)
    qr_x, qr_y, qr_side = where
    module = qr_side / modules
    margin = QUIET_ZONE_MODULES * module
    left, top = qr_x - margin, PAGE_H - (qr_y + qr_side + margin)
    side = qr_side + 2 * margin
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", "-singlefile",
                    "-x", str(round(left * px)), "-y", str(round(top * px)),
                    "-W", str(round(side * px)), "-H", str(round(side * px)),
                    str(source), str(tmp_path / "qr")], check=True)
    image = Image.open(tmp_path / "qr.pgm")
    origin_x, origin_y = left * px - round(left * px), top * px - round(top * px)

    def dark(x_pt: float, y_pt: float) -> bool:  # points from the crop's top-left corner
        return image.getpixel((round(x_pt * px + origin_x), round(y_pt * px + origin_y))) < 128

    read = [[dark(margin + (c + 0.5) * module, margin + (r + 0.5) * module) for c in range(modules)]
            for r in range(modules)]
    ring = [i * module / 2 + module / 4 for i in range(2 * (modules + 2 * QUIET_ZONE_MODULES))]
    quiet = not any(dark(x, y) for x in ring for y in ring
                    if not (margin < x < margin + qr_side and margin < y < margin + qr_side))
    return read, quiet


# --- the documents ---------------------------------------------------------------

DOCUMENTS = {
    "residence": fictional.residence_record(),
    "seal": fictional.seal_certificate(),
    "tax": fictional.tax_certificate(),
    "family_register": fictional.family_register(),
    "annex": fictional.register_annex(),
}
TITLES = {"residence": "住民票の写し", "seal": "印鑑登録証明書", "tax": "課税・所得証明書",
          "family_register": "戸籍全部事項証明書", "annex": "戸籍の附票の写し"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {name: render_certificate(record, CODE) for name, record in DOCUMENTS.items()}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_type_is_one_bound_a4_sheet_with_its_title(rendered, name):
    pdf = rendered[name]
    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) == 2  # the front and its back
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.5)
    text = page_texts(pdf)[0]
    assert TITLES[name] in text
    assert "架空県みどり市" in text and "令和8年11月23日" in text
    assert_every_page_is_bound(pdf)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_type_embeds_its_font_and_prints_the_code(rendered, name):
    assert_font_embedded(rendered[name])
    assert squeeze(CODE) in page_texts(rendered[name])[0]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_same_record_and_code_give_the_same_bytes(rendered, name):
    assert render_certificate(DOCUMENTS[name], CODE) == rendered[name]


def test_concurrent_renders_share_nothing(rendered):
    """Threads rendering different certificates at once each get exactly their own."""
    names = list(DOCUMENTS) * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: render_certificate(DOCUMENTS[name], CODE), names))
    assert all(pdf == rendered[name] for name, pdf in zip(names, results))


def test_another_code_changes_the_page(rendered):
    other = render_certificate(DOCUMENTS["seal"], fictional.verification_code("other"))
    assert other != rendered["seal"]
    assert squeeze(fictional.verification_code("other")) in page_texts(other)[0]


def test_unknown_record_type_is_refused():
    with pytest.raises(TypeError, match="no renderer"):
        render_certificate("not a record", CODE)


def test_empty_code_is_refused():
    with pytest.raises(ValueError, match="verification code"):
        render_certificate(DOCUMENTS["seal"], "")


# --- QR code ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["residence", "family_register"])
@pytest.mark.parametrize("page, where", [(1, FRONT_QR), (2, BACK_QR)], ids=["front", "back"])
def test_qr_matches_segno_matrix_for_the_code(rendered, name, page, where, tmp_path):
    expected = [[bool(m) for m in row] for row in segno.make(CODE, error=ERROR_LEVEL, micro=False).matrix]
    read, quiet = drawn_qr(rendered[name], page, tmp_path, where)
    assert read == expected
    assert quiet, "something is drawn in the QR code's quiet zone"


def test_qr_is_on_every_page_of_a_long_certificate(tmp_path):
    pdf = render_certificate(fictional.large_family_register(6, 4), CODE)
    expected = [[bool(m) for m in row] for row in segno.make(CODE, error=ERROR_LEVEL, micro=False).matrix]
    for page in range(1, len(PdfReader(BytesIO(pdf)).pages) + 1):
        read, quiet = drawn_qr(pdf, page, tmp_path, FRONT_QR if page % 2 else BACK_QR)
        assert read == expected and quiet, f"page {page}"


def test_each_back_tells_the_recipient_how_to_check_it(rendered):
    back = page_texts(rendered["residence"])[1]
    assert squeeze(back_page.INSTRUCTIONS) in back and back_page.HEADING in back


# --- 印鑑登録証明書 ---------------------------------------------------------------------

def test_seal_certificate_shows_the_holder_and_impression(rendered):
    text = page_texts(rendered["seal"])[0]
    for expected in ("印影", "氏名", "山田太郎", "生年月日", "昭和53年4月2日", "性別", "男", "住所",
                     "架空県みどり市若葉台三丁目12番地の4かえでハイツ201号", squeeze(SEAL_SENTENCE)):
        assert expected in text


def test_seal_impression_is_drawn_large():
    runs = text_runs(render_certificate(fictional.seal_certificate(impression="鈴"), CODE))
    impression = [width for _, text, _, _, width in runs if text == "鈴"]
    assert impression and max(impression) > 40  # points wide: a large impression, not a label


# --- 課税・所得証明書 --------------------------------------------------------------------

def test_tax_certificate_shows_years_and_amounts(rendered):
    text = page_texts(rendered["tax"])[0]
    for expected in ("令和8年度", "令和7年分", "6,400,000円", "4,560,000円", "1,830,000円", "2,730,000円",
                     "市民税", "163,800円", "県民税", "109,200円", "273,000円", "2人", squeeze(TAX_SENTENCE)):
        assert expected in text


def test_yen_and_tax_names():
    assert yen(0) == "0円" and yen(1_234_567) == "1,234,567円"
    assert tax_names("架空県みどり市") == ("市民税", "県民税")
    assert tax_names("東京都架空区") == ("特別区民税", "都民税")
    assert tax_names("北海道架空町") == ("町民税", "道民税")


def test_amounts_are_right_aligned(rendered):
    ends = {text: x + width for _, text, x, _, width in text_runs(rendered["tax"]) if text.endswith("円")}
    assert ends["6,400,000円"] == pytest.approx(ends["2,730,000円"], abs=0.5)
    assert ends["163,800円"] == pytest.approx(ends["273,000円"], abs=0.5)


# --- 戸籍 ----------------------------------------------------------------------------

def test_family_register_shows_domicile_persons_and_events(rendered):
    text = page_texts(rendered["family_register"])[0]
    for expected in ("本籍", "架空県みどり市本町一丁目1番地", "氏名", "戸籍事項", "【編製日】平成22年10月10日",
                     "戸籍に記録されている者", "【氏名】山田太郎", "【生年月日】昭和53年4月2日", "【続柄】長男",
                     "【父】山田一郎", "【母】山田春子", "身分事項", "【出生日】昭和53年4月2日",
                     "【出生地】架空県みどり市", "【婚姻日】平成22年10月10日", "【氏名】山田花子",
                     squeeze(REGISTER_SENTENCES["full"])):
        assert expected in text


def test_individual_register_has_its_own_title_and_sentence():
    record = fictional.family_register(kind="individual", persons=fictional.family_register().persons[:1])
    text = page_texts(render_certificate(record, CODE))[0]
    assert "戸籍個人事項証明書" in text and squeeze(REGISTER_SENTENCES["individual"]) in text
    assert "山田花子" not in text.replace("【配偶者氏名】山田花子", "")


def test_large_family_register_runs_over_pages_with_each_person_once():
    record = fictional.large_family_register(6, 4)
    pdf = render_certificate(record, CODE)
    texts = front_texts(pdf)
    assert len(texts) >= 2
    assert_every_page_is_bound(pdf)
    whole = "".join(texts)
    for person in record.persons:
        assert whole.count(f"【氏名】{squeeze(person.name)}") == 1
    assert whole.count("【出生日】") == len(record.persons)
    # a later front opens with a person's heading, or names whose events continue there
    for page in range(2, 2 * len(texts), 2):
        body = [(y, text) for index, text, _, y, _ in text_runs(pdf) if index == page and y < BODY_TOP]
        top = max(y for y, _ in body)
        top_line = [text for y, text in body if y > top - 3]
        assert top_line[0].startswith("【氏名】") or "（続き）" in top_line, f"page {page + 1} opens with {top_line}"


@pytest.mark.parametrize("record", [*DOCUMENTS.values(), fictional.large_family_register(6, 4),
                                    fictional.residence_record(members=fictional.large_household(12))],
                         ids=[*DOCUMENTS, "family_register_8_pages", "residence_12_members"])
def test_digests_taken_while_rendering_are_those_a_reader_finds_in_the_pdf(record):
    """The center puts the render-time digests in the manifest; the kiosk checks them
    against the pages it parses out of the PDF. A mismatch would refuse every document."""
    rendered = render_certificate_pages(record, CODE)
    assert list(rendered.page_sha256) == page_digests(rendered.pdf)
    assert len(rendered.page_sha256) >= 2


def test_no_page_digest_is_shared_within_or_across_issuances():
    """Each page's content stream names its certificate and its place in it, so a
    page 2 can never pass for another certificate's page 2 (Tokushima, 2023)."""
    record = fictional.large_family_register(6, 4)
    other = replace(record, certification=replace(record.certification, serial="999001-20261123-00000000"))
    first = page_digests(render_certificate(record, CODE))
    second = page_digests(render_certificate(other, CODE))
    assert len(set(first)) == len(first) >= 2
    assert not set(first) & set(second)


def test_register_event_too_long_for_a_page_is_refused():
    event = RegisterEvent("出生", fictional.CERTIFICATION.issued_on, "\n".join(["【備考】架空"] * 60))
    person = replace(fictional.family_register().persons[0], events=(event,))
    with pytest.raises(BlockTooTall):
        render_certificate(fictional.family_register(persons=(person,)), CODE)


# --- 戸籍の附票 -----------------------------------------------------------------------

def test_annex_shows_entries_with_current_address(rendered):
    text = page_texts(rendered["annex"])[0]
    for expected in ("本籍", "筆頭者", "山田太郎", "山田花子", "住所を定めた年月日", "平成24年6月1日",
                     "架空県みどり市若葉台三丁目12番地の4かえでハイツ201号", squeeze(ANNEX_SENTENCE)):
        assert expected in text


def test_long_annex_repeats_its_column_headings():
    entry = fictional.register_annex().entries[0]
    entries = tuple(replace(entry, name=f"山田 {i:02d}") for i in range(30))
    pdf = render_certificate(fictional.register_annex(entries=entries), CODE)
    texts = front_texts(pdf)
    assert len(texts) >= 2
    assert_every_page_is_bound(pdf)
    assert all("住所を定めた年月日" in text for text in texts)
    assert all("".join(texts).count(f"山田{i:02d}") == 1 for i in range(30))


# --- long values -----------------------------------------------------------------

LONG_ADDRESS, LONG_NAME = fictional.LONG_ADDRESS, fictional.LONG_NAME


@pytest.mark.parametrize("record", [
    fictional.seal_certificate(name=LONG_NAME, address=LONG_ADDRESS, impression="長谷川"),
    fictional.tax_certificate(name=LONG_NAME, address=LONG_ADDRESS, salary_revenue_yen=123_456_789_012),
    fictional.register_annex(domicile=LONG_ADDRESS, head=LONG_NAME,
                             entries=(fictional.AnnexEntry(LONG_NAME, LONG_ADDRESS, fictional.CERTIFICATION.issued_on),)),
    fictional.family_register(domicile=LONG_ADDRESS, head=LONG_NAME),
    fictional.seal_certificate(certification=replace(fictional.CERTIFICATION, municipality="架空県" + "みどり" * 15 + "市",
                                                     mayor="架空県みどり市長　" + LONG_NAME)),
], ids=["seal", "tax", "annex", "family_register", "long_municipality_and_mayor"])
def test_long_values_stay_inside_the_margins(record):
    assert len(LONG_ADDRESS) == 60 and len(LONG_NAME) == 30
    pdf = render_certificate(record, CODE)
    assert_within_margins(pdf)
    whole = "".join(page_texts(pdf))
    assert LONG_NAME in whole or LONG_NAME in whole.replace("【氏名】", "")


def test_wrapped_lines_fit_their_box():
    font = mincho()
    size, lines = fit_lines(LONG_ADDRESS, font, 12, 300, 34)
    assert len(lines) == 2 and "".join(lines) == LONG_ADDRESS
    assert all(stringWidth(line, font, size) <= 300 for line in lines)
    assert len(lines) * size * LEADING <= 34


def test_alphabet_names_wrap_at_spaces():
    assert wrap("NGUYEN THI THANH HUONG MARIA", mincho(), 12, 120) == ["NGUYEN THI", "THANH HUONG", "MARIA"]


def test_short_text_keeps_its_size():
    assert fit_lines("山田 太郎", mincho(), 12, 200, 30) == (12, ["山田 太郎"])


# --- pagination ------------------------------------------------------------------

def _blocks(*heights: float, **options) -> list[Block]:
    return [Block(h, lambda canvas, top: None, **options) for h in heights]


def test_paginate_repeats_the_heading_and_keeps_room_for_the_certification():
    heading = Block(10, lambda canvas, top: None)
    rows = [replace(b, heading_on_new_page=heading) for b in _blocks(40, 40, 40)]
    pages = paginate(rows, room=100, last_page_reserve=30)
    assert pages == [rows[:2], [heading, rows[2]]]


def test_paginate_moves_the_last_block_rather_than_leave_the_certification_alone():
    rows = _blocks(40, 40)
    assert paginate(rows, room=100, last_page_reserve=30) == [rows[:1], rows[1:]]


def test_paginate_never_ends_a_page_on_a_heading():
    first, heading, body = _blocks(60)[0], _blocks(20, keep_with_next=True)[0], _blocks(30)[0]
    assert paginate([first, heading, body], room=100, last_page_reserve=0) == [[first], [heading, body]]


def test_paginate_refuses_a_block_taller_than_a_page():
    with pytest.raises(BlockTooTall):
        paginate(_blocks(120), room=100, last_page_reserve=0)


def test_no_twelve_digit_number_appears_without_a_my_number(rendered):
    for name, pdf in rendered.items():
        assert not re.search(r"\d{12}", "".join(page_texts(pdf))), name

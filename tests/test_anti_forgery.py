"""Anti-forgery on plain paper, proven on rasterised certificates: the code on the back
scans back after print-and-scan damage, the hidden 複写 stays hidden on the original
and shows on a (simulated) photocopy, and the microtext rule is text.

Everything is rasterised with pdftoppm at 300 dpi in grey, as a scanner would see the
printout; the damage and the copier are modelled with Pillow. All people and places
are fictional.
"""
from __future__ import annotations

import hashlib
import subprocess
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageStat

from printouts import anti_copy, back_page
from printouts import fictional_records as fictional
from printouts.certificates import render_certificate
from printouts.fonts import mincho
from printouts.page_frame import BODY_W, LEFT, MICROTEXT_SIZE, PAGE_H, microtext
from tests.test_certificates_render import CODE, page_texts, squeeze, text_runs

DPI = 300
PX = DPI / 72  # pixels per point
COPIER_REDUCTION = 3  # a copier resolving 100 dpi: every 3 × 3 pixels at 300 dpi become one


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_certificate(fictional.residence_record(), CODE)


@pytest.fixture(scope="module")
def sides(pdf, tmp_path_factory) -> tuple[Image.Image, Image.Image]:
    """Front and back, as a 300 dpi grey scan of a perfect printout would see them."""
    folder = tmp_path_factory.mktemp("raster")
    (folder / "certificate.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(folder / "certificate.pdf"), str(folder / "side")],
                   check=True)
    return Image.open(folder / "side-1.pgm"), Image.open(folder / "side-2.pgm")


# --- print and scan --------------------------------------------------------------

def contrast_loss(image: Image.Image) -> Image.Image:
    """Grey toner on grey paper: black prints at 45, white scans at 225."""
    return image.point(lambda v: 45 + v * 180 // 255)


def blur(image: Image.Image, radius: float = 1.5) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def rotation(image: Image.Image, degrees: float = 1.0) -> Image.Image:
    """The sheet a little askew on the scanner glass."""
    return image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)


def noise(image: Image.Image, amplitude: int = 24) -> Image.Image:
    """Sensor noise, uniform within ±amplitude grey levels; seeded, so repeatable."""
    stream = hashlib.shake_256(b"scanner noise").digest(image.width * image.height)
    spread = Image.frombytes("L", image.size, stream).point(lambda v: v * 2 * amplitude // 255)
    return ImageChops.add(image, spread, offset=-amplitude)


def jpeg(image: Image.Image, quality: int = 60) -> Image.Image:
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(BytesIO(buffer.getvalue()))


def print_and_scan(image: Image.Image) -> Image.Image:
    """All of it, in the order it happens: printed paler, scanned askew, noisy, saved as JPEG."""
    return jpeg(noise(rotation(blur(contrast_loss(image)))))


def decoded(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize("damage", [contrast_loss, blur, rotation, noise, jpeg, print_and_scan],
                         ids=lambda f: f.__name__)
def test_the_back_scans_back_to_the_code(sides, damage):
    assert decoded(damage(sides[1])) == [CODE]


def test_the_back_scans_after_worse_damage(sides):
    """A phone snapshot rather than a scanner: 3° askew, half the resolution, blurrier, JPEG at 35."""
    back = sides[1]
    half = blur(rotation(contrast_loss(back), 3.0), 2.0).resize((back.width // 2, back.height // 2))
    assert decoded(jpeg(noise(half, 32), quality=35)) == [CODE]


def test_the_front_code_scans_too(sides):
    assert decoded(print_and_scan(sides[0])) == [CODE]


# --- the hidden word ---------------------------------------------------------------

def copier(image: Image.Image, reduction: int = 3, threshold: int = 128) -> Image.Image:
    """A photocopy: the optics average what they cannot resolve (every `reduction` ×
    `reduction` pixels become one: 100 dpi by default), and the print is black or
    white. Fine dots and decoys average to a pale grey and vanish; large dots stay."""
    return image.reduce(reduction).point(lambda v: 0 if v < threshold else 255).resize(image.size)


def cell_tones(image: Image.Image) -> tuple[float, float]:
    """Mean darkness (0 white, 1 black) of the word's cells and of the field's cells on
    the back below its panel, where nothing but the pattern is printed. Only cells
    well inside either: the word's with no field cell beside them, the field's at
    least a cell away from the word."""
    cells = anti_copy.word_cells()
    core = cells.filter(ImageFilter.MinFilter(3))
    reach = cells.filter(ImageFilter.MaxFilter(3))
    means: dict[bool, list[float]] = {True: [], False: []}
    for row in range(cells.height):
        for column in range(cells.width):
            rect = anti_copy.cell_rect(column, cells.height - 1 - row)
            in_word = bool(core.getpixel((column, row)))
            if rect.y + rect.h > back_page.PANEL.y - 10 or (not in_word and reach.getpixel((column, row))):
                continue
            box = (round(rect.x * PX), round((PAGE_H - rect.y - rect.h) * PX),
                   round((rect.x + rect.w) * PX), round((PAGE_H - rect.y) * PX))
            means[in_word].append(1 - ImageStat.Stat(image.crop(box)).mean[0] / 255)
    assert len(means[True]) > 200 and len(means[False]) > 1000
    return tuple(sum(values) / len(values) for values in (means[True], means[False]))


def test_the_word_is_hidden_on_the_original(sides):
    """The mean tone over a region is what the eye sees from a reading distance, at
    whatever resolution it is averaged."""
    word, field = cell_tones(sides[1])
    assert 0.07 < field < 0.15, f"a light tint, but there: {field:.3f}"
    assert abs(word - field) < 0.02, f"word {word:.3f}, field {field:.3f}"


@pytest.mark.parametrize("copy", [
    copier,
    lambda image: copier(image, reduction=2),
    lambda image: copier(image, threshold=160),
    lambda image: copier(blur(contrast_loss(image), 1.0)),
], ids=["100 dpi", "150 dpi", "darker setting", "from a worn original"])
def test_the_word_shows_on_a_copy(sides, copy):
    word, field = cell_tones(copy(sides[1]))
    assert field < 0.05, f"the fine dots are dropped (a sharp copier keeps a few decoys): {field:.3f}"
    assert word - field > 0.08, f"word {word:.3f}, field {field:.3f}"


# --- microtext ---------------------------------------------------------------------

def test_each_side_carries_the_microtext_rule(pdf):
    line = microtext(fictional.CERTIFICATION, mincho(), BODY_W)
    assert line.count(fictional.CERTIFICATION.serial) >= 10
    runs = [(page, x, width) for page, text, x, _, width in text_runs(pdf) if text == line.strip()]
    assert sorted(page for page, _, _ in runs) == [0, 1]
    for _, x, width in runs:
        assert x == pytest.approx(LEFT) and width == pytest.approx(BODY_W, abs=2 * MICROTEXT_SIZE)
    for text in page_texts(pdf):
        assert squeeze(line) in text

"""The QR symbol printed on certificates, built by zxing-cpp, cross-checked against a
second encoder: it is segno's symbol for the same content at error level M, in the
smallest version, with one of the eight masks (the encoders may break mask-penalty
ties differently). That checks the data encoding, Reed-Solomon and masking.

segno is asked not to boost the error level (by default it raises M to Q or H when the
content still fits the same version; zxing-cpp keeps the level it is given), and its
padding is corrected to ISO 18004's (see segno_iso_padding)."""
from __future__ import annotations

import random
import string

import pytest
import segno
import segno.encoder

from printouts.verification_qr import ERROR_LEVEL, qr_matrix, qr_symbol


@pytest.fixture
def segno_iso_padding(monkeypatch):
    """segno 1.6.6 adds a whole zero codeword when the data and terminator already end on
    a codeword boundary (heuer/segno#148, open), before the pad codewords 0xEC 0x11; ISO
    18004 7.4.10 and zxing-cpp add none. Decoders ignore it but the modules differ: every
    byte-mode symbol, and some alphanumeric ones."""
    def write_padding_bits(buff, version, length):
        buff.extend([0] * (-length % 8))
    monkeypatch.setattr(segno.encoder, "write_padding_bits", write_padding_bits)


def _codes(count: int) -> list[str]:
    rng = random.Random(7)
    alphabets = (string.ascii_uppercase + string.digits + "-.", string.printable[:94])
    return ["".join(rng.choice(alphabets[n % 2]) for _ in range(rng.randrange(1, 251))) for n in range(count)]


def _segno(code: str, **mask) -> segno.QRCode:
    return segno.make(code, error="m", boost_error=False, micro=False, **mask)


def _rows(symbol: segno.QRCode) -> list[bytes]:
    return [bytes(row) for row in symbol.matrix]


def test_error_level_is_m():
    assert ERROR_LEVEL == "m"


def test_symbol_is_segnos_with_one_of_its_masks_in_the_smallest_version(segno_iso_padding):
    versions, masks, same_mask_as_segno = set(), set(), 0
    for code in _codes(80):
        matrix = qr_matrix(code)
        smallest = _segno(code)
        assert len(matrix) == len(smallest.matrix), code
        matches = [k for k in range(8) if _rows(_segno(code, mask=k)) == matrix]
        assert len(matches) == 1, (code, matches)
        versions.add(smallest.version)
        masks.add(matches[0])
        same_mask_as_segno += matches[0] == smallest.mask
    assert {1, 6, 7} <= versions  # the shortest, the certificates' own, and one with version information
    assert masks == set(range(8))
    assert same_mask_as_segno >= 48  # 62 of 80 with zxing-cpp 3.1.1: both score masks by ISO's rules


def test_path_fills_each_run_of_dark_modules():
    code = "KV1-H2EU27XOXYOXVFFSRY4PAZ"
    matrix = qr_matrix(code)
    symbol = qr_symbol(code)
    assert symbol.modules == len(matrix) == 25
    drawn = [bytearray(symbol.modules) for _ in range(symbol.modules)]
    *rectangles, fill = symbol.path.split("\n")
    assert fill == "f"
    for rectangle in rectangles:
        x, y, width, height, operator = rectangle.split()
        assert operator == "re" and height == "1" and int(width) >= 1
        row = drawn[int(y)]
        assert not any(row[int(x):int(x) + int(width)]), "runs overlap"
        row[int(x):int(x) + int(width)] = b"\x01" * int(width)
        assert int(x) + int(width) == len(row) or not matrix[int(y)][int(x) + int(width)], "a run stops short"
    assert [bytes(row) for row in drawn] == matrix


def test_empty_code_is_refused():
    with pytest.raises(ValueError, match="verification code"):
        qr_symbol("")

"""The QR symbol printed on certificates is segno's own, module for module, though
its mask is chosen by printouts.qr_mask rather than segno's slower search."""
from __future__ import annotations

import random
import string

import segno

from printouts.qr_mask import qr_matrix


def _codes(count: int) -> list[str]:
    rng = random.Random(7)
    alphabets = (string.ascii_uppercase + string.digits + "-.", string.printable[:94])
    return ["".join(rng.choice(alphabets[n % 2]) for _ in range(rng.randrange(1, 250))) for n in range(count)]


def test_every_mask_and_version_matches_segno():
    masks, versions = set(), set()
    for code in _codes(80):
        expected = segno.make(code, error="m", micro=False)
        assert [bytes(row) for row in qr_matrix(code, "m")] == [bytes(row) for row in expected.matrix], code
        masks.add(expected.mask)
        versions.add(expected.version)
    assert masks == set(range(8))  # each way of re-masking the symbol was taken
    assert {6, 7} <= versions  # with and without the version information


def test_every_error_level_matches_segno():
    for code in _codes(12):
        for level in "lmqh":
            expected = segno.make(code, error=level, micro=False).matrix
            assert [bytes(row) for row in qr_matrix(code, level)] == [bytes(row) for row in expected]

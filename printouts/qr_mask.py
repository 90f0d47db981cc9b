"""The matrix segno.make(content, error=..., micro=False) gives, built about twice as
fast: segno scores the eight data masks module by module in Python (~5 ms for a
version-6 symbol, a third of a certificate's rendering).

Here segno encodes the content once with mask 0, the eight masks are scored with
segno's own rules (segno.encoder.mask_scores: N1 runs, N2 blocks, N3 finder-like
patterns with its edge handling and overlaps, N4 balance) on whole rows and columns
as bytes and integers, and the symbol is switched to the winner: the data modules
re-masked and segno's format information written for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from segno import encoder

# N1: 3 points for 5 alike in a row or column, one more per further module. Written
# with a literal prefix, which re scans for ~3 times faster than 0{5,} or 0{5,}|1{5,}.
_RUNS = (re.compile(rb"00000+"), re.compile(rb"11111+"))
_N3 = b"1011101"
_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_MODULES = bytes.maketrans(b"01", b"\x00\x01")
_FLIPS = bytes.maketrans(b"01\n", b"\x00\x01\x00")


@dataclass(frozen=True)
class _Layout:
    """A QR code `size` modules wide, rows as ints with bit (size-1-j) for column j;
    "wide": the whole symbol as one int, row i shifted by i * (size + 1)."""

    info: tuple[int, ...]  # the format and version areas, light while masks are scored
    patterns: tuple[tuple[int, ...], ...]  # each mask's modules within the data region
    wide_patterns: tuple[int, ...]  # the same, wide
    flips: tuple[int, ...]  # each mask's modules as 0x01 bytes lined up with _text()
    blocks: int  # wide: the top-right module of every 2 x 2 block


@lru_cache(maxsize=16)
def _layout(size: int) -> _Layout:
    """Built the way segno builds its own function-pattern matrix."""
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1  # the dark module
    bare = encoder.make_matrix(size, size, reserve_regions=False)
    reserved = encoder.make_matrix(size, size)

    def rows(test) -> tuple[int, ...]:
        return tuple(sum(1 << (size - 1 - j) for j in range(size) if test(i, j)) for i in range(size))

    patterns = tuple(rows(lambda i, j, fn=fn: function[i][j] > 0x1 and fn(i, j))
                     for fn in encoder.get_data_mask_functions(False))
    corner = rows(lambda i, j: i < size - 1 and j > 0)
    return _Layout(info=rows(lambda i, j: bare[i][j] == 0x2 and reserved[i][j] == 0x0), patterns=patterns,
                   wide_patterns=tuple(_wide(p, size) for p in patterns),
                   flips=tuple(int.from_bytes(_text(p, size).translate(_FLIPS), "big") for p in patterns),
                   blocks=_wide(corner, size))


def _wide(rows, size: int) -> int:
    """The rows as one int, a zero bit between rows, so whole-symbol shifts compare
    each module with its left (>> 1) and lower (>> size + 1) neighbour."""
    wide = 0
    for i, row in enumerate(rows):
        wide |= row << (i * (size + 1))
    return wide


def _text(rows, size: int) -> bytes:
    """Every row, then every column, as b"0"/b"1" lines of size + 1 bytes."""
    lines = [format(row, f"0{size}b") for row in rows]
    return ("\n".join(lines + ["".join(column) for column in zip(*lines)]) + "\n").encode()


def qr_matrix(content: str, error: str) -> tuple[bytearray, ...]:
    """segno.make(content, error=error, micro=False).matrix: rows of 0/1 modules,
    without the quiet zone."""
    code = encoder.encode(content, error, mask=0, micro=False)
    mask = best_mask(code.matrix)
    if mask == 0:
        return code.matrix
    size = len(code.matrix)
    patterns = _layout(size).patterns
    matrix = tuple(bytearray(format(int(bytes(row).translate(_DIGITS), 2) ^ patterns[0][i] ^ patterns[mask][i],
                                    f"0{size}b").encode().translate(_MODULES)) for i, row in enumerate(code.matrix))
    encoder.add_format_info(matrix, code.version, code.error, mask)
    return matrix


def best_mask(matrix) -> int:
    """The mask segno's search picks for the symbol made with mask 0 as `matrix`."""
    size = len(matrix)
    layout = _layout(size)
    unmask = layout.patterns[0]
    # The symbol as scored: format and version areas light, data unmasked.
    data = [int(bytes(row).translate(_DIGITS), 2) & ~layout.info[i] ^ unmask[i] for i, row in enumerate(matrix)]
    text, wide = _text(data, size), _wide(data, size)
    length, data_text = len(text), int.from_bytes(text, "big")
    scores = [_penalty(wide ^ wide_pattern, (data_text ^ flips).to_bytes(length, "big"), size, layout.blocks)
              for wide_pattern, flips in zip(layout.wide_patterns, layout.flips)]
    return scores.index(min(scores))  # the first of equals, as segno's search


def _penalty(wide: int, text: bytes, size: int, blocks: int) -> int:
    """segno.encoder.evaluate_mask of the symbol (wide, and as _text)."""
    runs = [run for pattern in _RUNS for run in pattern.findall(text)]
    n1 = sum(map(len, runs)) - 2 * len(runs)
    below = ~(wide ^ (wide >> (size + 1)))  # each module alike the one under it
    left = ~(wide ^ (wide >> 1))  # ... the one to its left
    n2 = (below & (below >> 1) & left & blocks).bit_count()
    percent = float(wide.bit_count()) / (size ** 2)
    return n1 + 3 * n2 + _n3(text, size) + 10 * int(abs(percent * 100 - 50) / 5)


def _n3(text: bytes, size: int) -> int:
    """segno's count of 1:1:3:1:1 patterns in the rows and columns, with its edge
    cases and its overlaps; a pattern never spans two lines."""
    count = 0
    index = text.find(_N3)
    while index != -1:
        start = index - index % (size + 1)  # of the line
        offset = index + 7
        if index - start in (0, size - 7) or b"1" not in text[max(index - 4, start):index] \
                or b"1" not in text[offset:min(offset + 4, start + size)]:
            count += 40
        else:
            offset = index + 4
        index = text.find(_N3, offset)
    return count

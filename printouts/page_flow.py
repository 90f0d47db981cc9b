"""A certificate's body as a column of blocks, and how those blocks fall onto pages.

Pages are laid out before anything is drawn, so every page can say "x / y" without a
second rendering pass and without putting the total in an object outside the page's
content stream (the manifest binds pages by their content stream's digest).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from reportlab.pdfgen.canvas import Canvas


@dataclass(frozen=True)
class Block:
    """A full-width band of the body. `draw(canvas, top)` draws it below y = top."""

    height: float
    draw: Callable[[Canvas, float], None]
    keep_with_next: bool = False  # a heading is never the last thing on a page
    heading_on_new_page: Block | None = None  # e.g. a table's column headings, repeated


class BlockTooTall(ValueError):
    pass


def stack(blocks: Sequence[Block], keep_with_next: bool = False,
          heading_on_new_page: Block | None = None) -> Block:
    """Several blocks drawn one under the other as one block that never splits."""
    def draw(canvas: Canvas, top: float) -> None:
        for block in blocks:
            block.draw(canvas, top)
            top -= block.height

    return Block(sum(b.height for b in blocks), draw, keep_with_next, heading_on_new_page)


def spacer(height: float) -> Block:
    return Block(height, lambda canvas, top: None)


def paginate(blocks: Sequence[Block], room: float, last_page_reserve: float) -> list[list[Block]]:
    """Blocks per page, in order. Each page holds `room` points of blocks; the last one
    also keeps `last_page_reserve` free (the certifying block), so the last blocks move
    to a page of their own rather than leave the certification alone on a page."""
    groups = _keep_together(blocks)
    pages: list[list[Block]] = [[]]
    used = 0.0
    for index, group in enumerate(groups):
        height = sum(b.height for b in group)
        needed = height + (last_page_reserve if index == len(groups) - 1 else 0.0)
        if used + needed > room and pages[-1]:
            pages.append([])
            used = 0.0
            heading = group[0].heading_on_new_page
            if heading is not None:
                pages[-1].append(heading)
                used = heading.height
        if used + needed > room:
            raise BlockTooTall(f"a block of {height:.0f} pt does not fit a page's {room - used:.0f} pt")
        pages[-1].extend(group)
        used += height
    return pages


def _keep_together(blocks: Sequence[Block]) -> list[list[Block]]:
    """Each keep_with_next block in one group with the block after it."""
    groups: list[list[Block]] = []
    group: list[Block] = []
    for block in blocks:
        group.append(block)
        if not block.keep_with_next:
            groups.append(group)
            group = []
    if group:
        groups.append(group)
    return groups

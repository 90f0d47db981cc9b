"""Page counting for the PDFs we render, without a PDF library."""
from __future__ import annotations

import re

_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def count_pages(pdf: bytes) -> int:
    """Pages in a PDF we rendered (reportlab), without a PDF library."""
    return len(_PAGE_OBJECT.findall(pdf))


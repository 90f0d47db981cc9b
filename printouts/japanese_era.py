"""Dates in the Japanese era calendar (和暦), as printed on municipal certificates."""
from __future__ import annotations

from datetime import date

# (first day of the era, name), newest first. Certificates printed today only need
# eras in which a living resident can have been born or registered.
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
)


def wareki(d: date) -> str:
    """date(2026, 11, 23) -> "令和8年11月23日"; the first year of an era is 元年."""
    for start, name in _ERAS:
        if d >= start:
            year = d.year - start.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{name}{year_text}年{d.month}月{d.day}日"
    raise ValueError(f"{d.isoformat()} is before 昭和; no era supported for it")

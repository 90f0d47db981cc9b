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


def wareki_year(year: int) -> str:
    """2026 -> "令和8年", for a 年度 or a 年分; a year an era began in is named after the
    new era, as fiscal years are (2019 -> "令和元年")."""
    return wareki(date(year, 12, 31)).split("年")[0] + "年"


def seireki(d: date) -> str:
    """date(1990, 4, 1) -> "1990年4月1日": foreign residents' dates are printed in the
    Western calendar."""
    return f"{d.year}年{d.month}月{d.day}日"

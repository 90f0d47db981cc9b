"""The customer's receipt from the thermal printer: what was bought and paid, never who bought it.

Pure layout: a `Receipt` becomes `ReceiptLine`s sized for a 42-column roll (80 mm paper,
Font A). The receipt type has no field for a name, address, birth date or card number,
so none can reach the paper.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Literal

COLUMNS = 42  # half-width cells per line on 80 mm paper in Font A (12 x 24 dots)
from contract.service_window import JST
_WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class ReceiptLine:
    """One printed line. `double` doubles width and height, so it holds COLUMNS // 2 cells."""

    text: str
    bold: bool = False
    double: bool = False
    align: Literal["left", "center", "right"] = "left"


@dataclass(frozen=True)
class Receipt:
    store_name: str
    store_number: str
    terminal_id: str
    issued_at: dt.datetime  # timezone-aware; printed in JST
    document_title: str  # in Japanese, e.g. 住民票の写し
    copies: int
    fee_yen: int  # for all copies
    paid_yen: int
    change_yen: int
    transaction_number: str

    def __post_init__(self):
        if self.issued_at.tzinfo is None:
            raise ValueError("issued_at must be timezone-aware; the receipt prints it in JST")
        if self.copies < 1:
            raise ValueError(f"copies must be at least 1, not {self.copies}")
        if not 0 <= self.fee_yen <= self.paid_yen:
            raise ValueError(f"paid ¥{self.paid_yen:,} does not cover the fee ¥{self.fee_yen:,}")
        if self.change_yen != self.paid_yen - self.fee_yen:
            raise ValueError(f"change ¥{self.change_yen:,} is not paid ¥{self.paid_yen:,} "
                             f"minus fee ¥{self.fee_yen:,}")
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                cells(value)  # fails now, with the character, not later at the printer


def cells(text: str) -> int:
    """Half-width cells a Japanese receipt printer gives `text`: one per single-byte
    Shift_JIS character (ASCII, ¥, half-width kana), two per double-byte one."""
    try:
        return len(text.encode("shift_jis"))
    except UnicodeEncodeError as exc:
        raise ValueError(f"{text[exc.start]!r} (U+{ord(text[exc.start]):04X}) in {text!r} "
                         "is not in Shift_JIS (JIS X 0208); the receipt printer cannot print it") from exc


def yen(amount: int) -> str:
    return f"¥{amount:,}"


def receipt_lines(receipt: Receipt) -> list[ReceiptLine]:
    at = receipt.issued_at.astimezone(JST)
    rule = ReceiptLine("-" * COLUMNS)
    return [
        ReceiptLine("証明書交付 ご利用明細", bold=True, align="center"),
        *(ReceiptLine(part, align="center") for part in _wrap(receipt.store_name, COLUMNS)),
        ReceiptLine(""),
        *_columns(f"店舗番号 {receipt.store_number}", f"端末 {receipt.terminal_id}"),
        ReceiptLine(f"{at.year}年{at.month}月{at.day}日({_WEEKDAYS[at.weekday()]}) {at:%H:%M:%S}"),
        rule,
        *_columns(receipt.document_title, f"{receipt.copies}通"),
        *_columns("手数料", yen(receipt.fee_yen), width=COLUMNS // 2, double=True),
        *_columns("お預り", yen(receipt.paid_yen)),
        *_columns("お釣り", yen(receipt.change_yen)),
        rule,
        *_columns("取引番号", receipt.transaction_number),
        ReceiptLine(""),
        ReceiptLine("ご利用ありがとうございました", align="center"),
    ]


def _columns(label: str, value: str, width: int = COLUMNS, **style) -> list[ReceiptLine]:
    """Label on the left, value on the right; the value gets its own line if both do not fit."""
    gap = width - cells(label) - cells(value)
    if gap >= 1:
        return [ReceiptLine(label + " " * gap + value, **style)]
    return [*(ReceiptLine(part, **style) for part in _wrap(label, width)),
            ReceiptLine(value, align="right", **style)]


def _wrap(text: str, width: int) -> list[str]:
    """Split at cell boundaries, never through a double-byte character."""
    parts, current = [], ""
    for char in text:
        if current and cells(current + char) > width:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current]

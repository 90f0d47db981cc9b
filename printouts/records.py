"""The data a municipality puts on a 住民票の写し: plain values, no behaviour.

The issuance service builds these from its registry; the renderers turn them into PDF
bytes. Everything the real service never prints (住民票コード, histories, removed
members) simply has no field here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class HouseholdMember:
    name: str  # 氏名, e.g. "山田 花子"
    name_kana: str  # ふりがな, e.g. "やまだ はなこ"
    birth_date: date
    sex: str  # "男" / "女"
    relationship: str  # 続柄, e.g. "世帯主", "妻", "子"
    became_resident_on: date  # 住民となった年月日


@dataclass(frozen=True)
class ResidenceRecord:
    municipality: str  # e.g. "架空県みどり市"
    mayor: str  # e.g. "みどり市長　青木 一郎"
    address: str  # 住所
    head_of_household: str  # 世帯主
    members: tuple[HouseholdMember, ...]
    serial: str  # printed on the certificate, unique per issuance
    issued_on: date
    notes: tuple[str, ...] = field(default_factory=tuple)

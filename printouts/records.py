"""The data a municipality puts on each certificate: plain values, no behaviour.

The issuance service builds these from its registry; the renderers turn them into PDF
bytes. Everything the real service never prints (住民票コード, address and name
histories, removed members, 除票, 改製原戸籍, 除籍) simply has no field here, and an
option the resident did not choose arrives as None, so a renderer cannot print it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class Certification:
    """Who certifies, and the issuance's identity printed on every page."""

    municipality: str  # e.g. "架空県みどり市"
    mayor: str  # e.g. "みどり市長　青木 一郎"; the seal is made from its first word
    serial: str  # e.g. "999001-20261123-3F9A02C1", unique per issuance
    issued_on: date


@dataclass(frozen=True)
class ForeignResidentFacts:
    """A foreign member's own lines on a 住民票, each printed only when chosen."""

    nationality: str | None  # 国籍・地域, e.g. "ベトナム"
    residence_card_number: str | None  # 在留カード等の番号, e.g. "AB12345678CD"
    status_of_residence: str | None  # 在留資格, e.g. "技術・人文知識・国際業務"
    period_of_stay: str | None  # 在留期間, e.g. "3年"
    period_expires_on: date | None  # 在留期間の満了の日


@dataclass(frozen=True)
class HouseholdMember:
    name: str  # 氏名, e.g. "山田 花子"; foreign residents: alphabet name, e.g. "NGUYEN VAN AN"
    name_kana: str  # ふりがな / カタカナ読み
    birth_date: date
    sex: str  # "男" / "女"
    relationship: str | None  # 続柄 ("世帯主", "妻", "子"), None unless chosen
    became_resident_on: date  # 住民となった年月日
    domicile: str | None = None  # 本籍, Japanese members only, None unless chosen
    domicile_head: str | None = None  # 筆頭者, with 本籍
    my_number: str | None = None  # 個人番号, only where the municipality allows and chosen
    foreign: ForeignResidentFacts | None = None  # None for Japanese members


@dataclass(frozen=True)
class ResidenceRecord:
    """住民票の写し (kind "copy") or 住民票記載事項証明書 (kind "items")."""

    certification: Certification
    address: str  # 住所
    head_of_household: str | None  # 世帯主, None unless the relationship option was chosen
    members: tuple[HouseholdMember, ...]  # in household order; may run over several pages
    whole_household: bool  # 世帯全員 or 世帯一部
    kind: Literal["copy", "items"] = "copy"


@dataclass(frozen=True)
class SealCertificate:
    """印鑑登録証明書: the cardholder only, with the registered seal's impression."""

    certification: Certification
    name: str
    birth_date: date
    sex: str
    address: str
    impression: str  # the characters carved on the seal, e.g. "山田" (drawn as the 印影)


@dataclass(frozen=True)
class TaxCertificate:
    """課税・所得証明書 for one fiscal year (年度), on the previous year's income (分)."""

    certification: Certification
    fiscal_year: int  # e.g. 2026 (令和8年度)
    name: str
    address: str  # on 1 January of the fiscal year
    birth_date: date
    income_yen: int  # 総所得金額
    salary_revenue_yen: int  # 給与収入
    deductions_yen: int  # 所得控除額合計
    taxable_income_yen: int  # 課税標準額
    municipal_tax_yen: int  # 市町村民税
    prefectural_tax_yen: int  # 県民税
    dependants: int  # 扶養人数


@dataclass(frozen=True)
class RegisterEvent:
    label: str  # e.g. "出生", "婚姻", "編製"
    on: date
    detail: str  # e.g. "【出生地】架空県みどり市"


@dataclass(frozen=True)
class RegisterPerson:
    """One person in a family register (戸籍に記録されている者)."""

    name: str
    birth_date: date
    father: str  # 父
    mother: str  # 母
    relationship: str  # 続柄, e.g. "長男", "妻"
    events: tuple[RegisterEvent, ...]  # 身分事項


@dataclass(frozen=True)
class FamilyRegister:
    """戸籍全部事項証明書 (kind "full": every person) or 戸籍個人事項証明書 (kind
    "individual": the cardholder's entry). Certified by the municipality of the 本籍."""

    certification: Certification
    domicile: str  # 本籍
    head: str  # 筆頭者
    register_events: tuple[RegisterEvent, ...]  # 戸籍事項, e.g. 編製
    persons: tuple[RegisterPerson, ...]
    kind: Literal["full", "individual"] = "full"


@dataclass(frozen=True)
class AnnexEntry:
    name: str
    address: str  # the current address only: the store never prints address histories
    address_set_on: date  # 住所を定めた年月日


@dataclass(frozen=True)
class RegisterAnnex:
    """戸籍の附票の写し, certified by the municipality of the 本籍."""

    certification: Certification
    domicile: str
    head: str
    entries: tuple[AnnexEntry, ...]


Certificate = ResidenceRecord | SealCertificate | TaxCertificate | FamilyRegister | RegisterAnnex

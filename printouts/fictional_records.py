"""Fictional certificates for tests, the render benchmark and looking at the layout.

Every person, place and number here is made up (架空県みどり市, 山田 太郎, NGUYEN VAN AN).
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import date

from printouts.japanese_era import wareki
from printouts.records import (
    AnnexEntry,
    Certification,
    FamilyRegister,
    ForeignResidentFacts,
    HouseholdMember,
    RegisterAnnex,
    RegisterEvent,
    RegisterPerson,
    ResidenceRecord,
    SealCertificate,
    TaxCertificate,
)

CERTIFICATION = Certification(
    municipality="架空県みどり市",
    mayor="みどり市長　青木 一郎",
    serial="999001-20261123-3F9A02C1",
    issued_on=date(2026, 11, 23),
)


def verification_code(seed: str = "fictional") -> str:
    """A code shaped like the issuance center's: 130 characters of uppercase base32,
    '-' and '.'."""
    digest = base64.b32encode(hashlib.sha512(seed.encode()).digest()).decode().rstrip("=")
    return f"KV1-{digest[:60]}.{digest[60:]}{digest[:22]}"[:130]


# Values at the length limits the layout must hold without overflowing a box.
LONG_ADDRESS = "架空県みどり市若葉台三丁目一二三四番地の五六七　かえでハイツ南棟一二〇一号室（みどり市若葉台第二団地管理組合事務所気付）"  # 60
LONG_NAME = "山田花子" * 7 + "太郎"  # 30
LONG_ALPHABET_NAME = "NGUYEN THI THANH HUONG MARIA ANNA"

TARO = HouseholdMember("山田 太郎", "やまだ たろう", date(1978, 4, 2), "男", "世帯主", date(2012, 6, 1))
HANAKO = HouseholdMember("山田 花子", "やまだ はなこ", date(1989, 1, 8), "女", "妻", date(2012, 6, 1))
KAZUHA = HouseholdMember("山田 一葉", "やまだ かずは", date(2019, 5, 1), "女", "子", date(2019, 5, 1))
AN = HouseholdMember(
    "NGUYEN VAN AN", "グエン ヴァン アン", date(1995, 9, 2), "男", "同居人", date(2023, 4, 1),
    foreign=ForeignResidentFacts("ベトナム", "AB12345678CD", "技術・人文知識・国際業務", "3年", date(2029, 3, 31)),
)


def residence_record(**changes) -> ResidenceRecord:
    """山田 太郎's household of three, every option off except 世帯主・続柄."""
    record = ResidenceRecord(
        certification=CERTIFICATION,
        address="架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
        head_of_household="山田 太郎",
        members=(TARO, HANAKO, KAZUHA),
        whole_household=True,
    )
    return replace(record, **changes)


def with_every_option(member: HouseholdMember, my_number: str) -> HouseholdMember:
    """The member with 本籍・筆頭者 (Japanese members) and 個人番号 chosen."""
    if member.foreign is not None:
        return replace(member, my_number=my_number)
    return replace(member, domicile="架空県みどり市本町一丁目1番地", domicile_head="山田 太郎", my_number=my_number)


def large_household(size: int) -> tuple[HouseholdMember, ...]:
    """`size` members, each with a different name, birth year and every option."""
    members = []
    for i in range(size):
        base = AN if i % 4 == 3 else TARO
        member = replace(base, name=f"{base.name}{i + 1:02d}", birth_date=date(1950 + i, 4, 2),
                         relationship="世帯主" if i == 0 else "同居人")
        members.append(with_every_option(member, my_number=f"{123456789000 + i:012d}"))
    return tuple(members)


def seal_certificate(**changes) -> SealCertificate:
    record = SealCertificate(
        certification=CERTIFICATION,
        name="山田 太郎",
        birth_date=date(1978, 4, 2),
        sex="男",
        address="架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
        impression="山田",
    )
    return replace(record, **changes)


def tax_certificate(**changes) -> TaxCertificate:
    record = TaxCertificate(
        certification=CERTIFICATION,
        fiscal_year=2026,
        name="山田 太郎",
        address="架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号",
        birth_date=date(1978, 4, 2),
        income_yen=4_560_000,
        salary_revenue_yen=6_400_000,
        deductions_yen=1_830_000,
        taxable_income_yen=2_730_000,
        municipal_tax_yen=163_800,
        prefectural_tax_yen=109_200,
        dependants=2,
    )
    return replace(record, **changes)


def _person(name: str, birth: date, father: str, mother: str, relationship: str, events_count: int) -> RegisterPerson:
    events = [RegisterEvent("出生", birth, f"【出生地】架空県みどり市\n【届出日】{wareki(birth)}\n【届出人】父")]
    extra = (
        RegisterEvent("婚姻", date(2010, 10, 10), "【配偶者氏名】山田 花子\n【従前戸籍】架空県みどり市本町一丁目1番地　山田 一郎"),
        RegisterEvent("転籍", date(2015, 3, 1), "【従前本籍】架空県さくら町中央二丁目3番地"),
        RegisterEvent("養子縁組", date(2016, 7, 7), "【養親氏名】山田 次郎\n【縁組の方式】届出"),
        RegisterEvent("氏の変更", date(2018, 1, 15), "【氏の変更の事由】戸籍法第107条第1項の届出"),
    )
    return RegisterPerson(name, birth, father, mother, relationship, tuple(events + list(extra[:events_count - 1])))


def family_register(**changes) -> FamilyRegister:
    record = FamilyRegister(
        certification=CERTIFICATION,
        domicile="架空県みどり市本町一丁目1番地",
        head="山田 太郎",
        register_events=(RegisterEvent("編製", date(2010, 10, 10), "【編製事由】婚姻の届出"),),
        persons=(
            _person("山田 太郎", date(1978, 4, 2), "山田 一郎", "山田 春子", "長男", 2),
            _person("山田 花子", date(1989, 1, 8), "佐藤 健", "佐藤 秋子", "長女", 2),
        ),
    )
    return replace(record, **changes)


def large_family_register(persons: int, events_each: int) -> FamilyRegister:
    return family_register(persons=tuple(
        _person(f"山田 {name}", date(1950 + 8 * i, 4, 2), "山田 一郎", "山田 春子", relationship, events_each)
        for i, (name, relationship) in enumerate(
            list(zip(("太郎", "花子", "一葉", "二郎", "三郎", "四郎", "五郎", "六郎"),
                     ("長男", "妻", "長女", "二男", "三男", "四男", "五男", "六男")))[:persons])
    ))


def register_annex(**changes) -> RegisterAnnex:
    record = RegisterAnnex(
        certification=CERTIFICATION,
        domicile="架空県みどり市本町一丁目1番地",
        head="山田 太郎",
        entries=(
            AnnexEntry("山田 太郎", "架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号", date(2012, 6, 1)),
            AnnexEntry("山田 花子", "架空県みどり市若葉台三丁目12番地の4　かえでハイツ201号", date(2012, 6, 1)),
        ),
    )
    return replace(record, **changes)

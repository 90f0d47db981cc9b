"""A synthetic, fictional population for load tests: as many households as asked,
each with a cardholder, in the shape of seed/residents.toml as tomllib loads it.

Every household lives in the shipped seed's first municipality (its rules, documents
and fees) and has a family register there; its head holds a card, a registered seal
and tax records. Names are invented from small syllable lists. Residents' family
names, residents' given names, parents' given names and street names use disjoint
characters, every household has its own family name and every resident name has the
same length, so one resident's name never appears inside another text: a load test
can tell from a PDF's text alone whose certificate it is. My Numbers carry a valid
check digit.
"""
from __future__ import annotations

import copy
import datetime as dt
import itertools
import random

from devices.card import my_number
from municipal.cli import SEED
from municipal.registry import load_seed

FAMILY_SYLLABLES = (("朝", "あさ"), ("霧", "きり"), ("鶴", "つる"), ("沼", "ぬま"), ("桐", "きり"),
                    ("柚", "ゆず"), ("萩", "はぎ"), ("葦", "あし"), ("楓", "かえで"), ("榊", "さかき"),
                    ("椿", "つばき"), ("蓮", "はす"), ("雫", "しずく"), ("杏", "あんず"), ("芹", "せり"),
                    ("菫", "すみれ"))
GIVEN_SYLLABLES = (("晴", "はる"), ("湊", "みなと"), ("凪", "なぎ"), ("颯", "はやて"), ("澪", "みお"),
                   ("紬", "つむぎ"), ("暁", "あかつき"), ("灯", "あかり"), ("詩", "うた"), ("律", "りつ"))
PARENT_GIVEN = ("源蔵", "文江")  # the head's parents, who are not residents
STREETS = ("星見台", "風待町", "月影坂", "虹橋町")
CHILDREN = 3  # at most, after the head (世帯主) and a spouse
CARD_PIN, SIGNATURE_PASSWORD = "1234", "LOAD2024"
CARDS_ISSUED_ON = dt.date(2025, 4, 1)  # long enough ago for a store to accept the card
TAX_YEARS = (2025, 2026)


def synthetic_seed(households: int, *, members: int = 2, rng_seed: int = 0) -> dict:
    """`households` households of `members` people (1 to 5); the head of each holds a
    card (PIN 1234). Deterministic for a given rng_seed."""
    if not 1 <= members <= 2 + CHILDREN:
        raise ValueError(f"members must be 1 to {2 + CHILDREN}")
    municipality = copy.deepcopy(load_seed(SEED)["municipalities"][0])
    rng = random.Random(rng_seed)
    numbers = _my_numbers(rng)
    seed = {"municipalities": [municipality], "households": [], "family_registers": [], "seals": [],
            "tax_records": [], "cards": []}
    for h, family in enumerate(_family_names(households, rng)):
        household_id, register_id = f"LH{h:05d}", f"LF{h:05d}"
        street = f"{STREETS[h % len(STREETS)]}{h // 400 + 1}丁目{h % 400 // 20 + 1}番"
        address = f"{municipality['name']}{street}{h % 20 + 1}号"
        roles = _roles(rng)[:members]
        people = [_member(f"LR{h:05d}{m}", family, given, role, next(numbers), register_id, rng)
                  for m, (given, role) in enumerate(zip(rng.sample(_given_names(), members), roles))]
        head = people[0]
        seed["households"].append({"id": household_id, "municipality": municipality["code"], "address": address,
                                   "members": people})
        seed["family_registers"].append({
            "id": register_id, "municipality": municipality["code"], "domicile": f"{municipality['name']}{street}地",
            "head": head["name"], "events": [{"label": "編製", "on": CARDS_ISSUED_ON, "detail": "【編製日】"}],
            "persons": [_register_person(person, role[1], family, people) for person, role in zip(people, roles)]})
        seed["seals"].append({"resident": head["id"], "impression": family[0], "registered_on": CARDS_ISSUED_ON})
        seed["tax_records"] += [_tax_record(head["id"], year, address, rng) for year in TAX_YEARS]
        seed["cards"].append({"resident": head["id"], "pin": CARD_PIN, "signature_password": SIGNATURE_PASSWORD,
                              "card_info_pin": CARD_PIN, "issued_on": CARDS_ISSUED_ON})
    return seed


def _roles(rng: random.Random) -> list[tuple[str, str, str]]:
    """(relationship in the household, in the family register, sex) by position."""
    head_sex = rng.choice(("男", "女"))
    spouse = ("妻", "妻", "女") if head_sex == "男" else ("夫", "夫", "男")
    children = [("子", "長男", "男") if rng.random() < 0.5 else ("子", "長女", "女") for _ in range(CHILDREN)]
    return [("世帯主", "長男" if head_sex == "男" else "長女", head_sex), spouse, *children]


def _member(resident_id: str, family: tuple[str, str], given: tuple[str, str], role: tuple[str, str, str],
            number: str, register_id: str, rng: random.Random) -> dict:
    relationship, _, sex = role
    child = relationship == "子"
    birth = dt.date(2008 if child else 1965, 1, 1) + dt.timedelta(days=rng.randrange(365 * (5 if child else 20)))
    return {"id": resident_id, "my_number": number, "name": f"{family[0]} {given[0]}",
            "name_kana": f"{family[1]} {given[1]}", "birth_date": birth, "sex": sex, "relationship": relationship,
            "became_resident_on": max(birth, dt.date(2015, 4, 1)), "family_register": register_id}


def _register_person(person: dict, relationship: str, family: tuple[str, str], people: list[dict]) -> dict:
    if person["relationship"] == "子":
        father, mother = (p["name"] for p in sorted(people[:2], key=lambda p: p["sex"] != "男"))
    else:
        father, mother = (f"{family[0]} {given}" for given in PARENT_GIVEN)
    return {"resident": person["id"], "name": person["name"], "birth_date": person["birth_date"],
            "father": father, "mother": mother, "relationship": relationship,
            "events": [{"label": "出生", "on": person["birth_date"], "detail": "【出生地】架空県"}]}


def _tax_record(resident: str, year: int, address: str, rng: random.Random) -> dict:
    salary = rng.randrange(3_000_000, 9_000_000, 10_000)
    income = salary * 7 // 10
    deductions = rng.randrange(800_000, 1_600_000, 10_000)
    taxable = max(0, income - deductions)
    return {"resident": resident, "fiscal_year": year, "address": address, "income_yen": income,
            "salary_revenue_yen": salary, "deductions_yen": deductions, "taxable_income_yen": taxable,
            "municipal_tax_yen": taxable * 6 // 100, "prefectural_tax_yen": taxable * 4 // 100, "dependants": 1}


def _family_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Two syllables, or three for more than 240 households: one length, so no name
    is part of another."""
    for length in (2, 3):
        names = list(itertools.permutations(FAMILY_SYLLABLES, length))
        if count <= len(names):
            return [("".join(k for k, _ in combo), "".join(r for _, r in combo)) for combo in rng.sample(names, count)]
    raise ValueError(f"at most {len(names)} households have distinct family names")


def _given_names() -> list[tuple[str, str]]:
    return [(a + b, ra + rb) for (a, ra), (b, rb) in itertools.permutations(GIVEN_SYLLABLES, 2)]


def _my_numbers(rng: random.Random):
    seen: set[str] = set()
    while True:
        first = str(rng.randrange(10**10, 10**11))
        if first not in seen:
            seen.add(first)
            yield first + str(my_number.check_digit(first))

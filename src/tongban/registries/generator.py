"""A deterministic generator of valid, made-up persons and legal entities.

The same seed gives the same rows on every machine and Python 3 version: only
``random.Random`` with integer-range draws and fixed lists are used, never
``hash()`` or set order. Rows are plain dicts ready for
``services.import_persons`` / ``services.import_entities``; no database access
happens here, so a million rows take seconds.

Every ID number is unique by construction: each (area, birth date) pair hands
out its sequence codes in order from a random start, men odd and women even.
Every USCC is unique because its organization code is a bijection of the row
number.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from stdnum.cn import ric
from stdnum.cn import uscc as uscc_number

BIRTH_FIRST = date(1940, 1, 1)
BIRTH_LAST = date(2010, 12, 31)
# Entities are established within this window (fixed, so output never depends on today).
ESTABLISHED_FIRST = date(1985, 1, 1)
ESTABLISHED_LAST = date(2025, 12, 31)
ADULT_AGE = 18
# The first entities are represented by one of the first persons, so that a demo
# business owner is always among the first ten generated persons.
OWNER_POOL = 10
OWNED_BY_FIRST_POOL = 3

# The most common surnames, roughly in order of frequency (weights are per mille of the population).
SURNAMES: Sequence[tuple[str, int]] = (
    ("王", 72), ("李", 72), ("张", 69), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 23), ("赵", 22),
    ("吴", 20), ("周", 19), ("徐", 17), ("孙", 15), ("马", 15), ("朱", 14), ("胡", 13), ("郭", 12),
    ("何", 12), ("林", 11), ("高", 11), ("罗", 11), ("郑", 10), ("梁", 10), ("谢", 8), ("宋", 8),
    ("唐", 8), ("许", 7), ("韩", 7), ("冯", 7), ("邓", 7), ("曹", 7), ("彭", 6), ("曾", 6),
    ("肖", 6), ("田", 6), ("董", 5), ("袁", 5), ("潘", 5), ("于", 5), ("蒋", 5), ("蔡", 5),
    ("余", 5), ("杜", 5), ("叶", 5), ("程", 5), ("苏", 4), ("魏", 4), ("吕", 4), ("丁", 4),
    ("任", 4), ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 4), ("崔", 4), ("钟", 4), ("谭", 3),
    ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3), ("廖", 3), ("贾", 3), ("夏", 3),
    ("韦", 3), ("方", 3), ("白", 3), ("邹", 3), ("孟", 3), ("熊", 3), ("秦", 3), ("邱", 3),
    ("江", 3), ("尹", 3), ("薛", 2), ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2),
    ("陶", 2), ("黎", 2), ("贺", 2), ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2),
    ("万", 2), ("钱", 2), ("严", 2), ("武", 2), ("戴", 2), ("莫", 2), ("孔", 2), ("汤", 2),
    ("欧阳", 1), ("司马", 1), ("上官", 1), ("诸葛", 1),
)
GIVEN_MALE = (
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "建", "国",
    "志", "文", "博", "晨", "睿", "轩", "泽", "昊", "然", "诚", "毅", "峰", "海", "东", "亮", "成",
)
GIVEN_FEMALE = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "燕", "婷", "雪", "琳", "倩",
    "颖", "慧", "洁", "欣", "怡", "佳", "悦", "梦", "晶", "莹", "蕾", "薇", "璐", "月", "瑶", "琪",
    "雨", "涵", "思", "诗", "萱", "彤", "妍", "菲", "晓", "兰", "云", "红", "梅", "春", "萍", "丹",
)

# (entity type, share in per mille, USCC registration authority + category code)
ENTITY_TYPES: Sequence[tuple[str, int, str]] = (
    ("company", 600, "91"),
    ("sole_proprietor", 250, "92"),
    ("partnership", 50, "91"),
    ("institution", 50, "12"),
    ("social_organization", 50, "51"),
)
TRADE_CHARACTERS = (
    "瑞", "丰", "华", "盛", "恒", "信", "达", "润", "泰", "安", "嘉", "和", "鑫", "源", "宏", "远",
    "佳", "德", "永", "兴", "明", "新", "天", "诚", "汇", "通", "博", "创", "智", "联", "星", "辰",
    "云", "海", "锦", "翔", "卓", "越", "启", "航", "晟", "弘", "景", "元", "致", "合",
)
INDUSTRIES = (
    "科技", "网络科技", "信息技术", "贸易", "电子商务", "文化传媒", "餐饮管理", "建筑工程", "物流",
    "生物科技", "教育科技", "企业管理咨询", "服饰", "食品", "环保科技", "新能源", "医疗器械", "智能制造",
)
SHOPS = ("便利店", "面馆", "水果店", "理发店", "小吃店", "五金店", "茶庄", "服装店", "花店", "家电维修部")
PARTNERSHIPS = ("创业投资合伙企业（有限合伙）", "投资管理合伙企业（有限合伙）", "会计师事务所（普通合伙）")
INSTITUTIONS = ("研究院", "检验检测中心", "职业技术学校", "社区卫生服务中心", "文化馆", "公共资源交易中心")
SOCIETIES = ("行业协会", "商会", "促进会", "研究会")

# Organization codes (组织机构代码, GB 11714): 8 digits and a check character.
_ORG_CODE_SPACE = 10**8
_ORG_CODE_MULTIPLIER = 48_271_183  # coprime with 10**8, so i -> i*m mod 10**8 is a bijection
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code(body: str) -> str:
    """Return the 8-digit organization-code ``body`` followed by its GB 11714 check character."""
    check = 11 - sum(int(char, 36) * weight for char, weight in zip(body, _ORG_CODE_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def make_id_number(area_code: str, birth_date: date, sequence: int) -> str:
    """Return the 18-character ID number for an area, a birth date and a sequence code (1–999)."""
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_uscc(prefix: str, region_code: str, org_code: str) -> str:
    """Return the USCC made of a 2-character prefix, a region code and a 9-character organization code."""
    body = f"{prefix}{region_code}{org_code}"
    return body + uscc_number.calc_check_digit(body)


def _weighted(items: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values, cumulative, total = [], [], 0
    for value, weight in items:
        total += weight
        values.append(value)
        cumulative.append(total)
    return values, cumulative


def _pick_weighted(rng: random.Random, values: list[Any], cumulative: list[int]) -> Any:
    # Integer draws only: the same on every platform.
    point = rng.randrange(cumulative[-1])
    low, high = 0, len(cumulative) - 1
    while low < high:
        middle = (low + high) // 2
        if cumulative[middle] > point:
            high = middle
        else:
            low = middle + 1
    return values[low]


def generate_persons(count: int, *, seed: int, district_codes: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Yield ``count`` distinct valid persons for ``import_persons``.

    Each row: id_number, name, sex, birth_date (a date), address_region (a code
    from ``district_codes``), nationality. Most people live in the district that
    issued their number.
    """
    if not district_codes:
        raise ValueError("Give at least one district code.")
    rng = random.Random(seed)
    surnames, surname_weights = _weighted(SURNAMES)
    first_ordinal, days = BIRTH_FIRST.toordinal(), (BIRTH_LAST - BIRTH_FIRST).days + 1
    # Next sequence slot per (area, birth date); men get odd codes, women even.
    next_slot: dict[tuple[int, int, bool], int] = {}
    produced = 0
    while produced < count:
        area = rng.randrange(len(district_codes))
        day = rng.randrange(days)
        male = rng.randrange(2) == 1
        key = (area, day, male)
        slot = next_slot.get(key)
        if slot is None:
            slot = rng.randrange(60)
        if slot >= 499:  # this (area, day, sex) is full: draw again
            continue
        next_slot[key] = slot + 1
        sequence = 2 * slot + 1 if male else 2 * slot + 2
        birth_date = date.fromordinal(first_ordinal + day)
        given = GIVEN_MALE if male else GIVEN_FEMALE
        name = _pick_weighted(rng, surnames, surname_weights) + "".join(
            rng.choice(given) for _ in range(1 + (rng.randrange(10) < 7))
        )
        home = area if rng.randrange(10) < 8 else rng.randrange(len(district_codes))
        yield {
            "id_number": make_id_number(district_codes[area], birth_date, sequence),
            "name": name,
            "sex": "male" if male else "female",
            "birth_date": birth_date,
            "address_region": district_codes[home],
            "nationality": "CHN",
        }
        produced += 1


def _birth_date_in(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def _adult_from(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + ADULT_AGE)
    except ValueError:  # born on 29 February
        return date(birth_date.year + ADULT_AGE, 3, 1)


def _entity_name(rng: random.Random, entity_type: str, place: str) -> str:
    trade = rng.choice(TRADE_CHARACTERS) + rng.choice(TRADE_CHARACTERS)
    if entity_type == "company":
        suffix = "股份有限公司" if rng.randrange(20) == 0 else "有限公司"
        return f"{place}{trade}{rng.choice(INDUSTRIES)}{suffix}"
    if entity_type == "sole_proprietor":
        return f"{place}{trade}{rng.choice(SHOPS)}"
    if entity_type == "partnership":
        return f"{place}{trade}{rng.choice(PARTNERSHIPS)}"
    if entity_type == "institution":
        return f"{place}市{trade}{rng.choice(INSTITUTIONS)}"
    return f"{place}市{rng.choice(INDUSTRIES)}{rng.choice(SOCIETIES)}"


def generate_entities(
    count: int, *, seed: int, regions: Mapping[str, str], representatives: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` distinct valid legal entities for ``import_entities``.

    ``regions`` maps registration region codes to the place name used in entity
    names (``{"330106": "杭州"}``); ``representatives`` are the ID numbers of
    generated persons (typically all of them, in order). Representatives are
    adults when the entity is established. The first entities are represented
    by one of the first ten persons; the others by later persons when there are any.
    """
    adults_cutoff = ESTABLISHED_LAST.toordinal()
    eligible = [i for i, number in enumerate(representatives)
                if _adult_from(_birth_date_in(number)).toordinal() <= adults_cutoff]
    if not eligible:
        raise ValueError("No representative is an adult within the establishment window.")
    first_pool = [i for i in eligible if i < OWNER_POOL] or eligible
    later_pool = [i for i in eligible if i >= OWNER_POOL] or eligible
    region_codes = list(regions)
    types, type_weights = _weighted([(entry, entry[1]) for entry in ENTITY_TYPES])
    # Two streams: codes and names never depend on how many persons there are,
    # so a larger seed run keeps the entities of a smaller one.
    rng = random.Random(seed ^ 0x5EED_E471)
    people_rng = random.Random(seed ^ 0x0B1A_DE11)
    offset = rng.randrange(_ORG_CODE_SPACE)
    for position in range(count):
        entity_type, _share, prefix = _pick_weighted(rng, types, type_weights)
        region = region_codes[rng.randrange(len(region_codes))]
        org_body = f"{(offset + position * _ORG_CODE_MULTIPLIER) % _ORG_CODE_SPACE:08d}"
        name = _entity_name(rng, entity_type, regions[region])
        if position < OWNED_BY_FIRST_POOL:
            representative = representatives[first_pool[0]]
        else:
            representative = representatives[later_pool[people_rng.randrange(len(later_pool))]]
        earliest = max(ESTABLISHED_FIRST, _adult_from(_birth_date_in(representative))).toordinal()
        established_on = date.fromordinal(earliest + people_rng.randrange(adults_cutoff - earliest + 1))
        yield {
            "uscc": make_uscc(prefix, region, organization_code(org_body)),
            "name": name,
            "entity_type": entity_type,
            "legal_representative": representative,
            "registered_region": region,
            "established_on": established_on,
        }

"""The demo region's org tree: one province, two cities, four districts, and in
each city the eight departments the issue lists. Real division codes are used so
that ID numbers generated for these districts validate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stdnum.cn import uscc as uscc_number

from tongban.kernel import services as kernel_services
from tongban.kernel.models import Department, Region

PROVINCE = ("330000", "浙江省", "Zhejiang Province")
CITIES = [
    ("330100", "杭州市", "Hangzhou"),
    ("330200", "宁波市", "Ningbo"),
]
DISTRICTS = [
    ("330102", "上城区", "Shangcheng District", "330100"),
    ("330106", "西湖区", "Xihu District", "330100"),
    ("330203", "海曙区", "Haishu District", "330200"),
    ("330205", "江北区", "Jiangbei District", "330200"),
]
# (kind, Chinese name suffix, English name suffix, organization-code letter)
DEPARTMENT_KINDS = [
    (Department.Kind.PUBLIC_SECURITY, "公安局", "Public Security Bureau", "A"),
    (Department.Kind.CIVIL_AFFAIRS, "民政局", "Civil Affairs Bureau", "B"),
    (Department.Kind.MARKET_REGULATION, "市场监督管理局", "Market Regulation Administration", "C"),
    (Department.Kind.HUMAN_RESOURCES, "人力资源和社会保障局", "Human Resources and Social Security Bureau", "D"),
    (Department.Kind.NATURAL_RESOURCES, "自然资源和规划局", "Natural Resources and Planning Bureau", "E"),
    (Department.Kind.HEALTH, "卫生健康委员会", "Health Commission", "F"),
    (Department.Kind.TAX, "税务局", "Tax Bureau", "G"),
    (Department.Kind.DATA_BUREAU, "数据资源管理局", "Data Resources Bureau", "H"),
]
POSITIONS = [("综合受理窗口", "General acceptance window"), ("审批科", "Approval section")]


def department_uscc(region_code: str, letter: str) -> str:
    """Return a valid government-agency USCC (11 = organ of state) for a department."""
    body = f"11{region_code}MB{letter}{region_code[2:6]}01"
    return body + uscc_number.calc_check_digit(body)


@dataclass(frozen=True)
class DemoOrg:
    province: Region
    cities: list[Region]
    districts: list[Region]

    def department(self, city_code: str, kind: str) -> Department:
        return Department.objects.get(region__code=city_code, kind=kind)


def build_org_tree(*, actor: Any = "system:seed-demo") -> DemoOrg:
    """Create the demo org tree if absent and return it (idempotent)."""
    province = Region.objects.filter(code=PROVINCE[0]).first() or kernel_services.create_region(
        actor=actor, code=PROVINCE[0], name=PROVINCE[1], name_en=PROVINCE[2]
    )
    cities = []
    for code, name, name_en in CITIES:
        city = Region.objects.filter(code=code).first() or kernel_services.create_region(
            actor=actor, code=code, name=name, name_en=name_en, parent=province
        )
        cities.append(city)
        for kind, suffix, suffix_en, letter in DEPARTMENT_KINDS:
            if Department.objects.filter(region=city, kind=kind).exists():
                continue
            department = kernel_services.create_department(
                actor=actor,
                uscc=department_uscc(code, letter),
                name=f"{name}{suffix}",
                name_en=f"{name_en} {suffix_en}",
                kind=kind,
                region=city,
            )
            for title, title_en in POSITIONS:
                kernel_services.create_position(
                    actor=actor, department=department, title=title, title_en=title_en
                )
    by_code = {city.code: city for city in cities}
    districts = []
    for code, name, name_en, parent_code in DISTRICTS:
        district = Region.objects.filter(code=code).first() or kernel_services.create_region(
            actor=actor, code=code, name=name, name_en=name_en, parent=by_code[parent_code]
        )
        districts.append(district)
    return DemoOrg(province=province, cities=cities, districts=districts)

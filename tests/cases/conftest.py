"""Cases test data, built through the services.

The cast: a citizen applicant (real-name verified) and another citizen who must
see nothing of the first one's case; Hangzhou public security's window officer
(accepts) and reviewer (reviews, decides); the same roles in market regulation;
a Ningbo public-security reviewer (another region's department) who must be
refused. Departments hold their seals and the grants their case systems need.
"""

from __future__ import annotations

import io
import itertools
from datetime import date

import pytest
from reportlab.pdfgen import canvas

from tests.catalog.fixtures import PASSWORD, SYSTEM, in_days
from tests.services.conftest import (  # noqa: F401 (fixtures)
    _english,
    catalog,
    item_definition,
    references,
)
from tongban.cases.services import Upload
from tongban.catalog import services as catalog_services
from tongban.catalog.models import CatalogResource
from tongban.credentials import services as credentials
from tongban.identity import services as identity
from tongban.identity.models import Role
from tongban.kernel.models import Department
from tongban.registries import services as registries
from tongban.registries.generator import make_id_number
from tongban.services import selectors as service_selectors

HANGZHOU, NINGBO = "330100", "330200"
BUSINESS_REGISTRATION = "330100-C-XK-0001"
RESIDENCE_PERMIT = "330100-A-QR-0002"
_serial = itertools.count(1)


def new_person(*, name: str, birth_date: date = date(1988, 6, 1)):
    slot = 200 + next(_serial) % 299
    return registries.register_person(
        actor=SYSTEM, id_number=make_id_number("330106", birth_date, 2 * slot + 1), name=name, sex="male",
        birth_date=birth_date, address_region="330106", reason="Birth registration",
    )


def new_citizen(username: str, *, name: str, birth_date: date = date(1988, 6, 1)):
    person = new_person(name=name, birth_date=birth_date)
    return identity.register_citizen(username=username, password=PASSWORD, name=person.name,
                                     id_number=person.id_number)


def new_officer(org, username: str, *, kind: str, roles: list[str], city: str = HANGZHOU):
    return identity.create_officer(actor=SYSTEM, username=username, password=PASSWORD,
                                   department=org.department(city, kind), roles=roles)


def pdf_upload(name: str = "证明.pdf", text: str = "Proof of residence") -> Upload:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    buffer.seek(0)
    return Upload(name=name, file=buffer)


def grant_case_system(org, kind: str, resource_code: str, fields: list[str]) -> None:
    """Give a Hangzhou department a case system with a grant of ``fields`` of a resource."""
    department = org.department(HANGZHOU, kind)
    system, _secret = identity.register_department_system(actor=SYSTEM, department=department,
                                                           name=f"{kind} case handling", redirect_uris=None)
    resource = CatalogResource.objects.select_related("owner").get(code=resource_code)
    requester = identity.create_officer(actor=SYSTEM, username=f"{kind}-{resource_code}-data", password=PASSWORD,
                                        department=department, roles=[Role.DATA_OFFICER])
    request = catalog_services.request_access(
        actor=requester, resource=resource, fields=fields, purpose="政务服务办件材料核验",
        legal_basis="《优化营商环境条例》第三十五条", valid_until=in_days(365), system=system)
    if not hasattr(request, "grant") or request.status != "approved":
        owner = identity.create_officer(actor=SYSTEM, username=f"{resource_code}-owner-{kind}", password=PASSWORD,
                                        department=resource.owner, roles=[Role.DATA_OFFICER])
        catalog_services.approve_request(request, actor=owner)


@pytest.fixture
def handling(org, catalog, cn_calendar):  # noqa: F811
    """Seals for the Hangzhou departments, and the case systems' grants of the persons resource."""
    credentials.ensure_platform_ca(actor=SYSTEM)
    for kind in (Department.Kind.MARKET_REGULATION, Department.Kind.PUBLIC_SECURITY, Department.Kind.NATURAL_RESOURCES):
        credentials.create_seal(org.department(HANGZHOU, kind), actor=SYSTEM)
    for kind in (Department.Kind.MARKET_REGULATION, Department.Kind.PUBLIC_SECURITY):
        grant_case_system(org, kind, "hz-persons", ["id_number", "name", "status", "address_region"])
    return org


@pytest.fixture
def applicant(handling):
    return new_citizen("applicant", name="王小明")


@pytest.fixture
def other_citizen(handling):
    return new_citizen("other-citizen", name="李四")


@pytest.fixture
def police_window(handling):
    return new_officer(handling, "police-window", kind=Department.Kind.PUBLIC_SECURITY, roles=[Role.WINDOW_OFFICER])


@pytest.fixture
def police_reviewer(handling):
    return new_officer(handling, "police-reviewer", kind=Department.Kind.PUBLIC_SECURITY, roles=[Role.REVIEWER])


@pytest.fixture
def ningbo_reviewer(handling):
    return new_officer(handling, "ningbo-reviewer", kind=Department.Kind.PUBLIC_SECURITY, roles=[Role.REVIEWER],
                       city=NINGBO)


def item(code: str):
    return service_selectors.published_item(code)

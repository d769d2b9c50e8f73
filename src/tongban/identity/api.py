"""Identity API."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from tongban.identity.api_auth import SystemPrincipal
from tongban.identity.models import Account
from tongban.kernel import selectors as kernel_selectors

router = Router(tags=["identity"])


class DepartmentRef(Schema):
    uscc: str
    name: str


class WhoAmIOut(Schema):
    kind: Literal["account", "system"]
    username: str | None = None
    client_id: str | None = None
    departments: list[DepartmentRef]
    assurance_level: int | None = None


@router.get("/whoami", response=WhoAmIOut, summary="The calling account or department system")
def whoami(request: HttpRequest) -> WhoAmIOut:
    """Return who the caller is and which departments it acts for; no personal identifiers."""
    principal: Account | SystemPrincipal = request.auth  # type: ignore[attr-defined]
    departments = [
        DepartmentRef(uscc=department.uscc, name=department.name)
        for department in kernel_selectors.departments().filter(pk__in=principal.department_ids())
    ]
    if isinstance(principal, SystemPrincipal):
        return WhoAmIOut(kind="system", client_id=principal.client_id, departments=departments)
    return WhoAmIOut(
        kind="account",
        username=principal.username,
        departments=departments,
        assurance_level=principal.assurance_level,
    )

"""The exchange gateway's one entry: GET /exchange/v1/{resource_code}/{key}.

Only department systems call it, with their client-credentials bearer token.
The call names its purpose and case id (query parameters, or the headers
``X-Tongban-Purpose`` and ``X-Tongban-Case``, as X-Road's ``issue`` and
``userId``). Refusals are problem+json with a ``reason`` and the call-log number.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Schema

from tongban.exchange import services
from tongban.identity.api_auth import BearerToken

router = Router(tags=["exchange"], auth=BearerToken())


class CallParams(Schema):
    fields: str | None = None
    purpose: str | None = None
    case_id: str | None = None


class ProblemOut(Schema):
    """An RFC 9457 problem: ``reason`` says why the call was refused, ``call`` its call-log number."""

    type: str
    title: str
    status: int
    detail: str
    reason: str | None = None
    call: int | None = None


class CallOut(Schema):
    call: int
    resource: str
    grant: int
    data: dict[str, Any]
    masked: list[str]


@router.get(
    "/{resource_code}/{key}",
    response={200: CallOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut,
              429: ProblemOut},
    summary="Read granted fields of one registry record",
    description=(
        "`key` is the subject's key: a citizen ID number for person resources, a unified social "
        "credit code for legal-entity resources, the record key for the resources of registries "
        "defined without code. `fields` is a comma-separated list; `purpose` and "
        "`case_id` may come as the headers `X-Tongban-Purpose` and `X-Tongban-Case`. Every call, "
        "answered or refused, is written to the signed call log."
    ),
)
def call_resource(
    request: HttpRequest,
    resource_code: str,
    key: str,
    params: Query[CallParams],
    purpose_header: Annotated[str | None, Header(alias="X-Tongban-Purpose")] = None,
    case_header: Annotated[str | None, Header(alias="X-Tongban-Case")] = None,
) -> services.CallAnswer:
    return services.call_resource(
        actor=getattr(request, "auth", None), resource_code=resource_code, key=key, fields=params.fields,
        purpose=params.purpose or purpose_header, case_id=params.case_id or case_header,
    )

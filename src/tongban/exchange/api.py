"""The exchange gateway's one entry: GET /exchange/v1/{resource_code}/{key}.

Only department systems call it, with their client-credentials bearer token.
The call names its purpose and case id (query parameters, or the headers
``X-Tongban-Purpose`` and ``X-Tongban-Case``, as X-Road's ``issue`` and
``userId``). Refusals are problem+json with a ``reason`` and the call-log number.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema

from tongban.exchange import services
from tongban.identity.api_auth import BearerToken
from tongban.kernel.problems import NotFound

router = Router(tags=["exchange"], auth=BearerToken())
# The signed checkpoints of the call log are public (hashes only), so that anyone can keep them.
log_router = Router(tags=["call log"])


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


class CheckpointOut(Schema):
    """A signed checkpoint: verify ``signature`` over ``signed_payload`` with ``public_key`` (Ed25519)."""

    seq: int
    created_at: str
    first_seq: int
    last_seq: int
    last_record_hash: str
    merkle_root: str
    prev_checkpoint_hash: str
    checkpoint_hash: str
    key_id: str
    algorithm: str
    public_key: str
    signed_payload: str
    signature: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@log_router.get(
    "/log/checkpoints/latest", response={200: CheckpointOut, 404: ProblemOut}, auth=None,
    summary="The newest signed checkpoint of the call log",
    description=(
        "Public: a checkpoint holds hashes only. `signed_payload` is the canonical JSON the platform "
        "signed (base64url), `signature` the Ed25519 signature over it (base64) and `public_key` the raw "
        "Ed25519 key (base64url). `merkle_root` is the RFC 6962 tree hash over the record hashes of calls "
        "`first_seq`..`last_seq`; `prev_checkpoint_hash` links to the checkpoint before."
    ),
)
def latest_checkpoint(request: HttpRequest) -> CheckpointOut:
    published = services.latest_checkpoint()
    if published is None:
        raise NotFound(_("No checkpoint has been signed yet."))
    checkpoint = published.checkpoint
    return CheckpointOut(
        seq=checkpoint.seq, created_at=checkpoint.created_at.isoformat(), first_seq=checkpoint.first_seq,
        last_seq=checkpoint.last_seq, last_record_hash=checkpoint.last_record_hash,
        merkle_root=checkpoint.merkle_root, prev_checkpoint_hash=checkpoint.prev_checkpoint_hash,
        checkpoint_hash=checkpoint.checkpoint_hash, key_id=published.key_id, algorithm=published.algorithm,
        public_key=_b64url(published.public_key), signed_payload=_b64url(published.payload),
        signature=checkpoint.signature,
    )

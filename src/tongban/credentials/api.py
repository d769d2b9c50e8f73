"""Credentials API: what relying parties need to verify licences, public by design.

The platform's root CA certificates and the seal keys' JWKS hold no personal
data; verifiers fetch and cache them to check signatures offline. Issuing
departments' systems (client-credentials tokens) and officers issue licences
and change their status here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from tongban.credentials import services
from tongban.kernel import ratelimit
from tongban.kernel.middleware import client_address
from tongban.kernel.problems import NotFound

router = Router(tags=["credentials"])

PEM_CHAIN = "application/pem-certificate-chain"


class ProblemOut(Schema):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str


class JwksOut(Schema):
    """A JSON Web Key Set (RFC 7517): every seal key not yet expired, with ``kid``, ``alg`` and ``x5c``."""

    keys: list[dict[str, Any]]


@router.get(
    "/ca", auth=None, summary="The platform's root CA certificates (PEM)",
    description="Trust anchors for licence signatures: every root CA certificate not yet expired, newest "
                "first, as a PEM chain (`application/pem-certificate-chain`). Empty before the CA is set up.",
    openapi_extra={"responses": {200: {"description": "PEM certificates",
                                       "content": {PEM_CHAIN: {"schema": {"type": "string"}}}}}},
)
def ca_certificates(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.ca_certificates_pem(), content_type=PEM_CHAIN)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@router.get(
    "/jwks", response=JwksOut, auth=None, summary="The seal keys that verify licences (JWKS)",
    description="Keys of every department's e-seal whose certificate has not expired, retired keys "
                "included so that what they signed still verifies. Each carries its certificate chain "
                "to the platform CA in `x5c`.",
)
def jwks(request: HttpRequest) -> dict[str, Any]:
    return services.published_keys()


VC_JWT = "application/vc+jwt"


TOKEN_STATUS_LIST = "application/statuslist+jwt"


@router.get(
    "/status/{issuer_uscc}/{purpose}", auth=None, summary="An issuer's status list",
    description="The signed status lists of the department with the unified social credit code `issuer_uscc`. "
                "For `purpose` `revocation` or `suspension`, a W3C `BitstringStatusListCredential` "
                "(`application/vc+jwt`): bit `statusListIndex` of a licence is set while it is revoked "
                "(suspended). For `token`, an IETF Token Status List (`application/statuslist+jwt`, two bits "
                "per licence: 0 valid, 1 revoked, 2 suspended) that the `status.status_list` claim of a "
                "licence's SD-JWT VC points to. Holds no personal data; verifiers cache it for its `ttl`.",
    response={404: ProblemOut},
    openapi_extra={"responses": {200: {"description": "The signed status list",
                                       "content": {VC_JWT: {"schema": {"type": "string"}},
                                                   TOKEN_STATUS_LIST: {"schema": {"type": "string"}}}}}},
)
def status_list(request: HttpRequest, issuer_uscc: str, purpose: str) -> HttpResponse:
    credential = services.status_list_credential(issuer_uscc, purpose)
    if credential is None:
        raise NotFound(_("This issuer publishes no such status list."))
    media_type = TOKEN_STATUS_LIST if purpose == services.TOKEN_STATUS_PURPOSE else VC_JWT
    response = HttpResponse(credential, content_type=media_type)
    response["Cache-Control"] = f"public, max-age={services.STATUS_LIST_TTL_SECONDS}"
    return response


class VerifyIn(Schema):
    credential: str = Field(..., max_length=100_000, description="The licence credential, a compact `vc+jwt`.")


class VerdictOut(Schema):
    """What the platform concludes about a credential: ``outcome`` is ``valid``, ``expired``,
    ``not_yet_valid``, ``revoked``, ``suspended``, ``forged`` or ``status_unknown``."""

    outcome: str
    reason: str
    issuer: str | None = None
    licence_type: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    subject: dict[str, Any] | None = None


@router.post(
    "/verify", response={200: VerdictOut, 422: ProblemOut, 429: ProblemOut}, auth=None,
    summary="Verify a licence credential",
    description="For relying parties: checks the signature against the published seal keys and the platform "
                "CA, the validity period and the issuer's status lists, and returns the verdict with the "
                "credential's subject (which the caller already holds). Rate-limited per client address.",
)
def verify_credential(request: HttpRequest, body: VerifyIn) -> VerdictOut:
    ratelimit.hit("credential_verify", client_address(request))
    verdict = services.verify_licence_credential(body.credential)
    claims = verdict.claims or {}
    subject = claims.get("credentialSubject") if verdict.outcome != "forged" else None
    return VerdictOut(
        outcome=verdict.outcome, reason=verdict.reason, issuer=verdict.issuer_name or None,
        licence_type=(subject or {}).get("licenceType"), valid_from=claims.get("validFrom"),
        valid_until=claims.get("validUntil"), subject=subject,
    )


# -- issuing departments ----------------------------------------------------------------------------


class IssueIn(Schema):
    licence_type: str = Field(..., max_length=80, description="The licence type's code, e.g. `business-licence`.")
    holder: str = Field(..., max_length=40, description="The holder's citizen ID number or unified social credit code.")
    fields: dict[str, Any] = Field(..., description="The licence's fields, as the type's JSON Schema defines them.")
    issuer: str | None = Field(None, max_length=18, description="The issuing department's unified social credit "
                                                                "code; a department system's own by default.")
    valid_from: datetime | None = Field(None, description="When the licence starts to be valid (now by default).")
    reference: str = Field("", max_length=200, description="A case number or an old system's number: a licence "
                                                           "of the type is issued once per reference.")


class LicenceOut(Schema):
    """An issued licence as its issuer sees it, with the signed credential and the SD-JWT VC to hand over."""

    id: UUID
    licence_type: str
    issuer: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: str
    reference: str
    credential: str
    sd_jwt: str


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


def _licence_out(licence: Any) -> LicenceOut:
    return LicenceOut(
        id=licence.id, licence_type=licence.licence_type.code, issuer=licence.issuer.uscc,
        issued_at=licence.issued_at, valid_from=licence.valid_from, valid_until=licence.valid_until,
        status=licence.status, reference=licence.reference, credential=licence.credential, sd_jwt=licence.sd_jwt,
    )


def _issued(request: HttpRequest, licence_id: UUID) -> Any:
    licence = services.licence_issued_by(getattr(request, "auth", None), licence_id)
    if licence is None:
        raise NotFound(_("Your departments issued no such licence."))
    return licence


@router.post(
    "/licences", response={201: LicenceOut, 401: ProblemOut, 403: ProblemOut, 409: ProblemOut, 422: ProblemOut},
    summary="Issue a licence",
    description="For the issuing department's systems (client-credentials token) and its reviewers and "
                "administrators. The fields are validated against the licence type's schema; the licence is "
                "signed with the department's e-seal as a `vc+jwt` and an SD-JWT VC.",
)
def issue(request: HttpRequest, payload: IssueIn) -> Status[LicenceOut]:
    licence = services.issue_licence_by_keys(
        actor=getattr(request, "auth", None), licence_type=payload.licence_type, holder=payload.holder,
        fields=payload.fields, issuer=payload.issuer, valid_from=payload.valid_from, reference=payload.reference,
    )
    return Status(201, _licence_out(licence))


@router.get("/licences/{licence_id}", response={200: LicenceOut, 401: ProblemOut, 404: ProblemOut},
            summary="A licence the caller's department issued")
def issued_licence(request: HttpRequest, licence_id: UUID) -> LicenceOut:
    return _licence_out(_issued(request, licence_id))


def _status_route(action: str, summary: str) -> None:
    change = {"revoke": services.revoke_licence, "suspend": services.suspend_licence,
              "reinstate": services.reinstate_licence}[action]

    @router.post(f"/licences/{{licence_id}}/{action}", operation_id=f"{action}_licence",
                 response={200: LicenceOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 409: ProblemOut,
                           422: ProblemOut}, summary=summary)
    def route(request: HttpRequest, licence_id: UUID, payload: ReasonIn) -> LicenceOut:
        licence = _issued(request, licence_id)
        return _licence_out(change(licence, actor=getattr(request, "auth", None), reason=payload.reason))


_status_route("revoke", "Revoke a licence, with a reason (for good)")
_status_route("suspend", "Suspend a licence, with a reason")
_status_route("reinstate", "Reinstate a suspended licence, with a reason")

"""Credentials API: what relying parties need to verify licences, public by design.

The platform's root CA certificates and the seal keys' JWKS hold no personal
data; verifiers fetch and cache them to check signatures offline.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

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

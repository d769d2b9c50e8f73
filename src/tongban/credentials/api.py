"""Credentials API: what relying parties need to verify licences, public by design.

The platform's root CA certificates and the seal keys' JWKS hold no personal
data; verifiers fetch and cache them to check signatures offline.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from tongban.credentials import services

router = Router(tags=["credentials"])

PEM_CHAIN = "application/pem-certificate-chain"


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

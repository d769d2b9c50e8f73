"""Certificates and seal images: what a seal key's certificate says and how a seal looks.

The keys themselves stay behind the ``CryptoProvider``; this module only
describes certificates (``x509.CertificateBuilder``) for the provider to sign
and draws the seal as SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import NameOID

# CryptoProvider purposes of the CA's key and the seal keys.
CA_PURPOSE = "credentials.ca"
SEAL_PURPOSE = "credentials.seal"
CA_VALIDITY = timedelta(days=20 * 365)
KEY_VALIDITY = timedelta(days=5 * 365)
# Certificates start a little in the past, so that a verifier whose clock is behind accepts them.
BACKDATE = timedelta(minutes=5)


def load_public_key(der: bytes) -> CertificateIssuerPublicKeyTypes:
    key = serialization.load_der_public_key(der)
    return key  # type: ignore[return-value]


def ca_certificate(*, name: str, public_key: CertificateIssuerPublicKeyTypes, now: datetime) -> x509.CertificateBuilder:
    """Describe the platform's self-signed root CA certificate (it may certify end keys only)."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tongban"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def seal_key_certificate(
    *, seal_name: str, department_name: str, department_uscc: str, public_key: CertificateIssuerPublicKeyTypes,
    issuer: x509.Certificate, now: datetime,
) -> x509.CertificateBuilder:
    """Describe the certificate of one seal key: the department named, signing only, issued by ``issuer``.

    No extended key usage: PDF verifiers (poppler through NSS) accept a
    signing certificate without one, and refuse one that lists other uses.
    """
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, department_name),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, department_uscc),
        x509.NameAttribute(NameOID.COMMON_NAME, seal_name),
    ])
    issuer_key = issuer.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + KEY_VALIDITY, issuer.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key),  # type: ignore[arg-type]
                       critical=False)
    )


# The seal's red, and the words under its star.
SEAL_RED = "#d7000f"
SEAL_PURPOSE = "电子印章"


@dataclass(frozen=True)
class SealGeometry:
    """Where the parts of a seal go on its 200 × 200 canvas (SVG coordinates: y grows downwards).

    The SVG image and the seal printed on a licence PDF are drawn from the
    same geometry, so they look alike.
    """

    centre: float
    radius: float
    ring_width: float
    # The name runs clockwise along this circle, centred on its top.
    text_radius: float
    arc_start: float
    arc_end: float
    name_size: int
    # Extra space between the name's characters, spreading a short name over the rim as on a paper seal.
    name_spacing: float
    star: tuple[tuple[float, float], ...]
    purpose_y: float
    purpose_size: int


def seal_geometry(name: str) -> SealGeometry:
    """Return the geometry of the seal whose rim carries ``name`` (the longer the name, the smaller)."""
    radius, centre = 92, 100
    star = tuple(
        (centre + (26 if point % 2 == 0 else 10.5) * math.sin(math.pi * point / 5),
         centre - 4 - (26 if point % 2 == 0 else 10.5) * math.cos(math.pi * point / 5))
        for point in range(10)
    )
    # Characters stand a little inside the ring, and shrink so that the name fits the arc.
    text_radius = radius - 26
    arc_start, arc_end = math.radians(215), math.radians(-35)
    arc_length = text_radius * (arc_start - arc_end)
    count = max(1, len(name))
    name_size = max(12, min(22, int(0.9 * arc_length / count)))
    spread = 0.8 * arc_length - count * name_size
    return SealGeometry(
        centre=centre, radius=radius, ring_width=6, text_radius=text_radius,
        # From lower left to lower right, over the top.
        arc_start=arc_start, arc_end=arc_end, name_size=name_size,
        name_spacing=round(min(name_size * 0.8, spread / (count - 1)), 2) if count > 1 and spread > 0 else 0,
        star=star, purpose_y=centre + 52, purpose_size=16,
    )


def seal_image(name: str, *, purpose: str = SEAL_PURPOSE) -> str:
    """Return the seal as SVG: ``name`` along the upper rim, a star in the middle, ``purpose`` below.

    The layout of a Chinese official seal (公章); red on transparent, 200 × 200.
    """
    shape = seal_geometry(name)
    centre, text_radius = shape.centre, shape.text_radius
    x1, y1 = centre + text_radius * math.cos(shape.arc_start), centre - text_radius * math.sin(shape.arc_start)
    x2, y2 = centre + text_radius * math.cos(shape.arc_end), centre - text_radius * math.sin(shape.arc_end)
    star = " ".join(f"{x:.2f},{y:.2f}" for x, y in shape.star)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200" '
        f'role="img" aria-label="{escape(name)}">'
        f'<circle cx="{centre}" cy="{centre}" r="{shape.radius}" fill="none" stroke="{SEAL_RED}" '
        f'stroke-width="{shape.ring_width}"/>'
        f'<path id="rim" d="M {x1:.2f} {y1:.2f} A {text_radius} {text_radius} 0 1 1 {x2:.2f} {y2:.2f}" fill="none"/>'
        f'<text fill="{SEAL_RED}" font-size="{shape.name_size}" font-weight="bold" '
        f'letter-spacing="{shape.name_spacing}" '
        'font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif">'
        f'<textPath href="#rim" startOffset="50%" text-anchor="middle">{escape(name)}</textPath></text>'
        f'<polygon points="{star}" fill="{SEAL_RED}"/>'
        f'<text x="{centre}" y="{shape.purpose_y}" fill="{SEAL_RED}" font-size="{shape.purpose_size}" '
        'text-anchor="middle" font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif">'
        f"{escape(purpose)}</text></svg>"
    )

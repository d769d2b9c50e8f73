"""E-seals and the keys behind them (电子印章), certified by the platform's root CA.

Private keys never appear here: each key is a ``CryptoProvider`` handle (the
software provider keeps the key encrypted inside it; an HSM keeps the key and
the handle names it). Keys are retired, never deleted, so that everything they
signed still verifies.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.kernel.fields import EncryptedTextField
from tongban.kernel.models import Department


class CertificateAuthority(models.Model):
    """The platform's root certification authority (平台根证书): it certifies every seal key.

    Verifiers trust this certificate and nothing else. One is active; a
    retired one stays published until the certificates it issued expire.
    """

    name = models.CharField(max_length=200)
    algorithm = models.CharField(max_length=10)
    key_handle = models.TextField()
    certificate_pem = models.TextField()
    serial = models.CharField(max_length=64, unique=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["retired_at"], condition=Q(retired_at__isnull=True),
                                    name="one_active_certificate_authority"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial[:16]})"


class Seal(models.Model):
    """A department's electronic seal (电子印章): the image stamped on its licences and its signing keys."""

    department = models.OneToOneField(Department, on_delete=models.PROTECT, related_name="seal")
    name = models.CharField(max_length=200)
    image_svg = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["department__uscc", "id"]

    def __str__(self) -> str:
        return self.name


class SealKey(models.Model):
    """One signing key of a seal, with the certificate the platform CA issued for it.

    A seal has one active key per use: ``pdf`` (ECDSA P-256, for PAdES
    signatures that PDF readers validate) and ``jwt`` (Ed25519 for EdDSA
    verifiable credentials, or ECDSA P-256 for ES256 where a seal is made so). Rotation retires the key (it signs nothing new)
    and keeps it, with its certificate, published for verification.
    """

    class Use(models.TextChoices):
        PDF = "pdf", _("PDF signatures")
        JWT = "jwt", _("Verifiable credentials")

    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="keys")
    use = models.CharField(max_length=10, choices=Use.choices)
    algorithm = models.CharField(max_length=10)
    key_id = models.CharField(max_length=64, unique=True)
    key_handle = models.TextField()
    certificate_pem = models.TextField()
    serial = models.CharField(max_length=64, unique=True)
    issuer = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="issued_keys")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    retire_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["seal", "use", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seal", "use"], condition=Q(retired_at__isnull=True),
                                    name="one_active_key_per_seal_use"),
        ]

    def __str__(self) -> str:
        return f"{self.seal} {self.use} key {self.key_id[:12]}"


class LicenceType(models.Model):
    """A kind of licence the platform issues (证照类型): who issues it, to whom, what it says, how it looks.

    ``schema`` is a JSON Schema for the licence's fields (each property with a
    ``title`` in Chinese and an ``x-title-en``); ``disclosable`` names the
    fields a holder may choose to show or hide when sharing (selective
    disclosure); ``validity`` is ``{"years": n}``, ``{"months": n}`` or ``{}``
    for a licence valid until revoked (长期有效); ``layout`` describes the PDF.
    Every change of these raises ``version``; issued licences keep theirs.
    """

    class HolderType(models.TextChoices):
        PERSON = "person", _("Person")
        LEGAL_ENTITY = "legal_entity", _("Legal entity")

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    issuer_kind = models.CharField(max_length=32, choices=Department.Kind.choices)
    holder_type = models.CharField(max_length=20, choices=HolderType.choices)
    schema = models.JSONField()
    disclosable = models.JSONField(default=list, blank=True)
    validity = models.JSONField(default=dict, blank=True)
    layout = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def field_order(self) -> list[str]:
        """Return the fields in the order the licence shows them: the layout's, then any others by name.

        The layout keeps the order (a JSON array); the schema's properties do
        not on PostgreSQL (jsonb keeps no key order).
        """
        properties = self.schema.get("properties", {})
        listed = [name for name in self.layout.get("fields") or [] if name in properties]
        return [*listed, *sorted(name for name in properties if name not in listed)]


LICENCE_FIELDS_PURPOSE = "credentials.licence.fields"
LICENCE_CREDENTIAL_PURPOSE = "credentials.licence.credential"


class Licence(models.Model):
    """One issued licence (电子证照): a department's signed statement about a person or an entity.

    ``id`` is the public, unguessable identifier (QR codes and links carry
    it). The fields and the signed credential hold personal data, so both are
    encrypted at rest. ``status_index`` is the licence's position in its
    issuer's published status lists.
    """

    class Status(models.TextChoices):
        VALID = "valid", pgettext_lazy("licence status", "Valid")
        SUSPENDED = "suspended", pgettext_lazy("licence status", "Suspended")
        REVOKED = "revoked", pgettext_lazy("licence status", "Revoked")

    id = models.UUIDField(primary_key=True)
    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="licences")
    type_version = models.PositiveIntegerField()
    holder_person = models.ForeignKey("registries.Person", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="licences")
    holder_entity = models.ForeignKey("registries.LegalEntity", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="licences")
    issuer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="issued_licences")
    seal_key = models.ForeignKey(SealKey, on_delete=models.PROTECT, related_name="licences")
    fields = EncryptedTextField(purpose=LICENCE_FIELDS_PURPOSE)
    credential = EncryptedTextField(purpose=LICENCE_CREDENTIAL_PURPOSE)
    # The same licence as an SD-JWT VC with every disclosure, which the holder presents in part.
    sd_jwt = EncryptedTextField(purpose=LICENCE_CREDENTIAL_PURPOSE, blank=True, default="")
    issued_at = models.DateTimeField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.VALID)
    status_index = models.PositiveIntegerField()
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["holder_person", "licence_type"], name="licence_person_type"),
            models.Index(fields=["holder_entity", "licence_type"], name="licence_entity_type"),
            models.Index(fields=["issuer", "status"], name="licence_issuer_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "status_index"], name="one_licence_per_status_position"),
            # A reference (a case, or a number in an old system) is issued once per type and issuer.
            models.UniqueConstraint(fields=["issuer", "licence_type", "reference"], condition=~Q(reference=""),
                                    name="one_licence_per_reference"),
            models.CheckConstraint(
                condition=Q(holder_person__isnull=False, holder_entity__isnull=True)
                | Q(holder_person__isnull=True, holder_entity__isnull=False),
                name="licence_has_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licence_type.name} {self.id}"


class StatusList(models.Model):
    """One issuer's published status list for one purpose.

    Each licence has one position (``Licence.status_index``) in its issuer's
    lists. In the W3C Bitstring Status Lists a set bit means revoked
    (``revocation``) or suspended (``suspension``); the IETF Token Status List
    (``token``) holds both, two bits per licence, for SD-JWT VCs. ``credential`` is the signed list as verifiers fetch it,
    re-signed in the transaction of every status change, so that serving it
    costs nothing. ``next_index`` on the revocation list hands out positions.
    """

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", pgettext_lazy("status list", "Revocation")
        SUSPENSION = "suspension", pgettext_lazy("status list", "Suspension")
        # The IETF Token Status List an SD-JWT VC's ``status`` claim points to (both statuses, two bits each).
        TOKEN = "token", pgettext_lazy("status list", "Token Status List")

    issuer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="status_lists")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    next_index = models.PositiveIntegerField(default=0)
    credential = models.TextField(blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "purpose"], name="one_status_list_per_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose} list of {self.issuer_id}"


SHARE_TOKEN_PURPOSE = "credentials.share.token"


class Share(models.Model):
    """A holder's time-limited showing of a licence (亮证): a link that discloses only the fields they picked.

    The link's token is a bearer secret: kept encrypted (the holder sees
    their link again, and a PDF's QR code is drawn again from it) and found
    by its SHA-256 digest. A share ends at ``expires_at`` or when withdrawn.
    A ``link`` is made by the holder by hand; a ``document`` share is the one
    a licence's PDF carries in its QR code: made by the first download, shown
    again by later ones, it discloses every field the PDF prints.
    """

    class Kind(models.TextChoices):
        LINK = "link", pgettext_lazy("share kind", "Link")
        DOCUMENT = "document", pgettext_lazy("share kind", "The PDF's QR code")

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="shares")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LINK)
    token = EncryptedTextField(purpose=SHARE_TOKEN_PURPOSE)
    token_digest = models.CharField(max_length=64, unique=True)
    shown_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"share of {self.licence_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    def is_open(self, at: datetime) -> bool:
        """Return True if the link still shows the licence at ``at``."""
        return self.withdrawn_at is None and at < self.expires_at

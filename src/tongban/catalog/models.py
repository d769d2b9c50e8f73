"""The government data-resource catalog (政务信息资源目录), access requests and grants.

A department publishes what data it holds as catalog resources; another
department's data officer requests some fields of a resource for a stated
purpose; the owner approves (with conditions such as masking) or refuses. Only
a live grant lets a department system read the data through the exchange gateway.
Every change goes through ``catalog.services``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.identity.models import DepartmentSystem
from tongban.kernel.models import Department
from tongban.registries.models import Registry


class CatalogResource(models.Model):
    """A data resource in the catalog (政务信息资源): one dataset a department holds and shares.

    When the resource is a registry, ``registry`` and ``record_kind`` say which
    records it describes (persons, legal entities, or the records of a registry
    defined without code), so that the exchange gateway can serve them.
    """

    class RecordKind(models.TextChoices):
        PERSON = "person", _("Person")
        LEGAL_ENTITY = "legal_entity", _("Legal entity")
        RECORD = "record", _("Record of a registry defined without code")
        OTHER = "other", _("Other dataset")

    class Classification(models.TextChoices):
        GENERAL = "general", _("General data")
        IMPORTANT = "important", _("Important data")
        CORE = "core", _("Core data")

    class SharingType(models.TextChoices):
        UNCONDITIONAL = "unconditional", _("Shared unconditionally")
        CONDITIONAL = "conditional", _("Shared on conditions")
        NOT_SHARED = "not_shared", _("Not shared")

    class OpenType(models.TextChoices):
        OPEN = "open", _("Open")
        CONDITIONAL = "conditional", _("Open on conditions")
        NOT_OPEN = "not_open", _("Not open")

    class UpdateCycle(models.TextChoices):
        REAL_TIME = "real_time", _("Real time")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")
        IRREGULAR = "irregular", _("Irregular")

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="catalog_resources")
    registry = models.ForeignKey(
        Registry, null=True, blank=True, on_delete=models.PROTECT, related_name="catalog_resources"
    )
    record_kind = models.CharField(max_length=20, choices=RecordKind.choices, default=RecordKind.OTHER)
    classification = models.CharField(max_length=10, choices=Classification.choices)
    sharing_type = models.CharField(max_length=15, choices=SharingType.choices)
    open_type = models.CharField(max_length=15, choices=OpenType.choices)
    update_cycle = models.CharField(max_length=12, choices=UpdateCycle.choices)
    version = models.CharField(max_length=20, default="1.0")
    published_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ResourceField(models.Model):
    """One data item (信息项) of a catalog resource, with whether it is personal information."""

    class FieldType(models.TextChoices):
        STRING = "string", _("Text")
        CODE = "code", _("Code")
        DATE = "date", _("Date")
        INTEGER = "integer", _("Integer")
        DECIMAL = "decimal", _("Decimal")
        BOOLEAN = "boolean", _("Yes / no")

    resource = models.ForeignKey(CatalogResource, on_delete=models.CASCADE, related_name="fields")
    name = models.SlugField(max_length=64)
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.STRING)
    description = models.CharField(max_length=300, blank=True)
    personal = models.BooleanField(default=False)
    sensitive_personal = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["resource_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "name"], name="unique_resource_field"),
            models.CheckConstraint(
                condition=models.Q(sensitive_personal=False) | models.Q(personal=True),
                name="sensitive_field_is_personal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource.code}.{self.name}"


class AccessRequest(models.Model):
    """A department's request (共享申请) for some fields of a resource, for a purpose.

    Made by a data officer of the requesting department for one of its
    department systems; decided by the owner department.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    resource = models.ForeignKey(CatalogResource, on_delete=models.PROTECT, related_name="requests")
    requesting_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="catalog_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="catalog_requests",
    )
    system = models.ForeignKey(DepartmentSystem, on_delete=models.PROTECT, related_name="catalog_requests")
    fields = models.JSONField(default=list)
    purpose = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=500)
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requesting_department", "status"])]

    def __str__(self) -> str:
        return f"request #{self.pk} for {self.resource_id} ({self.status})"


class Grant(models.Model):
    """The owner's permission (共享授权) for one system of a department to read some fields.

    Valid from ``valid_from`` until ``valid_until`` unless revoked; ``masking``
    maps a field to the masking applied to it on every call.
    """

    request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="grant")
    resource = models.ForeignKey(CatalogResource, on_delete=models.PROTECT, related_name="grants")
    consumer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="catalog_grants")
    system = models.ForeignKey(DepartmentSystem, on_delete=models.PROTECT, related_name="catalog_grants")
    fields = models.JSONField(default=list)
    masking = models.JSONField(default=dict, blank=True)
    purpose = models.CharField(max_length=200)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    revoke_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["system", "resource", "valid_until"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__gt=models.F("valid_from")),
                                   name="grant_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"grant #{self.pk} of {self.resource_id} to {self.consumer_id}"

    def is_live(self, at: datetime) -> bool:
        """Return True if the grant is in force at ``at``."""
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

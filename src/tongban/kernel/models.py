"""Shared primitives: the org tree, the audit chain and rate-limit counters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative division (行政区划) with its 6-digit code.

    Provinces have codes ending in 0000, cities in 00; districts and counties
    carry all six digits. The tree is kept by ``parent``.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District")

    code = models.CharField(max_length=6, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Department(models.Model):
    """A government department (部门) of one region, identified by its USCC.

    ``kind`` is the functional line (public security, civil affairs, …) so that
    the same kind of department can be found in every region.
    """

    class Kind(models.TextChoices):
        PUBLIC_SECURITY = "public_security", _("Public security")
        CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
        MARKET_REGULATION = "market_regulation", _("Market regulation")
        HUMAN_RESOURCES = "human_resources", _("Human resources and social security")
        NATURAL_RESOURCES = "natural_resources", _("Natural resources")
        HEALTH = "health", _("Health")
        TAX = "tax", _("Tax")
        DATA_BUREAU = "data_bureau", _("Data bureau")

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departments")

    class Meta:
        ordering = ["region__code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="one_department_kind_per_region")
        ]

    def __str__(self) -> str:
        return self.name


class Position(models.Model):
    """A post (岗位) in a department that officers are appointed to."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(max_length=100)
    title_en = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["department_id", "title"]
        constraints = [
            models.UniqueConstraint(fields=["department", "title"], name="unique_position_title")
        ]

    def __str__(self) -> str:
        return f"{self.department.name} · {self.title}"


class AuditRecord(models.Model):
    """One security-relevant event, linked to the previous one by its hash.

    Records are append-only: ``seq`` is contiguous from 1 and ``record_hash``
    covers every field plus ``prev_hash``, so a changed, removed, inserted or
    reordered record breaks the chain (see ``kernel.audit.verify_chain``).
    On PostgreSQL a trigger refuses UPDATE and DELETE on this table.
    """

    class Result(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        DENIED = "denied", _("Denied")

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200, help_text="Who acted: 'account:42', 'system', 'client:abc'")
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    source_address = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"


class AuditChainHead(models.Model):
    """The single row that serializes appends to the audit chain.

    Appenders lock it with SELECT … FOR UPDATE so that two transactions never
    link to the same predecessor.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head at #{self.last_seq}"


class RateLimitCounter(models.Model):
    """Requests counted for one key in one fixed time window.

    Kept in the database, not in process memory, so that every app node sees
    the same count.
    """

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="unique_rate_window")
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.key} since {self.window_start:%H:%M:%S}: {self.count}"

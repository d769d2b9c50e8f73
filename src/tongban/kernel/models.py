"""Shared primitives: the org tree, the audit chain, rate-limit counters and the working-day calendar."""

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


class CalendarDay(models.Model):
    """A day that breaks the weekly rhythm of the working-day calendar (工作日历).

    Monday to Friday are working days (工作日) and weekends are not, except for
    the days listed here: a public holiday (法定节假日, ``holiday``) is not a
    working day even on a weekday, and an adjusted working day (调休上班,
    ``working_day``) is one even on a weekend. National days have no region;
    a region's own day applies to the region and every region under it and
    takes precedence over the national day on the same date (the nearest
    region wins). ``kernel.calendar`` does the arithmetic.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKING_DAY = "working_day", _("Adjusted working day")

    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=100, help_text="The holiday's name in Chinese, e.g. 春节")
    name_en = models.CharField(max_length=100, blank=True)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="calendar_days",
        help_text="Empty for a national day",
    )
    source = models.CharField(
        max_length=200, blank=True, help_text="The notice that set the day, e.g. 国办发明电〔2024〕12号"
    )

    class Meta:
        ordering = ["date", "region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(region__isnull=True), name="one_national_calendar_day"
            ),
            models.UniqueConstraint(fields=["date", "region"], name="one_regional_calendar_day"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "working_day"]), name="calendar_day_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.name} ({self.get_kind_display()})"


class CalendarYear(models.Model):
    """A year whose national holiday arrangement (节假日安排) is loaded.

    The State Council's General Office publishes each year's arrangement in a
    notice (国务院办公厅关于…年部分节假日安排的通知), usually in November of the
    year before. Until the notice is loaded, ``kernel.calendar`` counts that
    year's working days by the weekend rule alone and says so.
    """

    year = models.PositiveSmallIntegerField(unique=True)
    notice = models.CharField(max_length=200, help_text="The notice's title")
    document_number = models.CharField(max_length=50, help_text="e.g. 国办发明电〔2024〕12号")
    published_on = models.DateField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.document_number}"

"""The service catalog (政务服务事项清单): service items with their standard elements.

A service item (政务服务事项) is one thing a citizen or a business can ask a
department to do: register a business, register a birth, transfer a property.
Standardization (事项标准化) means that every item states the same elements in
the same way: who handles it under which law, on what conditions, with which
materials (and where each comes from), within how many working days, for what
fee, how (online, in person) and with what result. Life events (一件事) bundle
items that people need together. Every change goes through ``services.services``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import CatalogResource
from tongban.credentials.models import LicenceType
from tongban.kernel.models import Department, Region


class Audience(models.TextChoices):
    """Whom a service item or a life event is for (服务对象)."""

    CITIZEN = "citizen", _("Citizens")
    BUSINESS = "business", _("Businesses")
    BOTH = "both", _("Citizens and businesses")


class Topic(models.TextChoices):
    """The topics (主题) the catalog is browsed by, after the national portal's classification."""

    BIRTH = "birth", _("Birth and adoption")
    HOUSEHOLD = "household", _("Household registration and residence")
    MARRIAGE = "marriage", _("Marriage")
    EDUCATION = "education", _("Education")
    EMPLOYMENT = "employment", _("Employment and starting a business")
    SOCIAL_INSURANCE = "social_insurance", _("Social insurance")
    MEDICAL = "medical", _("Medical care")
    PENSION = "pension", _("Retirement and pensions")
    HOUSING = "housing", _("Housing and real estate")
    TRANSPORT = "transport", _("Transport")
    BUSINESS_REGISTRATION = "business_registration", _("Setting up and changing a business")
    PERMITS = "permits", _("Business permits")
    TAX = "tax", _("Tax")
    DEATH = "death", _("Death and funerals")


class ServiceItem(models.Model):
    """A service item (政务服务事项) with its standard elements (事项要素).

    ``code`` is the item's code in the catalog (e.g. the national implementation
    code, 实施编码); ``version`` rises with every change, so that a catalog file
    names the exact content it carries. Time limits are working days:
    ``promised_days`` (承诺时限) never exceeds ``statutory_days`` (法定时限).
    ``fees`` is a list of ``{"name", "name_en", "amount", "basis"}`` (empty:
    free of charge). ``form_schema`` is the application form as a JSON Schema and
    ``form_ui`` its presentation (field order, widgets, per-field prefill
    source). ``process_xml`` (BPMN 2.0) and ``rules_xml`` (DMN) are stored
    here and run by the case workflow.
    """

    class ItemType(models.TextChoices):
        LICENSING = "licensing", _("Administrative licensing")  # 行政许可
        PENALTY = "penalty", _("Administrative penalty")  # 行政处罚
        ENFORCEMENT = "enforcement", _("Administrative enforcement")  # 行政强制
        LEVY = "levy", _("Administrative levy")  # 行政征收
        PAYMENT = "payment", _("Administrative payment")  # 行政给付
        INSPECTION = "inspection", _("Administrative inspection")  # 行政检查
        CONFIRMATION = "confirmation", _("Administrative confirmation")  # 行政确认
        REWARD = "reward", _("Administrative reward")  # 行政奖励
        ADJUDICATION = "adjudication", _("Administrative adjudication")  # 行政裁决
        OTHER_POWER = "other_power", _("Other administrative power")  # 其他行政权力
        PUBLIC_SERVICE = "public_service", _("Public service")  # 公共服务

    class HandlingMode(models.TextChoices):
        FULLY_ONLINE = "fully_online", _("Fully online")  # 全程网办
        ONLINE_PREVIEW = "online_preview", _("Online pre-review, then one visit")  # 网上预审
        AT_MOST_ONE_TRIP = "at_most_one_trip", _("At most one trip")  # 最多跑一次
        IN_PERSON = "in_person", _("At the service window")  # 窗口办理

    class ResultKind(models.TextChoices):
        LICENCE = "licence", _("An electronic licence")
        DOCUMENT = "document", _("A document")
        NONE = "none", _("No document")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    code = models.CharField(max_length=64, unique=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    item_type = models.CharField(max_length=20, choices=ItemType.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="service_items")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="service_items")
    joint_departments = models.ManyToManyField(Department, blank=True, related_name="joint_service_items")
    legal_basis = models.TextField()
    legal_basis_en = models.TextField(blank=True)
    conditions = models.TextField()
    conditions_en = models.TextField(blank=True)
    statutory_days = models.PositiveSmallIntegerField()
    promised_days = models.PositiveSmallIntegerField()
    fees = models.JSONField(default=list, blank=True)
    handling_mode = models.CharField(max_length=20, choices=HandlingMode.choices)
    in_person_trips = models.PositiveSmallIntegerField(default=0)
    instant_approval = models.BooleanField(default=False)
    result_kind = models.CharField(max_length=10, choices=ResultKind.choices, default=ResultKind.NONE)
    result_licence_type = models.ForeignKey(
        LicenceType, null=True, blank=True, on_delete=models.PROTECT, related_name="service_items"
    )
    result_name = models.CharField(max_length=200, blank=True)
    result_name_en = models.CharField(max_length=200, blank=True)
    form_schema = models.JSONField(default=dict, blank=True)
    form_ui = models.JSONField(default=dict, blank=True)
    process_xml = models.TextField(blank=True)
    rules_xml = models.TextField(blank=True)
    keywords = models.JSONField(default=list, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [
            models.Index(fields=["status", "region"]),
            models.Index(fields=["status", "department"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(promised_days__lte=models.F("statutory_days")),
                                   name="promised_within_statutory_days"),
            models.CheckConstraint(condition=~Q(handling_mode="fully_online") | Q(in_person_trips=0),
                                   name="fully_online_needs_no_trip"),
            models.CheckConstraint(condition=~Q(handling_mode__in=["at_most_one_trip", "online_preview"])
                                   | Q(in_person_trips__lte=1),
                                   name="at_most_one_trip_means_it"),
            models.CheckConstraint(condition=Q(result_kind="licence", result_licence_type__isnull=False)
                                   | (~Q(result_kind="licence") & Q(result_licence_type__isnull=True)),
                                   name="licence_result_names_a_licence_type"),
            models.CheckConstraint(condition=~Q(result_kind="document") | ~Q(result_name=""),
                                   name="document_result_is_named"),
            models.CheckConstraint(condition=Q(version__gte=1), name="item_version_from_one"),
            models.CheckConstraint(condition=~Q(status="published") | Q(published_at__isnull=False),
                                   name="published_item_has_a_date"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ItemTopic(models.Model):
    """One topic (主题) a service item is listed under."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="topics")
    topic = models.CharField(max_length=32, choices=Topic.choices)

    class Meta:
        ordering = ["item_id", "topic"]
        constraints = [models.UniqueConstraint(fields=["item", "topic"], name="unique_item_topic")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.topic}"


class Material(models.Model):
    """A material (申请材料) an application for a service item needs, and where it comes from.

    ``source`` says who provides it: the applicant uploads it (``accepted_types``,
    ``max_size_mb``), or the platform obtains it from the applicant's licence of
    ``licence_type`` (免证办), or from the data catalog's ``resource`` (its
    ``resource_fields``), read through the exchange gateway under a grant.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Provided by the applicant")
        LICENCE = "licence", _("Obtained from the applicant's licence")
        REGISTRY = "registry", _("Obtained from a government registry")

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    accepted_types = models.JSONField(default=list, blank=True)
    max_size_mb = models.PositiveSmallIntegerField(null=True, blank=True)
    licence_type = models.ForeignKey(
        LicenceType, null=True, blank=True, on_delete=models.PROTECT, related_name="service_materials"
    )
    resource = models.ForeignKey(
        CatalogResource, null=True, blank=True, on_delete=models.PROTECT, related_name="service_materials"
    )
    resource_fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["item_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="unique_material_name"),
            models.CheckConstraint(
                condition=Q(source="upload", licence_type__isnull=True, resource__isnull=True,
                            max_size_mb__isnull=False)
                | Q(source="licence", licence_type__isnull=False, resource__isnull=True)
                | Q(source="registry", licence_type__isnull=True, resource__isnull=False),
                name="material_source_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.name}"


class SearchTerm(models.Model):
    """One term of the search index of a service item: a character bigram or a word, with its weight.

    Chinese text has no spaces between words, so the index holds every pair of
    adjacent characters (二元切分) of the item's name, keywords and conditions,
    and every lower-cased word of its English text; ``weight`` is the highest
    weight of the fields the term occurs in (the name counts most). Rebuilt by
    the services whenever the item changes (ADR 0016).
    """

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="search_terms")
    term = models.CharField(max_length=40)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["term", "item"])]
        constraints = [models.UniqueConstraint(fields=["item", "term"], name="unique_item_search_term")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.term}"


class LifeEvent(models.Model):
    """A life event (一件事): the service items people need together, handled in one go.

    Birth, marriage, starting a business: the event's page lists its items in
    ``position`` order; the case workflow fans one application out to them.
    """

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="life_events")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    items = models.ManyToManyField(ServiceItem, through="LifeEventItem", related_name="life_events")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class LifeEventItem(models.Model):
    """A service item's place in a life event."""

    life_event = models.ForeignKey(LifeEvent, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="life_event_entries")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["life_event_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["life_event", "item"], name="unique_life_event_item")]

    def __str__(self) -> str:
        return f"{self.life_event_id}:{self.item_id}"

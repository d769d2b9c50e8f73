"""Base registries (基础库): the authoritative records of persons, legal entities,
vital events and real property.

Each registry is owned by one department. Records change only through
``registries.services``, which writes a history entry (who, when, why) for every
change and an audit record.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.kernel.fields import EncryptedTextField
from tongban.kernel.masking import mask_id_number
from tongban.kernel.models import Department, Region

ID_NUMBER_PURPOSE = "registries.person.id_number"


class Registry(models.Model):
    """A base registry (基础库) and the department that owns (and alone may change) it.

    Every record belongs to one registry; officers acting for the owning
    department see and change that registry's records.
    """

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="registries")

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A natural person in the population registry (人口库).

    The ID number (公民身份号码) is stored encrypted; ``id_number_index`` is its
    blind index, the only way to find a person by number.
    """

    class Sex(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Status(models.TextChoices):
        LIVING = "living", _("Living")
        DECEASED = "deceased", _("Deceased")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="persons")
    id_number = EncryptedTextField(purpose=ID_NUMBER_PURPOSE)
    id_number_index = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    sex = models.CharField(max_length=10, choices=Sex.choices)
    birth_date = models.DateField()
    nationality = models.CharField(max_length=3, default="CHN")
    address_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="residents")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LIVING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        permissions = [("view_full_id_number", "Can see whole ID numbers")]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_id_number})"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class LegalEntity(models.Model):
    """A legal entity in the legal-entity registry (法人库), keyed by its USCC."""

    class EntityType(models.TextChoices):
        COMPANY = "company", _("Limited company")
        SOLE_PROPRIETOR = "sole_proprietor", _("Individual business")
        PARTNERSHIP = "partnership", _("Partnership")
        INSTITUTION = "institution", _("Public institution")
        SOCIAL_ORGANIZATION = "social_organization", _("Social organization")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        DEREGISTERED = "deregistered", _("Deregistered")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="entities")
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(max_length=200)
    entity_type = models.CharField(max_length=30, choices=EntityType.choices)
    legal_representative = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="represented_entities"
    )
    registered_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="entities")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.ACTIVE)
    established_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "legal entities"

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class RecordChange(models.Model):
    """One change to a registry record: what changed, who made it, when and why.

    ``before`` and ``after`` hold only the changed fields; personal identifiers
    inside them are masked so that the history never leaks a whole ID number.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="changes")
    record_key = models.CharField(max_length=64, db_index=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="history")
    entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.CASCADE, related_name="history"
    )
    parcel = models.ForeignKey(
        "Parcel", null=True, blank=True, on_delete=models.CASCADE, related_name="history"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.CharField(max_length=500)
    changed_by = models.CharField(max_length=200)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False, entity__isnull=True, parcel__isnull=True)
                | models.Q(person__isnull=True, entity__isnull=False, parcel__isnull=True)
                | models.Q(person__isnull=True, entity__isnull=True, parcel__isnull=False),
                name="record_change_of_one_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_key} at {self.changed_at:%Y-%m-%d}"


class VitalEvent(models.Model):
    """A registered vital event: a birth or death (health) or a marriage or divorce (civil affairs).

    The event belongs to the registry of its kind, whose owner department alone
    registers it. ``subject`` is the person born or deceased, or one of the
    spouses; ``spouse`` is the other spouse of a marriage or divorce; ``mother``
    and ``father`` are those of a birth, where known. Events are never changed
    once registered: a mistake is corrected by the owning department's procedure,
    not by editing the record.
    """

    class Kind(models.TextChoices):
        BIRTH = "birth", _("Birth")
        DEATH = "death", _("Death")
        MARRIAGE = "marriage", _("Marriage")
        DIVORCE = "divorce", _("Divorce")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="vital_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_on = models.DateField()
    place = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="vital_events")
    subject = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vital_events")
    spouse = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="vital_events_as_spouse"
    )
    mother = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="births_as_mother"
    )
    father = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="births_as_father"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="vital_events")
    certificate_number = models.CharField(max_length=40)
    reason = models.CharField(max_length=500)
    registered_by = models.CharField(max_length=200)
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "certificate_number"], name="vital_event_certificate_unique"),
            # A person dies once; the service says so politely, the database makes sure.
            models.UniqueConstraint(
                fields=["subject"], condition=models.Q(kind="death"), name="vital_event_one_death"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["marriage", "divorce"], spouse__isnull=False)
                | models.Q(kind__in=["birth", "death"], spouse__isnull=True),
                name="vital_event_spouse_only_for_couples",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="birth") | models.Q(mother__isnull=True, father__isnull=True),
                name="vital_event_parents_only_for_births",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_number}"


class Parcel(models.Model):
    """A parcel of land (宗地) in the real-property registry (自然资源和空间地理信息库).

    ``location_code`` is its unique real-property unit code, beginning with the
    code of the county-level region it lies in. Who holds it, and in what
    shares, is kept as ``OwnershipShare`` rows.
    """

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        INDUSTRIAL = "industrial", _("Industrial")
        AGRICULTURAL = "agricultural", _("Agricultural")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="parcels")
    location_code = models.CharField(max_length=40, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="parcels")
    area = models.DecimalField(_("area (m²)"), max_digits=14, decimal_places=2)
    use = models.CharField(max_length=15, choices=Use.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.location_code


class OwnershipShare(models.Model):
    """A share of a parcel held by one person or one legal entity for a period.

    The share is the exact fraction ``numerator``/``denominator``. A share is
    current while ``ended_on`` is empty; the current shares of a parcel add up
    to exactly one. A transfer ends the current shares and records new ones, so
    past ownership stays readable.
    """

    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="shares")
    holder_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="property_shares"
    )
    holder_entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="property_shares"
    )
    numerator = models.PositiveIntegerField()
    denominator = models.PositiveIntegerField()
    acquired_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["parcel_id", "acquired_on", "id"]
        indexes = [models.Index(fields=["parcel", "ended_on"], name="ownership_share_current")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(holder_person__isnull=False, holder_entity__isnull=True)
                | models.Q(holder_person__isnull=True, holder_entity__isnull=False),
                name="ownership_share_one_holder",
            ),
            models.CheckConstraint(
                condition=models.Q(numerator__gt=0, numerator__lte=models.F("denominator")),
                name="ownership_share_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parcel_id}: {self.numerator}/{self.denominator}"

    @property
    def holder_key(self) -> str:
        """Return the holder as a record key (``person:12`` or ``entity:3``), never a name."""
        if self.holder_person_id is not None:
            return f"person:{self.holder_person_id}"
        return f"entity:{self.holder_entity_id}"


class DynamicRegistry(models.Model):
    """A registry defined without code (GovStack "digital registries"): a JSON Schema and a key field.

    Its ``registry`` row gives the code, the name and the owning department,
    like every base registry. Each record's data must validate against
    ``schema``; ``key_field`` names the property that identifies a record.
    ``version`` counts the schema's versions.
    """

    registry = models.OneToOneField(Registry, on_delete=models.PROTECT, related_name="definition")
    schema = models.JSONField()
    key_field = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "dynamic registries"

    def __str__(self) -> str:
        return str(self.registry_id)


class DynamicRecord(models.Model):
    """One record of a registry defined without code, found by its key; ``version`` counts its changes."""

    registry = models.ForeignKey(DynamicRegistry, on_delete=models.PROTECT, related_name="records")
    key = models.CharField(max_length=200)
    data = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["registry", "key"], name="dynamic_record_key_unique")]

    def __str__(self) -> str:
        return self.key


class DynamicRecordVersion(models.Model):
    """One version of a dynamic record: the whole data as it became, who changed it, when and why."""

    record = models.ForeignKey(DynamicRecord, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    reason = models.CharField(max_length=500)
    changed_by = models.CharField(max_length=200)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["record_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["record", "version"], name="dynamic_record_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


def import_storage() -> Storage:
    """Return the private storage of uploaded registry files (``STORAGES["registry_imports"]``)."""
    return storages["registry_imports"]


class RegistryImport(models.Model):
    """A file an officer uploaded to bulk-load a registry (批量导入), and how its import went.

    The import runs in the background, all rows or none: ``rows_processed``
    counts the rows checked so far out of about ``total_rows``; when it
    succeeded, ``imported`` says how many records are new; when it failed,
    ``message`` says why and ``errors`` lists the bad rows (``row``, ``field``,
    ``message``; at most 1,000 of ``error_count``). The uploaded file is kept in
    private storage only until the import finishes.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    registry = models.ForeignKey(Registry, on_delete=models.PROTECT, related_name="imports")
    file = models.FileField(storage=import_storage, max_length=200, blank=True)
    filename = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)
    skip_registered = models.BooleanField(default=False)
    # The language the uploader used: the report's messages are written in it.
    language = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_processed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(null=True, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The process running it (``kernel.processes.this_process``): if that process
    # dies mid-import, a worker on its host starts the import again (ADR 0018).
    runner = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["registry", "-uploaded_at"], name="registry_import_recent")]

    def __str__(self) -> str:
        return f"{self.registry_id}: {self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

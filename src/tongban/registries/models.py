"""Base registries (基础库): the authoritative records of persons and legal entities.

Each registry is owned by one department. Records change only through
``registries.services``, which writes a history entry (who, when, why) for every
change and an audit record.
"""

from __future__ import annotations

from django.db import models
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
                condition=models.Q(person__isnull=False, entity__isnull=True)
                | models.Q(person__isnull=True, entity__isnull=False),
                name="record_change_of_one_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_key} at {self.changed_at:%Y-%m-%d}"

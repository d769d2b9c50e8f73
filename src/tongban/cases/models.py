"""Applications (办件): what was asked, the materials, the process, the officers' work and the timeline."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.kernel.fields import EncryptedTextField
from tongban.kernel.models import Department, Region
from tongban.registries.models import LegalEntity, Person
from tongban.services.models import Material, ServiceItem

FORM_PURPOSE = "cases.case.form_data"


def material_storage() -> Storage:
    """Return the private storage of applicants' uploaded materials (``STORAGES["case_materials"]``)."""
    return storages["case_materials"]


class ProcessSnapshot(models.Model):
    """The BPMN process and DMN rules a case runs (流程定义), kept unchanged while any case uses them.

    An item's process may change after a case started; the case goes on with
    the definition it started with, found again by its ``fingerprint``
    (``kernel.workflow``: SHA-256 over the process and its rules).
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    process_xml = models.TextField()
    rules_xml = models.JSONField(default=list, blank=True)
    # Where it came from: "standard:review", or "item:<code> v<version>".
    source = models.CharField(max_length=120)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.source} ({self.fingerprint[:12]})"


class Case(models.Model):
    """An application for a service item (办件), from submission to its result.

    ``form_data`` is the application form as the applicant filled it, encrypted
    at rest (it holds personal data). ``process_state`` is the running process
    (``kernel.workflow`` JSON) of ``process``. The promised time limit
    (承诺时限) starts at acceptance: ``deadline_at`` is its end in working days,
    none while the clock is paused for a supplement (补正, ``pauses``).
    ``decided_by`` names the rule that decided an instant approval (秒批).
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted, waiting for acceptance")  # 待受理
        IN_PROGRESS = "in_progress", _("Accepted, being handled")  # 办理中
        SUPPLEMENT = "supplement", _("Waiting for the applicant's supplement")  # 待补正
        APPROVED = "approved", _("Approved")  # 准予许可（办结）
        REJECTED = "rejected", _("Not approved")  # 不予许可（办结）
        NOT_ACCEPTED = "not_accepted", _("Not accepted")  # 不予受理
        WITHDRAWN = "withdrawn", _("Withdrawn")  # 撤回

    FINISHED = (Status.APPROVED, Status.REJECTED, Status.NOT_ACCEPTED, Status.WITHDRAWN)

    number = models.CharField(max_length=32, unique=True)
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="cases")
    item_version = models.PositiveIntegerField()
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="cases")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="cases")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    # Set when the applicant applies for a business (acting for it).
    entity = models.ForeignKey(LegalEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    form_data = EncryptedTextField(purpose=FORM_PURPOSE)
    idempotency_key = models.CharField(max_length=64)
    # SHA-256 of what was submitted: the same key with other content is refused.
    request_digest = models.CharField(max_length=64)
    process = models.ForeignKey(ProcessSnapshot, on_delete=models.PROTECT, related_name="cases")
    process_state = models.JSONField(default=dict)
    outcome = models.CharField(max_length=40, blank=True)
    decided_by = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    supplement_items = models.JSONField(default=list, blank=True)
    supplement_reason = models.TextField(blank=True)
    promised_days = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result_licence_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["applicant", "idempotency_key"], name="one_case_per_idempotency_key"),
            models.CheckConstraint(condition=Q(deadline_at__isnull=True) | Q(accepted_at__isnull=False),
                                   name="deadline_only_after_acceptance"),
        ]
        indexes = [
            models.Index(fields=["department", "status"], name="case_department_status"),
            models.Index(fields=["applicant", "-submitted_at"], name="case_applicant_recent"),
            models.Index(fields=["status", "deadline_at"], name="case_status_deadline"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class CaseTask(models.Model):
    """A step of a case waiting for a person (待办): accept, review, countersign, decide, or supplement.

    Officer tasks belong to a role (``lane``) in a ``department``; an officer of
    that role claims one (签收) and answers it. Applicant tasks (``lane`` =
    ``applicant``) have no department: the applicant answers by supplementing.
    ``task_id`` is the process engine's id of the waiting task.
    """

    APPLICANT = "applicant"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    task_id = models.CharField(max_length=64)
    element_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    lane = models.CharField(max_length=40)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="case_tasks")
    created_at = models.DateTimeField()
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    action = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "task_id"], name="one_row_per_process_task"),
            models.CheckConstraint(condition=Q(lane="applicant") | Q(department__isnull=False),
                                   name="officer_task_has_department"),
        ]
        indexes = [
            models.Index(fields=["department", "lane"], condition=Q(completed_at__isnull=True),
                         name="open_task_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.element_id}"

    @property
    def is_open(self) -> bool:
        return self.completed_at is None


class CaseMaterial(models.Model):
    """A material of a case (申请材料), and where it came from.

    Uploaded by the applicant (the file in private storage, its sniffed type,
    size and SHA-256, scanned), or obtained by the platform: from the
    applicant's licence (``licence_id``) or from a registry through the
    gateway (``call``: the call-log number). ``fields`` are the names read,
    never their values.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Provided by the applicant")
        LICENCE = "licence", _("Obtained from the applicant's licence")
        REGISTRY = "registry", _("Obtained from a government registry")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    origin = models.CharField(max_length=300, blank=True)
    file = models.FileField(storage=material_storage, max_length=200, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    licence_id = models.CharField(max_length=64, blank=True)
    call = models.BigIntegerField(null=True, blank=True)
    fields = models.JSONField(default=list, blank=True)
    added_at = models.DateTimeField()
    # A material replaced by a supplement stays on the record, superseded.
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "added_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.name}"


class CaseEvent(models.Model):
    """One entry of a case's timeline (办件轨迹): what happened, when, by whom. No personal data in ``details``."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        MATERIAL_OBTAINED = "material_obtained", _("Material obtained from government data")
        RULE_DECIDED = "rule_decided", _("Decided by rules")
        CLAIMED = "claimed", _("Claimed by an officer")
        RELEASED = "released", _("Released by an officer")
        ACCEPTED = "accepted", _("Accepted")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")
        REVIEWED = "reviewed", _("Reviewed")
        SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
        SUPPLEMENTED = "supplemented", _("Supplemented")
        COUNTERSIGNED = "countersigned", _("Countersigned")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        LICENCE_ISSUED = "licence_issued", _("Licence issued")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.CharField(max_length=200)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"

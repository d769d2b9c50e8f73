"""Notices (通知): the in-app inbox, the outbox of messages to send by email and SMS,
and how an account holder is reached.

A notice is written with its outbox rows in the transaction of the business
change it reports (``services.send_notice``), so a change that rolls back
sends nothing and a committed one is always delivered (ADR 0015).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.kernel.fields import EncryptedTextField
from tongban.kernel.masking import mask_phone

PHONE_PURPOSE = "notices.contact.phone"


class Contact(models.Model):
    """How the platform reaches an account holder outside the inbox (通知联系方式).

    The mobile number SMS notices go to (encrypted at rest; never looked up by
    value, so it has no blind index) and the language notices are written in.
    The email address is the account's own (``Account.email``).
    """

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_contact")
    phone = EncryptedTextField(purpose=PHONE_PURPOSE, null=True, blank=True)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"contact of account {self.account_id}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class Notice(models.Model):
    """A notice (通知) to one account: a citizen, a business's agent or an officer.

    Rendered once, when it is sent, from a message template in the recipient's
    language; it shows in the recipient's inbox (站内信) unless it was sent
    only to other channels. ``read_at`` is set when the recipient opens it.
    An append-only table keyed by recipient and time, so that it can be
    partitioned by ``created_at`` and distributed by ``recipient``.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    template = models.CharField(max_length=64)
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # The short form sent by SMS.
    short_text = models.CharField(max_length=500)
    # A page of this site the notice is about (a case, a licence): a path, never another site.
    link = models.CharField(max_length=500, blank=True)
    in_inbox = models.BooleanField(default=True)
    sent_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notice_recipient_recent"),
            # The unread count in every signed-in page's header reads this index only.
            models.Index(fields=["recipient"], name="notice_unread",
                         condition=models.Q(read_at__isnull=True, in_inbox=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(link__startswith="//"), name="notice_link_on_this_site"),
        ]

    def __str__(self) -> str:
        return f"{self.template} to account {self.recipient_id}"


class Delivery(models.Model):
    """One message of a notice to send outside the platform (外发消息): a row of the outbox.

    Written with its notice in the sender's transaction, then sent by the
    delivery task: claimed (``sending``, with a lease in ``next_attempt_at``),
    sent, and marked ``sent``; a failed attempt is retried with exponential
    backoff until ``NOTICES_MAX_ATTEMPTS``, then marked ``failed``. ``skipped``
    means there was nowhere to send it (``last_error`` says why).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Identifies the message to the recipient's provider too (the email's Message-ID),
    # so that a message sent twice after a lost acknowledgement can be recognized.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when the next attempt is due. Sending: when the claim lapses and
    # another worker may take the row over.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker sending the row now; only that worker records the outcome.
    claim = models.UUIDField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        permissions = [("retry_delivery", "Can retry a failed delivery")]
        indexes = [
            # The delivery task's claim: due rows only.
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=models.Q(status__in=["pending", "sending"])),
            models.Index(fields=["status", "-created_at"], name="delivery_status_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="delivery_one_per_channel"),
            models.CheckConstraint(
                condition=~models.Q(status__in=["pending", "sending"]) | models.Q(next_attempt_at__isnull=False),
                name="delivery_due_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False), name="delivery_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} of notice {self.notice_id} ({self.status})"

"""Every write of the notices block: sending notices, reading them, contact details, delivery.

``send_notice`` is what other blocks call: it writes the inbox notice and one
outbox row (``Delivery``) per external channel in the caller's transaction,
and asks for delivery once that transaction commits. ``deliver_due`` (run by
the ``deliver_notices`` task and ``tongban notices deliver``) sends what is
due: it claims rows, sends each outside any transaction, and records the
outcome; a failure is retried with exponential backoff up to
``NOTICES_MAX_ATTEMPTS``. ADR 0015 says why.

The reads are re-exported from ``selectors``.
"""

from __future__ import annotations

import logging
import re
import smtplib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.kernel import audit
from tongban.kernel.actors import is_system
from tongban.kernel.masking import mask_phone
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied
from tongban.notices.messages import (
    MESSAGE_TEMPLATES,
    notice_language,
    render_email_html,
    render_email_text,
    render_message,
)
from tongban.notices.models import Contact, Delivery, Notice
from tongban.notices.selectors import UNREAD_CAP, contact_of, inbox, unread_count, visible_notice
from tongban.notices.sms import SmsError, get_sms_gateway
from tongban.notices.tasks import schedule_delivery

__all__ = [
    "CHANNELS",
    "MESSAGE_TEMPLATES",
    "UNREAD_CAP",
    "DeliveryRun",
    "contact_of",
    "deliver_due",
    "inbox",
    "mark_all_read",
    "open_notice",
    "retry_deliveries",
    "send_notice",
    "set_contact",
    "unread_count",
    "visible_notice",
]

logger = logging.getLogger(__name__)

CHANNELS = ("inbox", "email", "sms")
_EXTERNAL = {"email": Delivery.Channel.EMAIL, "sms": Delivery.Channel.SMS}
# Mainland mobile numbers (11 digits from 13 to 19), with or without +86; other
# countries in E.164 form.
_MAINLAND_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_E164 = re.compile(r"\+[1-9]\d{7,14}")


def _may_send(actor: Any) -> bool:
    # The platform itself, an officer or a department system: never one citizen to another.
    if is_system(actor):
        return True
    department_ids = getattr(actor, "department_ids", None)
    return callable(department_ids) and bool(department_ids())


def _clean_link(link: str | None) -> str:
    link = (link or "").strip()
    if not link:
        return ""
    parts = urlsplit(link)
    if not link.startswith("/") or link.startswith("//") or parts.scheme or parts.netloc or len(link) > 500:
        raise InvalidInput(_("A notice links to a page of this site only (a path starting with /)."), field="link")
    return link


def _unreachable(channel: str, recipient: Any, contact: Contact | None) -> str:
    """Return why ``recipient`` cannot be reached on ``channel`` now, or "" if they can."""
    if not recipient.is_active:
        return "the account is not active"
    if channel == Delivery.Channel.EMAIL and not recipient.email:
        return "the account has no email address"
    if channel == Delivery.Channel.SMS and not (contact and contact.phone):
        return "the account has no mobile number for notices"
    return ""


@transaction.atomic
def send_notice(
    recipient: Any,
    template_code: str,
    context: Mapping[str, Any],
    *,
    actor: Any,
    channels: Iterable[str] = CHANNELS,
    link: str | None = None,
) -> Notice:
    """Write a notice to ``recipient`` from the template ``template_code``, and its outbox rows; return the notice.

    Runs in the caller's transaction: the notice and one ``Delivery`` per
    external channel (``email``, ``sms``) commit or roll back with the
    business change that sends it, and delivery is asked for once the
    transaction commits. With ``inbox`` among ``channels`` the notice shows in
    the recipient's inbox. A channel the recipient cannot be reached on (no
    email address, no mobile number) gets a skipped row saying why. The text
    is rendered in the recipient's language (``Contact.language``, else the
    site's default). ``link`` is a path on this site (a case, a licence).

    Raise PermissionDenied unless the actor is the platform, an officer or a
    department system; InvalidInput for an unknown template or channel, a
    context without the template's keys, or a link off this site.
    """
    if not _may_send(actor):
        raise PermissionDenied(_("Only the platform or a department may send notices."))
    wanted = tuple(dict.fromkeys(channels))
    if not wanted or any(channel not in CHANNELS for channel in wanted):
        raise InvalidInput(_("Send a notice to the inbox, by email or by SMS."), field="channels")
    template = MESSAGE_TEMPLATES.get(template_code)
    if template is None:
        raise InvalidInput(_("There is no notice template %(code)s.") % {"code": template_code}, field="template")
    missing = [key for key in template.required if key not in context]
    if missing:
        raise InvalidInput(_("The notice template %(code)s needs %(keys)s.")
                           % {"code": template_code, "keys": ", ".join(missing)}, field="context")
    clean_link = _clean_link(link)
    contact = Contact.objects.filter(account_id=recipient.pk).first()
    language = notice_language(contact.language if contact else None)
    message = render_message(template_code, context, language=language)
    now = timezone.now()
    notice = Notice.objects.create(
        recipient=recipient, template=template_code, language=language, subject=message.subject[:200],
        body=message.body, short_text=message.sms[:500], link=clean_link, in_inbox="inbox" in wanted,
        sent_by=actor.audit_name, created_at=now,
    )
    deliveries = []
    for name in wanted:
        if name not in _EXTERNAL:
            continue
        reason = _unreachable(_EXTERNAL[name], recipient, contact)
        deliveries.append(Delivery(
            notice=notice, channel=_EXTERNAL[name], created_at=now,
            status=Delivery.Status.SKIPPED if reason else Delivery.Status.PENDING,
            next_attempt_at=None if reason else now, last_error=reason,
        ))
    Delivery.objects.bulk_create(deliveries)
    audit.record("notices.notice.sent", actor=actor, target=f"account:{recipient.pk}",
                 details={"notice": notice.pk, "template": template_code, "channels": list(wanted),
                          "skipped": [d.channel for d in deliveries if d.status == Delivery.Status.SKIPPED]})
    if any(d.status == Delivery.Status.PENDING for d in deliveries):
        # The rows are the guarantee (committed with the change); the task only
        # sends them sooner. A task lost here is made up by the next run or the sweep.
        transaction.on_commit(schedule_delivery, robust=True)
    return notice


@transaction.atomic
def open_notice(notice_id: int, *, actor: Any) -> Notice:
    """Return the notice ``notice_id`` from ``actor``'s inbox, marking it read the first time.

    Raise NotFound if it is not in the actor's inbox (another person's notice included).
    """
    notice = visible_notice(actor, notice_id)
    if notice.read_at is None:
        now = timezone.now()
        if Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now):
            notice.read_at = now
            audit.record("notices.notice.read", actor=actor, target=f"notice:{notice.pk}")
    return notice


@transaction.atomic
def mark_all_read(*, actor: Any) -> int:
    """Mark every unread notice in ``actor``'s inbox read; return how many were unread."""
    count = inbox(actor).filter(read_at__isnull=True).order_by().update(read_at=timezone.now())
    if count:
        audit.record("notices.inbox.read_all", actor=actor, target=actor.audit_name, details={"notices": count})
    return count


def _clean_phone(phone: str) -> str:
    compact = re.sub(r"[\s\-()]", "", phone or "")
    if not compact:
        return ""
    mainland = _MAINLAND_MOBILE.fullmatch(compact)
    if mainland:
        return mainland.group(1)
    if _E164.fullmatch(compact):
        return compact
    raise InvalidInput(_("Enter a mobile number: 11 digits starting with 1, or + and the country code."),
                       field="phone")


@transaction.atomic
def set_contact(account: Any, *, actor: Any, phone: str, language: str) -> Contact:
    """Set the mobile number SMS notices go to (empty for none) and the language of ``account``'s notices.

    Return the contact details. Raise PermissionDenied unless the actor is the
    account holder (or the platform); InvalidInput for a number that is not a
    mobile number or a language the site does not offer.
    """
    if not is_system(actor) and getattr(actor, "pk", None) != account.pk:
        raise PermissionDenied(_("Only the account holder may change how they are notified."))
    clean_phone = _clean_phone(phone)
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Choose a language."), field="language")
    contact, _created = Contact.objects.update_or_create(
        account=account, defaults={"phone": clean_phone or None, "language": language},
    )
    audit.record("notices.contact.set", actor=actor, target=f"account:{account.pk}",
                 details={"phone": bool(clean_phone), "language": language})
    return contact


@transaction.atomic
def retry_deliveries(deliveries: Iterable[Delivery], *, actor: Any) -> int:
    """Send the failed or skipped ``deliveries`` again now; return how many were queued.

    Each gets one more attempt (a skipped one looks for the address again).
    Raise PermissionDenied without the ``notices.retry_delivery`` permission;
    Conflict if none of them had failed or been skipped.
    """
    if not actor.has_perm("notices.retry_delivery"):
        raise PermissionDenied(_("You may not retry deliveries."))
    ids = [delivery.pk for delivery in deliveries]
    retried = list(Delivery.objects.select_for_update().filter(
        pk__in=ids, status__in=[Delivery.Status.FAILED, Delivery.Status.SKIPPED]).values_list("pk", flat=True))
    if not retried:
        raise Conflict(_("Only failed or skipped deliveries can be retried."))
    Delivery.objects.filter(pk__in=retried).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), claim=None, failed_at=None,
    )
    audit.record("notices.delivery.retried", actor=actor, target="notices:outbox",
                 details={"deliveries": sorted(retried)})
    transaction.on_commit(schedule_delivery, robust=True)
    return len(retried)


# Delivery ---------------------------------------------------------------------


@dataclass
class DeliveryRun:
    """What one ``deliver_due`` run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.skipped


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the ``attempts``-th failed attempt: doubling from the base, capped."""
    seconds = settings.NOTICES_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTICES_RETRY_MAX_SECONDS))


def _claim(now: datetime, batch: int) -> uuid.UUID | None:
    """Claim up to ``batch`` due rows for this run; return the claim, or None if nothing was due.

    A due row is pending and due, or sending with a lapsed claim (its worker
    died). PostgreSQL workers skip rows another worker is claiming; SQLite
    takes its write lock at BEGIN, so claims are serialized there.
    """
    claim = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING], next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return None
        Delivery.objects.filter(pk__in=ids).update(
            status=Delivery.Status.SENDING, claim=claim, attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=settings.NOTICES_CLAIM_SECONDS),
        )
    return claim


def _absolute(link: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + link if link else ""


def _send_email(delivery: Delivery) -> str:
    notice = delivery.notice
    link_url = _absolute(notice.link)
    domain = urlsplit(settings.PUBLIC_BASE_URL).hostname or "localhost"
    message_id = f"<notice-{delivery.uuid}@{domain}>"
    message = EmailMultiAlternatives(
        subject=notice.subject,
        body=render_email_text(body=notice.body, link_url=link_url, language=notice.language),
        to=[notice.recipient.email],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    message.attach_alternative(
        render_email_html(subject=notice.subject, body=notice.body, link_url=link_url, language=notice.language),
        "text/html",
    )
    if message.send() != 1:
        raise smtplib.SMTPException("the mail backend did not send the message")
    return message_id


def _send_sms(delivery: Delivery, contact: Contact) -> str:
    assert contact.phone
    return get_sms_gateway().send(contact.phone, delivery.notice.short_text)


def _describe(error: Exception) -> tuple[str, bool]:
    """Return a description of ``error`` without addresses or numbers in it, and whether it is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _message in error.recipients.values()})
        return f"SMTP server refused the recipient ({', '.join(map(str, codes))})", all(c >= 500 for c in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP error {error.smtp_code}: {error.smtp_error!r}"[:500], False
    return f"{type(error).__name__}: {error}"[:500], False


def _record(delivery: Delivery, claim: uuid.UUID, **values: Any) -> bool:
    # Only the claim that sent the row records its outcome; a claim that lapsed
    # and was taken over by another worker records nothing.
    return bool(Delivery.objects.filter(pk=delivery.pk, claim=claim, status=Delivery.Status.SENDING)
                .update(claim=None, **values))


def _attempt(delivery: Delivery, claim: uuid.UUID, now: datetime, run: DeliveryRun) -> None:
    contact = Contact.objects.filter(account_id=delivery.notice.recipient_id).first()
    reason = _unreachable(delivery.channel, delivery.notice.recipient, contact)
    if reason:
        if _record(delivery, claim, status=Delivery.Status.SKIPPED, next_attempt_at=None, last_error=reason):
            run.skipped += 1
        return
    try:
        if delivery.channel == Delivery.Channel.EMAIL:
            provider_id = _send_email(delivery)
        else:
            assert contact is not None
            provider_id = _send_sms(delivery, contact)
    except (smtplib.SMTPException, OSError, SmsError) as error:
        description, permanent = _describe(error)
        if permanent or delivery.attempts >= settings.NOTICES_MAX_ATTEMPTS:
            if _record(delivery, claim, status=Delivery.Status.FAILED, next_attempt_at=None,
                       failed_at=timezone.now(), last_error=description):
                run.failed += 1
                logger.warning("Notice delivery %s (%s) failed after %s attempts: %s",
                               delivery.pk, delivery.channel, delivery.attempts, description)
            return
        due = now + retry_delay(delivery.attempts)
        if _record(delivery, claim, status=Delivery.Status.PENDING, next_attempt_at=due, last_error=description):
            run.retrying += 1
            logger.info("Notice delivery %s (%s) will be retried at %s: %s",
                        delivery.pk, delivery.channel, due.isoformat(), description)
            transaction.on_commit(partial(schedule_delivery, at=due), robust=True)
        return
    if _record(delivery, claim, status=Delivery.Status.SENT, sent_at=timezone.now(), next_attempt_at=None,
               provider_message_id=provider_id[:200], last_error=""):
        run.sent += 1
        if delivery.channel == Delivery.Channel.SMS:
            assert contact is not None and contact.phone
            logger.info("Notice delivery %s sent by SMS to %s", delivery.pk, mask_phone(contact.phone))


def deliver_due(*, actor: Any, now: datetime | None = None, batch: int = 50, limit: int = 1000) -> DeliveryRun:
    """Send the outbox rows that are due (at ``now``, by default the present); return what happened.

    Each round claims up to ``batch`` rows, then sends each outside any
    transaction and records its outcome: sent; pending again with the next
    attempt after an exponentially growing delay (and a task scheduled for
    then); failed once ``NOTICES_MAX_ATTEMPTS`` attempts have failed or the
    server refused the recipient for good; skipped if the recipient has no
    address on that channel. Rounds continue until nothing is due or ``limit``
    rows were handled (then another run is scheduled). A row already sent is
    never claimed again, so running this twice sends nothing twice.

    Sending is bookkeeping of the outbox, not a decision: the rows record each
    attempt, and no audit record is written (ADR 0015). Raise PermissionDenied
    unless the actor is the platform.
    """
    if not is_system(actor):
        raise PermissionDenied(_("Only the platform delivers notices."))
    run = DeliveryRun()
    while run.handled < limit:
        at = now or timezone.now()
        claim = _claim(at, min(batch, limit - run.handled))
        if claim is None:
            return run
        claimed = Delivery.objects.filter(claim=claim).select_related("notice__recipient").order_by("id")
        for delivery in claimed:
            _attempt(delivery, claim, at, run)
    transaction.on_commit(schedule_delivery, robust=True)
    return run
